/*
 * gw_meta_types.c - GET /types, /types/metadata and /types/{lang}: the
 * DTOs of the API in the shapes ServiceStack's "Add ServiceStack
 * Reference" writes, one writer per language (gw_meta_lang_*.c), and what
 * they share: the languages, the query's options, which types a request
 * selects (IncludeTypes, ExcludeTypes), a DTO's properties, and the
 * Options header that lets ServiceStack's tools fetch the file again.
 *
 * Every generation is a pure function of the contract, the options and
 * the base URL (no date in the header): fetching the URL a header names
 * gives back the same file.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_meta_gen.h"
#include "gw_negotiate.h"

#ifndef USERSD_VERSION
#define USERSD_VERSION "0"
#endif

#define MAX_NAMES     32
#define TYPE_NAME_MAX 128

const char *const gw_meta_opt_names[GW_OPT_EXCLUDE_TYPES + 1] = {
    "AddResponseStatus",
    "AddServiceStackTypes",
    "AddDescriptionAsComments",
    "InitializeCollections",
    "MakePropertiesOptional",
    "IncludeTypes",
    "ExcludeTypes",
};

#define B(o)  GW_OPT_BIT(GW_OPT_##o)
#define LISTS (B(INCLUDE_TYPES) | B(EXCLUDE_TYPES))
#define COMMON                                                                 \
	(B(ADD_RESPONSE_STATUS) | B(ADD_DESCRIPTION_AS_COMMENTS) |             \
	 B(INITIALIZE_COLLECTIONS) | LISTS)

static const gw_meta_lang langs[GW_META_N_LANGS] = {
    {"csharp", "C#", "/* Options:", "*/", "//", COMMON,
     B(ADD_DESCRIPTION_AS_COMMENTS), 0, gw_gen_csharp},
    {"typescript", "TypeScript", "/* Options:", "*/", "//",
     COMMON | B(MAKE_PROPERTIES_OPTIONAL) | B(ADD_SERVICESTACK_TYPES),
     B(ADD_DESCRIPTION_AS_COMMENTS) | B(MAKE_PROPERTIES_OPTIONAL) |
	 B(ADD_SERVICESTACK_TYPES),
     GW_META_POST_ORDER, gw_gen_typescript},
    {"mjs", "JavaScript", "/* Options:", "*/", "//",
     COMMON | B(ADD_SERVICESTACK_TYPES),
     B(ADD_DESCRIPTION_AS_COMMENTS) | B(ADD_SERVICESTACK_TYPES),
     GW_META_POST_ORDER, gw_gen_mjs},
    {"dart", "Dart", "/* Options:", "*/", "//", COMMON,
     B(ADD_DESCRIPTION_AS_COMMENTS), 0, gw_gen_dart},
    {"java", "Java", "/* Options:", "*/", "//", COMMON,
     B(ADD_DESCRIPTION_AS_COMMENTS), 0, gw_gen_java},
    {"kotlin", "Kotlin", "/* Options:", "*/", "//", COMMON,
     B(ADD_DESCRIPTION_AS_COMMENTS), 0, gw_gen_kotlin},
    {"python", "Python", "\"\"\" Options:", "\"\"\"", "#", COMMON,
     B(ADD_DESCRIPTION_AS_COMMENTS), GW_META_POST_ORDER, gw_gen_python},
    {"swift", "Swift", "/* Options:", "*/", "//", COMMON,
     B(ADD_DESCRIPTION_AS_COMMENTS), 0, gw_gen_swift},
};

const char *const gw_meta_langs[GW_META_N_LANGS] = {
    "csharp", "typescript", "mjs", "dart", "java", "kotlin", "python", "swift",
};

static const gw_meta_lang *
lang_of(const char *name)
{
	for (size_t i = 0; i < GW_META_N_LANGS; i++) {
		if (strcmp(langs[i].name, name) == 0) {
			return &langs[i];
		}
	}
	return NULL;
}

