/*
 * test_meta_gw.c - the self-describing API as usersgw serves it: a real
 * usersd (harness) and a real usersgw on an ephemeral loopback port,
 * fetched with curl.
 *
 *   test_meta_gw NODE_DIR OUT_DIR
 *
 * Checks every metadata route (status, Content-Type, ETag/304, 404 for an
 * unknown operation, 405 for POST), that the sample request bodies the
 * pages show are read by the real service in every format, the DTO files'
 * Options header (fetching the URL a header names gives the same file;
 * IncludeTypes gives a type and what it needs), then the files
 * themselves, each with its language's tools (Debian's; a missing one
 * fails):
 *
 *   TypeScript, JavaScript  tsc against @servicestack/client, then both run
 *                           with its JsonServiceClient against this gateway
 *                           (test_meta_client.ts, .mjs): a first-name edit
 *                           keeps roles, accounts, nested organizations
 *   C#, Python              mcs, mypy --strict (test_meta_langs.sh)
 *   Java, Kotlin            javac, kotlinc; Gson writes the first-name edit
 *   Swift, Dart             golden files (test_meta_pages)
 *
 * and, for every language, the body its PatchUser DTO sends for a
 * first-name edit (Gson's for Java and Kotlin; read off the generated
 * class for the others: a list initialized to empty is sent as []) is sent
 * to this gateway: the user's roles and accounts stay. Then an OpenAPI 3.1
 * validator over /openapi.json, and headless Chromium over /metadata and
 * operation pages (console errors, broken links, phone width; screenshots
 * into OUT_DIR).
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
	static const char *const langs[][2] = {
	    {"python", "dtos.py"},     {"swift", "dtos.swift"},
	    {"typescript", "dtos.ts"}, {"csharp", "dtos.cs"},
	    {"mjs", "dtos.mjs"},       {"java", "dtos.java"},
	    {"kotlin", "dtos.kt"},     {"dart", "dtos.dart"}};
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

	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
		char path[64], base[96];

		snprintf(path, sizeof(path), "/types/%s", langs[i][0]);
		get(path, &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(r.content_type, "text/plain; charset=utf-8");
		CHECK(r.len > 1000);
		/* an absolute BaseUrl: the request's Host */
		snprintf(base, sizeof(base), "\nBaseUrl: http://127.0.0.1:%d\n",
			 gw.port);
		CHECK(r.body != NULL && strstr(r.body, base) != NULL);
		save(out_dir, langs[i][1], &r);
		if (strcmp(langs[i][0], "typescript") == 0 ||
		    strcmp(langs[i][0], "mjs") == 0) {
			save(node_dir, langs[i][1], &r);
		}
		res_fini(&r);
	}
	get("/types", &r);
	CHECK_INT(r.status, 200);
	CHECK(r.body != NULL &&
	      strstr(r.body, "\"Mjs\":\"http://127.0.0.1:") != NULL);
	res_fini(&r);
	get("/types/metadata", &r);
	CHECK_INT(r.status, 200);
	CHECK(r.body != NULL && strstr(r.body, "\"dataMember\":{\"name\":"
					       "\"organizations\"}") != NULL);
	res_fini(&r);
	get("/types/python?AddResponseStatus=maybe", &r);
	CHECK_INT(r.status, 400);
	res_fini(&r);

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

/* ------------------------------------------------------------------------
 * The Options header
 */

static const char *const all_langs[] = {
    "csharp", "typescript", "mjs", "dart", "java", "kotlin", "python", "swift"};

/*
 * What ServiceStack's tools do to update a DTO file, into path: the
 * header's BaseUrl, then the options it lists without the default mark
 * ("//", "#") as the query of BaseUrl + /types/{lang}. The BaseUrl must be
 * this gateway's; path is what follows it. 0 or -1.
 */
