/*
 * gw_meta_openapi.c - GET /openapi.json: an OpenAPI 3.1 document of every
 * documented route of users.proto, with the request and response schemas
 * (JSON Schema 2020-12, as 3.1 wants), the security schemes (bearer,
 * basic) and the error responses (ErrorResponse bodies); then every method
 * once more on its RPC path, /users.v1.UserService/{Method}, as the
 * Connect and gRPC-Web dialects call it (gateway/gw_connect.c).
 */
#include <stdio.h>
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

#define SCHEMA_REF "#/components/schemas/"

/* The error answers every operation may give (docs/wire-formats.md,
 * section 8). */
static const struct {
	const char *status;
	const char *name;
	const char *description;
} errors[] = {
    {"400", "BadRequest",
     "The request is not valid (validation or a malformed body)"},
    {"401", "Unauthorized", "Not authenticated, or wrong credentials"},
    {"403", "Forbidden", "The caller lacks every required role"},
    {"404", "NotFound", "No such resource"},
    {"409", "Conflict", "It already exists, or a conflicting change"},
    {"413", "PayloadTooLarge", "The request body is too large"},
    {"429", "TooManyRequests", "Too many attempts; try again later"},
    {"503", "ServiceUnavailable", "The service is unavailable"},
    {"504", "Timeout", "The service did not answer in time"},
};

static int
json_str(uw_buf *out, const char *s)
{
	return uw_json_string(out, s, strlen(s));
}

static int
scalar_schema(uw_buf *out, const gw_meta_scalar *s)
{
	switch (s->kind) {
	case GW_MK_STRING:
		return uw_buf_puts(out, "{\"type\":\"string\"");
	case GW_MK_GUID:
		return uw_buf_puts(out, "{\"type\":\"string\",\"pattern\":"
					"\"^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{8}-"
					"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
					"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$\"");
	case GW_MK_BOOL:
		return uw_buf_puts(out, "{\"type\":\"boolean\"");
	case GW_MK_INT32:
		return uw_buf_puts(out, "{\"type\":\"integer\",\"format\":"
					"\"int32\"");
	case GW_MK_INT64:
		return uw_buf_puts(out, "{\"type\":\"integer\",\"format\":"
					"\"int64\"");
	case GW_MK_UINT32:
		return uw_buf_puts(out, "{\"type\":\"integer\",\"minimum\":0,"
					"\"maximum\":4294967295");
	case GW_MK_UINT64:
		return uw_buf_puts(out, "{\"type\":\"integer\",\"minimum\":0");
	case GW_MK_FLOAT:
		return uw_buf_puts(out, "{\"type\":\"number\",\"format\":"
					"\"float\"");
	case GW_MK_DOUBLE:
		return uw_buf_puts(out, "{\"type\":\"number\",\"format\":"
					"\"double\"");
	case GW_MK_BYTES:
		return uw_buf_puts(out, "{\"type\":\"string\","
					"\"contentEncoding\":\"base64\"");
	case GW_MK_ENUM:
		return gw_meta_printf(out, "{\"$ref\":\"" SCHEMA_REF "%s\"",
				      s->en->short_name);
	case GW_MK_MESSAGE:
	default:
		return gw_meta_printf(out, "{\"$ref\":\"" SCHEMA_REF "%s\"",
				      s->msg->short_name);
	}
}

/* The schema of field f, open: the caller adds members and the '}'. */
static int
field_schema(uw_buf *out, const ProtobufCMessageDescriptor *d,
	     const ProtobufCFieldDescriptor *f)
{
	uint32_t max = gw_meta_field_max_len(d, f);
	gw_meta_type t;

	gw_meta_field_type(d, f, &t);
	if (t.map) {
		return uw_buf_puts(out, "{\"type\":\"object\","
					"\"additionalProperties\":") != 0 ||
			       scalar_schema(out, &t.item) != 0 ||
			       uw_buf_puts(out, "}") != 0
			   ? -1
			   : 0;
	}
	if (t.list) {
		if (uw_buf_puts(out, "{\"type\":\"array\",\"items\":") != 0 ||
		    scalar_schema(out, &t.item) != 0 ||
		    uw_buf_puts(out, "}") != 0) {
			return -1;
		}
		return max > 0 ? gw_meta_printf(out, ",\"maxItems\":%u", max)
			       : 0;
	}
	if (scalar_schema(out, &t.item) != 0) {
		return -1;
	}
	if (max > 0 &&
	    (t.item.kind == GW_MK_STRING || t.item.kind == GW_MK_GUID)) {
		return gw_meta_printf(out, ",\"maxLength\":%u", max);
	}
	return 0;
}

