/*
 * Kernel UAPI that confine.c needs and that older system headers (Debian
 * 12's linux-libc-dev declares Landlock ABI 2) may lack: the Landlock
 * access rights of ABI 3 (truncate), 4 (TCP) and 5 (device ioctl), and
 * a ruleset attribute with the network field.  These are kernel ABI and
 * never change; each is guarded so that newer headers win.  Private to
 * runtime/ (jail/ keeps its own copy for its own needs).
 */
#ifndef CONFINE_UAPI_H
#define CONFINE_UAPI_H

#include <stdint.h>
#include <linux/landlock.h>

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

/* ABI 2 */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
/* ABI 3 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
/* ABI 5 */
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* ABI 4: enum landlock_rule_type has LANDLOCK_RULE_NET_PORT = 2. */
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif

/*
 * struct landlock_ruleset_attr up to ABI 4.  The system header's struct
 * may have handled_access_fs only, hence a name of our own; the kernel
 * takes the size and accepts any prefix it knows.  The ABI 6 "scoped"
 * field is left out on purpose: confine.c scopes nothing (see there).
 */
struct confine_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
};

/* struct landlock_path_beneath_attr; packed in the kernel too. */
struct confine_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#endif
