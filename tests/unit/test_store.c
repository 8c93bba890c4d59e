/*
 * test_store.c - the SQLite store: records, constraints, migrations, the
 * lock, group commit, durability across SIGKILL, filters and paging, and
 * two throughput figures (printed, never asserted).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "store.h"
#include "users_proto.h"

static char tmpdir[64];

static void
db_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static void
rm_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0) {
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
	}
	closedir(d);
	rmdir(tmpdir);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t
mono_ms(void)
{
	return (int64_t)(now_s() * 1000.0);
}

/* ------------------------------------------------------------------------
 * Write functions
 */

static int
fn_user_insert(ud_store_conn *c, void *arg)
{
	return ud_store_user_insert(c, arg);
}

static int
fn_org_insert(ud_store_conn *c, void *arg)
{
	return ud_store_org_insert(c, arg);
}

typedef struct update_args {
	ud_user *u;
	bool set_orgs;
	bool bump;
} update_args;

static int
fn_user_update(ud_store_conn *c, void *arg)
{
	update_args *a = arg;

	return ud_store_user_update(c, a->u, a->set_orgs, a->bump);
}

static int
fn_user_delete(ud_store_conn *c, void *arg)
{
	return ud_store_user_delete(c, *(int64_t *)arg);
}

typedef struct member_args {
	const char *org;
	int64_t user;
	bool remove;
} member_args;

static int
fn_member(ud_store_conn *c, void *arg)
{
	member_args *a = arg;

	return a->remove ? ud_store_member_remove(c, a->org, a->user)
			 : ud_store_member_add(c, a->org, a->user);
}

static int
add_org(ud_store *st, const char *name, int32_t type, const char *parent,
	char id[33])
{
	ud_org o = {
	    .name = (char *)name, .type = type, .parent_id = (char *)parent};
	int rc = ud_store_write_sync(st, fn_org_insert, &o);

	if (rc == 0) {
		snprintf(id, 33, "%s", o.id);
		free(o.id);
	}
	return rc;
}

/* Inserts a user with the given email, names, one role and orgs. */
static int64_t
add_user(ud_store *st, const char *email, const char *first, const char *last,
	 const char *role, const char *org1, const char *org2)
{
	ud_user u = {.email = (char *)email,
		     .first_name = (char *)first,
		     .last_name = (char *)last,
		     .manager_access = -1};
	int64_t id = -1;

	if (role != NULL) {
		ud_strv_push(&u.roles, role);
	}
	if (org1 != NULL) {
		ud_strv_push(&u.org_ids, org1);
	}
	if (org2 != NULL) {
		ud_strv_push(&u.org_ids, org2);
	}
	if (ud_store_write_sync(st, fn_user_insert, &u) == 0) {
		id = u.id;
	}
	ud_strv_fini(&u.roles);
	ud_strv_fini(&u.org_ids);
	return id;
}

static ud_store *
open_store(const char *name)
{
	char path[256];
	ud_store *st = NULL;

	db_path(path, sizeof(path), name);
	CHECK_INT(ud_store_open(&st, path, NULL), 0);
	return st;
}

/* ------------------------------------------------------------------------
 * Records
 */

