/*
 * store.h - the daemon's durable store, behind one small interface.
 *
 * Two backends, picked by the target given to ud_store_open(): a path is a
 * SQLite database (store_sqlite.c: WAL, synchronous=FULL, one daemon per
 * database), a "postgresql://" or "postgres://" URL is a PostgreSQL
 * database (store_pg.c: libpq, several daemons may share it). Both keep
 * the schema by numbered migrations recorded in the database, and both
 * give every function below the same meaning; store.c forwards each call
 * to the backend (store_backend.h).
 *
 * Threads and connections
 *   Reads run on a ud_store_conn that belongs to one thread at a time
 *   (each worker opens its own with ud_store_reader_open). Writes run on
 *   the store's single writer thread: ud_store_write() queues a write
 *   function; the writer runs the queued functions of concurrent requests
 *   in one transaction (each inside its own savepoint, so one failing does
 *   not undo the others) and commits them together: group commit, one fsync
 *   for many writes. The write function receives the writer's connection,
 *   on which every read function below works too, and sees its own and
 *   earlier writes of the batch.
 *   PostgreSQL does the same on a few writer threads, each with its own
 *   connection (READ COMMITTED): a writer runs what is queued, a savepoint
 *   per write, in one transaction, and sends a write's statements to the
 *   server together, waiting only where the write needs an answer
 *   (store_pg.c). A read of a user on a writer connection locks the row,
 *   so a read-modify-write never loses a concurrent update made by
 *   another thread or another daemon.
 *   After a commit that changed users, and before the writes are answered,
 *   the store reports each user changed to cfg->changed (a cache of users
 *   forgets them).
 *
 * Errors
 *   Every function returns an up_status code (users_proto.h): 0 (UP_OK),
 *   UP_NOT_FOUND, UP_ALREADY_EXISTS (unique email), UP_INVALID_ARGUMENT
 *   (a reference to an organization that does not exist, a cycle in the
 *   tree), UP_UNAVAILABLE / UP_INTERNAL (the database failed; logged
 *   with the SQLite message, never returned to a caller as text).
 *
 * Ownership
 *   Structs filled by the store (ud_user, ud_org, arrays of them) own their
 *   strings; the caller releases them with the matching _fini / _free. On
 *   error nothing is left for the caller to free. Input structs are only
 *   read; the store copies what it keeps.
 */
#ifndef UD_STORE_H
#define UD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef struct ud_store ud_store;
typedef struct ud_store_conn ud_store_conn;

typedef struct ud_store_config {
	/* Most writes committed together (default 256; PostgreSQL 32). */
	unsigned max_batch;
	/* Busy timeout for readers in ms (default 5000; SQLite). */
	unsigned busy_timeout_ms;
	/* Writer threads and connections (default 4; PostgreSQL). */
	unsigned writers;
	/*
	 * SQLite: WAL pages past which the WAL is copied back into the
	 * database and started again (default 8000, about 32 MiB); with the
	 * writer idle for a moment, it is copied past an eighth of that.
	 */
	unsigned wal_pages;
	/*
	 * SQLite: how long the writer must have had no write before it
	 * brings the search index up to date (default 20 ms). A busy writer
	 * does so too once the users waiting for it pass a bound.
	 */
	unsigned index_idle_ms;
	/*
	 * Called on a writer thread once a commit that changed user id (its
	 * record, roles, permissions or memberships, or deleted it) is
	 * durable, before any write of that commit is answered; id 0: any
	 * user may have changed. Must not block. NULL: nobody is told.
	 */
	void (*changed)(void *arg, int64_t id);
	void *changed_arg;
	/*
	 * Called on the thread that runs the done functions of committed
	 * writes, around each group of them that is ready at once (begin
	 * true before the first, false after the last), so that the answers
	 * they send can leave together. Must not block. NULL: not called.
	 */
	void (*answers)(void *arg, bool begin);
	void *answers_arg;
} ud_store_config;

/*
 * Opens the database named by target (a SQLite path, created if needed, or
 * a PostgreSQL URL), runs the pending migrations, and starts the writer.
 * SQLite: a second process opening the same database fails with
 * UP_FAILED_PRECONDITION (an exclusive lock file "<path>.lock" held for
 * the life of the store). PostgreSQL: any number of daemons may open one
 * database; migrations run under an advisory lock, once. cfg may be NULL.
 */
