/*
 * harness.c - start/stop usersd, run commands (see harness.h).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "harness.h"
#include "usersclient.h"

extern char **environ;

#define START_DEADLINE_MS 10000
#define STOP_DEADLINE_MS  10000
#define POLL_NS           (10 * 1000 * 1000) /* between readiness tries */
#define MAX_ARGS          64
#define MAX_ENV           512
#define OUTPUT_MAX        (16 * 1024 * 1024)

long long
th_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(long ns)
{
	struct timespec ts = {0, ns};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

int
th_bin(const char *name, char *buf, size_t size)
{
	const char *bin = getenv("USERS_BIN");
	int n;

	if (bin == NULL || bin[0] == '\0') {
		fprintf(stderr, "harness: USERS_BIN is not set\n");
		return -1;
	}
	n = snprintf(buf, size, "%s/%s", bin, name);
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

/*
 * environ plus extra ("K=V", overriding) into out[max] (pointers only).
 * -1 when it does not fit.
 */
static int
build_env(const char *const *extra, const char **out, size_t max)
{
	size_t n = 0;

	for (char **e = environ; *e != NULL; e++) {
		bool overridden = false;
		size_t klen = strcspn(*e, "=");
		for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
			if (strncmp(extra[i], *e, klen + 1) == 0) {
				overridden = true;
			}
		}
		if (overridden) {
			continue;
		}
		if (n + 1 >= max) {
			return -1;
		}
		out[n++] = *e;
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (n + 1 >= max) {
			return -1;
		}
		out[n++] = extra[i];
	}
	out[n] = NULL;
	return 0;
}

/* Waits for pid at most ms; exit status, 128+signal, or -1 (still up). */
static int
wait_exit(pid_t pid, int ms)
{
	long long end = th_now_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			return WIFEXITED(st) ? WEXITSTATUS(st)
					     : 128 + WTERMSIG(st);
		}
		if (r < 0 && errno != EINTR) {
			return -1;
		}
		if (th_now_ms() >= end) {
			return -1;
		}
		nap(POLL_NS);
	}
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
remove_dir(th_daemon *d)
{
	if (d->dir[0] != '\0') {
		nftw(d->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		d->dir[0] = '\0';
	}
}

void
th_daemon_dump_log(const th_daemon *d)
{
	FILE *f = fopen(d->log, "r");
	char line[1024];

	if (f == NULL) {
		return;
	}
	fprintf(stderr, "---- %s\n", d->log);
	while (fgets(line, sizeof(line), f) != NULL) {
		fputs(line, stderr);
	}
	fprintf(stderr, "----\n");
	fclose(f);
}

int
th_daemon_metrics_port(const th_daemon *d)
{
	static const char said[] = "metrics on http://127.0.0.1:";
	FILE *f = fopen(d->log, "r");
	char line[1024];
	const char *p;
	int port = -1;

	if (f == NULL) {
		return -1;
	}
	while (port < 0 && fgets(line, sizeof(line), f) != NULL) {
		if ((p = strstr(line, said)) != NULL) {
			port = atoi(p + strlen(said));
		}
	}
	fclose(f);
	return port > 0 ? port : -1;
}

/*
 * Polls until a login as the admin succeeds. The probe client is never
 * closed: nng_close() can hang (docs/decisions.md, section 13), and a test
 * must not depend on it; it stays reachable here for the life of the
 * process.
 */
static uc_client *probes[64];
static size_t n_probes;

static int
wait_ready(th_daemon *d)
{
	const char *urls[] = {d->url};
	uc_options o = {.urls = urls, .n_urls = 1, .deadline_ms = 1000};
	uc_client *c = NULL;
	long long end = th_now_ms() + START_DEADLINE_MS;
	int st;

	if (n_probes == sizeof(probes) / sizeof(probes[0]) ||
	    uc_client_open(&c, &o) != 0) {
		fprintf(stderr, "harness: cannot open a client\n");
		return -1;
	}
	probes[n_probes++] = c;
	while (th_now_ms() < end) {
		uc_result res;
		int rc = uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res);
		uc_result_fini(&res);
		if (rc == UP_OK) {
			return 0;
		}
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			fprintf(stderr, "harness: usersd exited (status %d)\n",
				WIFEXITED(st) ? WEXITSTATUS(st)
					      : 128 + WTERMSIG(st));
			d->pid = 0;
			return -1;
		}
		nap(POLL_NS);
	}
	fprintf(stderr, "harness: usersd not ready after %d ms\n",
		START_DEADLINE_MS);
	return -1;
}

