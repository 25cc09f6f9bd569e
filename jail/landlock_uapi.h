/*
 * The Landlock UAPI that jail/ uses beyond what Debian 12's kernel headers
 * (linux-libc-dev 6.1, Landlock ABI 2) declare: the filesystem rights of
 * ABI 3 (truncate) and 5 (device ioctl) that confine.c handles, TCP port
 * rules (ABI 4, Linux 6.7) and scoping (ABI 6, Linux 6.12) that
 * landjail.c uses.  Values are the kernel's ABI and never change; each is
 * guarded so that newer headers win.  Private to jail/.
 */
#ifndef LANDLOCK_UAPI_H
#define LANDLOCK_UAPI_H

#include <stdint.h>
#include <linux/landlock.h>

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

/* Filesystem rights: ABI 2, 3 and 5. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* enum landlock_rule_type: LANDLOCK_RULE_PATH_BENEATH is 1. */
#ifndef LANDLOCK_RULE_NET_PORT
#define LANDLOCK_RULE_NET_PORT 2
#endif

#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif

#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/*
 * struct landlock_ruleset_attr as of ABI 6.  The system header's struct
 * may have handled_access_fs only, so this one has its own name; the
 * kernel takes the size as an argument and accepts any prefix it knows
 * (pass offsetof(struct ll_ruleset_attr, scoped) to leave scoping out).
 */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

/* struct landlock_path_beneath_attr; packed in the kernel too. */
struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* struct landlock_net_port_attr (ABI 4); packed in the kernel too. */
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port; /* host byte order */
} __attribute__((packed));

#endif
