/*
 * dispatch.c - the life of one call: decode, deadline, bounds,
 * authenticate, replay, the role gate, the handler; the hand-offs to the
 * hashers and the store writer; and the one exit, ud_call_finish().
 *
 * Authentication and authorisation happen here, in one gate, before any
 * handler runs; handlers only add the per-target scope checks. A repeated
 * request id is looked up only once its caller is authenticated, and
 * answered only with the answer of the same caller's same request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "service.h"
#include "validate.h"

#define REQUEST_ID_MAX 128
/*
 * The request log is pruned once per this many recorded answers, and at
 * least this often (or twice per replay window, if that is sooner) while
 * answers are recorded, so that a quiet daemon keeps answers not much
 * longer than the replay window.
 */
#define LOG_PRUNE_EVERY    4096
#define LOG_PRUNE_AFTER_MS 60000
/* Expired failed-login states are pruned once per this many failures. */
#define LOGIN_PRUNE_EVERY 256

static void worker_start(void *arg, void *tctx);
static int call_verify(ud_call *c, ud_step_fn next);
static void call_free(ud_call *c);
static void login_release(ud_call *c);
static void resume_on_worker(ud_call *c);

/* ------------------------------------------------------------------------
 * Errors
 */

int
ud_call_fail(ud_call *c, int status, const char *error_code,
	     const char *message)
{
	Users__V1__ResponseStatus *e = c->error;

	if (e == NULL) {
		e = malloc(sizeof(*e));
		if (e == NULL) {
			return status;
		}
		users__v1__response_status__init(e);
		c->error = e;
	}
	if (e->error_code == NULL) {
		e->error_code = strdup(
		    error_code ? error_code : up_status_error_code(status));
		e->message =
		    strdup(message ? message : up_status_message(status));
	}
	c->status = status;
	return status;
}

int
ud_call_field_error(ud_call *c, const char *field, const char *error_code,
		    const char *message)
{
	Users__V1__ResponseError *fe;
	Users__V1__ResponseError **v;
	Users__V1__ResponseStatus *e;

	ud_call_fail(c, UP_INVALID_ARGUMENT, error_code, message);
	e = c->error;
	if (e == NULL || e->n_errors >= 64) {
		return UP_INVALID_ARGUMENT;
	}
	fe = malloc(sizeof(*fe));
	v = realloc(e->errors, (e->n_errors + 1) * sizeof(*v));
	if (fe == NULL || v == NULL) {
		free(fe);
		if (v != NULL) {
			e->errors = v;
		}
		return UP_INVALID_ARGUMENT;
	}
	e->errors = v;
	users__v1__response_error__init(fe);
	fe->error_code = strdup(error_code);
	fe->field_name = strdup(field);
	fe->message = strdup(message);
	e->errors[e->n_errors++] = fe;
	return UP_INVALID_ARGUMENT;
}

/* ------------------------------------------------------------------------
 * The exit
 */

static uint8_t *
pack_envelope(ud_call *c, int status, size_t *len)
{
	Users__V1__ResponseEnvelope env = USERS__V1__RESPONSE_ENVELOPE__INIT;
	uint8_t *payload = NULL, *out = NULL;

	env.has_status = true;
	env.status = (Users__V1__StatusCode)status;
	if (c->env != NULL && c->env->request_id != NULL) {
		env.request_id = c->env->request_id;
	}
	if (status == UP_OK) {
		size_t n = protobuf_c_message_get_packed_size(c->resp);
		payload = malloc(n ? n : 1);
		if (payload == NULL) {
			return NULL;
		}
		protobuf_c_message_pack(c->resp, payload);
		env.has_payload = true;
		env.payload.data = payload;
		env.payload.len = n;
	} else {
		if (c->error == NULL || c->error->error_code == NULL) {
			ud_call_fail(c, status, NULL, NULL);
		}
		env.error = c->error;
	}
	*len = users__v1__response_envelope__get_packed_size(&env);
	out = malloc(*len ? *len : 1);
	if (out != NULL) {
		users__v1__response_envelope__pack(&env, out);
	}
	free(payload);
	return out;
}

