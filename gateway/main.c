/*
 * usersgw - the REST gateway of usersd.
 *
 *   usersgw --listen HOST:PORT --daemon URL [--daemon URL...]
 *           [--threads N] [--tls-cert FILE --tls-key FILE]
 *           [--daemon-ca FILE | --daemon-insecure] [--max-body BYTES]
 *           [--deadline MS] [--max-connections N]
 *           [--cookie-samesite strict|lax|none] [--cors-origin ORIGIN...]
 *           [--log-file PATH] [--access-log PATH] [--public-url URL]
 *
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

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: usersgw --listen HOST:PORT --daemon URL [--daemon URL...]\n"
	    "               [--threads N] [--tls-cert FILE --tls-key FILE]\n"
	    "               [--daemon-ca FILE | --daemon-insecure]\n"
	    "               [--max-body BYTES] [--deadline MS]\n"
	    "               [--max-connections N]\n"
	    "               [--cookie-samesite strict|lax|none]\n"
	    "               [--cors-origin ORIGIN...]\n"
	    "               [--log-file PATH] [--access-log PATH]\n"
	    "               [--public-url URL]\n"
	    "\n"
	    "  --listen HOST:PORT     where to serve HTTP (port 0: any)\n"
	    "  --daemon URL           usersd to call (ipc://, tcp://, "
	    "tls+tcp://); repeat for several\n"
	    "  --threads N            event loops (default: one per core)\n"
	    "  --tls-cert/--tls-key   serve HTTPS (HTTP/2 and HTTP/1.1)\n"
	    "  --daemon-ca FILE       CA that signed the tls+tcp:// daemons' "
	    "certificates\n"
	    "                         (tls+tcp:// needs it, or "
	    "--daemon-insecure)\n"
	    "  --daemon-insecure      tls+tcp:// without checking the "
	    "daemons' certificates\n"
	    "                         (tests only: anyone on the way can "
	    "read the calls)\n"
	    "  --max-body BYTES       largest request body (default %u; "
	    "413 above)\n"
	    "  --deadline MS          how long an RPC may take (default %u; "
	    "504 after)\n"
	    "  --max-connections N    open connections at most (default "
	    "%u)\n"
	    "  --cookie-samesite V    SameSite of the session cookies: "
	    "strict (default),\n"
	    "                         lax, or none (needs --tls-cert)\n"
	    "  --cors-origin ORIGIN   an origin (https://app.example.com) "
	    "whose pages may call\n"
	    "                         the gateway, with credentials; "
	    "repeatable; none by default\n"
	    "  --log-file PATH        write diagnostics there, not to "
	    "stderr (appended)\n"
	    "  --access-log PATH      one line per request (with its "
	    "X-Request-Id); none\n"
	    "                         by default. SIGHUP reopens both "
	    "files (log rotation)\n"
	    "  --public-url URL       where clients reach the API "
	    "(https://users.example.com):\n"
	    "                         the BaseUrl of /types files and the "
	    "Host of the pages'\n"
	    "                         samples; default: each request's "
	    "scheme and Host\n",
	    GW_DEFAULT_MAX_BODY, GW_DEFAULT_DEADLINE, GW_DEFAULT_MAX_CONNS);
}

/*
 * LeakSanitizer, in sanitizer builds: what h2o 2.2 itself leaves at exit
 * is not ours to report: its per-thread recycle bins of socket buffers
 * and pool chunks die with their loop threads (no API frees them), and
 * h2o_multithread_destroy_queue never frees the queue in the evloop
 * build. Unused otherwise.
 */
__attribute__((visibility("default"), used)) const char *
__lsan_default_suppressions(void);

__attribute__((visibility("default"), used)) const char *
__lsan_default_suppressions(void)
{
	return "leak:h2o_mem_alloc_recycle\n"
	       "leak:h2o_multithread_create_queue\n";
}

