/*
 * jwt.c - HS256 access and refresh tokens, and the key file they are
 * signed with.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "b64url.h"
#include "jwt.h"
#include "users_proto.h"

#define ISSUER       "usersd"
#define IAT_LEEWAY_S 60
#define SIG_LEN      32
/* A small marker for "the file appeared between open and create". */
#define KEY_RACE (-1)

/* ------------------------------------------------------------------------
 * The key file
 */

static int
read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int
write_full(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static void
set_kid(ud_jwt_key *k)
{
	uint8_t d[32];

	mbedtls_sha256_ret(k->key, sizeof(k->key), d, 0);
	ud_hex(k->kid, d, 8);
}

static int
load_existing(ud_jwt_key *k, int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		return UP_INTERNAL;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    st.st_size != UD_JWT_KEY_LEN) {
		return UP_FAILED_PRECONDITION;
	}
	if (read_full(fd, k->key, UD_JWT_KEY_LEN) != 0) {
		return UP_FAILED_PRECONDITION;
	}
	return 0;
}

/* 0, KEY_RACE when the file exists after all, or UP_INTERNAL. */
static int
create_new(ud_jwt_key *k, const char *path)
{
	int fd, rc = UP_INTERNAL;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		return errno == EEXIST ? KEY_RACE : UP_INTERNAL;
	}
	if (ud_random_bytes(k->key, UD_JWT_KEY_LEN) != 0 ||
	    write_full(fd, k->key, UD_JWT_KEY_LEN) != 0 || fsync(fd) != 0) {
		goto out;
	}
	rc = 0;
out:
	if (close(fd) != 0 && rc == 0) {
		rc = UP_INTERNAL;
	}
	if (rc != 0) {
		unlink(path);
	}
	return rc;
}

int
ud_jwt_key_load(ud_jwt_key *k, const char *path)
{
	int rc = UP_INTERNAL;

	memset(k, 0, sizeof(*k));
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			rc = load_existing(k, fd);
			close(fd);
			goto out;
		}
		if (errno != ENOENT) {
			rc = errno == ELOOP ? UP_FAILED_PRECONDITION
					    : UP_INTERNAL;
			goto out;
		}
		rc = create_new(k, path);
		if (rc != KEY_RACE) {
			goto out;
		}
		rc = UP_INTERNAL;
	}
