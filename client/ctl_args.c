/*
 * ctl_args.c - usersctl's commands, options and request building.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_args.h"
#include "ctl_json.h"
#include "users_flags.h"

enum opt_id {
	/* global */
	O_URL,
	O_USER,
	O_JSON,
	O_TOKEN_FILE,
	O_PASSWORD_FILE,
	O_NEW_PASSWORD_FILE,
	O_DEADLINE,
	O_TLS_CA,
	O_TLS_CERT,
	O_TLS_KEY,
	O_TLS_SERVER_NAME,
	O_TLS_INSECURE,
	O_HELP,
	O_VERSION,
	O_OUTPUT,
	O_CONTEXT,
	/* command options */
	O_EMAIL,
	O_FIRST,
	O_LAST,
	O_ORG,
	O_ORGS,
	O_ROLES,
	O_NAME,
	O_ROLE,
	O_PHONE,
	O_VIVIOT_ID,
	O_TYPE,
	O_PARENT,
	O_SKIP,
	O_TAKE,
	O_PASSWORD,
	O_FORMAT,
	O_HASHES,
	O_RESUME_FROM,
	O_AFTER,
	O_COUNT
};

#define BIT(o) (UINT64_C(1) << (o))

typedef struct opt_def {
	const char *name;
	enum opt_id id;
	bool value; /* takes an argument */
	bool global;
	const char *arg;
	const char *help;
} opt_def;

static const opt_def opt_defs[] = {
    {"url", O_URL, true, true, "URL",
     "daemon to talk to (repeatable; default ipc://./var/usersd.sock)"},
    {"user", O_USER, true, true, "EMAIL", "log in as EMAIL when needed"},
    {"json", O_JSON, false, true, NULL, "print the answer as JSON"},
    {"token-file", O_TOKEN_FILE, true, true, "F",
     "bearer token cache (default $XDG_RUNTIME_DIR/usersd/token or "
     "~/.config/usersd/token)"},
    {"password-file", O_PASSWORD_FILE, true, true, "F",
     "login password from the first line of F"},
    {"new-password-file", O_NEW_PASSWORD_FILE, true, true, "F",
     "a new user's password from the first line of F"},
    {"deadline", O_DEADLINE, true, true, "MS",
     "how long to wait for the daemon (default 5000)"},
    {"tls-ca", O_TLS_CA, true, true, "F", "CA file for tls+tcp:// URLs"},
    {"tls-cert", O_TLS_CERT, true, true, "F", "client certificate"},
    {"tls-key", O_TLS_KEY, true, true, "F", "client key"},
    {"tls-server-name", O_TLS_SERVER_NAME, true, true, "NAME",
     "name the server certificate must carry (default: the URL host)"},
    {"tls-insecure", O_TLS_INSECURE, false, true, NULL,
     "tls+tcp:// without checking the daemon's certificate (tests only; "
     "else --tls-ca)"},
    {"help", O_HELP, false, true, NULL, "this help"},
    {"version", O_VERSION, false, true, NULL, "print the version and exit"},
    {"context", O_CONTEXT, true, true, "NAME",
     "the settings of context NAME of the configuration file (default "
     "USERSCTL_CONTEXT, else its current-context)"},
    {"output", O_OUTPUT, true, true, "FORMAT",
     "-o: table (default), wide (cells never cut), json (as --json) or "
     "yaml"},
    {"email", O_EMAIL, true, false, "EMAIL", "email address"},
    {"first", O_FIRST, true, false, "NAME", "first name"},
    {"last", O_LAST, true, false, "NAME", "last name"},
    {"org", O_ORG, true, false, "ID", "organization (account) id"},
    {"orgs", O_ORGS, true, false, "ID,ID",
     "the organizations (accounts) of the user; \"\" clears"},
    {"roles", O_ROLES, true, false, "R,R", "roles; \"\" clears"},
    {"name", O_NAME, true, false, "TEXT", "name"},
    {"role", O_ROLE, true, false, "ROLE", "only users holding ROLE"},
    {"phone", O_PHONE, true, false, "PHONE", "phone number"},
    {"viviot-id", O_VIVIOT_ID, true, false, "ID", "Viviot user id"},
    {"type", O_TYPE, true, false, "0|10|20|30",
     "Unknown 0, Admin 10, Tenant 20, Location 30"},
    {"parent", O_PARENT, true, false, "ID", "parent organization"},
    {"skip", O_SKIP, true, false, "N", "skip N results"},
    {"take", O_TAKE, true, false, "N", "return at most N results"},
    {"password", O_PASSWORD, false, false, NULL,
     "set a new password (prompt, USERSCTL_NEW_PASSWORD or "
     "--new-password-file)"},
    {"format", O_FORMAT, true, false, "csv|jsonl",
     "the file's format (import: by the name's .csv/.jsonl/.ndjson, else "
     "by its first character; export: jsonl)"},
    {"password-hashes", O_HASHES, false, false, NULL,
     "include each user's stored password hash (Admin only)"},
    {"resume-from", O_RESUME_FROM, true, false, "ROW",
     "start at row ROW (an interrupted import prints it)"},
    {"after", O_AFTER, true, false, "CURSOR",
     "the page after CURSOR (a previous answer's next)"},
};

