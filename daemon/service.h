/*
 * service.h - the daemon's shared state and the life of one call.
 *
 * A call (ud_call) is born in the nng receive callback of one server
 * context, and runs as a chain of stages:
 *
 *   nng thread     decode envelope, deadline, unpack, bounds and UTF-8
 *                  checks, authenticate, replay check, role gate,
 *                  handler: CPU work and WAL reads of a few pages, which
 *                  never wait for a writer; each nng thread has its own
 *                  read connection (with a shared store, PostgreSQL, whose
 *                  reads are round trips, this stage runs on a worker).
 *                  Anything that waits goes elsewhere:
 *   worker         continues a call after the hasher (may read)
 *   hasher         password hash / verify (only when the call needs it)
 *   writer         the store's write function, inside a group commit
 *   any of these   ud_call_finish(): pack the envelope, hand the answer to
 *                  the server (its connection's outbox), free the call
 *
 * A call is owned by whichever stage runs it; it is handed on, never
 * shared. Exactly one ud_call_finish() per call.
 */
#ifndef UD_SERVICE_H
#define UD_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "callers.h"
#include "jwt.h"
#include "metrics.h"
#include "lockout.h"
#include "password.h"
#include "pool.h"
#include "replay.h"
#include "seal.h"
#include "store.h"
#include "token_cache.h"
#include "users_proto.h"

/* Returned by a handler that finishes the call later (hash, write). */
#define UD_ASYNC (-1)
/*
 * Returned by a write function (ud_call_write) whose writes commit though
 * the call fails, with the status and error it set with ud_call_fail: a
 * refresh token used twice revokes its family and is refused.
 */
#define UD_COMMIT_FAIL (-2)

typedef struct ud_config {
	const char **listen; /* URLs */
	size_t n_listen;
	const char *db_path;    /* a SQLite path or a PostgreSQL URL */
	unsigned db_writers;    /* PostgreSQL writer connections (0: 2) */
	unsigned index_idle_ms; /* SQLite: see ud_store_config (0: 20) */
	const char *key_file;
	const char *log_file; /* stderr goes there (NULL: stays) */
	const char *tls_cert;
	const char *tls_key;
	const char *tls_ca;
	const char *bootstrap_admin;
	unsigned contexts;
	bool hop_nng; /* ipc:// and tcp:// through nng's threads, not loop.c */
	unsigned workers;
	unsigned hashers;
	ud_password_cost hash_cost;
	unsigned access_ttl_s;
	unsigned refresh_ttl_s;
	size_t max_message;
	unsigned replay_window_s;
	unsigned replay_max;
} ud_config;

struct ud_reply_to;

typedef void (*ud_hold_fn)(bool begin);

typedef struct ud_service {
	const ud_config *cfg;
	ud_store *store;
	ud_jwt_key key;
	ud_seal_key log_key; /* seals the request log's answers (seal.h) */
	ud_lockout *lockout;
	ud_replay *replay;
	ud_token_cache *tokens;
	ud_callers *callers; /* the callers' records, kept between calls */
	ud_pool *workers;
	ud_pool *hashers;
	/* A fixed hash to verify against for unknown users (same time). */
	char dummy_hash[UD_PASSWORD_HASH_MAX];
	atomic_int in_flight;
	/* Calls ended, kept for the next (ud_call_free, call_new): a call
	 * is some 3 KiB, allocated on a receiving thread and freed on the
	 * one that answers; under calls_mu. */
	pthread_mutex_t calls_mu;
	struct ud_call *free_calls;
	size_t n_free_calls;
	atomic_uint logged;            /* answers recorded in the request log */
	_Atomic int64_t log_pruned_ms; /* when the request log was pruned */
	atomic_uint login_failures;    /* recorded in a shared store */
	atomic_uint refresh_tokens;    /* recorded (the expired are pruned) */
	ud_metrics metrics; /* calls, latency, refusals (metrics.h) */
	/* Read connections opened by nng threads, closed at fini. */
	pthread_mutex_t readers_mu;
	ud_store_conn **readers;
	size_t n_readers;
	/*
	 * The server's hooks (server.c): send a call's answer (once per
	 * call, from whichever thread finished it), and let go of where it
	 * went once the call is freed.
	 */
	void (*send)(const struct ud_reply_to *to, const uint8_t *buf,
		     size_t len);
	void (*release)(struct ud_reply_to *to);
	/*
	 * Around a group of answers sent by one thread (begin true, then
	 * false): what send queues in between leaves together at the end.
	 * NULL: each answer leaves as send finds it.
	 */
	_Atomic(ud_hold_fn) hold; /* set once the server starts */
} ud_service;

