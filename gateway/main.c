/*
 * usersgw - the REST gateway of usersd.
 *
 *   usersgw --listen HOST:PORT --daemon URL [--daemon URL...]
 *           [--hop loop|nng] [--threads N] [--tls-cert FILE --tls-key FILE]
 *           [--daemon-ca FILE | --daemon-insecure] [--max-body BYTES]
 *           [--deadline MS] [--max-connections N]
 *           [--cookie-samesite strict|lax|none] [--cors-origin ORIGIN...]
 *           [--log-file PATH] [--access-log PATH] [--public-url URL]
 *           [--config FILE] [--check-config] [--version]
 *
 * Every flag is also a key of the --config file (users_flags.h).
 * Serves the documented routes of users.proto (and ServiceStack's
 * predefined /api/{Op}, /json/reply/{Op}, /json/oneway/{Op}) over HTTP/1.1,
 * or HTTPS with HTTP/2 by ALPN when given a certificate, and turns each
 * request into one asynchronous RPC to the daemons. Port 0 picks a free
 * port; "usersgw: ready on http://HOST:PORT" on stderr says where.
 *
 * Exit status: 0 after a clean stop (SIGTERM, SIGINT), 1 when it cannot
 * start, 2 for usage errors. SIGHUP reopens the log files.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "users_flags.h"
#include "users_log.h"

/* http(s)://host[:port][/path] of plain characters, at most 200 bytes. */
static bool
public_url_ok(const char *s)
{
	const char *h = strncmp(s, "https://", 8) == 0  ? s + 8
			: strncmp(s, "http://", 7) == 0 ? s + 7
							: NULL;

	if (h == NULL || *h == '\0' || *h == '/' || strlen(s) > 200) {
		return false;
	}
	for (const char *p = h; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      strchr(".-:[]/_~", c) != NULL)) {
			return false;
		}
	}
	return true;
}

/*
 * LeakSanitizer, in sanitizer builds: what h2o 2.2 itself leaves at exit
 * is not ours to report: its per-thread recycle bins of socket buffers
 * and pool chunks die with their loop threads (no API frees them), and
 * h2o_multithread_destroy_queue never frees the queue in the evloop
 * build. Nor is a call message nng 1.5.2 loses when a connection closes
 * just as the message moves from the socket's queue to it (sent by
 * daemon_flush, lost in nng's xreq0_getq_cb: docs/decisions.md, section
 * 13). Unused otherwise.
 */
__attribute__((visibility("default"), used)) const char *
__lsan_default_suppressions(void);

__attribute__((visibility("default"), used)) const char *
__lsan_default_suppressions(void)
{
	return "leak:h2o_mem_alloc_recycle\n"
	       "leak:h2o_multithread_create_queue\n"
	       "leak:daemon_flush\n";
}

/* What the flags set: the gateway's config and main's own. */
typedef struct gw_opts {
	gw_config cfg;
	bool samesite_given;
	up_log_format log_format;
	up_log_level log_level;
} gw_opts;

static int
set_daemon(void *arg, const char *v, unsigned nth, char *why, size_t n)
{
	gw_config *cfg = &((gw_opts *)arg)->cfg;

	if (nth == 0) {
		cfg->n_daemons = 0; /* a later source replaces the list */
	}
	if (cfg->n_daemons == GW_MAX_DAEMONS) {
		snprintf(why, n, "at most %d daemons", GW_MAX_DAEMONS);
		return -1;
	}
	cfg->daemons[cfg->n_daemons++] = v;
	return 0;
}

static int
set_public_url(void *arg, const char *v, unsigned nth, char *why, size_t n)
{
	if (!public_url_ok(v)) {
		snprintf(why, n,
			 "an http:// or https:// URL of a host, at most 200 "
			 "bytes");
		return -1;
	}
	((gw_opts *)arg)->cfg.public_url = v;
	return 0;
}

/* strict, lax or none. */
static int
set_samesite(void *arg, const char *s, unsigned nth, char *why, size_t n)
{
	gw_opts *o = arg;

	if (strcmp(s, "strict") == 0) {
		o->cfg.cookie_samesite = GW_SAMESITE_STRICT;
	} else if (strcmp(s, "lax") == 0) {
		o->cfg.cookie_samesite = GW_SAMESITE_LAX;
	} else if (strcmp(s, "none") == 0) {
		o->cfg.cookie_samesite = GW_SAMESITE_NONE;
	} else {
		snprintf(why, n, "strict, lax or none");
		return -1;
	}
	o->samesite_given = true;
	return 0;
}

static int
set_hop(void *arg, const char *s, unsigned nth, char *why, size_t n)
{
	gw_opts *o = arg;

	(void)nth;
	if (strcmp(s, "loop") == 0) {
		o->cfg.hop_nng = false;
	} else if (strcmp(s, "nng") == 0) {
		o->cfg.hop_nng = true;
	} else {
		snprintf(why, n, "loop or nng");
		return -1;
	}
	return 0;
}

static int
set_cors_origin(void *arg, const char *v, unsigned nth, char *why, size_t n)
{
	gw_config *cfg = &((gw_opts *)arg)->cfg;

	if (nth == 0) {
		cfg->n_cors_origins = 0;
	}
	if (gw_cors_origin_check(v, why, n) != 0) {
		return -1;
	}
	if (cfg->n_cors_origins == GW_MAX_CORS_ORIGINS) {
		snprintf(why, n, "at most %d origins", GW_MAX_CORS_ORIGINS);
		return -1;
	}
	cfg->cors_origins[cfg->n_cors_origins++] = v;
	return 0;
}

