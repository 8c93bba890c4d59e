/*
 * store_sqlite.c - the SQLite backend of the store (store.h).
 *
 * One writer connection owned by the writer thread (group commit: a batch
 * of queued write functions, each in its own savepoint, one COMMIT, one
 * fsync; then the same thread runs the batch's done functions, which send
 * the answers), and one read connection per worker thread. WAL lets the readers
 * run beside the writer. The writer checkpoints the WAL itself, off the
 * commit path (autocheckpoint is replaced by a wal hook that only counts).
 *
 * Every SQLite error is translated here into an up_status code and logged
 * to stderr with the SQLite message; no SQL text leaves this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_backend.h"
#include "store_walbuf.h"
#include "users_proto.h"

/*
 * WAL checkpoints (the limits on input: store_backend.h). A checkpoint
 * copies each page once, however often the WAL holds it, then fsyncs the
 * database and restarts the WAL: the rarer it runs under load, the fewer
 * pages and fsyncs per write (the hot pages of a table are written many
 * times over between two). A busy WAL is copied and restarted past
 * wal_pages; one with no write for CKPT_IDLE_MS is copied past an eighth
 * of that, so a quiet database does not keep a long WAL for its readers
 * to search (once all of it is copied, they read the database alone).
 */
#define CKPT_PAGES_DEFAULT 8000 /* about 32 MiB of WAL */
#define CKPT_IDLE_MS       20   /* idle this long: not between two batches */
#define CKPT_WAIT_MS       50   /* longest wait for readers to let go */
#define CKPT_POLL_US       50   /* and how often the writer looks again */

/*
 * The copier. Most of a checkpoint's time is the copy: a read of every
 * frame, a write of every page, then the database's fsync, 10 to 15 ms
 * for a few thousand pages (docs/decisions.md, section 27). Run by the
 * writer, every write that arrived meanwhile waited for it. So a thread
 * with a connection of its own copies the WAL into the database (a
 * PASSIVE checkpoint, which neither waits for the writer nor stops it)
 * once the WAL holds wal_pages, or an eighth of that with the writer
 * idle. The writer keeps the restart: a RESTART checkpoint, which copies
 * only the frames committed during the copier's pass, then waits for the
 * readers to let go of the WAL, so that the next commit writes it from
 * its start again.
 */
#define RESTART_SHARE 16 /* restart_pages: wal_pages / 16 */

/*
 * The writer's page cache, in KiB (SQLite's default is 2 MiB). Its cache
 * outlives its own commits, but a write touches pages all over the users
 * table and the request log's index of ids: with the default, most of
 * them have fallen out by the next write of the same page, and each write
 * reads them back (pread) and allocates them anew. The pages are only
 * taken as they are used.
 */
#define WRITE_CACHE_KIB 16384

/*
 * The search index, deferred (migration 7). A write only notes the users
 * whose searched text changed (users_fts_pending); the writer brings their
 * index entries up to date between batches: once it has had no write for
 * index_idle_ms, in transactions of IDX_CHUNK users, one after another for
 * as long as no write arrives (a write waits for one chunk at most). A
 * writer that is never idle still does so after its batches once more than
 * IDX_PENDING_MAX users wait, as many as its batches add: the searches'
 * scan of the pending users (sq_user_list) stays bounded.
 */
#define IDX_IDLE_MS     CKPT_IDLE_MS
#define IDX_CHUNK       512
#define IDX_PENDING_MAX 50000

/*
 * The index's segments. FTS5 writes a segment a transaction and merges
 * segments as they pile up, 16 of a level at a time (automerge, set by
 * migration 8; FTS5's own 4 cost a third more CPU an indexed user); a
 * search reads every segment, one b-tree descent a trigram each. Once
 * the index is complete and at least IDX_MERGE_MIN users, and a sixteenth
 * of all users, were indexed since its last full merge, an idle writer
 * merges all its segments into one, IDX_MERGE_PAGES pages a transaction
 * (a write waits for one step at most): a search then does a descent a
 * trigram. Writing the whole index again costs at most 16 times what the
 * users indexed since cost.
 */
#define IDX_MERGE_MIN   4096
#define IDX_MERGE_PAGES 200

/* ------------------------------------------------------------------------
 * Schema: migration N is migrations[N - 1]; never edit one that shipped.
 */

static const char *const migrations[] = {
    /* 1: the tables */
    "CREATE TABLE organizations ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 32),"
    " name TEXT NOT NULL DEFAULT '',"
    " type INTEGER NOT NULL DEFAULT 0,"
    " parent_id TEXT REFERENCES organizations(id),"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " email TEXT NOT NULL COLLATE NOCASE,"
    " password_hash TEXT,"
    " first_name TEXT,"
    " last_name TEXT,"
    " phone_number TEXT,"
    " temporary_email TEXT,"
    " temporary_phone_number TEXT,"
    " avatar_url TEXT,"
    " image_content TEXT,"
    " viviot_id TEXT,"
    " primary_org_id TEXT REFERENCES organizations(id),"
    " email_confirmed INTEGER NOT NULL DEFAULT 0,"
    " phone_number_confirmed INTEGER NOT NULL DEFAULT 0,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " activation_status INTEGER NOT NULL DEFAULT 0,"
    " manager_access INTEGER NOT NULL DEFAULT -1,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " token_version INTEGER NOT NULL DEFAULT 1);"
    /* the column's NOCASE collation makes this case-insensitive (ASCII) */
    "CREATE UNIQUE INDEX users_email ON users(email);"
    "CREATE TABLE user_roles ("
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " role TEXT NOT NULL,"
    " PRIMARY KEY (user_id, role)) WITHOUT ROWID;"
    "CREATE TABLE user_dashboard_permissions ("
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " permission INTEGER NOT NULL,"
    " PRIMARY KEY (user_id, permission)) WITHOUT ROWID;"
    "CREATE TABLE memberships ("
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " org_id TEXT NOT NULL REFERENCES organizations(id),"
    " created_at INTEGER NOT NULL,"
    " PRIMARY KEY (user_id, org_id)) WITHOUT ROWID;",
    /* 2: indices for the filters and the foreign keys */
    "CREATE INDEX memberships_org ON memberships(org_id, user_id);"
    "CREATE INDEX user_roles_role ON user_roles(role, user_id);"
    "CREATE INDEX organizations_parent ON organizations(parent_id, name);"
    "CREATE INDEX organizations_name ON organizations(name, id);"
    "CREATE INDEX users_primary_org ON users(primary_org_id);",
    /* 3: the request log and the failed-login state */
    "CREATE TABLE request_log ("
    " request_id TEXT NOT NULL UNIQUE,"
    " digest BLOB NOT NULL,"
    " response BLOB NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX request_log_created ON request_log(created_at);"
    "CREATE TABLE login_state ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " window_start INTEGER NOT NULL,"
    " last INTEGER NOT NULL,"
    " locked_until INTEGER NOT NULL,"
    " failures INTEGER NOT NULL,"
    " locks INTEGER NOT NULL) WITHOUT ROWID;",
    /* 4: refresh tokens, by family (revocation) and expiry (pruning) */
    "CREATE TABLE refresh_tokens ("
    " jti TEXT PRIMARY KEY NOT NULL CHECK (length(jti) = 32),"
    " family TEXT NOT NULL CHECK (length(family) = 32),"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " expires_at INTEGER NOT NULL,"
    " used INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE INDEX refresh_tokens_family ON refresh_tokens(family);"
    "CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);"
    "CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);",
    /* 5: sign-in attempts reserved and not yet judged, per name */
    "ALTER TABLE login_state ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;",
    /*
     * 6: lists at depth. The count of users kept by triggers (a list
     * without filters reads it instead of counting a million rows), and
     * a trigram index of the searched columns (FTS5, external content:
     * the text stays in users alone), kept by triggers too; an update
     * touches it only when a searched column changes.
     */
    "CREATE TABLE user_count (one INTEGER PRIMARY KEY CHECK (one = 1),"
    " n INTEGER NOT NULL);"
    "INSERT INTO user_count (one, n) SELECT 1, COUNT(*) FROM users;"
    "CREATE TRIGGER user_count_ins AFTER INSERT ON users"
    " BEGIN UPDATE user_count SET n = n + 1; END;"
    "CREATE TRIGGER user_count_del AFTER DELETE ON users"
    " BEGIN UPDATE user_count SET n = n - 1; END;"
    "CREATE VIRTUAL TABLE users_fts USING fts5(email, first_name,"
    " last_name, content='users', content_rowid='id',"
    " tokenize='trigram', columnsize=0);"
    "INSERT INTO users_fts (users_fts) VALUES ('rebuild');"
    "CREATE TRIGGER users_fts_ins AFTER INSERT ON users BEGIN"
    " INSERT INTO users_fts (rowid, email, first_name, last_name)"
    " VALUES (new.id, new.email, new.first_name, new.last_name); END;"
    "CREATE TRIGGER users_fts_del AFTER DELETE ON users BEGIN"
    " INSERT INTO users_fts (users_fts, rowid, email, first_name,"
    " last_name) VALUES ('delete', old.id, old.email, old.first_name,"
    " old.last_name); END;"
    "CREATE TRIGGER users_fts_upd AFTER UPDATE OF email, first_name,"
    " last_name ON users WHEN old.email IS NOT new.email COLLATE BINARY"
    " OR old.first_name IS NOT new.first_name"
    " OR old.last_name IS NOT new.last_name BEGIN"
    " INSERT INTO users_fts (users_fts, rowid, email, first_name,"
    " last_name) VALUES ('delete', old.id, old.email, old.first_name,"
    " old.last_name);"
    " INSERT INTO users_fts (rowid, email, first_name, last_name)"
    " VALUES (new.id, new.email, new.first_name, new.last_name); END;",
    /*
     * 7: the trigram index kept by the writer between batches instead of
     * in every write's transaction (see "The search index, deferred").
     * The triggers only note the user as pending: one row of a small
     * table, with the values the index holds for it (indexed = 1; an
     * external-content index can only forget a row by its exact old
     * text) or none (indexed = 0: a new user). The first note of a user
     * stays (OR IGNORE) until the writer brings the user's entry up to
     * date, so it always names what the index holds. The index of an
     * existing database is complete: nothing is pending.
     */
    "DROP TRIGGER users_fts_ins;"
    "DROP TRIGGER users_fts_del;"
    "DROP TRIGGER users_fts_upd;"
    "CREATE TABLE users_fts_pending ("
    " user_id INTEGER PRIMARY KEY,"
    " indexed INTEGER NOT NULL,"
    " email TEXT, first_name TEXT, last_name TEXT);"
    "CREATE TRIGGER users_fts_ins AFTER INSERT ON users BEGIN"
    " INSERT OR IGNORE INTO users_fts_pending (user_id, indexed)"
    " VALUES (new.id, 0); END;"
    "CREATE TRIGGER users_fts_del AFTER DELETE ON users BEGIN"
    " INSERT OR IGNORE INTO users_fts_pending VALUES (old.id, 1,"
    " old.email, old.first_name, old.last_name); END;"
    "CREATE TRIGGER users_fts_upd AFTER UPDATE OF email, first_name,"
    " last_name ON users WHEN old.email IS NOT new.email COLLATE BINARY"
    " OR old.first_name IS NOT new.first_name"
    " OR old.last_name IS NOT new.last_name BEGIN"
    " INSERT OR IGNORE INTO users_fts_pending VALUES (old.id, 1,"
    " old.email, old.first_name, old.last_name); END;",
    /*
     * 8: the trigram index merges its segments 16 of a level at a time
     * instead of 4 (see IDX_MERGE_MIN: the idle writer merges them all).
     */
    "INSERT INTO users_fts (users_fts, rank) VALUES ('automerge', 16);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ------------------------------------------------------------------------
 * Cached statements
 */

#define USER_COLS                                                              \
	"id, email, password_hash, first_name, last_name, phone_number,"       \
	" temporary_email, temporary_phone_number, avatar_url,"                \
	" image_content, viviot_id, primary_org_id, email_confirmed,"          \
	" phone_number_confirmed, disabled, activation_status,"                \
	" manager_access, created_at, updated_at, token_version"

#define ORG_COLS                                                               \
	"o.id, o.name, o.type, o.parent_id, o.created_at,"                     \
	" (SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id)"

