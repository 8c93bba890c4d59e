/*
 * codec.h - what the files of the codec library share and nothing outside
 * it needs: errors, field access by descriptor below the public API,
 * number text, and the JSV value codec CSV cells are written
 * and read with. The public API is include/users_wire.h.
 */
#ifndef UW_CODEC_H
#define UW_CODEC_H

#include "users_wire.h"

/* The formats' functions, gathered into uw_codecs[] by codec.c: the
 * decode and encode of uw_codec for codec_<name>.c. */
#define UW_FORMAT(name)                                                        \
	int uw_##name##_decode(ProtobufCMessage *msg, const char *body,        \
			       size_t len, const uw_limits *lim,               \
			       uw_decode_error *err);                          \
	int uw_##name##_encode(const ProtobufCMessage *msg, uw_buf *out)
UW_FORMAT(json);
UW_FORMAT(jsv);
UW_FORMAT(csv);
UW_FORMAT(xml);
UW_FORMAT(pbjson); /* codec_json.c */

/* ------------------------------------------------------------------------
 * Field access driven by descriptors, below uw_field_set_text, and the
 * text of values.
 */

/* Fills err (field may be NULL for ""). */
void uw_error_set(uw_decode_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * The decoders' errors about field f of d, named by its wire name (its
 * PascalCase name in err->field); each returns -1. expected: "Expected
 * {what} for 'name'"; expected_kind: the same for a noun with its article
 * ("an object"); limit: the limit of lim that the value passes.
 */
int uw_error_expected(uw_decode_error *err, const ProtobufCMessageDescriptor *d,
		      const ProtobufCFieldDescriptor *f, const char *what);
int uw_error_expected_kind(uw_decode_error *err,
			   const ProtobufCMessageDescriptor *d,
			   const ProtobufCFieldDescriptor *f, const char *noun);
typedef enum uw_limit {
	UW_LIMIT_DEPTH,  /* nesting */
	UW_LIMIT_ITEMS,  /* items of a list, entries of a map */
	UW_LIMIT_STRING, /* bytes of a string */
} uw_limit;
int uw_error_limit(uw_decode_error *err, const ProtobufCMessageDescriptor *d,
		   const ProtobufCFieldDescriptor *f, uw_limit which,
		   const uw_limits *lim);

/* A new empty message of f's type stored in m's field f (appended when f
 * is repeated), owned by m; NULL with err filled when out of memory. */
ProtobufCMessage *uw_field_new_message(ProtobufCMessage *m,
				       const ProtobufCFieldDescriptor *f,
				       uw_decode_error *err);
/* Before a decoder fills list or map field f of m with n items at depth:
 * the limits of lim (an error naming nf of nd, -1), then f emptied (0). */
int uw_field_refill(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		    size_t n, size_t depth, const uw_limits *lim,
		    const ProtobufCMessageDescriptor *nd,
		    const ProtobufCFieldDescriptor *nf, uw_decode_error *err);
/* Written even when unset or empty: the field's (always_written) option
 * in users.proto (ResponseStatus.errors). */
bool uw_field_always_written(const ProtobufCMessageDescriptor *d,
			     const ProtobufCFieldDescriptor *f);
/* uw_field_set_text, errors naming field nf of nd (the list_wrapper field
 * whose items are being set) instead of f. */
int uw_field_set_text_as(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			 const char *text, size_t len, bool append,
			 const uw_limits *lim,
			 const ProtobufCMessageDescriptor *nd,
			 const ProtobufCFieldDescriptor *nf,
			 uw_decode_error *err);
/* The longest text uw_number_text writes, NUL included. */
#define UW_NUMBER_MAX 40
/*
 * The decimal text of a numeric field's value stored at p (integers as
 * they are, floats with 9 and doubles with 17 significant digits, so they
 * read back exactly) into buf, for every text format alike. 0 with *len
 * set; 1 for a real that is not finite (each format writes that its own
 * way); -1 when f is not a numeric field.
 */
int uw_number_text(const ProtobufCFieldDescriptor *f, const void *p,
		   char buf[UW_NUMBER_MAX], size_t *len);
/* What a value of f must be, for messages: "string", "number", ... */
const char *uw_field_noun(const ProtobufCMessageDescriptor *d,
			  const ProtobufCFieldDescriptor *f);
/* Normalises a Guid (dashed or not, optional braces) to 32 lowercase hex
 * digits and a NUL in out. 0 or -1. */
int uw_guid_normalize(const char *s, size_t len, char out[33]);
/* lim with every 0 member replaced by its default (lim may be NULL). */
uw_limits uw_limits_effective(const uw_limits *lim);

/* Room a format's rep may use in its buf. */
#define UW_TEXT_REP_MAX 16
/*
 * A format's escapes. ascii: 128 marks, 'x' for each ASCII byte rep
 * replaces ('.' for the others: they are written as they are, without a
 * call); wide: whether rep is asked about valid characters of 2 to 4
 * bytes too. rep: the replacement of one valid UTF-8 character (k bytes at
 * p; buf may hold it), or NULL to write it as it is.
 */
typedef struct uw_escapes {
	const char *ascii;
	bool wide;
	const char *(*rep)(const unsigned char *p, size_t k, char *buf);
} uw_escapes;
/* Appends s, each character as e says (NULL: all as they are) and each
 * byte that is not UTF-8 as U+FFFD. 0 or -1. */
int uw_text_escape(uw_buf *out, const char *s, size_t len, const uw_escapes *e);
/* uw_text_escape with each " doubled when quoted (JSV and CSV quoting). */
int uw_text_put(uw_buf *out, const char *s, size_t len, bool quoted);
/* codec_jsv.c: field f of m as a JSV value (a list, {k:v} map, object or
 * scalar), for formats that carry JSV inside a value (CSV cells); fi: f's
 * info when the caller has it, else NULL. 0 or -1 (out as it was). */
int uw_jsv_encode_field(const ProtobufCMessage *m,
			const ProtobufCFieldDescriptor *f,
			const up_field_info *fi, uw_buf *out);
/* Sets field f of m from one JSV value (replacing what f holds), within
 * lim. 0, or -1 with err. */
int uw_jsv_decode_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			const char *text, size_t len, const uw_limits *lim,
			uw_decode_error *err);

#endif /* UW_CODEC_H */
