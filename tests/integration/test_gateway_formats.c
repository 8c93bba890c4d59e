/*
 * test_gateway_formats.c - every route in every format, end to end: a
 * real usersd (harness) and a real usersgw on an ephemeral loopback port,
 * HTTP/1.1 over real sockets.
 *
 * For every documented route of users.proto (read from up_meta, so a new
 * route without a case here fails the test) and each of JSON, XML, JSV and
 * CSV, by the path suffix (/users/7.xml) and by /{fmt}/reply/{Op}: one
 * success and one error (400, 401 or 404), each with the format's exact
 * Content-Type (and Content-Disposition for CSV), Vary: Accept, and a body
 * that decodes with the gateway's own codec of that format into the
 * operation's response (or ErrorResponse) and says what it should; the
 * request bodies are written with the same codec. Then JSONP on every
 * route (a success, an error answered 200 inside the callback, a bad
 * callback name answered 400), GET /auth in every format, and the
 * negotiation rules over the wire (Accept with q-values and ranges, the
 * body's format, 406, 415 in the chosen format, predefined routes
 * ignoring Accept).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "users_wire.h"
#include "gw_harness.h"
#include "harness.h"

#define PW         "password-123"
#define MISSING_ID "999999"
#define NO_ORG     "00000000000000000000000000000001"
#define BIG        8192

/* ------------------------------------------------------------------------
 * The daemon (usersgw and the HTTP client: gw_harness.h)
 */

static th_daemon daemon_;

/* ------------------------------------------------------------------------
 * What each operation is asked, and what it must answer
 */

/*
 * In the strings below: {id} a user of the test, {fresh} a user made for
 * this one request, {org} an organization of the test, {n} a number new to
 * each request, {ref} the admin's refresh token (of a sign-in made for this
 * one request: a refresh token is used once), {big} a string one byte
 * longer than a refresh token may be.
 */
typedef struct op_case {
	const char *vars;   /* path variables, form-encoded */
	const char *fields; /* the body's fields (the query on GET/DELETE) */
	const char *query;  /* added to the query string as it is */
	int status;
	const char *code; /* errorCode; NULL: any, the reason phrase */
	/* on success: "a.b=value" or "a.b?" (present); NULL: none */
	const char *check;
} op_case;

typedef enum op_setup {
	SETUP_NONE,
	SETUP_FRESH_USER,   /* {fresh}: a new user */
	SETUP_FRESH_MEMBER, /* {fresh}: a new user, member of {org} */
	SETUP_SIGN_IN,      /* {ref}: the refresh token of a new sign-in */
} op_setup;

typedef struct op_spec {
	const char *op;
	op_setup setup;
	op_case ok, err;
} op_spec;

