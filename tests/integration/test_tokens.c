/*
 * test_tokens.c - refresh tokens through a real usersd (libusersclient, a
 * SQLite store read beside it):
 *
 *   rotation   a refresh answers a bearer token and the next refresh token;
 *              the token it was given is used up;
 *   reuse      a used token again is refused, and revokes every token of
 *              its sign-in (the newest too), not another sign-in's;
 *   retries    the same request (its request id) again, at once, twice at
 *              the same time, or after a restart, is answered with the
 *              first answer and is no reuse;
 *   logout     revokes the sign-in of the token it is given; any other
 *              token (garbage, an access token, one revoked already) is
 *              answered the same and revokes nothing;
 *   the user   a new password ends the sign-ins refreshed before it; a
 *              deleted user's recorded tokens are deleted with it;
 *   at rest    the database is its owner's alone, and the request log
 *              keeps answers sealed (no token a reader of the database
 *              could use) and not much longer than the replay window.
 *
 * Nothing sleeps to wait: every wait polls with a deadline.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "check.h"
#include "harness.h"
#include "usersclient.h"

#define TOKEN_MAX 8192
#define PW        "token-password-1"

static th_daemon daemon_;
static uc_client *admin; /* signed in as the admin */
static uc_client *anon;  /* no credentials: the open operations */

static uc_client *
open_client(const char *url)
{
	const char *urls[] = {url};
	uc_options o = {0};
	uc_client *c = NULL;

	o.urls = urls;
	o.n_urls = 1;
	o.deadline_ms = 5000;
	return uc_client_open(&c, &o) == 0 ? c : NULL;
}

/* A new user (as the admin); its id into id (24 bytes). 0 or -1. */
static int
new_user(const char *email, char *id)
{
	Users__V1__NewUser nu = USERS__V1__NEW_USER__INIT;
	uc_result res;
	int rc = -1;

	nu.email_address = (char *)email;
	nu.password = PW;
	nu.first_name = "Token";
	if (uc_new_user(admin, &nu, NULL, &res) == UP_OK) {
		snprintf(id, 24, "%s",
			 ((const Users__V1__UserInfo *)res.response)->id);
		rc = 0;
	}
	uc_result_fini(&res);
	return rc;
}

/* Authenticate; the refresh token into ref (TOKEN_MAX). The status. */
static int
sign_in(const char *email, char *ref)
{
	Users__V1__Authenticate a = USERS__V1__AUTHENTICATE__INIT;
	uc_result res;
	int st;

	a.user_name = (char *)email;
	a.password = PW;
	st = uc_authenticate(anon, &a, NULL, &res);
	ref[0] = '\0';
	if (st == UP_OK) {
		const Users__V1__AuthenticateResponse *r =
		    (const void *)res.response;
		snprintf(ref, TOKEN_MAX, "%s",
			 r->refresh_token ? r->refresh_token : "");
	}
	uc_result_fini(&res);
	return st;
}

/*
 * GetAccessToken with ref (request id rid, or a fresh one): the status;
 * the next refresh token into next and the bearer token into access
 * (either may be NULL; "" when none).
 */
static int
refresh(const char *ref, const char *rid, char *next, char *access)
{
	Users__V1__GetAccessToken g = USERS__V1__GET_ACCESS_TOKEN__INIT;
	uc_call_opts o = {.request_id = rid};
	uc_result res;
	int st;

	g.refresh_token = (char *)ref;
	st = uc_get_access_token(anon, &g, &o, &res);
	if (next != NULL) {
		next[0] = '\0';
	}
	if (access != NULL) {
		access[0] = '\0';
	}
	if (st == UP_OK) {
		const Users__V1__GetAccessTokenResponse *r =
		    (const void *)res.response;
		if (next != NULL && r->refresh_token != NULL) {
			snprintf(next, TOKEN_MAX, "%s", r->refresh_token);
		}
		if (access != NULL && r->access_token != NULL) {
			snprintf(access, TOKEN_MAX, "%s", r->access_token);
		}
	}
	uc_result_fini(&res);
	return st;
}

static int
logout(const char *ref)
{
	Users__V1__Logout l = USERS__V1__LOGOUT__INIT;
	uc_result res;
	int st;

	l.refresh_token = (char *)ref;
	st = uc_logout(anon, &l, NULL, &res);
	CHECK(st != UP_OK || res.response->descriptor ==
				 &users__v1__authenticate_response__descriptor);
	uc_result_fini(&res);
	return st;
}

