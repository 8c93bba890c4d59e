/*
 * test_password.c - argon2id hashing: roundtrip, salts, encoded cost,
 * rehash decisions, length bounds, malformed hashes; the foreign schemes
 * of imported hashes against vectors made by other tools.
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
	/* An argon2i hash (imported) verifies, and is replaced at once. */
	CHECK_INT(argon2i_hash_encoded(1, 64, 1, "password", 8, salt,
				       sizeof(salt), 32, h2i, sizeof(h2i)),
		  ARGON2_OK);
	CHECK_INT(ud_password_verify(h2i, "password", 8), 0);
	CHECK_INT(ud_password_verify(h2i, "passworx", 8), UP_UNAUTHENTICATED);
	CHECK(ud_password_needs_rehash(h2i, &ud_password_cost_default));
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

/*
 * Vectors of the password "correct horse battery" made by other tools:
 * the argon2 command line (Debian's argon2: salt "saltsaltsalt1234"),
 * Python's crypt (libxcrypt) for bcrypt, Python's hashlib.pbkdf2_hmac for
 * PBKDF2 and the ASP.NET Identity layouts (salt bytes 0..15), and two
 * published ones (OpenBSD's bcrypt "U*U", ASP.NET Identity's v2 test
 * vector of "my password").
 */
static const struct {
	const char *hash, *pw;
	ud_hash_scheme scheme;
} vectors[] = {
    {"$argon2id$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$"
     "IV3JPCAv5u+bjkLFaENTAHsi80WBrW4RmCe/TK3yqwk",
     NULL, UD_HASH_ARGON2ID},
    {"$argon2i$v=19$m=64,t=3,p=2$c2FsdHNhbHRzYWx0MTIzNA$"
     "CuAedp5d8iWi6TurwIILt4w6T6VxnTdwQgZctmakiPA",
     NULL, UD_HASH_ARGON2I},
    {"$2a$04$abcdefghijklmnopqrstuuqREtd3VJD2QVZbuFskFSLk6eRIrQoOS", NULL,
     UD_HASH_BCRYPT},
    {"$2b$04$abcdefghijklmnopqrstuuqREtd3VJD2QVZbuFskFSLk6eRIrQoOS", NULL,
     UD_HASH_BCRYPT},
    {"$2y$04$abcdefghijklmnopqrstuuqREtd3VJD2QVZbuFskFSLk6eRIrQoOS", NULL,
     UD_HASH_BCRYPT},
    {"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U",
     UD_HASH_BCRYPT},
    {"$pbkdf2-sha1$i=1000$AAECAwQFBgcICQoLDA0ODw$"
     "yr+bZKkEnTtGf3f18VjXM5CIxT9gt2kfzsoPOBHUS/Q",
     NULL, UD_HASH_PBKDF2},
    {"$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw$"
     "AhaeZ02AwPxykuhhDI8XvhQN8GKvmqM+qF6qvs/98I0",
     NULL, UD_HASH_PBKDF2},
    {"$pbkdf2-sha512$i=500$AAECAwQFBgcICQoLDA0ODw$"
     "Fs+gz67sAvmctAlLg0piJyPxO2DWFCDilaXDh6Rd0s/"
     "uRYVIVPWHRG3LOwaXX06zP9TkhlS1p2ykgNV7KEQjow",
     NULL, UD_HASH_PBKDF2},
    /* passlib's form: the count alone, '.' for '+' */
    {"$pbkdf2-sha256$2000$..//..//..//..//..//..//$"
     "ef2CaY.RwAPUJMDqNCMJt59c8L6xriBzwRcAxT76Q4k",
     NULL, UD_HASH_PBKDF2},
    {"AAABAgMEBQYHCAkKCwwNDg/Kv5tkqQSdO0Z/d/XxWNczkIjFP2C3aR/Oyg84EdRL9A==",
     NULL, UD_HASH_ASPNET_V2},
    {"AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg==",
     "my password", UD_HASH_ASPNET_V2},
    {"AQAAAAAAAAu4AAAAEAABAgMEBQYHCAkKCwwNDg8OadjS1DzvCNl4ATAUf8lHZyvHj4/"
     "L+xN72sVgfycAig==",
     NULL, UD_HASH_ASPNET_V3},
    {"AQAAAAEAAAu4AAAAEAABAgMEBQYHCAkKCwwNDg9mVS+XXh/"
     "zZKmoEAiQNs+CILCYJKrPk3RHUPVmSBlbOg==",
     NULL, UD_HASH_ASPNET_V3},
    {"AQAAAAIAAAu4AAAAEAABAgMEBQYHCAkKCwwNDg+rRvva+WVOgqJhGpZI7GjfMlqmLx2Gy/"
     "4HS6llPTIa7g==",
     NULL, UD_HASH_ASPNET_V3},
};

static void
test_foreign_vectors(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const char *pw =
		    vectors[i].pw ? vectors[i].pw : "correct horse battery";
		char wrong[64];
		ud_hash_scheme sc = UD_HASH_UNKNOWN;
		const char *why = "unset";

		CHECK_INT(ud_password_hash_parse(vectors[i].hash, &sc, &why),
			  0);
		CHECK_INT((int)sc, (int)vectors[i].scheme);
		CHECK(why == NULL);
		CHECK_INT(ud_password_verify(vectors[i].hash, pw, strlen(pw)),
			  0);
		snprintf(wrong, sizeof(wrong), "%s!", pw);
		CHECK_INT(
		    ud_password_verify(vectors[i].hash, wrong, strlen(wrong)),
		    UP_UNAUTHENTICATED);
		CHECK_INT(
		    ud_password_verify(vectors[i].hash, pw, strlen(pw) - 1),
		    UP_UNAUTHENTICATED);
		/* every foreign hash becomes argon2id at its first sign-in */
		CHECK(ud_password_needs_rehash(vectors[i].hash, &cheap) ==
		      (vectors[i].scheme != UD_HASH_ARGON2ID));
	}
}

