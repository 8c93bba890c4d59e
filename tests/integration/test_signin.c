/*
 * test_signin.c - signing in, through real usersd processes:
 *
 *   parallel    64 wrong passwords for one name at once, by Authenticate
 *   guesses     and by Basic credentials: at most 5 are checked (401),
 *               the rest refused at once (429), and the name is locked,
 *               the right password refused too. On SQLite (test_signin)
 *               and on PostgreSQL with two daemons sharing the database
 *               (test_signin pg, the "pg" fixture).
 *   request ids a write's request id is answered from memory or the
 *               request log only to its own caller (none: 401; another
 *               user: refused as a reused id); an answer that is not final
 *               (UNAVAILABLE: the SQLite write lock held past the busy
 *               timeout) is not kept, so a retry succeeds once the cause
 *               is gone.
 *   hash cost   a --hash-cost below the floor is refused unless
 *               --allow-insecure-hash-cost is given (then said once); a
 *               login under a weaker configured cost keeps the stronger
 *               hash that is stored.
 *   no password a user whose stored hash is NULL never signs in, by
 *               Authenticate or Basic credentials: 401 like a wrong
 *               password, counted towards the lockout.
 *
 * The harness starts usersd with a cheap hash cost (and the flag that
 * allows it); tests that need a real cost give one. Nothing sleeps to
 * wait: every wait polls with a deadline.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "harness.h"
#include "pg_testdb.h"
#include "usersclient.h"

/* OWASP's cost: the default, and above the floor. */
#define STRONG_COST "m=19456,t=2,p=1"

static uc_client *
open_client(const char *url)
{
	const char *urls[] = {url};
	uc_options o = {0};
	uc_client *c = NULL;

	o.urls = urls;
	o.n_urls = 1;
	o.deadline_ms = 20000;
	return uc_client_open(&c, &o) == 0 ? c : NULL;
}

static int
login(uc_client *c, const char *user, const char *password)
{
	uc_result res = {0};
	int rc = uc_login(c, user, password, &res);

	uc_result_fini(&res);
	return rc;
}

/* Stops d and keeps its directory (for a restart or a look at its db). */
static void
stop_keep(th_daemon *d)
{
	CHECK_INT(th_daemon_signal(d, SIGTERM), 0);
	CHECK_INT(th_daemon_wait(d, 10000), 0);
}

/* How many lines of d's log hold needle. */
static int
log_count(const th_daemon *d, const char *needle)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(d->log, "r");

	if (f == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n += strstr(line, needle) != NULL;
	}
	fclose(f);
	return n;
}

/*
 * The stored password hash of user id (malloc'd), or NULL: read with
 * SQLite itself, from the database of a stopped daemon.
 */
static char *
stored_hash(const char *db, int64_t id)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	char *hash = NULL;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h,
			       "SELECT password_hash FROM users WHERE id = ?",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL) {
		hash = strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return hash;
}

/* ------------------------------------------------------------------------
 * The hash cost
 */

