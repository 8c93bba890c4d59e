/*
 * gw_meta_lang_swift.c - /types/swift: Codable classes for ServiceStack's
 * Swift JsonServiceClient (the seeds' shape): every property optional and
 * nil until set, so an untouched property is left out of what Swift's
 * JSONEncoder writes (a list initialized to [] would be sent as [] and, on
 * a PATCH, clear it). A class whose wire names differ from its property
 * names says so in CodingKeys.
 */
#include <string.h>

#include "gw_meta_gen.h"

static int
swift_scalar(uw_buf *out, const gw_meta_scalar *s)
{
	switch (s->kind) {
	case GW_MK_STRING:
	case GW_MK_GUID:
		return uw_buf_puts(out, "String");
	case GW_MK_BOOL:
		return uw_buf_puts(out, "Bool");
	case GW_MK_INT32:
		return uw_buf_puts(out, "Int32");
	case GW_MK_INT64:
		return uw_buf_puts(out, "Int64");
	case GW_MK_UINT32:
		return uw_buf_puts(out, "UInt32");
	case GW_MK_UINT64:
		return uw_buf_puts(out, "UInt64");
	case GW_MK_FLOAT:
		return uw_buf_puts(out, "Float");
	case GW_MK_DOUBLE:
		return uw_buf_puts(out, "Double");
	case GW_MK_BYTES:
		return uw_buf_puts(out, "Data");
	case GW_MK_ENUM:
		return uw_buf_puts(out, s->en->short_name);
	case GW_MK_MESSAGE:
	default:
		return uw_buf_puts(out, s->msg->short_name);
	}
}

static int
swift_type(uw_buf *out, const gw_prop *p)
{
	const gw_meta_type *t = &p->t;

	if (t->map) {
		GEN_CHECK(uw_buf_puts(out, "["));
		GEN_CHECK(swift_scalar(out, &t->key));
		GEN_CHECK(uw_buf_puts(out, ":"));
		GEN_CHECK(swift_scalar(out, &t->item));
		return uw_buf_puts(out, p->init ? "] = [:]" : "]?");
	}
	if (t->list) {
		GEN_CHECK(uw_buf_puts(out, "["));
		GEN_CHECK(swift_scalar(out, &t->item));
		return uw_buf_puts(out, p->init ? "] = []" : "]?");
	}
	GEN_CHECK(swift_scalar(out, &t->item));
	return uw_buf_puts(out, "?");
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
swift_class(const gw_gen *g, uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const up_method *m = gw_gen_method(d);
	const char *iface = gw_gen_verb_interface(d);
	const char *desc = m != NULL ? m->description : "";
	gw_prop props[GW_GEN_MAX_PROPS];
	size_t n = gw_gen_props(g, d, props);
	bool renamed = false;

	if (desc[0] != '\0') {
		GEN_CHECK(doc_block(g, out, "", desc));
		GEN_CHECK(slash_attr(out, "", "Api", desc, false));
	}
	GEN_CHECK(gw_meta_printf(out, "public class %s : ", d->short_name));
	if (iface != NULL) {
		GEN_CHECK(gw_meta_printf(out, "%s, ", iface));
	}
	GEN_CHECK(uw_buf_puts(out, "Codable\n{\n"));
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		renamed = renamed || p->data_member != NULL;
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
		GEN_CHECK(uw_buf_puts(out, "    public var "));
		GEN_CHECK(gw_gen_put_camel(out, p->name));
		GEN_CHECK(uw_buf_puts(out, ":"));
		GEN_CHECK(swift_type(out, p));
		GEN_CHECK(uw_buf_puts(out, "\n"));
	}
	GEN_CHECK(uw_buf_puts(out, "\n    required public init(){}\n"));
	if (renamed) {
		GEN_CHECK(uw_buf_puts(out, "\n    private enum CodingKeys : "
					   "String, CodingKey {\n"));
		for (size_t i = 0; i < n; i++) {
			GEN_CHECK(uw_buf_puts(out, "        case "));
			GEN_CHECK(gw_gen_put_camel(out, props[i].name));
			if (props[i].data_member != NULL) {
				GEN_CHECK(gw_meta_printf(out, " = \"%s\"",
							 props[i].data_member));
			}
			GEN_CHECK(uw_buf_puts(out, "\n"));
		}
		GEN_CHECK(uw_buf_puts(out, "    }\n"));
	}
	return uw_buf_puts(out, "}\n");
}

static int
swift_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	GEN_CHECK(gw_meta_printf(out, "public enum %s : %s, Codable\n{\n",
				 e->short_name, numbers ? "Int" : "String"));
	for (unsigned i = 0; i < e->n_values; i++) {
		GEN_CHECK(numbers ? gw_meta_printf(out, "    case %s = %d\n",
						   e->values[i].name,
						   e->values[i].value)
				  : gw_meta_printf(out, "    case %s\n",
						   e->values[i].name));
	}
	return uw_buf_puts(out, "}\n");
}

int
gw_gen_swift(const gw_gen *g, uw_buf *out)
{
	const gw_meta_set *set = g->set;

	GEN_CHECK(gw_gen_header(g, out));
	GEN_CHECK(uw_buf_puts(out, "import Foundation\nimport ServiceStack\n"));
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].msg != NULL) {
			GEN_CHECK(uw_buf_puts(out, "\n"));
			GEN_CHECK(swift_class(g, out, set->refs[i].msg));
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].en != NULL) {
			GEN_CHECK(uw_buf_puts(out, "\n"));
			GEN_CHECK(swift_enum(out, set->refs[i].en));
		}
	}
	return 0;
}
