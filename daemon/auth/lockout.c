/*
 * lockout.c - attempts at a password per folded user name (lockout.h).
 *
 * A chained hash table (buckets keyed by a SHA-256 of a random seed and the
 * folded name, so bucket collisions cannot be aimed) plus a list ordered
 * by last attempt, oldest first, for eviction. One mutex guards both, and
 * every change of a name's state happens under it: a reservation and the
 * count it is checked against are one step.
 *
 * Each state counts the failures of the current window and the attempts
 * reserved and not yet judged (pending). Reaching free_failures failures
 * locks the name for lock_s << (locks so far), at most max_lock_s, and
 * starts a new window. A state is forgotten (its doubling with it) window_s
 * after its last attempt or the end of its lock, whichever is later, by a
 * success, or as soon as it holds nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "lockout.h"
#include "users_proto.h"

/* Names are folded and compared on their first KEY_MAX bytes. */
#define KEY_MAX UD_LOCKOUT_KEY_MAX

typedef struct entry {
	struct entry *next;  /* bucket chain */
	struct entry *older; /* age list */
	struct entry *newer;
	uint64_t hash;
	ud_login_state st;
	size_t key_len;
	char key[];
} entry;

struct ud_lockout {
	pthread_mutex_t mu;
	ud_lockout_config cfg;
	entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t count;
	entry *oldest;
	entry *newest;
	uint8_t seed[16];
};

static size_t
fold(const char *name, char *out)
{
	size_t n = 0;

	if (name == NULL) {
		return 0;
	}
	for (; name[n] != '\0' && n < KEY_MAX; n++) {
		out[n] = (char)tolower((unsigned char)name[n]);
	}
	return n;
}

static uint64_t
hash_key(const ud_lockout *l, const char *key, size_t n)
{
	mbedtls_sha256_context ctx;
	uint8_t d[32];
	uint64_t h = 0;

	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts_ret(&ctx, 0);
	mbedtls_sha256_update_ret(&ctx, l->seed, sizeof(l->seed));
	mbedtls_sha256_update_ret(&ctx, (const unsigned char *)key, n);
	mbedtls_sha256_finish_ret(&ctx, d);
	mbedtls_sha256_free(&ctx);
	for (int i = 0; i < 8; i++) {
		h = h << 8 | d[i];
	}
	return h;
}