enum {
	S_BEGIN,
	S_BEGIN_WRITE,
	S_COMMIT,
	S_ROLLBACK,
	S_SP,
	S_SP_RELEASE,
	S_SP_ROLLBACK,
	S_OP,
	S_OP_RELEASE,
	S_OP_ROLLBACK,
	S_USER_GET,
	S_USER_BY_EMAIL,
	S_USER_COUNT,
	S_ROLE_HOLDERS,
	S_ROLES,
	S_PERMS,
	S_SETS,
	S_ORG_GET,
	S_ORG_CHILDREN,
	S_ORG_SUBTREE,
	S_USER_INSERT,
	S_USER_UPDATE,
	S_USER_KEYS,
	S_MEMB_IDS,
	S_USER_DELETE,
	S_ROLES_DEL,
	S_ROLE_INS,
	S_PERMS_DEL,
	S_PERM_INS,
	S_MEMBS_DEL,
	S_MEMB_INS,
	S_MEMB_DEL,
	S_ORG_INSERT,
	S_REQ_GET,
	S_REQ_ANSWER,
	S_REQ_RECORD,
	S_REQ_PRUNE,
	S_LOGIN_GET,
	S_LOGIN_PUT,
	S_LOGIN_DEL,
	S_LOGIN_PRUNE,
	S_REF_INSERT,
	S_REF_GET,
	S_REF_USE,
	S_REF_REVOKE,
	S_REF_PRUNE,
	S_DATA_VERSION,
	S_IDX_LAST,
	S_IDX_FORGET,
	S_IDX_ADD,
	S_IDX_DONE,
	S_IDX_COUNT,
	S_IDX_MERGE,
	S_IDX_USERS,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN",
    [S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SP] = "SAVEPOINT ud_job",
    [S_SP_RELEASE] = "RELEASE ud_job",
    [S_SP_ROLLBACK] = "ROLLBACK TO ud_job",
    [S_OP] = "SAVEPOINT ud_op",
    [S_OP_RELEASE] = "RELEASE ud_op",
    [S_OP_ROLLBACK] = "ROLLBACK TO ud_op",
    [S_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [S_USER_BY_EMAIL] = "SELECT " USER_COLS " FROM users WHERE email = ?1",
    [S_USER_COUNT] = "SELECT COUNT(*) FROM users",
    [S_ROLE_HOLDERS] = "SELECT COUNT(*) FROM user_roles r"
		       " JOIN users u ON u.id = r.user_id"
		       " WHERE r.role = ?1 AND u.disabled = 0",
    [S_ROLES] = "SELECT role FROM user_roles WHERE user_id = ?1"
		" ORDER BY role",
    [S_PERMS] = "SELECT permission FROM user_dashboard_permissions"
		" WHERE user_id = ?1 ORDER BY permission",
    /*
     * A user's roles, permissions and memberships by one statement
     * (user_load_sets): the kind first, 0, 1 or 2. One statement's
     * stepping and reset instead of three, on every read of a user.
     */
    [S_SETS] = "SELECT 0, role, NULL FROM user_roles WHERE user_id = ?1"
	       " UNION ALL SELECT 1, permission, NULL"
	       " FROM user_dashboard_permissions WHERE user_id = ?1"
	       " UNION ALL SELECT 2, o.id, o.name FROM memberships m"
	       " JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ?1",
    [S_ORG_GET] = "SELECT " ORG_COLS " FROM organizations o WHERE o.id = ?1",
    [S_ORG_CHILDREN] = "SELECT " ORG_COLS " FROM organizations o"
		       " WHERE o.parent_id = ?1 ORDER BY o.name, o.id",
    [S_ORG_SUBTREE] = "WITH RECURSIVE t(id, depth) AS ("
		      " SELECT id, 0 FROM organizations"
		      "  WHERE id IN (SELECT value FROM json_each(?1))"
		      " UNION"
		      " SELECT o.id, t.depth + 1 FROM organizations o"
		      "  JOIN t ON o.parent_id = t.id WHERE t.depth < ?2)"
		      " SELECT DISTINCT id FROM t ORDER BY id",
    [S_USER_INSERT] =
	"INSERT INTO users (email, password_hash, first_name,"
	" last_name, phone_number, temporary_email,"
	" temporary_phone_number, avatar_url, image_content, viviot_id,"
	" primary_org_id, email_confirmed, phone_number_confirmed,"
	" disabled, activation_status, manager_access, created_at,"
	" updated_at, token_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	" ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, 1)"
	" RETURNING id",
    /*
     * An update leaves the indexed columns (email, primary_org_id) to
     * S_USER_KEYS, which writes them only when they change: SQLite
     * rewrites the entries of every index whose column is SET, changed or
     * not. No RETURNING: SQLite buffers its rows in a temporary table.
     */
    [S_USER_UPDATE] = "UPDATE users SET password_hash = ?2,"
		      " first_name = ?3, last_name = ?4, phone_number = ?5,"
		      " temporary_email = ?6, temporary_phone_number = ?7,"
		      " avatar_url = ?8, image_content = ?9, viviot_id = ?10,"
		      " email_confirmed = ?12,"
		      " phone_number_confirmed = ?13, disabled = ?14,"
		      " activation_status = ?15, manager_access = ?16,"
		      " updated_at = ?17, token_version = token_version + ?18"
		      " WHERE id = ?19",
    [S_USER_KEYS] = "UPDATE users SET email = ?1, primary_org_id = ?2"
		    " WHERE id = ?3 AND (email IS NOT ?1 COLLATE BINARY"
		    " OR primary_org_id IS NOT ?2)",
    [S_MEMB_IDS] = "SELECT org_id FROM memberships WHERE user_id = ?1",
    [S_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
    [S_ROLES_DEL] = "DELETE FROM user_roles WHERE user_id = ?1",
    [S_ROLE_INS] = "INSERT OR IGNORE INTO user_roles (user_id, role)"
		   " VALUES (?1, ?2)",
    [S_PERMS_DEL] = "DELETE FROM user_dashboard_permissions"
		    " WHERE user_id = ?1",
    [S_PERM_INS] = "INSERT OR IGNORE INTO user_dashboard_permissions"
		   " (user_id, permission) VALUES (?1, ?2)",
    [S_MEMBS_DEL] = "DELETE FROM memberships WHERE user_id = ?1",
    [S_MEMB_INS] = "INSERT OR IGNORE INTO memberships (user_id, org_id,"
		   " created_at) VALUES (?1, ?2, ?3)",
    [S_MEMB_DEL] = "DELETE FROM memberships WHERE user_id = ?1"
		   " AND org_id = ?2",
    [S_ORG_INSERT] = "INSERT INTO organizations (id, name, type,"
		     " parent_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_REQ_GET] = "SELECT digest, response FROM request_log"
		  " WHERE request_id = ?1",
    [S_REQ_ANSWER] = "UPDATE request_log SET response = ?2"
		     " WHERE request_id = ?1",
    [S_REQ_RECORD] = "INSERT INTO request_log (request_id, digest, response,"
		     " created_at) VALUES (?1, ?2, ?3, ?4)",
    [S_REQ_PRUNE] = "DELETE FROM request_log WHERE created_at < ?1",
    [S_LOGIN_GET] = "SELECT window_start, last, locked_until, failures,"
		    " locks, pending FROM login_state WHERE key = ?1",
    [S_LOGIN_PUT] = "INSERT INTO login_state (key, window_start, last,"
		    " locked_until, failures, locks, pending)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key) DO"
		    " UPDATE SET window_start = ?2, last = ?3,"
		    " locked_until = ?4, failures = ?5, locks = ?6,"
		    " pending = ?7",
    [S_LOGIN_DEL] = "DELETE FROM login_state WHERE key = ?1",
    [S_LOGIN_PRUNE] = "DELETE FROM login_state"
		      " WHERE max(last, locked_until) < ?1",
    [S_REF_INSERT] = "INSERT INTO refresh_tokens (jti, family, user_id,"
		     " expires_at, used) VALUES (?1, ?2, ?3, ?4, 0)",
    [S_REF_GET] = "SELECT user_id, expires_at, used FROM refresh_tokens"
		  " WHERE jti = ?1 AND family = ?2",
    [S_REF_USE] = "UPDATE refresh_tokens SET used = 1"
		  " WHERE jti = ?1 AND used = 0",
    [S_REF_REVOKE] = "DELETE FROM refresh_tokens WHERE family = ?1",
    [S_REF_PRUNE] = "DELETE FROM refresh_tokens WHERE expires_at < ?1",
    /* changes when another connection commits (not for this one's own) */
    [S_DATA_VERSION] = "PRAGMA data_version",
    /* the search index's pending users, a chunk (?1: its last user_id) */
    [S_IDX_LAST] = "SELECT max(user_id) FROM (SELECT user_id"
		   " FROM users_fts_pending ORDER BY user_id LIMIT ?1)",
    [S_IDX_FORGET] = "INSERT INTO users_fts (users_fts, rowid, email,"
		     " first_name, last_name) SELECT 'delete', user_id, email,"
		     " first_name, last_name FROM users_fts_pending"
		     " WHERE user_id <= ?1 AND indexed",
    [S_IDX_ADD] =
	"INSERT INTO users_fts (rowid, email, first_name,"
	" last_name) SELECT u.id, u.email, u.first_name, u.last_name"
	" FROM users_fts_pending p CROSS JOIN users u ON u.id = p.user_id"
	" WHERE p.user_id <= ?1",
    [S_IDX_DONE] = "DELETE FROM users_fts_pending WHERE user_id <= ?1",
    [S_IDX_COUNT] = "SELECT count(*) FROM users_fts_pending",
    [S_IDX_MERGE] = "INSERT INTO users_fts (users_fts, rank)"
		    " VALUES ('merge', -?1)",
    [S_IDX_USERS] = "SELECT n FROM user_count",
};

/*
 * Filter bits of the user list; the statements are built per combination.
 * F_EMAIL and F_NAME scan with LIKE (substrings shorter than a trigram);
 * F_FTS_EMAIL and F_FTS_NAME go through the trigram index (one MATCH for
 * both) for the longer ones, and by LIKE through the users whose index
 * entries are pending.
 */
enum {
	F_EMAIL = 1 << 0,
	F_NAME = 1 << 1,
	F_ORG = 1 << 2,
	F_ROLE = 1 << 3,
	F_SCOPE = 1 << 4,
	F_FTS_EMAIL = 1 << 5,
	F_FTS_NAME = 1 << 6,
	F_FTS = F_FTS_EMAIL | F_FTS_NAME,
	F_USER_ALL = (1 << 7) - 1,
};
enum {
	F_PARENT = 1 << 0,
	F_IDS = 1 << 1,
	F_AFTER = 1 << 2, /* the page only: the keyset */
	F_ORG_ALL = (1 << 3) - 1
};

/* Users a reader keeps between read transactions. */
#define USER_CACHE_N 4

struct ud_store_conn {
	ud_store_conn_base base; /* first */
	ud_store *st;
	sqlite3 *db;
	bool writer;
	sqlite3_stmt *stmts[S_COUNT];
	sqlite3_stmt *user_list[F_USER_ALL + 1];
	sqlite3_stmt *user_count[F_USER_ALL + 1];
	sqlite3_stmt *user_count_capped[F_USER_ALL + 1];
	sqlite3_stmt *org_list[F_ORG_ALL + 1];
	sqlite3_stmt *org_count[F_ORG_ALL + 1];
	bool
	    snapshot; /* a read transaction opened by ud_store_snapshot_begin */
	/*
	 * A reader's recent users (see sq_user_get): valid while the data
	 * version of the read transaction is the one they were read at.
	 */
	struct cached_user {
		ud_user u; /* u.id 0: free */
		uint64_t used;
	} users[USER_CACHE_N];
	int64_t users_version; /* -1: none read yet */
	int64_t txn_version;   /* of the open read transaction; -1: unknown */
	uint64_t ticks;
	int64_t check_id;     /* of ud_store_user_check; 0: none */
	int claim_rc;         /* the writer's: the running write's claim */
	ud_store_changes chg; /* the writer's: users changed by the batch */
};

struct ud_store {
	ud_store_base base; /* first */
	char *path;
	int lock_fd;
	int version;
	unsigned max_batch;
	unsigned busy_timeout_ms;
	int ckpt_busy_pages;  /* copy and restart a WAL of this many pages */
	ud_store_conn *wconn; /* the writer's; used only by the writer thread */
	pthread_t writer;
	bool writer_started;
	int wal_pages;     /* pages in the WAL (wal hook, writer thread) */
	int ckpt_pages;    /* of those, known copied into the database */
	int restart_after; /* no restart tried before the WAL has this many */
	bool ckpt_due;     /* a commit since the last checkpoint or copy */
	unsigned wal_gen;  /* the writer's count of WAL restarts */
	sqlite3 *copy_db;  /* the copier's connection */
	pthread_t copier;  /* copier_main */
	bool copier_started;
	/* under q.mu: the writer asks, the copier answers */
	pthread_cond_t copy_cv;
	bool copy_wanted;  /* a pass asked for and not begun */
	bool copying;      /* a pass asked for or running */
	bool copy_closing; /* the copier is to return */
	unsigned copy_gen; /* wal_gen when the pass was asked for */
	int copy_done;     /* frames its last pass left copied; -1: taken */
	unsigned idx_idle_ms;
	int64_t idx_pending;     /* an upper bound; 0: the index is complete */
	int64_t idx_unmerged;    /* users indexed since the last full merge */
	int64_t idx_merge_after; /* merge once idx_unmerged reaches this */
	int64_t quiet_since;     /* ms (monotonic) the last batch ended */

	ud_store_jobq q; /* its mu also guards stats */
	ud_store_counters stats;
	ud_store_config cfg; /* the caller's (changed, changed_arg) */
};

/* The store whose writer thread this is (NULL on other threads). */
static _Thread_local const ud_store *writer_of;

/* ------------------------------------------------------------------------
 * Errors
 */

static int
status_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			return UP_ALREADY_EXISTS;
		}
		return UP_INVALID_ARGUMENT; /* foreign key, not null, check */
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PROTOCOL:
	case SQLITE_INTERRUPT:
		return UP_UNAVAILABLE;
	default:
		return UP_INTERNAL;
	}
}

/* Translates rc, logging the database's message unless it is expected. */
static int
fail(sqlite3 *db, int rc, const char *what)
{
	if ((rc & 0xff) != SQLITE_CONSTRAINT) {
		fprintf(stderr, "usersd: store: %s: %s (%d)\n", what,
			db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
			rc);
	}
	return status_of(rc);
}

/* ------------------------------------------------------------------------
 * Connections
 */

static int
exec(sqlite3 *db, const char *sql, const char *what)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(db, rc, what);
}

static int
db_open(const char *path, bool writer, unsigned busy_ms, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE;
	char sql[128];
	int rc;

	flags |= writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
			: SQLITE_OPEN_READONLY;
	/* every connection by one VFS: the WAL written a commit at a time */
	rc = sqlite3_open_v2(path, &db, flags, ud_store_walbuf_vfs());
	if (rc != SQLITE_OK) {
		rc = fail(db, rc, "open");
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)busy_ms);
	if (writer) {
		sqlite3_stmt *s = NULL;
		bool wal = false;

		/* journal_mode answers with the mode now in force */
		rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &s,
					NULL);
		if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
			const unsigned char *m = sqlite3_column_text(s, 0);
			wal = m != NULL && strcmp((const char *)m, "wal") == 0;
		}
		sqlite3_finalize(s);
		if (!wal) {
			fprintf(stderr, "usersd: store: %s: cannot use WAL\n",
				path);
			rc = UP_UNAVAILABLE;
			goto out;
		}
		/*
		 * temp_store=MEMORY keeps the writer's savepoint journals
		 * (each job and each imported row is a savepoint: the old
		 * content of every page it changes) in memory: in a file,
		 * as by default, they were a 4 KiB pwrite a page changed,
		 * half of the writer's time during an import.
		 */
		snprintf(sql, sizeof(sql),
			 "PRAGMA synchronous=FULL;"
			 "PRAGMA foreign_keys=ON;"
			 "PRAGMA temp_store=MEMORY;"
			 "PRAGMA cache_size=-%d;",
			 WRITE_CACHE_KIB);
		if ((rc = exec(db, sql, "pragmas")) != 0) {
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0) {
		sqlite3_close(db);
		db = NULL;
	}
	*out = db;
	return rc;
}

static void
conn_free(ud_store_conn *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < S_COUNT; i++) {
		sqlite3_finalize(c->stmts[i]);
	}
	for (size_t i = 0; i <= F_USER_ALL; i++) {
		sqlite3_finalize(c->user_list[i]);
		sqlite3_finalize(c->user_count[i]);
		sqlite3_finalize(c->user_count_capped[i]);
	}
	for (size_t i = 0; i <= F_ORG_ALL; i++) {
		sqlite3_finalize(c->org_list[i]);
		sqlite3_finalize(c->org_count[i]);
	}
	for (size_t i = 0; i < USER_CACHE_N; i++) {
		ud_user_fini(&c->users[i].u);
	}
	ud_store_changes_fini(&c->chg);
	sqlite3_close(c->db);
	free(c);
}

