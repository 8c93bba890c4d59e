/*
 * h2o_bare.c - the first gateway reference: bare h2o answering every
 * request with a fixed 259-byte JSON body (the size of a user record), no
 * work at all. The ceiling of any h2o server on this machine; usersgw's
 * figures are divided by it (tests/bench/run).
 *
 *   h2o_bare [--port P] [--threads N]
 *
 * Listens on 127.0.0.1:P (default 0: an ephemeral port), one h2o evloop
 * thread by default (on the 2-core machines this runs on, wrk needs a core
 * of its own, so a second loop thread would only take turns with the
 * first; BENCH_THREADS sets it for every server of tests/bench/run alike).
 * Prints "h2o_bare: ready port=P threads=N" once it accepts
 * connections; exits 0 on SIGTERM or SIGINT, 1 when it cannot start, 2 on
 * a usage error. Request bodies (up to 64 KiB) are read and ignored.
 */
#include <stdio.h>
#include <string.h>

#include "skel_server.h"
#include "users_proto.h"

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
	(void)self;
	skel_respond(req, 200, "OK", skel_fixed_body, skel_fixed_body_len);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: h2o_bare [--port P] [--threads N]\n"
		   "  defaults: an ephemeral port of 127.0.0.1, 1 thread\n");
}

int
main(int argc, char **argv)
{
	skel_config cfg = {.name = "h2o_bare", .threads = 1, .on_req = on_req};
	unsigned long v;
	int i;

	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--port") == 0 &&
		    up_parse_ulong(val, 0, 65535, &v) == 0) {
			cfg.port = (uint16_t)v;
		} else if (strcmp(a, "--threads") == 0 &&
			   up_parse_ulong(val, 1, SKEL_MAX_THREADS, &v) == 0) {
			cfg.threads = (unsigned)v;
		} else {
			fprintf(stderr, "h2o_bare: bad option or value: %s\n",
				a);
			usage(stderr);
			return 2;
		}
	}
	skel_block_signals();
	return skel_run(&cfg);
}
