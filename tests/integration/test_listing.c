/*
 * test_listing.c - ListUsers at depth against a real usersd:
 *   - paging by cursor (after/next) returns every user exactly once, in
 *     the order of ids, while other calls create and delete users;
 *   - skip and take keep working, also after a cursor;
 *   - the substring filters (email, name: through the trigram index from
 *     three characters on, by a scan below that) give exactly the users a
 *     scan of every user finds, in any letter case; on SQLite three times:
 *     with the index up to date, with the users written since pending
 *     (usersd --index-idle long: the writer leaves them for later), and
 *     after the writer caught up again;
 *   - what total is: "maintained" for every user (and right after
 *     creations and deletions), "exact" for a filter, "atLeast" past
 *     1000 matches unless exactTotal is asked;
 *   - a cursor that is not ours is refused;
 *   - ListOrganizations pages by cursor too.
 * With "pg": the same against PostgreSQL (pg_trgm indexes; no kept count).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "harness.h"
#include "pg_testdb.h"
#include "usersclient.h"

#define SEEDED 2400

static th_daemon d;

static uc_client *
client_open(void)
{
	const char *urls[] = {d.url};
	uc_options o = {.urls = urls, .n_urls = 1, .deadline_ms = 30000};
	uc_client *c = NULL;
	uc_result res;

	if (uc_client_open(&c, &o) != 0) {
		return NULL;
	}
	if (uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res) != UP_OK) {
		uc_result_fini(&res);
		uc_client_close(c);
		return NULL;
	}
	uc_result_fini(&res);
	return c;
}

static const char *const words[] = {"Ada",   "grace", "ALAN",   "Edsger",
				    "barba", "Smith", "o'neil", "Zoe"};

/* Imports users first..first+n-1 (names from words). */
static int
seed(uc_client *c, int first, int n)
{
	Users__V1__ImportUsers req = USERS__V1__IMPORT_USERS__INIT;
	Users__V1__UserRecord *rows = calloc((size_t)n, sizeof(*rows));
	Users__V1__UserRecord **v = calloc((size_t)n, sizeof(*v));
	char(*email)[64] = calloc((size_t)n, sizeof(*email));
	char(*last)[32] = calloc((size_t)n, sizeof(*last));
	uc_result res = {0};
	int rc = -1;

	if (rows == NULL || v == NULL || email == NULL || last == NULL) {
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int k = first + i;
		users__v1__user_record__init(&rows[i]);
		snprintf(email[i], sizeof(email[i]), "u%05d.%s@List.example", k,
			 words[k % 8]);
		snprintf(last[i], sizeof(last[i]), "%s%d", words[(k / 8) % 8],
			 k % 97);
		rows[i].email_address = email[i];
		rows[i].first_name = (char *)words[k % 8];
		rows[i].last_name = last[i];
		v[i] = &rows[i];
	}
	req.users = v;
	req.n_users = (size_t)n;
	if (uc_import_users(c, &req, NULL, &res) == UP_OK &&
	    ((Users__V1__ImportUsersResponse *)res.response)->created == n) {
		rc = 0;
	} else {
		fprintf(stderr, "seed: %s\n", uc_result_message(&res));
	}
	uc_result_fini(&res);
out:
	free(rows);
	free(v);
	free(email);
	free(last);
	return rc;
}

/* Every user (id, email, first, last) as one page walk. */
typedef struct user_row {
	long long id;
	char email[80], first[40], last[40];
} user_row;

typedef struct listing {
	user_row *v;
	size_t n, cap;
	long long total;
	char kind[16];
	int pages;
} listing;

/*
 * Pages through ListUsers by cursor with the filters, take a page.
 * 0, or -1 when a call failed.
 */
typedef void (*between_fn)(void *arg);

