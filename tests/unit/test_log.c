/*
 * test_log.c - proto/log.c: one record a line in each format, its fields
 * escaped (quotes, backslashes, newlines and control characters never
 * break a line or a JSON string), values cut at 256 bytes, records below
 * the level dropped, and the text form showing a value once.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "users_log.h"

static char path[] = "/tmp/test_log.XXXXXX";

/* Runs the logging in fn with stderr into a file; returns its text. */
static char *
capture(void (*fn)(void))
{
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char *buf = calloc(1, 16384);
	ssize_t n;

	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, 16383);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	return buf;
}

static void
events(void)
{
	up_log(UP_LOG_DEBUG, "chatter", "not shown", NULL);
	up_log(UP_LOG_INFO, "listening", "listening on ipc:///x", "url",
	       "ipc:///x", NULL);
	up_log(UP_LOG_WARN, "signin_failed", "sign-in refused", "login",
	       "a \"b\"\\c\nd\x01 e=f", "code", "Unauthorized", "none", NULL,
	       NULL);
}

static void
long_value(void)
{
	char v[1000];

	memset(v, 'x', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	up_log(UP_LOG_ERROR, "big", "big", "v", v, NULL);
}

int
main(void)
{
	char *s, *nl;
	json_t *j;

	/* text: the program's line, fields after it, a value shown once */
	up_log_setup("prog", UP_LOG_TEXT, UP_LOG_INFO);
	s = capture(events);
	CHECK_STR(s,
		  "prog: listening on ipc:///x\n"
		  "prog: sign-in refused login=\"a \\\"b\\\"\\\\c\\nd\\u0001 "
		  "e=f\" code=Unauthorized\n");
	free(s);

	/* logfmt: time, level, prog, event, msg, then the fields */
	up_log_setup("prog", UP_LOG_LOGFMT, UP_LOG_WARN);
	s = capture(events);
	CHECK(strncmp(s, "time=", 5) == 0 && strlen(s) > 30 && s[28] == 'Z');
	CHECK(strstr(s, " level=warn prog=prog event=signin_failed "
			"msg=\"sign-in refused\" login=\"a \\\"b\\\"\\\\c\\nd"
			"\\u0001 e=f\" code=Unauthorized\n") != NULL);
	CHECK(strstr(s, "listening") == NULL); /* below warn */
	CHECK(strchr(s, '\n') == s + strlen(s) - 1);
	free(s);

	/* json: one object a line, the value back as it was sent */
	up_log_setup("prog", UP_LOG_JSON, UP_LOG_DEBUG);
	s = capture(events);
	nl = strchr(s, '\n');
	CHECK(nl != NULL);
	if (nl != NULL) {
		j = json_loadb(s, (size_t)(nl - s), 0, NULL);
		CHECK_STR(json_string_value(json_object_get(j, "event")),
			  "chatter");
		CHECK_STR(json_string_value(json_object_get(j, "level")),
			  "debug");
		json_decref(j);
		nl = strchr(nl + 1, '\n');
		nl = nl != NULL ? strchr(nl + 1, '\n') : NULL;
	}
	CHECK(nl != NULL && nl[1] == '\0');
	j = json_loads(strrchr(s, '{'), 0, NULL);
	CHECK(j != NULL);
	CHECK_STR(json_string_value(json_object_get(j, "login")),
		  "a \"b\"\\c\nd\x01 e=f");
	CHECK(json_object_get(j, "none") == NULL);
	CHECK(json_object_get(j, "url") == NULL);
	json_decref(j);
	free(s);

	/* a long value: cut at 256 bytes, the record still one line */
	s = capture(long_value);
	j = json_loads(s, 0, NULL);
	CHECK(j != NULL);
	CHECK_INT(strlen(json_string_value(json_object_get(j, "v"))), 256);
	json_decref(j);
	free(s);

	/* the names */
	up_log_format f;
	up_log_level l;
	CHECK_INT(up_log_format_parse("logfmt", &f), 0);
	CHECK_INT(f, UP_LOG_LOGFMT);
	CHECK_INT(up_log_format_parse("xml", &f), -1);
	CHECK_INT(up_log_level_parse("warn", &l), 0);
	CHECK_INT(l, UP_LOG_WARN);
	CHECK_INT(up_log_level_parse("loud", &l), -1);
	return check_done();
}
