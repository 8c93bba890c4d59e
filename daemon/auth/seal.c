/*
 * seal.c - AES-256-GCM boxes (seal.h), with mbedTLS.
 */
#include <pthread.h>
#include <stdbool.h>
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

/*
 * One GCM context per thread, kept with the key it was set up for: setting
 * a key expands the AES schedule and GCM's multiplication table and
 * allocates the cipher's state, work that a box of a few hundred bytes
 * (the request log seals one per write) should not pay each time. A
 * context is used by one call at a time on its thread; another key (a
 * test's, or a key derived again) sets the context up anew. The thread's
 * exit frees and wipes it (slot_free); ud_seal_key_wipe does so for the
 * calling thread at once. The slot also keeps random nonces drawn from
 * the kernel NONCE_POOL at a time (one getrandom per box was a fifth of a
 * seal); each is used once.
 */
#define NONCE_POOL 64

typedef struct gcm_slot {
	uint8_t key[UD_SEAL_KEY_LEN];
	bool ready;
	mbedtls_gcm_context g;
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

	mbedtls_gcm_free(&s->g);
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
		mbedtls_gcm_init(&s->g);
		if (pthread_setspecific(slot_key, s) != 0) {
			slot_free(s);
			return NULL;
		}
	}
	if (s->ready && memcmp(s->key, k->key, UD_SEAL_KEY_LEN) == 0) {
		return s;
	}
	s->ready = false;
	mbedtls_gcm_free(&s->g);
	mbedtls_gcm_init(&s->g);
	if (mbedtls_gcm_setkey(&s->g, MBEDTLS_CIPHER_ID_AES, k->key,
			       UD_SEAL_KEY_LEN * 8) != 0) {
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
	if (mbedtls_gcm_crypt_and_tag(&s->g, MBEDTLS_GCM_ENCRYPT, len, box + 1,
				      NONCE_LEN, aad, aad_len, in,
				      box + 1 + NONCE_LEN, TAG_LEN,
				      box + 1 + NONCE_LEN + len) == 0) {
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
	uint8_t *plain;
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
	rc = mbedtls_gcm_auth_decrypt(&s->g, n, in + 1, NONCE_LEN, aad, aad_len,
				      in + 1 + NONCE_LEN + n, TAG_LEN,
				      in + 1 + NONCE_LEN, plain);
	if (rc != 0) {
		mbedtls_platform_zeroize(plain, n);
		free(plain);
		return UP_DATA_LOSS;
	}
	*out = plain;
	*out_len = n;
	return 0;
}
