/*
 * jwt.h - access and refresh tokens: JWT with HS256 only (mbedTLS HMAC).
 *
 * Header {"typ":"JWT","alg":"HS256","kid":"<16 hex digits: the first 8
 * bytes of SHA-256(key)>"} (refresh tokens: "typ":"JWTR"). Claims: iss
 * "usersd", sub (user id as a decimal string), iat, exp, name, email,
 * preferred_username, roles[], perms[], tv (the user's token version); a
 * refresh token also jti (its own id) and fam (its family: the id of the
 * first token of its sign-in), 32 lowercase hex digits each, under which
 * the store records it.
 *
 * The key is 32 random bytes in a file created on first run with mode 0600.
 * Verification accepts only alg HS256 and the expected typ, compares the
 * signature in constant time and checks exp (with no leeway) and iat (not
 * in the future beyond 60 s). Input is bounded (UD_JWT_MAX_LEN).
 */
#ifndef UD_JWT_H
#define UD_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define UD_JWT_KEY_LEN 32
#define UD_JWT_MAX_LEN 8192

typedef struct ud_jwt_key {
	uint8_t key[UD_JWT_KEY_LEN];
	char kid[17]; /* 16 hex digits */
} ud_jwt_key;

/*
 * Loads the key from path, or creates it (mode 0600, O_EXCL) with random
 * bytes when the file does not exist. A key file readable by group or
 * others, or of the wrong size, is refused: UP_FAILED_PRECONDITION.
 */
int ud_jwt_key_load(ud_jwt_key *k, const char *path);

typedef enum ud_jwt_kind {
	UD_JWT_ACCESS = 0,  /* typ JWT */
	UD_JWT_REFRESH = 1, /* typ JWTR */
} ud_jwt_kind;

typedef struct ud_jwt_claims {
	int64_t sub; /* user id */
	int64_t iat; /* unix seconds */
	int64_t exp;
	int64_t tv; /* token version */
	char *name; /* display name (may be NULL) */
	char *email;
	ud_strv roles;
	ud_strv perms;
	char jti[33]; /* refresh tokens: the token's id ("" otherwise) */
	char fam[33]; /* refresh tokens: its family's id ("" otherwise) */
} ud_jwt_claims;

void ud_jwt_claims_fini(ud_jwt_claims *c);

/*
 * Signs a token for user u valid for ttl_s seconds from now. A refresh
 * token carries the ids of its record rt (jti and family, which must be
 * valid ids); an access token none (rt NULL). *out is a malloc'd
 * NUL-terminated string the caller frees. 0 or UP_INTERNAL.
 */
int ud_jwt_sign(const ud_jwt_key *k, ud_jwt_kind kind, const ud_user *u,
		const ud_refresh_token *rt, int64_t now_s, int64_t ttl_s,
		char **out);

/*
 * Verifies tok (len bytes) as a token of the given kind at time now_s and
 * fills out (the caller finis it on success; nothing to free on error).
 * 0, or UP_UNAUTHENTICATED for any malformed, forged, expired or wrong-kind
 * token, and a refresh token without valid jti and fam.
 */
int ud_jwt_verify(const ud_jwt_key *k, ud_jwt_kind kind, const char *tok,
		  size_t len, int64_t now_s, ud_jwt_claims *out);

#endif