const char *
gw_meta_lang_label(const char *lang)
{
	const gw_meta_lang *l = lang_of(lang);

	return l != NULL ? l->label : NULL;
}

/* ------------------------------------------------------------------------
 * Options
 */

void
gw_meta_opts_init(gw_meta_opts *o, const char *base_url)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < GW_OPT_N_BOOLS; i++) {
		o->flags[i] = -1;
	}
	snprintf(o->base_url, sizeof(o->base_url), "%s",
		 base_url != NULL ? base_url : "");
}

static bool
name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '*' ||
	       c == '`' || c == '/';
}

/* The names of a list ("a, b ,c") trimmed and joined by ',' into out.
 * 0, or -1 when a name holds anything but a type name's characters. */
static int
normalize_list(const char *in, size_t len, char *out, size_t size)
{
	size_t w = 0, i = 0;

	out[0] = '\0';
	while (i < len) {
		size_t start, end;

		while (i < len && (in[i] == ' ' || in[i] == ',')) {
			i++;
		}
		start = i;
		while (i < len && in[i] != ',') {
			i++;
		}
		end = i;
		while (end > start && in[end - 1] == ' ') {
			end--;
		}
		if (end == start) {
			continue;
		}
		for (size_t k = start; k < end; k++) {
			if (!name_char(in[k])) {
				return -1;
			}
		}
		if (w + (w > 0) + (end - start) + 1 > size) {
			return -1;
		}
		if (w > 0) {
			out[w++] = ',';
		}
		memcpy(out + w, in + start, end - start);
		w += end - start;
		out[w] = '\0';
	}
	return 0;
}

int
gw_meta_opts_read(gw_meta_opts *o, const char *q, size_t len)
{
	char v[GW_META_TYPES_MAX];
	size_t n;
	int rc;

	for (size_t i = 0; i < GW_OPT_N_BOOLS; i++) {
		rc = gw_neg_query_param(q, len, gw_meta_opt_names[i], v,
					sizeof(v), &n);
		if (rc == 0) {
			continue;
		}
		if (rc < 0 || strlen(v) != n) {
			return -1;
		}
		if (strcasecmp(v, "true") == 0) {
			o->flags[i] = 1;
		} else if (strcasecmp(v, "false") == 0) {
			o->flags[i] = 0;
		} else {
			return -1;
		}
	}
	for (int k = 0; k < 2; k++) {
		const char *name =
		    gw_meta_opt_names[k == 0 ? GW_OPT_INCLUDE_TYPES
					     : GW_OPT_EXCLUDE_TYPES];
		char *out = k == 0 ? o->include_types : o->exclude_types;

		rc = gw_neg_query_param(q, len, name, v, sizeof(v), &n);
		if (rc == 0) {
			continue;
		}
		if (rc < 0 || strlen(v) != n ||
		    normalize_list(v, n, out, GW_META_TYPES_MAX) != 0) {
			return -1;
		}
		if (k == 0) {
			o->has_include = true;
		} else {
			o->has_exclude = true;
		}
	}
	{
		/* ServiceStack's own switch for the pages' code blocks */
		rc = gw_neg_query_param(q, len, "WithoutOptions", v, sizeof(v),
					&n);
		o->without_options = rc != 0;
	}
	return 0;
}

static bool
flag(const gw_meta_lang *l, const gw_meta_opts *o, int which)
{
	if ((l->listed & GW_OPT_BIT(which)) == 0) {
		return (l->defaults & GW_OPT_BIT(which)) != 0;
	}
	if (o->flags[which] >= 0) {
		return o->flags[which] != 0;
	}
	return (l->defaults & GW_OPT_BIT(which)) != 0;
}

/* ------------------------------------------------------------------------
 * Which types
 */

/* The next name of a ','-joined list into name; false at the end. */
static bool
next_name(const char **p, char name[TYPE_NAME_MAX])
{
	const char *s = *p;
	size_t n;

	if (*s == '\0') {
		return false;
	}
	n = strcspn(s, ",");
	snprintf(name, TYPE_NAME_MAX, "%.*s",
		 (int)(n < TYPE_NAME_MAX ? n : TYPE_NAME_MAX - 1), s);
	*p = s[n] == ',' ? s + n + 1 : s + n;
	return true;
}