static entry **
find_slot(ud_lockout *l, uint64_t h, const char *key, size_t n)
{
	entry **pp = &l->buckets[h & (l->n_buckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		entry *e = *pp;
		if (e->hash == h && e->key_len == n &&
		    memcmp(e->key, key, n) == 0) {
			break;
		}
	}
	return pp;
}

static void
age_unlink(ud_lockout *l, entry *e)
{
	if (e->older != NULL) {
		e->older->newer = e->newer;
	} else {
		l->oldest = e->newer;
	}
	if (e->newer != NULL) {
		e->newer->older = e->older;
	} else {
		l->newest = e->older;
	}
	e->older = e->newer = NULL;
}

static void
age_push_newest(ud_lockout *l, entry *e)
{
	e->older = l->newest;
	e->newer = NULL;
	if (l->newest != NULL) {
		l->newest->newer = e;
	} else {
		l->oldest = e;
	}
	l->newest = e;
}

static void
remove_entry(ud_lockout *l, entry *e)
{
	entry **pp = find_slot(l, e->hash, e->key, e->key_len);

	*pp = e->next;
	age_unlink(l, e);
	l->count--;
	free(e);
}

/* ------------------------------------------------------------------------
 * The policy, on one name's state (also used on states kept in the store)
 */

static bool
state_expired(const ud_lockout_config *cfg, const ud_login_state *s,
	      int64_t now_s)
{
	int64_t base = s->last > s->locked_until ? s->last : s->locked_until;

	return now_s - base >= (int64_t)cfg->window_s;
}

/*
 * Forgets an expired state; drops reservations the name has not seen an
 * attempt since UD_LOCKOUT_PENDING_TTL_S (their daemon died with them).
 * The window starts with the first attempt.
 */
static void
state_refresh(const ud_lockout_config *cfg, ud_login_state *s, int64_t now_s)
{
	if (state_expired(cfg, s, now_s)) {
		memset(s, 0, sizeof(*s));
	} else if (s->pending > 0 &&
		   now_s - s->last >= UD_LOCKOUT_PENDING_TTL_S) {
		s->pending = 0;
	}
	if (s->window_start == 0 && s->last == 0) {
		s->window_start = now_s;
	}
}

/* A new window once the current one has passed. */
static void
state_roll_window(const ud_lockout_config *cfg, ud_login_state *s,
		  int64_t now_s)
{
	if (now_s - s->window_start >= (int64_t)cfg->window_s) {
		s->window_start = now_s;
		s->failures = 0;
	}
}

int
ud_lockout_state_reserve(const ud_lockout_config *cfg, ud_login_state *s,
			 int64_t now_s, int64_t *retry_after_s)
{
	if (retry_after_s != NULL) {
		*retry_after_s = 0;
	}
	state_refresh(cfg, s, now_s);
	if (now_s < s->locked_until) {
		if (retry_after_s != NULL) {
			*retry_after_s = s->locked_until - now_s;
		}
		return UP_RESOURCE_EXHAUSTED;
	}
	state_roll_window(cfg, s, now_s);
	if ((int64_t)s->failures + s->pending >= (int64_t)cfg->free_failures) {
		/* taken by attempts still running: they end in moments */
		if (retry_after_s != NULL) {
			*retry_after_s = 1;
		}
		return UP_RESOURCE_EXHAUSTED;
	}
	s->pending++;
	s->last = now_s;
	return 0;
}

void
ud_lockout_state_failure(const ud_lockout_config *cfg, ud_login_state *s,
			 int64_t now_s)
{
	state_refresh(cfg, s, now_s);
	if (s->pending > 0) {
		s->pending--;
	}
	s->last = now_s;
	if (now_s < s->locked_until) {
		return; /* reserved before the lock: not counted */
	}
	state_roll_window(cfg, s, now_s);
	if (++s->failures >= (int32_t)cfg->free_failures) {
		int64_t dur = cfg->lock_s;
		for (int32_t i = 0; i < s->locks && dur < cfg->max_lock_s;
		     i++) {
			dur *= 2;
		}
		if (dur > cfg->max_lock_s) {
			dur = cfg->max_lock_s;
		}
		s->locked_until = now_s + dur;
		if (s->locks < 64) {
			s->locks++;
		}
		s->failures = 0;
		s->window_start = now_s;
	}
}

void
ud_lockout_state_release(ud_login_state *s)
{
	if (s->pending > 0) {
		s->pending--;
	}
}

bool
ud_lockout_state_forgotten(const ud_lockout_config *cfg,
			   const ud_login_state *s, int64_t now_s)
{
	return state_expired(cfg, s, now_s) ||
	       (s->failures == 0 && s->pending == 0 && s->locks == 0);
}

size_t
ud_lockout_key(const char *name, char key[UD_LOCKOUT_KEY_MAX + 1])
{
	size_t n = fold(name, key);

	key[n] = '\0';
	return n;
}

const ud_lockout_config *
ud_lockout_config_of(const ud_lockout *l)
{
	return &l->cfg;
}

/* ------------------------------------------------------------------------
 * The table
 */

static bool
expired(const ud_lockout *l, const entry *e, int64_t now_s)
{
	return state_expired(&l->cfg, &e->st, now_s);
}

int
ud_lockout_alloc(ud_lockout **out, const ud_lockout_config *cfg)
{
	ud_lockout *l;
	size_t want;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		return UP_INTERNAL;
	}
	if (cfg != NULL) {
		l->cfg = *cfg;
	}
	/* Zero fields take the defaults. */
	if (l->cfg.free_failures == 0) {
		l->cfg.free_failures = 5;
	}
	if (l->cfg.window_s == 0) {
		l->cfg.window_s = 900;
	}
	if (l->cfg.lock_s == 0) {
		l->cfg.lock_s = 60;
	}
	if (l->cfg.max_lock_s == 0) {
		l->cfg.max_lock_s = 900;
	}
	if (l->cfg.max_lock_s < l->cfg.lock_s) {
		l->cfg.max_lock_s = l->cfg.lock_s;
	}
	if (l->cfg.max_entries == 0) {
		l->cfg.max_entries = 65536;
	}
	want = l->cfg.max_entries;
	l->n_buckets = 16;
	while (l->n_buckets < want && l->n_buckets < ((size_t)1 << 24)) {
		l->n_buckets <<= 1;
	}
	l->buckets = calloc(l->n_buckets, sizeof(*l->buckets));
	if (l->buckets == NULL ||
	    ud_random_bytes(l->seed, sizeof(l->seed)) != 0 ||
	    pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l->buckets);
		free(l);
		return UP_INTERNAL;
	}
	*out = l;
	return 0;
}

void
ud_lockout_free(ud_lockout *l)
{
	entry *e, *next;

	if (l == NULL) {
		return;
	}
	for (e = l->oldest; e != NULL; e = next) {
		next = e->newer;
		free(e);
	}
	pthread_mutex_destroy(&l->mu);
	free(l->buckets);
	free(l);
}