static void
test_crud(void)
{
	ud_store *st = open_store("crud.db");
	ud_store_conn *r = NULL;
	char root[33], child[33];
	ud_user u = {0}, got = {0};
	ud_org o = {0};
	int32_t perms[] = {3, 1};
	int64_t id, missing = 999999;

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_schema_version(st), ud_store_schema_latest());
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(add_org(st, "Zeta", 20, NULL, root), 0);
	CHECK_INT(add_org(st, "Alpha", 30, root, child), 0);
	CHECK_INT(strlen(root), 32);

	/* every field, roles unsorted with a duplicate, orgs by name */
	u.email = "Grace@Example.com";
	u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
	u.first_name = "Grace";
	u.last_name = "Hopper";
	u.phone_number = "+15550100";
	u.temporary_email = "g2@example.com";
	u.temporary_phone_number = "+15550101";
	u.avatar_url = "https://example.com/a.png";
	u.image_content = "iVBORw0KGgo=";
	u.viviot_id = "viv-42";
	u.primary_org_id = root;
	u.email_confirmed = true;
	u.phone_number_confirmed = true;
	u.disabled = false;
	u.activation_status = 20;
	u.manager_access = 1;
	ud_strv_push(&u.roles, "Manager");
	ud_strv_push(&u.roles, "Admin");
	ud_strv_push(&u.roles, "Manager");
	u.dashboard_permissions = perms;
	u.n_dashboard_permissions = 2;
	ud_strv_push(&u.org_ids, root);
	ud_strv_push(&u.org_ids, child);
	CHECK_INT(ud_store_write_sync(st, fn_user_insert, &u), 0);
	id = u.id;
	CHECK(id > 0);
	CHECK(u.created_at > 0);
	CHECK_INT(u.updated_at, u.created_at);
	CHECK_INT(u.token_version, 1);

	CHECK_INT(ud_store_user_get(r, id, &got), 0);
	CHECK_INT(got.id, id);
	CHECK_STR(got.email, "Grace@Example.com");
	CHECK_STR(got.password_hash, u.password_hash);
	CHECK_STR(got.first_name, "Grace");
	CHECK_STR(got.last_name, "Hopper");
	CHECK_STR(got.phone_number, "+15550100");
	CHECK_STR(got.temporary_email, "g2@example.com");
	CHECK_STR(got.temporary_phone_number, "+15550101");
	CHECK_STR(got.avatar_url, "https://example.com/a.png");
	CHECK_STR(got.image_content, "iVBORw0KGgo=");
	CHECK_STR(got.viviot_id, "viv-42");
	CHECK_STR(got.primary_org_id, root);
	CHECK(got.email_confirmed);
	CHECK(got.phone_number_confirmed);
	CHECK(!got.disabled);
	CHECK_INT(got.activation_status, 20);
	CHECK_INT(got.manager_access, 1);
	CHECK_INT(got.roles.n, 2);
	if (got.roles.n == 2) {
		CHECK_STR(got.roles.v[0], "Admin");
		CHECK_STR(got.roles.v[1], "Manager");
	}
	CHECK_INT(got.n_dashboard_permissions, 2);
	if (got.n_dashboard_permissions == 2) {
		CHECK_INT(got.dashboard_permissions[0], 1);
		CHECK_INT(got.dashboard_permissions[1], 3);
	}
	CHECK_INT(got.org_ids.n, 2);
	CHECK_INT(got.org_names.n, 2);
	if (got.org_ids.n == 2 && got.org_names.n == 2) {
		CHECK_STR(got.org_ids.v[0], child); /* Alpha before Zeta */
		CHECK_STR(got.org_names.v[0], "Alpha");
		CHECK_STR(got.org_ids.v[1], root);
		CHECK_STR(got.org_names.v[1], "Zeta");
	}
	CHECK_INT(got.created_at, u.created_at);
	CHECK_INT(got.updated_at, u.updated_at);
	CHECK_INT(got.token_version, 1);
	ud_user_fini(&got);

	/* NULL strings round-trip as NULL; lookup by email in any case */
	CHECK_INT(ud_store_user_by_email(r, "gRACE@eXAMPLE.COM", &got), 0);
	CHECK_INT(got.id, id);
	ud_user_fini(&got);
	CHECK_INT(ud_store_user_by_email(r, "nobody@example.com", &got),
		  UP_NOT_FOUND);
	CHECK_INT(ud_store_user_get(r, missing, &got), UP_NOT_FOUND);
	CHECK_INT(ud_store_user_count(r), 1);

	/* update: every column, roles, orgs, token bump */
	{
		update_args a = {.u = &u, .set_orgs = true, .bump = true};
		ud_strv_fini(&u.roles);
		ud_strv_push(&u.roles, "User");
		ud_strv_fini(&u.org_ids);
		ud_strv_push(&u.org_ids, child);
		u.first_name = "Amazing";
		u.phone_number = NULL;
		u.primary_org_id = NULL;
		u.disabled = true;
		u.manager_access = -1;
		u.n_dashboard_permissions = 0;
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
		CHECK_INT(u.token_version, 2);
		CHECK(u.updated_at >= u.created_at);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK_STR(got.first_name, "Amazing");
		CHECK(got.phone_number == NULL);
		CHECK(got.primary_org_id == NULL);
		CHECK(got.disabled);
		CHECK_INT(got.manager_access, -1);
		CHECK_INT(got.token_version, 2);
		CHECK_INT(got.n_dashboard_permissions, 0);
		CHECK_INT(got.roles.n, 1);
		CHECK_INT(got.org_ids.n, 1);
		if (got.org_ids.n == 1) {
			CHECK_STR(got.org_ids.v[0], child);
		}
		ud_user_fini(&got);

		/* without set_orgs and bump: memberships and version stay */
		a.set_orgs = false;
		a.bump = false;
		ud_strv_fini(&u.org_ids);
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
		CHECK_INT(u.token_version, 2);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK_INT(got.org_ids.n, 1);
		ud_user_fini(&got);

		/* an unknown id; a membership of an unknown org rolls back */
		u.id = missing;
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a),
			  UP_NOT_FOUND);
		u.id = id;
		a.set_orgs = true;
		ud_strv_push(&u.org_ids, "00000000000000000000000000000001");
		u.first_name = "Rolled";
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a),
			  UP_INVALID_ARGUMENT);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK_STR(got.first_name, "Amazing");
		ud_user_fini(&got);
	}

	/* references to organizations that do not exist */
	{
		ud_user v = {.email = "x@example.com", .manager_access = -1};
		ud_strv_push(&v.org_ids,
			     "00000000-0000-0000-0000-000000000002");
		CHECK_INT(ud_store_write_sync(st, fn_user_insert, &v),
			  UP_INVALID_ARGUMENT);
		ud_strv_fini(&v.org_ids);
		v.primary_org_id = "0000000000000000000000000000000f";
		CHECK_INT(ud_store_write_sync(st, fn_user_insert, &v),
			  UP_INVALID_ARGUMENT);
		v.primary_org_id = NULL;
		v.email = NULL;
		CHECK_INT(ud_store_write_sync(st, fn_user_insert, &v),
			  UP_INVALID_ARGUMENT);
		CHECK_INT(ud_store_user_count(r), 1);
	}

	/* organizations */
	CHECK_INT(ud_store_org_get(r, root, &o), 0);
	CHECK_STR(o.id, root);
	CHECK_STR(o.name, "Zeta");
	CHECK_INT(o.type, 20);
	CHECK(o.parent_id == NULL);
	CHECK(o.created_at > 0);
	CHECK_INT(o.member_count, 0);
	ud_org_fini(&o);
	CHECK_INT(ud_store_org_get(r, child, &o), 0);
	CHECK_STR(o.parent_id, root);
	CHECK_INT(o.type, 30);
	CHECK_INT(o.member_count, 1);
	ud_org_fini(&o);
	CHECK_INT(ud_store_org_get(r, "0123456789abcdef0123456789abcdef", &o),
		  UP_NOT_FOUND);
	CHECK_INT(ud_store_org_get(r, "not-a-guid", &o), UP_NOT_FOUND);
	{
		char given[33];
		ud_org g = {.id = "ABCDEF01-2345-6789-ABCD-EF0123456789",
			    .name = "Given"};
		CHECK_INT(ud_store_write_sync(st, fn_org_insert, &g), 0);
		CHECK_INT(
		    ud_store_org_get(r, "abcdef0123456789abcdef0123456789", &o),
		    0);
		ud_org_fini(&o);
		CHECK_INT(ud_store_write_sync(st, fn_org_insert, &g),
			  UP_ALREADY_EXISTS);
		CHECK_INT(add_org(st, "Orphan", 0,
				  "11111111111111111111111111111111", given),
			  UP_INVALID_ARGUMENT);
		g.id = "22222222222222222222222222222222";
		g.parent_id = g.id;
		CHECK_INT(ud_store_write_sync(st, fn_org_insert, &g),
			  UP_INVALID_ARGUMENT);
	}

	/* memberships */
	{
		member_args m = {.org = root, .user = id};
		CHECK_INT(ud_store_write_sync(st, fn_member, &m), 0);
		CHECK_INT(ud_store_write_sync(st, fn_member, &m), 0);
		CHECK_INT(ud_store_org_get(r, root, &o), 0);
		CHECK_INT(o.member_count, 1);
		ud_org_fini(&o);
		m.user = missing;
		CHECK_INT(ud_store_write_sync(st, fn_member, &m), UP_NOT_FOUND);
		m.user = id;
		m.org = "33333333333333333333333333333333";
		CHECK_INT(ud_store_write_sync(st, fn_member, &m), UP_NOT_FOUND);
		m.org = root;
		m.remove = true;
		CHECK_INT(ud_store_write_sync(st, fn_member, &m), 0);
		CHECK_INT(ud_store_write_sync(st, fn_member, &m), UP_NOT_FOUND);
	}

	/* delete cascades to roles and memberships */
	CHECK_INT(ud_store_write_sync(st, fn_user_delete, &id), 0);
	CHECK_INT(ud_store_write_sync(st, fn_user_delete, &id), UP_NOT_FOUND);
	CHECK_INT(ud_store_user_get(r, id, &got), UP_NOT_FOUND);
	CHECK_INT(ud_store_org_get(r, child, &o), 0);
	CHECK_INT(o.member_count, 0);
	ud_org_fini(&o);
	CHECK_INT(ud_store_user_count(r), 0);

	/* writes on a read connection are refused */
	CHECK_INT(ud_store_user_delete(r, id), UP_INTERNAL);

	ud_strv_fini(&u.roles);
	ud_strv_fini(&u.org_ids);
	ud_store_reader_close(r);
	ud_store_close(st);
}

