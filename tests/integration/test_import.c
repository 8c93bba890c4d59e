/*
 * test_import.c - usersctl import and export against a real usersd, with
 * password hashes made by other tools (tests/integration/import_rows.py:
 * the argon2 command line, Python's crypt for bcrypt, hashlib for PBKDF2
 * and the ASP.NET Identity layouts):
 *   - a CSV file of every scheme, users without a hash and bad rows: the
 *     good rows are created, each bad one refused with its number and its
 *     reason; JSON lines too;
 *   - sampled users of every scheme sign in with their password (and not
 *     with another), and their stored hash is argon2id afterwards; users
 *     without a hash cannot sign in until a password is set;
 *   - the same import again creates nothing;
 *   - an import interrupted with SIGINT says where to resume, and resuming
 *     there stores every row once;
 *   - a Manager may not import; a SystemAdministrator may, but not give
 *     the Admin role, nor export the hashes, which Admin may.
 * The database is read beside the daemon (SQLite, read-only).
 * With "pg": the same against PostgreSQL (a database of its own on the
 * "pg" fixture's cluster, read with libpq), whose import sends a call's
 * rows in one statement.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"
#include "pg_testdb.h"

#define PER_SCHEME 400 /* bcrypt, PBKDF2, ASP.NET v2 and v3 */
#define PER_ARGON2 60  /* argon2id, argon2i (a process each) */

static th_daemon d;
static char ctl[512];
static char dir[256];
static char admin_tok[300], pwfile[300];
static char dburl[512]; /* PostgreSQL's, or "" (SQLite: d.db) */

static void
path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		return -1;
	}
	fputs(text, f);
	return fclose(f);
}

/* usersctl --url <daemon> --token-file tok args...; its exit status. */
static int
ctl_run(th_output *o, const char *tok, const char *const *env,
	const char *stdin_path, const char *const *args)
{
	const char *argv[40];
	size_t n = 0;

	argv[n++] = ctl;
	argv[n++] = "--url";
	argv[n++] = d.url;
	argv[n++] = "--token-file";
	argv[n++] = tok;
	for (size_t i = 0; args[i] != NULL && n + 1 < 40; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	if (th_run(argv, env, stdin_path, 120000, o) != 0) {
		return -1;
	}
	return o->status;
}

/*
 * The first value of a query on PostgreSQL into buf ("" when no row, NULL
 * or a failure); a boolean as "1" or "0".
 */
static void
pg_value(const char *sql, const char *param, char *buf, size_t size)
{
	PGconn *pg = PQconnectdb(dburl);
	PGresult *r = NULL;

	buf[0] = '\0';
	if (PQstatus(pg) == CONNECTION_OK) {
		r = PQexecParams(pg, sql, param != NULL ? 1 : 0, NULL, &param,
				 NULL, NULL, 0);
	}
	if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK &&
	    PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
		const char *v = PQgetvalue(r, 0, 0);
		bool b = PQftype(r, 0) == 16; /* bool */

		snprintf(buf, size, "%s",
			 !b                    ? v
			 : strcmp(v, "t") == 0 ? "1"
					       : "0");
	} else if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "test_import: query failed: %s",
			PQerrorMessage(pg));
	}
	PQclear(r);
	PQfinish(pg);
}

