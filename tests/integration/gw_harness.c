/*
 * gw_harness.c - usersgw for the integration tests (see gw_harness.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_harness.h"

extern char **environ;

#define IO_TIMEOUT 10000 /* ms, one HTTP exchange */
#define READY_MS   10000

void
gwh_nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* ------------------------------------------------------------------------
 * The gateway process
 */

int
gwh_read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		buf[0] = '\0';
		return -1;
	}
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

void
gwh_dump_log(const gwh_proc *g)
{
	char buf[8192];

	gwh_read_file(g->log, buf, sizeof(buf));
	fprintf(stderr, "---- %s\n%s----\n", g->log, buf);
}

int
gwh_spawn(gwh_proc *g, const th_daemon *d, const char *name,
	  const char *const *args)
{
	char bin[512];
	const char *argv[40];
	size_t n = 0;
	long long until;
	int logfd;

	memset(g, 0, sizeof(*g));
	if (th_bin("usersgw", bin, sizeof(bin)) != 0) {
		return -1;
	}
	snprintf(g->log, sizeof(g->log), "%s/%s.log", d->dir, name);
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--daemon";
	argv[n++] = d->url;
	for (size_t i = 0; args != NULL && args[i] != NULL && n < 38; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	logfd = open(g->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0) {
		return -1;
	}
	g->pid = fork();
	if (g->pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		dup2(logfd, STDERR_FILENO);
		execve(bin, (char *const *)argv, environ);
		_exit(127);
	}
	close(logfd);
	if (g->pid < 0) {
		g->pid = 0;
		return -1;
	}
	until = th_now_ms() + READY_MS;
	while (th_now_ms() < until) {
		char buf[4096];
		const char *p;
		int status;

		gwh_read_file(g->log, buf, sizeof(buf));
		if ((p = strstr(buf, "usersgw: ready on ")) != NULL &&
		    (p = strstr(p, "127.0.0.1:")) != NULL &&
		    sscanf(p + 10, "%d", &g->port) == 1 && g->port > 0) {
			return 0;
		}
		if (waitpid(g->pid, &status, WNOHANG) == g->pid) {
			g->pid = 0;
			break;
		}
		gwh_nap_ms(10);
	}
	fprintf(stderr, "usersgw did not become ready\n");
	gwh_dump_log(g);
	if (g->pid > 0) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		g->pid = 0;
	}
	return -1;
}

int
gwh_start(gwh_proc *g, const th_daemon *d, const char *name,
	  const char *const *extra)
{
	const char *args[40] = {"--threads", "2",          "--max-body",
				"4096",      "--deadline", "1000"};
	size_t n = 6;

	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 39; i++) {
		args[n++] = extra[i];
	}
	args[n] = NULL;
	return gwh_spawn(g, d, name, args);
}

/* SIGTERM; the exit status (0: clean), 128+sig when it had to be killed. */
int
gwh_stop(gwh_proc *g)
{
	long long until = th_now_ms() + 10000;
	int status = 0;

	if (g->pid <= 0) {
		return -1;
	}
	kill(g->pid, SIGTERM);
	while (th_now_ms() < until) {
		if (waitpid(g->pid, &status, WNOHANG) == g->pid) {
			g->pid = 0;
			if (WIFEXITED(status)) {
				if (WEXITSTATUS(status) != 0) {
					gwh_dump_log(g);
				}
				return WEXITSTATUS(status);
			}
			gwh_dump_log(g);
			return 128 + WTERMSIG(status);
		}
		gwh_nap_ms(10);
	}
	fprintf(stderr, "usersgw did not stop on SIGTERM\n");
	gwh_dump_log(g);
	kill(g->pid, SIGKILL);
	waitpid(g->pid, NULL, 0);
	g->pid = 0;
	return 128 + SIGKILL;
}

/* ------------------------------------------------------------------------
 * A small HTTP/1.1 client (one request per connection)
 */

void
gwh_res_fini(gwh_res *r)
{
	free(r->raw);
	if (r->json != NULL) {
		json_decref(r->json);
	}
	memset(r, 0, sizeof(*r));
}

