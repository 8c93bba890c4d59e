/*
 * seal.h - authenticated encryption of what usersd keeps at rest that a
 * reader of the database must not be able to use: the answers in the
 * request log (an answer of GetAccessToken carries a live refresh token).
 *
 * AES-256-GCM under a key derived from the token signing key (every daemon
 * sharing a database shares that file, so every one can open what another
 * sealed), a fresh random nonce per box, and associated data that binds a
 * box to its place (the request id and digest): a box moved to another row
 * does not open. A box is: version (1 byte) | nonce (12) | ciphertext |
 * tag (16). Thread-safe: each thread keeps its own cipher context, set up
 * once per key (seal.c).
 */
#ifndef UD_SEAL_H
#define UD_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define UD_SEAL_KEY_LEN  32
#define UD_SEAL_OVERHEAD (1 + 12 + 16)

typedef struct ud_seal_key {
	uint8_t key[UD_SEAL_KEY_LEN];
} ud_seal_key;

/*
 * The key for one purpose ("request log"), derived from a secret of
 * secret_len bytes (HMAC-SHA-256 of the purpose). 0 or UP_INTERNAL.
 */
int ud_seal_key_derive(ud_seal_key *k, const uint8_t *secret, size_t secret_len,
		       const char *purpose);
/* Wipes k, and the calling thread's context set up for it. */
void ud_seal_key_wipe(ud_seal_key *k);

/* Seals len bytes into *out (malloc'd, *out_len). 0 or UP_INTERNAL. */
int ud_seal(const ud_seal_key *k, const uint8_t *aad, size_t aad_len,
	    const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);
/*
 * Opens a box into *out (malloc'd, *out_len): 0; UP_DATA_LOSS when it is
 * not a box of this key and place (altered, another key, another row, or
 * written before boxes); UP_INTERNAL.
 */
int ud_unseal(const ud_seal_key *k, const uint8_t *aad, size_t aad_len,
	      const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

#endif