static bool
listed(const char *list, const char *type)
{
	char name[TYPE_NAME_MAX];
	const char *p = list;

	while (next_name(&p, name)) {
		if (strcmp(name, type) == 0) {
			return true;
		}
	}
	return false;
}

static const char *
ref_name(const gw_meta_ref *r)
{
	return r->msg != NULL ? r->msg->short_name : r->en->short_name;
}

static int
set_push(gw_meta_set *set, const gw_meta_ref *r)
{
	if (gw_gen_has(set, r->msg, r->en)) {
		return 0;
	}
	if (set->n == GW_META_MAX_TYPES) {
		return -1;
	}
	set->refs[set->n++] = *r;
	return 0;
}

/*
 * Every type a name of IncludeTypes reaches: the type ("Name" or
 * "Name.*"), for an operation's request its response too, and everything
 * they use, so the file compiles on its own.
 */
static int
included(const gw_meta_set *all, const char *list, unsigned flags,
	 gw_meta_set *keep)
{
	bool post = (flags & GW_META_POST_ORDER) != 0;

	char name[TYPE_NAME_MAX];
	const char *p = list;

	while (next_name(&p, name)) {
		size_t n = strlen(name);

		if (n > 2 && strcmp(name + n - 2, ".*") == 0) {
			name[n - 2] = '\0';
		}
		for (size_t i = 0; i < all->n; i++) {
			const gw_meta_ref *r = &all->refs[i];
			const up_method *m;

			if (strcmp(ref_name(r), name) != 0) {
				continue;
			}
			if (r->en != NULL) {
				if (set_push(keep, r) != 0) {
					return -1;
				}
				continue;
			}
			/* as gw_meta_collect_all: declarations first puts the
			 * response before the request */
			m = gw_gen_method(r->msg);
			if (m != NULL && post &&
			    gw_meta_collect(keep, m->desc->output, flags) !=
				0) {
				return -1;
			}
			if (gw_meta_collect(keep, r->msg, flags) != 0) {
				return -1;
			}
			if (m != NULL && !post &&
			    gw_meta_collect(keep, m->desc->output, flags) !=
				0) {
				return -1;
			}
		}
	}
	return 0;
}

/* The types of a generation, in the language's order (free() it). */
static gw_meta_set *
select_types(const gw_meta_opts *o, unsigned flags)
{
	gw_meta_set *all = gw_meta_set_all(flags);
	gw_meta_set *keep = NULL, *out = NULL;

	if (all == NULL || (!o->has_include && !o->has_exclude)) {
		return all;
	}
	keep = calloc(1, sizeof(*keep));
	out = calloc(1, sizeof(*out));
	if (keep == NULL || out == NULL ||
	    (o->has_include &&
	     included(all, o->include_types, flags, keep) != 0)) {
		goto fail;
	}
	/* the included types in the order they were reached, else all */
	{
		const gw_meta_set *from = o->has_include ? keep : all;

		for (size_t i = 0; i < from->n; i++) {
			const gw_meta_ref *r = &from->refs[i];

			if (o->has_exclude &&
			    listed(o->exclude_types, ref_name(r))) {
				continue;
			}
			out->refs[out->n++] = *r;
		}
	}
	free(all);
	free(keep);
	return out;
fail:
	free(all);
	free(keep);
	free(out);
	return NULL;
}

/* ------------------------------------------------------------------------
 * What the writers share
 */

const up_method *
gw_gen_method(const ProtobufCMessageDescriptor *d)
{
	return gw_meta_method_of_request(d);
}