int ud_store_open(ud_store **out, const char *target,
		  const ud_store_config *cfg);
/* True when target names a PostgreSQL database. */
bool ud_store_target_is_pg(const char *target);
/* True when several daemons may share the store (PostgreSQL). */
bool ud_store_shared(const ud_store *st);
/* The backend's name: "sqlite" or "postgresql". */
const char *ud_store_backend(const ud_store *st);
/* Drains the queued writes, stops the writer, closes the database. */
void ud_store_close(ud_store *st);

/* The schema version after migrations (the highest applied number). */
int ud_store_schema_version(ud_store *st);

/* A read connection for the calling thread. */
int ud_store_reader_open(ud_store *st, ud_store_conn **out);
void ud_store_reader_close(ud_store_conn *c);

/*
 * Writes. fn runs on the writer thread inside a savepoint of the batch's
 * transaction, with the writer's connection; a non-zero return rolls back
 * its savepoint only. done then runs on the writer thread after the batch
 * committed, with fn's return code, or with UP_UNAVAILABLE when the commit
 * failed (nothing of the batch is then stored). done must not block for
 * long: it should hand the result on (send a reply) and return.
 * Returns 0 when queued (then done runs exactly once), or an error (then
 * neither fn nor done runs): UP_UNAVAILABLE when the store is closing.
 */
/* The size of a request's digest (the request log, below). */
#define UD_REQUEST_DIGEST_LEN 32

typedef int (*ud_store_write_fn)(ud_store_conn *c, void *arg);
typedef void (*ud_store_done_fn)(int rc, void *arg);
int ud_store_write(ud_store *st, ud_store_write_fn fn, ud_store_done_fn done,
		   void *arg);
/*
 * What a write will do first, told when it is queued
 * (ud_store_write_ahead): check caller at caller_rev
 * (ud_store_user_expect; caller 0: no check), claim request_id with
 * digest (ud_store_request_claim; NULL: no claim; the string must live
 * until done runs), then read user (ud_store_user_get) and update it. A
 * shared store uses it to send the first statements of several such
 * writes together, and their updates and answers together
 * (store_pg.c, "Writes ahead"); the write runs as ever, and an operation
 * that is not the one told, or not told at all, goes to the server as
 * it would have. A hint never changes what a write does or sees.
 */
typedef struct ud_store_hint {
	int64_t user;
	int64_t caller;
	int64_t caller_rev;
	const char *request_id;
	uint8_t digest[UD_REQUEST_DIGEST_LEN];
} ud_store_hint;
int ud_store_write_ahead(ud_store *st, ud_store_write_fn fn,
			 ud_store_done_fn done, void *arg,
			 const ud_store_hint *hint);
/* The same, waiting for the commit; returns fn's code or the commit's. */
int ud_store_write_sync(ud_store *st, ud_store_write_fn fn, void *arg);
/*
 * Brings the search index up to date now, as one write (the SQLite writer
 * otherwise does so when idle; searches are exact either way). For tools
 * and tests. PostgreSQL: 0 at once. Not on the writer (UP_INTERNAL).
 */
int ud_store_index_sync(ud_store *st);

/* ------------------------------------------------------------------------
 * Reads (on a reader or, inside a write function, the writer connection)
 */

/*
 * One read transaction for several reads on a reader: they see one
 * snapshot, and pay the WAL read lock once. End it before the connection
 * is used for anything else or left idle (an open snapshot holds back
 * checkpoints). No-ops on the writer connection.
 */
int ud_store_snapshot_begin(ud_store_conn *c);
void ud_store_snapshot_end(ud_store_conn *c);

