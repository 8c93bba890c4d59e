/*
 * gw_meta_lang_ts.c - /types/typescript and /types/mjs (JavaScript, an ES
 * module): classes for @servicestack/client's JsonServiceClient, which
 * sends a request as JSON.stringify writes it. A property is named by its
 * wire name (what JSON.stringify writes) and left undefined until set, so
 * an untouched property is not sent. A request implements IReturn<T> and
 * names its type, verb and response (getTypeName, getMethod,
 * createResponse).
 */
#include <string.h>

#include "gw_meta_gen.h"

static int
ts_scalar(uw_buf *out, const gw_meta_scalar *s)
{
	switch (s->kind) {
	case GW_MK_STRING:
	case GW_MK_GUID:
	case GW_MK_BYTES:
		return uw_buf_puts(out, "string");
	case GW_MK_BOOL:
		return uw_buf_puts(out, "boolean");
	case GW_MK_ENUM:
		return uw_buf_puts(out, s->en->short_name);
	case GW_MK_MESSAGE:
		return uw_buf_puts(out, s->msg->short_name);
	default:
		return uw_buf_puts(out, "number");
	}
}

static int
ts_type(uw_buf *out, const gw_meta_type *t)
{
	if (t->map) {
		GEN_CHECK(uw_buf_puts(out, "{ [index: string]: "));
		GEN_CHECK(ts_scalar(out, &t->item));
		return uw_buf_puts(out, "; }");
	}
	GEN_CHECK(ts_scalar(out, &t->item));
	return t->list ? uw_buf_puts(out, "[]") : 0;
}

/* The empty value a property starts with, when it has one. */
static const char *
initializer(const gw_prop *p, bool optional)
{
	if (p->init) {
		return p->t.map ? " = {}" : " = []";
	}
	if (optional || !p->required) {
		return "";
	}
	switch (p->t.item.kind) {
	case GW_MK_STRING:
	case GW_MK_GUID:
	case GW_MK_BYTES:
		return " = ''";
	case GW_MK_BOOL:
		return " = false";
	case GW_MK_MESSAGE:
	case GW_MK_ENUM:
		return "";
	default:
		return " = 0";
	}
}

static int
route_comments(uw_buf *out, const up_method *m, const char *indent)
{
	for (size_t r = 0; r < m->n_routes; r++) {
		GEN_CHECK(gw_meta_printf(out, "%s// @Route(\"", indent));
		GEN_CHECK(gw_meta_put_literal(out, m->routes[r].path));
		GEN_CHECK(uw_buf_puts(out, "\", \""));
		GEN_CHECK(gw_meta_put_literal(out, m->routes[r].method));
		GEN_CHECK(uw_buf_puts(out, "\")\n"));
	}
	return 0;
}

static int
api_comment(uw_buf *out, const char *indent, const char *attr, const char *text,
	    bool required)
{
	GEN_CHECK(gw_meta_printf(out, "%s// @%s(Description=\"", indent, attr));
	GEN_CHECK(gw_meta_put_literal(out, text));
	return uw_buf_puts(out, required ? "\", IsRequired=true)\n" : "\")\n");
}

static int
doc_line(const gw_gen *g, uw_buf *out, const char *indent, const char *text)
{
	if (!g->comments || text[0] == '\0') {
		return 0;
	}
	GEN_CHECK(gw_meta_printf(out, "%s/** @description ", indent));
	GEN_CHECK(gw_meta_put_comment(out, text));
	return uw_buf_puts(out, " */\n");
}