static const op_spec ops[] = {
    {"NewUser",
     SETUP_NONE,
     {NULL,
      "emailAddress=f{n}%40example.com&password=" PW
      "&firstName=Fmt&lastName=User",
      NULL, 200, NULL, "emailAddress=f{n}@example.com"},
     {NULL, "password=" PW, NULL, 400, "NotEmpty", NULL}},
    {"PatchUser",
     SETUP_NONE,
     {"userId={id}", "firstName=P{n}", NULL, 200, NULL, "firstName=P{n}"},
     {"userId=" MISSING_ID, "firstName=X", NULL, 404, "NotFound", NULL}},
    {"GetUser",
     SETUP_NONE,
     {"userId={id}", NULL, NULL, 200, NULL, "id={id}"},
     {"userId=" MISSING_ID, NULL, NULL, 404, "NotFound", NULL}},
    {"ListUsers",
     SETUP_NONE,
     {NULL, "take=1", NULL, 200, NULL, "id?"},
     {NULL, NULL, "take=abc", 400, "SerializationException", NULL}},
    {"DeleteUser",
     SETUP_FRESH_USER,
     {"userId={fresh}", NULL, NULL, 200, NULL, "id={fresh}"},
     {"userId=" MISSING_ID, NULL, NULL, 404, "NotFound", NULL}},
    {"ImportUsers",
     SETUP_NONE,
     /* rows are nested messages, which form fields cannot carry:
      * test_import sends them */
     {NULL, NULL, NULL, 200, NULL, "created=0"},
     {NULL, NULL, "users=abc", 400, "SerializationException", NULL}},
    {"ExportUsers",
     SETUP_NONE,
     {NULL, "take=1", NULL, 200, NULL, "emailAddress?"},
     {NULL, NULL, "after=zzz", 400, "InvalidCursor", NULL}},
    {"UpdateBusinessUser",
     SETUP_NONE,
     {NULL,
      "userId={id}&firstName=Biz&lastName=User&email=biz{n}%40example.com"
      "&phoneNumber=%2B15550100&roles=Manager&version=1",
      NULL, 200, NULL, "data.email=biz{n}@example.com"},
     {NULL, "userId=0", NULL, 400, NULL, NULL}},
    {"CreateOrganization",
     SETUP_NONE,
     {NULL, "name=Org{n}", NULL, 200, NULL, "name=Org{n}"},
     {NULL, "type=20", NULL, 400, "NotEmpty", NULL}},
    {"GetOrganization",
     SETUP_NONE,
     {"id={org}", NULL, NULL, 200, NULL, "name=FmtOrg"},
     {"id=" NO_ORG, NULL, NULL, 404, "NotFound", NULL}},
    {"ListOrganizations",
     SETUP_NONE,
     {NULL, NULL, NULL, 200, NULL, "id?"},
     {NULL, NULL, "skip=abc", 400, "SerializationException", NULL}},
    {"AddOrganizationMember",
     SETUP_FRESH_USER,
     {"organizationId={org}&userId={fresh}", NULL, NULL, 200, NULL,
      "userId={fresh}"},
     {"organizationId=" NO_ORG "&userId={id}", NULL, NULL, 404, "NotFound",
      NULL}},
    {"RemoveOrganizationMember",
     SETUP_FRESH_MEMBER,
     {"organizationId={org}&userId={fresh}", NULL, NULL, 200, NULL,
      "userId={fresh}"},
     {"organizationId=" NO_ORG "&userId={id}", NULL, NULL, 404, "NotFound",
      NULL}},
    {"Authenticate",
     SETUP_NONE,
     {NULL, "userName=admin%40example.com&password=" TH_ADMIN_PASSWORD, NULL,
      200, NULL, "userId=" TH_ADMIN_ID},
     {NULL, "password=x", NULL, 400, NULL, NULL}},
    {"GetAccessToken",
     SETUP_SIGN_IN,
     {NULL, "refreshToken={ref}", NULL, 200, NULL, "refreshToken?"},
     {NULL, "refreshToken=not-a-token", NULL, 401, NULL, NULL}},
    {"Logout",
     SETUP_SIGN_IN,
     {NULL, "refreshToken={ref}", NULL, 200, NULL, NULL},
     {NULL, "refreshToken={big}", NULL, 400, "MaximumLength", NULL}},
};

static const char *const request_types[][2] = {
    {"json", "application/json"},
    {"xml", "application/xml"},
    {"jsv", "text/jsv"},
    {"csv", "text/csv"},
};

static gwh_proc gw;
static char admin_tok[4096], admin_ref[4096], big[BIG + 2];
static char user_id[24], org_id[40], fresh_id[24];
static unsigned counter;

static const op_spec *
spec_of(const char *op)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(ops[i].op, op) == 0) {
			return &ops[i];
		}
	}
	return NULL;
}

static const char *
request_type(const uw_codec *c)
{
	for (size_t i = 0; i < sizeof(request_types) / sizeof(request_types[0]);
	     i++) {
		if (strcmp(request_types[i][0], c->name) == 0) {
			return request_types[i][1];
		}
	}
	return "application/octet-stream";
}

/* t with the {...} names replaced, into out. NULL t: "". */
static void
expand(const char *t, char *out, size_t size)
{
	static const char *const names[] = {"{id}", "{fresh}", "{org}",
					    "{n}",  "{ref}",   "{big}"};
	char n[16];
	const char *values[6];
	size_t len = 0;

	snprintf(n, sizeof(n), "%u", counter);
	values[0] = user_id;
	values[1] = fresh_id;
	values[2] = org_id;
	values[3] = n;
	values[4] = admin_ref;
	values[5] = big;
	out[0] = '\0';
	while (t != NULL && *t != '\0' && len + 1 < size) {
		bool done = false;

		for (size_t i = 0; i < 6 && !done; i++) {
			size_t nl = strlen(names[i]);

			if (strncmp(t, names[i], nl) == 0) {
				int k = snprintf(out + len, size - len, "%s",
						 values[i]);

				len += k > 0 ? (size_t)k : 0;
				if (len >= size) {
					len = size - 1;
				}
				t += nl;
				done = true;
			}
		}
		if (!done) {
			out[len++] = *t++;
		}
	}
	out[len] = '\0';
}