/* One value of a query on the database (read-only, beside the daemon). */
static long long
db_count(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n = -1;

	if (dburl[0] != '\0') {
		char v[64];

		pg_value(sql, NULL, v, sizeof(v));
		return v[0] != '\0' ? strtoll(v, NULL, 10) : -1;
	}
	if (sqlite3_open_v2(d.db, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* The first value of a query, as text, into buf ("" when none). */
static void
db_text(const char *sql, char *buf, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	buf[0] = '\0';
	if (dburl[0] != '\0') {
		pg_value(sql, NULL, buf, size);
		return;
	}
	if (sqlite3_open_v2(d.db, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
		snprintf(buf, size, "%s",
			 (const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* The stored hash of email into buf ("" when none). */
static void
db_hash(const char *email, char *buf, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	buf[0] = '\0';
	if (dburl[0] != '\0') {
		pg_value("SELECT password_hash FROM users WHERE email = $1",
			 email, buf, size);
		return;
	}
	if (sqlite3_open_v2(d.db, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
	    sqlite3_prepare_v2(
		db, "SELECT password_hash FROM users WHERE email = ?1", -1, &s,
		NULL) == SQLITE_OK &&
	    sqlite3_bind_text(s, 1, email, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
		snprintf(buf, size, "%s",
			 (const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* Signs email in with password (a token file of its own): exit status. */
static int
sign_in(const char *email, const char *password)
{
	char pw[300], tok[300];
	const char *args[] = {"--user", email,   "--password-file",
			      pw,       "login", NULL};
	th_output o;
	int rc;

	path_in(pw, sizeof(pw), "user-pw");
	path_in(tok, sizeof(tok), "user-tok");
	unlink(tok);
	if (write_file(pw, password) != 0) {
		return -1;
	}
	rc = ctl_run(&o, tok, NULL, NULL, args);
	th_output_fini(&o);
	return rc;
}

/* The numbers of an import's summary line. */
static int
summary(const char *out, long long *created, long long *unchanged,
	long long *refused)
{
	const char *p = strstr(out, "import: ");
	long long rows;
	double s;

	if (p == NULL || sscanf(p,
				"import: %lld rows in %lf s: %lld created, "
				"%lld unchanged, %lld refused",
				&rows, &s, created, unchanged, refused) != 5) {
		fprintf(stderr, "no summary in: %s\n", out);
		return -1;
	}
	return 0;
}

static long long n_good; /* rows of rows.csv that are created */

static void
test_import_csv(void)
{
	char rows[300], bad[300], line[512];
	const char *args[] = {"import", rows, NULL};
	long long created = -1, unchanged = -1, refused = -1, n_bad = 0;
	th_output o;
	FILE *f;

	path_in(rows, sizeof(rows), "rows.csv");
	path_in(bad, sizeof(bad), "bad.txt");
	/* bad rows: exit 1, each named with its number and reason */
	CHECK_INT(ctl_run(&o, admin_tok, NULL, NULL, args), 1);
	CHECK_INT(summary(o.out, &created, &unchanged, &refused), 0);
	f = fopen(bad, "r");
	CHECK(f != NULL);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char want[600];
		int row = atoi(line);
		const char *reason = strchr(line, ' ');

		if (row <= 0 || reason == NULL) {
			continue;
		}
		line[strcspn(line, "\n")] = '\0';
		n_bad++;
		snprintf(want, sizeof(want), "usersctl: row %d (", row);
		CHECK(strstr(o.err, want) != NULL);
		if (strstr(o.err, want) != NULL) {
			const char *eol = strchr(strstr(o.err, want), '\n');
			const char *hit =
			    strstr(strstr(o.err, want), reason + 1);
			CHECK(hit != NULL && (eol == NULL || hit < eol));
		} else {
			fprintf(stderr, "missing %s in:\n%s\n", want, o.err);
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	CHECK(n_bad >= 5);
	CHECK_INT(refused, n_bad);
	CHECK_INT(unchanged, 0);
	n_good = created;
	CHECK_INT(created, 6 * 0 + 2 * PER_ARGON2 + 4 * PER_SCHEME + 5);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE email LIKE "
			   "'csv-%'"),
		  created);
	/* users without a hash: disabled, no hash */
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE email LIKE "
			   "'csv-nohash-%' AND disabled AND "
			   "password_hash IS NULL"),
		  5);
	/* the roles, names and phone numbers came along */
	CHECK_INT(db_count("SELECT COUNT(*) FROM user_roles r JOIN users u "
			   "ON u.id = r.user_id WHERE u.email = "
			   "'csv-bcrypt-0@import.example'"),
		  2);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE email = "
			   "'csv-pbkdf2-5@import.example' AND phone_number = "
			   "'+1555000005' AND last_name = 'Last, pbkdf2'"),
		  1);
	th_output_fini(&o);

	/* JSON lines: blank lines are no rows */
	path_in(rows, sizeof(rows), "rows.jsonl");
	CHECK_INT(ctl_run(&o, admin_tok, NULL, NULL, args), 0);
	CHECK_INT(summary(o.out, &created, &unchanged, &refused), 0);
	CHECK(created > 50);
	CHECK_INT(refused, 0);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE email LIKE "
			   "'jsonl-%'"),
		  created);
	th_output_fini(&o);
}

static void
test_sign_in(void)
{
	char samples[300], line[512];
	int per[6] = {0};
	static const char *const schemes[] = {"argon2id",  "argon2i",
					      "bcrypt",    "pbkdf2",
					      "aspnet-v2", "aspnet-v3"};
	FILE *f;

	path_in(samples, sizeof(samples), "samples.txt");
	f = fopen(samples, "r");
	CHECK(f != NULL);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char email[256], pw[128], scheme[32], before[300], after[300];
		char wrong[140];

		if (sscanf(line, "%255s %127s %31s", email, pw, scheme) != 3) {
			continue;
		}
		db_hash(email, before, sizeof(before));
		snprintf(wrong, sizeof(wrong), "%sx", pw);
		CHECK_INT(sign_in(email, wrong), 1);
		CHECK_INT(sign_in(email, pw), 0);
		db_hash(email, after, sizeof(after));
		if (strcmp(scheme, "argon2id") == 0) {
			/* at a cost above the daemon's: kept */
			CHECK_STR(after, before);
		} else {
			/* replaced by argon2id at the daemon's cost, and the
			 * password still signs in */
			CHECK(strncmp(after, "$argon2id$v=19$m=64,t=1,p=1$",
				      28) == 0);
			CHECK(strcmp(after, before) != 0);
			CHECK_INT(sign_in(email, pw), 0);
		}
		for (int i = 0; i < 6; i++) {
			per[i] += strcmp(scheme, schemes[i]) == 0;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	for (int i = 0; i < 6; i++) {
		if (per[i] == 0) {
			fprintf(stderr, "no sample of %s\n", schemes[i]);
		}
		CHECK(per[i] > 0);
	}
}

/* A user without a hash signs in once a password is set. */
static void
test_no_hash(void)
{
	char id[32];
	const char *env[] = {"USERSCTL_NEW_PASSWORD=now-a-password", NULL};
	const char *args[] = {"user", "patch", id, "--password", NULL};
	th_output o;

	snprintf(id, sizeof(id), "%lld",
		 db_count("SELECT id FROM users WHERE email = "
			  "'csv-nohash-0@import.example'"));
	CHECK_INT(sign_in("csv-nohash-0@import.example", "now-a-password"), 1);
	CHECK_INT(ctl_run(&o, admin_tok, env, NULL, args), 0);
	th_output_fini(&o);
	CHECK_INT(db_count("SELECT disabled FROM users WHERE email = "
			   "'csv-nohash-0@import.example'"),
		  0);
	CHECK_INT(sign_in("csv-nohash-0@import.example", "now-a-password"), 0);
}

/* The line of err that names row (its refusal), or NULL. */
static const char *
refusal_of(const char *err, int row)
{
	char want[64];

	snprintf(want, sizeof(want), "usersctl: row %d (", row);
	return strstr(err, want);
}

/* Whether the refusal line of row says what. */
static bool
refusal_says(const char *err, int row, const char *what)
{
	const char *line = refusal_of(err, row), *eol, *hit;

	if (line == NULL) {
		return false;
	}
	eol = strchr(line, '\n');
	hit = strstr(line, what);
	return hit != NULL && (eol == NULL || hit < eol);
}

/*
 * What the rows of one call do to each other and to the store: an email
 * twice in a call (in another letter case) is one user, the same data
 * unchanged and other data refused; a row naming an organization that
 * does not exist is refused alone and the rows after it are created; an
 * organization that exists comes along as a membership and the primary
 * organization. Run twice: nothing more is created, the same refusals.
 */
static void
test_rows_of_a_call(void)
{
	char csv[300], org[64], sql[400], text[400];
	const char *mk[] = {"org", "create", "--name", "Import Org", NULL};
	const char *args[] = {"import", csv, NULL};
	long long created = -1, unchanged = -1, refused = -1;
	th_output o;

	CHECK_INT(ctl_run(&o, admin_tok, NULL, NULL, mk), 0);
	th_output_fini(&o);
	db_text("SELECT id FROM organizations WHERE name = 'Import Org'", org,
		sizeof(org));
	CHECK_INT((long long)strlen(org), 32);
	path_in(csv, sizeof(csv), "call.csv");
	snprintf(text, sizeof(text),
		 "emailAddress,firstName,lastName,phoneNumber,roles,"
		 "accountIds,passwordHash\n"
		 "call-a@import.example,Ann,One,,Viewer,%s,\n"
		 "CALL-A@import.example,Ann,One,,Viewer,%s,\n"
		 "call-a@IMPORT.example,Other,One,,Viewer,%s,\n"
		 "call-b@import.example,Bo,Two,,,"
		 "0123456789abcdef0123456789abcdef,\n"
		 "call-c@import.example,Cy,Three,,,,\n",
		 org, org, org);
	CHECK_INT(write_file(csv, text), 0);
	for (int run = 0; run < 2; run++) {
		CHECK_INT(ctl_run(&o, admin_tok, NULL, NULL, args), 1);
		CHECK_INT(summary(o.out, &created, &unchanged, &refused), 0);
		CHECK_INT(created, run == 0 ? 2 : 0);
		CHECK_INT(unchanged, run == 0 ? 1 : 3);
		CHECK_INT(refused, 2);
		CHECK(refusal_of(o.err, 1) == NULL);
		CHECK(refusal_of(o.err, 2) == NULL);
		CHECK(refusal_says(o.err, 3, "Conflict"));
		CHECK(refusal_says(o.err, 4, "NotFound"));
		CHECK(refusal_of(o.err, 5) == NULL);
		if (check_failed > 0) {
			fprintf(stderr, "%s%s", o.out, o.err);
		}
		th_output_fini(&o);
	}
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE lower(email) "
			   "LIKE 'call-%'"),
		  2);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE email = "
			   "'call-a@import.example' AND first_name = 'Ann'"),
		  1);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE email = "
			   "'call-c@import.example'"),
		  1);
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = "
		 "m.user_id WHERE u.email = 'call-a@import.example' AND "
		 "m.org_id = '%s' AND u.primary_org_id = '%s'",
		 org, org);
	CHECK_INT(db_count(sql), 1);
	CHECK_INT(db_count("SELECT COUNT(*) FROM user_roles r JOIN users u "
			   "ON u.id = r.user_id WHERE u.email = "
			   "'call-a@import.example' AND r.role = 'Viewer'"),
		  1);
}

/* usersctl import of path (calls of take rows) through url, in the
 * background: stdout to out; its pid. */
static pid_t
import_spawn(const char *url, const char *path, const char *out)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open("/dev/null", O_WRONLY);

		dup2(fo, 1);
		dup2(fe, 2);
		execl(ctl, ctl, "--url", url, "--token-file", admin_tok,
		      "import", path, "--take", "100", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/*
 * PostgreSQL: two daemons on one database import the same 1,500 users at
 * once, one file in the order of the other reversed: every user is stored
 * once, created by one import and unchanged in the other, none refused.
 */
static void
test_two_daemons(const char *const *dargs)
{
	enum { N = 1500 };
	char fwd[300], rev[300], out[2][300], text[128];
	const char *files[2] = {fwd, rev};
	long long created[2] = {-1, -1}, unchanged[2] = {-1, -1};
	long long refused[2] = {-1, -1};
	th_daemon d2 = {0};
	FILE *f[2];
	pid_t pid[2];

	path_in(fwd, sizeof(fwd), "race.csv");
	path_in(rev, sizeof(rev), "race-reversed.csv");
	f[0] = fopen(fwd, "w");
	f[1] = fopen(rev, "w");
	CHECK(f[0] != NULL && f[1] != NULL);
	if (f[0] == NULL || f[1] == NULL) {
		return;
	}
	for (int k = 0; k < 2; k++) {
		fputs("emailAddress,firstName,lastName\n", f[k]);
		for (int i = 0; i < N; i++) {
			int n = k == 0 ? i : N - 1 - i;
			snprintf(text, sizeof(text),
				 "race-%04d@import.example,Race,R%d\n", n, n);
			fputs(text, f[k]);
		}
		fclose(f[k]);
	}
	CHECK_INT(th_daemon_start(&d2, dargs), 0);
	for (int k = 0; k < 2; k++) {
		char name[32];

		snprintf(name, sizeof(name), "race-%d.out", k);
		path_in(out[k], sizeof(out[k]), name);
		pid[k] =
		    import_spawn(k == 0 ? d.url : d2.url, files[k], out[k]);
	}
	for (int k = 0; k < 2; k++) {
		FILE *fo;
		char buf[4096];
		size_t n;
		int status = -1;

		CHECK_INT(waitpid(pid[k], &status, 0), pid[k]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		fo = fopen(out[k], "r");
		n = fo != NULL ? fread(buf, 1, sizeof(buf) - 1, fo) : 0;
		buf[n] = '\0';
		if (fo != NULL) {
			fclose(fo);
		}
		CHECK_INT(summary(buf, &created[k], &unchanged[k], &refused[k]),
			  0);
	}
	CHECK_INT(created[0] + created[1], N);
	CHECK_INT(unchanged[0] + unchanged[1], N);
	CHECK_INT(refused[0] + refused[1], 0);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE email LIKE "
			   "'race-%'"),
		  N);
	CHECK_INT(db_count("SELECT COUNT(DISTINCT last_name) FROM users "
			   "WHERE email LIKE 'race-%'"),
		  N);
	if (check_failed > 0) {
		th_daemon_dump_log(&d2);
	}
	th_daemon_stop(&d2);
}

/* The same file again: nothing created, nothing doubled. */
static void
test_rerun(void)
{
	char rows[300];
	const char *args[] = {"import", rows, NULL};
	long long created = -1, unchanged = -1, refused = -1;
	long long before = db_count("SELECT COUNT(*) FROM users");
	th_output o;

	path_in(rows, sizeof(rows), "rows.csv");
	CHECK_INT(ctl_run(&o, admin_tok, NULL, NULL, args), 1);
	CHECK_INT(summary(o.out, &created, &unchanged, &refused), 0);
	CHECK_INT(created, 0);
	/* signed in since (hashes replaced), a password set: unchanged */
	CHECK_INT(unchanged, n_good);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users"), before);
	th_output_fini(&o);

	/* a row whose user exists with other data is refused, not applied */
	CHECK_INT(write_file(rows, "emailAddress,firstName\n"
				   "CSV-BCRYPT-1@import.example,Changed\n"),
		  0);
	CHECK_INT(ctl_run(&o, admin_tok, NULL, NULL, args), 1);
	CHECK(strstr(o.err, "row 1 (CSV-BCRYPT-1@import.example)") != NULL);
	CHECK(strstr(o.err, "Conflict") != NULL);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE first_name = "
			   "'Changed'"),
		  0);
	th_output_fini(&o);
}

