/*
 * gw_meta_html.c - the metadata pages: GET /metadata (every operation, a
 * link per format) and GET /{fmt}/metadata?op=NAME (description, roles,
 * routes, the parameter tables of every type the operation reaches, the
 * enums, and sample requests and responses written by the real codecs
 * from a placeholder-filled message).
 *
 * Plain HTML5, one small inline stylesheet, no script; everything taken
 * from users.proto is escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_meta.h"

#define PLACEHOLDER_REPEAT 3 /* how often a type may nest in a sample */
#define MAX_PATH           64

static const char STYLE[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.5 system-ui,-apple-system,\"Segoe UI\","
    "Roboto,sans-serif;color:#1d2329;background:#fff}"
    "header{background:#23456b;color:#fff;padding:.6em 1em}"
    "header a{color:#fff;text-decoration:none}"
    "h1{font-size:1.3em;margin:0}"
    "main{max-width:72em;margin:0 auto;padding:.5em 1em 2em}"
    "h2{font-size:1.5em;margin:.4em 0 .2em}"
    "h3{font-size:1.05em;margin:1.4em 0 .4em}"
    "a{color:#1f5fa8}"
    ".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}"
    "table{border-collapse:collapse;margin:.3em 0 .8em;min-width:50%}"
    "th,td{border:1px solid #d5dbe1;padding:.3em .6em;text-align:left;"
    "vertical-align:top}"
    "thead th{background:#eef2f6}"
    "tbody th{font-weight:600;background:#f7f9fb}"
    "td.fmt{white-space:nowrap}td.fmt a{margin-right:.5em}"
    ".params td:last-child{min-width:14em}"
    "pre{background:#f5f7f9;border:1px solid #d5dbe1;padding:.7em;"
    "overflow-x:auto;font:13px/1.45 ui-monospace,Menlo,Consolas,monospace;"
    "tab-size:4}"
    ".auth{font-weight:600;color:#8a3b12}"
    "nav{margin:.3em 0}nav a,nav strong{margin-right:.6em}"
    "footer{margin-top:2em;border-top:1px solid #d5dbe1;padding-top:.6em;"
    "font-size:.9em}"
    "@media(max-width:40em){body{font-size:14px}main{padding:.4em .6em}"
    "th,td{padding:.25em .4em}"
    ".ops{min-width:0;width:100%}.ops thead{display:none}"
    ".ops tr{display:block;border:1px solid #d5dbe1;margin-bottom:.4em}"
    ".ops th,.ops td{display:block;border:0}}";

static const char *
upper_name(const char *fmt)
{
	if (strcmp(fmt, "json") == 0) {
		return "JSON";
	}
	if (strcmp(fmt, "xml") == 0) {
		return "XML";
	}
	if (strcmp(fmt, "jsv") == 0) {
		return "JSV";
	}
	return "CSV";
}

static const char *
api_name(void)
{
	const char *n = up_api_name();

	return n != NULL && n[0] != '\0' ? n : "API";
}

/* ------------------------------------------------------------------------
 * Placeholders and samples
 */

static const char *
placeholder_text(const ProtobufCMessageDescriptor *d,
		 const ProtobufCFieldDescriptor *f, size_t *len)
{
	const char *t;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		t = uw_field_is_guid(d, f) ? "00000000000000000000000000000000"
					   : "String";
		break;
	case PROTOBUF_C_TYPE_BOOL:
		t = "false";
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;

		t = e->n_values > 0 ? e->values[0].name : "0";
		break;
	}
	case PROTOBUF_C_TYPE_BYTES:
		t = "AA==";
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	default:
		t = "0";
		break;
	}
	*len = strlen(t);
	return t;
}

static int
fill(ProtobufCMessage *m, const ProtobufCMessageDescriptor **path, size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	uw_decode_error err;

	if (depth == MAX_PATH) {
		return 0;
	}
	path[depth] = d;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessageDescriptor *sd = f->descriptor;
			ProtobufCMessage *sub = uw_msg_new(sd);
			size_t seen = 0;

			if (sub == NULL) {
				return -1;
			}
			for (size_t k = 0; k <= depth; k++) {
				seen += path[k] == sd;
			}
			if (seen < PLACEHOLDER_REPEAT &&
			    fill(sub, path, depth + 1) != 0) {
				protobuf_c_message_free_unpacked(sub, NULL);
				return -1;
			}
			/* takes sub, frees it on failure */
			if (uw_field_put_message(m, f, sub, &err) != 0) {
				return -1;
			}
		} else {
			size_t len;
			const char *t = placeholder_text(d, f, &len);

			if (uw_field_set_text(m, f, t, len,
					      f->label ==
						  PROTOBUF_C_LABEL_REPEATED,
					      NULL, &err) != 0) {
				return -1;
			}
		}
	}
	return 0;
}

