/*
 * pool.h - a fixed set of threads running tasks from one bounded queue.
 *
 * The daemon has two: the workers (decode, authenticate, authorise, read
 * the store) and the hashers (argon2id, ~19 ms a call), so a burst of
 * logins never stalls reads. Each thread owns a per-thread context made by
 * the pool's init hook (the workers' read connection to the store), handed
 * to every task it runs.
 */
#ifndef UD_POOL_H
#define UD_POOL_H

#include <stddef.h>

typedef struct ud_pool ud_pool;

typedef void (*ud_task_fn)(void *arg, void *thread_ctx);
/* Makes a thread's context; 0 or an up_status code (the pool fails). */
typedef int (*ud_pool_init_fn)(void *pool_arg, void **thread_ctx);
typedef void (*ud_pool_fini_fn)(void *pool_arg, void *thread_ctx);

typedef struct ud_pool_config {
	const char *name;     /* for logs */
	unsigned threads;     /* >= 1 */
	unsigned capacity;    /* most queued tasks */
	ud_pool_init_fn init; /* may be NULL */
	ud_pool_fini_fn fini; /* may be NULL */
	void *arg;            /* passed to init/fini */
} ud_pool_config;

int ud_pool_alloc(ud_pool **out, const ud_pool_config *cfg);
/* Runs what is queued, stops the threads, frees. Safe on NULL. */
void ud_pool_free(ud_pool *p);

/*
 * Queues fn(arg). 0 when queued (it will run exactly once), or
 * UP_RESOURCE_EXHAUSTED when the queue is full, UP_UNAVAILABLE when the
 * pool is stopping (then it never runs).
 */
int ud_pool_push(ud_pool *p, ud_task_fn fn, void *arg);
/* Tasks queued and not yet started (for metrics; takes the lock). */
size_t ud_pool_queued(ud_pool *p);

#endif