/* GetUser id with a bearer token: the status. */
static int
get_user_with(const char *access, const char *id)
{
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	uc_call_opts o = {.bearer_token = access};
	uc_result res;
	int st;

	g.user_id = (char *)id;
	st = uc_get_user(anon, &g, &o, &res);
	uc_result_fini(&res);
	return st;
}

/* The refresh tokens the store holds for user id; -1 when unreadable. */
static long long
stored_tokens(const char *id)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n = -1;

	if (sqlite3_open_v2(daemon_.db, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM refresh_tokens"
			       " WHERE user_id = ?1",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, strtoll(id, NULL, 10));
		if (sqlite3_step(s) == SQLITE_ROW) {
			n = sqlite3_column_int64(s, 0);
		}
	}
	if (n < 0) {
		fprintf(stderr, "stored_tokens: %s\n", sqlite3_errmsg(db));
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* Whether len bytes at b hold the text needle. */
static bool
holds(const char *b, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++) {
		if (memcmp(b + i, needle, n) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * How many request log answers of db hold needle (a token; NULL: none is
 * looked for), and how many answers there are, into *all. -1 when
 * unreadable.
 */
static long long
log_answers_with(const char *db_path, const char *needle, long long *all)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n = -1;
	int step;

	*all = 0;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT response FROM request_log", -1, &s,
			       NULL) == SQLITE_OK) {
		n = 0;
		while ((step = sqlite3_step(s)) == SQLITE_ROW) {
			const void *b = sqlite3_column_blob(s, 0);
			size_t len = (size_t)sqlite3_column_bytes(s, 0);
			(*all)++;
			n += needle != NULL && b != NULL &&
			     holds(b, len, needle);
		}
		if (step != SQLITE_DONE) {
			n = -1;
		}
	}
	if (n < 0) {
		fprintf(stderr, "log_answers_with: %s\n", sqlite3_errmsg(db));
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* Polls (at most 10 s) until c is connected to the daemon, or not. */
static bool
connected_is(uc_client *c, bool want)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	long long t0 = th_now_ms();
	uc_daemon_stats st;

	while (th_now_ms() - t0 < 10000) {
		if (uc_daemon_stats_get(c, 0, &st) == 0 &&
		    st.connected == want) {
			return true;
		}
		nanosleep(&tick, NULL);
	}
	return false;
}

static char *
tok(void)
{
	char *t = calloc(1, TOKEN_MAX);

	if (t == NULL) {
		abort();
	}
	return t;
}

/* ------------------------------------------------------------------------
 * Rotation and reuse
 */

static void
test_rotation(void)
{
	char id[24];
	char *ref0 = tok(), *ref1 = tok(), *ref2 = tok(), *access = tok();
	char *other = tok(), *other1 = tok();

	CHECK_INT(new_user("rotate@example.com", id), 0);
	CHECK_INT(sign_in("rotate@example.com", ref0), UP_OK);
	CHECK_INT(stored_tokens(id), 1);

	/* one refresh: a bearer token that works and the next token */
	CHECK_INT(refresh(ref0, NULL, ref1, access), UP_OK);
	CHECK(ref1[0] != '\0' && strcmp(ref1, ref0) != 0);
	CHECK_INT(get_user_with(access, id), UP_OK);
	CHECK_INT(refresh(ref1, NULL, ref2, NULL), UP_OK);
	CHECK(ref2[0] != '\0' && strcmp(ref2, ref1) != 0);
	CHECK_INT(stored_tokens(id), 3);

	/* another sign-in of the same user, its own family */
	CHECK_INT(sign_in("rotate@example.com", other), UP_OK);

	/* the first token again: refused, and the family is revoked,
	 * the newest token too */
	CHECK_INT(refresh(ref0, NULL, NULL, NULL), UP_UNAUTHENTICATED);
	CHECK_INT(refresh(ref2, NULL, NULL, NULL), UP_UNAUTHENTICATED);
	CHECK_INT(refresh(ref1, NULL, NULL, NULL), UP_UNAUTHENTICATED);
	CHECK_INT(stored_tokens(id), 1);
	/* the other sign-in goes on */
	CHECK_INT(refresh(other, NULL, other1, NULL), UP_OK);
	CHECK_INT(refresh(other1, NULL, NULL, NULL), UP_OK);
	free(ref0);
	free(ref1);
	free(ref2);
	free(access);
	free(other);
	free(other1);
}

/* ------------------------------------------------------------------------
 * Retries
 */

typedef struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int status[2];
	char *next[2];
} waiter;

