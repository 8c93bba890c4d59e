/*
 * codec.h - the gateway's wire formats, one table of them, each a generic
 * encoder/decoder pair driven by protobuf-c descriptors and the metadata
 * of users.proto (up_message_info / up_field_info: wire names, list
 * wrappers, Guids, enums as numbers). A new RPC needs a route, never codec
 * code; a new format is one more gw_codec in the table.
 *
 * Messages built by decoders are made of separately malloc'd pieces and
 * are released with protobuf_c_message_free_unpacked(msg, NULL).
 */
#ifndef GW_CODEC_H
#define GW_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "users_proto.h"

/* A growable output buffer with a hard maximum. Zeroed is empty. */
typedef struct gw_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: 16 MiB */
} gw_buf;

int gw_buf_append(gw_buf *b, const void *p, size_t n); /* 0 or -1 (full) */
int gw_buf_puts(gw_buf *b, const char *s);
void gw_buf_fini(gw_buf *b);

/* Limits on what a decoder accepts (untrusted input). */
typedef struct gw_limits {
	size_t max_depth;  /* nesting of objects/lists, default 16 */
	size_t max_items;  /* items of one list, default 1000 */
	size_t max_string; /* bytes of one string, default 65536 */
} gw_limits;

extern const gw_limits gw_limits_default;

/*
 * Why a decode failed, for the 400 answer: errorCode
 * "SerializationException" and a message such as "Expected a string for
 * 'firstName'". field is the PascalCase property name, or "" when none.
 */
typedef struct gw_decode_error {
	char message[200];
	char field[64];
} gw_decode_error;

typedef struct gw_codec {
	const char *name;         /* "json": ?format=, .ext, /{name}/reply */
	const char *content_type; /* the response Content-Type */
	/*
	 * Reads body into msg, a message of its type that may already hold
	 * fields (they are overwritten by what the body sets). Property names
	 * match case-insensitively (camelCase, PascalCase or the json_name);
	 * unknown names are ignored. 0, or -1 with err filled.
	 */
	int (*decode)(ProtobufCMessage *msg, const char *body, size_t len,
		      const gw_limits *lim, gw_decode_error *err);
	/* Appends msg in this format to out. 0 or -1. */
	int (*encode)(const ProtobufCMessage *msg, gw_buf *out);
} gw_codec;

/* The formats: json first; NULL-terminated. */
extern const gw_codec *const gw_codecs[];
const gw_codec *gw_codec_by_name(const char *name, size_t len);
/* By request Content-Type (parameters such as charset ignored). */
const gw_codec *gw_codec_by_content_type(const char *ct, size_t len);

extern const gw_codec gw_codec_json;
extern const gw_codec gw_codec_jsv;
extern const gw_codec gw_codec_csv;
extern const gw_codec gw_codec_xml;

/* A new empty message of type d (malloc'd, initialised). */
ProtobufCMessage *gw_msg_new(const ProtobufCMessageDescriptor *d);

/*
 * Sets one property of msg from text, as query strings, form fields and
 * path variables carry it (values parsed like JSV: "a,b" or "[a,b]" fills
 * a list, true/false/1/0 booleans, enums by name or number, Guids dashed
 * or not). The name matches case-insensitively; an unknown name is
 * ignored (returns 0). 0, or -1 with err filled.
 */
int gw_msg_set_text(ProtobufCMessage *msg, const char *name, size_t name_len,
		    const char *value, size_t value_len, gw_decode_error *err);

/*
 * Applies every pair of an application/x-www-form-urlencoded body or a
 * query string (percent-decoding, '+' as space) with gw_msg_set_text.
 * With only_unset, a pair fills only a field that is still unset (the
 * predefined routes' rule for the query string). 0 or -1 with err.
 */
int gw_msg_set_form(ProtobufCMessage *msg, const char *form, size_t len,
		    bool only_unset, const gw_limits *lim,
		    gw_decode_error *err);

/* The field of d whose wire name, PascalCase or proto name is name. */
const ProtobufCFieldDescriptor *
gw_field_by_name(const ProtobufCMessageDescriptor *d, const char *name,
		 size_t len);

/* ------------------------------------------------------------------------
 * Shared by the codec files (gw_codec module-internal; not for the server).
 * Field access driven by descriptors: presence, clearing, and setting one
 * value from text with the JSV-like value rules above.
 */

