/*
 * test_required.c - one source for "required": for every operation, the
 * fields the documents call required (the request's schema in
 * /openapi.json, the Required column of the operation's page) are exactly
 * the fields a real usersd refuses with 400 NotEmpty when they are left
 * out.
 *
 * Each operation is called twice as the admin, over ipc:// through
 * libusersclient: with an empty request (every required field must be
 * named NotEmpty, and no other field), and with only the required fields
 * set to a short text ("1") (no NotEmpty at all: the handler has no
 * required checks of its own).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gw_meta.h"
#include "harness.h"
#include "usersclient.h"

#define MAX_NAMES 32

typedef struct names {
	const char *v[MAX_NAMES];
	size_t n;
} names;

static uc_client *cl;
static char *admin_token;

static bool
names_has(const names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i], name) == 0) {
			return true;
		}
	}
	return false;
}

static void
names_add(names *s, const char *name)
{
	if (s->n < MAX_NAMES && !names_has(s, name)) {
		s->v[s->n++] = name;
	}
}

static bool
names_equal(const names *a, const names *b)
{
	if (a->n != b->n) {
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (!names_has(b, a->v[i])) {
			return false;
		}
	}
	return true;
}

static void
names_print(const char *what, const names *s)
{
	fprintf(stderr, "  %s:", what);
	for (size_t i = 0; i < s->n; i++) {
		fprintf(stderr, " %s", s->v[i]);
	}
	fprintf(stderr, "\n");
}

/* The PascalCase name of the field whose wire name is json (OpenAPI's). */
static const char *
pascal_of_json(const ProtobufCMessageDescriptor *d, const char *json)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (strcmp(uw_field_json_name(d, &d->fields[i]), json) == 0) {
			return uw_field_pascal_name(d, &d->fields[i]);
		}
	}
	return json;
}

/* "required" of the request's schema in /openapi.json. */
static void
openapi_required(json_t *doc, const ProtobufCMessageDescriptor *d, names *out)
{
	json_t *schema = json_object_get(
	    json_object_get(json_object_get(doc, "components"), "schemas"),
	    d->short_name);
	json_t *req = json_object_get(schema, "required");
	size_t i;
	json_t *v;

	CHECK(schema != NULL);
	json_array_foreach(req, i, v)
	{
		names_add(out, pascal_of_json(d, json_string_value(v)));
	}
}

/* The rows of the request's table whose Required column says Yes. */
static void
page_required(const up_method *m, names *out)
{
	const ProtobufCMessageDescriptor *d = m->desc->input;
	uw_buf b = {0};
	char *table, *end;

	CHECK_INT(gw_meta_html_op(m, "json", NULL, "localhost", &b), 0);
	CHECK_INT(uw_buf_append(&b, "", 1), 0);
	if (b.data == NULL) {
		return;
	}
	{
		char head[160];

		/* the request's table and its base classes' tables: up to
		 * the response's */
		snprintf(head, sizeof(head), "<h3>%s Parameters:</h3>",
			 d->short_name);
		table = strstr(b.data, head);
		snprintf(head, sizeof(head), "<h3>%s Parameters:</h3>",
			 m->desc->output->short_name);
		end = table != NULL ? strstr(table, head) : NULL;
	}
	CHECK(table != NULL && end != NULL);
	for (unsigned i = 0; table != NULL && end != NULL && i < d->n_fields;
	     i++) {
		const char *name = uw_field_pascal_name(d, &d->fields[i]);
		char row[160];
		char *at;

		snprintf(row, sizeof(row), "<tr><td>%s</td>", name);
		at = strstr(table, row);
		CHECK(at != NULL && at < end);
		if (at == NULL || at > end) {
			continue;
		}
		/* name, parameter, data type, then Required */
		for (int cell = 0; cell < 3 && at != NULL; cell++) {
			at = strstr(at + 1, "</td><td>");
		}
		if (at != NULL && strncmp(at, "</td><td>Yes</td>", 17) == 0) {
			names_add(out, name);
		}
	}
	uw_buf_fini(&b);
}

