/*
 * users_wire.h - the wire formats of the REST API (JSON, JSV, CSV, XML) as
 * one library, userswire: one table of codecs, each a generic encoder and
 * decoder driven by protobuf-c descriptors and the metadata of users.proto
 * (up_message_info / up_field_info: wire names, list wrappers, Guids,
 * enums as numbers, fields always written). A new RPC needs a route, never
 * codec code; a new format is one more uw_codec in the table.
 *
 * It depends on the contract (usersproto) and nothing above it: usersgw
 * answers HTTP with it, usersctl prints with it, and both write the same
 * bytes. Messages built by decoders are made of separately malloc'd pieces
 * and are released with protobuf_c_message_free_unpacked(msg, NULL).
 * Everything here is safe from any thread (the codecs keep no state).
 */
#ifndef USERS_WIRE_H
#define USERS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "users_proto.h"

/* A growable output buffer with a hard maximum. Zeroed is empty. */
typedef struct uw_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: 16 MiB */
} uw_buf;

int uw_buf_append(uw_buf *b, const void *p, size_t n); /* 0 or -1 (full) */
int uw_buf_puts(uw_buf *b, const char *s);
void uw_buf_fini(uw_buf *b);

/* Limits on what a decoder accepts (untrusted input). */
typedef struct uw_limits {
	size_t max_depth;  /* nesting of objects/lists, default 16 */
	size_t max_items;  /* items of one list, default 1000 */
	size_t max_string; /* bytes of one string, default 65536 */
} uw_limits;

extern const uw_limits uw_limits_default;

/*
 * Why a decode failed, for the 400 answer: errorCode
 * "SerializationException" and a message such as "Expected a string for
 * 'firstName'". field is the PascalCase property name, or "" when none.
 */
typedef struct uw_decode_error {
	char message[200];
	char field[64];
} uw_decode_error;

typedef struct uw_codec {
	const char *name;         /* "json": ?format=, .ext, /{name}/reply */
	const char *content_type; /* the response Content-Type */
	/*
	 * Reads body into msg, a message of its type that may already hold
	 * fields (they are overwritten by what the body sets). Property names
	 * match case-insensitively (camelCase, PascalCase or the json_name);
	 * unknown names are ignored. 0, or -1 with err filled.
	 */
	int (*decode)(ProtobufCMessage *msg, const char *body, size_t len,
		      const uw_limits *lim, uw_decode_error *err);
	/* Appends msg in this format to out. 0 or -1 (out as it was). */
	int (*encode)(const ProtobufCMessage *msg, uw_buf *out);
} uw_codec;

/* The formats: json first; NULL-terminated. */
extern const uw_codec *const uw_codecs[];
const uw_codec *uw_codec_by_name(const char *name, size_t len);
/* By request Content-Type (parameters such as charset ignored). */
const uw_codec *uw_codec_by_content_type(const char *ct, size_t len);

extern const uw_codec uw_codec_json;
extern const uw_codec uw_codec_jsv;
extern const uw_codec uw_codec_csv;
extern const uw_codec uw_codec_xml;
/*
 * proto3's JSON mapping, for the RPC dialects (Connect, gRPC-Web): lower
 * camelCase json_names (either spelling read, as every decoder here), 64-
 * bit integers as strings, enums by name, a StringList as {"items":[]},
 * strings as they are (no Guid rewritten on the way out), nothing written
 * for an unset field or an empty list. Not in uw_codecs[]: REST never
 * negotiates it.
 */
extern const uw_codec uw_codec_proto_json;

/* A new empty message of type d (malloc'd, initialised). */
ProtobufCMessage *uw_msg_new(const ProtobufCMessageDescriptor *d);

/*
 * Sets one property of msg from text, as query strings, form fields and
 * path variables carry it (values parsed like JSV: "a,b" or "[a,b]" fills
 * a list, true/false/1/0 booleans, enums by name or number, Guids dashed
 * or not). The name matches case-insensitively; an unknown name is
 * ignored (returns 0). 0, or -1 with err filled.
 */
int uw_msg_set_text(ProtobufCMessage *msg, const char *name, size_t name_len,
		    const char *value, size_t value_len, uw_decode_error *err);

/*
 * Applies every pair of an application/x-www-form-urlencoded body or a
 * query string (percent-decoding, '+' as space) with uw_msg_set_text.
 * With only_unset, a pair fills only a field that is still unset (the
 * predefined routes' rule for the query string). 0 or -1 with err.
 */
int uw_msg_set_form(ProtobufCMessage *msg, const char *form, size_t len,
		    bool only_unset, const uw_limits *lim,
		    uw_decode_error *err);