/* ------------------------------------------------------------------------
 * Requests and answers
 */

/* Bearer token of the admin, a Content-Type when ct, extra (or NULL). */
static void
send_req(const char *method, const char *path, const char *ct,
	 const char *extra, const char *body, gwh_res *r)
{
	char auth[4200], cth[128];
	const char *h[4];
	size_t n = 0;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_tok);
	h[n++] = auth;
	if (ct != NULL) {
		snprintf(cth, sizeof(cth), "Content-Type: %s", ct);
		h[n++] = cth;
	}
	if (extra != NULL) {
		h[n++] = extra;
	}
	h[n] = NULL;
	gwh_http(gw.port, method, path, h, body, r);
}

/* POST /users in JSON; the new id into id (24 bytes). 0 or -1. */
static int
make_user(char *id)
{
	char body[256];
	gwh_res r;
	json_t *v;
	int rc = -1;

	counter++;
	snprintf(body, sizeof(body),
		 "{\"emailAddress\":\"setup%u@example.com\",\"password\":\"" PW
		 "\"}",
		 counter);
	send_req("POST", "/users", "application/json", NULL, body, &r);
	v = json_object_get(r.json, "id");
	if (r.status == 200 && json_is_string(v)) {
		snprintf(id, 24, "%s", json_string_value(v));
		rc = 0;
	}
	gwh_res_fini(&r);
	return rc;
}

static int
make_member(const char *org, const char *user)
{
	char path[256];
	gwh_res r;
	int st;

	snprintf(path, sizeof(path), "/organizations/%s/members/%s", org, user);
	send_req("POST", path, NULL, NULL, NULL, &r);
	st = r.status;
	gwh_res_fini(&r);
	return st == 200 ? 0 : -1;
}

/* A message of d from form-encoded vars then fields. NULL on failure. */
static ProtobufCMessage *
request_msg(const ProtobufCMessageDescriptor *d, const char *vars,
	    const char *fields)
{
	ProtobufCMessage *m = uw_msg_new(d);
	uw_decode_error err;

	if (m == NULL ||
	    uw_msg_set_form(m, vars, strlen(vars), false, NULL, &err) != 0 ||
	    uw_msg_set_form(m, fields, strlen(fields), false, NULL, &err) !=
		0) {
		fprintf(stderr, "request %s: %s\n", d->name,
			m != NULL ? err.message : "no memory");
		if (m != NULL) {
			protobuf_c_message_free_unpacked(m, NULL);
		}
		return NULL;
	}
	return m;
}

/* msg in codec c into a malloc'd string (NULL on failure). */
static char *
encode_body(const uw_codec *c, const ProtobufCMessage *msg)
{
	uw_buf b = {0};
	char *s = NULL;

	if (c->encode(msg, &b) == 0 && b.data != NULL) {
		s = strdup(b.data);
	}
	uw_buf_fini(&b);
	return s;
}

/*
 * body decoded with codec c into a message of d, written back as JSON and
 * parsed: a view of what the body says. NULL when it does not decode.
 */
static json_t *
as_json(const uw_codec *c, const ProtobufCMessageDescriptor *d,
	const char *body, size_t len)
{
	ProtobufCMessage *m = uw_msg_new(d);
	uw_decode_error err;
	uw_buf b = {0};
	json_t *j = NULL;

	memset(&err, 0, sizeof(err));
	if (m == NULL) {
		return NULL;
	}
	if (c->decode(m, body != NULL ? body : "", len, NULL, &err) != 0) {
		fprintf(stderr, "decode as %s %s: %s\n", c->name, d->name,
			err.message);
		goto out;
	}
	if (uw_codec_json.encode(m, &b) == 0 && b.data != NULL) {
		j = json_loadb(b.data, b.len, 0, NULL);
	}
out:
	uw_buf_fini(&b);
	protobuf_c_message_free_unpacked(m, NULL);
	return j;
}

static const ProtobufCFieldDescriptor *
results_field(const ProtobufCMessageDescriptor *d)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(d, "results");

	return f != NULL && f->label == PROTOBUF_C_LABEL_REPEATED &&
		       f->type == PROTOBUF_C_TYPE_MESSAGE
		   ? f
		   : NULL;
}

