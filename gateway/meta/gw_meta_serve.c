/*
 * gw_meta_serve.c - the metadata routes of usersgw. What depends on the
 * contract alone (the index, the OpenAPI document, the 404 page) is built
 * once, on first use (pthread_once, so any loop thread may be first), and
 * kept for the life of the process. What also depends on the request (an
 * operation's page shows the request's Host; a DTO file names its BaseUrl
 * and honours the query's options) is made for each request: a few
 * milliseconds of CPU on the loop thread, nothing that waits. Every
 * answer has an ETag of its bytes (If-None-Match gives 304).
 *
 *   GET /metadata                         the index (text/html)
 *   GET /{xml,json,jsv,csv}/metadata?op=  an operation's page (&lang= its
 *                                         DTOs); without op the index;
 *                                         unknown op 404
 *   GET /types                            every DTO URL (JSON)
 *   GET /types/metadata                   MetadataTypes (JSON)
 *   GET /types/{lang}                     DTOs (text/plain); a bad option
 *                                         400
 *   GET /openapi.json                     OpenAPI 3.1 (application/json)
 *
 * The BaseUrl and Host are --public-url's when given, else the request's
 * scheme and Host header (only a host name's characters; else localhost).
 * HEAD is answered like GET without the body; other methods get 405.
 */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <h2o.h>

#include "gw_meta.h"
#include "gw_negotiate.h"

#define CT_HTML "text/html; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_JSON "application/json; charset=utf-8"
#define CSP                                                                    \
	"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "       \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#define MAX_OP_NAME 128

typedef struct page {
	char *data;
	size_t len;
	char etag[24];
} page;

static struct {
	int rc;
	page index;
	page openapi;
	page not_found;
} cache;

/* --public-url, without a trailing '/'; "" when not given */
static char public_url[GW_META_URL_MAX];

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* An ETag of n bytes (FNV-1a) into etag[24]. */
static void
etag_of(const char *data, size_t n, char etag[24])
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)data[i];
		h *= 0x100000001b3ull;
	}
	snprintf(etag, 24, "\"%016llx\"", (unsigned long long)h);
}

/* Takes b's memory into p, with an ETag of its bytes. */
static void
page_take(page *p, uw_buf *b)
{
	p->data = b->data;
	p->len = b->len;
	etag_of(b->data, b->len, p->etag);
	memset(b, 0, sizeof(*b));
}

/* Builds one page with gen into p. 0 or -1. */
static int
build(page *p, int rc, uw_buf *b)
{
	if (rc != 0) {
		uw_buf_fini(b);
		return -1;
	}
	page_take(p, b);
	return 0;
}

static void
cache_build(void)
{
	uw_buf b = {0};

	cache.rc = -1;
	if (up_meta_load() != 0) {
		return;
	}
	if (build(&cache.index, gw_meta_html_index(&b), &b) != 0 ||
	    build(&cache.openapi, gw_meta_openapi(&b), &b) != 0 ||
	    build(&cache.not_found,
		  gw_meta_html_not_found("There is no operation of that name.",
					 &b),
		  &b) != 0) {
		return;
	}
	cache.rc = 0;
}

void
gw_meta_set_public_url(const char *url)
{
	size_t n;

	snprintf(public_url, sizeof(public_url), "%s", url != NULL ? url : "");
	n = strlen(public_url);
	while (n > 0 && public_url[n - 1] == '/') {
		public_url[--n] = '\0';
	}
}

int
gw_meta_init(void)
{
	pthread_once(&cache_once, cache_build);
	return cache.rc;
}

static bool
equals(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncmp(s, lit, len) == 0;
}

/*
 * The percent-decoded value of ?op= into name, read by the gateway's one
 * query-string reader (gw_negotiate.c); false when there is none. A value
 * too long, or holding a decoded NUL, cannot name an operation: name is ""
 * then.
 */
static bool
query_op(const char *q, size_t len, char name[MAX_OP_NAME])
{
	size_t n = 0;
	int rc = gw_neg_query_param(q, len, "op", name, MAX_OP_NAME, &n);

	if (rc == 0) {
		return false;
	}
	if (rc < 0 || strlen(name) != n) {
		name[0] = '\0';
	}
	return true;
}

static void
answer(gw_meta_response *out, const page *p, const char *ct, bool html)
{
	out->status = 200;
	out->content_type = ct;
	out->body = p->data;
	out->len = p->len;
	out->etag = p->etag;
	out->html = html;
}

/* An answer made for this request: b's bytes, owned by out. */
static void
answer_made(gw_meta_response *out, uw_buf *b, int rc, const char *ct, bool html)
{
	if (rc != 0 || uw_buf_append(b, "", 1) != 0) {
		uw_buf_fini(b);
		out->status = 500;
		out->content_type = CT_TEXT;
		out->body = "The page could not be built.\n";
		out->len = strlen(out->body);
		return;
	}
	out->status = 200;
	out->content_type = ct;
	out->owned = b->data;
	out->body = b->data;
	out->len = b->len - 1;
	etag_of(out->body, out->len, out->etag_buf);
	out->etag = out->etag_buf;
	out->html = html;
	memset(b, 0, sizeof(*b));
}