/*
 * SIGINT while rows still come in (standard input, a pipe the test
 * feeds): usersctl stops after the call in flight and names the row to
 * resume from; every row before it is stored, none after it; resuming
 * there stores the rest, once.
 */
static void
test_interrupt_resume(void)
{
	char big[300], out[300], err[300], from[32];
	int in[2];
	pid_t pid;
	FILE *src, *to;
	char line[512];
	int lines = 0, status = 0;
	long long deadline, stored, resume = 0;
	th_output o;

	path_in(big, sizeof(big), "big.jsonl");
	path_in(out, sizeof(out), "interrupted.out");
	path_in(err, sizeof(err), "interrupted.err");
	signal(SIGPIPE, SIG_IGN);
	CHECK_INT(pipe(in), 0);
	pid = fork();
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(in[0], 0);
		dup2(fo, 1);
		dup2(fe, 2);
		close(in[1]);
		execl(ctl, ctl, "--url", d.url, "--token-file", admin_tok,
		      "import", "-", "--format", "jsonl", "--take", "100",
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	src = fopen(big, "r");
	to = fdopen(in[1], "w");
	CHECK(src != NULL && to != NULL);
	if (src == NULL || to == NULL) {
		return;
	}
	while (lines < 1000 && fgets(line, sizeof(line), src) != NULL) {
		fputs(line, to);
		lines++;
	}
	fflush(to);
	/* the first 1000 rows are ten full calls: wait for them */
	deadline = th_now_ms() + 30000;
	while ((stored = db_count("SELECT COUNT(*) FROM users WHERE email "
				  "LIKE 'big%'")) < 1000 &&
	       th_now_ms() < deadline) {
		poll(NULL, 0, 20);
	}
	CHECK_INT(stored, 1000);
	kill(pid, SIGINT);
	while (fgets(line, sizeof(line), src) != NULL) {
		if (fputs(line, to) == EOF) {
			break;
		}
	}
	fclose(to);
	fclose(src);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 130);
	{
		th_output e = {0};
		FILE *fe = fopen(err, "r");
		char buf[4096];
		size_t n = fe != NULL ? fread(buf, 1, sizeof(buf) - 1, fe) : 0;
		const char *p;

		buf[n] = '\0';
		if (fe != NULL) {
			fclose(fe);
		}
		p = strstr(buf, "resume with --resume-from ");
		CHECK(p != NULL);
		if (p != NULL) {
			resume =
			    atoll(p + strlen("resume with --resume-from "));
		}
		(void)e;
	}
	stored = db_count("SELECT COUNT(*) FROM users WHERE email LIKE 'big%'");
	/* every row before the one to resume from, none after */
	CHECK_INT(stored, resume - 1);
	CHECK(resume > 1000 && resume < 3000);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users WHERE email = "
			   "'big00999@import.example'"),
		  1);
	snprintf(from, sizeof(from), "%lld", resume);
	{
		const char *args[] = {"import", big, "--resume-from", from,
				      NULL};
		long long created = -1, unchanged = -1, refused = -1;

		CHECK_INT(ctl_run(&o, admin_tok, NULL, NULL, args), 0);
		CHECK_INT(summary(o.out, &created, &unchanged, &refused), 0);
		CHECK_INT(created, 3000 - (resume - 1));
		CHECK_INT(unchanged, 0);
		th_output_fini(&o);
	}
	CHECK_INT(
	    db_count("SELECT COUNT(*) FROM users WHERE email LIKE 'big%'"),
	    3000);
	CHECK_INT(db_count("SELECT COUNT(DISTINCT last_name) FROM users WHERE "
			   "email LIKE 'big%'"),
		  3000);
}

