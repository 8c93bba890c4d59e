/*
 * call.h - internal to the life of a call (dispatch.c, stages.c,
 * signin.c, call.c): what these modules hand each other. Handlers use
 * service.h alone.
 *
 *   dispatch.c  the first stage: decode, authenticate, replay, gate,
 *               the handler
 *   signin.c    a sign-in (Authenticate, Basic credentials) and the
 *               lockout of its name
 *   stages.c    the hand-offs: hashers, workers, the store's writer with
 *               the request log, the replay table
 *   call.c      errors, the answer, the one exit, the end of a call
 */
#ifndef UD_CALL_H
#define UD_CALL_H

#include "service.h"

/* call.c */
/* The answer's envelope for status (malloc'd; NULL when out of memory). */
uint8_t *ud_call_pack(ud_call *c, int status, size_t *len);
/*
 * Whether an answer is final for its request: a success, or the caller's
 * own error, which a retry would get again. The others (the store busy or
 * down, a deadline, a conflict to retry, an internal error) may not be
 * what a retry gets: its request id is forgotten, and a retry runs again.
 */
bool ud_call_answer_final(int status);
/* Frees c without answering (it was answered another way). */
void ud_call_free(ud_call *c);
/* A call object with every field zero but its arena (one kept by
 * ud_call_free, else a new one), or NULL. */
ud_call *ud_call_alloc(ud_service *svc);
/* Frees the call objects ud_call_free kept (ud_service_fini). */
void ud_call_pool_fini(ud_service *svc);
/* Readies the call's arena (service.h); call_new does. */
void ud_call_arena_init(ud_call *c);
/* Forgets the password work of a stage that is done with it. */
void ud_call_password_clear(ud_call *c);

/* dispatch.c */
/*
 * A step (ud_call_resume) for a write rolled back because its caller's
 * kept record was stale (UD_STORE_CHANGED): what the call decided is
 * dropped, and it runs again as the caller read anew, its request id still
 * its own.
 */
int ud_call_caller_changed(ud_call *c);

/* stages.c */
/* The replay of c's request id: 0 to go on; 1 when answered or parked;
 * else a status. */
int ud_call_replay_begin(ud_call *c);
/*
 * After a stage that returned rc: a call that ends before its write may
 * carry a request id the request log holds; its first answer is then the
 * answer. UD_ASYNC when answered (or parked) here, else the status.
 */
int ud_call_settle(ud_call *c, int rc);
/* Runs c->next on a worker (or finishes c when none can take it). */
void ud_call_resume(ud_call *c);
/* Checks c->password against c->hash on the hashers, then next. */
int ud_call_verify(ud_call *c, ud_step_fn next);

#endif
