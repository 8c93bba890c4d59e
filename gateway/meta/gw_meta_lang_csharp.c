/*
 * gw_meta_lang_csharp.c - /types/csharp: partial classes with
 * ServiceStack's attributes, one namespace per DataContract namespace;
 * ServiceStack's own types come with `using ServiceStack;`. A class with a
 * property whose wire name is not its name is a [DataContract] whose
 * members say [DataMember] (with Name= where they differ): that is how
 * ServiceStack.Text and the DataContract XML serializer both read it.
 */
#include <stdlib.h>
#include <string.h>

#include "gw_meta_gen.h"

/* "Voice.Api.Authentication" of the DataContract namespace URI */
static const char *
cs_namespace_of(const char *xml_namespace)
{
	static const char base[] = "http://schemas.datacontract.org/2004/07/";

	if (xml_namespace == NULL) {
		return "Users.V1";
	}
	if (strncmp(xml_namespace, base, sizeof(base) - 1) == 0) {
		return xml_namespace + sizeof(base) - 1;
	}
	return xml_namespace;
}

static const char *
ref_namespace(const gw_meta_ref *r)
{
	const up_message_info *mi = up_message_info_of(r->msg);

	return cs_namespace_of(mi != NULL ? mi->xml_namespace : NULL);
}

static int
put_routes_attr(uw_buf *out, const up_method *m)
{
	for (size_t r = 0; r < m->n_routes; r++) {
		GEN_CHECK(uw_buf_puts(out, "    [Route(\""));
		GEN_CHECK(gw_meta_put_literal(out, m->routes[r].path));
		GEN_CHECK(uw_buf_puts(out, "\", \""));
		GEN_CHECK(gw_meta_put_literal(out, m->routes[r].method));
		if (m->routes[r].summary[0] != '\0') {
			GEN_CHECK(uw_buf_puts(out, "\", Summary=\""));
			GEN_CHECK(
			    gw_meta_put_literal(out, m->routes[r].summary));
		}
		GEN_CHECK(uw_buf_puts(out, "\")]\n"));
	}
	if (m->n_roles > 0) {
		GEN_CHECK(uw_buf_puts(out, "    [RequiresAnyRole("));
		for (size_t r = 0; r < m->n_roles; r++) {
			GEN_CHECK(uw_buf_puts(out, r > 0 ? ", \"" : "\""));
			GEN_CHECK(gw_meta_put_literal(out, m->roles[r]));
			GEN_CHECK(uw_buf_puts(out, "\""));
		}
		GEN_CHECK(uw_buf_puts(out, ")]\n"));
	}
	return !m->auth_none ? uw_buf_puts(out, "    [Authenticate]\n") : 0;
}

static int
cs_class(const gw_gen *g, uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const up_method *m = gw_gen_method(d);
	const char *iface = gw_gen_verb_interface(d);
	const char *desc = m != NULL ? m->description : "";
	gw_prop props[GW_GEN_MAX_PROPS];
	size_t n = gw_gen_props(g, d, props);
	bool contract = false, inits = false;

	for (size_t i = 0; i < n; i++) {
		contract = contract || props[i].data_member != NULL;
		inits = inits || props[i].init;
	}
	if (m != NULL) {
		GEN_CHECK(put_routes_attr(out, m));
	}
	if (desc[0] != '\0') {
		GEN_CHECK(uw_buf_puts(out, "    [Api(Description=\""));
		GEN_CHECK(gw_meta_put_literal(out, desc));
		GEN_CHECK(uw_buf_puts(out, "\")]\n"));
	}
	if (contract) {
		GEN_CHECK(uw_buf_puts(out, "    [DataContract]\n"));
	}
	GEN_CHECK(gw_meta_printf(out, "    public partial class %s\n",
				 d->short_name));
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(out, "        : IReturn<%s>, %s\n",
					 m->desc->output->short_name, iface));
	}
	GEN_CHECK(uw_buf_puts(out, "    {\n"));
	if (inits) {
		GEN_CHECK(gw_meta_printf(
		    out, "        public %s()\n        {\n", d->short_name));
		for (size_t i = 0; i < n; i++) {
			if (!props[i].init) {
				continue;
			}
			GEN_CHECK(gw_meta_printf(out, "            %s = new ",
						 props[i].name));
			GEN_CHECK(gw_meta_put_cs_type(out, &props[i].t));
			GEN_CHECK(uw_buf_puts(out, "{};\n"));
		}
		GEN_CHECK(uw_buf_puts(out, "        }\n\n"));
	}
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		if (p->desc[0] != '\0') {
			if (g->comments) {
				GEN_CHECK(uw_buf_puts(out,
						      "        ///<summary>\n"
						      "        ///"));
				GEN_CHECK(gw_meta_put_comment(out, p->desc));
				GEN_CHECK(uw_buf_puts(out, "\n        ///"
							   "</summary>\n"));
			}
			GEN_CHECK(uw_buf_puts(out, "        [ApiMember("
						   "Description=\""));
			GEN_CHECK(gw_meta_put_literal(out, p->desc));
			GEN_CHECK(uw_buf_puts(
			    out, p->required ? "\", IsRequired=true)]\n"
					     : "\")]\n"));
		}
		if (contract) {
			GEN_CHECK(
			    p->data_member != NULL
				? gw_meta_printf(out,
						 "        [DataMember(Name="
						 "\"%s\")]\n",
						 p->data_member)
				: uw_buf_puts(out, "        [DataMember]\n"));
		}
		GEN_CHECK(uw_buf_puts(out, "        public virtual "));
		GEN_CHECK(gw_meta_put_cs_type(out, &p->t));
		GEN_CHECK(gw_meta_printf(out, " %s { get; set; }\n", p->name));
	}
	return uw_buf_puts(out, "    }\n");
}

