/*
 * password.c - argon2id password hashes in the encoded form, and the
 * foreign schemes of imported hashes (password.h lists them).
 */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <mbedtls/constant_time.h>
#include <openssl/evp.h>

#include "b64url.h"
#include "password.h"
#include "model.h"
#include "users_proto.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define PREFIX   "$argon2id$"

/*
 * The most a stored hash may ask of verify: a corrupted or planted hash
 * must not make one login allocate gigabytes or spin for minutes.
 */
#define MAX_M_KIB (4u * 1024 * 1024) /* 4 GiB */
#define MAX_T     1000u
#define MAX_P     64u

const ud_password_cost ud_password_cost_default = {19456, 2, 1};

/*
 * Reads a decimal uint32 at *p (no sign, at least one digit) and advances
 * past it. 0, or -1 when there is none or it overflows.
 */
static int
parse_u32(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9') {
		return -1;
	}
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX) {
			return -1;
		}
		s++;
	}
	*p = s;
	*out = (uint32_t)v;
	return 0;
}

/* Expects the literal lit at *p and advances past it. */
static int
expect(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0) {
		return -1;
	}
	*p += n;
	return 0;
}

/*
 * Parses "<prefix>v=19$m=M,t=T,p=P$" at the start of encoded and advances
 * *rest past it. 0, or -1 when it is not such a version 19 hash.
 */
static int
parse_argon2(const char *encoded, const char *prefix, ud_password_cost *cost,
	     const char **rest)
{
	const char *p = encoded;
	uint32_t v;

	if (expect(&p, prefix) != 0 || expect(&p, "v=") != 0 ||
	    parse_u32(&p, &v) != 0 || v != ARGON2_VERSION_13 ||
	    expect(&p, "$m=") != 0 || parse_u32(&p, &cost->m_kib) != 0 ||
	    expect(&p, ",t=") != 0 || parse_u32(&p, &cost->t) != 0 ||
	    expect(&p, ",p=") != 0 || parse_u32(&p, &cost->p) != 0 ||
	    expect(&p, "$") != 0) {
		return -1;
	}
	if (rest != NULL) {
		*rest = p;
	}
	return 0;
}

/* The argon2id parameters of an encoded hash. */
static int
parse_params(const char *encoded, ud_password_cost *cost)
{
	return parse_argon2(encoded, PREFIX, cost, NULL);
}

