/*
 * gw_meta_model.c - the type model every metadata generator shares: the
 * types an operation reaches (in the pages' order or declarations first),
 * what each field holds, the names and options of fields, and the small
 * output helpers (printf, escaping, case conversion).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_meta.h"

#define SS_NAMESPACE "http://schemas.servicestack.net/types"

const char *const gw_meta_formats[GW_META_N_FORMATS] = {"xml", "json", "jsv",
							"csv"};

/* ------------------------------------------------------------------------
 * Output helpers
 */

int
gw_meta_printf(uw_buf *out, const char *fmt, ...)
{
	char small[256];
	char *big = NULL;
	va_list ap;
	int n;
	int rc = -1;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return -1;
	}
	if ((size_t)n < sizeof(small)) {
		return uw_buf_append(out, small, (size_t)n);
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		return -1;
	}
	va_start(ap, fmt);
	if (vsnprintf(big, (size_t)n + 1, fmt, ap) == n) {
		rc = uw_buf_append(out, big, (size_t)n);
	}
	va_end(ap);
	free(big);
	return rc;
}

int
gw_meta_put_html(uw_buf *out, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *rep;

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		if (uw_buf_append(out, run, (size_t)(s - run)) != 0 ||
		    uw_buf_puts(out, rep) != 0) {
			return -1;
		}
		run = s + 1;
	}
	return uw_buf_append(out, run, (size_t)(s - run));
}

int
gw_meta_put_indent(uw_buf *out, const char *unit, int n)
{
	if (uw_buf_puts(out, "\n") != 0) {
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (uw_buf_puts(out, unit) != 0) {
			return -1;
		}
	}
	return 0;
}

int
gw_meta_put_literal(uw_buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		int rc;

		if (*s == '"' || *s == '\\') {
			char esc[2] = {'\\', *s};
			rc = uw_buf_append(out, esc, 2);
		} else if (*s == '\n' || *s == '\r' || *s == '\t') {
			rc = uw_buf_puts(out, " ");
		} else {
			rc = uw_buf_append(out, s, 1);
		}
		if (rc != 0) {
			return -1;
		}
	}
	return 0;
}