static int
cs_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	GEN_CHECK(
	    gw_meta_printf(out, "    public enum %s\n    {\n", e->short_name));
	for (unsigned i = 0; i < e->n_values; i++) {
		GEN_CHECK(numbers ? gw_meta_printf(out, "        %s = %d,\n",
						   e->values[i].name,
						   e->values[i].value)
				  : gw_meta_printf(out, "        %s,\n",
						   e->values[i].name));
	}
	return uw_buf_puts(out, "    }\n");
}

/* The namespace an enum goes to: that of the first message using it. */
static const char *
enum_namespace(const gw_meta_set *set, const ProtobufCEnumDescriptor *e)
{
	for (size_t i = 0; i < set->n; i++) {
		const ProtobufCMessageDescriptor *d = set->refs[i].msg;

		if (d == NULL) {
			continue;
		}
		for (unsigned k = 0; k < d->n_fields; k++) {
			gw_meta_type t;

			gw_meta_field_type(d, &d->fields[k], &t);
			if (t.item.kind == GW_MK_ENUM && t.item.en == e) {
				return ref_namespace(&set->refs[i]);
			}
		}
	}
	return "Users.V1";
}

static const char *
namespace_of_ref(const gw_meta_set *set, const gw_meta_ref *r)
{
	return r->msg != NULL ? ref_namespace(r) : enum_namespace(set, r->en);
}

int
gw_gen_csharp(const gw_gen *g, uw_buf *out)
{
	const gw_meta_set *set = g->set;
	const char *spaces[8];
	size_t n_spaces = 0;

	/* ServiceStack's own types come with `using ServiceStack;` */
	for (size_t i = 0; i < set->n; i++) {
		const gw_meta_ref *r = &set->refs[i];
		const char *ns;
		bool seen = false;

		if (r->msg != NULL && gw_meta_is_ss_type(r->msg)) {
			continue;
		}
		ns = namespace_of_ref(set, r);
		for (size_t k = 0; k < n_spaces; k++) {
			seen = seen || strcmp(spaces[k], ns) == 0;
		}
		if (!seen && n_spaces < sizeof(spaces) / sizeof(spaces[0])) {
			spaces[n_spaces++] = ns;
		}
	}
	GEN_CHECK(gw_gen_header(g, out));
	GEN_CHECK(uw_buf_puts(out, "using System;\nusing System.IO;\n"
				   "using System.Collections;\n"
				   "using System.Collections.Generic;\n"
				   "using System.Runtime.Serialization;\n"
				   "using ServiceStack;\n"
				   "using ServiceStack.DataAnnotations;\n"));
	for (size_t k = 0; k < n_spaces; k++) {
		GEN_CHECK(gw_meta_printf(out, "using %s;\n", spaces[k]));
	}
	for (size_t k = 0; k < n_spaces; k++) {
		bool first = true;

		GEN_CHECK(
		    gw_meta_printf(out, "\nnamespace %s\n{\n", spaces[k]));
		for (size_t i = 0; i < set->n; i++) {
			const gw_meta_ref *r = &set->refs[i];

			if ((r->msg != NULL && gw_meta_is_ss_type(r->msg)) ||
			    strcmp(namespace_of_ref(set, r), spaces[k]) != 0) {
				continue;
			}
			if (!first) {
				GEN_CHECK(uw_buf_puts(out, "\n"));
			}
			first = false;
			GEN_CHECK(r->msg != NULL ? cs_class(g, out, r->msg)
						 : cs_enum(out, r->en));
		}
		GEN_CHECK(uw_buf_puts(out, "}\n"));
	}
	return 0;
}
