/*
 * walk.c - the encoders' one walk over protobuf-c descriptors (walk.h
 * says what it decides), and the structure the brace formats share.
 *
 * The walk reads each message's metadata once (up_message_info_of) and
 * hands the emitter its fields' infos in the slots, so that no emitter
 * looks a field up by itself.
 */
#include <stdlib.h>
#include <string.h>

#include "walk.h"

/* Members sorted on the stack up to this many fields; beyond, malloc. */
#define ORDER_ON_STACK 64

static int walk_single(uw_walk *w, const uw_slot *s, const void *p);

/* cb(w, args...) when the emitter has cb, else nothing to write: 0. */
#define EMIT(w, cb, ...) ((w)->em->cb != NULL ? (w)->em->cb(w, __VA_ARGS__) : 0)

int
uw_put(uw_walk *w, const char *s, size_t n)
{
	return uw_buf_append(w->out, s, n);
}

const char *
uw_slot_json_name(const uw_slot *s)
{
	return s->fi != NULL ? s->fi->json_name : s->f->name;
}

/* A field's member name in DataContract XML: its DataMember name when it
 * has one of its own, else the PascalCase of its declared name. */
static const char *
member_name(const up_field_info *fi, const char *fallback)
{
	if (fi == NULL) {
		return fallback;
	}
	return fi->data_member != NULL ? fi->data_member : fi->pascal_name;
}

const char *
uw_slot_member_name(const uw_slot *s)
{
	return member_name(s->fi, s->f->name);
}

static const up_field_info *
info_at(const up_message_info *mi, const ProtobufCMessageDescriptor *d,
	const ProtobufCFieldDescriptor *f)
{
	size_t i = (size_t)(f - d->fields);

	return mi != NULL && i < mi->n_fields ? &mi->fields[i] : NULL;
}

static int
enter(uw_walk *w)
{
	return ++w->depth > UW_WALK_MAX_DEPTH ? -1 : 0;
}

/* The items of repeated field f of m as a list. */
static int
walk_list(uw_walk *w, const ProtobufCMessage *m,
	  const ProtobufCFieldDescriptor *f, const up_field_info *fi)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
	const char *arr = *(const char *const *)((const char *)m + f->offset);
	size_t es = uw_value_size(f->type);
	uw_slot s = {.at = UW_AT_ITEM, .d = d, .f = f, .fi = fi};

	if (enter(w) != 0 || w->em->begin(w, UW_LIST, d, f) != 0) {
		return -1;
	}
	for (size_t i = 0; arr != NULL && i < n; i++) {
		s.index = i;
		if (EMIT(w, value_begin, &s) != 0 ||
		    walk_single(w, &s, arr + i * es) != 0 ||
		    EMIT(w, value_end, &s) != 0) {
			return -1;
		}
	}
	w->depth--;
	return w->em->end(w, UW_LIST, d, f);
}

/* One value (the key or the value) of map entry e, in slot s. */
static int
walk_entry_part(uw_walk *w, uw_slot *s, const ProtobufCMessage *e,
		const up_message_info *emi, const ProtobufCFieldDescriptor *f)
{
	s->d = e->descriptor;
	s->f = f;
	s->fi = info_at(emi, s->d, f);
	return EMIT(w, value_begin, s) != 0 ||
		       walk_single(w, s, (const char *)e + f->offset) != 0 ||
		       EMIT(w, value_end, s) != 0
		   ? -1
		   : 0;
}

/* Map field f of m (a repeated key/value entry message) as its entries. */
static int
walk_map(uw_walk *w, const ProtobufCMessage *m,
	 const ProtobufCFieldDescriptor *f)
{
	size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
	const ProtobufCMessage *const *arr =
	    *(const ProtobufCMessage *const *const *)((const char *)m +
						      f->offset);

	if (enter(w) != 0 || w->em->begin(w, UW_MAP, m->descriptor, f) != 0) {
		return -1;
	}
	for (size_t i = 0; arr != NULL && i < n; i++) {
		const ProtobufCMessage *e = arr[i];
		const ProtobufCMessageDescriptor *ed = e->descriptor;
		const up_message_info *emi = up_message_info_of(ed);
		uw_slot key = {.at = UW_AT_KEY, .index = i};
		uw_slot value = {.at = UW_AT_VALUE, .index = i};

		if (w->em->begin(w, UW_ENTRY, ed, NULL) != 0 ||
		    walk_entry_part(w, &key, e, emi, &ed->fields[0]) != 0 ||
		    walk_entry_part(w, &value, e, emi, &ed->fields[1]) != 0 ||
		    w->em->end(w, UW_ENTRY, ed, NULL) != 0) {
			return -1;
		}
	}
	w->depth--;
	return w->em->end(w, UW_MAP, m->descriptor, f);
}