static int
conn_new(ud_store *st, bool writer, ud_store_conn **out)
{
	ud_store_conn *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return UP_INTERNAL;
	}
	c->base.ops = &ud_store_sqlite_ops;
	c->st = st;
	c->writer = writer;
	c->users_version = -1;
	c->txn_version = -1;
	c->claim_rc = UP_NOT_FOUND;
	ud_store_changes_init(&c->chg, writer ? &st->cfg : NULL);
	if ((rc = db_open(st->path, writer, st->busy_timeout_ms, &c->db)) !=
	    0) {
		conn_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int
prepare(ud_store_conn *c, const char *sql, sqlite3_stmt **slot,
	sqlite3_stmt **out)
{
	int rc;

	if (*slot == NULL) {
		rc = sqlite3_prepare_v3(c->db, sql, -1,
					SQLITE_PREPARE_PERSISTENT, slot, NULL);
		if (rc != SQLITE_OK) {
			*out = NULL;
			return fail(c->db, rc, "prepare");
		}
	}
	*out = *slot;
	return 0;
}

static int
stmt(ud_store_conn *c, int id, sqlite3_stmt **out)
{
	return prepare(c, stmt_sql[id], &c->stmts[id], out);
}

static void
done_with(sqlite3_stmt *s)
{
	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

/* Runs a cached statement that returns no rows. */
static int
run(ud_store_conn *c, int id, const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = stmt(c, id, &s)) != 0) {
		return rc;
	}
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(c->db, rc, what);
	done_with(s);
	return rc;
}

/*
 * A read of several statements runs in one snapshot: on a reader in a read
 * transaction of its own, on the writer inside the batch's transaction.
 */
static int
read_begin(ud_store_conn *c, bool *began)
{
	int rc;

	*began = false;
	if (!sqlite3_get_autocommit(c->db)) {
		return 0;
	}
	if ((rc = run(c, S_BEGIN, "begin read")) == 0) {
		*began = true;
	}
	return rc;
}

static void
read_end(ud_store_conn *c, bool began)
{
	if (began && run(c, S_COMMIT, "end read") != 0) {
		(void)run(c, S_ROLLBACK, "end read");
	}
	if (began) {
		c->txn_version = -1;
	}
}

static int
sq_snapshot_begin(ud_store_conn *c)
{
	if (c->writer || c->snapshot) {
		return 0; /* the writer's reads are inside its transaction */
	}
	return read_begin(c, &c->snapshot);
}

static void
sq_snapshot_end(ud_store_conn *c)
{
	if (c->snapshot) {
		read_end(c, true);
		c->snapshot = false;
	}
}

/* One operation of several statements, atomic even if the caller goes on. */
static int
op_begin(ud_store_conn *c)
{
	if (!c->writer) {
		fprintf(stderr, "usersd: store: write on a read connection\n");
		return UP_INTERNAL;
	}
	return run(c, S_OP, "savepoint");
}

static int
op_end(ud_store_conn *c, int rc)
{
	if (rc != 0) {
		(void)run(c, S_OP_ROLLBACK, "rollback op");
	}
	int rc2 = run(c, S_OP_RELEASE, "release op");
	return rc != 0 ? rc : rc2;
}

/* ------------------------------------------------------------------------
 * Binding and reading
 */

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	int rc = v != NULL ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC)
			   : sqlite3_bind_null(s, i);

	return rc == SQLITE_OK ? 0 : status_of(rc);
}

static int
col_str(sqlite3_stmt *s, int i, char **out)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	*out = NULL;
	if (v == NULL) {
		return sqlite3_column_type(s, i) == SQLITE_NULL ? 0
								: UP_INTERNAL;
	}
	if ((*out = strdup((const char *)v)) == NULL) {
		return UP_INTERNAL;
	}
	return 0;
}

static int
user_from_row(sqlite3_stmt *s, ud_user *u)
{
	int rc;

	u->id = sqlite3_column_int64(s, 0);
	for (size_t i = 0; i < UD_USER_N_STR; i++) {
		if ((rc = col_str(s, (int)i + 1, ud_store_user_str(u, i))) !=
		    0) {
			return rc;
		}
	}
	u->email_confirmed = sqlite3_column_int(s, 12) != 0;
	u->phone_number_confirmed = sqlite3_column_int(s, 13) != 0;
	u->disabled = sqlite3_column_int(s, 14) != 0;
	u->activation_status = sqlite3_column_int(s, 15);
	u->manager_access = sqlite3_column_int(s, 16);
	u->created_at = sqlite3_column_int64(s, 17);
	u->updated_at = sqlite3_column_int64(s, 18);
	u->token_version = sqlite3_column_int64(s, 19);
	return 0;
}

/* Binds the columns ?1..?16 of the insert and update statements. */
static int
bind_user(sqlite3_stmt *s, ud_user *u)
{
	int rc = 0;

	for (size_t i = 0; i < UD_USER_N_STR && rc == 0; i++) {
		rc = bind_text(s, (int)i + 1, *ud_store_user_str(u, i));
	}
	if (rc != 0 || sqlite3_bind_int(s, 12, u->email_confirmed) ||
	    sqlite3_bind_int(s, 13, u->phone_number_confirmed) ||
	    sqlite3_bind_int(s, 14, u->disabled) ||
	    sqlite3_bind_int(s, 15, u->activation_status) ||
	    sqlite3_bind_int(s, 16, u->manager_access)) {
		return UP_INTERNAL;
	}
	return 0;
}

typedef struct org_ref {
	char *name;
	char *id;
} org_ref;

static int
org_ref_cmp(const void *a, const void *b)
{
	const org_ref *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	return d != 0 ? d : strcmp(x->id, y->id);
}

/*
 * Puts u's memberships in the order of ORDER BY o.name, o.id (BINARY, the
 * columns' collation; strcmp compares bytes alike). Sorted here: for an
 * ORDER BY over the join SQLite opens a sorter, and every sorter allocates
 * a page-sized buffer, on every read of every user.
 */
static int
orgs_sort(ud_user *u)
{
	org_ref small[16], *refs = small;
	size_t n = u->org_ids.n;

	if (n < 2) {
		return 0;
	}
	if (n > sizeof(small) / sizeof(small[0]) &&
	    (refs = malloc(n * sizeof(*refs))) == NULL) {
		return UP_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		refs[i].name = u->org_names.v[i];
		refs[i].id = u->org_ids.v[i];
	}
	qsort(refs, n, sizeof(*refs), org_ref_cmp);
	for (size_t i = 0; i < n; i++) {
		u->org_names.v[i] = refs[i].name;
		u->org_ids.v[i] = refs[i].id;
	}
	if (refs != small) {
		free(refs);
	}
	return 0;
}

static int
cmp_perm(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_role(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Roles, permissions and memberships of u->id (S_SETS); roles and
 * permissions sorted (byte order, as the tables' keys), organizations by
 * name then id (orgs_sort).
 */
static int
user_load_sets(ud_store_conn *c, ud_user *u)
{
	sqlite3_stmt *s = NULL;
	size_t cap = 0;
	int rc, step;

	if ((rc = stmt(c, S_SETS, &s)) != 0) {
		s = NULL;
		goto out;
	}
	sqlite3_bind_int64(s, 1, u->id);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 1);
		const char *name = (const char *)sqlite3_column_text(s, 2);
		bool ok = v != NULL;

		switch (sqlite3_column_int(s, 0)) {
		case 0:
			ok = ok && ud_strv_push(&u->roles, v) == 0;
			break;
		case 1:
			if (u->n_dashboard_permissions == cap) {
				size_t ncap = cap ? cap * 2 : 4;
				int32_t *p = realloc(u->dashboard_permissions,
						     ncap * sizeof(*p));
				if (p == NULL) {
					ok = false;
					break;
				}
				u->dashboard_permissions = p;
				cap = ncap;
			}
			u->dashboard_permissions[u->n_dashboard_permissions++] =
			    sqlite3_column_int(s, 1);
			break;
		case 2:
			ok = ok && name != NULL &&
			     ud_strv_push(&u->org_ids, v) == 0 &&
			     ud_strv_push(&u->org_names, name) == 0;
			break;
		default:
			ok = false;
		}
		if (!ok) {
			rc = UP_INTERNAL;
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		rc = fail(c->db, step, "user's sets");
		goto out;
	}
	if (u->roles.n > 1) {
		qsort(u->roles.v, u->roles.n, sizeof(*u->roles.v), cmp_role);
	}
	if (u->n_dashboard_permissions > 1) {
		qsort(u->dashboard_permissions, u->n_dashboard_permissions,
		      sizeof(*u->dashboard_permissions), cmp_perm);
	}
	rc = orgs_sort(u);
out:
	done_with(s);
	return rc;
}

/* One user by a cached statement with ?1 bound by the caller. */
static int
user_fetch(ud_store_conn *c, sqlite3_stmt *s, ud_user *out)
{
	ud_user u;
	bool began = false;
	int rc, step;

	ud_store_user_init(&u);
	if ((rc = read_begin(c, &began)) != 0) {
		goto out;
	}
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		rc = UP_NOT_FOUND;
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = fail(c->db, step, "user");
		goto out;
	}
	if ((rc = user_from_row(s, &u)) != 0) {
		goto out;
	}
	done_with(s);
	s = NULL;
	rc = user_load_sets(c, &u);
out:
	done_with(s);
	read_end(c, began);
	if (rc != 0) {
		ud_user_fini(&u);
	}
	*out = u;
	return rc;
}

/* ------------------------------------------------------------------------
 * Locking and migrations
 */

/*
 * The database holds password hashes and the request log: it is created
 * readable by its owner alone (SQLite gives the -wal and -shm files the
 * mode of the database), and one that others may read is named at start.
 */
static int
file_private(const char *path)
{
	struct stat sb;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		fprintf(stderr, "usersd: store: %s: %s\n", path,
			strerror(errno));
		return UP_UNAVAILABLE;
	}
	if (stat(path, &sb) == 0 && (sb.st_mode & 077) != 0) {
		fprintf(stderr,
			"usersd: store: warning: %s can be read by other "
			"users of this host (mode %03o); it holds password "
			"hashes: chmod 600 it\n",
			path, (unsigned)(sb.st_mode & 0777));
	}
	return 0;
}

static int
lock_take(const char *path, int *fd_out)
{
	char *lpath = NULL;
	size_t len = strlen(path) + sizeof(".lock");
	int fd = -1, rc;

	*fd_out = -1;
	if ((lpath = malloc(len)) == NULL) {
		rc = UP_INTERNAL;
		goto out;
	}
	snprintf(lpath, len, "%s.lock", path);
	if ((fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "usersd: store: %s: %s\n", lpath,
			strerror(errno));
		rc = UP_UNAVAILABLE;
		goto out;
	}
	/* flock: per open file, so a second open in this process fails too */
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR) {
			continue;
		}
		if (errno == EWOULDBLOCK) {
			fprintf(stderr, "usersd: store: %s is in use\n", path);
			rc = UP_FAILED_PRECONDITION;
		} else {
			fprintf(stderr, "usersd: store: lock %s: %s\n", lpath,
				strerror(errno));
			rc = UP_UNAVAILABLE;
		}
		goto out;
	}
	*fd_out = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	free(lpath);
	return rc;
}

static int
version_applied(sqlite3 *db, int v, bool *applied)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db,
				"SELECT 1 FROM schema_migrations"
				" WHERE version = ?1",
				-1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(db, rc, "migrations");
		goto out;
	}
	sqlite3_bind_int(s, 1, v);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = fail(db, rc, "migrations");
		goto out;
	}
	*applied = rc == SQLITE_ROW;
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static int
max_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db,
				"SELECT COALESCE(MAX(version), 0)"
				" FROM schema_migrations",
				-1, &s, NULL);
	if (rc != SQLITE_OK || (rc = sqlite3_step(s)) != SQLITE_ROW) {
		rc = fail(db, rc, "schema version");
		goto out;
	}
	*out = sqlite3_column_int(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static int
apply(sqlite3 *db, int v)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = exec(db, "BEGIN IMMEDIATE", "migration")) != 0) {
		return rc;
	}
	if ((rc = exec(db, migrations[v - 1], "migration")) != 0) {
		goto out;
	}
	rc = sqlite3_prepare_v2(db,
				"INSERT INTO schema_migrations"
				" (version, applied_at) VALUES (?1, ?2)",
				-1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(db, rc, "migration");
		goto out;
	}
	sqlite3_bind_int(s, 1, v);
	sqlite3_bind_int64(s, 2, ud_now_ms());
	if ((rc = sqlite3_step(s)) != SQLITE_DONE) {
		rc = fail(db, rc, "migration");
		goto out;
	}
	rc = exec(db, "COMMIT", "migration");
out:
	sqlite3_finalize(s);
	if (rc != 0) {
		fprintf(stderr, "usersd: store: migration %d failed\n", v);
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	return rc;
}

/* Applies the migrations up to target that are not yet recorded. */
static int
migrate(sqlite3 *db, int target, int *version)
{
	int rc, have = 0;

	rc = exec(db,
		  "CREATE TABLE IF NOT EXISTS schema_migrations ("
		  " version INTEGER PRIMARY KEY,"
		  " applied_at INTEGER NOT NULL)",
		  "migrations table");
	if (rc != 0 || (rc = max_version(db, &have)) != 0) {
		return rc;
	}
	if (have > N_MIGRATIONS) {
		fprintf(stderr,
			"usersd: store: schema version %d is newer than this"
			" program's %d\n",
			have, N_MIGRATIONS);
		return UP_FAILED_PRECONDITION;
	}
	for (int v = 1; v <= target; v++) {
		bool applied = false;
		if ((rc = version_applied(db, v, &applied)) != 0) {
			return rc;
		}
		if (!applied && (rc = apply(db, v)) != 0) {
			return rc;
		}
	}
	return max_version(db, version);
}

/* ------------------------------------------------------------------------
 * The writer thread
 */

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	ud_store *st = arg;

	if (pages < st->wal_pages) {
		st->ckpt_pages = 0; /* the WAL restarted from its start */
		st->restart_after = 0;
		st->wal_gen++; /* a copier's pass of before is void */
	}
	st->wal_pages = pages;
	st->ckpt_due = true;
	return SQLITE_OK;
}

/*
 * Frames not copied that the writer's restart may copy itself (a
 * millisecond or so); with more, the copier is asked first, unless the
 * WAL is a quarter over wal_pages.
 */
static int
restart_pages(const ud_store *st)
{
	return st->ckpt_busy_pages >= RESTART_SHARE
		   ? st->ckpt_busy_pages / RESTART_SHARE
		   : 1;
}

/*
 * The checkpoint's busy handler: readers let go within a call, so the
 * writer looks again every CKPT_POLL_US, where SQLite's own handler
 * would sleep a millisecond and more between two looks.
 */
static int
ckpt_busy(void *arg, int tries)
{
	const int64_t *deadline = arg;
	struct timespec ts = {0, CKPT_POLL_US * 1000L};

	(void)tries;
	if (up_mono_ms() >= *deadline) {
		return 0;
	}
	(void)nanosleep(&ts, NULL);
	return 1;
}