static int
message_schema(uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	const up_message_info *mi = up_message_info_of(d);
	const up_method *m = gw_meta_method_of_request(d);
	bool any_required = false;

	if (json_str(out, d->short_name) != 0 ||
	    uw_buf_puts(out, ":{\"type\":\"object\"") != 0) {
		return -1;
	}
	if (m != NULL && m->description[0] != '\0' &&
	    (uw_buf_puts(out, ",\"description\":") != 0 ||
	     json_str(out, m->description) != 0)) {
		return -1;
	}
	if (uw_buf_puts(out, ",\"properties\":{") != 0) {
		return -1;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *desc = gw_meta_field_description(d, f);

		any_required = any_required || gw_meta_field_required(d, f);
		if ((i > 0 && uw_buf_puts(out, ",") != 0) ||
		    json_str(out, uw_field_json_name(d, f)) != 0 ||
		    uw_buf_puts(out, ":") != 0 ||
		    field_schema(out, d, f) != 0 ||
		    (desc[0] != '\0' &&
		     (uw_buf_puts(out, ",\"description\":") != 0 ||
		      json_str(out, desc) != 0)) ||
		    uw_buf_puts(out, "}") != 0) {
			return -1;
		}
	}
	if (uw_buf_puts(out, "}") != 0) {
		return -1;
	}
	if (any_required) {
		bool first = true;

		if (uw_buf_puts(out, ",\"required\":[") != 0) {
			return -1;
		}
		for (unsigned i = 0; i < d->n_fields; i++) {
			const ProtobufCFieldDescriptor *f = &d->fields[i];

			if (!gw_meta_field_required(d, f)) {
				continue;
			}
			if ((!first && uw_buf_puts(out, ",") != 0) ||
			    json_str(out, uw_field_json_name(d, f)) != 0) {
				return -1;
			}
			first = false;
		}
		if (uw_buf_puts(out, "]") != 0) {
			return -1;
		}
	}
	if (mi != NULL && mi->xml_namespace != NULL &&
	    (uw_buf_puts(out, ",\"xml\":{\"name\":") != 0 ||
	     json_str(out, d->short_name) != 0 ||
	     uw_buf_puts(out, ",\"namespace\":") != 0 ||
	     json_str(out, mi->xml_namespace) != 0 ||
	     uw_buf_puts(out, "}") != 0)) {
		return -1;
	}
	return uw_buf_puts(out, "}");
}

static int
enum_schema(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	if (json_str(out, e->short_name) != 0 ||
	    gw_meta_printf(out, ":{\"type\":\"%s\",\"enum\":[",
			   numbers ? "integer" : "string") != 0) {
		return -1;
	}
	for (unsigned i = 0; i < e->n_values; i++) {
		if ((i > 0 && uw_buf_puts(out, ",") != 0) ||
		    (numbers ? gw_meta_printf(out, "%d", e->values[i].value)
			     : json_str(out, e->values[i].name)) != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "]}");
}

/* "application/json" of "application/json; charset=utf-8" */
static int
media_type(uw_buf *out, const uw_codec *c)
{
	const char *ct = c->content_type;

	return uw_buf_puts(out, "\"") != 0 ||
		       uw_buf_append(out, ct, strcspn(ct, ";")) != 0 ||
		       uw_buf_puts(out, "\"") != 0
		   ? -1
		   : 0;
}

/* {"application/json":{"schema":{"$ref":...}},...} for every codec */
static int
content(uw_buf *out, const char *type, bool with_form)
{
	if (uw_buf_puts(out, "{") != 0) {
		return -1;
	}
	for (size_t i = 0; uw_codecs[i] != NULL; i++) {
		if ((i > 0 && uw_buf_puts(out, ",") != 0) ||
		    media_type(out, uw_codecs[i]) != 0 ||
		    gw_meta_printf(
			out, ":{\"schema\":{\"$ref\":\"" SCHEMA_REF "%s\"}}",
			type) != 0) {
			return -1;
		}
	}
	if (with_form &&
	    gw_meta_printf(out,
			   ",\"application/x-www-form-urlencoded\":{\"schema\":"
			   "{\"$ref\":\"" SCHEMA_REF "%s\"}}",
			   type) != 0) {
		return -1;
	}
	return uw_buf_puts(out, "}");
}

/* Whether the route template names the field (its wire name). */
static bool
template_has(const char *path, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strchr(path, '{'); p != NULL;
	     p = strchr(p + 1, '{')) {
		if (strncasecmp(p + 1, name, n) == 0 && p[1 + n] == '}') {
			return true;
		}
	}
	return false;
}

