/*
 * store_pg.c - the PostgreSQL backend of the store (store.h), on libpq.
 *
 * The target is a "postgresql://" or "postgres://" URL, handed to libpq as
 * is (application_name usersd unless the URL names one). Any number of
 * daemons may share the database.
 *
 * Schema: numbered migrations recorded in schema_migrations, applied under
 * a session advisory lock (MIGRATION_LOCK) so that daemons starting
 * together apply each migration once: take the lock, read what is
 * applied, apply the rest in one transaction each, unlock. Text that is
 * compared or ordered (ids, names, roles, emails) has the "C" collation:
 * bytewise, like SQLite's BINARY; the email's unique index is on
 * lower(email COLLATE "C"), which folds ASCII letters only, like NOCASE.
 * Every user has a revision (users.rev) that each change of its record,
 * roles, permissions or memberships advances: a daemon that keeps a user
 * checks it instead of reading the user again (ud_store_user_check).
 *
 * Round trips. Once migrated, every connection is in libpq's pipeline
 * mode: an operation queues its statements (send) and waits only when it
 * needs an answer; the wait ends the round trip (a Sync) and reads every
 * answer up to it. Statements are prepared once per connection (on first
 * use, in the same round trip) and run with text parameters and binary
 * results (arrays arrive in PostgreSQL's binary array format). A user is
 * read in one statement, its roles, permissions and memberships as arrays
 * beside its columns; a page of the user list, its total included, is one
 * statement too. Parameters are copied as they are sent, so that a round
 * trip cut short can be sent again (see below).
 *
 * Reads: one connection per reader thread. Each statement sees one
 * snapshot of its own, so snapshot_begin/end are no-ops: a caller's
 * separate reads may see different commits (each is consistent). A check
 * of a kept user goes out with the reader's next statement. A reader whose
 * connection broke (a server restart) reconnects and sends its round trip
 * once more; statements are prepared again.
 *
 * Writes: group commit, as on SQLite, on cfg->writers threads (default 2)
 * with a connection each. A writer takes what is queued (at most
 * max_batch, default 32: a transaction of more subtransactions than the
 * server caches per backend, 64, slows every snapshot taken meanwhile)
 * and runs it in one transaction (READ COMMITTED), each write function
 * inside its own savepoint, then commits once: one WAL flush for all.
 * Answers go out after the commit (ud_store_doneq). The statements of one
 * write are sent together: only those whose rows the write function needs
 * end a round trip. The others are deferred: a lock-read answers at once,
 * the update that follows it (when its outcome is known in advance: the
 * row is locked, its email and organization keys unchanged), the request
 * log's answer, the savepoint's release, the sign-in state's writes, all
 * go out with the next round trip, which is the next write's first (or the
 * commit). A PATCH is then one round trip: the previous write's update,
 * answer and release, this write's savepoint, claim, lock and read; and
 * the commit rides with the next batch's first write when writes queue.
 * A deferred statement that must change one row says so in SQL
 * (usersd_expect(), which raises P0002 otherwise): a statement that
 * fails aborts the rest of its round trip, and the writer then rolls that
 * write back to its savepoint and sends the others' statements again; the
 * write is answered with the failure. (A write function never sees an
 * answer twice: what is sent again had no answer yet.)
 * Locks: a user read on a writer locks the row (FOR NO KEY UPDATE), then
 * reads it with a second statement in the same round trip: in READ
 * COMMITTED that one takes a snapshot after the lock was granted, so the
 * roles and memberships it reads are those of the last commit too.
 * login_get and the token family lock an advisory key (held to the end of
 * the transaction, also when there is no row yet). A write's first round
 * trip, when earlier writes of its transaction hold locks, takes its locks
 * without waiting (NOWAIT, pg_try_advisory_xact_lock): a lock held
 * elsewhere commits the earlier writes first and sends the write again in
 * a transaction of its own, where it waits. So two writers (of this daemon
 * or another) never wait for each other while each holds locks the other
 * wants; a write's later round trips may still deadlock, which the server
 * ends after deadlock_timeout (UP_ABORTED for the write it picks, its
 * savepoint rolled back, the others of its batch unharmed).
 * Every operation is one statement (atomic by itself); one that fails
 * leaves the write's savepoint aborted: its code is kept (cur_rc), the
 * write's later operations answer it at once, and the write is rolled
 * back and done with that code even if the function returned 0. A write
 * function is never run twice. A writer's broken connection fails the
 * writes not yet committed (UP_UNAVAILABLE) and is reset before the next.
 * A write on behalf of a caller whose record the daemon kept checks it
 * first, in its savepoint and first round trip (user_expect: UD001 unless
 * the caller is at its revision): a stale caller fails the write like any
 * deferred statement, and the write is done with UD_STORE_CHANGED
 * whatever its function returned (the daemon runs the call again).
 * Writes told ahead (ud_store_write_ahead: a read-modify-write of one
 * user, such as a PATCH) go further: the first such writes of a batch
 * send their request ids' reservations, their callers' checks and their
 * users' locks and reads in one round trip, which waits for no other
 * transaction; their updates and answers go out as one statement each.
 * A PATCH then costs no round trip of its own and no savepoint ("Writes
 * ahead", below).
 *
 * Every PostgreSQL error is translated here into an up_status code and
 * logged to stderr with the server's message; no SQL text leaves this file
 * and the URL (which may hold a password) is never logged.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_backend.h"
#include "users_proto.h"

/* Limits of this backend (the shared ones: store_backend.h). */
#define WRITERS_MAX   64
#define WRITERS_DEF   2
#define MAX_PARAMS    25
#define PG_BATCH_DEF  32
#define PG_BATCH_MAX  48   /* below the server's 64 cached subtransactions */
#define ROUND_ENT_MAX 4096 /* statements in one round trip */

/* pg_advisory_lock key of the migrations: "usersdmg" as a big-endian int8 */
#define MIGRATION_LOCK "8463219666995932519"
/* pg_advisory_xact_lock class of the login keys: "usel" as an int4 */
#define LOGIN_LOCK_CLASS "1970496876"
/* pg_advisory_xact_lock class of the token families: "usrf" as an int4 */
#define FAMILY_LOCK_CLASS "1970500198"
/* pg_advisory_xact_lock class of the request ids: "usrq" as an int4 */
#define REQUEST_LOCK_CLASS "1970500209"

/* ------------------------------------------------------------------------
 * Schema: migration N is migrations[N - 1]; never edit one that shipped.
 */