/* The longest request id a call may carry. */
#define UD_REQUEST_ID_MAX 128
/* A request id scoped to its caller: a user id (20 digits), ':', the id. */
#define UD_REPLAY_KEY_MAX (20 + 1 + UD_REQUEST_ID_MAX + 1)

/*
 * Where a call's answer goes: filled by the server when the call arrives
 * and only carried by the rest of the daemon. The peer is the server's
 * connection (the call holds a reference to it until it is freed); call
 * is the call's number in its batch; a single envelope (batch false) is
 * answered alone, with its own nng header.
 */
#define UD_REPLY_HEADER_MAX 64
typedef struct ud_reply_to {
	void *peer;
	uint32_t call;
	bool batch;
	uint8_t header_len;
	uint8_t header[UD_REPLY_HEADER_MAX];
} ud_reply_to;

typedef struct ud_call ud_call;
typedef int (*ud_step_fn)(ud_call *c);

/*
 * What a call's envelope and request are unpacked into: a bump allocator
 * over the call's own bytes (UD_CALL_ARENA), with a malloc'd chunk for
 * what does not fit, all wiped and let go at once by ud_call_free. An
 * unpacked request is a dozen small allocations, made on the receiving
 * thread and freed, one by one, on the thread that answers (the writer,
 * for a write): one allocation (the call) instead.
 */
#define UD_CALL_ARENA 2048

typedef struct ud_call_chunk {
	struct ud_call_chunk *next;
	size_t size;
	max_align_t data[];
} ud_call_chunk;

struct ud_call {
	ud_service *svc;
	struct ud_call *next_free; /* in svc->free_calls */
	ud_reply_to to;            /* where the answer goes */
	int64_t received_ms;
	/* env and req live in the arena (never free_unpacked) */
	ProtobufCAllocator arena_alloc;
	size_t arena_used;
	ud_call_chunk *arena_chunks;
	Users__V1__RequestEnvelope *env;
	const up_method *method;
	ProtobufCMessage *req;
	bool replayable; /* registered in the replay table */
	/* Of a write with a request id: the id as the replay table and the
	 * request log know it, "<caller's user id>:<request id>". */
	char replay_key[UD_REPLAY_KEY_MAX];
	/* Of a write with a request id: what the id stands for. */
	uint8_t digest[UD_REQUEST_DIGEST_LEN];
	/* The answer, packed and recorded in the request log with the
	 * write (owned; used when the write commits). */
	uint8_t *packed;
	size_t packed_len;
	bool logged_elsewhere; /* another daemon committed the id first */
	bool commit_fail;      /* the write returned UD_COMMIT_FAIL */

	/* A sign-in (ud_call_sign_in): its name and password (owned by the
	 * request), the user it fills, and the stage after the check. */
	const char *login_name;
	const char *login_password;
	ud_user *login_user;
	ud_step_fn login_next;
	int login_rc;     /* the store's answer to the reservation */
	bool login_held;  /* holds a reserved attempt, no verdict yet */
	bool login_dummy; /* checked against the dummy hash: never a match */

	/* The authenticated caller (id 0: anonymous). */
	ud_user actor;
	/*
	 * A bearer caller's record kept from an earlier call, not checked
	 * against the shared store yet: the call's write checks it in its
	 * own transaction (callers.h), and a stale one runs the call again
	 * (ud_call_caller_changed) with the record read anew. token_tv: the
	 * token's version, to judge that record by.
	 */
	bool caller_unchecked;
	int64_t token_tv;

	/* The reader of the worker running the call (NULL elsewhere). */
	ud_store_conn *reader;

	/* The outcome. */
	int status;
	Users__V1__ResponseStatus *error; /* owned */
	ProtobufCMessage *resp;           /* owned, malloc'd pieces */

	/* Work handed between stages. */
	ud_step_fn next; /* what runs after the hasher */
	ud_store_write_fn write;
	char *password; /* plaintext to hash/verify (owned, wiped) */
	char *hash;     /* the hash to verify, or the result */
	int hash_rc;
	ud_user target; /* record a handler works on */
	void *op;       /* handler-specific state */
	void (*op_free)(void *op);
	/* Gives back what a stage holds (the sign-in's reservation) when the
	 * call ends without its verdict; NULL: nothing. */
	void (*release)(ud_call *c);
	_Alignas(max_align_t) uint8_t arena[UD_CALL_ARENA];
};

