/*
 * flags.c - a program's options from one table (users_flags.h): the
 * command line and the configuration file go through the same entries
 * and the same setters. Lifecycle: up_flags_parse once at start (reads
 * the file, then argv), the values borrowed by the program's config until
 * up_flags_fini frees the file's bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "users_flags.h"
#include "users_proto.h"

#define FILE_MAX   (1u << 20) /* a configuration file's bytes, at most */
#define HELP_WIDTH 26         /* the column where the help text starts */

/* Where a value came from, for the messages. */
typedef struct source {
	const char *file; /* NULL: the command line */
	unsigned line;
} source;

static const up_flag *
find(const up_flags *f, const char *name, size_t len)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strlen(f->table[i].name) == len &&
		    strncmp(f->table[i].name, name, len) == 0) {
			return &f->table[i];
		}
	}
	return NULL;
}

/* true/yes/on/1 -> "1", false/no/off/0 -> "0", else NULL. */
static const char *
switch_value(const char *v)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			return "1";
		}
		if (strcmp(v, no[i]) == 0) {
			return "0";
		}
	}
	return NULL;
}

static void
complain(const up_flags *f, const source *src, const up_flag *fl,
	 const char *value, const char *why)
{
	if (src->file != NULL) {
		fprintf(stderr, "%s: %s:%u: %s = %s: %s\n", f->prog, src->file,
			src->line, fl->name, value, why);
	} else {
		fprintf(stderr, "%s: --%s %s: %s\n", f->prog, fl->name, value,
			why);
	}
}

/* One value of one flag into f->cfg. 0 or -1 (said on stderr). */
static int
apply(const up_flags *f, const source *src, const up_flag *fl,
      const char *value, unsigned nth)
{
	char *field = (char *)f->cfg + fl->offset;
	char why[256] = "";
	unsigned long v;

	switch (fl->kind) {
	case UP_FLAG_STRING:
		if (value[0] == '\0') {
			complain(f, src, fl, value, "empty");
			return -1;
		}
		memcpy(field, &value, sizeof(value));
		return 0;
	case UP_FLAG_UINT:
		if (up_parse_ulong(value, fl->min, fl->max, &v) != 0) {
			snprintf(why, sizeof(why), "a number from %lu to %lu",
				 fl->min, fl->max);
			complain(f, src, fl, value, why);
			return -1;
		}
		if (fl->size == sizeof(uint32_t)) {
			uint32_t u = (uint32_t)v;
			memcpy(field, &u, sizeof(u));
		} else {
			uint64_t u = v;
			memcpy(field, &u, sizeof(u));
		}
		return 0;
	case UP_FLAG_SWITCH: {
		bool b = value[0] == '1';
		memcpy(field, &b, sizeof(b));
		return 0;
	}
	case UP_FLAG_CUSTOM:
		if (fl->set((char *)f->cfg + fl->offset, value, nth, why,
			    sizeof(why)) != 0) {
			complain(f, src, fl, value, why[0] ? why : "bad value");
			return -1;
		}
		return 0;
	}
	return -1;
}

static bool
builtin(const char *name, size_t len)
{
	static const char *const names[] = {"config", "check-config", "version",
					    "help"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == len &&
		    strncmp(names[i], name, len) == 0) {
			return true;
		}
	}
	return false;
}

char *
up_flags_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t') {
		s++;
	}
	end = s + strlen(s);
	while (end > s &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) {
		*--end = '\0';
	}
	return s;
}

/* The whole file into f->file_text. 0 or -1 (said). */
static int
read_file(up_flags *f)
{
	FILE *in = fopen(f->config_path, "rb");
	size_t got;

	if (in == NULL) {
		fprintf(stderr, "%s: --config %s: %s\n", f->prog,
			f->config_path, strerror(errno));
		return -1;
	}
	f->file_text = malloc(FILE_MAX + 1);
	if (f->file_text == NULL) {
		fclose(in);
		return -1;
	}
	got = fread(f->file_text, 1, FILE_MAX + 1, in);
	if (ferror(in) || got > FILE_MAX || memchr(f->file_text, '\0', got)) {
		fprintf(stderr, "%s: --config %s: %s\n", f->prog,
			f->config_path,
			ferror(in) ? "cannot read it"
				   : "not a text file of at most 1 MiB");
		fclose(in);
		return -1;
	}
	fclose(in);
	f->file_text[got] = '\0';
	return 0;
}

/*
 * Applies the file, every line, every bad one said (count: the values of
 * each flag so far, so that a list starts afresh). 0 or -1.
 */
static int
apply_file(up_flags *f, unsigned *count)
{
	source src = {f->config_path, 0};
	char *next = f->file_text;
	int bad = 0;

	memset(count, 0, f->n * sizeof(*count));
	while (next != NULL && *next != '\0') {
		char *line = next, *eq, *key, *value;
		const up_flag *fl;

		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		src.line++;
		line = up_flags_trim(line);
		if (line[0] == '\0' || line[0] == '#') {
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL) {
			fprintf(stderr,
				"%s: %s:%u: not a \"key = value\" line\n",
				f->prog, src.file, src.line);
			bad = -1;
			continue;
		}
		*eq = '\0';
		key = up_flags_trim(line);
		value = up_flags_trim(eq + 1);
		fl = find(f, key, strlen(key));
		if (fl == NULL) {
			fprintf(stderr, "%s: %s:%u: unknown key \"%s\"%s\n",
				f->prog, src.file, src.line, key,
				builtin(key, strlen(key))
				    ? " (a command-line flag only)"
				    : "");
			bad = -1;
			continue;
		}
		if (fl->kind == UP_FLAG_SWITCH) {
			const char *sw = switch_value(value);
			if (sw == NULL) {
				complain(f, &src, fl, value,
					 "true or false (yes/no, on/off, "
					 "1/0)");
				bad = -1;
				continue;
			}
			value = (char *)sw;
		} else if (value[0] == '\0') {
			complain(f, &src, fl, value, "empty");
			bad = -1;
			continue;
		}
		if (apply(f, &src, fl, value, count[fl - f->table]++) != 0) {
			bad = -1;
		}
	}
	return bad;
}

