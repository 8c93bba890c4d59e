/*
 * dispatch.c - where a call starts: the nng thread's first stage (decode,
 * deadline, bounds), authentication (a bearer token, or Basic credentials
 * through a sign-in), then the replay of a repeated request id, the role
 * gate and the operation's handler. The rest of a call's life is
 * stages.c's (hand-offs between threads), signin.c's and call.c's (its
 * answer and end).
 *
 * Authentication and authorisation happen here, in one gate, before any
 * handler runs; handlers then ask the policy for what they touch
 * (authz.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "call.h"
#include "validate.h"

static void worker_start(void *arg, void *tctx);
static bool group_add(ud_service *svc, ud_call *c);

/* c->req from the envelope's payload (once), as c->method reads it. */
static const ProtobufCMessage *
request_of(ud_call *c)
{
	const Users__V1__RequestEnvelope *env = c->env;

	if (c->req == NULL) {
		c->req = protobuf_c_message_unpack(
		    c->method->desc->input, &c->arena_alloc,
		    env->has_payload ? env->payload.len : 0,
		    env->has_payload ? env->payload.data : (const uint8_t *)"");
	}
	return c->req;
}

/*
 * The read connection of the calling nng thread, opened on first use and
 * recorded in svc so that ud_service_fini closes it.
 */
static int
thread_reader(ud_service *svc, ud_store_conn **out)
{
	static _Thread_local ud_store_conn *mine;
	static _Thread_local const ud_service *owner;
	ud_store_conn **v;
	int rc;

	if (mine != NULL && owner == svc) {
		*out = mine;
		return 0;
	}
	if ((rc = ud_store_reader_open(svc->store, &mine)) != 0) {
		mine = NULL;
		return rc;
	}
	pthread_mutex_lock(&svc->readers_mu);
	v = realloc(svc->readers, (svc->n_readers + 1) * sizeof(*v));
	if (v != NULL) {
		svc->readers = v;
		svc->readers[svc->n_readers++] = mine;
	}
	pthread_mutex_unlock(&svc->readers_mu);
	if (v == NULL) {
		ud_store_reader_close(mine);
		mine = NULL;
		return UP_INTERNAL;
	}
	owner = svc;
	*out = mine;
	return 0;
}

/* A new call answering to to (the reference moves to it); NULL on OOM,
 * after answering UNAVAILABLE and letting go of to. */
static ud_call *
call_new(ud_service *svc, const ud_reply_to *to)
{
	ud_call *c = ud_call_alloc(svc);

	if (c == NULL) {
		static const uint8_t unavailable[] = {0x08, UP_UNAVAILABLE};
		ud_reply_to gone = *to;

		svc->send(&gone, unavailable, sizeof(unavailable));
		svc->release(&gone);
		return NULL;
	}
	atomic_fetch_add(&svc->in_flight, 1);
	c->svc = svc;
	c->to = *to;
	c->received_ms = ud_now_ms();
	c->actor.manager_access = -1;
	c->target.manager_access = -1;
	ud_call_arena_init(c);
	return c;
}

void
ud_service_refuse(ud_service *svc, const ud_reply_to *to, int status)
{
	ud_call *c = call_new(svc, to);

	if (c != NULL) {
		ud_call_finish(c, status);
	}
}

void
ud_service_submit(ud_service *svc, const ud_reply_to *to, const uint8_t *env,
		  size_t len)
{
	ud_call *c = call_new(svc, to);
	int rc;

	if (c == NULL) {
		return;
	}
	c->env = users__v1__request_envelope__unpack(&c->arena_alloc, len, env);
	if (ud_store_shared(svc->store)) {
		/*
		 * A shared store's reads are round trips to a database
		 * server: they wait, so they run on the workers (each with
		 * its own connection), never on the nng threads; the
		 * GetUser calls of a message together (a read group).
		 */
		if (group_add(svc, c)) {
			return;
		}
		if ((rc = ud_pool_push(svc->workers, worker_start, c)) != 0) {
			ud_call_finish(c, rc == UP_RESOURCE_EXHAUSTED
					      ? UP_UNAVAILABLE
					      : rc);
		}
		return;
	}
	if ((rc = thread_reader(svc, &c->reader)) != 0) {
		ud_call_finish(c, UP_UNAVAILABLE);
		return;
	}
	worker_start(c, c->reader);
}

