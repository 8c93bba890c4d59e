/*
 * gw_meta_lang_jvm.c - /types/java and /types/kotlin: DTOs for
 * ServiceStack's Java and Kotlin JsonServiceClient (net.servicestack.client,
 * which serializes with Gson). Java: static classes inside one class
 * `dtos` (the file is dtos.java), public fields with fluent accessors;
 * Kotlin: open classes. Fields are null until set, and Gson leaves nulls
 * out; a wire name that is not the field's name is @SerializedName.
 */
#include <string.h>

#include "gw_meta_gen.h"

typedef struct jvm {
	bool kotlin;
} jvm;

static int
jvm_scalar(const jvm *j, uw_buf *out, const gw_meta_scalar *s)
{
	switch (s->kind) {
	case GW_MK_STRING:
	case GW_MK_GUID:
		return uw_buf_puts(out, "String");
	case GW_MK_BOOL:
		return uw_buf_puts(out, "Boolean");
	case GW_MK_INT32:
	case GW_MK_UINT32:
		return uw_buf_puts(out, j->kotlin ? "Int" : "Integer");
	case GW_MK_INT64:
	case GW_MK_UINT64:
		return uw_buf_puts(out, "Long");
	case GW_MK_FLOAT:
		return uw_buf_puts(out, "Float");
	case GW_MK_DOUBLE:
		return uw_buf_puts(out, "Double");
	case GW_MK_BYTES:
		return uw_buf_puts(out, j->kotlin ? "ByteArray" : "byte[]");
	case GW_MK_ENUM:
		return uw_buf_puts(out, s->en->short_name);
	case GW_MK_MESSAGE:
	default:
		return uw_buf_puts(out, s->msg->short_name);
	}
}

