/*
 * gw_request.c - one HTTP request: route, format, request message,
 * credentials, one async RPC, the answer.
 *
 * Life of a request (every step on the request's loop thread unless said):
 *
 *   gw_request_on_req   a job in req->pool (h2o_mem_alloc_shared, with
 *                       job_dispose), the request message built and sent
 *                       with uc_call_async; the job holds a reply ticket
 *                       (gw_rpc, malloc'd) and the ticket points back.
 *                       The call is held: it leaves with the other calls
 *                       of the loop's turn (gw_request_flush).
 *   on_rpc_done         (nng thread) moves the result into the ticket and
 *                       posts it to the loop's receiver. It touches
 *                       nothing else: not the job, not the request.
 *   gw_request_on_replies  for each ticket: if its job is still there,
 *                       encode and send; then free the ticket.
 *   job_dispose         the request's pool is cleared (answered, or an
 *                       HTTP/2 stream reset or connection closed while the
 *                       RPC was in flight): the ticket is orphaned, and its
 *                       reply will be dropped when it arrives.
 *
 * The ticket is freed exactly once, by the loop that receives it (or by
 * gw_request_drop_replies at shutdown); a failed uc_call_async frees it at
 * once (its callback never runs).
 *
 * Browsers. A browser sends the ss-tok cookie with every request to us,
 * including those another site's page makes it send: a form posted to us,
 * an image or a script loaded from us, a link followed. Three defences,
 * each enough against a different part of that:
 *
 *   - GET and HEAD never run an operation that writes or signs in
 *     (gw_route.c; 405 with Allow). Links, images, scripts and prefetches
 *     are GETs, and a query string fills a request as well as a body.
 *   - Cookies are SameSite=Strict by default (gw_auth.c): current
 *     browsers then send them only with our own pages' requests.
 *   - refuse_cross_site() below, for --cookie-samesite lax|none and for
 *     browsers that ignore SameSite, decides from Origin and
 *     Sec-Fetch-Site (gw_cors.c): 403 for a write with the cookie from
 *     another site, for Authenticate, GetAccessToken and logout from
 *     another site (login CSRF), and for a JSONP answer that the cookie
 *     would authorise to another site's script.
 *
 * A request whose credentials come from an Authorization header is never
 * refused as cross-site: no page of another site can make a browser send
 * one (it would need a CORS preflight, which only a --cors-origin passes),
 * and our 401s name a scheme ("credentials") for which browsers neither
 * prompt nor keep Basic credentials of their own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gw.h"
#include "gw_meta.h"
#include "gw_negotiate.h"

#define JSON_CT            "application/json; charset=utf-8"
#define METRICS_CT         "text/plain; version=0.0.4; charset=utf-8"
#define JSONP_CT           "text/javascript; charset=utf-8"
#define REASON_MAX         64
#define HEALTH_DEADLINE_MS 2000u

typedef enum job_kind {
	JOB_CALL,    /* a documented or predefined route */
	JOB_SESSION, /* GET /auth */
	JOB_HEALTH,  /* GET /healthz */
} job_kind;

typedef struct gw_rpc gw_rpc;

typedef struct gw_job {
	h2o_req_t *req;
	gw_thread *thr;
	gw_rpc *rpc; /* the reply ticket while an RPC is in flight */
	job_kind kind;
	const up_method *method; /* the route's method (NULL: none) */
	/* The message type whose responseStatus carries an error; NULL:
	 * ErrorResponse. */
	const ProtobufCMessageDescriptor *error_shape;
	const uw_codec *codec;
	const char *jsonp; /* callback name, or NULL */
	unsigned route;    /* metrics label */
	int status_label;  /* the metrics' status when not the HTTP one (0) */
	uint64_t start_us;
	gw_creds creds;
	const char *request_id; /* the call's (pool; named by X-Request-Id) */
	int daemon; /* the --daemon that answered its RPC (index); -1: none */
	bool oneway;
	bool secure;
	bool remember;     /* Authenticate with rememberMe */
	bool token_cookie; /* its refresh token is the ss-reftok cookie's */
	bool answered;
	gw_rpc_req
	    *dialect; /* Connect or gRPC-Web (gw_connect.c); NULL: REST */
} gw_job;