/*
 * After authentication: the replay of a repeated request id (only now is
 * it known who asks: an answer is only ever replayed to its own caller),
 * the role gate, the (required) fields, the handler.
 */
static int
gate_and_run(ud_call *c)
{
	const ud_handler *h = ud_handler_find(c->method->desc->name);
	int rc;

	if (!c->method->auth_none && c->actor.id == 0) {
		return ud_call_fail(c, UP_UNAUTHENTICATED, NULL, NULL);
	}
	if ((rc = ud_call_replay_begin(c)) != 0) {
		return rc == 1 ? UD_ASYNC : rc;
	}
	if (!c->method->auth_none) {
		if (!ud_authz_method_allowed(&c->actor, c->method)) {
			return ud_call_fail(c, UP_PERMISSION_DENIED, NULL,
					    "Invalid Role");
		}
	}
	if (h == NULL) {
		return ud_call_fail(c, UP_UNIMPLEMENTED, NULL, NULL);
	}
	if ((rc = ud_validate_required(c, c->req)) != 0) {
		return rc;
	}
	return h->run(c);
}

static int
after_basic(ud_call *c)
{
	/*
	 * The caller's password and stored hash were only for the check:
	 * the handler's own password work (a new user's, a new password)
	 * starts from nothing, and never mistakes them for its own.
	 */
	ud_call_password_clear(c);

	if (c->hash_rc != 0 || c->actor.id == 0 || c->actor.disabled) {
		ud_user_fini(&c->actor);
		return ud_call_login_failed(c, NULL,
					    "Invalid Username or Password");
	}
	ud_call_login_ok(c);
	return gate_and_run(c);
}

static int
authenticate_basic(ud_call *c)
{
	const Users__V1__BasicCredentials *b = c->env->basic;

	if (b->user_name == NULL || b->password == NULL ||
	    strlen(b->password) > UD_PASSWORD_MAX_LEN ||
	    strlen(b->user_name) > 254) {
		return ud_call_fail(c, UP_UNAUTHENTICATED, NULL,
				    "Invalid Username or Password");
	}
	return ud_call_sign_in(c, b->user_name, b->password, &c->actor,
			       after_basic);
}

/*
 * Drops what a read's stage answered, to run it again (a read changes
 * nothing else).
 */
static void
answer_drop(ud_call *c)
{
	if (c->resp != NULL) {
		protobuf_c_message_free_unpacked(c->resp, NULL);
		c->resp = NULL;
	}
	if (c->error != NULL) {
		users__v1__response_status__free_unpacked(c->error, NULL);
		c->error = NULL;
	}
	c->status = 0;
	ud_user_fini(&c->target);
	if (c->op != NULL && c->op_free != NULL) {
		c->op_free(c->op);
	}
	c->op = NULL;
	c->op_free = NULL;
}

/*
 * The caller's record rc (0: c->actor) for a token of version tv, then the
 * gate and the handler; or the refusal.
 */
static int
run_as_caller(ud_call *c, int rc, int64_t tv)
{
	if (rc == 0 && (c->actor.disabled || c->actor.token_version != tv)) {
		rc = UP_UNAUTHENTICATED;
	}
	if (rc == UP_UNAVAILABLE || rc == UP_INTERNAL) {
		return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
	}
	if (rc != 0) {
		ud_user_fini(&c->actor);
		return ud_call_fail(c, UP_UNAUTHENTICATED, "TokenException",
				    "The token is no longer valid");
	}
	return gate_and_run(c);
}