/* Creates a user with roles (by the admin); 0 or -1. */
static int
make_user(const char *email, const char *roles)
{
	char id[32];
	const char *env[] = {"USERSCTL_NEW_PASSWORD=role-password-1", NULL};
	const char *create[] = {"user", "create", "--email", email, "--first",
				"R",    "--last", "R",       NULL};
	const char *patch[] = {"user", "patch", id, "--roles", roles, NULL};
	char sql[300];
	th_output o;
	int rc;

	rc = ctl_run(&o, admin_tok, env, NULL, create);
	th_output_fini(&o);
	snprintf(sql, sizeof(sql), "SELECT id FROM users WHERE email = '%s'",
		 email);
	snprintf(id, sizeof(id), "%lld", db_count(sql));
	if (rc == 0) {
		rc = ctl_run(&o, admin_tok, NULL, NULL, patch);
		th_output_fini(&o);
	}
	return rc;
}

/* usersctl as email (its own token file). */
static int
ctl_as(th_output *o, const char *email, const char *const *args)
{
	char tok[300], pw[300];
	const char *argv[20];
	size_t n = 0;

	path_in(tok, sizeof(tok), email);
	path_in(pw, sizeof(pw), "role-pw");
	if (write_file(pw, "role-password-1") != 0) {
		return -1;
	}
	argv[n++] = "--user";
	argv[n++] = email;
	argv[n++] = "--password-file";
	argv[n++] = pw;
	for (size_t i = 0; args[i] != NULL && n + 1 < 20; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return ctl_run(o, tok, NULL, NULL, argv);
}

static void
test_who_may(void)
{
	char rows[300];
	const char *import[] = {"import", rows, NULL};
	const char *hashes[] = {"export", "--password-hashes", NULL};
	const char *plain[] = {"export", NULL};
	long long created = -1, unchanged = -1, refused = -1;
	long long users;
	th_output o;

	CHECK_INT(make_user("manager@import.example", "Manager"), 0);
	CHECK_INT(make_user("sysadmin@import.example", "SystemAdministrator"),
		  0);
	path_in(rows, sizeof(rows), "roles.csv");
	CHECK_INT(write_file(rows, "emailAddress,roles\n"
				   "role-viewer@import.example,Viewer\n"
				   "role-admin@import.example,Admin\n"),
		  0);
	/* a Manager: refused as a whole, nothing created */
	users = db_count("SELECT COUNT(*) FROM users");
	CHECK_INT(ctl_as(&o, "manager@import.example", import), 1);
	CHECK(strstr(o.err, "Invalid Role") != NULL);
	CHECK(strstr(o.out, "created") == NULL || strstr(o.out, "0 created"));
	th_output_fini(&o);
	CHECK_INT(db_count("SELECT COUNT(*) FROM users"), users);
	/* a SystemAdministrator: the Admin role is refused, the row only */
	CHECK_INT(ctl_as(&o, "sysadmin@import.example", import), 1);
	CHECK_INT(summary(o.out, &created, &unchanged, &refused), 0);
	CHECK_INT(created, 1);
	CHECK_INT(refused, 1);
	CHECK(strstr(o.err, "row 2 (role-admin@import.example)") != NULL);
	CHECK(strstr(o.err, "Forbidden") != NULL);
	th_output_fini(&o);
	/* hashes: Admin only */
	CHECK_INT(ctl_as(&o, "sysadmin@import.example", hashes), 1);
	th_output_fini(&o);
	CHECK_INT(ctl_as(&o, "sysadmin@import.example", plain), 0);
	CHECK(strstr(o.out, "passwordHash") == NULL);
	th_output_fini(&o);
	CHECK_INT(ctl_run(&o, admin_tok, NULL, NULL, hashes), 0);
	{
		long long lines = 0, with_hash = 0;
		for (const char *p = o.out; (p = strchr(p, '\n')) != NULL;
		     p++) {
			lines++;
		}
		for (const char *p = o.out;
		     (p = strstr(p, "\"passwordHash\"")) != NULL; p++) {
			with_hash++;
		}
		CHECK_INT(lines, db_count("SELECT COUNT(*) FROM users"));
		CHECK_INT(with_hash, db_count("SELECT COUNT(*) FROM users "
					      "WHERE password_hash IS NOT "
					      "NULL"));
		CHECK(strstr(o.out, "\"$2b$") != NULL ||
		      strstr(o.out, "\"$2a$") != NULL);
	}
	th_output_fini(&o);
}

int
main(int argc, char **argv)
{
	char py[600], gen[600], per[16], n_argon2[16];
	char keydir[] = "/tmp/test_import_pg.XXXXXX", key[128] = "";
	const char *login[] = {"--user", TH_ADMIN_EMAIL, "--password-file",
			       pwfile,   "login",        NULL};
	const char *dargs[] = {"--db", dburl, "--key-file", key, NULL};
	bool pg = argc > 1 && strcmp(argv[1], "pg") == 0;
	th_output o;
	int rc;

	/* pg: the same on PostgreSQL (the "pg" fixture's cluster) */
	if (pg) {
		if (pg_testdb_new("import", dburl, sizeof(dburl)) != 0 ||
		    mkdtemp(keydir) == NULL) {
			fprintf(stderr, "test_import: no PostgreSQL database "
					"(the \"pg\" fixture)\n");
			return 1;
		}
		snprintf(key, sizeof(key), "%s/usersd.key", keydir);
	}
	if (th_bin("usersctl", ctl, sizeof(ctl)) != 0 ||
	    th_daemon_start(&d, pg ? dargs : NULL) != 0) {
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s", d.dir);
	path_in(admin_tok, sizeof(admin_tok), "admin-tok");
	path_in(pwfile, sizeof(pwfile), "admin-pw");
	CHECK_INT(write_file(pwfile, TH_ADMIN_PASSWORD), 0);
	CHECK_INT(ctl_run(&o, admin_tok, NULL, NULL, login), 0);
	th_output_fini(&o);

	snprintf(gen, sizeof(gen), "%s/import_rows.py", USERS_TEST_SRC);
	snprintf(per, sizeof(per), "%d", PER_SCHEME);
	snprintf(n_argon2, sizeof(n_argon2), "%d", PER_ARGON2);
	snprintf(py, sizeof(py), "/usr/bin/python3");
	{
		const char *gen_argv[] = {py, gen, dir, per, n_argon2, NULL};
		CHECK_INT(th_run(gen_argv, NULL, NULL, 120000, &o), 0);
		CHECK_INT(o.status, 0);
		if (o.status != 0) {
			fprintf(stderr, "%s\n", o.err);
		}
		th_output_fini(&o);
	}
	test_import_csv();
	test_sign_in();
	test_no_hash();
	test_rerun();
	test_rows_of_a_call();
	if (pg) {
		test_two_daemons(dargs);
	}
	test_interrupt_resume();
	test_who_may();
	if (check_failed > 0) {
		th_daemon_dump_log(&d);
	}
	th_daemon_stop(&d);
	rc = check_done();
	if (pg) {
		unlink(key);
		rmdir(keydir);
		pg_testdb_drop(dburl);
	}
	return rc;
}