/* ------------------------------------------------------------------------
 * Fields as the wire sees them (the metadata pages describe and fill
 * messages with these too).
 */

/* The field of d whose wire name, PascalCase or proto name is name. */
const ProtobufCFieldDescriptor *
uw_field_by_name(const ProtobufCMessageDescriptor *d, const char *name,
		 size_t len);
/* The wire name ("accountIds") and PascalCase name ("AccountIds") of f;
 * the proto name when the message is outside the contract. */
const char *uw_field_json_name(const ProtobufCMessageDescriptor *d,
			       const ProtobufCFieldDescriptor *f);
const char *uw_field_pascal_name(const ProtobufCMessageDescriptor *d,
				 const ProtobufCFieldDescriptor *f);
bool uw_field_is_guid(const ProtobufCMessageDescriptor *d,
		      const ProtobufCFieldDescriptor *f);
/* A map<k,v> field (a repeated message of a key/value MapEntry). */
bool uw_field_is_map(const ProtobufCFieldDescriptor *f);
/* Messages with the list_wrapper option: written as their list. */
bool uw_msg_is_list_wrapper(const ProtobufCMessageDescriptor *d);
/* The repeated field a list_wrapper message wraps, or NULL. */
const ProtobufCFieldDescriptor *
uw_list_wrapper_items(const ProtobufCMessageDescriptor *d);

/* Set: a string/message non-NULL, has_ true, a list non-empty. */
bool uw_field_present(const ProtobufCMessage *m,
		      const ProtobufCFieldDescriptor *f);
/* The bytes one value of type t takes in a message: the member of a
 * singular field, one item of a repeated field's array. */
size_t uw_value_size(ProtobufCType t);
/* Items of a repeated field. */
size_t uw_field_count(const ProtobufCMessage *m,
		      const ProtobufCFieldDescriptor *f);
/* Frees what f holds and makes it unset (a list empty). */
void uw_field_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* Stores sub (a message of f's type, now owned by m; freed on failure) in
 * a message field, or appends it to a repeated one. 0 or -1. */
int uw_field_put_message(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			 ProtobufCMessage *sub, uw_decode_error *err);
/*
 * Sets scalar field f (or appends to repeated f when append) from one
 * text value: strings verbatim (Guids normalised to 32 lowercase hex),
 * numbers in range, booleans true/false/1/0, enums by name or number,
 * bytes as base64. Empty text unsets a number, boolean, enum or Guid.
 * Checks UTF-8, NUL and lim->max_string. 0, or -1 with err.
 */
int uw_field_set_text(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		      const char *text, size_t len, bool append,
		      const uw_limits *lim, uw_decode_error *err);

/* ------------------------------------------------------------------------
 * Text
 */

/* Length of the valid UTF-8 sequence at s (1-4), 0 when invalid. */
size_t uw_utf8_char(const unsigned char *s, size_t n);
/* s[0..len) as a JSON string, quotes included, as the JSON codec writes
 * strings (U+2028 and U+2029 escaped, bytes that are not UTF-8 as U+FFFD).
 * 0 or -1. */
int uw_json_string(uw_buf *out, const char *s, size_t len);

/* The value of the hex digit c (either case); -1 when c is not one. */
int uw_hexval(int c);

/*
 * Percent-decodes s[0..len) into out (out_size >= 1 bytes, NUL-terminated;
 * len + 1 always suffices): %XX, hex digits of either case, is the byte XX;
 * with plus_space a '+' is a space (query strings and forms, not paths); a
 * '%' not followed by two hex digits stays as it is. The decoded bytes may
 * hold a NUL: a caller that cannot have one checks *out_len against
 * strlen. 0 with *out_len set, or -1 when the result needs more than
 * out_size - 1 bytes (out is then "" and *out_len 0).
 */
int uw_pct_decode(const char *s, size_t len, bool plus_space, char *out,
		  size_t out_size, size_t *out_len);

/* Room uw_base64_decode needs for len characters, with a byte to spare
 * (for a NUL the caller may add). */
size_t uw_base64_decoded_max(size_t len);
/*
 * Decodes base64 of either alphabet (standard '+' '/' or URL-safe '-' '_',
 * even mixed), padding optional, into out (uw_base64_decoded_max(len)
 * bytes); *out_len bytes written, not NUL-terminated. Only the canonical
 * text of a value is taken: a length of 1 modulo 4 (padding left aside)
 * or unused low bits that are not zero are refused. 0, or -1 when s is not
 * base64 (out holds garbage then).
 */
int uw_base64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len);
/* Appends standard base64 (with padding) of p[0..n) to out. 0 or -1. */
int uw_base64_encode(uw_buf *out, const uint8_t *p, size_t n);

#endif /* USERS_WIRE_H */