static const char *const migrations[] = {
    /* 1: the tables */
    "CREATE TABLE organizations ("
    " id text COLLATE \"C\" PRIMARY KEY CHECK (length(id) = 32),"
    " name text COLLATE \"C\" NOT NULL DEFAULT '',"
    " type integer NOT NULL DEFAULT 0,"
    " parent_id text COLLATE \"C\" REFERENCES organizations (id),"
    " created_at bigint NOT NULL);"
    "CREATE TABLE users ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " email text COLLATE \"C\" NOT NULL,"
    " password_hash text,"
    " first_name text,"
    " last_name text,"
    " phone_number text,"
    " temporary_email text,"
    " temporary_phone_number text,"
    " avatar_url text,"
    " image_content text,"
    " viviot_id text,"
    " primary_org_id text COLLATE \"C\" REFERENCES organizations (id),"
    " email_confirmed boolean NOT NULL DEFAULT false,"
    " phone_number_confirmed boolean NOT NULL DEFAULT false,"
    " disabled boolean NOT NULL DEFAULT false,"
    " activation_status integer NOT NULL DEFAULT 0,"
    " manager_access integer NOT NULL DEFAULT -1,"
    " created_at bigint NOT NULL,"
    " updated_at bigint NOT NULL,"
    " token_version bigint NOT NULL DEFAULT 1);"
    /* ASCII letters folded, as SQLite's NOCASE */
    "CREATE UNIQUE INDEX users_email ON users ((lower(email COLLATE \"C\")));"
    "CREATE TABLE user_roles ("
    " user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " role text COLLATE \"C\" NOT NULL,"
    " PRIMARY KEY (user_id, role));"
    "CREATE TABLE user_dashboard_permissions ("
    " user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " permission integer NOT NULL,"
    " PRIMARY KEY (user_id, permission));"
    "CREATE TABLE memberships ("
    " user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " org_id text COLLATE \"C\" NOT NULL REFERENCES organizations (id),"
    " created_at bigint NOT NULL,"
    " PRIMARY KEY (user_id, org_id));",
    /* 2: indices for the filters and the foreign keys */
    "CREATE INDEX memberships_org ON memberships (org_id, user_id);"
    "CREATE INDEX user_roles_role ON user_roles (role, user_id);"
    "CREATE INDEX organizations_parent ON organizations (parent_id, name);"
    "CREATE INDEX organizations_name ON organizations (name, id);"
    "CREATE INDEX users_primary_org ON users (primary_org_id);",
    /* 3: the request log and the failed-login state */
    "CREATE TABLE request_log ("
    " request_id text COLLATE \"C\" PRIMARY KEY,"
    " digest bytea NOT NULL,"
    " response bytea NOT NULL,"
    " created_at bigint NOT NULL);"
    "CREATE INDEX request_log_created ON request_log (created_at);"
    "CREATE TABLE login_state ("
    " key text COLLATE \"C\" PRIMARY KEY,"
    " window_start bigint NOT NULL,"
    " last bigint NOT NULL,"
    " locked_until bigint NOT NULL,"
    " failures integer NOT NULL,"
    " locks integer NOT NULL);",
    /* 4: refresh tokens, by family (revocation) and expiry (pruning) */
    "CREATE TABLE refresh_tokens ("
    " jti text COLLATE \"C\" PRIMARY KEY CHECK (length(jti) = 32),"
    " family text COLLATE \"C\" NOT NULL CHECK (length(family) = 32),"
    " user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " expires_at bigint NOT NULL,"
    " used boolean NOT NULL DEFAULT false);"
    "CREATE INDEX refresh_tokens_family ON refresh_tokens (family);"
    "CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);"
    "CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);",
    /* 5: sign-in attempts reserved and not yet judged, per name */
    "ALTER TABLE login_state ADD COLUMN pending integer NOT NULL DEFAULT 0;",
    /*
     * 6: the users' revisions (checked by daemons that keep users), and a
     * check a deferred statement makes of its own outcome: it raises
     * (with the SQLSTATE given) unless ok, which aborts the statements
     * sent after it (store_pg.c, "Round trips").
     */
    "ALTER TABLE users ADD COLUMN rev bigint NOT NULL DEFAULT 1;"
    "CREATE FUNCTION usersd_expect(ok boolean, state text) RETURNS boolean"
    " LANGUAGE plpgsql AS $$ BEGIN"
    " IF ok IS NOT TRUE THEN"
    "  RAISE EXCEPTION USING ERRCODE = state,"
    "   MESSAGE = 'usersd: a statement changed no row';"
    " END IF;"
    " RETURN true; END $$;",
    /*
     * 7: substring filters through trigram indexes (pg_trgm, trusted:
     * the database's owner may create it), on the very expressions the
     * list's LIKE filters compare, folded as they fold (ASCII).
     */
    "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
    "CREATE INDEX users_email_trgm ON users"
    " USING gin (lower(email COLLATE \"C\") gin_trgm_ops);"
    "CREATE INDEX users_first_name_trgm ON users"
    " USING gin (lower(first_name COLLATE \"C\") gin_trgm_ops);"
    "CREATE INDEX users_last_name_trgm ON users"
    " USING gin (lower(last_name COLLATE \"C\") gin_trgm_ops);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ------------------------------------------------------------------------
 * Statements
 */

#define USER_COLS                                                              \
	"u.id, u.email, u.password_hash, u.first_name, u.last_name,"           \
	" u.phone_number, u.temporary_email, u.temporary_phone_number,"        \
	" u.avatar_url, u.image_content, u.viviot_id, u.primary_org_id,"       \
	" u.email_confirmed, u.phone_number_confirmed, u.disabled,"            \
	" u.activation_status, u.manager_access, u.created_at, u.updated_at,"  \
	" u.token_version,"                                                    \
	" ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id"        \
	"  ORDER BY r.role),"                                                  \
	" ARRAY(SELECT p.permission FROM user_dashboard_permissions p"         \
	"  WHERE p.user_id = u.id ORDER BY p.permission),"                     \
	" COALESCE(mo.ids, '{}'), COALESCE(mo.names, '{}'), u.rev"

/* The memberships of u, for USER_COLS. */
#define USER_ORGS                                                              \
	" LEFT JOIN LATERAL (SELECT array_agg(o.id ORDER BY o.name, o.id)"     \
	"  AS ids, array_agg(o.name ORDER BY o.name, o.id) AS names"           \
	"  FROM memberships m JOIN organizations o ON o.id = m.org_id"         \
	"  WHERE m.user_id = u.id) mo ON true"

#define N_USER_COLS 25

#define ORG_COLS                                                               \
	"o.id, o.name, o.type, o.parent_id, o.created_at,"                     \
	" (SELECT count(*) FROM memberships m WHERE m.org_id = o.id)"

/* Folds ASCII letters only, like SQLite's NOCASE and LIKE. */
#define EMAIL_KEY "lower(email COLLATE \"C\")"

/* The new roles, permissions and memberships of the user in u (CTE). */
#define SET_ARRAY(n, type) "(SELECT DISTINCT unnest($" n "::" type ") AS v) x"

enum {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_USER_GET,
	S_USER_BY_EMAIL,
	S_USER_CHECK,
	S_USER_EXPECT,
	S_USER_LOCK,
	S_USER_LOCK_NW,
	S_USER_LOCK_EMAIL,
	S_USER_LOCK_EMAIL_NW,
	S_USER_COUNT,
	S_ROLE_HOLDERS,
	S_ROLE_HOLDERS_LOCK,
	S_ORG_GET,
	S_ORG_CHILDREN,
	S_ORG_SUBTREE,
	S_USER_INSERT,
	S_USER_UPDATE,
	S_USER_UPDATE_D,
	S_USER_DELETE,
	S_MEMB_INS,
	S_MEMB_DEL,
	S_ORG_INSERT,
	S_REQ_GET,
	S_REQ_CLAIM,
	S_REQ_CLAIM_NW,
	S_REQ_ANSWER,
	S_REQ_PRUNE,
	S_LOGIN_GET,
	S_LOGIN_GET_LOCK,
	S_LOGIN_KEY_LOCK,
	S_LOGIN_KEY_LOCK_NW,
	S_LOGIN_PUT,
	S_LOGIN_DEL,
	S_LOGIN_PRUNE,
	S_REF_INSERT,
	S_REF_LOCK,
	S_REF_LOCK_NW,
	S_REF_GET,
	S_REF_USE,
	S_REF_REVOKE,
	S_REF_PRUNE,
	S_USERS_IMPORT,
	S_USERS_BY_EMAILS,
	S_USERS_AHEAD,
	S_USERS_REVS,
	S_WA_RESERVE,
	S_WA_RECORDED,
	S_WA_REVS,
	S_WA_LOCK,
	S_WA_UPDATE,
	S_WA_RECORD,
	S_COUNT
};

/* The holders of a role who may sign in (ud_store_role_holders). */
#define ROLE_HOLDERS                                                           \
	"SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id"       \
	" WHERE r.role = $1 AND NOT u.disabled"

/* The row lock of a read-modify-write of a user (not of its key). */
#define USER_LOCK "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE"
#define USER_LOCK_EMAIL                                                        \
	"SELECT id FROM users WHERE " EMAIL_KEY " = lower($1 COLLATE \"C\")"   \
	" FOR NO KEY UPDATE"

/*
 * One statement: the columns, then each set made the new one by deleting
 * what is not in it and inserting what is missing (never the same row
 * twice in one statement); memberships only when $23. Every change
 * advances the user's revision.
 */
#define USER_UPDATE_CTE                                                        \
	"WITH u AS (UPDATE users SET email = $1, password_hash = $2,"          \
	" first_name = $3, last_name = $4, phone_number = $5,"                 \
	" temporary_email = $6, temporary_phone_number = $7,"                  \
	" avatar_url = $8, image_content = $9, viviot_id = $10,"               \
	" primary_org_id = $11, email_confirmed = $12,"                        \
	" phone_number_confirmed = $13, disabled = $14,"                       \
	" activation_status = $15, manager_access = $16,"                      \
	" updated_at = $17, token_version = token_version + $18::bigint,"      \
	" rev = rev + 1"                                                       \
	" WHERE id = $19 RETURNING id, created_at, token_version),"            \
	" rd AS (DELETE FROM user_roles WHERE $24::boolean"                    \
	"  AND user_id = (SELECT id FROM u)"                                   \
	"  AND role <> ALL ($20::text[])),"                                    \
	" ri AS (INSERT INTO user_roles (user_id, role) SELECT u.id, x.v"      \
	"  FROM u, " SET_ARRAY(                                                \
	    "20",                                                              \
	    "text[]") " WHERE $24::boolean"                                    \
		      "  ON CONFLICT DO NOTHING),"                             \
		      " pd AS (DELETE FROM user_dashboard_permissions"         \
		      "  WHERE $25::boolean AND user_id = (SELECT id FROM u)"  \
		      "  AND permission <> ALL ($21::integer[])),"             \
		      " pi AS (INSERT INTO user_dashboard_permissions "        \
		      "(user_id,"                                              \
		      "  permission) SELECT u.id, x.v"                         \
		      "  FROM u, " SET_ARRAY(                                  \
			  "21",                                                \
			  "integer[]") " WHERE $25::boolean"                   \
				       "  ON CONFLICT DO NOTHING),"            \
				       " md AS (DELETE FROM memberships "      \
				       "WHERE $23::boolean"                    \
				       "  AND user_id = (SELECT id FROM u)"    \
				       "  AND org_id <> ALL ($22::text[])),"   \
				       " mi AS (INSERT INTO memberships "      \
				       "(user_id, org_id, created_at)"         \
				       "  SELECT u.id, x.v, $17 FROM "         \
				       "u, " SET_ARRAY(                        \
					   "22",                               \
					   "text[]") "  WHERE $23::boolean "   \
						     "ON CONFLICT DO NOTHING)"

/* Raises P0002 (UP_NOT_FOUND) unless the CTE x changed exactly one row. */
#define EXPECT_ONE(x)                                                          \
	" SELECT usersd_expect((SELECT count(*) FROM " x ") = 1, 'P0002')"

/* A key lock that does not wait: 55P03 when it is held elsewhere. */
#define TRY_KEY_LOCK(class)                                                    \
	"SELECT usersd_expect(pg_try_advisory_xact_lock(" class ", "           \
								"hashtext($1)" \
								"), '55P03')"

/*
 * The users of an import (pg_users_import): the columns of
 * user_params_make as arrays, one element a user ($17 the time), and each
 * user's roles, permissions and organizations as an array literal. Users
 * naming an organization that does not exist are left out (t but not
 * ok), and of users with the same email only the first; the others are
 * inserted unless their email is taken (ON CONFLICT DO NOTHING: by a
 * committed user, or after waiting for the writer that holds it), with
 * their sets. They are inserted in the order of their folded emails, not
 * of their rows: an insert that meets an email another transaction has
 * inserted but not committed waits for it, and two imports of the same
 * users in different orders (two daemons, or two writers of one) would
 * each wait for the other; in one order, the later one only waits. Rows: (i,
 * id) for each user inserted, (i, 0) for each left out for its organizations
 * whose email is free (no stored user, no user inserted for an earlier row: the
 * email is looked at first, as a lookup then an insert would); users whose
 * email was taken have none.
 */
#define USERS_IMPORT                                                           \
	"WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"  \
	" $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"         \
	" $9::text[], $10::text[], $11::text[], $12::boolean[],"               \
	" $13::boolean[], $14::boolean[], $15::integer[], $16::integer[],"     \
	" $18::text[], $19::text[], $20::text[]) WITH ORDINALITY AS t(email,"  \
	" password_hash, first_name, last_name, phone_number,"                 \
	" temporary_email, temporary_phone_number, avatar_url,"                \
	" image_content, viviot_id, primary_org_id, email_confirmed,"          \
	" phone_number_confirmed, disabled, activation_status,"                \
	" manager_access, roles, perms, orgs, i)),"                            \
	" ok AS (SELECT * FROM t WHERE (t.primary_org_id IS NULL OR EXISTS"    \
	"  (SELECT 1 FROM organizations g WHERE g.id = t.primary_org_id))"     \
	"  AND NOT EXISTS (SELECT 1 FROM unnest(t.orgs::text[]) o(id)"         \
	"  WHERE NOT EXISTS (SELECT 1 FROM organizations g"                    \
	"  WHERE g.id = o.id))),"                                              \
	" d AS (SELECT DISTINCT ON (lower(email COLLATE \"C\")) * FROM ok"     \
	"  ORDER BY lower(email COLLATE \"C\"), i),"                           \
	" u AS (INSERT INTO users (email, password_hash, first_name,"          \
	"  last_name, phone_number, temporary_email,"                          \
	"  temporary_phone_number, avatar_url, image_content, viviot_id,"      \
	"  primary_org_id, email_confirmed, phone_number_confirmed,"           \
	"  disabled, activation_status, manager_access, created_at,"           \
	"  updated_at, token_version) SELECT email, password_hash,"            \
	"  first_name, last_name, phone_number, temporary_email,"              \
	"  temporary_phone_number, avatar_url, image_content, viviot_id,"      \
	"  primary_org_id, email_confirmed, phone_number_confirmed,"           \
	"  disabled, activation_status, manager_access, $17::bigint,"          \
	"  $17::bigint, 1 FROM d ORDER BY lower(email COLLATE \"C\")"          \
	"  ON CONFLICT DO NOTHING"                                             \
	"  RETURNING id, email),"                                              \
	" x AS (SELECT u.id, u.email, d.roles, d.perms, d.orgs, d.i FROM u"    \
	"  JOIN d ON lower(d.email COLLATE \"C\")"                             \
	"  = lower(u.email COLLATE \"C\")),"                                   \
	" r AS (INSERT INTO user_roles (user_id, role) SELECT DISTINCT x.id,"  \
	"  v FROM x, unnest(x.roles::text[]) v ON CONFLICT DO NOTHING),"       \
	" p AS (INSERT INTO user_dashboard_permissions (user_id, permission)"  \
	"  SELECT DISTINCT x.id, v FROM x, unnest(x.perms::integer[]) v"       \
	"  ON CONFLICT DO NOTHING),"                                           \
	" m AS (INSERT INTO memberships (user_id, org_id, created_at)"         \
	"  SELECT DISTINCT x.id, v, $17::bigint FROM x,"                       \
	"  unnest(x.orgs::text[]) v ON CONFLICT DO NOTHING)"                   \
	" SELECT i, id FROM x UNION ALL SELECT t.i, 0::bigint FROM t"          \
	" WHERE t.i NOT IN (SELECT i FROM ok)"                                 \
	"  AND NOT EXISTS (SELECT 1 FROM users s"                              \
	"  WHERE lower(s.email COLLATE \"C\") = lower(t.email COLLATE \"C\"))" \
	"  AND NOT EXISTS (SELECT 1 FROM x WHERE x.i < t.i"                    \
	"  AND lower(x.email COLLATE \"C\") = lower(t.email COLLATE \"C\"))"

/*
 * The updates of several writes (each of a user read under its lock, its
 * outcome known: pg_user_update) in one statement: the columns of
 * user_params_make as arrays, one element a user, then the token bump
 * and the id; $20 the number of users, every one of which must change.
 */
#define WA_UPDATE                                                              \
	"WITH d AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"  \
	" $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"         \
	" $9::text[], $10::text[], $11::text[], $12::boolean[],"               \
	" $13::boolean[], $14::boolean[], $15::integer[], $16::integer[],"     \
	" $17::bigint[], $18::bigint[], $19::bigint[]) AS d(email,"            \
	" password_hash, first_name, last_name, phone_number,"                 \
	" temporary_email, temporary_phone_number, avatar_url,"                \
	" image_content, viviot_id, primary_org_id, email_confirmed,"          \
	" phone_number_confirmed, disabled, activation_status,"                \
	" manager_access, updated_at, bump, id)),"                             \
	" u AS (UPDATE users SET email = d.email,"                             \
	" password_hash = d.password_hash, first_name = d.first_name,"         \
	" last_name = d.last_name, phone_number = d.phone_number,"             \
	" temporary_email = d.temporary_email,"                                \
	" temporary_phone_number = d.temporary_phone_number,"                  \
	" avatar_url = d.avatar_url, image_content = d.image_content,"         \
	" viviot_id = d.viviot_id, primary_org_id = d.primary_org_id,"         \
	" email_confirmed = d.email_confirmed,"                                \
	" phone_number_confirmed = d.phone_number_confirmed,"                  \
	" disabled = d.disabled, activation_status = d.activation_status,"     \
	" manager_access = d.manager_access, updated_at = d.updated_at,"       \
	" token_version = users.token_version + d.bump,"                       \
	" rev = users.rev + 1 FROM d WHERE users.id = d.id RETURNING 1)"       \
	" SELECT usersd_expect((SELECT count(*) FROM u) = $20::bigint,"        \
	" 'P0002')"

/* A request id's claim, an empty answer, after the lock that lock takes. */
#define REQ_CLAIM(lock)                                                        \
	"INSERT INTO request_log (request_id, digest, response, created_at)"   \
	" SELECT $1::text, $2::bytea, '\\x'::bytea, $3::bigint"                \
	" FROM (SELECT " lock ") l"

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN ISOLATION LEVEL READ COMMITTED",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT w",
    [S_RELEASE] = "RELEASE SAVEPOINT w",
    [S_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT w",
    [S_USER_GET] =
	"SELECT " USER_COLS " FROM users u" USER_ORGS " WHERE u.id = $1",
    [S_USER_BY_EMAIL] = "SELECT " USER_COLS " FROM users u" USER_ORGS
			" WHERE lower(u.email COLLATE \"C\")"
			" = lower($1 COLLATE \"C\")",
    /*
     * Whether user $1 is still at revision $2: no row when it is gone;
     * false when it is, true when it changed (then read on its own: a
     * statement of one index scan costs the server a third of a user's
     * read, and it goes with nearly every call).
     */
    [S_USER_CHECK] = "SELECT rev <> $2 FROM users WHERE id = $1",
    /*
     * The same inside a write, which goes on only if it holds: UD001
     * (UD_STORE_CHANGED) when user $1 changed or is gone.
     */
    [S_USER_EXPECT] = "SELECT usersd_expect(EXISTS (SELECT 1 FROM users"
		      " WHERE id = $1 AND rev = $2), 'UD001')",
    [S_USER_LOCK] = USER_LOCK,
    [S_USER_LOCK_NW] = USER_LOCK " NOWAIT",
    [S_USER_LOCK_EMAIL] = USER_LOCK_EMAIL,
    [S_USER_LOCK_EMAIL_NW] = USER_LOCK_EMAIL " NOWAIT",
    [S_USER_COUNT] = "SELECT count(*) FROM users",
    [S_ROLE_HOLDERS] = ROLE_HOLDERS,
    [S_ROLE_HOLDERS_LOCK] = ROLE_HOLDERS " FOR UPDATE OF u",
    [S_ORG_GET] = "SELECT " ORG_COLS " FROM organizations o WHERE o.id = $1",
    [S_ORG_CHILDREN] = "SELECT " ORG_COLS " FROM organizations o"
		       " WHERE o.parent_id = $1 ORDER BY o.name, o.id",
    [S_ORG_SUBTREE] = "WITH RECURSIVE t(id, depth) AS ("
		      " SELECT id, 0 FROM organizations"
		      "  WHERE id = ANY($1::text[])"
		      " UNION"
		      " SELECT o.id, t.depth + 1 FROM organizations o"
		      "  JOIN t ON o.parent_id = t.id WHERE t.depth < $2)"
		      " SELECT DISTINCT id FROM t ORDER BY id",
    /*
     * One statement: the user, then its sets (foreign keys are checked at
     * the end of the statement, when the user's row is there).
     */
    [S_USER_INSERT] =
	"WITH u AS (INSERT INTO users (email, password_hash, first_name,"
	" last_name, phone_number, temporary_email,"
	" temporary_phone_number, avatar_url, image_content, viviot_id,"
	" primary_org_id, email_confirmed, phone_number_confirmed,"
	" disabled, activation_status, manager_access, created_at,"
	" updated_at, token_version) VALUES ($1, $2, $3, $4, $5, $6,"
	" $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, 1)"
	" RETURNING id),"
	" r AS (INSERT INTO user_roles (user_id, role) SELECT u.id, x.v"
	"  FROM u, " SET_ARRAY(
	    "18",
	    "text[]") " ON CONFLICT DO NOTHING),"
		      " p AS (INSERT INTO user_dashboard_permissions (user_id,"
		      "  permission) SELECT u.id, x.v"
		      "  FROM u, " SET_ARRAY(
			  "19",
			  "integer[]") " ON CONFLICT DO NOTHING),"
				       " m AS (INSERT INTO memberships "
				       "(user_id, org_id, created_at)"
				       "  SELECT u.id, x.v, $17"
				       "  FROM u, " SET_ARRAY(
					   "20",
					   "text[]") " ON CONFLICT DO NOTHING)"
						     " SELECT id FROM u",
    [S_USER_UPDATE] = USER_UPDATE_CTE " SELECT created_at, token_version"
				      " FROM u",
    /* the same, deferred: its outcome known, it only checks it */
    [S_USER_UPDATE_D] = USER_UPDATE_CTE EXPECT_ONE("u"),
    [S_USER_DELETE] = "DELETE FROM users WHERE id = $1",
    [S_MEMB_INS] = "WITH m AS (INSERT INTO memberships (user_id, org_id,"
		   " created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
		   " RETURNING user_id)"
		   " UPDATE users SET rev = rev + 1"
		   " WHERE id IN (SELECT user_id FROM m)",
    /* the rows deleted, as a number */
    [S_MEMB_DEL] = "WITH m AS (DELETE FROM memberships WHERE user_id = $1"
		   " AND org_id = $2 RETURNING user_id),"
		   " u AS (UPDATE users SET rev = rev + 1"
		   " WHERE id IN (SELECT user_id FROM m))"
		   " SELECT count(*) FROM m",
    [S_ORG_INSERT] = "INSERT INTO organizations (id, name, type,"
		     " parent_id, created_at) VALUES ($1, $2, $3, $4, $5)",
    [S_REQ_GET] = "SELECT digest, response FROM request_log"
		  " WHERE request_id = $1",
    /* after the request id's lock, which writes ahead take too */
    [S_REQ_CLAIM] = REQ_CLAIM("pg_advisory_xact_lock(" REQUEST_LOCK_CLASS
			      ", hashtext($1::text))"),
    /* the same when the lock is held elsewhere: 55P03, no wait */
    [S_REQ_CLAIM_NW] =
	REQ_CLAIM("usersd_expect(pg_try_advisory_xact_lock(" REQUEST_LOCK_CLASS
		  ", hashtext($1::text)), '55P03')"),
    [S_REQ_ANSWER] = "WITH a AS (UPDATE request_log SET response = $2"
		     " WHERE request_id = $1 RETURNING 1)" EXPECT_ONE("a"),
    [S_REQ_PRUNE] = "DELETE FROM request_log WHERE created_at < $1",
    [S_LOGIN_GET] = "SELECT window_start, last, locked_until, failures,"
		    " locks, pending FROM login_state WHERE key = $1",
    [S_LOGIN_GET_LOCK] = "SELECT window_start, last, locked_until,"
			 " failures, locks, pending FROM login_state"
			 " WHERE key = $1 FOR UPDATE",
    /* the two-key lock space: never the migrations' (one bigint) */
    [S_LOGIN_KEY_LOCK] =
	"SELECT pg_advisory_xact_lock(" LOGIN_LOCK_CLASS ", hashtext($1))",
    [S_LOGIN_KEY_LOCK_NW] = TRY_KEY_LOCK(LOGIN_LOCK_CLASS),
    [S_LOGIN_PUT] = "INSERT INTO login_state (key, window_start, last,"
		    " locked_until, failures, locks, pending)"
		    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO"
		    " UPDATE SET window_start = $2, last = $3,"
		    " locked_until = $4, failures = $5, locks = $6,"
		    " pending = $7",
    [S_LOGIN_DEL] = "DELETE FROM login_state WHERE key = $1",
    [S_LOGIN_PRUNE] = "DELETE FROM login_state"
		      " WHERE greatest(last, locked_until) < $1",
    [S_REF_INSERT] = "INSERT INTO refresh_tokens (jti, family, user_id,"
		     " expires_at, used) VALUES ($1, $2, $3, $4, false)",
    [S_REF_LOCK] =
	"SELECT pg_advisory_xact_lock(" FAMILY_LOCK_CLASS ", hashtext($1))",
    [S_REF_LOCK_NW] = TRY_KEY_LOCK(FAMILY_LOCK_CLASS),
    [S_REF_GET] = "SELECT user_id, expires_at, used FROM refresh_tokens"
		  " WHERE jti = $1 AND family = $2",
    [S_REF_USE] = "UPDATE refresh_tokens SET used = true"
		  " WHERE jti = $1 AND NOT used",
    [S_REF_REVOKE] = "DELETE FROM refresh_tokens WHERE family = $1",
    [S_REF_PRUNE] = "DELETE FROM refresh_tokens WHERE expires_at < $1",
    [S_USERS_IMPORT] = USERS_IMPORT,
    /* the users of the emails in $1, each beside its email's place */
    [S_USERS_BY_EMAILS] =
	"SELECT e.i, " USER_COLS " FROM unnest($1::text[]) WITH ORDINALITY"
	" e(v, i) JOIN users u"
	" ON lower(u.email COLLATE \"C\") = lower(e.v COLLATE \"C\")" USER_ORGS,
    /* the users and callers of a read ahead, in one snapshot */
    [S_USERS_AHEAD] = "SELECT " USER_COLS " FROM users u" USER_ORGS
		      " WHERE u.id = ANY($1::bigint[])",
    /* the revisions of targets kept ("Users kept") */
    [S_USERS_REVS] = "SELECT u.id, u.rev, u.created_at, u.updated_at"
		     " FROM users u WHERE u.id = ANY($1::bigint[])",
    /* writes ahead ("Writes ahead"): the request ids of several writes
     * reserved (the lock S_REQ_CLAIM takes), those held elsewhere left
     * out (nothing waits); then those recorded already */
    [S_WA_RESERVE] =
	"SELECT v FROM (SELECT DISTINCT v"
	" FROM unnest($1::text[]) v) k"
	" WHERE pg_try_advisory_xact_lock(" REQUEST_LOCK_CLASS ", hashtext(v))",
    [S_WA_RECORDED] = "SELECT request_id FROM request_log"
		      " WHERE request_id = ANY($1::text[])",
    [S_WA_REVS] = "SELECT id, rev FROM users WHERE id = ANY($1::bigint[])",
    /* those locked elsewhere left out (nothing waits) */
    [S_WA_LOCK] = "SELECT id FROM users WHERE id = ANY($1::bigint[])"
		  " FOR NO KEY UPDATE SKIP LOCKED",
    [S_WA_UPDATE] = WA_UPDATE,
    /* their answers, the request ids' rows written once, at the end */
    [S_WA_RECORD] = "INSERT INTO request_log (request_id, digest, response,"
		    " created_at) SELECT d.id, decode(d.digest, 'hex'),"
		    " decode(d.resp, 'hex'), d.at FROM unnest($1::text[],"
		    " $2::text[], $3::text[], $4::bigint[]) d(id, digest, resp,"
		    " at)",
};

/* The statement a NOWAIT one stands for, in a transaction of its own. */
static int
waiting_variant(int key)
{
	switch (key) {
	case S_USER_LOCK_NW:
		return S_USER_LOCK;
	case S_USER_LOCK_EMAIL_NW:
		return S_USER_LOCK_EMAIL;
	case S_LOGIN_KEY_LOCK_NW:
		return S_LOGIN_KEY_LOCK;
	case S_REF_LOCK_NW:
		return S_REF_LOCK;
	case S_REQ_CLAIM_NW:
		return S_REQ_CLAIM;
	default:
		return key;
	}
}

/* Filter bits of the lists; the statements are built per combination. */
enum {
	F_EMAIL = 1 << 0,
	F_NAME = 1 << 1,
	F_ORG = 1 << 2,
	F_ROLE = 1 << 3,
	F_SCOPE = 1 << 4,
	F_FIRST = 1 << 5, /* a substring's first page, counted to a cap */
	F_USER_ALL = (1 << 6) - 1,
};
enum {
	F_PARENT = 1 << 0,
	F_IDS = 1 << 1,
	F_AFTER = 1 << 2, /* the page only: the keyset */
	F_ORG_ALL = (1 << 3) - 1
};

/* A statement's key: S_*, then the user lists and the organization lists
 * by filter mask. */
#define K_USER_LIST S_COUNT
#define K_ORG_LIST  (K_USER_LIST + F_USER_ALL + 1)
#define K_COUNT     (K_ORG_LIST + F_ORG_ALL + 1)

/* ------------------------------------------------------------------------
 * Connections, and what they have on the wire
 */

/* What the answer to a statement sent is for. */
enum {
	E_RESULT,  /* an operation waits for its rows */
	E_DEFER,   /* a write's, whose rows nobody reads: a failure fails it */
	E_CLAIM,   /* a request id's claim: 23505 when another has it */
	E_CHECK,   /* a reader's check of a kept user */
	E_PREPARE, /* a statement, prepared on first use */
	E_TXN,     /* BEGIN, a savepoint, ROLLBACK: the transaction's own */
	E_COMMIT,  /* the COMMIT of a group of writes */
	E_AHEAD,   /* a write ahead's (its rows kept): a failure loses all */
};

#define RC_WAITING  (-1)       /* sent, not answered yet */
#define CLAIM_AHEAD UINT32_MAX /* c->claim: claimed by the writes ahead */
#define RC_SKIPPED                                                             \
	(-2) /* not run: an earlier statement of its round failed              \
	      */

typedef struct group group;

/* A statement sent (or to be sent again) and its answer. */
typedef struct entry {
	uint32_t serial; /* the same when it is sent again */
	unsigned char kind;
	bool nowait; /* a lock that does not wait: 55P03 when held elsewhere */
	int key;
	ud_store_job *job; /* the write it is part of (a writer's), or NULL */
	group *g;          /* E_COMMIT: the writes it commits */
	int nparams;
	size_t pv;     /* its first parameter in the connection's pvs */
	int rc;        /* RC_WAITING, RC_SKIPPED, 0 or a status */
	char state[6]; /* the SQLSTATE of a failure */
	PGresult *res; /* E_RESULT: its rows, until the operation takes them */
} entry;

/* A parameter kept to be sent again: bytes[off, off + len), or NULL. */
typedef struct pval {
	size_t off;
	int len;
	int fmt;
	bool null;
} pval;

/* The writes of one transaction, from its BEGIN to its COMMIT. */
struct group {
	ud_store_job *head;
	ud_store_job *tail;
	size_t n;
	ud_store_changes chg; /* the users they changed */
};

/* What the running write read under its lock (see pg_user_update). */
typedef struct memo {
	int64_t id; /* 0: nothing */
	char *email;
	char *porg;
	int64_t created_at;
	int64_t token_version;
} memo;

/*
 * What a reader read ahead for the calls of one message (pg_read_ahead):
 * each user asked for, as a call's target, as a caller, or both, found or
 * not, all read by one statement (one snapshot).
 */
typedef struct ahead_user {
	int64_t id;
	bool target; /* asked for as a GetUser's target */
	bool caller; /* asked for as a caller: its checks answer from it */
	bool found;
	bool kept; /* u is the kept copy; only its revision was asked for */
	bool seen; /* kept, and its revision came back: it exists */
	ud_user u;
} ahead_user;

/*
 * Users kept ("Users kept", at pg_read_ahead): the GetUser targets read
 * whole, by id, a copy each in one of KEPT_SLOTS slots (a newer user
 * replaces an older one in its slot), without the password hash; a user
 * whose texts (image content, names, roles, organizations...) come to
 * more than KEPT_BYTES is not kept, so the table stays under some 40 MiB.
 */
#define KEPT_SLOTS 4096 /* a power of two */
#define KEPT_BYTES 8192

typedef struct kept_slot {
	pthread_mutex_t mu;
	int64_t id; /* 0: empty */
	ud_user u;
} kept_slot;

typedef struct ahead {
	bool on;
	size_t n;
	ahead_user users[2 * UD_STORE_AHEAD_MAX];
} ahead;

/* An array literal, built an element at a time (NULL: a NULL element). */
typedef struct lit {
	char *p;
	size_t n, cap;
} lit;

/*
 * A writer's writes ahead ("Writes ahead", below): the first writes of a
 * batch that told what they will do first (ud_store_hint), whose request
 * ids, callers' revisions and locked users were read together, and the
 * statements of those done that are not sent yet.
 */
#define WA_COLS 19 /* user_params_make's 17 values, the bump, the id */

typedef struct wa_rows {
	lit col[WA_COLS]; /* updates (WA_UPDATE) */
	size_t n_upd;
	lit rid, digest, resp, at; /* answers (WA_RECORD); hex: bytes */
	size_t n_ans;
} wa_rows;

typedef struct wa_job {
	ud_store_job *job;
	/* its request id: 0 reserved, UP_ALREADY_EXISTS recorded already,
	 * UP_NOT_FOUND none told */
	int claim_rc;
	int64_t claim_at; /* the time its claim gave */
	bool stale;       /* its caller is not at the revision told */
	bool skipped;     /* what it needs is held elsewhere: not ahead */
	bool found;       /* its user, locked and read */
	bool read;        /* handed out (user_get) */
	ud_user u;
	char *upd[WA_COLS]; /* its update, not sent yet (upd[0]: the email) */
	bool has_upd;
	char *ans; /* its answer in hex, not sent yet */
} wa_job;

typedef struct wa_state {
	bool on;      /* nothing sent since: writes may be served from it */
	bool sending; /* wa_leave is sending: no recursion */
	size_t n;
	wa_job jobs[PG_BATCH_MAX];
	wa_job *cur; /* the running write's, or NULL */
	bool cur_sp; /* the running write left: its savepoint is sent */
	wa_rows done;
} wa_state;

struct ud_store_conn {
	ud_store_conn_base base; /* first */
	ud_store *st;
	PGconn *pg;
	bool writer;
	bool pipeline; /* in pipeline mode (once migrated) */
	bool broken;   /* failed: reset before it is used again */
	/* prepared on the server in this session (cleared by a reset) */
	bool prepared[K_COUNT];
	/*
	 * The statements of the round trips: ent[0, n_done) answered,
	 * ent[n_done, n_ent) sent and waiting; ent[round, n_done) the last
	 * round trip's. Their parameters: pvs and bytes. All of it is
	 * emptied when everything is answered and a new round begins.
	 */
	entry *ent;
	size_t n_ent, cap_ent, n_done, round;
	pval *pvs;
	size_t n_pvs, cap_pvs;
	unsigned char *bytes;
	size_t n_bytes, cap_bytes;
	uint32_t serial;
	/* A reader's check of a kept user: its statement, verdict, rows. */
	uint32_t check;
	int check_rc;
	PGresult *check_res;
	int64_t check_id; /* the user checked */
	/* A check answered from the read ahead: the user read, or NULL. */
	const ahead_user *check_ahead;
	int64_t check_rev;
	ahead ah; /* a reader's read ahead */
	/* A writer's transaction, and the write running in it. */
	bool in_txn; /* BEGIN sent, and no COMMIT or ROLLBACK since */
	group *g;    /* the writes of the open transaction */
	ud_store_job *cur;
	bool cur_first;    /* cur is the first write of its transaction */
	bool cur_answered; /* the server answered cur already */
	bool cur_failed;   /* a statement of cur failed: roll it back */
	int cur_rc;        /* that failure: cur's later operations answer it */
	bool txn_lost;     /* the transaction failed as a whole */
	bool hold;         /* keep the answered entries (sending again) */
	uint32_t claim;    /* cur's request id claim, 0: none */
	int claim_rc;
	memo m;
	wa_state wa; /* a writer's writes ahead */
};

struct ud_store {
	ud_store_base base; /* first */
	char *url;
	int version;
	unsigned n_writers;
	unsigned max_batch;
	ud_store_conn **wconns; /* wconns[i] belongs to writer thread i */
	pthread_t *threads;
	unsigned started;
	ud_store_config cfg; /* the caller's (changed, changed_arg) */

	ud_store_jobq q; /* its mu also guards stats */
	ud_store_counters stats;
	ud_store_doneq answers; /* committed writes, answered off the writers */
	atomic_uint_least64_t round_trips;
	kept_slot *kept;                 /* KEPT_SLOTS; shared by the readers */
	unsigned n_kept_mu;              /* slots whose mutex was set up */
	atomic_uint_least64_t kept_hits; /* targets answered from kept */
};

/* The parameters of one statement: text, or binary for bytea. */
typedef struct params {
	int n;
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS];
	char num[MAX_PARAMS][24];
} params;

