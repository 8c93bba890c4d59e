/*
 * text.c - the small text codings every part above the contract needs
 * once: UTF-8 sequences and the one loop that writes text with a format's
 * escapes, hex digits, percent-decoding (paths, query strings, forms) and
 * base64 (bytes fields, Basic credentials, a JWT's payload). Pure
 * functions over caller memory, no state.
 *
 * usersd has its own strict base64url (daemon/b64url.c): the daemon does
 * not depend on this library, and the JWTs it signs want exactly that one
 * alphabet without padding.
 */
#include <string.h>

#include "codec.h"

size_t
uw_utf8_char(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80) {
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		return (n >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : 0xbf;
		return (n >= 3 && s[1] >= lo && s[1] <= hi &&
			(s[2] & 0xc0) == 0x80)
			   ? 3
			   : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
		return (n >= 4 && s[1] >= lo && s[1] <= hi &&
			(s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80)
			   ? 4
			   : 0;
	}
	return 0;
}

int
uw_text_escape(uw_buf *out, const char *s, size_t len, const uw_escapes *e)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *ascii = e != NULL ? e->ascii : NULL;
	size_t from = 0, i = 0; /* s[from, i) is written as it is */
	char buf[UW_TEXT_REP_MAX];

	while (i < len) {
		size_t k = 1;
		const char *r = NULL;

		if (p[i] < 0x80) {
			if (ascii == NULL || ascii[p[i]] != 'x') {
				i++;
				continue;
			}
			r = e->rep(p + i, 1, buf);
		} else if ((k = uw_utf8_char(p + i, len - i)) == 0) {
			r = "\xef\xbf\xbd"; /* U+FFFD: not UTF-8 */
			k = 1;
		} else if (e != NULL && e->wide) {
			r = e->rep(p + i, k, buf);
		}
		if (r != NULL) {
			if (uw_buf_append(out, s + from, i - from) != 0 ||
			    uw_buf_append(out, r, strlen(r)) != 0) {
				return -1;
			}
			from = i + k;
		}
		i += k;
	}
	return uw_buf_append(out, s + from, len - from);
}

/* JSV and CSV quoting: " doubled. */
static const char *
double_quote(const unsigned char *p, size_t k, char *buf)
{
	return "\"\"";
}

static const uw_escapes quoted_text = {
    .ascii = "................................"
	     "..x............................."
	     "................................"
	     "................................",
    .rep = double_quote,
};

int
uw_text_put(uw_buf *out, const char *s, size_t len, bool quoted)
{
	return uw_text_escape(out, s, len, quoted ? &quoted_text : NULL);
}

int
uw_hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c |= 0x20; /* a letter's lower case; no other byte lands on a-f */
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
uw_pct_decode(const char *s, size_t len, bool plus_space, char *out,
	      size_t out_size, size_t *out_len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		char c = s[i];

		if (c == '+' && plus_space) {
			c = ' ';
		} else if (c == '%' && i + 2 < len &&
			   (hi = uw_hexval(s[i + 1])) >= 0 &&
			   (lo = uw_hexval(s[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (n + 1 >= out_size) {
			out[0] = '\0';
			*out_len = 0;
			return -1;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	*out_len = n;
	return 0;
}

/* ------------------------------------------------------------------------
 * Base64
 */

static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A character's value in either alphabet ('-' and '_' are the URL-safe
 * '+' and '/'); -1 for any other. */
static int
b64val(char c)
{
	const char *p;

	if (c == '-' || c == '_') {
		return c == '-' ? 62 : 63;
	}
	p = c != '\0' ? memchr(b64std, c, 64) : NULL;
	return p != NULL ? (int)(p - b64std) : -1;
}

size_t
uw_base64_decoded_max(size_t len)
{
	return len / 4 * 3 + 3;
}

int
uw_base64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
	size_t n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (len > 0 && s[len - 1] == '=') {
		len--;
	}
	if (len % 4 == 1) {
		return -1; /* a lone sixth character */
	}
	for (size_t i = 0; i < len; i++) {
		int v = b64val(s[i]);

		if (v < 0) {
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* the unused low bits must be zero (one canonical text per value) */
	if ((acc & ((1u << bits) - 1)) != 0) {
		return -1;
	}
	*out_len = n;
	return 0;
}

int
uw_base64_encode(uw_buf *out, const uint8_t *p, size_t n)
{
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t k = n - i;
		if (k > 1) {
			v |= (uint32_t)p[i + 1] << 8;
		}
		if (k > 2) {
			v |= p[i + 2];
		}
		q[0] = b64std[(v >> 18) & 63];
		q[1] = b64std[(v >> 12) & 63];
		q[2] = k > 1 ? b64std[(v >> 6) & 63] : '=';
		q[3] = k > 2 ? b64std[v & 63] : '=';
		if (uw_buf_append(out, q, 4) != 0) {
			return -1;
		}
	}
	return 0;
}
