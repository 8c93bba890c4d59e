/*
 * store.c - picks the backend of a store target and forwards store.h's
 * calls to it; the synchronous write, which only needs the backend's
 * asynchronous one.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store_backend.h"
#include "users_proto.h"

#define OPS(h)  (((const ud_store_base *)(h))->ops)
#define COPS(c) (((const ud_store_conn_base *)(c))->ops)

bool
ud_store_target_is_pg(const char *target)
{
	return target != NULL &&
	       (strncasecmp(target, "postgresql://", 13) == 0 ||
		strncasecmp(target, "postgres://", 11) == 0);
}

static const ud_store_ops *
backend_of(const char *target)
{
	return ud_store_target_is_pg(target) ? &ud_store_pg_ops
					     : &ud_store_sqlite_ops;
}

int
ud_store_open(ud_store **out, const char *target, const ud_store_config *cfg)
{
	*out = NULL;
	if (target == NULL || *target == '\0') {
		return UP_INVALID_ARGUMENT;
	}
	return backend_of(target)->open(out, target, cfg);
}

int
ud_store_migrate(const char *target, int target_version)
{
	if (target == NULL || *target == '\0') {
		return UP_INVALID_ARGUMENT;
	}
	return backend_of(target)->migrate(target, target_version);
}

int
ud_store_schema_latest(const char *target)
{
	return backend_of(target)->schema_latest();
}

void
ud_store_close(ud_store *st)
{
	if (st != NULL) {
		OPS(st)->close(st);
	}
}

bool
ud_store_shared(const ud_store *st)
{
	return OPS(st)->shared;
}

const char *
ud_store_backend(const ud_store *st)
{
	return OPS(st)->name;
}

int
ud_store_schema_version(ud_store *st)
{
	return OPS(st)->schema_version(st);
}

void
ud_store_stats(ud_store *st, ud_store_counters *out)
{
	OPS(st)->stats(st, out);
}

int
ud_store_reader_open(ud_store *st, ud_store_conn **out)
{
	return OPS(st)->reader_open(st, out);
}

void
ud_store_reader_close(ud_store_conn *c)
{
	if (c != NULL) {
		COPS(c)->reader_close(c);
	}
}

int
ud_store_write(ud_store *st, ud_store_write_fn fn, ud_store_done_fn done,
	       void *arg)
{
	if (fn == NULL || done == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	return OPS(st)->write(st, fn, done, arg, NULL);
}

int
ud_store_write_ahead(ud_store *st, ud_store_write_fn fn, ud_store_done_fn done,
		     void *arg, const ud_store_hint *hint)
{
	if (fn == NULL || done == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	return OPS(st)->write(st, fn, done, arg, hint);
}

/* ------------------------------------------------------------------------
 * Waiting for a write
 */

typedef struct sync_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ud_store_write_fn fn;
	void *arg;
	bool done;
	int rc;
} sync_wait;

static int
sync_run(ud_store_conn *c, void *arg)
{
	sync_wait *w = arg;

	return w->fn(c, w->arg);
}