typedef struct slot {
	waiter *w;
	int i;
} slot;

static void
on_refresh(uc_result *res, void *arg)
{
	slot *s = arg;
	waiter *w = s->w;

	pthread_mutex_lock(&w->mu);
	w->status[s->i] = res->status;
	if (res->status == UP_OK) {
		const Users__V1__GetAccessTokenResponse *r =
		    (const void *)res->response;
		snprintf(w->next[s->i], TOKEN_MAX, "%s",
			 r->refresh_token ? r->refresh_token : "");
	}
	w->done++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	uc_result_fini(res);
}

/* Two refreshes with ref under one request id, sent at once. */
static void
refresh_twice_at_once(const char *ref, const char *rid, char *n0, char *n1,
		      int st[2])
{
	waiter w = {PTHREAD_MUTEX_INITIALIZER,
		    PTHREAD_COND_INITIALIZER,
		    0,
		    {-1, -1},
		    {n0, n1}};
	slot s[2] = {{&w, 0}, {&w, 1}};
	Users__V1__GetAccessToken g = USERS__V1__GET_ACCESS_TOKEN__INIT;
	uc_call_opts o = {.request_id = rid};
	long long t0 = th_now_ms();
	int sent = 0;

	g.refresh_token = (char *)ref;
	for (int i = 0; i < 2; i++) {
		sent += uc_get_access_token_async(anon, &g, &o, on_refresh,
						  &s[i]) == 0;
	}
	pthread_mutex_lock(&w.mu);
	while (w.done < sent && th_now_ms() - t0 < 10000) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w.cv, &w.mu, &ts);
	}
	st[0] = w.status[0];
	st[1] = w.status[1];
	pthread_mutex_unlock(&w.mu);
	CHECK_INT(sent, 2);
	CHECK_INT(w.done, 2);
}

/*
 * A request repeated under its request id (a client's retry, or nng
 * resending the same message) gets the first answer, the same next token,
 * and is not taken for reuse: that next token still works. At the same
 * time too, and after a restart (the request log).
 */
static void
test_retries(void)
{
	const char *const args[] = {NULL};
	char id[24];
	char *ref0 = tok(), *ref1 = tok(), *again = tok(), *ref2 = tok();
	char *n0 = tok(), *n1 = tok();
	int st[2];

	CHECK_INT(new_user("retry@example.com", id), 0);
	CHECK_INT(sign_in("retry@example.com", ref0), UP_OK);
	CHECK_INT(refresh(ref0, "tokens-retry-1", ref1, NULL), UP_OK);
	CHECK_INT(refresh(ref0, "tokens-retry-1", again, NULL), UP_OK);
	CHECK_STR(again, ref1);

	/* the same request twice at once: one answer for both */
	refresh_twice_at_once(ref1, "tokens-retry-2", n0, n1, st);
	CHECK_INT(st[0], UP_OK);
	CHECK_INT(st[1], UP_OK);
	CHECK(n0[0] != '\0');
	CHECK_STR(n0, n1);

	/* after a restart: the first answer, from the request log */
	CHECK_INT(th_daemon_signal(&daemon_, SIGTERM), 0);
	CHECK_INT(th_daemon_wait(&daemon_, 10000), 0);
	CHECK(connected_is(anon, false) && connected_is(admin, false));
	CHECK_INT(th_daemon_restart(&daemon_, args), 0);
	CHECK(connected_is(anon, true) && connected_is(admin, true));
	CHECK_INT(refresh(ref0, "tokens-retry-1", again, NULL), UP_OK);
	CHECK_STR(again, ref1);

	/* no retry counted as reuse: the newest token still works */
	CHECK_INT(refresh(n0, NULL, ref2, NULL), UP_OK);
	CHECK_INT(refresh(ref2, NULL, NULL, NULL), UP_OK);
	/* a new request id with a used token is reuse */
	CHECK_INT(refresh(ref0, "tokens-retry-3", NULL, NULL),
		  UP_UNAUTHENTICATED);
	CHECK_INT(stored_tokens(id), 0);
	free(ref0);
	free(ref1);
	free(again);
	free(ref2);
	free(n0);
	free(n1);
}

