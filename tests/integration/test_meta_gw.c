/*
 * test_meta_gw.c - the self-describing API as usersgw serves it: a real
 * usersd (harness) and a real usersgw on an ephemeral loopback port,
 * fetched with curl.
 *
 *   test_meta_gw NODE_DIR OUT_DIR
 *
 * Checks every metadata route (status, Content-Type, ETag/304, 404 for an
 * unknown operation, 405 for POST), that the sample request bodies the
 * pages show are read by the real service in every format, then the
 * files themselves: python3 -m py_compile over the Python DTOs, and (node,
 * from NODE_DIR, filled by test_meta_setup.sh) tsc over the TypeScript
 * DTOs against @servicestack/client, an OpenAPI 3.1 validator over
 * /openapi.json, and headless Chromium over /metadata and operation pages
 * (console errors, broken links, phone width; screenshots into OUT_DIR).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"

#define CURL_MS 15000
#define NODE_MS 120000

static th_daemon daemon_;
static gwh_proc gw;
static const char *node_dir;
static const char *out_dir;

/* The whole file, NUL-terminated (malloc'd), or NULL. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL) {
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			if (len != NULL) {
				*len = (size_t)n;
			}
		}
	}
	fclose(f);
	return buf;
}

static int
spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (f == NULL) {
		return -1;
	}
	if (fwrite(data, 1, len, f) != len) {
		rc = -1;
	}
	if (fclose(f) != 0) {
		rc = -1;
	}
	return rc;
}

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

/* ------------------------------------------------------------------------
 * HTTP with curl
 */

typedef struct res {
	int status;
	char content_type[128];
	char etag[64];
	char *body; /* owned */
	size_t len;
} res;

