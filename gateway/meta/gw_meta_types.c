/*
 * gw_meta_types.c - GET /types/{python,swift,typescript,csharp}: the DTOs
 * of every request, response, nested type and enum, in the shapes
 * ServiceStack's "Add ServiceStack Reference" writes (Python dataclasses
 * with dataclass_json, Swift Codable classes, TypeScript classes
 * implementing IReturn for @servicestack/client's JsonServiceClient, C#
 * classes with ServiceStack's attributes).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_meta.h"

#define CHECK_RC(expr)                                                         \
	do {                                                                   \
		if ((expr) != 0) {                                             \
			goto out;                                              \
		}                                                              \
	} while (0)

/* The verb interface of a request ("IPatch"), NULL for other types. */
static const char *
verb_interface(const ProtobufCMessageDescriptor *d)
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

static bool
set_index_of(const gw_meta_set *set, const ProtobufCMessageDescriptor *d,
	     size_t *at)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].msg == d) {
			*at = i;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------
 * Python
 */

static int
py_scalar(uw_buf *out, const gw_meta_scalar *s, const gw_meta_set *set,
	  size_t self)
{
	size_t at;

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
	case GW_MK_MESSAGE:
		/* a class not defined yet (a cycle) is a forward reference */
		if (set_index_of(set, s->msg, &at) && at >= self) {
			return gw_meta_printf(out, "'%s'", s->msg->short_name);
		}
		return uw_buf_puts(out, s->msg->short_name);
	default:
		return uw_buf_puts(out, "int");
	}
}

static int
py_type(uw_buf *out, const gw_meta_type *t, const gw_meta_set *set, size_t self)
{
	if (uw_buf_puts(out, "Optional[") != 0) {
		return -1;
	}
	if (t->map) {
		if (uw_buf_puts(out, "Dict[") != 0 ||
		    py_scalar(out, &t->key, set, self) != 0 ||
		    uw_buf_puts(out, ", ") != 0 ||
		    py_scalar(out, &t->item, set, self) != 0 ||
		    uw_buf_puts(out, "]") != 0) {
			return -1;
		}
	} else if (t->list) {
		if (uw_buf_puts(out, "List[") != 0 ||
		    py_scalar(out, &t->item, set, self) != 0 ||
		    uw_buf_puts(out, "]") != 0) {
			return -1;
		}
	} else if (py_scalar(out, &t->item, set, self) != 0) {
		return -1;
	}
	return uw_buf_puts(out, "] = None");
}

static int
py_api_member(uw_buf *out, const char *indent, const char *desc, bool required)
{
	if (uw_buf_puts(out, indent) != 0 ||
	    uw_buf_puts(out, "# @ApiMember(Description=\"") != 0 ||
	    gw_meta_put_literal(out, desc) != 0 ||
	    uw_buf_puts(out, required ? "\", IsRequired=true)\n" : "\")\n") !=
		0) {
		return -1;
	}
	return 0;
}

static int
py_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	if (gw_meta_printf(out, "class %s(%s):\n", e->short_name,
			   numbers ? "IntEnum" : "str, Enum") != 0) {
		return -1;
	}
	for (unsigned i = 0; i < e->n_values; i++) {
		const char *n = e->values[i].name;

		if (uw_buf_puts(out, "    ") != 0 ||
		    gw_meta_put_snake(out, n, true) != 0 ||
		    (numbers
			 ? gw_meta_printf(out, " = %d\n", e->values[i].value)
			 : gw_meta_printf(out, " = '%s'\n", n)) != 0) {
			return -1;
		}
	}
	return e->n_values == 0 ? uw_buf_puts(out, "    pass\n") : 0;
}

