/*
 * lockout.h - slows and then refuses repeated failed logins for one user
 * name, whether or not the user exists (so the answer reveals nothing).
 *
 * Keys are user names folded to lowercase. After `free_failures` failed
 * attempts within `window_s`, the name is locked for `lock_s` seconds,
 * doubling with each further lock up to `max_lock_s`. A success clears it.
 * The table is bounded (entries expire; when full the oldest is evicted).
 * Thread-safe.
 *
 * Precisely: a lock starts a new window, so the next lock takes
 * free_failures more failures (and lasts twice as long); failures while
 * locked are not counted. A name is forgotten (doubling included) window_s
 * after its last failure or the end of its lock, whichever is later.
 * Names are compared on their first 320 bytes. Zero config fields take
 * the defaults; cfg may be NULL.
 */
#ifndef UD_LOCKOUT_H
#define UD_LOCKOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

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
 * Before checking a password: 0 to go on, or UP_RESOURCE_EXHAUSTED while
 * the name is locked (*retry_after_s then says for how long).
 */
int ud_lockout_check(ud_lockout *l, const char *name, int64_t now_s,
		     int64_t *retry_after_s);
void ud_lockout_failure(ud_lockout *l, const char *name, int64_t now_s);
void ud_lockout_success(ud_lockout *l, const char *name);

/*
 * The same policy on a state kept elsewhere (the store, when several
 * daemons share it). A zeroed state is a name with no failures.
 */
/* The table's configuration, defaults filled in. */
const ud_lockout_config *ud_lockout_config_of(const ud_lockout *l);
/* The folded key of a name (NUL-terminated); returns its length. */
size_t ud_lockout_key(const char *name, char key[UD_LOCKOUT_KEY_MAX + 1]);
/* 0, or UP_RESOURCE_EXHAUSTED while locked (*retry_after_s: how long). */
int ud_lockout_state_check(const ud_lockout_config *cfg,
			   const ud_login_state *s, int64_t now_s,
			   int64_t *retry_after_s);
/* Counts one failure into s (starting over when s had expired). */
void ud_lockout_state_failure(const ud_lockout_config *cfg, ud_login_state *s,
			      int64_t now_s);
/* True when s has expired and can be forgotten. */
bool ud_lockout_state_forgotten(const ud_lockout_config *cfg,
				const ud_login_state *s, int64_t now_s);

#endif
