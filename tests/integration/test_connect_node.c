/*
 * test_connect_node.c - the RPC dialects with a real client from npm:
 * a real usersd (harness) and a real usersgw on an ephemeral loopback
 * port, then node runs test_connect_client.mjs (in NODE_DIR, beside the
 * packages and the code generated from users.proto that
 * test_connect_setup.sh put there) against them: every method through
 * Connect (binary with GET for the reads, JSON) and gRPC-Web (binary,
 * JSON), and the error codes. Then the gateway's metrics count those
 * calls under their methods' labels, as REST's.
 *
 *   test_connect_node NODE_DIR
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"

#define NODE_MS 120000

/* name found on $PATH into buf (th_run wants a path); name when not. */
static const char *
exe(const char *name, char *buf, size_t size)
{
	const char *path = getenv("PATH");

	snprintf(buf, size, "%s", name);
	while (path != NULL && *path != '\0') {
		size_t n = strcspn(path, ":");
		char cand[512];

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, path, name);
		if (n > 0 && access(cand, X_OK) == 0) {
			snprintf(buf, size, "%s", cand);
			return buf;
		}
		path += n + (path[n] == ':');
	}
	return buf;
}

/* The value of series line `prefix` in the gateway's /metrics; -1. */
static long long
metric(int port, const char *prefix)
{
	gwh_res r;
	long long v = -1;
	const char *p;

	gwh_http(port, "GET", "/metrics", NULL, NULL, &r);
	if (r.status == 200 && r.body != NULL &&
	    (p = strstr(r.body, prefix)) != NULL) {
		v = atoll(p + strlen(prefix));
	}
	gwh_res_fini(&r);
	return v;
}

int
main(int argc, char **argv)
{
	static th_daemon daemon_;
	static gwh_proc gw;
	char node[512], script[512], base[64];
	th_output o;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: test_connect_node NODE_DIR\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (th_daemon_start(&daemon_, NULL) != 0) {
		return 1;
	}
	if (gwh_spawn(&gw, &daemon_, "usersgw",
		      (const char *const[]){"--threads", "2", NULL}) != 0) {
		th_daemon_stop(&daemon_);
		return 1;
	}
	exe("node", node, sizeof(node));
	snprintf(script, sizeof(script), "%s/test_connect_client.mjs", argv[1]);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", gw.port);
	{
		const char *args[] = {
		    node, script, base, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD,
		    NULL};

		rc = th_run(args, NULL, NULL, NODE_MS, &o);
	}
	printf("%s", o.out != NULL ? o.out : "");
	if (rc != 0 || o.status != 0) {
		fprintf(stderr, "node failed (status %d):\n%s\n", o.status,
			o.err != NULL ? o.err : "");
		gwh_dump_log(&gw);
	}
	CHECK(rc == 0 && o.status == 0);
	th_output_fini(&o);
	/* the same labels as REST: the method, the HTTP status */
	CHECK(metric(gw.port, "usersgw_requests_total{route=\"GetUser\","
			      "status=\"200\"} ") >= 16);
	CHECK(metric(gw.port, "usersgw_requests_total{route=\"NewUser\","
			      "status=\"409\"} ") >= 4);
	CHECK_INT(gwh_stop(&gw), 0);
	CHECK_INT(th_daemon_stop(&daemon_), 0);
	return check_done();
}
