/*
 * pg_testdb.c - a fresh database per test on the cluster of cluster.sh:
 * CREATE DATABASE <tag>_<pid>_<n> through the maintenance database
 * "postgres" of the cluster's URL, and DROP DATABASE ... WITH (FORCE).
 */
#include "pg_testdb.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#define URL_MAX     1024 /* the cluster's URL, in its file */
#define PG_NAME_MAX 63   /* PostgreSQL's identifiers: NAMEDATALEN - 1 */
#define NEW_TRIES   10   /* names taken (left by a dead process): next n */

static atomic_uint counter;

/* The cluster's URL, from the file USERSD_TEST_PG_URL_FILE names. */
static int
read_base_url(char *buf, size_t cap)
{
	const char *path = getenv("USERSD_TEST_PG_URL_FILE");
	FILE *f;
	size_t n;
	int rc = -1;

	if (path == NULL || path[0] == '\0') {
		fprintf(stderr,
			"pg_testdb: USERSD_TEST_PG_URL_FILE is not set: "
			"the test needs the ctest fixture \"pg\" "
			"(tests/pg.cmake)\n");
		return -1;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "pg_testdb: %s: %s (is the cluster started?)\n",
			path, strerror(errno));
		return -1;
	}
	if (fgets(buf, (int)cap, f) == NULL) {
		fprintf(stderr, "pg_testdb: %s: empty\n", path);
		goto out;
	}
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && !feof(f)) {
		fprintf(stderr, "pg_testdb: %s: the URL is longer than %zu\n",
			path, cap - 1);
		goto out;
	}
	buf[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "pg_testdb: %s: empty\n", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

/* Where the database part of a URL starts ("/name?..."), or NULL. */
static const char *
url_path(const char *url)
{
	const char *auth = strstr(url, "://");

	if (auth == NULL) {
		return NULL;
	}
	auth += 3;
	return auth + strcspn(auth, "/?");
}

/* url with its database replaced by db, in out; -1 if it does not fit. */
static int
url_with_db(const char *url, const char *db, char *out, size_t cap)
{
	const char *path = url_path(url);
	const char *query;
	int n;

	if (path == NULL) {
		fprintf(stderr, "pg_testdb: not a postgresql:// URL\n");
		return -1;
	}
	query = strchr(path, '?');
	n = snprintf(out, cap, "%.*s/%s%s", (int)(path - url), url, db,
		     query != NULL ? query : "");
	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr,
			"pg_testdb: a URL of %d bytes does not fit %zu\n", n,
			cap);
		return -1;
	}
	return 0;
}

static int
name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* A name pg_testdb_new() can have made: [a-z0-9_]+_<digits>_<digits>. */
static int
made_here(const char *name)
{
	size_t len = strlen(name), i = len, part;

	if (len == 0 || len > PG_NAME_MAX) {
		return 0;
	}
	for (part = 0; part < 2; part++) {
		size_t digits_end = i;

		while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') {
			i--;
		}
		if (i == digits_end || i == 0 || name[i - 1] != '_') {
			return 0;
		}
		i--;
	}
	if (i == 0) {
		return 0;
	}
	while (i > 0) {
		if (!name_char((unsigned char)name[--i])) {
			return 0;
		}
	}
	return 1;
}

/* The database of a URL, in out (cap bytes); -1 if none or too long. */
static int
url_db(const char *url, char *out, size_t cap)
{
	const char *path = url_path(url);
	size_t n;

	if (path == NULL || *path != '/') {
		return -1;
	}
	path++;
	n = strcspn(path, "?");
	if (n == 0 || n >= cap) {
		return -1;
	}
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

/* A session on url, with a bounded connect and no NOTICE chatter. */
static PGconn *
connect_url(const char *url)
{
	const char *const keys[] = {"dbname", "connect_timeout", "options",
				    NULL};
	const char *const values[] = {url, "10",
				      "-c client_min_messages=warning", NULL};
	PGconn *conn = PQconnectdbParams(keys, values, 1);

	if (conn == NULL) {
		fprintf(stderr, "pg_testdb: out of memory\n");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "pg_testdb: cannot connect: %s",
			PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

int
pg_testdb_new(const char *tag, char *url_out, size_t cap)
{
	char base[URL_MAX], admin[URL_MAX];
	char name[PG_NAME_MAX + 1], suffix[32], sql[PG_NAME_MAX + 64];
	PGconn *conn = NULL;
	PGresult *res = NULL;
	int tries, rc = -1;

	if (read_base_url(base, sizeof(base)) != 0 ||
	    url_with_db(base, "postgres", admin, sizeof(admin)) != 0) {
		return -1;
	}
	conn = connect_url(admin);
	if (conn == NULL) {
		goto out;
	}
	for (tries = 0; tries < NEW_TRIES; tries++) {
		const char *state;
		size_t n = 0, room;

		snprintf(suffix, sizeof(suffix), "_%ld_%u", (long)getpid(),
			 atomic_fetch_add(&counter, 1));
		room = sizeof(name) - 1 - strlen(suffix);
		for (; tag != NULL && tag[n] != '\0' && n < room; n++) {
			int c = (unsigned char)tag[n];

			if (c >= 'A' && c <= 'Z') {
				c += 'a' - 'A';
			}
			name[n] = name_char(c) ? (char)c : '_';
		}
		if (n == 0) {
			name[n++] = 't';
		}
		snprintf(name + n, sizeof(name) - n, "%s", suffix);
		if (url_with_db(base, name, url_out, cap) != 0) {
			goto out;
		}
		/* template0: nobody is ever connected to it, unlike
		 * template1, which would make CREATE DATABASE fail. */
		snprintf(sql, sizeof(sql),
			 "CREATE DATABASE \"%s\" TEMPLATE template0", name);
		res = PQexec(conn, sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			rc = 0;
			goto out;
		}
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state == NULL || strcmp(state, "42P04") != 0) {
			fprintf(stderr, "pg_testdb: %s: %s", sql,
				PQerrorMessage(conn));
			goto out;
		}
		PQclear(res); /* duplicate_database: the next n */
		res = NULL;
	}
	fprintf(stderr, "pg_testdb: %d names taken, giving up\n", NEW_TRIES);
out:
	if (rc != 0 && cap > 0) {
		url_out[0] = '\0';
	}
	PQclear(res);
	PQfinish(conn);
	return rc;
}

int
pg_testdb_drop(const char *url)
{
	char name[PG_NAME_MAX + 1], admin[URL_MAX], sql[PG_NAME_MAX + 64];
	PGconn *conn = NULL;
	PGresult *res = NULL;
	int rc = -1;

	if (url == NULL || url_db(url, name, sizeof(name)) != 0 ||
	    !made_here(name)) {
		fprintf(stderr, "pg_testdb: not a database of pg_testdb_new(): "
				"not dropping it\n");
		return -1;
	}
	if (url_with_db(url, "postgres", admin, sizeof(admin)) != 0) {
		return -1;
	}
	conn = connect_url(admin);
	if (conn == NULL) {
		goto out;
	}
	snprintf(sql, sizeof(sql),
		 "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pg_testdb: %s: %s", sql, PQerrorMessage(conn));
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	PQfinish(conn);
	return rc;
}