struct gw_rpc {
	h2o_multithread_message_t msg; /* first: the queue hands this back */
	h2o_multithread_receiver_t *to;
	gw_job *job;   /* loop thread only; NULL once the request is gone */
	uc_result res; /* written by on_rpc_done before it posts */
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------------------------
 * Sending
 */

/* For the access log (%{route}e, %{daemon}e): the operation (or the
 * gateway's own route) as /metrics names it, and the daemon that answered. */
static void
log_names(gw_job *job)
{
	const gw_config *cfg = &job->thr->srv->cfg;
	const char *route = gw_metrics_route_name(job->route);
	const char *daemon =
	    job->daemon >= 0 && (size_t)job->daemon < cfg->n_daemons
		? cfg->daemons[job->daemon]
		: "-";

	*h2o_req_getenv(job->req, H2O_STRLIT("route"), 1) =
	    h2o_iovec_init(route, strlen(route));
	*h2o_req_getenv(job->req, H2O_STRLIT("daemon"), 1) =
	    h2o_iovec_init(daemon, strlen(daemon));
}

static void
send_raw(gw_job *job, int status, const char *reason, const char *ct,
	 const char *body, size_t len)
{
	h2o_req_t *req = job->req;

	if (job->answered) {
		return;
	}
	job->answered = true;
	req->res.status = status;
	req->res.reason = reason;
	req->res.content_length = len;
	if (ct != NULL) {
		h2o_add_header(&req->pool, &req->res.headers,
			       H2O_TOKEN_CONTENT_TYPE, NULL, ct, strlen(ct));
	}
	gw_cors_response_headers(req, &job->thr->srv->cfg);
	if (job->thr->srv->access_format != NULL) {
		log_names(job);
	}
	gw_metrics_request(&job->thr->metrics, job->route,
			   job->status_label != 0 ? job->status_label : status,
			   now_us() - job->start_us);
	h2o_send_inline(req, body, len);
}

/* A reason phrase from an errorCode: visible ASCII only, bounded. */
static const char *
reason_of(h2o_mem_pool_t *pool, const char *code)
{
	size_t n = 0;
	char *r;

	if (code == NULL || code[0] == '\0') {
		return "Error";
	}
	r = h2o_mem_alloc_pool(pool, REASON_MAX + 1);
	for (; code[n] != '\0' && n < REASON_MAX; n++) {
		unsigned char c = (unsigned char)code[n];

		r[n] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
	}
	r[n] = '\0';
	return r;
}

static void send_internal_error(gw_job *job);
static void send_rpc_status(gw_job *job, int code,
			    const Users__V1__ResponseStatus *rs);
static void send_rpc_message(gw_job *job, const ProtobufCMessage *msg);

/*
 * Encodes msg in the job's format and sends it. Under JSONP every answer
 * is a 200 with the callback around the body.
 */
static void
send_message(gw_job *job, int status, const char *reason,
	     const ProtobufCMessage *msg)
{
	const uw_codec *codec =
	    job->codec != NULL ? job->codec : &uw_codec_json;
	h2o_req_t *req = job->req;
	uw_buf b = {0};
	int rc = 0;

	if (job->jsonp != NULL) {
		rc |= uw_buf_puts(&b, job->jsonp);
		rc |= uw_buf_puts(&b, "(");
	}
	rc |= codec->encode(msg, &b);
	if (job->jsonp != NULL) {
		rc |= uw_buf_puts(&b, ")");
	}
	if (rc != 0) {
		uw_buf_fini(&b);
		send_internal_error(job);
		return;
	}
	if (job->jsonp != NULL) {
		send_raw(job, 200, "OK", JSONP_CT, b.data, b.len);
		uw_buf_fini(&b);
		return;
	}
	if (strcmp(codec->name, "csv") == 0 && job->method != NULL) {
		const char *op = job->method->desc->name;
		size_t size = strlen(op) + 40;
		char *cd = h2o_mem_alloc_pool(&req->pool, size);
		int n =
		    snprintf(cd, size, "attachment;filename=\"%s.csv\"", op);

		if (n > 0 && (size_t)n < size) {
			h2o_add_header(&req->pool, &req->res.headers,
				       H2O_TOKEN_CONTENT_DISPOSITION, NULL, cd,
				       (size_t)n);
		}
	}
	send_raw(job, status, reason, codec->content_type, b.data, b.len);
	uw_buf_fini(&b);
}

static const ProtobufCFieldDescriptor *
response_status_field(const ProtobufCMessageDescriptor *d)
{
	const ProtobufCFieldDescriptor *f;

	if (d == NULL) {
		return NULL;
	}
	f = protobuf_c_message_descriptor_get_field_by_name(d,
							    "response_status");
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
	    f->label == PROTOBUF_C_LABEL_REPEATED ||
	    f->descriptor != &users__v1__response_status__descriptor) {
		return NULL;
	}
	return f;
}

/*
 * Sends an error: HTTP status from the status table, reason phrase = the
 * errorCode, body = the response type's own responseStatus when it has one
 * (docs/wire-formats.md, section 8.2), else an ErrorResponse. rs is
 * borrowed.
 */
