/*
 * gw_log.c - the gateway's log files: its own diagnostics (stderr, or
 * --log-file) and the access log (--access-log), one line per request,
 * both opened again on SIGHUP so that log rotation can move them away.
 *
 * The access log is an h2o logger (called once a response is done, on the
 * request's loop thread) with a fixed format compiled by h2o's logconf,
 * which escapes what the client sent. It names the path without the query
 * string (a query may carry a field as private as a refresh token) and
 * ends with the request id the call carried (X-Request-Id). One write(2)
 * per line to a file opened O_APPEND: lines of the loops never interleave,
 * and a reopen (dup2) swaps the file between two lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "gw.h"
#include "users_log.h"

/*
 * client address, time, request line without the query, status, body
 * bytes, user agent, seconds from the request to its last byte, the
 * request id; then, added by log_access from the request's environment
 * (route, daemon: gw_request.c names them; ours, never the client's), the
 * route (the operation, as /metrics labels it) and the daemon that
 * answered ("-": none). Not as h2o's %{...}e: h2o 2.2's
 * h2o_logconf_dispose does not free those names.
 */
#define ACCESS_FORMAT                                                          \
	"%h - - %t \"%m %U %H\" %s %b \"%{user-agent}i\" %{duration}x "        \
	"%{x-request-id}o"

typedef struct gw_access_logger {
	h2o_logger_t super; /* first: h2o hands this back */
	gw_server *srv;
} gw_access_logger;

static void
log_access(h2o_logger_t *self, h2o_req_t *req)
{
	gw_server *srv = ((gw_access_logger *)self)->srv;
	char buf[4096], tail[512], *line;
	size_t len = sizeof(buf);
	const h2o_iovec_t *route, *daemon;
	struct iovec iov[2];
	ssize_t n;
	int tn;

	/* the line ends with its newline (h2o_logconf_compile adds it) */
	line = h2o_log_request(srv->access_format, req, &len, buf);
	if (line == NULL || len == 0) {
		goto out;
	}
	route = h2o_req_getenv(req, H2O_STRLIT("route"), 0);
	daemon = h2o_req_getenv(req, H2O_STRLIT("daemon"), 0);
	tn = snprintf(tail, sizeof(tail), " %.*s %.*s\n",
		      route != NULL ? (int)route->len : 1,
		      route != NULL ? route->base : "-",
		      daemon != NULL ? (int)daemon->len : 1,
		      daemon != NULL ? daemon->base : "-");
	if (tn < 0 || (size_t)tn >= sizeof(tail)) {
		tn = snprintf(tail, sizeof(tail), " - -\n"); /* cannot be */
	}
	iov[0] = (struct iovec){line, len - 1}; /* without its newline */
	iov[1] = (struct iovec){tail, (size_t)tn};
	do {
		n = writev(srv->access.fd, iov, 2);
	} while (n < 0 && errno == EINTR);
out:
	if (line != NULL && line != buf) {
		free(line);
	}
}

int
gw_log_open(gw_server *srv)
{
	char err[256];
	int rc;

	srv->log.fd = -1;
	srv->access.fd = -1;
	if (srv->cfg.log_file != NULL &&
	    (rc = up_logfile_open(&srv->log, srv->cfg.log_file,
				  STDERR_FILENO)) != 0) {
		fprintf(stderr, "usersgw: --log-file %s: %s\n",
			srv->cfg.log_file, strerror(rc));
		return -1;
	}
	if (srv->cfg.access_log == NULL) {
		return 0;
	}
	if ((rc = up_logfile_open(&srv->access, srv->cfg.access_log, -1)) !=
	    0) {
		fprintf(stderr, "usersgw: --access-log %s: %s\n",
			srv->cfg.access_log, strerror(rc));
		return -1;
	}
	srv->access_format =
	    h2o_logconf_compile(ACCESS_FORMAT, H2O_LOGCONF_ESCAPE_APACHE, err);
	if (srv->access_format == NULL) {
		fprintf(stderr, "usersgw: access log format: %s\n", err);
		return -1;
	}
	return 0;
}

int
gw_log_register(gw_server *srv, h2o_pathconf_t *path)
{
	gw_access_logger *l;

	if (srv->access_format == NULL) {
		return 0;
	}
	l = (gw_access_logger *)h2o_create_logger(path, sizeof(*l));
	if (l == NULL) {
		return -1;
	}
	l->super.log_access = log_access;
	l->srv = srv;
	return 0;
}

void
gw_log_reopen(gw_server *srv)
{
	int rc;

	if ((rc = up_logfile_reopen(&srv->log)) != 0) {
		fprintf(stderr,
			"usersgw: SIGHUP: --log-file %s: %s (kept "
			"the old file)\n",
			srv->cfg.log_file, strerror(rc));
	}
	if ((rc = up_logfile_reopen(&srv->access)) != 0) {
		fprintf(stderr,
			"usersgw: SIGHUP: --access-log %s: %s (kept "
			"the old file)\n",
			srv->cfg.access_log, strerror(rc));
	}
	up_log(UP_LOG_INFO, "reopened", "SIGHUP: log files reopened", NULL);
}

void
gw_log_close(gw_server *srv)
{
	if (srv->access_format != NULL) {
		h2o_logconf_dispose(srv->access_format);
		srv->access_format = NULL;
	}
	up_logfile_fini(&srv->access);
	up_logfile_fini(&srv->log);
}