static void
p_text(params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void
p_int(params *p, int64_t x)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)x);
	p_text(p, p->num[p->n]);
}

static void
p_bool(params *p, bool b)
{
	p_text(p, b ? "t" : "f");
}

static void
p_bytes(params *p, const void *b, size_t len)
{
	p->v[p->n] = len > 0 ? b : "";
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

/* ------------------------------------------------------------------------
 * Errors
 */

static bool
state_is(const char *state, const char *prefix)
{
	return state != NULL && strncmp(state, prefix, strlen(prefix)) == 0;
}

static int
status_of(PGconn *pg, const char *state)
{
	if (state == NULL || PQstatus(pg) != CONNECTION_OK) {
		return UP_UNAVAILABLE; /* no answer from the server */
	}
	if (strcmp(state, "23505") == 0) {
		return UP_ALREADY_EXISTS;
	}
	if (strcmp(state, "P0002") == 0) {
		return UP_NOT_FOUND; /* usersd_expect: no such row */
	}
	if (strcmp(state, "UD001") == 0) {
		return UD_STORE_CHANGED; /* usersd_expect: a user changed */
	}
	if (state_is(state, "23") || state_is(state, "22")) {
		return UP_INVALID_ARGUMENT; /* foreign key, check; bad data */
	}
	if (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0) {
		return UP_ABORTED; /* deadlock, serialization */
	}
	if (state_is(state, "08") || state_is(state, "40") ||
	    state_is(state, "53") || state_is(state, "55") ||
	    state_is(state, "57") || state_is(state, "58") ||
	    strcmp(state, "25006") == 0) {
		/* connection, resources, shutdown, a read-only standby */
		return UP_UNAVAILABLE;
	}
	return UP_INTERNAL;
}

/* Logs a message of libpq's without its trailing newline. */
static void
log_pg(const char *what, const char *msg, const char *state)
{
	size_t len = msg != NULL ? strlen(msg) : 0;

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
		len--;
	}
	fprintf(stderr, "usersd: store: %s: %.*s (%s)\n", what, (int)len,
		msg != NULL ? msg : "", state != NULL ? state : "no answer");
}

/* What a statement is, for a log line (never its SQL). */
static const char *
what_of(int key)
{
	switch (key) {
	case S_BEGIN:
	case S_COMMIT:
	case S_ROLLBACK:
	case S_SAVEPOINT:
	case S_RELEASE:
	case S_ROLLBACK_TO:
		return "transaction";
	case S_USER_LOCK:
	case S_USER_LOCK_NW:
	case S_USER_LOCK_EMAIL:
	case S_USER_LOCK_EMAIL_NW:
		return "lock user";
	case S_USER_CHECK:
	case S_USER_EXPECT:
		return "check user";
	case S_USER_INSERT:
		return "insert user";
	case S_USERS_IMPORT:
		return "import users";
	case S_USER_UPDATE:
	case S_USER_UPDATE_D:
		return "update user";
	case S_USER_DELETE:
		return "delete user";
	case S_MEMB_INS:
	case S_MEMB_DEL:
		return "membership";
	case S_ORG_INSERT:
		return "insert organization";
	case S_REQ_GET:
	case S_REQ_CLAIM:
	case S_REQ_CLAIM_NW:
	case S_REQ_ANSWER:
	case S_REQ_PRUNE:
		return "request log";
	case S_LOGIN_GET:
	case S_LOGIN_GET_LOCK:
	case S_LOGIN_KEY_LOCK:
	case S_LOGIN_KEY_LOCK_NW:
	case S_LOGIN_PUT:
	case S_LOGIN_DEL:
	case S_LOGIN_PRUNE:
		return "login state";
	case S_REF_INSERT:
	case S_REF_LOCK:
	case S_REF_LOCK_NW:
	case S_REF_GET:
	case S_REF_USE:
	case S_REF_REVOKE:
	case S_REF_PRUNE:
		return "refresh tokens";
	default:
		return "read";
	}
}

/* ------------------------------------------------------------------------
 * Connections
 */

/* The server's notices: warnings logged, the rest (NOTICE...) dropped. */
static void
notice(void *arg, const PGresult *r)
{
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);

	(void)arg;
	if (sev != NULL && strcmp(sev, "WARNING") == 0) {
		log_pg("server", PQresultErrorMessage(r),
		       PQresultErrorField(r, PG_DIAG_SQLSTATE));
	}
}

/*
 * Session limits, so that nothing waits without end: a reader's statement
 * runs on the thread of an RPC; a writer waits for row locks that another
 * daemon may hold, and a daemon stopped (SIGSTOP) in the middle of a
 * transaction must not hold its locks for ever: the server ends such a
 * session, and the stopped daemon's commit then fails (UP_UNAVAILABLE).
 */
#define READER_OPTIONS "-c statement_timeout=5000"
#define WRITER_OPTIONS                                                         \
	"-c statement_timeout=10000 -c lock_timeout=5000"                      \
	" -c idle_in_transaction_session_timeout=15000"

static int
connect_url(const char *url, bool writer, PGconn **out)
{
	/* later entries win: the URL's own settings override these */
	const char *const keys[] = {"application_name", "client_encoding",
				    "connect_timeout",  "options",
				    "dbname",           NULL};
	const char *const vals[] = {
	    "usersd", "UTF8", "10", writer ? WRITER_OPTIONS : READER_OPTIONS,
	    url,      NULL};
	PGconn *pg;

	*out = NULL;
	if ((pg = PQconnectdbParams(keys, vals, 1)) == NULL) {
		return UP_INTERNAL;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		log_pg("connect", PQerrorMessage(pg), NULL);
		PQfinish(pg);
		return UP_UNAVAILABLE;
	}
	PQsetNoticeReceiver(pg, notice, NULL); /* kept across PQreset */
	*out = pg;
	return 0;
}

/* Drops every entry and what they hold (a new round, or the end). */
static void
round_clear(ud_store_conn *c)
{
	for (size_t i = 0; i < c->n_ent; i++) {
		PQclear(c->ent[i].res);
	}
	c->n_ent = c->n_done = c->round = 0;
	c->n_pvs = 0;
	c->n_bytes = 0;
}

/* Into pipeline mode: the connection's one way of running statements. */
static int
pipeline_enter(ud_store_conn *c)
{
	if (PQenterPipelineMode(c->pg) != 1) {
		log_pg("pipeline mode", PQerrorMessage(c->pg), NULL);
		return UP_UNAVAILABLE;
	}
	c->pipeline = true;
	return 0;
}

/* Reconnects a broken connection (a new session: nothing prepared). */
static void kept_clear(ud_store *st);

static int
conn_reset(ud_store_conn *c)
{
	memset(c->prepared, 0, sizeof(c->prepared));
	PQreset(c->pg);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		log_pg("reconnect", PQerrorMessage(c->pg), NULL);
		return UP_UNAVAILABLE;
	}
	if (c->pipeline && pipeline_enter(c) != 0) {
		return UP_UNAVAILABLE;
	}
	c->broken = false;
	/* perhaps another server now (a standby promoted): keep nothing */
	kept_clear(c->st);
	fprintf(stderr, "usersd: store: reconnected to the database\n");
	return 0;
}

static void
memo_clear(memo *m)
{
	free(m->email);
	free(m->porg);
	memset(m, 0, sizeof(*m));
}

static void
group_free(group *g)
{
	if (g != NULL) {
		ud_store_changes_fini(&g->chg);
		free(g);
	}
}

static group *
group_new(const ud_store *st)
{
	group *g = calloc(1, sizeof(*g));

	if (g != NULL) {
		ud_store_changes_init(&g->chg, &st->cfg);
	}
	return g;
}

static void pg_read_ahead_end(ud_store_conn *c);
static void kept_forget(ud_store *st, const ud_store_changes *chg);

static void wa_leave(ud_store_conn *c);
static void wa_reset(ud_store_conn *c);
static int defer(ud_store_conn *c, int key, const params *p);

static void
conn_free(ud_store_conn *c)
{
	if (c == NULL) {
		return;
	}
	pg_read_ahead_end(c);
	round_clear(c);
	PQclear(c->check_res);
	PQfinish(c->pg);
	wa_reset(c);
	group_free(c->g);
	memo_clear(&c->m);
	free(c->ent);
	free(c->pvs);
	free(c->bytes);
	free(c);
}

/*
 * A connection; in pipeline mode unless it is for the migrations (a
 * writer's, made before they ran: pipeline_enter once they did).
 */
static int
conn_new(ud_store *st, const char *url, bool writer, bool pipeline,
	 ud_store_conn **out)
{
	ud_store_conn *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return UP_INTERNAL;
	}
	c->base.ops = &ud_store_pg_ops;
	c->st = st;
	c->writer = writer;
	c->claim_rc = UP_NOT_FOUND;
	if ((rc = connect_url(url, writer, &c->pg)) != 0) {
		free(c);
		return rc;
	}
	if ((writer && st != NULL && (c->g = group_new(st)) == NULL) ||
	    (pipeline && (rc = pipeline_enter(c)) != 0)) {
		conn_free(c);
		return rc != 0 ? rc : UP_INTERNAL;
	}
	*out = c;
	return 0;
}

/* ------------------------------------------------------------------------
 * Before pipeline mode: the migrations' statements, one at a time
 */

/* Translates a failed statement (r may be NULL) and logs the message. */
static int
fail_direct(ud_store_conn *c, const PGresult *r, const char *what)
{
	const char *state =
	    r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r != NULL ? PQresultErrorMessage(r) : NULL;

	if (msg == NULL || *msg == '\0') {
		msg = PQerrorMessage(c->pg);
	}
	log_pg(what, msg, state);
	return status_of(c->pg, state);
}

/* sql as a simple query; 0 with *out (the caller clears it) or a code. */
static int
direct(ud_store_conn *c, const char *sql, PGresult **out, const char *what)
{
	PGresult *r = PQexec(c->pg, sql);
	ExecStatusType s = PQresultStatus(r);
	int rc;

	*out = NULL;
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
		*out = r;
		return 0;
	}
	rc = fail_direct(c, r, what);
	PQclear(r);
	return rc;
}

static int
simple(ud_store_conn *c, const char *sql, const char *what)
{
	PGresult *r = NULL;
	int rc = direct(c, sql, &r, what);

	PQclear(r);
	return rc;
}

/* ------------------------------------------------------------------------
 * Sending statements
 */

static void user_list_sql(unsigned mask, char *sql, size_t cap);
static void org_list_sql(unsigned mask, char *sql, size_t cap);

/* The SQL of a statement's key (buf holds a list's). */
static const char *
sql_of(int key, char *buf, size_t cap)
{
	if (key < S_COUNT) {
		return stmt_sql[key];
	}
	if (key < K_ORG_LIST) {
		user_list_sql((unsigned)(key - K_USER_LIST), buf, cap);
	} else {
		org_list_sql((unsigned)(key - K_ORG_LIST), buf, cap);
	}
	return buf;
}

static int
grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (need <= *cap) {
		return 0;
	}
	while (n < need) {
		n *= 2;
	}
	if ((p = realloc(*v, n * size)) == NULL) {
		return UP_INTERNAL;
	}
	*v = p;
	*cap = n;
	return 0;
}

/* Keeps p's values (to be sent again if need be): its first pval. */
static int
params_keep(ud_store_conn *c, const params *p, size_t *first)
{
	int n = p != NULL ? p->n : 0;

	*first = c->n_pvs;
	if (grow((void **)&c->pvs, &c->cap_pvs, c->n_pvs + (size_t)n,
		 sizeof(*c->pvs)) != 0) {
		return UP_INTERNAL;
	}
	for (int i = 0; i < n; i++) {
		pval *v = &c->pvs[c->n_pvs++];
		size_t len = p->v[i] == NULL ? 0
			     : p->fmt[i]     ? (size_t)p->len[i]
					     : strlen(p->v[i]);

		v->null = p->v[i] == NULL;
		v->fmt = p->fmt[i];
		v->len = (int)len;
		v->off = c->n_bytes;
		if (grow((void **)&c->bytes, &c->cap_bytes,
			 c->n_bytes + len + 1, 1) != 0) {
			return UP_INTERNAL;
		}
		if (len > 0) {
			memcpy(c->bytes + c->n_bytes, p->v[i], len);
		}
		c->bytes[c->n_bytes + len] = '\0';
		c->n_bytes += len + 1;
	}
	return 0;
}

/* A new entry at the end (not sent); NULL when out of room. */
static entry *
entry_add(ud_store_conn *c, unsigned char kind, int key)
{
	entry *e;

	if (c->n_ent >= ROUND_ENT_MAX ||
	    grow((void **)&c->ent, &c->cap_ent, c->n_ent + 1,
		 sizeof(*c->ent)) != 0) {
		return NULL;
	}
	e = &c->ent[c->n_ent++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->key = key;
	e->rc = RC_WAITING;
	return e;
}

/*
 * Puts ent[i] on the wire (its parameters kept in pvs), preparing its
 * statement first if this session has not. A failure to send breaks the
 * connection: the round trip then answers UP_UNAVAILABLE.
 */
static void
wire(ud_store_conn *c, size_t i)
{
	const char *vals[MAX_PARAMS];
	int lens[MAX_PARAMS], fmts[MAX_PARAMS];
	char name[16], buf[8192];
	int key = c->ent[i].key, n = c->ent[i].nparams;
	size_t pv = c->ent[i].pv;

	if (c->broken) {
		return;
	}
	snprintf(name, sizeof(name), "ud%d", key);
	if (!c->prepared[key]) {
		entry *e = entry_add(c, E_PREPARE, key);
		entry moved;

		if (e == NULL) {
			c->broken = true;
			return;
		}
		/* the prepare goes first: swap it before the statement */
		moved = c->ent[i];
		c->ent[i] = *e;
		*e = moved;
		i = (size_t)(e - c->ent);
		if (PQsendPrepare(c->pg, name, sql_of(key, buf, sizeof(buf)), 0,
				  NULL) != 1) {
			c->broken = true;
			return;
		}
		c->prepared[key] = true;
	}
	for (int k = 0; k < n; k++) {
		const pval *v = &c->pvs[pv + (size_t)k];
		vals[k] = v->null ? NULL : (const char *)c->bytes + v->off;
		lens[k] = v->len;
		fmts[k] = v->fmt;
	}
	if (PQsendQueryPrepared(c->pg, name, n, vals, lens, fmts, 1) != 1) {
		c->broken = true;
	}
}

/*
 * Sends statement key with p as an entry of kind: its serial, or 0 when
 * it could not even be queued (out of memory: UP_INTERNAL).
 */
static uint32_t
send_stmt(ud_store_conn *c, unsigned char kind, int key, const params *p)
{
	entry *e;
	size_t pv;

	if (c->writer && c->wa.on && !c->wa.sending) {
		wa_leave(c); /* what writes ahead kept goes first */
	}
	if (c->n_done == c->n_ent && c->n_ent > 0 && !c->hold) {
		round_clear(c); /* everything answered: a new round */
	}
	if (params_keep(c, p, &pv) != 0 ||
	    (e = entry_add(c, kind, key)) == NULL) {
		return 0;
	}
	e->serial = ++c->serial ? c->serial : ++c->serial;
	e->nparams = p != NULL ? p->n : 0;
	e->pv = pv;
	e->job = c->writer ? c->cur : NULL;
	e->nowait = key != waiting_variant(key);
	wire(c, c->n_ent - 1);
	return c->ent[c->n_ent - 1].serial;
}

/* Sends ent[i] again, as a new entry (after a failure cut its round). */
static void
resend(ud_store_conn *c, size_t i, bool wait_for_locks)
{
	entry *e, old = c->ent[i];

	if ((e = entry_add(c, old.kind, old.key)) == NULL) {
		c->broken = true;
		return;
	}
	e->serial = old.serial;
	e->job = old.job;
	e->g = old.g;
	e->nparams = old.nparams;
	e->pv = old.pv;
	if (wait_for_locks) {
		e->key = waiting_variant(old.key);
	}
	e->nowait = e->key != waiting_variant(e->key);
	c->ent[i].g = NULL; /* the copy commits it now */
	if (e->kind == E_CLAIM && e->job == c->cur && c->cur != NULL) {
		c->claim_rc = RC_WAITING;
	}
	if (e->kind == E_CHECK) {
		c->check_rc = RC_WAITING;
	}
	wire(c, c->n_ent - 1);
}

/* The newest entry of serial s, or NULL. */
static entry *
entry_of(ud_store_conn *c, uint32_t s)
{
	for (size_t i = c->n_ent; i > 0; i--) {
		if (c->ent[i - 1].serial == s &&
		    c->ent[i - 1].kind != E_PREPARE) {
			return &c->ent[i - 1];
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Round trips
 */

/*
 * Reads the answer of e (one result, then the NULL that ends it). false
 * when the connection failed.
 */
static bool
answer(ud_store_conn *c, entry *e)
{
	PGresult *r = PQgetResult(c->pg), *end;
	ExecStatusType s;

	if (r == NULL) {
		return false;
	}
	s = PQresultStatus(r);
	if (s == PGRES_PIPELINE_ABORTED) {
		e->rc = RC_SKIPPED;
		if (e->kind == E_PREPARE) {
			c->prepared[e->key] = false;
		}
	} else if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
		e->rc = 0;
		if (e->kind == E_COMMIT &&
		    strcmp(PQcmdStatus(r), "COMMIT") != 0) {
			fprintf(stderr, "usersd: store: commit rolled back\n");
			e->rc = UP_UNAVAILABLE;
		}
	} else {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		bool quiet = state_is(state, "23") ||
			     state_is(state, "UD001") ||
			     (e->nowait && state_is(state, "55P03"));

		snprintf(e->state, sizeof(e->state), "%s",
			 state != NULL ? state : "");
		e->rc = status_of(c->pg, state);
		if (e->kind == E_PREPARE) {
			c->prepared[e->key] = false;
		}
		if (!quiet) {
			log_pg(what_of(e->key), PQresultErrorMessage(r), state);
		}
	}
	if ((e->kind == E_RESULT || e->kind == E_AHEAD) && e->rc == 0) {
		e->res = r;
		r = NULL;
	} else if (e->kind == E_CHECK) {
		c->check_rc = e->rc;
		if (e->rc == 0) {
			PQclear(c->check_res);
			c->check_res = r;
			r = NULL;
		}
	} else if (e->kind == E_CLAIM && e->rc != RC_SKIPPED &&
		   e->job == c->cur && c->cur != NULL) {
		c->claim_rc = e->rc;
	}
	PQclear(r);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		return false;
	}
	if ((end = PQgetResult(c->pg)) != NULL) {
		PQclear(end); /* not the protocol we speak: give up on it */
		return false;
	}
	return true;
}

/*
 * Ends the round trip: a Sync, then every answer up to it. A connection
 * that fails answers UP_UNAVAILABLE for everything still waiting and is
 * marked broken.
 */
static void
round_trip(ud_store_conn *c)
{
	size_t i = c->n_done;

	c->round = i;
	if (i == c->n_ent) {
		return;
	}
	if (!c->broken && PQpipelineSync(c->pg) == 1) {
		atomic_fetch_add(&c->st->round_trips, 1);
		while (i < c->n_ent && answer(c, &c->ent[i])) {
			i++;
		}
		if (i == c->n_ent) {
			PGresult *r = PQgetResult(c->pg);
			if (r == NULL ||
			    PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
				i = 0; /* lost track of the answers */
			}
			PQclear(r);
		}
	}
	if (i < c->n_ent || c->broken) {
		if (!c->broken) {
			log_pg("round trip", PQerrorMessage(c->pg), NULL);
		}
		c->broken = true;
		for (size_t k = c->n_done; k < c->n_ent; k++) {
			if (c->ent[k].rc != RC_WAITING && k < i) {
				continue; /* answered before it failed */
			}
			c->ent[k].rc = UP_UNAVAILABLE;
			if (c->ent[k].kind == E_CHECK) {
				c->check_rc = UP_UNAVAILABLE;
			}
		}
		if (c->cur != NULL && c->claim_rc == RC_WAITING) {
			c->claim_rc = UP_UNAVAILABLE;
		}
	}
	c->n_done = c->n_ent;
}

/* The rows of entry s (the caller clears them) and its code. */
static int
take(ud_store_conn *c, uint32_t s, PGresult **out)
{
	entry *e = entry_of(c, s);
	int rc;

	if (out != NULL) {
		*out = NULL;
	}
	if (e == NULL) {
		return UP_INTERNAL;
	}
	rc = e->rc;
	if (rc == RC_SKIPPED || rc == RC_WAITING) {
		rc = c->cur_rc != 0 ? c->cur_rc : UP_UNAVAILABLE;
	}
	if (rc == 0 && out != NULL) {
		*out = e->res;
		e->res = NULL;
	}
	return rc;
}

/*
 * A reader's wait for statement s: one round trip; when the connection
 * broke, a reconnect and the round once more.
 */
static int
reader_wait(ud_store_conn *c, uint32_t s, PGresult **out)
{
	for (int attempt = 0;; attempt++) {
		size_t start = c->n_done, end;

		round_trip(c);
		end = c->n_done;
		if (!c->broken || attempt > 0 || conn_reset(c) != 0) {
			break;
		}
		for (size_t i = start; i < end; i++) {
			if (c->ent[i].kind != E_PREPARE) {
				resend(c, i, false);
			}
		}
	}
	return take(c, s, out);
}
/* ------------------------------------------------------------------------
 * Values in and out
 */

static int
lit_add(lit *a, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (grow((void **)&a->p, &a->cap, a->n + 2 * len + 8, 1) != 0) {
		return UP_INTERNAL;
	}
	a->p[a->n] = a->n == 0 ? '{' : ',';
	a->n++;
	if (s == NULL) {
		memcpy(a->p + a->n, "NULL", 4);
		a->n += 4;
		return 0;
	}
	a->p[a->n++] = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			a->p[a->n++] = '\\';
		}
		a->p[a->n++] = *s;
	}
	a->p[a->n++] = '"';
	return 0;
}

