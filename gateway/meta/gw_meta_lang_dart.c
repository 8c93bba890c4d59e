/*
 * gw_meta_lang_dart.c - /types/dart: classes for ServiceStack's Dart
 * JsonServiceClient (package:servicestack), each IConvertible with
 * fromMap/toJson over the wire names and a TypeContext naming every type.
 * Properties are nullable and null until set; toJson writes a null, which
 * the service reads as "not given".
 */
#include <string.h>

#include "gw_meta_gen.h"

static int
dart_scalar(uw_buf *out, const gw_meta_scalar *s)
{
	switch (s->kind) {
	case GW_MK_STRING:
	case GW_MK_GUID:
		return uw_buf_puts(out, "String");
	case GW_MK_BOOL:
		return uw_buf_puts(out, "bool");
	case GW_MK_FLOAT:
	case GW_MK_DOUBLE:
		return uw_buf_puts(out, "double");
	case GW_MK_BYTES:
		return uw_buf_puts(out, "Uint8List");
	case GW_MK_ENUM:
		return uw_buf_puts(out, s->en->short_name);
	case GW_MK_MESSAGE:
		return uw_buf_puts(out, s->msg->short_name);
	default:
		return uw_buf_puts(out, "int");
	}
}

static int
dart_type(uw_buf *out, const gw_meta_type *t)
{
	if (t->map) {
		GEN_CHECK(uw_buf_puts(out, "Map<"));
		GEN_CHECK(dart_scalar(out, &t->key));
		GEN_CHECK(uw_buf_puts(out, ","));
		GEN_CHECK(dart_scalar(out, &t->item));
		return uw_buf_puts(out, ">");
	}
	if (t->list) {
		GEN_CHECK(uw_buf_puts(out, "List<"));
		GEN_CHECK(dart_scalar(out, &t->item));
		return uw_buf_puts(out, ">");
	}
	return dart_scalar(out, &t->item);
}

/* JSON of its own (strings, numbers, booleans) or through JsonConverters */
static bool
plain(const gw_meta_type *t)
{
	return !t->map && !t->list && t->item.kind != GW_MK_ENUM &&
	       t->item.kind != GW_MK_MESSAGE && t->item.kind != GW_MK_BYTES;
}

static int
doc_block(const gw_gen *g, uw_buf *out, const char *indent, const char *text)
{
	if (!g->comments || text[0] == '\0') {
		return 0;
	}
	GEN_CHECK(gw_meta_printf(out, "%s/**\n%s* ", indent, indent));
	GEN_CHECK(gw_meta_put_comment(out, text));
	return gw_meta_printf(out, "\n%s*/\n", indent);
}

static int
slash_attr(uw_buf *out, const char *indent, const char *attr, const char *text,
	   bool required)
{
	GEN_CHECK(gw_meta_printf(out, "%s// @%s(Description=\"", indent, attr));
	GEN_CHECK(gw_meta_put_literal(out, text));
	return uw_buf_puts(out, required ? "\", IsRequired=true)\n" : "\")\n");
}

static int
dart_class(const gw_gen *g, uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const up_method *m = gw_gen_method(d);
	const char *iface = gw_gen_verb_interface(d);
	const char *desc = m != NULL ? m->description : "";
	const char *name = d->short_name;
	gw_prop props[GW_GEN_MAX_PROPS];
	size_t n = gw_gen_props(g, d, props);

	GEN_CHECK(doc_block(g, out, "", desc));
	for (size_t r = 0; m != NULL && r < m->n_routes; r++) {
		GEN_CHECK(uw_buf_puts(out, "// @Route(\""));
		GEN_CHECK(gw_meta_put_literal(out, m->routes[r].path));
		GEN_CHECK(uw_buf_puts(out, "\", \""));
		GEN_CHECK(gw_meta_put_literal(out, m->routes[r].method));
		GEN_CHECK(uw_buf_puts(out, "\")\n"));
	}
	if (desc[0] != '\0') {
		GEN_CHECK(slash_attr(out, "", "Api", desc, false));
	}
	GEN_CHECK(gw_meta_printf(out, "class %s implements ", name));
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(out, "IReturn<%s>, %s, ",
					 m->desc->output->short_name, iface));
	}
	GEN_CHECK(uw_buf_puts(out, "IConvertible\n{\n"));
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		if (p->desc[0] != '\0') {
			GEN_CHECK(doc_block(g, out, "    ", p->desc));
			GEN_CHECK(slash_attr(out, "    ", "ApiMember", p->desc,
					     p->required));
		}
		if (p->data_member != NULL) {
			GEN_CHECK(gw_meta_printf(
			    out, "    // @DataMember(Name=\"%s\")\n",
			    p->data_member));
		}
		GEN_CHECK(uw_buf_puts(out, "    "));
		GEN_CHECK(dart_type(out, &p->t));
		GEN_CHECK(uw_buf_puts(out, "? "));
		GEN_CHECK(gw_gen_put_camel(out, p->name));
		GEN_CHECK(uw_buf_puts(
		    out, p->init ? (p->t.map ? " = {};\n\n" : " = [];\n\n")
				 : ";\n\n"));
	}
	/* the constructor */
	GEN_CHECK(gw_meta_printf(out, "    %s(", name));
	if (n > 0) {
		GEN_CHECK(uw_buf_puts(out, "{"));
		for (size_t i = 0; i < n; i++) {
			GEN_CHECK(uw_buf_puts(out, i > 0 ? ",this." : "this."));
			GEN_CHECK(gw_gen_put_camel(out, props[i].name));
			if (props[i].init) {
				GEN_CHECK(uw_buf_puts(
				    out, props[i].t.map ? " = const {}"
							: " = const []"));
			}
		}
		GEN_CHECK(uw_buf_puts(out, "}"));
	}
	GEN_CHECK(
	    gw_meta_printf(out,
			   ");\n    %s.fromJson(Map<String, dynamic> json) "
			   "{ fromMap(json); }\n\n"
			   "    fromMap(Map<String, dynamic> json) {\n",
			   name));
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		GEN_CHECK(uw_buf_puts(out, "        "));
		GEN_CHECK(gw_gen_put_camel(out, p->name));
		if (plain(&p->t)) {
			GEN_CHECK(
			    gw_meta_printf(out, " = json['%s'];\n", p->wire));
			continue;
		}
		GEN_CHECK(gw_meta_printf(out,
					 " = JsonConverters.fromJson(json["
					 "'%s'],'",
					 p->wire));
		GEN_CHECK(dart_type(out, &p->t));
		GEN_CHECK(uw_buf_puts(out, "',context!);\n"));
	}
	GEN_CHECK(uw_buf_puts(out, "        return this;\n    }\n\n"
				   "    Map<String, dynamic> toJson() => {\n"));
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		GEN_CHECK(gw_meta_printf(out, "        '%s': ", p->wire));
		if (plain(&p->t)) {
			GEN_CHECK(gw_gen_put_camel(out, p->name));
		} else {
			GEN_CHECK(uw_buf_puts(out, "JsonConverters.toJson("));
			GEN_CHECK(gw_gen_put_camel(out, p->name));
			GEN_CHECK(uw_buf_puts(out, ",'"));
			GEN_CHECK(dart_type(out, &p->t));
			GEN_CHECK(uw_buf_puts(out, "',context!)"));
		}
		GEN_CHECK(uw_buf_puts(out, i + 1 < n ? ",\n" : "\n"));
	}
	GEN_CHECK(uw_buf_puts(out, "    };\n\n"));
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(
		    out,
		    "    createResponse() => %s();\n"
		    "    getResponseTypeName() => \"%s\";\n",
		    m->desc->output->short_name, m->desc->output->short_name));
	}
	return gw_meta_printf(out,
			      "    getTypeName() => \"%s\";\n"
			      "    TypeContext? context = _ctx;\n}\n",
			      name);
}