static int
parameter(uw_buf *out, const ProtobufCMessageDescriptor *d,
	  const ProtobufCFieldDescriptor *f, bool in_path, bool *first)
{
	const char *desc = gw_meta_field_description(d, f);
	gw_meta_type t;

	gw_meta_field_type(d, f, &t);
	if ((!*first && uw_buf_puts(out, ",") != 0) ||
	    uw_buf_puts(out, "{\"name\":") != 0 ||
	    json_str(out, uw_field_json_name(d, f)) != 0 ||
	    gw_meta_printf(out, ",\"in\":\"%s\",\"required\":%s",
			   in_path ? "path" : "query",
			   in_path || gw_meta_field_required(d, f)
			       ? "true"
			       : "false") != 0 ||
	    (desc[0] != '\0' && (uw_buf_puts(out, ",\"description\":") != 0 ||
				 json_str(out, desc) != 0)) ||
	    /* lists in a query: ?roles=a,b */
	    (!in_path && t.list &&
	     uw_buf_puts(out, ",\"style\":\"form\",\"explode\":false") != 0) ||
	    uw_buf_puts(out, ",\"schema\":") != 0 ||
	    field_schema(out, d, f) != 0 || uw_buf_puts(out, "}}") != 0) {
		return -1;
	}
	*first = false;
	return 0;
}

/*
 * x-policy: the operation's rules (who may do what, to whom) as the daemon
 * applies them, each with its aspect, actors, conditions and sentence.
 */
