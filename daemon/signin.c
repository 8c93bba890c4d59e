/*
 * signin.c - sign-in and the lockout of user names (auth/lockout.h). Every
 * attempt at a name's password is reserved before its hash is checked, and
 * the check happens only when the reservation is granted: attempts made at
 * once count as many as they are. A store shared by several daemons keeps
 * each name's state in the database, and a reservation is a write
 * transaction that locks the name's row, so that the count holds across
 * daemons; otherwise this process's table is the only place that sees
 * every attempt (one daemon per SQLite database), and costs no commit.
 *
 * A call holds its reservation (login_held) until its verdict: a failure
 * (counted, before the answer), a success (the name cleared), or, when the
 * call ends without one, a release when it is freed (c->release).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"

/* Expired failed-login states are pruned once per this many failures. */
#define LOGIN_PRUNE_EVERY 256

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
	rc = ud_call_verify(c, c->login_next);
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
	ud_call_resume(c);
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
	c->release = login_release;
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
