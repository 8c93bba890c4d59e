/*
 * test_gateway_auth.c - the credentials usersgw reads (gateway/gw_auth.c):
 * Authorization Bearer and Basic, the ss-tok, ss-id, ss-reftok and ss-opt
 * cookies and the lenient Cookie reader, and the unverified "sub" of a
 * JWT. Requests are built in a real h2o pool with real header entries.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gw.h"

/* A request with nothing but a pool and headers, as gw_auth_read sees it. */
static void
req_init(h2o_req_t *req)
{
	memset(req, 0, sizeof(*req));
	h2o_mem_init_pool(&req->pool);
}

static void
req_add(h2o_req_t *req, const h2o_token_t *name, const char *value)
{
	size_t n = strlen(value);
	char *v = h2o_mem_alloc_pool(&req->pool, n + 1);

	memcpy(v, value, n + 1);
	h2o_add_header(&req->pool, &req->headers, name, NULL, v, n);
}

/* The credentials of a request with one Authorization (NULL: none) and up
 * to two Cookie headers. */
static void
read_creds(h2o_req_t *req, const char *auth, const char *cookie1,
	   const char *cookie2, gw_creds *out)
{
	req_init(req);
	if (auth != NULL) {
		req_add(req, H2O_TOKEN_AUTHORIZATION, auth);
	}
	if (cookie1 != NULL) {
		req_add(req, H2O_TOKEN_COOKIE, cookie1);
	}
	if (cookie2 != NULL) {
		req_add(req, H2O_TOKEN_COOKIE, cookie2);
	}
	gw_auth_read(req, out);
}

#define CHECK_NULL(p) CHECK((p) == NULL)

static void
test_none(void)
{
	h2o_req_t req;
	gw_creds c;

	read_creds(&req, NULL, NULL, NULL, &c);
	CHECK_NULL(c.bearer);
	CHECK_NULL(c.basic_user);
	CHECK_NULL(c.basic_password);
	CHECK_NULL(c.session_id);
	CHECK_NULL(c.refresh_token);
	CHECK(!c.bearer_from_cookie && !c.remember);
	h2o_mem_clear_pool(&req.pool);
}

static void
test_bearer(void)
{
	h2o_req_t req;
	gw_creds c;
	char *big;

	read_creds(&req, "Bearer eyJ0.eyJz-_.s1g=", NULL, NULL, &c);
	CHECK_STR(c.bearer, "eyJ0.eyJz-_.s1g=");
	CHECK(!c.bearer_from_cookie);
	h2o_mem_clear_pool(&req.pool);

	/* the scheme in any case, spaces around the token */
	read_creds(&req, "  bEARER   tok.en  ", NULL, NULL, &c);
	CHECK_STR(c.bearer, "tok.en");
	h2o_mem_clear_pool(&req.pool);

	/* the header beats the cookie */
	read_creds(&req, "Bearer from.header", "ss-tok=from.cookie", NULL, &c);
	CHECK_STR(c.bearer, "from.header");
	CHECK(!c.bearer_from_cookie);
	h2o_mem_clear_pool(&req.pool);

	/* not a token (a space, a quote, nothing): passed over for the
	 * cookie */
	read_creds(&req, "Bearer a b", "ss-tok=from.cookie", NULL, &c);
	CHECK_STR(c.bearer, "from.cookie");
	CHECK(c.bearer_from_cookie);
	h2o_mem_clear_pool(&req.pool);
	read_creds(&req, "Bearer \"x\"", NULL, NULL, &c);
	CHECK_NULL(c.bearer);
	h2o_mem_clear_pool(&req.pool);
	read_creds(&req, "Bearer ", NULL, NULL, &c);
	CHECK_NULL(c.bearer);
	h2o_mem_clear_pool(&req.pool);
	read_creds(&req, "Bearertok", NULL, NULL, &c);
	CHECK_NULL(c.bearer);
	h2o_mem_clear_pool(&req.pool);

	/* 8192 characters at most */
	big = malloc(7 + 8193 + 1);
	if (big != NULL) {
		memcpy(big, "Bearer ", 7);
		memset(big + 7, 'a', 8192);
		big[7 + 8192] = '\0';
		read_creds(&req, big, NULL, NULL, &c);
		CHECK(c.bearer != NULL && strlen(c.bearer) == 8192);
		h2o_mem_clear_pool(&req.pool);
		big[7 + 8192] = 'a';
		big[7 + 8193] = '\0';
		read_creds(&req, big, NULL, NULL, &c);
		CHECK_NULL(c.bearer);
		h2o_mem_clear_pool(&req.pool);
		free(big);
	}
}

