/*
 * fuzz_auth.c - the credentials usersgw reads from untrusted headers
 * (gateway/gw_auth.c): Authorization (Bearer, Basic and its base64), the
 * Cookie headers and their lenient reader, and the unverified "sub" of a
 * JWT.
 *
 * The input is split at '\n': the first part is the Authorization value
 * (an empty part: no header), the next ones (up to four) are Cookie
 * headers. Each part is copied into a buffer of its exact size, so a read
 * one byte past it is caught. The whole input is also the Authorization
 * value, a Cookie header and a JWT once more.
 *
 * Never a crash, a read out of bounds or UB; and what is found is in the
 * request: a bearer token is made of token characters (at most 8192) and
 * stands in the header it came from; Basic credentials are a user without
 * ':' or NUL and a password without NUL, whose base64 stands in the
 * Authorization header; the session cookies stand in a Cookie header; a
 * cookie's value lies inside the header searched; a JWT's subject is 1 to
 * 63 bytes. The same request, the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "fuzz_require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_COOKIES 4

static bool
token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '=' || c == '+' || c == '/';
}

/* s occurs in [h, h+n). */
static bool
occurs(const char *s, const char *h, size_t n)
{
	size_t k = strlen(s);

	for (size_t i = 0; k <= n && i + k <= n; i++) {
		if (memcmp(h + i, s, k) == 0) {
			return true;
		}
	}
	return false;
}

typedef struct input {
	const char *auth; /* NULL: no Authorization */
	size_t auth_len;
	const char *cookie[MAX_COOKIES];
	size_t cookie_len[MAX_COOKIES];
	size_t n_cookies;
} input;

/* A token found in one of the Cookie headers. */
static void
check_cookie_value(const input *in, const char *v)
{
	bool found = false;

	if (v == NULL) {
		return;
	}
	require(strlen(v) > 0 && strlen(v) <= 8192);
	for (const char *p = v; *p != '\0'; p++) {
		require(token_char(*p));
	}
	for (size_t i = 0; i < in->n_cookies && !found; i++) {
		found = occurs(v, in->cookie[i], in->cookie_len[i]);
	}
	require(found);
}

/* The base64 of user:password, its padding gone and its URL-safe letters
 * as the standard ones, stands in the Authorization value (normalised the
 * same way). */
static void
check_basic(const input *in, const char *user, const char *password)
{
	size_t ul = strlen(user), pl = strlen(password);
	char *plain = malloc(ul + 1 + pl);
	char *hdr = malloc(in->auth_len + 1);
	uw_buf enc = {0};
	size_t n = 0;

	require(plain != NULL && hdr != NULL);
	memcpy(plain, user, ul);
	plain[ul] = ':';
	memcpy(plain + ul + 1, password, pl);
	require(uw_base64_encode(&enc, (const uint8_t *)plain, ul + 1 + pl) ==
		0);
	while (enc.len > 0 && enc.data[enc.len - 1] == '=') {
		enc.data[--enc.len] = '\0';
	}
	for (size_t i = 0; i < in->auth_len; i++) {
		char c = in->auth[i];
		if (c != '=') {
			hdr[n++] = c == '-' ? '+' : c == '_' ? '/' : c;
		}
	}
	require(enc.len == 0 || occurs(enc.data, hdr, n));
	uw_buf_fini(&enc);
	free(hdr);
	free(plain);
}