int
gw_meta_put_comment(uw_buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		int rc;

		if (*s == '\n' || *s == '\r' || *s == '\t') {
			rc = uw_buf_puts(out, " ");
		} else if (*s == '*' && s[1] == '/') {
			rc = uw_buf_puts(out, "* "); /* no comment closer */
		} else if (*s == '"' && s[1] == '"' && s[2] == '"') {
			rc = uw_buf_puts(out,
					 "\\\"\\\"\\\""); /* no docstring end */
			s += 2;
		} else if (*s == '\\') {
			rc = uw_buf_puts(out, "\\\\");
		} else {
			rc = uw_buf_append(out, s, 1);
		}
		if (rc != 0) {
			return -1;
		}
	}
	return 0;
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int
gw_meta_put_snake(uw_buf *out, const char *s, bool upper)
{
	for (size_t i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		/* a word starts at an upper-case letter after a lower-case
		 * one, or before a lower-case one in a run of capitals */
		if (i > 0 && is_upper(c) &&
		    (is_lower_or_digit(s[i - 1]) ||
		     (is_upper(s[i - 1]) && is_lower_or_digit(s[i + 1])))) {
			if (uw_buf_puts(out, "_") != 0) {
				return -1;
			}
		}
		if (upper && c >= 'a' && c <= 'z') {
			c = (char)(c - 'a' + 'A');
		} else if (!upper && is_upper(c)) {
			c = (char)(c - 'A' + 'a');
		}
		if (uw_buf_append(out, &c, 1) != 0) {
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Fields
 */

static void
scalar_of(const ProtobufCMessageDescriptor *d,
	  const ProtobufCFieldDescriptor *f, gw_meta_scalar *s)
{
	memset(s, 0, sizeof(*s));
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		s->kind = uw_field_is_guid(d, f) ? GW_MK_GUID : GW_MK_STRING;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		s->kind = GW_MK_BOOL;
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		s->kind = GW_MK_INT32;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		s->kind = GW_MK_INT64;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		s->kind = GW_MK_UINT32;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		s->kind = GW_MK_UINT64;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		s->kind = GW_MK_FLOAT;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		s->kind = GW_MK_DOUBLE;
		break;
	case PROTOBUF_C_TYPE_BYTES:
		s->kind = GW_MK_BYTES;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		s->kind = GW_MK_ENUM;
		s->en = f->descriptor;
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
	default:
		s->kind = GW_MK_MESSAGE;
		s->msg = f->descriptor;
		break;
	}
}

void
gw_meta_field_type(const ProtobufCMessageDescriptor *d,
		   const ProtobufCFieldDescriptor *f, gw_meta_type *out)
{
	memset(out, 0, sizeof(*out));
	if (uw_field_is_map(f)) {
		const ProtobufCMessageDescriptor *e = f->descriptor;

		out->map = true;
		scalar_of(e, &e->fields[0], &out->key);
		scalar_of(e, &e->fields[1], &out->item);
		return;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
	    uw_msg_is_list_wrapper(f->descriptor)) {
		const ProtobufCMessageDescriptor *w = f->descriptor;

		out->list = true;
		scalar_of(w, uw_list_wrapper_items(w), &out->item);
		return;
	}
	out->list = f->label == PROTOBUF_C_LABEL_REPEATED;
	scalar_of(d, f, &out->item);
}

const char *
gw_meta_field_description(const ProtobufCMessageDescriptor *d,
			  const ProtobufCFieldDescriptor *f)
{
	const up_field_info *fi = up_field_info_of(d, f);

	return fi != NULL && fi->description != NULL ? fi->description : "";
}

bool
gw_meta_field_required(const ProtobufCMessageDescriptor *d,
		       const ProtobufCFieldDescriptor *f)
{
	const up_field_info *fi = up_field_info_of(d, f);

	return fi != NULL && fi->required;
}

const char *
gw_meta_field_param_in(const ProtobufCMessageDescriptor *d,
		       const ProtobufCFieldDescriptor *f)
{
	const up_field_info *fi = up_field_info_of(d, f);

	return fi != NULL ? fi->param_in : NULL;
}

uint32_t
gw_meta_field_max_len(const ProtobufCMessageDescriptor *d,
		      const ProtobufCFieldDescriptor *f)
{
	const up_field_info *fi = up_field_info_of(d, f);

	return fi != NULL ? fi->max_len : 0;
}

bool
gw_meta_is_ss_type(const ProtobufCMessageDescriptor *d)
{
	const up_message_info *mi = up_message_info_of(d);

	return mi != NULL && mi->xml_namespace != NULL &&
	       strcmp(mi->xml_namespace, SS_NAMESPACE) == 0;
}

const char *
gw_meta_verb(const up_method *m)
{
	return m->n_routes > 0 ? m->routes[0].method : "POST";
}

size_t
gw_meta_route_count(const up_method *m)
{
	return m->n_routes + m->n_gw_routes;
}

const up_route *
gw_meta_route_at(const up_method *m, size_t i)
{
	return i < m->n_routes ? &m->routes[i] : &m->gw_routes[i - m->n_routes];
}

bool
gw_meta_verb_has_body(const char *verb)
{
	return strcasecmp(verb, "POST") == 0 || strcasecmp(verb, "PUT") == 0 ||
	       strcasecmp(verb, "PATCH") == 0;
}

const up_method *
gw_meta_method_of_request(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);

		if (m->desc->input == d) {
			return m;
		}
	}
	return NULL;
}

static int
put_cs_scalar(uw_buf *out, const gw_meta_scalar *s)
{
	switch (s->kind) {
	case GW_MK_STRING:
		return uw_buf_puts(out, "string");
	case GW_MK_GUID:
		return uw_buf_puts(out, "Guid");
	case GW_MK_BOOL:
		return uw_buf_puts(out, "bool");
	case GW_MK_INT32:
		return uw_buf_puts(out, "int");
	case GW_MK_INT64:
		return uw_buf_puts(out, "long");
	case GW_MK_UINT32:
		return uw_buf_puts(out, "uint");
	case GW_MK_UINT64:
		return uw_buf_puts(out, "ulong");
	case GW_MK_FLOAT:
		return uw_buf_puts(out, "float");
	case GW_MK_DOUBLE:
		return uw_buf_puts(out, "double");
	case GW_MK_BYTES:
		return uw_buf_puts(out, "byte[]");
	case GW_MK_ENUM:
		return uw_buf_puts(out, s->en->short_name);
	case GW_MK_MESSAGE:
	default:
		return uw_buf_puts(out, s->msg->short_name);
	}
}