#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

static const ctl_command commands[] = {
    {"login", NULL, "Authenticate", 0, 0, "login",
     "Log in as --user and cache the bearer token. The password comes "
     "from --password-file, USERSCTL_PASSWORD or a prompt."},
    {"user", "create", "NewUser",
     BIT(O_EMAIL) | BIT(O_FIRST) | BIT(O_LAST) | BIT(O_ORG), 0,
     "user create --email EMAIL --first NAME --last NAME [--org ID]",
     "Create a login. Its password comes from --new-password-file, "
     "USERSCTL_NEW_PASSWORD or a prompt."},
    {"user", "get", "GetUser", 0, 1, "user get ID", "Show a login."},
    {"user", "list", "ListUsers",
     BIT(O_EMAIL) | BIT(O_NAME) | BIT(O_ORG) | BIT(O_ROLE) | BIT(O_SKIP) |
	 BIT(O_TAKE) | BIT(O_AFTER),
     0,
     "user list [--email TEXT] [--name TEXT] [--org ID] [--role R] "
     "[--skip N] [--take N] [--after CURSOR]",
     "List the logins you manage."},
    {"user", "patch", "PatchUser",
     BIT(O_FIRST) | BIT(O_LAST) | BIT(O_ROLES) | BIT(O_ORGS) | BIT(O_PASSWORD),
     1,
     "user patch ID [--first NAME] [--last NAME] [--roles R,R] "
     "[--orgs ID,ID] [--password]",
     "Change a login; what is not given stays as it is."},
    {"user", "update", "UpdateBusinessUser",
     BIT(O_FIRST) | BIT(O_LAST) | BIT(O_EMAIL) | BIT(O_ROLES) | BIT(O_PHONE) |
	 BIT(O_VIVIOT_ID),
     1,
     "user update ID --first NAME --last NAME --email EMAIL --roles R,R "
     "[--phone P] [--viviot-id ID]",
     "Replace a business user's profile (UpdateBusinessUser)."},
    {"user", "delete", "DeleteUser", 0, 1, "user delete ID", "Delete a login."},
    {"org", "create", "CreateOrganization",
     BIT(O_NAME) | BIT(O_TYPE) | BIT(O_PARENT), 0,
     "org create --name NAME [--type 0|10|20|30] [--parent ID]",
     "Create an organization."},
    {"org", "get", "GetOrganization", 0, 1, "org get ID",
     "Show an organization."},
    {"org", "list", "ListOrganizations",
     BIT(O_PARENT) | BIT(O_SKIP) | BIT(O_TAKE), 0,
     "org list [--parent ID] [--skip N] [--take N]",
     "List the organizations you can see."},
    {"member", "add", "AddOrganizationMember", 0, 2, "member add ORG USER",
     "Make user USER a member of organization ORG."},
    {"member", "remove", "RemoveOrganizationMember", 0, 2,
     "member remove ORG USER", "Remove user USER from organization ORG."},
    {"import", NULL, "ImportUsers",
     BIT(O_FORMAT) | BIT(O_TAKE) | BIT(O_RESUME_FROM), 1,
     "import FILE|- [--format csv|jsonl] [--take ROWS] [--resume-from ROW]",
     "Create users from a CSV file with a header or JSON lines (- reads "
     "standard input), ROWS a call (default 1000), each call one "
     "transaction. Columns or keys: emailAddress, firstName, lastName, "
     "phoneNumber, roles, accountIds, passwordHash (a hash of a scheme "
     "usersd reads; none: the user is disabled until a password is set). "
     "A user that exists with the same data is left alone, so a second "
     "run creates nothing; refused rows are listed with their numbers. "
     "Ctrl-C stops after the call in flight and prints the row to resume "
     "from."},
    {"export", NULL, "ExportUsers", BIT(O_FORMAT) | BIT(O_HASHES) | BIT(O_TAKE),
     0, "export [--format jsonl|csv] [--password-hashes] [--take N]",
     "Write every user to standard output, in the columns import reads, "
     "N a page (default 500); password hashes only with "
     "--password-hashes, and only for Admin."},
    {"policy", NULL, NULL, 0, 0, "policy",
     "Print who may do what: the policy usersd applies, from the "
     "contract this program was built with, as a Markdown table. Needs no "
     "daemon."},
    {"completion", NULL, NULL, 0, 1, "completion bash",
     "Print a bash completion script for usersctl, made from its own "
     "command table: source <(usersctl completion bash), or save it as "
     "/etc/bash_completion.d/usersctl. Needs no daemon."},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool
is_group(const char *g)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].group, g) == 0) {
			return true;
		}
	}
	return false;
}