/*
 * Reads ahead, for the calls of one received message, the users
 * users[0..n) (GetUser's targets) and callers[0..m) (the calls' callers),
 * in one round trip (a shared store; elsewhere nothing is read and 0 is
 * answered): those read whole by one statement, and the targets the
 * store keeps from earlier read aheads by their revisions alone (another
 * statement in the same round trip; one changed since is read whole in a
 * second). Until ud_store_read_ahead_end, on this reader:
 *   - ud_store_user_get_ahead of one of users answers from what was read
 *     (a copy, without the password hash; UP_NOT_FOUND for one that was
 *     not there), as if the read had run at the moment of the read ahead,
 *     after the calls arrived;
 *   - ud_store_user_check of one of callers has its verdict from the same
 *     read, without a statement when the caller is at the revision given
 *     (when not, the user is read from the store, as after any check);
 *   - everything else, ud_store_user_get included, reads the store as
 *     ever.
 * On an error nothing is kept and every read goes to the server. Ids of 0
 * or less are ignored, repeated ones read once. UP_INVALID_ARGUMENT over
 * UD_STORE_AHEAD_MAX of either; PostgreSQL: UP_INTERNAL on a writer
 * connection or while a check is open.
 */
#define UD_STORE_AHEAD_MAX 64
int ud_store_read_ahead(ud_store_conn *c, const int64_t *users, size_t n,
			const int64_t *callers, size_t m);
void ud_store_read_ahead_end(ud_store_conn *c);
/* ud_store_user_get, or the user read ahead (ud_store_read_ahead); either
 * way without the password hash (a GetUser's target needs none). */
int ud_store_user_get_ahead(ud_store_conn *c, int64_t id, ud_user *out);

int ud_store_user_get(ud_store_conn *c, int64_t id, ud_user *out);
/* Zeroes u, manager_access -1 (unset): a user as the store fills them. */
void ud_store_user_init(ud_user *u);
/* A deep copy of src into dst (whatever dst held is not freed); 0 or
 * UP_INTERNAL (dst then empty). */
int ud_store_user_copy(ud_user *dst, const ud_user *src);
/* Case-insensitive lookup of the email. */
int ud_store_user_by_email(ud_store_conn *c, const char *email, ud_user *out);
/*
 * A user read earlier, kept by the caller with its revision (ud_user.rev,
 * which every change of the user's record, roles, permissions or
 * memberships advances), checked instead of read again:
 * ud_store_user_check(c, id, rev) starts the check, and
 * ud_store_user_check_end gives its verdict: 0 when the user is still at
 * that revision; UD_STORE_CHANGED with the stored user in *out (filled,
 * the caller finis it) when it changed; UP_NOT_FOUND when it is gone; or
 * the store's error. One check at a time per reader; end every check.
 * PostgreSQL sends the check with the next statement run on c, in the
 * same round trip (check_end sends it alone if none ran): a caller may go
 * on with the kept record meanwhile, as long as nothing it decides leaves
 * the thread before the verdict. SQLite keeps no revision: its verdict is
 * always UD_STORE_CHANGED with the user read then.
 */
#define UD_STORE_CHANGED 100
int ud_store_user_check(ud_store_conn *c, int64_t id, int64_t rev);
int ud_store_user_check_end(ud_store_conn *c, ud_user *out);
/*
 * Inside a write function: the write goes on only if user id is still at
 * revision rev (a record kept since, callers.h). PostgreSQL sends the
 * check with the write's next statement, in the same round trip, as a
 * statement that raises when the user changed or is gone: what the write
 * sent after it fails, and the write is rolled back and done with
 * UD_STORE_CHANGED, whatever its function returns. Send it first. A store
 * of this daemon alone answers 0 (every change is its own, reported).
 */
int ud_store_user_expect(ud_store_conn *c, int64_t id, int64_t rev);
int64_t ud_store_user_count(ud_store_conn *c); /* -1 on error */
/*
 * How many users who may sign in (not disabled) hold role, into *n. On the
 * writer connection of a shared store the rows counted are locked until
 * the write's transaction ends, so that two writes that each take the role
 * from one holder cannot both count the other.
 */
int ud_store_role_holders(ud_store_conn *c, const char *role, int64_t *n);