int
ud_call_caller_changed(ud_call *c)
{
	int64_t sub = c->actor.id;
	int rc;

	c->caller_unchecked = false;
	answer_drop(c);
	ud_call_password_clear(c);
	free(c->packed);
	c->packed = NULL;
	c->packed_len = 0;
	c->commit_fail = false;
	ud_user_fini(&c->actor);
	ud_callers_forget(c->svc->callers, sub);
	rc = ud_callers_get(c->svc->callers, c->reader, sub, 0, &c->actor);
	return run_as_caller(c, rc, c->token_tv);
}

/*
 * Loads the caller of a bearer token and runs the call as that caller.
 * The record comes from svc->callers (callers.h). On a shared store a
 * read goes on with the kept copy, checked in the same round trip as the
 * read's first statement, and runs again with the current record when the
 * copy was stale. A write's copy is checked by its write, in the write's
 * transaction (stages.c; a stale one runs the call again); a write call
 * that ends before its write has it checked then, and runs again if need
 * be.
 */
static int
authenticate_bearer(ud_call *c)
{
	ud_service *svc = c->svc;
	const char *tok = c->env->bearer_token;
	size_t len = strlen(tok);
	int64_t now = ud_now_ms() / 1000, sub = 0, tv = 0;
	ud_store_conn *reader = c->reader; /* c may be gone, below */
	unsigned flags = 0;
	bool pending, unchecked;
	int64_t rev;
	int rc, v;

	if (!ud_token_cache_get(svc->tokens, tok, len, now, &sub, &tv)) {
		ud_jwt_claims cl;
		if (ud_jwt_verify(&svc->key, UD_JWT_ACCESS, tok, len, now,
				  &cl) != 0) {
			return ud_call_fail(c, UP_UNAUTHENTICATED,
					    "TokenException",
					    "Invalid or expired token");
		}
		sub = cl.sub;
		tv = cl.tv;
		ud_token_cache_put(svc->tokens, tok, len, sub, tv, cl.exp);
		ud_jwt_claims_fini(&cl);
	}
	if (ud_store_shared(svc->store)) {
		flags = UD_CALLERS_CHECK |
			(c->method->writes ? (unsigned)UD_CALLERS_DEFER
					   : (unsigned)UD_CALLERS_LATER);
	}
	rc = ud_callers_get(svc->callers, c->reader, sub, flags, &c->actor);
	pending = rc == UD_CALLERS_PENDING;
	unchecked = rc == UD_CALLERS_UNCHECKED;
	if (pending || unchecked) {
		rc = 0;
	}
	rev = c->actor.rev;
	c->token_tv = tv;
	c->caller_unchecked = unchecked;
	rc = run_as_caller(c, rc, tv);
	if (unchecked && rc != UD_ASYNC) {
		/* ended before its write: checked now, again if stale */
		c->caller_unchecked = false;
		if ((v = ud_callers_recheck(svc->callers, c->reader, sub, rev,
					    &c->actor)) != 0) {
			answer_drop(c);
			rc =
			    run_as_caller(c, v == UD_CALLERS_STALE ? 0 : v, tv);
		}
		return rc;
	}
	if (pending && rc == UD_ASYNC) {
		/* reads answer on this thread: c is not ours now */
		ud_user seen = {0};
		if (ud_callers_verify(svc->callers, reader, sub, &seen) != 0) {
			fprintf(stderr, "usersd: a read left its thread before "
					"its caller was checked\n");
		}
		ud_user_fini(&seen);
		return rc;
	}
	if (pending && (v = ud_callers_verify(svc->callers, c->reader, sub,
					      &c->actor)) != 0) {
		/* decided with a stale record: again, with the current one */
		answer_drop(c);
		rc = run_as_caller(c, v == UD_CALLERS_STALE ? 0 : v, tv);
	}
	return rc;
}