static void
sync_done(int rc, void *arg)
{
	sync_wait *w = arg;

	pthread_mutex_lock(&w->mu);
	w->rc = rc;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int
ud_store_write_sync(ud_store *st, ud_store_write_fn fn, void *arg)
{
	sync_wait w = {.fn = fn, .arg = arg, .done = false, .rc = 0};
	int rc;

	if (fn == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	if (OPS(st)->on_writer(st)) {
		/* from a write or done function: it would wait for itself */
		fprintf(stderr, "usersd: store: write_sync on the writer\n");
		return UP_INTERNAL;
	}
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	if ((rc = OPS(st)->write(st, sync_run, sync_done, &w, NULL)) == 0) {
		pthread_mutex_lock(&w.mu);
		while (!w.done) {
			pthread_cond_wait(&w.cv, &w.mu);
		}
		rc = w.rc;
		pthread_mutex_unlock(&w.mu);
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return rc;
}

int
ud_store_index_sync(ud_store *st)
{
	if (OPS(st)->index_sync == NULL) {
		return 0;
	}
	if (OPS(st)->on_writer(st)) {
		return UP_INTERNAL;
	}
	return OPS(st)->index_sync(st);
}

/* ------------------------------------------------------------------------
 * Reads and writes on a connection
 */

int
ud_store_snapshot_begin(ud_store_conn *c)
{
	return COPS(c)->snapshot_begin(c);
}

void
ud_store_snapshot_end(ud_store_conn *c)
{
	COPS(c)->snapshot_end(c);
}

int
ud_store_read_ahead(ud_store_conn *c, const int64_t *users, size_t n,
		    const int64_t *callers, size_t m)
{
	if (n > UD_STORE_AHEAD_MAX || m > UD_STORE_AHEAD_MAX) {
		return UP_INVALID_ARGUMENT;
	}
	return COPS(c)->read_ahead != NULL
		   ? COPS(c)->read_ahead(c, users, n, callers, m)
		   : 0;
}

void
ud_store_read_ahead_end(ud_store_conn *c)
{
	if (COPS(c)->read_ahead_end != NULL) {
		COPS(c)->read_ahead_end(c);
	}
}

int
ud_store_user_get(ud_store_conn *c, int64_t id, ud_user *out)
{
	return COPS(c)->user_get(c, id, out);
}

int
ud_store_user_get_ahead(ud_store_conn *c, int64_t id, ud_user *out)
{
	int rc = COPS(c)->user_get_ahead != NULL
		     ? COPS(c)->user_get_ahead(c, id, out)
		     : COPS(c)->user_get(c, id, out);

	/* without the hash, whichever way it came (store.h) */
	if (rc == 0 && out->password_hash != NULL) {
		up_wipe_free(out->password_hash, strlen(out->password_hash));
		out->password_hash = NULL;
	}
	return rc;
}

int
ud_store_user_by_email(ud_store_conn *c, const char *email, ud_user *out)
{
	return COPS(c)->user_by_email(c, email, out);
}

int
ud_store_user_check(ud_store_conn *c, int64_t id, int64_t rev)
{
	return COPS(c)->user_check(c, id, rev);
}

int
ud_store_user_check_end(ud_store_conn *c, ud_user *out)
{
	ud_store_user_init(out);
	return COPS(c)->user_check_end(c, out);
}

int
ud_store_user_expect(ud_store_conn *c, int64_t id, int64_t rev)
{
	return COPS(c)->user_expect != NULL ? COPS(c)->user_expect(c, id, rev)
					    : 0;
}

int64_t
ud_store_user_count(ud_store_conn *c)
{
	return COPS(c)->user_count(c);
}

int
ud_store_role_holders(ud_store_conn *c, const char *role, int64_t *n)
{
	return COPS(c)->role_holders(c, role, n);
}

int
ud_store_user_list(ud_store_conn *c, const ud_user_filter *f, ud_user **out,
		   size_t *n, int64_t *total)
{
	return COPS(c)->user_list(c, f, out, n, total);
}

int
ud_store_org_get(ud_store_conn *c, const char *id, ud_org *out)
{
	return COPS(c)->org_get(c, id, out);
}

int
ud_store_org_list(ud_store_conn *c, const char *parent_id,
		  const ud_strv *scope_ids, int32_t skip, int32_t take,
		  ud_org **out, size_t *n, int64_t *total)
{
	return COPS(c)->org_list(c, parent_id, scope_ids, skip, take, out, n,
				 total);
}

int
ud_store_org_list_after(ud_store_conn *c, const char *parent_id,
			const ud_strv *scope_ids, const char *after_name,
			const char *after_id, int32_t skip, int32_t take,
			ud_org **out, size_t *n, int64_t *total)
{
	if (COPS(c)->org_list_after == NULL) {
		*out = NULL;
		*n = 0;
		*total = 0;
		return UP_UNIMPLEMENTED;
	}
	return COPS(c)->org_list_after(c, parent_id, scope_ids, after_name,
				       after_id, skip, take, out, n, total);
}

int
ud_store_org_subtree(ud_store_conn *c, const ud_strv *roots, ud_strv *out)
{
	return COPS(c)->org_subtree(c, roots, out);
}

int
ud_store_org_children(ud_store_conn *c, const char *parent_id, ud_org **out,
		      size_t *n)
{
	return COPS(c)->org_children(c, parent_id, out, n);
}

int
ud_store_user_insert(ud_store_conn *c, ud_user *u)
{
	return COPS(c)->user_insert(c, u);
}

int
ud_store_users_import(ud_store_conn *c, ud_store_import *rows, size_t n)
{
	if (n > UD_STORE_IMPORT_MAX || (n > 0 && rows == NULL)) {
		return UP_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < n; i++) {
		if (rows[i].u == NULL || rows[i].u->email == NULL) {
			return UP_INVALID_ARGUMENT;
		}
		ud_store_user_init(&rows[i].stored);
		rows[i].rc = UP_ALREADY_EXISTS;
	}
	if (COPS(c)->users_import != NULL) {
		return COPS(c)->users_import(c, rows, n);
	}
	for (size_t i = 0; i < n; i++) {
		ud_store_import *r = &rows[i];
		int rc = COPS(c)->user_by_email(c, r->u->email, &r->stored);

		if (rc == 0) {
			continue; /* taken: stored says by whom */
		}
		if (rc != UP_NOT_FOUND) {
			return rc;
		}
		rc = COPS(c)->user_insert(c, r->u);
		if (rc != 0 && rc != UP_ALREADY_EXISTS &&
		    rc != UP_INVALID_ARGUMENT) {
			return rc;
		}
		r->rc = rc;
	}
	return 0;
}

int
ud_store_user_update(ud_store_conn *c, ud_user *u, unsigned sets,
		     bool bump_token)
{
	return COPS(c)->user_update(c, u, sets, bump_token);
}

int
ud_store_user_delete(ud_store_conn *c, int64_t id)
{
	return COPS(c)->user_delete(c, id);
}

int
ud_store_org_insert(ud_store_conn *c, ud_org *o)
{
	return COPS(c)->org_insert(c, o);
}

int
ud_store_member_add(ud_store_conn *c, const char *org_id, int64_t user_id)
{
	return COPS(c)->member_add(c, org_id, user_id);
}

int
ud_store_member_remove(ud_store_conn *c, const char *org_id, int64_t user_id)
{
	return COPS(c)->member_remove(c, org_id, user_id);
}

int
ud_store_request_get(ud_store_conn *c, const char *request_id,
		     const uint8_t digest[UD_REQUEST_DIGEST_LEN],
		     uint8_t **resp, size_t *len)
{
	*resp = NULL;
	*len = 0;
	if (request_id == NULL || *request_id == '\0') {
		return UP_INVALID_ARGUMENT;
	}
	return COPS(c)->request_get(c, request_id, digest, resp, len);
}

int
ud_store_request_claim(ud_store_conn *c, const char *request_id,
		       const uint8_t digest[UD_REQUEST_DIGEST_LEN],
		       int64_t now_ms)
{
	if (request_id == NULL || *request_id == '\0') {
		return UP_INVALID_ARGUMENT;
	}
	return COPS(c)->request_claim(c, request_id, digest, now_ms);
}

int
ud_store_request_claimed(ud_store_conn *c)
{
	return COPS(c)->request_claimed(c);
}

int
ud_store_request_answer(ud_store_conn *c, const char *request_id,
			const uint8_t *resp, size_t len)
{
	if (request_id == NULL || *request_id == '\0' || resp == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	return COPS(c)->request_answer(c, request_id, resp, len);
}

int
ud_store_request_record(ud_store_conn *c, const char *request_id,
			const uint8_t digest[UD_REQUEST_DIGEST_LEN],
			int64_t now_ms, const uint8_t *resp, size_t len)
{
	int rc;

	if (request_id == NULL || *request_id == '\0' || resp == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	if (COPS(c)->request_record != NULL) {
		return COPS(c)->request_record(c, request_id, digest, now_ms,
					       resp, len);
	}
	if ((rc = COPS(c)->request_claim(c, request_id, digest, now_ms)) != 0 ||
	    (rc = COPS(c)->request_claimed(c)) != 0) {
		return rc;
	}
	return COPS(c)->request_answer(c, request_id, resp, len);
}

int
ud_store_request_prune(ud_store_conn *c, int64_t before_ms)
{
	return COPS(c)->request_prune(c, before_ms);
}

int
ud_store_login_get(ud_store_conn *c, const char *key, ud_login_state *out)
{
	memset(out, 0, sizeof(*out));
	if (key == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	return COPS(c)->login_get(c, key, out);
}

int
ud_store_login_put(ud_store_conn *c, const char *key, const ud_login_state *s)
{
	if (key == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	return COPS(c)->login_put(c, key, s);
}

int
ud_store_login_delete(ud_store_conn *c, const char *key)
{
	if (key == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	return COPS(c)->login_delete(c, key);
}

int
ud_store_login_prune(ud_store_conn *c, int64_t before_s)
{
	return COPS(c)->login_prune(c, before_s);
}

/* Malformed ids are never recorded: refused before the backend. */

int
ud_store_refresh_insert(ud_store_conn *c, const ud_refresh_token *t)
{
	if (t == NULL || !ud_random_id_valid(t->jti) ||
	    !ud_random_id_valid(t->family)) {
		return UP_INVALID_ARGUMENT;
	}
	return COPS(c)->refresh_insert(c, t);
}

int
ud_store_refresh_get(ud_store_conn *c, const char *family, const char *jti,
		     ud_refresh_token *out)
{
	memset(out, 0, sizeof(*out));
	if (!ud_random_id_valid(family) || !ud_random_id_valid(jti)) {
		return UP_NOT_FOUND;
	}
	return COPS(c)->refresh_get(c, family, jti, out);
}

int
ud_store_refresh_use(ud_store_conn *c, const char *jti)
{
	if (!ud_random_id_valid(jti)) {
		return UP_NOT_FOUND;
	}
	return COPS(c)->refresh_use(c, jti);
}

int
ud_store_refresh_revoke(ud_store_conn *c, const char *family)
{
	if (!ud_random_id_valid(family)) {
		return 0;
	}
	return COPS(c)->refresh_revoke(c, family);
}

int
ud_store_refresh_prune(ud_store_conn *c, int64_t before_s)
{
	return COPS(c)->refresh_prune(c, before_s);
}