static void
test_email_unique(void)
{
	ud_store *st = open_store("email.db");
	ud_store_conn *r = NULL;
	ud_user got = {0};
	int64_t ada, bob;

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	ada = add_user(st, "Ada@Example.com", "Ada", NULL, NULL, NULL, NULL);
	CHECK(ada > 0);
	{
		ud_user u = {.email = "ada@EXAMPLE.COM", .manager_access = -1};
		CHECK_INT(ud_store_write_sync(st, fn_user_insert, &u),
			  UP_ALREADY_EXISTS);
		u.email = "ADA@EXAMPLE.COM";
		CHECK_INT(ud_store_write_sync(st, fn_user_insert, &u),
			  UP_ALREADY_EXISTS);
	}
	bob = add_user(st, "bob@example.com", "Bob", NULL, NULL, NULL, NULL);
	CHECK(bob > 0);
	CHECK_INT(ud_store_user_get(r, bob, &got), 0);
	{
		update_args a = {.u = &got};
		free(got.email);
		got.email = strdup("aDa@example.COM");
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a),
			  UP_ALREADY_EXISTS);
		/* changing the case of one's own email is fine */
		free(got.email);
		got.email = strdup("BOB@example.com");
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
	}
	ud_user_fini(&got);
	CHECK_INT(ud_store_user_by_email(r, "bob@EXAMPLE.com", &got), 0);
	CHECK_STR(got.email, "BOB@example.com");
	ud_user_fini(&got);
	CHECK_INT(ud_store_user_count(r), 2);
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * Migrations and the lock
 */

static int
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);

	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return rc;
}

