/*
 * policy.c - the policy's words: the names and the sentences of aspects,
 * conditions and rules, for the metadata pages, /openapi.json, the README's
 * table and the daemon's refusals. The rules themselves are users.proto's
 * (allow) options, read by meta.c; nothing here decides anything.
 *
 * The sentences name the superuser role, which is data too: they are made
 * once, when the descriptor set is loaded (up_policy_words_init, from
 * meta.c), and immutable after.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy_words.h"
#include "users_proto.h"

#define N_ASPECTS    (USERS__V1__ASPECT__MEMBERSHIPS + 1)
#define N_CONDITIONS (USERS__V1__CONDITION__ORGS_IN_SCOPE + 1)

static const struct {
	const char *name;
	const char *label;
} aspects[N_ASPECTS] = {
    [USERS__V1__ASPECT__CALL] = {"call", "the call itself"},
    [USERS__V1__ASPECT__PROFILE] = {"profile",
				    "names, phone number, Viviot id"},
    [USERS__V1__ASPECT__EMAIL] = {"email", "email address"},
    [USERS__V1__ASPECT__PASSWORD] = {"password", "password"},
    [USERS__V1__ASPECT__ROLES] = {"roles", "roles"},
    [USERS__V1__ASPECT__MEMBERSHIPS] = {"memberships", "organizations"},
};

static const char *const condition_names[N_CONDITIONS] = {
    [USERS__V1__CONDITION__SELF] = "self",
    [USERS__V1__CONDITION__OTHER] = "other",
    [USERS__V1__CONDITION__TARGET_NOT_SUPERUSER] = "target-not-superuser",
    [USERS__V1__CONDITION__TARGET_NOT_ADMINISTRATIVE] =
	"target-not-administrative",
    [USERS__V1__CONDITION__TARGET_IN_SCOPE] = "target-in-scope",
    [USERS__V1__CONDITION__ORG_IN_SCOPE] = "org-in-scope",
    [USERS__V1__CONDITION__ROLES_NOT_ADMINISTRATIVE] =
	"roles-not-administrative",
    [USERS__V1__CONDITION__ROLES_KEEP_SUPERUSER] = "roles-keep-superuser",
    [USERS__V1__CONDITION__ORGS_IN_SCOPE] = "orgs-in-scope",
};

/* The sentences, made by up_policy_words_init. */
static char condition_texts[N_CONDITIONS][96];
static char legend[768];

void
up_policy_words_init(const char *superuser, const char *const *admin,
		     size_t n_admin, const char *const *subtree,
		     size_t n_subtree)
{
	static const char *const fixed[N_CONDITIONS] = {
	    [USERS__V1__CONDITION__SELF] = "themselves",
	    [USERS__V1__CONDITION__OTHER] = "another user",
	    [USERS__V1__CONDITION__TARGET_NOT_ADMINISTRATIVE] =
		"who holds no administrative role",
	    [USERS__V1__CONDITION__TARGET_IN_SCOPE] =
		"all of whose organizations are in scope",
	    [USERS__V1__CONDITION__ORG_IN_SCOPE] =
		"the organization named is in scope",
	    [USERS__V1__CONDITION__ROLES_NOT_ADMINISTRATIVE] =
		"adding or removing no administrative role",
	    [USERS__V1__CONDITION__ORGS_IN_SCOPE] =
		"adding or removing only organizations in scope",
	};
	size_t len;

	for (size_t c = 0; c < N_CONDITIONS; c++) {
		if (fixed[c] != NULL) {
			snprintf(condition_texts[c], sizeof(condition_texts[c]),
				 "%s", fixed[c]);
		}
	}
	snprintf(condition_texts[USERS__V1__CONDITION__TARGET_NOT_SUPERUSER],
		 sizeof(condition_texts[0]), "who is not %s", superuser);
	snprintf(condition_texts[USERS__V1__CONDITION__ROLES_KEEP_SUPERUSER],
		 sizeof(condition_texts[0]), "neither granting nor removing %s",
		 superuser);

	len = (size_t)snprintf(legend, sizeof(legend),
			       "%s passes every role check. The "
			       "administrative roles are ",
			       superuser);
	for (size_t i = 0; i < n_admin && len < sizeof(legend); i++) {
		len +=
		    (size_t)snprintf(legend + len, sizeof(legend) - len, "%s%s",
				     i == 0            ? ""
				     : i + 1 < n_admin ? ", "
						       : " and ",
				     admin[i]);
	}
	if (len < sizeof(legend)) {
		len += (size_t)snprintf(legend + len, sizeof(legend) - len,
					". A rule's scope is the caller's "
					"organizations");
	}
	for (size_t i = 0; i < n_subtree && len < sizeof(legend); i++) {
		len += (size_t)snprintf(
		    legend + len, sizeof(legend) - len, "%s%s",
		    i == 0 ? " (and, in a rule for " : " or ", subtree[i]);
	}
	if (n_subtree > 0 && len < sizeof(legend)) {
		len += (size_t)snprintf(legend + len, sizeof(legend) - len,
					", every organization below them)");
	}
	if (len < sizeof(legend)) {
		snprintf(legend + len, sizeof(legend) - len,
			 ". What no rule allows is refused, and the last "
			 "active %s neither loses the role nor is deleted.",
			 superuser);
	}
}