/* Runs usersd in d->dir (its log appended); waits until it answers. */
static int
launch(th_daemon *d, const char *const *extra_args)
{
	char bin[512];
	const char *argv[MAX_ARGS];
	const char *envp[MAX_ENV];
	const char *const extra_env[] = {
	    "USERSD_ADMIN_PASSWORD=" TH_ADMIN_PASSWORD, NULL};
	size_t n = 0;
	int logfd;
	pid_t pid;

	if (th_bin("usersd", bin, sizeof(bin)) != 0) {
		return -1;
	}

	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = d->url;
	argv[n++] = "--db";
	argv[n++] = d->db;
	argv[n++] = "--hash-cost";
	argv[n++] = "m=64,t=1,p=1";
	argv[n++] = "--allow-insecure-hash-cost"; /* for speed; tests only */
	argv[n++] = "--bootstrap-admin";
	argv[n++] = TH_ADMIN_EMAIL;
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL; i++) {
		if (n + 1 >= MAX_ARGS) {
			fprintf(stderr, "harness: too many arguments\n");
			goto fail;
		}
		argv[n++] = extra_args[i];
	}
	argv[n] = NULL;
	if (build_env(extra_env, envp, MAX_ENV) != 0) {
		fprintf(stderr, "harness: environment too large\n");
		goto fail;
	}
	logfd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		fprintf(stderr, "harness: %s: %s\n", d->log, strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls until exec. */
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		dup2(logfd, STDERR_FILENO);
		execve(bin, (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	close(logfd);
	if (pid < 0) {
		fprintf(stderr, "harness: fork: %s\n", strerror(errno));
		goto fail;
	}
	d->pid = pid;
	if (wait_ready(d) != 0) {
		th_daemon_dump_log(d);
		goto fail;
	}
	return 0;
fail:
	if (d->pid != 0) {
		th_daemon_kill(d);
	}
	return -1;
}

int
th_daemon_start(th_daemon *d, const char *const *extra_args)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/usersd-test.XXXXXX");
	if (mkdtemp(d->dir) == NULL) {
		fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
		d->dir[0] = '\0';
		return -1;
	}
	snprintf(d->url, sizeof(d->url), "ipc://%s/usersd.sock", d->dir);
	snprintf(d->db, sizeof(d->db), "%s/users.db", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/usersd.log", d->dir);
	if (launch(d, extra_args) != 0) {
		th_daemon_stop(d);
		return -1;
	}
	return 0;
}

int
th_daemon_restart(th_daemon *d, const char *const *extra_args)
{
	if (d->pid != 0 || d->dir[0] == '\0') {
		return -1;
	}
	return launch(d, extra_args);
}

int
th_daemon_wait(th_daemon *d, int timeout_ms)
{
	int st;

	if (d->pid == 0) {
		return -1;
	}
	st = wait_exit(d->pid, timeout_ms);
	if (st < 0) {
		return -1; /* still running (or not ours) */
	}
	d->pid = 0;
	return st;
}

/* Whether every thread of pid is stopped ('T' in /proc/pid/task/N/stat). */
static bool
all_stopped(pid_t pid)
{
	char path[64], buf[512];
	struct dirent *e;
	bool all = true;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL) {
		return false;
	}
	while (all && (e = readdir(dir)) != NULL) {
		FILE *f;
		char *p;
		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(buf, sizeof(buf), "%s/%s/stat", path, e->d_name);
		if ((f = fopen(buf, "r")) == NULL) {
			continue; /* the thread is gone */
		}
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL && p[1] == ' ') {
			all = p[2] == 'T' || p[2] == 't';
		}
		fclose(f);
	}
	closedir(dir);
	return all;
}

int
th_daemon_signal(th_daemon *d, int sig)
{
	long long end = th_now_ms() + STOP_DEADLINE_MS;

	if (d->pid <= 0 || kill(d->pid, sig) != 0) {
		fprintf(stderr, "harness: cannot signal usersd\n");
		return -1;
	}
	/* A stop takes effect thread by thread: wait until all are stopped,
	 * or a call may still be answered right after the signal. */
	while (sig == SIGSTOP && !all_stopped(d->pid)) {
		if (th_now_ms() >= end) {
			fprintf(stderr, "harness: usersd did not stop\n");
			return -1;
		}
		nap(POLL_NS);
	}
	return 0;
}

int
th_daemon_kill(th_daemon *d)
{
	int st;

	if (d->pid <= 0) {
		return 0;
	}
	kill(d->pid, SIGKILL);
	st = wait_exit(d->pid, STOP_DEADLINE_MS);
	d->pid = 0;
	return st < 0 ? -1 : 0;
}