const char *
gw_gen_verb_interface(const ProtobufCMessageDescriptor *d)
{
	const up_method *m = gw_meta_method_of_request(d);
	const char *v;

	if (m == NULL) {
		return NULL;
	}
	v = gw_meta_verb(m);
	if (strcasecmp(v, "GET") == 0) {
		return "IGet";
	}
	if (strcasecmp(v, "PUT") == 0) {
		return "IPut";
	}
	if (strcasecmp(v, "PATCH") == 0) {
		return "IPatch";
	}
	if (strcasecmp(v, "DELETE") == 0) {
		return "IDelete";
	}
	return "IPost";
}

bool
gw_gen_is_response(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < up_method_count(); i++) {
		if (up_method_at(i)->desc->output == d) {
			return true;
		}
	}
	return false;
}

size_t
gw_gen_index(const gw_meta_set *set, const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].msg == d) {
			return i;
		}
	}
	return set->n;
}

bool
gw_gen_has(const gw_meta_set *set, const ProtobufCMessageDescriptor *d,
	   const ProtobufCEnumDescriptor *e)
{
	for (size_t i = 0; i < set->n; i++) {
		if ((d != NULL && set->refs[i].msg == d) ||
		    (e != NULL && set->refs[i].en == e)) {
			return true;
		}
	}
	return false;
}

int
gw_gen_put_camel(uw_buf *out, const char *pascal)
{
	char c = pascal[0];

	if (c >= 'A' && c <= 'Z') {
		c = (char)(c - 'A' + 'a');
	}
	if (c == '\0') {
		return 0;
	}
	return uw_buf_append(out, &c, 1) != 0 ||
		       uw_buf_puts(out, pascal + 1) != 0
		   ? -1
		   : 0;
}

static void
prop_of(const gw_gen *g, const ProtobufCMessageDescriptor *d,
	const ProtobufCFieldDescriptor *f, gw_prop *p)
{
	const up_field_info *fi = up_field_info_of(d, f);

	memset(p, 0, sizeof(*p));
	p->d = d;
	p->f = f;
	gw_meta_field_type(d, f, &p->t);
	p->name = uw_field_pascal_name(d, f);
	p->wire = uw_field_json_name(d, f);
	p->data_member = fi != NULL ? fi->data_member : NULL;
	p->desc = gw_meta_field_description(d, f);
	p->required = gw_meta_field_required(d, f);
	p->presence = p->t.list && f->type == PROTOBUF_C_TYPE_MESSAGE &&
		      uw_msg_is_list_wrapper(f->descriptor);
	/* ServiceStack initializes the collections of its DTOs when asked
	 * to, and those that are required; a list whose absence matters
	 * never: an untouched DTO must leave it out (an empty one clears) */
	p->init = (p->t.list || p->t.map) && !p->presence &&
		  (g->init_lists || (p->required && !g->optional));
}

size_t
gw_gen_props(const gw_gen *g, const ProtobufCMessageDescriptor *d, gw_prop *out)
{
	size_t n = 0;
	bool has_rs = false;

	for (unsigned i = 0; i < d->n_fields && n < GW_GEN_MAX_PROPS; i++) {
		prop_of(g, d, &d->fields[i], &out[n]);
		has_rs = has_rs || strcmp(out[n].name, "ResponseStatus") == 0;
		n++;
	}
	if (g->rs && !has_rs && gw_gen_is_response(d) && n < GW_GEN_MAX_PROPS) {
		const ProtobufCMessageDescriptor *e =
		    &users__v1__error_response__descriptor;

		prop_of(g, e, &e->fields[0], &out[n++]);
	}
	return n;
}

