/*
 * test_jwt.c - tokens: roundtrip with claims, expiry, forgery, algorithm
 * and kind confusion, a refresh token's ids, malformed input, and the key
 * file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "b64url.h"
#include "check.h"
#include "jwt.h"
#include "users_proto.h"

#define NOW 1700000000
#define TTL 900

static ud_jwt_key key;

static void
make_user(ud_user *u)
{
	static int32_t perms[] = {0, 7, 99};

	memset(u, 0, sizeof(*u));
	u->id = 42;
	u->email = strdup("ann@example.com");
	u->first_name = strdup("Ann");
	u->last_name = strdup("Lee");
	ud_strv_push(&u->roles, "Admin");
	ud_strv_push(&u->roles, "Viewer");
	u->dashboard_permissions = perms;
	u->n_dashboard_permissions = 3;
	u->token_version = 3;
}

static void
free_user(ud_user *u)
{
	u->dashboard_permissions = NULL; /* static */
	u->n_dashboard_permissions = 0;
	ud_user_fini(u);
}

/* Decodes part i (0 header, 1 payload) of tok into a malloc'd string. */
static char *
part_json(const char *tok, int i)
{
	const char *s = tok, *e;
	size_t n;
	char *out;

	for (; i > 0; i--) {
		s = strchr(s, '.') + 1;
	}
	e = strchr(s, '.');
	out = malloc((size_t)(e - s) + 1);
	if (ud_b64url_decode(s, (size_t)(e - s), (uint8_t *)out,
			     (size_t)(e - s), &n) != 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

/* b64(header).b64(payload).b64(HMAC-SHA256(k, ...)): a forged token. */
static char *
craft(const ud_jwt_key *k, const char *header, const char *payload)
{
	size_t hl = strlen(header), pl = strlen(payload);
	size_t cap = ud_b64url_encoded_len(hl) + ud_b64url_encoded_len(pl) +
		     ud_b64url_encoded_len(32) + 3;
	char *tok = malloc(cap);
	uint8_t mac[32];
	size_t o;

	o = ud_b64url_encode((const uint8_t *)header, hl, tok, cap);
	tok[o++] = '.';
	o += ud_b64url_encode((const uint8_t *)payload, pl, tok + o, cap - o);
	mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), k->key,
			sizeof(k->key), (const unsigned char *)tok, o, mac);
	tok[o++] = '.';
	ud_b64url_encode(mac, sizeof(mac), tok + o, cap - o);
	return tok;
}

static int
verify_str(ud_jwt_kind kind, const char *tok, int64_t now)
{
	ud_jwt_claims c;
	int rc = ud_jwt_verify(&key, kind, tok, strlen(tok), now, &c);

	if (rc == 0) {
		ud_jwt_claims_fini(&c);
	} else {
		/* Nothing to free on error. */
		CHECK(c.name == NULL && c.email == NULL && c.roles.v == NULL &&
		      c.perms.v == NULL);
	}
	return rc;
}

static const char *good_claims =
    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
    "\"exp\":1700000900,\"tv\":1,\"roles\":[\"A\"],\"perms\":[]}";
static const char *good_header = "{\"typ\":\"JWT\",\"alg\":\"HS256\"}";

static void
test_b64url(void)
{
	uint8_t buf[16];
	char enc[32];
	size_t n;

	CHECK_INT(
	    ud_b64url_encode((const uint8_t *)"\xfb\xff", 2, enc, sizeof(enc)),
	    3);
	CHECK_STR(enc, "-_8");
	CHECK_INT(ud_b64url_decode("-_8", 3, buf, sizeof(buf), &n), 0);
	CHECK(n == 2 && buf[0] == 0xfb && buf[1] == 0xff);
	CHECK_INT(ud_b64url_decode("-_9", 3, buf, sizeof(buf), &n), -1);
	CHECK_INT(ud_b64url_decode("+/8", 3, buf, sizeof(buf), &n), -1);
	CHECK_INT(ud_b64url_decode("QQ==", 4, buf, sizeof(buf), &n), -1);
	CHECK_INT(ud_b64url_decode("QUJDR", 5, buf, sizeof(buf), &n), -1);
	CHECK_INT(ud_b64url_decode("QUJD", 4, buf, 2, &n), -1);
	CHECK_INT(ud_b64url_decode("", 0, buf, sizeof(buf), &n), 0);
	CHECK_INT(n, 0);
	CHECK_INT(ud_b64url_encode((const uint8_t *)"abc", 3, enc, 4), -1);
}

