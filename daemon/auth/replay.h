/*
 * replay.h - answers a repeated request id with the first answer.
 *
 * nng's REQ resends a request that was slow, and callers retry; a write
 * must not run twice. Each request id (with a digest of who asked what:
 * the method, the authenticated caller and the payload) is remembered for
 * a window with its encoded response envelope, when that answer is final
 * (see ud_replay_finish).
 *
 *   ud_replay_begin() -> UD_REPLAY_NEW:     run it, then ud_replay_finish()
 *                     -> UD_REPLAY_DONE:    *resp holds a copy of the answer
 *                     -> UD_REPLAY_PENDING: the first is still running; the
 *                                           waiter is called with the answer
 *                                           when it finishes
 *                     -> UD_REPLAY_MISMATCH: same id, other method/payload
 *                     -> UD_REPLAY_BUSY:     cannot be taken safely now
 *
 * Bounded: at most max_entries ids, each kept window_s seconds. Thread-safe;
 * waiters are called on the thread that calls ud_replay_finish(), outside
 * the table's lock.
 *
 * When the table cannot take the request safely, ud_replay_begin() answers
 * UD_REPLAY_BUSY, so that nothing runs twice; the caller answers it as
 * an error the client may retry (e.g. UP_ABORTED). That happens when:
 *   - a pending id already has UD_REPLAY_MAX_WAITERS waiters;
 *   - the table holds max_entries ids and all are pending (finished ones
 *     are evicted oldest first to make room);
 *   - memory runs out (the entry or the copy of the answer).
 * A NULL request_id or digest is answered UD_REPLAY_MISMATCH.
 * Pending entries never expire: every UD_REPLAY_NEW must be finished.
 */
#ifndef UD_REPLAY_H
#define UD_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most callers that can wait on one pending id (see above beyond it). */
#define UD_REPLAY_MAX_WAITERS 8

typedef struct ud_replay ud_replay;

typedef enum ud_replay_state {
	UD_REPLAY_NEW = 0,
	UD_REPLAY_DONE = 1,
	UD_REPLAY_PENDING = 2,
	UD_REPLAY_MISMATCH = 3,
	UD_REPLAY_BUSY = 4,
} ud_replay_state;

/* Called once with the finished answer (not owned: copy what you keep). */
typedef void (*ud_replay_waiter_fn)(const uint8_t *resp, size_t len, void *arg);

/* 0, UP_INVALID_ARGUMENT (max_entries 0) or UP_INTERNAL. */
int ud_replay_alloc(ud_replay **out, unsigned window_s, unsigned max_entries);
/* Frees the table; waiters still registered are never called. */
void ud_replay_free(ud_replay *r);

#define UD_REPLAY_DIGEST_LEN 32

/*
 * What a request id stands for: SHA-256 of the method, a 0 byte, the
 * authenticated caller's user id (subject; 0 for an operation open to
 * anonymous callers) as 8 bytes big-endian, and the request bytes (payload
 * may be NULL when len is 0). The same id and request from another caller
 * is another request: it never gets this one's answer. The request log
 * keeps the same digest.
 */
void ud_replay_digest(const char *method, int64_t subject,
		      const uint8_t *payload, size_t len,
		      uint8_t out[UD_REPLAY_DIGEST_LEN]);

/*
 * resp/resp_len are set only for UD_REPLAY_DONE: a malloc'd copy the
 * caller frees (NULL/0 otherwise). waiter/arg are kept only for
 * UD_REPLAY_PENDING (with waiter NULL, PENDING is answered and nothing is
 * kept). request ids are compared exactly; requests by their digest
 * (ud_replay_digest).
 */
ud_replay_state ud_replay_begin(ud_replay *r, const char *request_id,
				const uint8_t digest[UD_REPLAY_DIGEST_LEN],
				int64_t now_s, ud_replay_waiter_fn waiter,
				void *arg, uint8_t **resp, size_t *resp_len);
/*
 * Ends a request begun as UD_REPLAY_NEW and calls its waiters with resp.
 * keep: the answer is final (a success, or the caller's own error) and is
 * kept for the window, so a retry gets it. Not kept (an answer a retry may
 * not get again: the store busy or down, a deadline, a conflict to retry,
 * an internal error), or resp NULL (no answer: cancelled, out of memory):
 * the id is forgotten at once, and a retry runs again; the waiters parked
 * on it meanwhile (the same caller's same request, sent again while it
 * ran) get this answer all the same ((NULL, 0) without one), as if they
 * had run at that moment. Waiters get the caller's resp pointer, valid
 * only during their call. An id that is unknown or already finished is
 * ignored.
 */
void ud_replay_finish(ud_replay *r, const char *request_id, const uint8_t *resp,
		      size_t len, bool keep);

#endif