int
gw_gen_header(const gw_gen *g, uw_buf *out)
{
	const gw_meta_lang *l = g->lang;
	static const int order[] = {
	    GW_OPT_MAKE_PROPERTIES_OPTIONAL,
	    GW_OPT_ADD_SERVICESTACK_TYPES,
	    GW_OPT_ADD_RESPONSE_STATUS,
	    GW_OPT_ADD_DESCRIPTION_AS_COMMENTS,
	    GW_OPT_INITIALIZE_COLLECTIONS,
	    GW_OPT_INCLUDE_TYPES,
	    GW_OPT_EXCLUDE_TYPES,
	};

	if (g->o->without_options) {
		return 0;
	}
	GEN_CHECK(gw_meta_printf(
	    out,
	    "%s\nVersion: %s\nTip: To override a DTO option, remove \"%s\" "
	    "prefix before updating\nBaseUrl: %s\n\n",
	    l->open, USERSD_VERSION, l->prefix, g->o->base_url));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int k = order[i];
		bool given;
		const char *value;

		if ((l->listed & GW_OPT_BIT(k)) == 0) {
			continue;
		}
		if (k == GW_OPT_INCLUDE_TYPES || k == GW_OPT_EXCLUDE_TYPES) {
			bool inc = k == GW_OPT_INCLUDE_TYPES;

			given = inc ? g->o->has_include : g->o->has_exclude;
			value = inc ? g->o->include_types : g->o->exclude_types;
		} else {
			given = g->o->flags[k] >= 0;
			value = flag(l, g->o, k) ? "True" : "False";
		}
		GEN_CHECK(gw_meta_printf(out, "%s%s: %s\n",
					 given ? "" : l->prefix,
					 gw_meta_opt_names[k], value));
	}
	return gw_meta_printf(out, "%s\n\n", l->close);
}

int
gw_meta_types(const char *lang, const gw_meta_opts *o, uw_buf *out)
{
	const gw_meta_lang *l = lang_of(lang);
	gw_gen g;
	unsigned flags;
	int rc;

	if (l == NULL) {
		return -1;
	}
	memset(&g, 0, sizeof(g));
	g.lang = l;
	g.o = o;
	g.rs = flag(l, o, GW_OPT_ADD_RESPONSE_STATUS);
	g.ss_types = flag(l, o, GW_OPT_ADD_SERVICESTACK_TYPES);
	g.comments = flag(l, o, GW_OPT_ADD_DESCRIPTION_AS_COMMENTS);
	g.init_lists = flag(l, o, GW_OPT_INITIALIZE_COLLECTIONS);
	g.optional = (l->listed & B(MAKE_PROPERTIES_OPTIONAL)) == 0 ||
		     flag(l, o, GW_OPT_MAKE_PROPERTIES_OPTIONAL);
	flags = l->collect | (g.ss_types ? 0 : GW_META_SKIP_SS_NESTED);
	g.set = select_types(o, flags);
	if (g.set == NULL) {
		return -1;
	}
	/* a responseStatus added where a language declares ServiceStack's
	 * types itself needs ResponseStatus declared */
	if (g.rs && g.ss_types &&
	    !gw_gen_has(g.set, &users__v1__response_status__descriptor, NULL) &&
	    gw_meta_collect(g.set, &users__v1__response_status__descriptor,
			    flags) != 0) {
		free(g.set);
		return -1;
	}
	rc = l->write(&g, out);
	free(g.set);
	return rc;
}

/* ------------------------------------------------------------------------
 * GET /types and /types/metadata
 */

int
gw_meta_types_index(const char *base_url, uw_buf *out)
{
	GEN_CHECK(uw_buf_puts(out, "{\"Metadata\":"));
	{
		char url[GW_META_URL_MAX + 32];

		snprintf(url, sizeof(url), "%s/types/metadata", base_url);
		GEN_CHECK(uw_json_string(out, url, strlen(url)));
		for (size_t i = 0; i < GW_META_N_LANGS; i++) {
			const char *key = langs[i].label;

			/* ServiceStack's keys: CSharp, Mjs */
			if (strcmp(langs[i].name, "csharp") == 0) {
				key = "CSharp";
			} else if (strcmp(langs[i].name, "mjs") == 0) {
				key = "Mjs";
			}
			snprintf(url, sizeof(url), "%s/types/%s", base_url,
				 langs[i].name);
			GEN_CHECK(uw_buf_puts(out, ","));
			GEN_CHECK(uw_json_string(out, key, strlen(key)));
			GEN_CHECK(uw_buf_puts(out, ":"));
			GEN_CHECK(uw_json_string(out, url, strlen(url)));
		}
	}
	return uw_buf_puts(out, "}\n");
}