out:
	if (rc == 0) {
		set_kid(k);
	} else {
		mbedtls_platform_zeroize(k, sizeof(*k));
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * Signing
 */

static int
hmac_sha256(const ud_jwt_key *k, const char *msg, size_t len,
	    uint8_t out[SIG_LEN])
{
	const mbedtls_md_info_t *info =
	    mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

	if (info == NULL ||
	    mbedtls_md_hmac(info, k->key, UD_JWT_KEY_LEN,
			    (const unsigned char *)msg, len, out) != 0) {
		return -1;
	}
	return 0;
}

/* The compact JSON of j, base64url-encoded; malloc'd, or NULL. */
static char *
json_b64(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	char *o = NULL;
	size_t n, cap;

	if (s == NULL) {
		return NULL;
	}
	n = strlen(s);
	cap = ud_b64url_encoded_len(n) + 1;
	o = malloc(cap);
	if (o != NULL &&
	    ud_b64url_encode((const uint8_t *)s, n, o, cap) == (size_t)-1) {
		free(o);
		o = NULL;
	}
	free(s);
	return o;
}

static bool
empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* "First Last", or one of them, or the email; malloc'd or NULL. */
static char *
display_name(const ud_user *u)
{
	size_t a, b;
	char *s;

	if (empty(u->first_name) && empty(u->last_name)) {
		return empty(u->email) ? NULL : strdup(u->email);
	}
	if (empty(u->last_name)) {
		return strdup(u->first_name);
	}
	if (empty(u->first_name)) {
		return strdup(u->last_name);
	}
	a = strlen(u->first_name);
	b = strlen(u->last_name);
	if ((s = malloc(a + 1 + b + 1)) == NULL) {
		return NULL;
	}
	memcpy(s, u->first_name, a);
	s[a] = ' ';
	memcpy(s + a + 1, u->last_name, b + 1);
	return s;
}

static json_t *
claims_json(const ud_user *u, const ud_refresh_token *rt, int64_t iat,
	    int64_t exp)
{
	json_t *c = json_object(), *roles = json_array(), *perms = json_array();
	char sub[24];
	char *name = display_name(u);
	int bad = 0;

	if (c == NULL || roles == NULL || perms == NULL) {
		bad = 1;
		goto out;
	}
	snprintf(sub, sizeof(sub), "%" PRId64, u->id);
	for (size_t i = 0; i < u->roles.n; i++) {
		bad |= json_array_append_new(roles, json_string(u->roles.v[i]));
	}
	for (size_t i = 0; i < u->n_dashboard_permissions; i++) {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(
			&users__v1__dashboard_permissions__descriptor,
			u->dashboard_permissions[i]);
		if (v != NULL) {
			bad |=
			    json_array_append_new(perms, json_string(v->name));
		}
	}
	bad |= json_object_set_new(c, "iss", json_string(ISSUER));
	bad |= json_object_set_new(c, "sub", json_string(sub));
	bad |= json_object_set_new(c, "iat", json_integer(iat));
	bad |= json_object_set_new(c, "exp", json_integer(exp));
	if (name != NULL) {
		bad |= json_object_set_new(c, "name", json_string(name));
	}
	if (!empty(u->email)) {
		bad |= json_object_set_new(c, "email", json_string(u->email));
		bad |= json_object_set_new(c, "preferred_username",
					   json_string(u->email));
	}
	bad |= json_object_set(c, "roles", roles);
	bad |= json_object_set(c, "perms", perms);
	bad |= json_object_set_new(c, "tv", json_integer(u->token_version));
	if (rt != NULL) {
		bad |= json_object_set_new(c, "jti", json_string(rt->jti));
		bad |= json_object_set_new(c, "fam", json_string(rt->family));
	}
out:
	free(name);
	json_decref(roles);
	json_decref(perms);
	if (bad) {
		json_decref(c);
		return NULL;
	}
	return c;
}

static const char *
typ_of(ud_jwt_kind kind)
{
	switch (kind) {
	case UD_JWT_ACCESS:
		return "JWT";
	case UD_JWT_REFRESH:
		return "JWTR";
	}
	return NULL;
}

int
ud_jwt_sign(const ud_jwt_key *k, ud_jwt_kind kind, const ud_user *u,
	    const ud_refresh_token *rt, int64_t now_s, int64_t ttl_s,
	    char **out)
{
	const char *typ = typ_of(kind);
	json_t *header = NULL, *claims = NULL;
	char *h = NULL, *p = NULL, *tok = NULL;
	uint8_t mac[SIG_LEN];
	size_t hl, pl, sl, total;
	int rc = UP_INTERNAL;

	if (out == NULL) {
		return UP_INTERNAL;
	}
	*out = NULL;
	if (k == NULL || u == NULL || typ == NULL || ttl_s <= 0 ||
	    now_s > INT64_MAX - ttl_s) {
		return UP_INTERNAL;
	}
	/* A refresh token names its record; an access token has none. */
	if ((kind == UD_JWT_REFRESH) != (rt != NULL) ||
	    (rt != NULL && (!ud_random_id_valid(rt->jti) ||
			    !ud_random_id_valid(rt->family)))) {
		return UP_INTERNAL;
	}
	header = json_pack("{s:s, s:s, s:s}", "typ", typ, "alg", "HS256", "kid",
			   k->kid);
	claims = claims_json(u, rt, now_s, now_s + ttl_s);
	if (header == NULL || claims == NULL ||
	    (h = json_b64(header)) == NULL || (p = json_b64(claims)) == NULL) {
		goto out;
	}
	hl = strlen(h);
	pl = strlen(p);
	sl = ud_b64url_encoded_len(SIG_LEN);
	total = hl + 1 + pl + 1 + sl;
	/* Never hand out a token that verify would refuse as too long. */
	if (total > UD_JWT_MAX_LEN || (tok = malloc(total + 1)) == NULL) {
		goto out;
	}
	memcpy(tok, h, hl);
	tok[hl] = '.';
	memcpy(tok + hl + 1, p, pl);
	if (hmac_sha256(k, tok, hl + 1 + pl, mac) != 0) {
		goto out;
	}
	tok[hl + 1 + pl] = '.';
	if (ud_b64url_encode(mac, sizeof(mac), tok + hl + 1 + pl + 1, sl + 1) ==
	    (size_t)-1) {
		goto out;
	}
	*out = tok;
	tok = NULL;
	rc = 0;
out:
	json_decref(header);
	json_decref(claims);
	free(h);
	free(p);
	free(tok);
	return rc;
}

/* ------------------------------------------------------------------------
 * Verification
 */

void
ud_jwt_claims_fini(ud_jwt_claims *c)
{
	free(c->name);
	free(c->email);
	ud_strv_fini(&c->roles);
	ud_strv_fini(&c->perms);
	memset(c, 0, sizeof(*c));
}

static bool
ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t d = 0;

	for (size_t i = 0; i < n; i++) {
		d |= a[i] ^ b[i];
	}
	return d == 0;
}

/* A JSON object decoded from base64url part[0..n), or NULL. */
static json_t *
decode_object(const char *part, size_t n, uint8_t *buf, size_t buf_size)
{
	size_t len;
	json_t *j;

	if (n == 0 || ud_b64url_decode(part, n, buf, buf_size, &len) != 0) {
		return NULL;
	}
	j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static bool
string_is(const json_t *obj, const char *key, const char *want)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

/* A positive decimal integer without sign or leading zeros. */
static int
parse_sub(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (s[0] < '1' || s[0] > '9') {
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10) {
			return -1;
		}
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* An optional string claim: absent or null leaves *out NULL. */
static int
opt_string(const json_t *obj, const char *key, char **out)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v)) {
		return 0;
	}
	if (!json_is_string(v) ||
	    (*out = strdup(json_string_value(v))) == NULL) {
		return -1;
	}
	return 0;
}

