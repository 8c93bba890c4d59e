/*
 * codec_xml.c - XML as ServiceStack's DataContract serializer writes it
 * (docs/wire-formats.md, section 7).
 *
 * Encoding (an emitter of the walk, walk.h): `<?xml version="1.0"
 * encoding="utf-8"?>`, then the root named
 * after the DTO, declaring xmlns:i (XMLSchema-instance) and the DTO's
 * xml_namespace as the default namespace; no indentation. Members are
 * written in ordinal (byte) order of their PascalCase names; unset members
 * and empty lists are left out (a protobuf list has no "set but empty";
 * a StringList wrapper does, and is written as an empty element), except
 * the fields marked (always_written) in users.proto, ResponseStatus.Errors
 * (docs/wire-formats.md section 8.1, as JSON and JSV). As
 * DataContract does, a member element stays in its declaring type's
 * namespace, and when its content belongs to another namespace (a nested
 * type of another namespace, the Arrays namespace of lists of primitives
 * and of dictionaries) that element declares xmlns:d{depth}p1 and the
 * content uses that prefix, unless the namespace is already in scope.
 *   lists of primitives  <Roles xmlns:d2p1="...Arrays"><d2p1:string>...
 *   lists of enums       <DashboardPermissions><DashboardPermissions>...
 *   lists of messages    an element per item named after the item's type
 *   map<k,v>             <d2p1:KeyValueOfstringstring><d2p1:Key>..<d2p1:Value>
 * Booleans true/false; enums by name, also the enum_as_number ones (as
 * DataContract does); Guids dashed lowercase (8-4-4-4-12); bytes base64.
 * Text escapes & < > (and " in attributes); CR is written &#xD; so that it
 * survives the reader's line-end normalisation. Characters XML 1.0 cannot
 * carry at all (C0 controls other than TAB, LF, CR; U+FFFE, U+FFFF) and
 * bytes that are not UTF-8 are written as U+FFFD: encoding never fails on
 * a stored value (one bad value must not make a record unreadable), and
 * the output is always well-formed. Non-finite reals are written INF,
 * -INF, NaN (no such field in the contract; the shared text rules do not
 * read them back).
 *
 * Decoding: libxml2 into a tree, then a walk driven by the descriptor.
 * Members in any order, matched by local name case-insensitively
 * (PascalCase, camelCase or proto name); namespaces resolved by libxml2
 * and otherwise ignored (a missing default namespace is fine; an undeclared
 * prefix is tolerated); unknown elements ignored; i:nil="true" (the
 * XMLSchema-instance namespace, whatever its prefix) unsets a member; a
 * later duplicate member replaces an earlier one; a repeated map key
 * keeps the last value. The root's name is not checked. Text of strings is
 * taken verbatim; numbers, booleans, enums (name or number), Guids (dashed
 * or not) and base64 are trimmed of XML whitespace first.
 *
 * Security: the parser never touches the network (XML_PARSE_NONET), never
 * substitutes entities (no XML_PARSE_NOENT), never loads a DTD (no
 * XML_PARSE_DTDLOAD/DTDATTR), never lifts its size limits (no
 * XML_PARSE_HUGE); and a document with a DOCTYPE is stopped at the DOCTYPE
 * itself (SAX internalSubset), before any declaration in it is read: no
 * external entity, no entity expansion (billion laughs), nothing fetched.
 * Nesting, items per list and bytes per string are bounded by uw_limits;
 * the body size is the caller's. libxml2 reports nothing on stderr (a
 * per-thread no-op error handler). xmlInitParser runs once; after it
 * libxml2 is safe to use from several threads.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "walk.h"

#define NS_XSI    "http://www.w3.org/2001/XMLSchema-instance"
#define NS_ARRAYS "http://schemas.microsoft.com/2003/10/Serialization/Arrays"

/* Open elements at most: a value's element, and a map entry's between a
 * map and its Key or Value, for each level of the walk. */
#define MAX_ELEMENTS (2 * UW_WALK_MAX_DEPTH + 4)

/* ------------------------------------------------------------------------
 * Encoding: the emitter of the walk (walk.h). Elements are opened by
 * value_begin and left open for namespace declarations; the content's
 * callback (object, list, map or scalar) closes the start tag.
 */

/* A namespace bound to the prefix d{depth}p1 on an open element. */
typedef struct ns_binding {
	const char *ns;
	unsigned depth;
} ns_binding;