static void
send_status(gw_job *job, int code, const Users__V1__ResponseStatus *rs)
{
	h2o_req_t *req = job->req;
	Users__V1__ResponseStatus copy = *rs;
	Users__V1__ErrorResponse er = USERS__V1__ERROR_RESPONSE__INIT;
	const ProtobufCFieldDescriptor *f = NULL;
	int http;
	const char *reason;

	/*
	 * In JSON and JSV the response type's own responseStatus and an
	 * ErrorResponse are the same bytes ({"responseStatus":...}; the
	 * encoders write empty lists, so the wrapper would add "[]"s): only
	 * the formats that name the root (XML) or its columns (CSV) need
	 * the response type itself.
	 */
	if (job->jsonp == NULL && job->codec != NULL &&
	    strcmp(job->codec->name, "json") != 0 &&
	    strcmp(job->codec->name, "jsv") != 0) {
		f = response_status_field(job->error_shape);
	}

	copy.stack_trace = NULL; /* never on the wire */
	if (copy.error_code == NULL) {
		copy.error_code = (char *)up_status_error_code(code);
	}
	if (copy.message == NULL) {
		copy.message = (char *)up_status_message(code);
	}
	if (job->dialect != NULL) {
		send_rpc_status(job, code, &copy);
		return;
	}
	http = up_status_http_of(code, copy.error_code);
	reason = reason_of(&req->pool, copy.error_code);
	if (http == 401) {
		h2o_add_header(
		    &req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE,
		    NULL,
		    H2O_STRLIT("credentials realm=\"/auth/credentials\""));
	} else if (http == 503) {
		/* No daemon (or its store) now: the client redials within
		 * about 100 ms; a second is a safe time to come back. */
		h2o_add_header(&req->pool, &req->res.headers,
			       H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
	}
	if (f != NULL) {
		ProtobufCMessage *wrap = uw_msg_new(job->error_shape);

		if (wrap == NULL) {
			send_internal_error(job);
			return;
		}
		*(Users__V1__ResponseStatus **)((char *)wrap + f->offset) =
		    &copy;
		send_message(job, http, reason, wrap);
		*(Users__V1__ResponseStatus **)((char *)wrap + f->offset) =
		    NULL;
		protobuf_c_message_free_unpacked(wrap, NULL);
		return;
	}
	er.response_status = &copy;
	send_message(job, http, reason, &er.base);
}

/* An error the gateway finds itself; field: PascalCase name or NULL. */
static void
send_error(gw_job *job, int code, const char *error_code, const char *message,
	   const char *field)
{
	Users__V1__ResponseStatus rs = USERS__V1__RESPONSE_STATUS__INIT;
	Users__V1__ResponseError fe = USERS__V1__RESPONSE_ERROR__INIT;
	Users__V1__ResponseError *fep = &fe;

	rs.error_code =
	    (char *)(error_code ? error_code : up_status_error_code(code));
	rs.message = (char *)(message ? message : up_status_message(code));
	if (field != NULL && field[0] != '\0') {
		fe.error_code = rs.error_code;
		fe.field_name = (char *)field;
		fe.message = rs.message;
		rs.errors = &fep;
		rs.n_errors = 1;
	}
	send_status(job, code, &rs);
}

/* An error with an HTTP status outside the status table (405, 406, 415). */
static void
send_http_error(gw_job *job, int http, const char *error_code,
		const char *message)
{
	Users__V1__ResponseStatus rs = USERS__V1__RESPONSE_STATUS__INIT;
	Users__V1__ErrorResponse er = USERS__V1__ERROR_RESPONSE__INIT;
	const uw_codec *codec = job->codec;

	rs.error_code = (char *)error_code;
	rs.message = (char *)message;
	er.response_status = &rs;
	/* The format may be what failed: answer those in JSON. */
	if (http == 406) {
		job->codec = &uw_codec_json;
		job->jsonp = NULL;
	}
	send_message(job, http, error_code, &er.base);
	job->codec = codec;
}

static void
send_internal_error(gw_job *job)
{
	static const char body[] =
	    "{\"responseStatus\":{\"errorCode\":\"InternalServerError\","
	    "\"message\":\"Internal error.\",\"errors\":[]}}";

	send_raw(job, 500, "InternalServerError", JSON_CT, body,
		 sizeof(body) - 1);
}

/* ------------------------------------------------------------------------
 * Format negotiation (the rules: gw_negotiate.h)
 */

/*
 * The job's format (and JSONP callback) and, into *neg, the reader of the
 * request's body (read_body false: the route reads none). Sends the 4xx
 * and returns -1 when the request cannot be answered as it asks.
 */
static int
negotiate(gw_job *job, const gw_route_match *rm, bool read_body,
	  const char *query, size_t qlen, gw_neg_out *neg)
{
	h2o_req_t *req = job->req;
	gw_neg_in in;
	ssize_t i;

	memset(&in, 0, sizeof(in));
	in.predefined = rm->kind == GW_ROUTE_PREDEFINED;
	in.route_codec = rm->codec;
	in.route_format_unknown = rm->unknown_format;
	in.query = query;
	in.query_len = qlen;
	i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT, -1);
	if (i != -1) {
		in.accept = req->headers.entries[i].value.base;
		in.accept_len = req->headers.entries[i].value.len;
	}
	i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
	if (i != -1) {
		in.content_type = req->headers.entries[i].value.base;
		in.content_type_len = req->headers.entries[i].value.len;
	}
	in.has_body =
	    read_body && req->entity.base != NULL && req->entity.len > 0;
	gw_negotiate(&in, neg);
	job->codec = neg->codec;
	if (neg->jsonp) {
		job->jsonp =
		    h2o_strdup(&req->pool, neg->callback, SIZE_MAX).base;
	}
	switch (neg->status) {
	case GW_NEG_OK:
		return 0;
	case GW_NEG_BAD_CALLBACK:
		send_error(job, UP_INVALID_ARGUMENT, "ArgumentException",
			   neg->message, "Callback");
		return -1;
	case GW_NEG_NOT_ACCEPTABLE:
		send_http_error(job, 406, "NotAcceptable", neg->message);
		return -1;
	case GW_NEG_UNSUPPORTED_TYPE:
	default:
		send_http_error(job, 415, "UnsupportedMediaType", neg->message);
		return -1;
	}
}

/* ------------------------------------------------------------------------
 * RPCs
 */

/* nng thread: move the result into the ticket and post it. Nothing else. */
static void
on_rpc_done(uc_result *res, void *arg)
{
	gw_rpc *rpc = arg;

	rpc->res = *res;
	memset(res, 0, sizeof(*res));
	h2o_multithread_send_message(rpc->to, &rpc->msg);
}

/* Frees a request message, its passwords wiped first. */
static void
request_free(ProtobufCMessage *msg)
{
	up_message_wipe_secrets(msg);
	protobuf_c_message_free_unpacked(msg, NULL);
}

static void
job_dispose(void *p)
{
	gw_job *job = p;

	if (job->rpc != NULL) {
		job->rpc->job = NULL; /* its reply will be dropped */
		job->rpc = NULL;
	}
}

/*
 * Sends msg (owned; freed here) as method's request. On failure the error
 * is answered at once.
 */
static void
start_call(gw_job *job, const up_method *m, ProtobufCMessage *msg,
	   uint32_t deadline_ms)
{
	gw_thread *t = job->thr;
	uc_call_opts o = {0};
	gw_rpc *rpc = calloc(1, sizeof(*rpc));
	int rc;

	if (rpc == NULL || atomic_load(&t->srv->stopping)) {
		/* Stopping: the client may be closing; never call it. */
		int code = rpc == NULL ? UP_RESOURCE_EXHAUSTED : UP_UNAVAILABLE;

		free(rpc);
		request_free(msg);
		send_error(job, code, NULL, NULL, NULL);
		return;
	}
	o.deadline_ms = deadline_ms;
	o.request_id = job->request_id;
	o.hold = true; /* leaves when the loop's turn ends: gw_request_flush */
	if (!m->auth_none) {
		o.bearer_token = job->creds.bearer;
		if (o.bearer_token == NULL) {
			o.basic_user = job->creds.basic_user;
			o.basic_password = job->creds.basic_password;
		}
	}
	rpc->to = &t->replies;
	rpc->job = job;
	job->rpc = rpc;
	t->pending++;
	gw_metrics_rpc(&t->metrics, 1);
	rc =
	    uc_call_async(t->srv->uc, m->desc->name, msg, &o, on_rpc_done, rpc);
	request_free(msg);
	if (rc == 0) {
		t->held++;
	} else {
		/* The callback never runs: the ticket is ours to free. */
		job->rpc = NULL;
		free(rpc);
		t->pending--;
		gw_metrics_rpc(&t->metrics, -1);
		gw_metrics_rpc_result(&t->metrics, rc);
		send_error(job, rc == UP_CANCELLED ? UP_UNAVAILABLE : rc, NULL,
			   NULL, NULL);
	}
}

