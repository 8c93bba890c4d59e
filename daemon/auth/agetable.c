/*
 * agetable.c - a seeded hash table with an age list (agetable.h).
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "agetable.h"
#include "model.h"
#include "users_proto.h"

/* Past this many buckets the chains grow instead. */
#define BUCKETS_MAX ((size_t)1 << 24)

int
ud_agetable_init(ud_agetable *t, size_t max_entries)
{
	memset(t, 0, sizeof(*t));
	t->n_buckets = 16;
	while (t->n_buckets < max_entries && t->n_buckets < BUCKETS_MAX) {
		t->n_buckets <<= 1;
	}
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (t->buckets == NULL ||
	    ud_random_bytes(t->seed, sizeof(t->seed)) != 0) {
		free(t->buckets);
		t->buckets = NULL;
		return UP_INTERNAL;
	}
	return 0;
}

void
ud_agetable_fini(ud_agetable *t, void (*free_fn)(ud_agetable_node *n))
{
	ud_agetable_node *n = t->oldest, *next;

	for (; n != NULL; n = next) {
		next = n->newer;
		if (free_fn != NULL) {
			free_fn(n);
		}
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

void
ud_agetable_key(const ud_agetable *t, const void *data, size_t len,
		uint8_t key[UD_AGETABLE_KEY_LEN])
{
	mbedtls_sha256_context ctx;

	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts_ret(&ctx, 0);
	mbedtls_sha256_update_ret(&ctx, t->seed, sizeof(t->seed));
	mbedtls_sha256_update_ret(&ctx, data, len);
	mbedtls_sha256_finish_ret(&ctx, key);
	mbedtls_sha256_free(&ctx);
}

static ud_agetable_node **
slot(const ud_agetable *t, const uint8_t key[UD_AGETABLE_KEY_LEN])
{
	size_t h = 0;
	ud_agetable_node **pp;

	for (size_t i = 0; i < sizeof(h); i++) {
		h = h << 8 | key[i];
	}
	pp = &t->buckets[h & (t->n_buckets - 1)];
	while (*pp != NULL && memcmp((*pp)->key, key, UD_AGETABLE_KEY_LEN)) {
		pp = &(*pp)->next;
	}
	return pp;
}

ud_agetable_node *
ud_agetable_find(const ud_agetable *t, const uint8_t key[UD_AGETABLE_KEY_LEN])
{
	return *slot(t, key);
}

static void
age_unlink(ud_agetable *t, ud_agetable_node *n)
{
	if (n->older != NULL) {
		n->older->newer = n->newer;
	} else {
		t->oldest = n->newer;
	}
	if (n->newer != NULL) {
		n->newer->older = n->older;
	} else {
		t->newest = n->older;
	}
	n->older = n->newer = NULL;
}

static void
age_push(ud_agetable *t, ud_agetable_node *n)
{
	n->older = t->newest;
	n->newer = NULL;
	if (t->newest != NULL) {
		t->newest->newer = n;
	} else {
		t->oldest = n;
	}
	t->newest = n;
}

void
ud_agetable_add(ud_agetable *t, ud_agetable_node *n)
{
	ud_agetable_node **pp = slot(t, n->key);

	n->next = *pp;
	*pp = n;
	age_push(t, n);
	t->count++;
}

void
ud_agetable_remove(ud_agetable *t, ud_agetable_node *n)
{
	ud_agetable_node **pp = slot(t, n->key);

	*pp = n->next;
	age_unlink(t, n);
	t->count--;
}

void
ud_agetable_touch(ud_agetable *t, ud_agetable_node *n)
{
	age_unlink(t, n);
	age_push(t, n);
}