/*
 * Copies what is left of the WAL back into the database (the copier has
 * done most of it) and, when no reader still needs it, lets the next
 * commit start the WAL again from its beginning (RESTART). Readers never
 * stop, so PASSIVE checkpoints alone would leave the WAL growing for as
 * long as the load lasts: every commit would then extend the file, and an
 * fsync that must also journal the new size costs several times more
 * than one over blocks already allocated. The wait for readers is short
 * (they hold a snapshot for one call) and bounded.
 */
static void
checkpoint(ud_store *st)
{
	int64_t deadline = up_mono_ms() + CKPT_WAIT_MS;
	int log = 0, done = 0, rc;

	st->ckpt_due = false;
	sqlite3_busy_handler(st->wconn->db, ckpt_busy, &deadline);
	rc = sqlite3_wal_checkpoint_v2(st->wconn->db, NULL,
				       SQLITE_CHECKPOINT_RESTART, &log, &done);
	sqlite3_busy_timeout(st->wconn->db, (int)st->busy_timeout_ms);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		(void)fail(st->wconn->db, rc, "checkpoint");
		return;
	}
	if (rc == SQLITE_OK && log >= 0 && done == log) {
		/* everything is back in the database; the WAL restarts */
		st->wal_pages = 0;
		st->ckpt_pages = 0;
		st->restart_after = 0;
		st->wal_gen++;
	} else {
		if (log >= 0) {
			st->wal_pages = log;
			st->ckpt_pages = done > 0 ? done : 0;
		}
		/*
		 * Readers held it back: not again at every batch (each try
		 * waits up to CKPT_WAIT_MS), only once the WAL has grown by
		 * what a restart may copy.
		 */
		st->restart_after = st->wal_pages + restart_pages(st);
	}
	pthread_mutex_lock(&st->q.mu);
	st->stats.checkpoints++;
	pthread_mutex_unlock(&st->q.mu);
}

/*
 * A PASSIVE checkpoint that did not reach the end of the WAL (the writer
 * committed meanwhile, as it does under load) leaves the pages it copied
 * unsynced: SQLite syncs the database only when a checkpoint copies the
 * last frame, which under load is the writer's restart, and that restart
 * then paid for the fsync of every page the copier had written (8 to 11
 * ms a restart, measured). So the copier syncs them itself, through the
 * database file of its connection (never a descriptor of our own: a
 * close of another descriptor of the file would drop SQLite's locks).
 */
static void
copy_sync(ud_store *st)
{
	sqlite3_file *f = NULL;
	int rc;

	if (sqlite3_file_control(st->copy_db, "main", SQLITE_FCNTL_FILE_POINTER,
				 &f) != SQLITE_OK ||
	    f == NULL || f->pMethods == NULL) {
		return;
	}
	if ((rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL)) != SQLITE_OK) {
		(void)fail(NULL, rc, "sync the copied pages");
	}
}

/* The copier's thread: a PASSIVE checkpoint each time it is asked. */
static void *
copier_main(void *arg)
{
	ud_store *st = arg;
	int last_log = 0, last_done = 0; /* of the last pass */

	up_thread_name("ud-copier");

	pthread_mutex_lock(&st->q.mu);
	for (;;) {
		int log = -1, done = -1, rc;

		while (!st->copy_wanted && !st->copy_closing) {
			pthread_cond_wait(&st->copy_cv, &st->q.mu);
		}
		if (st->copy_closing) {
			break;
		}
		st->copy_wanted = false;
		pthread_mutex_unlock(&st->q.mu);

		rc = sqlite3_wal_checkpoint_v2(
		    st->copy_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
			(void)fail(st->copy_db, rc, "copy the WAL");
		}
		if (rc == SQLITE_OK && log >= 0 && done >= 0) {
			/*
			 * Synced when this pass copied pages (done counts
			 * all the WAL's copied frames). Even when it copied
			 * all it saw (done == log): SQLite syncs only when
			 * no commit came during the pass.
			 */
			if (log < last_log || done < last_done) {
				last_done = 0; /* the WAL started again */
			}
			if (done > last_done) {
				copy_sync(st);
			}
			last_log = log;
			last_done = done;
		}

		pthread_mutex_lock(&st->q.mu);
		st->copying = false;
		if (rc == SQLITE_OK && done >= 0) {
			st->copy_done = done;
			st->stats.copies++;
		}
		/* an idle writer waits on q.cv: it looks at the pass again */
		pthread_cond_broadcast(&st->q.cv);
	}
	pthread_mutex_unlock(&st->q.mu);
	return NULL;
}

/*
 * With q.mu held, on the writer's thread: takes the copier's last pass
 * into the writer's count, unless the WAL restarted since it was asked.
 */
static void
copy_collect(ud_store *st)
{
	if (st->copy_done >= 0 && st->copy_gen == st->wal_gen &&
	    st->copy_done > st->ckpt_pages) {
		st->ckpt_pages = st->copy_done < st->wal_pages ? st->copy_done
							       : st->wal_pages;
	}
	st->copy_done = -1;
}

/*
 * With q.mu held, on the writer's thread, between two of its
 * transactions: asks the copier for a pass. Only while the WAL holds
 * frames not yet copied, so that no commit of the writer can start the
 * WAL again while the pass begins (a commit restarts it only once all of
 * it is copied, and only the copier's pass copies): a checkpoint that
 * starts while another connection's commit restarts the WAL is a race
 * SQLite fixed only in 3.51.3, and Debian 12's is 3.40.
 */
static void
copy_ask(ud_store *st)
{
	if (st->wal_pages <= st->ckpt_pages) {
		return;
	}
	st->ckpt_due = false; /* the next commit sets it again */
	st->copying = st->copy_wanted = true;
	st->copy_gen = st->wal_gen;
	pthread_cond_signal(&st->copy_cv);
}

/*
 * After a commit, on the writer's thread. Once the WAL holds wal_pages,
 * the copier is asked for a pass, then the writer restarts the WAL when
 * only a few frames are left to copy (those committed during the pass).
 * Past a quarter more (readers held the copier back, or it could not
 * keep up) the writer restarts it whatever is left, as it did before the
 * copier: the WAL stays within its limit (wal_limit). True when the
 * writer is to checkpoint (outside q.mu).
 */
static bool
copy_or_restart(ud_store *st)
{
	bool restart = false;
	int behind;

	pthread_mutex_lock(&st->q.mu);
	copy_collect(st);
	behind = st->wal_pages - st->ckpt_pages;
	if (st->ckpt_due && !st->copying) {
		bool restart_due = st->wal_pages >= st->ckpt_busy_pages &&
				   st->wal_pages >= st->restart_after;

		if (restart_due &&
		    (behind < restart_pages(st) ||
		     st->wal_pages >=
			 st->ckpt_busy_pages + st->ckpt_busy_pages / 4)) {
			restart = true;
		} else if (restart_due) {
			copy_ask(st);
		}
	}
	pthread_mutex_unlock(&st->q.mu);
	return restart;
}

/* After a commit of the writer (a batch, or idle index work). */
static void
after_commit(ud_store *st)
{
	if (copy_or_restart(st)) {
		checkpoint(st);
	}
}

/* Runs one batch in one transaction; sets every job's rc. */
static bool
run_batch(ud_store *st, ud_store_job *batch)
{
	ud_store_conn *c = st->wconn;

	/* cached statements, as every other: no parse per batch */
	if (run(c, S_BEGIN_WRITE, "begin") != 0) {
		return false;
	}
	for (ud_store_job *j = batch; j != NULL; j = j->next) {
		if (run(c, S_SP, "savepoint") != 0) {
			goto abort;
		}
		c->claim_rc = UP_NOT_FOUND;
		j->rc = j->fn(c, j->arg);
		if (sqlite3_get_autocommit(c->db)) {
			/* SQLite rolled the whole transaction back */
			fprintf(stderr, "usersd: store: transaction lost\n");
			return false;
		}
		if (j->rc != 0 && run(c, S_SP_ROLLBACK, "rollback") != 0) {
			goto abort;
		}
		if (run(c, S_SP_RELEASE, "release") != 0) {
			goto abort;
		}
	}
	if (run(c, S_COMMIT, "commit") == 0) {
		return true;
	}
abort:
	if (!sqlite3_get_autocommit(c->db)) {
		(void)run(c, S_ROLLBACK, "rollback");
	}
	return false;
}

/*
 * Brings the index entries of up to limit pending users up to date, in the
 * open transaction: forgets what the index holds for them (the values the
 * pending row kept), adds what their rows hold now (nothing for a deleted
 * user), and ends their pending rows; how many into *done.
 */
static int
index_apply(ud_store_conn *c, int64_t limit, int64_t *done)
{
	sqlite3_stmt *s = NULL;
	int64_t last;
	int rc, step;

	*done = 0;
	if ((rc = stmt(c, S_IDX_LAST, &s)) != 0) {
		return rc;
	}
	sqlite3_bind_int64(s, 1, limit);
	if ((step = sqlite3_step(s)) != SQLITE_ROW) {
		rc = fail(c->db, step, "index");
		done_with(s);
		return rc;
	}
	if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
		done_with(s);
		return 0; /* nothing pending */
	}
	last = sqlite3_column_int64(s, 0);
	done_with(s);
	for (int id = S_IDX_FORGET; id <= S_IDX_DONE; id++) {
		if ((rc = stmt(c, id, &s)) != 0) {
			return rc;
		}
		sqlite3_bind_int64(s, 1, last);
		step = sqlite3_step(s);
		rc = step == SQLITE_DONE ? 0 : fail(c->db, step, "index");
		if (rc == 0 && id == S_IDX_DONE) {
			*done = sqlite3_changes64(c->db);
		}
		done_with(s);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* What the writer knows of the pending users, into the counters. */
static void
index_note(ud_store *st, int64_t done)
{
	st->idx_unmerged += done;
	pthread_mutex_lock(&st->q.mu);
	st->stats.index_rows += (uint64_t)done;
	st->stats.index_pending = (uint64_t)st->idx_pending;
	st->stats.index_merging = st->idx_unmerged >= st->idx_merge_after;
	pthread_mutex_unlock(&st->q.mu);
}

/* One transaction of index_apply on the writer, between batches. */
static void
index_step(ud_store *st, int64_t limit)
{
	ud_store_conn *c = st->wconn;
	int64_t done = 0;

	if (run(c, S_BEGIN_WRITE, "begin") != 0) {
		return;
	}
	if (index_apply(c, limit, &done) != 0 ||
	    run(c, S_COMMIT, "commit") != 0) {
		if (!sqlite3_get_autocommit(c->db)) {
			(void)run(c, S_ROLLBACK, "rollback");
		}
		st->quiet_since = up_mono_ms(); /* not again at once */
		return;
	}
	if (done < limit) {
		st->idx_pending = 0; /* that was the last of them */
	} else {
		st->idx_pending =
		    st->idx_pending - done > 1 ? st->idx_pending - done : 1;
	}
	index_note(st, done);
}

/*
 * After a committed batch that changed rows (counted into idx_pending):
 * past the bound, the exact count of pending users, and as many of them
 * as bring it back under the bound by a chunk.
 */
static void
index_busy(ud_store *st)
{
	sqlite3_stmt *s = NULL;

	if (st->idx_pending <= IDX_PENDING_MAX ||
	    stmt(st->wconn, S_IDX_COUNT, &s) != 0) {
		return;
	}
	if (sqlite3_step(s) == SQLITE_ROW) {
		st->idx_pending = sqlite3_column_int64(s, 0);
	}
	done_with(s);
	if (st->idx_pending > IDX_PENDING_MAX) {
		index_step(st, st->idx_pending - IDX_PENDING_MAX + IDX_CHUNK);
	} else {
		index_note(st, 0);
	}
}

/*
 * One step of the idle writer's full merge of the index (see
 * IDX_MERGE_MIN): FTS5's 'merge' with a negative page count merges all
 * segments, as 'optimize' does, but stops after that many pages; the next
 * step goes on with it. A step that changes nothing ends the merge.
 */
static void
index_merge_step(ud_store *st)
{
	ud_store_conn *c = st->wconn;
	sqlite3_stmt *s = NULL;
	int64_t changes;
	int step;

	if (run(c, S_BEGIN_WRITE, "begin") != 0) {
		st->quiet_since = up_mono_ms(); /* not again at once */
		return;
	}
	changes = sqlite3_total_changes64(c->db);
	if (stmt(c, S_IDX_MERGE, &s) != 0) {
		goto fail;
	}
	sqlite3_bind_int(s, 1, IDX_MERGE_PAGES);
	step = sqlite3_step(s);
	done_with(s);
	if (step != SQLITE_DONE) {
		(void)fail(c->db, step, "index merge");
		goto fail;
	}
	changes = sqlite3_total_changes64(c->db) - changes;
	if (run(c, S_COMMIT, "commit") != 0) {
		goto fail;
	}
	if (changes < 2) { /* FTS5's sign of a merge with nothing to do */
		st->idx_unmerged = 0;
		st->idx_merge_after = IDX_MERGE_MIN;
		if (stmt(c, S_IDX_USERS, &s) == 0) {
			if (sqlite3_step(s) == SQLITE_ROW &&
			    sqlite3_column_int64(s, 0) / 16 > IDX_MERGE_MIN) {
				st->idx_merge_after =
				    sqlite3_column_int64(s, 0) / 16;
			}
			done_with(s);
		}
	}
	index_note(st, 0);
	return;
fail:
	if (!sqlite3_get_autocommit(c->db)) {
		(void)run(c, S_ROLLBACK, "rollback");
	}
	st->quiet_since = up_mono_ms();
}

/* A write of ud_store_index_sync: every pending user, chunk by chunk. */
static int
index_all(ud_store_conn *c, void *arg)
{
	int64_t done, total = 0;
	int rc;

	(void)arg;
	do {
		if ((rc = index_apply(c, IDX_CHUNK, &done)) != 0) {
			return rc;
		}
		total += done;
	} while (done == IDX_CHUNK);
	c->st->idx_unmerged += total;
	pthread_mutex_lock(&c->st->q.mu);
	c->st->stats.index_rows += (uint64_t)total;
	pthread_mutex_unlock(&c->st->q.mu);
	return 0;
}

static int
sq_index_sync(ud_store *st)
{
	return ud_store_write_sync(st, index_all, NULL);
}

/* The backlog an idle writer checkpoints past: an eighth of the busy one. */
static int
idle_pages(const ud_store *st)
{
	return st->ckpt_busy_pages >= 8 ? st->ckpt_busy_pages / 8 : 1;
}

static void *
writer_main(void *arg)
{
	ud_store *st = arg;

	up_thread_name("ud-writer");

	writer_of = st;
	pthread_mutex_lock(&st->q.mu);
	for (;;) {
		ud_store_job *batch;
		struct timespec t0, t1;
		int64_t changes;
		size_t n;
		bool ok;

		while (st->q.head == NULL && !st->q.closing) {
			/* idle for a moment, not between two batches */
			int64_t quiet = up_mono_ms() - st->quiet_since;
			int64_t wait = -1;
			bool ckpt, merge;

			copy_collect(st);
			ckpt = st->ckpt_due && !st->copying &&
			       st->wal_pages - st->ckpt_pages >= idle_pages(st);
			merge = st->idx_pending == 0 &&
				st->idx_unmerged >= st->idx_merge_after;
			if (ckpt && quiet >= CKPT_IDLE_MS) {
				copy_ask(st); /* the copier's, as busy */
				continue;
			}
			if (st->idx_pending > 0 && quiet >= st->idx_idle_ms) {
				pthread_mutex_unlock(&st->q.mu);
				index_step(st, IDX_CHUNK);
				after_commit(st);
				pthread_mutex_lock(&st->q.mu);
				continue;
			}
			if (merge && quiet >= st->idx_idle_ms) {
				pthread_mutex_unlock(&st->q.mu);
				index_merge_step(st);
				after_commit(st);
				pthread_mutex_lock(&st->q.mu);
				continue;
			}
			if (ckpt) {
				wait = CKPT_IDLE_MS - quiet;
			}
			if ((st->idx_pending > 0 || merge) &&
			    (wait < 0 || st->idx_idle_ms - quiet < wait)) {
				wait = st->idx_idle_ms - quiet;
			}
			if (wait < 0) {
				pthread_cond_wait(&st->q.cv, &st->q.mu);
			} else {
				(void)ud_store_jobq_wait_ms(&st->q,
							    (unsigned)wait);
			}
		}
		if (st->q.head == NULL) {
			break; /* closing and drained */
		}
		batch = ud_store_jobq_take(&st->q, st->max_batch, &n);
		pthread_mutex_unlock(&st->q.mu);

		changes = sqlite3_total_changes64(st->wconn->db);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = run_batch(st, batch);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		changes = sqlite3_total_changes64(st->wconn->db) - changes;

		pthread_mutex_lock(&st->q.mu);
		st->stats.batch_ns +=
		    (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
			       (t1.tv_nsec - t0.tv_nsec));
		st->stats.writes += n;
		if (ok) {
			st->stats.commits++;
		} else {
			st->stats.commit_failures++;
		}
		if (n > st->stats.largest_batch) {
			st->stats.largest_batch = n;
		}
		if (ok && changes > 0) {
			/* every row changed counts, searched or not */
			st->idx_pending += changes;
			st->stats.index_pending = (uint64_t)st->idx_pending;
		}
		pthread_mutex_unlock(&st->q.mu);

		if (!ok) {
			for (ud_store_job *j = batch; j != NULL; j = j->next) {
				j->rc = UP_UNAVAILABLE;
			}
			ud_store_changes_clear(&st->wconn->chg);
		} else {
			/* durable now; told before any write of it is answered
			 */
			ud_store_changes_report(&st->wconn->chg);
		}
		/*
		 * Answered here, before the next batch: a thread of their
		 * own would cost a wake-up (and a switch) for every commit,
		 * and the answers are short work beside the commit's fsync.
		 */
		ud_store_jobs_answer(batch, st->cfg.answers,
				     st->cfg.answers_arg);
		if (ok && changes > 0) {
			index_busy(st);
		}
		after_commit(st);
		st->quiet_since = up_mono_ms();
		pthread_mutex_lock(&st->q.mu);
	}
	pthread_mutex_unlock(&st->q.mu);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Open and close
 */

static void
store_free(ud_store *st)
{
	/* the copier's first, so the writer's is the last to close */
	sqlite3_close(st->copy_db);
	pthread_cond_destroy(&st->copy_cv);
	conn_free(st->wconn);
	if (st->lock_fd >= 0) {
		close(st->lock_fd); /* releases the lock */
	}
	ud_store_jobq_fini(&st->q);
	free(st->path);
	free(st);
}

/*
 * The size a restarted WAL is cut back to: above what a busy writer lets it
 * grow to (4 KiB pages and their frame headers, and half as much again for
 * a checkpoint that readers held back), so the file keeps its blocks and a
 * commit's fsync does not also have to record a new size.
 */
static int
wal_limit(ud_store *st)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit=%lld",
		 (long long)st->ckpt_busy_pages * 3 / 2 * (4096 + 24));
	return exec(st->wconn->db, sql, "pragmas");
}