static int
header_url(const char *file, const char *lang, char *path, size_t size)
{
	const char *p = strstr(file, "Options:\n");
	char base[128], want[64];
	size_t w;
	bool first = true;

	if (p == NULL) {
		return -1;
	}
	base[0] = '\0';
	w = (size_t)snprintf(path, size, "/types/%s", lang);
	for (p += 9; *p != '\0';) {
		size_t n = strcspn(p, "\n");
		const char *colon = memchr(p, ':', n);

		if ((n == 2 && strncmp(p, "*/", 2) == 0) ||
		    (n == 3 && strncmp(p, "\"\"\"", 3) == 0)) {
			break;
		}
		if (n > 9 && strncmp(p, "BaseUrl: ", 9) == 0) {
			snprintf(base, sizeof(base), "%.*s", (int)(n - 9),
				 p + 9);
		} else if (colon != NULL && p[0] != '/' && p[0] != '#' &&
			   strncmp(p, "Version:", 8) != 0 &&
			   strncmp(p, "Tip:", 4) != 0 &&
			   strncmp(p, "Date:", 5) != 0 && colon + 2 <= p + n) {
			w += (size_t)snprintf(
			    path + w, w < size ? size - w : 0, "%c%.*s=%.*s",
			    first ? '?' : '&', (int)(colon - p), p,
			    (int)(p + n - colon - 2), colon + 2);
			first = false;
		}
		p += n + (p[n] == '\n');
	}
	snprintf(want, sizeof(want), "http://127.0.0.1:%d", gw.port);
	return strcmp(base, want) == 0 && w < size ? 0 : -1;
}

/*
 * For every language: a file asked for with options lists them in its
 * header without the default mark, and fetching the URL its header names
 * gives the same file back; IncludeTypes=PatchUser gives PatchUser and
 * what it needs (its response, UserInfo, and UserInfo's enums), nothing
 * else.
 */
static void
test_header_roundtrip(void)
{
	for (size_t i = 0; i < sizeof(all_langs) / sizeof(all_langs[0]); i++) {
		char path[256], again[512];
		res a, b;

		snprintf(path, sizeof(path),
			 "/types/%s?IncludeTypes=PatchUser&AddResponseStatus="
			 "true",
			 all_langs[i]);
		get(path, &a);
		CHECK_INT(a.status, 200);
		CHECK(a.body != NULL &&
		      strstr(a.body, "\nIncludeTypes: PatchUser\n") != NULL &&
		      strstr(a.body, "\nAddResponseStatus: True\n") != NULL);
		CHECK(a.body != NULL && strstr(a.body, "PatchUser") != NULL &&
		      strstr(a.body, "UserInfo") != NULL &&
		      strstr(a.body, "DashboardPermissions") != NULL &&
		      strstr(a.body, "NewUser") == NULL &&
		      strstr(a.body, "UpdateBusinessUser") == NULL &&
		      strstr(a.body, "OrganizationBasicView") == NULL);
		if (a.body == NULL || header_url(a.body, all_langs[i], again,
						 sizeof(again)) != 0) {
			fprintf(stderr, "%s: no usable Options header\n",
				all_langs[i]);
			CHECK(0);
			res_fini(&a);
			continue;
		}
		get(again, &b);
		CHECK_INT(b.status, 200);
		if (b.body == NULL || a.body == NULL ||
		    strcmp(a.body, b.body) != 0) {
			fprintf(stderr, "%s: %s is not the file %s gave\n",
				all_langs[i], again, path);
			CHECK(0);
		}
		res_fini(&b);
		res_fini(&a);
	}
}

/* ------------------------------------------------------------------------
 * What each language's PatchUser sends for a first-name edit
 */

static char admin_auth[2300]; /* "Authorization: Bearer ..." */