typedef struct ud_user_filter {
	const char *email_contains; /* case-insensitive substring, or NULL */
	const char *name_contains;  /* first or last name, case-insensitive */
	const char *org_id;         /* member of this organization */
	const char *role;           /* holds this role (exact) */
	/*
	 * When not NULL: only users who belong to at least one organization
	 * and all of whose organizations are among these.
	 */
	const ud_strv *scope_org_ids;
	int32_t skip;
	int32_t take;
	/* Keyset paging: only users whose id is above it (0: from the start);
	 * skip then counts from there. */
	int64_t after_id;
	/*
	 * The count into *total: 0 counts every match; > 0 stops counting
	 * past count_max matches (*total is then count_max + 1: "more
	 * than"); < 0 counts nothing (*total 0). Without filters SQLite
	 * reads the count of users it keeps (exact, whatever count_max
	 * says, but < 0); PostgreSQL counts as for a filter.
	 */
	int64_t count_max;
} ud_user_filter;

/*
 * Users ordered by id; total counts all matches ignoring skip/take and
 * after_id, as count_max says. Substring filters of 3 characters or more
 * use the store's trigram index (SQLite FTS5, PostgreSQL pg_trgm), whose
 * case folding is Unicode's; shorter ones scan, folding ASCII only.
 */
int ud_store_user_list(ud_store_conn *c, const ud_user_filter *f, ud_user **out,
		       size_t *n, int64_t *total);

int ud_store_org_get(ud_store_conn *c, const char *id, ud_org *out);
/*
 * Organizations ordered by name then id. parent_id NULL: all. When
 * scope_ids is not NULL, only those whose id is in it.
 */
int ud_store_org_list(ud_store_conn *c, const char *parent_id,
		      const ud_strv *scope_ids, int32_t skip, int32_t take,
		      ud_org **out, size_t *n, int64_t *total);
/*
 * ud_store_org_list from a keyset: only the organizations after
 * (after_name, after_id) in the list's order (name, then id); skip counts
 * from there. total still counts every organization the filters match.
 */
int ud_store_org_list_after(ud_store_conn *c, const char *parent_id,
			    const ud_strv *scope_ids, const char *after_name,
			    const char *after_id, int32_t skip, int32_t take,
			    ud_org **out, size_t *n, int64_t *total);
/* The ids of the given organizations and all their descendants. */
int ud_store_org_subtree(ud_store_conn *c, const ud_strv *roots, ud_strv *out);
/* The direct children of an organization, ordered by name. */
int ud_store_org_children(ud_store_conn *c, const char *parent_id, ud_org **out,
			  size_t *n);

/* ------------------------------------------------------------------------
 * Writes (only inside a write function, on the writer connection)
 */

/*
 * Inserts u (id, created/updated times and token_version are assigned and
 * written back into u). Roles, dashboard permissions and the memberships
 * in u->org_ids are stored too. UP_ALREADY_EXISTS if the email is taken
 * in any letter case; UP_INVALID_ARGUMENT if an org id does not exist.
 */
int ud_store_user_insert(ud_store_conn *c, ud_user *u);

/*
 * The users of an import, each created unless its email is taken: rows[i]
 * says what became of rows[i].u. rc 0: created (as ud_store_user_insert
 * does: id and times written back into u). UP_ALREADY_EXISTS: the email is
 * taken, in some letter case, by a stored user or an earlier row; stored
 * then holds that user as it is now (its id 0 when it could not be read:
 * gone again, or taken and given up by another writer meanwhile).
 * UP_INVALID_ARGUMENT: an organization of u does not exist (or u is not
 * valid). A stored user is never changed. stored is initialised here
 * (whatever it held is not freed); the caller finis it. Returns 0 or the
 * store's error (the write then fails as a whole). At most
 * UD_STORE_IMPORT_MAX rows. PostgreSQL sends the rows in one statement
 * and reads back those whose email was taken in one more; SQLite goes
 * row by row (each a lookup by email, then an insert).
 */
#define UD_STORE_IMPORT_MAX 1000
typedef struct ud_store_import {
	ud_user *u;
	int rc;
	ud_user stored;
} ud_store_import;
int ud_store_users_import(ud_store_conn *c, ud_store_import *rows, size_t n);
/* The sets of a user that ud_store_user_update writes. */
enum {
	UD_SET_ROLES = 1 << 0,
	UD_SET_PERMS = 1 << 1, /* dashboard permissions */
	UD_SET_ORGS = 1 << 2,  /* memberships */
	UD_SET_ALL = UD_SET_ROLES | UD_SET_PERMS | UD_SET_ORGS
};