/* Below the floor: refused with a reason, or (with the flag) warned once. */
static void
test_cost_floor(void)
{
	char bin[512], dir[] = "/tmp/test_signin.XXXXXX", db[128], sock[160];
	th_output o = {0};
	th_daemon d;

	if (th_bin("usersd", bin, sizeof(bin)) != 0 || mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(db, sizeof(db), "%s/users.db", dir);
	snprintf(sock, sizeof(sock), "ipc://%s/usersd.sock", dir);
	{
		const char *argv[] = {
		    bin, "--listen",    sock,           "--db",
		    db,  "--hash-cost", "m=64,t=1,p=1", NULL};
		CHECK_INT(th_run(argv, NULL, NULL, 10000, &o), 0);
		CHECK_INT(o.status, 2);
		CHECK(o.err != NULL && strstr(o.err, "below the floor") &&
		      strstr(o.err, "--allow-insecure-hash-cost"));
		th_output_fini(&o);
	}
	{
		/* m*t under 35840 with enough memory: refused too */
		const char *argv[] = {
		    bin,           "--listen",        sock, "--db", db,
		    "--hash-cost", "m=19456,t=1,p=1", NULL};
		CHECK_INT(th_run(argv, NULL, NULL, 10000, &o), 0);
		CHECK_INT(o.status, 2);
		th_output_fini(&o);
	}
	remove(db);
	rmdir(dir);
	/* the harness gives the flag: it starts, and says so once */
	if (th_daemon_start(&d, NULL) != 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(log_count(&d, "warning: --hash-cost m=64,t=1,p=1 is below "
				"the floor"),
		  1);
	th_daemon_stop(&d);
}

/*
 * A hash made at a strong cost, and a daemon restarted with a weak one
 * (allowed): logging in keeps the strong hash, never rehashes it down.
 */
static void
test_no_downgrade(void)
{
	const char *strong[] = {"--hash-cost", STRONG_COST, NULL};
	th_daemon d;
	uc_client *c;
	char *h;

	if (th_daemon_start(&d, strong) != 0) {
		CHECK(0);
		return;
	}
	stop_keep(&d);
	h = stored_hash(d.db, 1);
	CHECK(h != NULL && strstr(h, "$m=19456,t=2,p=1$") != NULL);
	free(h);
	/* the harness's own cost: m=64,t=1 */
	CHECK_INT(th_daemon_restart(&d, NULL), 0);
	if ((c = open_client(d.url)) != NULL) {
		CHECK_INT(login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD), UP_OK);
		CHECK_INT(login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD), UP_OK);
		uc_client_close(c);
	}
	stop_keep(&d);
	h = stored_hash(d.db, 1);
	CHECK(h != NULL && strstr(h, "$m=19456,t=2,p=1$") != NULL);
	free(h);
	th_daemon_stop(&d);
}

/* ------------------------------------------------------------------------
 * A user without a password
 */

/* Runs sql on the SQLite database db (no daemon on it). 0 or -1. */
static int
sql_exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open(db, &h);

	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	}
	sqlite3_close(h);
	return rc == SQLITE_OK ? 0 : -1;
}

/* NewUser email with password, as the client's caller; its id or "". */
static void
new_user(uc_client *c, const char *email, const char *password, char *id,
	 size_t cap)
{
	Users__V1__NewUser req = USERS__V1__NEW_USER__INIT;
	uc_result res = {0};

	id[0] = '\0';
	req.email_address = (char *)email;
	req.password = (char *)password;
	req.first_name = "Sign";
	req.last_name = "In";
	if (uc_new_user(c, &req, NULL, &res) == UP_OK) {
		snprintf(id, cap, "%s",
			 ((Users__V1__UserInfo *)res.response)->id);
	}
	uc_result_fini(&res);
}

/* GetUser of id with Basic credentials; the status. */
static int
get_basic(uc_client *c, const char *id, const char *user, const char *pw)
{
	Users__V1__GetUser req = USERS__V1__GET_USER__INIT;
	uc_call_opts o = {0};
	uc_result res = {0};
	int rc;

	req.user_id = (char *)id;
	o.basic_user = user;
	o.basic_password = pw;
	o.deadline_ms = 5000;
	rc = uc_get_user(c, &req, &o, &res);
	uc_result_fini(&res);
	return rc;
}

/*
 * A user whose stored hash is NULL (no password, as a tool or a hand may
 * leave it) never signs in: Authenticate and Basic credentials both
 * answer 401 as for a wrong password, and count towards the lockout; the
 * daemon goes on serving.
 */
