/*
 * store_backend.h - what a store backend implements (internal to the
 * store: store.c and the backends include it, nothing else does).
 *
 * store.h is the interface the daemon uses; store.c picks a backend by the
 * scheme of the target given to ud_store_open() ("postgresql://" or
 * "postgres://": PostgreSQL; anything else is a SQLite path) and forwards
 * every call through the backend's ops table. Each backend's ud_store and
 * ud_store_conn begin with the base structs below, so store.c can reach
 * the table from either handle.
 *
 * Every op has the contract of the store.h function of the same name.
 */
#ifndef UD_STORE_BACKEND_H
#define UD_STORE_BACKEND_H

#include <pthread.h>

#include "store.h"

typedef struct ud_store_ops ud_store_ops;

/* The first member of every backend's ud_store. */
typedef struct ud_store_base {
	const ud_store_ops *ops;
} ud_store_base;

/* The first member of every backend's ud_store_conn. */
typedef struct ud_store_conn_base {
	const ud_store_ops *ops;
} ud_store_conn_base;

struct ud_store_ops {
	const char *name; /* "sqlite", "postgresql" */
	/* Several daemons may open the same database at once. */
	bool shared;

	int (*open)(ud_store **out, const char *target,
		    const ud_store_config *cfg);
	int (*migrate)(const char *target, int target_version);
	int (*schema_latest)(void);
	void (*close)(ud_store *st);
	int (*schema_version)(ud_store *st);
	void (*stats)(ud_store *st, ud_store_counters *out);

	int (*reader_open)(ud_store *st, ud_store_conn **out);
	void (*reader_close)(ud_store_conn *c);
	/* hint: NULL, or what the write will do first (a copy is kept) */
	int (*write)(ud_store *st, ud_store_write_fn fn, ud_store_done_fn done,
		     void *arg, const ud_store_hint *hint);
	/* NULL: nothing to do (ud_store_index_sync). */
	int (*index_sync)(ud_store *st);
	/* True on one of the store's own writer threads. */
	bool (*on_writer)(ud_store *st);

	int (*snapshot_begin)(ud_store_conn *c);
	void (*snapshot_end)(ud_store_conn *c);
	/* NULL: nothing read ahead (ud_store_read_ahead answers 0) */
	int (*read_ahead)(ud_store_conn *c, const int64_t *users, size_t n,
			  const int64_t *callers, size_t m);
	void (*read_ahead_end)(ud_store_conn *c);
	/* NULL: user_get */
	int (*user_get_ahead)(ud_store_conn *c, int64_t id, ud_user *out);

	int (*user_get)(ud_store_conn *c, int64_t id, ud_user *out);
	int (*user_by_email)(ud_store_conn *c, const char *email, ud_user *out);
	int (*user_check)(ud_store_conn *c, int64_t id, int64_t rev);
	int (*user_check_end)(ud_store_conn *c, ud_user *out);
	/* NULL: always 0 (a store of this daemon alone) */
	int (*user_expect)(ud_store_conn *c, int64_t id, int64_t rev);
	int64_t (*user_count)(ud_store_conn *c);
	int (*role_holders)(ud_store_conn *c, const char *role, int64_t *n);
	int (*user_list)(ud_store_conn *c, const ud_user_filter *f,
			 ud_user **out, size_t *n, int64_t *total);
	int (*org_get)(ud_store_conn *c, const char *id, ud_org *out);
	int (*org_list)(ud_store_conn *c, const char *parent_id,
			const ud_strv *scope_ids, int32_t skip, int32_t take,
			ud_org **out, size_t *n, int64_t *total);
	int (*org_subtree)(ud_store_conn *c, const ud_strv *roots,
			   ud_strv *out);
	int (*org_children)(ud_store_conn *c, const char *parent_id,
			    ud_org **out, size_t *n);

	int (*user_insert)(ud_store_conn *c, ud_user *u);
	/* NULL: ud_store_users_import looks up and inserts row by row */
	int (*users_import)(ud_store_conn *c, ud_store_import *rows, size_t n);
	int (*user_update)(ud_store_conn *c, ud_user *u, unsigned sets,
			   bool bump_token);
	int (*user_delete)(ud_store_conn *c, int64_t id);
	int (*org_insert)(ud_store_conn *c, ud_org *o);
	int (*member_add)(ud_store_conn *c, const char *org_id,
			  int64_t user_id);
	int (*member_remove)(ud_store_conn *c, const char *org_id,
			     int64_t user_id);