/* The literal, closed; NULL when out of memory. */
static const char *
lit_end(lit *a)
{
	if (grow((void **)&a->p, &a->cap, a->n + 3, 1) != 0) {
		return NULL;
	}
	if (a->n == 0) {
		a->p[a->n++] = '{';
	}
	a->p[a->n++] = '}';
	a->p[a->n] = '\0';
	return a->p;
}

/* A PostgreSQL array literal of the strings: {"a","b \"c\""}. */
static int
text_array(char *const *v, size_t n, size_t max_len, char **out)
{
	size_t cap = 3, j = 0;
	char *p;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]);
		if (max_len > 0 && len > max_len) {
			return UP_INVALID_ARGUMENT;
		}
		cap += 2 * len + 3;
	}
	if ((p = malloc(cap)) == NULL) {
		return UP_INTERNAL;
	}
	p[j++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			p[j++] = ',';
		}
		p[j++] = '"';
		for (const char *s = v[i]; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\') {
				p[j++] = '\\';
			}
			p[j++] = *s;
		}
		p[j++] = '"';
	}
	p[j++] = '}';
	p[j] = '\0';
	*out = p;
	return 0;
}

/* A PostgreSQL array literal of the numbers of v32, or else of v64. */
static int
num_array(const int32_t *v32, const int64_t *v64, size_t n, char **out)
{
	size_t cap = 3 + n * 21, j = 0;
	char *p;

	*out = NULL;
	if ((p = malloc(cap)) == NULL) {
		return UP_INTERNAL;
	}
	p[j++] = '{';
	for (size_t i = 0; i < n; i++) {
		long long x = v32 != NULL ? v32[i] : v64[i];

		j += (size_t)snprintf(p + j, cap - j, "%s%lld",
				      i > 0 ? "," : "", x);
	}
	snprintf(p + j, cap - j, "}");
	*out = p;
	return 0;
}

/* A set of ids given by the caller (scope, roots), bounded. */
static int
id_array(const ud_strv *sv, char **out)
{
	*out = NULL;
	if (sv->n > UD_STORE_SET_MAX) {
		return UP_INVALID_ARGUMENT;
	}
	return text_array(sv->v, sv->n, UD_STORE_FILTER_MAX, out);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* An integer or boolean column in binary (int2, int4, int8, bool). */
static int64_t
col_int(const PGresult *r, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);

	switch (PQgetlength(r, row, col)) {
	case 1:
		return p[0];
	case 2:
		return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
	case 4:
		return (int32_t)be32(p);
	case 8:
		return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
	default:
		return 0;
	}
}

static int
col_str(const PGresult *r, int row, int col, char **out)
{
	*out = NULL;
	if (PQgetisnull(r, row, col)) {
		return 0;
	}
	*out =
	    strndup(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
	return *out != NULL ? 0 : UP_INTERNAL;
}

/* A one-dimensional array in binary: its elements, one after another. */
typedef struct arr {
	const unsigned char *p;
	const unsigned char *end;
	uint32_t n;
} arr;

static int
arr_open(const PGresult *r, int row, int col, arr *a)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
	int len = PQgetlength(r, row, col);
	uint32_t ndim;

	memset(a, 0, sizeof(*a));
	if (PQgetisnull(r, row, col)) {
		return 0;
	}
	/* ndim, has-nulls flag, element type; per dimension: size, bound */
	if (len < 12 || (ndim = be32(p)) > 1 || (ndim == 1 && len < 20)) {
		return UP_INTERNAL;
	}
	a->end = p + len;
	a->p = p + 12;
	if (ndim == 1) {
		a->n = be32(p + 12);
		a->p += 8;
	}
	return 0;
}

static int
arr_next(arr *a, const char **v, size_t *len)
{
	uint32_t l;

	if (a->n == 0 || a->end - a->p < 4 || (l = be32(a->p)) == 0xffffffffu ||
	    (size_t)(a->end - a->p - 4) < l) {
		return UP_INTERNAL; /* short, or a NULL element */
	}
	*v = (const char *)a->p + 4;
	*len = l;
	a->p += 4 + l;
	a->n--;
	return 0;
}

/* Takes s (malloc'd) into sv, or frees it. */
static int
strv_take(ud_strv *sv, char *s)
{
	if (s == NULL) {
		return UP_INTERNAL;
	}
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 4;
		char **v = realloc(sv->v, cap * sizeof(*v));
		if (v == NULL) {
			free(s);
			return UP_INTERNAL;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

static int
col_strv(const PGresult *r, int row, int col, ud_strv *out)
{
	arr a;
	int rc;

	if ((rc = arr_open(r, row, col, &a)) != 0) {
		return rc;
	}
	while (a.n > 0) {
		const char *v;
		size_t len;
		if ((rc = arr_next(&a, &v, &len)) != 0 ||
		    (rc = strv_take(out, strndup(v, len))) != 0) {
			return rc;
		}
	}
	return 0;
}

static int
col_ints(const PGresult *r, int row, int col, int32_t **out, size_t *n)
{
	arr a;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = arr_open(r, row, col, &a)) != 0 || a.n == 0) {
		return rc;
	}
	if ((*out = calloc(a.n, sizeof(**out))) == NULL) {
		return UP_INTERNAL;
	}
	while (a.n > 0) {
		const char *v;
		size_t len;
		if ((rc = arr_next(&a, &v, &len)) != 0 || len != 4) {
			return UP_INTERNAL;
		}
		(*out)[(*n)++] = (int32_t)be32((const unsigned char *)v);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Users and organizations from rows
 */

/* USER_COLS from column base of row; u is initialised first. */
static int
user_from_row(const PGresult *r, int row, int base, ud_user *u)
{
	int rc;

	ud_store_user_init(u);
	if (PQnfields(r) < base + N_USER_COLS) {
		return UP_INTERNAL;
	}
	u->id = col_int(r, row, base);
	for (size_t i = 0; i < UD_USER_N_STR; i++) {
		if ((rc = col_str(r, row, base + (int)i + 1,
				  ud_store_user_str(u, i))) != 0) {
			return rc;
		}
	}
	u->email_confirmed = col_int(r, row, base + 12) != 0;
	u->phone_number_confirmed = col_int(r, row, base + 13) != 0;
	u->disabled = col_int(r, row, base + 14) != 0;
	u->activation_status = (int32_t)col_int(r, row, base + 15);
	u->manager_access = (int32_t)col_int(r, row, base + 16);
	u->created_at = col_int(r, row, base + 17);
	u->updated_at = col_int(r, row, base + 18);
	u->token_version = col_int(r, row, base + 19);
	u->rev = col_int(r, row, base + 24);
	if ((rc = col_strv(r, row, base + 20, &u->roles)) != 0 ||
	    (rc = col_ints(r, row, base + 21, &u->dashboard_permissions,
			   &u->n_dashboard_permissions)) != 0 ||
	    (rc = col_strv(r, row, base + 22, &u->org_ids)) != 0 ||
	    (rc = col_strv(r, row, base + 23, &u->org_names)) != 0) {
		return rc;
	}
	return u->org_ids.n == u->org_names.n ? 0 : UP_INTERNAL;
}

/* ORG_COLS from column base of row. */
static int
org_from_row(const PGresult *r, int row, int base, ud_org *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if (PQnfields(r) < base + 6) {
		return UP_INTERNAL;
	}
	if ((rc = col_str(r, row, base, &o->id)) != 0 ||
	    (rc = col_str(r, row, base + 1, &o->name)) != 0 ||
	    (rc = col_str(r, row, base + 3, &o->parent_id)) != 0) {
		return rc;
	}
	o->type = (int32_t)col_int(r, row, base + 2);
	o->created_at = col_int(r, row, base + 4);
	o->member_count = (int32_t)col_int(r, row, base + 5);
	return 0;
}

/* Rows first..end of r into a new array of orgs. */
static int
orgs_from_rows(const PGresult *r, int first, int base, ud_org **out, size_t *n)
{
	int rows = PQntuples(r);
	ud_org *orgs = NULL;
	size_t got = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (rows <= first) {
		return 0;
	}
	if ((orgs = calloc((size_t)(rows - first), sizeof(*orgs))) == NULL) {
		return UP_INTERNAL;
	}
	for (int i = first; i < rows; i++) {
		rc = org_from_row(r, i, base, &orgs[got]);
		got++;
		if (rc != 0) {
			ud_orgs_free(orgs, got);
			return rc;
		}
	}
	*out = orgs;
	*n = got;
	return 0;
}

/* ------------------------------------------------------------------------
 * Migrations
 */

static int
applied_versions(ud_store_conn *c, bool applied[N_MIGRATIONS + 1], int *max)
{
	PGresult *r = NULL;
	int rc;

	memset(applied, 0, sizeof(bool) * (N_MIGRATIONS + 1));
	*max = 0;
	if ((rc = direct(c,
			 "SELECT version FROM schema_migrations"
			 " ORDER BY version",
			 &r, "migrations")) != 0) {
		return rc;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		/* a simple query answers in text */
		int v = atoi(PQgetvalue(r, i, 0));
		if (v > *max) {
			*max = v;
		}
		if (v >= 1 && v <= N_MIGRATIONS) {
			applied[v] = true;
		}
	}
	PQclear(r);
	return 0;
}

static int
apply(ud_store_conn *c, int v)
{
	const char *vals[2];
	char vbuf[16], tbuf[24];
	PGresult *r;
	int rc;

	if ((rc = simple(c, "BEGIN", "migration")) != 0) {
		return rc;
	}
	if ((rc = simple(c, migrations[v - 1], "migration")) != 0) {
		goto out;
	}
	snprintf(vbuf, sizeof(vbuf), "%d", v);
	snprintf(tbuf, sizeof(tbuf), "%lld", (long long)ud_now_ms());
	vals[0] = vbuf;
	vals[1] = tbuf;
	r = PQexecParams(c->pg,
			 "INSERT INTO schema_migrations (version, applied_at)"
			 " VALUES ($1, $2)",
			 2, NULL, vals, NULL, NULL, 0);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK
		 ? 0
		 : fail_direct(c, r, "migration");
	PQclear(r);
	if (rc == 0) {
		rc = simple(c, "COMMIT", "migration");
	}
out:
	if (rc != 0) {
		fprintf(stderr, "usersd: store: migration %d failed\n", v);
		PQclear(PQexec(c->pg, "ROLLBACK"));
	}
	return rc;
}

/*
 * Applies the migrations up to target that are not yet recorded, holding
 * the advisory lock so that daemons starting together take turns.
 */
static int
migrate(ud_store_conn *c, int target, int *version)
{
	bool applied[N_MIGRATIONS + 1];
	int rc, have;

	if ((rc = simple(c, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")",
			 "migration lock")) != 0) {
		return rc;
	}
	rc = simple(c,
		    "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    " version integer PRIMARY KEY,"
		    " applied_at bigint NOT NULL)",
		    "migrations table");
	if (rc != 0 || (rc = applied_versions(c, applied, &have)) != 0) {
		goto out;
	}
	if (have > N_MIGRATIONS) {
		fprintf(stderr,
			"usersd: store: schema version %d is newer than this"
			" program's %d\n",
			have, N_MIGRATIONS);
		rc = UP_FAILED_PRECONDITION;
		goto out;
	}
	for (int v = 1; v <= target; v++) {
		if (!applied[v] && (rc = apply(c, v)) != 0) {
			goto out;
		}
	}
	rc = applied_versions(c, applied, version);
out:
	(void)simple(c, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")",
		     "migration unlock");
	return rc;
}

/* ------------------------------------------------------------------------
 * The writer threads: group commit over pipelined round trips
 */

static _Thread_local const ud_store *writer_of; /* set on the writers */

/* A transaction statement with no rows (job: whose it is, or NULL). */
static void
send_txn(ud_store_conn *c, int key, unsigned char kind, ud_store_job *job,
	 group *g)
{
	uint32_t s = send_stmt(c, kind, key, NULL);
	entry *e = s != 0 ? entry_of(c, s) : NULL;

	if (e == NULL) {
		c->broken = true; /* out of memory: start over */
		return;
	}
	e->job = job;
	e->g = g;
}

static void
job_fail(ud_store_job *j, int rc)
{
	if (j != NULL && j->rc == 0) {
		j->rc = rc != 0 ? rc : UP_UNAVAILABLE;
	}
}

/*
 * The writes of a group, their commit done (rc 0) or failed: counted, the
 * users they changed reported (after a commit), and handed to the
 * answering thread. g is left empty.
 */
static void
group_finish(ud_store_conn *c, group *g, int rc)
{
	ud_store *st = c->st;

	if (g->n > 0) {
		for (ud_store_job *j = g->head; j != NULL; j = j->next) {
			if (rc != 0) {
				job_fail(j, rc == UP_ABORTED ? rc
							     : UP_UNAVAILABLE);
			}
		}
		if (rc == 0) {
			/* durable now; told before any write of it is answered
			 */
			kept_forget(st, &g->chg);
			ud_store_changes_report(&g->chg);
		}
		pthread_mutex_lock(&st->q.mu);
		st->stats.writes += g->n;
		if (rc == 0) {
			st->stats.commits++;
		} else {
			st->stats.commit_failures++;
		}
		if (g->n > st->stats.largest_batch) {
			st->stats.largest_batch = g->n;
		}
		pthread_mutex_unlock(&st->q.mu);
		ud_store_doneq_push(&st->answers, g->head);
	}
	ud_store_changes_clear(&g->chg);
	g->head = g->tail = NULL;
	g->n = 0;
}

/* The same for the group of a COMMIT, which is freed. */
static void
group_done(ud_store_conn *c, group *g, int rc)
{
	if (g != NULL) {
		group_finish(c, g, rc);
		group_free(g);
	}
}

static void
group_add(group *g, ud_store_job *j)
{
	j->next = NULL;
	if (g->tail != NULL) {
		g->tail->next = j;
	} else {
		g->head = j;
	}
	g->tail = j;
	g->n++;
}

/*
 * The transaction failed as a whole (a statement of its own failed, or
 * the connection broke) at ent[f]: every write not yet committed fails
 * (UP_UNAVAILABLE), the running one included (its operations answer
 * that from now on; it is answered when it returns).
 */
static void
txn_lost(ud_store_conn *c, size_t f, size_t end)
{
	ud_store_job *cur = c->cur, *j = c->g->head, *next;

	for (size_t i = f; i < end; i++) {
		if (c->ent[i].kind == E_COMMIT && c->ent[i].g != NULL) {
			group_done(c, c->ent[i].g, UP_UNAVAILABLE);
			c->ent[i].g = NULL;
		}
	}
	/* the open group fails but for the running write, which stays */
	c->g->head = c->g->tail = NULL;
	c->g->n = 0;
	for (; j != NULL; j = next) {
		next = j->next;
		if (j != cur) {
			group_add(c->g, j);
		}
	}
	group_finish(c, c->g, UP_UNAVAILABLE);
	if (cur != NULL) {
		group_add(c->g, cur);
		c->cur_rc = UP_UNAVAILABLE;
		c->cur_failed = false;
		c->txn_lost = true;
	}
	wa_reset(c); /* its claims and locks are gone */
	if (c->in_txn && !c->broken) {
		c->hold = true;
		send_txn(c, S_ROLLBACK, E_TXN, NULL, NULL);
		c->hold = false;
	}
	c->in_txn = false;
}

/*
 * The connection broke in a round trip that began the running write's
 * transaction, the write first in it and with no answer yet (a server
 * restart, or a session ended while idle): nothing of it is lost, so the
 * writer reconnects and sends it again, BEGIN first. A commit sent in the
 * same round has an unknown fate: its writes fail. false when it cannot
 * (the write has begun, or the reconnect failed).
 */
static bool
restart(ud_store_conn *c, size_t f, size_t end)
{
	if (c->cur == NULL || !c->cur_first || c->cur_answered ||
	    c->g->n != 1 || conn_reset(c) != 0) {
		return false;
	}
	for (size_t i = f; i < end; i++) {
		if (c->ent[i].kind == E_COMMIT && c->ent[i].g != NULL) {
			group_done(c, c->ent[i].g, UP_UNAVAILABLE);
			c->ent[i].g = NULL;
		}
	}
	c->hold = true;
	send_txn(c, S_BEGIN, E_TXN, NULL, NULL);
	c->in_txn = true;
	for (size_t i = c->round; i < end; i++) {
		if (c->ent[i].kind != E_PREPARE && c->ent[i].job == c->cur) {
			resend(c, i, false);
		}
	}
	c->hold = false;
	return !c->broken;
}

/*
 * After a round trip (its entries ent[round, n_done)): the commits it
 * made are done; then its first failure, if any, is dealt with:
 *   - a commit that failed: its writes fail; what followed is sent again;
 *   - a statement of an earlier write (deferred): that write fails, is
 *     rolled back to its savepoint, and the statements of the others that
 *     followed are sent again;
 *   - a lock the running write did not wait for (NOWAIT, its first round
 *     trip, earlier writes in its transaction): the earlier writes commit
 *     and the running write's statements are sent again in a transaction
 *     of its own, where its locks wait;
 *   - another statement of the running write: it has failed (cur_rc);
 *   - a statement of the transaction itself, or a broken connection: the
 *     transaction is lost.
 * Returns with new statements waiting when something was sent again.
 */
static void
settle(ud_store_conn *c)
{
	size_t f, end = c->n_done;
	entry *e;

	for (f = c->round; f < end; f++) {
		e = &c->ent[f];
		if (e->rc != 0) {
			break;
		}
		if (e->kind == E_COMMIT && e->g != NULL) {
			group_done(c, e->g, 0);
			e->g = NULL;
		}
	}
	if (f == end) {
		return;
	}
	e = &c->ent[f];
	if (c->broken && restart(c, f, end)) {
		return;
	}
	if (c->broken || e->kind == E_TXN || e->kind == E_PREPARE ||
	    e->kind == E_AHEAD) {
		txn_lost(c, f, end);
		return;
	}
	c->hold = true;
	if (e->kind == E_COMMIT) {
		group_done(c, e->g, e->rc);
		e->g = NULL;
		for (size_t i = f + 1; i < end; i++) {
			if (c->ent[i].kind != E_PREPARE) {
				resend(c, i, false);
			}
		}
	} else if (e->job != c->cur || c->cur == NULL) {
		ud_store_job *failed = e->job;

		job_fail(failed, e->rc);
		if (failed != NULL && e->rc == UD_STORE_CHANGED) {
			failed->rc = e->rc; /* whatever it returned */
		}
		send_txn(c, S_ROLLBACK_TO, E_TXN, NULL, NULL);
		send_txn(c, S_RELEASE, E_TXN, NULL, NULL);
		for (size_t i = f + 1; i < end; i++) {
			if (c->ent[i].kind != E_PREPARE &&
			    c->ent[i].job != failed) {
				resend(c, i, false);
			}
		}
	} else if (e->nowait && strcmp(e->state, "55P03") == 0 &&
		   !c->cur_first && !c->cur_answered && c->g->tail == c->cur) {
		/* commit the others; this one again, first of the next */
		group *before = c->g, *after = group_new(c->st);
		ud_store_job *prev = NULL;

		for (ud_store_job *j = before->head; j != c->cur; j = j->next) {
			prev = j;
		}
		if (after != NULL) {
			/* what was reserved ahead is released by this
			 * commit: the writes after run as if told nothing */
			wa_reset(c);
			c->g = after;
			before->tail = prev;
			if (prev != NULL) {
				prev->next = NULL;
			} else {
				before->head = NULL;
			}
			before->n--;
			group_add(c->g, c->cur);
			send_txn(c, S_ROLLBACK_TO, E_TXN, NULL, NULL);
			send_txn(c, S_RELEASE, E_TXN, NULL, NULL);
			send_txn(c, S_COMMIT, E_COMMIT, NULL, before);
			send_txn(c, S_BEGIN, E_TXN, NULL, NULL);
			c->cur_first = true;
			for (size_t i = c->round; i < end; i++) {
				if (c->ent[i].kind != E_PREPARE &&
				    c->ent[i].job == c->cur) {
					resend(c, i, true);
				}
			}
		} else {
			c->cur_rc = UP_UNAVAILABLE;
			c->cur_failed = true;
		}
	} else {
		c->cur_rc = e->rc;
		c->cur_failed = true;
	}
	c->hold = false;
	if (c->broken) {
		txn_lost(c, c->n_done, c->n_ent);
	}
}

/*
 * A writer's wait for statement s: round trips until it is answered (a
 * round cut short by another write's failure sends it again).
 */
static int
writer_wait(ud_store_conn *c, uint32_t s, PGresult **out)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		entry *e = entry_of(c, s);

		if (e == NULL) {
			break;
		}
		if (e->rc != RC_WAITING) {
			if (c->cur != NULL && e->job == c->cur) {
				c->cur_answered = true;
			}
			return take(c, s, out);
		}
		round_trip(c);
		settle(c);
	}
	if (out != NULL) {
		*out = NULL;
	}
	return c->cur_rc != 0 ? c->cur_rc : UP_UNAVAILABLE;
}