static void
test_no_password(void)
{
	const char *pw = "nopw-password-1";
	char id[32], sql[128];
	th_daemon d;
	uc_client *c;

	if (th_daemon_start(&d, NULL) != 0) {
		CHECK(0);
		return;
	}
	if ((c = open_client(d.url)) != NULL) {
		CHECK_INT(login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD), UP_OK);
		new_user(c, "nopw@example.com", pw, id, sizeof(id));
		CHECK(id[0] != '\0');
		CHECK_INT(login(c, "nopw@example.com", pw), UP_OK);
		uc_client_close(c);
	}
	stop_keep(&d);
	snprintf(sql, sizeof(sql),
		 "UPDATE users SET password_hash = NULL WHERE id = %lld",
		 strtoll(id, NULL, 10));
	CHECK_INT(sql_exec(d.db, sql), 0);
	CHECK_INT(th_daemon_restart(&d, NULL), 0);
	if ((c = open_client(d.url)) == NULL) {
		CHECK(0);
		th_daemon_stop(&d);
		return;
	}
	CHECK_INT(login(c, "nopw@example.com", pw), UP_UNAUTHENTICATED);
	CHECK_INT(get_basic(c, id, "nopw@example.com", pw), UP_UNAUTHENTICATED);
	CHECK_INT(get_basic(c, id, "nopw@example.com", ""), UP_UNAUTHENTICATED);
	/* still serving */
	CHECK_INT(login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD), UP_OK);
	/* two more make five failures: the name is locked */
	CHECK_INT(login(c, "nopw@example.com", "other-password"),
		  UP_UNAUTHENTICATED);
	CHECK_INT(login(c, "nopw@example.com", pw), UP_UNAUTHENTICATED);
	CHECK_INT(login(c, "nopw@example.com", pw), UP_RESOURCE_EXHAUSTED);
	uc_client_close(c);
	th_daemon_stop(&d);
}

/* ------------------------------------------------------------------------
 * Request ids: whose answer, and which answers are kept
 */

/* A client signed in as user/password (its bearer token kept), or NULL. */
static uc_client *
signed_in(const char *url, const char *user, const char *password)
{
	uc_client *c = open_client(url);

	if (c != NULL && login(c, user, password) != UP_OK) {
		uc_client_close(c);
		c = NULL;
	}
	return c;
}

/*
 * NewUser with request id rid, as the caller of o (o->request_id set
 * here); the result in res (uc_result_fini by the caller).
 */
static int
new_user_as(uc_client *c, uc_call_opts *o, const char *rid, uc_result *res)
{
	Users__V1__NewUser req = USERS__V1__NEW_USER__INIT;

	req.email_address = "replayed@example.com";
	req.password = "replayed-password-1";
	req.first_name = "Private";
	req.last_name = "Person";
	o->request_id = rid;
	return uc_new_user(c, &req, o, res);
}

/* The id of the user a NewUser result names, or "". */
static const char *
result_id(const uc_result *res)
{
	return res->status == UP_OK && res->response != NULL
		   ? ((Users__V1__UserInfo *)res->response)->id
		   : "";
}

/*
 * A write's request id is answered from the table (and, after a restart,
 * from the request log) only to the caller who made it: the same id and
 * request without credentials is 401; from another user it is that user's
 * own request under that user's own id (ids are scoped to their caller),
 * never the first answer (it names the new user). The same caller, by bearer
 * token or Basic credentials, gets the first answer.
 */
