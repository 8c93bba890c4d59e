/*
 * fuzz_jwt.c - ud_jwt_verify on arbitrary input, for both kinds, with a
 * fixed key. The input is also signed with that key as a payload and as a
 * header, so the JSON checks behind the signature are fuzzed too.
 *
 * Refresh tokens too: the input as the payload under a refresh header (the
 * jti and fam checks), and as the header over a refresh payload.
 *
 * The key is bytes 0x01..0x20; the corpus holds a valid token of each kind
 * for it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "b64url.h"
#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW      1700000000
#define MAX_PART 4096

static const char header_b64[] = /* {"typ":"JWT","alg":"HS256"} */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9";
static const char payload_b64[] = /* iss, sub 7, iat, exp 4102444800, tv */
    "eyJpc3MiOiJ1c2Vyc2QiLCJzdWIiOiI3IiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOj"
    "QxMDI0NDQ4MDAsInR2IjoxfQ";
static const char refresh_header_b64[] = /* {"typ":"JWTR","alg":"HS256"} */
    "eyJ0eXAiOiJKV1RSIiwiYWxnIjoiSFMyNTYifQ";
static const char refresh_payload_b64[] = /* the same, with jti and fam */
    "eyJpc3MiOiJ1c2Vyc2QiLCJzdWIiOiI3IiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOj"
    "QxMDI0NDQ4MDAsInR2IjoxLCJqdGkiOiIwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4"
    "OWFiY2RlZiIsImZhbSI6ImZlZGNiYTk4NzY1NDMyMTBmZWRjYmE5ODc2NTQzMjEwIn0";

static void
fixed_key(ud_jwt_key *k)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < UD_JWT_KEY_LEN; i++) {
		k->key[i] = (uint8_t)(i + 1);
	}
	memcpy(k->kid, "0000000000000000", 17);
}

static void
verify_both(const ud_jwt_key *k, const char *tok, size_t len)
{
	ud_jwt_claims c;

	if (ud_jwt_verify(k, UD_JWT_ACCESS, tok, len, NOW, &c) == 0) {
		ud_jwt_claims_fini(&c);
	}
	if (ud_jwt_verify(k, UD_JWT_REFRESH, tok, len, NOW, &c) == 0) {
		ud_jwt_claims_fini(&c);
	}
}

/* head.body.HMAC(head.body), with one of them taken from the input. */
static void
verify_signed(const ud_jwt_key *k, const char *head, const char *body)
{
	size_t hl = strlen(head), bl = strlen(body);
	size_t cap = hl + 1 + bl + 1 + ud_b64url_encoded_len(32) + 1;
	char *tok = malloc(cap);
	uint8_t mac[32];

	if (tok == NULL) {
		return;
	}
	memcpy(tok, head, hl);
	tok[hl] = '.';
	memcpy(tok + hl + 1, body, bl);
	mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), k->key,
			UD_JWT_KEY_LEN, (const unsigned char *)tok, hl + 1 + bl,
			mac);
	tok[hl + 1 + bl] = '.';
	ud_b64url_encode(mac, sizeof(mac), tok + hl + 1 + bl + 1,
			 cap - (hl + 1 + bl + 1));
	verify_both(k, tok, strlen(tok));
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ud_jwt_key k;
	char *enc;
	size_t cap;

	fixed_key(&k);
	verify_both(&k, (const char *)data, size);
	if (size > MAX_PART) {
		return 0;
	}
	cap = ud_b64url_encoded_len(size) + 1;
	if ((enc = malloc(cap)) == NULL) {
		return 0;
	}
	ud_b64url_encode(data, size, enc, cap);
	verify_signed(&k, header_b64, enc);
	verify_signed(&k, enc, payload_b64);
	verify_signed(&k, refresh_header_b64, enc);
	verify_signed(&k, enc, refresh_payload_b64);
	free(enc);
	return 0;
}