/* An open element; its depth (the root is 1) is its place in the stack. */
typedef struct element {
	unsigned pfx;  /* its own prefix (0: the default namespace) */
	unsigned cpfx; /* its content's */
	bool pushed;   /* it bound a namespace, unbound when its content ends */
	bool closed;   /* written whole already (an i:nil element) */
} element;

typedef struct enc {
	uw_buf *out;
	const char *default_ns; /* the root's; "" when none */
	ns_binding bound[MAX_ELEMENTS];
	size_t n_bound;
	element open[MAX_ELEMENTS];
	size_t n_open;
} enc;

static int
put(enc *x, const char *s, size_t n)
{
	return uw_buf_append(x->out, s, n);
}

static int
puts_(enc *x, const char *s)
{
	return uw_buf_append(x->out, s, strlen(s));
}

/* XML's escapes in character data (attr: also in a "..." attribute
 * value). What XML 1.0 cannot carry (C0 controls but TAB, LF and CR;
 * U+FFFE, U+FFFF) becomes U+FFFD. */
static const char *
xml_rep(const unsigned char *p, size_t k, bool attr)
{
	if (k == 3 && p[0] == 0xef && p[1] == 0xbf &&
	    (p[2] == 0xbe || p[2] == 0xbf)) {
		return "\xef\xbf\xbd";
	}
	if (k > 1) {
		return NULL;
	}
	switch (p[0]) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '\r':
		return "&#xD;";
	case '"':
		return attr ? "&quot;" : NULL;
	case '\n':
		return attr ? "&#xA;" : NULL;
	case '\t':
		return attr ? "&#x9;" : NULL;
	default:
		return p[0] < 0x20 ? "\xef\xbf\xbd" : NULL;
	}
}

static const char *
xml_text_rep(const unsigned char *p, size_t k, char *buf)
{
	return xml_rep(p, k, false);
}

static const char *
xml_attr_rep(const unsigned char *p, size_t k, char *buf)
{
	return xml_rep(p, k, true);
}

/* The controls but TAB and LF, CR, '&', '<', '>'; U+FFFE and U+FFFF
 * among the wide ones. */
static const uw_escapes xml_text = {
    .ascii = "xxxxxxxxx..xxxxxxxxxxxxxxxxxxxxx"
	     "......x.....................x.x."
	     "................................"
	     "................................",
    .wide = true,
    .rep = xml_text_rep,
};

/* In an attribute value: also '"', TAB and LF. */
static const uw_escapes xml_attr = {
    .ascii = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "..x...x.....................x.x."
	     "................................"
	     "................................",
    .wide = true,
    .rep = xml_attr_rep,
};

static int
put_text(enc *x, const char *s, size_t len, bool attr)
{
	return uw_text_escape(x->out, s, len, attr ? &xml_attr : &xml_text);
}

/* "d3p1:" for a prefix bound at depth 3; nothing for depth 0 (default). */
static int
put_prefix(enc *x, unsigned pdepth)
{
	char b[24];
	int n;

	if (pdepth == 0) {
		return 0;
	}
	n = snprintf(b, sizeof(b), "d%up1:", pdepth);
	return put(x, b, (size_t)n);
}

/* Opens <prefix:name, leaving the tag open for attributes. */
static int
open_tag(enc *x, unsigned pdepth, const char *name)
{
	if (put(x, "<", 1) != 0 || put_prefix(x, pdepth) != 0) {
		return -1;
	}
	return puts_(x, name);
}

static int
close_tag(enc *x, unsigned pdepth, const char *name)
{
	if (put(x, "</", 2) != 0 || put_prefix(x, pdepth) != 0 ||
	    puts_(x, name) != 0) {
		return -1;
	}
	return put(x, ">", 1);
}

/*
 * The prefix (*pfx) under which content in namespace ns is written inside
 * the element at depth whose start tag is still open: the default
 * namespace or an in-scope binding, else a new xmlns:d{depth}p1 written on
 * that tag and pushed (*pushed: the caller pops it when the element
 * closes).
 */
