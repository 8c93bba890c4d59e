/*
 * test_pg_testdb.c - the test helper of tests/pg: a database made, used,
 * dropped (with a session still on it), two names never alike, tags made
 * safe, and clear failures without the fixture or room for the URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "check.h"
#include "pg_testdb.h"

static PGconn *
open_db(const char *url)
{
	PGconn *conn = PQconnectdb(url);

	if (conn != NULL && PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "test_pg_testdb: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* The one value of a query, copied to out; -1 if it failed. */
static int
query_value(PGconn *conn, const char *sql, char *out, size_t cap)
{
	PGresult *res = PQexec(conn, sql);
	int rc = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    PQnfields(res) == 1) {
		snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
		rc = 0;
	} else {
		fprintf(stderr, "test_pg_testdb: %s: %s", sql,
			PQerrorMessage(conn));
	}
	PQclear(res);
	return rc;
}

static const char *
db_of(const char *url)
{
	const char *slash = strrchr(url, '/');

	return slash != NULL ? slash + 1 : "";
}

static void
test_create_use_drop(void)
{
	char url[512], other[512], value[128], sql[256];
	PGconn *conn, *admin;

	CHECK_INT(pg_testdb_new("Self-Test!", url, sizeof(url)), 0);
	CHECK(strncmp(db_of(url), "self_test__", 11) == 0);
	conn = open_db(url);
	CHECK(conn != NULL);
	if (conn == NULL) {
		return;
	}
	CHECK_INT(query_value(conn, "SELECT 1", value, sizeof(value)), 0);
	CHECK_STR(value, "1");
	CHECK_INT(query_value(conn, "SELECT current_database()", value,
			      sizeof(value)),
		  0);
	CHECK_STR(value, db_of(url));
	CHECK_INT(query_value(conn,
			      "SELECT count(*) FROM pg_class c JOIN "
			      "pg_namespace n ON n.oid = c.relnamespace "
			      "WHERE n.nspname = 'public'",
			      value, sizeof(value)),
		  0);
	CHECK_STR(value, "0");

	CHECK_INT(pg_testdb_new("Self-Test!", other, sizeof(other)), 0);
	CHECK(strcmp(url, other) != 0);
	CHECK_INT(pg_testdb_drop(other), 0);

	/* Dropped while conn is still on it: FORCE ends that session. */
	CHECK_INT(pg_testdb_drop(url), 0);
	CHECK_INT(query_value(conn, "SELECT 1", value, sizeof(value)), -1);
	PQfinish(conn);
	CHECK(open_db(url) == NULL);
	CHECK_INT(pg_testdb_drop(url), 0); /* already gone: fine */

	/* Neither is listed any more. */
	CHECK_INT(pg_testdb_new("check", other, sizeof(other)), 0);
	admin = open_db(other);
	CHECK(admin != NULL);
	if (admin != NULL) {
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM pg_database WHERE datname "
			 "LIKE 'self\\_test\\_\\_%%\\_%ld\\_%%'",
			 (long)getpid());
		CHECK_INT(query_value(admin, sql, value, sizeof(value)), 0);
		CHECK_STR(value, "0");
		PQfinish(admin);
	}
	CHECK_INT(pg_testdb_drop(other), 0);
}

static void
test_names(void)
{
	char url[512];
	const char *db;
	size_t i;

	/* A long tag is cut to PostgreSQL's 63 bytes, not truncated by it. */
	CHECK_INT(pg_testdb_new("A_Very_Long_Tag_That_Goes_On_And_On_And_On_"
				"Past_Sixty_Three_Bytes",
				url, sizeof(url)),
		  0);
	db = db_of(url);
	CHECK(strlen(db) <= 63);
	for (i = 0; db[i] != '\0'; i++) {
		CHECK((db[i] >= 'a' && db[i] <= 'z') ||
		      (db[i] >= '0' && db[i] <= '9') || db[i] == '_');
	}
	CHECK_INT(pg_testdb_drop(url), 0);

	CHECK_INT(pg_testdb_new("", url, sizeof(url)), 0);
	CHECK(db_of(url)[0] == 't');
	CHECK_INT(pg_testdb_drop(url), 0);

	/* Never a database it did not make. */
	CHECK_INT(pg_testdb_drop("postgresql://u:p@127.0.0.1:1/usersd"), -1);
	CHECK_INT(pg_testdb_drop("postgresql://u:p@127.0.0.1:1/postgres"), -1);
	CHECK_INT(pg_testdb_drop("postgresql://u:p@127.0.0.1:1/a\"b_1_2"), -1);
	CHECK_INT(pg_testdb_drop("postgresql://u:p@127.0.0.1:1/_1_2"), -1);
	CHECK_INT(pg_testdb_drop("not a url"), -1);

	/* No room for the URL: nothing made, an empty string. */
	CHECK_INT(pg_testdb_new("small", url, 16), -1);
	CHECK_STR(url, "");
}

static void
test_no_fixture(void)
{
	char url[512];
	const char *file = getenv("USERSD_TEST_PG_URL_FILE");
	char saved[1024];

	snprintf(saved, sizeof(saved), "%s", file);
	unsetenv("USERSD_TEST_PG_URL_FILE");
	CHECK_INT(pg_testdb_new("x", url, sizeof(url)), -1);
	setenv("USERSD_TEST_PG_URL_FILE", "/nonexistent/url", 1);
	CHECK_INT(pg_testdb_new("x", url, sizeof(url)), -1);
	setenv("USERSD_TEST_PG_URL_FILE", saved, 1);
}

int
main(void)
{
	if (getenv("USERSD_TEST_PG_URL_FILE") == NULL) {
		fprintf(stderr, "test_pg_testdb: USERSD_TEST_PG_URL_FILE is "
				"not set: run it through ctest (fixture pg)\n");
		return 1;
	}
	test_create_use_drop();
	test_names();
	test_no_fixture();
	return check_done();
}