static int
wait_for(ud_store_conn *c, uint32_t s, PGresult **out)
{
	return c->writer ? writer_wait(c, s, out) : reader_wait(c, s, out);
}

/* ------------------------------------------------------------------------
 * Writes ahead
 *
 * A batch's first writes that told what they will do first (ud_store_hint:
 * check the caller, claim the request id, read the user under its lock and
 * update it), with distinct users and request ids, two or more of them,
 * open a transaction of their own with one round trip (wa_begin, riding
 * with the previous batch's COMMIT): their request ids reserved (the
 * advisory lock a claim takes, S_REQ_CLAIM) and those recorded already,
 * their users locked and read, their callers' revisions. Nothing in it
 * waits for another transaction: an id or a user held elsewhere is left
 * out (pg_try_advisory_xact_lock, SKIP LOCKED), and its write is not
 * ahead (skipped): it runs as if it had told nothing, its first lock
 * NOWAIT as for any later write of a transaction. Each write then runs
 * as ever, and while nothing else has been sent (wa.on) the operations
 * it told are answered from what came back: the claim's verdict, the
 * caller's check, the user (its first read). Its update (when its
 * outcome is known: the row locked, no key and no set changed) and its
 * answer are kept, and once it is done they join those of the writes
 * done before it; a write that failed sent nothing and wrote nothing (a
 * request id reserved ahead has no row until its answer). The statements
 * kept go out as one UPDATE of all the users and one INSERT of all the
 * answers, the request ids' rows, before the COMMIT or before any other
 * statement (wa_leave), so everything still runs in the writes' order. A
 * write that does anything else (another statement, an operation not
 * told, a second read) leaves the writes ahead at that point: what the
 * writes before it kept is sent, then its savepoint and what it kept
 * itself, and from then on every write of the batch sends its own
 * statements, in its savepoint (its claim's verdict still the batch's,
 * its answer an INSERT). A write that left waits for the locks it takes
 * then (it holds a lock taken ahead: committing the others first would
 * release it; a deadlock is ended by the server, UP_ABORTED for one
 * write). When a write not ahead commits the others first (a NOWAIT lock
 * held elsewhere, settle), the reservations go with that commit, and the
 * writes after it run as if they had told nothing. A failure of the
 * round ahead rolls it back and the batch runs as if it had told
 * nothing; a failure of a statement sent for several writes loses the
 * transaction (every write of it fails, UP_UNAVAILABLE), which the
 * statements' own checks make the same as a server failing.
 */

static void
wa_rows_reset(wa_rows *r)
{
	for (size_t i = 0; i < WA_COLS; i++) {
		free(r->col[i].p);
	}
	free(r->rid.p);
	free(r->digest.p);
	free(r->resp.p);
	free(r->at.p);
	memset(r, 0, sizeof(*r));
}

/* What w kept and did not send, forgotten. */
static void
wa_kept_free(wa_job *w)
{
	for (size_t i = 0; i < WA_COLS; i++) {
		free(w->upd[i]);
		w->upd[i] = NULL;
	}
	w->has_upd = false;
	free(w->ans);
	w->ans = NULL;
}

static void
wa_job_fini(wa_job *w)
{
	ud_user_fini(&w->u);
	wa_kept_free(w);
	memset(w, 0, sizeof(*w));
}

/* Everything ahead forgotten (the transaction ended, or was lost). */
static void
wa_reset(ud_store_conn *c)
{
	for (size_t i = 0; i < c->wa.n; i++) {
		wa_job_fini(&c->wa.jobs[i]);
	}
	wa_rows_reset(&c->wa.done);
	c->wa.n = 0;
	c->wa.on = false;
	c->wa.cur = NULL;
	c->wa.cur_sp = false;
}

/* Lower-case hex of b (malloc'd), NULL when out of memory. */
static char *
hex_of(const uint8_t *b, size_t len)
{
	char *h = malloc(2 * len + 1);

	if (h != NULL) {
		ud_hex(h, b, len);
	}
	return h;
}

/* What w kept, added to r. */
static int
wa_rows_add(wa_rows *r, const wa_job *w)
{
	int rc = 0;

	if (w->has_upd) {
		for (size_t i = 0; rc == 0 && i < WA_COLS; i++) {
			rc = lit_add(&r->col[i], w->upd[i]);
		}
		r->n_upd++;
	}
	if (rc == 0 && w->ans != NULL) {
		char *dg = hex_of(w->job->hint.digest, UD_REQUEST_DIGEST_LEN);
		char at[24];

		snprintf(at, sizeof(at), "%lld", (long long)w->claim_at);
		rc = dg == NULL ? UP_INTERNAL
		     : (rc = lit_add(&r->rid, w->job->hint.request_id)) != 0
			 ? rc
		     : (rc = lit_add(&r->digest, dg)) != 0 ? rc
		     : (rc = lit_add(&r->resp, w->ans)) != 0
			 ? rc
			 : lit_add(&r->at, at);
		free(dg);
		r->n_ans++;
	}
	return rc;
}

/* A statement for several writes: its failure loses the transaction. */
static void
wa_send_one(ud_store_conn *c, int key, const params *p)
{
	uint32_t s = send_stmt(c, E_TXN, key, p);
	entry *e = s != 0 ? entry_of(c, s) : NULL;

	if (e == NULL) {
		c->broken = true;
		return;
	}
	e->job = NULL;
}

/*
 * Sends what r holds (each kind of statement once) and empties it; job:
 * the write they are all of (its statements, rolled back with it), or
 * NULL (several writes').
 */
static void
wa_rows_send(ud_store_conn *c, wa_rows *r, ud_store_job *job)
{
	params p = {0};
	const char *v;

	if (r->n_upd > 0) {
		for (size_t i = 0; i < WA_COLS; i++) {
			if ((v = lit_end(&r->col[i])) == NULL) {
				c->broken = true;
			}
			p_text(&p, v);
		}
		p_int(&p, (int64_t)r->n_upd);
		if (job != NULL) {
			(void)defer(c, S_WA_UPDATE, &p);
		} else {
			wa_send_one(c, S_WA_UPDATE, &p);
		}
	}
	if (r->n_ans > 0) {
		const char *v_at;

		p = (params){0};
		p_text(&p, lit_end(&r->rid));
		p_text(&p, lit_end(&r->digest));
		p_text(&p, lit_end(&r->resp));
		p_text(&p, v_at = lit_end(&r->at));
		if (p.v[0] == NULL || p.v[1] == NULL || p.v[2] == NULL ||
		    v_at == NULL) {
			c->broken = true;
		} else if (job != NULL) {
			(void)defer(c, S_WA_RECORD, &p);
		} else {
			wa_send_one(c, S_WA_RECORD, &p);
		}
	}
	wa_rows_reset(r);
}

/* What the running write w kept, sent as its own statements. */
static void
wa_send_kept(ud_store_conn *c, wa_job *w)
{
	wa_rows mine = {0};

	if (wa_rows_add(&mine, w) != 0) {
		c->broken = true; /* out of memory: the transaction is lost */
	}
	wa_rows_send(c, &mine, c->cur);
	wa_kept_free(w);
}

/*
 * Before any statement of a writer sent while writes are served ahead:
 * what the writes done kept is sent, then the running write's savepoint
 * and what it kept. From here on the batch's writes send their own.
 */
static void
wa_leave(ud_store_conn *c)
{
	wa_job *w = c->wa.cur;

	if (!c->wa.on || c->wa.sending) {
		return;
	}
	c->wa.on = false;
	c->wa.sending = true;
	wa_rows_send(c, &c->wa.done, NULL);
	if (w != NULL && c->cur == w->job && !c->wa.cur_sp) {
		send_txn(c, S_SAVEPOINT, E_TXN, c->cur, NULL);
		c->wa.cur_sp = true;
		wa_send_kept(c, w);
	}
	c->wa.sending = false;
}

/* The running write's entry ahead, or NULL. */
static wa_job *
wa_of(ud_store_conn *c)
{
	wa_job *w = c->wa.cur;

	return w != NULL && c->cur != NULL && w->job == c->cur ? w : NULL;
}

/* The same while it may be served (nothing sent since the round ahead). */
static wa_job *
wa_serving(ud_store_conn *c)
{
	return c->wa.on && c->cur_rc == 0 ? wa_of(c) : NULL;
}

/* Whether a write ahead before the running one may have changed user id. */
static bool
wa_written(const ud_store_conn *c, int64_t id)
{
	for (const wa_job *w = c->wa.jobs; w < c->wa.cur; w++) {
		if (w->job->hint.user == id) {
			return true;
		}
	}
	return false;
}

/* Whether job j may join the writes ahead w[0, n). */
static bool
wa_fits(const wa_job *w, size_t n, const ud_store_job *j)
{
	if (!j->hinted || j->hint.user <= 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const ud_store_hint *h = &w[i].job->hint;

		if (h->user == j->hint.user ||
		    (h->request_id != NULL && j->hint.request_id != NULL &&
		     strcmp(h->request_id, j->hint.request_id) == 0)) {
			return false;
		}
	}
	return true;
}

/* Whether a row of r holds id in its first column. */
static bool
rows_have(const PGresult *r, int64_t id)
{
	for (int k = 0; r != NULL && k < PQntuples(r); k++) {
		if (col_int(r, k, 0) == id) {
			return true;
		}
	}
	return false;
}

/* Whether a row of r holds the text v in its first column. */
static bool
rows_have_text(const PGresult *r, const char *v)
{
	for (int k = 0; r != NULL && k < PQntuples(r); k++) {
		if (strcmp(PQgetvalue(r, k, 0), v) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * Fills the writes ahead from the rows of the round ahead (res: the
 * request ids reserved, those recorded already, the users locked, the
 * users read, the callers' revisions). A write whose request id or user
 * another transaction holds is not ahead (skipped): it runs as if it had
 * told nothing, and waits for what it needs then.
 */
static int
wa_take(ud_store_conn *c, PGresult *const res[5])
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < c->wa.n; i++) {
		wa_job *w = &c->wa.jobs[i];
		const ud_store_hint *h = &w->job->hint;
		bool locked = rows_have(res[2], h->user);
		bool there = rows_have(res[3], h->user);

		w->claim_rc = UP_NOT_FOUND;
		if (h->request_id != NULL) {
			if (!rows_have_text(res[0], h->request_id)) {
				w->skipped = true; /* reserved elsewhere */
			}
			w->claim_rc = rows_have_text(res[1], h->request_id)
					  ? UP_ALREADY_EXISTS
					  : 0;
		}
		if (there && !locked) {
			w->skipped = true; /* locked elsewhere */
		}
		w->stale = h->caller != 0;
		for (int k = 0;
		     h->caller != 0 && res[4] != NULL && k < PQntuples(res[4]);
		     k++) {
			if (col_int(res[4], k, 0) == h->caller) {
				w->stale =
				    col_int(res[4], k, 1) != h->caller_rev;
			}
		}
		for (int k = 0; locked && !w->found && k < PQntuples(res[3]);
		     k++) {
			if (col_int(res[3], k, 0) == h->user) {
				rc = user_from_row(res[3], k, 0, &w->u);
				w->found = rc == 0;
			}
		}
	}
	return rc;
}

/*
 * The round ahead for the first writes of jobs that fit (at least two),
 * in the open transaction (begun here). Nothing when they are fewer, or
 * when the round fails (the transaction is then rolled back: the batch
 * runs as if it had told nothing).
 */
static void
wa_begin(ud_store_conn *c, ud_store_job *jobs)
{
	lit rids = {0}, callers = {0}, users = {0};
	PGresult *res[5] = {NULL, NULL, NULL, NULL, NULL};
	uint32_t s[5] = {0, 0, 0, 0, 0};
	const char *v_rids, *v_callers, *v_users;
	size_t n = 0, n_claims = 0, n_callers = 0;
	int rc = 0;

	wa_reset(c);
	for (ud_store_job *j = jobs; j != NULL && n < PG_BATCH_MAX;
	     j = j->next) {
		if (!wa_fits(c->wa.jobs, n, j)) {
			break;
		}
		c->wa.jobs[n].job = j;
		ud_store_user_init(&c->wa.jobs[n].u);
		n++;
	}
	c->wa.n = n;
	if (n < 2 || c->broken || c->in_txn) {
		wa_reset(c);
		return;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const ud_store_hint *h = &c->wa.jobs[i].job->hint;
		char num[24];
		bool seen = false;

		snprintf(num, sizeof(num), "%lld", (long long)h->user);
		rc = lit_add(&users, num);
		if (rc == 0 && h->request_id != NULL) {
			rc = lit_add(&rids, h->request_id);
			n_claims++;
		}
		for (size_t k = 0; k < i; k++) {
			seen =
			    seen || c->wa.jobs[k].job->hint.caller == h->caller;
		}
		if (rc == 0 && h->caller != 0 && !seen) {
			snprintf(num, sizeof(num), "%lld",
				 (long long)h->caller);
			rc = lit_add(&callers, num);
			n_callers++;
		}
	}
	v_rids = rc == 0 ? lit_end(&rids) : NULL;
	v_callers = rc == 0 ? lit_end(&callers) : NULL;
	v_users = rc == 0 ? lit_end(&users) : NULL;
	if (v_rids == NULL || v_callers == NULL || v_users == NULL) {
		rc = UP_INTERNAL;
	}
	if (rc == 0) {
		params p = {0};

		/* a transaction of its own; nothing in it waits for another */
		send_txn(c, S_BEGIN, E_TXN, NULL, NULL);
		c->in_txn = true;
		if (n_claims > 0) {
			p_text(&p, v_rids);
			s[0] = send_stmt(c, E_AHEAD, S_WA_RESERVE, &p);
			s[1] = send_stmt(c, E_AHEAD, S_WA_RECORDED, &p);
		}
		p = (params){0};
		p_text(&p, v_users);
		s[2] = send_stmt(c, E_AHEAD, S_WA_LOCK, &p);
		s[3] = send_stmt(c, E_AHEAD, S_USERS_AHEAD, &p);
		if (n_callers > 0) {
			/* after the locks: as new as the users read */
			p = (params){0};
			p_text(&p, v_callers);
			s[4] = send_stmt(c, E_AHEAD, S_WA_REVS, &p);
		}
		rc = s[2] == 0 || s[3] == 0 ||
			     (n_claims > 0 && (s[0] == 0 || s[1] == 0)) ||
			     (n_callers > 0 && s[4] == 0)
			 ? UP_INTERNAL
			 : writer_wait(c, s[3], &res[3]);
		for (int i = 0; rc == 0 && i < 5; i++) {
			if (s[i] != 0 && i != 3) {
				rc = take(c, s[i], &res[i]);
			}
		}
		if (rc == 0) {
			rc = wa_take(c, res);
		}
	}
	for (int i = 0; i < 5; i++) {
		PQclear(res[i]);
	}
	free(rids.p);
	free(callers.p);
	free(users.p);
	if (rc != 0) {
		if (c->in_txn && !c->broken) {
			/* nothing of a write in it yet: start over without */
			txn_lost(c, c->n_done, c->n_done);
		}
		wa_reset(c);
		return;
	}
	c->wa.on = true;
}

/*
 * The end of the running write w, ahead, that never left: done, what it
 * kept joins what is to be sent; failed, it sent nothing and wrote
 * nothing (its request id is recorded only with its answer).
 */
static void
wa_job_end(ud_store_conn *c, wa_job *w, bool ok)
{
	if (ok && wa_rows_add(&c->wa.done, w) != 0) {
		c->broken = true; /* out of memory: the transaction is lost */
	}
	wa_kept_free(w);
}

/* The batch ran: its writes ahead are done with, what they kept is not. */
static void
wa_batch_end(ud_store_conn *c)
{
	for (size_t i = 0; i < c->wa.n; i++) {
		wa_job_fini(&c->wa.jobs[i]);
	}
	c->wa.n = 0;
	c->wa.cur = NULL;
	c->wa.cur_sp = false;
}

/*
 * Runs one write function in the open transaction (begun here if none
 * is), inside its own savepoint. Its outcome is final only once its group
 * commits (group_done answers it).
 */
static void
run_job(ud_store_conn *c, ud_store_job *j)
{
	wa_job *w = NULL;
	int rc;

	if (!c->in_txn) {
		if (c->broken && conn_reset(c) != 0) {
			j->rc = UP_UNAVAILABLE;
			group_add(c->g, j);
			group_finish(c, c->g, UP_UNAVAILABLE);
			return;
		}
		send_txn(c, S_BEGIN, E_TXN, NULL, NULL);
		c->in_txn = true;
	}
	c->cur = j;
	/* locks taken ahead are held too: its first lock must not wait */
	c->cur_first = c->g->n == 0 && c->wa.n == 0;
	c->cur_answered = false;
	c->cur_failed = false;
	c->cur_rc = 0;
	c->txn_lost = false;
	c->claim = 0;
	c->claim_rc = UP_NOT_FOUND;
	memo_clear(&c->m);
	j->rc = 0;
	group_add(c->g, j);
	for (size_t i = 0; i < c->wa.n && w == NULL; i++) {
		w = c->wa.jobs[i].job == j && !c->wa.jobs[i].skipped
			? &c->wa.jobs[i]
			: NULL;
	}
	c->wa.cur = w;
	c->wa.cur_sp = w == NULL || !c->wa.on;
	if (w != NULL) {
		/* its lock is held ahead: none of its own waits may commit
		 * the others (settle) */
		c->cur_answered = true;
	}
	if (c->wa.cur_sp) {
		/* ahead, its savepoint waits until it sends (wa_leave) */
		send_txn(c, S_SAVEPOINT, E_TXN, j, NULL);
	}

	rc = j->fn(c, j->arg);

	if (rc == 0) {
		rc = c->cur_rc;
	}
	if (rc != 0) {
		job_fail(j, rc);
	}
	if (c->cur_rc == UD_STORE_CHANGED) {
		j->rc = c->cur_rc; /* its user_expect: whatever it returned */
	}
	if (c->txn_lost) {
		/* alone in its group: failed with the transaction */
		group_finish(c, c->g, UP_UNAVAILABLE);
	} else if (w != NULL && c->wa.cur == w && !c->wa.cur_sp) {
		/* ahead, and never left: it sent nothing */
		wa_job_end(c, w, j->rc == 0 && !c->cur_failed);
	} else if (j->rc != 0 || c->cur_failed) {
		send_txn(c, S_ROLLBACK_TO, E_TXN, j, NULL);
		send_txn(c, S_RELEASE, E_TXN, j, NULL);
	} else {
		send_txn(c, S_RELEASE, E_TXN, j, NULL);
	}
	c->wa.cur = NULL;
	c->wa.cur_sp = false;
	c->cur = NULL;
	c->cur_rc = 0;
	c->txn_lost = false;
	memo_clear(&c->m);
}

/* Round trips until every statement sent is answered. */
static void
flush(ud_store_conn *c)
{
	for (int rounds = 0; c->n_done < c->n_ent && rounds < 64; rounds++) {
		round_trip(c);
		settle(c);
	}
}

/*
 * Sends the COMMIT of the open group: its answer comes with the next round
 * trip. now: the round trips are made here (nothing else is queued).
 */
static void
commit_send(ud_store_conn *c, bool now)
{
	group *g = c->g, *next = group_new(c->st);
	uint32_t s;
	int rc;

	if (next != NULL) {
		c->g = next;
		send_txn(c, S_COMMIT, E_COMMIT, NULL, g);
		c->in_txn = false;
		if (now) {
			flush(c);
		}
		return;
	}
	/* no room for another group: commit this one now, and keep it */
	s = send_stmt(c, E_COMMIT, S_COMMIT, NULL);
	c->in_txn = false;
	round_trip(c);
	rc = s != 0 ? take(c, s, NULL) : UP_UNAVAILABLE;
	settle(c);
	flush(c);
	group_finish(c, g, rc);
}

typedef struct writer_arg {
	ud_store *st;
	unsigned i;
} writer_arg;

/*
 * Takes what is queued, runs it (run_job), and commits: at once when
 * nothing more is queued, else with the next batch's first round trip.
 */
static void *
writer_main(void *arg)
{
	writer_arg *wa = arg;
	ud_store *st = wa->st;
	ud_store_conn *c = st->wconns[wa->i];

	up_thread_name("ud-pg-writer");

	free(wa);
	writer_of = st;
	for (;;) {
		ud_store_job *jobs, *next;
		size_t n;

		pthread_mutex_lock(&st->q.mu);
		while (st->q.head == NULL && !st->q.closing && c->g->n == 0) {
			pthread_cond_wait(&st->q.cv, &st->q.mu);
		}
		jobs = ud_store_jobq_take(&st->q, st->max_batch, &n);
		pthread_mutex_unlock(&st->q.mu);
		if (c->g->n > 0) {
			commit_send(c, jobs == NULL);
			if (jobs == NULL) {
				continue;
			}
		}
		if (jobs == NULL) {
			break; /* closing, and nothing left */
		}
		wa_begin(c, jobs);
		for (ud_store_job *j = jobs; j != NULL; j = next) {
			next = j->next;
			run_job(c, j);
		}
		wa_batch_end(c);
	}
	flush(c); /* a last ROLLBACK, say */
	return NULL;
}

/* The answering thread counts as a writer (see ud_store_write_sync). */
static void
mark_writer(void *arg)
{
	writer_of = arg;
}
/* ------------------------------------------------------------------------
 * Open and close
 */

/* Stops the writers (after the queue drained) and frees everything. */
static void
store_free(ud_store *st)
{
	ud_store_jobq_close(&st->q);
	for (unsigned i = 0; i < st->started; i++) {
		pthread_join(st->threads[i], NULL);
	}
	ud_store_doneq_stop(&st->answers); /* answers the last writes */
	for (unsigned i = 0; st->wconns != NULL && i < st->n_writers; i++) {
		conn_free(st->wconns[i]);
	}
	free(st->wconns);
	free(st->threads);
	ud_store_jobq_fini(&st->q);
	for (unsigned i = 0; i < st->n_kept_mu; i++) {
		ud_user_fini(&st->kept[i].u);
		pthread_mutex_destroy(&st->kept[i].mu);
	}
	free(st->kept);
	free(st->url);
	free(st);
}

/*
 * Checks the URL without connecting. libpq's messages end by quoting the
 * URL or a piece of it (': "..."'), which may hold a password: only what
 * comes before the first such quote is logged.
 */
static int
url_check(const char *url)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &err);

	if (opts == NULL) {
		const char *msg = err != NULL ? err : "out of memory";
		size_t len = strcspn(msg, "\n");
		int rc = err != NULL ? UP_INVALID_ARGUMENT : UP_INTERNAL;

		const char *quote = strstr(msg, ": \"");

		if (quote != NULL && (size_t)(quote - msg) < len) {
			len = (size_t)(quote - msg);
		}
		fprintf(stderr, "usersd: store: bad database URL: %.*s\n",
			(int)len, msg);
		PQfreemem(err);
		return rc;
	}
	PQconninfoFree(opts);
	return 0;
}