/* strict, lax or none. 0 or -1. */
static int
parse_samesite(const char *s, gw_samesite *out)
{
	if (strcmp(s, "strict") == 0) {
		*out = GW_SAMESITE_STRICT;
	} else if (strcmp(s, "lax") == 0) {
		*out = GW_SAMESITE_LAX;
	} else if (strcmp(s, "none") == 0) {
		*out = GW_SAMESITE_NONE;
	} else {
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	gw_config cfg = {0};
	bool samesite_given = false;
	unsigned long v;

	cfg.max_body = GW_DEFAULT_MAX_BODY;
	cfg.deadline_ms = GW_DEFAULT_DEADLINE;
	cfg.max_connections = GW_DEFAULT_MAX_CONNS;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--daemon-insecure") == 0) {
			cfg.daemon_insecure = true;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, "usersgw: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--listen") == 0) {
			cfg.listen = val;
		} else if (strcmp(a, "--daemon") == 0) {
			if (cfg.n_daemons == GW_MAX_DAEMONS) {
				fprintf(stderr, "usersgw: at most %d daemons\n",
					GW_MAX_DAEMONS);
				return 2;
			}
			cfg.daemons[cfg.n_daemons++] = val;
		} else if (strcmp(a, "--threads") == 0 &&
			   up_parse_ulong(val, 1, GW_MAX_THREADS, &v) == 0) {
			cfg.threads = (unsigned)v;
		} else if (strcmp(a, "--log-file") == 0) {
			cfg.log_file = val;
		} else if (strcmp(a, "--access-log") == 0) {
			cfg.access_log = val;
		} else if (strcmp(a, "--public-url") == 0) {
			if (!public_url_ok(val)) {
				fprintf(stderr,
					"usersgw: --public-url: an http:// or "
					"https:// URL of a host, at most 200 "
					"bytes\n");
				return 2;
			}
			cfg.public_url = val;
		} else if (strcmp(a, "--tls-cert") == 0) {
			cfg.tls_cert = val;
		} else if (strcmp(a, "--tls-key") == 0) {
			cfg.tls_key = val;
		} else if (strcmp(a, "--daemon-ca") == 0) {
			cfg.daemon_ca = val;
		} else if (strcmp(a, "--max-body") == 0 &&
			   up_parse_ulong(val, 1, 1024ul * 1024 * 1024, &v) ==
			       0) {
			cfg.max_body = (size_t)v;
		} else if (strcmp(a, "--deadline") == 0 &&
			   up_parse_ulong(val, 1, 600000, &v) == 0) {
			cfg.deadline_ms = (uint32_t)v;
		} else if (strcmp(a, "--max-connections") == 0 &&
			   up_parse_ulong(val, 1, 1000000, &v) == 0) {
			cfg.max_connections = (unsigned)v;
		} else if (strcmp(a, "--cookie-samesite") == 0 &&
			   parse_samesite(val, &cfg.cookie_samesite) == 0) {
			samesite_given = true;
		} else if (strcmp(a, "--cors-origin") == 0) {
			char why[256];

			if (gw_cors_origin_check(val, why, sizeof(why)) != 0) {
				fprintf(stderr, "usersgw: --cors-origin: %s\n",
					why);
				return 2;
			}
			if (cfg.n_cors_origins == GW_MAX_CORS_ORIGINS) {
				fprintf(stderr,
					"usersgw: at most %d --cors-origin\n",
					GW_MAX_CORS_ORIGINS);
				return 2;
			}
			cfg.cors_origins[cfg.n_cors_origins++] = val;
		} else {
			fprintf(stderr, "usersgw: bad option or value: %s %s\n",
				a, val);
			usage(stderr);
			return 2;
		}
	}
	if (cfg.listen == NULL || cfg.n_daemons == 0) {
		usage(stderr);
		return 2;
	}
	if ((cfg.tls_cert == NULL) != (cfg.tls_key == NULL)) {
		fprintf(stderr,
			"usersgw: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (cfg.daemon_ca != NULL && cfg.daemon_insecure) {
		fprintf(stderr, "usersgw: --daemon-ca and --daemon-insecure "
				"contradict each other\n");
		return 2;
	}
	if (samesite_given && cfg.cookie_samesite == GW_SAMESITE_NONE &&
	    cfg.tls_cert == NULL) {
		fprintf(
		    stderr,
		    "usersgw: --cookie-samesite none needs HTTPS "
		    "(--tls-cert and --tls-key): browsers drop SameSite=None "
		    "cookies that are not Secure\n");
		return 2;
	}
	return gw_server_run(&cfg);
}
