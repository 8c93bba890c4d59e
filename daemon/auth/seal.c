/*
 * seal.c - AES-256-GCM boxes (seal.h), with mbedTLS.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "seal.h"
#include "model.h"
#include "users_proto.h"

#define VERSION   1
#define NONCE_LEN 12
#define TAG_LEN   16

int
ud_seal_key_derive(ud_seal_key *k, const uint8_t *secret, size_t secret_len,
		   const char *purpose)
{
	const mbedtls_md_info_t *md =
	    mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

	if (md == NULL || mbedtls_md_hmac(md, secret, secret_len,
					  (const unsigned char *)purpose,
					  strlen(purpose), k->key) != 0) {
		return UP_INTERNAL;
	}
	return 0;
}

void
ud_seal_key_wipe(ud_seal_key *k)
{
	mbedtls_platform_zeroize(k, sizeof(*k));
}

/* A context with the key set: 0, or UP_INTERNAL (freed). */
static int
gcm_open(mbedtls_gcm_context *g, const ud_seal_key *k)
{
	mbedtls_gcm_init(g);
	if (mbedtls_gcm_setkey(g, MBEDTLS_CIPHER_ID_AES, k->key,
			       UD_SEAL_KEY_LEN * 8) != 0) {
		mbedtls_gcm_free(g);
		return UP_INTERNAL;
	}
	return 0;
}

int
ud_seal(const ud_seal_key *k, const uint8_t *aad, size_t aad_len,
	const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	mbedtls_gcm_context g;
	uint8_t *box = malloc(len + UD_SEAL_OVERHEAD);
	int rc = UP_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if (box == NULL) {
		return UP_INTERNAL;
	}
	box[0] = VERSION;
	if (ud_random_bytes(box + 1, NONCE_LEN) != 0 || gcm_open(&g, k) != 0) {
		free(box);
		return UP_INTERNAL;
	}
	if (mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len, box + 1,
				      NONCE_LEN, aad, aad_len, in,
				      box + 1 + NONCE_LEN, TAG_LEN,
				      box + 1 + NONCE_LEN + len) == 0) {
		*out = box;
		*out_len = len + UD_SEAL_OVERHEAD;
		box = NULL;
		rc = 0;
	}
	mbedtls_gcm_free(&g);
	free(box);
	return rc;
}

int
ud_unseal(const ud_seal_key *k, const uint8_t *aad, size_t aad_len,
	  const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	mbedtls_gcm_context g;
	size_t n;
	uint8_t *plain;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (len < UD_SEAL_OVERHEAD || in[0] != VERSION) {
		return UP_DATA_LOSS;
	}
	n = len - UD_SEAL_OVERHEAD;
	if ((plain = malloc(n ? n : 1)) == NULL || gcm_open(&g, k) != 0) {
		free(plain);
		return UP_INTERNAL;
	}
	rc = mbedtls_gcm_auth_decrypt(&g, n, in + 1, NONCE_LEN, aad, aad_len,
				      in + 1 + NONCE_LEN + n, TAG_LEN,
				      in + 1 + NONCE_LEN, plain);
	mbedtls_gcm_free(&g);
	if (rc != 0) {
		mbedtls_platform_zeroize(plain, n);
		free(plain);
		return UP_DATA_LOSS;
	}
	*out = plain;
	*out_len = n;
	return 0;
}