ProtobufCMessage *
gw_meta_placeholder(const ProtobufCMessageDescriptor *d)
{
	const ProtobufCMessageDescriptor *path[MAX_PATH];
	ProtobufCMessage *m = uw_msg_new(d);

	if (m == NULL) {
		return NULL;
	}
	if (fill(m, path, 0) != 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}

/* The text written into tmp (rc: how writing it went) HTML-escaped into
 * out; tmp is released. 0 or -1. */
static int
put_html_of(uw_buf *out, uw_buf *tmp, int rc)
{
	if (rc == 0) {
		rc = uw_buf_append(tmp, "", 1);
	}
	if (rc == 0) {
		rc = gw_meta_put_html(out, tmp->data);
	}
	uw_buf_fini(tmp);
	return rc;
}

/* ServiceStack's JsvFormatter.Format, aware of quoted strings. */
int
gw_meta_jsv_indent(const char *s, size_t len, uw_buf *out)
{
	int tabs = 0;
	bool first_key = true;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		char prev = i > 0 ? s[i - 1] : '\0';
		char next = i + 1 < len ? s[i + 1] : '\0';
		int rc = 0;

		if (quoted) {
			if (c == '"') {
				if (next == '"') {
					rc = uw_buf_append(out, s + i, 2);
					i++;
					if (rc != 0) {
						return -1;
					}
					continue;
				}
				quoted = false;
			}
			if (uw_buf_append(out, &c, 1) != 0) {
				return -1;
			}
			continue;
		}
		switch (c) {
		case '"':
			quoted = true;
			rc = uw_buf_append(out, &c, 1);
			break;
		case '{':
		case '[':
			if (prev == ':') {
				if (next == '}' || next == ']') {
					first_key = true;
					rc = uw_buf_append(out, s + i, 2);
					i++;
					break;
				}
				rc = gw_meta_put_indent(out, "\t", tabs);
			}
			if (rc == 0) {
				rc = uw_buf_append(out, &c, 1);
			}
			if (rc == 0) {
				rc = gw_meta_put_indent(out, "\t", ++tabs);
			}
			first_key = true;
			break;
		case '}':
		case ']':
			rc = gw_meta_put_indent(out, "\t",
						tabs > 0 ? --tabs : 0);
			if (rc == 0) {
				rc = uw_buf_append(out, &c, 1);
			}
			first_key = true;
			break;
		case ',':
			rc = uw_buf_append(out, &c, 1);
			if (rc == 0) {
				rc = gw_meta_put_indent(out, "\t", tabs);
			}
			first_key = true;
			break;
		case ':':
			rc = uw_buf_append(out, &c, 1);
			if (rc == 0 && first_key) {
				rc = uw_buf_puts(out, " ");
				first_key = false;
			}
			break;
		default:
			rc = uw_buf_append(out, &c, 1);
			break;
		}
		if (rc != 0) {
			return -1;
		}
	}
	return 0;
}

/* XML without its declaration, an element a line, indented by two. */
static int
xml_lines(const char *s, size_t len, uw_buf *out)
{
	size_t i = 0;
	int depth = 0;
	bool after_tag = false; /* the last thing written ended a tag */
	bool started = false;

	if (len > 5 && strncmp(s, "<?xml", 5) == 0) {
		const char *end = strstr(s, "?>");

		if (end != NULL) {
			i = (size_t)(end - s) + 2;
		}
	}
	while (i < len) {
		if (s[i] == '<') {
			bool closing = i + 1 < len && s[i + 1] == '/';
			bool self_closing = false;
			char quote = '\0';
			size_t j = i;

			if (closing) {
				depth--;
			}
			if (started && after_tag &&
			    gw_meta_put_indent(out, "  ",
					       depth < 0 ? 0 : depth) != 0) {
				return -1;
			}
			for (; j < len; j++) {
				if (quote != '\0') {
					quote = s[j] == quote ? '\0' : quote;
				} else if (s[j] == '"' || s[j] == '\'') {
					quote = s[j];
				} else if (s[j] == '>') {
					break;
				}
			}
			if (j < len) {
				self_closing = j > i && s[j - 1] == '/';
			}
			if (uw_buf_append(out, s + i,
					  (j < len ? j + 1 : len) - i) != 0) {
				return -1;
			}
			if (!closing && !self_closing) {
				depth++;
			}
			i = j < len ? j + 1 : len;
			after_tag = true;
			started = true;
			continue;
		}
		if (s[i] == '\n' || s[i] == '\r') {
			i++;
			continue;
		}
		if (uw_buf_append(out, s + i, 1) != 0) {
			return -1;
		}
		after_tag = false;
		i++;
	}
	return 0;
}

