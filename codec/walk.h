/*
 * walk.h - the one walk over a message's descriptors that every encoder
 * of the library shares, and the table of events (an emitter) each format
 * answers with its own bytes.
 *
 * The walk decides what is written and in which order, for all formats
 * alike: members in declared order (or in byte order of their PascalCase
 * names, UW_EMIT_BY_PASCAL); a member only when it is set, or when it is
 * a list and the format writes empty lists (UW_EMIT_EMPTY_LISTS), or when
 * users.proto marks it (always_written); a list_wrapper message as its
 * plain list; a map<k,v> as its entries; an enum by name, or by number
 * when (enum_as_number) says so and the format honours it (not with
 * UW_EMIT_ENUM_NAMES) or when the value has no name; a Guid normalised to
 * 32 lowercase hex digits (the emitter may dash it); a number as the text
 * uw_number_text writes. UW_EMIT_PROTO undoes the three that are
 * ServiceStack's and not protobuf's (list_wrapper, always_written, Guid)
 * for proto3's JSON mapping. The emitter only writes: punctuation, names,
 * elements, escapes.
 *
 * A value stands in a slot (the root, a member, a list item, a map key or
 * value); the emitter sees value_begin, then the value's content (one
 * scalar callback, null, or begin..end of an object, a list, or a map
 * with begin..end of an entry around each key and value), then
 * value_end. Nesting is bounded by UW_WALK_MAX_DEPTH (a guard
 * for hand-built messages: decoders never build deeper ones). On failure
 * the output buffer is left as it was.
 */
#ifndef UW_WALK_H
#define UW_WALK_H

#include "codec.h"

/* Objects, lists and maps inside each other, at most. */
#define UW_WALK_MAX_DEPTH 100

typedef enum uw_place {
	UW_AT_ROOT,   /* the message encoded (d; no field) */
	UW_AT_FIELD,  /* a field's value encoded on its own (a CSV cell) */
	UW_AT_MEMBER, /* a member of an object */
	UW_AT_ITEM,   /* an item of a list */
	UW_AT_KEY,    /* the key of a map entry (d: the entry's type) */
	UW_AT_VALUE,  /* the value of a map entry */
} uw_place;

/* Where a value stands: field f of message type d (NULL at the root). */
typedef struct uw_slot {
	uw_place at;
	const ProtobufCMessageDescriptor *d;
	const ProtobufCFieldDescriptor *f;
	const up_field_info *fi; /* f's metadata; NULL outside the contract */
	/* MEMBER: the members written before it; ITEM: its position; KEY
	 * and VALUE: the entry's position. */
	size_t index;
} uw_slot;

typedef struct uw_walk uw_walk;

/* Members in byte order of their member names (DataContract). */
#define UW_EMIT_BY_PASCAL 1u
/* Lists with no items are written too (maps are not). */
#define UW_EMIT_EMPTY_LISTS 2u
/* Enums by name even when users.proto says (enum_as_number). */
#define UW_EMIT_ENUM_NAMES 4u
/* The message as protobuf declares it, for proto3's JSON mapping: a
 * list_wrapper as the object it is, a Guid as it is stored, no member
 * written for always_written alone (use with UW_EMIT_ENUM_NAMES). */
#define UW_EMIT_PROTO 8u

/* What begins or ends: the members of an object of type d; the items of
 * repeated field f of type d (a list_wrapper's too); the entries of map
 * field f; one entry of type d, its key and value in KEY and VALUE. */
typedef enum uw_shape { UW_OBJECT, UW_LIST, UW_MAP, UW_ENTRY } uw_shape;

/* A format's answers to the walk: 0, or -1 to stop it (the output full).
 * value_begin and value_end may be NULL (nothing to write). */
typedef struct uw_emitter {
	unsigned flags;           /* UW_EMIT_* */
	const char *bool_text[2]; /* false, true */
	int (*value_begin)(uw_walk *w, const uw_slot *s);
	int (*value_end)(uw_walk *w, const uw_slot *s);
	int (*begin)(uw_walk *w, uw_shape shape,
		     const ProtobufCMessageDescriptor *d,
		     const ProtobufCFieldDescriptor *f);
	int (*end)(uw_walk *w, uw_shape shape,
		   const ProtobufCMessageDescriptor *d,
		   const ProtobufCFieldDescriptor *f);
	/* Scalars. bare: a number's decimal text (an enum without a name
	 * too) or a boolean's bool_text. */
	int (*bare)(uw_walk *w, const uw_slot *s, const char *text, size_t len);
	/* A float or double that is not finite. */
	int (*nonfinite)(uw_walk *w, const uw_slot *s, double v);
	/* A string (never NULL), an enum's name, or with guid a Guid as 32
	 * lowercase hex digits; the brace formats write a member's name with
	 * it too. */
	int (*string)(uw_walk *w, const uw_slot *s, const char *text,
		      size_t len, bool guid);
	int (*bytes)(uw_walk *w, const uw_slot *s, const uint8_t *data,
		     size_t len);
	/* A message value that is not there (a hand-built map's value). */
	int (*null)(uw_walk *w, const uw_slot *s);
} uw_emitter;

struct uw_walk {
	const uw_emitter *em;
	void *ctx; /* the emitter's own state */
	uw_buf *out;
	unsigned depth;
};

/* Appends msg as the root value. 0, or -1 with out as it was. */
int uw_walk_message(const uw_emitter *em, void *ctx,
		    const ProtobufCMessage *msg, uw_buf *out);
/* Appends field f of m (its list, map or value, set or not) on its own;
 * fi: f's info, NULL to look it up. 0, or -1 with out as it was. */
int uw_walk_field(const uw_emitter *em, void *ctx, const ProtobufCMessage *m,
		  const ProtobufCFieldDescriptor *f, const up_field_info *fi,
		  uw_buf *out);

/* The slot's field names; the proto name outside the contract. The member
 * name is DataContract XML's: the DataMember name when the field has one
 * of its own (up_field_info.data_member), else PascalCase. */
const char *uw_slot_json_name(const uw_slot *s);
const char *uw_slot_member_name(const uw_slot *s);

/* Appends n bytes of s to the walk's output. 0 or -1. */
int uw_put(uw_walk *w, const char *s, size_t n);

/*
 * The structure of the brace formats (JSON, JSV): {members}, [items],
 * {key:value}; ',' between members, items and entries; a member's name
 * written with the emitter's string callback, then ':'.
 */
int uw_brace_value_begin(uw_walk *w, const uw_slot *s);
int uw_brace_begin(uw_walk *w, uw_shape shape,
		   const ProtobufCMessageDescriptor *d,
		   const ProtobufCFieldDescriptor *f);
int uw_brace_end(uw_walk *w, uw_shape shape,
		 const ProtobufCMessageDescriptor *d,
		 const ProtobufCFieldDescriptor *f);

/* A brace format's emitter: that structure, its booleans, and the
 * format's functions p_bare, p_nonfinite, p_string, p_bytes, p_null. */
#define UW_BRACE_EMITTER(p, emit_flags, false_text, true_text)                 \
	{                                                                      \
		.flags = (emit_flags), .bool_text = {false_text, true_text},   \
		.value_begin = uw_brace_value_begin, .begin = uw_brace_begin,  \
		.end = uw_brace_end, .bare = p##_bare,                         \
		.nonfinite = p##_nonfinite, .string = p##_string,              \
		.bytes = p##_bytes, .null = p##_null,                          \
	}

#endif /* UW_WALK_H */