static int
ts_class(const gw_gen *g, uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const up_method *m = gw_gen_method(d);
	const char *iface = gw_gen_verb_interface(d);
	const char *desc = m != NULL ? m->description : "";
	const char *name = d->short_name;
	gw_prop props[GW_GEN_MAX_PROPS];
	size_t n = gw_gen_props(g, d, props);

	GEN_CHECK(doc_line(g, out, "", desc));
	if (m != NULL) {
		GEN_CHECK(route_comments(out, m, ""));
	}
	if (desc[0] != '\0') {
		GEN_CHECK(api_comment(out, "", "Api", desc, false));
	}
	GEN_CHECK(gw_meta_printf(out, "export class %s", name));
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(out, " implements IReturn<%s>, %s",
					 m->desc->output->short_name, iface));
	}
	GEN_CHECK(uw_buf_puts(out, "\n{\n"));
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];
		bool opt = g->optional || !p->required || p->init;

		if (p->desc[0] != '\0') {
			GEN_CHECK(doc_line(g, out, "    ", p->desc));
			GEN_CHECK(api_comment(out, "    ", "ApiMember", p->desc,
					      p->required));
		}
		if (p->data_member != NULL) {
			GEN_CHECK(gw_meta_printf(
			    out, "    // @DataMember(Name=\"%s\")\n",
			    p->data_member));
		}
		GEN_CHECK(gw_meta_printf(out, "    public %s%s: ", p->wire,
					 opt && !p->init ? "?" : ""));
		GEN_CHECK(ts_type(out, &p->t));
		GEN_CHECK(gw_meta_printf(out, "%s;\n%s",
					 initializer(p, g->optional),
					 p->desc[0] != '\0' ? "\n" : ""));
	}
	GEN_CHECK(
	    gw_meta_printf(out,
			   "\n    public constructor(init?: Partial<%s>) { "
			   "(Object as any).assign(this, init); }\n",
			   name));
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(
		    out,
		    "    public getTypeName() { return '%s'; }\n"
		    "    public getMethod() { return '%s'; }\n"
		    "    public createResponse() { return new %s(); }\n",
		    name, gw_meta_verb(m), m->desc->output->short_name));
	}
	return uw_buf_puts(out, "}\n");
}

static int
ts_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	GEN_CHECK(gw_meta_printf(out, "export enum %s\n{\n", e->short_name));
	for (unsigned i = 0; i < e->n_values; i++) {
		const char *n = e->values[i].name;

		GEN_CHECK(numbers
			      ? gw_meta_printf(out, "    %s = %d,\n", n,
					       e->values[i].value)
			      : gw_meta_printf(out, "    %s = '%s',\n", n, n));
	}
	return uw_buf_puts(out, "}\n");
}