/* The message an error answer is in (as gw_request.c's send_status). */
static const ProtobufCMessageDescriptor *
error_shape(const ProtobufCMessageDescriptor *out, const uw_codec *c)
{
	if (protobuf_c_message_descriptor_get_field_by_name(
		out, "response_status") != NULL &&
	    (strcmp(c->name, "xml") == 0 || strcmp(c->name, "csv") == 0)) {
		return out;
	}
	return &users__v1__error_response__descriptor;
}

/* "a.b" in j. */
static json_t *
json_path(json_t *j, const char *path)
{
	char buf[128];
	char *p = buf;

	snprintf(buf, sizeof(buf), "%s", path);
	while (j != NULL && p != NULL) {
		char *dot = strchr(p, '.');

		if (dot != NULL) {
			*dot = '\0';
		}
		j = json_object_get(j, p);
		p = dot != NULL ? dot + 1 : NULL;
	}
	return j;
}

/* check ("a.b=value" or "a.b?") holds in j. */
static bool
check_holds(json_t *j, const char *check)
{
	char path[128], num[32];
	const char *eq = strchr(check, '=');
	size_t pl = eq != NULL ? (size_t)(eq - check) : strlen(check) - 1;
	json_t *v;

	if (pl >= sizeof(path)) {
		return false;
	}
	memcpy(path, check, pl);
	path[pl] = '\0';
	v = json_path(j, path);
	if (eq == NULL) {
		return v != NULL && !json_is_null(v);
	}
	if (json_is_string(v)) {
		return strcmp(json_string_value(v), eq + 1) == 0;
	}
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(v));
		return strcmp(num, eq + 1) == 0;
	}
	return false;
}

static bool
header_is(const gwh_res *r, const char *name, const char *value)
{
	char buf[512];

	return gwh_header(r, name, 0, buf, sizeof(buf)) != NULL &&
	       strcmp(buf, value) == 0;
}

static int failures_shown;

static void
show(const char *what, const gwh_res *r)
{
	if (failures_shown++ < 20) {
		fprintf(stderr, "  %s: %d %s\n  %.*s\n", what, r->status,
			r->reason, r->body_len > 600 ? 600 : (int)r->body_len,
			r->body != NULL ? r->body : "");
	}
}

/*
 * Checks an answer of m in format c (jsonp: wrapped in "cb(...)"): the
 * status, reason, Content-Type, Vary, CSV's Content-Disposition, and a
 * body that decodes with c and says what oc expects.
 */
static bool
check_answer(const char *what, const up_method *m, const uw_codec *c,
	     bool jsonp, const op_case *oc, const gwh_res *r)
{
	const ProtobufCMessageDescriptor *out = m->desc->output;
	const ProtobufCMessageDescriptor *shape;
	const ProtobufCFieldDescriptor *rf = results_field(out);
	const char *body = r->body;
	size_t len = r->body_len;
	char check[512], cd[128];
	json_t *j = NULL, *view;
	bool ok = true;

	if (r->status != (jsonp ? 200 : oc->status)) {
		fprintf(stderr, "%s: status %d, expected %d\n", what, r->status,
			jsonp ? 200 : oc->status);
		ok = false;
	}
	if (!header_is(r, "content-type",
		       jsonp ? "text/javascript; charset=utf-8"
			     : c->content_type) ||
	    !header_is(r, "vary", "Accept")) {
		fprintf(stderr, "%s: Content-Type or Vary\n", what);
		ok = false;
	}
	snprintf(cd, sizeof(cd), "attachment;filename=\"%s.csv\"",
		 m->desc->name);
	if (!jsonp && strcmp(c->name, "csv") == 0 &&
	    !header_is(r, "content-disposition", cd)) {
		fprintf(stderr, "%s: Content-Disposition\n", what);
		ok = false;
	}
	if (jsonp) {
		if (len < 4 || strncmp(body, "cb(", 3) != 0 ||
		    body[len - 1] != ')') {
			fprintf(stderr, "%s: not cb(...)\n", what);
			show(what, r);
			return false;
		}
		body += 3;
		len -= 4;
	}
	if (oc->status == 200) {
		shape = rf != NULL && strcmp(c->name, "csv") == 0
			    ? rf->descriptor
			    : out;
	} else {
		shape = error_shape(out, jsonp ? &uw_codec_json : c);
	}
	j = as_json(c, shape, body, len);
	if (j == NULL) {
		fprintf(stderr, "%s: the body does not decode as %s %s\n", what,
			c->name, shape->name);
		ok = false;
	} else if (oc->status == 200) {
		view = rf != NULL && shape == out
			   ? json_array_get(json_object_get(j, "results"), 0)
			   : j;
		expand(oc->check, check, sizeof(check));
		if (oc->check != NULL && !check_holds(view, check)) {
			fprintf(stderr, "%s: %s does not hold\n", what, check);
			ok = false;
		}
	} else {
		const char *code =
		    json_string_value(json_path(j, "responseStatus.errorCode"));

		if (code == NULL || code[0] == '\0' ||
		    (oc->code != NULL && strcmp(code, oc->code) != 0) ||
		    (!jsonp && strcmp(code, r->reason) != 0) ||
		    !json_is_array(json_path(j, "responseStatus.errors"))) {
			fprintf(stderr,
				"%s: errorCode %s, expected %s (reason %s)\n",
				what, code != NULL ? code : "(none)",
				oc->code != NULL ? oc->code : "any", r->reason);
			ok = false;
		}
	}
	if (!ok) {
		show(what, r);
	}
	if (j != NULL) {
		json_decref(j);
	}
	return ok;
}

