/*
 * password.h - password hashing with argon2id (libargon2), in the
 * self-describing encoded form "$argon2id$v=19$m=...,t=...,p=...$salt$hash".
 *
 * Hashes made by other systems (imported users) verify by their own
 * scheme, and are replaced by argon2id at the first sign-in that proves
 * the password (ud_password_needs_rehash says so for every one of them):
 *   argon2id, argon2i   PHC strings, version 19 ("$argon2i$v=19$...")
 *   bcrypt              "$2a$", "$2b$", "$2y$" (libxcrypt's crypt_r)
 *   PBKDF2              PHC form "$pbkdf2-sha256$i=N$salt$hash", or
 *                       passlib's "$pbkdf2-sha256$N$salt$hash" (sha1,
 *                       sha256, sha512; standard or passlib's base64)
 *   ASP.NET Identity    base64 of the v2 layout (0x00, salt[16],
 *                       subkey[32]: PBKDF2-HMAC-SHA1, 1000 iterations)
 *                       or v3 (0x01, PRF, iterations, salt length, all
 *                       big-endian uint32, salt, subkey)
 * Every reading is bounded: lengths, salt and key sizes, and the cost a
 * hash may ask of one sign-in (UD_PASSWORD_CAP_*), so that a planted or
 * imported hash cannot make a sign-in take minutes or gigabytes.
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
/* Longest stored hash of any scheme verify reads, NUL included. */
#define UD_PASSWORD_STORED_MAX 256

/* The most a stored hash may ask of one verify. */
#define UD_PASSWORD_CAP_ARGON2_M_T (8u * 1024 * 1024) /* KiB x passes */
#define UD_PASSWORD_CAP_BCRYPT     14u      /* log2 rounds: 1.5-3 s here */
#define UD_PASSWORD_CAP_PBKDF2     1000000u /* iterations: 0.6-1.4 s */

/* The schemes of the stored hashes verify reads. */
typedef enum ud_hash_scheme {
	UD_HASH_UNKNOWN = 0,
	UD_HASH_ARGON2ID,
	UD_HASH_ARGON2I,
	UD_HASH_BCRYPT,
	UD_HASH_PBKDF2,
	UD_HASH_ASPNET_V2,
	UD_HASH_ASPNET_V3,
} ud_hash_scheme;

/* "argon2id", "bcrypt", "aspnet-v3", ...; "unknown". */
const char *ud_hash_scheme_name(ud_hash_scheme s);

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
 * Reads a stored hash of any scheme above without verifying anything:
 * 0 with its scheme, or UP_INVALID_ARGUMENT with *why (a static phrase
 * fit for an answer: "bcrypt cost above 14") when it is not one usersd
 * reads, is malformed, or asks more than the caps. why may be NULL.
 */
int ud_password_hash_parse(const char *encoded, ud_hash_scheme *scheme,
			   const char **why);

/*
 * Verifies pw against a stored hash of any scheme above (as
 * ud_password_hash_parse reads it), comparing in constant time.
 * 0 when it matches, UP_UNAUTHENTICATED when not (or the hash is malformed).
 */
int ud_password_verify(const char *encoded, const char *pw, size_t len);

/*
 * Whether an encoded hash (one that just verified) should be replaced at
 * the next successful login by one made at cost: always when it is not
 * argon2id (an imported hash); an argon2id hash only when cost is at
 * least as strong in memory and in passes and stronger in one of them.
 * Never to a weaker cost, nor to a mix (more memory, fewer passes): a
 * stored hash stronger than the configured cost stays as it is. Lanes
 * alone are no reason. False for NULL or a hash it cannot read.
 */
bool ud_password_needs_rehash(const char *encoded,
			      const ud_password_cost *cost);

#endif
