/*
 * callers.c - the records of recent callers (callers.h): a table of slots
 * by user id, each with its lock and generation.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "callers.h"
#include "users_proto.h"

typedef struct slot {
	pthread_mutex_t mu;
	ud_user u;    /* the record kept; id 0: none */
	uint64_t gen; /* advanced by every forget of the slot's users */
} slot;

struct ud_callers {
	unsigned n;
	slot *s;
};

int
ud_callers_alloc(ud_callers **out, unsigned slots)
{
	ud_callers *cc;

	*out = NULL;
	if (slots == 0) {
		slots = UD_CALLERS_SLOTS;
	}
	if (slots > UD_CALLERS_MAX) {
		return UP_INVALID_ARGUMENT;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL ||
	    (cc->s = calloc(slots, sizeof(*cc->s))) == NULL) {
		free(cc);
		return UP_INTERNAL;
	}
	cc->n = slots;
	for (unsigned i = 0; i < slots; i++) {
		pthread_mutex_init(&cc->s[i].mu, NULL);
		ud_store_user_init(&cc->s[i].u);
	}
	*out = cc;
	return 0;
}

/* Drops what a slot keeps; with its lock held. */
static void
slot_clear(slot *sl)
{
	ud_user_fini(&sl->u); /* the hash was never kept: nothing to wipe */
	sl->gen++;
}

void
ud_callers_free(ud_callers *cc)
{
	if (cc == NULL) {
		return;
	}
	for (unsigned i = 0; i < cc->n; i++) {
		ud_user_fini(&cc->s[i].u);
		pthread_mutex_destroy(&cc->s[i].mu);
	}
	free(cc->s);
	free(cc);
}

static slot *
slot_of(ud_callers *cc, int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL; /* Fibonacci */

	return &cc->s[(h >> 32) % cc->n];
}

void
ud_callers_forget(ud_callers *cc, int64_t id)
{
	if (id == 0) {
		for (unsigned i = 0; i < cc->n; i++) {
			pthread_mutex_lock(&cc->s[i].mu);
			slot_clear(&cc->s[i]);
			pthread_mutex_unlock(&cc->s[i].mu);
		}
		return;
	}
	slot *sl = slot_of(cc, id);

	pthread_mutex_lock(&sl->mu);
	/* even when another user is kept there: a read of id under way
	 * must not keep what it read */
	if (sl->u.id == id) {
		ud_user_fini(&sl->u);
	}
	sl->gen++;
	pthread_mutex_unlock(&sl->mu);
}

void
ud_callers_changed(void *arg, int64_t id)
{
	ud_callers_forget(arg, id);
}

/* A caller's record holds no password hash, nor the image content. */
static void
strip(ud_user *u)
{
	if (u->password_hash != NULL) {
		up_wipe(u->password_hash, strlen(u->password_hash));
		free(u->password_hash);
		u->password_hash = NULL;
	}
	free(u->image_content);
	u->image_content = NULL;
}

/*
 * Keeps a copy of u in its slot, unless a forget came since gen was read
 * (u may predate the change).
 */
static void
keep(ud_callers *cc, const ud_user *u, uint64_t gen)
{
	slot *sl = slot_of(cc, u->id);
	ud_user k;

	if (ud_store_user_copy(&k, u) != 0) {
		return; /* a cache: nothing kept */
	}
	pthread_mutex_lock(&sl->mu);
	if (sl->gen == gen) {
		ud_user_fini(&sl->u);
		sl->u = k;
		k.id = 0;
	}
	pthread_mutex_unlock(&sl->mu);
	if (k.id != 0) {
		ud_user_fini(&k);
	}
}

/*
 * The verdict of the check on conn into *out (the copy handed out): a
 * stale copy is replaced by the current record, which is kept when gen
 * (read before the check went out) says nothing changed since; else the
 * slot is only cleared, and the next call reads the user again.
 */
static int
verdict(ud_callers *cc, ud_store_conn *conn, int64_t id, const uint64_t *gen,
	ud_user *out)
{
	ud_user now;
	int rc = ud_store_user_check_end(conn, &now);

	if (rc == UD_STORE_CHANGED) {
		strip(&now);
		if (gen != NULL) {
			keep(cc, &now, *gen);
		} else {
			ud_callers_forget(cc, id);
		}
		ud_user_fini(out);
		*out = now;
		return UD_CALLERS_STALE;
	}
	if (rc == UP_NOT_FOUND) {
		ud_callers_forget(cc, id);
	}
	return rc;
}

int
ud_callers_get(ud_callers *cc, ud_store_conn *conn, int64_t id, unsigned flags,
	       ud_user *out)
{
	slot *sl = slot_of(cc, id);
	bool hit = false;
	int64_t rev = 0;
	uint64_t gen;
	int rc;

	ud_store_user_init(out);
	if (id <= 0) {
		return UP_NOT_FOUND;
	}
	pthread_mutex_lock(&sl->mu);
	gen = sl->gen;
	if (sl->u.id == id && ud_store_user_copy(out, &sl->u) == 0) {
		hit = true;
		rev = sl->u.rev;
	}
	pthread_mutex_unlock(&sl->mu);
	if (!hit) {
		/*
		 * gen was read before this read's snapshot is taken (SQLite
		 * takes it at a transaction's first read, PostgreSQL per
		 * statement): a change committed before the snapshot was
		 * reported before gen was read, or advances it before keep.
		 */
		if ((rc = ud_store_user_get(conn, id, out)) == 0) {
			strip(out);
			keep(cc, out, gen);
		}
		return rc;
	}
	if (!(flags & UD_CALLERS_CHECK)) {
		return 0; /* every change is this daemon's: reported */
	}
	if (flags & UD_CALLERS_DEFER) {
		return UD_CALLERS_UNCHECKED;
	}
	if ((rc = ud_store_user_check(conn, id, rev)) != 0) {
		ud_user_fini(out);
		return rc;
	}
	if (flags & UD_CALLERS_LATER) {
		return UD_CALLERS_PENDING;
	}
	if ((rc = verdict(cc, conn, id, &gen, out)) == UD_CALLERS_STALE) {
		rc = 0; /* out is the current record */
	}
	if (rc != 0) {
		ud_user_fini(out);
	}
	return rc;
}

int
ud_callers_verify(ud_callers *cc, ud_store_conn *conn, int64_t id, ud_user *out)
{
	return verdict(cc, conn, id, NULL, out);
}

int
ud_callers_recheck(ud_callers *cc, ud_store_conn *conn, int64_t id, int64_t rev,
		   ud_user *out)
{
	int rc = ud_store_user_check(conn, id, rev);

	return rc != 0 ? rc : verdict(cc, conn, id, NULL, out);
}
