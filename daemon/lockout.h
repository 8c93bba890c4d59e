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

#include <stdint.h>

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

#endif