static bool
group_has_subs(const char *g)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].group, g) == 0) {
			return commands[i].name != NULL;
		}
	}
	return false;
}

static const ctl_command *
find_command(const char *group, const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const ctl_command *c = &commands[i];
		if (strcmp(c->group, group) != 0) {
			continue;
		}
		if (c->name == NULL ||
		    (name != NULL && strcmp(c->name, name) == 0)) {
			return c;
		}
	}
	return NULL;
}

static const opt_def *
find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		if (strlen(opt_defs[i].name) == len &&
		    strncmp(opt_defs[i].name, name, len) == 0) {
			return &opt_defs[i];
		}
	}
	return NULL;
}

static int
parse_i32(const char *s, int32_t min, int32_t max, int32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		return -1;
	}
	*out = (int32_t)v;
	return 0;
}

static int
set_opt(ctl_args *a, const opt_def *o, const char *v, char *err, size_t errlen)
{
	int32_t n;

	if (o->global) {
		a->given |= BIT(o->id);
	}
	switch (o->id) {
	case O_URL:
		if (a->n_urls == CTL_MAX_URLS) {
			set_err(err, errlen, "at most %d --url", CTL_MAX_URLS);
			return -1;
		}
		a->urls[a->n_urls++] = v;
		break;
	case O_USER:
		a->user = v;
		break;
	case O_JSON:
		a->output = CTL_OUT_JSON;
		a->json = true;
		break;
	case O_TOKEN_FILE:
		a->token_file = v;
		break;
	case O_PASSWORD_FILE:
		a->password_file = v;
		break;
	case O_NEW_PASSWORD_FILE:
		a->new_password_file = v;
		break;
	case O_DEADLINE:
		if (parse_i32(v, 1, 3600000, &n) != 0) {
			set_err(err, errlen,
				"--deadline: not a number of ms: %s", v);
			return -1;
		}
		a->deadline_ms = (uint32_t)n;
		break;
	case O_TLS_CA:
		a->tls_ca = v;
		break;
	case O_TLS_CERT:
		a->tls_cert = v;
		break;
	case O_TLS_KEY:
		a->tls_key = v;
		break;
	case O_TLS_SERVER_NAME:
		a->tls_server_name = v;
		break;
	case O_TLS_INSECURE:
		a->tls_insecure = true;
		break;
	case O_HELP:
		a->help = true;
		break;
	case O_VERSION:
		a->version = true;
		break;
	case O_CONTEXT:
		a->context = v;
		break;
	case O_OUTPUT: {
		static const char *const names[] = {"table", "json", "yaml",
						    "wide"};
		int k = 0;

		while (k < 4 && strcmp(v, names[k]) != 0) {
			k++;
		}
		if (k == 4) {
			set_err(err, errlen,
				"--output: table, wide, json or yaml, not %s",
				v);
			return -1;
		}
		a->output = k; /* the CTL_OUT_* order */
		a->json = k == CTL_OUT_JSON;
		break;
	}
	case O_EMAIL:
		a->email = v;
		break;
	case O_FIRST:
		a->first = v;
		break;
	case O_LAST:
		a->last = v;
		break;
	case O_ORG:
		a->org = v;
		break;
	case O_ORGS:
		a->orgs = v;
		break;
	case O_ROLES:
		a->roles = v;
		break;
	case O_NAME:
		a->name = v;
		break;
	case O_ROLE:
		a->role = v;
		break;
	case O_PHONE:
		a->phone = v;
		break;
	case O_VIVIOT_ID:
		a->viviot_id = v;
		break;
	case O_PARENT:
		a->parent = v;
		break;
	case O_TYPE:
		if (parse_i32(v, 0, INT32_MAX, &a->type) != 0) {
			set_err(err, errlen, "--type: not a number: %s", v);
			return -1;
		}
		a->has_type = true;
		break;
	case O_SKIP:
	case O_TAKE:
		if (parse_i32(v, 0, INT32_MAX, &n) != 0) {
			set_err(err, errlen, "--%s: not a count: %s", o->name,
				v);
			return -1;
		}
		if (o->id == O_SKIP) {
			a->skip = n;
			a->has_skip = true;
		} else {
			a->take = n;
			a->has_take = true;
		}
		break;
	case O_PASSWORD:
		a->new_password = true;
		break;
	case O_FORMAT:
		if (strcmp(v, "csv") != 0 && strcmp(v, "jsonl") != 0) {
			set_err(err, errlen, "--format: csv or jsonl, not %s",
				v);
			return -1;
		}
		a->format = v;
		break;
	case O_HASHES:
		a->password_hashes = true;
		break;
	case O_RESUME_FROM:
		if (parse_i32(v, 1, INT32_MAX, &n) != 0) {
			set_err(err, errlen, "--resume-from: not a row: %s", v);
			return -1;
		}
		a->resume_from = n;
		break;
	case O_AFTER:
		a->after = v;
		break;
	case O_COUNT:
		break;
	}
	return 0;
}

