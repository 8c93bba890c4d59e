/*
 * codec.c - the table of wire formats, lookups by name and by request
 * Content-Type, and the bounded output buffer every encoder writes to.
 *
 * A new format is its own codec_<name>.c with uw_<name>_decode and
 * uw_<name>_encode (codec.h), its uw_codec_<name> here, one line in
 * uw_codecs[] and its line(s) in read_types[] (media types whose codec is
 * not in the table yet simply resolve to NULL).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"

#define UW_BUF_DEFAULT_MAX (16u << 20)

const uw_limits uw_limits_default = {
    .max_depth = 16,
    .max_items = 1000,
    .max_string = 65536,
};

const uw_codec uw_codec_json = {"json", "application/json; charset=utf-8",
				uw_json_decode, uw_json_encode};
const uw_codec uw_codec_jsv = {"jsv", "text/jsv", uw_jsv_decode, uw_jsv_encode};
const uw_codec uw_codec_csv = {"csv", "text/csv", uw_csv_decode, uw_csv_encode};
const uw_codec uw_codec_xml = {"xml", "application/xml", uw_xml_decode,
			       uw_xml_encode};

/* Not in the table: the RPC dialects' JSON, never negotiated for REST. */
const uw_codec uw_codec_proto_json = {"proto-json", "application/json",
				      uw_pbjson_decode, uw_pbjson_encode};

const uw_codec *const uw_codecs[] = {
    &uw_codec_json, &uw_codec_jsv, &uw_codec_csv, &uw_codec_xml, NULL,
};

/* Request Content-Types read (docs/wire-formats.md, section 1) -> codec. */
static const struct {
	const char *media_type;
	const char *codec;
} read_types[] = {
    {"application/json", "json"}, {"text/json", "json"},
    {"application/xml", "xml"},   {"text/xml", "xml"},
    {"text/jsv", "jsv"},          {"application/jsv", "jsv"},
    {"text/csv", "csv"},
};

const uw_codec *
uw_codec_by_name(const char *name, size_t len)
{
	if (name == NULL) {
		return NULL;
	}
	for (size_t i = 0; uw_codecs[i] != NULL; i++) {
		const char *n = uw_codecs[i]->name;
		if (strlen(n) == len && strncasecmp(n, name, len) == 0) {
			return uw_codecs[i];
		}
	}
	return NULL;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

const uw_codec *
uw_codec_by_content_type(const char *ct, size_t len)
{
	const char *semi;
	size_t start = 0;

	if (ct == NULL) {
		return NULL;
	}
	semi = memchr(ct, ';', len);
	if (semi != NULL) {
		len = (size_t)(semi - ct);
	}
	while (start < len && is_space(ct[start])) {
		start++;
	}
	while (len > start && is_space(ct[len - 1])) {
		len--;
	}
	ct += start;
	len -= start;
	for (size_t i = 0; i < sizeof(read_types) / sizeof(read_types[0]);
	     i++) {
		const char *mt = read_types[i].media_type;
		if (strlen(mt) == len && strncasecmp(mt, ct, len) == 0) {
			const char *n = read_types[i].codec;
			return uw_codec_by_name(n, strlen(n));
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Buffer: always NUL-terminated once it holds anything (not counted in len).
 */

int
uw_buf_append(uw_buf *b, const void *p, size_t n)
{
	size_t max = b->max != 0 ? b->max : UW_BUF_DEFAULT_MAX;
	size_t need;

	if (n == 0) {
		return 0;
	}
	if (b->len > max || n > max - b->len) {
		return -1;
	}
	need = b->len + n + 1;
	if (need > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 256;
		char *d;
		while (cap < need) {
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		}
		if (cap > max + 1) {
			cap = max + 1;
		}
		d = realloc(b->data, cap);
		if (d == NULL) {
			return -1;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
uw_buf_puts(uw_buf *b, const char *s)
{
	return uw_buf_append(b, s, strlen(s));
}

void
uw_buf_fini(uw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