int
gw_meta_sample(const ProtobufCMessageDescriptor *d, const uw_codec *c,
	       uw_buf *out)
{
	ProtobufCMessage *m = gw_meta_placeholder(d);
	uw_buf raw = {0};
	int rc = -1;

	if (m == NULL || c->encode(m, &raw) != 0) {
		goto out;
	}
	if (strcmp(c->name, "jsv") == 0) {
		rc = gw_meta_jsv_indent(raw.data, raw.len, out);
	} else if (strcmp(c->name, "xml") == 0) {
		rc = xml_lines(raw.data, raw.len, out);
	} else {
		/* CSV ends each row with CRLF: show it as lines */
		rc = 0;
		for (size_t i = 0; i < raw.len && rc == 0; i++) {
			if (raw.data[i] != '\r') {
				rc = uw_buf_append(out, raw.data + i, 1);
			}
		}
		while (rc == 0 && out->len > 0 &&
		       out->data[out->len - 1] == '\n') {
			out->len--;
		}
	}
out:
	uw_buf_fini(&raw);
	if (m != NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * Page pieces
 */

/* The page's head and header; site: the service the page is about. */
static int
page_head(uw_buf *out, const char *title, const char *site)
{
	if (uw_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
			     "<meta charset=\"utf-8\">\n"
			     "<meta name=\"viewport\" content=\"width=device-"
			     "width, initial-scale=1\">\n<title>") != 0 ||
	    gw_meta_put_html(out, title) != 0 || uw_buf_puts(out, " | ") != 0 ||
	    gw_meta_put_html(out, site) != 0 ||
	    uw_buf_puts(out, "</title>\n<link rel=\"icon\" href=\"data:,\">\n"
			     "<style>") != 0 ||
	    uw_buf_puts(out, STYLE) != 0 ||
	    uw_buf_puts(out, "</style>\n</head>\n<body>\n<header><h1><a "
			     "href=\"/metadata\">") != 0 ||
	    gw_meta_put_html(out, site) != 0 ||
	    uw_buf_puts(out, "</a></h1></header>\n<main>\n") != 0) {
		return -1;
	}
	return 0;
}

static int
page_foot(uw_buf *out)
{
	if (uw_buf_puts(out, "<footer>DTOs:") != 0) {
		return -1;
	}
	for (size_t i = 0; i < GW_META_N_LANGS; i++) {
		if (gw_meta_printf(out, " <a href=\"/types/%s\">",
				   gw_meta_langs[i]) != 0 ||
		    gw_meta_put_html(
			out, gw_meta_lang_label(gw_meta_langs[i])) != 0 ||
		    uw_buf_puts(out, "</a>") != 0) {
			return -1;
		}
	}
	return uw_buf_puts(
	    out, " &middot; <a href=\"/types\">/types</a> &middot; "
		 "<a href=\"/openapi.json\">OpenAPI 3.1</a></footer>\n"
		 "</main>\n</body>\n</html>\n");
}

static int
put_op_link(uw_buf *out, const char *fmt, const char *op)
{
	return gw_meta_printf(out, "<a href=\"/%s/metadata?op=", fmt) != 0 ||
		       gw_meta_put_html(out, op) != 0 ||
		       uw_buf_puts(out, "\">") != 0 ||
		       uw_buf_puts(out, upper_name(fmt)) != 0 ||
		       uw_buf_puts(out, "</a>") != 0
		   ? -1
		   : 0;
}

int
gw_meta_html_index(uw_buf *out)
{
	if (page_head(out, "Operations", api_name()) != 0 ||
	    uw_buf_puts(out, "<h2>Operations</h2>\n<p>The following operations "
			     "are supported. Each has a page per format with "
			     "its parameters and sample requests and "
			     "responses.</p>\n<div class=\"scroll\"><table "
			     "class=\"ops\"><thead><tr><th>Operation</th>"
			     "<th>Routes</th><th>Formats</th></tr></thead>\n"
			     "<tbody>\n") != 0) {
		return -1;
	}
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		const char *name = m->desc->name;

		if (uw_buf_puts(out, "<tr><th><a href=\"/json/metadata?op=") !=
			0 ||
		    gw_meta_put_html(out, name) != 0 ||
		    uw_buf_puts(out, "\">") != 0 ||
		    gw_meta_put_html(out, name) != 0 ||
		    uw_buf_puts(out, "</a></th><td>") != 0) {
			return -1;
		}
		for (size_t r = 0; r < gw_meta_route_count(m); r++) {
			if ((r > 0 && uw_buf_puts(out, "<br>") != 0) ||
			    gw_meta_put_html(
				out, gw_meta_route_at(m, r)->method) != 0 ||
			    uw_buf_puts(out, " ") != 0 ||
			    gw_meta_put_html(
				out, gw_meta_route_at(m, r)->path) != 0) {
				return -1;
			}
		}
		if (uw_buf_puts(out, "</td><td class=\"fmt\">") != 0) {
			return -1;
		}
		for (size_t k = 0; k < GW_META_N_FORMATS; k++) {
			if ((k > 0 && uw_buf_puts(out, " ") != 0) ||
			    put_op_link(out, gw_meta_formats[k], name) != 0) {
				return -1;
			}
		}
		if (uw_buf_puts(out, "</td></tr>\n") != 0) {
			return -1;
		}
	}
	if (uw_buf_puts(out, "</tbody></table></div>\n<h2>RPC</h2>\n<p>Every "
			     "operation is also a method of <code>") != 0 ||
	    gw_meta_put_html(out, up_service()->name) != 0 ||
	    uw_buf_puts(out, "</code>, called with <code>POST /") != 0 ||
	    gw_meta_put_html(out, up_service()->name) != 0 ||
	    uw_buf_puts(
		out,
		"/{Method}</code> in Connect (<code>application/proto</code>, "
		"<code>application/json</code> in proto3's JSON mapping; "
		"<code>GET</code> for the methods without side effects) and in "
		"gRPC-Web (<code>application/grpc-web+proto</code>, "
		"<code>+json</code>, <code>application/grpc-web-text</code>), "
		"with credentials in the <code>Authorization</code> header. "
		"Plain gRPC is not served: it needs HTTP/2 trailers, which "
		"this gateway's HTTP server cannot send.</p>\n") != 0 ||
	    page_foot(out) != 0) {
		return -1;
	}
	return 0;
}