void
gw_request_flush(gw_thread *t)
{
	if (t->held > 0) {
		t->held = 0;
		uc_client_flush(t->srv->uc);
	}
}

static bool
daemon_alive(int status)
{
	switch (status) {
	case UP_OK:
	case UP_INVALID_ARGUMENT:
	case UP_UNAUTHENTICATED:
	case UP_PERMISSION_DENIED:
	case UP_NOT_FOUND:
	case UP_FAILED_PRECONDITION:
		return true;
	default:
		return false;
	}
}

/*
 * GET /healthz: the round trip decides the status (200 when a daemon
 * answered, 503 when none did); the body lists every daemon's state.
 */
static void
finish_health(gw_job *job, const uc_result *res)
{
	gw_server *srv = job->thr->srv;
	/* Stopping: the client may be closing under us; no list then. */
	uc_client *uc = atomic_load(&srv->stopping) ? NULL : srv->uc;
	uw_buf b = {0};
	int status = gw_health_render(uc, daemon_alive(res->status), &b);

	if (status < 0) {
		uw_buf_fini(&b);
		send_internal_error(job);
		return;
	}
	send_raw(job, status, status == 200 ? "OK" : "ServiceUnavailable",
		 JSON_CT, b.data, b.len);
	uw_buf_fini(&b);
}

/* GET /auth: the session from the caller's own user record. */
static void
finish_session(gw_job *job, const uc_result *res)
{
	Users__V1__AuthenticateResponse ar =
	    USERS__V1__AUTHENTICATE_RESPONSE__INIT;
	const Users__V1__UserInfo *u;
	h2o_mem_pool_t *pool = &job->req->pool;

	if (res->response->descriptor ==
	    &users__v1__authenticate_response__descriptor) {
		/*
		 * Basic credentials: Authenticate answered the session. A
		 * GET signs nobody in: the answer says who, without the
		 * tokens (POST /auth/credentials gives those).
		 */
		Users__V1__AuthenticateResponse who =
		    *(const Users__V1__AuthenticateResponse *)res->response;

		who.bearer_token = NULL;
		who.refresh_token = NULL;
		send_message(job, 200, "OK", &who.base);
		return;
	}
	u = (const Users__V1__UserInfo *)res->response;
	ar.user_id = u->id;
	ar.session_id = (char *)job->creds.session_id;
	ar.user_name = u->email_address;
	ar.display_name = u->name != NULL && u->name[0] != '\0' ? u->name
			  : u->first_name != NULL && u->first_name[0] != '\0'
			      ? u->first_name
			      : u->email_address;
	ar.roles = u->roles;
	ar.n_roles = u->n_roles;
	if (u->n_dashboard_permissions > 0) {
		ar.permissions = h2o_mem_alloc_pool(
		    pool, sizeof(char *) * u->n_dashboard_permissions);
		for (size_t i = 0; i < u->n_dashboard_permissions; i++) {
			const ProtobufCEnumValue *v =
			    protobuf_c_enum_descriptor_get_value(
				&users__v1__dashboard_permissions__descriptor,
				(int)u->dashboard_permissions[i]);

			if (v != NULL) {
				ar.permissions[ar.n_permissions++] =
				    (char *)v->name;
			}
		}
	}
	send_message(job, 200, "OK", &ar.base);
}

static void
finish_call(gw_job *job, const uc_result *res)
{
	h2o_req_t *req = job->req;
	const char *op = job->method->desc->name;

	if (job->oneway) {
		send_raw(job, 204, "No Content", NULL, "", 0);
		return;
	}
	if (job->dialect != NULL) {
		send_rpc_message(job, res->response);
		return;
	}
	if (strcmp(op, "Authenticate") == 0 &&
	    res->response->descriptor ==
		&users__v1__authenticate_response__descriptor) {
		gw_auth_set_login_cookies(
		    req, (const Users__V1__AuthenticateResponse *)res->response,
		    job->secure, job->remember);
	} else if (job->token_cookie &&
		   res->response->descriptor ==
		       &users__v1__get_access_token_response__descriptor) {
		/* the cookie's refresh token is used up: its successor */
		gw_auth_set_token_cookies(
		    req,
		    (const Users__V1__GetAccessTokenResponse *)res->response,
		    job->secure, job->creds.remember);
	}
	send_message(job, 200, "OK", res->response);
}

static void
finish(gw_job *job, const uc_result *res)
{
	if (job->kind == JOB_HEALTH) {
		finish_health(job, res);
		return;
	}
	if (res->status != UP_OK || res->response == NULL) {
		Users__V1__ResponseStatus none =
		    USERS__V1__RESPONSE_STATUS__INIT;
		int code = res->status != UP_OK ? res->status : UP_INTERNAL;

		send_status(job, code, res->error != NULL ? res->error : &none);
		return;
	}
	if (job->kind == JOB_SESSION) {
		finish_session(job, res);
	} else {
		finish_call(job, res);
	}
}

void
gw_request_on_replies(h2o_multithread_receiver_t *receiver,
		      h2o_linklist_t *messages)
{
	gw_thread *t = H2O_STRUCT_FROM_MEMBER(gw_thread, replies, receiver);

	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(
		    h2o_multithread_message_t, link, messages->next);
		gw_rpc *rpc = H2O_STRUCT_FROM_MEMBER(gw_rpc, msg, m);

		h2o_linklist_unlink(&m->link);
		t->pending--;
		gw_metrics_rpc(&t->metrics, -1);
		gw_metrics_rpc_result(&t->metrics, rpc->res.status);
		if (rpc->job != NULL) {
			gw_job *job = rpc->job;

			job->rpc = NULL;
			job->daemon = rpc->res.daemon;
			finish(job, &rpc->res);
		}
		uc_result_fini(&rpc->res);
		free(rpc);
	}
}