static int
json_str(uw_buf *out, const char *s)
{
	return uw_json_string(out, s, strlen(s));
}

/* .NET's name of a scalar, as MetadataTypes names types. */
static const char *
net_name(const gw_meta_scalar *s)
{
	switch (s->kind) {
	case GW_MK_STRING:
		return "String";
	case GW_MK_GUID:
		return "Guid";
	case GW_MK_BOOL:
		return "Boolean";
	case GW_MK_INT32:
		return "Int32";
	case GW_MK_INT64:
		return "Int64";
	case GW_MK_UINT32:
		return "UInt32";
	case GW_MK_UINT64:
		return "UInt64";
	case GW_MK_FLOAT:
		return "Single";
	case GW_MK_DOUBLE:
		return "Double";
	case GW_MK_BYTES:
		return "Byte[]";
	case GW_MK_ENUM:
		return s->en->short_name;
	case GW_MK_MESSAGE:
	default:
		return s->msg->short_name;
	}
}

static bool
net_value_type(const gw_meta_scalar *s)
{
	return s->kind != GW_MK_STRING && s->kind != GW_MK_BYTES &&
	       s->kind != GW_MK_MESSAGE;
}

/* "Voice.Api.Authentication" of a message's DataContract namespace. */
static const char *
namespace_of(const ProtobufCMessageDescriptor *d)
{
	static const char base[] = "http://schemas.datacontract.org/2004/07/";
	const up_message_info *mi = up_message_info_of(d);
	const char *ns = mi != NULL ? mi->xml_namespace : NULL;

	if (ns == NULL) {
		return "Users.V1";
	}
	if (strncmp(ns, base, sizeof(base) - 1) == 0) {
		return ns + sizeof(base) - 1;
	}
	return "ServiceStack";
}

static int
meta_property(uw_buf *out, const gw_prop *p)
{
	const gw_meta_type *t = &p->t;

	GEN_CHECK(uw_buf_puts(out, "{\"name\":"));
	GEN_CHECK(json_str(out, p->name));
	if (t->map || t->list) {
		GEN_CHECK(uw_buf_puts(out, t->map
					       ? ",\"type\":\"Dictionary`2\","
						 "\"namespace\":\"System."
						 "Collections.Generic\","
						 "\"genericArgs\":["
					       : ",\"type\":\"List`1\","
						 "\"namespace\":\"System."
						 "Collections.Generic\","
						 "\"genericArgs\":["));
		if (t->map) {
			GEN_CHECK(json_str(out, net_name(&t->key)));
			GEN_CHECK(uw_buf_puts(out, ","));
		}
		GEN_CHECK(json_str(out, net_name(&t->item)));
		GEN_CHECK(uw_buf_puts(out, "]"));
	} else {
		GEN_CHECK(uw_buf_puts(out, ",\"type\":"));
		GEN_CHECK(json_str(out, net_name(&t->item)));
		if (net_value_type(&t->item)) {
			GEN_CHECK(uw_buf_puts(out, ",\"isValueType\":true"));
		}
		if (t->item.kind == GW_MK_ENUM) {
			GEN_CHECK(uw_buf_puts(out, ",\"isEnum\":true"));
		}
	}
	if (p->desc[0] != '\0') {
		GEN_CHECK(uw_buf_puts(out, ",\"description\":"));
		GEN_CHECK(json_str(out, p->desc));
	}
	if (p->required) {
		GEN_CHECK(uw_buf_puts(out, ",\"isRequired\":true"));
	}
	if (p->data_member != NULL) {
		GEN_CHECK(uw_buf_puts(out, ",\"dataMember\":{\"name\":"));
		GEN_CHECK(json_str(out, p->data_member));
		GEN_CHECK(uw_buf_puts(out, "}"));
	}
	return uw_buf_puts(out, "}");
}