int
gw_meta_html_not_found(const char *what, uw_buf *out)
{
	if (page_head(out, "Not found", api_name()) != 0 ||
	    uw_buf_puts(out,
			"<p><a href=\"/metadata\">&lt;back to all web "
			"services</a></p>\n<h2>Not found</h2>\n<p>") != 0 ||
	    gw_meta_put_html(out, what) != 0 ||
	    uw_buf_puts(out, "</p>\n") != 0 || page_foot(out) != 0) {
		return -1;
	}
	return 0;
}

/* Whether the path of a route template has {name} (any letter case). */
static bool
route_has_var(const char *path, const char *name)
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

/*
 * Where a request's property is read, as ServiceStack's pages say it:
 * (param_in) when users.proto says; else "path" for a route's variable,
 * "body" when a route takes a body (POST, PUT), else "query". Other types'
 * properties are "form".
 */
static const char *
param_of(const up_method *m, const ProtobufCMessageDescriptor *d,
	 const ProtobufCFieldDescriptor *f)
{
	const char *in = gw_meta_field_param_in(d, f);
	bool body = false;

	if (d != m->desc->input) {
		return "form";
	}
	if (in != NULL) {
		return in;
	}
	for (size_t r = 0; r < m->n_routes; r++) {
		if (route_has_var(m->routes[r].path,
				  uw_field_json_name(d, f))) {
			return "path";
		}
		body = body || strcasecmp(m->routes[r].method, "POST") == 0 ||
		       strcasecmp(m->routes[r].method, "PUT") == 0;
	}
	return body ? "body" : "query";
}