static int
raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		v = sqlite3_column_int(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void
test_migrations(void)
{
	char path[256];
	ud_store *st;
	ud_store_conn *r = NULL;
	ud_user got = {0};
	int64_t id;
	int latest = ud_store_schema_latest();

	CHECK(latest >= 2);
	/* reopen: same version, data intact, nothing applied twice */
	st = open_store("reopen.db");
	if (st == NULL) {
		return;
	}
	id = add_user(st, "keep@example.com", "Keep", "Me", "User", NULL, NULL);
	CHECK(id > 0);
	ud_store_close(st);
	db_path(path, sizeof(path), "reopen.db");
	CHECK_INT(raw_int(path, "SELECT COUNT(*) FROM schema_migrations"),
		  latest);
	st = open_store("reopen.db");
	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_schema_version(st), latest);
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(ud_store_user_get(r, id, &got), 0);
	CHECK_STR(got.email, "keep@example.com");
	CHECK_INT(got.roles.n, 1);
	ud_user_fini(&got);
	ud_store_reader_close(r);
	ud_store_close(st);
	CHECK_INT(raw_int(path, "SELECT COUNT(*) FROM schema_migrations"),
		  latest);

	/* a database at version 1, written by hand, upgrades on open */
	db_path(path, sizeof(path), "v1.db");
	CHECK_INT(ud_store_migrate(path, 1), 0);
	CHECK_INT(raw_int(path, "SELECT MAX(version) FROM schema_migrations"),
		  1);
	CHECK_INT(raw_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE"
				" name = 'user_roles_role'"),
		  0);
	CHECK_INT(raw_exec(path,
			   "INSERT INTO users (id, email, first_name,"
			   " created_at, updated_at) VALUES"
			   " (7, 'old@example.com', 'Old', 1, 2);"
			   "INSERT INTO user_roles VALUES (7, 'Manager');"),
		  SQLITE_OK);
	st = open_store("v1.db");
	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_schema_version(st), latest);
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(ud_store_user_get(r, 7, &got), 0);
	CHECK_STR(got.email, "old@example.com");
	CHECK_STR(got.first_name, "Old");
	CHECK_INT(got.token_version, 1);
	CHECK_INT(got.manager_access, -1);
	CHECK_INT(got.created_at, 1);
	ud_user_fini(&got);
	{
		ud_user_filter f = {.role = "Manager"};
		ud_user *list = NULL;
		size_t n = 0;
		int64_t total = 0;
		CHECK_INT(ud_store_user_list(r, &f, &list, &n, &total), 0);
		CHECK_INT(total, 1);
		ud_users_free(list, n);
	}
	ud_store_reader_close(r);
	ud_store_close(st);
	CHECK_INT(raw_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE"
				" name = 'user_roles_role'"),
		  1);
	CHECK_INT(raw_int(path, "SELECT COUNT(*) FROM schema_migrations"),
		  latest);

	/* a database newer than this program is refused */
	CHECK_INT(raw_exec(path, "INSERT INTO schema_migrations VALUES"
				 " (1000, 0)"),
		  SQLITE_OK);
	st = NULL;
	CHECK_INT(ud_store_open(&st, path, NULL), UP_FAILED_PRECONDITION);
	CHECK(st == NULL);
}

static void
test_lock(void)
{
	char path[256];
	ud_store *st = open_store("lock.db");
	pid_t pid;
	int status = -1;

	if (st == NULL) {
		return;
	}
	db_path(path, sizeof(path), "lock.db");
	pid = fork();
	if (pid == 0) {
		ud_store *other = NULL;
		int rc = ud_store_open(&other, path, NULL);
		int rc2 = ud_store_migrate(path, 0);
		_exit(rc == UP_FAILED_PRECONDITION &&
			      rc2 == UP_FAILED_PRECONDITION && other == NULL
			  ? 0
			  : 1);
	}
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ud_store_close(st);
	/* released with the store */
	st = open_store("lock.db");
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * Group commit
 */

typedef struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int failed;
} waiter;

static waiter gc = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

typedef struct gc_job {
	ud_user u;
	char email[64];
	int want;
	int rc;
	waiter *w;
} gc_job;

static int
fn_gc_insert(ud_store_conn *c, void *arg)
{
	gc_job *j = arg;

	return ud_store_user_insert(c, &j->u);
}