static int
list_walk(uc_client *c, const char *email, const char *name, int take,
	  bool exact, between_fn between, void *arg, listing *out)
{
	char *after = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	do {
		Users__V1__ListUsers req = USERS__V1__LIST_USERS__INIT;
		const Users__V1__ListUsersResponse *r;
		uc_result res = {0};

		req.email = (char *)email;
		req.name = (char *)name;
		req.has_take = true;
		req.take = take;
		req.after = after;
		req.has_exact_total = exact;
		req.exact_total = exact;
		if (uc_list_users(c, &req, NULL, &res) != UP_OK) {
			fprintf(stderr, "list: %s\n", uc_result_message(&res));
			uc_result_fini(&res);
			rc = -1;
			break;
		}
		r = (const Users__V1__ListUsersResponse *)res.response;
		if (out->pages++ == 0) {
			out->total = r->total;
			snprintf(out->kind, sizeof(out->kind), "%s",
				 r->total_kind ? r->total_kind : "");
		}
		for (size_t i = 0; i < r->n_results; i++) {
			user_row *u;
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 1024;
				out->v =
				    realloc(out->v, out->cap * sizeof(*out->v));
			}
			u = &out->v[out->n++];
			u->id = atoll(r->results[i]->id);
			snprintf(u->email, sizeof(u->email), "%s",
				 r->results[i]->email_address);
			snprintf(u->first, sizeof(u->first), "%s",
				 r->results[i]->first_name);
			snprintf(u->last, sizeof(u->last), "%s",
				 r->results[i]->last_name);
		}
		/* a full page names the next; a short one ends */
		CHECK((r->next != NULL) == (r->n_results == (size_t)take));
		free(after);
		after = r->next != NULL ? strdup(r->next) : NULL;
		uc_result_fini(&res);
		if (between != NULL) {
			between(arg);
		}
		/* a cursor that does not move would page forever */
		if (out->pages > 20000) {
			CHECK(out->pages <= 20000);
			break;
		}
	} while (after != NULL);
	free(after);
	return rc;
}

static int
list_all(uc_client *c, const char *email, const char *name, int take,
	 bool exact, listing *out)
{
	return list_walk(c, email, name, take, exact, NULL, NULL, out);
}

/* ------------------------------------------------------------------------
 * Paging while writes go on
 */

typedef struct writer {
	uc_client *c;
	int next;
	int created, deleted;
} writer;

/*
 * Between two pages, another client creates a user (after every id) and
 * deletes one of the doomed (the ids 2..SEEDED+1 that are multiples of
 * 7), ahead of the cursor or behind it.
 */
static void
write_some(void *arg)
{
	writer *w = arg;
	Users__V1__DeleteUser del = USERS__V1__DELETE_USER__INIT;
	char id[32];
	uc_result res = {0};

	if (seed(w->c, w->next++, 1) == 0) {
		w->created++;
	}
	/* alternately from the start and from the end of the doomed */
	snprintf(id, sizeof(id), "%d",
		 w->deleted % 2 == 0 ? 7 * (w->deleted / 2 + 1)
				     : 7 * (SEEDED / 7 - w->deleted / 2));
	del.user_id = id;
	if (uc_delete_user(w->c, &del, NULL, &res) == UP_OK) {
		w->deleted++;
	}
	uc_result_fini(&res);
}

static void
test_cursor_under_writes(uc_client *c)
{
	writer w = {.next = 100000};
	listing l;
	char *seen = calloc(200000, 1);
	int missing = 0, doubled = 0;

	w.c = client_open();
	CHECK(w.c != NULL && seen != NULL);
	if (w.c == NULL || seen == NULL) {
		free(seen);
		return;
	}
	/* small pages: many calls, with writes between every two */
	CHECK_INT(list_walk(c, NULL, NULL, 7, false, write_some, &w, &l), 0);
	uc_client_close(w.c);
	printf("paged %zu users in %d pages while %d were created and %d "
	       "deleted\n",
	       l.n, l.pages, w.created, w.deleted);
	CHECK(w.created > 300 && w.deleted > 300);
	for (size_t i = 0; i < l.n; i++) {
		if (i > 0) {
			CHECK(l.v[i].id > l.v[i - 1].id);
		}
		if (l.v[i].id > 0 && l.v[i].id < 200000) {
			doubled += seen[l.v[i].id]++ > 0;
		}
	}
	/* every user there throughout (not doomed) exactly once */
	for (int id = 2; id <= SEEDED + 1; id++) {
		if (id % 7 != 0 && !seen[id]) {
			missing++;
		}
	}
	CHECK_INT(doubled, 0);
	CHECK_INT(missing, 0);
	CHECK(seen[1]); /* the admin */
	free(l.v);
	free(seen);
}

