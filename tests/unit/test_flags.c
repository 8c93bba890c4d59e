/*
 * test_flags.c - proto/flags.c: one table read from a configuration file
 * and the command line. The file's keys are the flags' names; the command
 * line overrides the file, and a list given there replaces the file's
 * list; every complaint names the file's line; built-ins (--config,
 * --check-config, --version, --help) are not keys; bad numbers, switches
 * and lines are refused.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "users_flags.h"

typedef struct t_cfg {
	const char *name;
	unsigned n;
	size_t big;
	bool sw;
	const char *list[4];
	unsigned n_list;
} t_cfg;

static int
set_item(void *arg, const char *v, unsigned nth, char *why, size_t n)
{
	t_cfg *c = arg;

	if (nth == 0) {
		c->n_list = 0;
	}
	if (c->n_list == 4) {
		snprintf(why, n, "at most 4");
		return -1;
	}
	c->list[c->n_list++] = v;
	return 0;
}

static const up_flag table[] = {
    UP_FLAG_STR(t_cfg, name, "name", "S", "a name"),
    UP_FLAG_NUM(t_cfg, n, "n", "N", 1, 100, "a number"),
    UP_FLAG_NUM(t_cfg, big, "big", "N", 0, 1ul << 40, "a size"),
    UP_FLAG_BOOL(t_cfg, sw, "sw", "a switch"),
    UP_FLAG_FN("item", "X", true, set_item, "a list"),
};

static char dir[] = "/tmp/test_flags.XXXXXX";

/* Writes text to a file of the temp dir; returns its path (static). */
static const char *
conf(const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.conf", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* Parses argv (NULL-terminated, argv[0] added) into a fresh cfg, with
 * stderr captured into err. */
static up_flags_result
run(t_cfg *c, up_flags *f, char *err, size_t errsize, const char **args)
{
	char *argv[32] = {"prog"};
	int argc = 1, saved = dup(STDERR_FILENO);
	char path[256];
	FILE *cap;
	up_flags_result r;
	size_t got;

	while (args[argc - 1] != NULL) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	memset(c, 0, sizeof(*c));
	c->n = 7;
	memset(f, 0, sizeof(*f));
	f->prog = "prog";
	f->synopsis = "[options]";
	f->table = table;
	f->n = sizeof(table) / sizeof(table[0]);
	f->cfg = c;
	snprintf(path, sizeof(path), "%s/err", dir);
	cap = fopen(path, "w+");
	fflush(stderr);
	dup2(fileno(cap), STDERR_FILENO);
	r = up_flags_parse(f, argc, argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(cap);
	got = fread(err, 1, errsize - 1, cap);
	err[got] = '\0';
	fclose(cap);
	return r;
}

int
main(void)
{
	char err[4096];
	t_cfg c;
	up_flags f;

	if (mkdtemp(dir) == NULL) {
		return 1;
	}

	/* The command line alone, both spellings. */
	CHECK_INT(run(&c, &f, err, sizeof(err),
		      (const char *[]){"--name", "a", "--n=42", "--sw",
				       "--item", "x", "--item=y", NULL}),
		  UP_FLAGS_RUN);
	CHECK_STR(c.name, "a");
	CHECK_INT(c.n, 42);
	CHECK(c.sw);
	CHECK_INT(c.n_list, 2);
	CHECK_STR(c.list[1], "y");
	up_flags_fini(&f);

	/* The file: comments, blanks, spaces, a switch's words; a 64-bit
	 * field. */
	const char *p = conf("# a comment\n\n  name =  file name  \n"
			     "\t# another\nn=9\r\nbig = 1099511627776\n"
			     "sw = yes\nitem = a\nitem = b\n");
	CHECK_INT(run(&c, &f, err, sizeof(err),
		      (const char *[]){"--config", p, NULL}),
		  UP_FLAGS_RUN);
	CHECK_STR(c.name, "file name");
	CHECK_INT(c.n, 9);
	CHECK(c.big == (size_t)1 << 40);
	CHECK(c.sw);
	CHECK_INT(c.n_list, 2);
	CHECK_STR(err, "");
	up_flags_fini(&f);

	/* Flags override the file, wherever --config stands; a list given
	 * on the command line replaces the file's list. */
	CHECK_INT(run(&c, &f, err, sizeof(err),
		      (const char *[]){"--n", "11", "--config", p, "--item",
				       "cli", "--sw=false", NULL}),
		  UP_FLAGS_RUN);
	CHECK_STR(c.name, "file name");
	CHECK_INT(c.n, 11);
	CHECK(!c.sw);
	CHECK_INT(c.n_list, 1);
	CHECK_STR(c.list[0], "cli");
	up_flags_fini(&f);

	/* Each bad line is named by its number; all are reported. */
	p = conf("name = ok\nbogus = 1\nn = 1000\nsw = maybe\njust words\n"
		 "name =\nconfig = /etc/x\n");
	CHECK_INT(run(&c, &f, err, sizeof(err),
		      (const char *[]){"--config", p, NULL}),
		  UP_FLAGS_USAGE);
	CHECK(strstr(err, "t.conf:2: unknown key \"bogus\"") != NULL);
	CHECK(strstr(err, "t.conf:3: n = 1000: a number from 1 to 100") !=
	      NULL);
	CHECK(strstr(err, "t.conf:4: sw = maybe: true or false") != NULL);
	CHECK(strstr(err, "t.conf:5: not a \"key = value\" line") != NULL);
	CHECK(strstr(err, "t.conf:6: name = : empty") != NULL);
	CHECK(strstr(err, "t.conf:7: unknown key \"config\" (a command-line "
			  "flag only)") != NULL);
	up_flags_fini(&f);

	/* A list's own limit, in the file. */
	p = conf("item = 1\nitem = 2\nitem = 3\nitem = 4\nitem = 5\n");
	CHECK_INT(run(&c, &f, err, sizeof(err),
		      (const char *[]){"--config", p, NULL}),
		  UP_FLAGS_USAGE);
	CHECK(strstr(err, "t.conf:5: item = 5: at most 4") != NULL);
	up_flags_fini(&f);

	/* The command line's own mistakes. */
	CHECK_INT(
	    run(&c, &f, err, sizeof(err), (const char *[]){"--nope", NULL}),
	    UP_FLAGS_USAGE);
	CHECK(strstr(err, "unknown option --nope") != NULL);
	CHECK_INT(run(&c, &f, err, sizeof(err), (const char *[]){"--n", NULL}),
		  UP_FLAGS_USAGE);
	CHECK(strstr(err, "--n needs a value") != NULL);
	CHECK_INT(
	    run(&c, &f, err, sizeof(err), (const char *[]){"--n", "0", NULL}),
	    UP_FLAGS_USAGE);
	CHECK(strstr(err, "--n 0: a number from 1 to 100") != NULL);
	CHECK_INT(
	    run(&c, &f, err, sizeof(err), (const char *[]){"stray", NULL}),
	    UP_FLAGS_USAGE);
	CHECK_INT(
	    run(&c, &f, err, sizeof(err),
		(const char *[]){"--config", "/nonexistent/x.conf", NULL}),
	    UP_FLAGS_USAGE);
	CHECK(strstr(err, "/nonexistent/x.conf: No such file") != NULL);

	/* --check-config is noted, not acted on, by the parser. */
	CHECK_INT(run(&c, &f, err, sizeof(err),
		      (const char *[]){"--check-config", "--n", "5", NULL}),
		  UP_FLAGS_RUN);
	CHECK(f.check_only);
	CHECK_INT(c.n, 5);

	snprintf(err, sizeof(err), "rm -rf %s", dir);
	if (system(err) != 0) {
		return 1;
	}
	return check_done();
}