static int
jvm_type(const jvm *j, uw_buf *out, const gw_meta_type *t)
{
	if (t->map) {
		GEN_CHECK(uw_buf_puts(out, "HashMap<"));
		GEN_CHECK(jvm_scalar(j, out, &t->key));
		GEN_CHECK(uw_buf_puts(out, ","));
		GEN_CHECK(jvm_scalar(j, out, &t->item));
		return uw_buf_puts(out, ">");
	}
	if (t->list) {
		GEN_CHECK(uw_buf_puts(out, "ArrayList<"));
		GEN_CHECK(jvm_scalar(j, out, &t->item));
		return uw_buf_puts(out, ">");
	}
	return jvm_scalar(j, out, &t->item);
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

/* The routes and description of a class. Kotlin before 1.6 (Debian 12
 * has 1.3) cannot repeat an annotation kept at run time: a Kotlin class
 * names its first route as an annotation, the others in comments. */
static int
annotations(const jvm *j, uw_buf *out, const char *indent, const up_method *m,
	    const char *desc)
{
	for (size_t r = 0; m != NULL && r < m->n_routes; r++) {
		GEN_CHECK(gw_meta_printf(out, "%s%s@Route(Path=\"", indent,
					 j->kotlin && r > 0 ? "// " : ""));
		GEN_CHECK(gw_meta_put_literal(out, m->routes[r].path));
		GEN_CHECK(uw_buf_puts(out, "\", Verbs=\""));
		GEN_CHECK(gw_meta_put_literal(out, m->routes[r].method));
		if (m->routes[r].summary[0] != '\0') {
			GEN_CHECK(uw_buf_puts(out, "\", Summary=\""));
			GEN_CHECK(
			    gw_meta_put_literal(out, m->routes[r].summary));
		}
		GEN_CHECK(uw_buf_puts(out, "\")\n"));
	}
	if (desc[0] != '\0') {
		GEN_CHECK(gw_meta_printf(out, "%s@Api(Description=\"", indent));
		GEN_CHECK(gw_meta_put_literal(out, desc));
		GEN_CHECK(uw_buf_puts(out, "\")\n"));
	}
	return 0;
}

static int
member_annotations(const gw_gen *g, uw_buf *out, const char *indent,
		   const gw_prop *p)
{
	if (p->desc[0] != '\0') {
		GEN_CHECK(doc_block(g, out, indent, p->desc));
		GEN_CHECK(
		    gw_meta_printf(out, "%s@ApiMember(Description=\"", indent));
		GEN_CHECK(gw_meta_put_literal(out, p->desc));
		GEN_CHECK(uw_buf_puts(
		    out, p->required ? "\", IsRequired=true)\n" : "\")\n"));
	}
	if (p->data_member != NULL) {
		GEN_CHECK(gw_meta_printf(out, "%s@SerializedName(\"%s\")\n",
					 indent, p->data_member));
	}
	return 0;
}

static int
java_class(const gw_gen *g, uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const jvm j = {false};
	const up_method *m = gw_gen_method(d);
	const char *iface = gw_gen_verb_interface(d);
	const char *desc = m != NULL ? m->description : "";
	gw_prop props[GW_GEN_MAX_PROPS];
	size_t n = gw_gen_props(g, d, props);

	GEN_CHECK(doc_block(g, out, "    ", desc));
	GEN_CHECK(annotations(&j, out, "    ", m, desc));
	GEN_CHECK(
	    gw_meta_printf(out, "    public static class %s", d->short_name));
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(out, " implements IReturn<%s>, %s",
					 m->desc->output->short_name, iface));
	}
	GEN_CHECK(uw_buf_puts(out, "\n    {\n"));
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		GEN_CHECK(member_annotations(g, out, "        ", p));
		GEN_CHECK(uw_buf_puts(out, "        public "));
		GEN_CHECK(jvm_type(&j, out, &p->t));
		GEN_CHECK(uw_buf_puts(out, " "));
		GEN_CHECK(gw_gen_put_camel(out, p->name));
		if (p->init) {
			GEN_CHECK(uw_buf_puts(out, " = new "));
			GEN_CHECK(jvm_type(&j, out, &p->t));
			GEN_CHECK(uw_buf_puts(out, "();\n"));
		} else {
			GEN_CHECK(uw_buf_puts(out, " = null;\n"));
		}
	}
	if (n > 0) {
		GEN_CHECK(uw_buf_puts(out, "\n"));
	}
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		GEN_CHECK(uw_buf_puts(out, "        public "));
		GEN_CHECK(jvm_type(&j, out, &p->t));
		GEN_CHECK(gw_meta_printf(out, " get%s() { return ", p->name));
		GEN_CHECK(gw_gen_put_camel(out, p->name));
		GEN_CHECK(gw_meta_printf(out, "; }\n        public %s set%s(",
					 d->short_name, p->name));
		GEN_CHECK(jvm_type(&j, out, &p->t));
		GEN_CHECK(uw_buf_puts(out, " value) { this."));
		GEN_CHECK(gw_gen_put_camel(out, p->name));
		GEN_CHECK(uw_buf_puts(out, " = value; return this; }\n"));
	}
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(
		    out,
		    "        private static Object responseType = %s.class;\n"
		    "        public Object getResponseType() { return "
		    "responseType; }\n",
		    m->desc->output->short_name));
	}
	return uw_buf_puts(out, "    }\n");
}

static int
enum_body(uw_buf *out, const ProtobufCEnumDescriptor *e, const char *indent,
	  bool kotlin)
{
	bool numbers = up_enum_as_number(e);

	for (unsigned i = 0; i < e->n_values; i++) {
		const char *end =
		    i + 1 < e->n_values ? "," : (kotlin ? "" : ";");

		GEN_CHECK(numbers ? gw_meta_printf(out,
						   "%s@SerializedName(\"%d\") "
						   "%s(%d)%s\n",
						   indent, e->values[i].value,
						   e->values[i].name,
						   e->values[i].value, end)
				  : gw_meta_printf(out, "%s%s%s\n", indent,
						   e->values[i].name, end));
	}
	return 0;
}