static int
pg_open(ud_store **out, const char *target, const ud_store_config *cfg)
{
	ud_store *st;
	unsigned n;
	int rc;

	*out = NULL;
	if (!PQisthreadsafe()) {
		fprintf(stderr, "usersd: store: libpq is not thread-safe\n");
		return UP_INTERNAL;
	}
	if ((rc = url_check(target)) != 0) {
		return rc;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		return UP_INTERNAL;
	}
	st->base.ops = &ud_store_pg_ops;
	if (cfg != NULL) {
		st->cfg = *cfg;
	}
	n = cfg != NULL && cfg->writers ? cfg->writers : WRITERS_DEF;
	st->n_writers = n < WRITERS_MAX ? n : WRITERS_MAX;
	n = cfg != NULL && cfg->max_batch ? cfg->max_batch : PG_BATCH_DEF;
	st->max_batch = n < PG_BATCH_MAX ? n : PG_BATCH_MAX;
	atomic_init(&st->round_trips, 0);
	atomic_init(&st->kept_hits, 0);
	ud_store_jobq_init(&st->q);
	if ((st->kept = calloc(KEPT_SLOTS, sizeof(*st->kept))) == NULL) {
		rc = UP_INTERNAL;
		goto out;
	}
	for (; st->n_kept_mu < KEPT_SLOTS; st->n_kept_mu++) {
		kept_slot *k = &st->kept[st->n_kept_mu];

		ud_store_user_init(&k->u);
		if (pthread_mutex_init(&k->mu, NULL) != 0) {
			rc = UP_INTERNAL;
			goto out;
		}
	}
	if ((st->url = strdup(target)) == NULL ||
	    (st->wconns = calloc(st->n_writers, sizeof(*st->wconns))) == NULL ||
	    (st->threads = calloc(st->n_writers, sizeof(*st->threads))) ==
		NULL) {
		rc = UP_INTERNAL;
		goto out;
	}
	for (unsigned i = 0; i < st->n_writers; i++) {
		if ((rc = conn_new(st, st->url, true, false, &st->wconns[i])) !=
		    0) {
			goto out;
		}
		if (i == 0 && (rc = migrate(st->wconns[0], N_MIGRATIONS,
					    &st->version)) != 0) {
			goto out;
		}
		if ((rc = pipeline_enter(st->wconns[i])) != 0) {
			goto out;
		}
	}
	if ((rc = ud_store_doneq_start(&st->answers, mark_writer, st, cfg)) !=
	    0) {
		goto out;
	}
	for (unsigned i = 0; i < st->n_writers; i++) {
		writer_arg *wa = malloc(sizeof(*wa));
		if (wa == NULL) {
			rc = UP_INTERNAL;
			goto out;
		}
		wa->st = st;
		wa->i = i;
		if (pthread_create(&st->threads[i], NULL, writer_main, wa) !=
		    0) {
			free(wa);
			rc = UP_INTERNAL;
			goto out;
		}
		st->started++;
	}
	rc = 0;
out:
	if (rc != 0) {
		store_free(st);
		st = NULL;
	}
	*out = st;
	return rc;
}

static int
pg_migrate(const char *target, int target_version)
{
	ud_store_conn *c = NULL;
	int rc, version = 0;

	if (target_version <= 0 || target_version > N_MIGRATIONS) {
		target_version = N_MIGRATIONS;
	}
	if ((rc = url_check(target)) != 0 ||
	    (rc = conn_new(NULL, target, true, false, &c)) != 0) {
		return rc;
	}
	rc = migrate(c, target_version, &version);
	conn_free(c);
	return rc;
}

static int
pg_schema_latest(void)
{
	return N_MIGRATIONS;
}

static void
pg_close(ud_store *st)
{
	if (st != NULL) {
		store_free(st);
	}
}

static int
pg_schema_version(ud_store *st)
{
	return st->version;
}

static void
pg_stats(ud_store *st, ud_store_counters *out)
{
	pthread_mutex_lock(&st->q.mu);
	*out = st->stats;
	out->queued = st->q.queued;
	pthread_mutex_unlock(&st->q.mu);
	out->round_trips = atomic_load(&st->round_trips);
	out->kept_hits = atomic_load(&st->kept_hits);
}

static int
pg_reader_open(ud_store *st, ud_store_conn **out)
{
	return conn_new(st, st->url, false, true, out);
}

static void
pg_reader_close(ud_store_conn *c)
{
	if (c != NULL && !c->writer) {
		conn_free(c);
	}
}

static int
pg_write(ud_store *st, ud_store_write_fn fn, ud_store_done_fn done, void *arg,
	 const ud_store_hint *hint)
{
	return ud_store_jobq_push(&st->q, fn, done, arg, hint);
}

static bool
pg_on_writer(ud_store *st)
{
	return writer_of == st;
}

/* ------------------------------------------------------------------------
 * Operations: sending and waiting
 */

/* Inside a write function, on its writer: 0, or why not. */
static int
writer_only(const ud_store_conn *c)
{
	if (!c->writer || c->cur == NULL) {
		fprintf(stderr, "usersd: store: write on a read connection\n");
		return UP_INTERNAL;
	}
	return c->cur_rc;
}

/*
 * Whether the running write's locks should not wait: its first round
 * trip, with earlier writes of its transaction holding locks of theirs.
 */
static bool
lock_nowait(const ud_store_conn *c)
{
	return c->writer && c->cur != NULL && !c->cur_first && !c->cur_answered;
}

/* Statement key with p, its rows waited for (*out; the caller clears). */
static int
run(ud_store_conn *c, int key, const params *p, PGresult **out)
{
	uint32_t s;

	*out = NULL;
	if (c->writer && c->cur_rc != 0) {
		return c->cur_rc; /* the write failed already */
	}
	if ((s = send_stmt(c, E_RESULT, key, p)) == 0) {
		return UP_INTERNAL;
	}
	return wait_for(c, s, out);
}

/*
 * A write's statement whose rows nobody needs: sent, not waited for. Its
 * failure fails the write later (settle), as if it had failed here.
 */
static int
defer(ud_store_conn *c, int key, const params *p)
{
	int rc;

	if ((rc = writer_only(c)) != 0) {
		return rc;
	}
	return send_stmt(c, E_DEFER, key, p) != 0 ? 0 : UP_INTERNAL;
}

/* Sends a lock before a read of the running write: its serial, or 0. */
static uint32_t
send_lock(ud_store_conn *c, int key, int nowait_key, const params *p)
{
	return send_stmt(c, E_RESULT, lock_nowait(c) ? nowait_key : key, p);
}

/* Rows changed by a statement that returned no rows. */
static long
changed(PGresult *r)
{
	return strtol(PQcmdTuples(r), NULL, 10);
}

/* Runs a delete or update; UP_NOT_FOUND when it changed nothing. */
static int
change_one(ud_store_conn *c, int key, const params *p)
{
	PGresult *r = NULL;
	int rc;

	if ((rc = run(c, key, p, &r)) == 0) {
		rc = changed(r) > 0 ? 0 : UP_NOT_FOUND;
	}
	PQclear(r);
	return rc;
}

/* ------------------------------------------------------------------------
 * Reads
 */

static int
pg_snapshot_begin(ud_store_conn *c)
{
	(void)c; /* every read is one statement, one snapshot */
	return 0;
}

static void
pg_snapshot_end(ud_store_conn *c)
{
	(void)c;
}

/* One user from the rows of statement s (its lock's, lock: 0 or none). */
static int
user_take(ud_store_conn *c, uint32_t lock, uint32_t s, int rc, ud_user *out)
{
	PGresult *r = NULL, *l = NULL;

	if (rc == 0 && lock != 0 && (rc = take(c, lock, &l)) == 0 &&
	    PQntuples(l) == 0) {
		rc = UP_NOT_FOUND; /* not there when locked */
	}
	if (rc == 0 && (rc = take(c, s, &r)) == 0) {
		if (PQntuples(r) == 0) {
			rc = UP_NOT_FOUND;
		} else if ((rc = user_from_row(r, 0, 0, out)) != 0) {
			ud_user_fini(out);
		} else if (l != NULL && col_int(l, 0, 0) != out->id) {
			ud_user_fini(out);
			rc = UP_INTERNAL;
		}
	}
	PQclear(l);
	PQclear(r);
	return rc;
}

/*
 * What the running write read under its lock: its update's outcome is
 * then known before it runs (pg_user_update).
 */
static void
memo_keep(ud_store_conn *c, const ud_user *u)
{
	memo_clear(&c->m);
	if ((u->email != NULL && (c->m.email = strdup(u->email)) == NULL) ||
	    (u->primary_org_id != NULL &&
	     (c->m.porg = strdup(u->primary_org_id)) == NULL)) {
		memo_clear(&c->m);
		return;
	}
	c->m.id = u->id;
	c->m.created_at = u->created_at;
	c->m.token_version = u->token_version;
}

/*
 * A user by statement key with p; on a writer, locked first by lock_key
 * (or its NOWAIT form) in the same round trip.
 */
static int
user_read(ud_store_conn *c, int lock_key, int lock_nw, int key, const params *p,
	  ud_user *out)
{
	uint32_t lock = 0, s;
	int rc;

	if (c->writer) {
		if ((rc = writer_only(c)) != 0) {
			return rc;
		}
		if ((lock = send_lock(c, lock_key, lock_nw, p)) == 0) {
			return UP_INTERNAL;
		}
	}
	if ((s = send_stmt(c, E_RESULT, key, p)) == 0) {
		return UP_INTERNAL;
	}
	rc = user_take(c, lock, s, wait_for(c, s, NULL), out);
	if (rc == 0 && c->writer) {
		memo_keep(c, out);
	}
	return rc;
}

static void
pg_read_ahead_end(ud_store_conn *c)
{
	for (size_t i = 0; i < c->ah.n; i++) {
		ud_user_fini(&c->ah.users[i].u);
	}
	c->ah.on = false;
	c->ah.n = 0;
	c->check_ahead = NULL;
}

/* The read ahead's entry for id, NULL when it was not asked for. */
static ahead_user *
ahead_of(ud_store_conn *c, int64_t id)
{
	for (size_t i = 0; c->ah.on && i < c->ah.n; i++) {
		if (c->ah.users[i].id == id) {
			return &c->ah.users[i];
		}
	}
	return NULL;
}

/* Asks for id in c->ah (once, whichever way it is asked for). */
static void
ahead_ask(ud_store_conn *c, int64_t id, bool caller)
{
	size_t k = 0;

	if (id <= 0) {
		return;
	}
	while (k < c->ah.n && c->ah.users[k].id != id) {
		k++;
	}
	if (k == c->ah.n) {
		ahead_user *a = &c->ah.users[k];

		memset(a, 0, sizeof(*a));
		ud_store_user_init(&a->u);
		a->id = id;
		c->ah.n++;
	}
	if (caller) {
		c->ah.users[k].caller = true;
	} else {
		c->ah.users[k].target = true;
	}
}

/*
 * Users kept. A GetUser's target read whole by a read ahead is kept (a
 * copy, without its password hash); the next read ahead that asks for it
 * asks the server only for its revision, in the same round trip as the
 * users read whole, and answers with the kept copy when the revision is
 * the same. Every change of a user, by any daemon, moves its revision
 * (users.rev: its record, roles, permissions and memberships), and an
 * organization's id and name never change once it exists, so the copy
 * is what the server would have sent. A user changed since is read whole
 * in a second round trip, and a user gone is answered as not found.
 */
static kept_slot *
kept_slot_of(ud_store *st, int64_t id)
{
	uint64_t h = (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15);

	return &st->kept[h >> 52 & (KEPT_SLOTS - 1)];
}

/* A copy of id's kept record into out (initialised): true, or false. */
static bool
kept_get(ud_store *st, int64_t id, ud_user *out)
{
	kept_slot *k = kept_slot_of(st, id);
	bool got = false;

	pthread_mutex_lock(&k->mu);
	if (k->id == id) {
		got = ud_store_user_copy(out, &k->u) == 0;
	}
	pthread_mutex_unlock(&k->mu);
	if (!got) {
		ud_store_user_init(out);
	}
	return got;
}

/* The bytes of u's texts, but for its password hash (kept_put's bound). */
static size_t
kept_bytes(const ud_user *u)
{
	size_t n = u->n_dashboard_permissions * sizeof(int32_t);

	for (size_t i = 0; i < UD_USER_N_STR; i++) {
		char *const *v = ud_store_user_str((ud_user *)u, i);

		n += *v != NULL && *v != u->password_hash ? strlen(*v) : 0;
	}
	for (size_t i = 0; i < u->roles.n; i++) {
		n += strlen(u->roles.v[i]);
	}
	for (size_t i = 0; i < u->org_ids.n; i++) {
		n += strlen(u->org_ids.v[i]);
	}
	for (size_t i = 0; i < u->org_names.n; i++) {
		n += strlen(u->org_names.v[i]);
	}
	return n;
}

/* Empties slot k if it holds id (0: whatever it holds). */
static void
kept_empty(kept_slot *k, int64_t id)
{
	ud_user old;

	ud_store_user_init(&old);
	pthread_mutex_lock(&k->mu);
	if (k->id != 0 && (id == 0 || k->id == id)) {
		old = k->u;
		ud_store_user_init(&k->u);
		k->id = 0;
	}
	pthread_mutex_unlock(&k->mu);
	ud_user_fini(&old);
}

/* Forgets id's kept record, if it is kept. */
static void
kept_drop(ud_store *st, int64_t id)
{
	kept_empty(kept_slot_of(st, id), id);
}

/* Forgets every user kept. */
static void
kept_clear(ud_store *st)
{
	for (size_t i = 0; i < KEPT_SLOTS; i++) {
		kept_empty(&st->kept[i], 0);
	}
}

/* Keeps a copy of u (replacing what its slot held), or forgets u->id. */
static void
kept_put(ud_store *st, const ud_user *u)
{
	kept_slot *k = kept_slot_of(st, u->id);
	ud_user copy, old;

	if (kept_bytes(u) > KEPT_BYTES || ud_store_user_copy(&copy, u) != 0) {
		kept_drop(st, u->id);
		return;
	}
	if (copy.password_hash != NULL) {
		up_wipe_free(copy.password_hash, strlen(copy.password_hash));
		copy.password_hash = NULL;
	}
	pthread_mutex_lock(&k->mu);
	old = k->u;
	k->u = copy;
	k->id = u->id;
	pthread_mutex_unlock(&k->mu);
	ud_user_fini(&old);
}

/*
 * The users a commit of this daemon changed are forgotten before its
 * writes are answered: their revisions moved, so the next read ahead of
 * them reads them whole in its first round trip instead of finding out.
 */
static void
kept_forget(ud_store *st, const ud_store_changes *chg)
{
	if (chg->all) {
		kept_clear(st);
		return;
	}
	for (size_t i = 0; i < chg->n; i++) {
		kept_drop(st, chg->ids[i]);
	}
}

/* The entry of c->ah for id that wants state kept, or NULL. */
static ahead_user *
ahead_entry(ud_store_conn *c, int64_t id, bool kept)
{
	for (size_t i = 0; i < c->ah.n; i++) {
		ahead_user *a = &c->ah.users[i];

		if (a->id == id && a->kept == kept && !a->found) {
			return a;
		}
	}
	return NULL;
}

/* Sends statement key for ids (n of them); 0 (none, or failed) or its s. */
static uint32_t
ahead_send(ud_store_conn *c, int key, const int64_t *ids, size_t n)
{
	params p = {0};
	char *text = NULL;
	uint32_t s = 0;

	if (n > 0 && num_array(NULL, ids, n, &text) == 0) {
		p_text(&p, text);
		s = send_stmt(c, E_RESULT, key, &p);
		free(text);
	}
	return s;
}

/* The rows of S_USERS_AHEAD into the entries read whole; targets kept. */
static int
ahead_fill(ud_store_conn *c, PGresult *r)
{
	int rc = 0;

	for (int row = 0; rc == 0 && row < PQntuples(r); row++) {
		ahead_user *a = ahead_entry(c, col_int(r, row, 0), false);

		if (a != NULL && (rc = user_from_row(r, row, 0, &a->u)) == 0) {
			a->found = true;
			if (a->target && !a->caller) {
				kept_put(c->st, &a->u);
			}
		}
	}
	return rc;
}

/*
 * The targets and callers (each once) into c->ah: those read whole by one
 * statement (one snapshot for all of them), the targets kept asked only
 * for their revisions by another in the same round trip (Users kept,
 * above; a snapshot of its own, taken next).
 */
static int
pg_read_ahead(ud_store_conn *c, const int64_t *users, size_t n,
	      const int64_t *callers, size_t m)
{
	int64_t whole[2 * UD_STORE_AHEAD_MAX], kept[2 * UD_STORE_AHEAD_MAX];
	size_t n_whole = 0, n_kept = 0;
	PGresult *r = NULL, *revs = NULL;
	uint32_t sw = 0, sk = 0;
	int rc = 0;

	pg_read_ahead_end(c); /* a check answered from it fails closed */
	if (c->writer || c->check != 0) {
		return UP_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		ahead_ask(c, users[i], false);
	}
	for (size_t i = 0; i < m; i++) {
		ahead_ask(c, callers[i], true);
	}
	for (size_t i = 0; i < c->ah.n; i++) {
		ahead_user *a = &c->ah.users[i];

		if (a->target && !a->caller) {
			ud_user_fini(&a->u);
			a->kept = kept_get(c->st, a->id, &a->u);
		}
		if (a->kept) {
			kept[n_kept++] = a->id;
		} else {
			whole[n_whole++] = a->id;
		}
	}
	if ((n_whole > 0 &&
	     (sw = ahead_send(c, S_USERS_AHEAD, whole, n_whole)) == 0) ||
	    (n_kept > 0 &&
	     (sk = ahead_send(c, S_USERS_REVS, kept, n_kept)) == 0)) {
		rc = UP_INTERNAL;
	}
	if (rc == 0 && (sw != 0 || sk != 0)) {
		rc = reader_wait(c, sw != 0 ? sw : sk, sw != 0 ? &r : &revs);
	}
	if (rc == 0 && sw != 0 && sk != 0) {
		rc = take(c, sk, &revs);
	}
	if (rc == 0 && r != NULL) {
		rc = ahead_fill(c, r);
	}
	/*
	 * Kept and unchanged (its revision, and the stamps too, in case the
	 * database is not the one the copy came from: a restore, a standby
	 * promoted): found. Changed: read whole. Not there: gone (ids are
	 * never used twice).
	 */
	for (int row = 0; rc == 0 && revs != NULL && row < PQntuples(revs);
	     row++) {
		ahead_user *a = ahead_entry(c, col_int(revs, row, 0), true);

		if (a == NULL) {
			continue;
		}
		a->seen = true;
		if (a->u.rev == col_int(revs, row, 1) &&
		    a->u.created_at == col_int(revs, row, 2) &&
		    a->u.updated_at == col_int(revs, row, 3)) {
			a->found = true;
			atomic_fetch_add(&c->st->kept_hits, 1);
		}
	}
	n_whole = 0;
	for (size_t i = 0; rc == 0 && i < c->ah.n; i++) {
		ahead_user *a = &c->ah.users[i];

		if (a->kept && !a->found) {
			ud_user_fini(&a->u);
			ud_store_user_init(&a->u);
			a->kept = false;
			kept_drop(c->st, a->id);
			if (a->seen) {
				whole[n_whole++] = a->id;
			}
		}
	}
	PQclear(r);
	PQclear(revs);
	r = NULL;
	if (rc == 0 && n_whole > 0) {
		sw = ahead_send(c, S_USERS_AHEAD, whole, n_whole);
		rc = sw != 0 ? reader_wait(c, sw, &r) : UP_INTERNAL;
		if (rc == 0) {
			rc = ahead_fill(c, r);
		}
		PQclear(r);
	}
	if (rc != 0) {
		pg_read_ahead_end(c);
		return rc;
	}
	c->ah.on = true;
	return 0;
}

static int pg_user_get(ud_store_conn *c, int64_t id, ud_user *out);

/* A GetUser's target: from the read ahead, else from the server. */
static int
pg_user_get_ahead(ud_store_conn *c, int64_t id, ud_user *out)
{
	const ahead_user *a = ahead_of(c, id);

	ud_store_user_init(out);
	if (a == NULL || !a->target) {
		return pg_user_get(c, id, out);
	}
	return a->found ? ud_store_user_copy(out, &a->u) : UP_NOT_FOUND;
}