/* The fields the daemon names NotEmpty for request req (as admin). */
static void
enforced(const up_method *m, const ProtobufCMessage *req, names *out,
	 size_t *n_errors)
{
	uc_call_opts o = {0};
	uc_result res = {0};

	o.bearer_token = m->auth_none ? "" : admin_token;
	(void)uc_call(cl, m->desc->name, req, &o, &res);
	*n_errors = 0;
	if (res.status == UP_INVALID_ARGUMENT && res.error != NULL) {
		*n_errors = res.error->n_errors;
		for (size_t i = 0; i < res.error->n_errors; i++) {
			const Users__V1__ResponseError *e =
			    res.error->errors[i];

			if (e->error_code != NULL &&
			    strcmp(e->error_code, "NotEmpty") == 0 &&
			    e->field_name != NULL) {
				/* names that outlive res: the contract's */
				const ProtobufCMessageDescriptor *d =
				    m->desc->input;
				const char *p = NULL;

				for (unsigned k = 0; k < d->n_fields; k++) {
					const char *n = uw_field_pascal_name(
					    d, &d->fields[k]);

					if (strcmp(n, e->field_name) == 0) {
						p = n;
					}
				}
				names_add(out, p != NULL ? p : "(unknown)");
			}
		}
	}
	uc_result_fini(&res);
}

static void
test_every_operation(void)
{
	uw_buf doc_text = {0};
	json_error_t jerr;
	json_t *doc;
	size_t checked = 0;

	CHECK_INT(gw_meta_openapi(&doc_text), 0);
	doc = json_loadb(doc_text.data, doc_text.len, 0, &jerr);
	CHECK(doc != NULL);
	for (size_t i = 0; doc != NULL && i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		const ProtobufCMessageDescriptor *d = m->desc->input;
		const up_message_info *mi = up_message_info_of(d);
		names source = {0}, api = {0}, page = {0}, empty = {0},
		      filled = {0};
		ProtobufCMessage *req;
		size_t n_errors;

		for (size_t k = 0; mi != NULL && k < mi->n_fields; k++) {
			if (mi->fields[k].required) {
				names_add(&source, mi->fields[k].pascal_name);
			}
		}
		openapi_required(doc, d, &api);
		page_required(m, &page);

		req = uw_msg_new(d);
		CHECK(req != NULL);
		if (req == NULL) {
			continue;
		}
		enforced(m, req, &empty, &n_errors);
		/* the required fields as "1": no NotEmpty is left */
		for (size_t k = 0; mi != NULL && k < mi->n_fields; k++) {
			uw_decode_error err;

			if (mi->fields[k].required) {
				CHECK_INT(uw_field_set_text(req, &d->fields[k],
							    "1", 1, false, NULL,
							    &err),
					  0);
			}
		}
		enforced(m, req, &filled, &n_errors);
		protobuf_c_message_free_unpacked(req, NULL);

		if (!names_equal(&source, &api) ||
		    !names_equal(&source, &page) ||
		    !names_equal(&source, &empty) || filled.n != 0) {
			fprintf(stderr, "%s: required disagrees\n",
				m->desc->name);
			names_print("users.proto", &source);
			names_print("openapi.json", &api);
			names_print("page", &page);
			names_print("NotEmpty of an empty request", &empty);
			names_print("NotEmpty with them set", &filled);
		}
		CHECK(names_equal(&source, &api));
		CHECK(names_equal(&source, &page));
		CHECK(names_equal(&source, &empty));
		CHECK_INT(filled.n, 0);
		checked += source.n;
	}
	/* NewUser, UpdateBusinessUser, CreateOrganization, Authenticate,
	 * GetAccessToken have some */
	CHECK(checked >= 11);
	json_decref(doc);
	uw_buf_fini(&doc_text);
}

int
main(void)
{
	th_daemon d;
	uc_options opts = {0};
	uc_result res = {0};
	const char *urls[1];

	if (up_meta_load() != 0 || th_daemon_start(&d, NULL) != 0) {
		fprintf(stderr, "cannot start usersd\n");
		return 1;
	}
	urls[0] = d.url;
	opts.urls = urls;
	opts.n_urls = 1;
	opts.deadline_ms = 5000;
	if (uc_client_open(&cl, &opts) != 0) {
		th_daemon_stop(&d);
		return 1;
	}
	if (uc_login(cl, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res) == UP_OK) {
		admin_token =
		    strdup(((Users__V1__AuthenticateResponse *)res.response)
			       ->bearer_token);
	}
	uc_result_fini(&res);
	CHECK(admin_token != NULL);
	if (admin_token != NULL) {
		test_every_operation();
	}
	free(admin_token);
	uc_client_close(cl);
	CHECK_INT(th_daemon_stop(&d), 0);
	return check_done();
}