static int
store_new(const char *path, const ud_store_config *cfg, int target,
	  ud_store **out)
{
	ud_store *st;
	int rc;

	*out = NULL;
	if (path == NULL || *path == '\0') {
		return UP_INVALID_ARGUMENT;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		return UP_INTERNAL;
	}
	st->base.ops = &ud_store_sqlite_ops;
	st->lock_fd = -1;
	if (cfg != NULL) {
		st->cfg = *cfg;
	}
	st->max_batch = cfg != NULL && cfg->max_batch ? cfg->max_batch : 256;
	st->busy_timeout_ms =
	    cfg != NULL && cfg->busy_timeout_ms ? cfg->busy_timeout_ms : 5000;
	st->ckpt_busy_pages =
	    cfg != NULL && cfg->wal_pages > 0 && cfg->wal_pages <= INT_MAX / 8
		? (int)cfg->wal_pages
		: CKPT_PAGES_DEFAULT;
	st->idx_idle_ms = cfg != NULL && cfg->index_idle_ms > 0
			      ? cfg->index_idle_ms
			      : IDX_IDLE_MS;
	st->copy_done = -1;
	ud_store_jobq_init(&st->q);
	pthread_cond_init(&st->copy_cv, NULL);
	if ((st->path = strdup(path)) == NULL) {
		rc = UP_INTERNAL;
		goto out;
	}
	if ((rc = lock_take(path, &st->lock_fd)) != 0 ||
	    (rc = file_private(path)) != 0 ||
	    (rc = conn_new(st, true, &st->wconn)) != 0 ||
	    (rc = wal_limit(st)) != 0 ||
	    (rc = migrate(st->wconn->db, target, &st->version)) != 0) {
		goto out;
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

/*
 * SQLite's process-wide settings, once, before its first connection: no
 * memory statistics. With them (SQLite's default) every allocation of
 * every connection takes one global mutex, for counters nothing reads:
 * the writer and the readers then queue on it, on every statement.
 */
static void
sqlite_settings(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Ends the copier's thread, after its pass if one is running. */
static void
copier_stop(ud_store *st)
{
	if (!st->copier_started) {
		return;
	}
	pthread_mutex_lock(&st->q.mu);
	st->copy_closing = true;
	pthread_cond_signal(&st->copy_cv);
	pthread_mutex_unlock(&st->q.mu);
	pthread_join(st->copier, NULL);
	st->copier_started = false;
}

static int
sq_open(ud_store **out, const char *path, const ud_store_config *cfg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	ud_store *st;
	int rc;

	*out = NULL;
	pthread_once(&once, sqlite_settings);
	if ((rc = store_new(path, cfg, N_MIGRATIONS, &st)) != 0) {
		return rc;
	}
	/* the writer checkpoints off the commit path: count pages only */
	sqlite3_wal_hook(st->wconn->db, wal_hook, st);
	st->idx_pending = 1; /* a last run may have left some: look */
	st->stats.index_pending = 1;
	/* and its index may be in many segments: merge when idle (a merge
	 * with nothing to do is one step) */
	st->idx_unmerged = st->idx_merge_after = IDX_MERGE_MIN;
	st->stats.index_merging = 1;
	if ((rc = db_open(path, true, st->busy_timeout_ms, &st->copy_db)) !=
		0 ||
	    pthread_create(&st->copier, NULL, copier_main, st) != 0) {
		store_free(st);
		return rc != 0 ? rc : UP_INTERNAL;
	}
	st->copier_started = true;
	if (pthread_create(&st->writer, NULL, writer_main, st) != 0) {
		copier_stop(st);
		store_free(st);
		return UP_INTERNAL;
	}
	st->writer_started = true;
	*out = st;
	return 0;
}

static int
sq_migrate(const char *path, int target_version)
{
	ud_store *st;
	int rc;

	if (target_version <= 0 || target_version > N_MIGRATIONS) {
		target_version = N_MIGRATIONS;
	}
	if ((rc = store_new(path, NULL, target_version, &st)) != 0) {
		return rc;
	}
	store_free(st);
	return 0;
}

static int
sq_schema_latest(void)
{
	return N_MIGRATIONS;
}

static void
sq_close(ud_store *st)
{
	if (st == NULL) {
		return;
	}
	ud_store_jobq_close(&st->q);
	if (st->writer_started) {
		pthread_join(st->writer, NULL); /* answers the last batch */
	}
	copier_stop(st);
	store_free(st);
}

static int
sq_schema_version(ud_store *st)
{
	return st->version;
}

static void
sq_stats(ud_store *st, ud_store_counters *out)
{
	pthread_mutex_lock(&st->q.mu);
	*out = st->stats;
	out->queued = st->q.queued;
	pthread_mutex_unlock(&st->q.mu);
}

static int
sq_reader_open(ud_store *st, ud_store_conn **out)
{
	return conn_new(st, false, out);
}

static void
sq_reader_close(ud_store_conn *c)
{
	if (c != NULL && !c->writer) {
		conn_free(c);
	}
}

/* ------------------------------------------------------------------------
 * Queueing writes
 */

static int
sq_write(ud_store *st, ud_store_write_fn fn, ud_store_done_fn done, void *arg,
	 const ud_store_hint *hint)
{
	return ud_store_jobq_push(&st->q, fn, done, arg, hint);
}

static bool
sq_on_writer(ud_store *st)
{
	return writer_of == st;
}

/* ------------------------------------------------------------------------
 * Reads
 */

/*
 * The data version of the reader's open read transaction (which it starts,
 * if it has not): equal versions in two read transactions mean nobody
 * committed in between, so both see the same data.
 */
static int
txn_version(ud_store_conn *c, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	if (sqlite3_get_autocommit(c->db)) {
		c->txn_version = -1; /* no transaction: nothing to go by */
		return UP_INTERNAL;
	}
	if (c->txn_version < 0) {
		if ((rc = stmt(c, S_DATA_VERSION, &s)) != 0) {
			return rc;
		}
		if ((step = sqlite3_step(s)) != SQLITE_ROW) {
			rc = fail(c->db, step, "data version");
			done_with(s);
			return rc;
		}
		c->txn_version = sqlite3_column_int64(s, 0);
		done_with(s);
	}
	*out = c->txn_version;
	return 0;
}

/* The cached copy of user id, if the cache holds it at version v. */
static struct cached_user *
cache_find(ud_store_conn *c, int64_t v, int64_t id)
{
	if (v != c->users_version) {
		for (size_t i = 0; i < USER_CACHE_N; i++) {
			ud_user_fini(&c->users[i].u); /* id 0: free */
		}
		c->users_version = v;
		return NULL;
	}
	for (size_t i = 0; i < USER_CACHE_N; i++) {
		if (c->users[i].u.id == id) {
			return &c->users[i];
		}
	}
	return NULL;
}

/* Keeps a copy of u in the least recently used slot (or none: a cache). */
static void
cache_keep(ud_store_conn *c, const ud_user *u)
{
	struct cached_user *e = &c->users[0];

	for (size_t i = 1; i < USER_CACHE_N; i++) {
		if (c->users[i].used < e->used) {
			e = &c->users[i];
		}
	}
	ud_user_fini(&e->u);
	if (ud_store_user_copy(&e->u, u) == 0) {
		e->used = ++c->ticks;
	}
}

/*
 * A reader keeps the last few users it read (a call reads its caller, and
 * usually the same one as the call before): one is answered from there
 * when no commit came in between, known by the read transaction's data
 * version, so the copy is exactly what the read would give. The writer's
 * reads are inside its own writes and are never cached.
 */
static int
sq_user_get(ud_store_conn *c, int64_t id, ud_user *out)
{
	sqlite3_stmt *s = NULL;
	struct cached_user *e = NULL;
	bool began = false, cached = false;
	int64_t v = 0;
	int rc;

	ud_store_user_init(out);
	if ((rc = stmt(c, S_USER_GET, &s)) != 0) {
		return rc;
	}
	if (!c->writer) {
		if ((rc = read_begin(c, &began)) != 0) {
			return rc;
		}
		cached = txn_version(c, &v) == 0;
		if (cached && (e = cache_find(c, v, id)) != NULL) {
			rc = ud_store_user_copy(out, &e->u);
			e->used = ++c->ticks;
			read_end(c, began);
			return rc;
		}
	}
	sqlite3_bind_int64(s, 1, id);
	rc = user_fetch(c, s, out);
	if (rc == 0 && cached) {
		cache_keep(c, out);
	}
	read_end(c, began);
	return rc;
}

/*
 * A check of a kept user: this store keeps no revision, so the verdict is
 * the user as stored, always "changed" (a read in the process, as cheap
 * as the check would be).
 */
static int
sq_user_check(ud_store_conn *c, int64_t id, int64_t rev)
{
	(void)rev;
	if (c->check_id != 0 || id == 0) {
		return UP_INTERNAL;
	}
	c->check_id = id;
	return 0;
}

static int
sq_user_check_end(ud_store_conn *c, ud_user *out)
{
	int64_t id = c->check_id;
	int rc;

	if (id == 0) {
		return UP_INTERNAL;
	}
	c->check_id = 0;
	rc = sq_user_get(c, id, out);
	return rc == 0 ? UD_STORE_CHANGED : rc;
}

static int
sq_user_by_email(ud_store_conn *c, const char *email, ud_user *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	ud_store_user_init(out);
	if (email == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	if ((rc = stmt(c, S_USER_BY_EMAIL, &s)) != 0) {
		return rc;
	}
	if ((rc = bind_text(s, 1, email)) != 0) {
		done_with(s);
		return rc;
	}
	return user_fetch(c, s, out);
}

static int64_t
sq_user_count(ud_store_conn *c)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;
	int rc;

	if (stmt(c, S_USER_COUNT, &s) != 0) {
		return -1;
	}
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n = sqlite3_column_int64(s, 0);
	} else {
		(void)fail(c->db, rc, "count");
	}
	done_with(s);
	return n;
}

static int
sq_role_holders(ud_store_conn *c, const char *role, int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*n = 0;
	if ((rc = stmt(c, S_ROLE_HOLDERS, &s)) != 0 ||
	    (rc = bind_text(s, 1, role)) != 0) {
		done_with(s);
		return rc;
	}
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*n = sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		rc = fail(c->db, rc, "role holders");
	}
	done_with(s);
	return rc;
}

/* A JSON array of the strings, for json_each(). */
static int
json_array(const ud_strv *sv, char **out)
{
	size_t cap = 2 + 1, j = 0;
	char *p;

	*out = NULL;
	if (sv->n > UD_STORE_SET_MAX) {
		return UP_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < sv->n; i++) {
		size_t len = strlen(sv->v[i]);
		if (len > UD_STORE_FILTER_MAX) {
			return UP_INVALID_ARGUMENT;
		}
		cap += 6 * len + 3; /* worst case: every byte as \u00XX */
	}
	if ((p = malloc(cap)) == NULL) {
		return UP_INTERNAL;
	}
	p[j++] = '[';
	for (size_t i = 0; i < sv->n; i++) {
		if (i > 0) {
			p[j++] = ',';
		}
		p[j++] = '"';
		for (const unsigned char *s = (const unsigned char *)sv->v[i];
		     *s != '\0'; s++) {
			if (*s == '"' || *s == '\\') {
				p[j++] = '\\';
				p[j++] = (char)*s;
			} else if (*s < 0x20) {
				j += (size_t)snprintf(p + j, cap - j, "\\u%04x",
						      *s);
			} else {
				p[j++] = (char)*s;
			}
		}
		p[j++] = '"';
	}
	p[j++] = ']';
	p[j] = '\0';
	*out = p;
	return 0;
}

/* Appends to a fixed buffer; the callers' buffers hold every combination. */
static void
append(char *buf, size_t cap, const char *s)
{
	size_t len = strlen(buf);

	snprintf(buf + len, cap - len, "%s", s);
}

/*
 * The statements of a filter combination: the page, the exact count and
 * the count that stops at ?8 matches. ?9 is the keyset's last id. The
 * filters name users' columns in full: the search's statements join
 * users to tables with columns of the same names.
 */
static int
user_list_stmts(ud_store_conn *c, unsigned mask, sqlite3_stmt **list,
		sqlite3_stmt **count, sqlite3_stmt **capped)
{
	char where[1536] = "", like[256] = "", arms[4096];
	char sql[6144];
	int rc;

	if (mask & F_EMAIL) {
		append(where, sizeof(where),
		       " AND users.email LIKE ?1 ESCAPE '\\'");
	}
	if (mask & F_NAME) {
		append(where, sizeof(where),
		       " AND (users.first_name LIKE ?2 ESCAPE '\\'"
		       " OR users.last_name LIKE ?2 ESCAPE '\\')");
	}
	if (mask & F_ORG) {
		append(where, sizeof(where),
		       " AND users.id IN (SELECT user_id FROM memberships"
		       " WHERE org_id = ?3)");
	}
	if (mask & F_ROLE) {
		append(where, sizeof(where),
		       " AND users.id IN (SELECT user_id FROM user_roles"
		       " WHERE role = ?4)");
	}
	if (mask & F_SCOPE) {
		append(
		    where, sizeof(where),
		    " AND users.id IN (SELECT user_id FROM memberships)"
		    " AND users.id NOT IN (SELECT user_id FROM memberships"
		    " WHERE org_id NOT IN (SELECT value FROM json_each(?5)))");
	}
	if (!(mask & F_FTS)) {
		snprintf(sql, sizeof(sql),
			 "SELECT " USER_COLS " FROM users WHERE users.id > ?9%s"
			 " ORDER BY id LIMIT ?6 OFFSET ?7",
			 where);
		if ((rc = prepare(c, sql, &c->user_list[mask], list)) != 0) {
			return rc;
		}
		/* Without filters the kept count answers (migration 6). */
		if (mask == 0) {
			snprintf(sql, sizeof(sql), "SELECT n FROM user_count");
		} else {
			snprintf(sql, sizeof(sql),
				 "SELECT COUNT(*) FROM users WHERE 1%s", where);
		}
		if ((rc = prepare(c, sql, &c->user_count[mask], count)) != 0) {
			return rc;
		}
		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE 1%s"
			 " LIMIT ?8)",
			 where);
		return prepare(c, sql, &c->user_count_capped[mask], capped);
	}
	/*
	 * The search: the index answers for the users it is up to date for;
	 * the users whose entries are pending (a short list: see
	 * IDX_PENDING_MAX) are searched by LIKE, as the short substrings
	 * are, whatever the index still holds for them. Two arms, each in id
	 * order (FTS5 gives its matches in rowid order, and takes a rowid
	 * bound), merged: a page reads as many matches as it returns, and a
	 * capped count as many as it counts, however common the substring
	 * (a set of all the matches, sorted, cost a million users' worth for
	 * one in every email).
	 */
	if (mask & F_FTS_EMAIL) {
		append(like, sizeof(like),
		       " AND users.email LIKE ?1 ESCAPE '\\'");
	}
	if (mask & F_FTS_NAME) {
		append(like, sizeof(like),
		       " AND (users.first_name LIKE ?2 ESCAPE '\\'"
		       " OR users.last_name LIKE ?2 ESCAPE '\\')");
	}
	for (int k = 0; k < 2; k++) { /* with the keyset, without */
		snprintf(arms, sizeof(arms),
			 "SELECT users_fts.rowid AS mid FROM users_fts"
			 " CROSS JOIN users ON users.id = users_fts.rowid"
			 " WHERE users_fts MATCH ?10%s AND users_fts.rowid"
			 " NOT IN (SELECT user_id FROM users_fts_pending)%s"
			 " UNION ALL SELECT users.id FROM users_fts_pending p"
			 " CROSS JOIN users ON users.id = p.user_id"
			 " WHERE 1%s%s%s",
			 k == 0 ? " AND users_fts.rowid > ?9" : "", where,
			 k == 0 ? " AND users.id > ?9" : "", like, where);
		if (k == 0) {
			snprintf(sql, sizeof(sql),
				 "SELECT " USER_COLS " FROM (%s ORDER BY 1"
				 " LIMIT ?6 OFFSET ?7) CROSS JOIN users"
				 " ON users.id = mid ORDER BY mid",
				 arms);
			rc = prepare(c, sql, &c->user_list[mask], list);
		} else {
			snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM (%s)",
				 arms);
			rc = prepare(c, sql, &c->user_count[mask], count);
		}
		if (rc != 0) {
			return rc;
		}
	}
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM (%s LIMIT ?8)", arms);
	return prepare(c, sql, &c->user_count_capped[mask], capped);
}

