/*
 * replay.c - the request-id table.
 *
 * Entries live in an age table (agetable.h: keyed by a seeded SHA-256 of
 * the request id, in order of arrival, oldest first, for expiry and
 * eviction) and remember the request's digest, SHA-256(method | 0 |
 * subject | payload). One mutex guards the table; waiters are collected
 * under it and called after it is released.
 *
 * Entries that leave the table wait, up to SPARE_MAX of them, to be the
 * next ones taken, with the buffer that held their answer: under load
 * every new id meets an old one leaving, and the answer buffers are made
 * on the thread that finishes a call (the writer's) but were freed on the
 * one that begins the next (a loop's), so each free took the writer's
 * allocator lock from under it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "agetable.h"
#include "replay.h"
#include "model.h"
#include "users_proto.h"

#define SPARE_MAX 256

typedef struct waiter_slot {
	ud_replay_waiter_fn fn;
	void *arg;
} waiter_slot;

typedef struct entry {
	ud_agetable_node node; /* first: the table links entries by it */
	uint8_t fp[32];
	bool done;
	uint8_t *resp;
	size_t resp_len;
	size_t resp_cap;     /* resp's size: kept for the entry's next use */
	struct entry *spare; /* the next spare, while this one is spare */
	int64_t t;           /* when it began */
	unsigned n_waiters;
	waiter_slot waiters[UD_REPLAY_MAX_WAITERS];
} entry;

struct ud_replay {
	pthread_mutex_t mu;
	unsigned window_s;
	unsigned max_entries;
	ud_agetable t;
	struct entry *spare; /* entries out of the table, to be used again */
	unsigned n_spare;
};

static void
key_of(const ud_replay *r, const char *id, uint8_t out[UD_AGETABLE_KEY_LEN])
{
	ud_agetable_key(&r->t, id, strlen(id), out);
}

void
ud_replay_digest(const char *method, int64_t subject, const uint8_t *payload,
		 size_t len, uint8_t out[UD_REPLAY_DIGEST_LEN])
{
	mbedtls_sha256_context ctx;
	static const unsigned char zero = 0;
	unsigned char who[8];

	for (int i = 0; i < 8; i++) {
		who[i] = (unsigned char)((uint64_t)subject >> (56 - 8 * i));
	}
	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts_ret(&ctx, 0);
	mbedtls_sha256_update_ret(&ctx, (const unsigned char *)method,
				  strlen(method));
	mbedtls_sha256_update_ret(&ctx, &zero, 1);
	mbedtls_sha256_update_ret(&ctx, who, sizeof(who));
	if (len > 0 && payload != NULL) {
		mbedtls_sha256_update_ret(&ctx, payload, len);
	}
	mbedtls_sha256_finish_ret(&ctx, out);
	mbedtls_sha256_free(&ctx);
}

static entry *
find(const ud_replay *r, const uint8_t key[UD_AGETABLE_KEY_LEN])
{
	return (entry *)ud_agetable_find(&r->t, key);
}

static void
free_entry(entry *e)
{
	free(e->resp);
	free(e);
}

/* e, out of the table, becomes a spare, or is freed past SPARE_MAX. */
static void
retire(ud_replay *r, entry *e)
{
	if (r->n_spare >= SPARE_MAX) {
		free_entry(e);
		return;
	}
	e->spare = r->spare;
	r->spare = e;
	r->n_spare++;
}

/* A spare emptied (its answer buffer kept), or a new entry; NULL. */
static entry *
take_entry(ud_replay *r)
{
	entry *e = r->spare;
	uint8_t *resp;
	size_t cap;

	if (e == NULL) {
		return calloc(1, sizeof(*e));
	}
	r->spare = e->spare;
	r->n_spare--;
	resp = e->resp;
	cap = e->resp_cap;
	memset(e, 0, sizeof(*e));
	e->resp = resp;
	e->resp_cap = cap;
	return e;
}

/*
 * Forgets finished entries older than the window. Pending ones stay until
 * they finish: their waiters must be answered.
 */
static void
expire(ud_replay *r, int64_t now_s)
{
	entry *e = (entry *)r->t.oldest, *next;

	for (; e != NULL && now_s - e->t >= (int64_t)r->window_s; e = next) {
		next = (entry *)e->node.newer;
		if (e->done) {
			ud_agetable_remove(&r->t, &e->node);
			retire(r, e);
		}
	}
}

/* Evicts the oldest finished entry; false when all are pending. */
static bool
evict_one(ud_replay *r)
{
	for (entry *e = (entry *)r->t.oldest; e != NULL;
	     e = (entry *)e->node.newer) {
		if (e->done) {
			ud_agetable_remove(&r->t, &e->node);
			retire(r, e);
			return true;
		}
	}
	return false;
}