/* service.c */
int ud_service_init(ud_service *svc, const ud_config *cfg);
void ud_service_fini(ud_service *svc);
/*
 * Runs the first stage of a call on the calling (nng) thread (with a shared
 * store, on a worker). Unpacks the envelope of len bytes env into the call
 * (bytes that are no envelope: answered INVALID_ARGUMENT; the caller keeps
 * and wipes env) and takes the reference to to's peer.
 */
void ud_service_submit(ud_service *svc, const ud_reply_to *to,
		       const uint8_t *env, size_t len);
/*
 * Around the calls of one received batch, on its nng thread: with SQLite,
 * one read snapshot of the thread's read connection for all their first
 * stages (one WAL read lock, and the caller's record read once: a
 * reader keeps its last users while nothing was committed in its
 * snapshot). The calls of a batch were sent together, so none may expect
 * another's write. With a shared store, the batch's GetUser calls go to
 * one worker as a read group (dispatch.c), which reads their users and
 * callers ahead in one round trip; batch_end sends the group.
 */
void ud_service_batch_begin(ud_service *svc);
void ud_service_batch_end(ud_service *svc);
/* Answers to with status at once (a call refused before it is read). */
void ud_service_refuse(ud_service *svc, const ud_reply_to *to, int status);

/* call.c: the one exit (answers, records the answer, frees the call) */
void ud_call_finish(ud_call *c, int status);

/* stages.c: the hand-offs */
/* Hashes c->password on the hashers into c->hash, then runs next on a
 * worker (c->hash_rc: the hasher's code). */
int ud_call_hash(ud_call *c, ud_step_fn next);
/*
 * Runs c->write on the store writer, then finishes with its code (with
 * c->status when it returned UD_COMMIT_FAIL and the write committed).
 */
int ud_call_write(ud_call *c, ud_store_write_fn fn);
/*
 * The same for a write whose fn first reads user (ud_store_user_get) and
 * then updates it: the store is told so (ud_store_write_ahead), with the
 * caller's check and the request id's claim that run before fn.
 */
int ud_call_write_user(ud_call *c, ud_store_write_fn fn, int64_t user);

/*
 * signin.c: signing in with a name and password (Authenticate, Basic
 * credentials),
 * under the lockout of user names (lockout.h), kept in this process's
 * table or, when the store is shared by several daemons, in the store.
 *   sign_in: first reserves one attempt for name (on a shared store in a
 *     write transaction that locks the name's row); refused (the call
 *     failed UP_RESOURCE_EXHAUSTED, nothing hashed) while the name is
 *     locked or its free attempts are all taken by failures and attempts
 *     still running. Then reads the name's user into *u and verifies
 *     password against its hash (a name without a user, or a user without
 *     a password, against the dummy hash: the same time, and never a
 *     match), then runs next on a worker with c->hash_rc 0 only when the
 *     password matched. Returns UD_ASYNC, or the status the call was
 *     failed with. name, password and u must live as long as the call.
 *   login_failed: after next found no match: the attempt becomes a
 *     failure, and the call is failed UNAUTHENTICATED with
 *     error_code/message; returns the status, or UD_ASYNC when the answer
 *     waits for the store's commit;
 *   login_ok: after a match: clears the name.
 * A call that ends holding its attempt without either (the hashers full,
 * the store unavailable, cancelled) gives it back when it is freed.
 */
int ud_call_sign_in(ud_call *c, const char *name, const char *password,
		    ud_user *u, ud_step_fn next);
int ud_call_login_failed(ud_call *c, const char *error_code,
			 const char *message);
void ud_call_login_ok(ud_call *c);

/* call.c: errors; the first sets the top-level code and message. */
int ud_call_fail(ud_call *c, int status, const char *error_code,
		 const char *message);
int ud_call_field_error(ud_call *c, const char *field, const char *error_code,
			const char *message);

/* handlers.c: the table of operations, by method name. */
typedef struct ud_handler {
	const char *method;
	ud_step_fn run; /* on a worker, after the gate */
} ud_handler;
const ud_handler *ud_handler_find(const char *method);
extern const ud_handler ud_user_handlers[];
extern const ud_handler ud_org_handlers[];
extern const ud_handler ud_auth_handlers[];

#endif /* UD_SERVICE_H */
