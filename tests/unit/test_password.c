/*
 * test_password.c - argon2id hashing: roundtrip, salts, encoded cost,
 * rehash decisions, length bounds, malformed hashes.
 */
#include <argon2.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "password.h"
#include "users_proto.h"

static const ud_password_cost cheap = {64, 1, 1};

static void
test_roundtrip(void)
{
	char h1[UD_PASSWORD_HASH_MAX], h2[UD_PASSWORD_HASH_MAX];
	const char *pw = "correct horse battery";

	CHECK_INT(ud_password_hash(&cheap, pw, strlen(pw), h1, sizeof(h1)), 0);
	CHECK(strncmp(h1, "$argon2id$v=19$m=64,t=1,p=1$", 28) == 0);
	CHECK_INT(ud_password_verify(h1, pw, strlen(pw)), 0);
	CHECK_INT(ud_password_verify(h1, "correct horse batterx", strlen(pw)),
		  UP_UNAUTHENTICATED);
	CHECK_INT(ud_password_verify(h1, pw, strlen(pw) - 1),
		  UP_UNAUTHENTICATED);
	/* A fresh salt each time. */
	CHECK_INT(ud_password_hash(&cheap, pw, strlen(pw), h2, sizeof(h2)), 0);
	CHECK(strcmp(h1, h2) != 0);
	CHECK_INT(ud_password_verify(h2, pw, strlen(pw)), 0);
}

static void
test_embedded_nul(void)
{
	char h[UD_PASSWORD_HASH_MAX];
	const char a[] = "abcd\0efghij", b[] = "abcd\0xxxxxx";

	CHECK_INT(ud_password_hash(&cheap, a, sizeof(a) - 1, h, sizeof(h)), 0);
	CHECK_INT(ud_password_verify(h, a, sizeof(a) - 1), 0);
	CHECK_INT(ud_password_verify(h, b, sizeof(b) - 1), UP_UNAUTHENTICATED);
	CHECK_INT(ud_password_verify(h, a, 4), UP_UNAUTHENTICATED);
}

static void
test_cost_and_rehash(void)
{
	char h[UD_PASSWORD_HASH_MAX];
	const ud_password_cost c = {128, 3, 2};
	const ud_password_cost m2 = {256, 3, 2}, t2 = {128, 4, 2},
			       p2 = {128, 3, 1};

	CHECK_INT(ud_password_hash(&c, "password", 8, h, sizeof(h)), 0);
	CHECK(strstr(h, "$m=128,t=3,p=2$") != NULL);
	CHECK_INT(ud_password_verify(h, "password", 8), 0);
	CHECK(!ud_password_needs_rehash(h, &c));
	/* up: stronger in one, no weaker in the other */
	CHECK(ud_password_needs_rehash(h, &m2));
	CHECK(ud_password_needs_rehash(h, &t2));
	{
		const ud_password_cost both = {256, 4, 1};
		CHECK(ud_password_needs_rehash(h, &both));
	}
	/* lanes alone are no reason */
	CHECK(!ud_password_needs_rehash(h, &p2));
	/* never down, nor to a mix of more memory and fewer passes */
	{
		const ud_password_cost m_down = {64, 3, 2},
				       t_down = {128, 2, 2}, weak = {64, 1, 1},
				       mix = {256, 2, 2};
		CHECK(!ud_password_needs_rehash(h, &m_down));
		CHECK(!ud_password_needs_rehash(h, &t_down));
		CHECK(!ud_password_needs_rehash(h, &weak));
		CHECK(!ud_password_needs_rehash(h, &mix));
		/* OWASP's cost has more memory but fewer passes (2 < 3) */
		CHECK(!ud_password_needs_rehash(h, &ud_password_cost_default));
	}
	/* what cannot be read is never rehashed */
	CHECK(!ud_password_needs_rehash("", &c));
	CHECK(!ud_password_needs_rehash("$argon2i$v=19$m=128,t=3,p=2$x$y", &c));
	CHECK(
	    !ud_password_needs_rehash("$argon2id$v=16$m=128,t=3,p=2$x$y", &c));
	CHECK(!ud_password_needs_rehash(NULL, &c));
	CHECK_INT(ud_password_cost_default.m_kib, 19456);
	CHECK_INT(ud_password_cost_default.t, 2);
	CHECK_INT(ud_password_cost_default.p, 1);
}

