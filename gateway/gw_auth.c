/*
 * gw_auth.c - the caller's credentials and the session cookies.
 *
 * The gateway never judges credentials: it forwards what the request
 * carries (Authorization: Bearer, Authorization: Basic, or the ss-tok
 * cookie, in that order) and the daemon decides. Cookie headers are read
 * leniently: ServiceStack's typed clients split Set-Cookie at commas, so
 * fragments such as "19 Nov 2044 19:17:00 GMT=null" arrive as cookies;
 * whatever does not parse is skipped, never an error.
 *
 * The session cookies are HttpOnly (no script reads them), Path=/, Secure
 * over HTTPS, and SameSite=Strict unless --cookie-samesite says otherwise:
 * with Strict a browser sends them only with requests our own pages make,
 * never with a form, link, image or script of another site, which is what
 * cross-site request forgery rides on. Lax lets them ride on top-level
 * GET navigations from other sites (links), which can never write here
 * (gw_route.c refuses every write on GET); None sends them everywhere, so
 * it needs HTTPS (browsers drop a SameSite=None cookie that is not Secure)
 * and leaves the cross-site checks of gw_request.c as the only defence.
 * Those checks hold whatever this attribute says.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "gw.h"

#define TOKEN_MAX      8192 /* a JWT (the contract's refresh_token max) */
#define SECRET_MAX     1024
#define COOKIE_MAX_AGE 1209600 /* 14 days, with rememberMe */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static h2o_iovec_t
trim(const char *s, size_t len)
{
	while (len > 0 && is_space(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_space(s[len - 1])) {
		len--;
	}
	return h2o_iovec_init(s, len);
}

/* JWTs, session ids: base64url, base64 and dots, nothing else. */
static bool
is_token(const char *s, size_t len)
{
	if (len == 0 || len > TOKEN_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == '=' || c == '+' || c == '/')) {
			return false;
		}
	}
	return true;
}

