/*
 * test_seal.c - the request log's boxes (daemon/seal.h): what is sealed
 * opens with the same key and place, and nothing else opens.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "seal.h"
#include "users_proto.h"

static const uint8_t secret[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t msg[] = "an answer with a token: eyJ0eXAiOiJKV1Qi";
static const uint8_t aad[] = "request-id-1";

static int
open_with(const ud_seal_key *k, const uint8_t *a, size_t alen,
	  const uint8_t *box, size_t len)
{
	uint8_t *out = NULL;
	size_t n = 0;
	int rc = ud_unseal(k, a, alen, box, len, &out, &n);

	if (rc == 0) {
		CHECK_INT(n, sizeof(msg));
		CHECK(memcmp(out, msg, sizeof(msg)) == 0);
	} else {
		CHECK(out == NULL && n == 0);
	}
	free(out);
	return rc;
}

/* A box sealed on another thread (its own context, freed at its exit). */
typedef struct sealer {
	const ud_seal_key *k;
	uint8_t *box;
	size_t len;
	int rc;
} sealer;

static void *
seal_thread(void *arg)
{
	sealer *s = arg;

	s->rc =
	    ud_seal(s->k, aad, sizeof(aad), msg, sizeof(msg), &s->box, &s->len);
	return NULL;
}

int
main(void)
{
	pthread_t t;
	sealer other_thread = {0};
	ud_seal_key k, other, again;
	uint8_t *box = NULL, *box2 = NULL;
	size_t len = 0, len2 = 0;

	CHECK_INT(ud_seal_key_derive(&k, secret, sizeof(secret), "log"), 0);
	CHECK_INT(ud_seal_key_derive(&again, secret, sizeof(secret), "log"), 0);
	CHECK_INT(ud_seal_key_derive(&other, secret, sizeof(secret), "other"),
		  0);
	/* one secret, one purpose: one key; another purpose: another */
	CHECK(memcmp(k.key, again.key, sizeof(k.key)) == 0);
	CHECK(memcmp(k.key, other.key, sizeof(k.key)) != 0);

	CHECK_INT(ud_seal(&k, aad, sizeof(aad), msg, sizeof(msg), &box, &len),
		  0);
	CHECK_INT(len, sizeof(msg) + UD_SEAL_OVERHEAD);
	/* the text is not in the box */
	for (size_t i = 0; box != NULL && i + 8 <= len; i++) {
		CHECK(memcmp(box + i, "eyJ0eXAi", 8) != 0);
	}
	CHECK_INT(open_with(&k, aad, sizeof(aad), box, len), 0);
	/* another place, key, or a changed byte anywhere: not ours */
	CHECK_INT(open_with(&k, (const uint8_t *)"request-id-2", sizeof(aad),
			    box, len),
		  UP_DATA_LOSS);
	CHECK_INT(open_with(&other, aad, sizeof(aad), box, len), UP_DATA_LOSS);
	for (size_t i = 0; box != NULL && i < len; i++) {
		box[i] ^= 0x01;
		CHECK_INT(open_with(&k, aad, sizeof(aad), box, len),
			  UP_DATA_LOSS);
		box[i] ^= 0x01;
	}
	CHECK_INT(open_with(&k, aad, sizeof(aad), box, len - 1), UP_DATA_LOSS);
	CHECK_INT(open_with(&k, aad, sizeof(aad), box, UD_SEAL_OVERHEAD - 1),
		  UP_DATA_LOSS);
	/* an answer written before boxes (a plain envelope) is not one */
	CHECK_INT(open_with(&k, aad, sizeof(aad), msg, sizeof(msg)),
		  UP_DATA_LOSS);
	/* a fresh nonce each time: the same text seals differently */
	CHECK_INT(ud_seal(&k, aad, sizeof(aad), msg, sizeof(msg), &box2, &len2),
		  0);
	CHECK(len2 == len && memcmp(box, box2, len) != 0);
	CHECK_INT(open_with(&k, aad, sizeof(aad), box2, len2), 0);
	/* each thread keeps a context per key: one key after another, and a
	 * box of another thread, open as they should */
	other_thread.k = &other;
	CHECK_INT(pthread_create(&t, NULL, seal_thread, &other_thread), 0);
	CHECK_INT(pthread_join(t, NULL), 0);
	CHECK_INT(other_thread.rc, 0);
	CHECK_INT(open_with(&other, aad, sizeof(aad), other_thread.box,
			    other_thread.len),
		  0);
	CHECK_INT(
	    open_with(&k, aad, sizeof(aad), other_thread.box, other_thread.len),
	    UP_DATA_LOSS);
	CHECK_INT(open_with(&k, aad, sizeof(aad), box2, len2), 0);
	CHECK_INT(open_with(&other, aad, sizeof(aad), box2, len2),
		  UP_DATA_LOSS);
	/* past one pool of nonces drawn at once: never one twice */
	{
		enum { N = 200 };
		static uint8_t nonce[N][12];
		for (int i = 0; i < N; i++) {
			uint8_t *b = NULL;
			size_t bl = 0;
			CHECK_INT(ud_seal(&k, aad, sizeof(aad), msg,
					  sizeof(msg), &b, &bl),
				  0);
			if (b != NULL) {
				memcpy(nonce[i], b + 1, 12);
				CHECK_INT(
				    open_with(&k, aad, sizeof(aad), b, bl), 0);
			}
			free(b);
		}
		for (int i = 0; i < N; i++) {
			for (int j = i + 1; j < N; j++) {
				CHECK(memcmp(nonce[i], nonce[j], 12) != 0);
			}
		}
	}
	/*
	 * A box sealed by an earlier version of seal.c (mbedTLS's GCM) with
	 * this secret, purpose, place and text opens: boxes already in a
	 * request log stay readable whichever library seals new ones.
	 */
	{
		static const uint8_t earlier[] =
		    "\x01\x94\x33\xc7\xa4\x49\x27\x05\x14\xed\x22\x50"
		    "\x14\xc4\xba\xf8\x5d\xc8\xa7\x8c\xf1\x8a\x23\x05"
		    "\x85\xcc\xde\x25\x21\x31\xca\x67\x7c\x83\x45\x5f"
		    "\xf2\x03\x0c\xf1\xf6\x49\xb1\xb9\xe0\xd3\xf2\x08"
		    "\xc0\xcd\xfa\x3c\xd6\x14\xc0\xb2\x41\xbd\x24\x4c"
		    "\xd9\xcb\x9a\x75\x07\x6f\x49\xe3\xb5\xa9";
		CHECK_INT(open_with(&k, aad, sizeof(aad), earlier,
				    sizeof(earlier) - 1),
			  0);
	}
	free(other_thread.box);
	free(box);
	free(box2);
	ud_seal_key_wipe(&other);
	ud_seal_key_wipe(&k);
	CHECK(k.key[0] == 0 && k.key[31] == 0);
	return check_done();
}
