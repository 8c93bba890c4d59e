/*
 * token_cache.h - remembers bearer tokens already verified, so that a
 * client presenting the same token again skips the base64, the JSON and
 * the HMAC. Only what verification established is kept (subject, token
 * version, expiry); the token version is still checked against the store
 * on every call, so revocation is immediate. Entries expire with their
 * token. Bounded (direct-mapped slots), thread-safe (striped locks).
 */
#ifndef UD_TOKEN_CACHE_H
#define UD_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ud_token_cache ud_token_cache;

int ud_token_cache_alloc(ud_token_cache **out);
void ud_token_cache_free(ud_token_cache *tc);

/* true, with *sub and *tv, when tok was verified and has not expired. */
bool ud_token_cache_get(ud_token_cache *tc, const char *tok, size_t len,
			int64_t now_s, int64_t *sub, int64_t *tv);
/* Records a verified token (copied). */
void ud_token_cache_put(ud_token_cache *tc, const char *tok, size_t len,
			int64_t sub, int64_t tv, int64_t exp);

#endif