void
gw_request_drop_replies(h2o_linklist_t *messages)
{
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(
		    h2o_multithread_message_t, link, messages->next);
		gw_rpc *rpc = H2O_STRUCT_FROM_MEMBER(gw_rpc, msg, m);

		h2o_linklist_unlink(&m->link);
		uc_result_fini(&rpc->res);
		free(rpc);
	}
}

/* ------------------------------------------------------------------------
 * The routes
 */

/* Sends a 400 for a decode failure. */
static void
send_decode_error(gw_job *job, const uw_decode_error *err)
{
	send_error(job, UP_INVALID_ARGUMENT, "SerializationException",
		   err->message[0] != '\0'
		       ? err->message
		       : "The request body could not be read.",
		   err->field);
}

/*
 * The cross-site rules (see the top of this file). m: the operation, NULL
 * for GET /auth. Called once the format is known (so the 403 comes in
 * it). true when refused (answered).
 */
static bool
refuse_cross_site(gw_job *job, const up_method *m)
{
	const gw_creds *c = &job->creds;
	/*
	 * What a browser sends by itself: the cookie, and Basic credentials
	 * it has kept (from a URL with user:password@, say). A bearer token
	 * in an Authorization header is a client's own doing: another site's
	 * page cannot set that header without our CORS consent.
	 */
	bool ambient = c->bearer_from_cookie || c->basic_user != NULL;
	gw_site site = gw_request_site(job->req, &job->thr->srv->cfg);
	const char *msg = NULL;

	if (m != NULL && m->auth_none && site == GW_SITE_CROSS) {
		/*
		 * Login CSRF: a cross-site form that signs the browser in as
		 * the attacker (whose session then sees what the user
		 * enters), refreshes its token or signs it out.
		 */
		msg = "Signing in or out from another site's page is refused "
		      "(cross-site request).";
	} else if (ambient && m != NULL && m->writes && site == GW_SITE_CROSS) {
		msg = "A change made with the session cookie must come from "
		      "this site's own pages (cross-site request refused); "
		      "other clients send an Authorization header.";
	} else if (ambient && job->jsonp != NULL && site != GW_SITE_SAME &&
		   site != GW_SITE_LISTED) {
		/*
		 * A script any page can load, and read, with what the
		 * browser sends by itself: served only to our own pages, as
		 * the browser says (Sec-Fetch-Site: same-origin), never to a
		 * sibling host's or when nothing says.
		 */
		msg = "JSONP with the session cookie or Basic credentials is "
		      "served only to this site's own pages.";
	}
	if (msg == NULL) {
		return false;
	}
	job->jsonp = NULL; /* a refusal is never a script */
	send_error(job, UP_PERMISSION_DENIED, "Forbidden", msg, NULL);
	return true;
}

/*
 * Authenticate never takes a password from the query string: URLs are
 * written to access logs, proxies' logs, browser history and Referer
 * headers, and a login from a URL is one a link can make. The query is
 * read by the same decoder as the request (every spelling of the name,
 * percent-escapes included) into a message of its own. 0 when it names no
 * password; else answered (400) and -1.
 */
static int
refuse_query_password(gw_job *job, const char *query, size_t qlen)
{
	Users__V1__Authenticate *probe;
	uw_decode_error err;
	bool named;

	memset(&err, 0, sizeof(err));
	probe = (Users__V1__Authenticate *)uw_msg_new(
	    &users__v1__authenticate__descriptor);
	if (probe == NULL) {
		send_error(job, UP_RESOURCE_EXHAUSTED, NULL, NULL, NULL);
		return -1;
	}
	if (uw_msg_set_form(&probe->base, query, qlen, false,
			    &uw_limits_default, &err) != 0) {
		protobuf_c_message_free_unpacked(&probe->base, NULL);
		send_decode_error(job, &err);
		return -1;
	}
	named = probe->password != NULL;
	protobuf_c_message_free_unpacked(&probe->base, NULL);
	if (named) {
		send_error(job, UP_INVALID_ARGUMENT, "ArgumentException",
			   "Password is never read from the query string: send "
			   "it in the request body.",
			   "Password");
		return -1;
	}
	return 0;
}

/*
 * The refresh token of a GetAccessToken or Logout that names none: the
 * ss-reftok cookie's. true when it was taken from the cookie.
 */
static bool
refresh_from_cookie(gw_job *job, ProtobufCMessage *msg)
{
	const char *tok = job->creds.refresh_token;
	const char *given =
	    msg->descriptor == &users__v1__logout__descriptor
		? ((Users__V1__Logout *)msg)->refresh_token
		: ((Users__V1__GetAccessToken *)msg)->refresh_token;
	uw_decode_error err;

	if ((given != NULL && given[0] != '\0') || tok == NULL) {
		return false;
	}
	return uw_msg_set_text(msg, "refreshToken", 12, tok, strlen(tok),
			       &err) == 0;
}

/*
 * A documented or predefined route: the request message from body, path
 * variables, query string and form fields (docs/wire-formats.md, section
 * 3.2), then the call.
 */