int
gw_meta_put_cs_type(uw_buf *out, const gw_meta_type *t)
{
	if (t->map) {
		if (uw_buf_puts(out, "Dictionary<") != 0 ||
		    put_cs_scalar(out, &t->key) != 0 ||
		    uw_buf_puts(out, ", ") != 0 ||
		    put_cs_scalar(out, &t->item) != 0) {
			return -1;
		}
		return uw_buf_puts(out, ">");
	}
	if (t->list) {
		if (uw_buf_puts(out, "List<") != 0 ||
		    put_cs_scalar(out, &t->item) != 0) {
			return -1;
		}
		return uw_buf_puts(out, ">");
	}
	return put_cs_scalar(out, &t->item);
}

/* ------------------------------------------------------------------------
 * What an operation reaches
 */

static bool
set_has(const gw_meta_set *set, const ProtobufCMessageDescriptor *m,
	const ProtobufCEnumDescriptor *e)
{
	for (size_t i = 0; i < set->n; i++) {
		if ((m != NULL && set->refs[i].msg == m) ||
		    (e != NULL && set->refs[i].en == e)) {
			return true;
		}
	}
	return false;
}

static int
set_add(gw_meta_set *set, const ProtobufCMessageDescriptor *m,
	const ProtobufCEnumDescriptor *e)
{
	if (set->n == GW_META_MAX_TYPES) {
		return -1;
	}
	set->refs[set->n].msg = m;
	set->refs[set->n].en = e;
	set->n++;
	return 0;
}

/* Visiting marks: a message being expanded (for cycles in post order). */
typedef struct walk {
	gw_meta_set *set;
	unsigned flags;
	const ProtobufCMessageDescriptor *stack[32];
	size_t depth;
} walk;

static int visit_message(walk *w, const ProtobufCMessageDescriptor *d,
			 bool root);

static bool
on_stack(const walk *w, const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < w->depth; i++) {
		if (w->stack[i] == d) {
			return true;
		}
	}
	return false;
}

static int
visit_scalar(walk *w, const gw_meta_scalar *s)
{
	if (s->kind == GW_MK_ENUM) {
		if ((w->flags & GW_META_NO_ENUMS) != 0 ||
		    set_has(w->set, NULL, s->en)) {
			return 0;
		}
		return set_add(w->set, NULL, s->en);
	}
	if (s->kind == GW_MK_MESSAGE) {
		if ((w->flags & GW_META_SKIP_SS_NESTED) != 0 &&
		    gw_meta_is_ss_type(s->msg)) {
			return 0;
		}
		return visit_message(w, s->msg, false);
	}
	return 0;
}

static int
visit_message(walk *w, const ProtobufCMessageDescriptor *d, bool root)
{
	bool post = (w->flags & GW_META_POST_ORDER) != 0;
	int rc = 0;

	(void)root;
	if (set_has(w->set, d, NULL) || on_stack(w, d)) {
		return 0;
	}
	if (w->depth == sizeof(w->stack) / sizeof(w->stack[0])) {
		return -1;
	}
	if (!post && set_add(w->set, d, NULL) != 0) {
		return -1;
	}
	w->stack[w->depth++] = d;
	for (unsigned i = 0; i < d->n_fields && rc == 0; i++) {
		gw_meta_type t;

		gw_meta_field_type(d, &d->fields[i], &t);
		if (t.map) {
			rc = visit_scalar(w, &t.key);
			if (rc != 0) {
				break;
			}
		}
		rc = visit_scalar(w, &t.item);
	}
	w->depth--;
	if (rc == 0 && post) {
		rc = set_add(w->set, d, NULL);
	}
	return rc;
}

int
gw_meta_collect(gw_meta_set *set, const ProtobufCMessageDescriptor *root,
		unsigned flags)
{
	walk w;

	memset(&w, 0, sizeof(w));
	w.set = set;
	w.flags = flags;
	return visit_message(&w, root, true);
}

int
gw_meta_collect_all(gw_meta_set *set, unsigned flags)
{
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		const ProtobufCMessageDescriptor *first = m->desc->input;
		const ProtobufCMessageDescriptor *second = m->desc->output;

		if ((flags & GW_META_POST_ORDER) != 0) {
			first = m->desc->output;
			second = m->desc->input;
		}
		if (gw_meta_collect(set, first, flags) != 0 ||
		    gw_meta_collect(set, second, flags) != 0) {
			return -1;
		}
	}
	return 0;
}

gw_meta_set *
gw_meta_set_all(unsigned flags)
{
	gw_meta_set *set = calloc(1, sizeof(*set));

	if (set != NULL && gw_meta_collect_all(set, flags) != 0) {
		free(set);
		set = NULL;
	}
	return set;
}
