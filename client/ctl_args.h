/*
 * ctl_args.h - usersctl's command line: the command table, option parsing
 * and building the request message of a command. Internal to usersctl
 * (and its unit tests). Nothing here does I/O except the help printers.
 */
#ifndef CTL_ARGS_H
#define CTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "users_proto.h"

#define CTL_MAX_URLS 16
#define CTL_MAX_POS  4
#define CTL_MAX_LIST 256 /* items in --roles / --orgs */

typedef struct ctl_command {
	const char *group;  /* "user"; "login" */
	const char *name;   /* "create"; NULL for login */
	const char *method; /* the RPC, "NewUser"; NULL: none (offline) */
	uint64_t opts;      /* command options allowed (bit: ctl option id) */
	unsigned n_pos;     /* positional arguments it takes */
	const char *synopsis;
	const char *help;
} ctl_command;

/* The parsed command line. Strings point into argv (not owned). */
typedef struct ctl_args {
	/* global options */
	const char *urls[CTL_MAX_URLS];
	size_t n_urls;
	const char *user;
	const char *token_file;
	const char *password_file;
	const char *new_password_file;
	const char *tls_ca;
	const char *tls_cert;
	const char *tls_key;
	const char *tls_server_name;
	bool tls_insecure;
	uint32_t deadline_ms; /* 0: the library's default */
	const char *context;  /* --context; after ctl_context: the one used */
	uint64_t given;       /* the global options set (flags, environment) */
	bool json;            /* --json, or -o json */
	int output; /* -o: CTL_OUT_* of ctl_json.h (CTL_OUT_TABLE: 0) */
	bool help;
	bool version; /* --version: print it, nothing else */
	/* the command; NULL with help for usersctl or a group */
	const ctl_command *cmd;
	const char *group; /* as typed, when the command is incomplete */
	const char *pos[CTL_MAX_POS];
	size_t n_pos;
	/* command options (NULL / has_ false when not given) */
	const char *email;
	const char *first;
	const char *last;
	const char *org;
	const char *orgs;
	const char *roles;
	const char *name;
	const char *role;
	const char *phone;
	const char *viviot_id;
	const char *parent;
	bool has_type, has_skip, has_take;
	int32_t type, skip, take;
	bool new_password;    /* user patch --password */
	const char *format;   /* import, export: "csv", "jsonl" or NULL */
	bool password_hashes; /* export --password-hashes */
	int32_t resume_from;  /* import --resume-from (0: from the start) */
	const char *after;    /* user list --after */
} ctl_args;

/*
 * Parses argv (argv[0] skipped). 0, or -1 with a message in err. Global
 * options may appear anywhere; command options must belong to the
 * command. With help set, cmd may be NULL (usersctl --help, user --help).
 */
int ctl_parse(ctl_args *a, int argc, char *const *argv, char *err,
	      size_t errlen);

/* Usage of usersctl, of a group ("user"), or of one command. */
void ctl_usage(FILE *out, const ctl_args *a);

/*
 * The environment's defaults for what the command line left out:
 * USERSCTL_URL (one URL or several, separated by commas or spaces: the
 * daemons, when no --url) and USERSCTL_USER (--user). The URLs are copied
 * into buf (size bytes), which a->urls then point into. 0, or -1 with a
 * message in err.
 */
int ctl_env(ctl_args *a, char *buf, size_t size, char *err, size_t errlen);

/*
 * The per-user configuration file at path (NULL: none), with named
 * contexts, each a set of global options:
 *
 *   current-context = local
 *   [local]
 *   url = ipc:///run/usersd/usersd.sock
 *   user = admin@example.com
 *   [prod]
 *   url = tls+tcp://users.example.com:7300
 *   tls-ca = /etc/usersd/ca.crt
 *
 * The context is --context, else USERSCTL_CONTEXT, else current-context;
 * its keys (global options' names) fill what the flags and the
 * environment (ctl_env, run first) left out. A missing file is no error
 * unless a context was asked for. The file is read into buf (size bytes),
 * which the values then point into. 0, or -1 with a message in err (an
 * unknown key or a bad line, with the line's number; an unknown context).
 */
int ctl_context(ctl_args *a, const char *path, char *buf, size_t size,
		char *err, size_t errlen);

/* `usersctl completion bash`: a bash completion script made from the
 * command and option tables. */
void ctl_completion(FILE *out);

/*
 * A command's request message. The message borrows strings from the
 * ctl_args (keep them alive); lists are split into owned copies.
 * password_slot: where the new user's password goes (user create, user
 * patch --password), else NULL; the caller stores a string it owns there.
 */
typedef struct ctl_request {
	union {
		Users__V1__NewUser new_user;
		Users__V1__PatchUser patch_user;
		Users__V1__GetUser get_user;
		Users__V1__ListUsers list_users;
		Users__V1__DeleteUser delete_user;
		Users__V1__UpdateBusinessUser update_business_user;
		Users__V1__CreateOrganization create_organization;
		Users__V1__GetOrganization get_organization;
		Users__V1__ListOrganizations list_organizations;
		Users__V1__AddOrganizationMember add_member;
		Users__V1__RemoveOrganizationMember remove_member;
	} u;
	ProtobufCMessage *msg; /* points into u */
	Users__V1__StringList roles_list;
	Users__V1__StringList orgs_list;
	char *roles_buf; /* owned; roles/orgs items point into them */
	char *orgs_buf;
	char **roles; /* owned arrays */
	size_t n_roles;
	char **orgs;
	size_t n_orgs;
	char **password_slot;
} ctl_request;

/* 0, or -1 with a message in err. ctl_request_fini() in both cases. */
int ctl_build(const ctl_args *a, ctl_request *r, char *err, size_t errlen);
void ctl_request_fini(ctl_request *r);

/*
 * Splits "a,b, c" into items (spaces around items trimmed, empty items
 * dropped; "" gives none). *buf and *items are the caller's to free.
 * 0, or -1 (OOM or more than CTL_MAX_LIST items).
 */
int ctl_split_list(const char *s, char **buf, char ***items, size_t *n);

#endif
