/* usersctl's command line: parsing and the request of each command. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ctl_args.h"
#include "ctl_json.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

static int
parse(ctl_args *a, int argc, char *const *argv)
{
	char err[256] = "";
	int rc = ctl_parse(a, argc, argv, err, sizeof(err));

	if (rc != 0 && err[0] == '\0') {
		fprintf(stderr, "error without a message\n");
		return -2;
	}
	return rc;
}

static void
test_globals(void)
{
	char *v[] = {"usersctl",        "--url", "ipc:///a", "--json",
		     "--url=tcp://b:1", "user",  "get",      "7",
		     "--deadline",      "250",   "--user",   "x@y.z"};
	ctl_args a;

	CHECK_INT(parse(&a, ARGC(v), v), 0);
	CHECK_INT(a.n_urls, 2);
	CHECK_STR(a.urls[0], "ipc:///a");
	CHECK_STR(a.urls[1], "tcp://b:1");
	CHECK(a.json);
	CHECK_INT(a.deadline_ms, 250);
	CHECK_STR(a.user, "x@y.z");
	CHECK(a.cmd != NULL && strcmp(a.cmd->method, "GetUser") == 0);
	CHECK_INT(a.n_pos, 1);
	CHECK_STR(a.pos[0], "7");
}

/* Writes text to a temporary file; its path (static). */
static const char *
write_conf(const char *text)
{
	static char path[] = "/tmp/test_client_args.XXXXXX";
	static int fd = -1;
	FILE *f;

	if (fd < 0) {
		fd = mkstemp(path);
	}
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* ctl_context: the per-user file's named contexts, under the flags and
 * the environment. */
static void
test_context(void)
{
	char *plain[] = {"usersctl", "user", "get", "7"};
	char *named[] = {"usersctl", "--context", "prod", "user", "get", "7"};
	char *flag[] = {"usersctl", "--url", "ipc:///flag", "user", "get", "7"};
	char *unknown[] = {"usersctl", "--context", "nope", "user", "get", "7"};
	char *ok[] = {"usersctl", "--context", "ok", "user", "get", "7"};
	char buf[4096], err[256];
	const char *p;
	ctl_args a;

	p = write_conf("# mine\n"
		       "[prod]\n"
		       "url = tls+tcp://a:7300\n"
		       "url = tls+tcp://b:7300\n"
		       "tls-ca = /etc/ca.crt\n"
		       "tls-insecure = false\n"
		       "deadline = 900\n"
		       "\n"
		       "[local]\n"
		       "  url = ipc:///run/usersd/usersd.sock  \n"
		       "user = admin@example.com\n"
		       "output = yaml\n"
		       "current-context = ignored-here\n");
	/* current-context after a section is a key of that section */
	CHECK_INT(parse(&a, ARGC(plain), plain), 0);
	CHECK_INT(ctl_context(&a, p, buf, sizeof(buf), err, sizeof(err)), -1);
	CHECK(strstr(err, ":13: unknown key \"current-context\"") != NULL);

	p = write_conf("current-context = local\n"
		       "[prod]\n"
		       "url = tls+tcp://a:7300\n"
		       "url = tls+tcp://b:7300\n"
		       "tls-ca = /etc/ca.crt\n"
		       "tls-insecure = true\n"
		       "deadline = 900\n"
		       "[local]\n"
		       "  url = ipc:///run/usersd/usersd.sock  \n"
		       "user = admin@example.com\n"
		       "output = yaml\n");
	/* the current context */
	CHECK_INT(parse(&a, ARGC(plain), plain), 0);
	CHECK_INT(ctl_context(&a, p, buf, sizeof(buf), err, sizeof(err)), 0);
	CHECK_STR(a.context, "local");
	CHECK_INT(a.n_urls, 1);
	CHECK_STR(a.urls[0], "ipc:///run/usersd/usersd.sock");
	CHECK_STR(a.user, "admin@example.com");
	CHECK_INT(a.output, CTL_OUT_YAML);
	CHECK(a.tls_ca == NULL);
	/* --context names another; its list, its switch */
	CHECK_INT(parse(&a, ARGC(named), named), 0);
	CHECK_INT(ctl_context(&a, p, buf, sizeof(buf), err, sizeof(err)), 0);
	CHECK_STR(a.context, "prod");
	CHECK_INT(a.n_urls, 2);
	CHECK_STR(a.urls[1], "tls+tcp://b:7300");
	CHECK_STR(a.tls_ca, "/etc/ca.crt");
	CHECK(a.tls_insecure);
	CHECK_INT(a.deadline_ms, 900);
	CHECK(a.user == NULL);
	/* USERSCTL_CONTEXT, under --context */
	setenv("USERSCTL_CONTEXT", "prod", 1);
	CHECK_INT(parse(&a, ARGC(plain), plain), 0);
	CHECK_INT(ctl_context(&a, p, buf, sizeof(buf), err, sizeof(err)), 0);
	CHECK_STR(a.context, "prod");
	unsetenv("USERSCTL_CONTEXT");
	/* flags win, and the environment (ctl_env first) */
	CHECK_INT(parse(&a, ARGC(flag), flag), 0);
	setenv("USERSCTL_USER", "env@example.com", 1);
	CHECK_INT(ctl_env(&a, err, 0, err, sizeof(err)), 0);
	CHECK_INT(ctl_context(&a, p, buf, sizeof(buf), err, sizeof(err)), 0);
	CHECK_INT(a.n_urls, 1);
	CHECK_STR(a.urls[0], "ipc:///flag");
	CHECK_STR(a.user, "env@example.com");
	CHECK_INT(a.output, CTL_OUT_YAML);
	unsetenv("USERSCTL_USER");
	/* an unknown context; a missing file (fine unless one is asked) */
	CHECK_INT(parse(&a, ARGC(unknown), unknown), 0);
	CHECK_INT(ctl_context(&a, p, buf, sizeof(buf), err, sizeof(err)), -1);
	CHECK(strstr(err, "no context [nope]") != NULL);
	CHECK_INT(parse(&a, ARGC(plain), plain), 0);
	CHECK_INT(ctl_context(&a, "/nonexistent/usersctl.conf", buf,
			      sizeof(buf), err, sizeof(err)),
		  0);
	CHECK(a.context == NULL && a.n_urls == 0);
	CHECK_INT(parse(&a, ARGC(named), named), 0);
	CHECK_INT(ctl_context(&a, "/nonexistent/usersctl.conf", buf,
			      sizeof(buf), err, sizeof(err)),
		  -1);
	/* bad lines, by number */
	p = write_conf("[ok]\nurl = ipc:///x\npassword = secret\n");
	CHECK_INT(parse(&a, ARGC(named), named), 0);
	CHECK_INT(ctl_context(&a, p, buf, sizeof(buf), err, sizeof(err)), -1);
	CHECK(strstr(err, ":3: unknown key \"password\"") != NULL);
	p = write_conf("[../up]\n");
	CHECK_INT(parse(&a, ARGC(plain), plain), 0);
	CHECK_INT(ctl_context(&a, p, buf, sizeof(buf), err, sizeof(err)), -1);
	CHECK(strstr(err, ":1: a context's name") != NULL);
	p = write_conf("[ok]\ndeadline = soon\n");
	CHECK_INT(parse(&a, ARGC(ok), ok), 0);
	CHECK_INT(ctl_context(&a, p, buf, sizeof(buf), err, sizeof(err)), -1);
	CHECK(strstr(err, ":2: ") != NULL);
	/* bounded: a file larger than the buffer */
	CHECK_INT(ctl_context(&a, p, buf, 8, err, sizeof(err)), -1);
	unlink(p);
}

/* -o / --output: table, wide, json (as --json), yaml; nothing else. */
static void
test_output(void)
{
	char *yaml[] = {"usersctl", "-o", "yaml", "user", "get", "7"};
	char *wide[] = {"usersctl", "user", "list", "--output=wide"};
	char *json[] = {"usersctl", "--json", "user", "get", "7"};
	char *json_o[] = {"usersctl", "user", "get", "7", "-o", "json"};
	char *bad[] = {"usersctl", "-o", "xml", "user", "get", "7"};
	char *missing[] = {"usersctl", "user", "get", "7", "-o"};
	char *plain[] = {"usersctl", "user", "get", "7"};
	ctl_args a;

	CHECK_INT(parse(&a, ARGC(yaml), yaml), 0);
	CHECK_INT(a.output, CTL_OUT_YAML);
	CHECK(!a.json);
	CHECK_INT(parse(&a, ARGC(wide), wide), 0);
	CHECK_INT(a.output, CTL_OUT_WIDE);
	CHECK_INT(parse(&a, ARGC(json), json), 0);
	CHECK_INT(a.output, CTL_OUT_JSON);
	CHECK_INT(parse(&a, ARGC(json_o), json_o), 0);
	CHECK_INT(a.output, CTL_OUT_JSON);
	CHECK(a.json);
	CHECK_INT(parse(&a, ARGC(plain), plain), 0);
	CHECK_INT(a.output, CTL_OUT_TABLE);
	CHECK_INT(parse(&a, ARGC(bad), bad), -1);
	CHECK_INT(parse(&a, ARGC(missing), missing), -1);
}

/* USERSCTL_URL and USERSCTL_USER fill what the flags left out. */
static void
test_env(void)
{
	char *plain[] = {"usersctl", "user", "get", "7"};
	char *flags[] = {"usersctl",      "--url", "ipc:///flag", "--user",
			 "f@example.com", "user",  "get",         "7"};
	char buf[256], err[256], many[1024] = "";
	ctl_args a;

	setenv("USERSCTL_URL", "ipc:///a, tcp://b:1\ttcp://c:2", 1);
	setenv("USERSCTL_USER", "env@example.com", 1);
	CHECK_INT(parse(&a, ARGC(plain), plain), 0);
	CHECK_INT(ctl_env(&a, buf, sizeof(buf), err, sizeof(err)), 0);
	CHECK_INT(a.n_urls, 3);
	CHECK_STR(a.urls[0], "ipc:///a");
	CHECK_STR(a.urls[1], "tcp://b:1");
	CHECK_STR(a.urls[2], "tcp://c:2");
	CHECK_STR(a.user, "env@example.com");

	/* the flags win, the whole list */
	CHECK_INT(parse(&a, ARGC(flags), flags), 0);
	CHECK_INT(ctl_env(&a, buf, sizeof(buf), err, sizeof(err)), 0);
	CHECK_INT(a.n_urls, 1);
	CHECK_STR(a.urls[0], "ipc:///flag");
	CHECK_STR(a.user, "f@example.com");

	/* bounded: the buffer, and CTL_MAX_URLS */
	CHECK_INT(parse(&a, ARGC(plain), plain), 0);
	CHECK_INT(ctl_env(&a, buf, 8, err, sizeof(err)), -1);
	CHECK(strstr(err, "USERSCTL_URL") != NULL);
	for (int i = 0; i <= CTL_MAX_URLS; i++) {
		strcat(many, "tcp://h:1,");
	}
	setenv("USERSCTL_URL", many, 1);
	CHECK_INT(parse(&a, ARGC(plain), plain), 0);
	CHECK_INT(ctl_env(&a, buf, sizeof(buf), err, sizeof(err)), -1);
	CHECK(strstr(err, "at most") != NULL);
	unsetenv("USERSCTL_URL");
	unsetenv("USERSCTL_USER");
}

static void
test_errors(void)
{
	char *none[] = {"usersctl"};
	char *unknown[] = {"usersctl", "frob"};
	char *unknown_sub[] = {"usersctl", "user", "frob"};
	char *no_sub[] = {"usersctl", "user"};
	char *bad_opt[] = {"usersctl", "--nope", "login"};
	char *wrong_cmd_opt[] = {"usersctl", "user",    "get",
				 "1",        "--roles", "a"};
	char *missing_value[] = {"usersctl", "user", "list", "--email"};
	char *bad_number[] = {"usersctl", "user", "list", "--take", "ten"};
	char *negative[] = {"usersctl", "user", "list", "--skip", "-1"};
	char *too_few[] = {"usersctl", "member", "add", "org"};
	char *too_many[] = {"usersctl", "user", "get", "1", "2"};
	char *flag_value[] = {"usersctl", "--json=yes", "login"};
	char *deadline[] = {"usersctl", "--deadline", "0", "login"};
	ctl_args a;

	CHECK_INT(parse(&a, ARGC(none), none), -1);
	CHECK_INT(parse(&a, ARGC(unknown), unknown), -1);
	CHECK_INT(parse(&a, ARGC(unknown_sub), unknown_sub), -1);
	CHECK_INT(parse(&a, ARGC(no_sub), no_sub), -1);
	CHECK_INT(parse(&a, ARGC(bad_opt), bad_opt), -1);
	CHECK_INT(parse(&a, ARGC(wrong_cmd_opt), wrong_cmd_opt), -1);
	CHECK_INT(parse(&a, ARGC(missing_value), missing_value), -1);
	CHECK_INT(parse(&a, ARGC(bad_number), bad_number), -1);
	CHECK_INT(parse(&a, ARGC(negative), negative), -1);
	CHECK_INT(parse(&a, ARGC(too_few), too_few), -1);
	CHECK_INT(parse(&a, ARGC(too_many), too_many), -1);
	CHECK_INT(parse(&a, ARGC(flag_value), flag_value), -1);
	CHECK_INT(parse(&a, ARGC(deadline), deadline), -1);
}

static void
test_help(void)
{
	char *top[] = {"usersctl", "--help"};
	char *group[] = {"usersctl", "user", "--help"};
	char *cmd[] = {"usersctl", "user", "patch", "-h"};
	ctl_args a;

	CHECK_INT(parse(&a, ARGC(top), top), 0);
	CHECK(a.help && a.cmd == NULL);
	CHECK_INT(parse(&a, ARGC(group), group), 0);
	CHECK(a.help && a.cmd == NULL && strcmp(a.group, "user") == 0);
	CHECK_INT(parse(&a, ARGC(cmd), cmd), 0);
	CHECK(a.help && a.cmd != NULL &&
	      strcmp(a.cmd->method, "PatchUser") == 0);
}

static void
test_split(void)
{
	char *buf;
	char **items;
	size_t n;

	CHECK_INT(
	    ctl_split_list(" Manager , ViewOnly,,Admin ", &buf, &items, &n), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(items[0], "Manager");
		CHECK_STR(items[1], "ViewOnly");
		CHECK_STR(items[2], "Admin");
	}
	free(buf);
	free(items);
	CHECK_INT(ctl_split_list("", &buf, &items, &n), 0);
	CHECK_INT(n, 0);
	free(buf);
	free(items);
}

static void
test_build(void)
{
	char err[256];
	ctl_args a;
	ctl_request r;

	char *create[] = {"usersctl", "user",    "create", "--email",
			  "a@b.c",    "--first", "Ada",    "--last",
			  "Byron",    "--org",   "o1"};
	CHECK_INT(parse(&a, ARGC(create), create), 0);
	CHECK_INT(ctl_build(&a, &r, err, sizeof(err)), 0);
	CHECK(r.msg->descriptor == &users__v1__new_user__descriptor);
	CHECK_STR(r.u.new_user.email_address, "a@b.c");
	CHECK_STR(r.u.new_user.account_id, "o1");
	CHECK(r.password_slot == &r.u.new_user.password);
	ctl_request_fini(&r);

	char *patch[] = {"usersctl", "user", "patch",     "7",
			 "--first",  "Ada",  "--roles",   "Manager,ViewOnly",
			 "--orgs",   "",     "--password"};
	CHECK_INT(parse(&a, ARGC(patch), patch), 0);
	CHECK_INT(ctl_build(&a, &r, err, sizeof(err)), 0);
	CHECK(r.msg->descriptor == &users__v1__patch_user__descriptor);
	CHECK_STR(r.u.patch_user.user_id, "7");
	CHECK(r.u.patch_user.last_name == NULL);
	CHECK(r.u.patch_user.roles != NULL &&
	      r.u.patch_user.roles->n_items == 2);
	/* "" clears: present and empty. */
	CHECK(r.u.patch_user.account_ids != NULL &&
	      r.u.patch_user.account_ids->n_items == 0);
	CHECK(r.password_slot == &r.u.patch_user.new_password);
	ctl_request_fini(&r);

	char *patch_plain[] = {"usersctl", "user", "patch", "7", "--last", "B"};
	CHECK_INT(parse(&a, ARGC(patch_plain), patch_plain), 0);
	CHECK_INT(ctl_build(&a, &r, err, sizeof(err)), 0);
	CHECK(r.u.patch_user.roles == NULL &&
	      r.u.patch_user.account_ids == NULL);
	CHECK(r.password_slot == NULL);
	ctl_request_fini(&r);

	char *list[] = {"usersctl", "user", "list",   "--role", "Manager",
			"--skip",   "5",    "--take", "10"};
	CHECK_INT(parse(&a, ARGC(list), list), 0);
	CHECK_INT(ctl_build(&a, &r, err, sizeof(err)), 0);
	CHECK_STR(r.u.list_users.role, "Manager");
	CHECK(r.u.list_users.has_skip && r.u.list_users.skip == 5);
	CHECK(r.u.list_users.has_take && r.u.list_users.take == 10);
	CHECK(r.u.list_users.email == NULL);
	ctl_request_fini(&r);

	char *update[] = {"usersctl", "user",  "update",  "42",
			  "--first",  "A",     "--last",  "B",
			  "--email",  "a@b.c", "--roles", "Admin"};
	CHECK_INT(parse(&a, ARGC(update), update), 0);
	CHECK_INT(ctl_build(&a, &r, err, sizeof(err)), 0);
	CHECK(r.u.update_business_user.has_user_id &&
	      r.u.update_business_user.user_id == 42);
	CHECK_INT(r.u.update_business_user.n_roles, 1);
	ctl_request_fini(&r);

	char *update_bad[] = {"usersctl", "user", "update", "4x2"};
	CHECK_INT(parse(&a, ARGC(update_bad), update_bad), 0);
	CHECK_INT(ctl_build(&a, &r, err, sizeof(err)), -1);
	ctl_request_fini(&r);

	char *org[] = {"usersctl", "org", "create",   "--name", "N",
		       "--type",   "20",  "--parent", "p"};
	CHECK_INT(parse(&a, ARGC(org), org), 0);
	CHECK_INT(ctl_build(&a, &r, err, sizeof(err)), 0);
	CHECK(r.u.create_organization.has_type &&
	      r.u.create_organization.type == 20);
	CHECK_STR(r.u.create_organization.parent_id, "p");
	ctl_request_fini(&r);

	char *member[] = {"usersctl", "member", "remove", "o", "7"};
	CHECK_INT(parse(&a, ARGC(member), member), 0);
	CHECK_INT(ctl_build(&a, &r, err, sizeof(err)), 0);
	CHECK(r.msg->descriptor ==
	      &users__v1__remove_organization_member__descriptor);
	CHECK_STR(r.u.remove_member.organization_id, "o");
	CHECK_STR(r.u.remove_member.user_id, "7");
	ctl_request_fini(&r);

	/* Every command's request is its method's input type. */
	CHECK_INT(up_meta_load(), 0);
	char *all[][6] = {
	    {"user", "get", "1"}, {"user", "delete", "1"},
	    {"user", "list"},     {"org", "get", "x"},
	    {"org", "list"},      {"member", "add", "o", "u"},
	    {"user", "create"},   {"user", "patch", "1"},
	    {"org", "create"},    {"user", "update", "1"},
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char *v[8] = {"usersctl"};
		int n = 1;
		for (int k = 0; k < 6 && all[i][k] != NULL; k++) {
			v[n++] = all[i][k];
		}
		CHECK_INT(parse(&a, n, v), 0);
		CHECK_INT(ctl_build(&a, &r, err, sizeof(err)), 0);
		const up_method *m = up_method_find(a.cmd->method);
		CHECK(m != NULL && r.msg != NULL &&
		      r.msg->descriptor == m->desc->input);
		ctl_request_fini(&r);
	}
}

int
main(void)
{
	test_globals();
	test_env();
	test_output();
	test_context();
	test_errors();
	test_help();
	test_split();
	test_build();
	return check_done();
}