static int
bind_ns(enc *x, const char *ns, unsigned depth, unsigned *pfx, bool *pushed)
{
	char b[40];
	int n;

	*pushed = false;
	if (strcmp(ns, x->default_ns) == 0) {
		/* never redeclared, so always in scope */
		*pfx = 0;
		return 0;
	}
	for (size_t i = x->n_bound; i > 0; i--) {
		if (strcmp(x->bound[i - 1].ns, ns) == 0) {
			*pfx = x->bound[i - 1].depth;
			return 0;
		}
	}
	if (x->n_bound >= sizeof(x->bound) / sizeof(x->bound[0])) {
		return -1;
	}
	n = snprintf(b, sizeof(b), " xmlns:d%up1=\"", depth);
	if (put(x, b, (size_t)n) != 0 || put_text(x, ns, strlen(ns), true) ||
	    put(x, "\"", 1) != 0) {
		return -1;
	}
	x->bound[x->n_bound].ns = ns;
	x->bound[x->n_bound].depth = depth;
	x->n_bound++;
	*pfx = depth;
	*pushed = true;
	return 0;
}

/* The namespace of message type d's members; parent's when it has none. */
static const char *
msg_ns(const ProtobufCMessageDescriptor *d, const char *parent)
{
	const up_message_info *mi = up_message_info_of(d);

	return mi != NULL && mi->xml_namespace != NULL ? mi->xml_namespace
						       : parent;
}

/* The namespace prefix pdepth stands for. */
static const char *
ns_of_prefix(const enc *x, unsigned pdepth)
{
	for (size_t i = x->n_bound; i > 0; i--) {
		if (x->bound[i - 1].depth == pdepth) {
			return x->bound[i - 1].ns;
		}
	}
	return x->default_ns;
}

/* XML Schema's name of a primitive, as the Arrays namespace names items. */
static const char *const xsd_names[] = {
    [PROTOBUF_C_TYPE_INT32] = "int",
    [PROTOBUF_C_TYPE_SINT32] = "int",
    [PROTOBUF_C_TYPE_SFIXED32] = "int",
    [PROTOBUF_C_TYPE_INT64] = "long",
    [PROTOBUF_C_TYPE_SINT64] = "long",
    [PROTOBUF_C_TYPE_SFIXED64] = "long",
    [PROTOBUF_C_TYPE_UINT32] = "unsignedInt",
    [PROTOBUF_C_TYPE_FIXED32] = "unsignedInt",
    [PROTOBUF_C_TYPE_UINT64] = "unsignedLong",
    [PROTOBUF_C_TYPE_FIXED64] = "unsignedLong",
    [PROTOBUF_C_TYPE_FLOAT] = "float",
    [PROTOBUF_C_TYPE_DOUBLE] = "double",
    [PROTOBUF_C_TYPE_BOOL] = "boolean",
    [PROTOBUF_C_TYPE_STRING] = "string",
    [PROTOBUF_C_TYPE_BYTES] = "base64Binary",
};

/* An item's element name: its primitive's, "guid", or its enum's or
 * message's type name. */
static const char *
xsd_name(const ProtobufCFieldDescriptor *f, bool guid)
{
	if (f->type == PROTOBUF_C_TYPE_ENUM) {
		return ((const ProtobufCEnumDescriptor *)f->descriptor)
		    ->short_name;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		return ((const ProtobufCMessageDescriptor *)f->descriptor)
		    ->short_name;
	}
	if (guid && f->type == PROTOBUF_C_TYPE_STRING) {
		return "guid";
	}
	return (size_t)f->type < sizeof(xsd_names) / sizeof(xsd_names[0]) &&
		       xsd_names[f->type] != NULL
		   ? xsd_names[f->type]
		   : "anyType";
}

/* The element of a value: the type at the root, the member name of a
 * member (DataMember's, else PascalCase), the item's type in a list, Key and
 * Value in a map entry. */
static const char *
element_name(const uw_slot *s)
{
	switch (s->at) {
	case UW_AT_ROOT:
		return s->d->short_name;
	case UW_AT_MEMBER:
		return uw_slot_member_name(s);
	case UW_AT_ITEM:
		return xsd_name(s->f, s->fi != NULL && s->fi->guid);
	case UW_AT_KEY:
		return "Key";
	default:
		return "Value";
	}
}

/* A map entry's element: KeyValueOf{key type}{value type}. */
static void
entry_name(const ProtobufCMessageDescriptor *ed, char *buf, size_t size)
{
	snprintf(
	    buf, size, "KeyValueOf%s%s",
	    xsd_name(&ed->fields[0], uw_field_is_guid(ed, &ed->fields[0])),
	    xsd_name(&ed->fields[1], uw_field_is_guid(ed, &ed->fields[1])));
}

static element *
top(enc *x)
{
	return &x->open[x->n_open - 1];
}

