/*
 * stages.c - the hand-offs of a call between threads: to the hashers and
 * back to a worker, and to the store's writer, with what makes a write's
 * answer durable and a repeated request id answered once: the replay table
 * (in memory) and the request log (in the store, sealed).
 *
 * A repeated request id is looked up only once its caller is
 * authenticated (dispatch.c calls ud_call_replay_begin after that), and
 * answered only with the answer of the same caller's same request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"

/*
 * The request log is pruned once per this many recorded answers, and at
 * least this often (or twice per replay window, if that is sooner) while
 * answers are recorded, so that a quiet daemon keeps answers not much
 * longer than the replay window.
 */
#define LOG_PRUNE_EVERY    4096
#define LOG_PRUNE_AFTER_MS 60000

_Static_assert(UD_REPLAY_DIGEST_LEN == UD_REQUEST_DIGEST_LEN,
	       "the replay table and the request log share one digest");

static void
replay_waiter(const uint8_t *resp, size_t len, void *arg)
{
	ud_call *c = arg;

	if (resp == NULL) {
		ud_call_finish(c, UP_ABORTED);
		return;
	}
	c->svc->send(&c->to, resp, len);
	ud_call_free(c);
}

/*
 * The request log keeps answers sealed (seal.h): an answer may carry a
 * live token (GetAccessToken's), and a reader of the database must not be
 * able to use it. A box is bound to its request id and digest.
 */
static int
log_aad(const ud_call *c, uint8_t *aad, size_t size, size_t *len)
{
	size_t n = strlen(c->replay_key);

	if (n + UD_REQUEST_DIGEST_LEN > size) {
		return UP_INTERNAL;
	}
	memcpy(aad, c->replay_key, n);
	memcpy(aad + n, c->digest, UD_REQUEST_DIGEST_LEN);
	*len = n + UD_REQUEST_DIGEST_LEN;
	return 0;
}

static int
log_seal(const ud_call *c, const uint8_t *in, size_t len, uint8_t **out,
	 size_t *out_len)
{
	uint8_t aad[UD_REPLAY_KEY_MAX + UD_REQUEST_DIGEST_LEN];
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
	uint8_t aad[UD_REPLAY_KEY_MAX + UD_REQUEST_DIGEST_LEN];
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
	const char *id = c->replay_key;
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
		ud_metrics_replayed(svc, true);
		svc->send(&c->to, resp, len);
		free(resp);
		ud_call_free(c);
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
int
ud_call_replay_begin(ud_call *c)
{
	const char *id = c->env->request_id;
	uint8_t *resp = NULL;
	size_t len = 0;
	ud_replay_state st;

	if (!c->method->writes || id == NULL || id[0] == '\0' ||
	    c->replayable) {
		return 0; /* replayable: begun, and the call runs again */
	}
	/*
	 * An id is the caller's own: the table and the log know it as
	 * "<user id>:<id>" (user 0: an operation open to anyone), so one
	 * caller's ids neither answer nor block another's.
	 */
	snprintf(c->replay_key, sizeof(c->replay_key), "%lld:%s",
		 (long long)c->actor.id, id);
	id = c->replay_key;
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
		 * write (ud_call_settle): a write learns it from its claim.
		 */
		c->replayable = true;
		return 0;
	case UD_REPLAY_DONE:
		ud_metrics_replayed(c->svc, false);
		c->svc->send(&c->to, resp, len);
		free(resp);
		ud_call_free(c);
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
int
ud_call_settle(ud_call *c, int rc)
{
	int logged;

	if (rc == UD_ASYNC || !c->replayable) {
		return rc; /* c may be gone when UD_ASYNC */
	}
	logged = replay_logged(c);
	return logged == 0 ? rc : logged == 1 ? UD_ASYNC : logged;
}

static void
worker_resume(void *arg, void *tctx)
{
	ud_call *c = arg;
	ud_store_conn *reader = tctx;
	int rc;

	c->reader = reader;
	ud_store_snapshot_begin(reader);
	rc = ud_call_settle(c, c->next(c));
	if (rc != UD_ASYNC) {
		c->reader = NULL;
		ud_call_finish(c, rc);
	}
	ud_store_snapshot_end(reader);
}

void
ud_call_resume(ud_call *c)
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
	ud_call_resume(c);
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
	ud_call_resume(c);
}

int
ud_call_hash(ud_call *c, ud_step_fn next)
{
	c->next = next;
	c->reader = NULL;
	return ud_pool_push(c->svc->hashers, hasher_hash, c);
}

int
ud_call_verify(ud_call *c, ud_step_fn next)
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
		ud_replay_finish(c->svc->replay, c->replay_key, NULL, 0, false);
		return ud_call_fail(c, UP_ABORTED, NULL, NULL);
	}
	return rc == 1 ? UD_ASYNC : rc;
}

static void
write_done(int rc, void *arg)
{
	ud_call *c = arg;

	if (rc == UD_STORE_CHANGED && c->caller_unchecked) {
		/* rolled back: the caller changed meanwhile */
		c->next = ud_call_caller_changed;
		ud_call_resume(c);
		return;
	}
	if (c->logged_elsewhere) {
		c->logged_elsewhere = false;
		c->next = answer_from_log;
		ud_call_resume(c);
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
	int rc =
	    ud_store_request_claim(conn, c->replay_key, c->digest, ud_now_ms());

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
	    ud_call_pack(c, c->commit_fail ? c->status : UP_OK, &len);
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
	rc = shared ? ud_store_request_answer(conn, c->replay_key, box, box_len)
		    : ud_store_request_record(conn, c->replay_key, c->digest,
					      now, box, box_len);
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
	int got =
	    ud_store_request_get(conn, c->replay_key, c->digest, &resp, &len);

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
	/* first: a stale caller fails whatever the write sends after it */
	if (c->caller_unchecked &&
	    (rc = ud_store_user_expect(conn, c->actor.id, c->actor.rev)) != 0) {
		return rc;
	}
	if (c->replayable && shared && (rc = log_claim(c, conn)) != 0) {
		return rc;
	}
	rc = c->write(conn, c);
	if (c->replayable && shared &&
	    ud_store_request_claimed(conn) == UP_ALREADY_EXISTS) {
		/* the claim's verdict came after the write ran (PostgreSQL
		 * sends the claim with the write's first statements) */
		c->logged_elsewhere = true;
		return UP_ABORTED;
	}
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

int
ud_call_write_user(ud_call *c, ud_store_write_fn fn, int64_t user)
{
	ud_store_hint h = {.user = user};

	c->write = fn;
	c->reader = NULL;
	/* what write_run does before fn, told as it will do it */
	if (c->caller_unchecked) {
		h.caller = c->actor.id;
		h.caller_rev = c->actor.rev;
	}
	if (c->replayable && ud_store_shared(c->svc->store)) {
		h.request_id = c->replay_key;
		memcpy(h.digest, c->digest, sizeof(h.digest));
	}
	return ud_store_write_ahead(c->svc->store, write_run, write_done, c,
				    &h);
}