static int
policy(uw_buf *out, const up_method *m)
{
	char text[512];

	if (m->n_rules == 0) {
		return 0;
	}
	if (uw_buf_puts(out, ",\"x-policy\":[") != 0) {
		return -1;
	}
	for (size_t i = 0; i < m->n_rules; i++) {
		const up_rule *r = &m->rules[i];
		bool first = true;

		if (gw_meta_printf(out, "%s{\"aspect\":\"%s\",\"actors\":[",
				   i > 0 ? "," : "",
				   up_aspect_name(r->aspect)) != 0) {
			return -1;
		}
		for (size_t k = 0; k < r->n_actors; k++) {
			if ((k > 0 && uw_buf_puts(out, ",") != 0) ||
			    json_str(out, r->actors[k]) != 0) {
				return -1;
			}
		}
		if (uw_buf_puts(out, "],\"when\":[") != 0) {
			return -1;
		}
		for (unsigned c = 0; c < 32; c++) {
			if ((r->when & (1u << c)) == 0) {
				continue;
			}
			if (gw_meta_printf(out, "%s\"%s\"", first ? "" : ",",
					   up_condition_name(
					       (Users__V1__Condition)c)) != 0) {
				return -1;
			}
			first = false;
		}
		up_rule_text(r, text, sizeof(text));
		if (uw_buf_puts(out, "],\"text\":") != 0 ||
		    json_str(out, text) != 0 || uw_buf_puts(out, "}") != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "]");
}

/*
 * One operation on one of its routes. A route usersgw answers itself
 * (GET /auth: the caller's session) takes no parameters and needs
 * credentials, whatever the operation does.
 */
static int
operation(uw_buf *out, const up_method *m, size_t route_index)
{
	const ProtobufCMessageDescriptor *in = m->desc->input;
	const up_route *r = gw_meta_route_at(m, route_index);
	bool gateway = route_index >= m->n_routes;
	bool body = !gateway && gw_meta_verb_has_body(r->method);
	bool first = true;

	if (uw_buf_puts(out, "\"") != 0) {
		return -1;
	}
	for (const char *p = r->method; *p != '\0'; p++) {
		char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;

		if (uw_buf_append(out, &c, 1) != 0) {
			return -1;
		}
	}
	if (uw_buf_puts(out, "\":{\"operationId\":") != 0) {
		return -1;
	}
	if (route_index == 0 ? json_str(out, m->desc->name) != 0
			     : gw_meta_printf(out, "\"%s_%zu\"", m->desc->name,
					      route_index + 1) != 0) {
		return -1;
	}
	if (uw_buf_puts(out, ",\"summary\":") != 0 ||
	    json_str(out, m->desc->name) != 0) {
		return -1;
	}
	{
		/* the route's own summary says what it does */
		const char *d =
		    r->summary[0] != '\0' ? r->summary : m->description;

		if (d[0] != '\0' &&
		    (uw_buf_puts(out, ",\"description\":") != 0 ||
		     json_str(out, d) != 0)) {
			return -1;
		}
	}
	if (uw_buf_puts(out, ",\"parameters\":[") != 0) {
		return -1;
	}
	for (unsigned i = 0; !gateway && i < in->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &in->fields[i];
		bool in_path = template_has(r->path, uw_field_json_name(in, f));

		if ((in_path || !body) &&
		    parameter(out, in, f, in_path, &first) != 0) {
			return -1;
		}
	}
	if (uw_buf_puts(out, "]") != 0) {
		return -1;
	}
	if (body && (uw_buf_puts(out, ",\"requestBody\":{\"required\":true,"
				      "\"content\":") != 0 ||
		     content(out, in->short_name, true) != 0 ||
		     uw_buf_puts(out, "}") != 0)) {
		return -1;
	}
	if (uw_buf_puts(out, ",\"responses\":{\"200\":{\"description\":"
			     "\"Success\",\"content\":") != 0 ||
	    content(out, m->desc->output->short_name, false) != 0 ||
	    uw_buf_puts(out, "}") != 0) {
		return -1;
	}
	for (size_t e = 0; e < sizeof(errors) / sizeof(errors[0]); e++) {
		if (gw_meta_printf(out,
				   ",\"%s\":{\"$ref\":\"#/components/"
				   "responses/%s\"}",
				   errors[e].status, errors[e].name) != 0) {
			return -1;
		}
	}
	if (uw_buf_puts(out, "}") != 0) {
		return -1;
	}
	if (uw_buf_puts(out, m->auth_none && !gateway
				 ? ",\"security\":[{}]"
				 : ",\"security\":[{\"bearer\":[]},"
				   "{\"basic\":[]}]") != 0 ||
	    (gateway &&
	     uw_buf_puts(out, ",\"x-answered-by\":\"usersgw\"") != 0)) {
		return -1;
	}
	if (m->n_roles > 0) {
		if (uw_buf_puts(out, ",\"x-requires-any-role\":[") != 0) {
			return -1;
		}
		for (size_t k = 0; k < m->n_roles; k++) {
			if ((k > 0 && uw_buf_puts(out, ",") != 0) ||
			    json_str(out, m->roles[k]) != 0) {
				return -1;
			}
		}
		if (uw_buf_puts(out, "]") != 0) {
			return -1;
		}
	}
	if (policy(out, m) != 0) {
		return -1;
	}
	return uw_buf_puts(out, "}");
}

/* The RPC dialects' media types, each with what its bodies hold. */
static const struct {
	const char *type;
	const char *text; /* after the message's full name */
} rpc_types[] = {
    {"application/proto", " in protobuf's binary encoding (Connect)"},
    {"application/json", " in proto3's JSON mapping (Connect)"},
    {"application/grpc-web+proto",
     " in protobuf's binary encoding, in gRPC-Web frames"},
    {"application/grpc-web+json",
     " in proto3's JSON mapping, in gRPC-Web frames"},
    {"application/grpc-web-text+proto", " in gRPC-Web frames, as base64 text"},
};

/* {"application/proto":{"schema":{"description":...}},...} */
static int
rpc_content(uw_buf *out, const ProtobufCMessageDescriptor *d)
{
	char text[256];

	if (uw_buf_puts(out, "{") != 0) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(rpc_types) / sizeof(rpc_types[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", d->name,
			 rpc_types[i].text);
		if (gw_meta_printf(out,
				   "%s\"%s\":{\"schema\":{\"description\":",
				   i > 0 ? "," : "", rpc_types[i].type) != 0 ||
		    json_str(out, text) != 0 || uw_buf_puts(out, "}}") != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "}");
}

/* Connect's GET: the query that carries the message. */
#define RPC_GET_PARAMETERS                                                     \
	"[{\"name\":\"message\",\"in\":\"query\",\"required\":true,"           \
	"\"description\":\"The request message, percent-encoded (base64 when " \
	"base64=1)\",\"schema\":{\"type\":\"string\"}},{\"name\":"             \
	"\"encoding\","                                                        \
	"\"in\":\"query\",\"required\":true,\"schema\":{\"enum\":[\"proto\","  \
	"\"json\"]}},{\"name\":\"base64\",\"in\":\"query\",\"schema\":{"       \
	"\"enum\":"                                                            \
	"[\"1\"]}},{\"name\":\"connect\",\"in\":\"query\",\"schema\":{"        \
	"\"enum\":"                                                            \
	"[\"v1\"]}}]"

/*
 * One method on its RPC path: POST (and GET, for a method without side
 * effects, in Connect). Errors: Connect's JSON body with the status
 * table's HTTP status; in gRPC-Web a 200 whose trailer frame holds the
 * status.
 */
static int
rpc_operation(uw_buf *out, const up_method *m, bool get)
{
	const char *name = m->desc->name;

	if (gw_meta_printf(out,
			   "\"%s\":{\"operationId\":\"%s_rpc%s\",\"summary\":"
			   "\"%s\",\"description\":",
			   get ? "get" : "post", name, get ? "_get" : "",
			   name) != 0 ||
	    json_str(out, get ? "Connect's GET form of the call: the message "
				"in the query. For a method without side "
				"effects only."
			      : "The method as a unary RPC: Connect "
				"(application/proto, application/json) or "
				"gRPC-Web (application/grpc-web+proto, "
				"+json, application/grpc-web-text+proto). "
				"Credentials: the Authorization header "
				"only.") != 0 ||
	    uw_buf_puts(out, ",\"tags\":[\"RPC\"],\"parameters\":") != 0 ||
	    uw_buf_puts(out, get ? RPC_GET_PARAMETERS : "[]") != 0) {
		return -1;
	}
	if (!get && (uw_buf_puts(out, ",\"requestBody\":{\"required\":true,"
				      "\"content\":") != 0 ||
		     rpc_content(out, m->desc->input) != 0 ||
		     uw_buf_puts(out, "}") != 0)) {
		return -1;
	}
	if (uw_buf_puts(
		out, ",\"responses\":{\"200\":{\"description\":"
		     "\"Success (in gRPC-Web, also a failure: see "
		     "grpc-status in the trailer frame)\",\"content\":") != 0 ||
	    rpc_content(out, m->desc->output) != 0 ||
	    uw_buf_puts(out,
			"},\"default\":{\"description\":\"A Connect "
			"error: {code, message, details} as JSON, details "
			"[0] a users.v1.ResponseStatus; the HTTP status is "
			"the code's\",\"content\":{\"application/json\":{"
			"\"schema\":{\"type\":\"object\",\"properties\":{"
			"\"code\":{\"type\":\"string\"},\"message\":{"
			"\"type\":\"string\"},\"details\":{\"type\":"
			"\"array\"}}}}}}}") != 0) {
		return -1;
	}
	return uw_buf_puts(out, m->auth_none ? ",\"security\":[{}]}"
					     : ",\"security\":[{\"bearer\":[]},"
					       "{\"basic\":[]}]}");
}

/* ,"/users.v1.UserService/{Method}":{...} for every method */
static int
rpc_paths(uw_buf *out)
{
	const char *svc = up_service()->name;

	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);

		if (gw_meta_printf(out, ",\"/%s/%s\":{", svc, m->desc->name) !=
			0 ||
		    rpc_operation(out, m, false) != 0 ||
		    (m->no_side_effects &&
		     (uw_buf_puts(out, ",") != 0 ||
		      rpc_operation(out, m, true) != 0)) ||
		    uw_buf_puts(out, "}") != 0) {
			return -1;
		}
	}
	return 0;
}