/* Opens <prefix:name under the innermost element's content prefix. */
static int
push_element(enc *x, const char *name)
{
	unsigned pfx = x->n_open > 0 ? top(x)->cpfx : 0;

	if (x->n_open == MAX_ELEMENTS) {
		return -1;
	}
	x->open[x->n_open++] = (element){.pfx = pfx, .cpfx = pfx};
	return open_tag(x, pfx, name);
}

static int
emit_value_begin(uw_walk *w, const uw_slot *s)
{
	enc *x = w->ctx;

	if (s->at == UW_AT_ROOT &&
	    puts_(x, "<?xml version=\"1.0\" encoding=\"utf-8\"?>") != 0) {
		return -1;
	}
	if (push_element(x, element_name(s)) != 0) {
		return -1;
	}
	if (s->at != UW_AT_ROOT) {
		return 0;
	}
	if (puts_(x, " xmlns:i=\"" NS_XSI "\"") != 0) {
		return -1;
	}
	if (x->default_ns[0] != '\0' &&
	    (puts_(x, " xmlns=\"") != 0 ||
	     put_text(x, x->default_ns, strlen(x->default_ns), true) != 0 ||
	     put(x, "\"", 1) != 0)) {
		return -1;
	}
	return 0;
}

static int
emit_value_end(uw_walk *w, const uw_slot *s)
{
	enc *x = w->ctx;
	element e = x->open[--x->n_open];

	return e.closed ? 0 : close_tag(x, e.pfx, element_name(s));
}

/* Ends the innermost start tag; its content is in namespace ns. */
static int
open_content(enc *x, const char *ns)
{
	element *e = top(x);

	if (bind_ns(x, ns, (unsigned)x->n_open, &e->cpfx, &e->pushed) != 0) {
		return -1;
	}
	return put(x, ">", 1);
}

/*
 * Content in its namespace: a message's members stay in its type's (the
 * member's own when the type has none); list items of enums in the
 * member's, of messages in their type's, of primitives in the Arrays
 * namespace, as map entries are. An entry is an element of its own.
 */
static int
emit_begin(uw_walk *w, uw_shape shape, const ProtobufCMessageDescriptor *d,
	   const ProtobufCFieldDescriptor *f)
{
	enc *x = w->ctx;
	const char *own = ns_of_prefix(x, top(x)->pfx);
	char kv[80];

	switch (shape) {
	case UW_OBJECT:
		return open_content(x, msg_ns(d, own));
	case UW_LIST:
		if (f->type == PROTOBUF_C_TYPE_ENUM) {
			return open_content(x, own);
		}
		return open_content(x, f->type == PROTOBUF_C_TYPE_MESSAGE
					   ? msg_ns(f->descriptor, own)
					   : NS_ARRAYS);
	case UW_MAP:
		return open_content(x, NS_ARRAYS);
	default:
		entry_name(d, kv, sizeof(kv));
		return push_element(x, kv) != 0 ? -1 : put(x, ">", 1);
	}
}

/* The content ends: its namespace goes out of scope; an entry closes. */
static int
emit_end(uw_walk *w, uw_shape shape, const ProtobufCMessageDescriptor *d,
	 const ProtobufCFieldDescriptor *f)
{
	enc *x = w->ctx;
	char kv[80];

	if (shape == UW_ENTRY) {
		element e = x->open[--x->n_open];
		entry_name(d, kv, sizeof(kv));
		return close_tag(x, e.pfx, kv);
	}
	if (top(x)->pushed) {
		x->n_bound--;
		top(x)->pushed = false;
	}
	return 0;
}

/* Scalars: the start tag ends, the text follows. */
static int
emit_bare(uw_walk *w, const uw_slot *s, const char *text, size_t len)
{
	enc *x = w->ctx;

	return put(x, ">", 1) != 0 ? -1 : put(x, text, len);
}

/* As XML Schema writes them: NaN, INF, -INF. */
static int
emit_nonfinite(uw_walk *w, const uw_slot *s, double v)
{
	enc *x = w->ctx;

	if (put(x, ">", 1) != 0) {
		return -1;
	}
	return puts_(x, isnan(v) ? "NaN" : v > 0 ? "INF" : "-INF");
}

/* Guids dashed: 8-4-4-4-12. */
static int
emit_string(uw_walk *w, const uw_slot *s, const char *text, size_t len,
	    bool guid)
{
	enc *x = w->ctx;
	char dashed[37];

	if (put(x, ">", 1) != 0) {
		return -1;
	}
	if (guid) {
		snprintf(dashed, sizeof(dashed), "%.8s-%.4s-%.4s-%.4s-%.12s",
			 text, text + 8, text + 12, text + 16, text + 20);
		return put(x, dashed, 36);
	}
	return put_text(x, text, len, false);
}

