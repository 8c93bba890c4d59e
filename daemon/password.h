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
 * Whether an encoded hash was made with other parameters than cost (so it
 * should be rehashed at the next successful login).
 */
bool ud_password_needs_rehash(const char *encoded,
			      const ud_password_cost *cost);

#endif