static int
py_class(uw_buf *out, const ProtobufCMessageDescriptor *d,
	 const gw_meta_set *set, size_t self)
{
	const up_method *m = gw_meta_method_of_request(d);
	const char *iface = verb_interface(d);
	const char *desc = m != NULL ? m->description : "";

	if (desc[0] != '\0' &&
	    (uw_buf_puts(out, "# @Api(Description=\"") != 0 ||
	     gw_meta_put_literal(out, desc) != 0 ||
	     uw_buf_puts(out, "\")\n") != 0)) {
		return -1;
	}
	if (uw_buf_puts(out,
			"@dataclass_json(letter_case=LetterCase.CAMEL, "
			"undefined=Undefined.EXCLUDE)\n@dataclass\n") != 0 ||
	    gw_meta_printf(out, "class %s", d->short_name) != 0 ||
	    (iface != NULL && gw_meta_printf(out, "(%s)", iface) != 0) ||
	    uw_buf_puts(out, ":\n") != 0) {
		return -1;
	}
	if (desc[0] != '\0' && (uw_buf_puts(out, "    \"\"\"\n    ") != 0 ||
				gw_meta_put_comment(out, desc) != 0 ||
				uw_buf_puts(out, "\n    \"\"\"\n\n") != 0)) {
		return -1;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *fd = gw_meta_field_description(d, f);
		gw_meta_type t;

		gw_meta_field_type(d, f, &t);
		if (fd[0] != '\0' &&
		    py_api_member(out, "    ", fd,
				  gw_meta_field_required(d, f)) != 0) {
			return -1;
		}
		if (uw_buf_puts(out, "    ") != 0 ||
		    gw_meta_put_snake(out, uw_field_json_name(d, f), false) !=
			0 ||
		    uw_buf_puts(out, ": ") != 0 ||
		    py_type(out, &t, set, self) != 0 ||
		    uw_buf_puts(out, "\n") != 0) {
			return -1;
		}
		if (fd[0] != '\0' &&
		    (uw_buf_puts(out, "    \"\"\"\n    ") != 0 ||
		     gw_meta_put_comment(out, fd) != 0 ||
		     uw_buf_puts(out, "\n    \"\"\"\n\n\n") != 0)) {
			return -1;
		}
	}
	if (d->n_fields == 0 && uw_buf_puts(out, "    pass\n") != 0) {
		return -1;
	}
	return 0;
}

int
gw_meta_types_python(uw_buf *out)
{
	gw_meta_set *set =
	    gw_meta_set_all(GW_META_POST_ORDER | GW_META_SKIP_SS_NESTED);
	int rc = -1;

	if (set == NULL) {
		return -1;
	}
	CHECK_RC(uw_buf_puts(
	    out, "import datetime\nimport decimal\n"
		 "from marshmallow.fields import *\n"
		 "from servicestack import *\nfrom typing import *\n"
		 "from dataclasses import dataclass, field\n"
		 "from dataclasses_json import dataclass_json, LetterCase, "
		 "Undefined, config\nfrom enum import Enum, IntEnum\n"));
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].en != NULL) {
			CHECK_RC(uw_buf_puts(out, "\n\n"));
			CHECK_RC(py_enum(out, set->refs[i].en));
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].msg != NULL) {
			CHECK_RC(uw_buf_puts(out, "\n\n"));
			CHECK_RC(py_class(out, set->refs[i].msg, set, i));
		}
	}
	rc = 0;
out:
	free(set);
	return rc;
}

/* ------------------------------------------------------------------------
 * Swift
 */

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
swift_type(uw_buf *out, const gw_meta_type *t)
{
	if (t->map) {
		return uw_buf_puts(out, "[") != 0 ||
			       swift_scalar(out, &t->key) != 0 ||
			       uw_buf_puts(out, ":") != 0 ||
			       swift_scalar(out, &t->item) != 0 ||
			       uw_buf_puts(out, "] = [:]") != 0
			   ? -1
			   : 0;
	}
	if (t->list) {
		return uw_buf_puts(out, "[") != 0 ||
			       swift_scalar(out, &t->item) != 0 ||
			       uw_buf_puts(out, "] = []") != 0
			   ? -1
			   : 0;
	}
	return swift_scalar(out, &t->item) != 0 || uw_buf_puts(out, "?") != 0
		   ? -1
		   : 0;
}

