/*
 * b64url.c - strict base64url without padding, and the decoder of the
 * standard alphabet that stored password hashes use.
 */
#include "b64url.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of a letter or digit (the part both alphabets share). */
static int
value_common(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	return -1;
}

/* The 6-bit value of c, or -1 when c is not in the url-safe alphabet. */
static int
value_of(unsigned char c)
{
	if (c == '-') {
		return 62;
	}
	if (c == '_') {
		return 63;
	}
	return value_common(c);
}

/* The same in the standard alphabet, '.' also standing for '+'. */
static int
value_std(unsigned char c)
{
	if (c == '+' || c == '.') {
		return 62;
	}
	if (c == '/') {
		return 63;
	}
	return value_common(c);
}

size_t
ud_b64url_encoded_len(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t
ud_b64url_encode(const uint8_t *in, size_t n, char *out, size_t out_size)
{
	size_t need = ud_b64url_encoded_len(n);
	size_t i = 0, o = 0;

	if (out_size == 0) {
		return (size_t)-1;
	}
	if (need >= out_size) {
		out[0] = '\0';
		return (size_t)-1;
	}
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

/* Decodes in[0..n) with the 6-bit values of value (see the header). */
static int
decode_with(int (*value)(unsigned char), const char *in, size_t n, uint8_t *out,
	    size_t out_size, size_t *out_len)
{
	size_t rem = n % 4;
	size_t need = n / 4 * 3 + (rem == 0 ? 0 : rem - 1);
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	*out_len = 0;
	if (rem == 1 || need > out_size) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int v = value((unsigned char)in[i]);
		if (v < 0) {
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero: the encoding is canonical. */
	if (acc != 0) {
		return -1;
	}
	*out_len = o;
	return 0;
}

int
ud_b64url_decode(const char *in, size_t n, uint8_t *out, size_t out_size,
		 size_t *out_len)
{
	return decode_with(value_of, in, n, out, out_size, out_len);
}

int
ud_b64std_decode(const char *in, size_t n, uint8_t *out, size_t out_size,
		 size_t *out_len)
{
	size_t pad = 0;

	/* Padding, when there is any, makes the length a multiple of 4. */
	while (pad < 2 && pad < n && in[n - 1 - pad] == '=') {
		pad++;
	}
	if (pad > 0 && n % 4 != 0) {
		*out_len = 0;
		return -1;
	}
	return decode_with(value_std, in, n - pad, out, out_size, out_len);
}