/*
 * One walk over argv: with do_apply false it only finds the built-ins
 * and checks the shape of every argument; with it true it sets the
 * values. UP_FLAGS_* .
 */
static up_flags_result
walk_argv(up_flags *f, int argc, char **argv, bool do_apply, unsigned *count)
{
	source src = {NULL, 0};
	int bad = 0;

	memset(count, 0, f->n * sizeof(*count));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *value;
		const up_flag *fl;
		size_t len;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			if (!do_apply) {
				up_flags_usage(f, stdout);
				return UP_FLAGS_EXIT_OK;
			}
			continue;
		}
		if (strcmp(a, "--version") == 0) {
			if (!do_apply) {
				up_flags_version(f->prog, stdout);
				return UP_FLAGS_EXIT_OK;
			}
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "%s: unexpected argument %s\n", f->prog,
				a);
			return UP_FLAGS_USAGE;
		}
		name = a + 2;
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		fl = find(f, name, len);
		if (fl == NULL && len == 12 &&
		    strncmp(name, "check-config", len) == 0 && eq == NULL) {
			f->check_only = true;
			continue;
		}
		if (fl == NULL &&
		    !(len == 6 && strncmp(name, "config", 6) == 0)) {
			fprintf(stderr,
				"%s: unknown option %.*s (--help lists them)\n",
				f->prog, (int)(len + 2), a);
			return UP_FLAGS_USAGE;
		}
		if (fl != NULL && fl->kind == UP_FLAG_SWITCH) {
			value = eq != NULL ? switch_value(eq + 1) : "1";
			if (value == NULL) {
				fprintf(stderr,
					"%s: --%s takes no value (or "
					"=true/=false)\n",
					f->prog, fl->name);
				return UP_FLAGS_USAGE;
			}
		} else if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			fprintf(stderr, "%s: %s needs a value\n", f->prog, a);
			return UP_FLAGS_USAGE;
		}
		if (fl == NULL) { /* --config */
			f->config_path = value;
			continue;
		}
		if (do_apply &&
		    apply(f, &src, fl, value, count[fl - f->table]++) != 0) {
			bad = 1;
		}
	}
	return bad ? UP_FLAGS_USAGE : UP_FLAGS_RUN;
}

up_flags_result
up_flags_parse(up_flags *f, int argc, char **argv)
{
	unsigned *count = calloc(f->n + 1, sizeof(*count));
	up_flags_result r;

	f->config_path = NULL;
	f->check_only = false;
	f->file_text = NULL;
	if (count == NULL) {
		return UP_FLAGS_USAGE;
	}
	if ((r = walk_argv(f, argc, argv, false, count)) != UP_FLAGS_RUN) {
		goto out;
	}
	if (f->config_path != NULL &&
	    (read_file(f) != 0 || apply_file(f, count) != 0)) {
		r = UP_FLAGS_USAGE;
		goto out;
	}
	r = walk_argv(f, argc, argv, true, count);
out:
	free(count);
	return r;
}

void
up_flags_fini(up_flags *f)
{
	free(f->file_text);
	f->file_text = NULL;
}

/* "  --name ARG" then the help, from column HELP_WIDTH. */
static void
usage_line(FILE *out, const char *name, const char *arg, const char *help)
{
	int w =
	    fprintf(out, "  --%s%s%s", name, arg ? " " : "", arg ? arg : "");
	const char *p = help;

	if (w >= HELP_WIDTH - 1) {
		fprintf(out, "\n");
		w = 0;
	}
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		int len = nl != NULL ? (int)(nl - p) : (int)strlen(p);

		fprintf(out, "%*s%.*s\n", HELP_WIDTH - w, "", len, p);
		w = 0;
		p += len;
		if (*p == '\n') {
			p++;
		}
	}
}

void
up_flags_usage(const up_flags *f, FILE *out)
{
	fprintf(out, "usage: %s %s\n\n", f->prog, f->synopsis);
	for (size_t i = 0; i < f->n; i++) {
		const up_flag *fl = &f->table[i];
		usage_line(out, fl->name, fl->arg, fl->help);
	}
	usage_line(out, "config", "PATH",
		   "read these settings from a file first: one \"key = "
		   "value\"\n"
		   "a line, each key a flag's name; flags given here\n"
		   "override it (none is read by default)");
	usage_line(out, "check-config", NULL,
		   "check the file and the flags, say what is wrong, exit");
	usage_line(out, "version", NULL, "print the version and exit");
	usage_line(out, "help", NULL, "print this and exit");
}

void
up_flags_version(const char *prog, FILE *out)
{
	fprintf(out, "%s %s\n", prog, USERS_VERSION);
}