int
ctl_parse(ctl_args *a, int argc, char *const *argv, char *err, size_t errlen)
{
	const char *sub = NULL;
	uint64_t seen = 0;
	const char *first_bad = NULL;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *v = NULL;
		const opt_def *o;
		size_t len;

		if (strcmp(arg, "-h") == 0) {
			a->help = true;
			continue;
		}
		if (strcmp(arg, "-o") == 0) { /* --output's short name */
			if (i + 1 >= argc) {
				set_err(err, errlen, "-o needs a value");
				return -1;
			}
			if (set_opt(a, find_opt("output", 6), argv[++i], err,
				    errlen) != 0) {
				return -1;
			}
			continue;
		}
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			if (a->group == NULL) {
				a->group = arg;
			} else if (sub == NULL && group_has_subs(a->group)) {
				sub = arg;
			} else if (a->n_pos < CTL_MAX_POS) {
				a->pos[a->n_pos++] = arg;
			} else {
				set_err(err, errlen, "too many arguments: %s",
					arg);
				return -1;
			}
			continue;
		}
		arg += 2;
		len = strcspn(arg, "=");
		o = find_opt(arg, len);
		if (o == NULL) {
			set_err(err, errlen, "unknown option --%.*s", (int)len,
				arg);
			return -1;
		}
		if (arg[len] == '=') {
			if (!o->value) {
				set_err(err, errlen, "--%s takes no value",
					o->name);
				return -1;
			}
			v = arg + len + 1;
		} else if (o->value) {
			if (i + 1 >= argc) {
				set_err(err, errlen, "--%s needs a value",
					o->name);
				return -1;
			}
			v = argv[++i];
		}
		if (!o->global) {
			seen |= BIT(o->id);
		}
		if (set_opt(a, o, v, err, errlen) != 0) {
			return -1;
		}
	}

	if (a->group == NULL) {
		if (a->help || a->version) {
			return 0;
		}
		set_err(err, errlen, "no command (try --help)");
		return -1;
	}
	if (!is_group(a->group)) {
		set_err(err, errlen, "unknown command: %s", a->group);
		return -1;
	}
	a->cmd = find_command(a->group, sub);
	if (a->cmd == NULL) {
		if (a->help && sub == NULL) {
			return 0; /* help for the group */
		}
		if (sub == NULL) {
			set_err(err, errlen,
				"%s: which command? (try %s --help)", a->group,
				a->group);
		} else {
			set_err(err, errlen, "unknown command: %s %s", a->group,
				sub);
		}
		return -1;
	}
	if (a->help) {
		return 0;
	}
	if ((seen & ~a->cmd->opts) != 0) {
		for (size_t i = 0; i < N_OPTS; i++) {
			if ((seen & ~a->cmd->opts) & BIT(opt_defs[i].id)) {
				first_bad = opt_defs[i].name;
				break;
			}
		}
		set_err(err, errlen, "--%s does not apply to %s%s%s", first_bad,
			a->cmd->group, a->cmd->name ? " " : "",
			a->cmd->name ? a->cmd->name : "");
		return -1;
	}
	if (a->n_pos != a->cmd->n_pos) {
		set_err(err, errlen, "usage: usersctl %s", a->cmd->synopsis);
		return -1;
	}
	return 0;
}