static int
start(ud_call *c)
{
	const Users__V1__RequestEnvelope *env;
	int rc;

	if ((env = c->env) == NULL || env->method == NULL) {
		return ud_call_fail(c, UP_INVALID_ARGUMENT,
				    "SerializationException",
				    "The request envelope could not be read.");
	}
	if (env->request_id != NULL &&
	    strlen(env->request_id) > UD_REQUEST_ID_MAX) {
		return ud_call_fail(c, UP_INVALID_ARGUMENT, "ArgumentException",
				    "The request id is too long.");
	}
	/* the request log keeps it as text (PostgreSQL refuses bad UTF-8) */
	if (env->request_id != NULL &&
	    !ud_utf8_valid(env->request_id, strlen(env->request_id))) {
		return ud_call_fail(c, UP_INVALID_ARGUMENT, "ArgumentException",
				    "The request id is not UTF-8 text.");
	}
	c->method = up_method_find(env->method);
	if (c->method == NULL) {
		return ud_call_fail(c, UP_UNIMPLEMENTED,
				    "NotImplementedException",
				    "Unknown operation.");
	}
	if (env->has_deadline_ms && env->deadline_ms > 0 &&
	    ud_now_ms() > c->received_ms + env->deadline_ms) {
		return ud_call_fail(c, UP_DEADLINE_EXCEEDED, NULL, NULL);
	}
	if (request_of(c) == NULL) {
		return ud_call_fail(c, UP_INVALID_ARGUMENT,
				    "SerializationException",
				    "The request could not be read.");
	}
	if ((rc = ud_validate_bounds(c, c->req)) != 0) {
		return rc;
	}
	if (c->method->auth_none) {
		return gate_and_run(c);
	}
	if (env->bearer_token != NULL && env->bearer_token[0] != '\0') {
		return authenticate_bearer(c);
	}
	if (env->basic != NULL) {
		return authenticate_basic(c);
	}
	return ud_call_fail(c, UP_UNAUTHENTICATED, NULL, NULL);
}

/*
 * Read groups (a shared store). Each GetUser of one received message is a
 * point read, and a database server spends more on running a statement
 * than on finding one row: so the GetUser calls of a message (at most
 * UD_STORE_AHEAD_MAX a group) go to one worker together, which reads
 * their targets and their callers ahead, in one statement and one round
 * trip (ud_store_read_ahead), then runs the calls one after the other as
 * usual: each target from what was read, and the check of each caller
 * whose token was already known (the token cache) with its verdict from
 * the same read. Every call keeps its own answer, error and deadline.
 * Only GetUser joins a group (the message's lists and writes go to the
 * workers one by one); a group takes one slot of the workers' queue, and
 * --contexts still bounds the calls in flight. A call of a group that
 * needs more than the read ahead (a token not yet known, a caller not yet
 * kept or changed, Basic credentials) makes its own round trips, or hands
 * off to the hashers, and the calls after it wait for that.
 */
typedef struct read_group {
	ud_service *svc;
	size_t n;
	ud_call *calls[UD_STORE_AHEAD_MAX];
} read_group;

/* The nng thread's snapshot for the calls of one batch (SQLite), if open. */
static _Thread_local ud_store_conn *batch_reader;
/* Between batch_begin and batch_end on a shared store; the open group. */
static _Thread_local bool batch_shared;
static _Thread_local read_group *batch_group;

/* What a group's call asks for: the user, and its caller if known. */
static void
group_peek(ud_call *c, int64_t *user, int64_t *caller)
{
	const Users__V1__RequestEnvelope *env = c->env;
	const Users__V1__GetUser *r;
	int64_t now = ud_now_ms() / 1000, tv;

	*user = 0;
	*caller = 0;
	if (env->bearer_token == NULL || env->bearer_token[0] == '\0') {
		return;
	}
	if ((r = (const Users__V1__GetUser *)request_of(c)) != NULL &&
	    r->user_id != NULL) {
		*user = ud_parse_user_id(r->user_id);
	}
	if (!ud_token_cache_get(c->svc->tokens, env->bearer_token,
				strlen(env->bearer_token), now, caller, &tv)) {
		*caller = 0; /* its check, if any, goes its own way */
	}
}