/* A new sign-in of the admin: its refresh token into admin_ref. 0 or -1. */
static int
sign_in(void)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	const char *ref;
	gwh_res r;
	int rc = -1;

	gwh_http(gw.port, "POST", "/auth/credentials", h,
		 "{\"userName\":\"" TH_ADMIN_EMAIL
		 "\",\"password\":\"" TH_ADMIN_PASSWORD "\"}",
		 &r);
	ref = json_string_value(json_object_get(r.json, "refreshToken"));
	if (r.status == 200 && ref != NULL) {
		snprintf(admin_ref, sizeof(admin_ref), "%s", ref);
		rc = 0;
	}
	gwh_res_fini(&r);
	return rc;
}

/* What an operation needs: a fresh user (and membership), a sign-in.
 * 0 or -1. */
static int
setup(const op_spec *s)
{
	fresh_id[0] = '\0';
	if (s->setup == SETUP_NONE) {
		return 0;
	}
	if (s->setup == SETUP_SIGN_IN) {
		return sign_in();
	}
	if (make_user(fresh_id) != 0) {
		return -1;
	}
	if (s->setup == SETUP_FRESH_MEMBER) {
		return make_member(org_id, fresh_id);
	}
	return 0;
}

/* {name} segments of t filled from form-encoded vars; sfx after it. */
static void
fill_path(const char *t, const char *vars, const char *sfx, char *out,
	  size_t size)
{
	size_t len = 0;

	while (*t != '\0' && len + 1 < size) {
		const char *close;

		if (*t == '{' && (close = strchr(t, '}')) != NULL) {
			size_t nl = (size_t)(close - t - 1);
			const char *p = vars;

			while (p != NULL && *p != '\0') {
				const char *amp = strchr(p, '&');
				const char *eq = strchr(p, '=');
				size_t vl;

				if (eq != NULL && (size_t)(eq - p) == nl &&
				    strncmp(p, t + 1, nl) == 0) {
					vl = amp != NULL
						 ? (size_t)(amp - eq - 1)
						 : strlen(eq + 1);
					if (len + vl < size) {
						memcpy(out + len, eq + 1, vl);
						len += vl;
					}
				}
				p = amp != NULL ? amp + 1 : NULL;
			}
			t = close + 1;
			continue;
		}
		out[len++] = *t++;
	}
	out[len] = '\0';
	snprintf(out + len, size - len, "%s", sfx);
}

static bool
has_body_method(const char *verb)
{
	return strcmp(verb, "POST") == 0 || strcmp(verb, "PUT") == 0 ||
	       strcmp(verb, "PATCH") == 0;
}

/*
 * One request of m: by the documented route rt with the format's suffix
 * (rt != NULL), else by /{fmt}/reply/{Op}; in format c, or as JSONP
 * (documented route, no suffix, JSON body). Checks the answer.
 */
