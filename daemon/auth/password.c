/*
 * password.c - argon2id password hashes in the encoded form.
 */
#include <errno.h>
#include <string.h>

#include <argon2.h>

#include "password.h"
#include "model.h"
#include "users_proto.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define PREFIX   "$argon2id$"

/*
 * The most a stored hash may ask of verify: a corrupted or planted hash
 * must not make one login allocate gigabytes or spin for minutes.
 */
#define MAX_M_KIB (4u * 1024 * 1024) /* 4 GiB */
#define MAX_T     1000u
#define MAX_P     64u

const ud_password_cost ud_password_cost_default = {19456, 2, 1};

/*
 * Reads a decimal uint32 at *p (no sign, at least one digit) and advances
 * past it. 0, or -1 when there is none or it overflows.
 */
static int
parse_u32(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9') {
		return -1;
	}
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX) {
			return -1;
		}
		s++;
	}
	*p = s;
	*out = (uint32_t)v;
	return 0;
}

/* Expects the literal lit at *p and advances past it. */
static int
expect(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0) {
		return -1;
	}
	*p += n;
	return 0;
}

/*
 * Parses "$argon2id$v=19$m=M,t=T,p=P$" at the start of encoded. 0, or -1
 * when it is not an argon2id version 19 hash.
 */
static int
parse_params(const char *encoded, ud_password_cost *cost)
{
	const char *p = encoded;
	uint32_t v;

	if (expect(&p, PREFIX "v=") != 0 || parse_u32(&p, &v) != 0 ||
	    v != ARGON2_VERSION_13 || expect(&p, "$m=") != 0 ||
	    parse_u32(&p, &cost->m_kib) != 0 || expect(&p, ",t=") != 0 ||
	    parse_u32(&p, &cost->t) != 0 || expect(&p, ",p=") != 0 ||
	    parse_u32(&p, &cost->p) != 0 || expect(&p, "$") != 0) {
		return -1;
	}
	return 0;
}

int
ud_password_hash(const ud_password_cost *cost, const char *pw, size_t len,
		 char *out, size_t out_size)
{
	uint8_t salt[SALT_LEN];
	int rc = UP_INTERNAL;

	if (cost == NULL) {
		cost = &ud_password_cost_default;
	}
	if (out == NULL || out_size == 0) {
		return UP_INVALID_ARGUMENT;
	}
	out[0] = '\0';
	if (pw == NULL || len < UD_PASSWORD_MIN_LEN ||
	    len > UD_PASSWORD_MAX_LEN) {
		return UP_INVALID_ARGUMENT;
	}
	if (cost->m_kib > MAX_M_KIB || cost->t > MAX_T || cost->p > MAX_P ||
	    argon2_encodedlen(cost->t, cost->m_kib, cost->p, SALT_LEN, HASH_LEN,
			      Argon2_id) > out_size) {
		return UP_INVALID_ARGUMENT;
	}
	if (ud_random_bytes(salt, sizeof(salt)) != 0) {
		goto out;
	}
	if (argon2id_hash_encoded(cost->t, cost->m_kib, cost->p, pw, len, salt,
				  sizeof(salt), HASH_LEN, out,
				  out_size) != ARGON2_OK) {
		out[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	memset(salt, 0, sizeof(salt));
	return rc;
}

int
ud_password_verify(const char *encoded, const char *pw, size_t len)
{
	ud_password_cost c;

	/*
	 * Only the upper bound is enforced here (it bounds the work); a hash
	 * made elsewhere may cover a password shorter than we accept now.
	 */
	if (encoded == NULL || (pw == NULL && len > 0) ||
	    len > UD_PASSWORD_MAX_LEN ||
	    strnlen(encoded, UD_PASSWORD_HASH_MAX) >= UD_PASSWORD_HASH_MAX) {
		return UP_UNAUTHENTICATED;
	}
	if (parse_params(encoded, &c) != 0 || c.m_kib > MAX_M_KIB ||
	    c.t > MAX_T || c.p > MAX_P) {
		return UP_UNAUTHENTICATED;
	}
	/* argon2id_verify compares the hashes in constant time. */
	if (argon2id_verify(encoded, pw != NULL ? pw : "", len) != ARGON2_OK) {
		return UP_UNAUTHENTICATED;
	}
	return 0;
}

bool
ud_password_cost_secure(const ud_password_cost *cost)
{
	return cost->m_kib >= UD_PASSWORD_FLOOR_M_KIB &&
	       (uint64_t)cost->m_kib * cost->t >= UD_PASSWORD_FLOOR_M_T;
}

bool
ud_password_needs_rehash(const char *encoded, const ud_password_cost *cost)
{
	ud_password_cost c;

	if (cost == NULL) {
		cost = &ud_password_cost_default;
	}
	if (encoded == NULL || parse_params(encoded, &c) != 0) {
		return false;
	}
	return cost->m_kib >= c.m_kib && cost->t >= c.t &&
	       (cost->m_kib > c.m_kib || cost->t > c.t);
}