static int
dart_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	const char *name = e->short_name;

	if (!up_enum_as_number(e)) {
		GEN_CHECK(gw_meta_printf(out, "enum %s\n{\n", name));
		for (unsigned i = 0; i < e->n_values; i++) {
			GEN_CHECK(gw_meta_printf(out, "    %s,\n",
						 e->values[i].name));
		}
		return uw_buf_puts(out, "}\n");
	}
	GEN_CHECK(gw_meta_printf(out, "class %s\n{\n", name));
	for (unsigned i = 0; i < e->n_values; i++) {
		GEN_CHECK(gw_meta_printf(
		    out, "    static const %s %s = const %s._(%d);\n", name,
		    e->values[i].name, name, e->values[i].value));
	}
	GEN_CHECK(gw_meta_printf(out,
				 "\n    final int _value;\n"
				 "    const %s._(this._value);\n"
				 "    int get value => _value;\n"
				 "    static List<%s> get values => const [",
				 name, name));
	for (unsigned i = 0; i < e->n_values; i++) {
		GEN_CHECK(gw_meta_printf(out, "%s%s", i > 0 ? "," : "",
					 e->values[i].name));
	}
	return uw_buf_puts(out, "];\n}\n");
}

/* The host of the base URL: the TypeContext's library name. */
static void
library_of(const char *base_url, char *out, size_t size)
{
	const char *p = strstr(base_url, "://");
	size_t n;

	p = p != NULL ? p + 3 : base_url;
	n = strcspn(p, "/");
	snprintf(out, size, "%.*s", (int)n, p);
}

int
gw_gen_dart(const gw_gen *g, uw_buf *out)
{
	const gw_meta_set *set = g->set;
	char library[GW_META_URL_MAX];

	GEN_CHECK(gw_gen_header(g, out));
	GEN_CHECK(uw_buf_puts(out, "import 'dart:typed_data';\n"
				   "import 'package:servicestack/"
				   "servicestack.dart';\n"));
	for (size_t i = 0; i < set->n; i++) {
		GEN_CHECK(uw_buf_puts(out, "\n"));
		GEN_CHECK(set->refs[i].msg != NULL
			      ? dart_class(g, out, set->refs[i].msg)
			      : dart_enum(out, set->refs[i].en));
	}
	library_of(g->o->base_url, library, sizeof(library));
	GEN_CHECK(
	    gw_meta_printf(out,
			   "\nTypeContext _ctx = TypeContext(library: '%s', "
			   "types: <String, TypeInfo> {\n",
			   library));
	for (size_t i = 0; i < set->n; i++) {
		const gw_meta_ref *r = &set->refs[i];

		GEN_CHECK(
		    r->msg != NULL
			? gw_meta_printf(out,
					 "    '%s': TypeInfo(TypeOf.Class, "
					 "create:() => %s()),\n",
					 r->msg->short_name, r->msg->short_name)
			: gw_meta_printf(out,
					 "    '%s': TypeInfo(TypeOf.Enum, "
					 "enumValues:%s.values),\n",
					 r->en->short_name, r->en->short_name));
	}
	return uw_buf_puts(out, "});\n");
}
