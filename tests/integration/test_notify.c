/*
 * test_notify.c - what usersd and usersgw tell systemd (Type=notify
 * units), without systemd: the test owns the datagram socket that
 * NOTIFY_SOCKET names, as systemd would, and asks for watchdog pings
 * (WATCHDOG_USEC, 200 ms). Each program must send READY=1 once it
 * answers (usersd: its socket exists when READY=1 arrives; usersgw: the
 * gateway answers /healthz then), WATCHDOG=1 while it runs, and STOPPING=1
 * on SIGTERM before it exits 0.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"

/* A datagram socket bound at path, as systemd's notify socket. */
static int
notify_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("notify socket");
		return -1;
	}
	return fd;
}

/*
 * Reads datagrams until one holds want (a line of it), for at most
 * timeout_ms. Every message read is appended to seen. true when found.
 */
static bool
await(int fd, const char *want, int timeout_ms, char *seen, size_t size)
{
	long long end = th_now_ms() + timeout_ms;

	for (;;) {
		long long left = end - th_now_ms();
		struct pollfd p = {fd, POLLIN, 0};
		char buf[512];
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			return false;
		}
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0) {
			continue;
		}
		buf[n] = '\0';
		if (strlen(seen) + (size_t)n + 2 < size) {
			strcat(seen, buf);
			strcat(seen, "|");
		}
		for (char *line = strtok(buf, "\n"); line != NULL;
		     line = strtok(NULL, "\n")) {
			if (strcmp(line, want) == 0) {
				return true;
			}
		}
	}
}

static void
test_usersd(const char *dir)
{
	char path[256], sock[256], url[300], db[256], log[256], bin[256];
	char seen[4096] = "";
	struct stat st;
	int fd, status = -1;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/usersd.notify", dir);
	snprintf(sock, sizeof(sock), "%s/usersd.sock", dir);
	snprintf(url, sizeof(url), "ipc://%s", sock);
	snprintf(db, sizeof(db), "%s/users.db", dir);
	snprintf(log, sizeof(log), "%s/usersd.log", dir);
	CHECK((fd = notify_socket(path)) >= 0);
	CHECK(th_bin("usersd", bin, sizeof(bin)) == 0);
	if (fd < 0) {
		return;
	}
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "w", stderr);

		(void)f;
		setenv("NOTIFY_SOCKET", path, 1);
		setenv("WATCHDOG_USEC", "200000", 1);
		execl(bin, bin, "--listen", url, "--db", db, "--hash-cost",
		      "m=64,t=1,p=1", "--allow-insecure-hash-cost",
		      (char *)NULL);
		_exit(127);
	}
	/* READY=1 once it answers: the socket is there when it comes. */
	CHECK(await(fd, "READY=1", 10000, seen, sizeof(seen)));
	CHECK(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK(await(fd, "WATCHDOG=1", 2000, seen, sizeof(seen)));
	CHECK(await(fd, "WATCHDOG=1", 2000, seen, sizeof(seen)));
	kill(pid, SIGTERM);
	CHECK(await(fd, "STOPPING=1", 10000, seen, sizeof(seen)));
	for (long long end = th_now_ms() + 10000; th_now_ms() < end;) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			break;
		}
		gwh_nap_ms(10);
	}
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("usersd told: %s\n", seen);
	close(fd);
}

static void
test_usersgw(const char *dir)
{
	char path[256], seen[4096] = "";
	th_daemon d;
	gwh_proc g;
	gwh_res r;
	int fd;

	snprintf(path, sizeof(path), "%s/usersgw.notify", dir);
	CHECK((fd = notify_socket(path)) >= 0);
	if (fd < 0 || th_daemon_start(&d, NULL) != 0) {
		CHECK(0);
		return;
	}
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	CHECK(gwh_spawn(&g, &d, "usersgw", NULL) == 0);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	CHECK(await(fd, "READY=1", 10000, seen, sizeof(seen)));
	gwh_http(g.port, "GET", "/healthz", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	CHECK(await(fd, "WATCHDOG=1", 2000, seen, sizeof(seen)));
	CHECK_INT(gwh_stop(&g), 0);
	CHECK(await(fd, "STOPPING=1", 1000, seen, sizeof(seen)));
	printf("usersgw told: %s\n", seen);
	th_daemon_stop(&d);
	close(fd);
}

int
main(void)
{
	char dir[] = "/tmp/test_notify.XXXXXX";
	char cmd[64];

	if (mkdtemp(dir) == NULL) {
		return 1;
	}
	test_usersd(dir);
	test_usersgw(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0) {
		return 1;
	}
	return check_done();
}
