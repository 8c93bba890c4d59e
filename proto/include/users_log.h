/*
 * users_log.h - one-line log records with a level, an event name and
 * key=value fields, in one of three formats chosen at start:
 *
 *   text    usersd: sign-in refused method=Authenticate code=... (the
 *           programs' usual "prog: message" lines, fields after them,
 *           but for those whose value the message already shows)
 *   logfmt  time=2026-01-02T03:04:05.678Z level=warn prog=usersd
 *           event=signin_failed msg="sign-in refused" method=...
 *   json    {"time":"...","level":"warn","prog":"usersd",
 *            "event":"signin_failed","msg":"sign-in refused",...}
 *
 * A record goes to stderr (so to --log-file) in one write(2), whole,
 * from any thread. Values are cut at 256 bytes and escaped; callers never
 * pass a password, token or hash.
 */
#ifndef USERS_LOG_H
#define USERS_LOG_H

typedef enum up_log_level {
	UP_LOG_DEBUG,
	UP_LOG_INFO,
	UP_LOG_WARN,
	UP_LOG_ERROR,
} up_log_level;

typedef enum up_log_format {
	UP_LOG_TEXT,
	UP_LOG_LOGFMT,
	UP_LOG_JSON,
} up_log_format;

/* Once, before any thread logs. The defaults: "users", text, info. */
void up_log_setup(const char *prog, up_log_format format, up_log_level min);
/* "text", "logfmt", "json" / "debug", "info", "warn", "error". 0 or -1. */
int up_log_format_parse(const char *s, up_log_format *out);
int up_log_level_parse(const char *s, up_log_level *out);
/* The same as flag setters (up_flag_set_fn): field is an up_log_format or
 * an up_log_level; -1 with the accepted words in why. */
int up_log_format_flag(void *field, const char *value, unsigned nth, char *why,
		       size_t why_size);
int up_log_level_flag(void *field, const char *value, unsigned nth, char *why,
		      size_t why_size);

/*
 * One record: event (a short snake_case name), msg (words for people),
 * then key, value pairs (const char *), NULL after the last key. A NULL
 * value is left out. Below the minimum level: nothing.
 */
void up_log(up_log_level level, const char *event, const char *msg, ...)
    __attribute__((sentinel));

#endif /* USERS_LOG_H */