#define JTI "0123456789abcdef0123456789abcdef"
#define FAM "fedcba9876543210fedcba9876543210"

/* The record a refresh token names. */
static const ud_refresh_token rt = {.jti = JTI, .family = FAM};

static void
test_roundtrip(void)
{
	ud_user u;
	ud_jwt_claims c;
	char *tok = NULL, *h, *p, want[128];

	make_user(&u);
	CHECK_INT(ud_jwt_sign(&key, UD_JWT_ACCESS, &u, NULL, NOW, TTL, &tok),
		  0);
	CHECK(tok != NULL);
	h = part_json(tok, 0);
	snprintf(want, sizeof(want),
		 "{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"%s\"}", key.kid);
	CHECK_STR(h, want);
	p = part_json(tok, 1);
	CHECK(p != NULL && strstr(p, "\"iss\":\"usersd\"") != NULL);
	CHECK(p != NULL && strstr(p, "\"sub\":\"42\"") != NULL);
	CHECK(p != NULL &&
	      strstr(p, "\"preferred_username\":\"ann@example.com\"") != NULL);
	CHECK(p != NULL &&
	      strstr(p, "\"perms\":[\"ViewFiles\",\"ViewCallCenter\"]") !=
		  NULL);
	CHECK(p != NULL && strstr(p, "\"jti\"") == NULL &&
	      strstr(p, "\"fam\"") == NULL);
	free(h);
	free(p);

	CHECK_INT(ud_jwt_verify(&key, UD_JWT_ACCESS, tok, strlen(tok), NOW, &c),
		  0);
	CHECK_INT(c.sub, 42);
	CHECK_INT(c.iat, NOW);
	CHECK_INT(c.exp, NOW + TTL);
	CHECK_INT(c.tv, 3);
	CHECK_STR(c.name, "Ann Lee");
	CHECK_STR(c.email, "ann@example.com");
	CHECK_INT(c.roles.n, 2);
	CHECK(ud_strv_has(&c.roles, "Admin") &&
	      ud_strv_has(&c.roles, "Viewer"));
	CHECK_INT(c.perms.n, 2);
	CHECK(ud_strv_has(&c.perms, "ViewFiles") &&
	      ud_strv_has(&c.perms, "ViewCallCenter"));
	CHECK_STR(c.jti, "");
	CHECK_STR(c.fam, "");
	ud_jwt_claims_fini(&c);

	/* Expiry without leeway; iat at most 60 s ahead. */
	CHECK_INT(verify_str(UD_JWT_ACCESS, tok, NOW + TTL - 1), 0);
	CHECK_INT(verify_str(UD_JWT_ACCESS, tok, NOW + TTL),
		  UP_UNAUTHENTICATED);
	CHECK_INT(verify_str(UD_JWT_ACCESS, tok, NOW - 60), 0);
	CHECK_INT(verify_str(UD_JWT_ACCESS, tok, NOW - 61), UP_UNAUTHENTICATED);

	/* Kind confusion both ways. */
	CHECK_INT(verify_str(UD_JWT_REFRESH, tok, NOW), UP_UNAUTHENTICATED);
	free(tok);
	CHECK_INT(ud_jwt_sign(&key, UD_JWT_REFRESH, &u, &rt, NOW, TTL, &tok),
		  0);
	h = part_json(tok, 0);
	CHECK(h != NULL && strstr(h, "\"typ\":\"JWTR\"") != NULL);
	free(h);
	p = part_json(tok, 1);
	CHECK(p != NULL && strstr(p, "\"jti\":\"" JTI "\"") != NULL &&
	      strstr(p, "\"fam\":\"" FAM "\"") != NULL);
	free(p);
	CHECK_INT(
	    ud_jwt_verify(&key, UD_JWT_REFRESH, tok, strlen(tok), NOW, &c), 0);
	CHECK_INT(c.sub, 42);
	CHECK_INT(c.exp, NOW + TTL);
	CHECK_STR(c.jti, JTI);
	CHECK_STR(c.fam, FAM);
	ud_jwt_claims_fini(&c);
	CHECK_INT(verify_str(UD_JWT_ACCESS, tok, NOW), UP_UNAUTHENTICATED);
	free(tok);

	/* Names: first only, none (the email). */
	free(u.last_name);
	u.last_name = NULL;
	CHECK_INT(ud_jwt_sign(&key, UD_JWT_ACCESS, &u, NULL, NOW, TTL, &tok),
		  0);
	CHECK_INT(ud_jwt_verify(&key, UD_JWT_ACCESS, tok, strlen(tok), NOW, &c),
		  0);
	CHECK_STR(c.name, "Ann");
	ud_jwt_claims_fini(&c);
	free(tok);
	free(u.first_name);
	u.first_name = NULL;
	CHECK_INT(ud_jwt_sign(&key, UD_JWT_ACCESS, &u, NULL, NOW, TTL, &tok),
		  0);
	CHECK_INT(ud_jwt_verify(&key, UD_JWT_ACCESS, tok, strlen(tok), NOW, &c),
		  0);
	CHECK_STR(c.name, "ann@example.com");
	ud_jwt_claims_fini(&c);
	free(tok);

	/* Bad arguments to sign. */
	CHECK_INT(ud_jwt_sign(&key, UD_JWT_ACCESS, &u, NULL, NOW, 0, &tok),
		  UP_INTERNAL);
	CHECK(tok == NULL);
	CHECK_INT(
	    ud_jwt_sign(&key, UD_JWT_ACCESS, &u, NULL, INT64_MAX - 5, 10, &tok),
	    UP_INTERNAL);
	/* A refresh token names its record, with valid ids; an access
	 * token none. */
	CHECK_INT(ud_jwt_sign(&key, UD_JWT_REFRESH, &u, NULL, NOW, TTL, &tok),
		  UP_INTERNAL);
	CHECK_INT(ud_jwt_sign(&key, UD_JWT_ACCESS, &u, &rt, NOW, TTL, &tok),
		  UP_INTERNAL);
	{
		static const char *const bad_ids[] = {
		    "", "0123456789abcdef0123456789abcde",
		    "0123456789ABCDEF0123456789ABCDEF",
		    "0123456789abcdef0123456789abcdeg"};
		for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]);
		     i++) {
			ud_refresh_token b = rt;

			snprintf(b.jti, sizeof(b.jti), "%s", bad_ids[i]);
			CHECK_INT(ud_jwt_sign(&key, UD_JWT_REFRESH, &u, &b, NOW,
					      TTL, &tok),
				  UP_INTERNAL);
			b = rt;
			snprintf(b.family, sizeof(b.family), "%s", bad_ids[i]);
			CHECK_INT(ud_jwt_sign(&key, UD_JWT_REFRESH, &u, &b, NOW,
					      TTL, &tok),
				  UP_INTERNAL);
		}
	}
	CHECK(tok == NULL);
	free_user(&u);
}

