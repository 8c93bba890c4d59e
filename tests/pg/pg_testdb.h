/*
 * pg_testdb.h - a fresh, empty database per test on the private cluster
 * that tests/pg/cluster.sh starts (the ctest fixture "pg").
 *
 * The cluster's URL is read from the file that USERSD_TEST_PG_URL_FILE
 * names (tests/pg.cmake sets it for the tests that require the fixture).
 * Both functions may be called from any thread. Their messages never show
 * a URL: it holds the cluster's password.
 */
#ifndef USERS_PG_TESTDB_H
#define USERS_PG_TESTDB_H

#include <stddef.h>

/*
 * Creates database <tag>_<pid>_<n> (tag lowercased, every character
 * outside [a-z0-9_] made '_', cut to fit PostgreSQL's 63 bytes) and writes
 * its URL, NUL-terminated, to url_out (caller's buffer of cap bytes; 512 is
 * plenty). Returns 0, or -1 after a message on stderr: the variable is
 * unset (no "pg" fixture), the file or the server cannot be read, or cap is
 * too small. The database stays until pg_testdb_drop() or the cluster is
 * stopped.
 */
int pg_testdb_new(const char *tag, char *url_out, size_t cap);

/*
 * Drops the database of a URL from pg_testdb_new(), closing the sessions
 * still connected to it (DROP DATABASE ... WITH (FORCE)). Refuses any name
 * that pg_testdb_new() cannot have made. Returns 0 (also when it was
 * already gone), or -1 after a message on stderr.
 */
int pg_testdb_drop(const char *url);

#endif