static void
check_creds(const input *in, const gw_creds *c)
{
	if (c->bearer != NULL && !c->bearer_from_cookie) {
		require(in->auth != NULL);
		require(strlen(c->bearer) <= 8192);
		for (const char *p = c->bearer; *p != '\0'; p++) {
			require(token_char(*p));
		}
		require(occurs(c->bearer, in->auth, in->auth_len));
	}
	if (c->bearer_from_cookie) {
		require(c->bearer != NULL && c->basic_user == NULL);
		check_cookie_value(in, c->bearer);
	}
	require((c->basic_user == NULL) == (c->basic_password == NULL));
	if (c->basic_user != NULL) {
		require(in->auth != NULL && c->bearer == NULL);
		require(strchr(c->basic_user, ':') == NULL);
		check_basic(in, c->basic_user, c->basic_password);
	}
	check_cookie_value(in, c->session_id);
	check_cookie_value(in, c->refresh_token);
	if (c->remember) {
		bool perm = false;
		for (size_t i = 0; i < in->n_cookies && !perm; i++) {
			perm = occurs("perm", in->cookie[i], in->cookie_len[i]);
		}
		require(perm);
	}
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* gw_auth_read on a request of in's headers, twice: the same answer. */
static void
check_request(const input *in)
{
	h2o_req_t req;
	gw_creds a, b;

	memset(&req, 0, sizeof(req));
	h2o_mem_init_pool(&req.pool);
	if (in->auth != NULL) {
		h2o_add_header(&req.pool, &req.headers, H2O_TOKEN_AUTHORIZATION,
			       NULL, in->auth, in->auth_len);
	}
	for (size_t i = 0; i < in->n_cookies; i++) {
		h2o_add_header(&req.pool, &req.headers, H2O_TOKEN_COOKIE, NULL,
			       in->cookie[i], in->cookie_len[i]);
	}
	gw_auth_read(&req, &a);
	check_creds(in, &a);
	gw_auth_read(&req, &b);
	require(same_str(a.bearer, b.bearer) &&
		same_str(a.basic_user, b.basic_user) &&
		same_str(a.basic_password, b.basic_password) &&
		same_str(a.session_id, b.session_id) &&
		same_str(a.refresh_token, b.refresh_token) &&
		a.bearer_from_cookie == b.bearer_from_cookie &&
		a.remember == b.remember);
	h2o_mem_clear_pool(&req.pool);
}

/* gw_cookie_find on one header: a value found lies inside it. */
static void
check_cookie_find(const char *h, size_t len)
{
	static const char *const names[] = {"ss-tok", "ss-id", "a", ""};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		h2o_iovec_t v, w;
		bool found = gw_cookie_find(h, len, names[i], &v);

		require(found == gw_cookie_find(h, len, names[i], &w));
		if (found) {
			require(v.base >= h && v.len <= len &&
				v.base + v.len <= h + len);
			require(v.base == w.base && v.len == w.len);
		}
	}
}

static void
check_jwt(const char *s, size_t len)
{
	char *jwt = malloc(len + 1);
	h2o_mem_pool_t pool;
	const char *sub;

	require(jwt != NULL);
	memcpy(jwt, s, len);
	jwt[len] = '\0';
	h2o_mem_init_pool(&pool);
	sub = gw_jwt_subject(&pool, jwt);
	require(sub == NULL || (strlen(sub) > 0 && strlen(sub) < 64));
	h2o_mem_clear_pool(&pool);
	free(jwt);
}

/* An exact-size copy of [p, p+n) (one byte when empty). */
static char *
dup_exact(const char *p, size_t n)
{
	char *d = malloc(n > 0 ? n : 1);

	require(d != NULL);
	if (n > 0) {
		memcpy(d, p, n);
	}
	return d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *copy[1 + MAX_COOKIES] = {0};
	input in;
	size_t at = 0, n_parts = 0;

	memset(&in, 0, sizeof(in));
	while (n_parts < 1 + MAX_COOKIES && at <= size) {
		const char *nl = memchr(s + at, '\n', size - at);
		size_t n = nl != NULL ? (size_t)(nl - (s + at)) : size - at;

		copy[n_parts] = dup_exact(s + at, n);
		if (n_parts == 0) {
			in.auth = n > 0 ? copy[0] : NULL;
			in.auth_len = n;
		} else {
			in.cookie[in.n_cookies] = copy[n_parts];
			in.cookie_len[in.n_cookies++] = n;
			check_cookie_find(copy[n_parts], n);
		}
		n_parts++;
		at += n + 1;
	}
	check_request(&in);
	if (in.auth != NULL) {
		check_jwt(in.auth, in.auth_len);
	}
	for (size_t i = 0; i < n_parts; i++) {
		free(copy[i]);
	}

	/* the whole input as one Authorization value and one Cookie header */
	copy[0] = dup_exact(s, size);
	memset(&in, 0, sizeof(in));
	in.auth = size > 0 ? copy[0] : NULL;
	in.auth_len = size;
	in.cookie[0] = copy[0];
	in.cookie_len[0] = size;
	in.n_cookies = 1;
	check_request(&in);
	check_cookie_find(copy[0], size);
	check_jwt(copy[0], size);
	free(copy[0]);
	return 0;
}
