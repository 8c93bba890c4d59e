/*
 * test_negotiate.c - content negotiation (gateway/gw_negotiate.c), driven
 * by data: every .txt file of tests/data/negotiate is one case (inputs and
 * the expected outcome; the format is in negotiate_case.h). The directory
 * is argv[1], else $USERS_SRC/tests/data/negotiate.
 *
 * Each case is run twice (the answer must be the same: no state), and its
 * outcome must be consistent: JSONP only as JSON with a valid callback,
 * 400/406 answered in plain JSON. A few direct checks of the helpers
 * follow (what a text file cannot say: a decoded NUL, exact bounds).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "negotiate_case.h"

#define MIN_CASES 40

static int
read_all(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	int rc = -1;

	*data = NULL;
	*len = 0;
	if (f == NULL) {
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		goto out;
	}
	if ((buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		goto out;
	}
	buf[n] = '\0';
	*data = buf;
	*len = (size_t)n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

static bool
same_out(const gw_neg_out *a, const gw_neg_out *b)
{
	return a->status == b->status && a->codec == b->codec &&
	       a->jsonp == b->jsonp && strcmp(a->callback, b->callback) == 0 &&
	       a->body == b->body && a->body_codec == b->body_codec &&
	       a->message == b->message;
}

/* Runs one case file; false (with the reasons on stderr) when it fails. */
static bool
run_case(const char *name, const char *text, size_t len)
{
	neg_case *c = malloc(sizeof(*c));
	gw_neg_in in;
	gw_neg_out out, again;
	char err[128];
	const char *want_cb, *want_body;
	bool ok = false;
	int st;

	if (c == NULL) {
		fprintf(stderr, "%s: out of memory\n", name);
		return false;
	}
	if (neg_case_parse(text, len, c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", name, err);
		goto out;
	}
	if (neg_case_input(c, &in) != 0 || !c->expect_status.set ||
	    !c->expect_format.set) {
		fprintf(stderr,
			"%s: route/body must be documented|predefined, yes|no; "
			"expect-status and expect-format are required\n",
			name);
		goto out;
	}
	gw_negotiate(&in, &out);
	gw_negotiate(&in, &again);
	ok = true;
	if (!same_out(&out, &again)) {
		fprintf(stderr, "%s: a second run answered differently\n",
			name);
		ok = false;
	}
	st = neg_status_http(out.status);
	if (st != atoi(c->expect_status.s)) {
		fprintf(stderr, "%s: status %d, expected %s (%s)\n", name, st,
			c->expect_status.s,
			out.message != NULL ? out.message : "");
		ok = false;
	}
	if (out.codec == NULL ||
	    !neg_value_is(&c->expect_format, out.codec->name)) {
		fprintf(stderr, "%s: format %s, expected %s\n", name,
			out.codec != NULL ? out.codec->name : "(null)",
			c->expect_format.s);
		ok = false;
	}
	want_cb = c->expect_callback.set ? c->expect_callback.s : NULL;
	if (out.jsonp != (want_cb != NULL) ||
	    (want_cb != NULL && strcmp(out.callback, want_cb) != 0)) {
		fprintf(stderr, "%s: JSONP %s '%s', expected %s '%s'\n", name,
			out.jsonp ? "yes" : "no", out.callback,
			want_cb != NULL ? "yes" : "no",
			want_cb != NULL ? want_cb : "");
		ok = false;
	}
	want_body = c->expect_body.set ? c->expect_body.s : "none";
	if (strcmp(neg_body_name(&out), want_body) != 0) {
		fprintf(stderr, "%s: body read as %s, expected %s\n", name,
			neg_body_name(&out), want_body);
		ok = false;
	}
	/* consistency, whatever the case expects */
	if ((out.status == GW_NEG_OK) != (out.message == NULL) ||
	    (out.jsonp &&
	     (out.codec != &uw_codec_json ||
	      !gw_neg_callback_ok(out.callback, strlen(out.callback)))) ||
	    ((out.status == GW_NEG_BAD_CALLBACK ||
	      out.status == GW_NEG_NOT_ACCEPTABLE) &&
	     (out.jsonp || out.codec != &uw_codec_json))) {
		fprintf(stderr, "%s: inconsistent outcome\n", name);
		ok = false;
	}
out:
	free(c);
	return ok;
}

static int
is_case(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 4 &&
	       strcmp(e->d_name + n - 4, ".txt") == 0;
}

/* Runs every case of dir; the number run (-1: the directory is missing). */
static int
run_dir(const char *dir)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, is_case, alphasort);

	if (n < 0) {
		fprintf(stderr, "test_negotiate: cannot read %s\n", dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		size_t size = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = malloc(size);
		char *text = NULL;
		size_t len = 0;

		if (path != NULL) {
			snprintf(path, size, "%s/%s", dir, names[i]->d_name);
		}
		if (path == NULL || read_all(path, &text, &len) != 0) {
			fprintf(stderr, "%s: cannot read\n", names[i]->d_name);
			CHECK(false);
		} else {
			CHECK(run_case(names[i]->d_name, text, len));
		}
		free(text);
		free(path);
		free(names[i]);
	}
	free(names);
	return n;
}