static void
done_gc(int rc, void *arg)
{
	gc_job *j = arg;
	waiter *w = j->w;

	pthread_mutex_lock(&w->mu);
	w->done++;
	if (rc != j->want) {
		w->failed++;
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	free(j);
}

static bool
wait_done(waiter *w, int n, int64_t timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	bool ok;

	pthread_mutex_lock(&w->mu);
	while (w->done < n && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	ok = w->done >= n;
	pthread_mutex_unlock(&w->mu);
	return ok;
}

typedef struct gc_thread {
	ud_store *st;
	int t;
	int n;
	int queue_failures;
} gc_thread;

static void *
gc_main(void *arg)
{
	gc_thread *g = arg;

	for (int i = 0; i < g->n; i++) {
		gc_job *j = calloc(1, sizeof(*j));
		if (j == NULL) {
			g->queue_failures++;
			continue;
		}
		snprintf(j->email, sizeof(j->email), "gc%d-%d@example.com",
			 g->t, i);
		j->u.email = j->email;
		j->u.manager_access = -1;
		j->w = &gc;
		if (ud_store_write(g->st, fn_gc_insert, done_gc, j) != 0) {
			free(j);
			g->queue_failures++;
		}
	}
	return NULL;
}

static void
test_group_commit(void)
{
	enum { THREADS = 16, PER = 200 };
	ud_store *st = open_store("gc.db");
	ud_store_conn *r = NULL;
	gc_thread g[THREADS];
	pthread_t th[THREADS];
	ud_store_counters s;
	int failures = 0;

	if (st == NULL) {
		return;
	}
	for (int i = 0; i < THREADS; i++) {
		g[i] = (gc_thread){.st = st, .t = i, .n = PER};
		pthread_create(&th[i], NULL, gc_main, &g[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		failures += g[i].queue_failures;
	}
	CHECK_INT(failures, 0);
	CHECK(wait_done(&gc, THREADS * PER, 60000));
	CHECK_INT(gc.failed, 0);
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(ud_store_user_count(r), THREADS * PER);
	ud_store_reader_close(r);
	ud_store_stats(st, &s);
	CHECK_INT(s.writes, THREADS * PER);
	CHECK(s.commits < s.writes);
	CHECK_INT(s.commit_failures, 0);
	printf("group commit: %llu writes in %llu commits (largest batch "
	       "%llu)\n",
	       (unsigned long long)s.writes, (unsigned long long)s.commits,
	       (unsigned long long)s.largest_batch);
	ud_store_close(st);
}

/* A write that blocks the writer until released (bounded). */
typedef struct blocker {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started;
	bool released;
} blocker;

static int
fn_block(ud_store_conn *c, void *arg)
{
	blocker *b = arg;
	int64_t deadline = mono_ms() + 10000;
	ud_user u = {.email = "blocker@example.com", .manager_access = -1};
	int rc = ud_store_user_insert(c, &u);

	pthread_mutex_lock(&b->mu);
	b->started = true;
	pthread_cond_broadcast(&b->cv);
	while (!b->released && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&b->cv, &b->mu, &ts);
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

typedef struct batch_job {
	const char *email;
	bool fail;
	int rc;
	bool saw_own;
	waiter *w;
} batch_job;

static int
fn_batch(ud_store_conn *c, void *arg)
{
	batch_job *j = arg;
	ud_user u = {.email = (char *)j->email, .manager_access = -1};
	ud_user got = {0};
	int rc = ud_store_user_insert(c, &u);

	/* the writer's connection reads its own uncommitted write */
	if (rc == 0 && ud_store_user_get(c, u.id, &got) == 0) {
		j->saw_own = strcmp(got.email, j->email) == 0;
		ud_user_fini(&got);
	}
	if (rc == 0 && j->fail) {
		rc = UP_INVALID_ARGUMENT;
	}
	return rc;
}

static void
done_batch(int rc, void *arg)
{
	batch_job *j = arg;

	pthread_mutex_lock(&j->w->mu);
	j->rc = rc;
	j->w->done++;
	pthread_cond_broadcast(&j->w->cv);
	pthread_mutex_unlock(&j->w->mu);
}

static void
done_ignore(int rc, void *arg)
{
	(void)rc;
	(void)arg;
}

static int
fn_noop(ud_store_conn *c, void *arg)
{
	return 0;
}

/* write_sync from the writer thread would wait for itself: refused */
static int
fn_nested(ud_store_conn *c, void *arg)
{
	return ud_store_write_sync(arg, fn_noop, NULL) == UP_INTERNAL
		   ? 0
		   : UP_UNKNOWN;
}

static void
test_batch_rollback(void)
{
	ud_store *st = open_store("batch.db");
	ud_store_conn *r = NULL;
	blocker b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false,
		     false};
	waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	batch_job jobs[3] = {
	    {.email = "a@example.com", .w = &w},
	    {.email = "b@example.com", .fail = true, .w = &w},
	    {.email = "c@example.com", .w = &w},
	};
	ud_store_counters before, after;
	ud_user got = {0};
	int64_t deadline = mono_ms() + 10000;
	double t0;

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	ud_store_stats(st, &before);
	CHECK_INT(ud_store_write(st, fn_block, done_ignore, &b), 0);
	pthread_mutex_lock(&b.mu);
	while (!b.started && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&b.cv, &b.mu, &ts);
	}
	pthread_mutex_unlock(&b.mu);
	CHECK(b.started);

	/* the writer holds an open transaction: readers are not blocked */
	t0 = now_s();
	CHECK_INT(ud_store_user_count(r), 0);
	CHECK(now_s() - t0 < 1.0);

	for (int i = 0; i < 3; i++) {
		CHECK_INT(ud_store_write(st, fn_batch, done_batch, &jobs[i]),
			  0);
	}
	pthread_mutex_lock(&b.mu);
	b.released = true;
	pthread_cond_broadcast(&b.cv);
	pthread_mutex_unlock(&b.mu);
	CHECK(wait_done(&w, 3, 10000));
	ud_store_stats(st, &after);
	CHECK_INT(after.commits - before.commits, 2); /* blocker, then a b c */
	CHECK(after.largest_batch >= 3);
	CHECK_INT(jobs[0].rc, 0);
	CHECK_INT(jobs[1].rc, UP_INVALID_ARGUMENT);
	CHECK_INT(jobs[2].rc, 0);
	CHECK(jobs[0].saw_own && jobs[1].saw_own && jobs[2].saw_own);
	CHECK_INT(ud_store_user_by_email(r, "a@example.com", &got), 0);
	ud_user_fini(&got);
	CHECK_INT(ud_store_user_by_email(r, "b@example.com", &got),
		  UP_NOT_FOUND);
	CHECK_INT(ud_store_user_by_email(r, "c@example.com", &got), 0);
	ud_user_fini(&got);
	CHECK_INT(ud_store_user_count(r), 3);
	CHECK_INT(ud_store_write_sync(st, fn_nested, st), 0);
	ud_store_reader_close(r);
	ud_store_close(st);
	CHECK(st != NULL);
}

/* ------------------------------------------------------------------------
 * Durability: acknowledged writes survive SIGKILL of the writer process
 */

static void
durability_child(const char *path, int fd)
{
	ud_store *st = NULL;

	if (ud_store_open(&st, path, NULL) != 0) {
		_exit(2);
	}
	for (int i = 0; i < 1000000; i++) {
		char email[64];
		ud_user u = {.email = email, .manager_access = -1};
		snprintf(email, sizeof(email), "d%d@example.com", i);
		if (ud_store_write_sync(st, fn_user_insert, &u) != 0) {
			_exit(3);
		}
		if (write(fd, &u.id, sizeof(u.id)) != (ssize_t)sizeof(u.id)) {
			_exit(4);
		}
	}
	_exit(0);
}

static void
test_durability(void)
{
	enum { WANT = 300, MAX_IDS = 1000000 };
	char path[256];
	int fds[2];
	pid_t pid;
	int64_t *ids = calloc(MAX_IDS, sizeof(*ids));
	size_t n = 0, have = 0;
	int64_t deadline = mono_ms() + 60000;
	ud_store *st;
	ud_store_conn *r = NULL;
	size_t missing = 0;
	int status;

	CHECK(ids != NULL);
	if (ids == NULL || pipe(fds) != 0) {
		free(ids);
		return;
	}
	db_path(path, sizeof(path), "durable.db");
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		durability_child(path, fds[1]);
	}
	close(fds[1]);
	CHECK(pid > 0);

	/* read acknowledgements until WANT of them, then kill mid-stream */
	while (n < WANT && mono_ms() < deadline) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		int pr = poll(&p, 1, 100);
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr > 0) {
			ssize_t got = read(fds[0], (char *)ids + have,
					   MAX_IDS * sizeof(*ids) - have);
			if (got <= 0) {
				break;
			}
			have += (size_t)got;
			n = have / sizeof(*ids);
		}
	}
	CHECK(n >= WANT);
	kill(pid, SIGKILL);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* every id the child wrote before dying was acknowledged too */
	for (;;) {
		ssize_t got = read(fds[0], (char *)ids + have,
				   MAX_IDS * sizeof(*ids) - have);
		if (got <= 0) {
			break;
		}
		have += (size_t)got;
	}
	close(fds[0]);
	n = have / sizeof(*ids);

	st = open_store("durable.db");
	if (st != NULL) {
		CHECK_INT(ud_store_reader_open(st, &r), 0);
		for (size_t i = 0; i < n; i++) {
			ud_user u = {0};
			if (ud_store_user_get(r, ids[i], &u) != 0) {
				missing++;
			}
			ud_user_fini(&u);
		}
		CHECK_INT(missing, 0);
		CHECK(ud_store_user_count(r) >= (int64_t)n);
		printf("durability: %zu acknowledged writes, %zu missing after "
		       "SIGKILL\n",
		       n, missing);
		ud_store_reader_close(r);
		ud_store_close(st);
	}
	free(ids);
}

