/*
 * Private to jail/: the messages boundary and the jail exchange over
 * j->sync, the steps of each jail type, and what confine.c and landjail.c
 * share (the Landlock ABI probe, seccomp BPF assembly).
 */
#ifndef JAIL_INT_H
#define JAIL_INT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "jail.h"

/*
 * One message per SOCK_SEQPACKET record, always exactly this size; the
 * receiver checks the size and that text[] holds a NUL (STYLE rule 29).
 */
enum jail_msg_type {
	JAIL_MSG_FDS = 1,	/* child -> boundary: listeners (SCM_RIGHTS) */
	JAIL_MSG_ERROR,		/* child -> boundary: setup failed, text says why */
	JAIL_MSG_RELEASE,	/* boundary -> child: the proxy serves; go */
	JAIL_MSG_STATUS,	/* init -> boundary: the target's wait status */
	JAIL_MSG_LISTENER,	/* landjail child -> boundary: the seccomp
				   listener (SCM_RIGHTS); value: Landlock ABI */
	JAIL_MSG_COUNT
};

struct jail_msg {
	uint32_t type;		/* enum jail_msg_type */
	int32_t value;		/* STATUS: wait status */
	uint32_t nlisten;	/* FDS: the first nlisten fds are proxy listeners, */
	uint32_t ndns;		/* the next ndns are DNS sockets */
	char text[480];		/* ERROR: the reason */
};

#define JAIL_PROXY_V4	"127.0.0.1"
#define JAIL_PROXY_V6	"::1"
#define JAIL_DNS_PORT	53

/* jail.c: messages */
int jail_send(int fd, const struct jail_msg *m, const int *fds, size_t nfds)
    __attribute__((warn_unused_result));
/*
 * Receives one message and up to <maxfds> fds (count in *nfds).  -1 with
 * errno EPIPE when the peer is gone, EPROTO for a malformed message (its
 * fds closed), or recvmsg's own error.
 */
int jail_recv(int fd, struct jail_msg *m, int *fds, size_t maxfds,
    size_t *nfds) __attribute__((warn_unused_result));
/* Sets j->err from a printf format, with a "jail: " prefix. */
void jail_err(struct jail *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * In the target: default signal dispositions, empty mask, execvpe with
 * j->envp; on failure prints why and exits 127 (not found) or 126.
 */
void jail_exec(struct jail *j) __attribute__((noreturn));

/* nsjail.c: clone the child; then receive its sockets */
int nsjail_start(struct jail *j) __attribute__((warn_unused_result));
int nsjail_ready(struct jail *j) __attribute__((warn_unused_result));

/* netns.c: in the jail's netns, as its (namespace) root */
int netns_child(struct jail *j) __attribute__((warn_unused_result));
/* Makes the proxy listeners and DNS sockets in the current netns. */
int netns_sockets(struct jail *j) __attribute__((warn_unused_result));

/* caps.c: the target's last steps before execve */
int caps_drop(struct jail *j) __attribute__((warn_unused_result));

/*
 * init.c: the jail's first process (nsjail: PID 1 of its PID namespace;
 * landjail: a child subreaper).  init_block_signals blocks what init_run
 * waits for (call it before forking the target, which unblocks them in
 * jail_exec); init_run never returns.
 */
#define JAIL_PDEATH_SIG	SIGPWR	/* landjail's init: boundary is gone */
void init_block_signals(sigset_t *set);
void init_run(struct jail *j, pid_t target) __attribute__((noreturn));
/* SIGKILLs every descendant of the calling process until none is left. */
void init_kill_descendants(void);

/*
 * landjail.c (confine.c uses it too): the Landlock ABI of the running
 * kernel, or -1 with errno (EOPNOTSUPP: disabled at boot; ENOSYS: not in
 * this kernel).
 */
int landjail_abi(void);

/*
 * confine.c and landjail.c: seccomp filters as classic BPF programs.
 * bpf_put appends one instruction; on a full program it drops it and sets
 * <overflow>, which the builder checks once, at the end.
 */
#if defined(__x86_64__)
#define JAIL_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define JAIL_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#define JAIL_AUDIT_ARCH 0 /* no filter: confine_self, landjail_child fail */
#endif

/* The low and high 32 bits of a syscall argument (little endian). */
#define ARG_LO(n) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (n)))
#define ARG_HI(n) (ARG_LO(n) + 4)
#if JAIL_AUDIT_ARCH != 0
_Static_assert(
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ARG_LO assumes little endian");
#endif

#define BPF_MAX 1024

struct bpf_prog {
	struct sock_filter insn[BPF_MAX];
	size_t n;
	int overflow;
};

static inline void
bpf_put(struct bpf_prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (p->n >= BPF_MAX) {
		p->overflow = 1;
		return;
	}
	p->insn[p->n].code = code;
	p->insn[p->n].jt = jt;
	p->insn[p->n].jf = jf;
	p->insn[p->n].k = k;
	p->n++;
}

#endif
