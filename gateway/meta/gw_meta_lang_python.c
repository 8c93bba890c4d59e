/*
 * gw_meta_lang_python.c - /types/python: dataclasses with dataclass_json,
 * as ServiceStack's Python reference writes them (the seeds' shape):
 * enums first, then each class after the classes it uses; ServiceStack's
 * own nested types come from the `servicestack` package.
 */
#include <string.h>

#include "gw_meta_gen.h"

static int
py_scalar(uw_buf *out, const gw_meta_scalar *s, const gw_meta_set *set,
	  size_t self)
{
	switch (s->kind) {
	case GW_MK_STRING:
	case GW_MK_GUID:
		return uw_buf_puts(out, "str");
	case GW_MK_BOOL:
		return uw_buf_puts(out, "bool");
	case GW_MK_FLOAT:
	case GW_MK_DOUBLE:
		return uw_buf_puts(out, "float");
	case GW_MK_BYTES:
		return uw_buf_puts(out, "bytes");
	case GW_MK_ENUM:
		return uw_buf_puts(out, s->en->short_name);
	case GW_MK_MESSAGE: {
		size_t at = gw_gen_index(set, s->msg);

		/* a class not defined yet (a cycle) is a forward reference */
		if (at < set->n && at >= self) {
			return gw_meta_printf(out, "'%s'", s->msg->short_name);
		}
		return uw_buf_puts(out, s->msg->short_name);
	}
	default:
		return uw_buf_puts(out, "int");
	}
}

static int
py_inner(uw_buf *out, const gw_meta_type *t, const gw_meta_set *set,
	 size_t self)
{
	if (t->map) {
		GEN_CHECK(uw_buf_puts(out, "Dict["));
		GEN_CHECK(py_scalar(out, &t->key, set, self));
		GEN_CHECK(uw_buf_puts(out, ", "));
		GEN_CHECK(py_scalar(out, &t->item, set, self));
		return uw_buf_puts(out, "]");
	}
	if (t->list) {
		GEN_CHECK(uw_buf_puts(out, "List["));
		GEN_CHECK(py_scalar(out, &t->item, set, self));
		return uw_buf_puts(out, "]");
	}
	return py_scalar(out, &t->item, set, self);
}

/* "Optional[T] = None", or "T = field(default_factory=list)" */
static int
py_type(uw_buf *out, const gw_prop *p, const gw_meta_set *set, size_t self)
{
	if (p->init) {
		GEN_CHECK(py_inner(out, &p->t, set, self));
		GEN_CHECK(uw_buf_puts(out, " = field("));
		if (p->data_member != NULL) {
			GEN_CHECK(gw_meta_printf(
			    out, "metadata=config(field_name='%s'), ",
			    p->data_member));
		}
		return uw_buf_puts(out, p->t.map ? "default_factory=dict)"
						 : "default_factory=list)");
	}
	GEN_CHECK(uw_buf_puts(out, "Optional["));
	GEN_CHECK(py_inner(out, &p->t, set, self));
	if (p->data_member != NULL) {
		return gw_meta_printf(
		    out,
		    "] = field(metadata=config(field_name='%s'), "
		    "default=None)",
		    p->data_member);
	}
	return uw_buf_puts(out, "] = None");
}

static int
py_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	GEN_CHECK(gw_meta_printf(out, "class %s(%s):\n", e->short_name,
				 numbers ? "IntEnum" : "str, Enum"));
	for (unsigned i = 0; i < e->n_values; i++) {
		const char *n = e->values[i].name;

		GEN_CHECK(uw_buf_puts(out, "    "));
		GEN_CHECK(gw_meta_put_snake(out, n, true));
		GEN_CHECK(
		    numbers ? gw_meta_printf(out, " = %d\n", e->values[i].value)
			    : gw_meta_printf(out, " = '%s'\n", n));
	}
	return e->n_values == 0 ? uw_buf_puts(out, "    pass\n") : 0;
}

static int
py_docstring(const gw_gen *g, uw_buf *out, const char *text, const char *tail)
{
	if (!g->comments || text[0] == '\0') {
		return 0;
	}
	GEN_CHECK(uw_buf_puts(out, "    \"\"\"\n    "));
	GEN_CHECK(gw_meta_put_comment(out, text));
	GEN_CHECK(uw_buf_puts(out, "\n    \"\"\"\n"));
	return uw_buf_puts(out, tail);
}

static int
py_class(const gw_gen *g, uw_buf *out, const ProtobufCMessageDescriptor *d,
	 size_t self)
{
	const up_method *m = gw_gen_method(d);
	const char *iface = gw_gen_verb_interface(d);
	const char *desc = m != NULL ? m->description : "";
	gw_prop props[GW_GEN_MAX_PROPS];
	size_t n = gw_gen_props(g, d, props);

	if (desc[0] != '\0') {
		GEN_CHECK(uw_buf_puts(out, "# @Api(Description=\""));
		GEN_CHECK(gw_meta_put_literal(out, desc));
		GEN_CHECK(uw_buf_puts(out, "\")\n"));
	}
	GEN_CHECK(uw_buf_puts(out, "@dataclass_json(letter_case=LetterCase."
				   "CAMEL, undefined=Undefined.EXCLUDE)\n"
				   "@dataclass\n"));
	GEN_CHECK(gw_meta_printf(out, "class %s", d->short_name));
	if (iface != NULL) {
		GEN_CHECK(gw_meta_printf(out, "(%s)", iface));
	}
	GEN_CHECK(uw_buf_puts(out, ":\n"));
	GEN_CHECK(py_docstring(g, out, desc, "\n"));
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		if (p->desc[0] != '\0') {
			GEN_CHECK(uw_buf_puts(out, "    # @ApiMember("
						   "Description=\""));
			GEN_CHECK(gw_meta_put_literal(out, p->desc));
			GEN_CHECK(uw_buf_puts(
			    out,
			    p->required ? "\", IsRequired=true)\n" : "\")\n"));
		}
		if (p->data_member != NULL) {
			GEN_CHECK(gw_meta_printf(
			    out, "    # @DataMember(Name=\"%s\")\n",
			    p->data_member));
		}
		GEN_CHECK(uw_buf_puts(out, "    "));
		GEN_CHECK(gw_meta_put_snake(out, p->name, false));
		GEN_CHECK(uw_buf_puts(out, ": "));
		GEN_CHECK(py_type(out, p, g->set, self));
		GEN_CHECK(uw_buf_puts(out, "\n"));
		GEN_CHECK(py_docstring(g, out, p->desc, "\n\n"));
	}
	return n == 0 ? uw_buf_puts(out, "    pass\n") : 0;
}

int
gw_gen_python(const gw_gen *g, uw_buf *out)
{
	const gw_meta_set *set = g->set;

	GEN_CHECK(gw_gen_header(g, out));
	GEN_CHECK(uw_buf_puts(
	    out, "import datetime\nimport decimal\n"
		 "from marshmallow.fields import *\n"
		 "from servicestack import *\nfrom typing import *\n"
		 "from dataclasses import dataclass, field\n"
		 "from dataclasses_json import dataclass_json, LetterCase, "
		 "Undefined, config\nfrom enum import Enum, IntEnum\n"));
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].en != NULL) {
			GEN_CHECK(uw_buf_puts(out, "\n\n"));
			GEN_CHECK(py_enum(out, set->refs[i].en));
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].msg != NULL) {
			GEN_CHECK(uw_buf_puts(out, "\n\n"));
			GEN_CHECK(py_class(g, out, set->refs[i].msg, i));
		}
	}
	return 0;
}