static void
group_start(void *arg, void *tctx)
{
	read_group *g = arg;
	ud_store_conn *reader = tctx;
	ud_hold_fn hold = atomic_load(&g->svc->hold);
	int64_t users[UD_STORE_AHEAD_MAX], callers[UD_STORE_AHEAD_MAX];
	size_t n = 0, m = 0;
	bool ahead;

	for (size_t i = 0; i < g->n; i++) {
		int64_t user, caller;

		group_peek(g->calls[i], &user, &caller);
		if (user > 0) {
			users[n++] = user;
		}
		if (caller > 0) {
			callers[m++] = caller;
		}
	}
	/* Without it (an error), every read goes to the server. */
	ahead = ud_store_read_ahead(reader, users, n, callers, m) == 0;
	if (hold != NULL) {
		hold(true); /* the group's answers leave together */
	}
	for (size_t i = 0; i < g->n; i++) {
		worker_start(g->calls[i], reader);
	}
	if (hold != NULL) {
		hold(false);
	}
	if (ahead) {
		ud_store_read_ahead_end(reader);
	}
	free(g);
}

static void
group_push(ud_service *svc)
{
	read_group *g = batch_group;
	int rc;

	batch_group = NULL;
	if ((rc = ud_pool_push(svc->workers, group_start, g)) != 0) {
		for (size_t i = 0; i < g->n; i++) {
			ud_call_finish(g->calls[i], rc == UP_RESOURCE_EXHAUSTED
							? UP_UNAVAILABLE
							: rc);
		}
		free(g);
	}
}

/* True when c joined the open read group (it is not the caller's now). */
static bool
group_add(ud_service *svc, ud_call *c)
{
	const up_method *m;

	if (!batch_shared || c->env == NULL || c->env->method == NULL ||
	    (m = up_method_find(c->env->method)) == NULL ||
	    strcmp(m->desc->name, "GetUser") != 0) {
		return false;
	}
	if (batch_group == NULL &&
	    (batch_group = calloc(1, sizeof(*batch_group))) == NULL) {
		return false;
	}
	batch_group->svc = svc;
	c->method = m; /* group_peek reads its request */
	batch_group->calls[batch_group->n++] = c;
	if (batch_group->n == UD_STORE_AHEAD_MAX) {
		group_push(svc);
	}
	return true;
}

void
ud_service_batch_begin(ud_service *svc)
{
	ud_store_conn *reader;

	if (ud_store_shared(svc->store)) {
		batch_shared = true;
		return;
	}
	if (batch_reader != NULL || thread_reader(svc, &reader) != 0) {
		return;
	}
	if (ud_store_snapshot_begin(reader) == 0) {
		batch_reader = reader;
	}
}

void
ud_service_batch_end(ud_service *svc)
{
	batch_shared = false;
	if (batch_group != NULL) {
		group_push(svc);
	}
	if (batch_reader != NULL) {
		ud_store_snapshot_end(batch_reader);
		batch_reader = NULL;
	}
}

static void
worker_start(void *arg, void *tctx)
{
	ud_call *c = arg;
	ud_store_conn *reader = tctx;
	bool own = reader != batch_reader;
	int rc;

	/* One snapshot for all the reads of this stage (of its batch's). */
	c->reader = reader;
	if (own) {
		ud_store_snapshot_begin(reader);
	}
	rc = ud_call_settle(c, start(c));
	if (rc != UD_ASYNC) {
		c->reader = NULL;
		ud_call_finish(c, rc);
	}
	/* c may be gone now (finished here or by another stage). */
	if (own) {
		ud_store_snapshot_end(reader);
	}
}
