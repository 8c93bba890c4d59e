/*
 * gw_harness.h - usersgw for the integration tests: start a real usersgw
 * on an ephemeral loopback port in front of a harness daemon, stop it, and
 * a small HTTP/1.1 client (one request per connection) to talk to it.
 *
 * Nothing sleeps a fixed time to wait: readiness and exits are polled with
 * deadlines.
 */
#ifndef GWH_HARNESS_H
#define GWH_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "harness.h"

typedef struct gwh_proc {
	pid_t pid; /* 0 when not running */
	int port;
	char log[192]; /* <daemon dir>/<name>.log (usersgw's stderr) */
} gwh_proc;

typedef struct gwh_res {
	int status; /* -1: no answer */
	char reason[64];
	char *raw;     /* the whole response (owned) */
	char *headers; /* into raw: after the status line */
	size_t headers_len;
	char *body; /* into raw */
	size_t body_len;
	json_t *json; /* the body when it parses as JSON (owned) */
} gwh_res;

/* Sleeps ms milliseconds (resumed after signals). */
void gwh_nap_ms(long ms);

/*
 * Starts usersgw --listen 127.0.0.1:0 --daemon <d->url> [args...] (args
 * NULL-terminated, or NULL), stderr into <d->dir>/<name>.log, and waits for
 * "usersgw: ready on ...:PORT". 0, or -1 (the log printed, nothing left
 * running).
 */
int gwh_spawn(gwh_proc *g, const th_daemon *d, const char *name,
	      const char *const *args);

/*
 * gwh_spawn() as the gateway tests run it: --threads 2 --max-body 4096
 * --deadline 1000 [extra...] (extra NULL-terminated, or NULL).
 */
int gwh_start(gwh_proc *g, const th_daemon *d, const char *name,
	      const char *const *extra);

/* SIGTERM; the exit status (0: clean), 128+sig when it had to be killed. */
int gwh_stop(gwh_proc *g);

/* Prints the gateway's log to stderr (for failures). */
void gwh_dump_log(const gwh_proc *g);

/* A TCP connection to 127.0.0.1:port (the caller closes it), or -1. */
int gwh_connect(int port);

/* All of p[0..n) to fd. 0, or -1. */
int gwh_send_all(int fd, const char *p, size_t n);

/* POST /auth/credentials as the harness's admin through port: the HTTP
 * status; on 200 the bearer token into token. */
int gwh_admin_login(int port, char *token, size_t size);

/* Reads one keep-alive answer from fd (headers and Content-Length bytes of
 * body) within wait_ms; its status, or -1. */
int gwh_read_answer(int fd, int wait_ms);

/*
 * One request: method, path, extra header lines ("Name: value", NULL
 * ended, may be NULL; "Host: 127.0.0.1" unless they name a Host), body
 * (NULL: none; a Content-Length is added when non-NULL). r->status -1 when
 * there was no answer. gwh_res_fini() after, in both cases.
 */
void gwh_http(int port, const char *method, const char *path,
	      const char *const *headers, const char *body, gwh_res *r);
/* gwh_http with a body of body_len bytes (NULs and all). */
void gwh_http_bin(int port, const char *method, const char *path,
		  const char *const *headers, const char *body, size_t body_len,
		  gwh_res *r);
void gwh_res_fini(gwh_res *r);

/* The n-th header named name (case-insensitive) into buf; NULL. */
const char *gwh_header(const gwh_res *r, const char *name, int nth, char *buf,
		       size_t size);

/* The file at path into buf, NUL-terminated (cut at size - 1); -1 when
 * it cannot be opened (buf then ""). */
int gwh_read_file(const char *path, char *buf, size_t size);

/* The value of the line "series value" of a /metrics text; -1 if absent. */
long long gwh_series(const char *text, const char *series);

/* The value of series in GET /metrics on port; -1 if absent or no answer. */
long long gwh_metric(int port, const char *series);

/*
 * usersd's listener guard figures for the listener url (its --listen
 * URL) from /metrics on port: its probes with result "taken" or
 * "missed", or with result NULL the times it was made anew; -1 if absent.
 */
long long gwh_guard_metric(int port, const char *url, const char *result);

/*
 * The value of the /metrics series name{daemon="daemon_url"} of the
 * gateway on port; -1 when there is no such series (or no answer).
 */
long long gwh_daemon_metric(int port, const char *name, const char *daemon_url);

#endif