static void
handle_call(gw_job *job, const gw_route_match *rm, const char *query,
	    size_t qlen)
{
	h2o_req_t *req = job->req;
	const up_method *m = rm->method;
	bool predefined = rm->kind == GW_ROUTE_PREDEFINED;
	bool has_body, form;
	const uw_codec *body_codec;
	gw_neg_out neg;
	ProtobufCMessage *msg = NULL;
	uw_decode_error err;
	int rc = 0;

	memset(&err, 0, sizeof(err));
	job->method = m;
	job->error_shape = m->desc->output;
	job->route = m->index;
	job->oneway = rm->oneway;
	if (negotiate(job, rm, true, query, qlen, &neg) != 0 ||
	    refuse_cross_site(job, m)) {
		return;
	}
	if (m->desc->input == &users__v1__authenticate__descriptor &&
	    query != NULL && refuse_query_password(job, query, qlen) != 0) {
		return;
	}
	has_body = neg.body != GW_NEG_BODY_NONE;
	form = neg.body == GW_NEG_BODY_FORM;
	body_codec = neg.body_codec;
	if ((msg = uw_msg_new(m->desc->input)) == NULL) {
		send_error(job, UP_RESOURCE_EXHAUSTED, NULL, NULL, NULL);
		return;
	}
	/* body first */
	if (has_body && !form) {
		rc = body_codec->decode(msg, req->entity.base, req->entity.len,
					&uw_limits_default, &err);
	} else if (has_body && predefined) {
		rc = uw_msg_set_form(msg, req->entity.base, req->entity.len,
				     false, &uw_limits_default, &err);
	}
	/*
	 * then the query string and form fields, and the path variables
	 * last (later wins): the path names the resource, and nothing else
	 * in the request may name another (PATCH /users/2?userId=4 is user
	 * 2, as a proxy's rules and an access log read it).
	 */
	if (rc == 0 && query != NULL) {
		rc = uw_msg_set_form(msg, query, qlen, predefined,
				     &uw_limits_default, &err);
	}
	if (rc == 0 && has_body && form && !predefined) {
		rc = uw_msg_set_form(msg, req->entity.base, req->entity.len,
				     false, &uw_limits_default, &err);
	}
	for (size_t v = 0; rc == 0 && v < rm->n_vars; v++) {
		rc = uw_msg_set_text(
		    msg, rm->vars[v].name, strlen(rm->vars[v].name),
		    rm->vars[v].value, rm->vars[v].value_len, &err);
	}
	if (rc != 0) {
		request_free(msg);
		send_decode_error(job, &err);
		return;
	}
	if (msg->descriptor == &users__v1__authenticate__descriptor) {
		const Users__V1__Authenticate *a =
		    (const Users__V1__Authenticate *)msg;

		job->remember = a->has_remember_me && a->remember_me;
	} else if (msg->descriptor ==
		       &users__v1__get_access_token__descriptor ||
		   msg->descriptor == &users__v1__logout__descriptor) {
		job->token_cookie = refresh_from_cookie(job, msg);
	}
	if (msg->descriptor == &users__v1__logout__descriptor) {
		/* gone whatever the daemon answers, a 503 included */
		gw_auth_clear_cookies(req, job->secure);
	}
	start_call(job, m, msg, job->thr->srv->cfg.deadline_ms);
}

/* GET /auth: who the credentials belong to (the daemon checks them). */
static void
handle_session(gw_job *job, const gw_route_match *rm, const char *query,
	       size_t qlen)
{
	h2o_req_t *req = job->req;
	const up_method *m;
	ProtobufCMessage *msg;
	const char *sub;
	gw_neg_out neg;

	job->kind = JOB_SESSION;
	job->error_shape = &users__v1__authenticate_response__descriptor;
	if (negotiate(job, rm, false, query, qlen, &neg) != 0 ||
	    refuse_cross_site(job, NULL)) {
		return;
	}
	if (job->creds.bearer != NULL) {
		Users__V1__GetUser *g;

		sub = gw_jwt_subject(&req->pool, job->creds.bearer);
		m = up_method_find("GetUser");
		if (sub == NULL || m == NULL) {
			send_error(job, UP_UNAUTHENTICATED, NULL,
				   "Not Authenticated", NULL);
			return;
		}
		if ((msg = uw_msg_new(m->desc->input)) == NULL) {
			send_error(job, UP_RESOURCE_EXHAUSTED, NULL, NULL,
				   NULL);
			return;
		}
		g = (Users__V1__GetUser *)msg;
		g->user_id = strdup(sub);
		if (g->user_id == NULL) {
			protobuf_c_message_free_unpacked(msg, NULL);
			send_error(job, UP_RESOURCE_EXHAUSTED, NULL, NULL,
				   NULL);
			return;
		}
		start_call(job, m, msg, job->thr->srv->cfg.deadline_ms);
		return;
	}
	if (job->creds.basic_user != NULL) {
		Users__V1__Authenticate *a;

		m = up_method_find("Authenticate");
		if (m == NULL || (msg = uw_msg_new(m->desc->input)) == NULL) {
			send_error(job, UP_RESOURCE_EXHAUSTED, NULL, NULL,
				   NULL);
			return;
		}
		a = (Users__V1__Authenticate *)msg;
		a->user_name = strdup(job->creds.basic_user);
		a->password = strdup(job->creds.basic_password);
		if (a->user_name == NULL || a->password == NULL) {
			request_free(msg);
			send_error(job, UP_RESOURCE_EXHAUSTED, NULL, NULL,
				   NULL);
			return;
		}
		start_call(job, m, msg, job->thr->srv->cfg.deadline_ms);
		return;
	}
	send_error(job, UP_UNAUTHENTICATED, NULL, "Not Authenticated", NULL);
}

static void
handle_health(gw_job *job)
{
	const up_method *m = up_method_find("GetUser");
	uint32_t deadline = job->thr->srv->cfg.deadline_ms;
	ProtobufCMessage *msg;

	job->kind = JOB_HEALTH;
	if (deadline > HEALTH_DEADLINE_MS) {
		deadline = HEALTH_DEADLINE_MS;
	}
	/*
	 * A read without credentials: a live daemon refuses it at once
	 * (UNAUTHENTICATED), writes nothing and hashes nothing, whatever
	 * credentials the probe itself came with.
	 */
	memset(&job->creds, 0, sizeof(job->creds));
	if (m == NULL || (msg = uw_msg_new(m->desc->input)) == NULL) {
		send_internal_error(job);
		return;
	}
	start_call(job, m, msg, deadline);
}

