/*
 * store_common.c - what the store's backends share: the queue of writes,
 * the queue of their answers,
 * the user's string columns, LIKE patterns, paging bounds, the primary
 * organization.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_backend.h"
#include "users_proto.h"

const size_t ud_user_str_off[UD_USER_N_STR] = {
    offsetof(ud_user, email),
    offsetof(ud_user, password_hash),
    offsetof(ud_user, first_name),
    offsetof(ud_user, last_name),
    offsetof(ud_user, phone_number),
    offsetof(ud_user, temporary_email),
    offsetof(ud_user, temporary_phone_number),
    offsetof(ud_user, avatar_url),
    offsetof(ud_user, image_content),
    offsetof(ud_user, viviot_id),
    offsetof(ud_user, primary_org_id),
};

char **
ud_store_user_str(ud_user *u, size_t i)
{
	return (char **)(void *)((char *)u + ud_user_str_off[i]);
}

void
ud_store_user_init(ud_user *u)
{
	memset(u, 0, sizeof(*u));
	u->manager_access = -1;
}

static int
strv_copy(ud_strv *dst, const ud_strv *src)
{
	for (size_t i = 0; i < src->n; i++) {
		if (ud_strv_push(dst, src->v[i]) != 0) {
			return UP_INTERNAL;
		}
	}
	return 0;
}

int
ud_store_user_copy(ud_user *dst, const ud_user *src)
{
	int rc = 0;

	*dst = *src; /* the scalars; every pointer is replaced below */
	dst->dashboard_permissions = NULL;
	dst->n_dashboard_permissions = 0;
	memset(&dst->roles, 0, sizeof(dst->roles));
	memset(&dst->org_ids, 0, sizeof(dst->org_ids));
	memset(&dst->org_names, 0, sizeof(dst->org_names));
	for (size_t i = 0; i < UD_USER_N_STR; i++) {
		char **d = ud_store_user_str(dst, i);
		const char *v = *d; /* still src's */
		*d = v != NULL && rc == 0 ? strdup(v) : NULL;
		if (v != NULL && *d == NULL) {
			rc = UP_INTERNAL;
		}
	}
	if (rc == 0 && src->n_dashboard_permissions > 0) {
		size_t sz = src->n_dashboard_permissions *
			    sizeof(*src->dashboard_permissions);
		if ((dst->dashboard_permissions = malloc(sz)) == NULL) {
			rc = UP_INTERNAL;
		} else {
			memcpy(dst->dashboard_permissions,
			       src->dashboard_permissions, sz);
			dst->n_dashboard_permissions =
			    src->n_dashboard_permissions;
		}
	}
	if (rc == 0 && (strv_copy(&dst->roles, &src->roles) != 0 ||
			strv_copy(&dst->org_ids, &src->org_ids) != 0 ||
			strv_copy(&dst->org_names, &src->org_names) != 0)) {
		rc = UP_INTERNAL;
	}
	if (rc != 0) {
		ud_user_fini(dst);
	}
	return rc;
}

int
ud_store_like_pattern(const char *s, char **out)
{
	size_t len = strlen(s), j = 0;
	char *p;

	*out = NULL;
	if (len > UD_STORE_FILTER_MAX) {
		return UP_INVALID_ARGUMENT;
	}
	if ((p = malloc(2 * len + 3)) == NULL) {
		return UP_INTERNAL;
	}
	p[j++] = '%';
	for (; *s != '\0'; s++) {
		if (*s == '%' || *s == '_' || *s == '\\') {
			p[j++] = '\\';
		}
		p[j++] = *s;
	}
	p[j++] = '%';
	p[j] = '\0';
	*out = p;
	return 0;
}

void
ud_store_bound_page(int32_t *skip, int32_t *take)
{
	if (*take <= 0) {
		*take = UD_STORE_TAKE_DEFAULT;
	} else if (*take > UD_STORE_TAKE_MAX) {
		*take = UD_STORE_TAKE_MAX;
	}
	if (*skip < 0) {
		*skip = 0;
	}
}

int
ud_store_primary_org(const ud_user *u, char buf[33], const char **out)
{
	*out = NULL;
	if (u->primary_org_id == NULL) {
		return 0;
	}
	if (ud_guid_parse(u->primary_org_id, buf) != 0) {
		return UP_INVALID_ARGUMENT;
	}
	*out = buf;
	return 0;
}

/* ------------------------------------------------------------------------
 * The queue of writes
 */

void
ud_store_jobq_init(ud_store_jobq *q)
{
	pthread_condattr_t ca;

	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	/* timed waits on the monotonic clock: a clock step changes nothing */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
}

int
ud_store_jobq_wait_ms(ud_store_jobq *q, unsigned ms)
{
	struct timespec until;

	ud_time_after_ms(CLOCK_MONOTONIC, ms, &until);
	return pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT
		   ? ETIMEDOUT
		   : 0;
}

void
ud_store_jobq_fini(ud_store_jobq *q)
{
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
}

