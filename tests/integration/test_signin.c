/*
 * test_signin.c - signing in, through real usersd processes:
 *
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
#include "store.h"
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

/* The stored password hash of user id (malloc'd), or NULL. */
static char *
stored_hash(const char *db, int64_t id)
{
	ud_store *st = NULL;
	ud_store_conn *r = NULL;
	ud_user u = {0};
	char *h = NULL;

	if (ud_store_open(&st, db, NULL) != 0) {
		return NULL;
	}
	if (ud_store_reader_open(st, &r) == 0) {
		if (ud_store_user_get(r, id, &u) == 0 &&
		    u.password_hash != NULL) {
			h = strdup(u.password_hash);
		}
		ud_user_fini(&u);
		ud_store_reader_close(r);
	}
	ud_store_close(st);
	return h;
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

int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "test_signin: the hash cost floor\n");
	test_cost_floor();
	fprintf(stderr, "test_signin: no rehash to a weaker cost\n");
	test_no_downgrade();
	fprintf(stderr, "test_signin: a user without a password\n");
	test_no_password();
	return check_done();
}
