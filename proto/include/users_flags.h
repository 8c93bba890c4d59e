/*
 * users_flags.h - a program's options from one table: its command line
 * and its configuration file (usersd, usersgw) read through the same
 * entries, so every flag has a key of the same name and both are checked
 * by the same code.
 *
 * The file: one "key = value" per line; the key is the flag's name
 * without its dashes; blank lines and lines whose first non-blank
 * character is '#' are skipped; spaces around the key and the value are
 * dropped; a switch takes true/false (yes/no, on/off, 1/0). An unknown
 * key, a line without '=', an empty value or a bad value is refused with
 * the file's name and the line's number.
 *
 * Precedence: the file is read first, then the command line; a flag given
 * on the command line overrides the file's value, and a repeatable flag
 * (a list, e.g. --listen) given there replaces the file's whole list.
 *
 * Built in, on every program: --config PATH (read that file; there is no
 * default file), --check-config (parse, check, print what is wrong or
 * "configuration OK", exit), --version, --help (-h).
 */
#ifndef USERS_FLAGS_H
#define USERS_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum up_flag_kind {
	UP_FLAG_STRING, /* const char * field: the value (borrowed) */
	UP_FLAG_UINT,   /* unsigned integer field of 4 or 8 bytes */
	UP_FLAG_SWITCH, /* bool field */
	UP_FLAG_CUSTOM, /* set() does it */
} up_flag_kind;

/*
 * Sets one value into cfg. nth: how many values of this flag the same
 * source (the file, or the command line) gave before, so that a list
 * clears itself at nth == 0. A switch gets "1" or "0". 0, or -1 with a
 * reason in why (may be left empty).
 */
typedef int (*up_flag_set_fn)(void *cfg, const char *value, unsigned nth,
			      char *why, size_t why_size);

typedef struct up_flag {
	const char *name; /* "listen": --listen and the key listen */
	const char *arg;  /* "URL" in the help; NULL for a switch */
	const char *help; /* lines separated by '\n' */
	up_flag_kind kind;
	bool repeat; /* may be given more than once (CUSTOM lists) */
	size_t offset;
	size_t size;            /* UINT: sizeof the field */
	unsigned long min, max; /* UINT: the range */
	up_flag_set_fn set;     /* CUSTOM: given cfg + offset */
} up_flag;

#define UP_FLAG_STR(type, field, name, arg, help)                              \
	{                                                                      \
		name, arg, help, UP_FLAG_STRING, false, offsetof(type, field), \
		    0, 0, 0, NULL                                              \
	}
#define UP_FLAG_NUM(type, field, name, arg, lo, hi, help)                      \
	{                                                                      \
		name, arg, help, UP_FLAG_UINT, false, offsetof(type, field),   \
		    sizeof(((type *)0)->field), lo, hi, NULL                   \
	}
#define UP_FLAG_BOOL(type, field, name, help)                                  \
	{                                                                      \
		name, NULL, help, UP_FLAG_SWITCH, false,                       \
		    offsetof(type, field), 0, 0, 0, NULL                       \
	}
#define UP_FLAG_FN(name, arg, repeat, fn, help)                                \
	{                                                                      \
		name, arg, help, UP_FLAG_CUSTOM, repeat, 0, 0, 0, 0, fn        \
	}
/* A custom flag whose set() is given the field (cfg + its offset). */
#define UP_FLAG_FN_AT(type, field, name, arg, fn, help)                        \
	{                                                                      \
		name, arg, help, UP_FLAG_CUSTOM, false, offsetof(type, field), \
		    0, 0, 0, fn                                                \
	}

typedef struct up_flags {
	const char *prog;     /* "usersd" */
	const char *synopsis; /* after "usage: prog " */
	const up_flag *table;
	size_t n;
	void *cfg;
	/* Filled by up_flags_parse: */
	const char *config_path; /* --config, or NULL */
	bool check_only;         /* --check-config */
	char *file_text;         /* the file's bytes: values point into them */
} up_flags;

typedef enum up_flags_result {
	UP_FLAGS_RUN = 0, /* go on */
	UP_FLAGS_EXIT_OK, /* --help or --version printed: exit 0 */
	UP_FLAGS_USAGE,   /* an error was printed: exit 2 */
} up_flags_result;

/*
 * Reads --config's file (when given) and then argv into f->cfg, printing
 * every complaint on stderr, prefixed with the program's name. The caller
 * keeps f until it no longer uses the values (up_flags_fini).
 */
up_flags_result up_flags_parse(up_flags *f, int argc, char **argv);
void up_flags_fini(up_flags *f);
/* The usage text, every flag with its help, generated from the table. */
void up_flags_usage(const up_flags *f, FILE *out);
/* "usersd 0.1.0" and a newline, from the project's version. */
void up_flags_version(const char *prog, FILE *out);

/* s without its leading blanks and trailing blanks and CR, cut in place:
 * a line of a settings file, or one side of its '='. */
char *up_flags_trim(char *s);

#endif /* USERS_FLAGS_H */