static int
java_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	GEN_CHECK(gw_meta_printf(out, "    public static enum %s\n    {\n",
				 e->short_name));
	GEN_CHECK(enum_body(out, e, "        ", false));
	if (up_enum_as_number(e)) {
		GEN_CHECK(gw_meta_printf(
		    out,
		    "\n        private final int value;\n"
		    "        %s(final int intValue) { value = intValue; }\n"
		    "        public int getValue() { return value; }\n",
		    e->short_name));
	}
	return uw_buf_puts(out, "    }\n");
}

int
gw_gen_java(const gw_gen *g, uw_buf *out)
{
	const gw_meta_set *set = g->set;

	GEN_CHECK(gw_gen_header(g, out));
	GEN_CHECK(uw_buf_puts(out, "import java.math.*;\nimport java.util.*;\n"
				   "import net.servicestack.client.*;\n"
				   "import com.google.gson.annotations.*;\n\n"
				   "public class dtos\n{\n"));
	for (size_t i = 0; i < set->n; i++) {
		GEN_CHECK(uw_buf_puts(out, "\n"));
		GEN_CHECK(set->refs[i].msg != NULL
			      ? java_class(g, out, set->refs[i].msg)
			      : java_enum(out, set->refs[i].en));
	}
	return uw_buf_puts(out, "\n}\n");
}

/* ------------------------------------------------------------------------
 * Kotlin
 */

static int
kotlin_class(const gw_gen *g, uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const jvm j = {true};
	const up_method *m = gw_gen_method(d);
	const char *iface = gw_gen_verb_interface(d);
	const char *desc = m != NULL ? m->description : "";
	gw_prop props[GW_GEN_MAX_PROPS];
	size_t n = gw_gen_props(g, d, props);

	GEN_CHECK(doc_block(g, out, "", desc));
	GEN_CHECK(annotations(&j, out, "", m, desc));
	GEN_CHECK(gw_meta_printf(out, "open class %s", d->short_name));
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(out, " : IReturn<%s>, %s",
					 m->desc->output->short_name, iface));
	}
	GEN_CHECK(uw_buf_puts(out, "\n{\n"));
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		GEN_CHECK(member_annotations(g, out, "    ", p));
		GEN_CHECK(uw_buf_puts(out, "    open var "));
		GEN_CHECK(gw_gen_put_camel(out, p->name));
		GEN_CHECK(uw_buf_puts(out, ":"));
		GEN_CHECK(jvm_type(&j, out, &p->t));
		if (p->init) {
			GEN_CHECK(uw_buf_puts(out, " = "));
			GEN_CHECK(jvm_type(&j, out, &p->t));
			GEN_CHECK(uw_buf_puts(out, "()\n"));
		} else {
			GEN_CHECK(uw_buf_puts(out, "? = null\n"));
		}
	}
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(
		    out,
		    "    companion object { private val responseType = "
		    "%s::class.java }\n"
		    "    override fun getResponseType(): Any? = "
		    "%s.responseType\n",
		    m->desc->output->short_name, d->short_name));
	}
	return uw_buf_puts(out, "}\n");
}

static int
kotlin_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	GEN_CHECK(
	    gw_meta_printf(out, "enum class %s%s\n{\n", e->short_name,
			   up_enum_as_number(e) ? "(val value:Int)" : ""));
	GEN_CHECK(enum_body(out, e, "    ", true));
	return uw_buf_puts(out, "}\n");
}

int
gw_gen_kotlin(const gw_gen *g, uw_buf *out)
{
	const gw_meta_set *set = g->set;

	GEN_CHECK(gw_gen_header(g, out));
	GEN_CHECK(uw_buf_puts(out, "import java.math.*\nimport java.util.*\n"
				   "import net.servicestack.client.*\n"
				   "import com.google.gson.annotations.*\n"));
	for (size_t i = 0; i < set->n; i++) {
		GEN_CHECK(uw_buf_puts(out, "\n"));
		GEN_CHECK(set->refs[i].msg != NULL
			      ? kotlin_class(g, out, set->refs[i].msg)
			      : kotlin_enum(out, set->refs[i].en));
	}
	return 0;
}