static int
doc_block(uw_buf *out, const char *indent, const char *text)
{
	return uw_buf_puts(out, indent) != 0 ||
		       uw_buf_puts(out, "/**\n") != 0 ||
		       uw_buf_puts(out, indent) != 0 ||
		       uw_buf_puts(out, "* ") != 0 ||
		       gw_meta_put_comment(out, text) != 0 ||
		       uw_buf_puts(out, "\n") != 0 ||
		       uw_buf_puts(out, indent) != 0 ||
		       uw_buf_puts(out, "*/\n") != 0
		   ? -1
		   : 0;
}

static int
slash_attr(uw_buf *out, const char *indent, const char *attr, const char *text,
	   bool required)
{
	return uw_buf_puts(out, indent) != 0 ||
		       gw_meta_printf(out, "// @%s(Description=\"", attr) !=
			   0 ||
		       gw_meta_put_literal(out, text) != 0 ||
		       uw_buf_puts(out, required ? "\", IsRequired=true)\n"
						 : "\")\n") != 0
		   ? -1
		   : 0;
}

static int
swift_class(uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const up_method *m = gw_meta_method_of_request(d);
	const char *iface = verb_interface(d);
	const char *desc = m != NULL ? m->description : "";

	if (desc[0] != '\0' && (doc_block(out, "", desc) != 0 ||
				slash_attr(out, "", "Api", desc, false) != 0)) {
		return -1;
	}
	if (gw_meta_printf(out, "public class %s : ", d->short_name) != 0 ||
	    (iface != NULL && gw_meta_printf(out, "%s, ", iface) != 0) ||
	    uw_buf_puts(out, "Codable\n{\n") != 0) {
		return -1;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *fd = gw_meta_field_description(d, f);
		gw_meta_type t;

		gw_meta_field_type(d, f, &t);
		if (fd[0] != '\0' &&
		    (doc_block(out, "    ", fd) != 0 ||
		     slash_attr(out, "    ", "ApiMember", fd,
				gw_meta_field_required(d, f)) != 0)) {
			return -1;
		}
		if (gw_meta_printf(out, "    public var %s:",
				   uw_field_json_name(d, f)) != 0 ||
		    swift_type(out, &t) != 0 || uw_buf_puts(out, "\n") != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "\n    required public init(){}\n}\n");
}

static int
swift_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	if (gw_meta_printf(out, "public enum %s : %s, Codable\n{\n",
			   e->short_name, numbers ? "Int" : "String") != 0) {
		return -1;
	}
	for (unsigned i = 0; i < e->n_values; i++) {
		if ((numbers
			 ? gw_meta_printf(out, "    case %s = %d\n",
					  e->values[i].name, e->values[i].value)
			 : gw_meta_printf(out, "    case %s\n",
					  e->values[i].name)) != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "}\n");
}

int
gw_meta_types_swift(uw_buf *out)
{
	gw_meta_set *set = gw_meta_set_all(GW_META_SKIP_SS_NESTED);
	int rc = -1;

	if (set == NULL) {
		return -1;
	}
	CHECK_RC(uw_buf_puts(out, "import Foundation\nimport ServiceStack\n"));
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].msg != NULL) {
			CHECK_RC(uw_buf_puts(out, "\n"));
			CHECK_RC(swift_class(out, set->refs[i].msg));
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].en != NULL) {
			CHECK_RC(uw_buf_puts(out, "\n"));
			CHECK_RC(swift_enum(out, set->refs[i].en));
		}
	}
	rc = 0;
out:
	free(set);
	return rc;
}