/* Whether m's field f is written at all. */
static bool
written(const uw_walk *w, const ProtobufCMessage *m,
	const ProtobufCFieldDescriptor *f, const up_field_info *fi)
{
	if (uw_field_present(m, f)) {
		return true;
	}
	if ((w->em->flags & UW_EMIT_PROTO) != 0) {
		return false;
	}
	if (fi != NULL && fi->always_written) {
		return true;
	}
	return (w->em->flags & UW_EMIT_EMPTY_LISTS) != 0 &&
	       f->label == PROTOBUF_C_LABEL_REPEATED && !uw_field_is_map(f);
}

/* The field of slot s in m, whatever its kind: its map, list or value. */
static int
walk_content(uw_walk *w, const uw_slot *s, const ProtobufCMessage *m)
{
	if (uw_field_is_map(s->f)) {
		return walk_map(w, m, s->f);
	}
	if (s->f->label == PROTOBUF_C_LABEL_REPEATED) {
		return walk_list(w, m, s->f, s->fi);
	}
	return walk_single(w, s, (const char *)m + s->f->offset);
}

static const char *
order_name(const ProtobufCMessageDescriptor *d, const up_message_info *mi,
	   unsigned i)
{
	return member_name(mi != NULL && i < mi->n_fields ? &mi->fields[i]
							  : NULL,
			   d->fields[i].name);
}

/* order[0..n_fields) = d's field indexes in byte order of their member
 * names (DataContract's order). */
static void
pascal_order(const ProtobufCMessageDescriptor *d, const up_message_info *mi,
	     unsigned *order)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const char *name = order_name(d, mi, i);
		unsigned j = i;
		while (j > 0 &&
		       strcmp(order_name(d, mi, order[j - 1]), name) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

/* The written members of m. */
static int
walk_members(uw_walk *w, const ProtobufCMessage *m, const up_message_info *mi)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned stack[ORDER_ON_STACK], *order = NULL;
	uw_slot s = {.at = UW_AT_MEMBER, .d = d};
	int rc = -1;

	if ((w->em->flags & UW_EMIT_BY_PASCAL) != 0) {
		order = d->n_fields > ORDER_ON_STACK
			    ? malloc(d->n_fields * sizeof(*order))
			    : stack;
		if (order == NULL) {
			return -1;
		}
		pascal_order(d, mi, order);
	}
	for (unsigned k = 0; k < d->n_fields; k++) {
		s.f = &d->fields[order != NULL ? order[k] : k];
		s.fi = info_at(mi, d, s.f);
		if (!written(w, m, s.f, s.fi)) {
			continue;
		}
		if (EMIT(w, value_begin, &s) != 0 ||
		    walk_content(w, &s, m) != 0 ||
		    EMIT(w, value_end, &s) != 0) {
			goto out;
		}
		s.index++;
	}
	rc = 0;
out:
	if (order != stack) {
		free(order);
	}
	return rc;
}

/* Message m as a value: its members, or its list for a list_wrapper. */
static int
walk_body(uw_walk *w, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const up_message_info *mi = up_message_info_of(d);
	const ProtobufCFieldDescriptor *items =
	    mi != NULL && mi->list_wrapper &&
		    (w->em->flags & UW_EMIT_PROTO) == 0
		? uw_list_wrapper_items(d)
		: NULL;

	if (items != NULL) {
		return walk_list(w, m, items, info_at(mi, d, items));
	}
	if (enter(w) != 0 || w->em->begin(w, UW_OBJECT, d, NULL) != 0 ||
	    walk_members(w, m, mi) != 0) {
		return -1;
	}
	w->depth--;
	return w->em->end(w, UW_OBJECT, d, NULL);
}

static int
walk_enum(uw_walk *w, const uw_slot *s, const void *p)
{
	const ProtobufCEnumDescriptor *e = s->f->descriptor;
	const ProtobufCEnumValue *ev =
	    protobuf_c_enum_descriptor_get_value(e, *(const int *)p);
	char b[UW_NUMBER_MAX];
	size_t n;

	if (ev != NULL && ((w->em->flags & UW_EMIT_ENUM_NAMES) != 0 ||
			   !up_enum_as_number(e))) {
		return w->em->string(w, s, ev->name, strlen(ev->name), false);
	}
	if (uw_number_text(s->f, p, b, &n) != 0) {
		return -1;
	}
	return w->em->bare(w, s, b, n);
}