static void
test_replay_caller(void)
{
	const char *rid = "replay-caller-1";
	th_daemon d;
	uc_client *admin = NULL, *viewer = NULL, *anon = NULL;
	uc_result first = {0}, res = {0};
	uc_call_opts o = {0};
	char vid[32];

	if (th_daemon_start(&d, NULL) != 0) {
		CHECK(0);
		return;
	}
	admin = signed_in(d.url, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD);
	anon = open_client(d.url);
	if (admin == NULL || anon == NULL) {
		CHECK(0);
		goto out;
	}
	new_user(admin, "viewer@example.com", "viewer-password-1", vid,
		 sizeof(vid));
	viewer = signed_in(d.url, "viewer@example.com", "viewer-password-1");
	CHECK(viewer != NULL);
	/*
	 * Ids are scoped to their caller: the viewer's use of rid first
	 * (refused) neither blocks the administrator's nor answers it.
	 */
	if (viewer != NULL) {
		CHECK_INT(new_user_as(viewer, &o, rid, &res),
			  UP_PERMISSION_DENIED);
		uc_result_fini(&res);
		memset(&o, 0, sizeof(o));
	}
	CHECK_INT(new_user_as(admin, &o, rid, &first), UP_OK);
	CHECK(result_id(&first)[0] != '\0');
	/* an id that is not UTF-8 text is refused before anything runs */
	memset(&o, 0, sizeof(o));
	CHECK_INT(new_user_as(admin, &o, "bad-\xff\xfe-id", &res),
		  UP_INVALID_ARGUMENT);
	CHECK(res.error != NULL &&
	      strcmp(res.error->message, "The request id is not UTF-8 text.") ==
		  0);
	uc_result_fini(&res);

	for (int round = 0; round < 2; round++) {
		/* no credentials at all: 401, not the answer */
		memset(&o, 0, sizeof(o));
		o.bearer_token = "";
		CHECK_INT(new_user_as(anon, &o, rid, &res), UP_UNAUTHENTICATED);
		CHECK(res.response == NULL);
		uc_result_fini(&res);
		/* another user: its own request under its own id (here
		 * refused by the policy), never the first answer */
		if (viewer != NULL) {
			memset(&o, 0, sizeof(o));
			CHECK_INT(new_user_as(viewer, &o, rid, &res),
				  UP_PERMISSION_DENIED);
			CHECK(res.response == NULL);
			CHECK(res.error != NULL &&
			      strcmp(res.error->error_code, "Forbidden") == 0);
			uc_result_fini(&res);
		}
		/* the same caller, by token or by Basic credentials */
		memset(&o, 0, sizeof(o));
		CHECK_INT(new_user_as(admin, &o, rid, &res), UP_OK);
		CHECK_STR(result_id(&res), result_id(&first));
		uc_result_fini(&res);
		memset(&o, 0, sizeof(o));
		o.basic_user = TH_ADMIN_EMAIL;
		o.basic_password = TH_ADMIN_PASSWORD;
		CHECK_INT(new_user_as(anon, &o, rid, &res), UP_OK);
		CHECK_STR(result_id(&res), result_id(&first));
		uc_result_fini(&res);
		if (round == 0) {
			/* again after a restart: the request log answers */
			uc_client_close(admin);
			uc_client_close(anon);
			if (viewer != NULL) {
				uc_client_close(viewer);
			}
			stop_keep(&d);
			CHECK_INT(th_daemon_restart(&d, NULL), 0);
			admin =
			    signed_in(d.url, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD);
			anon = open_client(d.url);
			viewer = signed_in(d.url, "viewer@example.com",
					   "viewer-password-1");
			if (admin == NULL || anon == NULL || viewer == NULL) {
				CHECK(0);
				goto out;
			}
		}
	}
out:
	uc_result_fini(&first);
	if (admin != NULL) {
		uc_client_close(admin);
	}
	if (anon != NULL) {
		uc_client_close(anon);
	}
	if (viewer != NULL) {
		uc_client_close(viewer);
	}
	th_daemon_stop(&d);
}

/*
 * A write that failed with UNAVAILABLE (another connection held the
 * database's write lock past the daemon's 5 s busy timeout) and is retried
 * with the same request id once the lock is gone runs again, and succeeds:
 * the first answer was not final, so it was not kept.
 */