int
th_daemon_stop(th_daemon *d)
{
	int st = 0;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		kill(d->pid, SIGCONT);
		st = wait_exit(d->pid, STOP_DEADLINE_MS);
		if (st < 0) {
			fprintf(stderr,
				"harness: usersd ignored SIGTERM for "
				"%d ms; killing it\n",
				STOP_DEADLINE_MS);
			kill(d->pid, SIGKILL);
			wait_exit(d->pid, STOP_DEADLINE_MS);
			st = 128 + SIGKILL;
		}
		d->pid = 0;
	}
	remove_dir(d);
	return st;
}

/* ------------------------------------------------------------------------
 * Running commands
 */

static int
append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > OUTPUT_MAX) {
		return -1;
	}
	if (*len + n + 1 > *cap) {
		size_t nc = (*cap ? *cap * 2 : 4096);
		char *nb;
		while (nc < *len + n + 1) {
			nc *= 2;
		}
		if ((nb = realloc(*buf, nc)) == NULL) {
			return -1;
		}
		*buf = nb;
		*cap = nc;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

void
th_output_fini(th_output *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof(*o));
	o->status = -1;
}

static int
pipe_cloexec(int p[2])
{
	if (pipe(p) != 0) {
		return -1;
	}
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

int
th_run(const char *const *argv, const char *const *env, const char *stdin_path,
       int timeout_ms, th_output *o)
{
	const char *envp[MAX_ENV];
	int outp[2] = {-1, -1};
	int errp[2] = {-1, -1};
	size_t cap_out = 0, cap_err = 0;
	long long end = th_now_ms() + timeout_ms;
	bool killed = false;
	pid_t pid = -1;
	int rc = -1;
	int st;

	memset(o, 0, sizeof(*o));
	o->status = -1;
	if (append(&o->out, &o->out_len, &cap_out, "", 0) != 0 ||
	    append(&o->err, &o->err_len, &cap_err, "", 0) != 0 ||
	    build_env(env, envp, MAX_ENV) != 0 || pipe_cloexec(outp) != 0 ||
	    pipe_cloexec(errp) != 0) {
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
		if (in >= 0) {
			dup2(in, STDIN_FILENO);
		}
		dup2(outp[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		execve(argv[0], (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	if (pid < 0) {
		goto out;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;

	while (outp[0] >= 0 || errp[0] >= 0) {
		struct pollfd pf[2] = {{outp[0], POLLIN, 0},
				       {errp[0], POLLIN, 0}};
		long long left = end - th_now_ms();
		char buf[4096];

		if (left <= 0) {
			if (killed) {
				break; /* someone else holds the pipes open */
			}
			kill(pid, SIGKILL);
			killed = true;
			left = 1000; /* drain what the pipes still hold */
			end = th_now_ms() + left;
		}
		if (poll(pf, 2, (int)left) < 0 && errno != EINTR) {
			break;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i == 0 ? &outp[0] : &errp[0];
			ssize_t r;
			if (*fd < 0 || pf[i].revents == 0) {
				continue;
			}
			r = read(*fd, buf, sizeof(buf));
			if (r > 0) {
				int a = i == 0
					    ? append(&o->out, &o->out_len,
						     &cap_out, buf, (size_t)r)
					    : append(&o->err, &o->err_len,
						     &cap_err, buf, (size_t)r);
				if (a != 0 && !killed) {
					kill(pid, SIGKILL);
					killed = true;
				}
			} else if (r == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	if (waitpid(pid, &st, 0) == pid) {
		o->status =
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		rc = 0;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0) {
			close(outp[i]);
		}
		if (errp[i] >= 0) {
			close(errp[i]);
		}
	}
	return rc;
}

int
th_free_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
		port = ntohs(a.sin_port);
	}
	if (fd >= 0) {
		close(fd);
	}
	return port;
}

int
th_admin_token(const char *url, char *out, size_t size)
{
	const char *urls[] = {url};
	uc_options o = {.urls = urls, .n_urls = 1, .deadline_ms = 10000};
	uc_client *c = NULL;
	uc_result res;
	int st;

	if (uc_client_open(&c, &o) != 0) {
		return UP_UNAVAILABLE;
	}
	st = uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res);
	if (st == UP_OK) {
		snprintf(out, size, "%s", uc_bearer(c));
	}
	uc_result_fini(&res);
	uc_client_close(c);
	return st;
}
