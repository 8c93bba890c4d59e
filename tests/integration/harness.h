/*
 * harness.h - integration tests against the real binaries: start and stop
 * usersd in a temporary directory, run a command and capture its output.
 *
 * The binaries are found in $USERS_BIN (set by ctest). Every function
 * returns 0 on success or -1 with a message on stderr. Nothing sleeps a
 * fixed time: readiness and exits are polled with deadlines.
 */
#ifndef TH_HARNESS_H
#define TH_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#define TH_ADMIN_EMAIL    "admin@example.com"
#define TH_ADMIN_PASSWORD "admin-password-1"
#define TH_ADMIN_ID       "1"

typedef struct th_daemon {
	pid_t pid;     /* 0 when not running */
	char dir[64];  /* the temporary directory, "" when none */
	char url[128]; /* ipc://<dir>/usersd.sock */
	char db[128];  /* <dir>/users.db */
	char log[128]; /* <dir>/usersd.log (the daemon's stderr) */
} th_daemon;

/*
 * Starts usersd in a new temporary directory (mkdtemp under /tmp):
 *   usersd --listen <url> --db <db> --hash-cost m=64,t=1,p=1
 *          --allow-insecure-hash-cost
 *          --bootstrap-admin admin@example.com [extra_args...]
 * with USERSD_ADMIN_PASSWORD=admin-password-1, stderr to <dir>/usersd.log,
 * and waits (at most 10 s) until a login as the admin succeeds.
 * extra_args: NULL-terminated, or NULL. On failure the log is printed and
 * everything is cleaned up.
 */
int th_daemon_start(th_daemon *d, const char *const *extra_args);

/*
 * SIGTERM (and SIGCONT, in case it is stopped), waits at most 10 s for the
 * exit, then SIGKILL; removes the directory. Returns the daemon's exit
 * status (0 for a clean stop), 128+signal when killed, -1 on error. Safe on
 * a daemon already killed or never started.
 */
int th_daemon_stop(th_daemon *d);

/* SIGKILL and reap; the directory stays until th_daemon_stop(). */
int th_daemon_kill(th_daemon *d);

/* Sends a signal (SIGSTOP, SIGCONT, ...). */
/*
 * Waits up to timeout_ms for the daemon to exit by itself (after a
 * signal); keeps its directory. Its exit status, or -1 if still running.
 */
int th_daemon_wait(th_daemon *d, int timeout_ms);
/* Starts usersd again in the same directory (same socket, db and log). */
int th_daemon_restart(th_daemon *d, const char *const *extra_args);
int th_daemon_signal(th_daemon *d, int sig);

/* Prints the daemon's log to stderr (for failures). */
void th_daemon_dump_log(const th_daemon *d);

/* The port of the daemon's /metrics (started with --metrics-listen
 * 127.0.0.1:0), from its log; -1 when the log does not say. */
int th_daemon_metrics_port(const th_daemon *d);

/* A loopback TCP port free a moment ago (bind port 0, read it, close), or
 * -1: for a process that binds it right after. */
int th_free_port(void);

/* Signs in at url as the harness's admin (TH_ADMIN_EMAIL) through
 * libusersclient; the bearer token into out. UP_OK or the status. */
int th_admin_token(const char *url, char *out, size_t size);

/* $USERS_BIN/name into buf. 0, or -1 when USERS_BIN is unset. */
int th_bin(const char *name, char *buf, size_t size);

typedef struct th_output {
	char *out; /* stdout, NUL-terminated (owned) */
	size_t out_len;
	char *err; /* stderr, NUL-terminated (owned) */
	size_t err_len;
	int status; /* exit code; 128+signal when killed; -1: did not run */
} th_output;

/*
 * Runs argv (argv[0] a path) with the environment plus env ("K=V"
 * entries, overriding; NULL-terminated or NULL), stdin from stdin_path
 * (NULL: /dev/null), and captures stdout and stderr. A command still
 * running after timeout_ms is killed (status 128+SIGKILL). Returns 0 when
 * the command ran (look at o->status), -1 otherwise. th_output_fini()
 * after, in both cases.
 */
int th_run(const char *const *argv, const char *const *env,
	   const char *stdin_path, int timeout_ms, th_output *o);
void th_output_fini(th_output *o);

/* Milliseconds of a monotonic clock. */
long long th_now_ms(void);

#endif