static void
one(const up_method *m, const up_route *rt, const uw_codec *c, bool jsonp,
    const op_spec *s, const op_case *oc)
{
	char vars[512], fields[BIG + 256], query[BIG + 512], path[BIG + 1024];
	char what[256];
	char sfx[8];
	const char *verb = rt != NULL ? rt->method : "POST";
	ProtobufCMessage *msg = NULL;
	char *body = NULL;
	bool fields_in_body;
	gwh_res r;

	memset(&r, 0, sizeof(r));
	if (setup(s) != 0) {
		fprintf(stderr, "%s: setup failed\n", s->op);
		CHECK(false);
		return;
	}
	counter++;
	expand(oc->vars, vars, sizeof(vars));
	expand(oc->fields, fields, sizeof(fields));
	expand(oc->query, query, sizeof(query));
	snprintf(what, sizeof(what), "%s %s %s%s%s",
		 oc->status == 200 ? "success" : "error", s->op,
		 jsonp ? "jsonp" : c->name,
		 rt == NULL ? " by /reply"
		 : jsonp    ? " on "
			    : " by suffix on ",
		 rt != NULL ? rt->path : "");
	fields_in_body = rt == NULL || has_body_method(verb);
	if (fields_in_body && (vars[0] != '\0' || fields[0] != '\0')) {
		msg =
		    request_msg(m->desc->input, rt != NULL ? "" : vars, fields);
		if (msg != NULL && (rt == NULL || fields[0] != '\0')) {
			body = encode_body(jsonp ? &uw_codec_json : c, msg);
			CHECK(body != NULL);
		}
	}
	if (!fields_in_body && fields[0] != '\0') {
		size_t ql = strlen(query);

		snprintf(query + ql, sizeof(query) - ql, "%s%s",
			 ql > 0 ? "&" : "", fields);
	}
	if (jsonp) {
		size_t ql = strlen(query);

		snprintf(query + ql, sizeof(query) - ql, "%scallback=cb",
			 ql > 0 ? "&" : "");
	}
	if (rt != NULL) {
		snprintf(sfx, sizeof(sfx), "%s%s", jsonp ? "" : ".",
			 jsonp ? "" : c->name);
		fill_path(rt->path, vars, sfx, path, sizeof(path) - 8);
	} else {
		snprintf(path, sizeof(path), "/%s/reply/%s", c->name,
			 m->desc->name);
	}
	if (query[0] != '\0') {
		size_t pl = strlen(path);

		snprintf(path + pl, sizeof(path) - pl, "?%s", query);
	}
	send_req(verb, path,
		 body != NULL ? request_type(jsonp ? &uw_codec_json : c) : NULL,
		 NULL, body, &r);
	CHECK(check_answer(what, m, jsonp ? &uw_codec_json : c, jsonp, oc, &r));
	gwh_res_fini(&r);
	free(body);
	if (msg != NULL) {
		protobuf_c_message_free_unpacked(msg, NULL);
	}
}

/* ------------------------------------------------------------------------
 * Tests
 */

/* Every documented route, every format, by suffix and by /reply. */
static void
test_every_route(void)
{
	size_t routes = 0;

	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		const op_spec *s = spec_of(m->desc->name);

		if (s == NULL) {
			fprintf(stderr, "no case for %s: add one to ops[]\n",
				m->desc->name);
			CHECK(false);
			continue;
		}
		for (size_t f = 0; uw_codecs[f] != NULL; f++) {
			for (size_t k = 0; k < m->n_routes; k++) {
				one(m, &m->routes[k], uw_codecs[f], false, s,
				    &s->ok);
				one(m, &m->routes[k], uw_codecs[f], false, s,
				    &s->err);
			}
			one(m, NULL, uw_codecs[f], false, s, &s->ok);
			one(m, NULL, uw_codecs[f], false, s, &s->err);
		}
		routes += m->n_routes;
	}
	CHECK(routes >= 13);
	fprintf(stderr, "test_every_route: %zu routes of %zu operations\n",
		routes, up_method_count());
}

/* JSONP on every route: success, error inside a 200, bad callback 400. */
static void
test_jsonp(void)
{
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		const op_spec *s = spec_of(m->desc->name);
		char path[512];
		gwh_res r;

		if (s == NULL || m->n_routes == 0) {
			continue;
		}
		one(m, &m->routes[0], &uw_codec_json, true, s, &s->ok);
		one(m, &m->routes[0], &uw_codec_json, true, s, &s->err);
		fill_path(m->routes[0].path, "userId=1&id=1&organizationId=1",
			  "?callback=alert(1)", path, sizeof(path));
		send_req(m->routes[0].method, path, NULL, NULL, NULL, &r);
		CHECK_INT(r.status, 400);
		CHECK_STR(r.reason, "ArgumentException");
		CHECK(
		    header_is(&r, "content-type", uw_codec_json.content_type));
		CHECK_STR(json_string_value(
			      json_path(r.json, "responseStatus.errorCode")),
			  "ArgumentException");
		CHECK_STR(
		    json_string_value(json_object_get(
			json_array_get(
			    json_path(r.json, "responseStatus.errors"), 0),
			"fieldName")),
		    "Callback");
		gwh_res_fini(&r);
	}
}