/*
 * Replaces the stored record of u->id with u: every column, and the sets
 * named in sets (UD_SET_*); the other sets stay as stored, whatever u
 * holds. When bump_token is set the token version is incremented.
 * updated_at and token_version are written back into u. u must have been
 * read (ud_store_user_get) on this connection in this write function:
 * its created_at and token_version are then the stored ones, and are not
 * read back. UP_NOT_FOUND, UP_ALREADY_EXISTS; UP_INVALID_ARGUMENT when a
 * membership names an organization that does not exist.
 */
int ud_store_user_update(ud_store_conn *c, ud_user *u, unsigned sets,
			 bool bump_token);
int ud_store_user_delete(ud_store_conn *c, int64_t id);

/* Inserts o (id generated when NULL, created_at assigned). */
int ud_store_org_insert(ud_store_conn *c, ud_org *o);
/* UP_NOT_FOUND when the user or the organization does not exist. */
int ud_store_member_add(ud_store_conn *c, const char *org_id, int64_t user_id);
/* UP_NOT_FOUND when there was no such membership. */
int ud_store_member_remove(ud_store_conn *c, const char *org_id,
			   int64_t user_id);

/* ------------------------------------------------------------------------
 * The request log: the answers of committed writes by request id, so that
 * a write repeated after its daemon died (on another daemon, or on this
 * one after a restart) answers with the first answer instead of running
 * twice. The digest names what was asked (the method and the request
 * bytes): the same id with another digest is a different request.
 */

/*
 * 0 with *resp (malloc'd, the caller frees) and *len when the id is
 * recorded with this digest; UP_NOT_FOUND when it is not recorded;
 * UP_FAILED_PRECONDITION when it is recorded for another digest.
 */
int ud_store_request_get(ud_store_conn *c, const char *request_id,
			 const uint8_t digest[UD_REQUEST_DIGEST_LEN],
			 uint8_t **resp, size_t *len);
/*
 * Claims the id for the running write, first thing in its transaction
 * (a write function): UP_ALREADY_EXISTS when it is recorded already; on
 * PostgreSQL, a claim by another daemon's open transaction waits for that
 * transaction to end, so the same request never runs twice at once.
 * PostgreSQL answers 0 at once and sends the claim with the write's next
 * statement that waits for an answer: the write's statements run after
 * the claim, and a claim refused fails them (each answers
 * UP_ALREADY_EXISTS) and rolls the write back, whatever it returns.
 * ud_store_request_claimed gives the verdict.
 */
int ud_store_request_claim(ud_store_conn *c, const char *request_id,
			   const uint8_t digest[UD_REQUEST_DIGEST_LEN],
			   int64_t now_ms);
/*
 * The verdict on the running write's claim (waiting for it if need be):
 * 0 claimed, UP_ALREADY_EXISTS when another transaction recorded the id
 * first, another code when the claim failed, UP_NOT_FOUND when the write
 * claimed nothing.
 */
int ud_store_request_claimed(ud_store_conn *c);
/*
 * Records the answer of the id claimed in this transaction: it commits
 * with the write or not at all. UP_NOT_FOUND when the id was not claimed.
 */
int ud_store_request_answer(ud_store_conn *c, const char *request_id,
			    const uint8_t *resp, size_t len);
/*
 * Records the id and its answer at once, last thing in the write's
 * transaction: UP_ALREADY_EXISTS when the id is recorded already (the
 * write must then be rolled back). For a store that is not shared, where
 * no other transaction can take the id meanwhile; a shared store claims
 * the id first and answers it last (one statement more, on SQLite a row
 * written twice).
 */
int ud_store_request_record(ud_store_conn *c, const char *request_id,
			    const uint8_t digest[UD_REQUEST_DIGEST_LEN],
			    int64_t now_ms, const uint8_t *resp, size_t len);
/* Forgets answers recorded before before_ms (a write function). */
int ud_store_request_prune(ud_store_conn *c, int64_t before_ms);

/* ------------------------------------------------------------------------
 * Sign-in state per folded user name (lockout.h keeps the policy), for
 * stores shared by several daemons. On a writer connection login_get locks
 * the row until the write's transaction ends (also when there is no row
 * yet), so that a read, a change by the policy and a put are one step.
 */

