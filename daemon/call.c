/*
 * call.c - a call's answer and its end: the errors it records
 * (ResponseStatus), the packing of its answer, and the one exit,
 * ud_call_finish(), which counts it (and logs a refusal: metrics.c),
 * sends the answer, records it in the replay table, and frees the call
 * (wiping its secrets).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "validate.h"

/* Call objects ud_call_free keeps for the next calls, at most. */
#define FREE_CALLS_MAX 256

int
ud_call_fail(ud_call *c, int status, const char *error_code,
	     const char *message)
{
	Users__V1__ResponseStatus *e = c->error;

	if (e == NULL) {
		e = malloc(sizeof(*e));
		if (e == NULL) {
			return status;
		}
		users__v1__response_status__init(e);
		c->error = e;
	}
	if (e->error_code == NULL) {
		e->error_code = strdup(
		    error_code ? error_code : up_status_error_code(status));
		e->message =
		    strdup(message ? message : up_status_message(status));
	}
	c->status = status;
	return status;
}

int
ud_call_field_error(ud_call *c, const char *field, const char *error_code,
		    const char *message)
{
	Users__V1__ResponseError *fe;
	Users__V1__ResponseError **v;
	Users__V1__ResponseStatus *e;

	ud_call_fail(c, UP_INVALID_ARGUMENT, error_code, message);
	e = c->error;
	if (e == NULL || e->n_errors >= 64) {
		return UP_INVALID_ARGUMENT;
	}
	fe = malloc(sizeof(*fe));
	v = realloc(e->errors, (e->n_errors + 1) * sizeof(*v));
	if (fe == NULL || v == NULL) {
		free(fe);
		if (v != NULL) {
			e->errors = v;
		}
		return UP_INVALID_ARGUMENT;
	}
	e->errors = v;
	users__v1__response_error__init(fe);
	fe->error_code = strdup(error_code);
	fe->field_name = strdup(field);
	fe->message = strdup(message);
	e->errors[e->n_errors++] = fe;
	return UP_INVALID_ARGUMENT;
}

uint8_t *
ud_call_pack(ud_call *c, int status, size_t *len)
{
	Users__V1__ResponseEnvelope env = USERS__V1__RESPONSE_ENVELOPE__INIT;
	uint8_t *payload = NULL, *out = NULL;

	env.has_status = true;
	env.status = (Users__V1__StatusCode)status;
	if (c->env != NULL && c->env->request_id != NULL) {
		env.request_id = c->env->request_id;
	}
	if (status == UP_OK) {
		size_t n = protobuf_c_message_get_packed_size(c->resp);
		payload = malloc(n ? n : 1);
		if (payload == NULL) {
			return NULL;
		}
		protobuf_c_message_pack(c->resp, payload);
		env.has_payload = true;
		env.payload.data = payload;
		env.payload.len = n;
	} else {
		if (c->error == NULL || c->error->error_code == NULL) {
			ud_call_fail(c, status, NULL, NULL);
		}
		env.error = c->error;
	}
	*len = users__v1__response_envelope__get_packed_size(&env);
	out = malloc(*len ? *len : 1);
	if (out != NULL) {
		users__v1__response_envelope__pack(&env, out);
	}
	free(payload);
	return out;
}

/*
 * Whether an answer is final for its request: a success, or the caller's
 * own error, which a retry would get again. The others (the store busy or
 * down, a deadline, a conflict to retry, an internal error) may not be
 * what a retry gets: its request id is forgotten, and a retry runs again.
 */
bool
ud_call_answer_final(int status)
{
	switch (status) {
	case UP_OK:
	case UP_INVALID_ARGUMENT:
	case UP_NOT_FOUND:
	case UP_ALREADY_EXISTS:
	case UP_PERMISSION_DENIED:
	case UP_FAILED_PRECONDITION:
	case UP_OUT_OF_RANGE:
		return true;
	default:
		return false;
	}
}

