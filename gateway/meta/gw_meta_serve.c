/*
 * gw_meta_serve.c - the metadata routes of usersgw: every page is built
 * once, on first use (pthread_once, so any loop thread may be first), and
 * kept for the life of the process: the contract cannot change while the
 * gateway runs. Requests are answered from that cache with an ETag
 * (If-None-Match gives 304) and without copying the body.
 *
 *   GET /metadata                         the index (text/html)
 *   GET /{xml,json,jsv,csv}/metadata?op=  an operation's page; without
 *                                         op the index; unknown op 404
 *   GET /types/{python,swift,typescript,csharp}   DTOs (text/plain)
 *   GET /openapi.json                     OpenAPI 3.1 (application/json)
 *
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
	page *ops; /* [method][format] */
	size_t n_ops;
	page types[GW_META_N_LANGS];
	page openapi;
	page not_found;
} cache;

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* Takes b's memory into p, with an ETag of its bytes (FNV-1a). */
static void
page_take(page *p, uw_buf *b)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < b->len; i++) {
		h ^= (unsigned char)b->data[i];
		h *= 0x100000001b3ull;
	}
	p->data = b->data;
	p->len = b->len;
	snprintf(p->etag, sizeof(p->etag), "\"%016llx\"",
		 (unsigned long long)h);
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
	cache.n_ops = up_method_count() * GW_META_N_FORMATS;
	cache.ops = calloc(cache.n_ops > 0 ? cache.n_ops : 1, sizeof(page));
	if (cache.ops == NULL) {
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
	for (size_t i = 0; i < GW_META_N_LANGS; i++) {
		if (build(&cache.types[i], gw_meta_types(gw_meta_langs[i], &b),
			  &b) != 0) {
			return;
		}
	}
	for (size_t i = 0; i < up_method_count(); i++) {
		for (size_t k = 0; k < GW_META_N_FORMATS; k++) {
			page *p = &cache.ops[i * GW_META_N_FORMATS + k];

			if (build(p,
				  gw_meta_html_op(up_method_at(i),
						  gw_meta_formats[k], &b),
				  &b) != 0) {
				return;
			}
		}
	}
	cache.rc = 0;
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

/* Which page the path names; false when the path is not ours. */
static bool
route(const char *path, size_t plen, const char *q, size_t qlen,
      gw_meta_response *out)
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
	if (plen > 7 && strncmp(path, "/types/", 7) == 0) {
		for (size_t i = 0; i < GW_META_N_LANGS; i++) {
			if (equals(path + 7, plen - 7, gw_meta_langs[i])) {
				answer(out, &cache.types[i], CT_TEXT, false);
				return true;
			}
		}
		return false;
	}
	for (size_t k = 0; k < GW_META_N_FORMATS; k++) {
		const char *f = gw_meta_formats[k];
		size_t fl = strlen(f);
		char name[MAX_OP_NAME];
		const up_method *m;

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
		answer(out, &cache.ops[m->index * GW_META_N_FORMATS + k],
		       CT_HTML, true);
		return true;
	}
	return false;
}

bool
gw_meta_lookup(const char *method, size_t mlen, const char *path, size_t len,
	       const char *if_none_match, size_t inm_len, gw_meta_response *out)
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
			out->status = 500;
			out->content_type = CT_TEXT;
			out->body = "The metadata could not be built.\n";
			out->len = strlen(out->body);
			return true;
		}
		return false;
	}
	if (!route(path, plen, q, qlen, out)) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	if (!equals(method, mlen, "GET") && !equals(method, mlen, "HEAD")) {
		out->status = 405;
		out->content_type = CT_TEXT;
		out->body = "Only GET and HEAD are allowed here.\n";
		out->len = strlen(out->body);
		out->etag = NULL;
		out->html = false;
		return true;
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
	case 404:
		return "NotFound";
	case 405:
		return "Method Not Allowed";
	default:
		return "Internal Server Error";
	}
}

bool
gw_meta_serve(h2o_req_t *req)
{
	static h2o_generator_t generator = {NULL, NULL};
	const char *inm = NULL;
	size_t inm_len = 0;
	ssize_t hi;
	gw_meta_response r;
	h2o_iovec_t body;

	hi = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
	if (hi != -1) {
		inm = req->headers.entries[hi].value.base;
		inm_len = req->headers.entries[hi].value.len;
	}
	if (!gw_meta_lookup(req->method.base, req->method.len, req->path.base,
			    req->path.len, inm, inm_len, &r)) {
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
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG,
			       NULL, r.etag, strlen(r.etag));
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
	} else {
		/* the cache outlives every request: no copy */
		body = h2o_iovec_init(r.body, r.len);
		h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
	}
	return true;
}