int
ud_password_hash(const ud_password_cost *cost, const char *pw, size_t len,
		 char *out, size_t out_size)
{
	uint8_t salt[SALT_LEN];
	int rc = UP_INTERNAL;

	if (cost == NULL) {
		cost = &ud_password_cost_default;
	}
	if (out == NULL || out_size == 0) {
		return UP_INVALID_ARGUMENT;
	}
	out[0] = '\0';
	if (pw == NULL || len < UD_PASSWORD_MIN_LEN ||
	    len > UD_PASSWORD_MAX_LEN) {
		return UP_INVALID_ARGUMENT;
	}
	if (cost->m_kib > MAX_M_KIB || cost->t > MAX_T || cost->p > MAX_P ||
	    (uint64_t)cost->m_kib * cost->t > UD_PASSWORD_CAP_ARGON2_M_T ||
	    argon2_encodedlen(cost->t, cost->m_kib, cost->p, SALT_LEN, HASH_LEN,
			      Argon2_id) > out_size) {
		return UP_INVALID_ARGUMENT;
	}
	if (ud_random_bytes(salt, sizeof(salt)) != 0) {
		goto out;
	}
	if (argon2id_hash_encoded(cost->t, cost->m_kib, cost->p, pw, len, salt,
				  sizeof(salt), HASH_LEN, out,
				  out_size) != ARGON2_OK) {
		out[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	memset(salt, 0, sizeof(salt));
	return rc;
}

/* ------------------------------------------------------------------------
 * Stored hashes of every scheme
 */

#define SALT_MIN   8
#define SALT_MAX   64
#define KEY_MIN    16
#define KEY_MAX    64
#define BCRYPT_LEN 60 /* "$2b$" "NN" "$" 22 salt + 31 hash characters */

/* PBKDF2's HMAC digests. */
typedef enum digest { DIGEST_SHA1, DIGEST_SHA256, DIGEST_SHA512 } digest;

/* What a stored hash says, once read. */
typedef struct stored {
	ud_hash_scheme scheme;
	ud_password_cost argon2;
	digest md; /* PBKDF2's HMAC */
	uint32_t iterations;
	uint8_t salt[SALT_MAX];
	size_t salt_len;
	uint8_t key[KEY_MAX];
	size_t key_len;
} stored;

const char *
ud_hash_scheme_name(ud_hash_scheme s)
{
	switch (s) {
	case UD_HASH_ARGON2ID:
		return "argon2id";
	case UD_HASH_ARGON2I:
		return "argon2i";
	case UD_HASH_BCRYPT:
		return "bcrypt";
	case UD_HASH_PBKDF2:
		return "pbkdf2";
	case UD_HASH_ASPNET_V2:
		return "aspnet-v2";
	case UD_HASH_ASPNET_V3:
		return "aspnet-v3";
	default:
		return "unknown";
	}
}

/* Decodes base64 in[0..n) into out (between min and max bytes). */
static int
b64_field(const char *in, size_t n, uint8_t *out, size_t min, size_t max,
	  size_t *len)
{
	return ud_b64std_decode(in, n, out, max, len) == 0 && *len >= min ? 0
									  : -1;
}

/* "salt$key" in base64 (argon2 and PBKDF2 write them alike), to the end. */
static int
salt_and_key(const char *p, stored *st)
{
	const char *d = strchr(p, '$');

	if (d == NULL ||
	    b64_field(p, (size_t)(d - p), st->salt, SALT_MIN, SALT_MAX,
		      &st->salt_len) != 0 ||
	    b64_field(d + 1, strlen(d + 1), st->key, KEY_MIN, KEY_MAX,
		      &st->key_len) != 0) {
		return -1;
	}
	return 0;
}

static int
parse_argon2_stored(const char *encoded, const char *prefix, stored *st,
		    const char **why)
{
	const ud_password_cost *c = &st->argon2;
	const char *rest;

	if (parse_argon2(encoded, prefix, &st->argon2, &rest) != 0 ||
	    salt_and_key(rest, st) != 0) {
		*why = "malformed argon2 hash";
		return -1;
	}
	if (c->m_kib > MAX_M_KIB || c->t > MAX_T || c->p > MAX_P || c->p == 0 ||
	    c->t == 0 ||
	    (uint64_t)c->m_kib * c->t > UD_PASSWORD_CAP_ARGON2_M_T) {
		*why = "argon2 cost above the cap";
		return -1;
	}
	return 0;
}

/* bcrypt's own base64 alphabet. */
static bool
bcrypt_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '/';
}

static int
parse_bcrypt(const char *encoded, stored *st, const char **why)
{
	const char *p = encoded + 4;
	uint32_t cost;

	if (strlen(encoded) != BCRYPT_LEN || p[2] != '$' || p[0] < '0' ||
	    p[0] > '9' || p[1] < '0' || p[1] > '9') {
		*why = "malformed bcrypt hash";
		return -1;
	}
	for (const char *q = p + 3; *q != '\0'; q++) {
		if (!bcrypt_char(*q)) {
			*why = "malformed bcrypt hash";
			return -1;
		}
	}
	cost = (uint32_t)(p[0] - '0') * 10 + (uint32_t)(p[1] - '0');
	if (cost < 4 || cost > 31) {
		*why = "malformed bcrypt hash";
		return -1;
	}
	if (cost > UD_PASSWORD_CAP_BCRYPT) {
		*why = "bcrypt cost above the cap";
		return -1;
	}
	st->iterations = cost;
	return 0;
}

static int
pbkdf2_iterations(uint32_t n, stored *st, const char **why)
{
	if (n == 0) {
		*why = "malformed PBKDF2 hash";
		return -1;
	}
	if (n > UD_PASSWORD_CAP_PBKDF2) {
		*why = "PBKDF2 iterations above the cap";
		return -1;
	}
	st->iterations = n;
	return 0;
}

/* "$pbkdf2-<digest>$" then "i=N" (PHC) or "N" (passlib), salt, key. */
static int
parse_pbkdf2(const char *encoded, stored *st, const char **why)
{
	static const struct {
		const char *prefix;
		digest md;
	} digests[] = {{"$pbkdf2-sha1$", DIGEST_SHA1},
		       {"$pbkdf2-sha256$", DIGEST_SHA256},
		       {"$pbkdf2-sha512$", DIGEST_SHA512}};
	const char *p = encoded;
	uint32_t n;

	*why = "malformed PBKDF2 hash";
	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		if (expect(&p, digests[i].prefix) == 0) {
			st->md = digests[i].md;
			break;
		}
	}
	if (p == encoded) {
		*why = "PBKDF2 with a digest usersd does not read";
		return -1;
	}
	(void)expect(&p, "i=");
	if (parse_u32(&p, &n) != 0 || expect(&p, "$") != 0 ||
	    pbkdf2_iterations(n, st, why) != 0 || salt_and_key(p, st) != 0) {
		return -1;
	}
	return 0;
}