static void
handle_metrics(gw_job *job)
{
	gw_server *srv = job->thr->srv;
	uw_buf b = {0};
	char proc[4096]; /* process_* and build_info: /proc, never waits */
	int n = up_metrics_process("usersgw", proc, sizeof(proc));

	/* Stopping: the client may be closing; no per-daemon series then. */
	if (gw_metrics_render(srv->all_metrics, srv->n_threads, &b) != 0 ||
	    gw_metrics_render_daemons(
		atomic_load(&srv->stopping) ? NULL : srv->uc, &b) != 0 ||
	    (n > 0 && uw_buf_append(&b, proc, (size_t)n) != 0)) {
		uw_buf_fini(&b);
		send_internal_error(job);
		return;
	}
	send_raw(job, 200, "OK", METRICS_CT, b.data, b.len);
	uw_buf_fini(&b);
}

/* 405, with the methods the path accepts in Allow. */
static void
send_bad_method(gw_job *job, const gw_route_match *rm, h2o_iovec_t method)
{
	h2o_req_t *req = job->req;
	char allow[GW_ALLOW_MAX];
	h2o_iovec_t a = h2o_strdup(
	    &req->pool, gw_route_allow_text(rm->allow, allow), SIZE_MAX);
	size_t size = method.len + 160;
	char *msg = h2o_mem_alloc_pool(&req->pool, size);

	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL,
		       a.base, a.len);
	if (rm->unsafe_on_get && rm->method != NULL) {
		snprintf(msg, size,
			 "%s changes data or signs in: it is not accepted on "
			 "GET or HEAD (Allow lists what is).",
			 rm->method->desc->name);
	} else {
		snprintf(msg, size, "The route does not accept %.*s.",
			 (int)method.len, method.base);
	}
	send_http_error(job, 405, "NotImplementedException", msg);
}

/*
 * OPTIONS on a known path. A CORS preflight (Origin and
 * Access-Control-Request-Method) from a listed origin: 204 with the
 * Access-Control-* headers; from any other origin: 403 without them (the
 * browser then never sends the request; nothing in the answer is meant
 * for that page). A plain OPTIONS: 204 with Allow.
 */
static void
handle_options(gw_job *job, const gw_route_match *rm)
{
	h2o_req_t *req = job->req;
	char allow[GW_ALLOW_MAX];
	h2o_iovec_t a = h2o_strdup(
	    &req->pool, gw_route_allow_text(rm->allow, allow), SIZE_MAX);
	h2o_iovec_t origin;
	bool preflight =
	    h2o_find_header_by_str(&req->headers,
				   H2O_STRLIT("access-control-request-method"),
				   -1) != -1 &&
	    h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1) !=
		-1;

	if (preflight && !gw_cors_listed(req, &job->thr->srv->cfg, &origin)) {
		send_error(job, UP_PERMISSION_DENIED, "Forbidden",
			   "This origin may not call the service from a "
			   "browser (usersgw --cors-origin lists those that "
			   "may).",
			   NULL);
		return;
	}
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL,
		       a.base, a.len);
	if (preflight) {
		gw_cors_preflight_headers(req, rm->allow);
	}
	send_raw(job, 204, "No Content", NULL, "", 0);
}

/*
 * The request id of the request's call: the client's Idempotency-Key, or
 * its X-Request-Id when it sends no key, else a fresh one. usersd answers
 * a write repeated under the same id with its first answer (the id is
 * scoped to the caller there), which makes a retried POST or PATCH safe.
 * Every answer names the id (X-Request-Id), and so does the access log.
 * A given id must be 1 to UC_REQUEST_ID_MAX visible ASCII characters, and
 * said once: else 400 (the answer then names a fresh id). 0, or -1 when
 * answered.
 */