/* The helpers, where a case file cannot reach. */
static void
test_helpers(void)
{
	char buf[GW_NEG_CALLBACK_MAX + 1];
	char longest[GW_NEG_CALLBACK_MAX + 2];
	size_t len;

	/* a decoded NUL is kept, and refused as a callback */
	CHECK_INT(gw_neg_query_param("callback=a%00b", 14, "callback", buf,
				     sizeof(buf), &len),
		  1);
	CHECK_INT(len, 3);
	CHECK(!gw_neg_callback_ok(buf, len));
	/* exactly the bound fits; one more does not */
	memset(longest, 'a', sizeof(longest));
	CHECK(gw_neg_callback_ok(longest, GW_NEG_CALLBACK_MAX));
	CHECK(!gw_neg_callback_ok(longest, GW_NEG_CALLBACK_MAX + 1));
	CHECK_INT(gw_neg_query_param("x=1234", 6, "x", buf, 5, &len), 1);
	CHECK_STR(buf, "1234");
	CHECK_INT(gw_neg_query_param("x=12345", 7, "x", buf, 5, &len), -1);
	CHECK_STR(buf, "");
	CHECK_INT(gw_neg_query_param(NULL, 0, "x", buf, 5, &len), 0);
	CHECK_INT(gw_neg_query_param("x", 1, "x", buf, 5, &len), 0);
	CHECK_INT(gw_neg_query_param("a=1&X=%4a%zz+", 13, "x", buf, 8, &len),
		  1);
	CHECK_STR(buf, "J%zz ");
	/* Accept: absent-like, and a body's format under a wildcard */
	CHECK(gw_neg_accept(NULL, 0, NULL) == &uw_codec_json);
	CHECK(gw_neg_accept(" , ,", 4, &uw_codec_csv) == &uw_codec_csv);
	CHECK(gw_neg_accept("*/*", 3, &uw_codec_xml) == &uw_codec_xml);
	CHECK(gw_neg_accept("image/png", 9, &uw_codec_xml) == NULL);
}

int
main(int argc, char **argv)
{
	char dir[4096];
	const char *src = getenv("USERS_SRC");
	int n;

	if (argc > 1) {
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	} else {
		snprintf(dir, sizeof(dir), "%s/tests/data/negotiate",
			 src != NULL ? src : ".");
	}
	n = run_dir(dir);
	if (n < MIN_CASES) {
		fprintf(stderr, "test_negotiate: %d cases in %s, want >= %d\n",
			n, dir, MIN_CASES);
		CHECK(false);
	}
	test_helpers();
	printf("test_negotiate: %d cases\n", n);
	return check_done();
}