/* Reads a big-endian uint32 at b. */
static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* ASP.NET Identity's base64 layouts (password.h). */
static int
parse_aspnet(const char *encoded, stored *st, const char **why)
{
	uint8_t b[1 + 12 + SALT_MAX + KEY_MAX];
	size_t n, salt_len;
	uint32_t prf;

	*why = "not a password hash format usersd reads";
	if (ud_b64std_decode(encoded, strlen(encoded), b, sizeof(b), &n) != 0 ||
	    n == 0) {
		return -1;
	}
	if (b[0] == 0x00) {
		if (n != 1 + 16 + 32) {
			*why = "malformed ASP.NET Identity v2 hash";
			return -1;
		}
		st->scheme = UD_HASH_ASPNET_V2;
		st->md = DIGEST_SHA1;
		st->iterations = 1000;
		memcpy(st->salt, b + 1, st->salt_len = 16);
		memcpy(st->key, b + 17, st->key_len = 32);
		return 0;
	}
	if (b[0] != 0x01) {
		return -1;
	}
	*why = "malformed ASP.NET Identity v3 hash";
	if (n < 13) {
		return -1;
	}
	prf = be32(b + 1);
	salt_len = be32(b + 9);
	if (prf > 2) {
		*why = "ASP.NET Identity v3 hash with an unknown PRF";
		return -1;
	}
	st->md = prf == 0   ? DIGEST_SHA1
		 : prf == 1 ? DIGEST_SHA256
			    : DIGEST_SHA512;
	if (salt_len < SALT_MIN || salt_len > SALT_MAX || 13 + salt_len > n ||
	    n - 13 - salt_len < KEY_MIN || n - 13 - salt_len > KEY_MAX ||
	    pbkdf2_iterations(be32(b + 5), st, why) != 0) {
		return -1;
	}
	st->scheme = UD_HASH_ASPNET_V3;
	memcpy(st->salt, b + 13, st->salt_len = salt_len);
	memcpy(st->key, b + 13 + salt_len, st->key_len = n - 13 - salt_len);
	return 0;
}

static int
parse_stored(const char *encoded, stored *st, const char **why)
{
	memset(st, 0, sizeof(*st));
	*why = "not a password hash format usersd reads";
	if (encoded == NULL || encoded[0] == '\0') {
		*why = "empty password hash";
		return -1;
	}
	if (strnlen(encoded, UD_PASSWORD_STORED_MAX) >=
	    UD_PASSWORD_STORED_MAX) {
		*why = "password hash too long";
		return -1;
	}
	if (strncmp(encoded, PREFIX, strlen(PREFIX)) == 0) {
		st->scheme = UD_HASH_ARGON2ID;
		return parse_argon2_stored(encoded, PREFIX, st, why);
	}
	if (strncmp(encoded, "$argon2i$", 9) == 0) {
		st->scheme = UD_HASH_ARGON2I;
		return parse_argon2_stored(encoded, "$argon2i$", st, why);
	}
	if (strncmp(encoded, "$2a$", 4) == 0 ||
	    strncmp(encoded, "$2b$", 4) == 0 ||
	    strncmp(encoded, "$2y$", 4) == 0) {
		st->scheme = UD_HASH_BCRYPT;
		return parse_bcrypt(encoded, st, why);
	}
	if (strncmp(encoded, "$pbkdf2-", 8) == 0) {
		st->scheme = UD_HASH_PBKDF2;
		return parse_pbkdf2(encoded, st, why);
	}
	if (encoded[0] == '$') {
		return -1;
	}
	return parse_aspnet(encoded, st, why);
}

int
ud_password_hash_parse(const char *encoded, ud_hash_scheme *scheme,
		       const char **why)
{
	const char *reason = NULL;
	stored st;
	int rc =
	    parse_stored(encoded, &st, &reason) == 0 ? 0 : UP_INVALID_ARGUMENT;

	if (scheme != NULL) {
		*scheme = rc == 0 ? st.scheme : UD_HASH_UNKNOWN;
	}
	if (why != NULL) {
		*why = rc == 0 ? NULL : reason;
	}
	memset(&st, 0, sizeof(st));
	return rc;
}