static void
usage_opts(FILE *out, bool global, uint64_t mask)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const opt_def *o = &opt_defs[i];
		char left[64];

		if (o->global != global || (!global && !(mask & BIT(o->id)))) {
			continue;
		}
		snprintf(left, sizeof(left), "--%s%s%s", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
}

void
ctl_usage(FILE *out, const ctl_args *a)
{
	const ctl_command *c = a != NULL ? a->cmd : NULL;

	if (c != NULL) {
		fprintf(out, "usage: usersctl [global options] %s\n\n%s\n",
			c->synopsis, c->help);
		if (c->opts != 0) {
			fprintf(out, "\noptions:\n");
			usage_opts(out, false, c->opts);
		}
		fprintf(out, "\nglobal options:\n");
		usage_opts(out, true, 0);
		return;
	}
	fprintf(out, "usage: usersctl [global options] COMMAND [ARGS]\n\n"
		     "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (a != NULL && a->group != NULL &&
		    strcmp(a->group, commands[i].group) != 0) {
			continue;
		}
		fprintf(out, "  %s\n", commands[i].synopsis);
	}
	fprintf(out, "\nglobal options:\n");
	usage_opts(out, true, 0);
	fprintf(out, "\nSecrets never go on the command line: the login "
		     "password comes from\n--password-file, "
		     "USERSCTL_PASSWORD or a prompt; a new user's password "
		     "from\n--new-password-file, USERSCTL_NEW_PASSWORD or a "
		     "prompt.\n"
		     "USERSCTL_URL (URLs separated by commas) and "
		     "USERSCTL_USER stand for --url and\n--user when they "
		     "are not given.\n"
		     "Exit status: 0 on success, 1 when the daemon refuses, "
		     "2 for usage errors.\n");
}

int
ctl_split_list(const char *s, char **buf, char ***items, size_t *n)
{
	size_t cap = 1;
	char *b;
	char **v;
	size_t k = 0;
	char *p;

	*buf = NULL;
	*items = NULL;
	*n = 0;
	for (const char *q = s; *q != '\0'; q++) {
		cap += *q == ',';
	}
	if (cap > CTL_MAX_LIST) {
		return -1;
	}
	b = strdup(s);
	v = calloc(cap, sizeof(*v));
	if (b == NULL || v == NULL) {
		free(b);
		free(v);
		return -1;
	}
	p = b;
	for (;;) {
		char *comma = strchr(p, ',');
		char *end;

		if (comma != NULL) {
			*comma = '\0';
		}
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
			*--end = '\0';
		}
		if (*p != '\0') {
			v[k++] = p;
		}
		if (comma == NULL) {
			break;
		}
		p = comma + 1;
	}
	*buf = b;
	*items = v;
	*n = k;
	return 0;
}

static int
split_into(const char *s, const char *what, char **buf, char ***items,
	   size_t *n, char *err, size_t errlen)
{
	if (ctl_split_list(s, buf, items, n) != 0) {
		set_err(err, errlen, "--%s: too many items (at most %d)", what,
			CTL_MAX_LIST);
		return -1;
	}
	return 0;
}

#define CMD_IS(c, g, n)                                                        \
	(strcmp((c)->group, g) == 0 && strcmp((c)->name, n) == 0)