/* ------------------------------------------------------------------------
 * Filters against a scan
 */

static bool
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		if (strncasecmp(hay, needle, n) == 0) {
			return true;
		}
	}
	return n == 0;
}

static void
test_filters_equal_scan(uc_client *c, bool pg)
{
	static const char *const needles[] = {
	    "u0",     "LIST.EXAMPLE", "u0012",  "ada@",   "a",
	    "Zo",     "zoe",          "O'NEIL", "smith1", "MITH12",
	    "grace7", "zzz",          "%",      "_",      "e.a",
	    "neil3",  "ith9",         "\"x",    "ar",     "barba0",
	};
	listing all, got;

	CHECK_INT(list_all(c, NULL, NULL, 1000, false, &all), 0);
	/* SQLite keeps the count of users; PostgreSQL counts, up to 1000 */
	if (pg) {
		CHECK_STR(all.kind, "atLeast");
		CHECK_INT(all.total, 1001);
	} else {
		CHECK_STR(all.kind, "maintained");
		CHECK_INT(all.total, (long long)all.n);
	}
	/*
	 * Each needle in each field twice: pages of 500 with the exact
	 * total, and pages of 7 with the total counted to its cap (on
	 * PostgreSQL such a first page is the first of the counted matches:
	 * one search for both).
	 */
	for (size_t t = 0; t < 2 * sizeof(needles) / sizeof(needles[0]); t++) {
		size_t k = t / 2;
		bool exact = t % 2 == 0;

		for (int field = 0; field < 2; field++) {
			size_t want = 0, j = 0;
			bool same = true;

			CHECK_INT(list_all(c, field == 0 ? needles[k] : NULL,
					   field == 1 ? needles[k] : NULL,
					   exact ? 500 : 7, exact, &got),
				  0);
			for (size_t i = 0; i < all.n; i++) {
				const user_row *u = &all.v[i];
				bool hit =
				    field == 0
					? contains_ci(u->email, needles[k])
					: contains_ci(u->first, needles[k]) ||
					      contains_ci(u->last, needles[k]);
				if (!hit) {
					continue;
				}
				want++;
				if (j >= got.n || got.v[j].id != u->id) {
					same = false;
				}
				j++;
			}
			if (!same || want != got.n) {
				fprintf(stderr,
					"%s contains \"%s\": %zu found, a scan "
					"finds %zu\n",
					field == 0 ? "email" : "name",
					needles[k], got.n, want);
			}
			CHECK(same && want == got.n);
			if (exact || want <= 1000) {
				CHECK_INT(got.total, (long long)want);
				CHECK_STR(got.kind, "exact");
			} else {
				CHECK_INT(got.total, 1001);
				CHECK_STR(got.kind, "atLeast");
			}
			free(got.v);
		}
	}
	/* past 1000 matches the count stops, and says so */
	CHECK_INT(list_all(c, "list.example", NULL, 1000, false, &got), 0);
	CHECK_STR(got.kind, "atLeast");
	CHECK_INT(got.total, 1001);
	CHECK(got.n > 1001);
	free(got.v);
	free(all.v);
}

/*
 * SQLite: the users whose search-index entries are pending, read beside
 * the daemon (WAL: a reader does not disturb it); -1 when unreadable.
 */