int
gw_gen_typescript(const gw_gen *g, uw_buf *out)
{
	const gw_meta_set *set = g->set;

	GEN_CHECK(gw_gen_header(g, out));
	if (g->ss_types) {
		GEN_CHECK(uw_buf_puts(out,
				      "export interface IReturn<T>\n{\n"
				      "    createResponse(): T;\n}\n\n"
				      "export interface IReturnVoid\n{\n"
				      "    createResponse(): void;\n}\n\n"));
	} else {
		GEN_CHECK(uw_buf_puts(out,
				      "import { IReturn, IReturnVoid, "
				      "ResponseStatus, ResponseError } "
				      "from \"@servicestack/client\";\n\n"));
	}
	GEN_CHECK(uw_buf_puts(out, "export interface IGet {}\n"
				   "export interface IPost {}\n"
				   "export interface IPut {}\n"
				   "export interface IDelete {}\n"
				   "export interface IPatch {}\n"));
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].en != NULL) {
			GEN_CHECK(uw_buf_puts(out, "\n"));
			GEN_CHECK(ts_enum(out, set->refs[i].en));
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].msg != NULL) {
			GEN_CHECK(uw_buf_puts(out, "\n"));
			GEN_CHECK(ts_class(g, out, set->refs[i].msg));
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * JavaScript (ES module)
 */

static int
js_doc_type(uw_buf *out, const gw_meta_type *t)
{
	if (t->map) {
		GEN_CHECK(uw_buf_puts(out, "{ [index: string]: "));
		GEN_CHECK(ts_scalar(out, &t->item));
		return uw_buf_puts(out, "; }");
	}
	GEN_CHECK(ts_scalar(out, &t->item));
	return t->list ? uw_buf_puts(out, "[]") : 0;
}

static int
mjs_class(const gw_gen *g, uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const up_method *m = gw_gen_method(d);
	const char *desc = m != NULL ? m->description : "";
	const char *name = d->short_name;
	gw_prop props[GW_GEN_MAX_PROPS];
	size_t n = gw_gen_props(g, d, props);

	GEN_CHECK(doc_line(g, out, "", desc));
	if (m != NULL) {
		GEN_CHECK(route_comments(out, m, ""));
	}
	if (desc[0] != '\0') {
		GEN_CHECK(api_comment(out, "", "Api", desc, false));
	}
	GEN_CHECK(gw_meta_printf(out, "export class %s {\n", name));
	/* the constructor's JSDoc lists what init may hold */
	GEN_CHECK(uw_buf_puts(out, "    /** @param {{"));
	for (size_t i = 0; i < n; i++) {
		GEN_CHECK(gw_meta_printf(out, "%s%s?:", i > 0 ? "," : "",
					 props[i].wire));
		GEN_CHECK(js_doc_type(out, &props[i].t));
	}
	GEN_CHECK(uw_buf_puts(out,
			      "}} [init] */\n"
			      "    constructor(init) { Object.assign(this, "
			      "init) }\n"));
	for (size_t i = 0; i < n; i++) {
		const gw_prop *p = &props[i];

		if (p->desc[0] != '\0') {
			GEN_CHECK(api_comment(out, "    ", "ApiMember", p->desc,
					      p->required));
		}
		if (p->data_member != NULL) {
			GEN_CHECK(gw_meta_printf(
			    out, "    // @DataMember(Name=\"%s\")\n",
			    p->data_member));
		}
		GEN_CHECK(uw_buf_puts(out, "    /**\n     * @type {?"));
		GEN_CHECK(js_doc_type(out, &p->t));
		GEN_CHECK(uw_buf_puts(out, "}"));
		if (g->comments && p->desc[0] != '\0') {
			GEN_CHECK(uw_buf_puts(out, " @description "));
			GEN_CHECK(gw_meta_put_comment(out, p->desc));
		}
		GEN_CHECK(gw_meta_printf(
		    out, "\n     */\n    %s%s;\n", p->wire,
		    p->init ? (p->t.map ? " = {}" : " = []") : ""));
	}
	if (m != NULL) {
		GEN_CHECK(gw_meta_printf(
		    out,
		    "    getTypeName() { return '%s' }\n"
		    "    getMethod() { return '%s' }\n"
		    "    createResponse() { return new %s() }\n",
		    name, gw_meta_verb(m), m->desc->output->short_name));
	}
	return uw_buf_puts(out, "}\n");
}

static int
mjs_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	GEN_CHECK(gw_meta_printf(out,
				 "/** @typedef {%s} */\nexport var %s;\n"
				 "(function (%s) {\n",
				 numbers ? "number" : "string", e->short_name,
				 e->short_name));
	for (unsigned i = 0; i < e->n_values; i++) {
		const char *n = e->values[i].name;

		GEN_CHECK(numbers
			      ? gw_meta_printf(
				    out, "    %s[%s[\"%s\"] = %d] = \"%s\"\n",
				    e->short_name, e->short_name, n,
				    e->values[i].value, n)
			      : gw_meta_printf(out, "    %s[\"%s\"] = \"%s\"\n",
					       e->short_name, n, n));
	}
	return gw_meta_printf(out, "})(%s || (%s = {}));\n", e->short_name,
			      e->short_name);
}

int
gw_gen_mjs(const gw_gen *g, uw_buf *out)
{
	const gw_meta_set *set = g->set;

	GEN_CHECK(gw_gen_header(g, out));
	GEN_CHECK(uw_buf_puts(out, "\"use strict\";\n"));
	if (!g->ss_types) {
		GEN_CHECK(uw_buf_puts(out, "import { ResponseStatus, "
					   "ResponseError } from "
					   "\"@servicestack/client\";\n"));
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].en != NULL) {
			GEN_CHECK(uw_buf_puts(out, "\n"));
			GEN_CHECK(mjs_enum(out, set->refs[i].en));
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].msg != NULL) {
			GEN_CHECK(uw_buf_puts(out, "\n"));
			GEN_CHECK(mjs_class(g, out, set->refs[i].msg));
		}
	}
	return 0;
}