int ud_store_login_get(ud_store_conn *c, const char *key, ud_login_state *out);
int ud_store_login_put(ud_store_conn *c, const char *key,
		       const ud_login_state *s);
int ud_store_login_delete(ud_store_conn *c, const char *key);
/* Forgets the states last touched (attempt or lock end) before before_s. */
int ud_store_login_prune(ud_store_conn *c, int64_t before_s);

/* ------------------------------------------------------------------------
 * Refresh tokens. Every refresh token the daemon hands out is recorded, so
 * that each is traded for the next only once and a sign-in can be revoked.
 * A sign-in starts a family, named by the id of its first token; a refresh
 * marks the token it was given used and records the next one of the same
 * family. Ids are 32 lowercase hex digits (ud_random_id_new). A deleted
 * user's tokens are deleted with it.
 */

/*
 * Records t (t->used is ignored: a new token is not used). UP_ALREADY_EXISTS
 * when its id is recorded already; UP_INVALID_ARGUMENT when an id is
 * malformed or the user does not exist.
 */
int ud_store_refresh_insert(ud_store_conn *c, const ud_refresh_token *t);
/*
 * The token jti of family into *out: UP_NOT_FOUND when there is none
 * (never recorded, revoked, pruned, or of another family). On a writer
 * connection the family is locked first, until the write's transaction
 * ends: the refreshes and revocations of one family run one after the
 * other, whichever daemons run them.
 */
int ud_store_refresh_get(ud_store_conn *c, const char *family, const char *jti,
			 ud_refresh_token *out);
/* Marks the token used: UP_NOT_FOUND when it is not recorded or used. */
int ud_store_refresh_use(ud_store_conn *c, const char *jti);
/*
 * Revokes every token of the family (forgets them: none refreshes again);
 * 0 also when there is none. Locks the family as ud_store_refresh_get.
 */
int ud_store_refresh_revoke(ud_store_conn *c, const char *family);
/* Forgets the tokens that expired before before_s (unix seconds). */
int ud_store_refresh_prune(ud_store_conn *c, int64_t before_s);

/* ------------------------------------------------------------------------
 * Operations and tooling (added by the store; nothing above changed)
 */

/* Counters of the writer since the store was opened. */
typedef struct ud_store_counters {
	uint64_t writes;          /* write functions run (done called) */
	uint64_t commits;         /* batches committed */
	uint64_t commit_failures; /* batches rolled back (UP_UNAVAILABLE) */
	uint64_t checkpoints;     /* WAL checkpoints run by the writer */
	uint64_t copies;          /* WAL copied by the copier (SQLite) */
	uint64_t largest_batch;   /* most writes in one commit */
	uint64_t queued;          /* writes waiting now */
	/* Waits for the database server's answers, every connection
	 * (PostgreSQL; SQLite: 0, it runs in the process). */
	uint64_t round_trips;
	/* Time the writer spent in batches, BEGIN to COMMIT with the
	 * commit's fsync, in ns (SQLite; PostgreSQL: 0, the commit is the
	 * server's). */
	uint64_t batch_ns;
	/* SQLite: users whose search-index entries wait for the writer (an
	 * upper bound; 0: the index is complete), and entries it brought up
	 * to date so far. PostgreSQL: 0 (its index is kept in each write). */
	uint64_t index_pending;
	uint64_t index_rows;
	/* SQLite: 1 while the idle writer has the index's segments to merge
	 * into one (searches are faster after), else 0. */
	uint64_t index_merging;
	/* PostgreSQL: GetUser targets of read aheads answered from the users
	 * the daemon keeps, their revisions unchanged (SQLite: 0). */
	uint64_t kept_hits;
} ud_store_counters;

void ud_store_stats(ud_store *st, ud_store_counters *out);

/*
 * Applies the migrations up to target_version (<= 0: all) to the database
 * named by target (SQLite: which must not be open; the lock is taken), and
 * closes it. For tooling and tests: ud_store_open applies every pending
 * migration itself.
 */
int ud_store_migrate(const char *target, int target_version);
/* The highest migration number the backend of target knows. */
int ud_store_schema_latest(const char *target);

#endif /* UD_STORE_H */