/* Fills err (field may be NULL for ""). */
void gw_error_set(gw_decode_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The wire name ("accountIds") and PascalCase name ("AccountIds") of f;
 * the proto name when the message is outside the contract. */
const char *gw_field_json_name(const ProtobufCMessageDescriptor *d,
			       const ProtobufCFieldDescriptor *f);
const char *gw_field_pascal_name(const ProtobufCMessageDescriptor *d,
				 const ProtobufCFieldDescriptor *f);
bool gw_field_is_guid(const ProtobufCMessageDescriptor *d,
		      const ProtobufCFieldDescriptor *f);
/* A map<k,v> field (a repeated message of a key/value MapEntry). */
bool gw_field_is_map(const ProtobufCFieldDescriptor *f);
/* Messages with the list_wrapper option: written as their list. */
bool gw_msg_is_list_wrapper(const ProtobufCMessageDescriptor *d);
/* The repeated field a list_wrapper message wraps, or NULL. */
const ProtobufCFieldDescriptor *
gw_list_wrapper_items(const ProtobufCMessageDescriptor *d);

/* Set: a string/message non-NULL, has_ true, a list non-empty. */
bool gw_field_present(const ProtobufCMessage *m,
		      const ProtobufCFieldDescriptor *f);
/* Items of a repeated field. */
size_t gw_field_count(const ProtobufCMessage *m,
		      const ProtobufCFieldDescriptor *f);
/* Frees what f holds and makes it unset (a list empty). */
void gw_field_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* Stores sub (a message of f's type, now owned by m; freed on failure) in
 * a message field, or appends it to a repeated one. 0 or -1. */
int gw_field_put_message(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			 ProtobufCMessage *sub, gw_decode_error *err);
/*
 * Sets scalar field f (or appends to repeated f when append) from one
 * text value: strings verbatim (Guids normalised to 32 lowercase hex),
 * numbers in range, booleans true/false/1/0, enums by name or number,
 * bytes as base64. Empty text unsets a number, boolean, enum or Guid.
 * Checks UTF-8, NUL and lim->max_string. 0, or -1 with err.
 */
int gw_field_set_text(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		      const char *text, size_t len, bool append,
		      const gw_limits *lim, gw_decode_error *err);
/* The same, errors naming field nf of nd (the list_wrapper field whose
 * items are being set) instead of f. */
int gw_field_set_text_as(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			 const char *text, size_t len, bool append,
			 const gw_limits *lim,
			 const ProtobufCMessageDescriptor *nd,
			 const ProtobufCFieldDescriptor *nf,
			 gw_decode_error *err);
/* The longest text gw_number_text writes, NUL included. */
#define GW_NUMBER_MAX 40
/*
 * The decimal text of a numeric field's value stored at p (integers as
 * they are, floats with 9 and doubles with 17 significant digits, so they
 * read back exactly) into buf, for every text format alike. 0 with *len
 * set; 1 for a real that is not finite (each format writes that its own
 * way); -1 when f is not a numeric field.
 */
int gw_number_text(const ProtobufCFieldDescriptor *f, const void *p,
		   char buf[GW_NUMBER_MAX], size_t *len);
/* Appends standard base64 (with padding) of p to out. 0 or -1. */
int gw_base64_encode(gw_buf *out, const uint8_t *p, size_t n);
/* What a value of f must be, for messages: "string", "number", ... */
const char *gw_field_noun(const ProtobufCMessageDescriptor *d,
			  const ProtobufCFieldDescriptor *f);
/* Length of the valid UTF-8 sequence at s (1-4), 0 when invalid. */
size_t gw_utf8_char(const unsigned char *s, size_t n);
/* Normalises a Guid (dashed or not, optional braces) to 32 lowercase hex
 * digits and a NUL in out. 0 or -1. */
int gw_guid_normalize(const char *s, size_t len, char out[33]);
/* lim with every 0 member replaced by its default (lim may be NULL). */
gw_limits gw_limits_effective(const gw_limits *lim);

/* Appends s with each invalid UTF-8 byte replaced by U+FFFD, and each "
 * doubled when double_quotes (JSV and CSV quoting). 0 or -1. */
int gw_text_put(gw_buf *out, const char *s, size_t len, bool double_quotes);
/* codec_jsv.c: field f of m as a JSV value (a list, {k:v} map, object or
 * scalar), for formats that carry JSV inside a value (CSV cells). 0 or -1
 * (out as it was). */
int gw_jsv_encode_field(const ProtobufCMessage *m,
			const ProtobufCFieldDescriptor *f, gw_buf *out);
/* Sets field f of m from one JSV value (replacing what f holds), within
 * lim. 0, or -1 with err. */
int gw_jsv_decode_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			const char *text, size_t len, const gw_limits *lim,
			gw_decode_error *err);

#endif /* GW_CODEC_H */