static int
meta_type(const gw_gen *g, uw_buf *out, const gw_meta_ref *r)
{
	if (r->en != NULL) {
		const ProtobufCEnumDescriptor *e = r->en;

		GEN_CHECK(uw_buf_puts(out, "{\"name\":"));
		GEN_CHECK(json_str(out, e->short_name));
		GEN_CHECK(uw_buf_puts(out, ",\"isEnum\":true,\"enumNames\":["));
		for (unsigned i = 0; i < e->n_values; i++) {
			GEN_CHECK(i > 0 ? uw_buf_puts(out, ",") : 0);
			GEN_CHECK(json_str(out, e->values[i].name));
		}
		GEN_CHECK(uw_buf_puts(out, "]"));
		if (up_enum_as_number(e)) {
			GEN_CHECK(uw_buf_puts(out, ",\"enumValues\":["));
			for (unsigned i = 0; i < e->n_values; i++) {
				GEN_CHECK(gw_meta_printf(out, "%s\"%d\"",
							 i > 0 ? "," : "",
							 e->values[i].value));
			}
			GEN_CHECK(uw_buf_puts(out, "]"));
		}
		return uw_buf_puts(out, "}");
	}
	{
		const ProtobufCMessageDescriptor *d = r->msg;
		const up_method *m = gw_gen_method(d);
		const char *iface = gw_gen_verb_interface(d);
		gw_prop props[GW_GEN_MAX_PROPS];
		size_t n = gw_gen_props(g, d, props);

		GEN_CHECK(uw_buf_puts(out, "{\"name\":"));
		GEN_CHECK(json_str(out, d->short_name));
		GEN_CHECK(uw_buf_puts(out, ",\"namespace\":"));
		GEN_CHECK(json_str(out, namespace_of(d)));
		if (m != NULL && m->description[0] != '\0') {
			GEN_CHECK(uw_buf_puts(out, ",\"description\":"));
			GEN_CHECK(json_str(out, m->description));
		}
		if (iface != NULL) {
			GEN_CHECK(gw_meta_printf(out,
						 ",\"implements\":[{\"name\":"
						 "\"%s\"}]",
						 iface));
		}
		GEN_CHECK(uw_buf_puts(out, ",\"properties\":["));
		for (size_t i = 0; i < n; i++) {
			GEN_CHECK(i > 0 ? uw_buf_puts(out, ",") : 0);
			GEN_CHECK(meta_property(out, &props[i]));
		}
		return uw_buf_puts(out, "]}");
	}
}

static int
meta_routes(uw_buf *out, const up_method *m)
{
	GEN_CHECK(uw_buf_puts(out, ",\"routes\":["));
	for (size_t r = 0; r < m->n_routes; r++) {
		GEN_CHECK(r > 0 ? uw_buf_puts(out, ",") : 0);
		GEN_CHECK(uw_buf_puts(out, "{\"path\":"));
		GEN_CHECK(json_str(out, m->routes[r].path));
		GEN_CHECK(uw_buf_puts(out, ",\"verbs\":"));
		GEN_CHECK(json_str(out, m->routes[r].method));
		if (m->routes[r].summary[0] != '\0') {
			GEN_CHECK(uw_buf_puts(out, ",\"summary\":"));
			GEN_CHECK(json_str(out, m->routes[r].summary));
		}
		GEN_CHECK(uw_buf_puts(out, "}"));
	}
	return uw_buf_puts(out, "]");
}