/*
 * Whether forgetting e would let its name off: it is locked, has been
 * (the doubling), or has attempts running. A name's failures short of a
 * lock are not held: losing them gives a guesser no more than a lock
 * period would.
 */
static bool
held(const entry *e, int64_t now_s)
{
	return e->st.pending > 0 || e->st.locks > 0 ||
	       e->st.locked_until > now_s;
}

/* The most entries make_room looks at for one to forget. */
#define EVICT_LOOK 16

/*
 * Makes room for one entry: expired ones first, else the oldest one that
 * is not held. A held entry looked at moves to the newest end (so that
 * the next look starts past it); a flood of new names can therefore never
 * push a locked name out. false when there is no room: the oldest entries
 * are all held, and a new name must wait (the caller refuses it).
 */
static bool
make_room(ud_lockout *l, int64_t now_s)
{
	while (l->oldest != NULL && expired(l, l->oldest, now_s)) {
		remove_entry(l, l->oldest);
	}
	for (int i = 0; l->count >= l->cfg.max_entries && l->oldest != NULL &&
			i < EVICT_LOOK;
	     i++) {
		entry *e = l->oldest;

		if (!held(e, now_s)) {
			remove_entry(l, e);
			break;
		}
		age_unlink(l, e);
		age_push_newest(l, e);
	}
	return l->count < l->cfg.max_entries;
}

typedef enum change {
	RESERVE,
	FAILURE,
	RELEASE,
} change;

/*
 * Applies one change to name's state under the lock: the state's copy is
 * changed by the policy, then stored (a new entry when there was none,
 * the newest when it saw an attempt, refused ones aside) or forgotten.
 */
static int
apply(ud_lockout *l, const char *name, int64_t now_s, change what,
      int64_t *retry_after_s)
{
	char key[KEY_MAX];
	size_t n = fold(name, key);
	uint64_t h = hash_key(l, key, n);
	ud_login_state st;
	entry **pp, *e;
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	e = *find_slot(l, h, key, n);
	if (e == NULL && what == RELEASE) {
		goto out; /* nothing held: forgotten by a success */
	}
	if (e != NULL) {
		st = e->st;
	} else {
		memset(&st, 0, sizeof(st));
	}
	switch (what) {
	case RESERVE:
		rc = ud_lockout_state_reserve(&l->cfg, &st, now_s,
					      retry_after_s);
		break;
	case FAILURE:
		ud_lockout_state_failure(&l->cfg, &st, now_s);
		break;
	case RELEASE:
		ud_lockout_state_release(&st);
		break;
	}
	if (ud_lockout_state_forgotten(&l->cfg, &st, now_s)) {
		if (e != NULL) {
			remove_entry(l, e);
		}
		goto out;
	}
	if (e == NULL) {
		if (!make_room(l, now_s) ||
		    (e = calloc(1, sizeof(*e) + n)) == NULL) {
			/* No room (the table is full of locked names) or
			 * no memory: an attempt that cannot be counted does
			 * not go on; a failure goes uncounted. */
			if (what == RESERVE) {
				rc = UP_RESOURCE_EXHAUSTED;
				if (retry_after_s != NULL) {
					*retry_after_s = 1;
				}
			}
			goto out;
		}
		memcpy(e->key, key, n);
		e->key_len = n;
		e->hash = h;
		pp = &l->buckets[h & (l->n_buckets - 1)];
		e->next = *pp;
		*pp = e;
		l->count++;
		age_push_newest(l, e);
	} else if (what == FAILURE || (what == RESERVE && rc == 0)) {
		age_unlink(l, e);
		age_push_newest(l, e);
	}
	e->st = st;
out:
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int
ud_lockout_reserve(ud_lockout *l, const char *name, int64_t now_s,
		   int64_t *retry_after_s)
{
	if (retry_after_s != NULL) {
		*retry_after_s = 0;
	}
	return apply(l, name, now_s, RESERVE, retry_after_s);
}

void
ud_lockout_failure(ud_lockout *l, const char *name, int64_t now_s)
{
	(void)apply(l, name, now_s, FAILURE, NULL);
}

void
ud_lockout_release(ud_lockout *l, const char *name, int64_t now_s)
{
	(void)apply(l, name, now_s, RELEASE, NULL);
}

void
ud_lockout_success(ud_lockout *l, const char *name)
{
	char key[KEY_MAX];
	size_t n = fold(name, key);
	uint64_t h = hash_key(l, key, n);
	entry *e;

	pthread_mutex_lock(&l->mu);
	if ((e = *find_slot(l, h, key, n)) != NULL) {
		remove_entry(l, e);
	}
	pthread_mutex_unlock(&l->mu);
}