/* Whether an earlier route (method i, route k) already had this path. */
static bool
path_seen_before(size_t mi, size_t ri, const char *path)
{
	for (size_t i = 0; i <= mi; i++) {
		const up_method *m = up_method_at(i);
		size_t end = i == mi ? ri : gw_meta_route_count(m);

		for (size_t k = 0; k < end; k++) {
			if (strcmp(gw_meta_route_at(m, k)->path, path) == 0) {
				return true;
			}
		}
	}
	return false;
}

static int
paths(uw_buf *out)
{
	size_t n = up_method_count();
	bool first_path = true;

	if (uw_buf_puts(out, "\"paths\":{") != 0) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const up_method *m = up_method_at(i);

		for (size_t k = 0; k < gw_meta_route_count(m); k++) {
			const char *path = gw_meta_route_at(m, k)->path;
			bool first_op = true;

			if (path_seen_before(i, k, path)) {
				continue;
			}
			if ((!first_path && uw_buf_puts(out, ",") != 0) ||
			    json_str(out, path) != 0 ||
			    uw_buf_puts(out, ":{") != 0) {
				return -1;
			}
			first_path = false;
			/* every operation of every method on this path */
			for (size_t j = i; j < n; j++) {
				const up_method *o = up_method_at(j);

				for (size_t q = 0; q < gw_meta_route_count(o);
				     q++) {
					if (strcmp(gw_meta_route_at(o, q)->path,
						   path) != 0) {
						continue;
					}
					if ((!first_op &&
					     uw_buf_puts(out, ",") != 0) ||
					    operation(out, o, q) != 0) {
						return -1;
					}
					first_op = false;
				}
			}
			if (uw_buf_puts(out, "}") != 0) {
				return -1;
			}
		}
	}
	if (rpc_paths(out) != 0) {
		return -1;
	}
	return uw_buf_puts(out, "}");
}