static void
test_forgery(void)
{
	ud_user u;
	ud_jwt_key other;
	char *tok, *t2, *sig;
	size_t len;

	make_user(&u);
	CHECK_INT(ud_jwt_sign(&key, UD_JWT_ACCESS, &u, NULL, NOW, TTL, &tok),
		  0);
	len = strlen(tok);

	/* Another key. */
	memcpy(&other, &key, sizeof(other));
	other.key[0] ^= 1;
	{
		ud_jwt_claims c;
		CHECK_INT(
		    ud_jwt_verify(&other, UD_JWT_ACCESS, tok, len, NOW, &c),
		    UP_UNAUTHENTICATED);
	}

	/* A flipped signature character, a flipped payload character. */
	t2 = strdup(tok);
	sig = strrchr(t2, '.') + 1;
	sig[5] = sig[5] == 'A' ? 'B' : 'A';
	CHECK_INT(verify_str(UD_JWT_ACCESS, t2, NOW), UP_UNAUTHENTICATED);
	memcpy(t2, tok, len);
	t2[strchr(tok, '.') - tok + 3] ^= 0x01;
	CHECK_INT(verify_str(UD_JWT_ACCESS, t2, NOW), UP_UNAUTHENTICATED);
	/* The signature cut short, or empty. */
	memcpy(t2, tok, len);
	t2[len - 1] = '\0';
	CHECK_INT(verify_str(UD_JWT_ACCESS, t2, NOW), UP_UNAUTHENTICATED);
	*(strrchr(t2, '.') + 1) = '\0';
	CHECK_INT(verify_str(UD_JWT_ACCESS, t2, NOW), UP_UNAUTHENTICATED);
	free(t2);

	/* The token as given, but with length bounds around it. */
	{
		ud_jwt_claims c;
		CHECK_INT(
		    ud_jwt_verify(&key, UD_JWT_ACCESS, tok, len - 1, NOW, &c),
		    UP_UNAUTHENTICATED);
	}
	free(tok);
	free_user(&u);
}