static int
read_request_id(gw_job *job)
{
	static const struct {
		const char *name;
		size_t len;
		const char *spelled;
	} names[] = {
	    {H2O_STRLIT("idempotency-key"), "Idempotency-Key"},
	    {H2O_STRLIT("x-request-id"), "X-Request-Id"},
	};
	h2o_req_t *req = job->req;
	char *id = h2o_mem_alloc_pool(&req->pool, UC_REQUEST_ID_MAX + 1);
	const h2o_iovec_t *given = NULL;
	bool ok = true;
	size_t k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		ssize_t i = h2o_find_header_by_str(&req->headers, names[k].name,
						   names[k].len, -1);

		if (i != -1) {
			given = &req->headers.entries[i].value;
			ok =
			    h2o_find_header_by_str(&req->headers, names[k].name,
						   names[k].len, i) == -1 &&
			    given->len > 0 && given->len <= UC_REQUEST_ID_MAX;
			for (size_t c = 0; ok && c < given->len; c++) {
				ok = given->base[c] > 0x20 &&
				     given->base[c] < 0x7f;
			}
			break;
		}
	}
	if (given != NULL && ok) {
		memcpy(id, given->base, given->len);
		id[given->len] = '\0';
	} else if (uc_request_id_new(id, UC_REQUEST_ID_MAX + 1) != 0) {
		send_internal_error(job);
		return -1;
	}
	job->request_id = id;
	h2o_add_header_by_str(&req->pool, &req->res.headers,
			      H2O_STRLIT("x-request-id"), 0, "X-Request-Id", id,
			      strlen(id));
	if (!ok) {
		size_t size = 96;
		char *msg = h2o_mem_alloc_pool(&req->pool, size);

		snprintf(msg, size,
			 "%s must be 1 to %d visible ASCII characters, sent "
			 "once.",
			 names[k].spelled, UC_REQUEST_ID_MAX);
		send_error(job, UP_INVALID_ARGUMENT, "ArgumentException", msg,
			   names[k].spelled);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The RPC dialects (gw_connect.c reads and writes their bytes)
 */

static void
send_rpc_status(gw_job *job, int code, const Users__V1__ResponseStatus *rs)
{
	uw_buf b = {0};
	const char *ct = NULL;
	int status =
	    gw_connect_error(job->req, job->dialect, code, rs, &b, &ct);

	if (status < 0) {
		uw_buf_fini(&b);
		send_internal_error(job);
		return;
	}
	/* counted as Connect answers it: gRPC-Web's 200 for a NotFound is a
	 * 404 on the dashboards, as in REST */
	job->status_label = gw_connect_http_status(job->dialect, code);
	send_raw(job, status,
		 status == 200 ? "OK"
			       : reason_of(&job->req->pool, rs->error_code),
		 ct, b.data, b.len);
	uw_buf_fini(&b);
}

static void
send_rpc_message(gw_job *job, const ProtobufCMessage *msg)
{
	uw_buf b = {0};
	const char *ct = NULL;
	int status = gw_connect_reply(job->req, job->dialect, msg, &b, &ct);

	if (status < 0) {
		uw_buf_fini(&b);
		send_internal_error(job);
		return;
	}
	send_raw(job, status, "OK", ct, b.data, b.len);
	uw_buf_fini(&b);
}

/*
 * A call in Connect or gRPC-Web: the same credentials (from the
 * Authorization header only: never the cookie), request id, limits, role
 * gate and metrics labels as REST, one RPC.
 */
static void
handle_rpc(gw_job *job)
{
	gw_rpc_req *rr = job->dialect;
	uint32_t deadline;
	ProtobufCMessage *msg;
	gw_rpc_err err;

	if (rr->method != NULL) {
		job->method = rr->method;
		job->route = rr->method->index;
	}
	if (h2o_memis(job->req->method.base, job->req->method.len,
		      H2O_STRLIT("OPTIONS"))) {
		gw_route_match rm = {.allow = gw_connect_allow(rr)};

		job->dialect = NULL; /* a preflight's answer is plain HTTP */
		handle_options(job, &rm);
		return;
	}
	if (job->creds.bearer_from_cookie) {
		job->creds.bearer = NULL;
	}
	if (gw_connect_read(job->req, rr, &job->thr->srv->cfg, &msg, &deadline,
			    &err) != 0) {
		send_error(job, err.code, NULL, err.message, err.field);
		return;
	}
	start_call(job, rr->method, msg, deadline);
}

/* X-Http-Method-Override, when it is a plain token. */
static h2o_iovec_t
request_method(h2o_req_t *req)
{
	static const char name[] = "x-http-method-override";
	ssize_t i =
	    h2o_find_header_by_str(&req->headers, name, sizeof(name) - 1, -1);
	const h2o_iovec_t *v;
	char *up;

	if (i == -1) {
		return req->method;
	}
	v = &req->headers.entries[i].value;
	if (v->len == 0 || v->len > 16) {
		return req->method;
	}
	up = h2o_mem_alloc_pool(&req->pool, v->len + 1);
	for (size_t k = 0; k < v->len; k++) {
		char c = v->base[k];

		if (c >= 'a' && c <= 'z') {
			c = (char)(c - 'a' + 'A');
		}
		if (c < 'A' || c > 'Z') {
			return req->method;
		}
		up[k] = c;
	}
	up[v->len] = '\0';
	return h2o_iovec_init(up, v->len);
}

int
gw_request_on_req(h2o_handler_t *self, h2o_req_t *req)
{
	gw_thread *t = H2O_STRUCT_FROM_MEMBER(gw_thread, ctx, req->conn->ctx);
	gw_job *job;
	size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	const char *query = NULL;
	size_t qlen = 0;
	h2o_iovec_t method;
	gw_route_match rm;

	(void)self;
	/* The metadata pages, DTOs and OpenAPI document (gw_meta_serve.c). */
	if (gw_meta_serve(req)) {
		gw_metrics_request(&t->metrics,
				   gw_metrics_route_special(GW_MR_METADATA),
				   req->res.status, 0);
		return 0;
	}
	job = h2o_mem_alloc_shared(&req->pool, sizeof(*job), job_dispose);
	memset(job, 0, sizeof(*job));
	job->req = req;
	job->thr = t;
	job->start_us = now_us();
	job->codec = &uw_codec_json;
	job->route = gw_metrics_route_special(GW_MR_UNMATCHED);
	job->daemon = -1;
	job->secure = req->scheme == &H2O_URL_SCHEME_HTTPS;
	if (req->query_at != SIZE_MAX) {
		query = req->path.base + req->query_at + 1;
		qlen = req->path.len - req->query_at - 1;
	}
	job->dialect = gw_connect_match(req);
	if (read_request_id(job) != 0) {
		return 0;
	}
	method = request_method(req);
	gw_auth_read(req, &job->creds);
	if (job->dialect != NULL) {
		handle_rpc(job);
		return 0;
	}
	gw_route_find(&req->pool, method, req->method, req->path.base, plen,
		      &rm);
	if (rm.allow != 0 && h2o_memis(req->method.base, req->method.len,
				       H2O_STRLIT("OPTIONS"))) {
		handle_options(job, &rm);
		return 0;
	}

	switch (rm.kind) {
	case GW_ROUTE_DOCUMENTED:
	case GW_ROUTE_PREDEFINED:
		handle_call(job, &rm, query, qlen);
		break;
	case GW_ROUTE_AUTH_SESSION:
		job->route = gw_metrics_route_special(GW_MR_AUTH_SESSION);
		handle_session(job, &rm, query, qlen);
		break;
	case GW_ROUTE_HEALTHZ:
		job->route = gw_metrics_route_special(GW_MR_HEALTHZ);
		handle_health(job);
		break;
	case GW_ROUTE_METRICS:
		job->route = gw_metrics_route_special(GW_MR_METRICS);
		handle_metrics(job);
		break;
	case GW_ROUTE_BAD_METHOD:
		send_bad_method(job, &rm, method);
		break;
	case GW_ROUTE_NONE:
	default:
		send_error(job, UP_NOT_FOUND, "NotFound",
			   "Handler for Request not found", NULL);
		break;
	}
	return 0;
}