/* ------------------------------------------------------------------------
 * Logout
 */

static void
test_logout(void)
{
	char id[24];
	char *ref0 = tok(), *ref1 = tok(), *ref2 = tok(), *access = tok();

	CHECK_INT(new_user("logout@example.com", id), 0);

	/* the sign-in of the token ends, whichever of its tokens is given */
	CHECK_INT(sign_in("logout@example.com", ref0), UP_OK);
	CHECK_INT(refresh(ref0, NULL, ref1, access), UP_OK);
	CHECK_INT(logout(ref1), UP_OK);
	CHECK_INT(refresh(ref1, NULL, NULL, NULL), UP_UNAUTHENTICATED);
	CHECK_INT(stored_tokens(id), 0);
	CHECK_INT(sign_in("logout@example.com", ref0), UP_OK);
	CHECK_INT(refresh(ref0, NULL, ref1, NULL), UP_OK);
	CHECK_INT(logout(ref0), UP_OK);
	CHECK_INT(refresh(ref1, NULL, NULL, NULL), UP_UNAUTHENTICATED);

	/* the same answer whatever the token, and nothing revoked */
	CHECK_INT(sign_in("logout@example.com", ref2), UP_OK);
	CHECK_INT(logout(ref1), UP_OK); /* revoked already */
	CHECK_INT(logout(ref1), UP_OK);
	CHECK_INT(logout("not-a-token"), UP_OK);
	CHECK_INT(logout(""), UP_OK);
	CHECK_INT(logout(NULL), UP_OK);
	CHECK_INT(logout(access), UP_OK); /* an access token */
	CHECK_INT(refresh(ref2, NULL, ref0, NULL), UP_OK);
	CHECK_INT(stored_tokens(id), 2);

	/* the bearer token lives on until it expires (stateless) */
	CHECK_INT(logout(ref0), UP_OK);
	CHECK_INT(get_user_with(access, id), UP_OK);
	free(ref0);
	free(ref1);
	free(ref2);
	free(access);
}

/* ------------------------------------------------------------------------
 * The user's password, and the user deleted
 */

static void
test_user_changes(void)
{
	Users__V1__PatchUser pu = USERS__V1__PATCH_USER__INIT;
	Users__V1__DeleteUser du = USERS__V1__DELETE_USER__INIT;
	char id[24], gone[24];
	char *ref0 = tok(), *ref1 = tok(), *other = tok();
	uc_result res;

	/* a new password: the refreshed token of a sign-in before is dead */
	CHECK_INT(new_user("newpw@example.com", id), 0);
	CHECK_INT(sign_in("newpw@example.com", ref0), UP_OK);
	CHECK_INT(refresh(ref0, NULL, ref1, NULL), UP_OK);
	pu.user_id = id;
	pu.new_password = "another-password-2";
	CHECK_INT(uc_patch_user(admin, &pu, NULL, &res), UP_OK);
	uc_result_fini(&res);
	CHECK_INT(refresh(ref1, NULL, NULL, NULL), UP_UNAUTHENTICATED);

	/* a deleted user's tokens go with it */
	CHECK_INT(new_user("gone@example.com", gone), 0);
	CHECK_INT(sign_in("gone@example.com", ref0), UP_OK);
	CHECK_INT(sign_in("gone@example.com", other), UP_OK);
	CHECK_INT(refresh(other, NULL, ref1, NULL), UP_OK);
	CHECK_INT(stored_tokens(gone), 3);
	du.user_id = gone;
	CHECK_INT(uc_delete_user(admin, &du, NULL, &res), UP_OK);
	uc_result_fini(&res);
	CHECK_INT(stored_tokens(gone), 0);
	CHECK_INT(refresh(ref0, NULL, NULL, NULL), UP_UNAUTHENTICATED);
	CHECK_INT(refresh(ref1, NULL, NULL, NULL), UP_UNAUTHENTICATED);
	free(ref0);
	free(ref1);
	free(other);
}

/* ------------------------------------------------------------------------
 * At rest
 */