static void
test_crafted(void)
{
	char *t;

	/* The helper makes tokens verify accepts. */
	t = craft(&key, good_header, good_claims);
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), 0);
	free(t);

	/* alg none, unsigned and signed. */
	CHECK_INT(
	    verify_str(UD_JWT_ACCESS,
		       "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0."
		       "eyJpc3MiOiJ1c2Vyc2QiLCJzdWIiOiI3IiwiaWF0IjoxNzAwMD"
		       "AwMDAwLCJleHAiOjE3MDAwMDA5MDAsInR2IjoxfQ.",
		       NOW),
	    UP_UNAUTHENTICATED);
	t = craft(&key, "{\"typ\":\"JWT\",\"alg\":\"none\"}", good_claims);
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), UP_UNAUTHENTICATED);
	*(strrchr(t, '.') + 1) = '\0';
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), UP_UNAUTHENTICATED);
	free(t);

	/* Other algorithms, signed with our HMAC-SHA256 all the same. */
	t = craft(&key, "{\"typ\":\"JWT\",\"alg\":\"HS512\"}", good_claims);
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), UP_UNAUTHENTICATED);
	free(t);
	t = craft(&key, "{\"typ\":\"JWT\",\"alg\":\"hs256\"}", good_claims);
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), UP_UNAUTHENTICATED);
	free(t);
	t = craft(&key, "{\"typ\":\"JWT\",\"alg\":\"RS256\"}", good_claims);
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), UP_UNAUTHENTICATED);
	free(t);
	/* Duplicate alg: the second would win in a lax parser. */
	t = craft(&key, "{\"typ\":\"JWT\",\"alg\":\"HS256\",\"alg\":\"none\"}",
		  good_claims);
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), UP_UNAUTHENTICATED);
	free(t);

	/* Missing or wrong typ; a header that is not an object. */
	t = craft(&key, "{\"alg\":\"HS256\"}", good_claims);
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), UP_UNAUTHENTICATED);
	CHECK_INT(verify_str(UD_JWT_REFRESH, t, NOW), UP_UNAUTHENTICATED);
	free(t);
	t = craft(&key, "{\"typ\":\"jwt\",\"alg\":\"HS256\"}", good_claims);
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), UP_UNAUTHENTICATED);
	free(t);
	t = craft(&key, "[\"HS256\"]", good_claims);
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), UP_UNAUTHENTICATED);
	free(t);

	/* Claims that are wrong though signed. */
	static const char *bad_claims[] = {
	    "{\"iss\":\"usersd\",\"sub\":\"0\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1}",
	    "{\"iss\":\"usersd\",\"sub\":\"-7\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1}",
	    "{\"iss\":\"usersd\",\"sub\":\"07\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1}",
	    "{\"iss\":\"usersd\",\"sub\":\"7x\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1}",
	    "{\"iss\":\"usersd\",\"sub\":\"99999999999999999999\","
	    "\"iat\":1700000000,\"exp\":1700000900,\"tv\":1}",
	    "{\"iss\":\"usersd\",\"sub\":7,\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1}",
	    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900}",
	    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":\"1\"}",
	    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900.5,\"tv\":1}",
	    "{\"iss\":\"other\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1}",
	    "{\"sub\":\"7\",\"iat\":1700000000,\"exp\":1700000900,\"tv\":1}",
	    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1,\"roles\":\"Admin\"}",
	    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1,\"roles\":[1]}",
	    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1,\"perms\":[\"A\",null]}",
	    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1,\"name\":5}",
	    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1,\"email\":\"a\\u0000b\"}",
	    "{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"
	    "\"exp\":1700000900,\"tv\":1,\"tv\":2}",
	    "[]",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]);
	     i++) {
		t = craft(&key, good_header, bad_claims[i]);
		int rc = verify_str(UD_JWT_ACCESS, t, NOW);
		if (rc != UP_UNAUTHENTICATED) {
			fprintf(stderr, "accepted claims: %s\n", bad_claims[i]);
		}
		CHECK_INT(rc, UP_UNAUTHENTICATED);
		free(t);
	}
}