typedef struct user_args {
	char *email;
	char *name;
	char *match; /* the trigram index's query */
	char org[33];
	const char *role;
	char *scope;
} user_args;

static int
bind_user_filter(sqlite3_stmt *s, unsigned mask, const user_args *a)
{
	int rc = 0;

	if (mask & (F_EMAIL | F_FTS_EMAIL)) {
		rc = rc ? rc : bind_text(s, 1, a->email);
	}
	if (mask & (F_NAME | F_FTS_NAME)) {
		rc = rc ? rc : bind_text(s, 2, a->name);
	}
	if (mask & F_FTS) {
		rc = rc ? rc : bind_text(s, 10, a->match);
	}
	if (mask & F_ORG) {
		rc = rc ? rc : bind_text(s, 3, a->org);
	}
	if (mask & F_ROLE) {
		rc = rc ? rc : bind_text(s, 4, a->role);
	}
	if (mask & F_SCOPE) {
		rc = rc ? rc : bind_text(s, 5, a->scope);
	}
	return rc;
}

/* Characters (not bytes) of UTF-8 text s. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		n += ((unsigned char)*s & 0xc0) != 0x80;
	}
	return n;
}

/*
 * Adds "<columns> : \"<text>\"" to the MATCH query *q (joined by AND): a
 * trigram phrase matches where text is a substring, in any letter case.
 * Quotes in text are doubled.
 */
static int
match_add(char **q, const char *columns, const char *text)
{
	size_t old = *q != NULL ? strlen(*q) : 0;
	size_t cap = old + strlen(columns) + 2 * strlen(text) + 16;
	char *p = realloc(*q, cap);
	size_t j = old;

	if (p == NULL) {
		return UP_INTERNAL;
	}
	if (old > 0) {
		j += (size_t)snprintf(p + j, cap - j, " AND ");
	}
	j += (size_t)snprintf(p + j, cap - j, "%s : \"", columns);
	for (const char *t = text; *t != '\0'; t++) {
		if (*t == '"') {
			p[j++] = '"';
		}
		p[j++] = *t;
	}
	p[j++] = '"';
	p[j] = '\0';
	*q = p;
	return 0;
}

/*
 * A substring filter: through the trigram index from 3 characters on (bit
 * fts_bit), else by LIKE (bit like_bit). The LIKE pattern goes into *like
 * either way: the index's pending users are searched with it.
 */
static int
substring_filter(const char *text, const char *columns, unsigned like_bit,
		 unsigned fts_bit, unsigned *mask, char **like, user_args *a)
{
	int rc;

	if (strlen(text) > UD_STORE_FILTER_MAX) {
		return UP_INVALID_ARGUMENT;
	}
	if ((rc = ud_store_like_pattern(text, like)) != 0) {
		return rc;
	}
	if (utf8_chars(text) >= 3) {
		*mask |= fts_bit;
		return match_add(&a->match, columns, text);
	}
	*mask |= like_bit;
	return 0;
}

/*
 * The count of a user list into *total (see ud_user_filter.count_max, >=
 * 0 here): without filters the kept count, exact and costing nothing;
 * with them, the statement that stops past count_max, or the exact one.
 */
static int
user_count_read(ud_store_conn *c, int64_t count_max, unsigned mask,
		const user_args *a, sqlite3_stmt *count, sqlite3_stmt *capped,
		int64_t *total)
{
	sqlite3_stmt *cs = count_max > 0 && mask != 0 ? capped : count;
	int rc, step;

	if ((rc = bind_user_filter(cs, mask, a)) != 0) {
		return rc;
	}
	if (cs == capped) {
		sqlite3_bind_int64(cs, 8, count_max + 1);
	}
	if ((step = sqlite3_step(cs)) != SQLITE_ROW) {
		return fail(c->db, step, "user count");
	}
	*total = sqlite3_column_int64(cs, 0);
	return 0;
}

static int
sq_user_list(ud_store_conn *c, const ud_user_filter *f, ud_user **out,
	     size_t *n, int64_t *total)
{
	user_args a = {0};
	sqlite3_stmt *list = NULL, *count = NULL, *capped = NULL;
	ud_user *users = NULL;
	size_t got = 0;
	int32_t skip = f->skip, take = f->take;
	unsigned mask = 0;
	bool began = false, page_first;
	int rc, step = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	*total = 0;
	ud_store_bound_page(&skip, &take);
	if (f->email_contains != NULL && *f->email_contains != '\0' &&
	    (rc = substring_filter(f->email_contains, "email", F_EMAIL,
				   F_FTS_EMAIL, &mask, &a.email, &a)) != 0) {
		goto out;
	}
	if (f->name_contains != NULL && *f->name_contains != '\0' &&
	    (rc = substring_filter(f->name_contains, "{first_name last_name}",
				   F_NAME, F_FTS_NAME, &mask, &a.name, &a)) !=
		0) {
		goto out;
	}
	if (f->org_id != NULL) {
		mask |= F_ORG;
		if (ud_guid_parse(f->org_id, a.org) != 0) {
			rc = 0; /* no organization has that id: nobody */
			goto out;
		}
	}
	if (f->role != NULL) {
		mask |= F_ROLE;
		a.role = f->role;
	}
	if (f->scope_org_ids != NULL) {
		mask |= F_SCOPE;
		if ((rc = json_array(f->scope_org_ids, &a.scope)) != 0) {
			goto out;
		}
	}
	if ((rc = user_list_stmts(c, mask, &list, &count, &capped)) != 0 ||
	    (rc = read_begin(c, &began)) != 0 ||
	    (rc = bind_user_filter(list, mask, &a)) != 0) {
		goto out;
	}
	/*
	 * A filtered first page shorter than take holds every match: it is
	 * the count, and the search (a substring's above all) runs once.
	 * Otherwise the count comes first, and may spare reading the page.
	 */
	page_first =
	    f->count_max >= 0 && mask != 0 && skip == 0 && f->after_id <= 0;
	if (f->count_max >= 0 && !page_first) {
		if ((rc = user_count_read(c, f->count_max, mask, &a, count,
					  capped, total)) != 0) {
			goto out;
		}
		/* Counted in full, nothing past skip: no page to read. */
		if (f->count_max == 0 && f->after_id <= 0 && *total <= skip) {
			rc = 0;
			goto out;
		}
	}
	if ((users = calloc((size_t)take, sizeof(*users))) == NULL) {
		rc = UP_INTERNAL;
		goto out;
	}
	sqlite3_bind_int(list, 6, take);
	sqlite3_bind_int(list, 7, skip);
	sqlite3_bind_int64(list, 9, f->after_id > 0 ? f->after_id : 0);
	while (got < (size_t)take &&
	       (step = sqlite3_step(list)) == SQLITE_ROW) {
		ud_store_user_init(&users[got]);
		rc = user_from_row(list, &users[got]);
		got++;
		if (rc != 0) {
			goto out;
		}
	}
	if (got < (size_t)take && step != SQLITE_DONE) {
		rc = fail(c->db, step, "user list");
		goto out;
	}
	done_with(list);
	if (page_first && got < (size_t)take) {
		*total = f->count_max > 0 && (int64_t)got > f->count_max
			     ? f->count_max + 1
			     : (int64_t)got;
	} else if (page_first &&
		   (rc = user_count_read(c, f->count_max, mask, &a, count,
					 capped, total)) != 0) {
		goto out;
	}
	for (size_t i = 0; i < got; i++) {
		if ((rc = user_load_sets(c, &users[i])) != 0) {
			goto out;
		}
	}
	rc = 0;
out:
	done_with(list);
	done_with(count);
	done_with(capped);
	read_end(c, began);
	free(a.email);
	free(a.name);
	free(a.match);
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
org_from_row(sqlite3_stmt *s, ud_org *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = col_str(s, 0, &o->id)) != 0 ||
	    (rc = col_str(s, 1, &o->name)) != 0 ||
	    (rc = col_str(s, 3, &o->parent_id)) != 0) {
		return rc;
	}
	o->type = sqlite3_column_int(s, 2);
	o->created_at = sqlite3_column_int64(s, 4);
	o->member_count = sqlite3_column_int(s, 5);
	return 0;
}

static int
sq_org_get(ud_store_conn *c, const char *id, ud_org *out)
{
	sqlite3_stmt *s = NULL;
	ud_org o = {0};
	char key[33];
	int rc, step;

	memset(out, 0, sizeof(*out));
	if (ud_guid_parse(id, key) != 0) {
		return UP_NOT_FOUND;
	}
	if ((rc = stmt(c, S_ORG_GET, &s)) != 0) {
		return rc;
	}
	if ((rc = bind_text(s, 1, key)) != 0) {
		goto out;
	}
	if ((step = sqlite3_step(s)) == SQLITE_DONE) {
		rc = UP_NOT_FOUND;
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = fail(c->db, step, "organization");
		goto out;
	}
	rc = org_from_row(s, &o);
out:
	done_with(s);
	if (rc != 0) {
		ud_org_fini(&o);
	} else {
		*out = o;
	}
	return rc;
}