static int
emit_bytes(uw_walk *w, const uw_slot *s, const uint8_t *data, size_t len)
{
	enc *x = w->ctx;

	return put(x, ">", 1) != 0 ? -1 : uw_base64_encode(x->out, data, len);
}

/* Only a map's value can be a message that is not there. */
static int
emit_null(uw_walk *w, const uw_slot *s)
{
	enc *x = w->ctx;

	top(x)->closed = true;
	return puts_(x, " i:nil=\"true\"/>");
}

static const uw_emitter xml_emitter = {
    .flags = UW_EMIT_BY_PASCAL | UW_EMIT_ENUM_NAMES,
    .bool_text = {"false", "true"},
    .value_begin = emit_value_begin,
    .value_end = emit_value_end,
    .begin = emit_begin,
    .end = emit_end,
    .bare = emit_bare,
    .nonfinite = emit_nonfinite,
    .string = emit_string,
    .bytes = emit_bytes,
    .null = emit_null,
};

int
uw_xml_encode(const ProtobufCMessage *msg, uw_buf *out)
{
	enc x = {.out = out, .default_ns = ""};

	(void)up_meta_load();
	if (msg != NULL) {
		x.default_ns = msg_ns(msg->descriptor, "");
	}
	return uw_walk_message(&xml_emitter, &x, msg, out);
}

/* ------------------------------------------------------------------------
 * Decoding
 */

typedef struct dec {
	uw_limits lim;
	uw_decode_error *err;
	uw_buf text; /* scratch for text split over several nodes */
} dec;

static int dec_message(dec *x, ProtobufCMessage *m, const xmlNode *el,
		       size_t depth);

static int
oom(dec *x)
{
	uw_error_set(x->err, "", "Out of memory");
	return -1;
}

/* The local name of an element (after any prefix libxml2 left in it when
 * the prefix was not declared). */
static const char *
local_name(const xmlNode *n)
{
	const char *name = (const char *)n->name;
	const char *colon = strrchr(name, ':');

	return colon != NULL ? colon + 1 : name;
}

static bool
is_nil(const xmlNode *el)
{
	for (const xmlAttr *a = el->properties; a != NULL; a = a->next) {
		const xmlNode *t = a->children;
		if (a->ns != NULL && a->ns->href != NULL &&
		    strcmp((const char *)a->ns->href, NS_XSI) == 0 &&
		    strcmp((const char *)a->name, "nil") == 0 && t != NULL &&
		    t->next == NULL && t->type == XML_TEXT_NODE &&
		    t->content != NULL) {
			const char *v = (const char *)t->content;
			return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
		}
	}
	return false;
}

static bool
xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The character data of a value element (text and CDATA; comments and
 * processing instructions skipped) in (*s, *len): the node's own content
 * when there is one piece, else joined in x->text. Elements inside a value
 * are an error, as is text longer than max_string.
 */
static int
value_text(dec *x, const ProtobufCMessageDescriptor *d,
	   const ProtobufCFieldDescriptor *f, const xmlNode *el, const char **s,
	   size_t *len)
{
	const xmlNode *only = NULL;
	size_t pieces = 0, total = 0;

	for (const xmlNode *c = el->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) {
			size_t n = c->content != NULL
				       ? strlen((const char *)c->content)
				       : 0;
			if (n > x->lim.max_string ||
			    total > x->lim.max_string - n) {
				uw_error_limit(x->err, d, f, UW_LIMIT_STRING,
					       &x->lim);
				return -1;
			}
			total += n;
			pieces++;
			only = c;
		} else if (c->type == XML_ELEMENT_NODE ||
			   c->type == XML_ENTITY_REF_NODE) {
			uw_error_expected_kind(x->err, d, f,
					       uw_field_noun(d, f));
			return -1;
		}
	}
	if (pieces == 0) {
		*s = "";
		*len = 0;
		return 0;
	}
	if (pieces == 1) {
		*s = only->content != NULL ? (const char *)only->content : "";
		*len = total;
		return 0;
	}
	x->text.len = 0;
	for (const xmlNode *c = el->children; c != NULL; c = c->next) {
		if ((c->type == XML_TEXT_NODE ||
		     c->type == XML_CDATA_SECTION_NODE) &&
		    c->content != NULL &&
		    uw_buf_puts(&x->text, (const char *)c->content) != 0) {
			return oom(x);
		}
	}
	*s = x->text.data != NULL ? x->text.data : "";
	*len = x->text.len;
	return 0;
}

