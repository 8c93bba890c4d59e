/*
 * pool.c - a bounded ring of tasks served by a fixed set of threads.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "pool.h"
#include "users_proto.h"

struct task {
	ud_task_fn fn;
	void *arg;
};

struct ud_pool {
	ud_pool_config cfg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct task *ring;
	size_t head; /* next to run */
	size_t len;  /* queued */
	bool stopping;
	pthread_t *threads;
	unsigned n_started;
	int init_rc;
	unsigned n_ready;
	pthread_cond_t ready_cv;
};

static void *
run(void *arg)
{
	ud_pool *p = arg;
	void *tctx = NULL;
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "ud-%s", p->cfg.name);
	up_thread_name(name);
	rc = p->cfg.init ? p->cfg.init(p->cfg.arg, &tctx) : 0;
	pthread_mutex_lock(&p->mu);
	if (rc != 0 && p->init_rc == 0) {
		p->init_rc = rc;
	}
	p->n_ready++;
	pthread_cond_broadcast(&p->ready_cv);
	for (;;) {
		struct task t;
		while (p->len == 0 && !p->stopping) {
			pthread_cond_wait(&p->cv, &p->mu);
		}
		if (p->len == 0) {
			break; /* stopping and drained */
		}
		t = p->ring[p->head];
		p->head = (p->head + 1) % p->cfg.capacity;
		p->len--;
		pthread_mutex_unlock(&p->mu);
		t.fn(t.arg, tctx);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	if (rc == 0 && p->cfg.fini != NULL) {
		p->cfg.fini(p->cfg.arg, tctx);
	}
	return NULL;
}

int
ud_pool_alloc(ud_pool **out, const ud_pool_config *cfg)
{
	ud_pool *p = calloc(1, sizeof(*p));
	int rc = UP_INTERNAL;

	if (p == NULL || cfg->threads == 0 || cfg->capacity == 0) {
		free(p);
		return UP_INVALID_ARGUMENT;
	}
	p->cfg = *cfg;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_cond_init(&p->ready_cv, NULL);
	p->ring = calloc(cfg->capacity, sizeof(*p->ring));
	p->threads = calloc(cfg->threads, sizeof(*p->threads));
	if (p->ring == NULL || p->threads == NULL) {
		goto fail;
	}
	for (unsigned i = 0; i < cfg->threads; i++) {
		if (pthread_create(&p->threads[i], NULL, run, p) != 0) {
			goto fail;
		}
		p->n_started++;
	}
	pthread_mutex_lock(&p->mu);
	while (p->n_ready < p->n_started) {
		pthread_cond_wait(&p->ready_cv, &p->mu);
	}
	rc = p->init_rc;
	pthread_mutex_unlock(&p->mu);
	if (rc != 0) {
		goto fail;
	}
	*out = p;
	return 0;
fail:
	fprintf(stderr, "usersd: %s pool: cannot start its threads\n",
		cfg->name ? cfg->name : "a");
	ud_pool_free(p);
	return rc ? rc : UP_INTERNAL;
}

void
ud_pool_free(ud_pool *p)
{
	if (p == NULL) {
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n_started; i++) {
		pthread_join(p->threads[i], NULL);
	}
	pthread_cond_destroy(&p->ready_cv);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p->ring);
	free(p);
}

int
ud_pool_push(ud_pool *p, ud_task_fn fn, void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	if (p->stopping) {
		rc = UP_UNAVAILABLE;
	} else if (p->len == p->cfg.capacity) {
		rc = UP_RESOURCE_EXHAUSTED;
	} else {
		size_t tail = (p->head + p->len) % p->cfg.capacity;
		p->ring[tail].fn = fn;
		p->ring[tail].arg = arg;
		p->len++;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

size_t
ud_pool_queued(ud_pool *p)
{
	size_t n;

	if (p == NULL) {
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	n = p->len;
	pthread_mutex_unlock(&p->mu);
	return n;
}
