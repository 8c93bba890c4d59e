/*
 * password.h - password hashing with argon2id (libargon2), in the
 * self-describing encoded form "$argon2id$v=19$m=...,t=...,p=...$salt$hash".
 *
 * These calls are slow on purpose (~19 ms at OWASP's parameters): call them
 * only from the daemon's hashing pool, never from an I/O thread.
 */
#ifndef UD_PASSWORD_H
#define UD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UD_PASSWORD_MIN_LEN  8
#define UD_PASSWORD_MAX_LEN  1024
#define UD_PASSWORD_HASH_MAX 192 /* longest encoded hash, NUL included */

typedef struct ud_password_cost {
	uint32_t m_kib; /* memory, KiB (OWASP: 19456) */
	uint32_t t;     /* iterations (OWASP: 2) */
	uint32_t p;     /* lanes (1) */
} ud_password_cost;

/* OWASP's argon2id parameters: m=19 MiB, t=2, p=1. */
extern const ud_password_cost ud_password_cost_default;

/*
 * The weakest cost usersd accepts unless told it is for tests: OWASP's
 * argon2id minimums, which trade memory for passes from m=47104 KiB, t=1
 * to m=7168 KiB, t=5, all at about the same cost per guess. A cost is
 * secure when it has at least UD_PASSWORD_FLOOR_M_KIB of memory and its
 * memory times its passes is at least UD_PASSWORD_FLOOR_M_T (lanes do not
 * change what a guess costs an attacker, so they do not count).
 */
#define UD_PASSWORD_FLOOR_M_KIB 7168u
#define UD_PASSWORD_FLOOR_M_T   35840u
bool ud_password_cost_secure(const ud_password_cost *cost);

/*
 * Hashes pw[0..len) with a fresh 16-byte random salt into out (at least
 * UD_PASSWORD_HASH_MAX bytes). 0, or UP_INVALID_ARGUMENT (length outside
 * 8..1024), or UP_INTERNAL.
 */
int ud_password_hash(const ud_password_cost *cost, const char *pw, size_t len,
		     char *out, size_t out_size);

/*
 * Verifies pw against an encoded hash, in constant time for the comparison.
 * 0 when it matches, UP_UNAUTHENTICATED when not (or the hash is malformed).
 */
int ud_password_verify(const char *encoded, const char *pw, size_t len);

/*
 * Whether an encoded hash (one that just verified) should be replaced at
 * the next successful login by one made at cost: only when cost is at
 * least as strong in memory and in passes and stronger in one of them.
 * Never to a weaker cost, nor to a mix (more memory, fewer passes): a
 * stored hash stronger than the configured cost stays as it is. Lanes
 * alone are no reason. False for NULL or a hash it cannot read.
 */
bool ud_password_needs_rehash(const char *encoded,
			      const ud_password_cost *cost);

#endif