/* GET /auth (the gateway's own route) in every format. */
static void
test_session(void)
{
	for (size_t f = 0; uw_codecs[f] != NULL; f++) {
		const uw_codec *c = uw_codecs[f];
		char path[64];
		json_t *j;
		gwh_res r;

		snprintf(path, sizeof(path), "/auth.%s", c->name);
		send_req("GET", path, NULL, NULL, NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK(header_is(&r, "content-type", c->content_type));
		j = as_json(c, &users__v1__authenticate_response__descriptor,
			    r.body, r.body_len);
		CHECK(j != NULL && check_holds(j, "userId=" TH_ADMIN_ID));
		if (j != NULL) {
			json_decref(j);
		}
		gwh_res_fini(&r);

		gwh_http(gw.port, "GET", path, NULL, NULL, &r);
		CHECK_INT(r.status, 401);
		CHECK_STR(r.reason, "Unauthorized");
		CHECK(header_is(&r, "content-type", c->content_type));
		j = as_json(
		    c,
		    error_shape(&users__v1__authenticate_response__descriptor,
				c),
		    r.body, r.body_len);
		CHECK(j != NULL);
		CHECK_STR(
		    json_string_value(json_path(j, "responseStatus.errorCode")),
		    "Unauthorized");
		if (j != NULL) {
			json_decref(j);
		}
		gwh_res_fini(&r);
	}
}

/* GET path with an Accept (NULL: none): the Content-Type answered. */
static void
expect_ct(const char *path, const char *accept, int status, const char *ct)
{
	char a[512];
	gwh_res r;

	if (accept != NULL) {
		snprintf(a, sizeof(a), "Accept: %s", accept);
	}
	send_req("GET", path, NULL, accept != NULL ? a : NULL, NULL, &r);
	if (r.status != status || !header_is(&r, "content-type", ct)) {
		fprintf(stderr, "GET %s Accept: %s -> %d, expected %d %s\n",
			path, accept != NULL ? accept : "(none)", r.status,
			status, ct);
		show(path, &r);
		CHECK(false);
	} else {
		CHECK(true);
	}
	gwh_res_fini(&r);
}

/* The rules of docs/wire-formats.md, section 2, over the wire. */
static void
test_negotiation(void)
{
	const char *json = uw_codec_json.content_type;
	const char *xml = uw_codec_xml.content_type;
	const char *jsv = uw_codec_jsv.content_type;
	const char *csv = uw_codec_csv.content_type;
	char path[256], cb[128], body[256];
	gwh_res r;

	snprintf(path, sizeof(path), "/users/%s", user_id);
	expect_ct(path, NULL, 200, json);
	expect_ct(path, "*/*", 200, json);
	expect_ct(path, "application/xml;q=0.5, text/csv;q=0.8", 200, csv);
	expect_ct(path,
		  "text/html,application/xhtml+xml,application/xml;"
		  "q=0.9,image/webp,*/*;q=0.8",
		  200, xml);
	expect_ct(path, "application/*", 200, json);
	expect_ct(path, "text/*", 200, jsv);
	expect_ct(path, "TEXT/XML; charset=utf-8", 200, xml);
	expect_ct(path, "application/xml;q=0, text/jsv;q=0.1", 200, jsv);
	expect_ct(path, "application/json;q=0", 406, json);
	expect_ct(path, "image/png, image/*", 406, json);
	/* ?format= beats Accept; a suffix beats both and the callback */
	snprintf(path, sizeof(path), "/users/%s?format=jsv", user_id);
	expect_ct(path, "application/xml", 200, jsv);
	snprintf(path, sizeof(path), "/users/%s.xml?callback=cb&format=csv",
		 user_id);
	expect_ct(path, "text/jsv", 200, xml);
	/* predefined routes: their format; Accept ignored, no 406 */
	snprintf(path, sizeof(path), "/xml/reply/GetUser?userId=%s", user_id);
	expect_ct(path, "image/png", 200, xml);
	snprintf(path, sizeof(path), "/api/GetUser?userId=%s", user_id);
	expect_ct(path, "text/csv", 200, json);
	snprintf(path, sizeof(path), "/csv/reply/GetUser?userId=%s&format=jsv",
		 user_id);
	expect_ct(path, NULL, 200, jsv);
	/* a dotted callback path; too long a name */
	snprintf(path, sizeof(path), "/users/%s?callback=angular.callbacks._0",
		 user_id);
	expect_ct(path, NULL, 200, "text/javascript; charset=utf-8");
	memset(cb, 'a', 65);
	cb[65] = '\0';
	snprintf(path, sizeof(path), "/users/%s?callback=%s", user_id, cb);
	expect_ct(path, NULL, 400, json);

	/* the 406 is a JSON ResponseStatus */
	snprintf(path, sizeof(path), "/users/%s", user_id);
	send_req("GET", path, NULL, "Accept: image/png", NULL, &r);
	CHECK_INT(r.status, 406);
	CHECK_STR(r.reason, "NotAcceptable");
	CHECK_STR(
	    json_string_value(json_path(r.json, "responseStatus.errorCode")),
	    "NotAcceptable");
	gwh_res_fini(&r);

	/* the body's format answers when Accept is absent or * / * */
	snprintf(body, sizeof(body),
		 "<PatchUser xmlns=\"http://schemas.datacontract.org/2004/07/"
		 "Voice.Api.Authentication\"><FirstName>Xml</FirstName>"
		 "</PatchUser>");
	send_req("PATCH", path, "application/xml", "Accept: */*", body, &r);
	CHECK_INT(r.status, 200);
	CHECK(header_is(&r, "content-type", xml));
	CHECK(r.body != NULL && strstr(r.body, "<FirstName>Xml</FirstName>"));
	gwh_res_fini(&r);
	send_req("PATCH", path, "text/jsv", NULL, "{firstName:Jsv}", &r);
	CHECK_INT(r.status, 200);
	CHECK(header_is(&r, "content-type", jsv));
	gwh_res_fini(&r);
	/* 415 answered in the format Accept chose */
	send_req("POST", "/users", "text/plain", "Accept: application/xml", "x",
		 &r);
	CHECK_INT(r.status, 415);
	CHECK(header_is(&r, "content-type", xml));
	CHECK(r.body != NULL && strstr(r.body, "UnsupportedMediaType"));
	gwh_res_fini(&r);
}

int
main(void)
{
	static const char *const body_limit[] = {"--max-body", "65536", NULL};

	signal(SIGPIPE, SIG_IGN);
	memset(big, 'x', BIG + 1);
	if (up_meta_load() != 0) {
		fprintf(stderr, "up_meta_load failed\n");
		return 1;
	}
	if (th_daemon_start(&daemon_, NULL) != 0) {
		return 1;
	}
	/* bodies past a refresh token's max_len ({big}) reach the daemon */
	if (gwh_start(&gw, &daemon_, "gw", body_limit) != 0) {
		th_daemon_stop(&daemon_);
		return 1;
	}
	{
		const char *h[] = {"Content-Type: application/json", NULL};
		gwh_res r;

		gwh_http(gw.port, "POST", "/auth/credentials", h,
			 "{\"userName\":\"" TH_ADMIN_EMAIL
			 "\",\"password\":\"" TH_ADMIN_PASSWORD "\"}",
			 &r);
		CHECK_INT(r.status, 200);
		snprintf(
		    admin_tok, sizeof(admin_tok), "%s",
		    json_string_value(json_object_get(r.json, "bearerToken")));
		snprintf(
		    admin_ref, sizeof(admin_ref), "%s",
		    json_string_value(json_object_get(r.json, "refreshToken")));
		gwh_res_fini(&r);
		send_req("POST", "/organizations", "application/json", NULL,
			 "{\"name\":\"FmtOrg\"}", &r);
		CHECK_INT(r.status, 200);
		snprintf(org_id, sizeof(org_id), "%s",
			 json_string_value(json_object_get(r.json, "id")));
		gwh_res_fini(&r);
		CHECK_INT(make_user(user_id), 0);
	}
	if (check_failed == 0) {
		test_every_route();
		test_jsonp();
		test_session();
		test_negotiation();
	}
	CHECK_INT(gwh_stop(&gw), 0);
	if (check_failed > 0) {
		th_daemon_dump_log(&daemon_);
	}
	th_daemon_stop(&daemon_);
	return check_done();
}