int
ud_replay_alloc(ud_replay **out, unsigned window_s, unsigned max_entries)
{
	ud_replay *r;

	*out = NULL;
	if (max_entries == 0 || (r = calloc(1, sizeof(*r))) == NULL) {
		return max_entries == 0 ? UP_INVALID_ARGUMENT : UP_INTERNAL;
	}
	r->window_s = window_s;
	r->max_entries = max_entries;
	if (ud_agetable_init(&r->t, max_entries) != 0 ||
	    pthread_mutex_init(&r->mu, NULL) != 0) {
		ud_agetable_fini(&r->t, NULL);
		free(r);
		return UP_INTERNAL;
	}
	*out = r;
	return 0;
}

static void
node_free(ud_agetable_node *n)
{
	free_entry((entry *)n);
}

void
ud_replay_free(ud_replay *r)
{
	if (r == NULL) {
		return;
	}
	pthread_mutex_destroy(&r->mu);
	ud_agetable_fini(&r->t, node_free);
	while (r->spare != NULL) {
		entry *e = r->spare;

		r->spare = e->spare;
		free_entry(e);
	}
	free(r);
}

ud_replay_state
ud_replay_begin(ud_replay *r, const char *request_id,
		const uint8_t digest[UD_REPLAY_DIGEST_LEN], int64_t now_s,
		ud_replay_waiter_fn waiter, void *arg, uint8_t **resp,
		size_t *resp_len)
{
	uint8_t key[UD_AGETABLE_KEY_LEN], fp[32];
	ud_replay_state st = UD_REPLAY_BUSY;
	entry *e;

	if (resp != NULL) {
		*resp = NULL;
	}
	if (resp_len != NULL) {
		*resp_len = 0;
	}
	if (request_id == NULL || digest == NULL) {
		return UD_REPLAY_MISMATCH;
	}
	memcpy(fp, digest, sizeof(fp));
	key_of(r, request_id, key); /* a digest: outside the lock */
	pthread_mutex_lock(&r->mu);
	expire(r, now_s);
	if ((e = find(r, key)) != NULL) {
		if (memcmp(e->fp, fp, sizeof(fp)) != 0) {
			st = UD_REPLAY_MISMATCH;
		} else if (e->done) {
			/* +1: malloc(0) may return NULL. */
			uint8_t *copy = malloc(e->resp_len + 1);
			if (copy == NULL || resp == NULL || resp_len == NULL) {
				free(copy);
				goto out; /* BUSY: see replay.h */
			}
			if (e->resp_len > 0) {
				memcpy(copy, e->resp, e->resp_len);
			}
			*resp = copy;
			*resp_len = e->resp_len;
			st = UD_REPLAY_DONE;
		} else if (waiter == NULL) {
			st = UD_REPLAY_PENDING;
		} else if (e->n_waiters < UD_REPLAY_MAX_WAITERS) {
			e->waiters[e->n_waiters].fn = waiter;
			e->waiters[e->n_waiters].arg = arg;
			e->n_waiters++;
			st = UD_REPLAY_PENDING;
		}
		goto out;
	}
	if (r->t.count >= r->max_entries && !evict_one(r)) {
		goto out; /* full of pending requests: BUSY, see replay.h */
	}
	if ((e = take_entry(r)) == NULL) {
		goto out;
	}
	memcpy(e->node.key, key, sizeof(key));
	memcpy(e->fp, fp, sizeof(fp));
	e->t = now_s;
	ud_agetable_add(&r->t, &e->node);
	st = UD_REPLAY_NEW;
out:
	pthread_mutex_unlock(&r->mu);
	return st;
}

void
ud_replay_finish(ud_replay *r, const char *request_id, const uint8_t *resp,
		 size_t len, bool keep)
{
	waiter_slot ws[UD_REPLAY_MAX_WAITERS];
	unsigned n = 0;
	uint8_t key[UD_AGETABLE_KEY_LEN];
	entry *e;

	if (request_id == NULL) {
		return;
	}
	key_of(r, request_id, key); /* a digest: outside the lock */
	pthread_mutex_lock(&r->mu);
	e = find(r, key);
	if (e == NULL || e->done) {
		pthread_mutex_unlock(&r->mu);
		return;
	}
	n = e->n_waiters;
	memcpy(ws, e->waiters, n * sizeof(ws[0]));
	e->n_waiters = 0;
	if (resp != NULL && keep && e->resp_cap < len + 1) {
		/* +1: malloc(0) may return NULL */
		free(e->resp);
		e->resp_cap = (e->resp = malloc(len + 1)) != NULL ? len + 1 : 0;
	}
	if (resp != NULL && keep && e->resp != NULL) {
		if (len > 0) {
			memcpy(e->resp, resp, len);
		}
		e->resp_len = len;
		e->done = true;
	}
	if (!e->done) {
		/* Not final, no answer, or no memory for the copy: forget it,
		 * so that a retry runs again. */
		ud_agetable_remove(&r->t, &e->node);
		retire(r, e);
	}
	pthread_mutex_unlock(&r->mu);
	/* The waiters get the caller's bytes, valid for this call. */
	for (unsigned i = 0; i < n; i++) {
		ws[i].fn(resp, resp != NULL ? len : 0, ws[i].arg);
	}
}