/* One value of s->f stored at p: a scalar, or a message. */
static int
walk_single(uw_walk *w, const uw_slot *s, const void *p)
{
	const uw_emitter *em = w->em;
	char b[UW_NUMBER_MAX];
	size_t n;

	switch (s->f->type) {
	case PROTOBUF_C_TYPE_BOOL: {
		const char *t =
		    em->bool_text[*(const protobuf_c_boolean *)p != 0];
		return em->bare(w, s, t, strlen(t));
	}
	case PROTOBUF_C_TYPE_ENUM:
		return walk_enum(w, s, p);
	case PROTOBUF_C_TYPE_STRING: {
		const char *str = *(const char *const *)p;
		char g[33];
		if (str == NULL) {
			str = "";
		}
		if (s->fi != NULL && s->fi->guid &&
		    (em->flags & UW_EMIT_PROTO) == 0 &&
		    uw_guid_normalize(str, strlen(str), g) == 0) {
			return em->string(w, s, g, 32, true);
		}
		return em->string(w, s, str, strlen(str), false);
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = p;
		return em->bytes(w, s, bd->data, bd->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub =
		    *(const ProtobufCMessage *const *)p;
		return sub != NULL ? walk_body(w, sub) : em->null(w, s);
	}
	default:
		break;
	}
	switch (uw_number_text(s->f, p, b, &n)) {
	case 0:
		return em->bare(w, s, b, n);
	case 1:
		return em->nonfinite(w, s,
				     s->f->type == PROTOBUF_C_TYPE_FLOAT
					 ? *(const float *)p
					 : *(const double *)p);
	default:
		return -1;
	}
}

/* The value of slot s: the root message m, or field s->f of m. */
static int
walk_root(const uw_emitter *em, void *ctx, const uw_slot *s,
	  const ProtobufCMessage *m, uw_buf *out)
{
	uw_walk w = {.em = em, .ctx = ctx, .out = out};
	size_t mark = out->len;

	if (EMIT(&w, value_begin, s) != 0 ||
	    (s->at == UW_AT_ROOT ? walk_body(&w, m) : walk_content(&w, s, m)) !=
		0 ||
	    EMIT(&w, value_end, s) != 0) {
		out->len = mark;
		if (out->data != NULL) {
			out->data[mark] = '\0';
		}
		return -1;
	}
	return 0;
}

int
uw_walk_message(const uw_emitter *em, void *ctx, const ProtobufCMessage *msg,
		uw_buf *out)
{
	uw_slot s = {.at = UW_AT_ROOT};

	(void)up_meta_load();
	if (msg == NULL) {
		return -1;
	}
	s.d = msg->descriptor;
	return walk_root(em, ctx, &s, msg, out);
}

int
uw_walk_field(const uw_emitter *em, void *ctx, const ProtobufCMessage *m,
	      const ProtobufCFieldDescriptor *f, const up_field_info *fi,
	      uw_buf *out)
{
	uw_slot s = {.at = UW_AT_FIELD, .f = f, .fi = fi};

	if (m == NULL || f == NULL) {
		return -1;
	}
	s.d = m->descriptor;
	if (fi == NULL) {
		(void)up_meta_load();
		s.fi = up_field_info_of(s.d, f);
	}
	return walk_root(em, ctx, &s, m, out);
}

/* ------------------------------------------------------------------------
 * The brace formats' structure
 */

int
uw_brace_value_begin(uw_walk *w, const uw_slot *s)
{
	switch (s->at) {
	case UW_AT_MEMBER: {
		const char *name = uw_slot_json_name(s);
		if ((s->index > 0 && uw_put(w, ",", 1) != 0) ||
		    w->em->string(w, s, name, strlen(name), false) != 0) {
			return -1;
		}
		return uw_put(w, ":", 1);
	}
	case UW_AT_ITEM:
	case UW_AT_KEY:
		return s->index > 0 ? uw_put(w, ",", 1) : 0;
	case UW_AT_VALUE:
		return uw_put(w, ":", 1);
	default:
		return 0;
	}
}

/* The bracket that opens (end: closes) a shape; entries have none. */
static int
brace(uw_walk *w, uw_shape shape, bool end)
{
	static const char *const pairs[] = {
	    [UW_OBJECT] = "{}", [UW_LIST] = "[]", [UW_MAP] = "{}"};

	return shape == UW_ENTRY ? 0 : uw_put(w, &pairs[shape][end], 1);
}

int
uw_brace_begin(uw_walk *w, uw_shape shape, const ProtobufCMessageDescriptor *d,
	       const ProtobufCFieldDescriptor *f)
{
	return brace(w, shape, false);
}

int
uw_brace_end(uw_walk *w, uw_shape shape, const ProtobufCMessageDescriptor *d,
	     const ProtobufCFieldDescriptor *f)
{
	return brace(w, shape, true);
}