/* ------------------------------------------------------------------------
 * Filters and paging
 */

static void
check_ids(ud_user *list, size_t n, const int64_t *want, size_t n_want, int line)
{
	bool ok = n == n_want;

	for (size_t i = 0; ok && i < n; i++) {
		ok = list[i].id == want[i];
	}
	if (!ok) {
		fprintf(stderr, "line %d: got %zu users:", line, n);
		for (size_t i = 0; i < n; i++) {
			fprintf(stderr, " %lld", (long long)list[i].id);
		}
		fprintf(stderr, "\n");
	}
	CHECK(ok);
}

#define LIST(f, total_want, ...)                                               \
	do {                                                                   \
		const int64_t want_[] = {__VA_ARGS__};                         \
		ud_user *l_ = NULL;                                            \
		size_t n_ = 0;                                                 \
		int64_t t_ = -1;                                               \
		CHECK_INT(ud_store_user_list(r, &(f), &l_, &n_, &t_), 0);      \
		CHECK_INT(t_, total_want);                                     \
		check_ids(l_, n_, want_ + 1,                                   \
			  sizeof(want_) / sizeof(want_[0]) - 1, __LINE__);     \
		ud_users_free(l_, n_);                                         \
	} while (0)

static void
test_filters(void)
{
	ud_store *st = open_store("filters.db");
	ud_store_conn *r = NULL;
	char a[33], b[33], c[33], d[33];
	int64_t u1, u2, u3, u4, u5;

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	/* Alpha -> (Bravo -> Delta), Charlie */
	CHECK_INT(add_org(st, "Alpha", 10, NULL, a), 0);
	CHECK_INT(add_org(st, "Charlie", 20, a, c), 0);
	CHECK_INT(add_org(st, "Bravo", 20, a, b), 0);
	CHECK_INT(add_org(st, "Delta", 30, b, d), 0);
	u1 = add_user(st, "ada.lovelace@example.com", "Ada", "Lovelace",
		      "Admin", a, NULL);
	u2 = add_user(st, "bob_smith@example.com", "Bob", "Smith", "Manager", b,
		      NULL);
	u3 = add_user(st, "bobXsmith@example.com", "Carol", "Bobson", "Manager",
		      d, NULL);
	u4 = add_user(st, "dave@other.org", "Dave", "Null", NULL, d, c);
	u5 = add_user(st, "eve%pct@other.org", "Eve", "Percent", NULL, NULL,
		      NULL);
	CHECK(u1 > 0 && u2 > u1 && u3 > u2 && u4 > u3 && u5 > u4);

	{
		ud_user_filter f = {0};
		LIST(f, 5, 0, u1, u2, u3, u4, u5);
		f.email_contains = "BOB_"; /* _ is literal */
		LIST(f, 1, 0, u2);
		f.email_contains = "%";
		LIST(f, 1, 0, u5);
		f.email_contains = "EXAMPLE.com";
		LIST(f, 3, 0, u1, u2, u3);
		f.email_contains = "\\";
		LIST(f, 0, 0);
	}
	{
		ud_user_filter f = {.name_contains = "BOB"};
		LIST(f, 2, 0, u2, u3);
		f.name_contains = "null";
		LIST(f, 1, 0, u4);
	}
	{
		ud_user_filter f = {.org_id = b};
		LIST(f, 1, 0, u2);
		f.org_id = d;
		LIST(f, 2, 0, u3, u4);
		f.org_id = "ffffffffffffffffffffffffffffffff";
		LIST(f, 0, 0);
		f.org_id = "junk";
		LIST(f, 0, 0);
	}
	{
		ud_user_filter f = {.role = "Manager"};
		LIST(f, 2, 0, u2, u3);
		f.role = "manager"; /* roles are exact */
		LIST(f, 0, 0);
	}
	{
		ud_strv scope = {0}, none = {0};
		ud_user_filter f = {.scope_org_ids = &scope};
		ud_strv_push(&scope, b);
		ud_strv_push(&scope, c);
		LIST(f, 2, 0, u2, u4);
		f.role = "Manager";
		LIST(f, 1, 0, u2);
		f.role = NULL;
		f.scope_org_ids = &none;
		LIST(f, 0, 0);
		ud_strv_fini(&scope);
		ud_strv_push(&scope, d);
		f.scope_org_ids = &scope;
		f.role = "Manager";
		f.name_contains = "carol";
		f.email_contains = "smith";
		LIST(f, 1, 0, u3);
		ud_strv_fini(&scope);
	}
	{
		ud_user_filter f = {.take = 2};
		LIST(f, 5, 0, u1, u2);
		f.skip = 2;
		LIST(f, 5, 0, u3, u4);
		f.skip = 4;
		LIST(f, 5, 0, u5);
		f.skip = 10;
		LIST(f, 5, 0);
		f.skip = -3;
		f.take = 0; /* default page */
		LIST(f, 5, 0, u1, u2, u3, u4, u5);
		f.take = 100000; /* bounded, still everything here */
		LIST(f, 5, 0, u1, u2, u3, u4, u5);
	}
	{
		ud_user_filter f = {.org_id = d};
		ud_user *l = NULL;
		size_t n = 0;
		int64_t total = 0;
		CHECK_INT(ud_store_user_list(r, &f, &l, &n, &total), 0);
		CHECK_INT(n, 2);
		if (n == 2) {
			/* each user's sets are loaded, orgs by name */
			CHECK_INT(l[0].roles.n, 1);
			CHECK_INT(l[1].org_names.n, 2);
			if (l[1].org_names.n == 2) {
				CHECK_STR(l[1].org_names.v[0], "Charlie");
				CHECK_STR(l[1].org_names.v[1], "Delta");
			}
		}
		ud_users_free(l, n);
	}

	/* subtree */
	{
		ud_strv roots = {0}, out = {0};
		ud_strv_push(&roots, a);
		CHECK_INT(ud_store_org_subtree(r, &roots, &out), 0);
		CHECK_INT(out.n, 4);
		CHECK(ud_strv_has(&out, a) && ud_strv_has(&out, b) &&
		      ud_strv_has(&out, c) && ud_strv_has(&out, d));
		ud_strv_fini(&out);
		ud_strv_fini(&roots);
		ud_strv_push(&roots, b);
		CHECK_INT(ud_store_org_subtree(r, &roots, &out), 0);
		CHECK_INT(out.n, 2);
		CHECK(ud_strv_has(&out, b) && ud_strv_has(&out, d));
		ud_strv_fini(&out);
		ud_strv_push(&roots, d); /* overlapping roots: no duplicates */
		ud_strv_push(&roots, c);
		CHECK_INT(ud_store_org_subtree(r, &roots, &out), 0);
		CHECK_INT(out.n, 3);
		ud_strv_fini(&out);
		ud_strv_fini(&roots);
		ud_strv_push(&roots, "\"],[\"x");
		CHECK_INT(ud_store_org_subtree(r, &roots, &out), 0);
		CHECK_INT(out.n, 0);
		ud_strv_fini(&out);
		ud_strv_fini(&roots);
	}

	/* children and org list */
	{
		ud_org *orgs = NULL;
		size_t n = 0;
		int64_t total = 0;
		ud_strv scope = {0};

		CHECK_INT(ud_store_org_children(r, a, &orgs, &n), 0);
		CHECK_INT(n, 2);
		if (n == 2) {
			CHECK_STR(orgs[0].name, "Bravo");
			CHECK_STR(orgs[1].name, "Charlie");
			CHECK_STR(orgs[1].parent_id, a);
		}
		ud_orgs_free(orgs, n);
		CHECK_INT(ud_store_org_children(r, d, &orgs, &n), 0);
		CHECK_INT(n, 0);
		ud_orgs_free(orgs, n);

		CHECK_INT(
		    ud_store_org_list(r, NULL, NULL, 0, 0, &orgs, &n, &total),
		    0);
		CHECK_INT(total, 4);
		CHECK_INT(n, 4);
		if (n == 4) {
			CHECK_STR(orgs[0].name, "Alpha");
			CHECK_STR(orgs[3].name, "Delta");
			CHECK_INT(orgs[3].member_count, 2);
			CHECK_INT(orgs[3].type, 30);
		}
		ud_orgs_free(orgs, n);
		CHECK_INT(
		    ud_store_org_list(r, NULL, NULL, 1, 1, &orgs, &n, &total),
		    0);
		CHECK_INT(total, 4);
		CHECK_INT(n, 1);
		if (n == 1) {
			CHECK_STR(orgs[0].name, "Bravo");
		}
		ud_orgs_free(orgs, n);
		CHECK_INT(
		    ud_store_org_list(r, a, NULL, 0, 10, &orgs, &n, &total), 0);
		CHECK_INT(total, 2);
		ud_orgs_free(orgs, n);
		ud_strv_push(&scope, d);
		ud_strv_push(&scope, a);
		CHECK_INT(ud_store_org_list(r, NULL, &scope, 0, 10, &orgs, &n,
					    &total),
			  0);
		CHECK_INT(total, 2);
		CHECK_INT(n, 2);
		if (n == 2) {
			CHECK_STR(orgs[0].name, "Alpha");
			CHECK_STR(orgs[1].name, "Delta");
		}
		ud_orgs_free(orgs, n);
		CHECK_INT(
		    ud_store_org_list(r, b, &scope, 0, 10, &orgs, &n, &total),
		    0);
		CHECK_INT(total, 1);
		ud_orgs_free(orgs, n);
		ud_strv_fini(&scope);
	}
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * Figures (printed, not asserted)
 */

typedef struct bench_thread {
	ud_store *st;
	int t;
	int n;
	int errors;
} bench_thread;

static void *
bench_main(void *arg)
{
	bench_thread *b = arg;

	for (int i = 0; i < b->n; i++) {
		char email[64];
		ud_user u = {.email = email, .manager_access = -1};
		snprintf(email, sizeof(email), "bench%d-%d@example.com", b->t,
			 i);
		if (ud_store_write_sync(b->st, fn_user_insert, &u) != 0) {
			b->errors++;
		}
	}
	return NULL;
}

static void
bench(void)
{
	enum { THREADS = 64, PER = 150, READS = 200000 };
	ud_store *st = open_store("bench.db");
	ud_store_conn *r = NULL;
	bench_thread b[THREADS];
	pthread_t th[THREADS];
	ud_store_counters s;
	int errors = 0;
	uint64_t x = 88172645463325252ull;
	double t0, t;
	int64_t n;

	if (st == NULL) {
		return;
	}
	t0 = now_s();
	for (int i = 0; i < THREADS; i++) {
		b[i] = (bench_thread){.st = st, .t = i, .n = PER};
		pthread_create(&th[i], NULL, bench_main, &b[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += b[i].errors;
	}
	t = now_s() - t0;
	CHECK_INT(errors, 0);
	ud_store_stats(st, &s);
	printf("bench: %d writes by %d writers in %.3f s: %.0f writes/s, "
	       "%llu commits (%.1f writes/commit), %llu checkpoints\n",
	       THREADS * PER, THREADS, t, THREADS * PER / t,
	       (unsigned long long)s.commits,
	       (double)s.writes / (double)(s.commits ? s.commits : 1),
	       (unsigned long long)s.checkpoints);

	/* the writer alone: one thread queues everything asynchronously */
	{
		waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			    0, 0};
		ud_store_counters s0;
		ud_store_stats(st, &s0);
		t0 = now_s();
		for (int i = 0; i < THREADS * PER; i++) {
			gc_job *j = calloc(1, sizeof(*j));
			if (j == NULL) {
				errors++;
				continue;
			}
			snprintf(j->email, sizeof(j->email),
				 "async%d@example.com", i);
			j->u.email = j->email;
			j->u.manager_access = -1;
			j->w = &w;
			if (ud_store_write(st, fn_gc_insert, done_gc, j) != 0) {
				free(j);
				errors++;
			}
		}
		CHECK(wait_done(&w, THREADS * PER, 60000));
		t = now_s() - t0;
		CHECK_INT(errors + w.failed, 0);
		ud_store_stats(st, &s);
		printf("bench: %d writes queued by one thread in %.3f s: "
		       "%.0f writes/s, %llu commits\n",
		       THREADS * PER, t, THREADS * PER / t,
		       (unsigned long long)(s.commits - s0.commits));
	}

	CHECK_INT(ud_store_reader_open(st, &r), 0);
	n = ud_store_user_count(r);
	CHECK_INT(n, 2 * THREADS * PER);
	errors = 0;
	t0 = now_s();
	for (int i = 0; i < READS && n > 0; i++) {
		ud_user u;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (ud_store_user_get(r, 1 + (int64_t)(x % (uint64_t)n), &u) !=
		    0) {
			errors++;
		}
		ud_user_fini(&u);
	}
	t = now_s() - t0;
	CHECK_INT(errors, 0);
	printf("bench: %d point reads by id on one reader in %.3f s: "
	       "%.0f reads/s\n",
	       READS, t, READS / t);
	ud_store_reader_close(r);
	ud_store_close(st);
}

int
main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_crud();
	test_email_unique();
	test_migrations();
	test_lock();
	test_batch_rollback();
	test_durability();
	test_group_commit();
	test_filters();
	bench();
	rm_tmpdir();
	return check_done();
}
