/*
 * test_usersctl.c - usersctl end to end against a real usersd: help,
 * login (password from USERSCTL_PASSWORD and --password-file), the token
 * cache, user create/patch/list/update/get/delete, org and member
 * commands, --json output parsed back, failures with their messages;
 * USERSCTL_URL and USERSCTL_USER, and a per-user file's context (its own
 * token file, -o yaml from the context).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "harness.h"

static th_daemon d;
static char ctl[512];
static char token[200];

/*
 * Runs usersctl --url <daemon> --token-file <token> args... with env.
 * Returns the exit status; o holds the output (caller finis it).
 */
static int
run(th_output *o, const char *const *env, const char *token_file,
    const char *const *args)
{
	const char *argv[40];
	size_t n = 0;

	argv[n++] = ctl;
	argv[n++] = "--url";
	argv[n++] = d.url;
	argv[n++] = "--token-file";
	argv[n++] = token_file != NULL ? token_file : token;
	for (size_t i = 0; args[i] != NULL && n + 1 < 40; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	if (th_run(argv, env, NULL, 30000, o) != 0) {
		return -1;
	}
	if (o->status != 0 && o->err_len > 0) {
		fprintf(stderr, "(usersctl %s: exit %d: %s)\n", args[0],
			o->status, o->err);
	}
	return o->status;
}

/* Runs a command that prints --json; the parsed output or NULL. */
static json_t *
run_json(const char *const *env, const char *const *args)
{
	th_output o;
	json_t *j = NULL;
	json_error_t e;

	if (run(&o, env, NULL, args) == 0) {
		j = json_loads(o.out, 0, &e);
		if (j == NULL) {
			fprintf(stderr, "not JSON (%s): %s\n", e.text, o.out);
		}
	}
	th_output_fini(&o);
	return j;
}

static const char *
jstr(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static void
test_help(void)
{
	static const char *const cmds[][3] = {
	    {"--help", NULL, NULL},       {"login", "--help", NULL},
	    {"user", "--help", NULL},     {"user", "create", "--help"},
	    {"user", "get", "--help"},    {"user", "list", "--help"},
	    {"user", "patch", "--help"},  {"user", "update", "--help"},
	    {"user", "delete", "--help"}, {"org", "create", "--help"},
	    {"org", "get", "--help"},     {"org", "list", "--help"},
	    {"member", "add", "--help"},  {"member", "remove", "--help"},
	};
	th_output o;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *args[4] = {cmds[i][0], cmds[i][1], cmds[i][2],
				       NULL};
		CHECK_INT(run(&o, NULL, NULL, args), 0);
		CHECK(strstr(o.out, "usage: usersctl") != NULL);
		th_output_fini(&o);
	}
	/* Usage errors: exit 2 with a message. */
	const char *bad[] = {"user", "frobnicate", NULL};
	CHECK_INT(run(&o, NULL, NULL, bad), 2);
	CHECK(strncmp(o.err, "usersctl: ", 10) == 0);
	th_output_fini(&o);
	const char *bad_opt[] = {"user", "get", "1", "--roles", "x", NULL};
	CHECK_INT(run(&o, NULL, NULL, bad_opt), 2);
	th_output_fini(&o);
	const char *missing[] = {"user", "get", NULL};
	CHECK_INT(run(&o, NULL, NULL, missing), 2);
	th_output_fini(&o);
}

static void
test_login(void)
{
	const char *env[] = {"USERSCTL_PASSWORD=" TH_ADMIN_PASSWORD, NULL};
	const char *wrong_env[] = {"USERSCTL_PASSWORD=wrong-password", NULL};
	const char *login[] = {"--user", TH_ADMIN_EMAIL, "login", NULL};
	char other[200], pwfile[200];
	struct stat st;
	th_output o;
	FILE *f;

	/* Wrong password: non-zero, the daemon's message, no token. */
	snprintf(other, sizeof(other), "%s/other/token", d.dir);
	CHECK(run(&o, wrong_env, other, login) == 1);
	CHECK(strncmp(o.err, "usersctl: ", 10) == 0);
	CHECK(strlen(o.err) > 12);
	CHECK(stat(other, &st) != 0);
	th_output_fini(&o);

	/* No password at all (stdin is not a terminal): a usage error. */
	CHECK_INT(run(&o, NULL, other, login), 2);
	th_output_fini(&o);

	CHECK_INT(run(&o, env, NULL, login), 0);
	CHECK(strstr(o.out, TH_ADMIN_EMAIL) != NULL);
	CHECK(strstr(o.out, "bearerToken") == NULL); /* not printed */
	th_output_fini(&o);
	/* Nor in JSON, which is the wire's: one line. */
	const char *login_json[] = {"--json", "--user", TH_ADMIN_EMAIL, "login",
				    NULL};
	CHECK_INT(run(&o, env, NULL, login_json), 0);
	CHECK(strncmp(o.out, "{\"userId\":\"1\",", 13) == 0);
	CHECK(strchr(o.out, '\n') == o.out + strlen(o.out) - 1);
	CHECK(strstr(o.out, "bearerToken") == NULL);
	CHECK(strstr(o.out, "refreshToken") == NULL);
	th_output_fini(&o);
	CHECK(stat(token, &st) == 0 && (st.st_mode & 0777) == 0600);

	/* --password-file, into a token file in new directories (0700). */
	snprintf(pwfile, sizeof(pwfile), "%s/pw", d.dir);
	f = fopen(pwfile, "w");
	if (f != NULL) {
		fputs(TH_ADMIN_PASSWORD "\n", f);
		fclose(f);
	}
	const char *login_file[] = {"--user", TH_ADMIN_EMAIL, "--password-file",
				    pwfile,   "login",        NULL};
	snprintf(other, sizeof(other), "%s/a/b/token", d.dir);
	CHECK_INT(run(&o, NULL, other, login_file), 0);
	th_output_fini(&o);
	CHECK(stat(other, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(other, sizeof(other), "%s/a/b", d.dir);
	CHECK(stat(other, &st) == 0 && (st.st_mode & 0777) == 0700);

	/* No token yet, but --user and a password: logs in by itself. */
	const char *get[] = {"--user", TH_ADMIN_EMAIL, "user", "get", "1",
			     NULL};
	snprintf(other, sizeof(other), "%s/fresh/token", d.dir);
	CHECK_INT(run(&o, env, other, get), 0);
	CHECK(strstr(o.out, "emailAddress: " TH_ADMIN_EMAIL) != NULL);
	th_output_fini(&o);
	CHECK(stat(other, &st) == 0);

	/* A stale token with --user and a password: logs in again. */
	f = fopen(other, "w");
	if (f != NULL) {
		fputs("stale-token\n", f);
		fclose(f);
	}
	CHECK_INT(run(&o, env, other, get), 0);
	th_output_fini(&o);
	/* Without a way to log in: the daemon's refusal. */
	f = fopen(other, "w");
	if (f != NULL) {
		fputs("stale-token\n", f);
		fclose(f);
	}
	const char *get_anon[] = {"user", "get", "1", NULL};
	CHECK_INT(run(&o, NULL, other, get_anon), 1);
	CHECK(strncmp(o.err, "usersctl: ", 10) == 0);
	th_output_fini(&o);
}

static void
test_users(void)
{
	const char *newpw[] = {"USERSCTL_NEW_PASSWORD=ada-password-1", NULL};
	th_output o;
	json_t *j;
	char id[32] = "", org[80] = "";

	/* No password for the new user: refused locally. */
	const char *create[] = {
	    "--json",  "user", "create", "--email", "ada@example.com",
	    "--first", "Ada",  "--last", "Byron",   NULL};
	CHECK_INT(run(&o, NULL, NULL, create), 2);
	th_output_fini(&o);

	j = run_json(newpw, create);
	CHECK(j != NULL);
	if (j != NULL) {
		CHECK_STR(jstr(j, "emailAddress"), "ada@example.com");
		CHECK_STR(jstr(j, "firstName"), "Ada");
		if (jstr(j, "id") != NULL) {
			snprintf(id, sizeof(id), "%s", jstr(j, "id"));
		}
		json_decref(j);
	}
	CHECK(id[0] != '\0');

	/* Field errors from the daemon on stderr. */
	const char *bad_create[] = {"user", "create", "--email", "not-an-email",
				    NULL};
	CHECK_INT(run(&o, newpw, NULL, bad_create), 1);
	CHECK(strncmp(o.err, "usersctl: ", 10) == 0);
	th_output_fini(&o);

	const char *org_create[] = {"--json", "org",    "create", "--name",
				    "Acme",   "--type", "20",     NULL};
	j = run_json(NULL, org_create);
	CHECK(j != NULL);
	if (j != NULL) {
		CHECK_STR(jstr(j, "name"), "Acme");
		/* OrganizationType is written as a number. */
		CHECK_INT(json_integer_value(json_object_get(j, "type")), 20);
		if (jstr(j, "id") != NULL) {
			snprintf(org, sizeof(org), "%s", jstr(j, "id"));
		}
		json_decref(j);
	}

	const char *patch[] = {
	    "--json",  "user",    "patch",   id,
	    "--first", "Augusta", "--roles", "Manager, ViewOnly",
	    "--orgs",  org,       NULL};
	j = run_json(NULL, patch);
	CHECK(j != NULL);
	if (j != NULL) {
		json_t *roles = json_object_get(j, "roles");
		CHECK_STR(jstr(j, "firstName"), "Augusta");
		CHECK_INT(json_array_size(roles), 2);
		CHECK_STR(json_string_value(json_array_get(roles, 0)),
			  "Manager");
		CHECK_STR(json_string_value(json_array_get(roles, 1)),
			  "ViewOnly");
		CHECK_STR(json_string_value(json_array_get(
			      json_object_get(j, "accountIds"), 0)),
			  org);
		json_decref(j);
	}

	/* --json is what GET /users/{id}.json answers: compact, one line,
	 * every list written ([] when empty). */
	const char *get_json[] = {"--json", "user", "get", id, NULL};
	CHECK_INT(run(&o, NULL, NULL, get_json), 0);
	{
		char head[64];
		snprintf(head, sizeof(head), "{\"id\":\"%s\",", id);
		CHECK(strncmp(o.out, head, strlen(head)) == 0);
	}
	CHECK(strchr(o.out, '\n') == o.out + strlen(o.out) - 1);
	CHECK(strstr(o.out, "\"dashboardPermissions\":[]}") != NULL);
	th_output_fini(&o);

	/* The new user's password via --password. */
	const char *newpw2[] = {"USERSCTL_NEW_PASSWORD=augusta-password-2",
				NULL};
	const char *patch_pw[] = {"user", "patch", id, "--password", NULL};
	CHECK_INT(run(&o, newpw2, NULL, patch_pw), 0);
	th_output_fini(&o);
	const char *as_ada[] = {"USERSCTL_PASSWORD=augusta-password-2", NULL};
	char ada_token[200];
	snprintf(ada_token, sizeof(ada_token), "%s/ada-token", d.dir);
	const char *login_ada[] = {"--user", "ada@example.com", "login", NULL};
	CHECK_INT(run(&o, as_ada, ada_token, login_ada), 0);
	th_output_fini(&o);

	const char *list[] = {"--json",  "user", "list",
			      "--email", "ada@", NULL};
	j = run_json(NULL, list);
	CHECK(j != NULL);
	if (j != NULL) {
		json_t *r = json_array_get(json_object_get(j, "results"), 0);
		CHECK_INT(json_integer_value(json_object_get(j, "total")), 1);
		CHECK_INT(json_array_size(json_object_get(j, "results")), 1);
		CHECK_STR(jstr(r, "emailAddress"), "ada@example.com");
		CHECK_STR(jstr(r, "firstName"), "Augusta");
		CHECK_STR(jstr(r, "id"), id);
		json_decref(j);
	}
	/* The table form. */
	const char *list_text[] = {"user", "list", "--take", "10", NULL};
	CHECK_INT(run(&o, NULL, NULL, list_text), 0);
	CHECK(strstr(o.out, "emailAddress") != NULL);
	CHECK(strstr(o.out, "ada@example.com") != NULL);
	th_output_fini(&o);

	const char *update[] = {
	    "--json",  "user",    "update",   id,          "--first",
	    "Ada",     "--last",  "Lovelace", "--email",   "ada@example.com",
	    "--roles", "Manager", "--phone",  "+15551234", NULL};
	j = run_json(NULL, update);
	CHECK(j != NULL);
	if (j != NULL) {
		json_t *data = json_object_get(j, "data");
		CHECK_STR(jstr(data, "lastName"), "Lovelace");
		CHECK_STR(jstr(data, "phoneNumber"), "+15551234");
		/* int64 id as a number, activationStatus as a number. */
		CHECK_INT(json_integer_value(json_object_get(data, "id")),
			  atoll(id));
		CHECK(
		    json_is_integer(json_object_get(data, "activationStatus")));
		json_decref(j);
	}

	const char *org_list[] = {"--json", "org", "list", NULL};
	j = run_json(NULL, org_list);
	CHECK(j != NULL);
	if (j != NULL) {
		CHECK(json_integer_value(json_object_get(j, "total")) >= 1);
		json_decref(j);
	}
	const char *org_get[] = {"org", "get", org, NULL};
	CHECK_INT(run(&o, NULL, NULL, org_get), 0);
	CHECK(strstr(o.out, "name: Acme") != NULL);
	th_output_fini(&o);

	const char *mrem[] = {"member", "remove", org, id, NULL};
	CHECK_INT(run(&o, NULL, NULL, mrem), 0);
	th_output_fini(&o);
	const char *madd[] = {"--json", "member", "add", org, id, NULL};
	j = run_json(NULL, madd);
	CHECK(j != NULL);
	if (j != NULL) {
		CHECK_STR(jstr(j, "userId"), id);
		json_decref(j);
	}

	const char *del[] = {"user", "delete", id, NULL};
	CHECK_INT(run(&o, NULL, NULL, del), 0);
	th_output_fini(&o);
	const char *get[] = {"user", "get", id, NULL};
	CHECK_INT(run(&o, NULL, NULL, get), 1);
	CHECK(strncmp(o.err, "usersctl: ", 10) == 0);
	th_output_fini(&o);
}

static void
test_no_daemon(void)
{
	const char *argv[] = {ctl,
			      "--url",
			      "ipc:///tmp/usersd-none.sock",
			      "--token-file",
			      token,
			      "--deadline",
			      "2000",
			      "user",
			      "get",
			      "1",
			      NULL};
	th_output o;
	long long t0 = th_now_ms();

	CHECK_INT(th_run(argv, NULL, NULL, 30000, &o), 0);
	CHECK_INT(o.status, 1);
	CHECK(strncmp(o.err, "usersctl: ", 10) == 0);
	CHECK(th_now_ms() - t0 < 2000 + 1000);
	th_output_fini(&o);
}

/* No --url, --user or --token-file: the environment, then a context. */
static void
test_env_and_context(void)
{
	char cfg[300], rundir[300], env_cfg[320], env_run[320], env_url[300];
	char tok[400], text[600];
	const char *get[] = {ctl, "user", "get", TH_ADMIN_ID, NULL};
	const char *other[] = {ctl,   "--context", "other", "user",
			       "get", TH_ADMIN_ID, NULL};
	struct stat st;
	th_output o;
	FILE *f;

	snprintf(cfg, sizeof(cfg), "%s/usersctl.conf", d.dir);
	snprintf(rundir, sizeof(rundir), "%s/run", d.dir);
	snprintf(env_cfg, sizeof(env_cfg), "USERSCTL_CONFIG=%s", cfg);
	snprintf(env_run, sizeof(env_run), "XDG_RUNTIME_DIR=%s", rundir);
	snprintf(env_url, sizeof(env_url), "USERSCTL_URL=%s", d.url);
	mkdir(rundir, 0700);

	/* the environment alone */
	const char *env1[] = {env_cfg,
			      env_run,
			      env_url,
			      "USERSCTL_USER=" TH_ADMIN_EMAIL,
			      "USERSCTL_PASSWORD=" TH_ADMIN_PASSWORD,
			      NULL};
	CHECK_INT(th_run(get, env1, NULL, 30000, &o), 0);
	CHECK(o.out != NULL && strstr(o.out, "emailAddress: " TH_ADMIN_EMAIL));
	th_output_fini(&o);

	/* a context: its URL, user and output; a token file of its own */
	snprintf(text, sizeof(text),
		 "current-context = here\n[here]\nurl = %s\nuser = %s\n"
		 "output = yaml\n",
		 d.url, TH_ADMIN_EMAIL);
	f = fopen(cfg, "w");
	CHECK(f != NULL);
	if (f == NULL) {
		return;
	}
	fputs(text, f);
	fclose(f);
	const char *env2[] = {env_cfg, env_run,
			      "USERSCTL_PASSWORD=" TH_ADMIN_PASSWORD, NULL};
	CHECK_INT(th_run(get, env2, NULL, 30000, &o), 0);
	CHECK(o.out != NULL &&
	      strstr(o.out, "\"emailAddress\": \"" TH_ADMIN_EMAIL "\"\n"));
	th_output_fini(&o);
	snprintf(tok, sizeof(tok), "%s/usersd/token-here", rundir);
	CHECK(stat(tok, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* an unknown one: refused, with the file named */
	CHECK_INT(th_run(other, env2, NULL, 30000, &o), 0);
	CHECK_INT(o.status, 2);
	CHECK(o.err != NULL && strstr(o.err, "no context [other]") != NULL);
	th_output_fini(&o);
}

int
main(void)
{
	if (th_bin("usersctl", ctl, sizeof(ctl)) != 0 ||
	    th_daemon_start(&d, NULL) != 0) {
		fprintf(stderr, "cannot start usersd\n");
		return 1;
	}
	snprintf(token, sizeof(token), "%s/token", d.dir);
	test_help();
	test_login();
	test_users();
	test_no_daemon();
	test_env_and_context();
	if (check_failed > 0) {
		th_daemon_dump_log(&d);
	}
	CHECK_INT(th_daemon_stop(&d), 0);
	return check_done();
}