/* Every flag of usersgw, and so every key of its configuration file. */
static const up_flag flags[] = {
    UP_FLAG_STR(gw_opts, cfg.listen, "listen", "HOST:PORT",
		"where to serve HTTP (port 0: any); required"),
    UP_FLAG_FN("daemon", "URL", true, set_daemon,
	       "usersd to call (ipc://, tcp://, tls+tcp://); repeat for\n"
	       "several; at least one"),
    UP_FLAG_FN("hop", "loop|nng", false, set_hop,
	       "how calls reach ipc:// and tcp:// daemons: on the first\n"
	       "event loop's own sockets (loop, default) or through\n"
	       "nng's threads (nng); tls+tcp:// always goes through nng"),
    UP_FLAG_NUM(gw_opts, cfg.threads, "threads", "N", 1, GW_MAX_THREADS,
		"event loops (default: one per core)"),
    UP_FLAG_STR(gw_opts, cfg.tls_cert, "tls-cert", "FILE",
		"serve HTTPS (HTTP/2 and HTTP/1.1), with --tls-key"),
    UP_FLAG_STR(gw_opts, cfg.tls_key, "tls-key", "FILE",
		"the private key of --tls-cert"),
    UP_FLAG_STR(gw_opts, cfg.daemon_ca, "daemon-ca", "FILE",
		"CA that signed the tls+tcp:// daemons' certificates\n"
		"(tls+tcp:// needs it, or --daemon-insecure)"),
    UP_FLAG_BOOL(gw_opts, cfg.daemon_insecure, "daemon-insecure",
		 "tls+tcp:// without checking the daemons' certificates\n"
		 "(tests only: anyone on the way can read the calls)"),
    UP_FLAG_NUM(gw_opts, cfg.max_body, "max-body", "BYTES", 1,
		1024ul * 1024 * 1024,
		"largest request body (default 1048576; 413 above)"),
    UP_FLAG_NUM(gw_opts, cfg.deadline_ms, "deadline", "MS", 1, 600000,
		"how long an RPC may take (default 5000; 504 after)"),
    UP_FLAG_NUM(gw_opts, cfg.max_connections, "max-connections", "N", 1,
		1000000, "open connections at most (default 4096)"),
    UP_FLAG_FN("cookie-samesite", "V", false, set_samesite,
	       "SameSite of the session cookies: strict (default),\n"
	       "lax, or none (needs --tls-cert)"),
    UP_FLAG_FN("cors-origin", "ORIGIN", true, set_cors_origin,
	       "an origin (https://app.example.com) whose pages may call\n"
	       "the gateway, with credentials; repeatable; none by default"),
    UP_FLAG_STR(gw_opts, cfg.log_file, "log-file", "PATH",
		"write diagnostics there, not to stderr (appended)"),
    UP_FLAG_STR(gw_opts, cfg.access_log, "access-log", "PATH",
		"one line per request (with its X-Request-Id); none\n"
		"by default. SIGHUP reopens both files (log rotation)"),
    UP_FLAG_FN("public-url", "URL", false, set_public_url,
	       "where clients reach the API (https://users.example.com):\n"
	       "the BaseUrl of /types files and the Host of the pages'\n"
	       "samples; default: each request's scheme and Host"),
    UP_FLAG_FN_AT(gw_opts, log_format, "log-format", "text|logfmt|json",
		  up_log_format_flag,
		  "the records of events (ready, stopping, reopened): text\n"
		  "\"usersgw: ...\" lines (default), logfmt or JSON"),
    UP_FLAG_FN_AT(gw_opts, log_level, "log-level", "LEVEL", up_log_level_flag,
		  "debug, info (default), warn or error: the least\n"
		  "level of the records written"),
};

/* The checks between flags. 0, or 2 (said why). */
static int
settle(const gw_opts *o)
{
	const gw_config *cfg = &o->cfg;

	if (cfg->listen == NULL || cfg->n_daemons == 0) {
		fprintf(stderr, "usersgw: --listen and at least one --daemon "
				"are required (--help)\n");
		return 2;
	}
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		fprintf(stderr,
			"usersgw: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (cfg->daemon_ca != NULL && cfg->daemon_insecure) {
		fprintf(stderr, "usersgw: --daemon-ca and --daemon-insecure "
				"contradict each other\n");
		return 2;
	}
	if (o->samesite_given && cfg->cookie_samesite == GW_SAMESITE_NONE &&
	    cfg->tls_cert == NULL) {
		fprintf(
		    stderr,
		    "usersgw: --cookie-samesite none needs HTTPS "
		    "(--tls-cert and --tls-key): browsers drop SameSite=None "
		    "cookies that are not Secure\n");
		return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static gw_opts o = {
	    .cfg =
		{
		    .max_body = GW_DEFAULT_MAX_BODY,
		    .deadline_ms = GW_DEFAULT_DEADLINE,
		    .max_connections = GW_DEFAULT_MAX_CONNS,
		},
	    .log_level = UP_LOG_INFO,
	};
	static up_flags fl = {
	    .prog = "usersgw",
	    .synopsis = "--listen HOST:PORT --daemon URL [--daemon URL...] "
			"[options]",
	    .table = flags,
	    .n = sizeof(flags) / sizeof(flags[0]),
	    .cfg = &o,
	};
	int rc;

	switch (up_flags_parse(&fl, argc, argv)) {
	case UP_FLAGS_RUN:
		break;
	case UP_FLAGS_EXIT_OK:
		return 0;
	default:
		return 2;
	}
	if ((rc = settle(&o)) != 0) {
		return rc;
	}
	if (fl.check_only) {
		printf("usersgw: configuration OK\n");
		return 0;
	}
	up_log_setup("usersgw", o.log_format, o.log_level);
	return gw_server_run(&o.cfg);
}