/* bcrypt by libxcrypt, the result compared in constant time. */
static int
verify_bcrypt(const char *encoded, const char *pw, size_t len)
{
	/* crypt(3) reads a C string: pw[0..len) with its NUL added. */
	struct bcrypt_work {
		struct crypt_data cd;
		char pw[UD_PASSWORD_MAX_LEN + 1];
	} * w;
	const char *out;
	int rc = UP_UNAUTHENTICATED;

	/* A password with a NUL in it never matches. */
	if (memchr(pw, '\0', len) != NULL ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		return UP_UNAUTHENTICATED;
	}
	memcpy(w->pw, pw, len);
	out = crypt_r(w->pw, encoded, &w->cd);
	if (out != NULL && strlen(out) == BCRYPT_LEN &&
	    mbedtls_ct_memcmp(out, encoded, BCRYPT_LEN) == 0) {
		rc = 0;
	}
	memset(w, 0, sizeof(*w));
	free(w);
	return rc;
}

/*
 * PBKDF2 by OpenSSL's libcrypto: mbedTLS 2.28's runs about 8 times slower
 * (SHA-256: 4.7 s for 10^6 iterations against 0.6 s on the development
 * machine), and an imported hash at OWASP's count must not make a
 * sign-in take seconds. The key is compared in constant time.
 */
static int
verify_pbkdf2(const stored *st, const char *pw, size_t len)
{
	const EVP_MD *md = st->md == DIGEST_SHA1     ? EVP_sha1()
			   : st->md == DIGEST_SHA256 ? EVP_sha256()
						     : EVP_sha512();
	uint8_t out[KEY_MAX];
	int rc = UP_UNAUTHENTICATED;

	if (PKCS5_PBKDF2_HMAC(pw, (int)len, st->salt, (int)st->salt_len,
			      (int)st->iterations, md, (int)st->key_len,
			      out) == 1 &&
	    mbedtls_ct_memcmp(out, st->key, st->key_len) == 0) {
		rc = 0;
	}
	memset(out, 0, sizeof(out));
	return rc;
}

int
ud_password_verify(const char *encoded, const char *pw, size_t len)
{
	const char *why;
	stored st;
	int rc = UP_UNAUTHENTICATED;

	/*
	 * Only the upper bound is enforced here (it bounds the work); a hash
	 * made elsewhere may cover a password shorter than we accept now.
	 */
	if (encoded == NULL || (pw == NULL && len > 0) ||
	    len > UD_PASSWORD_MAX_LEN ||
	    parse_stored(encoded, &st, &why) != 0) {
		return UP_UNAUTHENTICATED;
	}
	if (pw == NULL) {
		pw = "";
	}
	switch (st.scheme) {
	case UD_HASH_ARGON2ID:
		/* argon2*_verify compare the hashes in constant time. */
		rc = argon2id_verify(encoded, pw, len) == ARGON2_OK
			 ? 0
			 : UP_UNAUTHENTICATED;
		break;
	case UD_HASH_ARGON2I:
		rc = argon2i_verify(encoded, pw, len) == ARGON2_OK
			 ? 0
			 : UP_UNAUTHENTICATED;
		break;
	case UD_HASH_BCRYPT:
		rc = verify_bcrypt(encoded, pw, len);
		break;
	case UD_HASH_PBKDF2:
	case UD_HASH_ASPNET_V2:
	case UD_HASH_ASPNET_V3:
		rc = verify_pbkdf2(&st, pw, len);
		break;
	default:
		break;
	}
	memset(&st, 0, sizeof(st));
	return rc;
}

bool
ud_password_cost_secure(const ud_password_cost *cost)
{
	return cost->m_kib >= UD_PASSWORD_FLOOR_M_KIB &&
	       (uint64_t)cost->m_kib * cost->t >= UD_PASSWORD_FLOOR_M_T;
}

bool
ud_password_needs_rehash(const char *encoded, const ud_password_cost *cost)
{
	ud_password_cost c;
	ud_hash_scheme scheme;

	if (cost == NULL) {
		cost = &ud_password_cost_default;
	}
	if (encoded == NULL ||
	    ud_password_hash_parse(encoded, &scheme, NULL) != 0) {
		return false;
	}
	if (scheme != UD_HASH_ARGON2ID) {
		return true; /* imported: argon2id from now on */
	}
	if (parse_params(encoded, &c) != 0) {
		return false;
	}
	return cost->m_kib >= c.m_kib && cost->t >= c.t &&
	       (cost->m_kib > c.m_kib || cost->t > c.t);
}