/* ------------------------------------------------------------------------
 * TypeScript
 */

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
		return uw_buf_puts(out, "{ [index: string]: ") != 0 ||
			       ts_scalar(out, &t->item) != 0 ||
			       uw_buf_puts(out, "; }") != 0
			   ? -1
			   : 0;
	}
	if (ts_scalar(out, &t->item) != 0) {
		return -1;
	}
	return t->list ? uw_buf_puts(out, "[]") : 0;
}

static int
ts_class(uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const up_method *m = gw_meta_method_of_request(d);
	const char *iface = verb_interface(d);
	const char *desc = m != NULL ? m->description : "";
	const char *name = d->short_name;

	if (desc[0] != '\0' && (uw_buf_puts(out, "/** @description ") != 0 ||
				gw_meta_put_comment(out, desc) != 0 ||
				uw_buf_puts(out, " */\n") != 0)) {
		return -1;
	}
	if (m != NULL) {
		for (size_t r = 0; r < m->n_routes; r++) {
			if (uw_buf_puts(out, "// @Route(\"") != 0 ||
			    gw_meta_put_literal(out, m->routes[r].path) != 0 ||
			    uw_buf_puts(out, "\", \"") != 0 ||
			    gw_meta_put_literal(out, m->routes[r].method) !=
				0 ||
			    uw_buf_puts(out, "\")\n") != 0) {
				return -1;
			}
		}
	}
	if (desc[0] != '\0' && slash_attr(out, "", "Api", desc, false) != 0) {
		return -1;
	}
	if (gw_meta_printf(out, "export class %s", name) != 0) {
		return -1;
	}
	if (m != NULL &&
	    gw_meta_printf(out, " implements IReturn<%s>, %s",
			   m->desc->output->short_name, iface) != 0) {
		return -1;
	}
	if (uw_buf_puts(out, "\n{\n") != 0) {
		return -1;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *fd = gw_meta_field_description(d, f);
		bool req = gw_meta_field_required(d, f);
		gw_meta_type t;

		gw_meta_field_type(d, f, &t);
		if (fd[0] != '\0' &&
		    (uw_buf_puts(out, "    /** @description ") != 0 ||
		     gw_meta_put_comment(out, fd) != 0 ||
		     uw_buf_puts(out, " */\n") != 0 ||
		     slash_attr(out, "    ", "ApiMember", fd, req) != 0)) {
			return -1;
		}
		if (gw_meta_printf(out, "    public %s?: ",
				   uw_field_json_name(d, f)) != 0 ||
		    ts_type(out, &t) != 0 ||
		    uw_buf_puts(out, fd[0] != '\0' ? ";\n\n" : ";\n") != 0) {
			return -1;
		}
	}
	if (gw_meta_printf(out,
			   "\n    public constructor(init?: Partial<%s>) { "
			   "(Object as any).assign(this, init); }\n",
			   name) != 0) {
		return -1;
	}
	if (m != NULL &&
	    gw_meta_printf(out,
			   "    public getTypeName() { return '%s'; }\n"
			   "    public getMethod() { return '%s'; }\n"
			   "    public createResponse() { return new %s(); }\n",
			   name, gw_meta_verb(m),
			   m->desc->output->short_name) != 0) {
		return -1;
	}
	return uw_buf_puts(out, "}\n");
}

static int
ts_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	if (gw_meta_printf(out, "export enum %s\n{\n", e->short_name) != 0) {
		return -1;
	}
	for (unsigned i = 0; i < e->n_values; i++) {
		const char *n = e->values[i].name;

		if ((numbers ? gw_meta_printf(out, "    %s = %d,\n", n,
					      e->values[i].value)
			     : gw_meta_printf(out, "    %s = '%s',\n", n, n)) !=
		    0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "}\n");
}

