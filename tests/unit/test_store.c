/*
 * test_store.c - the store, one suite run for each backend.
 *
 *   test_store       SQLite (files in a temporary directory)
 *   test_store pg    PostgreSQL: a fresh database per test on the cluster
 *                    of the ctest fixture "pg" (tests/pg.cmake). Without
 *                    the fixture the run is skipped, or fails when
 *                    USERSD_TEST_REQUIRE_PG=1 (as ctest runs it).
 *
 * Both: records, constraints, filters and paging, the organization tree,
 * memberships, token versions, write rollback, concurrent writers, the
 * request log, the failed-login state, refresh tokens, migrations. SQLite
 * only: the lock, group commit, durability across SIGKILL. PostgreSQL
 * only: concurrent read-modify-writes of one user (row locks), races on
 * one email, one login, one token family and one request id, stores
 * opening one database together, reconnecting after the server ended the
 * sessions. Throughput figures are printed, never asserted.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "check.h"
#include "pg_testdb.h"
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

/* ------------------------------------------------------------------------
 * The backend under test, and its databases by name
 */

static bool use_pg;

#define TARGETS_MAX 64

static struct {
	char name[64];
	char target[512];
} targets[TARGETS_MAX];
static size_t n_targets;

/*
 * The target of the database called name: a file in tmpdir, or a fresh
 * PostgreSQL database made the first time the name is used (so a test can
 * reopen it). NULL (after a failed CHECK) when it cannot be had.
 */
static const char *
target_of(const char *name)
{
	for (size_t i = 0; i < n_targets; i++) {
		if (strcmp(targets[i].name, name) == 0) {
			return targets[i].target;
		}
	}
	CHECK(n_targets < TARGETS_MAX);
	if (n_targets == TARGETS_MAX) {
		return NULL;
	}
	snprintf(targets[n_targets].name, sizeof(targets[0].name), "%s", name);
	if (use_pg) {
		int rc = pg_testdb_new(name, targets[n_targets].target,
				       sizeof(targets[0].target));
		CHECK_INT(rc, 0);
		if (rc != 0) {
			return NULL;
		}
	} else {
		db_path(targets[n_targets].target, sizeof(targets[0].target),
			name);
	}
	return targets[n_targets++].target;
}

static void
drop_targets(void)
{
	for (size_t i = 0; use_pg && i < n_targets; i++) {
		CHECK_INT(pg_testdb_drop(targets[i].target), 0);
	}
	n_targets = 0;
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
	unsigned sets; /* UD_SET_* */
	bool bump;
} update_args;

static int
fn_user_update(ud_store_conn *c, void *arg)
{
	update_args *a = arg;

	return ud_store_user_update(c, a->u, a->sets, a->bump);
}

/* Counts the Managers on the writer connection (role rows locked). */
static int
fn_role_holders(ud_store_conn *c, void *arg)
{
	return ud_store_role_holders(c, "Manager", arg);
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
	const char *target = target_of(name);
	ud_store *st = NULL;

	if (target == NULL) {
		return NULL;
	}
	CHECK_INT(ud_store_open(&st, target, NULL), 0);
	return st;
}

/*
 * A second store on the database of st (a second daemon), or NULL (and st
 * closed). Racers that must each hold a transaction at once run on two
 * stores: one store runs the writes queued together one after the other,
 * in one transaction (group commit).
 */
static ud_store *
open_second(ud_store *st, const char *name)
{
	ud_store *st2 = st != NULL ? open_store(name) : NULL;

	if (st2 == NULL) {
		ud_store_close(st);
	}
	return st2;
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
	CHECK_INT(ud_store_schema_version(st),
		  ud_store_schema_latest(target_of("crud.db")));
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
		update_args a = {.u = &u, .sets = UD_SET_ALL, .bump = true};
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

		/* without the memberships and bump: they and the version
		 * stay */
		a.sets = UD_SET_ROLES | UD_SET_PERMS;
		a.bump = false;
		ud_strv_fini(&u.org_ids);
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
		CHECK_INT(u.token_version, 2);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK_INT(got.org_ids.n, 1);
		ud_user_fini(&got);

		/* a set not named stays as stored, whatever u holds */
		a.sets = UD_SET_PERMS;
		ud_strv_push(&u.roles, "Manager");
		u.first_name = "Unnamed";
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK_STR(got.first_name, "Unnamed");
		CHECK_INT(got.roles.n, 1);
		if (got.roles.n == 1) {
			CHECK_STR(got.roles.v[0], "User");
		}
		ud_user_fini(&got);
		ud_strv_fini(&u.roles);
		ud_strv_push(&u.roles, "User");
		u.first_name = "Amazing";
		a.sets = UD_SET_ROLES | UD_SET_PERMS; /* as before */
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);

		/* an unknown id; a membership of an unknown org rolls back */
		u.id = missing;
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a),
			  UP_NOT_FOUND);
		u.id = id;
		a.sets = UD_SET_ALL;
		ud_strv_push(&u.org_ids, "00000000000000000000000000000001");
		u.first_name = "Rolled";
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a),
			  UP_INVALID_ARGUMENT);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK_STR(got.first_name, "Amazing");
		ud_user_fini(&got);
		ud_strv_fini(&u.org_ids);
		u.first_name = "Amazing";

		/* each set is kept, replaced or emptied on its own; a set
		 * given again (in another order or Guid spelling) stays */
		int32_t p2[2] = {4, 1};
		char dashed[40];
		snprintf(dashed, sizeof(dashed), "%.8s-%.4s-%.4s-%.4s-%.12s",
			 child, child + 8, child + 12, child + 16, child + 20);
		u.dashboard_permissions = p2;
		u.n_dashboard_permissions = 2;
		u.primary_org_id = child;
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
		p2[0] = 1;
		p2[1] = 4;
		ud_strv_push(&u.org_ids, dashed);
		u.primary_org_id = dashed;
		u.first_name = "Again";
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK_STR(got.first_name, "Again");
		CHECK_STR(got.primary_org_id, child);
		CHECK_INT(got.roles.n, 1);
		CHECK_INT(got.n_dashboard_permissions, 2);
		CHECK_INT(got.org_ids.n, 1);
		ud_user_fini(&got);
		ud_strv_push(&u.roles, "Manager");
		u.n_dashboard_permissions = 1; /* {1} */
		u.primary_org_id = NULL;
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK(got.primary_org_id == NULL);
		CHECK_INT(got.roles.n, 2);
		CHECK_INT(got.n_dashboard_permissions, 1);
		if (got.n_dashboard_permissions == 1) {
			CHECK_INT(got.dashboard_permissions[0], 1);
		}
		CHECK_INT(got.org_ids.n, 1);
		ud_user_fini(&got);
		ud_strv_fini(&u.org_ids); /* UD_SET_ORGS: no memberships */
		u.n_dashboard_permissions = 0;
		u.dashboard_permissions = NULL;
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK_INT(got.org_ids.n, 0);
		CHECK_INT(got.n_dashboard_permissions, 0);
		CHECK_INT(got.roles.n, 2);
		ud_user_fini(&got);
		ud_strv_push(&u.org_ids,
			     child); /* as before, for what follows */
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
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

/*
 * A user's memberships come in the order of the organizations' names, then
 * ids, whatever the order of the ids (the table's key) or of the insert.
 */
typedef struct import_arg {
	ud_store_import *rows;
	size_t n;
} import_arg;

static int
fn_import(ud_store_conn *c, void *arg)
{
	import_arg *a = arg;

	return ud_store_users_import(c, a->rows, a->n);
}

/*
 * ud_store_users_import: new users created with their roles, permissions
 * and memberships; a taken email (a stored user, or an earlier row in
 * another letter case) answered with the user who holds it, unchanged,
 * whatever else the row says; a row naming an organization that does not
 * exist refused alone, and the next row of its email created instead;
 * the new users found by substring. Again: nothing more created.
 */
static void
test_users_import(void)
{
	enum { N = 6 };
	static const char *const emails[N] = {
	    "new1@import.example", "OLD@import.example",
	    "New1@Import.Example", "new2@import.example",
	    "NEW2@import.example", "new3@import.example"};
	ud_store *st = open_store("import.db");
	ud_store_conn *r = NULL;
	ud_user u[N], got = {0};
	ud_store_import rows[N];
	import_arg a = {rows, N};
	ud_user_filter f = {.email_contains = "@import.exam"};
	ud_user *list = NULL;
	size_t n = 0;
	int64_t total = 0, old_id, id1 = 0;
	int32_t perm = 3;
	char org[33];

	if (st == NULL) {
		return;
	}
	CHECK_INT(add_org(st, "Imported", 0, NULL, org), 0);
	old_id =
	    add_user(st, "old@import.example", "Old", "User", NULL, NULL, NULL);
	CHECK(old_id > 0);
	for (int run = 0; run < 2; run++) {
		memset(rows, 0, sizeof(rows));
		for (int i = 0; i < N; i++) {
			ud_store_user_init(&u[i]);
			u[i].email = (char *)emails[i];
			u[i].first_name = "F";
			rows[i].u = &u[i];
		}
		ud_strv_push(&u[0].roles, "Viewer");
		ud_strv_push(&u[0].org_ids, org);
		u[0].primary_org_id = org;
		u[0].dashboard_permissions = &perm;
		u[0].n_dashboard_permissions = 1;
		/* no such organization: a taken email says so first */
		ud_strv_push(&u[2].org_ids, "0123456789abcdef0123456789abcdef");
		ud_strv_push(&u[3].org_ids, "0123456789abcdef0123456789abcdef");
		CHECK_INT(ud_store_write_sync(st, fn_import, &a), 0);
		if (run == 0) {
			CHECK_INT(rows[0].rc, 0);
			CHECK(u[0].id > 0 && u[0].created_at > 0);
			id1 = u[0].id;
			CHECK_INT(rows[3].rc, UP_INVALID_ARGUMENT);
			CHECK_INT(rows[4].rc, 0);
			CHECK_INT(rows[5].rc, 0);
		} else {
			CHECK_INT(rows[0].rc, UP_ALREADY_EXISTS);
			CHECK_INT(rows[0].stored.id, id1);
			CHECK_INT(rows[3].rc, UP_ALREADY_EXISTS);
			CHECK_INT(rows[3].stored.id, rows[4].stored.id);
			CHECK_INT(rows[4].rc, UP_ALREADY_EXISTS);
			CHECK_INT(rows[5].rc, UP_ALREADY_EXISTS);
		}
		CHECK_INT(rows[1].rc, UP_ALREADY_EXISTS);
		CHECK_INT(rows[1].stored.id, old_id);
		CHECK_STR(rows[1].stored.first_name, "Old");
		CHECK_INT(rows[2].rc, UP_ALREADY_EXISTS);
		CHECK_INT(rows[2].stored.id, id1);
		CHECK_INT(rows[2].stored.roles.n, 1);
		CHECK_INT(rows[2].stored.org_ids.n, 1);
		for (int i = 0; i < N; i++) {
			ud_user_fini(&rows[i].stored);
		}
		ud_strv_fini(&u[0].roles);
		ud_strv_fini(&u[0].org_ids);
		ud_strv_fini(&u[2].org_ids);
		ud_strv_fini(&u[3].org_ids);
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	if (r != NULL) {
		CHECK_INT(ud_store_user_count(r), 4);
		CHECK_INT(ud_store_user_get(r, id1, &got), 0);
		CHECK_STR(got.email, "new1@import.example");
		CHECK_INT(got.roles.n, 1);
		CHECK_INT(got.n_dashboard_permissions, 1);
		CHECK_INT(got.org_ids.n, 1);
		CHECK_STR(got.primary_org_id, org);
		CHECK_INT(got.token_version, 1);
		CHECK_INT(got.rev, use_pg ? 1 : 0);
		ud_user_fini(&got);
		CHECK_INT(
		    ud_store_user_by_email(r, "new2@import.example", &got), 0);
		CHECK_INT(got.org_ids.n, 0);
		ud_user_fini(&got);
		CHECK_INT(ud_store_user_list(r, &f, &list, &n, &total), 0);
		CHECK_INT(n, 4);
		ud_users_free(list, n);
		ud_store_reader_close(r);
	}
	ud_store_close(st);
}

/*
 * SQLite: commits far larger than one write of the WAL's buffer
 * (store_walbuf.c writes a commit's frames 64 KiB at a time, and keeps at
 * most 1 MiB before it writes): 3,000 users imported by one write,
 * some 2 MiB of frames, every one of them read back by another connection
 * and again after the store was closed and opened anew (by then the
 * checkpoint has copied them from the WAL into the database).
 */
/* Every row of a, UD_STORE_IMPORT_MAX at a time, in one transaction. */
static int
fn_import_all(ud_store_conn *c, void *arg)
{
	import_arg *a = arg;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < a->n; i += UD_STORE_IMPORT_MAX) {
		size_t n = a->n - i < UD_STORE_IMPORT_MAX ? a->n - i
							  : UD_STORE_IMPORT_MAX;

		rc = ud_store_users_import(c, a->rows + i, n);
	}
	return rc;
}

static void
test_large_commit(void)
{
	enum { N = 3000 };
	ud_store *st = open_store("large.db");
	ud_store_import *rows = calloc(N, sizeof(*rows));
	ud_user *u = calloc(N, sizeof(*u));
	char(*emails)[48] = calloc(N, sizeof(*emails));
	char name[400];
	import_arg a = {rows, N};
	ud_store_conn *r = NULL;
	ud_user got = {0};
	int bad = 0;

	if (st == NULL || rows == NULL || u == NULL || emails == NULL) {
		CHECK(rows != NULL && u != NULL && emails != NULL);
		goto out;
	}
	/* a long name, so the rows fill many pages */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (int i = 0; i < N; i++) {
		ud_store_user_init(&u[i]);
		snprintf(emails[i], sizeof(emails[i]), "big%04d@large.example",
			 i);
		u[i].email = emails[i];
		u[i].first_name = name;
		rows[i].u = &u[i];
	}
	CHECK_INT(ud_store_write_sync(st, fn_import_all, &a), 0);
	for (int i = 0; i < N; i++) {
		bad += rows[i].rc != 0;
		ud_user_fini(&rows[i].stored);
	}
	CHECK_INT(bad, 0);
	for (int round = 0; round < 2; round++) {
		CHECK_INT(ud_store_reader_open(st, &r), 0);
		if (r == NULL) {
			break;
		}
		CHECK_INT(ud_store_user_count(r), N);
		CHECK_INT(ud_store_user_by_email(r, emails[N - 1], &got), 0);
		CHECK_STR(got.first_name, name);
		ud_user_fini(&got);
		ud_store_reader_close(r);
		ud_store_close(st);
		st = round == 0 ? open_store("large.db") : NULL;
		if (st == NULL) {
			break;
		}
	}
out:
	ud_store_close(st);
	free(emails);
	free(u);
	free(rows);
}

static void
test_membership_order(void)
{
	static const struct {
		const char *id, *name;
	} orgs[] = {
	    {"00000000000000000000000000000001", "Beta"},
	    {"88888888888888888888888888888888", "Gamma"},
	    {"ffffffffffffffffffffffffffffffff", "Alpha"},
	    {"11111111111111111111111111111111", "Beta"},
	    {"22222222222222222222222222222222", "Delta"},
	};
	static const int want[] = {2, 0, 3, 4, 1};
	ud_store *st = open_store("order.db");
	ud_store_conn *r = NULL;
	ud_user u = {.email = "order@example.com", .manager_access = -1};
	ud_user got = {0};
	size_t n = sizeof(orgs) / sizeof(orgs[0]);

	if (st == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ud_org o = {.id = strdup(orgs[i].id),
			    .name = (char *)orgs[i].name};
		CHECK_INT(ud_store_write_sync(st, fn_org_insert, &o), 0);
		free(o.id);
		ud_strv_push(&u.org_ids, orgs[i].id);
	}
	CHECK_INT(ud_store_write_sync(st, fn_user_insert, &u), 0);
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(ud_store_user_get(r, u.id, &got), 0);
	CHECK_INT(got.org_ids.n, n);
	CHECK_INT(got.org_names.n, n);
	for (size_t i = 0; i < n && i < got.org_ids.n && i < got.org_names.n;
	     i++) {
		CHECK_STR(got.org_ids.v[i], orgs[want[i]].id);
		CHECK_STR(got.org_names.v[i], orgs[want[i]].name);
	}
	ud_user_fini(&got);
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
		/* changing the case of one's own email is fine, and kept */
		free(got.email);
		got.email = strdup("BOB@example.com");
		CHECK_INT(ud_store_write_sync(st, fn_user_update, &a), 0);
	}
	ud_user_fini(&got);
	CHECK_INT(ud_store_user_get(r, bob, &got), 0);
	CHECK_STR(got.email, "BOB@example.com");
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