int
ud_store_jobq_push(ud_store_jobq *q, ud_store_write_fn fn,
		   ud_store_done_fn done, void *arg, const ud_store_hint *hint)
{
	ud_store_job *j;
	int rc = 0;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		return UP_INTERNAL;
	}
	j->fn = fn;
	j->done = done;
	j->arg = arg;
	if (hint != NULL) {
		j->hinted = true;
		j->hint = *hint;
	}
	pthread_mutex_lock(&q->mu);
	if (q->closing || q->queued >= UD_STORE_QUEUE_MAX) {
		rc = UP_UNAVAILABLE;
	} else {
		if (q->tail != NULL) {
			q->tail->next = j;
		} else {
			q->head = j;
		}
		q->tail = j;
		q->queued++;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	if (rc != 0) {
		free(j);
	}
	return rc;
}

void
ud_store_jobq_close(ud_store_jobq *q)
{
	pthread_mutex_lock(&q->mu);
	q->closing = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
ud_store_jobs_answer(ud_store_job *batch, void (*round)(void *, bool),
		     void *arg)
{
	if (batch == NULL) {
		return;
	}
	if (round != NULL) {
		round(arg, true);
	}
	while (batch != NULL) {
		ud_store_job *next = batch->next;

		batch->done(batch->rc, batch->arg);
		free(batch);
		batch = next;
	}
	if (round != NULL) {
		round(arg, false);
	}
}

static void *
doneq_main(void *arg)
{
	ud_store_doneq *d = arg;

	up_thread_name("ud-answers");

	if (d->enter != NULL) {
		d->enter(d->enter_arg);
	}
	pthread_mutex_lock(&d->mu);
	for (;;) {
		ud_store_job *j;

		while (d->head == NULL && !d->closing) {
			pthread_cond_wait(&d->cv, &d->mu);
		}
		if (d->head == NULL) {
			break; /* closing and drained */
		}
		j = d->head;
		d->head = NULL;
		d->tail = NULL;
		pthread_mutex_unlock(&d->mu);
		ud_store_jobs_answer(j, d->round, d->round_arg);
		pthread_mutex_lock(&d->mu);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

int
ud_store_doneq_start(ud_store_doneq *d, void (*enter)(void *), void *arg,
		     const ud_store_config *cfg)
{
	memset(d, 0, sizeof(*d));
	d->enter = enter;
	d->enter_arg = arg;
	if (cfg != NULL) {
		d->round = cfg->answers;
		d->round_arg = cfg->answers_arg;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if (pthread_create(&d->thread, NULL, doneq_main, d) != 0) {
		pthread_cond_destroy(&d->cv);
		pthread_mutex_destroy(&d->mu);
		return UP_INTERNAL;
	}
	d->started = true;
	return 0;
}

void
ud_store_doneq_push(ud_store_doneq *d, ud_store_job *batch)
{
	ud_store_job *last = batch;

	if (batch == NULL) {
		return;
	}
	while (last->next != NULL) {
		last = last->next;
	}
	pthread_mutex_lock(&d->mu);
	if (d->tail != NULL) {
		d->tail->next = batch;
	} else {
		d->head = batch;
	}
	d->tail = last;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void
ud_store_doneq_stop(ud_store_doneq *d)
{
	if (!d->started) {
		return;
	}
	pthread_mutex_lock(&d->mu);
	d->closing = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	d->started = false;
}

ud_store_job *
ud_store_jobq_take(ud_store_jobq *q, size_t max, size_t *n)
{
	ud_store_job *first = q->head, *last = q->head;

	*n = 0;
	if (first == NULL || max == 0) {
		return NULL;
	}
	*n = 1;
	while (*n < max && last->next != NULL) {
		last = last->next;
		(*n)++;
	}
	q->head = last->next;
	if (q->head == NULL) {
		q->tail = NULL;
	}
	last->next = NULL;
	q->queued -= *n;
	return first;
}

/* ------------------------------------------------------------------------
 * Users changed by a transaction
 */

void
ud_store_changes_init(ud_store_changes *ch, const ud_store_config *cfg)
{
	memset(ch, 0, sizeof(*ch));
	if (cfg != NULL) {
		ch->fn = cfg->changed;
		ch->arg = cfg->changed_arg;
	}
}

void
ud_store_changes_fini(ud_store_changes *ch)
{
	free(ch->ids);
	ch->ids = NULL;
	ch->n = ch->cap = 0;
	ch->all = false;
}

void
ud_store_changes_add(ud_store_changes *ch, int64_t id)
{
	if (ch->all) {
		return;
	}
	if (ch->n == ch->cap) {
		size_t cap = ch->cap ? ch->cap * 2 : 16;
		int64_t *v = cap <= UD_STORE_CHANGES_MAX
				 ? realloc(ch->ids, cap * sizeof(*v))
				 : NULL;
		if (v == NULL) {
			ch->all = true;
			return;
		}
		ch->ids = v;
		ch->cap = cap;
	}
	ch->ids[ch->n++] = id;
}

void
ud_store_changes_report(ud_store_changes *ch)
{
	if (ch->fn != NULL && ch->all) {
		ch->fn(ch->arg, 0);
	}
	for (size_t i = 0; ch->fn != NULL && !ch->all && i < ch->n; i++) {
		ch->fn(ch->arg, ch->ids[i]);
	}
	ud_store_changes_clear(ch);
}

void
ud_store_changes_clear(ud_store_changes *ch)
{
	ch->n = 0;
	ch->all = false;
}