	int (*request_get)(ud_store_conn *c, const char *request_id,
			   const uint8_t digest[UD_REQUEST_DIGEST_LEN],
			   uint8_t **resp, size_t *len);
	int (*request_claim)(ud_store_conn *c, const char *request_id,
			     const uint8_t digest[UD_REQUEST_DIGEST_LEN],
			     int64_t now_ms);
	int (*request_claimed)(ud_store_conn *c);
	int (*request_answer)(ud_store_conn *c, const char *request_id,
			      const uint8_t *resp, size_t len);
	/* NULL: ud_store_request_record claims, then answers */
	int (*request_record)(ud_store_conn *c, const char *request_id,
			      const uint8_t digest[UD_REQUEST_DIGEST_LEN],
			      int64_t now_ms, const uint8_t *resp, size_t len);
	int (*request_prune)(ud_store_conn *c, int64_t before_ms);

	int (*login_get)(ud_store_conn *c, const char *key,
			 ud_login_state *out);
	int (*login_put)(ud_store_conn *c, const char *key,
			 const ud_login_state *s);
	int (*login_delete)(ud_store_conn *c, const char *key);
	int (*login_prune)(ud_store_conn *c, int64_t before_s);

	int (*refresh_insert)(ud_store_conn *c, const ud_refresh_token *t);
	int (*refresh_get)(ud_store_conn *c, const char *family,
			   const char *jti, ud_refresh_token *out);
	int (*refresh_use)(ud_store_conn *c, const char *jti);
	int (*refresh_revoke)(ud_store_conn *c, const char *family);
	int (*refresh_prune)(ud_store_conn *c, int64_t before_s);

	int (*org_list_after)(ud_store_conn *c, const char *parent_id,
			      const ud_strv *scope_ids, const char *after_name,
			      const char *after_id, int32_t skip, int32_t take,
			      ud_org **out, size_t *n, int64_t *total);
};

/* ------------------------------------------------------------------------
 * What every backend bounds, and helpers they share (store_common.c)
 */

#define UD_STORE_QUEUE_MAX      65536 /* queued writes before UP_UNAVAILABLE */
#define UD_STORE_FILTER_MAX     1024  /* bytes of a substring filter or id */
#define UD_STORE_SET_MAX        10000 /* ids in a scope or roots list */
#define UD_STORE_USER_SET_MAX   1000  /* roles, permissions, orgs of a user */
#define UD_STORE_TAKE_DEFAULT   50
#define UD_STORE_TAKE_MAX       1000
#define UD_STORE_TREE_DEPTH_MAX 64

/* The string members of ud_user in the backends' column order (1..11). */
extern const size_t ud_user_str_off[];
#define UD_USER_N_STR 11
char **ud_store_user_str(ud_user *u, size_t i);
/* "%" + s with %, _ and \ escaped + "%" (LIKE ... ESCAPE '\'), malloc'd;
 * UP_INVALID_ARGUMENT past UD_STORE_FILTER_MAX. */
int ud_store_like_pattern(const char *s, char **out);
/* take: 1..UD_STORE_TAKE_MAX (UD_STORE_TAKE_DEFAULT when <= 0); skip >= 0. */
void ud_store_bound_page(int32_t *skip, int32_t *take);
/* The user's primary organization normalised into buf (*out NULL when
 * none); UP_INVALID_ARGUMENT when it is not a Guid. */
int ud_store_primary_org(const ud_user *u, char buf[33], const char **out);

/*
 * The queue of writes waiting for a backend's writer thread(s): FIFO,
 * bounded by UD_STORE_QUEUE_MAX. mu guards every field (a backend may
 * guard its own counters with it too); cv wakes the writers.
 */
typedef struct ud_store_job {
	struct ud_store_job *next;
	ud_store_write_fn fn;
	ud_store_done_fn done;
	void *arg; /* for fn and done */
	int rc;    /* fn's, for a backend that runs jobs in batches */
	bool hinted;
	ud_store_hint hint; /* when hinted (ud_store_write_ahead) */
} ud_store_job;