const char *
up_aspect_name(Users__V1__Aspect a)
{
	return ((unsigned)a < N_ASPECTS) ? aspects[a].name : "";
}

const char *
up_aspect_label(Users__V1__Aspect a)
{
	return ((unsigned)a < N_ASPECTS) ? aspects[a].label : "";
}

const char *
up_condition_name(Users__V1__Condition c)
{
	return ((unsigned)c < N_CONDITIONS && condition_names[c] != NULL)
		   ? condition_names[c]
		   : "";
}

const char *
up_condition_text(Users__V1__Condition c)
{
	return ((unsigned)c < N_CONDITIONS) ? condition_texts[c] : "";
}

const char *
up_policy_legend(void)
{
	return legend;
}

size_t
up_rule_text(const up_rule *r, char *buf, size_t size)
{
	size_t len = 0;
	bool first = true;

#define PUT(...)                                                               \
	len += (size_t)snprintf(buf + (len < size ? len : size),               \
				len < size ? size - len : 0, __VA_ARGS__)
	if (size > 0) {
		buf[0] = '\0';
	}
	for (size_t i = 0; i < r->n_actors; i++) {
		const char *a = r->actors[i];
		PUT("%s%s", i == 0 ? "" : " or ",
		    strcmp(a, "*") == 0 ? "anyone signed in" : a);
	}
	for (unsigned c = 0; c < N_CONDITIONS; c++) {
		if (r->when & (1u << c)) {
			PUT("%s%s", first ? ": " : ", ", condition_texts[c]);
			first = false;
		}
	}
#undef PUT
	return len;
}

/* The roles column of an operation. */
static void
gate_text(const up_method *m, FILE *out)
{
	if (m->auth_none) {
		fputs("open (no credentials)", out);
		return;
	}
	if (m->n_roles == 0) {
		fputs("any signed-in user", out);
		return;
	}
	for (size_t i = 0; i < m->n_roles; i++) {
		fprintf(out, "%s%s", i > 0 ? ", " : "", m->roles[i]);
	}
}

int
up_policy_markdown(FILE *out)
{
	char text[512];

	fputs("| Operation | Requires any of the roles | What it touches | "
	      "Allowed for |\n|---|---|---|---|\n",
	      out);
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		bool first_row = true;

		for (int a = USERS__V1__ASPECT__CALL;
		     a <= USERS__V1__ASPECT__MEMBERSHIPS; a++) {
			bool first = true;

			for (size_t r = 0; r < m->n_rules; r++) {
				if ((int)m->rules[r].aspect != a) {
					continue;
				}
				if (first) {
					fprintf(out, "| %s | ",
						first_row ? m->desc->name : "");
					if (first_row) {
						gate_text(m, out);
					}
					fprintf(out, " | %s | ",
						up_aspect_label(a));
					first_row = false;
				}
				up_rule_text(&m->rules[r], text, sizeof(text));
				fprintf(out, "%s%s", first ? "" : "<br>", text);
				first = false;
			}
			if (!first) {
				fputs(" |\n", out);
			}
		}
		if (first_row) {
			fprintf(out, "| %s | ", m->desc->name);
			gate_text(m, out);
			fputs(" | | |\n", out);
		}
	}
	fprintf(out, "\n%s\n", legend);
	return ferror(out) ? -1 : 0;
}