static void
test_basic(void)
{
	h2o_req_t req;
	gw_creds c;

	/* ada@example.com:pw:with:colons - the user ends at the first ':' */
	read_creds(&req, "Basic YWRhQGV4YW1wbGUuY29tOnB3OndpdGg6Y29sb25z", NULL,
		   NULL, &c);
	CHECK_STR(c.basic_user, "ada@example.com");
	CHECK_STR(c.basic_password, "pw:with:colons");
	CHECK_NULL(c.bearer);
	h2o_mem_clear_pool(&req.pool);

	/* any case; padding optional; either alphabet: u:>?~ */
	read_creds(&req, "basic  dTo-P34", NULL, NULL, &c);
	CHECK_STR(c.basic_user, "u");
	CHECK_STR(c.basic_password, ">?~");
	h2o_mem_clear_pool(&req.pool);
	read_creds(&req, "BASIC dTo+P34=", NULL, NULL, &c);
	CHECK_STR(c.basic_password, ">?~");
	h2o_mem_clear_pool(&req.pool);

	/* an empty password is one */
	read_creds(&req, "Basic dTo=", NULL, NULL, &c); /* u: */
	CHECK_STR(c.basic_user, "u");
	CHECK_STR(c.basic_password, "");
	h2o_mem_clear_pool(&req.pool);

	/* Basic credentials keep the ss-tok cookie out */
	read_creds(&req, "Basic dTpw", "ss-tok=t", NULL, &c); /* u:p */
	CHECK_STR(c.basic_user, "u");
	CHECK_NULL(c.bearer);
	h2o_mem_clear_pool(&req.pool);

	/* ignored: no ':' (dXNlcg: user), a NUL (dQBwOnA: u\0p:p), not
	 * base64, not the canonical text of u: (dTp, whose last character
	 * leaves bits over), a lone sixth character, no credentials */
	static const char *const bad[] = {
	    "Basic dXNlcg", "Basic dQBwOnA", "Basic dTp!", "Basic dTp",
	    "Basic dTp=",   "Basic dTpwd",   "Basic ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		read_creds(&req, bad[i], "ss-tok=cookie.tok", NULL, &c);
		CHECK_NULL(c.basic_user);
		CHECK_NULL(c.basic_password);
		CHECK_STR(c.bearer, "cookie.tok"); /* the cookie instead */
		h2o_mem_clear_pool(&req.pool);
	}
	{
		char big[2000];
		memcpy(big, "Basic ", 6);
		memset(big + 6, 'Q', sizeof(big) - 7);
		big[sizeof(big) - 1] = '\0';
		read_creds(&req, big, NULL, NULL, &c);
		CHECK_NULL(c.basic_user);
		h2o_mem_clear_pool(&req.pool);
	}
}

static void
test_cookies(void)
{
	h2o_req_t req;
	gw_creds c;

	read_creds(&req, NULL,
		   "ss-tok=t1; ss-id=sid; ss-reftok=r1; ss-opt=perm", NULL, &c);
	CHECK_STR(c.bearer, "t1");
	CHECK(c.bearer_from_cookie);
	CHECK_STR(c.session_id, "sid");
	CHECK_STR(c.refresh_token, "r1");
	CHECK(c.remember);
	h2o_mem_clear_pool(&req.pool);

	/* ServiceStack's split Set-Cookie fragments, commas, quotes, a
	 * second Cookie header; ss-opt other than perm is not remembered */
	read_creds(&req, NULL, "19 Nov 2044 19:17:00 GMT=null, x=1",
		   "ss-id=\"q1\" ;ss-opt=temp,ss-tok= t2 ", &c);
	CHECK_STR(c.bearer, "t2");
	CHECK_STR(c.session_id, "q1");
	CHECK(!c.remember);
	h2o_mem_clear_pool(&req.pool);

	/* a value that is not a token: the next cookie of that name */
	read_creds(&req, NULL, "ss-tok=not a token; ss-tok=; ss-tok=good", NULL,
		   &c);
	CHECK_STR(c.bearer, "good");
	h2o_mem_clear_pool(&req.pool);
	read_creds(&req, NULL, "ss-tok=<script>", "ss-tok=later", &c);
	CHECK_STR(c.bearer, "later");
	h2o_mem_clear_pool(&req.pool);

	/* names are exact: no prefix, no other case */
	read_creds(&req, NULL, "ss-toke=a; SS-TOK=b; xss-tok=c", NULL, &c);
	CHECK_NULL(c.bearer);
	h2o_mem_clear_pool(&req.pool);
}