static int
pg_user_get(ud_store_conn *c, int64_t id, ud_user *out)
{
	params p = {0};
	wa_job *w = c->writer ? wa_serving(c) : NULL;
	int rc;

	ud_store_user_init(out);
	if (w != NULL && id == w->job->hint.user && !w->read) {
		/* read ahead under its lock (wa_begin) */
		w->read = true;
		if (!w->found) {
			return UP_NOT_FOUND;
		}
		if ((rc = ud_store_user_copy(out, &w->u)) == 0) {
			memo_keep(c, out);
		}
		return rc;
	}
	p_int(&p, id);
	return user_read(c, S_USER_LOCK, S_USER_LOCK_NW, S_USER_GET, &p, out);
}

/*
 * By email: on a writer the row found is locked, then read by the same
 * email with a second statement (after the lock: nobody can change it).
 */
static int
pg_user_by_email(ud_store_conn *c, const char *email, ud_user *out)
{
	params p = {0};

	ud_store_user_init(out);
	if (email == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	p_text(&p, email);
	return user_read(c, S_USER_LOCK_EMAIL, S_USER_LOCK_EMAIL_NW,
			 S_USER_BY_EMAIL, &p, out);
}

/* The check goes out with the next statement on c (store.h). */
static int
pg_user_check(ud_store_conn *c, int64_t id, int64_t rev)
{
	params p = {0};

	const ahead_user *a = ahead_of(c, id);

	if (c->writer || c->check != 0 || c->check_ahead != NULL) {
		return UP_INTERNAL;
	}
	c->check_id = id;
	c->check_rev = rev;
	if (a != NULL && a->caller) {
		c->check_ahead = a; /* its verdict: pg_user_check_end */
		return 0;
	}
	p_int(&p, id);
	p_int(&p, rev);
	PQclear(c->check_res);
	c->check_res = NULL;
	c->check_rc = RC_WAITING;
	c->check = send_stmt(c, E_CHECK, S_USER_CHECK, &p);
	return c->check != 0 ? 0 : UP_INTERNAL;
}

static int
pg_user_check_end(ud_store_conn *c, ud_user *out)
{
	PGresult *r;
	int rc;

	if (c->check_ahead != NULL) {
		const ahead_user *a = c->check_ahead;

		c->check_ahead = NULL;
		if (!a->found) {
			return UP_NOT_FOUND;
		}
		if (a->u.rev == c->check_rev) {
			return 0;
		}
		/*
		 * Changed, one way or the other: the record kept may even be
		 * newer than the read ahead (read since, by a call of the
		 * group). The stored one, as for a check sent alone.
		 */
		rc = pg_user_get(c, c->check_id, out);
		return rc == 0 ? UD_STORE_CHANGED : rc;
	}
	if (c->check == 0) {
		return UP_INTERNAL;
	}
	if (c->check_rc == RC_WAITING) {
		(void)reader_wait(c, c->check, NULL);
	}
	rc = c->check_rc;
	r = c->check_res;
	c->check = 0;
	c->check_res = NULL;
	if (rc == RC_WAITING || rc == RC_SKIPPED) {
		rc = UP_UNAVAILABLE;
	}
	if (rc == 0) {
		if (PQntuples(r) == 0) {
			rc = UP_NOT_FOUND; /* gone */
		} else if (col_int(r, 0, 0) == 0) {
			rc = 0; /* still at that revision */
		} else {
			rc = UD_STORE_CHANGED;
		}
	}
	PQclear(r);
	if (rc == UD_STORE_CHANGED &&
	    (rc = pg_user_get(c, c->check_id, out)) == 0) {
		rc = UD_STORE_CHANGED;
	}
	return rc;
}

/* Deferred: the write's next round trip carries it (store.h). */
static int
pg_user_expect(ud_store_conn *c, int64_t id, int64_t rev)
{
	params p = {0};
	wa_job *w = c->writer ? wa_serving(c) : NULL;

	if (w != NULL && id == w->job->hint.caller &&
	    rev == w->job->hint.caller_rev && !wa_written(c, id)) {
		/* checked ahead (wa_begin); stale: rolled back, run again */
		if (w->stale) {
			c->cur_rc = UD_STORE_CHANGED;
		}
		return c->cur_rc;
	}

	p_int(&p, id);
	p_int(&p, rev);
	return defer(c, S_USER_EXPECT, &p);
}

static int64_t
pg_user_count(ud_store_conn *c)
{
	PGresult *r = NULL;
	int64_t n = -1;

	if (run(c, S_USER_COUNT, NULL, &r) == 0) {
		n = PQntuples(r) == 1 ? col_int(r, 0, 0) : -1;
	}
	PQclear(r);
	return n;
}

static int
pg_role_holders(ud_store_conn *c, const char *role, int64_t *n)
{
	params p = {0};
	PGresult *r = NULL;
	int rc;

	*n = 0;
	p_text(&p, role);
	rc = run(c, c->writer ? S_ROLE_HOLDERS_LOCK : S_ROLE_HOLDERS, &p, &r);
	if (rc == 0) {
		*n = PQntuples(r);
	}
	PQclear(r);
	return rc;
}

/*
 * Appends s to a fixed buffer with each '#' made parameter number k; the
 * callers' buffers hold every combination.
 */
static void
append(char *buf, size_t cap, const char *s, int k)
{
	size_t len = strlen(buf);

	for (; *s != '\0' && len + 12 < cap; s++) {
		if (*s == '#') {
			len += (size_t)snprintf(buf + len, cap - len, "$%d", k);
		} else {
			buf[len++] = *s;
		}
	}
	buf[len] = '\0';
}

typedef struct user_args {
	char *email;
	char *name;
	char org[33];
	const char *role;
	char *scope;
} user_args;

/*
 * The page of users with its total in one statement: row 0 has the total
 * and, unless the page is empty, the first user; every row one user.
 */
static void
user_list_sql(unsigned mask, char *sql, size_t cap)
{
	char where[1024] = " WHERE true";
	int k = 1;

	if (mask & F_EMAIL) {
		append(where, sizeof(where),
		       " AND lower(u.email COLLATE \"C\")"
		       " LIKE lower(# COLLATE \"C\") ESCAPE '\\'",
		       k++);
	}
	if (mask & F_NAME) {
		append(where, sizeof(where),
		       " AND (lower(u.first_name COLLATE \"C\")"
		       " LIKE lower(# COLLATE \"C\") ESCAPE '\\'"
		       " OR lower(u.last_name COLLATE \"C\")"
		       " LIKE lower(# COLLATE \"C\") ESCAPE '\\')",
		       k++);
	}
	if (mask & F_ORG) {
		append(where, sizeof(where),
		       " AND u.id IN (SELECT user_id FROM memberships"
		       " WHERE org_id = #)",
		       k++);
	}
	if (mask & F_ROLE) {
		append(where, sizeof(where),
		       " AND u.id IN (SELECT user_id FROM user_roles"
		       " WHERE role = #)",
		       k++);
	}
	if (mask & F_SCOPE) {
		append(where, sizeof(where),
		       " AND u.id IN (SELECT user_id FROM memberships)"
		       " AND u.id NOT IN (SELECT user_id FROM memberships"
		       " WHERE org_id <> ALL (#::text[]))",
		       k++);
	}
	/* $k take, $k+1 skip, $k+2 the keyset's last id, $k+3 the most
	 * matches counted (NULL: all; 0: none) */
	if (mask & F_FIRST) {
		/*
		 * The first page of a substring search counted to a cap no
		 * smaller than the page: the page is the first of the
		 * counted matches, so the trigram search runs once (the CTE,
		 * read twice, is computed once), not once for the count and
		 * once more for the page.
		 */
		snprintf(
		    sql, cap,
		    "WITH m AS (SELECT u.id FROM users u%s"
		    "  ORDER BY u.id LIMIT $%d)"
		    " SELECT t.n, " USER_COLS
		    " FROM (SELECT count(*) AS n FROM m) t"
		    " LEFT JOIN LATERAL (SELECT m.id FROM m WHERE m.id > $%d"
		    "  ORDER BY m.id LIMIT $%d OFFSET $%d) pg ON true"
		    " LEFT JOIN users u ON u.id = pg.id" USER_ORGS
		    " ORDER BY u.id",
		    where, k + 3, k + 2, k, k + 1);
		return;
	}
	snprintf(sql, cap,
		 "SELECT t.n, " USER_COLS
		 " FROM (SELECT count(*) AS n FROM (SELECT 1 FROM users u%s"
		 "  LIMIT $%d) m) t"
		 " LEFT JOIN LATERAL (SELECT u.id FROM users u%s AND u.id > $%d"
		 "  ORDER BY u.id LIMIT $%d OFFSET $%d) pg ON true"
		 " LEFT JOIN users u ON u.id = pg.id" USER_ORGS
		 " ORDER BY u.id",
		 where, k + 3, where, k + 2, k, k + 1);
}

static int
pg_user_list(ud_store_conn *c, const ud_user_filter *f, ud_user **out,
	     size_t *n, int64_t *total)
{
	user_args a = {0};
	params p = {0};
	PGresult *r = NULL;
	ud_user *users = NULL;
	size_t got = 0;
	int32_t skip = f->skip, take = f->take;
	unsigned mask = 0;
	int rc, rows;

	*out = NULL;
	*n = 0;
	*total = 0;
	ud_store_bound_page(&skip, &take);
	if (f->email_contains != NULL && *f->email_contains != '\0') {
		mask |= F_EMAIL;
		if ((rc = ud_store_like_pattern(f->email_contains, &a.email)) !=
		    0) {
			goto out;
		}
		p_text(&p, a.email);
	}
	if (f->name_contains != NULL && *f->name_contains != '\0') {
		mask |= F_NAME;
		if ((rc = ud_store_like_pattern(f->name_contains, &a.name)) !=
		    0) {
			goto out;
		}
		p_text(&p, a.name);
	}
	if (f->org_id != NULL) {
		mask |= F_ORG;
		if (ud_guid_parse(f->org_id, a.org) != 0) {
			rc = 0; /* no organization has that id: nobody */
			goto out;
		}
		p_text(&p, a.org);
	}
	if (f->role != NULL) {
		mask |= F_ROLE;
		p_text(&p, f->role);
	}
	if (f->scope_org_ids != NULL) {
		mask |= F_SCOPE;
		if ((rc = id_array(f->scope_org_ids, &a.scope)) != 0) {
			goto out;
		}
		p_text(&p, a.scope);
	}
	if ((mask & (F_EMAIL | F_NAME)) != 0 && skip == 0 && f->after_id <= 0 &&
	    f->count_max >= take) {
		mask |= F_FIRST;
	}
	p_int(&p, take);
	p_int(&p, skip);
	p_int(&p, f->after_id > 0 ? f->after_id : 0);
	if (f->count_max == 0) {
		p_text(&p, NULL); /* LIMIT NULL: no limit */
	} else {
		p_int(&p, f->count_max > 0 ? f->count_max + 1 : 0);
	}
	if ((rc = run(c, K_USER_LIST + (int)mask, &p, &r)) != 0) {
		goto out;
	}
	if ((rows = PQntuples(r)) < 1) {
		rc = UP_INTERNAL;
		goto out;
	}
	*total = col_int(r, 0, 0);
	if (PQgetisnull(r, 0, 1)) {
		rc = 0; /* past the last match */
		goto out;
	}
	if ((users = calloc((size_t)rows, sizeof(*users))) == NULL) {
		rc = UP_INTERNAL;
		goto out;
	}
	for (int i = 0; i < rows; i++) {
		rc = user_from_row(r, i, 1, &users[got]);
		got++;
		if (rc != 0) {
			goto out;
		}
	}
	rc = 0;
out:
	PQclear(r);
	free(a.email);
	free(a.name);
	free(a.scope);
	if (rc != 0) {
		ud_users_free(users, got);
		*total = 0;
	} else if (got == 0) {
		free(users);
	} else {
		*out = users;
		*n = got;
	}
	return rc;
}

static int
pg_org_get(ud_store_conn *c, const char *id, ud_org *out)
{
	params p = {0};
	PGresult *r = NULL;
	char key[33];
	int rc;

	memset(out, 0, sizeof(*out));
	if (ud_guid_parse(id, key) != 0) {
		return UP_NOT_FOUND;
	}
	p_text(&p, key);
	if ((rc = run(c, S_ORG_GET, &p, &r)) != 0) {
		return rc;
	}
	if (PQntuples(r) == 0) {
		rc = UP_NOT_FOUND;
	} else if ((rc = org_from_row(r, 0, 0, out)) != 0) {
		ud_org_fini(out);
	}
	PQclear(r);
	return rc;
}

/* The page of organizations with its total, as the user list's. */
static void
org_list_sql(unsigned mask, char *sql, size_t cap)
{
	char where[512] = " WHERE true";
	int k = 1;

	if (mask & F_PARENT) {
		append(where, sizeof(where), " AND o.parent_id = #", k++);
	}
	if (mask & F_IDS) {
		append(where, sizeof(where), " AND o.id = ANY (#::text[])",
		       k++);
	}
	char keyset[64] = "";

	/* $k take, $k+1 skip; with F_AFTER, $k+2 and $k+3 the keyset's last
	 * name and id (the page only: the total counts every match) */
	if (mask & F_AFTER) {
		snprintf(keyset, sizeof(keyset),
			 " AND (o.name, o.id) > ($%d, $%d)", k + 2, k + 3);
	}
	snprintf(sql, cap,
		 "SELECT t.n, " ORG_COLS
		 " FROM (SELECT count(*) AS n FROM organizations o%s) t"
		 " LEFT JOIN LATERAL (SELECT o.id FROM organizations o%s%s"
		 "  ORDER BY o.name, o.id LIMIT $%d OFFSET $%d) pg ON true"
		 " LEFT JOIN organizations o ON o.id = pg.id"
		 " ORDER BY o.name, o.id",
		 where, where, keyset, k, k + 1);
}

static int
pg_org_list_after(ud_store_conn *c, const char *parent_id,
		  const ud_strv *scope_ids, const char *after_name,
		  const char *after_id, int32_t skip, int32_t take,
		  ud_org **out, size_t *n, int64_t *total)
{
	params p = {0};
	PGresult *r = NULL;
	char parent[33];
	char *ids = NULL;
	unsigned mask = 0;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	ud_store_bound_page(&skip, &take);
	if (parent_id != NULL) {
		mask |= F_PARENT;
		if (ud_guid_parse(parent_id, parent) != 0) {
			return 0; /* no such parent: no children */
		}
		p_text(&p, parent);
	}
	if (scope_ids != NULL) {
		mask |= F_IDS;
		if ((rc = id_array(scope_ids, &ids)) != 0) {
			return rc;
		}
		p_text(&p, ids);
	}
	p_int(&p, take);
	p_int(&p, skip);
	if (after_id != NULL) {
		mask |= F_AFTER;
		p_text(&p, after_name ? after_name : "");
		p_text(&p, after_id);
	}
	if ((rc = run(c, K_ORG_LIST + (int)mask, &p, &r)) != 0) {
		goto out;
	}
	if (PQntuples(r) < 1) {
		rc = UP_INTERNAL;
		goto out;
	}
	*total = col_int(r, 0, 0);
	if (!PQgetisnull(r, 0, 1)) {
		rc = orgs_from_rows(r, 0, 1, out, n);
	}
out:
	PQclear(r);
	free(ids);
	if (rc != 0) {
		*total = 0;
	}
	return rc;
}

static int
pg_org_list(ud_store_conn *c, const char *parent_id, const ud_strv *scope_ids,
	    int32_t skip, int32_t take, ud_org **out, size_t *n, int64_t *total)
{
	return pg_org_list_after(c, parent_id, scope_ids, NULL, NULL, skip,
				 take, out, n, total);
}

static int
pg_org_subtree(ud_store_conn *c, const ud_strv *roots, ud_strv *out)
{
	params p = {0};
	PGresult *r = NULL;
	ud_strv ids = {0};
	char *roots_arr = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = id_array(roots, &roots_arr)) != 0) {
		return rc;
	}
	p_text(&p, roots_arr);
	p_int(&p, UD_STORE_TREE_DEPTH_MAX);
	if ((rc = run(c, S_ORG_SUBTREE, &p, &r)) != 0) {
		goto out;
	}
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		char *id = NULL;
		if ((rc = col_str(r, i, 0, &id)) == 0) {
			rc = strv_take(&ids, id);
		}
	}
out:
	PQclear(r);
	free(roots_arr);
	if (rc != 0) {
		ud_strv_fini(&ids);
	}
	*out = ids;
	return rc;
}

static int
pg_org_children(ud_store_conn *c, const char *parent_id, ud_org **out,
		size_t *n)
{
	params p = {0};
	PGresult *r = NULL;
	char parent[33];
	int rc;

	*out = NULL;
	*n = 0;
	if (ud_guid_parse(parent_id, parent) != 0) {
		return 0;
	}
	p_text(&p, parent);
	if ((rc = run(c, S_ORG_CHILDREN, &p, &r)) != 0) {
		return rc;
	}
	rc = orgs_from_rows(r, 0, 0, out, n);
	PQclear(r);
	return rc;
}

/* ------------------------------------------------------------------------
 * Writes
 */

/* The parameters of the insert and update statements. */
typedef struct user_params {
	params p;
	char porg[33];
	char *roles;
	char *perms;
	char *orgs;
} user_params;

static void
user_params_fini(user_params *up)
{
	free(up->roles);
	free(up->perms);
	free(up->orgs);
}

/*
 * $1..$17 (the columns, now) and the arrays of the roles, permissions and
 * (when orgs, as SQLite reads them only then) organizations.
 */
static int
user_params_make(const ud_user *u, int64_t now, bool orgs_too, user_params *up)
{
	const char *porg;
	ud_strv orgs = {0};
	int rc;

	memset(up, 0, sizeof(*up));
	if (u->email == NULL || *u->email == '\0') {
		return UP_INVALID_ARGUMENT;
	}
	if (u->roles.n > UD_STORE_USER_SET_MAX ||
	    u->org_ids.n > UD_STORE_USER_SET_MAX ||
	    u->n_dashboard_permissions > UD_STORE_USER_SET_MAX) {
		return UP_INVALID_ARGUMENT;
	}
	if ((rc = ud_store_primary_org(u, up->porg, &porg)) != 0) {
		return rc;
	}
	for (size_t i = 0; orgs_too && i < u->org_ids.n; i++) {
		char org[33];
		if (ud_guid_parse(u->org_ids.v[i], org) != 0) {
			rc = UP_INVALID_ARGUMENT;
			goto out;
		}
		if ((rc = ud_strv_push(&orgs, org)) != 0) {
			goto out;
		}
	}
	if ((rc = text_array(u->roles.v, u->roles.n, 0, &up->roles)) != 0 ||
	    (rc = num_array(u->dashboard_permissions, NULL,
			    u->n_dashboard_permissions, &up->perms)) != 0 ||
	    (rc = text_array(orgs.v, orgs.n, 0, &up->orgs)) != 0) {
		goto out;
	}
	for (size_t i = 0; i < UD_USER_N_STR - 1; i++) {
		p_text(&up->p, *ud_store_user_str((ud_user *)u, i));
	}
	p_text(&up->p, porg);
	p_bool(&up->p, u->email_confirmed);
	p_bool(&up->p, u->phone_number_confirmed);
	p_bool(&up->p, u->disabled);
	p_int(&up->p, u->activation_status);
	p_int(&up->p, u->manager_access);
	p_int(&up->p, now);
out:
	ud_strv_fini(&orgs);
	if (rc != 0) {
		user_params_fini(up);
	}
	return rc;
}

static int
pg_user_insert(ud_store_conn *c, ud_user *u)
{
	user_params up;
	PGresult *r = NULL;
	int64_t now = ud_now_ms();
	int rc;

	if ((rc = writer_only(c)) != 0 ||
	    (rc = user_params_make(u, now, true, &up)) != 0) {
		return rc;
	}
	p_text(&up.p, up.roles);
	p_text(&up.p, up.perms);
	p_text(&up.p, up.orgs);
	if ((rc = run(c, S_USER_INSERT, &up.p, &r)) == 0) {
		if (PQntuples(r) != 1) {
			rc = UP_INTERNAL;
		} else {
			u->id = col_int(r, 0, 0);
			u->created_at = now;
			u->updated_at = now;
			u->token_version = 1;
			u->rev = 1;
		}
	}
	PQclear(r);
	user_params_fini(&up);
	return rc;
}

/* ------------------------------------------------------------------------
 * Import (ud_store_users_import): the users of a call in one statement
 * (USERS_IMPORT), then those whose email was taken read back in one more,
 * by email: two round trips, whatever the number of users. A user whose
 * email was taken and who cannot be read (deleted meanwhile) is tried
 * again, IMPORT_TRIES times in all.
 */

#define IMPORT_TRIES 3
#define IMPORT_COLS  16 /* user_params_make's values before the time */

/*
 * Sends rows[idx[0..*m)] in USERS_IMPORT and waits: the users inserted
 * (rc 0) and those naming organizations that do not exist
 * (UP_INVALID_ARGUMENT) are done; idx keeps the others, whose email was
 * taken (*m of them).
 */