static const char *
pool_strndup(h2o_mem_pool_t *pool, const char *s, size_t len)
{
	char *d = h2o_mem_alloc_pool(pool, len + 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/*
 * Decodes base64 s[0..len) into d (uw_base64_decoded_max(len) bytes),
 * NUL-terminated, as *out. 0, or -1 when it is not base64.
 */
static int
base64_into(const char *s, size_t len, char *d, h2o_iovec_t *out)
{
	size_t n;

	if (uw_base64_decode(s, len, (uint8_t *)d, &n) != 0) {
		return -1;
	}
	d[n] = '\0';
	*out = h2o_iovec_init(d, n);
	return 0;
}

/*
 * Memory in a request's pool for a secret (the decoded Basic credentials):
 * wiped when the pool lets it go, whatever way the request ends.
 */
typedef struct secret_mem {
	size_t len;
	char bytes[];
} secret_mem;

static void
secret_dispose(void *p)
{
	secret_mem *m = p;

	up_wipe(m->bytes, m->len);
}

static char *
secret_alloc(h2o_mem_pool_t *pool, size_t len)
{
	secret_mem *m =
	    h2o_mem_alloc_shared(pool, sizeof(*m) + len, secret_dispose);

	m->len = len;
	return m->bytes;
}

bool
gw_cookie_find(const char *header, size_t len, const char *name,
	       h2o_iovec_t *value)
{
	size_t nlen = strlen(name);
	const char *p = header;
	const char *end = header + len;

	while (p < end) {
		const char *e = p;
		const char *eq;
		h2o_iovec_t frag, k, v;

		while (e < end && *e != ';' && *e != ',') {
			e++;
		}
		frag = trim(p, (size_t)(e - p));
		p = e + 1;
		eq = memchr(frag.base, '=', frag.len);
		if (eq == NULL) {
			continue;
		}
		k = trim(frag.base, (size_t)(eq - frag.base));
		v = trim(eq + 1, frag.len - (size_t)(eq + 1 - frag.base));
		if (v.len >= 2 && v.base[0] == '"' &&
		    v.base[v.len - 1] == '"') {
			v.base++;
			v.len -= 2;
		}
		if (k.len == nlen && memcmp(k.base, name, nlen) == 0) {
			*value = v;
			return true;
		}
	}
	return false;
}

/* The first valid value of cookie name over every Cookie header. */
static const char *
cookie_token(h2o_req_t *req, const char *name)
{
	ssize_t i = -1;

	while ((i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) !=
	       -1) {
		const h2o_iovec_t *hv = &req->headers.entries[i].value;
		const char *p = hv->base;
		size_t left = hv->len;
		h2o_iovec_t v;

		/* Several cookies of one name: try each in turn. */
		while (left > 0 && gw_cookie_find(p, left, name, &v)) {
			if (is_token(v.base, v.len)) {
				return pool_strndup(&req->pool, v.base, v.len);
			}
			left -= (size_t)(v.base + v.len - p);
			p = v.base + v.len;
		}
	}
	return NULL;
}

static void
read_authorization(h2o_req_t *req, gw_creds *out)
{
	ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
	h2o_iovec_t v, raw;
	const char *colon;

	if (i == -1) {
		return;
	}
	v = trim(req->headers.entries[i].value.base,
		 req->headers.entries[i].value.len);
	if (v.len > 7 && strncasecmp(v.base, "Bearer ", 7) == 0) {
		h2o_iovec_t t = trim(v.base + 7, v.len - 7);

		if (is_token(t.base, t.len)) {
			out->bearer = pool_strndup(&req->pool, t.base, t.len);
		}
		return;
	}
	if (v.len > 6 && strncasecmp(v.base, "Basic ", 6) == 0) {
		h2o_iovec_t t = trim(v.base + 6, v.len - 6);

		if (t.len > 4 * (SECRET_MAX + 256) / 3 ||
		    base64_into(
			t.base, t.len,
			secret_alloc(&req->pool, uw_base64_decoded_max(t.len)),
			&raw) != 0 ||
		    memchr(raw.base, '\0', raw.len) != NULL ||
		    (colon = memchr(raw.base, ':', raw.len)) == NULL) {
			return;
		}
		((char *)raw.base)[colon - raw.base] = '\0';
		out->basic_user = raw.base;
		out->basic_password = colon + 1;
	}
}

void
gw_auth_read(h2o_req_t *req, gw_creds *out)
{
	const char *opt;

	memset(out, 0, sizeof(*out));
	read_authorization(req, out);
	if (out->bearer == NULL && out->basic_user == NULL) {
		out->bearer = cookie_token(req, "ss-tok");
		out->bearer_from_cookie = out->bearer != NULL;
	}
	out->session_id = cookie_token(req, "ss-id");
	out->refresh_token = cookie_token(req, "ss-reftok");
	opt = cookie_token(req, "ss-opt");
	out->remember = opt != NULL && strcmp(opt, "perm") == 0;
}

const char *
gw_jwt_subject(h2o_mem_pool_t *pool, const char *jwt)
{
	const char *dot1, *dot2;
	const char *result = NULL;
	h2o_iovec_t payload;
	size_t plen;
	json_t *root;
	json_t *sub;

	if (jwt == NULL || strlen(jwt) > TOKEN_MAX ||
	    (dot1 = strchr(jwt, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL) {
		return NULL;
	}
	plen = (size_t)(dot2 - dot1 - 1);
	if (base64_into(dot1 + 1, plen,
			h2o_mem_alloc_pool(pool, uw_base64_decoded_max(plen)),
			&payload) != 0) {
		return NULL;
	}
	root =
	    json_loadb(payload.base, payload.len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL) {
		return NULL;
	}
	sub = json_object_get(root, "sub");
	if (json_is_string(sub) && json_string_length(sub) > 0 &&
	    json_string_length(sub) < 64) {
		result = pool_strndup(pool, json_string_value(sub),
				      json_string_length(sub));
	}
	json_decref(root);
	return result;
}

/* ------------------------------------------------------------------------
 * Set-Cookie
 */

/* The SameSite attribute the gateway was started with. */
static const char *
samesite_of(h2o_req_t *req, bool *secure)
{
	gw_thread *t = H2O_STRUCT_FROM_MEMBER(gw_thread, ctx, req->conn->ctx);

	switch (t->srv->cfg.cookie_samesite) {
	case GW_SAMESITE_LAX:
		return "Lax";
	case GW_SAMESITE_NONE:
		*secure = true; /* main.c allows it only with HTTPS */
		return "None";
	case GW_SAMESITE_STRICT:
	default:
		return "Strict";
	}
}

static void
set_cookie(h2o_req_t *req, const char *name, const char *value, bool secure,
	   long max_age)
{
	char age[40] = "";
	const char *samesite = samesite_of(req, &secure);
	size_t size;
	char *buf;
	int n;

	if (value == NULL ||
	    (value[0] != '\0' && !is_token(value, strlen(value)))) {
		return;
	}
	if (max_age == 0) {
		snprintf(age, sizeof(age), "; Max-Age=0");
	} else if (max_age > 0) {
		snprintf(age, sizeof(age), "; Max-Age=%ld", max_age);
	}
	size = strlen(name) + strlen(value) + strlen(age) + 64;
	buf = h2o_mem_alloc_pool(&req->pool, size);
	n = snprintf(buf, size, "%s=%s; Path=/%s; HttpOnly; SameSite=%s%s",
		     name, value, age, samesite, secure ? "; Secure" : "");
	if (n < 0 || (size_t)n >= size) {
		return;
	}
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE,
		       NULL, buf, (size_t)n);
}

void
gw_auth_set_login_cookies(h2o_req_t *req,
			  const Users__V1__AuthenticateResponse *r, bool secure,
			  bool remember)
{
	long age = remember ? COOKIE_MAX_AGE : -1;

	set_cookie(req, "ss-tok", r->bearer_token, secure, age);
	set_cookie(req, "ss-reftok", r->refresh_token, secure, age);
	set_cookie(req, "ss-id", r->session_id, secure, -1);
	set_cookie(req, "ss-pid", r->session_id, secure, age);
	/* ServiceStack's mark of a remembered sign-in, which a refresh reads
	 * to give the cookies it sets the same lifetime */
	set_cookie(req, "ss-opt", remember ? "perm" : "temp", secure, age);
}

void
gw_auth_set_token_cookies(h2o_req_t *req,
			  const Users__V1__GetAccessTokenResponse *r,
			  bool secure, bool remember)
{
	long age = remember ? COOKIE_MAX_AGE : -1;

	set_cookie(req, "ss-tok", r->access_token, secure, age);
	set_cookie(req, "ss-reftok", r->refresh_token, secure, age);
}

void
gw_auth_clear_cookies(h2o_req_t *req, bool secure)
{
	static const char *const names[] = {"ss-tok", "ss-reftok", "ss-id",
					    "ss-pid", "ss-opt"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		set_cookie(req, names[i], "", secure, 0);
	}
}
