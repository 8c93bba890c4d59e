/*
 * lockout.c - attempts at a password per folded user name (lockout.h).
 *
 * The states live in an age table (agetable.h: keyed by a seeded SHA-256
 * of the folded name, ordered by last attempt, oldest first, for
 * eviction). One mutex guards it, and every change of a name's state
 * happens under it: a reservation and the count it is checked against are
 * one step.
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

#include "agetable.h"
#include "lockout.h"
#include "users_proto.h"

/* Names are folded and compared on their first KEY_MAX bytes. */
#define KEY_MAX UD_LOCKOUT_KEY_MAX

typedef struct entry {
	ud_agetable_node node; /* first: the table links entries by it */
	ud_login_state st;
} entry;

struct ud_lockout {
	pthread_mutex_t mu;
	ud_lockout_config cfg;
	ud_agetable t;
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

/* The table's key of a name. */
static void
key_of(const ud_lockout *l, const char *name, uint8_t key[UD_AGETABLE_KEY_LEN])
{
	char folded[KEY_MAX];

	ud_agetable_key(&l->t, folded, fold(name, folded), key);
}

static entry *
oldest(const ud_lockout *l)
{
	return (entry *)l->t.oldest;
}

static void
remove_entry(ud_lockout *l, entry *e)
{
	ud_agetable_remove(&l->t, &e->node);
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
	if (ud_agetable_init(&l->t, l->cfg.max_entries) != 0 ||
	    pthread_mutex_init(&l->mu, NULL) != 0) {
		ud_agetable_fini(&l->t, NULL);
		free(l);
		return UP_INTERNAL;
	}
	*out = l;
	return 0;
}

static void
entry_free(ud_agetable_node *n)
{
	free(n);
}

void
ud_lockout_free(ud_lockout *l)
{
	if (l == NULL) {
		return;
	}
	pthread_mutex_destroy(&l->mu);
	ud_agetable_fini(&l->t, entry_free);
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
	while (oldest(l) != NULL && expired(l, oldest(l), now_s)) {
		remove_entry(l, oldest(l));
	}
	for (int i = 0; l->t.count >= l->cfg.max_entries && oldest(l) != NULL &&
			i < EVICT_LOOK;
	     i++) {
		entry *e = oldest(l);

		if (!held(e, now_s)) {
			remove_entry(l, e);
			break;
		}
		ud_agetable_touch(&l->t, &e->node);
	}
	return l->t.count < l->cfg.max_entries;
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
	uint8_t key[UD_AGETABLE_KEY_LEN];
	ud_login_state st;
	entry *e;
	int rc = 0;

	key_of(l, name, key);
	pthread_mutex_lock(&l->mu);
	e = (entry *)ud_agetable_find(&l->t, key);
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
		    (e = calloc(1, sizeof(*e))) == NULL) {
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
		memcpy(e->node.key, key, sizeof(key));
		ud_agetable_add(&l->t, &e->node);
	} else if (what == FAILURE || (what == RESERVE && rc == 0)) {
		ud_agetable_touch(&l->t, &e->node);
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
	uint8_t key[UD_AGETABLE_KEY_LEN];
	entry *e;

	key_of(l, name, key);
	pthread_mutex_lock(&l->mu);
	if ((e = (entry *)ud_agetable_find(&l->t, key)) != NULL) {
		remove_entry(l, e);
	}
	pthread_mutex_unlock(&l->mu);
}