/* Refresh tokens: jti and fam required, each 32 lowercase hex digits. */
static void
test_crafted_refresh(void)
{
	static const char *refresh_header =
	    "{\"typ\":\"JWTR\",\"alg\":\"HS256\"}";
#define BASE                                                                   \
	"{\"iss\":\"usersd\",\"sub\":\"7\",\"iat\":1700000000,"                \
	"\"exp\":1700000900,\"tv\":1"
	static const char *bad_claims[] = {
	    BASE "}",
	    BASE ",\"jti\":\"" JTI "\"}",
	    BASE ",\"fam\":\"" FAM "\"}",
	    BASE ",\"jti\":null,\"fam\":\"" FAM "\"}",
	    BASE ",\"jti\":7,\"fam\":\"" FAM "\"}",
	    BASE ",\"jti\":\"" JTI "\",\"fam\":[\"" FAM "\"]}",
	    BASE ",\"jti\":\"0123456789ABCDEF0123456789abcdef\",\"fam\":\"" FAM
		 "\"}",
	    BASE ",\"jti\":\"0123456789abcdef0123456789abcde\",\"fam\":\"" FAM
		 "\"}",
	    BASE ",\"jti\":\"" JTI "0\",\"fam\":\"" FAM "\"}",
	    BASE ",\"jti\":\"" JTI "\\u0000\",\"fam\":\"" FAM "\"}",
	    BASE ",\"jti\":\"" JTI
		 "\",\"fam\":\"fedcba9876543210-edcba9876543210\"}",
	    BASE ",\"jti\":\"" JTI "\",\"jti\":\"" JTI "\",\"fam\":\"" FAM
		 "\"}",
	};
	ud_jwt_claims c;
	char *t;

	t = craft(&key, refresh_header,
		  BASE ",\"jti\":\"" JTI "\",\"fam\":\"" FAM "\"}");
	CHECK_INT(ud_jwt_verify(&key, UD_JWT_REFRESH, t, strlen(t), NOW, &c),
		  0);
	CHECK_STR(c.jti, JTI);
	CHECK_STR(c.fam, FAM);
	ud_jwt_claims_fini(&c);
	free(t);
	for (size_t i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]);
	     i++) {
		int rc;

		t = craft(&key, refresh_header, bad_claims[i]);
		rc = verify_str(UD_JWT_REFRESH, t, NOW);
		if (rc != UP_UNAUTHENTICATED) {
			fprintf(stderr, "accepted claims: %s\n", bad_claims[i]);
		}
		CHECK_INT(rc, UP_UNAUTHENTICATED);
		free(t);
	}
	/* The ids are a refresh token's: an access token needs none. */
	t = craft(&key, good_header, BASE "}");
	CHECK_INT(verify_str(UD_JWT_ACCESS, t, NOW), 0);
	free(t);
#undef BASE
}

