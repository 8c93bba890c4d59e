/*
 * log.c - one-line log records (users_log.h). Set up once at start; each
 * record is built in a buffer of its own and written with one write(2) to
 * stderr, so records of several threads never interleave and a rotated
 * --log-file (dup2 onto stderr) gets whole lines.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "users_log.h"

#define LINE_MAX_BYTES 4096
#define VALUE_MAX      256

static const char *log_prog = "users";
static up_log_format log_format = UP_LOG_TEXT;
static up_log_level log_min = UP_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const format_names[] = {"text", "logfmt", "json"};

void
up_log_setup(const char *prog, up_log_format format, up_log_level min)
{
	log_prog = prog;
	log_format = format;
	log_min = min;
}

int
up_log_format_parse(const char *s, up_log_format *out)
{
	for (int i = 0; i < 3; i++) {
		if (strcmp(s, format_names[i]) == 0) {
			*out = (up_log_format)i;
			return 0;
		}
	}
	return -1;
}

int
up_log_level_parse(const char *s, up_log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (up_log_level)i;
			return 0;
		}
	}
	return -1;
}

int
up_log_format_flag(void *field, const char *value, unsigned nth, char *why,
		   size_t why_size)
{
	(void)nth;
	if (up_log_format_parse(value, field) != 0) {
		snprintf(why, why_size, "text, logfmt or json");
		return -1;
	}
	return 0;
}

int
up_log_level_flag(void *field, const char *value, unsigned nth, char *why,
		  size_t why_size)
{
	(void)nth;
	if (up_log_level_parse(value, field) != 0) {
		snprintf(why, why_size, "debug, info, warn or error");
		return -1;
	}
	return 0;
}

/* The line being built; full: the rest is dropped (the line still ends). */
typedef struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
} line;

static void
put(line *l, const char *s, size_t n)
{
	if (n > sizeof(l->buf) - 2 - l->len) {
		n = sizeof(l->buf) - 2 - l->len; /* room for "}\n" */
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
puts_(line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* logfmt quotes a value with a space, '=', '"' or a control character. */
static bool
needs_quotes(const char *v, size_t n)
{
	if (n == 0) {
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c <= ' ' || c == '=' || c == '"' || c == '\\' ||
		    c == 0x7f) {
			return true;
		}
	}
	return false;
}

/* v escaped as JSON and quoted logfmt both accept. */
static void
put_escaped(line *l, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c == '\n') {
			put(l, "\\n", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(l, esc, 6);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
}

static void
field(line *l, const char *key, const char *value, bool first)
{
	size_t n = strnlen(value, VALUE_MAX);

	switch (log_format) {
	case UP_LOG_JSON:
		puts_(l, first ? "{\"" : ",\"");
		puts_(l, key);
		puts_(l, "\":\"");
		put_escaped(l, value, n);
		puts_(l, "\"");
		break;
	case UP_LOG_LOGFMT:
	case UP_LOG_TEXT:
		if (!first) {
			puts_(l, " ");
		}
		puts_(l, key);
		puts_(l, "=");
		if (needs_quotes(value, n)) {
			puts_(l, "\"");
			put_escaped(l, value, n);
			puts_(l, "\"");
		} else {
			put(l, value, n);
		}
		break;
	}
}

void
up_log(up_log_level level, const char *event, const char *msg, ...)
{
	line l = {.len = 0};
	bool first = true;
	const char *key;
	va_list ap;

	if (level < log_min || level > UP_LOG_ERROR) {
		return;
	}
	if (log_format == UP_LOG_TEXT) {
		puts_(&l, log_prog);
		puts_(&l, ": ");
		put(&l, msg, strnlen(msg, VALUE_MAX));
		first = false;
	} else {
		struct timespec ts;
		struct tm tm;
		char when[40];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		size_t k;

		k = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(when + k, sizeof(when) - k, ".%03uZ",
			 (unsigned)(ts.tv_nsec / 1000000) % 1000u);
		field(&l, "time", when, true);
		field(&l, "level", level_names[level], false);
		field(&l, "prog", log_prog, false);
		field(&l, "event", event, false);
		field(&l, "msg", msg, false);
		first = false;
	}
	va_start(ap, msg);
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		/* the text form shows a value once: not when the message
		 * already has it ("listening on URL" and url=URL) */
		if (value != NULL &&
		    !(log_format == UP_LOG_TEXT && value[0] != '\0' &&
		      strstr(msg, value) != NULL)) {
			field(&l, key, value, first);
		}
	}
	va_end(ap);
	if (log_format == UP_LOG_JSON) {
		l.buf[l.len++] = '}';
	}
	l.buf[l.len++] = '\n';
	(void)!write(STDERR_FILENO, l.buf, l.len);
}