/* The floor: OWASP's argon2id minimums. */
static void
test_cost_floor(void)
{
	static const ud_password_cost secure[] = {
	    {19456, 2, 1}, {47104, 1, 1}, {12288, 3, 1},
	    {9216, 4, 1},  {7168, 5, 1},  {65536, 3, 4},
	};
	static const ud_password_cost weak[] = {
	    {64, 1, 1},   {8, 1, 1},     {7167, 5, 1},
	    {7168, 4, 1}, {19456, 1, 1}, {35839, 1, 1},
	};

	for (size_t i = 0; i < sizeof(secure) / sizeof(secure[0]); i++) {
		CHECK(ud_password_cost_secure(&secure[i]));
	}
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		CHECK(!ud_password_cost_secure(&weak[i]));
	}
	CHECK(ud_password_cost_secure(&ud_password_cost_default));
}

static void
test_bounds(void)
{
	static char pw[UD_PASSWORD_MAX_LEN + 2];
	char h[UD_PASSWORD_HASH_MAX];

	memset(pw, 'x', sizeof(pw));
	CHECK_INT(ud_password_hash(&cheap, pw, 7, h, sizeof(h)),
		  UP_INVALID_ARGUMENT);
	CHECK_INT(ud_password_hash(&cheap, pw, 0, h, sizeof(h)),
		  UP_INVALID_ARGUMENT);
	CHECK_INT(
	    ud_password_hash(&cheap, pw, UD_PASSWORD_MAX_LEN + 1, h, sizeof(h)),
	    UP_INVALID_ARGUMENT);
	CHECK_INT(ud_password_hash(&cheap, pw, 8, h, sizeof(h)), 0);
	CHECK_INT(ud_password_verify(h, pw, 8), 0);
	CHECK_INT(
	    ud_password_hash(&cheap, pw, UD_PASSWORD_MAX_LEN, h, sizeof(h)), 0);
	CHECK_INT(ud_password_verify(h, pw, UD_PASSWORD_MAX_LEN), 0);
	CHECK_INT(ud_password_verify(h, pw, UD_PASSWORD_MAX_LEN + 1),
		  UP_UNAUTHENTICATED);
	/* An output buffer too small for the encoding. */
	CHECK_INT(ud_password_hash(&cheap, pw, 8, h, 40), UP_INVALID_ARGUMENT);
	CHECK_INT(ud_password_hash(&cheap, NULL, 8, h, sizeof(h)),
		  UP_INVALID_ARGUMENT);
}

static void
test_malformed(void)
{
	char h[UD_PASSWORD_HASH_MAX], bad[UD_PASSWORD_HASH_MAX];
	char h2i[UD_PASSWORD_HASH_MAX];
	uint8_t salt[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	char huge[400];

	CHECK_INT(ud_password_hash(&cheap, "password", 8, h, sizeof(h)), 0);
	CHECK_INT(ud_password_verify(NULL, "password", 8), UP_UNAUTHENTICATED);
	CHECK_INT(ud_password_verify("", "password", 8), UP_UNAUTHENTICATED);
	CHECK_INT(ud_password_verify("plaintext", "password", 8),
		  UP_UNAUTHENTICATED);
	/* Truncated. */
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(h) - 5, h);
	CHECK_INT(ud_password_verify(bad, "password", 8), UP_UNAUTHENTICATED);
	/* A valid argon2i hash of the right password is still refused. */
	CHECK_INT(argon2i_hash_encoded(1, 64, 1, "password", 8, salt,
				       sizeof(salt), 32, h2i, sizeof(h2i)),
		  ARGON2_OK);
	CHECK_INT(ud_password_verify(h2i, "password", 8), UP_UNAUTHENTICATED);
	/* Absurd parameters are refused before any work. */
	CHECK_INT(
	    ud_password_verify("$argon2id$v=19$m=4294967295,t=1,p=1$"
			       "AAAAAAAAAAAAAAAAAAAAAA$"
			       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			       "password", 8),
	    UP_UNAUTHENTICATED);
	/* Longer than any hash we make. */
	memset(huge, 'A', sizeof(huge));
	memcpy(huge, h, strlen(h));
	huge[sizeof(huge) - 1] = '\0';
	CHECK_INT(ud_password_verify(huge, "password", 8), UP_UNAUTHENTICATED);
}

/* The default cost is OWASP's first argon2id line, written into the hash,
 * and a hash at the default cost needs no rehash. (How long it takes is a
 * benchmark's question, not a test's.) */
static void
test_default_cost(void)
{
	char h[UD_PASSWORD_HASH_MAX];

	CHECK_INT(ud_password_hash(NULL, "password", 8, h, sizeof(h)), 0);
	CHECK(strstr(h, "$argon2id$") == h);
	CHECK(strstr(h, "$m=19456,t=2,p=1$") != NULL);
	CHECK_INT(ud_password_verify(h, "password", 8), 0);
	CHECK(!ud_password_needs_rehash(h, &ud_password_cost_default));
}

int
main(void)
{
	test_roundtrip();
	test_embedded_nul();
	test_cost_and_rehash();
	test_cost_floor();
	test_bounds();
	test_malformed();
	test_default_cost();
	return check_done();
}
