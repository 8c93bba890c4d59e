/*
 * agetable.h - a hash table of entries kept in age order: the one home of
 * what the lockout table and the replay table both need (a bounded set of
 * entries found by a key, forgotten oldest first).
 *
 * Keys are SHA-256 of a random seed (per table) and the caller's bytes:
 * fixed size, and collisions in the buckets cannot be aimed by whoever
 * chooses the bytes (user names, request ids). Entries are the caller's:
 * a struct that begins with a ud_agetable_node, allocated and freed by the
 * caller; the table only links them. Not thread-safe: the caller holds
 * its own lock around every call.
 */
#ifndef UD_AGETABLE_H
#define UD_AGETABLE_H

#include <stddef.h>
#include <stdint.h>

#define UD_AGETABLE_KEY_LEN 32

typedef struct ud_agetable_node {
	struct ud_agetable_node *next;  /* bucket chain */
	struct ud_agetable_node *older; /* age list */
	struct ud_agetable_node *newer;
	uint8_t key[UD_AGETABLE_KEY_LEN];
} ud_agetable_node;

typedef struct ud_agetable {
	ud_agetable_node **buckets;
	size_t n_buckets; /* a power of two */
	size_t count;
	ud_agetable_node *oldest;
	ud_agetable_node *newest;
	uint8_t seed[16];
} ud_agetable;

/* A table sized for about max_entries: 0 or UP_INTERNAL. */
int ud_agetable_init(ud_agetable *t, size_t max_entries);
/* Calls free_fn on every entry (may be NULL), then frees the table. */
void ud_agetable_fini(ud_agetable *t, void (*free_fn)(ud_agetable_node *n));

/* The key of len bytes of data in this table. */
void ud_agetable_key(const ud_agetable *t, const void *data, size_t len,
		     uint8_t key[UD_AGETABLE_KEY_LEN]);
/* The entry of key, or NULL. */
ud_agetable_node *ud_agetable_find(const ud_agetable *t,
				   const uint8_t key[UD_AGETABLE_KEY_LEN]);
/* Adds n (its key set, not in the table) as the newest. */
void ud_agetable_add(ud_agetable *t, ud_agetable_node *n);
/* Takes n out of the table (the caller frees it). */
void ud_agetable_remove(ud_agetable *t, ud_agetable_node *n);
/* Makes n the newest. */
void ud_agetable_touch(ud_agetable *t, ud_agetable_node *n);

#endif