void
ud_call_finish(ud_call *c, int status)
{
	ud_service *svc = c->svc;
	uint8_t *buf;
	size_t len = 0;

	if (status == UP_OK && c->resp == NULL) {
		status = UP_INTERNAL;
	}
	if (status != UP_OK && c->error != NULL && c->status != status) {
		/* a detail recorded for another status does not apply */
		users__v1__response_status__free_unpacked(c->error, NULL);
		c->error = NULL;
	}
	c->status = status;
	ud_metrics_observe(c, status);
	if (status == UP_OK && c->packed != NULL) {
		/* packed and recorded in the request log with the write */
		buf = c->packed;
		len = c->packed_len;
		c->packed = NULL;
	} else {
		buf = ud_call_pack(c, status, &len);
	}
	if (buf == NULL) {
		/* Out of memory: answer with the bare status. */
		static const uint8_t internal[] = {0x08, UP_INTERNAL};
		if (c->replayable) {
			ud_replay_finish(svc->replay, c->replay_key, NULL, 0,
					 false);
		}
		svc->send(&c->to, internal, sizeof(internal));
	} else {
		if (c->replayable) {
			ud_replay_finish(svc->replay, c->replay_key, buf, len,
					 ud_call_answer_final(status));
		}
		svc->send(&c->to, buf, len);
		free(buf);
	}
	ud_call_free(c);
}

/* Forgets the password work of a stage that is done with it. */
void
ud_call_password_clear(ud_call *c)
{
	if (c->password != NULL) {
		up_wipe(c->password, strlen(c->password));
		free(c->password);
		c->password = NULL;
	}
	free(c->hash);
	c->hash = NULL;
}

static void *
arena_alloc(void *data, size_t size)
{
	ud_call *c = data;
	size_t align = _Alignof(max_align_t);
	size_t at = (c->arena_used + align - 1) / align * align;
	ud_call_chunk *k;

	if (size <= UD_CALL_ARENA && at <= UD_CALL_ARENA - size) {
		c->arena_used = at + size;
		return c->arena + at;
	}
	if (size > SIZE_MAX - sizeof(*k) ||
	    (k = malloc(sizeof(*k) + size)) == NULL) {
		return NULL;
	}
	k->size = size;
	k->next = c->arena_chunks;
	c->arena_chunks = k;
	return k->data;
}

/* Everything goes at once, in ud_call_free. */
static void
arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

void
ud_call_arena_init(ud_call *c)
{
	c->arena_alloc.alloc = arena_alloc;
	c->arena_alloc.free = arena_free;
	c->arena_alloc.allocator_data = c;
	c->arena_used = 0;
	c->arena_chunks = NULL;
}

static void
arena_fini(ud_call *c)
{
	ud_call_chunk *k;

	ud_wipe(c->arena, c->arena_used);
	while ((k = c->arena_chunks) != NULL) {
		c->arena_chunks = k->next;
		ud_wipe(k->data, k->size);
		free(k);
	}
	c->arena_used = 0;
	c->env = NULL;
	c->req = NULL;
}

void
ud_call_free(ud_call *c)
{
	ud_service *svc = c->svc;

	if (c->release != NULL) {
		c->release(c); /* first: what it gives back may be named in
				* the request */
	}
	/* The envelope (Basic password, payload) and the request (a password
	 * to check or set) hold secrets: their whole arena is wiped. */
	arena_fini(c);
	if (c->resp != NULL) {
		protobuf_c_message_free_unpacked(c->resp, NULL);
	}
	if (c->error != NULL) {
		users__v1__response_status__free_unpacked(c->error, NULL);
	}
	ud_call_password_clear(c);
	if (c->op != NULL && c->op_free != NULL) {
		c->op_free(c->op);
	}
	free(c->packed);
	ud_user_fini(&c->actor);
	ud_user_fini(&c->target);
	/* before in_flight: a drain that sees 0 finds every peer let go */
	if (svc->release != NULL) {
		svc->release(&c->to);
	}
	pthread_mutex_lock(&svc->calls_mu);
	if (svc->n_free_calls < FREE_CALLS_MAX) {
		c->next_free = svc->free_calls;
		svc->free_calls = c;
		svc->n_free_calls++;
		c = NULL;
	}
	pthread_mutex_unlock(&svc->calls_mu);
	free(c);
	atomic_fetch_sub(&svc->in_flight, 1);
}

ud_call *
ud_call_alloc(ud_service *svc)
{
	ud_call *c;

	pthread_mutex_lock(&svc->calls_mu);
	if ((c = svc->free_calls) != NULL) {
		svc->free_calls = c->next_free;
		svc->n_free_calls--;
	}
	pthread_mutex_unlock(&svc->calls_mu);
	if (c == NULL && (c = malloc(sizeof(*c))) == NULL) {
		return NULL;
	}
	/* The arena needs no zeroing: it is written before it is read, and
	 * a kept call's was wiped by arena_fini. */
	memset(c, 0, offsetof(ud_call, arena));
	return c;
}

void
ud_call_pool_fini(ud_service *svc)
{
	ud_call *c;

	while ((c = svc->free_calls) != NULL) {
		svc->free_calls = c->next_free;
		free(c);
	}
	svc->n_free_calls = 0;
}