static void
http(const char *method, const char *path, const char *body, gwh_res *r)
{
	const char *hdrs[] = {admin_auth, "Content-Type: application/json",
			      "Accept: application/json", NULL};

	gwh_http(gw.port, method, path, hdrs, body, r);
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

/* A user in a new organization, holding the Manager role: id, org. */
static int
make_user(char id[32], char org[40])
{
	char body[256];
	gwh_res r;
	int rc = -1;

	snprintf(body, sizeof(body),
		 "{\"userName\":\"%s\",\"password\":\"%s\"}", TH_ADMIN_EMAIL,
		 TH_ADMIN_PASSWORD);
	gwh_http(gw.port, "POST", "/auth/credentials",
		 (const char *const[]){"Content-Type: application/json", NULL},
		 body, &r);
	snprintf(admin_auth, sizeof(admin_auth), "Authorization: Bearer %s",
		 jstr(r.json, "bearerToken"));
	gwh_res_fini(&r);
	http("POST", "/organizations", "{\"name\":\"Edits\"}", &r);
	snprintf(org, 40, "%s", jstr(r.json, "id"));
	gwh_res_fini(&r);
	snprintf(body, sizeof(body),
		 "{\"emailAddress\":\"edits@example.com\",\"password\":"
		 "\"password-123\",\"firstName\":\"Ada\",\"accountId\":\"%s\"}",
		 org);
	http("POST", "/users", body, &r);
	snprintf(id, 32, "%s", jstr(r.json, "id"));
	gwh_res_fini(&r);
	snprintf(body, sizeof(body), "/users/%s", id);
	http("PATCH", body, "{\"roles\":[\"Manager\"]}", &r);
	if (r.status == 200 && org[0] != '\0' && id[0] != '\0') {
		rc = 0;
	}
	gwh_res_fini(&r);
	return rc;
}

/* The class of a generated file from decl to the line that closes it
 * (malloc'd), or NULL. */
static char *
class_block(const char *file, const char *decl, const char *close)
{
	const char *a = strstr(file, decl);
	const char *b = a != NULL ? strstr(a, close) : NULL;

	return b != NULL ? strndup(a, (size_t)(b - a)) : NULL;
}

/* Whether the line of block holding name starts the list as empty. */
static bool
starts_empty(const char *block, const char *name)
{
	const char *at = strstr(block, name);
	size_t n;
	char line[512];

	if (at == NULL) {
		return false;
	}
	while (at > block && at[-1] != '\n') {
		at--;
	}
	n = strcspn(at, "\n");
	snprintf(line, sizeof(line), "%.*s", (int)n, at);
	return strstr(line, "= []") != NULL ||
	       strstr(line, "default_factory") != NULL ||
	       strstr(line, "= new") != NULL;
}

/*
 * The JSON body language's PatchUser DTO (in dir/file) sends with only
 * userId and firstName set, by the rules of the client that language's
 * reference is for: ServiceStack.Text (C#) and Swift's JSONEncoder leave
 * unset properties out, dataclasses_json (Python) and the Dart client
 * write them as null; a list the class starts as empty is sent as [].
 */
static int
derived_body(const char *lang, const char *id, const char *first, char *out,
	     size_t size)
{
	static const struct {
		const char *lang, *file, *decl, *close, *roles, *accounts;
		bool pascal, nulls;
	} rules[] = {
	    {"csharp", "dtos.cs", "public partial class PatchUser\n",
	     "\n    }\n", "Roles = new", "AccountIds = new", true, false},
	    {"python", "dtos.py", "class PatchUser(", "\n\n\n@",
	     "    roles: ", "    account_ids: ", false, true},
	    {"swift", "dtos.swift", "public class PatchUser ", "\n}\n",
	     "public var roles:", "public var accountIds:", false, false},
	    {"dart", "dtos.dart", "class PatchUser ", "\n}\n", "? roles",
	     "? accountIds", false, true},
	};
	char path[512];

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char *file, *block;
		const char *roles, *accounts, *none;

		if (strcmp(rules[i].lang, lang) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", out_dir, rules[i].file);
		file = slurp(path, NULL);
		block = file != NULL
			    ? class_block(file, rules[i].decl, rules[i].close)
			    : NULL;
		free(file);
		if (block == NULL) {
			return -1;
		}
		none = rules[i].nulls ? "null" : NULL;
		roles = starts_empty(block, rules[i].roles) ? "[]" : none;
		accounts = starts_empty(block, rules[i].accounts) ? "[]" : none;
		free(block);
		snprintf(
		    out, size, "{\"%s\":\"%s\",\"%s\":\"%s\"%s%s%s%s%s%s%s}",
		    rules[i].pascal ? "UserId" : "userId", id,
		    rules[i].pascal ? "FirstName" : "firstName", first,
		    rules[i].nulls ? ",\"lastName\":null,\"newPassword\":null"
				   : "",
		    roles != NULL
			? (rules[i].pascal ? ",\"Roles\":" : ",\"roles\":")
			: "",
		    roles != NULL ? roles : "",
		    accounts != NULL ? (rules[i].pascal ? ",\"AccountIds\":"
							: ",\"accountIds\":")
				     : "",
		    accounts != NULL ? accounts : "", "", "");
		return 0;
	}
	return -1;
}

/* Sends body as a first-name edit and checks what it kept. */
static void
send_edit(const char *who, const char *id, const char *org, const char *first,
	  const char *body)
{
	char path[64], roles[64], accounts[96];
	gwh_res r;

	snprintf(path, sizeof(path), "/users/%s", id);
	http("PATCH", path, body, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	http("GET", path, NULL, &r);
	{
		char *rs =
		    json_dumps(json_object_get(r.json, "roles"), JSON_COMPACT);
		char *as = json_dumps(json_object_get(r.json, "accountIds"),
				      JSON_COMPACT);

		snprintf(roles, sizeof(roles), "%s", rs != NULL ? rs : "");
		snprintf(accounts, sizeof(accounts), "%s",
			 as != NULL ? as : "");
		free(rs);
		free(as);
	}
	{
		char want[96];
		bool ok;

		snprintf(want, sizeof(want), "[\"%s\"]", org);
		ok = strcmp(jstr(r.json, "firstName"), first) == 0 &&
		     strcmp(roles, "[\"Manager\"]") == 0 &&
		     strcmp(accounts, want) == 0;
		if (!ok) {
			fprintf(stderr,
				"%s: after %s the user has firstName %s, "
				"roles %s, accounts %s\n",
				who, body, jstr(r.json, "firstName"), roles,
				accounts);
		} else {
			printf("%s: %s keeps the roles and accounts\n", who,
			       body);
		}
		CHECK(ok);
	}
	gwh_res_fini(&r);
}

/* "BODY {...}" of a probe's output, into body. */
static int
probe_body(const char *out, char *body, size_t size)
{
	const char *b = out != NULL ? strstr(out, "BODY ") : NULL;

	if (b == NULL) {
		return -1;
	}
	b += 5;
	snprintf(body, size, "%.*s", (int)strcspn(b, "\n"), b);
	return 0;
}

static void run_check(const char *what, const char *const *argv,
		      int timeout_ms);

/*
 * Each language's compile check (test_meta_langs.sh), and each PatchUser's
 * first-name edit sent as that language's client sends it.
 */
static void
test_languages(void)
{
	char id[32], org[40], sh[512], script[512];

	CHECK_INT(make_user(id, org), 0);
	exe("sh", sh, sizeof(sh));
	snprintf(script, sizeof(script),
		 "%s/tests/integration/test_meta_langs.sh",
		 getenv("USERS_SRC") != NULL ? getenv("USERS_SRC") : ".");
	for (size_t i = 0; i < 4; i++) {
		static const char *const langs[] = {"csharp", "python", "java",
						    "kotlin"};
		const char *argv[] = {sh, script, langs[i], out_dir,
				      id, NULL,   NULL};
		char first[32], body[512];
		th_output o;

		snprintf(first, sizeof(first), "Grace-%s", langs[i]);
		argv[5] = first;
		if (th_run(argv, NULL, NULL, 180000, &o) != 0 ||
		    o.status != 0) {
			fprintf(stderr, "%s check failed (status %d):\n%s%s\n",
				langs[i], o.status, o.out != NULL ? o.out : "",
				o.err != NULL ? o.err : "");
			CHECK(0);
			th_output_fini(&o);
			continue;
		}
		printf("%s", o.out != NULL ? o.out : "");
		if (strcmp(langs[i], "java") == 0 ||
		    strcmp(langs[i], "kotlin") == 0) {
			CHECK_INT(probe_body(o.out, body, sizeof(body)), 0);
			send_edit(langs[i], id, org, first, body);
		}
		th_output_fini(&o);
	}
	for (size_t i = 0; i < 4; i++) {
		static const char *const langs[] = {"csharp", "python", "swift",
						    "dart"};
		char first[32], body[512];

		snprintf(first, sizeof(first), "Grace-%s", langs[i]);
		if (derived_body(langs[i], id, first, body, sizeof(body)) !=
		    0) {
			fprintf(stderr, "%s: no PatchUser class\n", langs[i]);
			CHECK(0);
			continue;
		}
		send_edit(langs[i], id, org, first, body);
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
		/* TypeScript and JavaScript with @servicestack/client, live */
		char ts[512], js[512], base[64];
		const char *targv[] = {
		    node, ts, base, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, NULL};
		const char *jargv[] = {
		    node, js, base, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, NULL};

		snprintf(ts, sizeof(ts), "%s/tsout/test_meta_client.js",
			 node_dir);
		snprintf(js, sizeof(js), "%s/test_meta_client.mjs", node_dir);
		snprintf(base, sizeof(base), "http://127.0.0.1:%d", gw.port);
		run_check("typescript client", targv, NODE_MS);
		run_check("javascript client", jargv, NODE_MS);
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
	test_header_roundtrip();
	test_languages();
	test_files();
	CHECK_INT(gwh_stop(&gw), 0);
	CHECK_INT(th_daemon_stop(&daemon_), 0);
	return check_done();
}