/* The text of el into scalar field f of m (appended when append), errors
 * naming (nd, nf). */
static int
dec_scalar(dec *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	   const xmlNode *el, bool append, const ProtobufCMessageDescriptor *nd,
	   const ProtobufCFieldDescriptor *nf)
{
	const char *s;
	size_t len;

	if (value_text(x, nd, nf, el, &s, &len) != 0) {
		return -1;
	}
	if (f->type != PROTOBUF_C_TYPE_STRING ||
	    uw_field_is_guid(m->descriptor, f)) {
		while (len > 0 && xml_space(s[0])) {
			s++;
			len--;
		}
		while (len > 0 && xml_space(s[len - 1])) {
			len--;
		}
	}
	return uw_field_set_text_as(m, f, s, len, append, &x->lim, nd, nf,
				    x->err);
}

/* The element children of el into repeated field f of m (replacing its
 * items); errors name (nd, nf). */
static int
dec_list(dec *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	 const xmlNode *el, size_t depth, const ProtobufCMessageDescriptor *nd,
	 const ProtobufCFieldDescriptor *nf)
{
	size_t count = 0;

	if (depth > x->lim.max_depth) {
		return uw_error_limit(x->err, nd, nf, UW_LIMIT_DEPTH, &x->lim);
	}
	uw_field_clear(m, f);
	for (const xmlNode *c = el->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE) {
			continue;
		}
		if (++count > x->lim.max_items) {
			return uw_error_limit(x->err, nd, nf, UW_LIMIT_ITEMS,
					      &x->lim);
		}
		if (is_nil(c)) {
			continue; /* a list holds no nulls */
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage *sub;
			if (depth + 1 > x->lim.max_depth) {
				return uw_error_limit(x->err, nd, nf,
						      UW_LIMIT_DEPTH, &x->lim);
			}
			/* stored first, so a failure below frees it */
			sub = uw_field_new_message(m, f, x->err);
			if (sub == NULL ||
			    dec_message(x, sub, c, depth + 1) != 0) {
				return -1;
			}
		} else if (dec_scalar(x, m, f, c, true, nd, nf) != 0) {
			return -1;
		}
	}
	return 0;
}

/* The first child element of el whose local name is name, or NULL. */
static const xmlNode *
child_named(const xmlNode *el, const char *name)
{
	for (const xmlNode *c = el->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE &&
		    strcasecmp(local_name(c), name) == 0) {
			return c;
		}
	}
	return NULL;
}

/* A Key or Value element (NULL or nil: the empty string) into field ef of
 * map entry e; errors name map field f of d. */
static int
dec_entry_part(dec *x, ProtobufCMessage *e, const ProtobufCFieldDescriptor *ef,
	       const xmlNode *el, size_t depth,
	       const ProtobufCMessageDescriptor *d,
	       const ProtobufCFieldDescriptor *f)
{
	if (ef->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *sub;
		if (el == NULL || is_nil(el)) {
			uw_field_clear(e, ef);
			return 0;
		}
		sub = uw_field_new_message(e, ef, x->err);
		return sub != NULL ? dec_message(x, sub, el, depth + 1) : -1;
	}
	if (el == NULL || is_nil(el)) {
		return uw_field_set_text_as(e, ef, "", 0, false, &x->lim, d, f,
					    x->err);
	}
	return dec_scalar(x, e, ef, el, false, d, f);
}

/* The entry of map field f of m whose string key is key, or NULL. */
static ProtobufCMessage *
entry_with_key(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	       const char *key)
{
	size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
	ProtobufCMessage *const *arr =
	    *(ProtobufCMessage *const *const *)((const char *)m + f->offset);

	for (size_t i = 0; arr != NULL && i < n; i++) {
		const ProtobufCFieldDescriptor *kf =
		    &arr[i]->descriptor->fields[0];
		const char *k =
		    *(const char *const *)((const char *)arr[i] + kf->offset);
		if (k != NULL && strcmp(k, key) == 0) {
			return arr[i];
		}
	}
	return NULL;
}

/* A DataContract dictionary (KeyValueOf... items of Key and Value) into
 * map field f of m (replacing its entries; a repeated key keeps the last
 * value). */
