/*
 * callers.h - the records of recent callers, kept between their calls.
 *
 * A call with a bearer token acts as the token's user, whose record
 * (roles, memberships, token version, disabled) decides what the call may
 * do. The record is read from the store once and kept here, by user id,
 * until a change of the user makes it stale:
 *   - a change made by this daemon: the store reports every user a commit
 *     changed, before any write of the commit is answered
 *     (ud_store_config.changed, which service.c points at
 *     ud_callers_changed), so the next call reads the record again;
 *   - a change made by another daemon of a shared store (PostgreSQL):
 *     every copy handed out is checked against the user's revision in the
 *     store (ud_store_user_check), either at once or, for a call that can
 *     be run again (UD_CALLERS_LATER), in the same round trip as the
 *     call's first read; a call that went on with a copy found stale is
 *     run again with the current record (dispatch.c), before anything it
 *     decided leaves its thread. A write's copy (UD_CALLERS_DEFER) is
 *     checked by the write itself, in its transaction, with its first
 *     statements (ud_store_user_expect): a stale one rolls the write back
 *     and the call runs again; a write call that ends before its write
 *     checks it then (ud_callers_recheck).
 * So a role removed, a password changed (the token version) or a user
 * deleted, on any daemon, holds from the caller's very next call.
 *
 * Copies are deep (the caller finis them); a caller's record, kept or
 * handed out, never holds the password hash or the image content. Bounded: a
 * fixed table of slots by user id, a newer record replacing an older one in its
 * slot. Thread-safe: a lock per slot, never held across a store round trip; a
 * record read while a change of its user was reported is not kept (a slot's
 * generation). Lifecycle: ud_callers_alloc before the store opens (the
 * store reports to it), ud_callers_free after it closed.
 */
#ifndef UD_CALLERS_H
#define UD_CALLERS_H

#include <stdint.h>

#include "store.h"

typedef struct ud_callers ud_callers;

#define UD_CALLERS_SLOTS 1024 /* slots when 0 is asked for */
#define UD_CALLERS_MAX   (1u << 20)

/* slots 0: UD_CALLERS_SLOTS. 0; UP_INVALID_ARGUMENT past UD_CALLERS_MAX;
 * UP_INTERNAL (out of memory). */
int ud_callers_alloc(ud_callers **out, unsigned slots);
void ud_callers_free(ud_callers *cc);

/* A committed change of user id (0: of any user): its record is dropped. */
void ud_callers_forget(ud_callers *cc, int64_t id);
/* The same, as ud_store_config.changed (arg: the ud_callers). */
void ud_callers_changed(void *arg, int64_t id);

/* ud_callers_get's flags */
enum {
	UD_CALLERS_CHECK = 1 << 0, /* other daemons write: check copies */
	UD_CALLERS_LATER = 1 << 1, /* ...with conn's next statement */
	UD_CALLERS_DEFER = 1 << 2, /* ...by the caller: nothing sent */
};
/* ud_callers_get: a copy handed out, its check sent with conn's next
 * statement; ud_callers_verify gives the verdict. */
#define UD_CALLERS_PENDING 1
/* ud_callers_verify: the copy was stale; *out is the current record. */
#define UD_CALLERS_STALE 2
/* ud_callers_get with UD_CALLERS_DEFER: a kept copy, not checked yet. */
#define UD_CALLERS_UNCHECKED 3

/*
 * User id's record into *out (ud_store_user_init'ed here; the caller finis
 * it): kept, or read on conn and kept. With UD_CALLERS_CHECK a kept copy is
 * checked against the store: at once, or with UD_CALLERS_LATER too, sent
 * with conn's next statement (UD_CALLERS_PENDING: ud_callers_verify on
 * conn before anything decided with the copy leaves the thread); with
 * UD_CALLERS_DEFER instead, nothing is sent (UD_CALLERS_UNCHECKED: the
 * caller has the copy checked before anything decided with it holds). 0,
 * UD_CALLERS_PENDING, UD_CALLERS_UNCHECKED, UP_NOT_FOUND (no such user), or
 * the store's error.
 */
int ud_callers_get(ud_callers *cc, ud_store_conn *conn, int64_t id,
		   unsigned flags, ud_user *out);
/*
 * The verdict on the copy of a ud_callers_get that answered
 * UD_CALLERS_PENDING for user id (waiting for it when no statement went
 * out): 0 when it was current; UD_CALLERS_STALE with the current record in
 * *out (whatever out held finied first; the slot is cleared, and the next
 * call reads the user again); UP_NOT_FOUND when the user is gone
 * (forgotten); or the store's error.
 */
int ud_callers_verify(ud_callers *cc, ud_store_conn *conn, int64_t id,
		      ud_user *out);
/*
 * The check of an UD_CALLERS_UNCHECKED copy in *out (user id at revision
 * rev), in one round trip on conn: the verdict as ud_callers_verify's.
 */
int ud_callers_recheck(ud_callers *cc, ud_store_conn *conn, int64_t id,
		       int64_t rev, ud_user *out);

#endif
