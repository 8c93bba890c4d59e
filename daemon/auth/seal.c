/*
 * seal.c - AES-256-GCM boxes (seal.h): the cipher from OpenSSL's libcrypto
 * (AES-NI and carry-less multiplication: about 0.5 us for a 600-byte box
 * here, where mbedTLS 2.28's GCM took 4.5 us, a tenth of a PATCH's CPU);
 * the key's derivation with mbedTLS's HMAC. The box's layout is the same
 * whichever library made it.
 */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <openssl/evp.h>

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

/*
 * Two cipher contexts per thread (one sealing, one opening), kept with the
 * key they were set up for: setting a key expands the AES schedule and
 * GCM's multiplication table and allocates the cipher's state, work that
 * a box of a few hundred bytes (the request log seals one per write)
 * should not pay each time. A context is used by one call at a time on
 * its thread; another key (a test's, or a key derived again) sets the
 * contexts up anew. The thread's exit frees and wipes them (slot_free);
 * ud_seal_key_wipe does so for the calling thread at once. The slot also keeps
 * random nonces drawn from the kernel NONCE_POOL at a time (one getrandom per
 * box was a fifth of a seal); each is used once.
 */
#define NONCE_POOL 64

typedef struct gcm_slot {
	uint8_t key[UD_SEAL_KEY_LEN];
	bool ready;
	EVP_CIPHER_CTX *enc, *dec;
	uint8_t nonces[NONCE_POOL * NONCE_LEN];
	unsigned nonces_left;
} gcm_slot;

static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
static pthread_key_t slot_key;
static int slot_err;

static void
slot_free(void *p)
{
	gcm_slot *s = p;

	EVP_CIPHER_CTX_free(s->enc); /* cleared as it is freed */
	EVP_CIPHER_CTX_free(s->dec);
	mbedtls_platform_zeroize(s, sizeof(*s));
	free(s);
}

static void
slot_init(void)
{
	slot_err = pthread_key_create(&slot_key, slot_free);
}

/* This thread's slot, its context with k set: the slot, or NULL. */
static gcm_slot *
gcm_for(const ud_seal_key *k)
{
	gcm_slot *s;

	if (pthread_once(&slot_once, slot_init) != 0 || slot_err != 0) {
		return NULL;
	}
	if ((s = pthread_getspecific(slot_key)) == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			return NULL;
		}
		if (pthread_setspecific(slot_key, s) != 0) {
			slot_free(s);
			return NULL;
		}
	}
	if (s->ready && memcmp(s->key, k->key, UD_SEAL_KEY_LEN) == 0) {
		return s;
	}
	s->ready = false;
	if ((s->enc == NULL && (s->enc = EVP_CIPHER_CTX_new()) == NULL) ||
	    (s->dec == NULL && (s->dec = EVP_CIPHER_CTX_new()) == NULL) ||
	    EVP_EncryptInit_ex(s->enc, EVP_aes_256_gcm(), NULL, k->key, NULL) !=
		1 ||
	    EVP_DecryptInit_ex(s->dec, EVP_aes_256_gcm(), NULL, k->key, NULL) !=
		1) {
		return NULL;
	}
	memcpy(s->key, k->key, UD_SEAL_KEY_LEN);
	s->ready = true;
	return s;
}

/* A fresh random nonce into out, never handed out before: 0 or -1. */
static int
nonce_take(gcm_slot *s, uint8_t *out)
{
	if (s->nonces_left == 0) {
		if (ud_random_bytes(s->nonces, sizeof(s->nonces)) != 0) {
			return -1;
		}
		s->nonces_left = NONCE_POOL;
	}
	s->nonces_left--;
	memcpy(out, s->nonces + s->nonces_left * NONCE_LEN, NONCE_LEN);
	memset(s->nonces + s->nonces_left * NONCE_LEN, 0, NONCE_LEN);
	return 0;
}

void
ud_seal_key_wipe(ud_seal_key *k)
{
	gcm_slot *s = NULL;

	if (pthread_once(&slot_once, slot_init) == 0 && slot_err == 0) {
		s = pthread_getspecific(slot_key);
	}
	if (s != NULL && s->ready &&
	    memcmp(s->key, k->key, UD_SEAL_KEY_LEN) == 0) {
		(void)pthread_setspecific(slot_key, NULL);
		slot_free(s);
	}
	mbedtls_platform_zeroize(k, sizeof(*k));
}

/*
 * Runs in[0..len) through ctx (set up to seal or to open, gcm_for) under
 * nonce and aad into out. Sealing writes the tag into tag; opening checks
 * it against tag: 0, or -1 when it does not match (out is then not to be
 * used) or the cipher failed.
 */
static int
gcm_run(EVP_CIPHER_CTX *ctx, bool seal, const uint8_t *nonce,
	const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
	uint8_t *out, uint8_t tag[TAG_LEN])
{
	int n = 0, m = 0;

	if (len > INT_MAX || aad_len > INT_MAX ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, -1) != 1 ||
	    (aad_len > 0 &&
	     EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) ||
	    (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1) ||
	    (!seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
					  tag) != 1) ||
	    EVP_CipherFinal_ex(ctx, out + (len > 0 ? n : 0), &m) != 1 ||
	    (seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
					 tag) != 1)) {
		return -1;
	}
	return 0;
}

int
ud_seal(const ud_seal_key *k, const uint8_t *aad, size_t aad_len,
	const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	gcm_slot *s;
	uint8_t *box = malloc(len + UD_SEAL_OVERHEAD);
	int rc = UP_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if (box == NULL) {
		return UP_INTERNAL;
	}
	box[0] = VERSION;
	if ((s = gcm_for(k)) == NULL || nonce_take(s, box + 1) != 0) {
		free(box);
		return UP_INTERNAL;
	}
	if (gcm_run(s->enc, true, box + 1, aad, aad_len, in, len,
		    box + 1 + NONCE_LEN, box + 1 + NONCE_LEN + len) == 0) {
		*out = box;
		*out_len = len + UD_SEAL_OVERHEAD;
		box = NULL;
		rc = 0;
	}
	free(box);
	return rc;
}

int
ud_unseal(const ud_seal_key *k, const uint8_t *aad, size_t aad_len,
	  const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	gcm_slot *s;
	size_t n;
	uint8_t *plain, tag[TAG_LEN];
	int rc;

	*out = NULL;
	*out_len = 0;
	if (len < UD_SEAL_OVERHEAD || in[0] != VERSION) {
		return UP_DATA_LOSS;
	}
	n = len - UD_SEAL_OVERHEAD;
	if ((plain = malloc(n ? n : 1)) == NULL || (s = gcm_for(k)) == NULL) {
		free(plain);
		return UP_INTERNAL;
	}
	memcpy(tag, in + 1 + NONCE_LEN + n, TAG_LEN);
	rc = gcm_run(s->dec, false, in + 1, aad, aad_len, in + 1 + NONCE_LEN, n,
		     plain, tag);
	if (rc != 0) {
		mbedtls_platform_zeroize(plain, n);
		free(plain);
		return UP_DATA_LOSS;
	}
	*out = plain;
	*out_len = n;
	return 0;
}