int
gw_meta_openapi(uw_buf *out)
{
	gw_meta_set *set = gw_meta_set_all(0);
	int rc = -1;

	if (set == NULL) {
		return -1;
	}
	CHECK_RC(
	    gw_meta_collect(set, &users__v1__error_response__descriptor, 0));
	CHECK_RC(uw_buf_puts(out, "{\"openapi\":\"3.1.0\",\"info\":{"
				  "\"title\":"));
	CHECK_RC(json_str(out, up_api_name() != NULL ? up_api_name() : "API"));
	CHECK_RC(uw_buf_puts(
	    out, ",\"version\":\"1.0\",\"description\":\"Generated from "
		 "users.proto. Every operation is also served at /api/{Op} "
		 "and /{format}/reply/{Op}; the format is chosen by a .json, "
		 ".xml, .jsv or .csv suffix, ?format=, or the Accept "
		 "header.\",\"x-policy-legend\":"));
	CHECK_RC(json_str(out, up_policy_legend()));
	CHECK_RC(uw_buf_puts(out, "},"));
	CHECK_RC(paths(out));
	CHECK_RC(uw_buf_puts(out, ",\"components\":{\"schemas\":{"));
	for (size_t i = 0; i < set->n; i++) {
		CHECK_RC(i > 0 ? uw_buf_puts(out, ",") : 0);
		CHECK_RC(set->refs[i].msg != NULL
			     ? message_schema(out, set->refs[i].msg)
			     : enum_schema(out, set->refs[i].en));
	}
	CHECK_RC(uw_buf_puts(out, "},\"responses\":{"));
	for (size_t e = 0; e < sizeof(errors) / sizeof(errors[0]); e++) {
		CHECK_RC(e > 0 ? uw_buf_puts(out, ",") : 0);
		CHECK_RC(gw_meta_printf(
		    out, "\"%s\":{\"description\":", errors[e].name));
		CHECK_RC(json_str(out, errors[e].description));
		CHECK_RC(uw_buf_puts(out, ",\"content\":"));
		CHECK_RC(content(out, "ErrorResponse", false));
		CHECK_RC(uw_buf_puts(out, "}"));
	}
	CHECK_RC(uw_buf_puts(
	    out, "},\"securitySchemes\":{\"bearer\":{\"type\":\"http\","
		 "\"scheme\":\"bearer\",\"bearerFormat\":\"JWT\","
		 "\"description\":\"Authorization: Bearer, or the ss-tok "
		 "cookie\"},\"basic\":{\"type\":\"http\",\"scheme\":"
		 "\"basic\"}}}}\n"));
	rc = 0;
out:
	free(set);
	return rc;
}