/*
 * The user that a version-1 database held (id 7, a Manager), read through
 * a store that migrated it to latest; closes st.
 */
static void
check_v1_user(ud_store *st, int latest)
{
	ud_store_conn *r = NULL;
	ud_user got = {0};
	ud_user_filter f = {.role = "Manager"};
	ud_user *list = NULL;
	size_t n = 0;
	int64_t total = 0;

	CHECK_INT(ud_store_schema_version(st), latest);
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	if (r != NULL) {
		CHECK_INT(ud_store_user_get(r, 7, &got), 0);
		CHECK_STR(got.email, "old@example.com");
		CHECK_STR(got.first_name, "Old");
		CHECK_INT(got.token_version, 1);
		CHECK_INT(got.manager_access, -1);
		CHECK_INT(got.created_at, 1);
		ud_user_fini(&got);
		CHECK_INT(ud_store_user_list(r, &f, &list, &n, &total), 0);
		CHECK_INT(total, 1);
		ud_users_free(list, n);
		ud_store_reader_close(r);
	}
	ud_store_close(st);
}

static void
test_migrations(void)
{
	char path[256];
	ud_store *st;
	ud_store_conn *r = NULL;
	ud_user got = {0};
	int64_t id;
	int latest = ud_store_schema_latest("sqlite");

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
	check_v1_user(st, latest);
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

/*
 * The second process is forked before the first opens the store, and
 * waits for it on a pipe: forked from a process whose store threads run,
 * the child could inherit a lock one of them held (the allocator's, under
 * ASan, while the writer checkpoints after the migrations) and never get
 * it.
 */
static void
test_lock(void)
{
	char path[256], go = 0;
	ud_store *st;
	pid_t pid;
	int status = -1, p[2];

	db_path(path, sizeof(path), "lock.db");
	CHECK_INT(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		ud_store *other = NULL;
		int rc, rc2;

		close(p[1]);
		if (read(p[0], &go, 1) != 1 || go != 1) {
			_exit(2);
		}
		rc = ud_store_open(&other, path, NULL);
		rc2 = ud_store_migrate(path, 0);
		_exit(rc == UP_FAILED_PRECONDITION &&
			      rc2 == UP_FAILED_PRECONDITION && other == NULL
			  ? 0
			  : 1);
	}
	close(p[0]);
	CHECK(pid > 0);
	st = open_store("lock.db");
	go = st != NULL ? 1 : 0;
	CHECK_INT(write(p[1], &go, 1), 1);
	close(p[1]);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	if (st == NULL) {
		return;
	}
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

/* A write that blocks the writer until released (bounded). */
typedef struct blocker {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started;
	bool released;
} blocker;

#define BLOCKER_INIT                                                           \
	{                                                                      \
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false,    \
		    false                                                      \
	}

/* Under b->mu: waits (at most 10 s) until *flag is set. */
static void
blocker_wait_locked(blocker *b, const bool *flag)
{
	int64_t deadline = mono_ms() + 10000;

	while (!*flag && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&b->cv, &b->mu, &ts);
	}
}

/* Says it started, then waits (at most 10 s) to be released. */
static void
block_until_released(blocker *b)
{
	pthread_mutex_lock(&b->mu);
	b->started = true;
	pthread_cond_broadcast(&b->cv);
	blocker_wait_locked(b, &b->released);
	pthread_mutex_unlock(&b->mu);
}

/* Waits (at most 10 s) for b's write to have started. */
static void
wait_started(blocker *b)
{
	pthread_mutex_lock(&b->mu);
	blocker_wait_locked(b, &b->started);
	pthread_mutex_unlock(&b->mu);
	CHECK(b->started);
}

static int
fn_block(ud_store_conn *c, void *arg)
{
	ud_user u = {.email = "blocker@example.com", .manager_access = -1};
	int rc = ud_store_user_insert(c, &u);

	block_until_released(arg);
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

/* A write of w's is done with rc: kept in *slot, counted. */
static void
waiter_done(waiter *w, int *slot, int rc)
{
	pthread_mutex_lock(&w->mu);
	*slot = rc;
	w->done++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void
done_batch(int rc, void *arg)
{
	batch_job *j = arg;

	waiter_done(j->w, &j->rc, rc);
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

/*
 * After jobs a, b (failing) and c: b alone rolled back, each job saw its
 * own insert, users in all, and a write_sync from a write refused.
 */
static void
check_abc(ud_store *st, ud_store_conn *r, const batch_job *jobs, int64_t users)
{
	ud_user got = {0};

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
	CHECK_INT(ud_store_user_count(r), users);
	CHECK_INT(ud_store_write_sync(st, fn_nested, st), 0);
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
	check_abc(st, r, jobs, 3);
	ud_store_reader_close(r);
	ud_store_close(st);
	CHECK(st != NULL);
}

/* ------------------------------------------------------------------------
 * WAL checkpoints (SQLite)
 */

/*
 * The copier copies the WAL into the database beside the writer: once the
 * WAL holds wal_pages, and past an eighth of that once the writer is
 * idle, with no write to prompt it. The writer restarts the WAL after the
 * copier's pass, so the WAL stays within its limit (one and a half times
 * wal_pages).
 */
/* See test_checkpoints: imports IDLE_USERS, waits for the index, writes. */
static void
idle_index_restarts(ud_store *st, const char *wal, long long limit)
{
	enum { IDLE_USERS = 3000 };
	ud_store_import *rows = calloc(IDLE_USERS, sizeof(*rows));
	ud_user *u = calloc(IDLE_USERS, sizeof(*u));
	char(*texts)[2][160] = calloc(IDLE_USERS, sizeof(*texts));
	import_arg a = {rows, IDLE_USERS};
	ud_store_counters s0, s;
	struct stat sb;
	double deadline;

	if (rows == NULL || u == NULL || texts == NULL) {
		CHECK(rows != NULL && u != NULL && texts != NULL);
		goto out;
	}
	for (int i = 0; i < IDLE_USERS; i++) {
		ud_store_user_init(&u[i]);
		snprintf(texts[i][0], sizeof(texts[i][0]),
			 "indexed%04d@idle.example", i);
		/* words of their own: index entries of their own */
		snprintf(texts[i][1], sizeof(texts[i][1]),
			 "Idle%04d a%04d b%04d c%04d d%04d e%04d f%04d g%04d "
			 "h%04d",
			 i, i, i, i, i, i, i, i, i);
		u[i].email = texts[i][0];
		u[i].first_name = texts[i][1];
		rows[i].u = &u[i];
	}
	CHECK_INT(ud_store_write_sync(st, fn_import_all, &a), 0);
	ud_store_stats(st, &s0);
	for (int i = 0; i < IDLE_USERS; i++) {
		ud_user_fini(&rows[i].stored);
	}
	deadline = now_s() + 30;
	do {
		ud_store_stats(st, &s);
	} while ((s.index_pending > 0 || s.index_merging > 0) &&
		 now_s() < deadline && poll(NULL, 0, 10) == 0);
	CHECK(s.index_pending == 0 && s.index_merging == 0);
	/* the import's own batch restarts the WAL once at most; the six
	 * commits of the index and its merge restart it again (4 times
	 * here): a writer that looked only after batches would not */
	printf("checkpoints: %llu during the idle indexing\n",
	       (unsigned long long)(s.checkpoints - s0.checkpoints));
	CHECK(s.checkpoints - s0.checkpoints >= 2);
	CHECK(add_user(st, "after-index@example.com", "After", NULL, NULL, NULL,
		       NULL) > 0);
	CHECK_INT(stat(wal, &sb), 0);
	printf("checkpoints: after idle indexing, WAL %lld bytes\n",
	       (long long)sb.st_size);
	CHECK((long long)sb.st_size <= limit);
out:
	free(rows);
	free(u);
	free(texts);
}

static uint64_t
ckpt_work(const ud_store_counters *s)
{
	return s->checkpoints + s->copies;
}

static void
test_checkpoints(void)
{
	enum { PAGES = 64, BUSY_WRITES = 400 };
	ud_store_config cfg = {.wal_pages = PAGES};
	const char *target = target_of("ckpt.db");
	const long long frame = 4096 + 24, limit = PAGES * 3 / 2 * frame + 32;
	char wal[300], email[64];
	ud_store *st = NULL;
	ud_store_counters s0, s;
	struct stat sb;
	double deadline;

	if (target == NULL) {
		return;
	}
	CHECK_INT(ud_store_open(&st, target, &cfg), 0);
	if (st == NULL) {
		return;
	}
	snprintf(wal, sizeof(wal), "%s-wal", target);

	/* Writes until one is followed by a copy or a checkpoint (the
	 * migrations' pages count as backlog too). */
	ud_store_stats(st, &s0);
	s = s0;
	for (int i = 0; i < 200 && ckpt_work(&s) == ckpt_work(&s0); i++) {
		snprintf(email, sizeof(email), "first%d@example.com", i);
		CHECK(add_user(st, email, "First", NULL, NULL, NULL, NULL) > 0);
		ud_store_stats(st, &s);
	}
	CHECK(ckpt_work(&s) > ckpt_work(&s0));

	/* idle: a few writes leave a backlog below wal_pages; the copier
	 * copies it unprompted */
	deadline = now_s() + 5;
	do {
		ud_store_stats(st, &s0);
	} while (s0.queued > 0 && now_s() < deadline && poll(NULL, 0, 5) == 0);
	for (int i = 0; i < 8; i++) {
		snprintf(email, sizeof(email), "idle%d@example.com", i);
		CHECK(add_user(st, email, "Idle", NULL, NULL, NULL, NULL) > 0);
	}
	deadline = now_s() + 5;
	do {
		ud_store_stats(st, &s);
	} while (s.copies == s0.copies && now_s() < deadline &&
		 poll(NULL, 0, 5) == 0);
	CHECK(s.copies > s0.copies);

	/* busy: back-to-back writes, many times wal_pages in all */
	s0 = s;
	for (int i = 0; i < BUSY_WRITES; i++) {
		snprintf(email, sizeof(email), "busy%d@example.com", i);
		CHECK(add_user(st, email, "Busy", NULL, NULL, NULL, NULL) > 0);
	}
	ud_store_stats(st, &s);
	CHECK_INT(stat(wal, &sb), 0);
	printf("checkpoints: %d writes, %llu copies, %llu checkpoints, WAL "
	       "%lld bytes\n",
	       BUSY_WRITES, (unsigned long long)(s.copies - s0.copies),
	       (unsigned long long)(s.checkpoints - s0.checkpoints),
	       (long long)sb.st_size);
	CHECK((long long)sb.st_size <= limit);
	/* each write is a commit of several pages (the user and its index
	 * entries, its note for the search index, the user count; the
	 * writer indexes the notes when idle, between these writes or
	 * after them): the WAL reaches wal_pages some 30 times, and each
	 * time the copier passes, once or a few times (these commits are
	 * small and quick), and the writer restarts the WAL once */
	CHECK(s.copies - s0.copies >= 1);
	CHECK(s.checkpoints - s0.checkpoints >= 1);
	CHECK(s.checkpoints - s0.checkpoints <= 100);

	/* idle index work: after an import, the idle writer brings the
	 * search index up to date in many commits of its own; the WAL is
	 * copied and restarted between them as between batches, so the
	 * next write finds it restarted and cuts the file back */
	idle_index_restarts(st, wal, limit);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * A reader's recent users: never older than its read transaction
 */

/* Sets the first name of a stored user, through the writer. */
static int
rename_user(ud_store *st, ud_store_conn *r, int64_t id, const char *first)
{
	ud_user u = {0};
	update_args a = {.u = &u};
	int rc = ud_store_user_get(r, id, &u);

	if (rc == 0) {
		free(u.first_name);
		u.first_name = strdup(first);
		rc = ud_store_write_sync(st, fn_user_update, &a);
	}
	ud_user_fini(&u);
	return rc;
}

/* The first name reader r reads for id now ("" when the read fails). */
static char *
first_of(ud_store_conn *r, int64_t id)
{
	static char buf[64];
	ud_user u = {0};

	buf[0] = '\0';
	if (ud_store_user_get(r, id, &u) == 0 && u.first_name != NULL) {
		snprintf(buf, sizeof(buf), "%s", u.first_name);
	}
	ud_user_fini(&u);
	return buf;
}

static void
test_reader_users(void)
{
	ud_store *st = open_store("users.db");
	ud_store_conn *r = NULL;
	ud_user u = {0};
	int64_t id, other;

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	id = add_user(st, "cache@example.com", "One", NULL, "User", NULL, NULL);
	other =
	    add_user(st, "other@example.com", "Other", NULL, NULL, NULL, NULL);
	CHECK(id > 0 && other > 0);
	CHECK_STR(first_of(r, id), "One");
	CHECK_STR(first_of(r, id), "One");

	/* a commit in between: the next read sees it */
	CHECK_INT(rename_user(st, r, id, "Two"), 0);
	CHECK_STR(first_of(r, id), "Two");
	/* a commit about another user counts too */
	CHECK_INT(rename_user(st, r, other, "Else"), 0);
	CHECK_STR(first_of(r, id), "Two");

	/* inside one snapshot the view holds; the next one sees the write */
	CHECK_INT(ud_store_snapshot_begin(r), 0);
	CHECK_STR(first_of(r, id), "Two");
	CHECK_INT(rename_user(st, r, id, "Three"), 0);
	CHECK_STR(first_of(r, id), "Two");
	ud_store_snapshot_end(r);
	CHECK_STR(first_of(r, id), "Three");

	/* what a read hands out is the caller's: changing it changes
	 * nothing stored or kept */
	CHECK_INT(ud_store_user_get(r, id, &u), 0);
	free(u.first_name);
	u.first_name = strdup("Scribble");
	ud_strv_fini(&u.roles);
	ud_user_fini(&u);
	CHECK_INT(ud_store_user_get(r, id, &u), 0);
	CHECK_STR(u.first_name, "Three");
	CHECK_INT(u.roles.n, 1);
	CHECK_STR(u.email, "cache@example.com");
	ud_user_fini(&u);
	CHECK_INT(ud_store_user_get(r, other + 1000, &u), UP_NOT_FOUND);

	/*
	 * A kept user checked instead of read again: still at its revision
	 * (PostgreSQL; SQLite keeps none and hands the user out), changed
	 * (the stored user handed out), gone. On PostgreSQL the check rides
	 * with the next statement: one round trip for both.
	 */
	ud_store_counters s0, s1;
	int64_t rev;

	CHECK_INT(ud_store_user_get(r, id, &u), 0);
	rev = u.rev;
	ud_user_fini(&u);
	ud_store_stats(st, &s0);
	CHECK_INT(ud_store_user_check(r, id, rev), 0);
	CHECK_STR(first_of(r, other), "Else");
	CHECK_INT(ud_store_user_check_end(r, &u),
		  use_pg ? 0 : UD_STORE_CHANGED);
	ud_user_fini(&u);
	ud_store_stats(st, &s1);
	CHECK_INT(s1.round_trips - s0.round_trips, use_pg ? 1 : 0);
	CHECK_INT(rename_user(st, r, id, "Four"), 0);
	CHECK_INT(ud_store_user_check(r, id, rev), 0);
	CHECK_INT(ud_store_user_check_end(r, &u), UD_STORE_CHANGED);
	CHECK_INT(u.id, id);
	CHECK_STR(u.first_name, "Four");
	CHECK_STR(u.email, "cache@example.com");
	CHECK_INT(u.roles.n, 1);
	CHECK(!use_pg || u.rev > rev);
	ud_user_fini(&u);
	CHECK_INT(ud_store_write_sync(st, fn_user_delete, &id), 0);
	CHECK_INT(ud_store_user_check(r, id, rev), 0);
	CHECK_INT(ud_store_user_check_end(r, &u), UP_NOT_FOUND);
	ud_user_fini(&u);
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* Whether a and b hold the same user, member by member. */
static bool
same_text(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_strv(const ud_strv *a, const ud_strv *b)
{
	if (a->n != b->n) {
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->v[i], b->v[i]) != 0) {
			return false;
		}
	}
	return true;
}

static bool
same_user(const ud_user *a, const ud_user *b)
{
	return a->id == b->id && same_text(a->email, b->email) &&
	       same_text(a->password_hash, b->password_hash) &&
	       same_text(a->first_name, b->first_name) &&
	       same_text(a->last_name, b->last_name) &&
	       same_text(a->phone_number, b->phone_number) &&
	       same_text(a->primary_org_id, b->primary_org_id) &&
	       a->disabled == b->disabled &&
	       a->activation_status == b->activation_status &&
	       a->manager_access == b->manager_access &&
	       same_strv(&a->roles, &b->roles) &&
	       a->n_dashboard_permissions == b->n_dashboard_permissions &&
	       same_strv(&a->org_ids, &b->org_ids) &&
	       same_strv(&a->org_names, &b->org_names) &&
	       a->created_at == b->created_at &&
	       a->updated_at == b->updated_at &&
	       a->token_version == b->token_version && a->rev == b->rev;
}

/*
 * A read ahead (the targets and callers of one message's GetUser calls):
 * on PostgreSQL one round trip, after which a target read with
 * ud_store_user_get_ahead gives what a read of it alone gives (a copy each
 * time; one that is not there: not found), a check of a caller has its
 * verdict without a statement when the revision matches (when not, the
 * stored user, whichever is newer), and everything else reads the store:
 * ud_store_user_get, and a check of someone who was not read ahead as a
 * caller. Once it ends, the store again. SQLite reads nothing ahead: the
 * same answers, each read from the store.
 */
static void
test_read_ahead(void)
{
	ud_store *st = open_store("ahead.db");
	ud_store_conn *r = NULL;
	ud_user a = {0}, b = {0}, u = {0};
	ud_store_counters s0, s1, s2;
	char org_a[33], org_b[33];
	int64_t id, other, gone;

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(add_org(st, "Ahead B", 20, NULL, org_b), 0);
	CHECK_INT(add_org(st, "Ahead A", 20, NULL, org_a), 0);
	id = add_user(st, "ahead@example.com", "One", "Ahead", "User", org_b,
		      org_a);
	other =
	    add_user(st, "ahead2@example.com", "Two", NULL, NULL, NULL, NULL);
	CHECK(id > 0 && other > 0);
	gone = other + 1000;
	CHECK_INT(ud_store_user_get(r, id, &a), 0);
	CHECK_INT(ud_store_user_get(r, other, &b), 0);
	CHECK_INT(a.org_ids.n, 2);
	CHECK_STR(a.org_names.n == 2 ? a.org_names.v[0] : "", "Ahead A");

	int64_t users[] = {id, other, id, gone, 0};
	int64_t callers[] = {other, gone, other, -3};

	ud_store_stats(st, &s0);
	CHECK_INT(ud_store_read_ahead(r, users, 5, callers, 4), 0);
	ud_store_stats(st, &s1);
	CHECK_INT(s1.round_trips - s0.round_trips, use_pg ? 1 : 0);
	for (int k = 0; k < 2; k++) {
		CHECK_INT(ud_store_user_get_ahead(r, id, &u), 0);
		CHECK(same_user(&u, &a));
		free(u.first_name); /* the caller's copy, not the kept one */
		u.first_name = strdup("Scribble");
		ud_user_fini(&u);
	}
	CHECK_INT(ud_store_user_get_ahead(r, other, &u), 0);
	CHECK(same_user(&u, &b));
	ud_user_fini(&u);
	CHECK_INT(ud_store_user_get_ahead(r, gone, &u), UP_NOT_FOUND);
	ud_user_fini(&u);

	/* the callers' checks: at its revision and gone, without a
	 * statement; at another, the stored user read */
	CHECK_INT(ud_store_user_check(r, other, b.rev), 0);
	CHECK_INT(ud_store_user_check_end(r, &u),
		  use_pg ? 0 : UD_STORE_CHANGED);
	ud_user_fini(&u);
	CHECK_INT(ud_store_user_check(r, gone, 1), 0);
	CHECK_INT(ud_store_user_check_end(r, &u), UP_NOT_FOUND);
	ud_user_fini(&u);
	ud_store_stats(st, &s2);
	CHECK_INT(s2.round_trips - s1.round_trips, 0);
	CHECK_INT(ud_store_user_check(r, other, b.rev + 7), 0);
	CHECK_INT(ud_store_user_check_end(r, &u), UD_STORE_CHANGED);
	CHECK(same_user(&u, &b));
	ud_user_fini(&u);
	ud_store_stats(st, &s1);
	CHECK_INT(s1.round_trips - s2.round_trips, use_pg ? 1 : 0);

	/*
	 * Changes made meanwhile: the targets and the callers' verdicts stay
	 * as read ahead; a plain read sees them, and so does the check of a
	 * user read ahead only as a target (a statement: the changed user
	 * it hands out is the stored one, never the copy read ahead).
	 */
	CHECK_INT(rename_user(st, r, other, "Later"), 0);
	CHECK_INT(rename_user(st, r, id, "Newer"), 0);
	CHECK_INT(ud_store_user_get_ahead(r, other, &u), 0);
	CHECK_STR(u.first_name, use_pg ? "Two" : "Later");
	ud_user_fini(&u);
	CHECK_STR(first_of(r, other), "Later");
	CHECK_INT(ud_store_user_check(r, other, b.rev), 0);
	CHECK_INT(ud_store_user_check_end(r, &u),
		  use_pg ? 0 : UD_STORE_CHANGED);
	ud_user_fini(&u);
	/* a record kept since, newer than the read ahead: the stored one
	 * comes back, never the older copy */
	{
		ud_user later = {0};

		CHECK_INT(ud_store_user_get(r, other, &later), 0);
		CHECK_INT(ud_store_user_check(r, other, later.rev), 0);
		CHECK_INT(ud_store_user_check_end(r, &u), UD_STORE_CHANGED);
		CHECK_STR(u.first_name, "Later");
		CHECK_INT(u.rev, later.rev);
		ud_user_fini(&u);
		ud_user_fini(&later);
	}
	CHECK_INT(ud_store_user_check(r, id, a.rev), 0);
	CHECK_INT(ud_store_user_check_end(r, &u), UD_STORE_CHANGED);
	CHECK_STR(u.first_name, "Newer");
	CHECK(!use_pg || u.rev > a.rev);
	ud_user_fini(&u);

	ud_store_read_ahead_end(r);
	CHECK_INT(ud_store_user_get_ahead(r, other, &u), 0);
	CHECK_STR(u.first_name, "Later");
	ud_user_fini(&u);
	CHECK_INT(ud_store_user_check(r, other, b.rev), 0);
	CHECK_INT(ud_store_user_check_end(r, &u), UD_STORE_CHANGED);
	CHECK_STR(u.first_name, "Later");
	ud_user_fini(&u);

	/* bounded; and nothing asked, nothing read */
	CHECK_INT(
	    ud_store_read_ahead(r, users, UD_STORE_AHEAD_MAX + 1, NULL, 0),
	    UP_INVALID_ARGUMENT);
	ud_store_stats(st, &s0);
	CHECK_INT(ud_store_read_ahead(r, NULL, 0, NULL, 0), 0);
	ud_store_stats(st, &s1);
	CHECK_INT(s1.round_trips - s0.round_trips, 0);
	ud_store_read_ahead_end(r);

	ud_user_fini(&a);
	ud_user_fini(&b);
	ud_store_reader_close(r);
	ud_store_close(st);
}

/*
 * A write that expects a user at a revision (a caller's record kept by
 * the daemon, ud_store_user_expect) goes on while the user is at it; once
 * the user changed or is gone, its statements fail with
 * UD_STORE_CHANGED, and it is rolled back and done with that code though
 * its function returns 0 (PostgreSQL).
 */
typedef struct expect_args {
	int64_t who, rev; /* the user expected, at rev */
	int64_t id;       /* the user renamed */
	const char *first;
	int read_rc; /* what the write's own read answered */
} expect_args;

static int
fn_expect_rename(ud_store_conn *c, void *arg)
{
	expect_args *a = arg;
	ud_user u = {0};
	int rc;

	if ((rc = ud_store_user_expect(c, a->who, a->rev)) != 0) {
		return rc;
	}
	if ((a->read_rc = ud_store_user_get(c, a->id, &u)) == 0) {
		free(u.first_name);
		u.first_name = strdup(a->first);
		(void)ud_store_user_update(c, &u, 0, false);
	}
	ud_user_fini(&u);
	return 0; /* the store's verdict, not the function's */
}

static void
test_pg_expect(void)
{
	ud_store *st = open_store("expect.db");
	ud_store_conn *r = NULL;
	ud_user u = {0};
	expect_args a = {0};

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	a.who = add_user(st, "expecting@example.com", "Caller", NULL, NULL,
			 NULL, NULL);
	a.id = add_user(st, "expected@example.com", "Target", NULL, NULL, NULL,
			NULL);
	CHECK(a.who > 0 && a.id > 0);
	CHECK_INT(ud_store_user_get(r, a.who, &u), 0);
	a.rev = u.rev;
	ud_user_fini(&u);
	a.first = "Kept";
	CHECK_INT(ud_store_write_sync(st, fn_expect_rename, &a), 0);
	CHECK_INT(a.read_rc, 0);
	CHECK_STR(first_of(r, a.id), "Kept");

	/* the expected user changed: the write is undone */
	CHECK_INT(rename_user(st, r, a.who, "Changed"), 0);
	a.first = "Stale";
	CHECK_INT(ud_store_write_sync(st, fn_expect_rename, &a),
		  UD_STORE_CHANGED);
	CHECK_INT(a.read_rc, UD_STORE_CHANGED);
	CHECK_STR(first_of(r, a.id), "Kept");

	/* gone: the same */
	CHECK_INT(ud_store_user_get(r, a.who, &u), 0);
	a.rev = u.rev;
	ud_user_fini(&u);
	CHECK_INT(ud_store_write_sync(st, fn_user_delete, &a.who), 0);
	a.first = "Gone";
	CHECK_INT(ud_store_write_sync(st, fn_expect_rename, &a),
		  UD_STORE_CHANGED);
	CHECK_STR(first_of(r, a.id), "Kept");
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * Writes told ahead (ud_store_write_ahead): the same outcomes as untold
 */

enum { AJ_OK, AJ_FAIL, AJ_LEAVE, AJ_LEAVE_FAIL, AJ_LATE_FAIL };

typedef struct ahead_job {
	ud_store_hint h;
	char rid[32];
	const char *first; /* the new first name */
	int mode;
	int read_rc;
	int rc;
	waiter *w;
} ahead_job;

/* As the daemon's write_run and PatchUser: check, claim, read, update,
 * answer (a LEAVE sends a statement of another kind first). */
static int
fn_ahead(ud_store_conn *c, void *arg)
{
	ahead_job *j = arg;
	const char *rid = j->h.request_id;
	uint8_t answer[3] = {'o', 'k', 0};
	ud_user u = {0};
	int64_t n;
	int rc;

	if (j->h.caller != 0 &&
	    (rc = ud_store_user_expect(c, j->h.caller, j->h.caller_rev)) != 0) {
		return rc;
	}
	if (rid != NULL && (rc = ud_store_request_claim(c, rid, j->h.digest,
							ud_now_ms())) != 0) {
		return rc;
	}
	if ((j->mode == AJ_LEAVE || j->mode == AJ_LEAVE_FAIL) &&
	    (rc = ud_store_role_holders(c, "Admin", &n)) != 0) {
		return rc;
	}
	if ((j->read_rc = ud_store_user_get(c, j->h.user, &u)) != 0) {
		return j->read_rc;
	}
	free(u.first_name);
	u.first_name = strdup(j->first);
	rc = ud_store_user_update(c, &u, 0, false);
	ud_user_fini(&u);
	if (rc == 0 && (j->mode == AJ_FAIL || j->mode == AJ_LEAVE_FAIL)) {
		rc = UP_INVALID_ARGUMENT; /* after its update: undone */
	}
	if (rc == 0 && rid != NULL) {
		answer[2] = (uint8_t)j->first[0];
		rc = ud_store_request_answer(c, rid, answer, sizeof(answer));
	}
	if (rc == 0 && rid != NULL) {
		rc = ud_store_request_claimed(c);
	}
	if (rc == 0 && j->mode == AJ_LATE_FAIL) {
		/* a check it was not told of: its verdict comes later */
		rc = ud_store_user_expect(c, j->h.caller, j->h.caller_rev - 1);
	}
	return rc;
}

static void
done_ahead(int rc, void *arg)
{
	ahead_job *j = arg;

	waiter_done(j->w, &j->rc, rc);
}

/* Holds the writer until released, so what is queued meanwhile is one
 * batch. */
static void
hold_writer(ud_store *st, blocker *b)
{
	CHECK_INT(ud_store_write(st, fn_block, done_ignore, b), 0);
	wait_started(b);
}

static void
release_writer(blocker *b)
{
	pthread_mutex_lock(&b->mu);
	b->released = true;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

/* The answer recorded for rid: its third byte, 0 when none. */
static int
answered(ud_store_conn *r, const ahead_job *j)
{
	uint8_t *resp = NULL;
	size_t len = 0;
	int got = 0;

	if (ud_store_request_get(r, j->rid, j->h.digest, &resp, &len) == 0) {
		got = len == 3 ? resp[2] : -1;
	}
	free(resp);
	return got;
}

/*
 * A batch of writes told ahead, one of each outcome: done, failed after
 * its update, a stale caller, a request id recorded before, a user that
 * does not exist, two that send a statement of another kind (one of them
 * failing), and writes told after those. Every outcome, user and request
 * log answer is what the same writes give untold (on SQLite, which
 * ignores what it is told, but for the stale caller: SQLite has none). On
 * PostgreSQL eight plain writes told ahead take two round trips: theirs and the
 * commit's.
 */
static int fn_prune(ud_store_conn *c, void *arg);

static void
test_write_ahead(void)
{
	enum { N = 10 };
	static const struct {
		int mode;
		bool stale;
		bool recorded;
		bool missing;
		const char *first;
		int rc;
	} want[N] = {
	    {AJ_OK, false, false, false, "Alpha", 0},
	    {AJ_FAIL, false, false, false, "Bravo", UP_INVALID_ARGUMENT},
	    {AJ_OK, true, false, false, "Charlie", UD_STORE_CHANGED},
	    {AJ_OK, false, true, false, "Delta", UP_ALREADY_EXISTS},
	    {AJ_OK, false, false, true, "Echo", UP_NOT_FOUND},
	    {AJ_OK, false, false, false, "Foxtrot", 0},
	    {AJ_LEAVE, false, false, false, "Golf", 0},
	    {AJ_OK, false, false, false, "Hotel", 0},
	    {AJ_LEAVE_FAIL, false, false, false, "India", UP_INVALID_ARGUMENT},
	    {AJ_OK, false, false, false, "Juliet", 0},
	};
	ud_store_config cfg = {.writers = 1};
	const char *target = target_of("ahead.db");
	ud_store *st = NULL;
	ud_store_conn *r = NULL;
	blocker b = BLOCKER_INIT;
	waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	static ahead_job jobs[N], plain[8];
	ud_store_counters s0, s1;
	ud_user u = {0};
	int64_t caller, rev, users[N], before;

	if (target == NULL || ud_store_open(&st, target, &cfg) != 0) {
		CHECK(false);
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	caller = add_user(st, "ahead-caller@example.com", "Caller", NULL,
			  "Admin", NULL, NULL);
	CHECK_INT(ud_store_user_get(r, caller, &u), 0);
	rev = u.rev;
	ud_user_fini(&u);
	for (int i = 0; i < N; i++) {
		char email[64];

		snprintf(email, sizeof(email), "ahead-%d@example.com", i);
		users[i] =
		    add_user(st, email, "Before", NULL, NULL, NULL, NULL);
		CHECK(users[i] > 0);
		jobs[i] = (ahead_job){
		    .mode = want[i].mode, .first = want[i].first, .w = &w};
		snprintf(jobs[i].rid, sizeof(jobs[i].rid), "1:ahead-%d", i);
		jobs[i].h.user = want[i].missing ? users[i] + 1000 : users[i];
		jobs[i].h.caller = caller;
		jobs[i].h.caller_rev = want[i].stale ? rev - 1 : rev;
		jobs[i].h.request_id = jobs[i].rid;
		memset(jobs[i].h.digest, i + 1, sizeof(jobs[i].h.digest));
	}
	/* recorded before: by an earlier write with its own answer */
	{
		ahead_job first = jobs[3];
		first.first = "Zulu";
		first.h.user = users[3];
		first.mode = AJ_OK;
		CHECK_INT(ud_store_write_sync(st, fn_ahead, &first), 0);
		CHECK_STR(first_of(r, users[3]), "Zulu");
	}

	hold_writer(st, &b);
	for (int i = 0; i < N; i++) {
		CHECK_INT(ud_store_write_ahead(st, fn_ahead, done_ahead,
					       &jobs[i], &jobs[i].h),
			  0);
	}
	release_writer(&b);
	CHECK(wait_done(&w, N, 10000));
	for (int i = 0; i < N; i++) {
		/* a store of one daemon has no callers to check (store.h) */
		int rc = want[i].stale && !use_pg ? 0 : want[i].rc;
		bool done = rc == 0;

		CHECK_INT(jobs[i].rc, rc);
		CHECK_STR(first_of(r, users[i]), done     ? want[i].first
						 : i == 3 ? "Zulu"
							  : "Before");
		/* an answer only where the write was done (3: the first's) */
		CHECK_INT(answered(r, &jobs[i]), done     ? want[i].first[0]
						 : i == 3 ? 'Z'
							  : 0);
	}
	CHECK_INT(jobs[4].read_rc, UP_NOT_FOUND);
	/* recorded at their time: pruning what is older keeps them */
	before = ud_now_ms() - 60000;
	CHECK_INT(ud_store_write_sync(st, fn_prune, &before), 0);
	CHECK_INT(answered(r, &jobs[0]), 'A');
	CHECK_INT(answered(r, &jobs[5]), 'F');

	/* eight plain ones: on PostgreSQL one round trip ahead, one commit */
	for (int i = 0; i < 8; i++) {
		plain[i] = jobs[0];
		plain[i].w = &w;
		plain[i].first = "Kilo";
		plain[i].h.user = users[i];
		plain[i].h.caller_rev = rev;
		snprintf(plain[i].rid, sizeof(plain[i].rid), "1:plain-%d", i);
		plain[i].h.request_id = plain[i].rid;
	}
	b = (blocker)BLOCKER_INIT;
	hold_writer(st, &b);
	ud_store_stats(st, &s0);
	for (int i = 0; i < 8; i++) {
		CHECK_INT(ud_store_write_ahead(st, fn_ahead, done_ahead,
					       &plain[i], &plain[i].h),
			  0);
	}
	release_writer(&b);
	CHECK(wait_done(&w, N + 8, 10000));
	ud_store_stats(st, &s1);
	for (int i = 0; i < 8; i++) {
		CHECK_INT(plain[i].rc, 0);
		CHECK_STR(first_of(r, users[i]), "Kilo");
		CHECK_INT(answered(r, &plain[i]), 'K');
	}
	if (use_pg) {
		/* the blocker's commit rides along with the round ahead */
		CHECK(s1.round_trips - s0.round_trips <= 3);
	}
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* One statement on a connection of our own; -1 when it failed. */
static long long
pg_raw(const char *url, const char *sql)
{
	PGconn *pg = PQconnectdb(url);
	PGresult *res = NULL;
	long long v = -1;

	if (PQstatus(pg) == CONNECTION_OK) {
		res = PQexec(pg, sql);
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) > 0) {
			v = PQgetisnull(res, 0, 0)
				? 0
				: atoll(PQgetvalue(res, 0, 0));
		} else if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			v = 0;
		} else {
			fprintf(stderr, "pg_raw: %s", PQerrorMessage(pg));
		}
	} else {
		fprintf(stderr, "pg_raw: %s", PQerrorMessage(pg));
	}
	PQclear(res);
	PQfinish(pg);
	return v;
}

/* UPDATE users SET `set` WHERE id = id, behind the store's back. */
static long long
pg_user_set(const char *url, int64_t id, const char *set)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE users SET %s WHERE id = %lld", set,
		 (long long)id);
	return pg_raw(url, sql);
}

/* Polls (at most 5 s) until user id's first name reads first on r. */
static bool
first_becomes(ud_store_conn *r, int64_t id, const char *first)
{
	int64_t deadline = mono_ms() + 5000;

	while (strcmp(first_of(r, id), first) != 0 && mono_ms() < deadline) {
		usleep(2000);
	}
	return strcmp(first_of(r, id), first) == 0;
}

/* Polls (at most 5 s) until a transaction waits for an advisory lock. */
static bool
advisory_waiter(const char *url)
{
	int64_t deadline = mono_ms() + 5000;
	const char *sql = "SELECT count(*) FROM pg_locks"
			  " WHERE locktype = 'advisory' AND NOT granted";

	while (pg_raw(url, sql) < 1 && mono_ms() < deadline) {
		usleep(2000);
	}
	return pg_raw(url, sql) >= 1;
}

/* A write that holds user id and request id rid (each if set) on its
 * store until released, then answers rid (when answer). */
typedef struct holder {
	blocker b;
	int64_t id;
	const char *rid;
	uint8_t digest[UD_REQUEST_DIGEST_LEN];
	bool answer;
} holder;

static int
fn_hold(ud_store_conn *c, void *arg)
{
	holder *h = arg;
	uint8_t answer[3] = {'o', 'k', 'H'};
	ud_user u = {0};
	int rc = 0;

	if (h->id != 0 && (rc = ud_store_user_get(c, h->id, &u)) == 0) {
		ud_user_fini(&u);
	}
	if (rc == 0 && h->rid != NULL &&
	    (rc = ud_store_request_claim(c, h->rid, h->digest, ud_now_ms())) ==
		0) {
		rc = ud_store_request_claimed(c);
	}
	block_until_released(&h->b);
	if (rc == 0 && h->rid != NULL && h->answer) {
		rc = ud_store_request_answer(c, h->rid, answer, sizeof(answer));
	}
	return rc;
}

/* ahead_job j: user id, request id "1:held-<i>", new first name first. */
static void
held_job(ahead_job *j, waiter *w, int i, int64_t id, const char *first)
{
	*j = (ahead_job){.first = first, .w = w, .mode = AJ_OK};
	snprintf(j->rid, sizeof(j->rid), "1:held-%d", i);
	j->h.user = id;
	j->h.request_id = j->rid;
	memset(j->h.digest, 0x40 + i, sizeof(j->h.digest));
}

/* A GetUser target by a read ahead of it alone, into *u; the store's rc. */
static int
ahead_one(ud_store_conn *r, int64_t id, ud_user *u)
{
	int rc = ud_store_read_ahead(r, &id, 1, NULL, 0);

	if (rc == 0) {
		rc = ud_store_user_get_ahead(r, id, u);
	}
	ud_store_read_ahead_end(r);
	return rc;
}

/* What ahead_one cost the store st: round trips, and targets kept. */
typedef struct ahead_cost {
	uint64_t trips;
	uint64_t hits;
} ahead_cost;

static int
ahead_counted(ud_store *st, ud_store_conn *r, int64_t id, ud_user *u,
	      ahead_cost *k)
{
	ud_store_counters a, b;
	int rc;

	ud_store_stats(st, &a);
	rc = ahead_one(r, id, u);
	ud_store_stats(st, &b);
	k->trips = b.round_trips - a.round_trips;
	k->hits = b.kept_hits - a.kept_hits;
	return rc;
}

/*
 * Users kept (PostgreSQL): a GetUser target read whole by a read ahead is
 * kept, and the next read ahead of it asks only for its revision (one
 * round trip, a kept hit) and answers with the copy, without the password
 * hash. Whatever another daemon (a second store on the database) changes
 * meanwhile (a name, the roles, a membership) is in the next answer, and a
 * user deleted meanwhile is not found; a user this daemon changed is
 * forgotten at the commit and read whole at once. The copy is what is answered:
 * a name changed behind the store's back (SQL that leaves the revision as it
 * was, which no daemon does) is not seen until the user changes. SQLite
 * keeps nothing (and one daemon has the database: the changes are made
 * through the same store): the same answers, no hits.
 */
static void
test_kept_users(void)
{
	const char *url = target_of("kept.db");
	ud_store *st = open_store("kept.db"), *st2 = NULL;
	ud_store_conn *r = NULL;
	ahead_cost k = {0};
	ud_user u = {0}, v = {0};
	update_args ua = {.u = &v, .sets = UD_SET_ROLES};
	member_args ma = {0};
	char org[33];
	int64_t id, gone;

	/* SQLite: one daemon a database; the changes are its own */
	if (url == NULL || st == NULL ||
	    (st2 = use_pg ? open_second(st, "kept.db") : st) == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(add_org(st, "Kept Org", 20, NULL, org), 0);
	id = add_user(st, "kept@example.com", "Kept", "One", "Viewer", NULL,
		      NULL);
	gone = add_user(st, "kept-gone@example.com", "Gone", NULL, NULL, NULL,
			NULL);
	CHECK(id > 0 && gone > 0 && r != NULL);
	if (r == NULL) {
		goto out;
	}
	if (use_pg) {
		/* a password hash, its revision moved as a daemon would */
		CHECK_INT(
		    pg_user_set(url, id,
				"password_hash = 'kept-hash', rev = rev + 1"),
		    0);
		CHECK_INT(ud_store_user_get(r, id, &u), 0);
		CHECK_STR(u.password_hash, "kept-hash");
		ud_user_fini(&u);
	}
	CHECK_INT(ahead_one(r, id, &u), 0); /* read whole, kept */
	CHECK_STR(u.first_name, "Kept");
	CHECK(u.password_hash == NULL);
	ud_user_fini(&u);
	CHECK_INT(ahead_one(r, gone, &u), 0);
	ud_user_fini(&u);

	CHECK_INT(ahead_counted(st, r, id, &u, &k), 0);
	CHECK_INT(k.trips, use_pg ? 1 : 0);
	CHECK_INT(k.hits, use_pg ? 1 : 0);
	CHECK_STR(u.first_name, "Kept");
	CHECK_STR(u.email, "kept@example.com");
	CHECK(u.roles.n == 1 && strcmp(u.roles.v[0], "Viewer") == 0);
	CHECK(!use_pg || u.password_hash == NULL);
	ud_user_fini(&u);

	if (use_pg) {
		/* behind the store's back, the revision left alone: the copy */
		CHECK_INT(pg_user_set(url, id, "first_name = 'Sneaky'"), 0);
		CHECK_INT(ahead_one(r, id, &u), 0);
		CHECK_STR(u.first_name, "Kept");
		ud_user_fini(&u);
		/* the same revision with other stamps (a database restored, a
		 * standby promoted): not the copy */
		CHECK_INT(pg_user_set(url, id, "updated_at = updated_at + 1"),
			  0);
		CHECK_INT(ahead_one(r, id, &u), 0);
		CHECK_STR(u.first_name, "Sneaky");
		ud_user_fini(&u);
	}

	/* renamed by the other daemon: read whole again, then kept again */
	CHECK_INT(ahead_one(r, id, &u), 0);
	ud_user_fini(&u);
	CHECK_INT(rename_user(st2, r, id, "Renamed"), 0);
	CHECK_INT(ahead_counted(st, r, id, &u, &k), 0);
	CHECK_STR(u.first_name, "Renamed");
	CHECK_INT(k.hits, 0);
	CHECK_INT(k.trips, use_pg ? 2 : 0);
	ud_user_fini(&u);
	CHECK_INT(ahead_one(r, id, &u), 0);
	CHECK_STR(u.first_name, "Renamed");
	ud_user_fini(&u);

	/* renamed by this daemon: forgotten at its commit, so read whole in
	 * the first round trip */
	CHECK_INT(rename_user(st, r, id, "Own"), 0);
	CHECK_INT(ahead_counted(st, r, id, &u, &k), 0);
	CHECK_STR(u.first_name, "Own");
	CHECK_INT(k.hits, 0);
	CHECK_INT(k.trips, use_pg ? 1 : 0);
	ud_user_fini(&u);

	/* its roles changed by the other daemon */
	CHECK_INT(ud_store_user_get(r, id, &v), 0);
	ud_strv_fini(&v.roles);
	CHECK_INT(ud_strv_push(&v.roles, "Manager"), 0);
	CHECK_INT(ud_store_write_sync(st2, fn_user_update, &ua), 0);
	ud_user_fini(&v);
	CHECK_INT(ahead_one(r, id, &u), 0);
	CHECK(u.roles.n == 1 && strcmp(u.roles.v[0], "Manager") == 0);
	ud_user_fini(&u);

	/* a membership added by the other daemon, its organization named */
	ma.org = org;
	ma.user = id;
	CHECK_INT(ud_store_write_sync(st2, fn_member, &ma), 0);
	CHECK_INT(ahead_one(r, id, &u), 0);
	CHECK(u.org_ids.n == 1 && strcmp(u.org_ids.v[0], org) == 0);
	CHECK(u.org_names.n == 1 && strcmp(u.org_names.v[0], "Kept Org") == 0);
	ud_user_fini(&u);

	/* deleted by the other daemon: not found, kept or not, and known
	 * gone from its revision's absence (no second round trip) */
	CHECK_INT(ud_store_write_sync(st2, fn_user_delete, &gone), 0);
	CHECK_INT(ahead_counted(st, r, gone, &u, &k), UP_NOT_FOUND);
	CHECK_INT(k.trips, use_pg ? 1 : 0);
	ud_user_fini(&u);
	CHECK_INT(ahead_one(r, gone, &u), UP_NOT_FOUND);
	ud_user_fini(&u);
out:
	ud_store_reader_close(r);
	if (st2 != st) {
		ud_store_close(st2);
	}
	ud_store_close(st);
}

/*
 * On PostgreSQL the round ahead waits for no other transaction. With one
 * user of a batch locked by another daemon's write, the writes before it
 * are done while it waits, and it is done once the lock is released. With
 * a request id claimed by another daemon's write that then answers it,
 * the write told ahead with that id answers UP_ALREADY_EXISTS, as a claim
 * does, and leaves its user as it was. A write that left the writes ahead
 * and whose later statement failed (a check of its caller at a revision
 * it does not have) leaves neither its update nor its answer behind.
 */
static void
test_pg_ahead_held(void)
{
	ud_store_config cfg = {.writers = 1};
	const char *target = target_of("ahead_held");
	ud_store *st = NULL, *st2 = NULL;
	ud_store_conn *r = NULL;
	blocker b = BLOCKER_INIT;
	waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	static holder h;
	static ahead_job jobs[8];
	int64_t users[6], caller, rev;
	ud_user u = {0};

	if (target == NULL || ud_store_open(&st, target, &cfg) != 0 ||
	    (st2 = open_second(st, "ahead_held")) == NULL) {
		CHECK(false);
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	for (int i = 0; i < 6; i++) {
		char email[64];

		snprintf(email, sizeof(email), "held-%d@example.com", i);
		users[i] =
		    add_user(st, email, "Before", NULL, NULL, NULL, NULL);
	}
	caller = users[5];
	CHECK_INT(ud_store_user_get(r, caller, &u), 0);
	rev = u.rev;
	ud_user_fini(&u);

	/* users[2] locked elsewhere: 0 and 1 are done meanwhile */
	h = (holder){.b = BLOCKER_INIT, .id = users[2]};
	CHECK_INT(ud_store_write(st2, fn_hold, done_ignore, &h), 0);
	wait_started(&h.b);
	hold_writer(st, &b);
	for (int i = 0; i < 3; i++) {
		held_job(&jobs[i], &w, i, users[i], "After");
		CHECK_INT(ud_store_write_ahead(st, fn_ahead, done_ahead,
					       &jobs[i], &jobs[i].h),
			  0);
	}
	release_writer(&b);
	/* committed (the third runs alone, waiting) while it is held */
	CHECK(first_becomes(r, users[1], "After"));
	CHECK_STR(first_of(r, users[0]), "After");
	CHECK_INT(answered(r, &jobs[1]), 'A');
	CHECK_STR(first_of(r, users[2]), "Before");
	release_writer(&h.b);
	CHECK(wait_done(&w, 3, 10000));
	for (int i = 0; i < 3; i++) {
		CHECK_INT(jobs[i].rc, 0);
	}
	CHECK_STR(first_of(r, users[2]), "After");
	CHECK_INT(answered(r, &jobs[2]), 'A');

	/* request id "1:held-4" claimed elsewhere, then answered there */
	h = (holder){.b = BLOCKER_INIT, .rid = "1:held-4", .answer = true};
	memset(h.digest, 0x44, sizeof(h.digest));
	CHECK_INT(ud_store_write(st2, fn_hold, done_ignore, &h), 0);
	wait_started(&h.b);
	b = (blocker)BLOCKER_INIT;
	hold_writer(st, &b);
	held_job(&jobs[3], &w, 3, users[3], "Again");
	held_job(&jobs[4], &w, 4, users[4], "Again");
	for (int i = 3; i < 5; i++) {
		CHECK_INT(ud_store_write_ahead(st, fn_ahead, done_ahead,
					       &jobs[i], &jobs[i].h),
			  0);
	}
	release_writer(&b);
	/* the write before it commits first (its claim did not wait while
	 * the batch held locks); then it waits for the other's end alone */
	CHECK(first_becomes(r, users[3], "Again"));
	CHECK(advisory_waiter(target));
	release_writer(&h.b);
	CHECK(wait_done(&w, 5, 10000));
	CHECK_INT(jobs[3].rc, 0);
	CHECK_INT(jobs[4].rc, UP_ALREADY_EXISTS);
	CHECK_STR(first_of(r, users[3]), "Again");
	CHECK_STR(first_of(r, users[4]), "Before");
	CHECK_INT(answered(r, &jobs[4]), 'H'); /* the other's answer */

	/* left, then its own later check failed: nothing of it stays */
	b = (blocker)BLOCKER_INIT;
	hold_writer(st, &b);
	held_job(&jobs[5], &w, 5, users[0], "Late");
	held_job(&jobs[6], &w, 6, users[1], "Late");
	jobs[6].mode = AJ_LATE_FAIL;
	jobs[6].h.caller = caller;
	jobs[6].h.caller_rev = rev;
	held_job(&jobs[7], &w, 7, users[2], "Late");
	for (int i = 5; i < 8; i++) {
		CHECK_INT(ud_store_write_ahead(st, fn_ahead, done_ahead,
					       &jobs[i], &jobs[i].h),
			  0);
	}
	release_writer(&b);
	CHECK(wait_done(&w, 8, 10000));
	CHECK_INT(jobs[5].rc, 0);
	CHECK_INT(jobs[6].rc, UD_STORE_CHANGED);
	CHECK_INT(jobs[7].rc, 0);
	CHECK_STR(first_of(r, users[0]), "Late");
	CHECK_STR(first_of(r, users[1]), "After");
	CHECK_STR(first_of(r, users[2]), "Late");
	CHECK_INT(answered(r, &jobs[6]), 0);
	CHECK_INT(answered(r, &jobs[7]), 'L');
	ud_store_reader_close(r);
	ud_store_close(st2);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * Answers: in order, never waiting for a write; on SQLite by the writer
 * thread after its commit (no hand-off), on PostgreSQL off the writers
 */

#define N_ANSWERS 40

typedef struct answers {
	waiter w;
	pthread_t writer[N_ANSWERS]; /* where each write ran */
	pthread_t answered[N_ANSWERS];
	int order[N_ANSWERS]; /* the job answered k-th */
	int nested_rc;        /* write_sync from a done function */
	ud_store *st;
} answers;

typedef struct answer_job {
	answers *a;
	int i;
} answer_job;

static int
fn_answer(ud_store_conn *c, void *arg)
{
	answer_job *j = arg;

	(void)c;
	j->a->writer[j->i] = pthread_self();
	return 0;
}

static void
done_answer(int rc, void *arg)
{
	answer_job *j = arg;
	answers *a = j->a;

	if (j->i == 0) {
		a->nested_rc = ud_store_write_sync(a->st, fn_noop, NULL);
	}
	pthread_mutex_lock(&a->w.mu);
	a->answered[j->i] = pthread_self();
	a->order[a->w.done++] = j->i;
	if (rc != 0) {
		a->w.failed++;
	}
	pthread_cond_broadcast(&a->w.cv);
	pthread_mutex_unlock(&a->w.mu);
}

static void
test_answers(void)
{
	ud_store *st = open_store("answers.db");
	static answers a = {
	    .w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0}};
	static answer_job jobs[N_ANSWERS];
	int queued = 0;

	if (st == NULL) {
		return;
	}
	a.st = st;
	a.nested_rc = -1;
	for (int i = 0; i < N_ANSWERS; i++) {
		jobs[i] = (answer_job){.a = &a, .i = i};
		if (ud_store_write(st, fn_answer, done_answer, &jobs[i]) == 0) {
			queued++;
		}
	}
	CHECK_INT(queued, N_ANSWERS);
	CHECK(wait_done(&a.w, queued, 10000));
	CHECK_INT(a.w.failed, 0);
	for (int k = 0; k < a.w.done; k++) {
		CHECK_INT(a.order[k], k); /* in the order they were queued */
		CHECK(!pthread_equal(a.answered[k], a.writer[k]) == use_pg);
	}
	/* a done function waiting for a write would hold up every answer */
	CHECK_INT(a.nested_rc, UP_INTERNAL);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * Durability: acknowledged writes survive SIGKILL of the writer process
 */

static void
durability_child(const char *path, int fd, unsigned wal_pages)
{
	ud_store_config cfg = {.wal_pages = wal_pages};
	ud_store *st = NULL;

	if (ud_store_open(&st, path, &cfg) != 0) {
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

/*
 * wal_pages 0: the default (8000). A small one keeps the copier and the
 * writer's restarts running all through the writes the kill cuts short.
 */
static void
test_durability(const char *name, unsigned wal_pages)
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
	db_path(path, sizeof(path), name);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		durability_child(path, fds[1], wal_pages);
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

	st = open_store(name);
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
		printf(
		    "durability (wal_pages %u): %zu acknowledged writes, %zu "
		    "missing after SIGKILL\n",
		    wal_pages, n, missing);
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
		/* Holders of a role who may sign in: a disabled one is not
		 * counted, on a reader and on the writer alike. */
		ud_user got = {0};
		int64_t n = -1;
		CHECK_INT(ud_store_role_holders(r, "Manager", &n), 0);
		CHECK_INT(n, 2);
		CHECK_INT(ud_store_role_holders(r, "Nobody", &n), 0);
		CHECK_INT(n, 0);
		CHECK_INT(ud_store_user_get(r, u3, &got), 0);
		got.disabled = true;
		{
			update_args ua = {.u = &got, .sets = 0};
			CHECK_INT(ud_store_write_sync(st, fn_user_update, &ua),
				  0);
		}
		CHECK_INT(ud_store_role_holders(r, "Manager", &n), 0);
		CHECK_INT(n, 1);
		CHECK_INT(ud_store_write_sync(st, fn_role_holders, &n), 0);
		CHECK_INT(n, 1);
		got.disabled = false;
		{
			update_args ua = {.u = &got, .sets = 0};
			CHECK_INT(ud_store_write_sync(st, fn_user_update, &ua),
				  0);
		}
		ud_user_fini(&got);
	}
	{
		ud_strv scope = {0}, none = {0};
		ud_user_filter f = {.scope_org_ids = &scope};
		/* Only users all of whose organizations are in scope: u4
		 * (in c and d) is out while d is; u5 (none) always is. */
		ud_strv_push(&scope, b);
		ud_strv_push(&scope, c);
		LIST(f, 1, 0, u2);
		ud_strv_push(&scope, d);
		LIST(f, 3, 0, u2, u3, u4);
		f.role = "Manager";
		LIST(f, 2, 0, u2, u3);
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
 * The search index, brought up to date by the writer after the writes
 * (SQLite)
 */

/* The answers a scan gives, whatever of the index is pending. */
static void
check_searches(ud_store_conn *r, int64_t u1, int64_t u2, int64_t u4)
{
	ud_user_filter f = {.name_contains = "smith"};

	LIST(f, 1, 0, u4); /* u2 renamed away, u3 deleted, u4 new */
	f.name_contains = "SMITHER";
	LIST(f, 1, 0, u4);
	f.name_contains = "jones";
	LIST(f, 1, 0, u2);
	f.name_contains = "sm"; /* short: a scan, as always */
	LIST(f, 1, 0, u4);
	f.name_contains = NULL;
	f.email_contains = "smith";
	LIST(f, 1, 0, u4);
	f.email_contains = "example.com";
	LIST(f, 2, 0, u1, u2);
	f.email_contains = "lovelace"; /* never pending */
	f.name_contains = "ada";
	LIST(f, 1, 0, u1);
	f.email_contains = "x.org";
	f.name_contains = "Dan";
	LIST(f, 1, 0, u4);
	f.name_contains = "jon"; /* both ways at once: one not pending */
	LIST(f, 0, 0);
	/* paging by cursor and by skip over both parts */
	f.email_contains = "e.com";
	f.name_contains = NULL;
	f.take = 1;
	LIST(f, 2, 0, u1);
	f.after_id = u1;
	LIST(f, 2, 0, u2);
	f.after_id = 0;
	f.skip = 1;
	LIST(f, 2, 0, u2);
}

static void
test_index_deferred(void)
{
	ud_store_config cfg = {.index_idle_ms = 600000}; /* only on demand */
	ud_store_counters s0, s;
	ud_store *st = NULL;
	ud_store_conn *r = NULL;
	char path[256];
	int64_t u1, u2, u3, u4;
	double deadline;

	db_path(path, sizeof(path), "index.db");
	CHECK_INT(ud_store_open(&st, path, &cfg), 0);
	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	u1 = add_user(st, "ada.lovelace@example.com", "Ada", "Lovelace", NULL,
		      NULL, NULL);
	u2 = add_user(st, "bob@example.com", "Smithy", "Bob", NULL, NULL, NULL);
	u3 = add_user(st, "carol@example.org", "Carol", "Smithson", NULL, NULL,
		      NULL);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users_fts_pending"), 3);
	CHECK_INT(ud_store_index_sync(st), 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users_fts_pending"), 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users_fts"
				" WHERE users_fts MATCH 'smith'"),
		  2);

	/* pending: a rename, a deletion, a new user */
	CHECK_INT(rename_user(st, r, u2, "Jones"), 0);
	CHECK_INT(ud_store_write_sync(st, fn_user_delete, &u3), 0);
	u4 = add_user(st, "dan.smith@x.org", "Dan", "Smithers", NULL, NULL,
		      NULL);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users_fts_pending"), 3);
	/* the index still holds the old text: the searches must not */
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users_fts"
				" WHERE users_fts MATCH 'smith'"),
		  2);
	check_searches(r, u1, u2, u4);
	ud_store_stats(st, &s0);
	CHECK(s0.index_pending > 0);
	CHECK_INT(ud_store_index_sync(st), 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users_fts_pending"), 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users_fts"
				" WHERE users_fts MATCH 'smith'"),
		  1);
	ud_store_stats(st, &s);
	CHECK_INT(s.index_rows - s0.index_rows, 3);
	check_searches(r, u1, u2, u4);

	/* renamed twice before the index caught up: the pending row keeps
	 * what the index holds, and the index forgets exactly that */
	CHECK_INT(rename_user(st, r, u2, "Brown"), 0);
	CHECK_INT(rename_user(st, r, u2, "Green"), 0);
	{
		ud_user_filter f = {.name_contains = "brown"};
		LIST(f, 0, 0);
		f.name_contains = "jones";
		LIST(f, 0, 0);
		f.name_contains = "green";
		LIST(f, 1, 0, u2);
		CHECK_INT(ud_store_index_sync(st), 0);
		f.name_contains = "green";
		LIST(f, 1, 0, u2);
		f.name_contains = "jones";
		LIST(f, 0, 0);
	}
	ud_store_reader_close(r);
	ud_store_close(st);
	/* the index agrees with the users table, entry by entry */
	CHECK_INT(raw_exec(path, "INSERT INTO users_fts (users_fts, rank)"
				 " VALUES ('integrity-check', 1)"),
		  SQLITE_OK);

	/* left pending by one run, caught up by the next once idle (by
	 * default a moment after the last write) */
	CHECK_INT(ud_store_open(&st, path, &cfg), 0);
	if (st == NULL) {
		return;
	}
	u1 = add_user(st, "erin@example.net", "Erin", "Idle", NULL, NULL, NULL);
	ud_store_close(st);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users_fts_pending"), 1);
	CHECK_INT(ud_store_open(&st, path, NULL), 0);
	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	u2 = add_user(st, "frank@example.net", "Frank", "Idle", NULL, NULL,
		      NULL);
	deadline = now_s() + 10;
	do {
		ud_store_stats(st, &s);
	} while (s.index_pending > 0 && now_s() < deadline &&
		 poll(NULL, 0, 5) == 0);
	CHECK_INT(s.index_pending, 0);
	CHECK_INT(s.index_rows, 2);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users_fts_pending"), 0);
	{
		ud_user_filter f = {.name_contains = "idle"};
		LIST(f, 2, 0, u1, u2);
	}
	ud_store_reader_close(r);
	ud_store_close(st);
	CHECK_INT(raw_exec(path, "INSERT INTO users_fts (users_fts, rank)"
				 " VALUES ('integrity-check', 1)"),
		  SQLITE_OK);
}

/*
 * The segments of the search index (users_fts): FTS5's structure record
 * starts with a 4-byte cookie, then the number of levels and the number
 * of segments as varints (one byte each below 128).
 */
#define FTS_SEGMENTS                                                           \
	"SELECT (instr('0123456789ABCDEF', substr(h, 1, 1)) - 1) * 16"         \
	" + instr('0123456789ABCDEF', substr(h, 2, 1)) - 1 FROM"               \
	" (SELECT hex(substr(block, 6, 1)) AS h FROM users_fts_data"           \
	" WHERE id = 10)"

/*
 * The idle writer merges the index's segments into one: an index written
 * a transaction at a time (a segment each, as many more as FTS5 keeps
 * before it merges 16) is one segment once the reopened store has been
 * idle, and searches answer as before.
 */
static void
test_index_merge(void)
{
	ud_store_config cfg = {.index_idle_ms = 600000}; /* only on demand */
	ud_store_counters s;
	ud_store *st = NULL;
	ud_store_conn *r = NULL;
	char path[256], email[64];
	int64_t first = 0, last = 0;
	double deadline;

	db_path(path, sizeof(path), "merge.db");
	CHECK_INT(ud_store_open(&st, path, &cfg), 0);
	if (st == NULL) {
		return;
	}
	for (int i = 0; i < 24; i++) {
		snprintf(email, sizeof(email), "merge%02d@example.com", i);
		last =
		    add_user(st, email, "Merge", "Segment", NULL, NULL, NULL);
		first = first ? first : last;
		CHECK_INT(ud_store_index_sync(st), 0);
	}
	ud_store_close(st);
	CHECK(raw_int(path, FTS_SEGMENTS) > 1);

	CHECK_INT(ud_store_open(&st, path, NULL), 0); /* idle after 20 ms */
	if (st == NULL) {
		return;
	}
	deadline = now_s() + 10;
	do {
		ud_store_stats(st, &s);
	} while ((s.index_pending > 0 || s.index_merging > 0) &&
		 now_s() < deadline && poll(NULL, 0, 5) == 0);
	CHECK_INT(s.index_pending, 0);
	CHECK_INT(s.index_merging, 0);
	CHECK_INT(raw_int(path, FTS_SEGMENTS), 1);
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	{
		ud_user_filter f = {.name_contains = "segment", .take = 1};
		LIST(f, 24, 1, first);
		f.email_contains = "merge23@";
		LIST(f, 1, 1, last);
	}
	ud_store_reader_close(r);
	ud_store_close(st);
	CHECK_INT(raw_exec(path, "INSERT INTO users_fts (users_fts, rank)"
				 " VALUES ('integrity-check', 1)"),
		  SQLITE_OK);
}

/* ------------------------------------------------------------------------
 * Writes that fail, and reads of one's own writes (both backends)
 */

static void
test_write_rollback(void)
{
	ud_store *st = open_store("rollback.db");
	ud_store_conn *r = NULL;
	waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	batch_job jobs[3] = {
	    {.email = "a@example.com", .w = &w},
	    {.email = "b@example.com", .fail = true, .w = &w},
	    {.email = "c@example.com", .w = &w},
	};

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(ud_store_write(st, fn_batch, done_batch, &jobs[i]),
			  0);
	}
	CHECK(wait_done(&w, 3, 30000));
	check_abc(st, r, jobs, 2);
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* Concurrent writers, each waiting for its own writes (both backends). */
static void
test_concurrent_writes(void)
{
	enum { THREADS = 16, PER = 200 };
	ud_store *st = open_store("gc.db");
	ud_store_conn *r = NULL;
	gc_thread g[THREADS];
	pthread_t th[THREADS];
	ud_store_counters s;
	int failures = 0;
	double t0;

	if (st == NULL) {
		return;
	}
	t0 = now_s();
	for (int i = 0; i < THREADS; i++) {
		g[i] = (gc_thread){.st = st, .t = i, .n = PER};
		pthread_create(&th[i], NULL, gc_main, &g[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		failures += g[i].queue_failures;
	}
	CHECK_INT(failures, 0);
	CHECK(wait_done(&gc, THREADS * PER, 120000));
	CHECK_INT(gc.failed, 0);
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(ud_store_user_count(r), THREADS * PER);
	ud_store_reader_close(r);
	ud_store_stats(st, &s);
	CHECK_INT(s.writes, THREADS * PER);
	CHECK_INT(s.commit_failures, 0);
	CHECK_INT(s.queued, 0);
	CHECK(s.commits < s.writes); /* group commit */
	CHECK(s.largest_batch > 1);
	if (use_pg) {
		/* the writes' statements went out together */
		CHECK(s.round_trips > 0);
		CHECK(s.round_trips < 3 * s.writes);
	} else {
		CHECK_INT(s.round_trips, 0);
	}
	printf("%s: %llu concurrent writes in %llu commits in %.3f s "
	       "(largest batch %llu)\n",
	       use_pg ? "postgresql" : "sqlite", (unsigned long long)s.writes,
	       (unsigned long long)s.commits, now_s() - t0,
	       (unsigned long long)s.largest_batch);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * The request log (both backends)
 */

typedef struct req_args {
	const char *id;
	uint8_t digest[UD_REQUEST_DIGEST_LEN];
	const uint8_t *answer; /* NULL: claim only */
	size_t len;
	int64_t now;
	bool fail_after; /* the write fails after recording */
	int claim_rc;
} req_args;

static int
fn_request(ud_store_conn *c, void *arg)
{
	req_args *a = arg;
	int rc;

	a->claim_rc = ud_store_request_claim(c, a->id, a->digest, a->now);
	if (a->claim_rc != 0) {
		return a->claim_rc;
	}
	if (a->answer != NULL &&
	    (rc = ud_store_request_answer(c, a->id, a->answer, a->len)) != 0) {
		return rc;
	}
	/* PostgreSQL's verdict comes with a round trip after the claim */
	if ((a->claim_rc = ud_store_request_claimed(c)) != 0) {
		return a->claim_rc;
	}
	return a->fail_after ? UP_ABORTED : 0;
}

/* A user <id>@example.com inserted, then the id and its answer recorded
 * in one step. */
static int
fn_insert_then_record(ud_store_conn *c, void *arg)
{
	req_args *a = arg;
	char email[64];
	ud_user u = {.email = email, .manager_access = -1};
	int rc;

	snprintf(email, sizeof(email), "%s@example.com", a->id);
	a->claim_rc = -1;
	if ((rc = ud_store_user_insert(c, &u)) != 0) {
		return rc;
	}
	a->claim_rc = ud_store_request_record(c, a->id, a->digest, a->now,
					      a->answer, a->len);
	return a->claim_rc;
}

/* A claim that fails, then another write in the same transaction. */
static int
fn_claim_then_insert(ud_store_conn *c, void *arg)
{
	req_args *a = arg;
	ud_user u = {.email = "after-claim@example.com", .manager_access = -1};

	int rc;

	a->claim_rc = ud_store_request_claim(c, a->id, a->digest, a->now);
	rc = ud_store_user_insert(c, &u);
	if (a->claim_rc == 0) {
		a->claim_rc = ud_store_request_claimed(c);
	}
	return rc;
}

static int
fn_answer_only(ud_store_conn *c, void *arg)
{
	req_args *a = arg;

	return ud_store_request_answer(c, a->id, a->answer, a->len);
}

static int
fn_prune(ud_store_conn *c, void *arg)
{
	return ud_store_request_prune(c, *(int64_t *)arg);
}

static void
test_request_log(void)
{
	ud_store *st = open_store("requests.db");
	ud_store_conn *r = NULL;
	uint8_t bytes[256], other[UD_REQUEST_DIGEST_LEN];
	uint8_t *resp = NULL;
	size_t len = 0;
	req_args a = {.id = "req-1", .now = ud_now_ms()};
	ud_user got = {0};
	int64_t before;

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	for (int i = 0; i < 256; i++) {
		bytes[i] = (uint8_t)i; /* every byte value, NUL first */
	}
	for (int i = 0; i < UD_REQUEST_DIGEST_LEN; i++) {
		a.digest[i] = (uint8_t)(i * 7);
		other[i] = (uint8_t)(i * 7 + 1);
	}
	CHECK_INT(ud_store_request_get(r, "req-1", a.digest, &resp, &len),
		  UP_NOT_FOUND);
	CHECK(resp == NULL);

	/* claimed and answered in one write: read back byte for byte */
	a.answer = bytes;
	a.len = sizeof(bytes);
	CHECK_INT(ud_store_write_sync(st, fn_request, &a), 0);
	CHECK_INT(ud_store_request_get(r, "req-1", a.digest, &resp, &len), 0);
	CHECK_INT(len, sizeof(bytes));
	CHECK(resp != NULL && memcmp(resp, bytes, sizeof(bytes)) == 0);
	free(resp);
	resp = NULL;
	CHECK_INT(ud_store_request_get(r, "req-1", other, &resp, &len),
		  UP_FAILED_PRECONDITION);
	CHECK(resp == NULL);

	/* the same id again: recorded already */
	CHECK_INT(ud_store_write_sync(st, fn_request, &a), UP_ALREADY_EXISTS);
	CHECK_INT(a.claim_rc, UP_ALREADY_EXISTS);

	/* a write that fails takes its record with it */
	a.id = "req-2";
	a.fail_after = true;
	CHECK_INT(ud_store_write_sync(st, fn_request, &a), UP_ABORTED);
	CHECK_INT(ud_store_request_get(r, "req-2", a.digest, &resp, &len),
		  UP_NOT_FOUND);
	a.fail_after = false;

	/*
	 * A refused claim: SQLite leaves the write's transaction usable;
	 * PostgreSQL sends the claim with the write's next statement, which
	 * its failure fails: the write is rolled back with the claim's code
	 * whatever it does next.
	 */
	a.id = "req-1";
	if (strcmp(ud_store_backend(st), "sqlite") == 0) {
		CHECK_INT(ud_store_write_sync(st, fn_claim_then_insert, &a), 0);
		CHECK_INT(a.claim_rc, UP_ALREADY_EXISTS);
		CHECK_INT(
		    ud_store_user_by_email(r, "after-claim@example.com", &got),
		    0);
		ud_user_fini(&got);
	} else {
		CHECK_INT(ud_store_write_sync(st, fn_claim_then_insert, &a),
			  UP_ALREADY_EXISTS);
		CHECK_INT(a.claim_rc, UP_ALREADY_EXISTS);
		CHECK_INT(
		    ud_store_user_by_email(r, "after-claim@example.com", &got),
		    UP_NOT_FOUND);
	}

	/* an answer needs a claim; an empty answer is an answer */
	a.id = "req-unclaimed";
	CHECK_INT(ud_store_write_sync(st, fn_answer_only, &a), UP_NOT_FOUND);
	a.id = "req-3";
	a.answer = NULL;
	CHECK_INT(ud_store_write_sync(st, fn_request, &a), 0);
	CHECK_INT(ud_store_request_get(r, "req-3", a.digest, &resp, &len), 0);
	CHECK_INT(len, 0);
	CHECK(resp != NULL);
	free(resp);
	resp = NULL;

	/* pruning forgets what was recorded before the time given */
	a.id = "req-old";
	a.now = 1000;
	a.answer = bytes;
	a.len = 3;
	CHECK_INT(ud_store_write_sync(st, fn_request, &a), 0);
	before = 2000;
	CHECK_INT(ud_store_write_sync(st, fn_prune, &before), 0);
	CHECK_INT(ud_store_request_get(r, "req-old", a.digest, &resp, &len),
		  UP_NOT_FOUND);
	CHECK_INT(ud_store_request_get(r, "req-1", a.digest, &resp, &len), 0);
	free(resp);
	resp = NULL;

	/* recorded in one step, last in the write: read back byte for byte;
	 * an id recorded already fails the record, and the write with it */
	a.id = "req-4";
	a.now = ud_now_ms();
	a.answer = bytes;
	a.len = sizeof(bytes);
	CHECK_INT(ud_store_write_sync(st, fn_insert_then_record, &a), 0);
	CHECK_INT(a.claim_rc, 0);
	CHECK_INT(ud_store_request_get(r, "req-4", a.digest, &resp, &len), 0);
	CHECK(resp != NULL && len == sizeof(bytes) &&
	      memcmp(resp, bytes, sizeof(bytes)) == 0);
	free(resp);
	resp = NULL;
	CHECK_INT(ud_store_user_by_email(r, "req-4@example.com", &got), 0);
	ud_user_fini(&got);
	CHECK_INT(ud_store_write_sync(st, fn_request, &a), UP_ALREADY_EXISTS);
	a.id = "req-1";
	CHECK_INT(ud_store_write_sync(st, fn_insert_then_record, &a),
		  UP_ALREADY_EXISTS);
	CHECK_INT(a.claim_rc, UP_ALREADY_EXISTS);
	CHECK_INT(ud_store_user_by_email(r, "req-1@example.com", &got),
		  UP_NOT_FOUND);

	/* writes on a read connection are refused */
	CHECK_INT(ud_store_request_claim(r, "req-r", a.digest, 1), UP_INTERNAL);
	CHECK_INT(ud_store_request_record(r, "req-r", a.digest, 1, bytes, 1),
		  UP_INTERNAL);
	CHECK_INT(ud_store_request_answer(r, "req-1", bytes, 1), UP_INTERNAL);
	CHECK_INT(ud_store_request_prune(r, 0), UP_INTERNAL);
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * The failed-login state (both backends)
 */

typedef struct login_args {
	const char *key;
	ud_login_state s;
	bool del;
	int get_rc;
} login_args;

static int
fn_login(ud_store_conn *c, void *arg)
{
	login_args *a = arg;

	return a->del ? ud_store_login_delete(c, a->key)
		      : ud_store_login_put(c, a->key, &a->s);
}

/* Read, count one more failure, write back: on the writer's connection. */
static int
fn_login_fail(ud_store_conn *c, void *arg)
{
	login_args *a = arg;
	ud_login_state s = {0}; /* as it is when there is no row */
	int rc = ud_store_login_get(c, a->key, &s);

	a->get_rc = rc;
	if (rc != 0 && rc != UP_NOT_FOUND) {
		return rc;
	}
	s.failures++;
	s.last = ud_now_ms();
	return ud_store_login_put(c, a->key, &s);
}

/* Forgets the states untouched since t = 200. */
static int
fn_login_prune(ud_store_conn *c, void *arg)
{
	(void)arg;
	return ud_store_login_prune(c, 200);
}

static void
test_login_state(void)
{
	ud_store *st = open_store("login.db");
	ud_store_conn *r = NULL;
	ud_login_state s;
	login_args a = {.key = "grace@example.com",
			.s = {.window_start = 1,
			      .last = INT64_MAX,
			      .locked_until = -5,
			      .failures = 3,
			      .locks = 2,
			      .pending = 7}};

	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(ud_store_login_get(r, a.key, &s), UP_NOT_FOUND);
	CHECK_INT(ud_store_write_sync(st, fn_login, &a), 0);
	CHECK_INT(ud_store_login_get(r, a.key, &s), 0);
	CHECK_INT(s.window_start, 1);
	CHECK(s.last == INT64_MAX);
	CHECK_INT(s.locked_until, -5);
	CHECK_INT(s.failures, 3);
	CHECK_INT(s.locks, 2);
	CHECK_INT(s.pending, 7);
	CHECK_INT(ud_store_login_get(r, "Grace@example.com", &s), UP_NOT_FOUND);

	/* written again: replaced */
	a.s.failures = 4;
	a.s.locks = 0;
	a.s.pending = 0;
	CHECK_INT(ud_store_write_sync(st, fn_login, &a), 0);
	CHECK_INT(ud_store_login_get(r, a.key, &s), 0);
	CHECK_INT(s.failures, 4);
	CHECK_INT(s.locks, 0);
	CHECK_INT(s.pending, 0);

	/* read-modify-write on the writer */
	for (int i = 0; i < 5; i++) {
		CHECK_INT(ud_store_write_sync(st, fn_login_fail, &a), 0);
		CHECK_INT(a.get_rc, 0);
	}
	CHECK_INT(ud_store_login_get(r, a.key, &s), 0);
	CHECK_INT(s.failures, 9);

	/* cleared, twice */
	a.del = true;
	CHECK_INT(ud_store_write_sync(st, fn_login, &a), 0);
	CHECK_INT(ud_store_write_sync(st, fn_login, &a), 0);
	CHECK_INT(ud_store_login_get(r, a.key, &s), UP_NOT_FOUND);
	a.del = false;
	CHECK_INT(ud_store_write_sync(st, fn_login_fail, &a), 0);
	CHECK_INT(a.get_rc, UP_NOT_FOUND);
	CHECK_INT(ud_store_login_get(r, a.key, &s), 0);
	CHECK_INT(s.failures, 1);

	/* writes on a read connection are refused */
	CHECK_INT(ud_store_login_put(r, a.key, &a.s), UP_INTERNAL);
	CHECK_INT(ud_store_login_delete(r, a.key), UP_INTERNAL);
	CHECK_INT(ud_store_login_prune(r, 0), UP_INTERNAL);

	/* pruned by the later of the last failure and the lock's end */
	{
		login_args old = {.key = "old@example.com",
				  .s = {.last = 100, .locked_until = 50}};
		login_args locked = {.key = "locked@example.com",
				     .s = {.last = 100, .locked_until = 300}};
		CHECK_INT(ud_store_write_sync(st, fn_login, &old), 0);
		CHECK_INT(ud_store_write_sync(st, fn_login, &locked), 0);
		CHECK_INT(ud_store_write_sync(st, fn_login_prune, NULL), 0);
		CHECK_INT(ud_store_login_get(r, old.key, &s), UP_NOT_FOUND);
		CHECK_INT(ud_store_login_get(r, locked.key, &s), 0);
		CHECK_INT(ud_store_login_get(r, a.key, &s), 0);
	}
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * Refresh tokens (both backends)
 */

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
#define ID_B "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2"
#define ID_C "ccccccccccccccccccccccccccccccc1"
#define ID_D "ddddddddddddddddddddddddddddddd1"
#define ID_E "ddddddddddddddddddddddddddddddd2"

struct meet; /* the PostgreSQL races' meeting point, below */
static bool meet_wait(struct meet *m);

typedef enum token_op {
	TOK_INSERT,
	TOK_USE,
	TOK_REVOKE,
	TOK_PRUNE,
	TOK_ROTATE,
} token_op;

/* What a refresh found: its token rotated, or used already (reuse). */
enum { ROTATED = 1, REUSED = 2 };

typedef struct token_args {
	token_op op;
	ud_refresh_token t; /* INSERT; ROTATE: family and jti */
	const char *next;   /* ROTATE: the id of the next token */
	int64_t before_s;   /* PRUNE */
	int outcome;        /* ROTATE: ROTATED, REUSED or the get's code */
	/* A racer: its store, whom it waits for first, its write's code. */
	ud_store *st;
	struct meet *m;
	bool met;
	int rc;
} token_args;

/*
 * A refresh as usersd runs it in one write: the token read (its family
 * locked), then either marked used and its next recorded, or, used
 * already, its whole family revoked.
 */
static int
token_rotate(ud_store_conn *c, token_args *a)
{
	ud_refresh_token cur, next;
	int rc = ud_store_refresh_get(c, a->t.family, a->t.jti, &cur);

	if (rc != 0) {
		a->outcome = rc;
		return rc == UP_NOT_FOUND ? 0 : rc;
	}
	if (cur.used) {
		a->outcome = REUSED;
		return ud_store_refresh_revoke(c, cur.family);
	}
	if ((rc = ud_store_refresh_use(c, cur.jti)) != 0) {
		return rc;
	}
	next = cur;
	snprintf(next.jti, sizeof(next.jti), "%s", a->next);
	a->outcome = ROTATED;
	return ud_store_refresh_insert(c, &next);
}

static int
fn_token(ud_store_conn *c, void *arg)
{
	token_args *a = arg;

	if (a->m != NULL) {
		a->met = meet_wait(a->m); /* both transactions are open now */
	}
	switch (a->op) {
	case TOK_INSERT:
		return ud_store_refresh_insert(c, &a->t);
	case TOK_USE:
		return ud_store_refresh_use(c, a->t.jti);
	case TOK_REVOKE:
		return ud_store_refresh_revoke(c, a->t.family);
	case TOK_PRUNE:
		return ud_store_refresh_prune(c, a->before_s);
	case TOK_ROTATE:
		return token_rotate(c, a);
	}
	return UP_INTERNAL;
}

static int
token_write(ud_store *st, token_op op, const char *jti, const char *family,
	    int64_t user, int64_t expires)
{
	token_args a = {.op = op,
			.t = {.user_id = user, .expires_at = expires}};

	snprintf(a.t.jti, sizeof(a.t.jti), "%s", jti != NULL ? jti : "");
	snprintf(a.t.family, sizeof(a.t.family), "%s",
		 family != NULL ? family : "");
	return ud_store_write_sync(st, fn_token, &a);
}

static int
token_prune(ud_store *st, int64_t before_s)
{
	token_args a = {.op = TOK_PRUNE, .before_s = before_s};

	return ud_store_write_sync(st, fn_token, &a);
}

/* The get's code; *used as read. */
static int
token_get(ud_store_conn *r, const char *family, const char *jti, bool *used)
{
	ud_refresh_token t;
	int rc = ud_store_refresh_get(r, family, jti, &t);

	if (rc == 0) {
		CHECK_STR(t.jti, jti);
		CHECK_STR(t.family, family);
		if (used != NULL) {
			*used = t.used;
		}
	}
	return rc;
}

static void
test_refresh_tokens(void)
{
	ud_store *st = open_store("refresh.db");
	ud_store_conn *r = NULL;
	ud_refresh_token t;
	token_args rot = {.op = TOK_ROTATE};
	int64_t u1, u2;
	bool used = true;

	if (st == NULL) {
		return;
	}
	u1 = add_user(st, "tok1@example.com", "T", "One", NULL, NULL, NULL);
	u2 = add_user(st, "tok2@example.com", "T", "Two", NULL, NULL, NULL);
	CHECK(u1 > 0 && u2 > 0);
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	if (r == NULL) {
		ud_store_close(st);
		return;
	}

	/* recorded, and read back by family and id */
	CHECK_INT(token_write(st, TOK_INSERT, ID_A, ID_A, u1, 2000), 0);
	CHECK_INT(token_write(st, TOK_INSERT, ID_B, ID_A, u1, 2000), 0);
	CHECK_INT(token_write(st, TOK_INSERT, ID_C, ID_C, u2, 3000), 0);
	CHECK_INT(ud_store_refresh_get(r, ID_A, ID_B, &t), 0);
	CHECK_STR(t.jti, ID_B);
	CHECK_STR(t.family, ID_A);
	CHECK_INT(t.user_id, u1);
	CHECK_INT(t.expires_at, 2000);
	CHECK(!t.used);
	CHECK_INT(token_get(r, ID_C, ID_C, NULL), 0);
	/* another family's token, an unknown one, malformed ids */
	CHECK_INT(token_get(r, ID_C, ID_A, NULL), UP_NOT_FOUND);
	CHECK_INT(token_get(r, ID_D, ID_D, NULL), UP_NOT_FOUND);
	CHECK_INT(ud_store_refresh_get(r, ID_A,
				       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", &t),
		  UP_NOT_FOUND);
	CHECK_INT(ud_store_refresh_get(r, "", ID_A, &t), UP_NOT_FOUND);

	/* an id recorded once; the user must exist; ids are checked */
	CHECK_INT(token_write(st, TOK_INSERT, ID_A, ID_C, u2, 2000),
		  UP_ALREADY_EXISTS);
	CHECK_INT(token_write(st, TOK_INSERT, ID_D, ID_D, u2 + 1000, 2000),
		  UP_INVALID_ARGUMENT);
	CHECK_INT(token_write(st, TOK_INSERT, "d1", ID_D, u2, 2000),
		  UP_INVALID_ARGUMENT);
	CHECK_INT(token_write(st, TOK_INSERT, ID_D,
			      "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD1", u2, 2000),
		  UP_INVALID_ARGUMENT);
	CHECK_INT(token_get(r, ID_D, ID_D, NULL), UP_NOT_FOUND);

	/* used once */
	CHECK_INT(token_write(st, TOK_USE, ID_A, NULL, 0, 0), 0);
	CHECK_INT(token_get(r, ID_A, ID_A, &used), 0);
	CHECK(used);
	CHECK_INT(token_get(r, ID_A, ID_B, &used), 0);
	CHECK(!used);
	CHECK_INT(token_write(st, TOK_USE, ID_A, NULL, 0, 0), UP_NOT_FOUND);
	CHECK_INT(token_write(st, TOK_USE, ID_D, NULL, 0, 0), UP_NOT_FOUND);

	/* a refresh on the writer: B rotates to D; B again is reuse, which
	 * revokes the family, D included */
	snprintf(rot.t.family, sizeof(rot.t.family), "%s", ID_A);
	snprintf(rot.t.jti, sizeof(rot.t.jti), "%s", ID_B);
	rot.next = ID_D;
	CHECK_INT(ud_store_write_sync(st, fn_token, &rot), 0);
	CHECK_INT(rot.outcome, ROTATED);
	CHECK_INT(ud_store_refresh_get(r, ID_A, ID_D, &t), 0);
	CHECK_INT(t.user_id, u1);
	CHECK_INT(t.expires_at, 2000);
	CHECK(!t.used);
	rot.next = ID_E;
	CHECK_INT(ud_store_write_sync(st, fn_token, &rot), 0);
	CHECK_INT(rot.outcome, REUSED);
	CHECK_INT(token_get(r, ID_A, ID_A, NULL), UP_NOT_FOUND);
	CHECK_INT(token_get(r, ID_A, ID_B, NULL), UP_NOT_FOUND);
	CHECK_INT(token_get(r, ID_A, ID_D, NULL), UP_NOT_FOUND);
	CHECK_INT(token_get(r, ID_A, ID_E, NULL), UP_NOT_FOUND);
	CHECK_INT(ud_store_write_sync(st, fn_token, &rot), 0);
	CHECK_INT(rot.outcome, UP_NOT_FOUND);
	/* the other family is untouched; revoking again or nothing: 0 */
	CHECK_INT(token_get(r, ID_C, ID_C, NULL), 0);
	CHECK_INT(token_write(st, TOK_REVOKE, NULL, ID_A, 0, 0), 0);
	CHECK_INT(token_write(st, TOK_REVOKE, NULL, "nonsense", 0, 0), 0);

	/* pruned by expiry */
	CHECK_INT(token_write(st, TOK_INSERT, ID_D, ID_D, u1, 100), 0);
	CHECK_INT(token_write(st, TOK_INSERT, ID_E, ID_D, u1, 5000), 0);
	CHECK_INT(token_prune(st, 1000), 0);
	CHECK_INT(token_get(r, ID_D, ID_D, NULL), UP_NOT_FOUND);
	CHECK_INT(token_get(r, ID_D, ID_E, NULL), 0);
	CHECK_INT(token_get(r, ID_C, ID_C, NULL), 0);

	/* a deleted user's tokens go with it */
	CHECK_INT(ud_store_write_sync(st, fn_user_delete, &u2), 0);
	CHECK_INT(token_get(r, ID_C, ID_C, NULL), UP_NOT_FOUND);
	CHECK_INT(token_get(r, ID_D, ID_E, NULL), 0);
	CHECK_INT(ud_store_write_sync(st, fn_user_delete, &u1), 0);
	CHECK_INT(token_get(r, ID_D, ID_E, NULL), UP_NOT_FOUND);

	/* writes on a read connection are refused */
	t.user_id = 1;
	snprintf(t.jti, sizeof(t.jti), "%s", ID_A);
	snprintf(t.family, sizeof(t.family), "%s", ID_A);
	CHECK_INT(ud_store_refresh_insert(r, &t), UP_INTERNAL);
	CHECK_INT(ud_store_refresh_use(r, ID_A), UP_INTERNAL);
	CHECK_INT(ud_store_refresh_revoke(r, ID_A), UP_INTERNAL);
	CHECK_INT(ud_store_refresh_prune(r, 0), UP_INTERNAL);
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * PostgreSQL: migrations, concurrency between connections and stores
 */

static void
test_migrations_pg(void)
{
	const char *url;
	ud_store *st;
	ud_store_conn *r = NULL;
	ud_user got = {0};
	int64_t id;
	int latest;

	/* reopen: same version, data intact, nothing applied twice */
	if ((url = target_of("reopen")) == NULL) {
		return;
	}
	latest = ud_store_schema_latest(url);
	CHECK(latest >= 3);
	if ((st = open_store("reopen")) == NULL) {
		return;
	}
	id = add_user(st, "keep@example.com", "Keep", "Me", "User", NULL, NULL);
	CHECK(id > 0);
	ud_store_close(st);
	CHECK_INT(pg_raw(url, "SELECT count(*) FROM schema_migrations"),
		  latest);
	if ((st = open_store("reopen")) == NULL) {
		return;
	}
	CHECK_INT(ud_store_schema_version(st), latest);
	CHECK(ud_store_shared(st));
	CHECK_STR(ud_store_backend(st), "postgresql");
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(ud_store_user_get(r, id, &got), 0);
	CHECK_STR(got.email, "keep@example.com");
	CHECK_INT(got.roles.n, 1);
	ud_user_fini(&got);
	ud_store_reader_close(r);
	ud_store_close(st);
	CHECK_INT(pg_raw(url, "SELECT count(*) FROM schema_migrations"),
		  latest);

	/* a database at version 1, written by hand, upgrades on open */
	if ((url = target_of("v1")) == NULL) {
		return;
	}
	CHECK_INT(ud_store_migrate(url, 1), 0);
	CHECK_INT(pg_raw(url, "SELECT max(version) FROM schema_migrations"), 1);
	CHECK_INT(pg_raw(url, "SELECT count(*) FROM pg_indexes"
			      " WHERE indexname = 'user_roles_role'"),
		  0);
	CHECK_INT(pg_raw(url, "INSERT INTO users (id, email, first_name,"
			      " created_at, updated_at) VALUES"
			      " (7, 'old@example.com', 'Old', 1, 2);"
			      "INSERT INTO user_roles VALUES (7, 'Manager')"),
		  0);
	if ((st = open_store("v1")) == NULL) {
		return;
	}
	check_v1_user(st, latest);
	CHECK_INT(pg_raw(url, "SELECT count(*) FROM pg_indexes"
			      " WHERE indexname = 'user_roles_role'"),
		  1);
	CHECK_INT(pg_raw(url, "SELECT count(*) FROM schema_migrations"),
		  latest);

	/* a database newer than this program is refused */
	CHECK_INT(pg_raw(url, "INSERT INTO schema_migrations VALUES (1000, 0)"),
		  0);
	st = NULL;
	CHECK_INT(ud_store_open(&st, url, NULL), UP_FAILED_PRECONDITION);
	CHECK(st == NULL);
	CHECK_INT(ud_store_migrate(url, 0), UP_FAILED_PRECONDITION);

	/* a URL libpq cannot read; a server that is not there */
	st = NULL;
	CHECK_INT(ud_store_open(&st, "postgresql://[::1", NULL),
		  UP_INVALID_ARGUMENT);
	CHECK_INT(ud_store_open(&st,
				"postgresql://usersd@127.0.0.1:1/x"
				"?connect_timeout=2",
				NULL),
		  UP_UNAVAILABLE);
	CHECK(st == NULL);
}

/* Threads that all wait for each other (bounded: false on timeout). */
typedef struct meet {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;
	int want;
} meet;

#define MEET_INIT(want)                                                        \
	{                                                                      \
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, (want) \
	}

static bool
meet_wait(meet *m)
{
	int64_t deadline = mono_ms() + 10000;
	bool ok;

	pthread_mutex_lock(&m->mu);
	m->n++;
	pthread_cond_broadcast(&m->cv);
	while (m->n < m->want && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&m->cv, &m->mu, &ts);
	}
	ok = m->n >= m->want;
	pthread_mutex_unlock(&m->mu);
	return ok;
}

/* Read-modify-writes of one user from two threads: no update is lost. */
typedef struct rmw_args {
	ud_store *st;
	int64_t id;
	int n;
	int errors;
	int torn; /* reads whose roles did not match their counter */
} rmw_args;

static int
fn_rmw(ud_store_conn *c, void *arg)
{
	rmw_args *a = arg;
	ud_user u;
	char buf[32];
	int rc, n;

	if ((rc = ud_store_user_get(c, a->id, &u)) != 0) {
		return rc;
	}
	n = u.first_name != NULL ? atoi(u.first_name) : -1;
	snprintf(buf, sizeof(buf), "r%d", n);
	if (u.roles.n != 1 || strcmp(u.roles.v[0], buf) != 0) {
		a->torn++;
	}
	ud_strv_fini(&u.roles);
	snprintf(buf, sizeof(buf), "r%d", n + 1);
	ud_strv_push(&u.roles, buf);
	free(u.first_name);
	snprintf(buf, sizeof(buf), "%d", n + 1);
	u.first_name = strdup(buf);
	rc = ud_store_user_update(c, &u, UD_SET_ROLES, false);
	ud_user_fini(&u);
	return rc;
}

static void *
rmw_main(void *arg)
{
	rmw_args *a = arg;

	for (int i = 0; i < a->n; i++) {
		if (ud_store_write_sync(a->st, fn_rmw, a) != 0) {
			a->errors++;
		}
	}
	return NULL;
}

static void
test_pg_rmw(void)
{
	enum { THREADS = 2, PER = 200 };
	ud_store *st = open_store("rmw");
	ud_store_conn *r = NULL;
	rmw_args a[THREADS];
	pthread_t th[THREADS];
	ud_user got = {0};
	int64_t id;

	if (st == NULL) {
		return;
	}
	id = add_user(st, "counter@example.com", "0", NULL, "r0", NULL, NULL);
	CHECK(id > 0);
	for (int i = 0; i < THREADS; i++) {
		a[i] = (rmw_args){.st = st, .id = id, .n = PER};
		pthread_create(&th[i], NULL, rmw_main, &a[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(a[i].errors, 0);
		CHECK_INT(a[i].torn, 0);
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(ud_store_user_get(r, id, &got), 0);
	CHECK_STR(got.first_name, "400");
	CHECK_INT(got.roles.n, 1);
	if (got.roles.n == 1) {
		CHECK_STR(got.roles.v[0], "r400");
	}
	ud_user_fini(&got);
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* Two inserts of one email in two cases at once: exactly one refused. */
typedef struct race_args {
	ud_store *st;
	meet *m;
	ud_store_write_fn fn; /* what each racer writes */
	const char *key;      /* the login key, for the login race */
	const char *email;
	const char *id; /* the request id, for the claim race */
	bool rollback;  /* the claimer fails after holding its claim */
	int64_t hold_ms;
	bool met;
	int rc;
} race_args;

static int
fn_race_insert(ud_store_conn *c, void *arg)
{
	race_args *a = arg;
	ud_user u = {.email = (char *)a->email, .manager_access = -1};

	a->met = meet_wait(a->m); /* both transactions are open now */
	return ud_store_user_insert(c, &u);
}

/* One racer: a->fn in a write of its own. */
static void *
race_main(void *arg)
{
	race_args *a = arg;

	a->rc = ud_store_write_sync(a->st, a->fn, a);
	return NULL;
}

static void
test_pg_email_race(void)
{
	enum { ROUNDS = 10 };
	ud_store *st = open_store("email_race");
	ud_store *st2 = open_second(st, "email_race");
	ud_store_conn *r = NULL;

	if (st2 == NULL) {
		return;
	}
	for (int i = 0; i < ROUNDS; i++) {
		char e1[64], e2[64];
		meet m = MEET_INIT(2);
		race_args a[2] = {
		    {.st = st, .m = &m, .fn = fn_race_insert, .email = e1},
		    {.st = st2, .m = &m, .fn = fn_race_insert, .email = e2}};
		pthread_t th[2];
		int ok = 0, taken = 0;

		snprintf(e1, sizeof(e1), "race%d@example.com", i);
		snprintf(e2, sizeof(e2), "RACE%d@Example.COM", i);
		for (int t = 0; t < 2; t++) {
			pthread_create(&th[t], NULL, race_main, &a[t]);
		}
		for (int t = 0; t < 2; t++) {
			pthread_join(th[t], NULL);
			CHECK(a[t].met);
			ok += a[t].rc == 0;
			taken += a[t].rc == UP_ALREADY_EXISTS;
		}
		CHECK_INT(ok, 1);
		CHECK_INT(taken, 1);
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	CHECK_INT(ud_store_user_count(r), ROUNDS);
	ud_store_reader_close(r);
	ud_store_close(st);
	ud_store_close(st2);
}

/* Two first failures of one login at once: both counted. */
static int
fn_login_race(ud_store_conn *c, void *arg)
{
	race_args *a = arg;
	login_args la = {.key = a->key};

	a->met = meet_wait(a->m); /* both transactions are open now */
	return fn_login_fail(c, &la);
}

static void
test_pg_login_race(void)
{
	enum { ROUNDS = 10 };
	ud_store *st = open_store("login_race");
	ud_store *st2 = open_second(st, "login_race");
	ud_store_conn *r = NULL;

	if (st2 == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	for (int i = 0; i < ROUNDS; i++) {
		char key[32];
		meet m = MEET_INIT(2);
		race_args a[2] = {
		    {.st = st, .m = &m, .fn = fn_login_race, .key = key},
		    {.st = st2, .m = &m, .fn = fn_login_race, .key = key}};
		pthread_t th[2];
		ud_login_state s;

		snprintf(key, sizeof(key), "user%d", i);
		for (int t = 0; t < 2; t++) {
			pthread_create(&th[t], NULL, race_main, &a[t]);
		}
		for (int t = 0; t < 2; t++) {
			pthread_join(th[t], NULL);
			CHECK(a[t].met);
			CHECK_INT(a[t].rc, 0);
		}
		CHECK_INT(ud_store_login_get(r, key, &s), 0);
		CHECK_INT(s.failures, 2);
	}
	ud_store_reader_close(r);
	ud_store_close(st);
	ud_store_close(st2);
}

/* One racer of a token race: its token write, on its own connection. */
static void *
token_race_main(void *arg)
{
	token_args *a = arg;

	a->outcome = -1;
	a->rc = ud_store_write_sync(a->st, fn_token, a);
	return NULL;
}

/*
 * One family from two daemons at once. Two refreshes with one token: one
 * rotates it, the other finds it used and revokes the family, the token
 * the first recorded included. A refresh and a revocation: whichever runs
 * first, nothing of the family is left (the revocation does not miss the
 * token the refresh records).
 */
static void
test_pg_token_race(void)
{
	enum { ROUNDS = 10 };
	ud_store *st = open_store("token_race");
	ud_store *st2 = open_second(st, "token_race");
	ud_store_conn *r = NULL;
	int64_t u;

	if (st2 == NULL) {
		return;
	}
	u = add_user(st, "race@example.com", "T", "Race", NULL, NULL, NULL);
	CHECK(u > 0);
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	for (int i = 0; r != NULL && i < 2 * ROUNDS; i++) {
		bool revoke = i >= ROUNDS;
		char fam[33], n1[33], n2[33];
		meet m = MEET_INIT(2);
		token_args a[2] = {
		    {.op = TOK_ROTATE, .st = st, .m = &m, .next = n1},
		    {.op = revoke ? TOK_REVOKE : TOK_ROTATE,
		     .st = st2,
		     .m = &m,
		     .next = n2}};
		pthread_t th[2];
		int rotated = 0, reused = 0;

		snprintf(fam, sizeof(fam), "%032x", i + 1);
		snprintf(n1, sizeof(n1), "%032x", 1000 + i);
		snprintf(n2, sizeof(n2), "%032x", 2000 + i);
		CHECK_INT(token_write(st, TOK_INSERT, fam, fam, u, 5000), 0);
		for (int t = 0; t < 2; t++) {
			memcpy(a[t].t.family, fam, sizeof(fam));
			memcpy(a[t].t.jti, fam, sizeof(fam));
			pthread_create(&th[t], NULL, token_race_main, &a[t]);
		}
		for (int t = 0; t < 2; t++) {
			pthread_join(th[t], NULL);
			CHECK(a[t].met);
			CHECK_INT(a[t].rc, 0);
			rotated += a[t].outcome == ROTATED;
			reused += a[t].outcome == REUSED;
		}
		if (!revoke) {
			CHECK_INT(rotated, 1);
			CHECK_INT(reused, 1);
		}
		CHECK_INT(token_get(r, fam, fam, NULL), UP_NOT_FOUND);
		CHECK_INT(token_get(r, fam, n1, NULL), UP_NOT_FOUND);
		CHECK_INT(token_get(r, fam, n2, NULL), UP_NOT_FOUND);
	}
	ud_store_reader_close(r);
	ud_store_close(st);
	ud_store_close(st2);
}

/* Stores (daemons) opening one new database at once all migrate it. */
typedef struct open_args {
	const char *url;
	meet *m;
	ud_store *st;
	int rc;
} open_args;

static void *
open_main(void *arg)
{
	open_args *a = arg;

	(void)meet_wait(a->m);
	a->rc = ud_store_open(&a->st, a->url, NULL);
	return NULL;
}

static void
test_pg_open_together(void)
{
	enum { STORES = 4 };
	const char *url = target_of("together");
	meet m = MEET_INIT(STORES);
	open_args a[STORES];
	pthread_t th[STORES];
	int latest;

	if (url == NULL) {
		return;
	}
	latest = ud_store_schema_latest(url);
	for (int i = 0; i < STORES; i++) {
		a[i] = (open_args){.url = url, .m = &m};
		pthread_create(&th[i], NULL, open_main, &a[i]);
	}
	for (int i = 0; i < STORES; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(a[i].rc, 0);
		if (a[i].rc == 0) {
			CHECK_INT(ud_store_schema_version(a[i].st), latest);
		}
	}
	CHECK_INT(pg_raw(url, "SELECT count(*) FROM schema_migrations"),
		  latest);
	/* what one writes, another reads */
	if (a[0].rc == 0 && a[1].rc == 0) {
		ud_store_conn *r = NULL;
		ud_user got = {0};
		int64_t id = add_user(a[0].st, "shared@example.com", "S", NULL,
				      NULL, NULL, NULL);
		CHECK(id > 0);
		CHECK_INT(ud_store_reader_open(a[1].st, &r), 0);
		CHECK_INT(ud_store_user_by_email(r, "SHARED@example.com", &got),
			  0);
		CHECK_INT(got.id, id);
		ud_user_fini(&got);
		ud_store_reader_close(r);
	}
	for (int i = 0; i < STORES; i++) {
		ud_store_close(a[i].st);
	}
}

/* One request id claimed by two stores at once: one wins. */
static int
fn_race_claim(ud_store_conn *c, void *arg)
{
	race_args *a = arg;
	uint8_t digest[UD_REQUEST_DIGEST_LEN] = {1, 2, 3};
	int rc;

	a->met = meet_wait(a->m);
	/* the claim on the server (its verdict waited for), then held */
	if ((rc = ud_store_request_claim(c, a->id, digest, ud_now_ms())) != 0 ||
	    (rc = ud_store_request_claimed(c)) != 0) {
		return rc;
	}
	if (a->hold_ms > 0) {
		/* the other one's claim waits for this transaction */
		struct timespec ts = {0, (long)a->hold_ms * 1000000};
		nanosleep(&ts, NULL);
	}
	if (a->rollback) {
		return UP_ABORTED;
	}
	return ud_store_request_answer(c, a->id, (const uint8_t *)a->email,
				       strlen(a->email));
}

static void
test_pg_claim_race(void)
{
	ud_store *st[2] = {open_store("claim_race"), NULL};
	ud_store_conn *r = NULL;
	uint8_t digest[UD_REQUEST_DIGEST_LEN] = {1, 2, 3};
	uint8_t *resp = NULL;
	size_t len = 0;

	if (st[0] == NULL) {
		return;
	}
	st[1] = open_store("claim_race");
	if (st[1] == NULL) {
		ud_store_close(st[0]);
		return;
	}
	CHECK_INT(ud_store_reader_open(st[0], &r), 0);
	/* at once, each holding its claim a while: one wins */
	for (int i = 0; i < 5; i++) {
		char id[32];
		meet m = MEET_INIT(2);
		race_args a[2] = {{.st = st[0],
				   .m = &m,
				   .fn = fn_race_claim,
				   .id = id,
				   .email = "first",
				   .hold_ms = 50},
				  {.st = st[1],
				   .m = &m,
				   .fn = fn_race_claim,
				   .id = id,
				   .email = "second",
				   .hold_ms = 50}};
		pthread_t th[2];
		int won = -1, taken = 0;

		snprintf(id, sizeof(id), "claim-%d", i);
		for (int t = 0; t < 2; t++) {
			pthread_create(&th[t], NULL, race_main, &a[t]);
		}
		for (int t = 0; t < 2; t++) {
			pthread_join(th[t], NULL);
			CHECK(a[t].met);
			if (a[t].rc == 0) {
				won = t;
			}
			taken += a[t].rc == UP_ALREADY_EXISTS;
		}
		CHECK(won >= 0);
		CHECK_INT(taken, 1);
		CHECK_INT(ud_store_request_get(r, id, digest, &resp, &len), 0);
		if (won >= 0) {
			CHECK_INT(len, strlen(a[won].email));
			CHECK(resp != NULL &&
			      memcmp(resp, a[won].email, len) == 0);
		}
		free(resp);
		resp = NULL;
	}
	/* the first claimer rolls back: the one waiting for it wins */
	{
		meet m = MEET_INIT(1);
		meet m2 = MEET_INIT(1);
		race_args a[2] = {{.st = st[0],
				   .m = &m,
				   .fn = fn_race_claim,
				   .id = "claim-rb",
				   .email = "first",
				   .hold_ms = 300,
				   .rollback = true},
				  {.st = st[1],
				   .m = &m2,
				   .fn = fn_race_claim,
				   .id = "claim-rb",
				   .email = "second"}};
		pthread_t th[2];
		struct timespec ts = {0, 100 * 1000000};
		double t0;

		pthread_create(&th[0], NULL, race_main, &a[0]);
		nanosleep(&ts, NULL); /* the first one holds its claim */
		t0 = now_s();
		pthread_create(&th[1], NULL, race_main, &a[1]);
		pthread_join(th[0], NULL);
		pthread_join(th[1], NULL);
		CHECK_INT(a[0].rc, UP_ABORTED);
		CHECK_INT(a[1].rc, 0);
		CHECK(now_s() - t0 > 0.1); /* it waited */
		CHECK_INT(
		    ud_store_request_get(r, "claim-rb", digest, &resp, &len),
		    0);
		CHECK_INT(len, 6);
		free(resp);
	}
	ud_store_reader_close(r);
	ud_store_close(st[0]);
	ud_store_close(st[1]);
}

/* The server ends every session of the store (as a restart does). */
static void
test_pg_reconnect(void)
{
	const char *url = target_of("reconnect");
	ud_store *st = open_store("reconnect");
	ud_store_conn *r = NULL;
	ud_user got = {0};
	ud_user_filter f = {0};
	ud_user *list = NULL;
	size_t n = 0;
	int64_t total = 0, id;

	if (st == NULL || url == NULL) {
		ud_store_close(st);
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	id = add_user(st, "before@example.com", "B", NULL, "R", NULL, NULL);
	CHECK(id > 0);
	CHECK_INT(ud_store_user_get(r, id, &got), 0);
	ud_user_fini(&got);
	CHECK_INT(ud_store_user_list(r, &f, &list, &n, &total), 0);
	ud_users_free(list, n);
	for (int round = 0; round < 2; round++) {
		/*
		 * The reader's session and the writers' (two by default) are
		 * gone (after the first round, only those of the writers
		 * used since).
		 */
		long long ended =
		    pg_raw(url, "SELECT count(*) FROM ("
				" SELECT pg_terminate_backend(pid, 5000)"
				" FROM pg_stat_activity"
				" WHERE application_name = 'usersd'"
				" AND datname = current_database()) t");
		CHECK(round == 0 ? ended == 3 : ended >= 2);
		CHECK_INT(ud_store_user_get(r, id, &got), 0);
		CHECK_STR(got.email, "before@example.com");
		ud_user_fini(&got);
		/* statements prepared again on the new session */
		CHECK_INT(ud_store_user_list(r, &f, &list, &n, &total), 0);
		CHECK_INT(total, 1 + 8 * round);
		ud_users_free(list, n);
		/* each writer reconnects before its next transaction */
		for (int i = 0; i < 8; i++) {
			char email[64];
			snprintf(email, sizeof(email), "after%d-%d@example.com",
				 round, i);
			CHECK(add_user(st, email, NULL, NULL, NULL, NULL,
				       NULL) > 0);
		}
		CHECK_INT(ud_store_user_count(r), 1 + 8 * (round + 1));
	}
	ud_store_reader_close(r);
	ud_store_close(st);
}

static int
run_sqlite(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_crud();
	test_users_import();
	test_large_commit();
	test_membership_order();
	test_email_unique();
	test_write_rollback();
	test_request_log();
	test_login_state();
	test_refresh_tokens();
	test_migrations();
	test_lock();
	test_batch_rollback();
	test_answers();
	test_checkpoints();
	test_reader_users();
	test_read_ahead();
	test_kept_users();
	test_write_ahead();
	test_durability("durable.db", 0);
	test_durability("durable-copier.db", 16);
	test_concurrent_writes();
	test_filters();
	test_index_deferred();
	test_index_merge();
	rm_tmpdir();
	return check_done();
}

static int
run_pg(void)
{
	const char *file = getenv("USERSD_TEST_PG_URL_FILE");
	const char *require = getenv("USERSD_TEST_REQUIRE_PG");

	if (file == NULL || *file == '\0') {
		if (require != NULL && strcmp(require, "1") == 0) {
			fprintf(stderr, "test_store: USERSD_TEST_REQUIRE_PG=1 "
					"but USERSD_TEST_PG_URL_FILE is not "
					"set: no PostgreSQL to test\n");
			return 1;
		}
		printf("test_store: no PostgreSQL (USERSD_TEST_PG_URL_FILE "
		       "unset): skipped\n");
		return 0;
	}
	use_pg = true;
	test_crud();
	test_users_import();
	test_membership_order();
	test_email_unique();
	test_write_rollback();
	test_request_log();
	test_login_state();
	test_refresh_tokens();
	test_migrations_pg();
	test_concurrent_writes();
	test_filters();
	test_pg_rmw();
	test_pg_email_race();
	test_pg_login_race();
	test_pg_token_race();
	test_pg_open_together();
	test_pg_claim_race();
	test_pg_reconnect();
	test_pg_expect();
	test_read_ahead();
	test_write_ahead();
	test_kept_users();
	test_pg_ahead_held();
	drop_targets();
	return check_done();
}

int
main(int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "pg") != 0)) {
		fprintf(stderr, "usage: test_store [pg]\n");
		return 2;
	}
	return argc == 2 ? run_pg() : run_sqlite();
}