static int
dec_map(dec *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	const xmlNode *el, size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0];
	const ProtobufCFieldDescriptor *vf = &ed->fields[1];
	size_t count = 0;

	if (depth > x->lim.max_depth) {
		return uw_error_limit(x->err, d, f, UW_LIMIT_DEPTH, &x->lim);
	}
	uw_field_clear(m, f);
	for (const xmlNode *c = el->children; c != NULL; c = c->next) {
		ProtobufCMessage *e, *same;
		const char *key;

		if (c->type != XML_ELEMENT_NODE) {
			continue;
		}
		if (++count > x->lim.max_items) {
			return uw_error_limit(x->err, d, f, UW_LIMIT_ITEMS,
					      &x->lim);
		}
		e = uw_msg_new(ed);
		if (e == NULL) {
			return oom(x);
		}
		if (dec_entry_part(x, e, kf, child_named(c, "Key"), depth, d,
				   f) != 0 ||
		    dec_entry_part(x, e, vf, child_named(c, "Value"), depth, d,
				   f) != 0) {
			protobuf_c_message_free_unpacked(e, NULL);
			return -1;
		}
		key = kf->type == PROTOBUF_C_TYPE_STRING
			  ? *(const char *const *)((const char *)e + kf->offset)
			  : NULL;
		same = key != NULL ? entry_with_key(m, f, key) : NULL;
		if (same != NULL) {
			/* the later value wins, in the earlier one's place */
			void *sp = (char *)same + vf->offset;
			void *ep = (char *)e + vf->offset;
			char tmp[sizeof(ProtobufCBinaryData)];
			size_t es = uw_value_size(vf->type);
			memcpy(tmp, sp, es);
			memcpy(sp, ep, es);
			memcpy(ep, tmp, es);
			if (vf->label == PROTOBUF_C_LABEL_OPTIONAL &&
			    vf->type != PROTOBUF_C_TYPE_STRING &&
			    vf->type != PROTOBUF_C_TYPE_MESSAGE) {
				protobuf_c_boolean *sh =
				    (void *)((char *)same +
					     vf->quantifier_offset);
				protobuf_c_boolean *eh =
				    (void *)((char *)e + vf->quantifier_offset);
				protobuf_c_boolean t = *sh;
				*sh = *eh;
				*eh = t;
			}
			protobuf_c_message_free_unpacked(e, NULL);
			continue;
		}
		if (uw_field_put_message(m, f, e, x->err) != 0) {
			return -1;
		}
	}
	return 0;
}

/* Member element el into field f of m (a message at depth). */
static int
dec_member(dec *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	   const xmlNode *el, size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (is_nil(el)) {
		uw_field_clear(m, f);
		return 0;
	}
	if (uw_field_is_map(f)) {
		return dec_map(x, m, f, el, depth + 1);
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		return dec_list(x, m, f, el, depth + 1, d, f);
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessageDescriptor *sd = f->descriptor;
		ProtobufCMessage *sub = uw_field_new_message(m, f, x->err);
		if (sub == NULL) {
			return -1;
		}
		if (uw_msg_is_list_wrapper(sd)) {
			return dec_list(x, sub, uw_list_wrapper_items(sd), el,
					depth + 1, d, f);
		}
		if (depth + 1 > x->lim.max_depth) {
			return uw_error_limit(x->err, d, f, UW_LIMIT_DEPTH,
					      &x->lim);
		}
		return dec_message(x, sub, el, depth + 1);
	}
	return dec_scalar(x, m, f, el, false, d, f);
}