int
ctl_build(const ctl_args *a, ctl_request *r, char *err, size_t errlen)
{
	const ctl_command *c = a->cmd;

	memset(r, 0, sizeof(*r));
	users__v1__string_list__init(&r->roles_list);
	users__v1__string_list__init(&r->orgs_list);
	if (c == NULL || c->name == NULL) {
		set_err(err, errlen, "no request for this command");
		return -1;
	}
	if (a->roles != NULL &&
	    split_into(a->roles, "roles", &r->roles_buf, &r->roles, &r->n_roles,
		       err, errlen) != 0) {
		return -1;
	}
	if (a->orgs != NULL &&
	    split_into(a->orgs, "orgs", &r->orgs_buf, &r->orgs, &r->n_orgs, err,
		       errlen) != 0) {
		return -1;
	}
	r->roles_list.items = r->roles;
	r->roles_list.n_items = r->n_roles;
	r->orgs_list.items = r->orgs;
	r->orgs_list.n_items = r->n_orgs;

	if (CMD_IS(c, "user", "create")) {
		Users__V1__NewUser *m = &r->u.new_user;
		users__v1__new_user__init(m);
		m->email_address = (char *)a->email;
		m->first_name = (char *)a->first;
		m->last_name = (char *)a->last;
		m->account_id = (char *)a->org;
		r->password_slot = &m->password;
		r->msg = &m->base;
	} else if (CMD_IS(c, "user", "get")) {
		Users__V1__GetUser *m = &r->u.get_user;
		users__v1__get_user__init(m);
		m->user_id = (char *)a->pos[0];
		r->msg = &m->base;
	} else if (CMD_IS(c, "user", "list")) {
		Users__V1__ListUsers *m = &r->u.list_users;
		users__v1__list_users__init(m);
		m->email = (char *)a->email;
		m->name = (char *)a->name;
		m->account_id = (char *)a->org;
		m->role = (char *)a->role;
		m->has_skip = a->has_skip;
		m->skip = a->skip;
		m->has_take = a->has_take;
		m->take = a->take;
		m->after = (char *)a->after;
		r->msg = &m->base;
	} else if (CMD_IS(c, "user", "patch")) {
		Users__V1__PatchUser *m = &r->u.patch_user;
		users__v1__patch_user__init(m);
		m->user_id = (char *)a->pos[0];
		m->first_name = (char *)a->first;
		m->last_name = (char *)a->last;
		m->roles = a->roles != NULL ? &r->roles_list : NULL;
		m->account_ids = a->orgs != NULL ? &r->orgs_list : NULL;
		r->password_slot = a->new_password ? &m->new_password : NULL;
		r->msg = &m->base;
	} else if (CMD_IS(c, "user", "update")) {
		Users__V1__UpdateBusinessUser *m = &r->u.update_business_user;
		char *end;
		long long id;
		users__v1__update_business_user__init(m);
		errno = 0;
		id = strtoll(a->pos[0], &end, 10);
		if (errno != 0 || end == a->pos[0] || *end != '\0') {
			set_err(err, errlen, "user update: not a user id: %s",
				a->pos[0]);
			return -1;
		}
		m->has_user_id = true;
		m->user_id = id;
		m->first_name = (char *)a->first;
		m->last_name = (char *)a->last;
		m->email = (char *)a->email;
		m->phone_number = (char *)a->phone;
		m->viviot_id = (char *)a->viviot_id;
		m->roles = r->roles;
		m->n_roles = r->n_roles;
		r->msg = &m->base;
	} else if (CMD_IS(c, "user", "delete")) {
		Users__V1__DeleteUser *m = &r->u.delete_user;
		users__v1__delete_user__init(m);
		m->user_id = (char *)a->pos[0];
		r->msg = &m->base;
	} else if (CMD_IS(c, "org", "create")) {
		Users__V1__CreateOrganization *m = &r->u.create_organization;
		users__v1__create_organization__init(m);
		m->name = (char *)a->name;
		m->has_type = a->has_type;
		m->type = (Users__V1__OrganizationType)a->type;
		m->parent_id = (char *)a->parent;
		r->msg = &m->base;
	} else if (CMD_IS(c, "org", "get")) {
		Users__V1__GetOrganization *m = &r->u.get_organization;
		users__v1__get_organization__init(m);
		m->id = (char *)a->pos[0];
		r->msg = &m->base;
	} else if (CMD_IS(c, "org", "list")) {
		Users__V1__ListOrganizations *m = &r->u.list_organizations;
		users__v1__list_organizations__init(m);
		m->parent_id = (char *)a->parent;
		m->has_skip = a->has_skip;
		m->skip = a->skip;
		m->has_take = a->has_take;
		m->take = a->take;
		r->msg = &m->base;
	} else if (CMD_IS(c, "member", "add")) {
		Users__V1__AddOrganizationMember *m = &r->u.add_member;
		users__v1__add_organization_member__init(m);
		m->organization_id = (char *)a->pos[0];
		m->user_id = (char *)a->pos[1];
		r->msg = &m->base;
	} else if (CMD_IS(c, "member", "remove")) {
		Users__V1__RemoveOrganizationMember *m = &r->u.remove_member;
		users__v1__remove_organization_member__init(m);
		m->organization_id = (char *)a->pos[0];
		m->user_id = (char *)a->pos[1];
		r->msg = &m->base;
	} else {
		set_err(err, errlen, "no request for %s %s", c->group, c->name);
		return -1;
	}
	return 0;
}

void
ctl_request_fini(ctl_request *r)
{
	if (r == NULL) {
		return;
	}
	free(r->roles);
	free(r->orgs);
	free(r->roles_buf);
	free(r->orgs_buf);
	r->roles = NULL;
	r->orgs = NULL;
	r->roles_buf = NULL;
	r->orgs_buf = NULL;
	r->msg = NULL;
	r->password_slot = NULL;
}