int
gw_meta_types_typescript(uw_buf *out)
{
	/* standalone: ServiceStack's own types are declared here too */
	gw_meta_set *set = gw_meta_set_all(GW_META_POST_ORDER);
	int rc = -1;

	if (set == NULL) {
		return -1;
	}
	CHECK_RC(uw_buf_puts(
	    out, "/* Options:\nBaseUrl: /\nExportAsTypes: True\n*/\n\n"
		 "export interface IReturn<T>\n{\n"
		 "    createResponse(): T;\n}\n\n"
		 "export interface IReturnVoid\n{\n"
		 "    createResponse(): void;\n}\n\n"
		 "export interface IGet {}\nexport interface IPost {}\n"
		 "export interface IPut {}\nexport interface IDelete {}\n"
		 "export interface IPatch {}\n"));
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].en != NULL) {
			CHECK_RC(uw_buf_puts(out, "\n"));
			CHECK_RC(ts_enum(out, set->refs[i].en));
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->refs[i].msg != NULL) {
			CHECK_RC(uw_buf_puts(out, "\n"));
			CHECK_RC(ts_class(out, set->refs[i].msg));
		}
	}
	rc = 0;
out:
	free(set);
	return rc;
}

/* ------------------------------------------------------------------------
 * C#
 */

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
	if (r->msg != NULL) {
		const up_message_info *mi = up_message_info_of(r->msg);

		return cs_namespace_of(mi != NULL ? mi->xml_namespace : NULL);
	}
	return NULL; /* enums: with the first message that uses them */
}