int
gwh_connect(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
gwh_send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
parse_response(gwh_res *r, size_t len)
{
	char *eol, *end;

	r->status = -1;
	if (len < 12 || strncmp(r->raw, "HTTP/1.1 ", 9) != 0 ||
	    (eol = strstr(r->raw, "\r\n")) == NULL ||
	    (end = strstr(r->raw, "\r\n\r\n")) == NULL) {
		return;
	}
	r->status = atoi(r->raw + 9);
	if (eol - r->raw > 13) {
		size_t rl = (size_t)(eol - (r->raw + 13));

		if (rl >= sizeof(r->reason)) {
			rl = sizeof(r->reason) - 1;
		}
		memcpy(r->reason, r->raw + 13, rl);
		r->reason[rl] = '\0';
	}
	r->headers = eol + 2;
	r->headers_len = (size_t)(end + 2 - r->headers);
	r->body = end + 4;
	r->body_len = len - (size_t)(r->body - r->raw);
	if (r->body_len > 0) {
		r->json = json_loadb(r->body, r->body_len, 0, NULL);
	}
}

/*
 * One request: method, path, extra header lines ("Name: value", NULL
 * ended, may be NULL), body (NULL: none; a Content-Length is added when
 * non-NULL). r->status -1 when there was no answer.
 */
void
gwh_http(int port, const char *method, const char *path,
	 const char *const *headers, const char *body, gwh_res *r)
{
	gwh_http_bin(port, method, path, headers, body,
		     body != NULL ? strlen(body) : 0, r);
}

void
gwh_http_bin(int port, const char *method, const char *path,
	     const char *const *headers, const char *body, size_t body_len,
	     gwh_res *r)
{
	char *req = NULL;
	size_t req_len = 0;
	FILE *f = open_memstream(&req, &req_len);
	size_t cap = 65536, len = 0;
	long long until = th_now_ms() + IO_TIMEOUT;
	bool own_host = false;
	int fd;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (f == NULL) {
		return;
	}
	fprintf(f, "%s %s HTTP/1.1\r\nConnection: close\r\n", method, path);
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		fprintf(f, "%s\r\n", headers[i]);
		own_host |= strncasecmp(headers[i], "Host:", 5) == 0;
	}
	if (!own_host) {
		fprintf(f, "Host: 127.0.0.1\r\n");
	}
	if (body != NULL) {
		fprintf(f, "Content-Length: %zu\r\n", body_len);
	}
	fprintf(f, "\r\n");
	if (body != NULL) {
		fwrite(body, 1, body_len, f);
	}
	fclose(f);
	fd = gwh_connect(port);
	if (fd < 0 || gwh_send_all(fd, req, req_len) != 0) {
		if (fd >= 0) {
			close(fd);
		}
		free(req);
		return;
	}
	free(req);
	r->raw = malloc(cap + 1);
	while (r->raw != NULL && th_now_ms() < until) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0) {
			continue;
		}
		if (len == cap) {
			char *bigger = realloc(r->raw, cap * 2 + 1);

			if (bigger == NULL) {
				break;
			}
			r->raw = bigger;
			cap *= 2;
		}
		n = recv(fd, r->raw + len, cap - len, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (r->raw == NULL) {
		return;
	}
	r->raw[len] = '\0';
	parse_response(r, len);
}

/* The n-th header named name (case-insensitive) into buf; NULL. */
const char *
gwh_header(const gwh_res *r, const char *name, int nth, char *buf, size_t size)
{
	size_t nl = strlen(name);
	const char *p = r->headers;
	const char *end = r->headers ? r->headers + r->headers_len : NULL;

	while (p != NULL && p < end) {
		const char *eol = strstr(p, "\r\n");

		if (eol == NULL || eol > end) {
			break;
		}
		if ((size_t)(eol - p) > nl + 1 &&
		    strncasecmp(p, name, nl) == 0 && p[nl] == ':' &&
		    nth-- == 0) {
			const char *v = p + nl + 1;
			size_t vl;

			while (*v == ' ') {
				v++;
			}
			vl = (size_t)(eol - v);
			if (vl >= size) {
				vl = size - 1;
			}
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return buf;
		}
		p = eol + 2;
	}
	return NULL;
}

long long
gwh_series(const char *text, const char *series)
{
	char want[512];
	const char *p;

	snprintf(want, sizeof(want), "\n%s ", series);
	p = text != NULL ? strstr(text, want) : NULL;
	return p != NULL ? strtoll(p + strlen(want), NULL, 10) : -1;
}

long long
gwh_metric(int port, const char *series)
{
	long long v = -1;
	gwh_res r;

	gwh_http(port, "GET", "/metrics", NULL, NULL, &r);
	if (r.status == 200) {
		v = gwh_series(r.body, series);
	}
	gwh_res_fini(&r);
	return v;
}

long long
gwh_guard_metric(int port, const char *url, const char *result)
{
	char series[640];

	if (result != NULL) {
		snprintf(series, sizeof(series),
			 "usersd_listener_probes_total{listener=\"%s\","
			 "result=\"%s\"}",
			 url, result);
	} else {
		snprintf(series, sizeof(series),
			 "usersd_listeners_renewed_total{listener=\"%s\"}",
			 url);
	}
	return gwh_metric(port, series);
}

long long
gwh_daemon_metric(int port, const char *name, const char *daemon_url)
{
	char series[512];

	snprintf(series, sizeof(series), "%s{daemon=\"%s\"}", name, daemon_url);
	return gwh_metric(port, series);
}

/*
 * Reads one keep-alive answer from fd (headers and Content-Length bytes of
 * body) within wait_ms; its status, or -1.
 */
int
gwh_read_answer(int fd, int wait_ms)
{
	char buf[8192];
	size_t n = 0;
	long long until = th_now_ms() + wait_ms;

	while (n < sizeof(buf) - 1 && th_now_ms() < until) {
		struct pollfd pfd = {fd, POLLIN, 0};
		const char *end, *cl;
		ssize_t got;

		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end != NULL) {
			for (cl = buf;
			     cl < end &&
			     strncasecmp(cl, "\r\ncontent-length:", 17) != 0;
			     cl++) {
			}
			if (cl < end && n >= (size_t)(end + 4 - buf) +
						 strtoul(cl + 17, NULL, 10)) {
				return atoi(buf + 9); /* "HTTP/1.1 200" */
			}
		}
		if (poll(&pfd, 1, 100) != 1) {
			continue;
		}
		got = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (got <= 0) {
			return -1;
		}
		n += (size_t)got;
	}
	return -1;
}

int
gwh_admin_login(int port, char *token, size_t size)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	const char *tok;
	gwh_res r;
	int st;

	gwh_http(port, "POST", "/auth/credentials", h,
		 "{\"userName\":\"" TH_ADMIN_EMAIL
		 "\",\"password\":\"" TH_ADMIN_PASSWORD "\"}",
		 &r);
	st = r.status;
	tok = json_string_value(json_object_get(r.json, "bearerToken"));
	if (st == 200 && tok != NULL) {
		snprintf(token, size, "%s", tok);
	}
	gwh_res_fini(&r);
	return st;
}