static int
index_pending(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int n = -1;

	if (sqlite3_open_v2(d.db, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM users_fts_pending", -1,
			       &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_int(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* Polls until the writer has no index entry pending (30 s at most). */
static void
wait_index_complete(void)
{
	struct timespec t;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t);
	for (time_t until = t.tv_sec + 30;
	     (n = index_pending()) != 0 && t.tv_sec < until;
	     clock_gettime(CLOCK_MONOTONIC, &t)) {
		struct timespec tick = {0, 10000000};
		nanosleep(&tick, NULL); /* the poll's period, not a wait */
	}
	CHECK_INT(n, 0);
}

/* Stops usersd (cleanly) and starts it again on the same database. */
static uc_client *
restart(uc_client *c, const char *const *args)
{
	uc_client_close(c);
	CHECK_INT(th_daemon_signal(&d, SIGTERM), 0);
	CHECK_INT(th_daemon_wait(&d, 10000), 0);
	CHECK_INT(th_daemon_restart(&d, args), 0);
	return client_open();
}

/*
 * Writes that leave index entries pending: new users, users renamed (so
 * the index holds names they no longer have: "Zoe" and "Smith" to
 * "Grace" and "Alan"), users deleted (it holds users that are gone).
 */
static void
pending_writes(uc_client *c)
{
	char id[32];
	uc_result res = {0};

	CHECK_INT(seed(c, 300000, 150), 0);
	for (int k = 5; k < 600; k += 8) { /* words[5], words[7]: Smith, Zoe */
		Users__V1__PatchUser pu = USERS__V1__PATCH_USER__INIT;
		if ((k + 2) % 7 == 0) {
			continue; /* perhaps deleted by the cursor's test */
		}
		snprintf(id, sizeof(id), "%d", k + 2); /* seed k is id k+2 */
		pu.user_id = id;
		pu.first_name = k % 16 == 5 ? "Grace" : "Alan";
		pu.last_name = "Renamed";
		CHECK_INT(uc_patch_user(c, &pu, NULL, &res), UP_OK);
		uc_result_fini(&res);
	}
	for (int k = 601; k < 700; k += 9) {
		Users__V1__DeleteUser del = USERS__V1__DELETE_USER__INIT;
		if ((k + 2) % 7 == 0) {
			continue;
		}
		snprintf(id, sizeof(id), "%d", k + 2);
		del.user_id = id;
		CHECK_INT(uc_delete_user(c, &del, NULL, &res), UP_OK);
		uc_result_fini(&res);
	}
}

static void
test_skip_and_bad_cursor(uc_client *c)
{
	Users__V1__ListUsers req = USERS__V1__LIST_USERS__INIT;
	const Users__V1__ListUsersResponse *r;
	listing all;
	uc_result res = {0};

	CHECK_INT(list_all(c, NULL, NULL, 1000, false, &all), 0);
	/* skip alone */
	req.has_skip = req.has_take = true;
	req.skip = 100;
	req.take = 10;
	CHECK_INT(uc_list_users(c, &req, NULL, &res), UP_OK);
	r = (const Users__V1__ListUsersResponse *)res.response;
	CHECK_INT(r->n_results, 10);
	CHECK(r->n_results == 10 && atoll(r->results[0]->id) == all.v[100].id);
	/* skip after a cursor: counted from the cursor */
	req.after = r->next != NULL ? strdup(r->next) : NULL; /* after #109 */
	uc_result_fini(&res);
	req.skip = 5;
	CHECK_INT(uc_list_users(c, &req, NULL, &res), UP_OK);
	r = (const Users__V1__ListUsersResponse *)res.response;
	CHECK(r->n_results == 10 && atoll(r->results[0]->id) == all.v[115].id);
	uc_result_fini(&res);
	free(req.after);
	/* a cursor we did not give */
	req.after = "not-a-cursor";
	CHECK_INT(uc_list_users(c, &req, NULL, &res), UP_INVALID_ARGUMENT);
	CHECK(res.error != NULL && res.error->n_errors == 1 &&
	      strcmp(res.error->errors[0]->error_code, "InvalidCursor") == 0);
	uc_result_fini(&res);
	free(all.v);
}

/*
 * Organizations by cursor: the same list as one page, with names that
 * repeat (the id decides between them) and one created between pages
 * ahead of the cursor.
 */
static void
test_org_cursor(uc_client *c)
{
	Users__V1__ListOrganizations all_req =
	    USERS__V1__LIST_ORGANIZATIONS__INIT;
	const Users__V1__ListOrganizationsResponse *all;
	uc_result all_res = {0};
	char *after = NULL, name[32];
	size_t at = 0;
	int pages = 0;

	for (int i = 0; i < 60; i++) {
		Users__V1__CreateOrganization o =
		    USERS__V1__CREATE_ORGANIZATION__INIT;
		uc_result res = {0};

		snprintf(name, sizeof(name), "Org %02d", i % 25);
		o.name = name;
		CHECK_INT(uc_create_organization(c, &o, NULL, &res), UP_OK);
		uc_result_fini(&res);
	}
	all_req.has_take = true;
	all_req.take = 1000;
	CHECK_INT(uc_list_organizations(c, &all_req, NULL, &all_res), UP_OK);
	all = (const Users__V1__ListOrganizationsResponse *)all_res.response;
	CHECK(all != NULL && all->n_results == 60);
	do {
		Users__V1__ListOrganizations req =
		    USERS__V1__LIST_ORGANIZATIONS__INIT;
		const Users__V1__ListOrganizationsResponse *r;
		uc_result res = {0};

		req.has_take = true;
		req.take = 7;
		req.after = after;
		CHECK_INT(uc_list_organizations(c, &req, NULL, &res), UP_OK);
		r = (const Users__V1__ListOrganizationsResponse *)res.response;
		if (r == NULL) {
			break;
		}
		CHECK_INT(r->total, 60 + pages);
		for (size_t i = 0; i < r->n_results && all != NULL; i++) {
			/* "Org 99" sorts after every other: not yet reached */
			if (strcmp(r->results[i]->name, "Org 99") == 0) {
				continue;
			}
			CHECK(at < all->n_results &&
			      strcmp(r->results[i]->id, all->results[at]->id) ==
				  0);
			at++;
		}
		free(after);
		after = r->next != NULL ? strdup(r->next) : NULL;
		uc_result_fini(&res);
		/* one more, ahead of the cursor */
		{
			Users__V1__CreateOrganization o =
			    USERS__V1__CREATE_ORGANIZATION__INIT;
			o.name = "Org 99";
			CHECK_INT(uc_create_organization(c, &o, NULL, &res),
				  UP_OK);
			uc_result_fini(&res);
		}
		pages++;
	} while (after != NULL && pages < 100);
	CHECK_INT(at, 60);
	free(after);
	uc_result_fini(&all_res);
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/test_listing_pg.XXXXXX";
	char dburl[512] = "", key[128] = "";
	const char *dargs[] = {"--db", dburl, "--key-file", key, NULL};
	bool pg = argc > 1 && strcmp(argv[1], "pg") == 0;
	uc_client *c;
	int rc;

	/* pg: the same on PostgreSQL (the "pg" fixture's cluster) */
	if (pg) {
		if (pg_testdb_new("listing", dburl, sizeof(dburl)) != 0 ||
		    mkdtemp(dir) == NULL) {
			fprintf(stderr, "test_listing: no PostgreSQL database "
					"(the \"pg\" fixture)\n");
			return 1;
		}
		snprintf(key, sizeof(key), "%s/usersd.key", dir);
	}
	if (th_daemon_start(&d, pg ? dargs : NULL) != 0) {
		return 1;
	}
	c = client_open();
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_INT(seed(c, 0, 1000), 0);
		CHECK_INT(seed(c, 1000, 1000), 0);
		CHECK_INT(seed(c, 2000, SEEDED - 2000), 0);
		test_cursor_under_writes(c);
		if (!pg) {
			wait_index_complete();
		}
		test_filters_equal_scan(c, pg);
	}
	if (c != NULL && !pg) {
		/* the same with entries pending, then caught up again */
		static const char *const later[] = {"--index-idle", "3600000",
						    NULL};
		c = restart(c, later);
		CHECK(c != NULL);
		if (c != NULL) {
			pending_writes(c);
			CHECK(index_pending() > 200);
			test_filters_equal_scan(c, pg);
			CHECK(index_pending() > 200);
			c = restart(c, NULL);
			CHECK(c != NULL);
		}
		wait_index_complete();
		if (c != NULL) {
			test_filters_equal_scan(c, pg);
		}
	}
	if (c != NULL) {
		test_skip_and_bad_cursor(c);
		test_org_cursor(c);
		uc_client_close(c);
	}
	if (check_failed > 0) {
		th_daemon_dump_log(&d);
	}
	th_daemon_stop(&d);
	rc = check_done();
	if (pg) {
		unlink(key);
		rmdir(dir);
		pg_testdb_drop(dburl);
	}
	return rc;
}