/*
 * The table of d's properties: those d declares itself (base NULL), or
 * those its base class `base` declares (up_field_info.declared_in),
 * titled by that class.
 */
static int
params_table(uw_buf *out, const up_method *m,
	     const ProtobufCMessageDescriptor *d, const char *base)
{
	const up_message_info *mi = up_message_info_of(d);

	if (uw_buf_puts(out, "<h3>") != 0 ||
	    gw_meta_put_html(out, base != NULL ? base : d->short_name) != 0 ||
	    uw_buf_puts(out,
			" Parameters:</h3>\n<div class=\"scroll\">"
			"<table class=\"params\">"
			"<thead><tr><th>Name</th><th>Parameter</th>"
			"<th>Data Type</th><th>Required</th>"
			"<th>Description</th></tr></thead>\n<tbody>\n") != 0) {
		return -1;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const up_field_info *fi =
		    mi != NULL && i < mi->n_fields ? &mi->fields[i] : NULL;
		const char *declared = fi != NULL ? fi->declared_in : NULL;
		gw_meta_type t;

		if (base == NULL
			? declared != NULL
			: declared == NULL || strcmp(declared, base) != 0) {
			continue;
		}
		gw_meta_field_type(d, f, &t);
		if (uw_buf_puts(out, "<tr><td>") != 0 ||
		    gw_meta_put_html(out, uw_field_pascal_name(d, f)) != 0 ||
		    uw_buf_puts(out, "</td><td>") != 0 ||
		    gw_meta_put_html(
			out, base != NULL ? "form" : param_of(m, d, f)) != 0 ||
		    uw_buf_puts(out, "</td><td>") != 0) {
			return -1;
		}
		if (fi != NULL && fi->data_type != NULL) {
			if (gw_meta_put_html(out, fi->data_type) != 0) {
				return -1;
			}
		} else {
			uw_buf ty = {0};

			if (put_html_of(out, &ty,
					gw_meta_put_cs_type(&ty, &t)) != 0) {
				return -1;
			}
		}
		if (uw_buf_puts(out, "</td><td>") != 0 ||
		    uw_buf_puts(out,
				gw_meta_field_required(d, f) ? "Yes" : "No") !=
			0 ||
		    uw_buf_puts(out, "</td><td>") != 0 ||
		    gw_meta_put_html(out, gw_meta_field_description(d, f)) !=
			0 ||
		    uw_buf_puts(out, "</td></tr>\n") != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "</tbody></table></div>\n");
}

/* A message's table, then one per base class it derives from. */
static int
message_tables(uw_buf *out, const up_method *m,
	       const ProtobufCMessageDescriptor *d)
{
	const up_message_info *mi = up_message_info_of(d);

	if (params_table(out, m, d, NULL) != 0) {
		return -1;
	}
	for (size_t b = 0; mi != NULL && b < mi->n_bases; b++) {
		if (params_table(out, m, d, mi->bases[b]) != 0) {
			return -1;
		}
	}
	return 0;
}

static int
enum_table(uw_buf *out, const ProtobufCEnumDescriptor *e)
{
	bool numbers = up_enum_as_number(e);

	if (uw_buf_puts(out, "<h3>") != 0 ||
	    gw_meta_put_html(out, e->short_name) != 0 ||
	    uw_buf_puts(out, " Enum:</h3>\n<div class=\"scroll\"><table>") !=
		0 ||
	    (numbers && uw_buf_puts(out, "<thead><tr><th>Name</th><th>Value"
					 "</th></tr></thead>") != 0) ||
	    uw_buf_puts(out, "\n<tbody>\n") != 0) {
		return -1;
	}
	/* declared order: by value, as protobuf-c keeps them */
	for (unsigned i = 0; i < e->n_values; i++) {
		if (uw_buf_puts(out, "<tr><td>") != 0 ||
		    gw_meta_put_html(out, e->values[i].name) != 0 ||
		    (numbers && gw_meta_printf(out, "</td><td>%d",
					       e->values[i].value) != 0) ||
		    uw_buf_puts(out, "</td></tr>\n") != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "</tbody></table></div>\n");
}

static const char *
media_type(const uw_codec *c, char *buf, size_t size)
{
	const char *ct = c->content_type;
	size_t n = strcspn(ct, ";");

	if (n >= size) {
		n = size - 1;
	}
	memcpy(buf, ct, n);
	buf[n] = '\0';
	return buf;
}

/*
 * Who may do what the operation does: a row per aspect the policy names,
 * each of its rules in words (the same rules the daemon applies).
 */
static int
policy_table(uw_buf *out, const up_method *m)
{
	char text[512];

	if (m->n_rules == 0) {
		return 0;
	}
	if (uw_buf_puts(out,
			"<div class=\"scroll\"><table class=\"policy\">"
			"<thead><tr><th>Who may do what</th>"
			"<th>Allowed for</th></tr></thead><tbody>\n") != 0) {
		return -1;
	}
	for (int a = USERS__V1__ASPECT__CALL;
	     a <= USERS__V1__ASPECT__MEMBERSHIPS; a++) {
		bool first = true;

		for (size_t i = 0; i < m->n_rules; i++) {
			if ((int)m->rules[i].aspect != a) {
				continue;
			}
			up_rule_text(&m->rules[i], text, sizeof(text));
			if ((first &&
			     (uw_buf_puts(out, "<tr><th>") != 0 ||
			      gw_meta_put_html(out, up_aspect_label(a)) != 0 ||
			      uw_buf_puts(out, "</th><td>") != 0)) ||
			    (!first && uw_buf_puts(out, "<br>") != 0) ||
			    gw_meta_put_html(out, text) != 0) {
				return -1;
			}
			first = false;
		}
		if (!first && uw_buf_puts(out, "</td></tr>\n") != 0) {
			return -1;
		}
	}
	if (uw_buf_puts(out, "</tbody></table></div>\n<p class=\"legend\">") !=
		0 ||
	    gw_meta_put_html(out, up_policy_legend()) != 0 ||
	    uw_buf_puts(out, "</p>\n") != 0) {
		return -1;
	}
	return 0;
}

static int
samples(uw_buf *out, const up_method *m, const char *fmt, const char *host)
{
	const uw_codec *c = uw_codec_by_name(fmt, strlen(fmt));
	const uw_codec *shown;
	const char *verb = gw_meta_verb(m);
	const char *path = m->n_routes > 0 ? m->routes[0].path : NULL;
	char mt[96];
	char api_path[160];

	if (gw_meta_printf(out,
			   "<p>To override the Content-type in your clients, "
			   "use the HTTP Accept Header, append the .%s suffix "
			   "or ?format=%s</p>\n",
			   fmt, fmt) != 0) {
		return -1;
	}
	if (strcmp(fmt, "json") == 0 &&
	    uw_buf_puts(out, "<p>To embed the response in a jsonp callback, "
			     "append ?callback=myCallback</p>\n") != 0) {
		return -1;
	}
	if (gw_meta_printf(out, "<h3>HTTP + %s</h3>\n", upper_name(fmt)) != 0) {
		return -1;
	}
	if (c == NULL) {
		return gw_meta_printf(out,
				      "<p>This build of the gateway does not "
				      "speak %s yet.</p>\n",
				      upper_name(fmt));
	}
	/* The CSV page shows its bodies as JSON, as the seeds (000, 003)
	 * show ServiceStack's: a single object is no table, and the CSV
	 * reader takes JSON bodies too (docs/wire-formats.md, 6). */
	shown = strcmp(fmt, "csv") == 0 ? uw_codec_by_name("json", 4) : c;
	if (shown == NULL) {
		shown = c;
	}
	media_type(c, mt, sizeof(mt));
	if (path == NULL) {
		snprintf(api_path, sizeof(api_path), "/%s/reply/%s", fmt,
			 m->desc->name);
		path = api_path;
	}
	if (uw_buf_puts(out, "<p>The following are sample HTTP requests and "
			     "responses. The placeholders shown need to be "
			     "replaced with actual values.</p>\n<pre>") != 0 ||
	    gw_meta_put_html(out, verb) != 0 || uw_buf_puts(out, " ") != 0 ||
	    gw_meta_put_html(out, path) != 0 ||
	    uw_buf_puts(out, " HTTP/1.1\nHost: ") != 0 ||
	    gw_meta_put_html(out, host) != 0 ||
	    gw_meta_printf(out, "\nAccept: %s\n", mt) != 0) {
		return -1;
	}
	if (gw_meta_verb_has_body(verb)) {
		uw_buf body = {0};
		int rc;

		rc = gw_meta_printf(out,
				    "Content-Type: %s\nContent-Length: "
				    "length\n\n",
				    mt);
		if (rc == 0) {
			rc = gw_meta_sample(m->desc->input, shown, &body);
		}
		if (put_html_of(out, &body, rc) != 0) {
			return -1;
		}
	}
	if (uw_buf_puts(out, "</pre>\n<pre>HTTP/1.1 200 OK\n") != 0 ||
	    gw_meta_printf(out, "Content-Type: %s\nContent-Length: length\n\n",
			   mt) != 0) {
		return -1;
	}
	{
		uw_buf body = {0};

		if (put_html_of(
			out, &body,
			gw_meta_sample(m->desc->output, shown, &body)) != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "</pre>\n");
}

/* The language tabs: Metadata (the tables), then each DTO language. */
static int
lang_nav(uw_buf *out, const up_method *m, const char *fmt, const char *lang)
{
	const char *name = m->desc->name;

	if (uw_buf_puts(out, "<nav class=\"langs\">") != 0 ||
	    (lang == NULL ? uw_buf_puts(out, "<strong>Metadata</strong>")
			  : (gw_meta_printf(
				 out, "<a href=\"/%s/metadata?op=", fmt) != 0 ||
			     gw_meta_put_html(out, name) != 0 ||
			     uw_buf_puts(out, "\">Metadata</a>") != 0)) != 0) {
		return -1;
	}
	for (size_t i = 0; i < GW_META_N_LANGS; i++) {
		const char *l = gw_meta_langs[i];
		const char *label = gw_meta_lang_label(l);

		if (uw_buf_puts(out, " ") != 0) {
			return -1;
		}
		if (lang != NULL && strcmp(lang, l) == 0) {
			if (uw_buf_puts(out, "<strong>") != 0 ||
			    gw_meta_put_html(out, label) != 0 ||
			    uw_buf_puts(out, "</strong>") != 0) {
				return -1;
			}
			continue;
		}
		if (gw_meta_printf(out, "<a href=\"/%s/metadata?op=", fmt) !=
			0 ||
		    gw_meta_put_html(out, name) != 0 ||
		    gw_meta_printf(out, "&amp;lang=%s\">", l) != 0 ||
		    gw_meta_put_html(out, label) != 0 ||
		    uw_buf_puts(out, "</a>") != 0) {
			return -1;
		}
	}
	return uw_buf_puts(out, "</nav>\n");
}

/*
 * The operation's DTOs in lang (what /types/{lang}?IncludeTypes=Op.*
 * holds, without its Options header), and the link to that file.
 */
static int
lang_code(uw_buf *out, const up_method *m, const char *lang)
{
	const char *name = m->desc->name;
	gw_meta_opts o;
	uw_buf code = {0};

	gw_meta_opts_init(&o, "");
	o.without_options = true;
	o.has_include = true;
	snprintf(o.include_types, sizeof(o.include_types), "%s.*", name);
	if (uw_buf_puts(out, "<pre><code>") != 0 ||
	    put_html_of(out, &code, gw_meta_types(lang, &o, &code)) != 0 ||
	    gw_meta_printf(out,
			   "</code></pre>\n<p><a href=\"/types/%s"
			   "?IncludeTypes=",
			   lang) != 0 ||
	    gw_meta_put_html(out, name) != 0 ||
	    uw_buf_puts(out, ".*\">") != 0 ||
	    gw_meta_put_html(out, gw_meta_lang_label(lang)) != 0 ||
	    uw_buf_puts(out, " ") != 0 || gw_meta_put_html(out, name) != 0 ||
	    uw_buf_puts(out, " DTOs</a></p>\n") != 0) {
		return -1;
	}
	return 0;
}

int
gw_meta_html_op(const up_method *m, const char *fmt, const char *lang,
		const char *host, uw_buf *out)
{
	const char *name = m->desc->name;
	gw_meta_set *set = calloc(1, sizeof(*set));
	int rc = -1;

	if (set == NULL) {
		return -1;
	}
	if (lang != NULL && gw_meta_lang_label(lang) == NULL) {
		lang = NULL;
	}
	/* the request's types, then the response's, as the seeds order them */
	if (gw_meta_collect(set, m->desc->input, GW_META_SKIP_SS_NESTED) != 0 ||
	    gw_meta_collect(set, m->desc->output, GW_META_SKIP_SS_NESTED) !=
		0) {
		goto out;
	}
	if (page_head(out, name,
		      m->service_name[0] != '\0' ? m->service_name
						 : api_name()) != 0 ||
	    uw_buf_puts(out, "<p><a href=\"/metadata\">&lt;back to all web "
			     "services</a></p>\n<h2>") != 0 ||
	    gw_meta_put_html(out, name) != 0 || uw_buf_puts(out, "</h2>\n")) {
		goto out;
	}
	if (m->description[0] != '\0' &&
	    (uw_buf_puts(out, "<p>") != 0 ||
	     gw_meta_put_html(out, m->description) != 0 ||
	     uw_buf_puts(out, "</p>\n") != 0)) {
		goto out;
	}
	if (uw_buf_puts(out, "<nav>") != 0) {
		goto out;
	}
	for (size_t k = 0; k < GW_META_N_FORMATS; k++) {
		const char *f = gw_meta_formats[k];

		if (strcmp(f, fmt) == 0
			? gw_meta_printf(out, "<strong>%s</strong> ",
					 upper_name(f)) != 0
			: (put_op_link(out, f, name) != 0 ||
			   uw_buf_puts(out, " ") != 0)) {
			goto out;
		}
	}
	if (uw_buf_puts(out, "</nav>\n") != 0) {
		goto out;
	}
	if (!m->auth_none &&
	    uw_buf_puts(
		out, "<p class=\"auth\">Requires Authentication</p>\n") != 0) {
		goto out;
	}
	if (m->n_roles > 0) {
		if (uw_buf_puts(
			out, "<div class=\"scroll\"><table><tbody><tr>"
			     "<th>Requires any of the roles:</th><td>") != 0) {
			goto out;
		}
		for (size_t r = 0; r < m->n_roles; r++) {
			if ((r > 0 && uw_buf_puts(out, ", ") != 0) ||
			    gw_meta_put_html(out, m->roles[r]) != 0) {
				goto out;
			}
		}
		if (uw_buf_puts(out, "</td></tr></tbody></table></div>\n") !=
		    0) {
			goto out;
		}
	}
	if (policy_table(out, m) != 0 ||
	    uw_buf_puts(out, "<p>The following routes are available for this "
			     "service:</p>\n<div class=\"scroll\"><table>"
			     "<tbody>\n") != 0) {
		goto out;
	}
	for (size_t r = 0; r < gw_meta_route_count(m); r++) {
		const up_route *ro = gw_meta_route_at(m, r);

		if (uw_buf_puts(out, "<tr><th>") != 0 ||
		    gw_meta_put_html(out, ro->method) != 0 ||
		    uw_buf_puts(out, "</th><td>") != 0 ||
		    gw_meta_put_html(out, ro->path) != 0 ||
		    uw_buf_puts(out, "</td><td>") != 0 ||
		    gw_meta_put_html(out, ro->summary) != 0 ||
		    uw_buf_puts(out, "</td></tr>\n") != 0) {
			goto out;
		}
	}
	if (uw_buf_puts(out, "</tbody></table></div>\n<p class=\"rpc\">As an "
			     "RPC (Connect, gRPC-Web): <code>POST /") != 0 ||
	    gw_meta_put_html(out, up_service()->name) != 0 ||
	    uw_buf_puts(out, "/") != 0 || gw_meta_put_html(out, name) != 0 ||
	    uw_buf_puts(out, m->no_side_effects
				 ? "</code>, or <code>GET</code> with the "
				   "message in the query (Connect).</p>\n"
				 : "</code>.</p>\n") != 0 ||
	    lang_nav(out, m, fmt, lang) != 0) {
		goto out;
	}
	if (lang != NULL) {
		if (lang_code(out, m, lang) != 0) {
			goto out;
		}
	} else {
		for (size_t i = 0; i < set->n; i++) {
			const gw_meta_ref *ref = &set->refs[i];

			if (ref->msg != NULL
				? message_tables(out, m, ref->msg) != 0
				: enum_table(out, ref->en) != 0) {
				goto out;
			}
		}
	}
	if (samples(out, m, fmt, host) != 0 || page_foot(out) != 0) {
		goto out;
	}
	rc = 0;
out:
	free(set);
	return rc;
}
