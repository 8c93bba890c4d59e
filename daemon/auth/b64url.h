/*
 * b64url.h - base64url (RFC 4648 section 5) without padding, as JWT uses
 * it, and the standard alphabet's decoder for stored password hashes.
 * Internal to the security module.
 */
#ifndef UD_B64URL_H
#define UD_B64URL_H

#include <stddef.h>
#include <stdint.h>

/* Characters ud_b64url_encode() writes for n bytes, NUL not included. */
size_t ud_b64url_encoded_len(size_t n);

/*
 * Encodes in[0..n) into out, NUL-terminated. out_size must be at least
 * ud_b64url_encoded_len(n) + 1. Returns the length written, or (size_t)-1
 * when out is too small (out is then left empty when out_size > 0).
 */
size_t ud_b64url_encode(const uint8_t *in, size_t n, char *out,
			size_t out_size);

/*
 * Decodes in[0..n) strictly: only the url-safe alphabet, no padding, no
 * whitespace, a length that is not 1 modulo 4 and zero unused trailing bits
 * (so every byte string has exactly one accepted encoding). Writes at most
 * out_size bytes to out and their count to *out_len. 0, or -1 when the
 * input is not canonical base64url or out is too small.
 */
int ud_b64url_decode(const char *in, size_t n, uint8_t *out, size_t out_size,
		     size_t *out_len);

/*
 * Decodes in[0..n) in the standard alphabet (RFC 4648 section 4), as
 * stored password hashes write it: '+' or '.' (passlib's variant) for 62,
 * '/' for 63, with or without '=' padding (when present it must make the
 * length a multiple of 4), no whitespace, zero unused trailing bits. The
 * same results as ud_b64url_decode otherwise.
 */
int ud_b64std_decode(const char *in, size_t n, uint8_t *out, size_t out_size,
		     size_t *out_len);

#endif