static int
import_insert(ud_store_conn *c, ud_store_import *rows, size_t *idx, size_t *m,
	      int64_t now)
{
	lit cols[IMPORT_COLS + 3];
	size_t *sent = malloc(*m * sizeof(*sent)), n_sent = 0, left = 0;
	params p = {0};
	PGresult *r = NULL;
	int rc = 0;

	memset(cols, 0, sizeof(cols));
	if (sent == NULL) {
		return UP_INTERNAL;
	}
	for (size_t k = 0; rc == 0 && k < *m; k++) {
		ud_store_import *row = &rows[idx[k]];
		user_params up;

		if ((rc = user_params_make(row->u, now, true, &up)) != 0) {
			if (rc == UP_INVALID_ARGUMENT) {
				row->rc = rc; /* this user only */
				rc = 0;
			}
			continue;
		}
		for (int i = 0; rc == 0 && i < IMPORT_COLS; i++) {
			rc = lit_add(&cols[i], up.p.v[i]);
		}
		if (rc == 0 &&
		    (rc = lit_add(&cols[IMPORT_COLS], up.roles)) == 0 &&
		    (rc = lit_add(&cols[IMPORT_COLS + 1], up.perms)) == 0) {
			rc = lit_add(&cols[IMPORT_COLS + 2], up.orgs);
		}
		user_params_fini(&up);
		sent[n_sent++] = idx[k];
	}
	for (int i = 0; rc == 0 && i < IMPORT_COLS + 3; i++) {
		const char *v = lit_end(&cols[i]);

		if (i == IMPORT_COLS) {
			p_int(&p, now); /* $17 */
		}
		if (v == NULL) {
			rc = UP_INTERNAL;
		}
		p_text(&p, v);
	}
	if (rc == 0 && n_sent > 0 &&
	    (rc = run(c, S_USERS_IMPORT, &p, &r)) == 0) {
		for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
			int64_t at = col_int(r, i, 0), id = col_int(r, i, 1);
			ud_store_import *row;

			if (at < 1 || (uint64_t)at > n_sent) {
				rc = UP_INTERNAL;
				break;
			}
			row = &rows[sent[at - 1]];
			if (id == 0) {
				row->rc = UP_INVALID_ARGUMENT;
				continue;
			}
			row->rc = 0;
			row->u->id = id;
			row->u->created_at = now;
			row->u->updated_at = now;
			row->u->token_version = 1;
			row->u->rev = 1;
		}
	}
	for (size_t k = 0; rc == 0 && k < n_sent; k++) {
		if (rows[sent[k]].rc == UP_ALREADY_EXISTS) {
			idx[left++] = sent[k];
		}
	}
	*m = rc == 0 ? left : *m;
	PQclear(r);
	for (int i = 0; i < IMPORT_COLS + 3; i++) {
		free(cols[i].p);
	}
	free(sent);
	return rc;
}

/*
 * Reads the users whose emails rows[idx[0..*m)] name into their stored;
 * idx keeps those not found (*m of them).
 */
static int
import_read(ud_store_conn *c, ud_store_import *rows, size_t *idx, size_t *m)
{
	lit emails = {0};
	params p = {0};
	PGresult *r = NULL;
	const char *v = NULL;
	size_t left = 0;
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < *m; k++) {
		rc = lit_add(&emails, rows[idx[k]].u->email);
	}
	if (rc == 0 && (v = lit_end(&emails)) == NULL) {
		rc = UP_INTERNAL;
	}
	p_text(&p, v);
	if (rc == 0 && (rc = run(c, S_USERS_BY_EMAILS, &p, &r)) == 0) {
		for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
			int64_t at = col_int(r, i, 0);
			ud_store_import *row;

			if (at < 1 || (uint64_t)at > *m) {
				rc = UP_INTERNAL;
				break;
			}
			row = &rows[idx[at - 1]];
			if (row->stored.id == 0 &&
			    (rc = user_from_row(r, i, 1, &row->stored)) != 0) {
				ud_user_fini(&row->stored);
				ud_store_user_init(&row->stored);
			}
		}
	}
	for (size_t k = 0; rc == 0 && k < *m; k++) {
		if (rows[idx[k]].stored.id == 0) {
			idx[left++] = idx[k];
		}
	}
	*m = rc == 0 ? left : *m;
	PQclear(r);
	free(emails.p);
	return rc;
}

static int
pg_users_import(ud_store_conn *c, ud_store_import *rows, size_t n)
{
	size_t *idx, m = n;
	int64_t now = ud_now_ms();
	int rc;

	if ((rc = writer_only(c)) != 0 || n == 0) {
		return rc;
	}
	if ((idx = malloc(n * sizeof(*idx))) == NULL) {
		return UP_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		idx[i] = i;
	}
	for (int t = 0; rc == 0 && m > 0 && t < IMPORT_TRIES; t++) {
		if ((rc = import_insert(c, rows, idx, &m, now)) == 0 && m > 0) {
			rc = import_read(c, rows, idx, &m);
		}
	}
	free(idx);
	return rc;
}

static bool
same_text(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/*
 * Whether the update of u can only succeed, its outcome known: the row is
 * the one the running write read under its lock (nobody else can change
 * it meanwhile), and the update changes neither a unique or foreign key
 * (email, primary organization) nor the memberships (foreign keys too).
 */
static bool
update_known(const ud_store_conn *c, const ud_user *u, unsigned sets)
{
	return c->m.id != 0 && c->m.id == u->id && !(sets & UD_SET_ORGS) &&
	       same_text(c->m.email, u->email) &&
	       same_text(c->m.porg, u->primary_org_id);
}

static int
pg_user_update(ud_store_conn *c, ud_user *u, unsigned sets, bool bump_token)
{
	wa_job *w = wa_serving(c);
	user_params up;
	PGresult *r = NULL;
	int64_t now = ud_now_ms();
	bool set_orgs = (sets & UD_SET_ORGS) != 0;
	int rc;

	if ((rc = writer_only(c)) != 0 ||
	    (rc = user_params_make(u, now, set_orgs, &up)) != 0) {
		return rc;
	}
	p_int(&up.p, bump_token ? 1 : 0);
	p_int(&up.p, u->id);
	p_text(&up.p, up.roles);
	p_text(&up.p, up.perms);
	p_text(&up.p, up.orgs);
	p_bool(&up.p, set_orgs);
	p_bool(&up.p, (sets & UD_SET_ROLES) != 0);
	p_bool(&up.p, (sets & UD_SET_PERMS) != 0);
	if (w != NULL && w->read && !w->has_upd && sets == 0 &&
	    u->id == w->job->hint.user && update_known(c, u, sets)) {
		/* kept, sent with the others' (wa_leave): the columns,
		 * the bump and the id, as WA_UPDATE takes them */
		for (int i = 0; rc == 0 && i < WA_COLS; i++) {
			const char *v = up.p.v[i];

			free(w->upd[i]);
			w->upd[i] = NULL;
			if (v != NULL && (w->upd[i] = strdup(v)) == NULL) {
				rc = UP_INTERNAL;
			}
		}
		if ((w->has_upd = rc == 0)) {
			u->created_at = c->m.created_at;
			u->updated_at = now;
			u->token_version =
			    c->m.token_version + (bump_token ? 1 : 0);
			c->m.token_version = u->token_version;
		}
	} else if (update_known(c, u, sets)) {
		/* deferred: it goes out with the next round trip */
		if ((rc = defer(c, S_USER_UPDATE_D, &up.p)) == 0) {
			u->created_at = c->m.created_at;
			u->updated_at = now;
			u->token_version =
			    c->m.token_version + (bump_token ? 1 : 0);
			c->m.token_version = u->token_version;
		}
	} else if ((rc = run(c, S_USER_UPDATE, &up.p, &r)) == 0) {
		if (PQntuples(r) == 0) {
			rc = UP_NOT_FOUND;
		} else {
			u->created_at = col_int(r, 0, 0);
			u->updated_at = now;
			u->token_version = col_int(r, 0, 1);
			if (c->m.id == u->id) {
				memo_keep(c, u);
			}
		}
	}
	if (rc == 0) {
		ud_store_changes_add(&c->g->chg, u->id);
	}
	PQclear(r);
	user_params_fini(&up);
	return rc;
}

static int
pg_user_delete(ud_store_conn *c, int64_t id)
{
	params p = {0};
	int rc;

	if ((rc = writer_only(c)) != 0) {
		return rc;
	}
	p_int(&p, id);
	if ((rc = change_one(c, S_USER_DELETE, &p)) == 0) {
		ud_store_changes_add(&c->g->chg, id);
		if (c->m.id == id) {
			memo_clear(&c->m);
		}
	}
	return rc;
}

static int
pg_org_insert(ud_store_conn *c, ud_org *o)
{
	params p = {0};
	PGresult *r = NULL;
	char id[33], parent[33];
	char *new_id = NULL;
	int64_t now = ud_now_ms();
	int rc;

	if ((rc = writer_only(c)) != 0) {
		return rc;
	}
	if (o->id != NULL ? ud_guid_parse(o->id, id) != 0
			  : ud_guid_new(id) != 0) {
		return o->id != NULL ? UP_INVALID_ARGUMENT : UP_INTERNAL;
	}
	if (o->parent_id != NULL && (ud_guid_parse(o->parent_id, parent) != 0 ||
				     strcmp(parent, id) == 0)) {
		return UP_INVALID_ARGUMENT; /* malformed, or its own parent */
	}
	if (o->id == NULL && (new_id = strdup(id)) == NULL) {
		return UP_INTERNAL;
	}
	p_text(&p, id);
	p_text(&p, o->name != NULL ? o->name : "");
	p_int(&p, o->type);
	p_text(&p, o->parent_id != NULL ? parent : NULL);
	p_int(&p, now);
	rc = run(c, S_ORG_INSERT, &p, &r);
	PQclear(r);
	if (rc != 0) {
		goto out;
	}
	if (new_id != NULL) {
		o->id = new_id;
		new_id = NULL;
	}
	o->created_at = now;
	o->member_count = 0;
out:
	free(new_id);
	return rc;
}

static int
pg_member_add(ud_store_conn *c, const char *org_id, int64_t user_id)
{
	params p = {0};
	PGresult *r = NULL;
	char org[33];
	int rc;

	if ((rc = writer_only(c)) != 0) {
		return rc;
	}
	if (ud_guid_parse(org_id, org) != 0) {
		return UP_NOT_FOUND;
	}
	p_int(&p, user_id);
	p_text(&p, org);
	p_int(&p, ud_now_ms());
	rc = run(c, S_MEMB_INS, &p, &r);
	PQclear(r);
	if (rc == 0) {
		ud_store_changes_add(&c->g->chg, user_id);
	}
	/* a foreign key failure: no such user or organization */
	return rc == UP_INVALID_ARGUMENT ? UP_NOT_FOUND : rc;
}

static int
pg_member_remove(ud_store_conn *c, const char *org_id, int64_t user_id)
{
	params p = {0};
	PGresult *r = NULL;
	char org[33];
	int rc;

	if ((rc = writer_only(c)) != 0) {
		return rc;
	}
	if (ud_guid_parse(org_id, org) != 0) {
		return UP_NOT_FOUND;
	}
	p_int(&p, user_id);
	p_text(&p, org);
	if ((rc = run(c, S_MEMB_DEL, &p, &r)) == 0) {
		rc = PQntuples(r) == 1 && col_int(r, 0, 0) > 0 ? 0
							       : UP_NOT_FOUND;
	}
	PQclear(r);
	if (rc == 0) {
		ud_store_changes_add(&c->g->chg, user_id);
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * The request log and the failed-login state
 */

static int
pg_request_get(ud_store_conn *c, const char *request_id,
	       const uint8_t digest[UD_REQUEST_DIGEST_LEN], uint8_t **resp,
	       size_t *len)
{
	params p = {0};
	PGresult *r = NULL;
	int rc, n;

	p_text(&p, request_id);
	if ((rc = run(c, S_REQ_GET, &p, &r)) != 0) {
		return rc;
	}
	if (PQntuples(r) == 0) {
		rc = UP_NOT_FOUND;
	} else if (PQgetlength(r, 0, 0) != UD_REQUEST_DIGEST_LEN ||
		   memcmp(PQgetvalue(r, 0, 0), digest, UD_REQUEST_DIGEST_LEN) !=
		       0) {
		rc = UP_FAILED_PRECONDITION;
	} else if ((*resp = malloc((n = PQgetlength(r, 0, 1)) > 0 ? (size_t)n
								  : 1)) ==
		   NULL) {
		rc = UP_INTERNAL;
	} else {
		memcpy(*resp, PQgetvalue(r, 0, 1), (size_t)n);
		*len = (size_t)n;
	}
	PQclear(r);
	return rc;
}

/*
 * Sent with the write's next round trip: the statements that follow it
 * run after it (a claim by an open transaction elsewhere waits for its
 * end), and a claim refused fails them (store.h).
 */
static int
pg_request_claim(ud_store_conn *c, const char *request_id,
		 const uint8_t digest[UD_REQUEST_DIGEST_LEN], int64_t now_ms)
{
	params p = {0};
	wa_job *w = c->writer ? wa_of(c) : NULL;
	int rc;

	if ((rc = writer_only(c)) != 0) {
		return rc;
	}
	if (c->claim != 0) {
		return UP_INTERNAL; /* one claim per write */
	}
	if (w != NULL && w->claim_rc != UP_NOT_FOUND &&
	    strcmp(request_id, w->job->hint.request_id) == 0 &&
	    memcmp(digest, w->job->hint.digest, UD_REQUEST_DIGEST_LEN) == 0) {
		/* claimed ahead (wa_begin), also when it left since */
		c->claim = CLAIM_AHEAD;
		c->claim_rc = w->claim_rc;
		w->claim_at = now_ms; /* the row's time, as a claim's */
		if (w->claim_rc != 0) {
			c->cur_rc = w->claim_rc; /* rolled back, as refused */
		}
		return w->claim_rc;
	}
	p_text(&p, request_id);
	p_bytes(&p, digest, UD_REQUEST_DIGEST_LEN);
	p_int(&p, now_ms);
	c->claim_rc = RC_WAITING;
	/* like a lock: not waiting while earlier writes hold theirs */
	if ((c->claim = send_stmt(c, E_CLAIM,
				  lock_nowait(c) ? S_REQ_CLAIM_NW : S_REQ_CLAIM,
				  &p)) == 0) {
		c->claim_rc = UP_NOT_FOUND;
		return UP_INTERNAL;
	}
	return 0;
}

static int
pg_request_claimed(ud_store_conn *c)
{
	if (!c->writer || c->cur == NULL || c->claim == 0) {
		return UP_NOT_FOUND;
	}
	if (c->claim_rc == RC_WAITING) {
		(void)writer_wait(c, c->claim, NULL);
	}
	if (c->claim_rc == RC_WAITING || c->claim_rc == RC_SKIPPED) {
		return c->cur_rc != 0 ? c->cur_rc : UP_UNAVAILABLE;
	}
	return c->claim_rc;
}

/* Deferred: it must change the claimed row (P0002, UP_NOT_FOUND, if not). */
static int
pg_request_answer(ud_store_conn *c, const char *request_id, const uint8_t *resp,
		  size_t len)
{
	params p = {0};
	wa_job *w = c->writer && c->cur_rc == 0 ? wa_of(c) : NULL;

	if (len > INT32_MAX) {
		return UP_INTERNAL;
	}
	if (w != NULL && c->claim == CLAIM_AHEAD && w->claim_rc == 0 &&
	    w->ans == NULL &&
	    strcmp(request_id, w->job->hint.request_id) == 0) {
		/* reserved ahead: written once, with its answer; kept and
		 * sent with the others' (wa_leave), or now if it left */
		if ((w->ans = hex_of(resp, len)) == NULL) {
			return UP_INTERNAL;
		}
		if (!c->wa.on) {
			wa_send_kept(c, w);
		}
		return 0;
	}
	p_text(&p, request_id);
	p_bytes(&p, resp, len);
	return defer(c, S_REQ_ANSWER, &p);
}

static int
pg_request_prune(ud_store_conn *c, int64_t before_ms)
{
	params p = {0};

	p_int(&p, before_ms);
	return defer(c, S_REQ_PRUNE, &p);
}

/*
 * On a writer the key is locked first, even when it has no row yet (two
 * first failures at once would both read none and one would be lost);
 * the read that follows, a statement of its own in the same round trip,
 * sees what the lock's previous holder committed.
 */
static int
pg_login_get(ud_store_conn *c, const char *key, ud_login_state *out)
{
	params p = {0};
	PGresult *r = NULL;
	int rc;

	p_text(&p, key);
	if (c->writer) {
		if ((rc = writer_only(c)) != 0) {
			return rc;
		}
		if (send_lock(c, S_LOGIN_KEY_LOCK, S_LOGIN_KEY_LOCK_NW, &p) ==
		    0) {
			return UP_INTERNAL;
		}
	}
	rc = run(c, c->writer ? S_LOGIN_GET_LOCK : S_LOGIN_GET, &p, &r);
	if (rc != 0) {
		return rc;
	}
	if (PQntuples(r) == 0) {
		rc = UP_NOT_FOUND;
	} else {
		out->window_start = col_int(r, 0, 0);
		out->last = col_int(r, 0, 1);
		out->locked_until = col_int(r, 0, 2);
		out->failures = (int32_t)col_int(r, 0, 3);
		out->locks = (int32_t)col_int(r, 0, 4);
		out->pending = (int32_t)col_int(r, 0, 5);
	}
	PQclear(r);
	return rc;
}

static int
pg_login_put(ud_store_conn *c, const char *key, const ud_login_state *s)
{
	params p = {0};

	p_text(&p, key);
	p_int(&p, s->window_start);
	p_int(&p, s->last);
	p_int(&p, s->locked_until);
	p_int(&p, s->failures);
	p_int(&p, s->locks);
	p_int(&p, s->pending);
	return defer(c, S_LOGIN_PUT, &p);
}

static int
pg_login_delete(ud_store_conn *c, const char *key)
{
	params p = {0};

	p_text(&p, key);
	return defer(c, S_LOGIN_DEL, &p);
}

static int
pg_login_prune(ud_store_conn *c, int64_t before_s)
{
	params p = {0};

	p_int(&p, before_s);
	return defer(c, S_LOGIN_PRUNE, &p);
}

/* ------------------------------------------------------------------------
 * Refresh tokens
 *
 * On a writer, get and revoke lock the family first (an advisory lock held
 * to the end of the transaction; the statements after it see what its
 * previous holder committed). Without it a revocation running beside a
 * refresh of the same family would miss the token that refresh records
 * (not yet committed when the DELETE takes its snapshot), and two
 * refreshes with one token could both read it unused.
 */

static int
pg_refresh_insert(ud_store_conn *c, const ud_refresh_token *t)
{
	params p = {0};
	PGresult *r = NULL;
	int rc;

	if ((rc = writer_only(c)) != 0) {
		return rc;
	}
	p_text(&p, t->jti);
	p_text(&p, t->family);
	p_int(&p, t->user_id);
	p_int(&p, t->expires_at);
	rc = run(c, S_REF_INSERT, &p, &r);
	PQclear(r);
	return rc;
}

static int
pg_refresh_get(ud_store_conn *c, const char *family, const char *jti,
	       ud_refresh_token *out)
{
	params p = {0}, f = {0};
	PGresult *r = NULL;
	int rc;

	if (c->writer) {
		if ((rc = writer_only(c)) != 0) {
			return rc;
		}
		p_text(&f, family);
		if (send_lock(c, S_REF_LOCK, S_REF_LOCK_NW, &f) == 0) {
			return UP_INTERNAL;
		}
	}
	p_text(&p, jti);
	p_text(&p, family);
	if ((rc = run(c, S_REF_GET, &p, &r)) != 0) {
		return rc;
	}
	if (PQntuples(r) == 0) {
		rc = UP_NOT_FOUND;
	} else {
		memcpy(out->jti, jti, sizeof(out->jti));
		memcpy(out->family, family, sizeof(out->family));
		out->user_id = col_int(r, 0, 0);
		out->expires_at = col_int(r, 0, 1);
		out->used = col_int(r, 0, 2) != 0;
	}
	PQclear(r);
	return rc;
}

static int
pg_refresh_use(ud_store_conn *c, const char *jti)
{
	params p = {0};
	int rc;

	if ((rc = writer_only(c)) != 0) {
		return rc;
	}
	p_text(&p, jti);
	return change_one(c, S_REF_USE, &p);
}

/* Deferred, its lock too: nothing of it is read. */
static int
pg_refresh_revoke(ud_store_conn *c, const char *family)
{
	params p = {0};
	int rc;

	p_text(&p, family);
	if ((rc = defer(c, S_REF_LOCK, &p)) != 0) {
		return rc;
	}
	return defer(c, S_REF_REVOKE, &p);
}

static int
pg_refresh_prune(ud_store_conn *c, int64_t before_s)
{
	params p = {0};

	p_int(&p, before_s);
	return defer(c, S_REF_PRUNE, &p);
}

/* ------------------------------------------------------------------------
 * The backend
 */

const ud_store_ops ud_store_pg_ops = {
    .name = "postgresql",
    .shared = true,
    .open = pg_open,
    .migrate = pg_migrate,
    .schema_latest = pg_schema_latest,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .stats = pg_stats,
    .reader_open = pg_reader_open,
    .reader_close = pg_reader_close,
    .write = pg_write,
    .on_writer = pg_on_writer,
    .snapshot_begin = pg_snapshot_begin,
    .snapshot_end = pg_snapshot_end,
    .read_ahead = pg_read_ahead,
    .read_ahead_end = pg_read_ahead_end,
    .user_get_ahead = pg_user_get_ahead,
    .user_get = pg_user_get,
    .user_by_email = pg_user_by_email,
    .user_check = pg_user_check,
    .user_check_end = pg_user_check_end,
    .user_expect = pg_user_expect,
    .user_count = pg_user_count,
    .role_holders = pg_role_holders,
    .user_list = pg_user_list,
    .org_get = pg_org_get,
    .org_list = pg_org_list,
    .org_list_after = pg_org_list_after,
    .org_subtree = pg_org_subtree,
    .org_children = pg_org_children,
    .user_insert = pg_user_insert,
    .users_import = pg_users_import,
    .user_update = pg_user_update,
    .user_delete = pg_user_delete,
    .org_insert = pg_org_insert,
    .member_add = pg_member_add,
    .member_remove = pg_member_remove,
    .request_get = pg_request_get,
    .request_claim = pg_request_claim,
    .request_claimed = pg_request_claimed,
    .request_answer = pg_request_answer,
    .request_prune = pg_request_prune,
    .login_get = pg_login_get,
    .login_put = pg_login_put,
    .login_delete = pg_login_delete,
    .login_prune = pg_login_prune,
    .refresh_insert = pg_refresh_insert,
    .refresh_get = pg_refresh_get,
    .refresh_use = pg_refresh_use,
    .refresh_revoke = pg_refresh_revoke,
    .refresh_prune = pg_refresh_prune,
};