typedef struct ud_store_jobq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ud_store_job *head;
	ud_store_job *tail;
	size_t queued;
	bool closing; /* no more jobs are taken */
} ud_store_jobq;

void ud_store_jobq_init(ud_store_jobq *q);
void ud_store_jobq_fini(ud_store_jobq *q); /* the queue must be empty */
/* 0, UP_UNAVAILABLE (closing or full) or UP_INTERNAL. */
int ud_store_jobq_push(ud_store_jobq *q, ud_store_write_fn fn,
		       ud_store_done_fn done, void *arg,
		       const ud_store_hint *hint);
/* Sets closing and wakes every writer. */
void ud_store_jobq_close(ud_store_jobq *q);
/*
 * With q->mu held: waits on q->cv for at most ms milliseconds. 0 when
 * woken (a push, a close, or spuriously), ETIMEDOUT when the time passed.
 */
int ud_store_jobq_wait_ms(ud_store_jobq *q, unsigned ms);
/*
 * With q->mu held: takes up to max jobs from the head, as a NULL-ended
 * list (the caller frees each), and their count into *n; NULL when empty.
 */
ud_store_job *ud_store_jobq_take(ud_store_jobq *q, size_t max, size_t *n);

/*
 * Answers a list of finished jobs on the calling thread: each job's done
 * function, in order, between round(arg, true) and round(arg, false)
 * (cfg->answers; may be NULL), and frees each job.
 */
void ud_store_jobs_answer(ud_store_job *batch, void (*round)(void *, bool),
			  void *arg);

/*
 * Answers of finished writes, run off the writer thread (the PostgreSQL
 * backend's; SQLite's writer answers its batch itself with
 * ud_store_jobs_answer, a wake-up less per commit): a backend that
 * commits a batch at a time pushes the batch here (each job's rc final)
 * and starts on the next batch while this queue's own thread calls each
 * job's done function, in order, and frees the job. Sending answers is
 * then no longer part of the writer's cycle. Its thread runs enter(arg)
 * first (a backend marks it as one of its own: done functions may not
 * wait for a write).
 */
typedef struct ud_store_doneq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ud_store_job *head;
	ud_store_job *tail;
	bool closing;
	bool started;
	pthread_t thread;
	void (*enter)(void *arg);
	void *enter_arg;
	void (*round)(void *arg, bool begin); /* cfg->answers */
	void *round_arg;
} ud_store_doneq;

/* 0 or UP_INTERNAL (no thread). enter runs first on the thread; cfg (may
 * be NULL) gives the answers hook. */
int ud_store_doneq_start(ud_store_doneq *d, void (*enter)(void *), void *arg,
			 const ud_store_config *cfg);
/* Takes a NULL-ended list of jobs. */
void ud_store_doneq_push(ud_store_doneq *d, ud_store_job *batch);
/* Runs what is queued, then ends the thread; d may be started again. */
void ud_store_doneq_stop(ud_store_doneq *d);

/*
 * The users changed by the writes of one transaction, reported to
 * cfg->changed once it committed (a writer's, unlocked); kept with no
 * cfg->changed too (PostgreSQL forgets those users it keeps). Bounded:
 * past UD_STORE_CHANGES_MAX ids, or when memory runs out, it reports "any
 * user" (0) instead.
 */
#define UD_STORE_CHANGES_MAX 4096

typedef struct ud_store_changes {
	void (*fn)(void *arg, int64_t id); /* cfg->changed; NULL: none */
	void *arg;
	int64_t *ids;
	size_t n, cap;
	bool all;
} ud_store_changes;

void ud_store_changes_init(ud_store_changes *ch, const ud_store_config *cfg);
void ud_store_changes_fini(ud_store_changes *ch);
void ud_store_changes_add(ud_store_changes *ch, int64_t id);
/* Reports what was added (the transaction committed), then empties. */
void ud_store_changes_report(ud_store_changes *ch);
/* Empties without reporting (the transaction was rolled back). */
void ud_store_changes_clear(ud_store_changes *ch);

extern const ud_store_ops ud_store_sqlite_ops;
extern const ud_store_ops ud_store_pg_ops;

#endif /* UD_STORE_BACKEND_H */