/*
 * Whether an answer is final for its request: a success, or the caller's
 * own error, which a retry would get again. The others (the store busy or
 * down, a deadline, a conflict to retry, an internal error) may not be
 * what a retry gets: its request id is forgotten, and a retry runs again.
 */
static bool
answer_is_final(int status)
{
	switch (status) {
	case UP_OK:
	case UP_INVALID_ARGUMENT:
	case UP_NOT_FOUND:
	case UP_ALREADY_EXISTS:
	case UP_PERMISSION_DENIED:
	case UP_FAILED_PRECONDITION:
	case UP_OUT_OF_RANGE:
		return true;
	default:
		return false;
	}
}

void
ud_call_finish(ud_call *c, int status)
{
	ud_service *svc = c->svc;
	uint8_t *buf;
	size_t len = 0;

	if (status == UP_OK && c->resp == NULL) {
		status = UP_INTERNAL;
	}
	if (status != UP_OK && c->error != NULL && c->status != status) {
		/* a detail recorded for another status does not apply */
		users__v1__response_status__free_unpacked(c->error, NULL);
		c->error = NULL;
	}
	c->status = status;
	if (status == UP_OK && c->packed != NULL) {
		/* packed and recorded in the request log with the write */
		buf = c->packed;
		len = c->packed_len;
		c->packed = NULL;
	} else {
		buf = pack_envelope(c, status, &len);
	}
	if (buf == NULL) {
		/* Out of memory: answer with the bare status. */
		static const uint8_t internal[] = {0x08, UP_INTERNAL};
		if (c->replayable) {
			ud_replay_finish(svc->replay, c->env->request_id, NULL,
					 0, false);
		}
		svc->send(c->sctx, internal, sizeof(internal));
	} else {
		if (c->replayable) {
			ud_replay_finish(svc->replay, c->env->request_id, buf,
					 len, answer_is_final(status));
		}
		svc->send(c->sctx, buf, len);
		free(buf);
	}
	call_free(c);
}

/* Forgets the password work of a stage that is done with it. */
static void
password_work_clear(ud_call *c)
{
	if (c->password != NULL) {
		ud_wipe(c->password, strlen(c->password));
		free(c->password);
		c->password = NULL;
	}
	free(c->hash);
	c->hash = NULL;
}

static void
call_free(ud_call *c)
{
	ud_service *svc = c->svc;

	login_release(c); /* first: its name is in the request */
	/* The envelope (Basic password, payload), the request (a password
	 * to check or set) and the bytes they came in hold secrets. */
	if (c->env != NULL) {
		up_message_wipe_secrets(&c->env->base);
		users__v1__request_envelope__free_unpacked(c->env, NULL);
	}
	if (c->req != NULL) {
		up_message_wipe_secrets(c->req);
		protobuf_c_message_free_unpacked(c->req, NULL);
	}
	if (c->resp != NULL) {
		protobuf_c_message_free_unpacked(c->resp, NULL);
	}
	if (c->error != NULL) {
		users__v1__response_status__free_unpacked(c->error, NULL);
	}
	password_work_clear(c);
	if (c->op != NULL && c->op_free != NULL) {
		c->op_free(c->op);
	}
	ud_wipe(c->raw, c->raw_len);
	free(c->raw);
	free(c->packed);
	ud_user_fini(&c->actor);
	ud_user_fini(&c->target);
	free(c);
	atomic_fetch_sub(&svc->in_flight, 1);
}

/* ------------------------------------------------------------------------
 * Entry (nng thread)
 */

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