static int
cs_class(uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const up_method *m = gw_meta_method_of_request(d);
	const char *iface = verb_interface(d);
	const char *desc = m != NULL ? m->description : "";

	if (m != NULL) {
		for (size_t r = 0; r < m->n_routes; r++) {
			if (uw_buf_puts(out, "    [Route(\"") != 0 ||
			    gw_meta_put_literal(out, m->routes[r].path) != 0 ||
			    uw_buf_puts(out, "\", \"") != 0 ||
			    gw_meta_put_literal(out, m->routes[r].method) !=
				0 ||
			    uw_buf_puts(out, "\")]\n") != 0) {
				return -1;
			}
		}
		if (m->n_roles > 0) {
			if (uw_buf_puts(out, "    [RequiresAnyRole(") != 0) {
				return -1;
			}
			for (size_t r = 0; r < m->n_roles; r++) {
				if (uw_buf_puts(out, r > 0 ? ", \"" : "\"") !=
					0 ||
				    gw_meta_put_literal(out, m->roles[r]) !=
					0 ||
				    uw_buf_puts(out, "\"") != 0) {
					return -1;
				}
			}
			if (uw_buf_puts(out, ")]\n") != 0) {
				return -1;
			}
		}
		if (!m->auth_none &&
		    uw_buf_puts(out, "    [Authenticate]\n") != 0) {
			return -1;
		}
	}
	if (desc[0] != '\0' &&
	    (uw_buf_puts(out, "    [Api(Description=\"") != 0 ||
	     gw_meta_put_literal(out, desc) != 0 ||
	     uw_buf_puts(out, "\")]\n") != 0)) {
		return -1;
	}
	if (gw_meta_printf(out, "    public partial class %s\n",
			   d->short_name) != 0 ||
	    (m != NULL &&
	     gw_meta_printf(out, "        : IReturn<%s>, %s\n",
			    m->desc->output->short_name, iface) != 0) ||
	    uw_buf_puts(out, "    {\n") != 0) {
		return -1;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *fd = gw_meta_field_description(d, f);
		gw_meta_type t;

		gw_meta_field_type(d, f, &t);
		if (fd[0] != '\0' &&
		    (uw_buf_puts(out, "        ///<summary>\n        ///") !=
			 0 ||
		     gw_meta_put_comment(out, fd) != 0 ||
		     uw_buf_puts(out,
				 "\n        ///</summary>\n"
				 "        [ApiMember(Description=\"") != 0 ||
		     gw_meta_put_literal(out, fd) != 0 ||
		     uw_buf_puts(out, gw_meta_field_required(d, f)
					  ? "\", IsRequired=true)]\n"
					  : "\")]\n") != 0)) {
			return -1;
		}
		if (uw_buf_puts(out, "        public virtual ") != 0 ||
		    gw_meta_put_cs_type(out, &t) != 0 ||
		    gw_meta_printf(out, " %s { get; set; }\n",
				   uw_field_pascal_name(d, f)) != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "    }\n");
}

static int
cs_enum(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	if (gw_meta_printf(out, "    public enum %s\n    {\n", e->short_name) !=
	    0) {
		return -1;
	}
	for (unsigned i = 0; i < e->n_values; i++) {
		if ((numbers
			 ? gw_meta_printf(out, "        %s = %d,\n",
					  e->values[i].name, e->values[i].value)
			 : gw_meta_printf(out, "        %s,\n",
					  e->values[i].name)) != 0) {
			return -1;
		}
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

int
gw_meta_types_csharp(uw_buf *out)
{
	gw_meta_set *set = gw_meta_set_all(GW_META_SKIP_SS_NESTED);
	const char *spaces[8];
	size_t n_spaces = 0;
	int rc = -1;

	if (set == NULL) {
		return -1;
	}
	/* ServiceStack's own types come with `using ServiceStack;` */
	for (size_t i = 0; i < set->n; i++) {
		const char *ns;

		if (set->refs[i].msg == NULL ||
		    gw_meta_is_ss_type(set->refs[i].msg)) {
			continue;
		}
		ns = ref_namespace(&set->refs[i]);
		bool seen = false;
		for (size_t k = 0; k < n_spaces; k++) {
			seen = seen || strcmp(spaces[k], ns) == 0;
		}
		if (!seen && n_spaces < sizeof(spaces) / sizeof(spaces[0])) {
			spaces[n_spaces++] = ns;
		}
	}
	CHECK_RC(uw_buf_puts(out, "/* Options:\nBaseUrl: /\n*/\n\n"
				  "using System;\nusing System.IO;\n"
				  "using System.Collections;\n"
				  "using System.Collections.Generic;\n"
				  "using System.Runtime.Serialization;\n"
				  "using ServiceStack;\n"
				  "using ServiceStack.DataAnnotations;\n"));
	for (size_t k = 0; k < n_spaces; k++) {
		CHECK_RC(gw_meta_printf(out, "using %s;\n", spaces[k]));
	}
	for (size_t k = 0; k < n_spaces; k++) {
		CHECK_RC(gw_meta_printf(out, "\nnamespace %s\n{\n", spaces[k]));
		bool first = true;
		for (size_t i = 0; i < set->n; i++) {
			const gw_meta_ref *r = &set->refs[i];
			const char *ns = r->msg != NULL
					     ? ref_namespace(r)
					     : enum_namespace(set, r->en);

			if ((r->msg != NULL && gw_meta_is_ss_type(r->msg)) ||
			    strcmp(ns, spaces[k]) != 0) {
				continue;
			}
			if (!first) {
				CHECK_RC(uw_buf_puts(out, "\n"));
			}
			first = false;
			CHECK_RC(r->msg != NULL ? cs_class(out, r->msg)
						: cs_enum(out, r->en));
		}
		CHECK_RC(uw_buf_puts(out, "}\n"));
	}
	rc = 0;
out:
	free(set);
	return rc;
}

int
gw_meta_types(const char *lang, uw_buf *out)
{
	if (strcmp(lang, "python") == 0) {
		return gw_meta_types_python(out);
	}
	if (strcmp(lang, "swift") == 0) {
		return gw_meta_types_swift(out);
	}
	if (strcmp(lang, "typescript") == 0) {
		return gw_meta_types_typescript(out);
	}
	if (strcmp(lang, "csharp") == 0) {
		return gw_meta_types_csharp(out);
	}
	return -1;
}