static void
answer_text(gw_meta_response *out, int status, const char *text)
{
	out->status = status;
	out->content_type = CT_TEXT;
	out->body = text;
	out->len = strlen(text);
}

/* GET /types, /types/metadata, /types/{lang}. */
static bool
route_types(const char *name, size_t n, const char *q, size_t qlen,
	    const gw_meta_site *site, gw_meta_response *out)
{
	gw_meta_opts o;
	uw_buf b = {0};
	char lang[16];

	if (n == 0) {
		answer_made(out, &b, gw_meta_types_index(site->base_url, &b),
			    CT_JSON, false);
		return true;
	}
	if (n >= sizeof(lang)) {
		return false;
	}
	memcpy(lang, name, n);
	lang[n] = '\0';
	if (strcmp(lang, "metadata") != 0 && gw_meta_lang_label(lang) == NULL) {
		return false;
	}
	gw_meta_opts_init(&o, site->base_url);
	if (gw_meta_opts_read(&o, q, qlen) != 0) {
		answer_text(out, 400,
			    "An option of the query cannot be read: booleans "
			    "are True or False, IncludeTypes and ExcludeTypes "
			    "are type names separated by commas.\n");
		return true;
	}
	if (strcmp(lang, "metadata") == 0) {
		answer_made(out, &b, gw_meta_types_metadata(&o, &b), CT_JSON,
			    false);
	} else {
		answer_made(out, &b, gw_meta_types(lang, &o, &b), CT_TEXT,
			    false);
	}
	return true;
}

/* Which page the path names; false when the path is not ours. */
static bool
route(const char *path, size_t plen, const char *q, size_t qlen,
      const gw_meta_site *site, gw_meta_response *out)
{
	if (equals(path, plen, "/metadata") ||
	    equals(path, plen, "/metadata/")) {
		answer(out, &cache.index, CT_HTML, true);
		return true;
	}
	if (equals(path, plen, "/openapi.json")) {
		answer(out, &cache.openapi, CT_JSON, false);
		return true;
	}
	if (equals(path, plen, "/types") || equals(path, plen, "/types/")) {
		return route_types("", 0, q, qlen, site, out);
	}
	if (plen > 7 && strncmp(path, "/types/", 7) == 0) {
		return route_types(path + 7, plen - 7, q, qlen, site, out);
	}
	for (size_t k = 0; k < GW_META_N_FORMATS; k++) {
		const char *f = gw_meta_formats[k];
		size_t fl = strlen(f);
		char name[MAX_OP_NAME], lang[16];
		size_t ln = 0;
		const up_method *m;
		uw_buf b = {0};

		if (plen != fl + 10 || path[0] != '/' ||
		    strncasecmp(path + 1, f, fl) != 0 ||
		    strncmp(path + 1 + fl, "/metadata", 9) != 0) {
			continue;
		}
		if (!query_op(q, qlen, name)) {
			answer(out, &cache.index, CT_HTML, true);
			return true;
		}
		m = up_method_find(name);
		if (m == NULL) {
			answer(out, &cache.not_found, CT_HTML, true);
			out->status = 404;
			return true;
		}
		/* an unknown language shows the tables */
		if (gw_neg_query_param(q, qlen, "lang", lang, sizeof(lang),
				       &ln) != 1 ||
		    strlen(lang) != ln) {
			lang[0] = '\0';
		}
		answer_made(out, &b,
			    gw_meta_html_op(m, f, lang[0] != '\0' ? lang : NULL,
					    site->host, &b),
			    CT_HTML, true);
		return true;
	}
	return false;
}

void
gw_meta_response_fini(gw_meta_response *r)
{
	free(r->owned);
	memset(r, 0, sizeof(*r));
}

bool
gw_meta_lookup(const char *method, size_t mlen, const char *path, size_t len,
	       const char *if_none_match, size_t inm_len,
	       const gw_meta_site *site, gw_meta_response *out)
{
	const char *qm = memchr(path, '?', len);
	size_t plen = qm != NULL ? (size_t)(qm - path) : len;
	const char *q = qm != NULL ? qm + 1 : "";
	size_t qlen = qm != NULL ? len - plen - 1 : 0;

	memset(out, 0, sizeof(*out));
	if (gw_meta_init() != 0) {
		/* not built: say so on our paths only */
		if (equals(path, plen, "/metadata") ||
		    equals(path, plen, "/openapi.json")) {
			answer_text(out, 500,
				    "The metadata could not be built.\n");
			return true;
		}
		return false;
	}
	if (!equals(method, mlen, "GET") && !equals(method, mlen, "HEAD")) {
		/* ours (the path alone decides) or not, without building */
		gw_meta_response probe;

		memset(&probe, 0, sizeof(probe));
		if (!route(path, plen, "", 0, site, &probe)) {
			gw_meta_response_fini(&probe);
			return false;
		}
		gw_meta_response_fini(&probe);
		answer_text(out, 405, "Only GET and HEAD are allowed here.\n");
		return true;
	}
	if (!route(path, plen, q, qlen, site, out)) {
		gw_meta_response_fini(out);
		return false;
	}
	if (out->status == 200 && if_none_match != NULL && out->etag != NULL &&
	    inm_len >= strlen(out->etag) &&
	    (equals(if_none_match, inm_len, out->etag) ||
	     memmem(if_none_match, inm_len, out->etag, strlen(out->etag)) !=
		 NULL)) {
		out->status = 304;
		out->len = 0;
	}
	return true;
}