void
ud_service_submit(ud_service *svc, void *sctx, uint8_t *raw, size_t len)
{
	ud_call *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		static const uint8_t unavailable[] = {0x08, UP_UNAVAILABLE};
		free(raw);
		svc->send(sctx, unavailable, sizeof(unavailable));
		return;
	}
	atomic_fetch_add(&svc->in_flight, 1);
	c->svc = svc;
	c->sctx = sctx;
	c->raw = raw;
	c->raw_len = len;
	c->received_ms = ud_now_ms();
	c->actor.manager_access = -1;
	c->target.manager_access = -1;
	if (ud_store_shared(svc->store)) {
		/*
		 * A shared store's reads are round trips to a database
		 * server: they wait, so they run on the workers (each with
		 * its own connection), never on the nng threads.
		 */
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

/* ------------------------------------------------------------------------
 * Replay of repeated request ids
 */

static void
replay_waiter(const uint8_t *resp, size_t len, void *arg)
{
	ud_call *c = arg;

	if (resp == NULL) {
		ud_call_finish(c, UP_ABORTED);
		return;
	}
	c->svc->send(c->sctx, resp, len);
	call_free(c);
}

_Static_assert(UD_REPLAY_DIGEST_LEN == UD_REQUEST_DIGEST_LEN,
	       "the replay table and the request log share one digest");

/*
 * The request log keeps answers sealed (seal.h): an answer may carry a
 * live token (GetAccessToken's), and a reader of the database must not be
 * able to use it. A box is bound to its request id and digest.
 */
static int
log_aad(const ud_call *c, uint8_t *aad, size_t size, size_t *len)
{
	size_t n = strlen(c->env->request_id);

	if (n + UD_REQUEST_DIGEST_LEN > size) {
		return UP_INTERNAL;
	}
	memcpy(aad, c->env->request_id, n);
	memcpy(aad + n, c->digest, UD_REQUEST_DIGEST_LEN);
	*len = n + UD_REQUEST_DIGEST_LEN;
	return 0;
}

static int
log_seal(const ud_call *c, const uint8_t *in, size_t len, uint8_t **out,
	 size_t *out_len)
{
	uint8_t aad[REQUEST_ID_MAX + UD_REQUEST_DIGEST_LEN];
	size_t aad_len;

	if (log_aad(c, aad, sizeof(aad), &aad_len) != 0) {
		return UP_INTERNAL;
	}
	return ud_seal(&c->svc->log_key, aad, aad_len, in, len, out, out_len);
}

/* 0 with the answer in *out; UP_DATA_LOSS (not our box); UP_INTERNAL. */
static int
log_open(const ud_call *c, const uint8_t *in, size_t len, uint8_t **out,
	 size_t *out_len)
{
	uint8_t aad[REQUEST_ID_MAX + UD_REQUEST_DIGEST_LEN];
	size_t aad_len;

	if (log_aad(c, aad, sizeof(aad), &aad_len) != 0) {
		return UP_INTERNAL;
	}
	return ud_unseal(&c->svc->log_key, aad, aad_len, in, len, out, out_len);
}

/*
 * Answers a request id that the request log holds: the write committed
 * before (on another daemon, or here before a restart). 0 to go on (not
 * logged); 1 when answered; else a status. Ends the call's replay entry
 * whenever it does not go on.
 */
static int
replay_logged(ud_call *c)
{
	ud_service *svc = c->svc;
	const char *id = c->env->request_id;
	uint8_t *resp = NULL;
	size_t len = 0;
	int rc = ud_store_request_get(c->reader, id, c->digest, &resp, &len);

	if (rc == UP_NOT_FOUND) {
		return 0;
	}
	if (rc == 0) {
		uint8_t *box = resp;
		rc = log_open(c, box, len, &resp, &len);
		free(box);
	}
	c->replayable = false;
	/* a logged answer is a committed write's: final */
	ud_replay_finish(svc->replay, id, resp, len, rc == 0);
	if (rc == 0) {
		svc->send(c->sctx, resp, len);
		free(resp);
		call_free(c);
		return 1;
	}
	/* The log's verdict is the answer: not the call's own error. */
	if (c->error != NULL) {
		users__v1__response_status__free_unpacked(c->error, NULL);
		c->error = NULL;
	}
	if (rc == UP_FAILED_PRECONDITION) {
		return ud_call_fail(c, UP_FAILED_PRECONDITION,
				    "RequestIdReused",
				    "The request id was already used for "
				    "another request.");
	}
	if (rc == UP_DATA_LOSS) {
		return ud_call_fail(c, UP_DATA_LOSS, NULL,
				    "The first answer of this request id "
				    "cannot be read back.");
	}
	return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
}

/* 0 to go on; 1 when the call was answered or parked; else a status. */
static int
replay_begin(ud_call *c)
{
	const char *id = c->env->request_id;
	uint8_t *resp = NULL;
	size_t len = 0;
	ud_replay_state st;

	if (!c->method->writes || id == NULL || id[0] == '\0') {
		return 0;
	}
	/*
	 * Who asked what: the authenticated caller (0 for an operation open
	 * to anyone) and the request itself, not the envelope (a retry may
	 * carry another deadline, or other credentials of the same user).
	 * One digest for the table and the request log.
	 */
	ud_replay_digest(c->method->desc->name, c->actor.id,
			 c->env->has_payload ? c->env->payload.data : NULL,
			 c->env->has_payload ? c->env->payload.len : 0,
			 c->digest);
	st = ud_replay_begin(c->svc->replay, id, c->digest,
			     c->received_ms / 1000, replay_waiter, c, &resp,
			     &len);
	switch (st) {
	case UD_REPLAY_NEW:
		/* The request log is read only if the call ends before its
		 * write (settle_replayable): a write learns it from its claim.
		 */
		c->replayable = true;
		return 0;
	case UD_REPLAY_DONE:
		c->svc->send(c->sctx, resp, len);
		free(resp);
		call_free(c);
		return 1;
	case UD_REPLAY_PENDING:
		return 1;
	case UD_REPLAY_BUSY:
		return ud_call_fail(c, UP_ABORTED, "Aborted",
				    "The request is already running; retry "
				    "it.");
	case UD_REPLAY_MISMATCH:
	default:
		return ud_call_fail(c, UP_FAILED_PRECONDITION,
				    "RequestIdReused",
				    "The request id was already used for "
				    "another request.");
	}
}

/* ------------------------------------------------------------------------
 * Authentication and the gate
 */

/*
 * After authentication: the replay of a repeated request id (only now is
 * it known who asks: an answer is only ever replayed to its own caller),
 * the role gate, the handler.
 */
static int
gate_and_run(ud_call *c)
{
	const ud_handler *h = ud_handler_find(c->method->desc->name);
	int rc;

	if (!c->method->auth_none && c->actor.id == 0) {
		return ud_call_fail(c, UP_UNAUTHENTICATED, NULL, NULL);
	}
	if ((rc = replay_begin(c)) != 0) {
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
	return h->run(c);
}

/*
 * Sign-in and the lockout of user names (lockout.h). Every attempt at a
 * name's password is reserved before its hash is checked, and the check
 * happens only when the reservation is granted: attempts made at once
 * count as many as they are. A store shared by several daemons keeps each
 * name's state in the database, and a reservation is a write transaction
 * that locks the name's row, so that the count holds across daemons;
 * otherwise this process's table is the only place that sees every
 * attempt (one daemon per SQLite database), and costs no commit.
 *
 * A call holds its reservation (login_held) until its verdict: a failure
 * (counted, before the answer), a success (the name cleared), or, when the
 * call ends without one, a release in call_free.
 */

/* A change of a name's state in the store, queued for the writer. */
typedef struct login_job {
	const ud_lockout_config *cfg;
	char key[UD_LOCKOUT_KEY_MAX + 1];
} login_job;

/* Reads key's state on a writer connection (locked until the transaction
 * ends); a name without one has a zeroed state. */
static int
login_get(ud_store_conn *conn, const char *key, ud_login_state *s)
{
	int rc = ud_store_login_get(conn, key, s);

	if (rc == UP_NOT_FOUND) {
		memset(s, 0, sizeof(*s));
		return 0;
	}
	return rc;
}

static int
login_refused(ud_call *c, int rc)
{
	if (rc != UP_RESOURCE_EXHAUSTED) {
		return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
	}
	return ud_call_fail(c, UP_RESOURCE_EXHAUSTED, "TooManyRequests",
			    "Too many sign-in attempts for this name; try "
			    "again later.");
}

static int
login_failure_run(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	const ud_lockout_config *cfg = ud_lockout_config_of(c->svc->lockout);
	int64_t now_s = ud_now_ms() / 1000;
	char key[UD_LOCKOUT_KEY_MAX + 1];
	ud_login_state s;
	int rc;

	ud_lockout_key(c->login_name, key);
	if ((rc = login_get(conn, key, &s)) != 0) {
		return rc;
	}
	ud_lockout_state_failure(cfg, &s, now_s);
	if ((rc = ud_store_login_put(conn, key, &s)) != 0) {
		return rc;
	}
	/* Names nobody tries any more are forgotten, now and then. */
	if (atomic_fetch_add(&c->svc->login_failures, 1) % LOGIN_PRUNE_EVERY ==
	    0) {
		(void)ud_store_login_prune(conn,
					   now_s - (int64_t)cfg->window_s);
	}
	return 0;
}

static void
login_failure_done(int rc, void *arg)
{
	ud_call *c = arg;

	if (rc != 0) {
		fprintf(stderr,
			"usersd: a failed login was not recorded (%s)\n",
			up_status_name(rc));
	}
	ud_call_finish(c, UP_UNAUTHENTICATED);
}

int
ud_call_login_failed(ud_call *c, const char *error_code, const char *message)
{
	ud_service *svc = c->svc;

	ud_call_fail(c, UP_UNAUTHENTICATED, error_code, message);
	c->login_held = false; /* the reservation becomes the failure */
	if (!ud_store_shared(svc->store)) {
		ud_lockout_failure(svc->lockout, c->login_name,
				   ud_now_ms() / 1000);
		return UP_UNAUTHENTICATED;
	}
	/* Answered once the failure is committed: the next attempt, on
	 * any daemon, counts it. (Not committed, the reservation stays
	 * until UD_LOCKOUT_PENDING_TTL_S drops it.) */
	c->reader = NULL;
	if (ud_store_write(svc->store, login_failure_run, login_failure_done,
			   c) != 0) {
		return UP_UNAUTHENTICATED;
	}
	return UD_ASYNC;
}

static int
login_clear_run(ud_store_conn *conn, void *arg)
{
	login_job *j = arg;

	return ud_store_login_delete(conn, j->key);
}

static int
login_release_run(ud_store_conn *conn, void *arg)
{
	login_job *j = arg;
	ud_login_state s;
	int rc;

	if ((rc = login_get(conn, j->key, &s)) != 0) {
		return rc;
	}
	ud_lockout_state_release(&s);
	if (ud_lockout_state_forgotten(j->cfg, &s, ud_now_ms() / 1000)) {
		return ud_store_login_delete(conn, j->key);
	}
	return ud_store_login_put(conn, j->key, &s);
}

static void
login_job_done(int rc, void *arg)
{
	(void)rc;
	free(arg);
}

/* Queues fn on the name of c's sign-in, in the background. */
static void
login_job_queue(ud_call *c, ud_store_write_fn fn)
{
	ud_service *svc = c->svc;
	login_job *j = malloc(sizeof(*j));

	if (j == NULL) {
		return;
	}
	j->cfg = ud_lockout_config_of(svc->lockout);
	ud_lockout_key(c->login_name, j->key);
	if (ud_store_write(svc->store, fn, login_job_done, j) != 0) {
		free(j);
	}
}

void
ud_call_login_ok(ud_call *c)
{
	ud_service *svc = c->svc;

	c->login_held = false; /* the name is cleared, reservations too */
	if (!ud_store_shared(svc->store)) {
		ud_lockout_success(svc->lockout, c->login_name);
		return;
	}
	/* Cleared in the background: the sign-in does not wait for it. */
	login_job_queue(c, login_clear_run);
}

/* Gives back the reservation of a sign-in that ends without a verdict. */
static void
login_release(ud_call *c)
{
	ud_service *svc = c->svc;

	if (!c->login_held) {
		return;
	}
	c->login_held = false;
	if (!ud_store_shared(svc->store)) {
		ud_lockout_release(svc->lockout, c->login_name,
				   ud_now_ms() / 1000);
		return;
	}
	login_job_queue(c, login_release_run);
}

/* Checks the password of the sign-in against its user's hash (the stage
 * after its attempt was reserved). */
static int
sign_in_verify(ud_call *c)
{
	ud_service *svc = c->svc;
	ud_user *u = c->login_user;
	int rc = ud_store_user_by_email(c->reader, c->login_name, u);

	if (rc != 0 && rc != UP_NOT_FOUND) {
		return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
	}
	if (rc != 0) {
		u->id = 0;
	}
	/*
	 * No such user, or a user without a password: the dummy hash, so
	 * that it takes the same time, and the answer is a failure whatever
	 * the password (hasher_verify).
	 */
	c->login_dummy = rc != 0 || u->password_hash == NULL;
	c->hash = strdup(c->login_dummy ? svc->dummy_hash : u->password_hash);
	c->password = strdup(c->login_password);
	if (c->hash == NULL || c->password == NULL) {
		return ud_call_fail(c, UP_INTERNAL, NULL, NULL);
	}
	rc = call_verify(c, c->login_next);
	return rc == 0 ? UD_ASYNC : ud_call_fail(c, rc, NULL, NULL);
}

/* The reservation in the store (a write function): refused, nothing is
 * written. */
static int
login_reserve_run(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	const ud_lockout_config *cfg = ud_lockout_config_of(c->svc->lockout);
	char key[UD_LOCKOUT_KEY_MAX + 1];
	ud_login_state s;
	int rc;

	ud_lockout_key(c->login_name, key);
	if ((rc = login_get(conn, key, &s)) != 0 ||
	    (rc = ud_lockout_state_reserve(cfg, &s, ud_now_ms() / 1000,
					   NULL)) != 0) {
		return rc;
	}
	return ud_store_login_put(conn, key, &s);
}

/* On a worker, once the store answered the reservation. */
static int
login_reserved(ud_call *c)
{
	if (c->login_rc != 0) {
		return login_refused(c, c->login_rc);
	}
	return sign_in_verify(c);
}

static void
login_reserve_done(int rc, void *arg)
{
	ud_call *c = arg;

	c->login_rc = rc;
	c->login_held = rc == 0; /* given back if the call ends here */
	c->next = login_reserved;
	resume_on_worker(c);
}

int
ud_call_sign_in(ud_call *c, const char *name, const char *password, ud_user *u,
		ud_step_fn next)
{
	ud_service *svc = c->svc;
	ud_store_conn *reader = c->reader;
	int rc;

	c->login_name = name;
	c->login_password = password;
	c->login_user = u;
	c->login_next = next;
	if (!ud_store_shared(svc->store)) {
		rc = ud_lockout_reserve(svc->lockout, name, ud_now_ms() / 1000,
					NULL);
		if (rc != 0) {
			return login_refused(c, rc);
		}
		c->login_held = true;
		return sign_in_verify(c);
	}
	c->reader = NULL;
	if (ud_store_write(svc->store, login_reserve_run, login_reserve_done,
			   c) != 0) {
		c->reader = reader; /* still ours: the write was not queued */
		return login_refused(c, UP_UNAVAILABLE);
	}
	return UD_ASYNC;
}

static int
after_basic(ud_call *c)
{
	/*
	 * The caller's password and stored hash were only for the check:
	 * the handler's own password work (a new user's, a new password)
	 * starts from nothing, and never mistakes them for its own.
	 */
	password_work_clear(c);

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

/* Loads the caller of a bearer token: 0 or UP_UNAUTHENTICATED. */
static int
authenticate_bearer(ud_call *c)
{
	ud_service *svc = c->svc;
	const char *tok = c->env->bearer_token;
	size_t len = strlen(tok);
	int64_t now = ud_now_ms() / 1000, sub = 0, tv = 0;
	int rc;

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
	rc = ud_store_user_get(c->reader, sub, &c->actor);
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

/* ------------------------------------------------------------------------
 * The worker's first stage
 */

static int
start(ud_call *c)
{
	const Users__V1__RequestEnvelope *env;
	int rc;

	c->env = users__v1__request_envelope__unpack(NULL, c->raw_len, c->raw);
	if ((env = c->env) == NULL || env->method == NULL) {
		return ud_call_fail(c, UP_INVALID_ARGUMENT,
				    "SerializationException",
				    "The request envelope could not be read.");
	}
	if (env->request_id != NULL &&
	    strlen(env->request_id) > REQUEST_ID_MAX) {
		return ud_call_fail(c, UP_INVALID_ARGUMENT, "ArgumentException",
				    "The request id is too long.");
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
	c->req = protobuf_c_message_unpack(
	    c->method->desc->input, NULL,
	    env->has_payload ? env->payload.len : 0,
	    env->has_payload ? env->payload.data : (const uint8_t *)"");
	if (c->req == NULL) {
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
 * A write that ends before its write stage (refused, invalid, answered
 * without a write) may carry a request id that the request log holds: a
 * retry whose first attempt committed (before a restart, or on another
 * daemon). That first answer is then the answer. Read here, at the end,
 * and not when the call begins: a call that reaches its write learns the
 * same from its claim in the write's transaction, so the common case reads
 * nothing. rc is what the stage returned; returns UD_ASYNC when the call
 * was answered (or parked) here, else the status to finish with.
 */
static int
settle_replayable(ud_call *c, int rc)
{
	int logged;

	if (rc == UD_ASYNC || !c->replayable) {
		return rc; /* c may be gone when UD_ASYNC */
	}
	logged = replay_logged(c);
	return logged == 0 ? rc : logged == 1 ? UD_ASYNC : logged;
}

static void
worker_start(void *arg, void *tctx)
{
	ud_call *c = arg;
	ud_store_conn *reader = tctx;
	int rc;

	/* One snapshot for all the reads of this stage. */
	c->reader = reader;
	ud_store_snapshot_begin(reader);
	rc = settle_replayable(c, start(c));
	if (rc != UD_ASYNC) {
		c->reader = NULL;
		ud_call_finish(c, rc);
	}
	/* c may be gone now (finished here or by another stage). */
	ud_store_snapshot_end(reader);
}

/* ------------------------------------------------------------------------
 * Hand-offs
 */

static void
worker_resume(void *arg, void *tctx)
{
	ud_call *c = arg;
	ud_store_conn *reader = tctx;
	int rc;

	c->reader = reader;
	ud_store_snapshot_begin(reader);
	rc = settle_replayable(c, c->next(c));
	if (rc != UD_ASYNC) {
		c->reader = NULL;
		ud_call_finish(c, rc);
	}
	ud_store_snapshot_end(reader);
}

static void
resume_on_worker(ud_call *c)
{
	int rc = ud_pool_push(c->svc->workers, worker_resume, c);

	if (rc != 0) {
		ud_call_finish(c, rc);
	}
}

static void
hasher_hash(void *arg, void *tctx)
{
	ud_call *c = arg;
	char out[UD_PASSWORD_HASH_MAX];

	c->hash_rc = ud_password_hash(&c->svc->cfg->hash_cost, c->password,
				      strlen(c->password), out, sizeof(out));
	if (c->hash_rc == 0) {
		free(c->hash);
		c->hash = strdup(out);
		if (c->hash == NULL) {
			c->hash_rc = UP_INTERNAL;
		}
	}
	resume_on_worker(c);
}

static void
hasher_verify(void *arg, void *tctx)
{
	ud_call *c = arg;

	c->hash_rc =
	    ud_password_verify(c->hash, c->password, strlen(c->password));
	if (c->login_dummy) {
		/* the same work, and never a match */
		c->hash_rc = UP_UNAUTHENTICATED;
	}
	resume_on_worker(c);
}

int
ud_call_hash(ud_call *c, ud_step_fn next)
{
	c->next = next;
	c->reader = NULL;
	return ud_pool_push(c->svc->hashers, hasher_hash, c);
}

static int
call_verify(ud_call *c, ud_step_fn next)
{
	c->next = next;
	c->reader = NULL;
	return ud_pool_push(c->svc->hashers, hasher_verify, c);
}

/*
 * A write whose request id another daemon committed first: answer with
 * that daemon's answer (on a worker, which can read the log).
 */
static int
answer_from_log(ud_call *c)
{
	int rc;

	/* c->replayable still holds: replay_logged ends its entry */
	if ((rc = replay_logged(c)) == 0) {
		/* recorded, then pruned already: nothing to answer with */
		c->replayable = false;
		ud_replay_finish(c->svc->replay, c->env->request_id, NULL, 0,
				 false);
		return ud_call_fail(c, UP_ABORTED, NULL, NULL);
	}
	return rc == 1 ? UD_ASYNC : rc;
}

static void
write_done(int rc, void *arg)
{
	ud_call *c = arg;

	if (c->logged_elsewhere) {
		c->logged_elsewhere = false;
		c->next = answer_from_log;
		resume_on_worker(c);
		return;
	}
	ud_call_finish(c, rc == 0 && c->commit_fail ? c->status : rc);
}

/*
 * The request log, for a write with a request id: the write and its answer
 * commit together, so a retry anywhere finds both or neither. On a shared
 * store the id is claimed first in the write's transaction (a retry of it
 * running on another daemon waits there, and then answers with this one's
 * answer) and answered last. A store of this daemon alone has one writer:
 * nothing can take the id meanwhile, so the id and its answer are recorded
 * in one row at the end, and an id recorded already undoes the write.
 */
static int
log_claim(ud_call *c, ud_store_conn *conn)
{
	int rc = ud_store_request_claim(conn, c->env->request_id, c->digest,
					ud_now_ms());

	if (rc == UP_ALREADY_EXISTS) {
		c->logged_elsewhere = true;
		return UP_ABORTED; /* nothing to undo yet */
	}
	return rc;
}

static int
log_answer(ud_call *c, ud_store_conn *conn, bool shared)
{
	ud_service *svc = c->svc;
	size_t len = 0;
	uint8_t *buf =
	    pack_envelope(c, c->commit_fail ? c->status : UP_OK, &len);
	uint8_t *box = NULL;
	size_t box_len = 0;
	int64_t now = ud_now_ms(), pruned;
	int64_t keep_ms = (int64_t)svc->cfg->replay_window_s * 1000;
	int64_t prune_after =
	    keep_ms / 2 < LOG_PRUNE_AFTER_MS ? keep_ms / 2 : LOG_PRUNE_AFTER_MS;
	int rc;

	if (buf == NULL) {
		return UP_INTERNAL;
	}
	if ((rc = log_seal(c, buf, len, &box, &box_len)) != 0) {
		free(buf);
		return rc;
	}
	rc = shared ? ud_store_request_answer(conn, c->env->request_id, box,
					      box_len)
		    : ud_store_request_record(conn, c->env->request_id,
					      c->digest, now, box, box_len);
	free(box);
	if (rc != 0) {
		free(buf);
		if (rc == UP_ALREADY_EXISTS && !shared) {
			c->logged_elsewhere = true;
			return UP_ABORTED; /* undoes the write */
		}
		return rc;
	}
	free(c->packed);
	c->packed = buf;
	c->packed_len = len;
	pruned = atomic_load(&svc->log_pruned_ms);
	if ((atomic_fetch_add(&svc->logged, 1) % LOG_PRUNE_EVERY == 0 ||
	     now - pruned > prune_after) &&
	    atomic_compare_exchange_strong(&svc->log_pruned_ms, &pruned, now)) {
		(void)ud_store_request_prune(conn, now - keep_ms);
	}
	return 0;
}

/*
 * A write that failed on a store of this daemon alone, whose id may be
 * recorded (a retry of a committed write: what it does again may fail
 * now, a user deleted already, say): the recorded answer is the answer.
 */
static int
log_failed(ud_call *c, ud_store_conn *conn, int rc)
{
	uint8_t *resp = NULL;
	size_t len = 0;
	int got = ud_store_request_get(conn, c->env->request_id, c->digest,
				       &resp, &len);

	free(resp);
	if (got == 0 || got == UP_FAILED_PRECONDITION) {
		c->logged_elsewhere = true;
		return UP_ABORTED;
	}
	return rc;
}

static int
write_run(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	bool shared = ud_store_shared(c->svc->store);
	int rc;

	c->logged_elsewhere = false;
	if (c->replayable && shared && (rc = log_claim(c, conn)) != 0) {
		return rc;
	}
	rc = c->write(conn, c);
	if ((c->commit_fail = rc == UD_COMMIT_FAIL)) {
		rc = 0; /* commits, and answers the error set */
	}
	if (!c->replayable) {
		return rc;
	}
	if (rc != 0) {
		return shared ? rc : log_failed(c, conn, rc);
	}
	return log_answer(c, conn, shared);
}

int
ud_call_write(ud_call *c, ud_store_write_fn fn)
{
	c->write = fn;
	c->reader = NULL;
	return ud_store_write(c->svc->store, write_run, write_done, c);
}
