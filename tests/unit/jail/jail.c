/*
 * Tests jail/jail.c: the fixed-size messages between boundary and the
 * jail (fd passing, and the refusal of every malformed record), the
 * target's environment for each jail type, and the exit status rules.
 * The jail itself is tested end to end by tests/jail/run.sh.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "jail/jail.c"
#include "tests/tap.h"

void test_jail__jail_c(void);

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own fd */
}

static void
test_names(void)
{
	is_str(jail_type_str(JAIL_NSJAIL), "nsjail", "nsjail name");
	is_str(jail_type_str(JAIL_LANDJAIL), "landjail", "landjail name");
	is_str(jail_type_str(JAIL_TYPE_COUNT), "?", "out of range");
}

static void
test_messages(void)
{
	struct jail_msg m, got;
	int sp[2], fds[2], rfds[2 * JAIL_MAX_FDS], before;
	size_t n;
	char junk[10] = "0123456789";

	if (!ok(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0,
	    "socketpair"))
		return;

	/* a good message with two fds */
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	memset(&m, 0, sizeof(m));
	m.type = JAIL_MSG_FDS;
	m.nlisten = 1;
	m.ndns = 1;
	is_int(jail_send(sp[0], &m, fds, 2), 0, "send FDS with two fds");
	is_int(jail_recv(sp[1], &got, rfds, 2, &n), 0, "receive it");
	is_int(n, 2, "two fds arrive");
	is_int(got.type, JAIL_MSG_FDS, "type");
	if (n == 2) {
		char c = 1;
		ok(read(rfds[1], &c, 1) == 1 && c == 0,
		    "the second fd is /dev/zero");
		ok(fcntl(rfds[0], F_GETFD) & FD_CLOEXEC, "received fds are "
		    "close-on-exec");
		close(rfds[0]);
		close(rfds[1]);
	}
	close(fds[0]);
	close(fds[1]);

	/* more fds than the receiver takes: refused, none leaked */
	before = count_fds();
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	is_int(jail_send(sp[0], &m, fds, 2), 0, "send two fds");
	close(fds[0]);
	close(fds[1]);
	is_int(jail_recv(sp[1], &got, rfds, 1, &n), -1, "refused: too many "
	    "fds for the receiver");
	is_int(n, 0, "no fd handed out");
	is_int(count_fds(), before, "and none left open");

	/* a record of the wrong size */
	ok(send(sp[0], junk, sizeof(junk), 0) == (ssize_t)sizeof(junk),
	    "send a short record");
	is_int(jail_recv(sp[1], &got, NULL, 0, &n), -1, "refused: short");
	is_int(errno, EPROTO, "EPROTO");

	/* text without a NUL */
	memset(&m, 'A', sizeof(m));
	m.type = JAIL_MSG_ERROR;
	ok(send(sp[0], &m, sizeof(m), 0) == (ssize_t)sizeof(m),
	    "send ERROR without a NUL");
	is_int(jail_recv(sp[1], &got, NULL, 0, &n), -1, "refused: no NUL");

	/* an unknown type */
	memset(&m, 0, sizeof(m));
	m.type = JAIL_MSG_COUNT;
	ok(send(sp[0], &m, sizeof(m), 0) == (ssize_t)sizeof(m),
	    "send an unknown type");
	is_int(jail_recv(sp[1], &got, NULL, 0, &n), -1, "refused: type");

	/* the peer is gone */
	close(sp[0]);
	is_int(jail_recv(sp[1], &got, NULL, 0, &n), -1, "refused: EOF");
	close(sp[1]);
}

static const char *
env_get(char **env, const char *name)
{
	size_t i, len = strlen(name);
	const char *found = NULL;
	int count = 0;

	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') {
			found = env[i] + len + 1;
			count++;
		}
	return count > 1 ? "(duplicate)" : found;
}