static const char *
reason_of(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 404:
		return "NotFound";
	case 405:
		return "Method Not Allowed";
	default:
		return "Internal Server Error";
	}
}

/* Whether s is a host[:port] or [v6]:port we may write into pages. */
static bool
host_ok(const char *s, size_t n)
{
	if (n == 0 || n > 200) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == ':' || c == '[' || c == ']')) {
			return false;
		}
	}
	return true;
}

/* The site of a request: --public-url, else its scheme and Host. */
static void
site_of(h2o_req_t *req, char *base, size_t bsize, char *host, size_t hsize,
	gw_meta_site *site)
{
	const char *scheme = req->scheme != NULL && req->scheme->name.len > 0
				 ? req->scheme->name.base
				 : "http";
	size_t slen = req->scheme != NULL && req->scheme->name.len > 0
			  ? req->scheme->name.len
			  : 4;

	if (public_url[0] != '\0') {
		const char *h = strstr(public_url, "://");

		h = h != NULL ? h + 3 : public_url;
		snprintf(base, bsize, "%s", public_url);
		snprintf(host, hsize, "%.*s", (int)strcspn(h, "/"), h);
	} else {
		if (host_ok(req->authority.base, req->authority.len)) {
			snprintf(host, hsize, "%.*s", (int)req->authority.len,
				 req->authority.base);
		} else {
			snprintf(host, hsize, "localhost");
		}
		/* host_ok bounds the host: this fits */
		if (snprintf(base, bsize, "%.*s://%.*s", (int)(slen & 15),
			     scheme, 200, host) < 0) {
			base[0] = '\0';
		}
	}
	site->base_url = base;
	site->host = host;
}

bool
gw_meta_serve(h2o_req_t *req)
{
	static h2o_generator_t generator = {NULL, NULL};
	const char *inm = NULL;
	size_t inm_len = 0;
	ssize_t hi;
	gw_meta_response r;
	gw_meta_site site;
	char base[GW_META_URL_MAX], host[GW_META_URL_MAX];
	h2o_iovec_t body;

	hi = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
	if (hi != -1) {
		inm = req->headers.entries[hi].value.base;
		inm_len = req->headers.entries[hi].value.len;
	}
	site_of(req, base, sizeof(base), host, sizeof(host), &site);
	if (!gw_meta_lookup(req->method.base, req->method.len, req->path.base,
			    req->path.len, inm, inm_len, &site, &r)) {
		return false;
	}
	req->res.status = r.status;
	req->res.reason = reason_of(r.status);
	if (r.content_type != NULL && r.status != 304) {
		h2o_add_header(&req->pool, &req->res.headers,
			       H2O_TOKEN_CONTENT_TYPE, NULL, r.content_type,
			       strlen(r.content_type));
	}
	if (r.etag != NULL) {
		h2o_add_header(
		    &req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL,
		    h2o_strdup(&req->pool, r.etag, strlen(r.etag)).base,
		    strlen(r.etag));
		h2o_add_header(&req->pool, &req->res.headers,
			       H2O_TOKEN_CACHE_CONTROL, NULL,
			       H2O_STRLIT("no-cache"));
	}
	h2o_add_header_by_str(&req->pool, &req->res.headers,
			      H2O_STRLIT("x-content-type-options"), 0, NULL,
			      H2O_STRLIT("nosniff"));
	if (r.html) {
		h2o_add_header_by_str(&req->pool, &req->res.headers,
				      H2O_STRLIT("content-security-policy"), 0,
				      NULL, H2O_STRLIT(CSP));
	}
	if (r.status == 405) {
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW,
			       NULL, H2O_STRLIT("GET, HEAD"));
	}
	req->res.content_length = r.status == 304 ? SIZE_MAX : r.len;
	h2o_start_response(req, &generator);
	if (r.status == 304 || r.len == 0 ||
	    h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
		h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
	} else if (r.owned != NULL) {
		/* made for this request: the request's pool keeps a copy */
		body = h2o_strdup(&req->pool, r.body, r.len);
		h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
	} else {
		/* the cache outlives every request: no copy */
		body = h2o_iovec_init(r.body, r.len);
		h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
	}
	gw_meta_response_fini(&r);
	return true;
}