static void
test_at_rest(void)
{
	char id[24], *ref = tok(), *next = tok(), *access = tok();
	char wal[160];
	struct stat sb;
	long long all = 0;

	CHECK_INT(new_user("rest@example.com", id), 0);
	CHECK_INT(sign_in("rest@example.com", ref), UP_OK);
	CHECK_INT(refresh(ref, "at-rest-0001", next, access), UP_OK);
	CHECK(next[0] != '\0' && access[0] != '\0');
	/* The answer was logged (a retry gets it), but sealed: neither
	 * token, nor any JWT, is in the database. */
	CHECK_INT(log_answers_with(daemon_.db, next, &all), 0);
	CHECK(all > 0);
	CHECK_INT(log_answers_with(daemon_.db, access, &all), 0);
	/* the start of every token's header: {"typ":"JWT */
	CHECK_INT(log_answers_with(daemon_.db, "eyJ0eXAiOiJKV1", &all), 0);
	{
		char *again = tok();
		CHECK_INT(refresh(ref, "at-rest-0001", again, NULL), UP_OK);
		CHECK_STR(again, next);
		free(again);
	}
	/* The files are the owner's alone. */
	CHECK(stat(daemon_.db, &sb) == 0 && (sb.st_mode & 077) == 0);
	snprintf(wal, sizeof(wal), "%s-wal", daemon_.db);
	CHECK(stat(wal, &sb) == 0 && (sb.st_mode & 077) == 0);
	free(ref);
	free(next);
	free(access);
}

/*
 * A daemon whose replay window is 2 s forgets an answer once the window
 * has passed and another write comes, whatever the count of writes.
 */
static void
test_log_window(void)
{
	static const char *const args[] = {"--replay-window", "2", NULL};
	th_daemon d;
	uc_client *c;
	uc_result res;
	long long all = 0, t0;
	struct timespec tick = {0, 50 * 1000 * 1000};
	Users__V1__CreateOrganization co = USERS__V1__CREATE_ORGANIZATION__INIT;
	uc_call_opts o = {.request_id = "window-first"};

	if (th_daemon_start(&d, args) != 0) {
		CHECK(false);
		return;
	}
	c = open_client(d.url);
	CHECK(c != NULL);
	CHECK_INT(uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res), UP_OK);
	uc_result_fini(&res);
	co.name = "First";
	CHECK_INT(uc_create_organization(c, &co, &o, &res), UP_OK);
	uc_result_fini(&res);
	CHECK(log_answers_with(d.db, NULL, &all) == 0 && all == 1);
	t0 = th_now_ms();
	/* The window passes: the clock is what is waited for. */
	while (th_now_ms() - t0 < 2500) {
		nanosleep(&tick, NULL);
	}
	o.request_id = "window-second";
	co.name = "Second";
	CHECK_INT(uc_create_organization(c, &co, &o, &res), UP_OK);
	uc_result_fini(&res);
	CHECK_INT(log_answers_with(d.db, NULL, &all), 0);
	CHECK_INT(all, 1); /* the second's alone */
	CHECK_INT(th_daemon_stop(&d), 0);
}

int
main(void)
{
	uc_result res;

	signal(SIGPIPE, SIG_IGN);
	if (th_daemon_start(&daemon_, NULL) != 0) {
		return 1;
	}
	admin = open_client(daemon_.url);
	anon = open_client(daemon_.url);
	if (admin == NULL || anon == NULL) {
		th_daemon_stop(&daemon_);
		return 1;
	}
	CHECK_INT(uc_login(admin, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res),
		  UP_OK);
	uc_result_fini(&res);
	fprintf(stderr, "test_tokens: rotation and reuse\n");
	test_rotation();
	fprintf(stderr, "test_tokens: logout\n");
	test_logout();
	fprintf(stderr, "test_tokens: the user's password, the user gone\n");
	test_user_changes();
	fprintf(stderr, "test_tokens: retries\n");
	test_retries();
	fprintf(stderr, "test_tokens: at rest\n");
	test_at_rest();
	test_log_window();
	if (check_failed > 0) {
		th_daemon_dump_log(&daemon_);
	}
	/* No uc_client_close: nng_close can hang at exit (docs/decisions.md,
	 * section 13). */
	CHECK_INT(th_daemon_stop(&daemon_), 0);
	return check_done();
}