static void
test_cookie_find(void)
{
	static const char h[] = "a=1; ss-id = v2 ;b";
	h2o_iovec_t v;

	CHECK(gw_cookie_find(h, strlen(h), "ss-id", &v));
	CHECK(v.len == 2 && memcmp(v.base, "v2", 2) == 0);
	CHECK(v.base >= h && v.base + v.len <= h + strlen(h));
	CHECK(gw_cookie_find(h, strlen(h), "a", &v));
	CHECK(v.len == 1 && v.base[0] == '1');
	CHECK(!gw_cookie_find(h, strlen(h), "b", &v)); /* no '=' */
	CHECK(!gw_cookie_find(h, strlen(h), "ss", &v));
	/* the length bounds the search: "ss-id" lies beyond 4 bytes */
	CHECK(!gw_cookie_find(h, 4, "ss-id", &v));
	CHECK(gw_cookie_find("k=", 2, "k", &v) && v.len == 0);
	CHECK(!gw_cookie_find("", 0, "k", &v));
}

static void
test_jwt_subject(void)
{
	h2o_mem_pool_t pool;

	h2o_mem_init_pool(&pool);
	/* {"sub":"42"} and {"iss":"x","sub":"ada"} (URL-safe, no padding) */
	CHECK_STR(gw_jwt_subject(&pool, "h.eyJzdWIiOiI0MiJ9.sig"), "42");
	CHECK_STR(gw_jwt_subject(&pool, "h.eyJpc3MiOiJ4Iiwic3ViIjoiYWRhIn0.s"),
		  "ada");
	/* 63 bytes: the longest subject */
	{
		const char *sub = gw_jwt_subject(
		    &pool,
		    "h.eyJzdWIiOiIxMTExMTExMTExMTExMTExMTExMTExMTExMTEx"
		    "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTEifQ.s");
		CHECK(sub != NULL && strlen(sub) == 63 && sub[62] == '1');
	}
	/* none: no dots, bad base64, not JSON, no sub, a number, empty, 64
	 * bytes or more, a duplicate key */
	CHECK_NULL(gw_jwt_subject(&pool, NULL));
	CHECK_NULL(gw_jwt_subject(&pool, "nodots"));
	CHECK_NULL(gw_jwt_subject(&pool, "h.eyJzdWIiOiI0MiJ9"));
	CHECK_NULL(gw_jwt_subject(&pool, "h.!!!.s"));
	CHECK_NULL(gw_jwt_subject(&pool, "h.bm90IGpzb24.s"));
	CHECK_NULL(gw_jwt_subject(&pool, "h.eyJpc3MiOiJ4In0.s"));
	CHECK_NULL(gw_jwt_subject(&pool, "h.eyJzdWIiOjQyfQ.s"));
	CHECK_NULL(gw_jwt_subject(&pool, "h.eyJzdWIiOiIifQ.s"));
	CHECK_NULL(gw_jwt_subject(
	    &pool, "h.eyJzdWIiOiIxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0"
		   "NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0In0.s"));
	CHECK_NULL(gw_jwt_subject(&pool, "h.eyJzdWIiOiIxIiwic3ViIjoiMiJ9.s"));
	h2o_mem_clear_pool(&pool);
}

int
main(void)
{
	test_none();
	test_bearer();
	test_basic();
	test_cookies();
	test_cookie_find();
	test_jwt_subject();
	return check_done();
}