/* An optional array of strings: absent leaves sv empty. */
static int
opt_strings(const json_t *obj, const char *key, ud_strv *sv)
{
	const json_t *a = json_object_get(obj, key);
	size_t i;
	json_t *v;

	if (a == NULL) {
		return 0;
	}
	if (!json_is_array(a)) {
		return -1;
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) ||
		    ud_strv_push(sv, json_string_value(v)) != 0) {
			return -1;
		}
	}
	return 0;
}

/* A required id claim (jti, fam) into out[33]. */
static int
id_claim(const json_t *obj, const char *key, char out[33])
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || json_string_length(v) != 32 ||
	    !ud_random_id_valid(json_string_value(v))) {
		return -1;
	}
	memcpy(out, json_string_value(v), 33);
	return 0;
}

static int
parse_claims(const json_t *p, ud_jwt_kind kind, int64_t now_s, ud_jwt_claims *c)
{
	const json_t *sub = json_object_get(p, "sub");
	const json_t *iat = json_object_get(p, "iat");
	const json_t *exp = json_object_get(p, "exp");
	const json_t *tv = json_object_get(p, "tv");

	if (!string_is(p, "iss", ISSUER) || !json_is_string(sub) ||
	    parse_sub(json_string_value(sub), &c->sub) != 0 ||
	    !json_is_integer(iat) || !json_is_integer(exp) ||
	    !json_is_integer(tv)) {
		return -1;
	}
	c->iat = json_integer_value(iat);
	c->exp = json_integer_value(exp);
	c->tv = json_integer_value(tv);
	if (c->exp <= now_s || c->exp <= c->iat ||
	    (now_s <= INT64_MAX - IAT_LEEWAY_S &&
	     c->iat > now_s + IAT_LEEWAY_S)) {
		return -1;
	}
	if (opt_string(p, "name", &c->name) != 0 ||
	    opt_string(p, "email", &c->email) != 0 ||
	    opt_strings(p, "roles", &c->roles) != 0 ||
	    opt_strings(p, "perms", &c->perms) != 0) {
		return -1;
	}
	if (kind == UD_JWT_REFRESH && (id_claim(p, "jti", c->jti) != 0 ||
				       id_claim(p, "fam", c->fam) != 0)) {
		return -1;
	}
	return 0;
}

int
ud_jwt_verify(const ud_jwt_key *k, ud_jwt_kind kind, const char *tok,
	      size_t len, int64_t now_s, ud_jwt_claims *out)
{
	const char *typ = typ_of(kind);
	const char *d1, *d2, *end;
	ud_jwt_claims c;
	json_t *header = NULL, *payload = NULL;
	uint8_t *buf = NULL;
	uint8_t sig[SIG_LEN], mac[SIG_LEN];
	size_t n;
	int rc = UP_UNAUTHENTICATED;

	memset(&c, 0, sizeof(c));
	if (out == NULL) {
		return UP_UNAUTHENTICATED;
	}
	memset(out, 0, sizeof(*out));
	if (k == NULL || typ == NULL || tok == NULL || len == 0 ||
	    len > UD_JWT_MAX_LEN) {
		return UP_UNAUTHENTICATED;
	}
	end = tok + len;
	/* Exactly three parts: header.payload.signature */
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1))) == NULL ||
	    memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL) {
		return UP_UNAUTHENTICATED;
	}
	if (ud_b64url_decode(d2 + 1, (size_t)(end - d2 - 1), sig, sizeof(sig),
			     &n) != 0 ||
	    n != SIG_LEN) {
		goto out;
	}
	if ((buf = malloc(len)) == NULL) {
		goto out;
	}
	/* The header first: HS256 and the expected typ, nothing else. */
	header = decode_object(tok, (size_t)(d1 - tok), buf, len);
	if (header == NULL || !string_is(header, "alg", "HS256") ||
	    !string_is(header, "typ", typ)) {
		goto out;
	}
	if (hmac_sha256(k, tok, (size_t)(d2 - tok), mac) != 0 ||
	    !ct_equal(mac, sig, SIG_LEN)) {
		goto out;
	}
	payload = decode_object(d1 + 1, (size_t)(d2 - d1 - 1), buf, len);
	if (payload == NULL || parse_claims(payload, kind, now_s, &c) != 0) {
		goto out;
	}
	*out = c;
	memset(&c, 0, sizeof(c));
	rc = 0;
out:
	ud_jwt_claims_fini(&c);
	json_decref(header);
	json_decref(payload);
	free(buf);
	mbedtls_platform_zeroize(mac, sizeof(mac));
	return rc;
}
