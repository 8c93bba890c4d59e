/*
 * lockout.h - limits the guesses at one user name's password, whether or
 * not the user exists (so the answer reveals nothing).
 *
 * Keys are user names folded to lowercase. Every attempt at a name's
 * password is counted before the password is checked, so that attempts
 * made at once count as many as they are:
 *
 *   reserve   before the check: the attempt takes one of the name's
 *             free_failures attempts of the current window, and holds it
 *             until its verdict. Refused (UP_RESOURCE_EXHAUSTED, and the
 *             password is not checked) while the name is locked, or while
 *             the window's failures and the attempts still running add up
 *             to free_failures. So at most free_failures attempts per
 *             window are ever checked against the password, however many
 *             arrive together; the others are refused at once.
 *   failure   the verdict "wrong": the attempt becomes a failure. The
 *             free_failures-th failure of a window locks the name for
 *             lock_s seconds, doubling with each further lock up to
 *             max_lock_s, and starts a new window.
 *   success   the verdict "right": the name is forgotten (failures,
 *             doubling and the other attempts' reservations with it).
 *   release   no verdict (the attempt ended before its check: the hashers
 *             full, the store unavailable, the call cancelled): the
 *             attempt is given back, as if it never was.
 *
 * Every reserve must be followed by exactly one of failure, success or
 * release. A consequence: more than free_failures sign-ins at once for
 * one name, right passwords included, are refused; callers that sign in
 * in parallel should sign in once and use the token.
 *
 * Precisely: the window starts with the name's first attempt and lasts
 * window_s (an attempt after it starts a new one); a lock starts a new
 * one. A failure whose attempt was reserved before the name locked (it
 * ran meanwhile) is not counted. A name is forgotten (doubling included)
 * window_s after its last attempt or the end of its lock, whichever is
 * later, and as soon as it holds nothing (no failure, lock or
 * reservation). Reservations are dropped when the name has seen no attempt
 * for UD_LOCKOUT_PENDING_TTL_S (an attempt never lives that long; one
 * whose daemon died gives its slot back then). A failure without a
 * reservation (it was dropped, or cleared by a success) still counts; a
 * release without one changes nothing. Names are compared on their first
 * 320 bytes. Zero config fields take the defaults; cfg may be NULL.
 *
 * The table (ud_lockout) keeps the states in this process: bounded (states
 * expire; when full, the oldest that is not held is forgotten: one with
 * failures short of a lock, never one that is locked, has been locked in
 * its window, or has attempts running; when all the oldest are held, an
 * attempt at a new name is refused with UP_RESOURCE_EXHAUSTED, retry in
 * 1 s, so that no flood of names can reset a lock), thread-safe. The same
 * policy applies to a state kept elsewhere (ud_lockout_state_*: the store's
 * rows, when several daemons share it; the caller keeps each change of one
 * name's state atomic, e.g. under a lock of its row).
 */
#ifndef UD_LOCKOUT_H
#define UD_LOCKOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Names are folded and compared on their first bytes, up to this many. */
#define UD_LOCKOUT_KEY_MAX 320

typedef struct ud_lockout ud_lockout;

typedef struct ud_lockout_config {
	unsigned free_failures; /* default 5 */
	unsigned window_s;      /* default 900 */
	unsigned lock_s;        /* default 60 */
	unsigned max_lock_s;    /* default 900 */
	unsigned max_entries;   /* default 65536 */
} ud_lockout_config;

/* 0 or UP_INTERNAL. */
int ud_lockout_alloc(ud_lockout **out, const ud_lockout_config *cfg);
void ud_lockout_free(ud_lockout *l);

/*
 * Before checking a password: 0 when the attempt may go on (it holds a
 * reservation now), or UP_RESOURCE_EXHAUSTED when it is refused;
 * *retry_after_s (may be NULL) then says in how many seconds to try again:
 * the rest of the lock, or 1 when the name's attempts are all taken by
 * attempts still running.
 */
int ud_lockout_reserve(ud_lockout *l, const char *name, int64_t now_s,
		       int64_t *retry_after_s);
/* The verdicts of a reserved attempt (see above). */
void ud_lockout_failure(ud_lockout *l, const char *name, int64_t now_s);
void ud_lockout_success(ud_lockout *l, const char *name);
void ud_lockout_release(ud_lockout *l, const char *name, int64_t now_s);

/* Seconds after which the reservations of an idle name are dropped. */
#define UD_LOCKOUT_PENDING_TTL_S 60

/* The table's configuration, defaults filled in. */
const ud_lockout_config *ud_lockout_config_of(const ud_lockout *l);
/* The folded key of a name (NUL-terminated); returns its length. */
size_t ud_lockout_key(const char *name, char key[UD_LOCKOUT_KEY_MAX + 1]);

/*
 * The policy on one name's state kept elsewhere; a zeroed state is a name
 * nobody tried. Each changes s as the table would; the caller stores it.
 * Success is forgetting the state.
 */
int ud_lockout_state_reserve(const ud_lockout_config *cfg, ud_login_state *s,
			     int64_t now_s, int64_t *retry_after_s);
void ud_lockout_state_failure(const ud_lockout_config *cfg, ud_login_state *s,
			      int64_t now_s);
void ud_lockout_state_release(ud_login_state *s);
/*
 * True when s can be forgotten: expired, or holding nothing (no failures,
 * lock, doubling or reservation).
 */
bool ud_lockout_state_forgotten(const ud_lockout_config *cfg,
				const ud_login_state *s, int64_t now_s);

#endif