static void
test_replay_unavailable(void)
{
	Users__V1__PatchUser pu = USERS__V1__PATCH_USER__INIT;
	Users__V1__GetUser gu = USERS__V1__GET_USER__INIT;
	uc_call_opts o = {0};
	uc_result res = {0};
	sqlite3 *lock = NULL;
	uc_client *admin;
	th_daemon d;
	char id[32];

	if (th_daemon_start(&d, NULL) != 0) {
		CHECK(0);
		return;
	}
	if ((admin = signed_in(d.url, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD)) ==
	    NULL) {
		CHECK(0);
		th_daemon_stop(&d);
		return;
	}
	new_user(admin, "busy@example.com", "busy-password-1", id, sizeof(id));
	CHECK(id[0] != '\0');
	pu.user_id = id;
	pu.first_name = "Retried";
	o.request_id = "busy-patch-1";
	o.deadline_ms = 30000;
	/* the database's write lock, held by another connection */
	CHECK_INT(sqlite3_open(d.db, &lock), SQLITE_OK);
	CHECK_INT(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL),
		  SQLITE_OK);
	CHECK_INT(uc_patch_user(admin, &pu, &o, &res), UP_UNAVAILABLE);
	uc_result_fini(&res);
	CHECK_INT(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	/* the cause is gone: the retry runs, and succeeds */
	CHECK_INT(uc_patch_user(admin, &pu, &o, &res), UP_OK);
	uc_result_fini(&res);
	gu.user_id = id;
	CHECK_INT(uc_get_user(admin, &gu, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		CHECK_STR(((Users__V1__UserInfo *)res.response)->first_name,
			  "Retried");
	}
	uc_result_fini(&res);
	/* and now the answer is kept: the same id again is answered OK */
	CHECK_INT(uc_patch_user(admin, &pu, &o, &res), UP_OK);
	uc_result_fini(&res);
	uc_client_close(admin);
	th_daemon_stop(&d);
}

/* ------------------------------------------------------------------------
 * Guesses in parallel
 */

typedef struct tally {
	atomic_int done;
	atomic_int unauthenticated;
	atomic_int exhausted;
	atomic_int other;
} tally;

static void
tally_cb(uc_result *res, void *arg)
{
	tally *t = arg;

	if (res->status == UP_UNAUTHENTICATED) {
		atomic_fetch_add(&t->unauthenticated, 1);
	} else if (res->status == UP_RESOURCE_EXHAUSTED) {
		atomic_fetch_add(&t->exhausted, 1);
	} else {
		fprintf(stderr, "test_signin: a guess answered %s\n",
			up_status_name(res->status));
		atomic_fetch_add(&t->other, 1);
	}
	uc_result_fini(res);
	atomic_fetch_add(&t->done, 1);
}

/*
 * n wrong passwords for name, all sent before the first answer, spread
 * over the clients: by Authenticate, or (basic) as the Basic credentials
 * of a GetUser. Waits for every answer (at most 60 s).
 */
static void
guess_at_once(uc_client *const *cl, size_t n_cl, int n, const char *name,
	      bool basic, tally *t)
{
	long long deadline;

	for (int i = 0; i < n; i++) {
		uc_call_opts o = {0};
		char pw[32];
		int rc;

		snprintf(pw, sizeof(pw), "wrong-guess-%d", i);
		o.deadline_ms = 30000;
		if (basic) {
			Users__V1__GetUser req = USERS__V1__GET_USER__INIT;
			req.user_id = "1";
			o.basic_user = name;
			o.basic_password = pw;
			rc = uc_call_async(cl[i % n_cl], "GetUser", &req.base,
					   &o, tally_cb, t);
		} else {
			Users__V1__Authenticate req =
			    USERS__V1__AUTHENTICATE__INIT;
			req.user_name = (char *)name;
			req.password = pw;
			rc = uc_call_async(cl[i % n_cl], "Authenticate",
					   &req.base, &o, tally_cb, t);
		}
		if (rc != 0) {
			atomic_fetch_add(&t->other, 1);
			atomic_fetch_add(&t->done, 1);
		}
	}
	deadline = th_now_ms() + 60000;
	while (atomic_load(&t->done) < n && th_now_ms() < deadline) {
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/*
 * 64 wrong passwords at once for one name (the daemon's 64 contexts
 * full), by Authenticate and then, for another name, by Basic
 * credentials: at most free_failures (5) are checked (401), the others
 * refused at once (429), and the name ends locked: the right password is
 * refused too. clients: fresh ones (no credentials of their own), one per
 * daemon; admin: signed in as the administrator.
 */
static void
test_parallel_guesses(uc_client *const *clients, size_t n_clients,
		      uc_client *admin)
{
	static const char *const names[] = {"guess@example.com",
					    "basic-guess@example.com"};
	const char *pw = "guess-password-1";

	for (int k = 0; k < 2; k++) {
		bool basic = k == 1;
		tally t = {0};
		char id[32];
		int unauth, exhausted;

		new_user(admin, names[k], pw, id, sizeof(id));
		CHECK(id[0] != '\0');
		guess_at_once(clients, n_clients, 64, names[k], basic, &t);
		unauth = atomic_load(&t.unauthenticated);
		exhausted = atomic_load(&t.exhausted);
		fprintf(stderr,
			"test_signin: 64 guesses at once (%s): %d checked "
			"(401), %d refused (429)\n",
			basic ? "Basic" : "Authenticate", unauth, exhausted);
		CHECK_INT(atomic_load(&t.done), 64);
		CHECK_INT(atomic_load(&t.other), 0);
		CHECK(unauth >= 1 && unauth <= 5);
		CHECK_INT(unauth + exhausted, 64);
		/* locked: the right password is refused as well */
		if (basic) {
			CHECK_INT(get_basic(clients[0], "1", names[k], pw),
				  UP_RESOURCE_EXHAUSTED);
		} else {
			CHECK_INT(login(clients[0], names[k], pw),
				  UP_RESOURCE_EXHAUSTED);
		}
	}
}

/*
 * The parallel guesses against one usersd on SQLite, at a real hash cost:
 * each check takes milliseconds, as it does in production, so all 64
 * guesses arrive while the first ones are still being checked.
 */
static void
test_parallel_guesses_sqlite(void)
{
	const char *strong[] = {"--hash-cost", STRONG_COST, NULL};
	uc_client *admin, *guesser;
	th_daemon d;

	if (th_daemon_start(&d, strong) != 0) {
		CHECK(0);
		return;
	}
	admin = open_client(d.url);
	guesser = open_client(d.url);
	if (admin != NULL && guesser != NULL) {
		CHECK_INT(login(admin, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD),
			  UP_OK);
		test_parallel_guesses(&guesser, 1, admin);
	} else {
		CHECK(0);
	}
	if (check_failed > 0) {
		th_daemon_dump_log(&d);
	}
	if (admin != NULL) {
		uc_client_close(admin);
	}
	if (guesser != NULL) {
		uc_client_close(guesser);
	}
	th_daemon_stop(&d);
}

/*
 * The same against two usersd sharing one PostgreSQL database (the "pg"
 * fixture), the guesses spread over both: the count holds across daemons.
 */
static int
run_pg(void)
{
	char dir[] = "/tmp/test_signin_pg.XXXXXX";
	char dburl[512], key[128];
	const char *dargs[] = {"--db",        dburl,       "--key-file", key,
			       "--hash-cost", STRONG_COST, NULL};
	uc_client *admin = NULL, *guessers[2] = {NULL, NULL};
	th_daemon d1, d2;

	if (pg_testdb_new("signin", dburl, sizeof(dburl)) != 0) {
		fprintf(stderr, "test_signin: no PostgreSQL database (the "
				"\"pg\" fixture)\n");
		return 1;
	}
	if (mkdtemp(dir) == NULL) {
		pg_testdb_drop(dburl);
		return 1;
	}
	snprintf(key, sizeof(key), "%s/usersd.key", dir);
	if (th_daemon_start(&d1, dargs) != 0) {
		CHECK(0);
		goto out;
	}
	if (th_daemon_start(&d2, dargs) != 0) {
		CHECK(0);
		th_daemon_stop(&d1);
		goto out;
	}
	admin = open_client(d1.url);
	guessers[0] = open_client(d1.url);
	guessers[1] = open_client(d2.url);
	if (admin != NULL && guessers[0] != NULL && guessers[1] != NULL) {
		CHECK_INT(login(admin, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD),
			  UP_OK);
		fprintf(stderr, "test_signin: guesses in parallel, "
				"PostgreSQL, two daemons\n");
		test_parallel_guesses(guessers, 2, admin);
	} else {
		CHECK(0);
	}
	if (check_failed > 0) {
		th_daemon_dump_log(&d1);
		th_daemon_dump_log(&d2);
	}
	for (int i = 0; i < 2; i++) {
		if (guessers[i] != NULL) {
			uc_client_close(guessers[i]);
		}
	}
	if (admin != NULL) {
		uc_client_close(admin);
	}
	th_daemon_stop(&d2);
	th_daemon_stop(&d1);
out:
	unlink(key);
	rmdir(dir);
	pg_testdb_drop(dburl);
	return check_done();
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "pg") == 0) {
		return run_pg();
	}
	fprintf(stderr, "test_signin: guesses in parallel, SQLite\n");
	test_parallel_guesses_sqlite();
	fprintf(stderr, "test_signin: a request id replays to its caller "
			"only\n");
	test_replay_caller();
	fprintf(stderr, "test_signin: an UNAVAILABLE write is not kept\n");
	test_replay_unavailable();
	fprintf(stderr, "test_signin: the hash cost floor\n");
	test_cost_floor();
	fprintf(stderr, "test_signin: no rehash to a weaker cost\n");
	test_no_downgrade();
	fprintf(stderr, "test_signin: a user without a password\n");
	test_no_password();
	return check_done();
}