static int
dec_message(dec *x, ProtobufCMessage *m, const xmlNode *el, size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (depth > x->lim.max_depth) {
		uw_error_set(x->err, "",
			     "Nested too deeply (at most %zu levels)",
			     x->lim.max_depth);
		return -1;
	}
	for (const xmlNode *c = el->children; c != NULL; c = c->next) {
		const ProtobufCFieldDescriptor *f;
		const char *name;

		if (c->type != XML_ELEMENT_NODE) {
			continue;
		}
		name = local_name(c);
		f = uw_field_by_name(d, name, strlen(name));
		if (f != NULL && dec_member(x, m, f, c, depth) != 0) {
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Parsing
 */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init_parser(void)
{
	xmlInitParser();
}

/* libxml2 reports nothing: errors are read back from the context. */
static void
quiet_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void
quiet_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

/* Set in the context's _private when a DOCTYPE or a declaration is seen. */
static char dtd_refused;

static void
refuse(void *ctx)
{
	xmlParserCtxtPtr ctxt = ctx;

	ctxt->_private = &dtd_refused;
	xmlStopParser(ctxt);
}

static void
refuse_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
	      const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	refuse(ctx);
}

static void
refuse_entity(void *ctx, const xmlChar *name, int type,
	      const xmlChar *public_id, const xmlChar *system_id,
	      xmlChar *content)
{
	(void)name;
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	refuse(ctx);
}

static xmlParserInputPtr
refuse_resolve(void *ctx, const xmlChar *public_id, const xmlChar *system_id)
{
	(void)public_id;
	(void)system_id;
	refuse(ctx);
	return NULL;
}

/* libxml2's message may quote the input: keep it printable ASCII. */
static void
parse_error(uw_decode_error *err, xmlParserCtxtPtr ctxt)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	char text[120];
	size_t i = 0;

	if (e != NULL && e->message != NULL) {
		for (; i + 1 < sizeof(text) && e->message[i] != '\0'; i++) {
			unsigned char c = (unsigned char)e->message[i];
			text[i] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
		}
	}
	while (i > 0 && text[i - 1] == ' ') {
		i--;
	}
	text[i] = '\0';
	if (e != NULL && e->code == XML_ERR_NO_MEMORY) {
		uw_error_set(err, "", "Out of memory");
		return;
	}
	uw_error_set(err, "", "Invalid XML: %s (line %d, column %d)",
		     i > 0 ? text : "not well-formed", e != NULL ? e->line : 0,
		     e != NULL ? e->int2 : 0);
}

int
uw_xml_decode(ProtobufCMessage *msg, const char *body, size_t len,
	      const uw_limits *lim, uw_decode_error *err)
{
	dec x = {.lim = uw_limits_effective(lim), .err = err};
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	const xmlNode *root;
	size_t i = 0;
	int rc = -1;

	if (msg == NULL || (body == NULL && len != 0)) {
		uw_error_set(err, "", "Invalid argument");
		return -1;
	}
	(void)up_meta_load();
	while (i < len && xml_space(body[i])) {
		i++;
	}
	if (i == len) {
		return 0; /* no body: nothing to set */
	}
	if (len > INT_MAX) {
		uw_error_set(err, "", "XML body too large");
		return -1;
	}
	if (pthread_once(&init_once, init_parser) != 0) {
		uw_error_set(err, "", "XML parser unavailable");
		return -1;
	}
	/* per thread */
	xmlSetGenericErrorFunc(NULL, quiet_generic);
	xmlSetStructuredErrorFunc(NULL, quiet_structured);

	ctxt = xmlCreateMemoryParserCtxt(body, (int)len);
	if (ctxt == NULL) {
		uw_error_set(err, "", "Out of memory");
		goto out;
	}
	/* no NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE */
	(void)xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
					  XML_PARSE_NOWARNING |
					  XML_PARSE_NOCDATA);
	ctxt->sax->serror = quiet_structured;
	ctxt->sax->internalSubset = refuse_subset;
	ctxt->sax->externalSubset = refuse_subset;
	ctxt->sax->entityDecl = refuse_entity;
	ctxt->sax->resolveEntity = refuse_resolve;
	ctxt->_private = NULL;
	ctxt->replaceEntities = 0;
	ctxt->loadsubset = 0;
	ctxt->validate = 0;

	(void)xmlParseDocument(ctxt);
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (ctxt->_private == &dtd_refused ||
	    (doc != NULL &&
	     (doc->intSubset != NULL || doc->extSubset != NULL))) {
		uw_error_set(err, "",
			     "Invalid XML: a DOCTYPE or entity declaration is "
			     "not allowed");
		goto out;
	}
	if (!ctxt->wellFormed || doc == NULL) {
		parse_error(err, ctxt);
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL) {
		uw_error_set(err, "", "Invalid XML: no root element");
		goto out;
	}
	if (is_nil(root)) {
		rc = 0;
	} else if (uw_msg_is_list_wrapper(msg->descriptor)) {
		const ProtobufCFieldDescriptor *f =
		    uw_list_wrapper_items(msg->descriptor);
		rc = dec_list(&x, msg, f, root, 1, msg->descriptor, f);
	} else {
		rc = dec_message(&x, msg, root, 1);
	}
out:
	uw_buf_fini(&x.text);
	if (doc != NULL) {
		xmlFreeDoc(doc);
	}
	if (ctxt != NULL) {
		xmlFreeParserCtxt(ctxt);
	}
	return rc;
}