int
ctl_env(ctl_args *a, char *buf, size_t size, char *err, size_t errlen)
{
	const char *url = getenv("USERSCTL_URL");
	const char *user = getenv("USERSCTL_USER");

	if (a->user == NULL && user != NULL && user[0] != '\0') {
		a->user = user;
		a->given |= BIT(O_USER);
	}
	if (a->n_urls > 0 || url == NULL || url[0] == '\0') {
		return 0;
	}
	if (strlen(url) >= size) {
		set_err(err, errlen, "USERSCTL_URL: longer than %zu bytes",
			size - 1);
		return -1;
	}
	memcpy(buf, url, strlen(url) + 1);
	for (char *p = strtok(buf, ", \t"); p != NULL;
	     p = strtok(NULL, ", \t")) {
		if (a->n_urls == CTL_MAX_URLS) {
			set_err(err, errlen, "USERSCTL_URL: at most %d URLs",
				CTL_MAX_URLS);
			return -1;
		}
		a->urls[a->n_urls++] = p;
		a->given |= BIT(O_URL);
	}
	return 0;
}

/* The global options a context may set: not the one-off ones. */
static bool
context_key(const opt_def *o)
{
	return o != NULL && o->global && o->id != O_HELP &&
	       o->id != O_VERSION && o->id != O_CONTEXT &&
	       o->id != O_NEW_PASSWORD_FILE;
}

int
ctl_context(ctl_args *a, const char *path, char *buf, size_t size, char *err,
	    size_t errlen)
{
	const char *env = getenv("USERSCTL_CONTEXT");
	const char *want = a->context != NULL              ? a->context
			   : env != NULL && env[0] != '\0' ? env
							   : NULL;
	uint64_t given = a->given;
	const char *section = NULL, *current = NULL;
	const char *found = NULL;
	unsigned lineno = 0;
	FILE *f = path != NULL ? fopen(path, "r") : NULL;
	size_t got;
	char *next, *copy = NULL;
	char current_buf[256];

	if (f == NULL) {
		if (want != NULL) {
			set_err(err, errlen,
				"context %s: no configuration file %s", want,
				path != NULL ? path : "(no HOME)");
			return -1;
		}
		return 0;
	}
	got = fread(buf, 1, size - 1, f);
	if (!feof(f) || ferror(f)) {
		fclose(f);
		set_err(err, errlen, "%s: unreadable, or larger than %zu bytes",
			path, size - 1);
		return -1;
	}
	fclose(f);
	buf[got] = '\0';
	/*
	 * Two passes: the whole file checked and its current context found
	 * (it may come last) on a copy, then the chosen section's keys set
	 * from buf, which the values point into.
	 */
	for (int pass = 0; pass < 2; pass++) {
		section = NULL;
		lineno = 0;
		if (pass == 0) {
			if ((copy = strdup(buf)) == NULL) {
				set_err(err, errlen, "out of memory");
				goto fail;
			}
			next = copy;
		} else {
			next = buf;
			want = want != NULL ? want : current;
			if (want == NULL) {
				return 0; /* no context chosen */
			}
		}
		while (next != NULL && *next != '\0') {
			char *line = next, *eq, *key, *value;
			const opt_def *o;

			next = strchr(line, '\n');
			if (next != NULL) {
				*next++ = '\0';
			}
			lineno++;
			line = up_flags_trim(line);
			if (line[0] == '\0' || line[0] == '#') {
				continue;
			}
			if (line[0] == '[') {
				char *close = strchr(line, ']');
				if (close == NULL || close[1] != '\0' ||
				    close == line + 1) {
					set_err(err, errlen,
						"%s:%u: a section is [NAME]",
						path, lineno);
					goto fail;
				}
				*close = '\0';
				section = line + 1;
				if (strspn(section, "abcdefghijklmnopqrstuvwxyz"
						    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						    "0123456789._-") !=
				    strlen(section)) {
					set_err(err, errlen,
						"%s:%u: a context's name is "
						"letters, digits, '.', '_' "
						"and '-'",
						path, lineno);
					goto fail;
				}
				if (pass == 1 && strcmp(section, want) == 0) {
					found = section; /* in buf: stays */
				}
				continue;
			}
			if ((eq = strchr(line, '=')) == NULL) {
				set_err(err, errlen,
					"%s:%u: not a \"key = value\" line",
					path, lineno);
				goto fail;
			}
			*eq = '\0';
			key = up_flags_trim(line);
			value = up_flags_trim(eq + 1);
			if (section == NULL) {
				if (strcmp(key, "current-context") != 0) {
					set_err(err, errlen,
						"%s:%u: unknown key \"%s\" "
						"(before any [context])",
						path, lineno, key);
					goto fail;
				}
				if (pass == 0) { /* the copy goes: keep it */
					snprintf(current_buf,
						 sizeof(current_buf), "%s",
						 value);
					current = current_buf;
				}
				continue;
			}
			o = find_opt(key, strlen(key));
			if (!context_key(o)) {
				set_err(err, errlen,
					"%s:%u: unknown key \"%s\" in a "
					"context",
					path, lineno, key);
				goto fail;
			}
			if (pass == 0 || strcmp(section, want) != 0 ||
			    (given & BIT(o->id))) {
				continue; /* flags and environment win */
			}
			if (!o->value && strcmp(value, "true") != 0) {
				continue; /* a switch: only "true" sets it */
			}
			if (set_opt(a, o, value, err, errlen) != 0) {
				char why[256];
				snprintf(why, sizeof(why), "%s", err);
				set_err(err, errlen, "%s:%u: %s", path, lineno,
					why);
				goto fail;
			}
		}
		free(copy);
		copy = NULL;
	}
	if (found == NULL) {
		set_err(err, errlen, "no context [%s] in %s", want, path);
		return -1;
	}
	a->context = found;
	return 0;
fail:
	free(copy);
	return -1;
}