static void
res_fini(res *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* The value of header name in curl's -D file (the last response). */
static void
header_value(const char *hdrs, const char *name, char *buf, size_t size)
{
	size_t nl = strlen(name);

	buf[0] = '\0';
	for (const char *p = hdrs; p != NULL && *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (ll > nl + 1 && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t vl;

			while (*v == ' ') {
				v++;
			}
			vl = (size_t)(p + ll - v);
			while (vl > 0 &&
			       (v[vl - 1] == '\r' || v[vl - 1] == ' ')) {
				vl--;
			}
			if (vl >= size) {
				vl = size - 1;
			}
			memcpy(buf, v, vl);
			buf[vl] = '\0';
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
}

/*
 * method path [header] [content-type body]: one request with curl.
 * r->status -1 when curl failed.
 */
static void
fetch(const char *method, const char *path, const char *hdr, const char *ctype,
      const char *body, res *r)
{
	char url[512], bodyf[300], hdrf[300], dataf[300], cth[160], curl[512];
	const char *argv[24];
	size_t n = 0;
	th_output o;
	char *h;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", gw.port, path);
	snprintf(bodyf, sizeof(bodyf), "%s/curl.body", daemon_.dir);
	snprintf(hdrf, sizeof(hdrf), "%s/curl.headers", daemon_.dir);
	snprintf(dataf, sizeof(dataf), "@%s/curl.data", daemon_.dir);
	argv[n++] = exe("curl", curl, sizeof(curl));
	argv[n++] = "-sS";
	argv[n++] = "--max-time";
	argv[n++] = "10";
	argv[n++] = "-o";
	argv[n++] = bodyf;
	argv[n++] = "-D";
	argv[n++] = hdrf;
	argv[n++] = "-w";
	argv[n++] = "%{http_code}";
	if (strcmp(method, "HEAD") == 0) {
		argv[n++] = "-I";
	} else {
		argv[n++] = "-X";
		argv[n++] = method;
	}
	if (hdr != NULL) {
		argv[n++] = "-H";
		argv[n++] = hdr;
	}
	if (body != NULL) {
		snprintf(cth, sizeof(cth), "Content-Type: %s", ctype);
		if (spit(dataf + 1, body, strlen(body)) != 0) {
			return;
		}
		argv[n++] = "-H";
		argv[n++] = cth;
		argv[n++] = "--data-binary";
		argv[n++] = dataf;
	}
	argv[n++] = url;
	argv[n] = NULL;
	unlink(bodyf);
	if (th_run(argv, NULL, NULL, CURL_MS, &o) != 0 || o.status != 0) {
		fprintf(stderr, "curl %s %s failed: %s\n", method, path,
			o.err != NULL ? o.err : "");
		th_output_fini(&o);
		return;
	}
	r->status = atoi(o.out);
	th_output_fini(&o);
	h = slurp(hdrf, NULL);
	if (h != NULL) {
		header_value(h, "content-type", r->content_type,
			     sizeof(r->content_type));
		header_value(h, "etag", r->etag, sizeof(r->etag));
		free(h);
	}
	r->body = slurp(bodyf, &r->len);
	if (r->body == NULL) {
		r->body = calloc(1, 1);
	}
}

static void
get(const char *path, res *r)
{
	fetch("GET", path, NULL, NULL, NULL, r);
}

static void
save(const char *dir, const char *name, const res *r)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK_INT(spit(path, r->body != NULL ? r->body : "", r->len), 0);
}

/* ------------------------------------------------------------------------
 * Tests
 */

static void
test_routes(void)
{
	static const char *const fmts[] = {"xml", "json", "jsv", "csv"};
	static const char *const langs[][2] = {{"python", "dtos.py"},
					       {"swift", "dtos.swift"},
					       {"typescript", "dtos.ts"},
					       {"csharp", "dtos.cs"}};
	res r;
	char etag[64], inm[96];

	get("/metadata", &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "text/html; charset=utf-8");
	CHECK(r.body != NULL &&
	      strstr(r.body,
		     "<a href=\"/jsv/metadata?op=PatchUser\">JSV</a>") != NULL);
	snprintf(etag, sizeof(etag), "%s", r.etag);
	CHECK(etag[0] == '"');
	save(out_dir, "index.html", &r);
	res_fini(&r);

	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	fetch("GET", "/metadata", inm, NULL, NULL, &r);
	CHECK_INT(r.status, 304);
	CHECK_INT(r.len, 0);
	res_fini(&r);

	fetch("HEAD", "/metadata", NULL, NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.etag, etag);
	res_fini(&r);

	fetch("POST", "/metadata", NULL, NULL, NULL, &r);
	CHECK_INT(r.status, 405);
	res_fini(&r);

	for (size_t k = 0; k < 4; k++) {
		char path[128], name[64];

		snprintf(path, sizeof(path), "/%s/metadata?op=PatchUser",
			 fmts[k]);
		get(path, &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(r.content_type, "text/html; charset=utf-8");
		CHECK(r.body != NULL &&
		      strstr(r.body, "<h2>PatchUser</h2>") != NULL);
		snprintf(name, sizeof(name), "PatchUser.%s.html", fmts[k]);
		save(out_dir, name, &r);
		res_fini(&r);
	}

	/* seed 002's JSON request and response (docs/wire-formats.md,
	 * section 13), as the page shows them */
	get("/json/metadata?op=patchuser", &r);
	CHECK(
	    r.body != NULL &&
	    strstr(r.body,
		   "\n\n{&quot;accountIds&quot;:[&quot;String&quot;],&quot;"
		   "userId&quot;:&quot;String&quot;,&quot;firstName&quot;:"
		   "&quot;String&quot;,&quot;lastName&quot;:&quot;String&quot;"
		   ",&quot;newPassword&quot;:&quot;String&quot;,&quot;roles"
		   "&quot;:[&quot;String&quot;]}</pre>") != NULL);
	CHECK(r.body != NULL &&
	      strstr(r.body, "\n\n{&quot;id&quot;:&quot;String&quot;,&quot;"
			     "isAuthenticated&quot;:false,") != NULL);
	res_fini(&r);

	get("/xml/metadata?op=NoSuchOp", &r);
	CHECK_INT(r.status, 404);
	CHECK_STR(r.content_type, "text/html; charset=utf-8");
	res_fini(&r);

	for (size_t i = 0; i < 4; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/types/%s", langs[i][0]);
		get(path, &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(r.content_type, "text/plain; charset=utf-8");
		CHECK(r.len > 1000);
		save(out_dir, langs[i][1], &r);
		if (strcmp(langs[i][0], "typescript") == 0) {
			save(node_dir, "dtos.ts", &r);
		}
		res_fini(&r);
	}

	get("/openapi.json", &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "application/json; charset=utf-8");
	CHECK(r.body != NULL &&
	      strncmp(r.body, "{\"openapi\":\"3.1.0\"", 18) == 0);
	save(out_dir, "openapi.json", &r);
	res_fini(&r);

	/* the gateway's own routes are still its own */
	get("/healthz", &r);
	CHECK_INT(r.status, 200);
	res_fini(&r);
	get("/no/such/route", &r);
	CHECK_INT(r.status, 404);
	res_fini(&r);
	get("/types/cobol", &r);
	CHECK_INT(r.status, 404);
	res_fini(&r);
}

/* The text of the n-th <pre> after "\n\n" (the body), HTML-unescaped. */
static char *
sample_body(const char *page, int nth)
{
	const char *p = page;
	const char *end;
	char *out, *w;

	for (int i = 0; i <= nth; i++) {
		p = strstr(p, "<pre>");
		if (p == NULL) {
			return NULL;
		}
		p += 5;
	}
	end = strstr(p, "</pre>");
	p = strstr(p, "\n\n");
	if (end == NULL || p == NULL || p > end) {
		return NULL;
	}
	p += 2;
	out = malloc((size_t)(end - p) + 1);
	if (out == NULL) {
		return NULL;
	}
	w = out;
	while (p < end) {
		static const char *const ents[][2] = {{"&quot;", "\""},
						      {"&amp;", "&"},
						      {"&lt;", "<"},
						      {"&gt;", ">"},
						      {"&#39;", "'"}};
		bool done = false;

		for (size_t k = 0; k < 5 && !done; k++) {
			size_t el = strlen(ents[k][0]);

			if (strncmp(p, ents[k][0], el) == 0) {
				*w++ = ents[k][1][0];
				p += el;
				done = true;
			}
		}
		if (!done) {
			*w++ = *p++;
		}
	}
	*w = '\0';
	return out;
}

/*
 * What the pages show is what the service reads: the sample request of
 * Authenticate in each format, sent as shown, is read field by field (its
 * placeholder provider "String" is refused by name), not refused as
 * unreadable (400 SerializationException, 415).
 */
static void
test_samples_accepted(void)
{
	static const char *const fmts[][2] = {{"json", "application/json"},
					      {"xml", "application/xml"},
					      {"jsv", "text/jsv"},
					      {"csv", "text/csv"}};

	for (size_t k = 0; k < 4; k++) {
		char path[96];
		res page, r;
		char *body;

		snprintf(path, sizeof(path), "/%s/metadata?op=Authenticate",
			 fmts[k][0]);
		get(path, &page);
		body = page.body != NULL ? sample_body(page.body, 0) : NULL;
		CHECK(body != NULL);
		if (body != NULL) {
			fetch("POST", "/auth/credentials", NULL, fmts[k][1],
			      body, &r);
			bool read = r.status == 400 && r.body != NULL &&
				    strstr(r.body, "'Provider' must be "
						   "'credentials'") != NULL;

			if (!read) {
				fprintf(stderr, "%s sample: %d %s\n%s\n",
					fmts[k][0], r.status,
					r.body != NULL ? r.body : "", body);
			}
			CHECK(read);
			res_fini(&r);
		}
		free(body);
		res_fini(&page);
	}
}

static void
run_check(const char *what, const char *const *argv, int timeout_ms)
{
	th_output o;
	int rc = th_run(argv, NULL, NULL, timeout_ms, &o);

	if (rc != 0 || o.status != 0) {
		fprintf(stderr, "%s failed (status %d):\n%s%s\n", what,
			o.status, o.out != NULL ? o.out : "",
			o.err != NULL ? o.err : "");
	} else {
		printf("%s", o.out != NULL ? o.out : "");
	}
	CHECK(rc == 0 && o.status == 0);
	th_output_fini(&o);
}

static void
test_files(void)
{
	char py[512], script[512], oa[512], url[64], python[512], node[512];

	snprintf(py, sizeof(py), "%s/dtos.py", out_dir);
	snprintf(script, sizeof(script), "%s/test_meta_checks.mjs", node_dir);
	snprintf(oa, sizeof(oa), "%s/openapi.json", out_dir);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", gw.port);
	exe("python3", python, sizeof(python));
	exe("node", node, sizeof(node));
	{
		const char *argv[] = {python, "-m", "py_compile", py, NULL};

		run_check("python3 -m py_compile dtos.py", argv, 30000);
	}
	{
		const char *argv[] = {node, script, "tsc", node_dir, NULL};

		run_check("tsc dtos.ts", argv, NODE_MS);
	}
	{
		const char *argv[] = {node, script, "openapi", oa, NULL};

		run_check("openapi validation", argv, NODE_MS);
	}
	{
		const char *argv[] = {node, script,  "browser",
				      url,  out_dir, NULL};

		run_check("headless chromium", argv, NODE_MS);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_meta_gw NODE_DIR OUT_DIR\n");
		return 2;
	}
	node_dir = argv[1];
	out_dir = argv[2];
	(void)mkdir(out_dir, 0755);
	signal(SIGPIPE, SIG_IGN);
	if (th_daemon_start(&daemon_, NULL) != 0) {
		return 1;
	}
	if (gwh_spawn(&gw, &daemon_, "usersgw",
		      (const char *const[]){"--threads", "2", NULL}) != 0) {
		th_daemon_stop(&daemon_);
		return 1;
	}
	test_routes();
	test_samples_accepted();
	test_files();
	CHECK_INT(gwh_stop(&gw), 0);
	CHECK_INT(th_daemon_stop(&daemon_), 0);
	return check_done();
}