/* Malformed, unknown or too costly: refused with a reason, never verified. */
static void
test_foreign_refused(void)
{
	static const struct {
		const char *hash, *why;
	} bad[] = {
	    {"", "empty password hash"},
	    {"plaintext-password", "not a password hash format usersd reads"},
	    {"$1$abc$def", "not a password hash format usersd reads"},
	    {"$2x$04$abcdefghijklmnopqrstuuqREtd3VJD2QVZbuFskFSLk6eRIrQoOS",
	     "not a password hash format usersd reads"},
	    {"$2b$04$abcdefghijklmnopqrstuuqREtd3VJD2QVZbuFskFSLk6eRIrQoO",
	     "malformed bcrypt hash"},
	    {"$2b$04$abcdefghijklmnopqrstuuqREtd3VJD2QVZbuFskFSLk6eRIrQo*S",
	     "malformed bcrypt hash"},
	    {"$2b$15$abcdefghijklmnopqrstuuqREtd3VJD2QVZbuFskFSLk6eRIrQoOS",
	     "bcrypt cost above the cap"},
	    {"$pbkdf2-md5$i=1000$AAECAwQFBgcICQoLDA0ODw$"
	     "yr+bZKkEnTtGf3f18VjXM5CIxT9gt2kfzsoPOBHUS/Q",
	     "PBKDF2 with a digest usersd does not read"},
	    {"$pbkdf2-sha256$i=1000001$AAECAwQFBgcICQoLDA0ODw$"
	     "AhaeZ02AwPxykuhhDI8XvhQN8GKvmqM+qF6qvs/98I0",
	     "PBKDF2 iterations above the cap"},
	    {"$pbkdf2-sha256$i=0$AAECAwQFBgcICQoLDA0ODw$"
	     "AhaeZ02AwPxykuhhDI8XvhQN8GKvmqM+qF6qvs/98I0",
	     "malformed PBKDF2 hash"},
	    {"$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw$AhaeZ02Aw",
	     "malformed PBKDF2 hash"},
	    {"$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw",
	     "malformed PBKDF2 hash"},
	    {"$argon2id$v=19$m=1048576,t=9,p=1$c2FsdHNhbHRzYWx0MTIzNA$"
	     "IV3JPCAv5u+bjkLFaENTAHsi80WBrW4RmCe/TK3yqwk",
	     "argon2 cost above the cap"},
	    {"$argon2id$v=16$m=64,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$"
	     "IV3JPCAv5u+bjkLFaENTAHsi80WBrW4RmCe/TK3yqwk",
	     "malformed argon2 hash"},
	    /* v2 one byte short; v3 with PRF 3; v3 with a salt past the end */
	    {"AAABAgMEBQYHCAkKCwwNDg/Kv5tkqQSdO0Z/d/XxWNczkIjFP2C3aR/Oyg84EdRL",
	     "malformed ASP.NET Identity v2 hash"},
	    {"AQAAAAMAAAu4AAAAEAABAgMEBQYHCAkKCwwNDg9mVS+XXh/"
	     "zZKmoEAiQNs+CILCYJKrPk3RHUPVmSBlbOg==",
	     "ASP.NET Identity v3 hash with an unknown PRF"},
	    {"AQAAAAEAAAu4AAD/AAABAgMEBQYHCAkKCwwNDg9mVS+XXh/"
	     "zZKmoEAiQNs+CILCYJKrPk3RHUPVmSBlbOg==",
	     "malformed ASP.NET Identity v3 hash"},
	    /* v3 asking 4294967295 iterations */
	    {"AQAAAAH/////AAAAEAABAgMEBQYHCAkKCwwNDg9mVS+XXh/"
	     "zZKmoEAiQNs+CILCYJKrPk3RHUPVmSBlbOg==",
	     "PBKDF2 iterations above the cap"},
	    {"Ag==", "not a password hash format usersd reads"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ud_hash_scheme sc = UD_HASH_BCRYPT;
		const char *why = NULL;

		CHECK_INT(ud_password_hash_parse(bad[i].hash, &sc, &why),
			  UP_INVALID_ARGUMENT);
		CHECK_INT((int)sc, (int)UD_HASH_UNKNOWN);
		if (why == NULL || strcmp(why, bad[i].why) != 0) {
			fprintf(stderr, "%s: why \"%s\", want \"%s\"\n",
				bad[i].hash, why ? why : "(null)", bad[i].why);
			CHECK(0);
		}
		CHECK_INT(ud_password_verify(bad[i].hash,
					     "correct horse battery", 21),
			  UP_UNAUTHENTICATED);
		CHECK(!ud_password_needs_rehash(bad[i].hash, &cheap));
	}
	CHECK_INT(ud_password_hash_parse(NULL, NULL, NULL),
		  UP_INVALID_ARGUMENT);
	CHECK_STR(ud_hash_scheme_name(UD_HASH_ASPNET_V3), "aspnet-v3");
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
	test_foreign_vectors();
	test_foreign_refused();
	return check_done();
}