int
gw_meta_types_metadata(const gw_meta_opts *o, uw_buf *out)
{
	gw_gen g;
	const char *spaces[8];
	size_t n_spaces = 0;
	bool first = true;
	int rc = -1;

	memset(&g, 0, sizeof(g));
	g.lang = lang_of("csharp");
	g.o = o;
	g.rs = flag(g.lang, o, GW_OPT_ADD_RESPONSE_STATUS);
	g.optional = true;
	g.set = select_types(o, GW_META_SKIP_SS_NESTED);
	if (g.set == NULL) {
		return -1;
	}
	if (uw_buf_puts(out, "{\"config\":{\"baseUrl\":") != 0 ||
	    json_str(out, o->base_url) != 0 ||
	    gw_meta_printf(out, ",\"addResponseStatus\":%s",
			   g.rs ? "true" : "false") != 0 ||
	    (o->has_include && (uw_buf_puts(out, ",\"includeTypes\":") != 0 ||
				json_str(out, o->include_types) != 0)) ||
	    (o->has_exclude && (uw_buf_puts(out, ",\"excludeTypes\":") != 0 ||
				json_str(out, o->exclude_types) != 0)) ||
	    uw_buf_puts(out, "},\"namespaces\":[") != 0) {
		goto out;
	}
	for (size_t i = 0; i < g.set->n; i++) {
		const char *ns;
		bool seen = false;

		if (g.set->refs[i].msg == NULL) {
			continue;
		}
		ns = namespace_of(g.set->refs[i].msg);
		for (size_t k = 0; k < n_spaces; k++) {
			seen = seen || strcmp(spaces[k], ns) == 0;
		}
		if (!seen && n_spaces < sizeof(spaces) / sizeof(spaces[0])) {
			if ((n_spaces > 0 && uw_buf_puts(out, ",") != 0) ||
			    json_str(out, ns) != 0) {
				goto out;
			}
			spaces[n_spaces++] = ns;
		}
	}
	/* types: what no operation of the set has as request or response */
	if (uw_buf_puts(out, "],\"types\":[") != 0) {
		goto out;
	}
	for (size_t i = 0; i < g.set->n; i++) {
		const gw_meta_ref *r = &g.set->refs[i];

		if (r->msg != NULL && (gw_gen_method(r->msg) != NULL ||
				       gw_gen_is_response(r->msg))) {
			continue;
		}
		if ((!first && uw_buf_puts(out, ",") != 0) ||
		    meta_type(&g, out, r) != 0) {
			goto out;
		}
		first = false;
	}
	if (uw_buf_puts(out, "],\"operations\":[") != 0) {
		goto out;
	}
	first = true;
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		gw_meta_ref req = {m->desc->input, NULL};
		gw_meta_ref res = {m->desc->output, NULL};
		const char *verb = gw_meta_verb(m);

		if (!gw_gen_has(g.set, m->desc->input, NULL)) {
			continue;
		}
		if ((!first && uw_buf_puts(out, ",") != 0) ||
		    uw_buf_puts(out, "{\"request\":") != 0 ||
		    meta_type(&g, out, &req) != 0 ||
		    uw_buf_puts(out, ",\"response\":") != 0 ||
		    meta_type(&g, out, &res) != 0 ||
		    gw_meta_printf(out,
				   ",\"actions\":[\"%s\"],\"method\":\"%s\","
				   "\"returnType\":{\"name\":",
				   verb, verb) != 0 ||
		    json_str(out, m->desc->output->short_name) != 0 ||
		    uw_buf_puts(out, "}") != 0 || meta_routes(out, m) != 0 ||
		    gw_meta_printf(out, ",\"requiresAuth\":%s",
				   m->auth_none ? "false" : "true") != 0) {
			goto out;
		}
		if (m->n_roles > 0) {
			if (uw_buf_puts(out, ",\"requiresAnyRole\":[") != 0) {
				goto out;
			}
			for (size_t k = 0; k < m->n_roles; k++) {
				if ((k > 0 && uw_buf_puts(out, ",") != 0) ||
				    json_str(out, m->roles[k]) != 0) {
					goto out;
				}
			}
			if (uw_buf_puts(out, "]") != 0) {
				goto out;
			}
		}
		if (uw_buf_puts(out, "}") != 0) {
			goto out;
		}
		first = false;
	}
	rc = uw_buf_puts(out, "]}\n");
out:
	free(g.set);
	return rc;
}
