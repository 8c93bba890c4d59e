/*
 * The gateway's per-daemon /metrics series and /healthz body
 * (gw_metrics.c) from a real client whose daemons are not there: every
 * daemon listed in order, Prometheus label values with backslash, quote
 * and newline escaped, the JSON readable back to the same URLs, and the
 * status rules (unavailable / degraded / ok).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "gw.h"

static char *
text_of(uw_buf *b)
{
	if (uw_buf_append(b, "", 1) != 0) {
		return NULL;
	}
	return b->data;
}

/* Every series line is NAME{daemon="..."} VALUE: no raw newline inside. */
static void
check_lines(const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		const char *end = strchr(p, '\n');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (p[0] != '#') {
			CHECK(strncmp(p, "usersgw_daemon_", 15) == 0);
			CHECK(memchr(p, '{', n) != NULL);
			CHECK(n >= 3 && p[n - 2] == ' ');
		}
		p += n + (end != NULL);
	}
}

static void
test_render(uc_client *c, const char *const *urls, size_t n)
{
	char want[512];
	uw_buf b = {0};
	const char *text;
	json_t *j, *ds;
	json_error_t err;

	CHECK_INT(gw_metrics_render_daemons(c, &b), 0);
	text = text_of(&b);
	CHECK(text != NULL);
	if (text == NULL) {
		return;
	}
	CHECK(strstr(text, "# TYPE usersgw_daemon_up gauge\n") != NULL);
	CHECK(strstr(text, "# TYPE usersgw_daemon_replies_total counter\n") !=
	      NULL);
	CHECK(strstr(text, "# TYPE usersgw_daemon_connects_total counter\n") !=
	      NULL);
	CHECK(
	    strstr(text, "# TYPE usersgw_daemon_disconnects_total counter\n") !=
	    NULL);
	/* the escaped forms, as written by hand */
	snprintf(
	    want, sizeof(want),
	    "usersgw_daemon_up{daemon=\"%s\"} 0\n"
	    "usersgw_daemon_up{daemon=\"ipc:///tmp/gwm-test/q\\\"b\\\\s\"} "
	    "0\n",
	    urls[0]);
	CHECK(strstr(text, want) != NULL);
	if (n > 2) {
		CHECK(strstr(text, "usersgw_daemon_replies_total{daemon=\"ipc:/"
				   "//tmp/gwm-test/n\\nl\"} 0\n") != NULL);
	}
	check_lines(text);
	uw_buf_fini(&b);

	/* /healthz: nobody answered */
	memset(&b, 0, sizeof(b));
	CHECK_INT(gw_health_render(c, false, &b), 503);
	j = json_loadb(b.data, b.len, 0, &err);
	CHECK(j != NULL);
	CHECK_STR(json_string_value(json_object_get(j, "status")),
		  "unavailable");
	ds = json_object_get(j, "daemons");
	CHECK_INT(json_array_size(ds), n);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(ds, i);

		/* the JSON reads back to the very URL, in the order given */
		CHECK_STR(json_string_value(json_object_get(e, "url")),
			  urls[i]);
		CHECK(json_is_false(json_object_get(e, "connected")));
		CHECK_INT(json_integer_value(json_object_get(e, "replies")), 0);
		CHECK(json_is_null(json_object_get(e, "lastReplyMsAgo")));
		CHECK_INT(json_integer_value(json_object_get(e, "connects")),
			  0);
	}
	json_decref(j);
	uw_buf_fini(&b);

	/* a daemon answered, none connected now: degraded, not ok */
	memset(&b, 0, sizeof(b));
	CHECK_INT(gw_health_render(c, true, &b), 200);
	j = json_loadb(b.data, b.len, 0, &err);
	CHECK_STR(json_string_value(json_object_get(j, "status")), "degraded");
	json_decref(j);
	uw_buf_fini(&b);
}

int
main(void)
{
	const char *urls[] = {"ipc:///tmp/gwm-test/plain",
			      "ipc:///tmp/gwm-test/q\"b\\s",
			      "ipc:///tmp/gwm-test/n\nl"};
	uc_options o = {.urls = urls, .n_urls = 3, .deadline_ms = 100};
	uc_client *c = NULL;
	uw_buf b = {0};
	json_t *j;
	json_error_t err;

	if (uc_client_open(&c, &o) != 0) {
		/* nng may refuse a newline in a URL: the other two then */
		fprintf(stderr, "no client with a newline in a URL\n");
		o.n_urls = 2;
		CHECK_INT(uc_client_open(&c, &o), 0);
	}
	if (c != NULL) {
		test_render(c, urls, o.n_urls);
	}

	/* no client (stopping): no series, an empty list */
	CHECK_INT(gw_metrics_render_daemons(NULL, &b), 0);
	CHECK_INT(b.len, 0);
	CHECK_INT(gw_health_render(NULL, true, &b), 200);
	j = json_loadb(b.data, b.len, 0, &err);
	CHECK_STR(json_string_value(json_object_get(j, "status")), "ok");
	CHECK_INT(json_array_size(json_object_get(j, "daemons")), 0);
	json_decref(j);
	uw_buf_fini(&b);
	uc_client_close(c); /* bounded, even if nng_close hangs */
	return check_done();
}