/* Every option name (as --name) allowed for mask, and the global ones. */
static void
completion_opts(FILE *out, uint64_t mask)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const opt_def *o = &opt_defs[i];

		if (o->global || (mask & BIT(o->id))) {
			fprintf(out, " --%s", o->name);
		}
	}
}

void
ctl_completion(FILE *out)
{
	fprintf(out, "# bash completion for usersctl, made by `usersctl "
		     "completion bash` from its command table.\n"
		     "_usersctl() {\n"
		     "\tlocal cur=${COMP_WORDS[COMP_CWORD]} w group= sub= "
		     "i words\n"
		     "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
		     "\t\tw=${COMP_WORDS[i]}\n"
		     "\t\tcase $w in\n"
		     "\t\t--*=*) continue ;;\n"
		     "\t\t");
	/* the options that take a value: the next word is that value */
	for (size_t i = 0, n = 0; i < N_OPTS; i++) {
		if (opt_defs[i].value) {
			fprintf(out, "%s--%s", n++ ? "|" : "",
				opt_defs[i].name);
		}
	}
	fprintf(out, "|-o) i=$((i + 1)); continue ;;\n"
		     "\t\t--*) continue ;;\n"
		     "\t\tesac\n"
		     "\t\tif [ -z \"$group\" ]; then group=$w; "
		     "elif [ -z \"$sub\" ]; then sub=$w; fi\n"
		     "\tdone\n"
		     "\tcase ${COMP_WORDS[COMP_CWORD - 1]} in\n"
		     "\t-o|--output) COMPREPLY=($(compgen -W \"table wide json "
		     "yaml\" -- \"$cur\")); return ;;\n"
		     "\tesac\n"
		     "\tcase \"$group $sub\" in\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const ctl_command *c = &commands[i];

		fprintf(out, "\t\"%s %s\"%s) words=\"", c->group,
			c->name ? c->name : "", c->name ? "" : "*");
		completion_opts(out, c->opts);
		if (strcmp(c->group, "completion") == 0) {
			fprintf(out, " bash");
		}
		fprintf(out, "\" ;;\n");
	}
	/* a group typed, its command not yet */
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const ctl_command *c = &commands[i];

		if (c->name == NULL ||
		    (i > 0 && strcmp(commands[i - 1].group, c->group) == 0)) {
			continue;
		}
		fprintf(out, "\t\"%s \") words=\"", c->group);
		for (size_t k = i;
		     k < N_COMMANDS && strcmp(commands[k].group, c->group) == 0;
		     k++) {
			fprintf(out, " %s", commands[k].name);
		}
		fprintf(out, "\" ;;\n");
	}
	fprintf(out, "\t*) words=\"");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (i == 0 ||
		    strcmp(commands[i - 1].group, commands[i].group)) {
			fprintf(out, " %s", commands[i].group);
		}
	}
	completion_opts(out, 0);
	fprintf(out, "\" ;;\n"
		     "\tesac\n"
		     "\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
		     "}\n"
		     "complete -F _usersctl usersctl\n");
}
