/*
 * token_cache.c - striped, direct-mapped cache of verified tokens.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "token_cache.h"
#include "users_proto.h"

#define STRIPES 16
#define SLOTS   256 /* per stripe */

struct slot {
	uint64_t hash;
	char *tok;
	size_t len;
	int64_t sub;
	int64_t tv;
	int64_t exp;
};

struct stripe {
	pthread_mutex_t mu;
	struct slot slots[SLOTS];
};

struct ud_token_cache {
	struct stripe stripes[STRIPES];
};

/*
 * FNV-1a over 8 bytes a step (a token is a few hundred bytes, hashed on
 * every bearer call), folded so that the high bits reach the slot index.
 */
static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ n, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < n; i++) {
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	}
	return h ^ (h >> 32);
}

/* Compares without an early exit (the lengths are equal), 8 bytes a step. */
static bool
same(const char *a, const char *b, size_t n)
{
	uint64_t d = 0, x, y;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d |= x ^ y;
	}
	for (; i < n; i++) {
		d |= (unsigned char)(a[i] ^ b[i]);
	}
	return d == 0;
}

int
ud_token_cache_alloc(ud_token_cache **out)
{
	ud_token_cache *tc = calloc(1, sizeof(*tc));

	if (tc == NULL) {
		return UP_INTERNAL;
	}
	for (int i = 0; i < STRIPES; i++) {
		pthread_mutex_init(&tc->stripes[i].mu, NULL);
	}
	*out = tc;
	return 0;
}

void
ud_token_cache_free(ud_token_cache *tc)
{
	if (tc == NULL) {
		return;
	}
	for (int i = 0; i < STRIPES; i++) {
		for (int k = 0; k < SLOTS; k++) {
			free(tc->stripes[i].slots[k].tok);
		}
		pthread_mutex_destroy(&tc->stripes[i].mu);
	}
	free(tc);
}

bool
ud_token_cache_get(ud_token_cache *tc, const char *tok, size_t len,
		   int64_t now_s, int64_t *sub, int64_t *tv)
{
	uint64_t h = fnv1a(tok, len);
	struct stripe *st = &tc->stripes[h % STRIPES];
	struct slot *s = &st->slots[(h / STRIPES) % SLOTS];
	bool hit;

	pthread_mutex_lock(&st->mu);
	hit = s->tok != NULL && s->hash == h && s->len == len &&
	      now_s < s->exp && same(s->tok, tok, len);
	if (hit) {
		*sub = s->sub;
		*tv = s->tv;
	}
	pthread_mutex_unlock(&st->mu);
	return hit;
}

void
ud_token_cache_put(ud_token_cache *tc, const char *tok, size_t len, int64_t sub,
		   int64_t tv, int64_t exp)
{
	uint64_t h = fnv1a(tok, len);
	struct stripe *st = &tc->stripes[h % STRIPES];
	struct slot *s = &st->slots[(h / STRIPES) % SLOTS];
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		return; /* only a cache */
	}
	memcpy(copy, tok, len);
	copy[len] = '\0';
	pthread_mutex_lock(&st->mu);
	free(s->tok);
	s->tok = copy;
	s->hash = h;
	s->len = len;
	s->sub = sub;
	s->tv = tv;
	s->exp = exp;
	pthread_mutex_unlock(&st->mu);
}
