/*
 * The target's last privilege steps before execve (DESIGN.md section 3,
 * step 5), in this order because each needs what the next one removes:
 *
 *   1. securebits: root gains nothing on exec (NOROOT), setuid does not
 *      adjust capabilities (NO_SETUID_FIXUP), no ambient raising, no
 *      keeping capabilities over setuid; every bit locked (needs
 *      CAP_SETPCAP);
 *   2. the bounding set emptied (needs CAP_SETPCAP);
 *   3. the ambient set cleared;
 *   4. effective, permitted and inheritable sets emptied (capset);
 *   5. no_new_privs: setuid binaries and file capabilities do nothing.
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail_int.h"

/* The highest capability the kernel knows (it may be newer than our headers). */
static int
cap_last(void)
{
	int c;

	for (c = CAP_LAST_CAP; c < 63; c++)
		if (prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) == -1)
			break;
	return c;
}

int
caps_drop(struct jail *j)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int c, last = cap_last();

	/*
	 * Without CAP_SETPCAP (an ordinary user's landjail) there is nothing
	 * to lock or bound: such a process has no capabilities, and
	 * no_new_privs below keeps it so.
	 */
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1) {
		jail_err(j, "capget: %s", strerror(errno));
		return -1;
	}
	if (!(data[CAP_SETPCAP / 32].effective & (1u << (CAP_SETPCAP % 32))))
		goto unprivileged;
	if (prctl(PR_SET_SECUREBITS,
	    SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
	    SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
	    SECBIT_KEEP_CAPS_LOCKED |
	    SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
	    0, 0, 0) == -1) {
		jail_err(j, "securebits: %s", strerror(errno));
		return -1;
	}
	for (c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 && errno != EINVAL) {
			jail_err(j, "bounding set: capability %d: %s", c,
			    strerror(errno));
			return -1;
		}
 unprivileged:
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL) {
		jail_err(j, "ambient capabilities: %s", strerror(errno));
		return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) == -1) {
		jail_err(j, "capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		jail_err(j, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}