/* Steps s to the end (at most max rows) into a new array of orgs. */
static int
orgs_collect(ud_store_conn *c, sqlite3_stmt *s, size_t max, ud_org **out,
	     size_t *n)
{
	ud_org *orgs = NULL;
	size_t got = 0, cap = 0;
	int rc = 0, step = SQLITE_DONE;

	while (got < max && (step = sqlite3_step(s)) == SQLITE_ROW) {
		if (got == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			ud_org *p = realloc(orgs, ncap * sizeof(*p));
			if (p == NULL) {
				rc = UP_INTERNAL;
				goto out;
			}
			orgs = p;
			cap = ncap;
		}
		rc = org_from_row(s, &orgs[got]);
		got++;
		if (rc != 0) {
			goto out;
		}
	}
	if (got < max && step != SQLITE_DONE) {
		rc = fail(c->db, step, "organizations");
	}
out:
	if (rc != 0) {
		ud_orgs_free(orgs, got);
		orgs = NULL;
		got = 0;
	}
	*out = orgs;
	*n = got;
	return rc;
}

static int
sq_org_list_after(ud_store_conn *c, const char *parent_id,
		  const ud_strv *scope_ids, const char *after_name,
		  const char *after_id, int32_t skip, int32_t take,
		  ud_org **out, size_t *n, int64_t *total)
{
	sqlite3_stmt *list = NULL, *count = NULL;
	char parent[33], where[512] = " WHERE 1", sql[1024];
	char *ids = NULL;
	unsigned mask = 0;
	bool began = false;
	int rc, step;

	*out = NULL;
	*n = 0;
	*total = 0;
	ud_store_bound_page(&skip, &take);
	if (parent_id != NULL) {
		mask |= F_PARENT;
		if (ud_guid_parse(parent_id, parent) != 0) {
			return 0; /* no such parent: no children */
		}
		append(where, sizeof(where), " AND o.parent_id = ?1");
	}
	if (scope_ids != NULL) {
		mask |= F_IDS;
		if ((rc = json_array(scope_ids, &ids)) != 0) {
			return rc;
		}
		append(where, sizeof(where),
		       " AND o.id IN (SELECT value FROM json_each(?2))");
	}
	if (after_id != NULL) {
		mask |= F_AFTER;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT " ORG_COLS " FROM organizations o%s%s"
		 " ORDER BY o.name, o.id LIMIT ?3 OFFSET ?4",
		 where,
		 after_id != NULL ? " AND (o.name, o.id) > (?5, ?6)" : "");
	if ((rc = prepare(c, sql, &c->org_list[mask], &list)) != 0) {
		list = NULL;
		goto out;
	}
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM organizations o%s",
		 where);
	if ((rc = prepare(c, sql, &c->org_count[mask], &count)) != 0) {
		count = NULL;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *s = i == 0 ? list : count;
		if (((mask & F_PARENT) &&
		     (rc = bind_text(s, 1, parent)) != 0) ||
		    ((mask & F_IDS) && (rc = bind_text(s, 2, ids)) != 0)) {
			goto out;
		}
	}
	sqlite3_bind_int(list, 3, take);
	sqlite3_bind_int(list, 4, skip);
	if (after_id != NULL &&
	    ((rc = bind_text(list, 5, after_name ? after_name : "")) != 0 ||
	     (rc = bind_text(list, 6, after_id)) != 0)) {
		goto out;
	}
	if ((rc = read_begin(c, &began)) != 0) {
		goto out;
	}
	if ((step = sqlite3_step(count)) != SQLITE_ROW) {
		rc = fail(c->db, step, "organization count");
		goto out;
	}
	*total = sqlite3_column_int64(count, 0);
	rc = orgs_collect(c, list, (size_t)take, out, n);
out:
	done_with(list);
	done_with(count);
	read_end(c, began);
	free(ids);
	if (rc != 0) {
		*total = 0;
	}
	return rc;
}

static int
sq_org_list(ud_store_conn *c, const char *parent_id, const ud_strv *scope_ids,
	    int32_t skip, int32_t take, ud_org **out, size_t *n, int64_t *total)
{
	return sq_org_list_after(c, parent_id, scope_ids, NULL, NULL, skip,
				 take, out, n, total);
}

static int
sq_org_subtree(ud_store_conn *c, const ud_strv *roots, ud_strv *out)
{
	sqlite3_stmt *s = NULL;
	ud_strv ids = {0};
	char *json = NULL;
	int rc, step;

	memset(out, 0, sizeof(*out));
	if ((rc = json_array(roots, &json)) != 0 ||
	    (rc = stmt(c, S_ORG_SUBTREE, &s)) != 0) {
		s = NULL;
		goto out;
	}
	if ((rc = bind_text(s, 1, json)) != 0) {
		goto out;
	}
	sqlite3_bind_int(s, 2, UD_STORE_TREE_DEPTH_MAX);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		if (id == NULL || ud_strv_push(&ids, id) != 0) {
			rc = UP_INTERNAL;
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		rc = fail(c->db, step, "subtree");
	}
out:
	done_with(s);
	free(json);
	if (rc != 0) {
		ud_strv_fini(&ids);
	}
	*out = ids;
	return rc;
}

static int
sq_org_children(ud_store_conn *c, const char *parent_id, ud_org **out,
		size_t *n)
{
	sqlite3_stmt *s = NULL;
	char parent[33];
	int rc;

	*out = NULL;
	*n = 0;
	if (ud_guid_parse(parent_id, parent) != 0) {
		return 0;
	}
	if ((rc = stmt(c, S_ORG_CHILDREN, &s)) != 0) {
		return rc;
	}
	if ((rc = bind_text(s, 1, parent)) == 0) {
		rc = orgs_collect(c, s, SIZE_MAX, out, n);
	}
	done_with(s);
	return rc;
}

/* ------------------------------------------------------------------------
 * Writes
 */

/* What an insert or update takes: an email, and sets within bounds. */
static bool
user_valid(const ud_user *u)
{
	return u->email != NULL && *u->email != '\0' &&
	       u->roles.n <= UD_STORE_USER_SET_MAX &&
	       u->org_ids.n <= UD_STORE_USER_SET_MAX &&
	       u->n_dashboard_permissions <= UD_STORE_USER_SET_MAX;
}

/*
 * Writes the sets of u->id named in which (replacing the stored ones when
 * replace is set). u is user_valid.
 */
static int
user_write_sets(ud_store_conn *c, const ud_user *u, unsigned which,
		bool replace)
{
	sqlite3_stmt *s = NULL;
	int64_t now = ud_now_ms();
	int rc;

	if (replace) {
		const int dels[] = {S_ROLES_DEL, S_PERMS_DEL, S_MEMBS_DEL};
		for (size_t i = 0; i < 3; i++) {
			if (!(which & (1u << i))) {
				continue;
			}
			if ((rc = stmt(c, dels[i], &s)) != 0) {
				return rc;
			}
			sqlite3_bind_int64(s, 1, u->id);
			rc = sqlite3_step(s);
			done_with(s);
			if (rc != SQLITE_DONE) {
				return fail(c->db, rc, "replace user sets");
			}
		}
	}
	if ((which & UD_SET_ROLES) && (rc = stmt(c, S_ROLE_INS, &s)) != 0) {
		return rc;
	}
	for (size_t i = 0; (which & UD_SET_ROLES) && i < u->roles.n; i++) {
		sqlite3_bind_int64(s, 1, u->id);
		if ((rc = bind_text(s, 2, u->roles.v[i])) == 0) {
			rc = sqlite3_step(s);
			rc = rc == SQLITE_DONE ? 0 : fail(c->db, rc, "role");
		}
		done_with(s);
		if (rc != 0) {
			return rc;
		}
	}
	if ((which & UD_SET_PERMS) && (rc = stmt(c, S_PERM_INS, &s)) != 0) {
		return rc;
	}
	for (size_t i = 0;
	     (which & UD_SET_PERMS) && i < u->n_dashboard_permissions; i++) {
		sqlite3_bind_int64(s, 1, u->id);
		sqlite3_bind_int(s, 2, u->dashboard_permissions[i]);
		rc = sqlite3_step(s);
		done_with(s);
		if (rc != SQLITE_DONE) {
			return fail(c->db, rc, "permission");
		}
	}
	if (!(which & UD_SET_ORGS)) {
		return 0;
	}
	if ((rc = stmt(c, S_MEMB_INS, &s)) != 0) {
		return rc;
	}
	for (size_t i = 0; i < u->org_ids.n; i++) {
		char org[33];
		if (ud_guid_parse(u->org_ids.v[i], org) != 0) {
			return UP_INVALID_ARGUMENT;
		}
		sqlite3_bind_int64(s, 1, u->id);
		sqlite3_bind_int64(s, 3, now);
		if ((rc = bind_text(s, 2, org)) == 0) {
			rc = sqlite3_step(s);
			/* a foreign key failure: no such organization */
			rc = rc == SQLITE_DONE ? 0
					       : fail(c->db, rc, "membership");
		}
		done_with(s);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

static int
sq_user_insert(ud_store_conn *c, ud_user *u)
{
	sqlite3_stmt *s = NULL;
	char pbuf[33];
	const char *porg;
	int64_t now = ud_now_ms();
	int rc, step;

	if (!user_valid(u)) {
		return UP_INVALID_ARGUMENT;
	}
	if ((rc = ud_store_primary_org(u, pbuf, &porg)) != 0 ||
	    (rc = op_begin(c)) != 0) {
		return rc;
	}
	if ((rc = stmt(c, S_USER_INSERT, &s)) != 0) {
		s = NULL;
		goto out;
	}
	if ((rc = bind_user(s, u)) != 0 || (rc = bind_text(s, 11, porg)) != 0) {
		goto out;
	}
	sqlite3_bind_int64(s, 17, now);
	if ((step = sqlite3_step(s)) != SQLITE_ROW) {
		rc = fail(c->db, step, "insert user");
		goto out;
	}
	u->id = sqlite3_column_int64(s, 0);
	done_with(s);
	s = NULL;
	if ((rc = user_write_sets(c, u, UD_SET_ALL, false)) != 0) {
		goto out;
	}
	u->created_at = now;
	u->updated_at = now;
	u->token_version = 1;
out:
	done_with(s);
	return op_end(c, rc);
}

/* Whether the value in column 0 of row s is in set. */
typedef bool (*set_has_fn)(sqlite3_stmt *s, const void *set);

static bool
has_text(sqlite3_stmt *s, const void *set)
{
	const ud_strv *v = set;
	const char *got = (const char *)sqlite3_column_text(s, 0);

	return got != NULL && ud_strv_has(v, got);
}

/* A Guid column: set's values compared in their stored form. */
static bool
has_guid(sqlite3_stmt *s, const void *set)
{
	const ud_strv *v = set;
	const char *got = (const char *)sqlite3_column_text(s, 0);
	char g[33];

	for (size_t i = 0; got != NULL && i < v->n; i++) {
		if (ud_guid_parse(v->v[i], g) == 0 && strcmp(g, got) == 0) {
			return true;
		}
	}
	return false;
}

static bool
has_perm(sqlite3_stmt *s, const void *set)
{
	const ud_user *u = set;
	int32_t p = sqlite3_column_int(s, 0);

	for (size_t i = 0; i < u->n_dashboard_permissions; i++) {
		if (u->dashboard_permissions[i] == p) {
			return true;
		}
	}
	return false;
}

/*
 * Whether the rows of statement id for user hold the set of n values that
 * has tests against: *same. Every stored value in the set, and as many as
 * it has: the same set (a set with duplicates counts as a change).
 */
static int
set_same(ud_store_conn *c, int id, int64_t user, set_has_fn has,
	 const void *set, size_t n, bool *same)
{
	sqlite3_stmt *s = NULL;
	size_t rows = 0;
	int rc, step = SQLITE_DONE;

	*same = true;
	if ((rc = stmt(c, id, &s)) != 0) {
		return rc;
	}
	sqlite3_bind_int64(s, 1, user);
	while (*same && (step = sqlite3_step(s)) == SQLITE_ROW) {
		*same = has(s, set);
		rows++;
	}
	rc = *same && step != SQLITE_DONE ? fail(c->db, step, "sets") : 0;
	done_with(s);
	*same = *same && rows == n;
	return rc;
}

/*
 * Which of the sets in which differ from the stored ones of u->id: they
 * alone are written again (a rewrite costs a delete and an insert per
 * entry, in the table and its index).
 */
static int
sets_changed(ud_store_conn *c, const ud_user *u, unsigned which, unsigned *out)
{
	bool same = false;
	int rc = 0;

	*out = 0;
	if ((which & UD_SET_ROLES) &&
	    (rc = set_same(c, S_ROLES, u->id, has_text, &u->roles, u->roles.n,
			   &same)) == 0 &&
	    !same) {
		*out |= UD_SET_ROLES;
	}
	if (rc == 0 && (which & UD_SET_PERMS) &&
	    (rc = set_same(c, S_PERMS, u->id, has_perm, u,
			   u->n_dashboard_permissions, &same)) == 0 &&
	    !same) {
		*out |= UD_SET_PERMS;
	}
	if (rc == 0 && (which & UD_SET_ORGS) &&
	    (rc = set_same(c, S_MEMB_IDS, u->id, has_guid, &u->org_ids,
			   u->org_ids.n, &same)) == 0 &&
	    !same) {
		*out |= UD_SET_ORGS;
	}
	return rc;
}

static int
sq_user_update(ud_store_conn *c, ud_user *u, unsigned sets, bool bump_token)
{
	sqlite3_stmt *s = NULL;
	char pbuf[33];
	const char *porg;
	int64_t now = ud_now_ms();
	unsigned changed = 0;
	int rc, step;

	if (!user_valid(u)) {
		return UP_INVALID_ARGUMENT;
	}
	if ((rc = ud_store_primary_org(u, pbuf, &porg)) != 0 ||
	    (rc = op_begin(c)) != 0) {
		return rc;
	}
	/* the indexed columns, when they change (a taken email fails here) */
	if ((rc = stmt(c, S_USER_KEYS, &s)) != 0) {
		s = NULL;
		goto out;
	}
	if ((rc = bind_text(s, 1, u->email)) != 0 ||
	    (rc = bind_text(s, 2, porg)) != 0) {
		goto out;
	}
	sqlite3_bind_int64(s, 3, u->id);
	if ((step = sqlite3_step(s)) != SQLITE_DONE) {
		rc = fail(c->db, step, "update user");
		goto out;
	}
	done_with(s);
	/* the other columns; no row: no such user */
	if ((rc = stmt(c, S_USER_UPDATE, &s)) != 0) {
		s = NULL;
		goto out;
	}
	if ((rc = bind_user(s, u)) != 0) {
		goto out;
	}
	sqlite3_bind_int64(s, 17, now);
	sqlite3_bind_int(s, 18, bump_token ? 1 : 0);
	sqlite3_bind_int64(s, 19, u->id);
	if ((step = sqlite3_step(s)) != SQLITE_DONE) {
		rc = fail(c->db, step, "update user");
		goto out;
	}
	if (sqlite3_changes(c->db) == 0) {
		rc = UP_NOT_FOUND;
		goto out;
	}
	done_with(s);
	s = NULL;
	if ((rc = sets_changed(c, u, sets & UD_SET_ALL, &changed)) != 0 ||
	    (rc = user_write_sets(c, u, changed, true)) != 0) {
		goto out;
	}
	/* u was read in this transaction (store.h): its stamps are the
	 * row's, no need to read them back */
	u->updated_at = now;
	u->token_version += bump_token ? 1 : 0;
	ud_store_changes_add(&c->chg, u->id);
out:
	done_with(s);
	return op_end(c, rc);
}

/* Runs a cached delete; UP_NOT_FOUND when it deleted nothing. */
static int
delete_one(ud_store_conn *c, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		rc = fail(c->db, rc, what);
	} else {
		rc = sqlite3_changes(c->db) > 0 ? 0 : UP_NOT_FOUND;
	}
	done_with(s);
	return rc;
}

static int
sq_user_delete(ud_store_conn *c, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!c->writer) {
		return UP_INTERNAL;
	}
	if ((rc = stmt(c, S_USER_DELETE, &s)) != 0) {
		return rc;
	}
	sqlite3_bind_int64(s, 1, id);
	if ((rc = delete_one(c, s, "delete user")) == 0) {
		ud_store_changes_add(&c->chg, id);
	}
	return rc;
}