static void
test_env(void)
{
	static char *fake[] = {
		"PATH=/usr/bin", "HTTP_PROXY=http://corp:3128",
		"NO_PROXY=internal.example", "SSL_CERT_FILE=/old", NULL,
	};
	char **saved = environ;
	struct jail j;

	environ = fake;
	memset(&j, 0, sizeof(j));
	j.type = JAIL_NSJAIL;
	j.ca_bundle = "/run/b/ca-bundle.pem";
	j.proxy_port = 8080;
	j.proxy_addr = "127.0.0.1";
	is_int(build_env(&j), 0, "nsjail environment");
	is_str(env_get(j.envp, "PATH"), "/usr/bin", "PATH kept");
	is_str(env_get(j.envp, "SSL_CERT_FILE"), "/run/b/ca-bundle.pem",
	    "SSL_CERT_FILE replaced");
	is_str(env_get(j.envp, "NODE_EXTRA_CA_CERTS"), "/run/b/ca-bundle.pem",
	    "NODE_EXTRA_CA_CERTS");
	is_str(env_get(j.envp, "GIT_SSL_CAINFO"), "/run/b/ca-bundle.pem",
	    "GIT_SSL_CAINFO");
	is_str(env_get(j.envp, "REQUESTS_CA_BUNDLE"), "/run/b/ca-bundle.pem",
	    "REQUESTS_CA_BUNDLE");
	is_str(env_get(j.envp, "CURL_CA_BUNDLE"), "/run/b/ca-bundle.pem",
	    "CURL_CA_BUNDLE");
	is_str(env_get(j.envp, "SSL_CERT_DIR"), "/run/b", "SSL_CERT_DIR");
	is_str(env_get(j.envp, "HTTP_PROXY"), "http://corp:3128",
	    "nsjail leaves proxy variables alone (all TCP is redirected)");
	jail_free(&j);

	memset(&j, 0, sizeof(j));
	j.type = JAIL_LANDJAIL;
	j.proxy_port = 8087;
	j.proxy_addr = "127.0.0.1";
	j.sync[0] = j.sync[1] = -1;
	is_int(build_env(&j), 0, "landjail environment");
	is_str(env_get(j.envp, "HTTP_PROXY"), "http://127.0.0.1:8087",
	    "HTTP_PROXY replaced");
	is_str(env_get(j.envp, "https_proxy"), "http://127.0.0.1:8087",
	    "https_proxy");
	is_str(env_get(j.envp, "NO_PROXY"), "", "NO_PROXY emptied");
	is_str(env_get(j.envp, "no_proxy"), "", "no_proxy emptied");
	ok(env_get(j.envp, "SSL_CERT_FILE") != NULL &&
	    strcmp(env_get(j.envp, "SSL_CERT_FILE"), "/old") == 0,
	    "no bundle: SSL_CERT_FILE untouched");
	jail_free(&j);

	memset(&j, 0, sizeof(j));
	j.type = JAIL_LANDJAIL;
	j.proxy_port = 9000;
	j.proxy_addr = "::1";
	j.sync[0] = j.sync[1] = -1;
	is_int(build_env(&j), 0, "landjail environment, IPv6 proxy");
	is_str(env_get(j.envp, "HTTPS_PROXY"), "http://[::1]:9000",
	    "an IPv6 address is bracketed");
	jail_free(&j);
	environ = saved;
}

static void
test_status(void)
{
	struct jail j;
	struct jail_msg m;

	memset(&j, 0, sizeof(j));
	j.type = JAIL_LANDJAIL;
	j.sync[0] = j.sync[1] = -1;
	is_int(jail_exit_status(&j, 3 << 8), 3, "exit 3 -> 3");
	is_int(jail_exit_status(&j, 0), 0, "exit 0 -> 0");
	is_int(jail_exit_status(&j, SIGKILL), 128 + SIGKILL, "SIGKILL -> 137");
	is_int(jail_exit_status(&j, SIGTERM | 0x80), 128 + SIGTERM,
	    "SIGTERM with a core -> 143");

	/* nsjail: init's STATUS message wins over init's own status */
	j.type = JAIL_NSJAIL;
	if (!ok(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    j.sync) == 0, "socketpair"))
		return;
	is_int(jail_exit_status(&j, 0), 0, "no message: init's status");
	memset(&m, 0, sizeof(m));
	m.type = JAIL_MSG_STATUS;
	m.value = SIGINT;
	is_int(jail_send(j.sync[1], &m, NULL, 0), 0, "init reports SIGINT");
	is_int(jail_exit_status(&j, 130 << 8), 130, "target killed by SIGINT "
	    "-> 130");
	m.value = 7 << 8;
	is_int(jail_send(j.sync[1], &m, NULL, 0), 0, "init reports exit 7");
	is_int(jail_exit_status(&j, 0), 7, "the target's status is used");
	close(j.sync[0]);
	close(j.sync[1]);
}

void
test_jail__jail_c(void)
{
	subtest("names", test_names);
	subtest("messages", test_messages);
	subtest("environment", test_env);
	subtest("exit status", test_status);
}