static void
test_garbage(void)
{
	static const char *garbage[] = {
	    "",
	    ".",
	    "..",
	    "...",
	    "a.b",
	    "a.b.c",
	    "a.b.c.d",
	    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
	    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9==.e30.AAAA",
	    "Bearer x.y.z",
	    "\x01\x02\x03.\xff\xfe.\x80",
	};
	char *big;
	ud_jwt_claims c;

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		CHECK_INT(verify_str(UD_JWT_ACCESS, garbage[i], NOW),
			  UP_UNAUTHENTICATED);
	}
	CHECK_INT(ud_jwt_verify(&key, UD_JWT_ACCESS, NULL, 0, NOW, &c),
		  UP_UNAUTHENTICATED);
	CHECK_INT(ud_jwt_verify(&key, (ud_jwt_kind)7, "a.b.c", 5, NOW, &c),
		  UP_UNAUTHENTICATED);

	/* Overlong: refused on length alone, even if it were well formed. */
	big = malloc(UD_JWT_MAX_LEN + 2);
	memset(big, 'A', UD_JWT_MAX_LEN + 1);
	big[10] = '.';
	big[20] = '.';
	big[UD_JWT_MAX_LEN + 1] = '\0';
	CHECK_INT(verify_str(UD_JWT_ACCESS, big, NOW), UP_UNAUTHENTICATED);
	free(big);

	/* A NUL inside the given length. */
	{
		ud_user u;
		char *tok;
		make_user(&u);
		CHECK_INT(
		    ud_jwt_sign(&key, UD_JWT_ACCESS, &u, NULL, NOW, TTL, &tok),
		    0);
		size_t len = strlen(tok);
		char *t2 = malloc(len + 2);
		memcpy(t2, tok, len + 1);
		t2[len + 1] = 'A';
		CHECK_INT(
		    ud_jwt_verify(&key, UD_JWT_ACCESS, t2, len + 2, NOW, &c),
		    UP_UNAUTHENTICATED);
		free(t2);
		free(tok);
		free_user(&u);
	}
}

static void
test_key_file(const char *dir)
{
	char path[512];
	struct stat st;
	ud_jwt_key k1, k2;
	FILE *f;

	snprintf(path, sizeof(path), "%s/jwt.key", dir);
	CHECK_INT(ud_jwt_key_load(&k1, path), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(st.st_size, UD_JWT_KEY_LEN);
	CHECK_INT(strlen(k1.kid), 16);
	CHECK(strspn(k1.kid, "0123456789abcdef") == 16);

	/* Reused on the second load. */
	CHECK_INT(ud_jwt_key_load(&k2, path), 0);
	CHECK(memcmp(k1.key, k2.key, UD_JWT_KEY_LEN) == 0);
	CHECK_STR(k1.kid, k2.kid);

	/* Readable by others: refused. */
	CHECK_INT(chmod(path, 0644), 0);
	CHECK_INT(ud_jwt_key_load(&k2, path), UP_FAILED_PRECONDITION);
	CHECK_INT(chmod(path, 0640), 0);
	CHECK_INT(ud_jwt_key_load(&k2, path), UP_FAILED_PRECONDITION);
	CHECK_INT(chmod(path, 0600), 0);
	CHECK_INT(ud_jwt_key_load(&k2, path), 0);
	unlink(path);

	/* Wrong size: refused. */
	f = fopen(path, "wb");
	fputs("short", f);
	fclose(f);
	chmod(path, 0600);
	CHECK_INT(ud_jwt_key_load(&k2, path), UP_FAILED_PRECONDITION);
	unlink(path);

	/* A directory that does not exist. */
	snprintf(path, sizeof(path), "%s/nope/jwt.key", dir);
	CHECK_INT(ud_jwt_key_load(&k2, path), UP_INTERNAL);

	/* A new file makes a new key. */
	snprintf(path, sizeof(path), "%s/jwt2.key", dir);
	CHECK_INT(ud_jwt_key_load(&k2, path), 0);
	CHECK(memcmp(k1.key, k2.key, UD_JWT_KEY_LEN) != 0);
	unlink(path);

	memcpy(&key, &k1, sizeof(key));
}

int
main(void)
{
	char dir[] = "/tmp/test_jwt.XXXXXX";

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_b64url();
	test_key_file(dir);
	test_roundtrip();
	test_forgery();
	test_crafted();
	test_crafted_refresh();
	test_garbage();
	rmdir(dir);
	return check_done();
}