static int
sq_org_insert(ud_store_conn *c, ud_org *o)
{
	sqlite3_stmt *s = NULL;
	char id[33], parent[33];
	char *new_id = NULL;
	int64_t now = ud_now_ms();
	int rc, step;

	if (!c->writer) {
		return UP_INTERNAL;
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
	if ((rc = stmt(c, S_ORG_INSERT, &s)) != 0) {
		s = NULL;
		goto out;
	}
	if ((rc = bind_text(s, 1, id)) != 0 ||
	    (rc = bind_text(s, 2, o->name != NULL ? o->name : "")) != 0 ||
	    (rc = bind_text(s, 4, o->parent_id != NULL ? parent : NULL)) != 0) {
		goto out;
	}
	sqlite3_bind_int(s, 3, o->type);
	sqlite3_bind_int64(s, 5, now);
	if ((step = sqlite3_step(s)) != SQLITE_DONE) {
		rc = fail(c->db, step, "insert organization");
		goto out;
	}
	if (new_id != NULL) {
		o->id = new_id;
		new_id = NULL;
	}
	o->created_at = now;
	o->member_count = 0;
	rc = 0;
out:
	done_with(s);
	free(new_id);
	return rc;
}

/*
 * The statement id of a membership, bound to user_id and org_id (parsed
 * into org, which the statement reads until it is done with).
 */
static int
member_stmt(ud_store_conn *c, int id, const char *org_id, int64_t user_id,
	    char org[33], sqlite3_stmt **out)
{
	int rc;

	*out = NULL;
	if (!c->writer) {
		return UP_INTERNAL;
	}
	if (ud_guid_parse(org_id, org) != 0) {
		return UP_NOT_FOUND;
	}
	if ((rc = stmt(c, id, out)) != 0) {
		return rc;
	}
	sqlite3_bind_int64(*out, 1, user_id);
	if ((rc = bind_text(*out, 2, org)) != 0) {
		done_with(*out);
		*out = NULL;
	}
	return rc;
}

static int
sq_member_add(ud_store_conn *c, const char *org_id, int64_t user_id)
{
	sqlite3_stmt *s = NULL;
	char org[33];
	int rc = member_stmt(c, S_MEMB_INS, org_id, user_id, org, &s);

	if (rc != 0) {
		return rc;
	}
	sqlite3_bind_int64(s, 3, ud_now_ms());
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		rc = UP_NOT_FOUND; /* no such user or organization */
	} else if (rc != SQLITE_DONE) {
		rc = fail(c->db, rc, "add member");
	} else {
		rc = 0;
		ud_store_changes_add(&c->chg, user_id);
	}
	done_with(s);
	return rc;
}

static int
sq_member_remove(ud_store_conn *c, const char *org_id, int64_t user_id)
{
	sqlite3_stmt *s = NULL;
	char org[33];
	int rc = member_stmt(c, S_MEMB_DEL, org_id, user_id, org, &s);

	if (rc == 0 && (rc = delete_one(c, s, "remove member")) == 0) {
		ud_store_changes_add(&c->chg, user_id);
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * The request log and the failed-login state
 */

static int
sq_request_get(ud_store_conn *c, const char *request_id,
	       const uint8_t digest[UD_REQUEST_DIGEST_LEN], uint8_t **resp,
	       size_t *len)
{
	sqlite3_stmt *s = NULL;
	bool began;
	int rc, step;

	if ((rc = read_begin(c, &began)) != 0) {
		return rc;
	}
	if ((rc = stmt(c, S_REQ_GET, &s)) != 0 ||
	    (rc = bind_text(s, 1, request_id)) != 0) {
		goto out;
	}
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		rc = UP_NOT_FOUND;
	} else if (step != SQLITE_ROW) {
		rc = fail(c->db, step, "read request log");
	} else if (sqlite3_column_bytes(s, 0) != UD_REQUEST_DIGEST_LEN ||
		   memcmp(sqlite3_column_blob(s, 0), digest,
			  UD_REQUEST_DIGEST_LEN) != 0) {
		rc = UP_FAILED_PRECONDITION;
	} else {
		int n = sqlite3_column_bytes(s, 1);
		const void *v = sqlite3_column_blob(s, 1);
		if ((*resp = malloc(n > 0 ? (size_t)n : 1)) == NULL) {
			rc = UP_INTERNAL;
		} else {
			if (n > 0) {
				memcpy(*resp, v, (size_t)n);
			}
			*len = (size_t)n;
			rc = 0;
		}
	}
out:
	done_with(s);
	read_end(c, began);
	return rc;
}

static int
sq_request_answer(ud_store_conn *c, const char *request_id, const uint8_t *resp,
		  size_t len)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	if (!c->writer || len > INT32_MAX) {
		return UP_INTERNAL;
	}
	if ((rc = stmt(c, S_REQ_ANSWER, &s)) != 0 ||
	    (rc = bind_text(s, 1, request_id)) != 0) {
		goto out;
	}
	sqlite3_bind_blob(s, 2, resp, (int)len, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step != SQLITE_DONE) {
		rc = fail(c->db, step, "record answer");
	} else {
		rc = sqlite3_changes(c->db) == 1 ? 0 : UP_NOT_FOUND;
	}
out:
	done_with(s);
	return rc;
}

static int
sq_request_record(ud_store_conn *c, const char *request_id,
		  const uint8_t digest[UD_REQUEST_DIGEST_LEN], int64_t now_ms,
		  const uint8_t *resp, size_t len)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	if (!c->writer || len > INT32_MAX) {
		return UP_INTERNAL;
	}
	if ((rc = stmt(c, S_REQ_RECORD, &s)) != 0 ||
	    (rc = bind_text(s, 1, request_id)) != 0) {
		goto out;
	}
	sqlite3_bind_blob(s, 2, digest, UD_REQUEST_DIGEST_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, resp, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now_ms);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		rc = 0;
	} else if (step == SQLITE_CONSTRAINT_UNIQUE) {
		rc = UP_ALREADY_EXISTS;
	} else {
		rc = fail(c->db, step, "record request");
	}
out:
	done_with(s);
	return rc;
}

/* A claim is a record with an empty answer, filled in by the answer. */
static int
sq_request_claim(ud_store_conn *c, const char *request_id,
		 const uint8_t digest[UD_REQUEST_DIGEST_LEN], int64_t now_ms)
{
	static const uint8_t none[1];

	c->claim_rc = sq_request_record(c, request_id, digest, now_ms, none, 0);
	return c->claim_rc;
}

/* Claims answer at once here: the verdict is the claim's own. */
static int
sq_request_claimed(ud_store_conn *c)
{
	return c->writer ? c->claim_rc : UP_NOT_FOUND;
}

/* Runs a cached statement of one text or integer argument, no rows. */
static int
change_all(ud_store_conn *c, int id, const char *text, int64_t num,
	   const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	if (!c->writer) {
		return UP_INTERNAL;
	}
	if ((rc = stmt(c, id, &s)) != 0) {
		return rc;
	}
	if (text != NULL) {
		rc = bind_text(s, 1, text);
	} else {
		sqlite3_bind_int64(s, 1, num);
	}
	if (rc == 0) {
		step = sqlite3_step(s);
		rc = step == SQLITE_DONE ? 0 : fail(c->db, step, what);
	}
	done_with(s);
	return rc;
}

static int
sq_request_prune(ud_store_conn *c, int64_t before_ms)
{
	return change_all(c, S_REQ_PRUNE, NULL, before_ms, "prune requests");
}

static int
sq_login_get(ud_store_conn *c, const char *key, ud_login_state *out)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	if ((rc = stmt(c, S_LOGIN_GET, &s)) != 0 ||
	    (rc = bind_text(s, 1, key)) != 0) {
		goto out;
	}
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		rc = UP_NOT_FOUND;
	} else if (step != SQLITE_ROW) {
		rc = fail(c->db, step, "read login state");
	} else {
		out->window_start = sqlite3_column_int64(s, 0);
		out->last = sqlite3_column_int64(s, 1);
		out->locked_until = sqlite3_column_int64(s, 2);
		out->failures = sqlite3_column_int(s, 3);
		out->locks = sqlite3_column_int(s, 4);
		out->pending = sqlite3_column_int(s, 5);
		rc = 0;
	}
out:
	done_with(s);
	return rc;
}

static int
sq_login_put(ud_store_conn *c, const char *key, const ud_login_state *st)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	if (!c->writer) {
		return UP_INTERNAL;
	}
	if ((rc = stmt(c, S_LOGIN_PUT, &s)) != 0 ||
	    (rc = bind_text(s, 1, key)) != 0) {
		goto out;
	}
	sqlite3_bind_int64(s, 2, st->window_start);
	sqlite3_bind_int64(s, 3, st->last);
	sqlite3_bind_int64(s, 4, st->locked_until);
	sqlite3_bind_int(s, 5, st->failures);
	sqlite3_bind_int(s, 6, st->locks);
	sqlite3_bind_int(s, 7, st->pending);
	step = sqlite3_step(s);
	rc = step == SQLITE_DONE ? 0 : fail(c->db, step, "write login state");
out:
	done_with(s);
	return rc;
}

static int
sq_login_delete(ud_store_conn *c, const char *key)
{
	return change_all(c, S_LOGIN_DEL, key, 0, "clear login state");
}

static int
sq_login_prune(ud_store_conn *c, int64_t before_s)
{
	return change_all(c, S_LOGIN_PRUNE, NULL, before_s,
			  "prune login states");
}

/* ------------------------------------------------------------------------
 * Refresh tokens (one writer: a family needs no lock of its own)
 */

static int
sq_refresh_insert(ud_store_conn *c, const ud_refresh_token *t)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	if (!c->writer) {
		return UP_INTERNAL;
	}
	if ((rc = stmt(c, S_REF_INSERT, &s)) != 0 ||
	    (rc = bind_text(s, 1, t->jti)) != 0 ||
	    (rc = bind_text(s, 2, t->family)) != 0) {
		goto out;
	}
	sqlite3_bind_int64(s, 3, t->user_id);
	sqlite3_bind_int64(s, 4, t->expires_at);
	step = sqlite3_step(s);
	rc = step == SQLITE_DONE ? 0 : fail(c->db, step, "record token");
out:
	done_with(s);
	return rc;
}

static int
sq_refresh_get(ud_store_conn *c, const char *family, const char *jti,
	       ud_refresh_token *out)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	if ((rc = stmt(c, S_REF_GET, &s)) != 0 ||
	    (rc = bind_text(s, 1, jti)) != 0 ||
	    (rc = bind_text(s, 2, family)) != 0) {
		goto out;
	}
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		rc = UP_NOT_FOUND;
	} else if (step != SQLITE_ROW) {
		rc = fail(c->db, step, "read token");
	} else {
		memcpy(out->jti, jti, sizeof(out->jti));
		memcpy(out->family, family, sizeof(out->family));
		out->user_id = sqlite3_column_int64(s, 0);
		out->expires_at = sqlite3_column_int64(s, 1);
		out->used = sqlite3_column_int(s, 2) != 0;
		rc = 0;
	}
out:
	done_with(s);
	return rc;
}

static int
sq_refresh_use(ud_store_conn *c, const char *jti)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!c->writer) {
		return UP_INTERNAL;
	}
	if ((rc = stmt(c, S_REF_USE, &s)) != 0) {
		return rc;
	}
	if ((rc = bind_text(s, 1, jti)) != 0) {
		done_with(s);
		return rc;
	}
	return delete_one(c, s, "use token");
}

static int
sq_refresh_revoke(ud_store_conn *c, const char *family)
{
	return change_all(c, S_REF_REVOKE, family, 0, "revoke tokens");
}

static int
sq_refresh_prune(ud_store_conn *c, int64_t before_s)
{
	return change_all(c, S_REF_PRUNE, NULL, before_s, "prune tokens");
}

/* ------------------------------------------------------------------------
 * The backend
 */

const ud_store_ops ud_store_sqlite_ops = {
    .name = "sqlite",
    .shared = false,
    .open = sq_open,
    .migrate = sq_migrate,
    .schema_latest = sq_schema_latest,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .stats = sq_stats,
    .reader_open = sq_reader_open,
    .reader_close = sq_reader_close,
    .write = sq_write,
    .index_sync = sq_index_sync,
    .on_writer = sq_on_writer,
    .snapshot_begin = sq_snapshot_begin,
    .snapshot_end = sq_snapshot_end,
    .user_get = sq_user_get,
    .user_by_email = sq_user_by_email,
    .user_check = sq_user_check,
    .user_check_end = sq_user_check_end,
    .user_count = sq_user_count,
    .role_holders = sq_role_holders,
    .user_list = sq_user_list,
    .org_get = sq_org_get,
    .org_list = sq_org_list,
    .org_list_after = sq_org_list_after,
    .org_subtree = sq_org_subtree,
    .org_children = sq_org_children,
    .user_insert = sq_user_insert,
    .user_update = sq_user_update,
    .user_delete = sq_user_delete,
    .org_insert = sq_org_insert,
    .member_add = sq_member_add,
    .member_remove = sq_member_remove,
    .request_get = sq_request_get,
    .request_claim = sq_request_claim,
    .request_claimed = sq_request_claimed,
    .request_answer = sq_request_answer,
    .request_record = sq_request_record,
    .request_prune = sq_request_prune,
    .login_get = sq_login_get,
    .login_put = sq_login_put,
    .login_delete = sq_login_delete,
    .login_prune = sq_login_prune,
    .refresh_insert = sq_refresh_insert,
    .refresh_get = sq_refresh_get,
    .refresh_use = sq_refresh_use,
    .refresh_revoke = sq_refresh_revoke,
    .refresh_prune = sq_refresh_prune,
};
