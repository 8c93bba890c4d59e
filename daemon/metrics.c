/*
 * metrics.c - usersd's figures, their /metrics listener, and the log
 * records of refusals (metrics.h). The listener is one thread doing
 * blocking accept and short blocking reads and writes (2 s timeouts):
 * nothing of the call path waits on it.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "metrics.h"
#include "service.h"
#include "users_log.h"

/* Upper bounds of the latency buckets, milliseconds (+Inf last). */
static const unsigned bucket_ms[UD_M_BUCKETS - 1] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};

static void
add(atomic_uint_least64_t *a)
{
	atomic_fetch_add_explicit(a, 1, memory_order_relaxed);
}

static uint64_t
load(const atomic_uint_least64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

static size_t
method_slot(const ud_call *c)
{
	if (c->method == NULL || c->method->index >= UD_M_METHODS - 1) {
		return UD_M_METHODS - 1;
	}
	return c->method->index;
}

void
ud_metrics_observe(ud_call *c, int status)
{
	ud_metrics *m = &c->svc->metrics;
	size_t slot = method_slot(c);
	int64_t ms = ud_now_ms() - c->received_ms;
	size_t b = 0;
	const char *method = c->method != NULL ? c->method->desc->name : "-";
	const char *code = c->error != NULL && c->error->error_code != NULL
			       ? c->error->error_code
			       : up_status_error_code(status);
	char actor_id[24];

	if (ms < 0) {
		ms = 0; /* the wall clock stepped back */
	}
	add(&m->calls[slot][status >= 0 && status < UD_M_CODES ? status
							       : UP_UNKNOWN]);
	while (b < UD_M_BUCKETS - 1 && (uint64_t)ms > bucket_ms[b]) {
		b++;
	}
	add(&m->latency[slot][b]);
	atomic_fetch_add_explicit(&m->latency_sum_ms[slot], (uint64_t)ms,
				  memory_order_relaxed);

	snprintf(actor_id, sizeof(actor_id), "%" PRId64, c->actor.id);
	if (status == UP_UNAUTHENTICATED && c->login_name != NULL) {
		add(&m->signin_failures);
		up_log(UP_LOG_WARN, "signin_failed", "sign-in refused",
		       "method", method, "login", c->login_name, "code", code,
		       NULL);
	} else if (status == UP_RESOURCE_EXHAUSTED && c->login_name != NULL) {
		add(&m->signin_locked);
		up_log(UP_LOG_WARN, "signin_locked",
		       "sign-in refused: too many failures", "method", method,
		       "login", c->login_name, "code", code, NULL);
	} else if (status == UP_UNAUTHENTICATED) {
		add(&m->unauthenticated);
		up_log(UP_LOG_WARN, "unauthenticated", "credentials refused",
		       "method", method, "code", code, NULL);
	} else if (status == UP_PERMISSION_DENIED) {
		add(&m->denied);
		up_log(UP_LOG_WARN, "denied", "call refused", "method", method,
		       "actor_id", actor_id, "actor", c->actor.email, "code",
		       code, NULL);
	}
}

void
ud_metrics_replayed(ud_service *svc, bool from_log)
{
	add(from_log ? &svc->metrics.replayed_log
		     : &svc->metrics.replayed_memory);
}

/* The bytes of the SQLite write-ahead log beside the database (-1: none,
 * or a PostgreSQL store). */
static long long
wal_bytes(const ud_service *svc)
{
	char path[4096];
	struct stat st;
	const char *db = svc->cfg->db_path;

	if (db == NULL || ud_store_target_is_pg(db) ||
	    (size_t)snprintf(path, sizeof(path), "%s-wal", db) >=
		sizeof(path) ||
	    stat(path, &st) != 0) {
		return -1;
	}
	return (long long)st.st_size;
}

/* A growing text buffer; on failure it stays failed (ok false). */
typedef struct text {
	char *p;
	size_t len, cap;
	bool ok;
} text;

static void addf(text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
addf(text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int tries = 0; t->ok && tries < 2; tries++) {
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->ok = false;
		} else if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		} else {
			size_t cap = t->cap * 2 + (size_t)n;
			char *p = realloc(t->p, cap);
			if (p == NULL) {
				t->ok = false;
			} else {
				t->p = p;
				t->cap = cap;
			}
		}
	}
}

/* A label's value: \\, " and newline escaped (the exposition format's). */
static void
add_label_value(text *t, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"') {
			addf(t, "\\%c", *v);
		} else if (*v == '\n') {
			addf(t, "\\n");
		} else {
			addf(t, "%c", *v);
		}
	}
}

/* The listener guard's figures, a series per listener. */
static void
render_listeners(text *t, ud_metrics *m)
{
	static const char *const result[] = {"taken", "missed"};

	addf(t, "# HELP usersd_listener_probes_total The listener guard's "
		"new connections to a listener, by whether it took them.\n"
		"# TYPE usersd_listener_probes_total counter\n");
	for (size_t i = 0; i < m->n_listeners; i++) {
		const struct ud_m_listener *l = &m->listeners[i];
		const atomic_uint_least64_t *n[] = {&l->probes_taken,
						    &l->probes_missed};

		for (size_t r = 0; r < 2; r++) {
			addf(t, "usersd_listener_probes_total{listener=\"");
			add_label_value(t, l->url);
			addf(t, "\",result=\"%s\"} %" PRIu64 "\n", result[r],
			     load(n[r]));
		}
	}
	addf(t, "# HELP usersd_listeners_renewed_total Times a listener "
		"stopped accepting connections (an nng 1.5 bug) and was made "
		"anew.\n"
		"# TYPE usersd_listeners_renewed_total counter\n");
	for (size_t i = 0; i < m->n_listeners; i++) {
		addf(t, "usersd_listeners_renewed_total{listener=\"");
		add_label_value(t, m->listeners[i].url);
		addf(t, "\"} %" PRIu64 "\n", load(&m->listeners[i].renewed));
	}
}

static const char *
slot_name(size_t i)
{
	return i < up_method_count() ? up_method_at(i)->desc->name : "unknown";
}

static bool
slot_used(size_t i)
{
	return i < up_method_count() || i == UD_M_METHODS - 1;
}

char *
ud_metrics_render(ud_service *svc, size_t *len)
{
	ud_metrics *m = &svc->metrics;
	text t = {malloc(16384), 0, 16384, true};
	ud_store_counters sc;
	char proc[4096];

	if (t.p == NULL) {
		return NULL;
	}
	addf(&t, "# HELP usersd_calls_total Calls answered, by method and "
		 "status.\n# TYPE usersd_calls_total counter\n");
	for (size_t i = 0; i < UD_M_METHODS; i++) {
		for (int s = 0; slot_used(i) && s < UD_M_CODES; s++) {
			uint64_t v = load(&m->calls[i][s]);
			if (v != 0 || s == UP_OK) {
				addf(&t,
				     "usersd_calls_total{method=\"%s\","
				     "status=\"%s\"} %" PRIu64 "\n",
				     slot_name(i), up_status_name(s), v);
			}
		}
	}
	addf(&t, "# HELP usersd_call_duration_seconds From a call's arrival "
		 "to its answer.\n"
		 "# TYPE usersd_call_duration_seconds histogram\n");
	for (size_t i = 0; i < UD_M_METHODS; i++) {
		uint64_t cum = 0;

		if (!slot_used(i)) {
			continue;
		}
		for (size_t b = 0; b < UD_M_BUCKETS; b++) {
			cum += load(&m->latency[i][b]);
			if (b < UD_M_BUCKETS - 1) {
				addf(&t,
				     "usersd_call_duration_seconds_bucket{"
				     "method=\"%s\",le=\"%g\"} %" PRIu64 "\n",
				     slot_name(i), bucket_ms[b] / 1000.0, cum);
			} else {
				addf(&t,
				     "usersd_call_duration_seconds_bucket{"
				     "method=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
				     slot_name(i), cum);
			}
		}
		addf(&t,
		     "usersd_call_duration_seconds_sum{method=\"%s\"} %.3f\n"
		     "usersd_call_duration_seconds_count{method=\"%s\"} "
		     "%" PRIu64 "\n",
		     slot_name(i), load(&m->latency_sum_ms[i]) / 1000.0,
		     slot_name(i), cum);
	}
	addf(&t,
	     "# HELP usersd_signin_failures_total Sign-ins refused for a "
	     "wrong name or password.\n"
	     "# TYPE usersd_signin_failures_total counter\n"
	     "usersd_signin_failures_total %" PRIu64 "\n"
	     "# HELP usersd_signin_locked_total Sign-ins refused because the "
	     "name had too many failures (lockout).\n"
	     "# TYPE usersd_signin_locked_total counter\n"
	     "usersd_signin_locked_total %" PRIu64 "\n"
	     "# HELP usersd_unauthenticated_total Calls refused for bad or "
	     "expired credentials.\n"
	     "# TYPE usersd_unauthenticated_total counter\n"
	     "usersd_unauthenticated_total %" PRIu64 "\n"
	     "# HELP usersd_denied_total Calls refused to their caller "
	     "(PERMISSION_DENIED).\n"
	     "# TYPE usersd_denied_total counter\n"
	     "usersd_denied_total %" PRIu64 "\n",
	     load(&m->signin_failures), load(&m->signin_locked),
	     load(&m->unauthenticated), load(&m->denied));
	addf(&t,
	     "# HELP usersd_replayed_total Retries (a request id seen "
	     "before) answered with their first answer, by where it was "
	     "found.\n"
	     "# TYPE usersd_replayed_total counter\n"
	     "usersd_replayed_total{from=\"memory\"} %" PRIu64 "\n"
	     "usersd_replayed_total{from=\"log\"} %" PRIu64 "\n",
	     load(&m->replayed_memory), load(&m->replayed_log));
	render_listeners(&t, m);
	if (wal_bytes(svc) >= 0) {
		addf(&t,
		     "# HELP usersd_sqlite_wal_bytes The size of the SQLite "
		     "write-ahead log.\n"
		     "# TYPE usersd_sqlite_wal_bytes gauge\n"
		     "usersd_sqlite_wal_bytes %lld\n",
		     wal_bytes(svc));
	}
	ud_store_stats(svc->store, &sc);
	addf(&t,
	     "# HELP usersd_store_writes_total Writes run by the store's "
	     "writers.\n"
	     "# TYPE usersd_store_writes_total counter\n"
	     "usersd_store_writes_total %" PRIu64 "\n"
	     "# HELP usersd_store_commits_total Batches of writes committed "
	     "(writes / commits: the mean batch).\n"
	     "# TYPE usersd_store_commits_total counter\n"
	     "usersd_store_commits_total %" PRIu64 "\n"
	     "# HELP usersd_store_commit_failures_total Batches rolled "
	     "back.\n"
	     "# TYPE usersd_store_commit_failures_total counter\n"
	     "usersd_store_commit_failures_total %" PRIu64 "\n"
	     "# HELP usersd_store_batch_largest Most writes in one commit "
	     "so far.\n"
	     "# TYPE usersd_store_batch_largest gauge\n"
	     "usersd_store_batch_largest %" PRIu64 "\n"
	     "# HELP usersd_store_write_queue Writes waiting for a writer.\n"
	     "# TYPE usersd_store_write_queue gauge\n"
	     "usersd_store_write_queue %" PRIu64 "\n"
	     "# HELP usersd_store_batch_seconds_total Time in batches, BEGIN "
	     "to COMMIT with its fsync (SQLite; 0 on PostgreSQL).\n"
	     "# TYPE usersd_store_batch_seconds_total counter\n"
	     "usersd_store_batch_seconds_total %.6f\n"
	     "# HELP usersd_store_checkpoints_total RESTART checkpoints "
	     "the writer ran; a reader may have held one back (SQLite).\n"
	     "# TYPE usersd_store_checkpoints_total counter\n"
	     "usersd_store_checkpoints_total %" PRIu64 "\n"
	     "# HELP usersd_store_wal_copies_total Passes of the copier, "
	     "which copies the WAL into the database beside the writer "
	     "(SQLite).\n"
	     "# TYPE usersd_store_wal_copies_total counter\n"
	     "usersd_store_wal_copies_total %" PRIu64 "\n"
	     "# HELP usersd_store_round_trips_total Waits for the database "
	     "server (PostgreSQL).\n"
	     "# TYPE usersd_store_round_trips_total counter\n"
	     "usersd_store_round_trips_total %" PRIu64 "\n"
	     "# HELP usersd_store_kept_hits_total GetUser targets answered "
	     "from the users kept, unchanged (PostgreSQL).\n"
	     "# TYPE usersd_store_kept_hits_total counter\n"
	     "usersd_store_kept_hits_total %" PRIu64 "\n",
	     sc.writes, sc.commits, sc.commit_failures, sc.largest_batch,
	     sc.queued, (double)sc.batch_ns / 1e9, sc.checkpoints, sc.copies,
	     sc.round_trips, sc.kept_hits);
	addf(&t,
	     "# HELP usersd_store_index_pending Users whose search-index "
	     "entries wait for the writer, at most (SQLite).\n"
	     "# TYPE usersd_store_index_pending gauge\n"
	     "usersd_store_index_pending %" PRIu64 "\n"
	     "# HELP usersd_store_index_rows_total Search-index entries the "
	     "writer brought up to date (SQLite).\n"
	     "# TYPE usersd_store_index_rows_total counter\n"
	     "usersd_store_index_rows_total %" PRIu64 "\n"
	     "# HELP usersd_store_index_merging 1 while the idle writer "
	     "merges the search index's segments into one (SQLite).\n"
	     "# TYPE usersd_store_index_merging gauge\n"
	     "usersd_store_index_merging %" PRIu64 "\n",
	     sc.index_pending, sc.index_rows, sc.index_merging);
	addf(&t,
	     "# HELP usersd_calls_in_flight Calls received and not yet "
	     "answered.\n"
	     "# TYPE usersd_calls_in_flight gauge\n"
	     "usersd_calls_in_flight %d\n"
	     "# HELP usersd_hasher_queue Password hashes waiting for a "
	     "hashing thread.\n"
	     "# TYPE usersd_hasher_queue gauge\n"
	     "usersd_hasher_queue %zu\n"
	     "# HELP usersd_worker_queue Calls waiting for a worker thread.\n"
	     "# TYPE usersd_worker_queue gauge\n"
	     "usersd_worker_queue %zu\n",
	     atomic_load(&svc->in_flight), ud_pool_queued(svc->hashers),
	     ud_pool_queued(svc->workers));
	if (up_metrics_process("usersd", proc, sizeof(proc)) > 0) {
		addf(&t, "%s", proc);
	}
	if (!t.ok) {
		free(t.p);
		return NULL;
	}
	*len = t.len;
	return t.p;
}

/* ------------------------------------------------------------------------
 * The listener
 */

struct ud_metrics_server {
	int fd;
	pthread_t tid;
	bool started;
	atomic_bool stopping;
	ud_service *svc;
};

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) {
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* One connection: reads the request head, answers, closes. */
static void
serve(ud_metrics_server *s, int fd)
{
	struct timeval tv = {2, 0};
	char req[4096];
	size_t got = 0;
	char head[256];
	char *body = NULL;
	size_t len = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		ssize_t n = read(fd, req + got, sizeof(req) - 1 - got);
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL) {
			break;
		}
	}
	req[got] = '\0';
	if (strncmp(req, "GET /metrics ", 13) == 0 ||
	    strncmp(req, "GET /metrics?", 13) == 0) {
		body = ud_metrics_render(s->svc, &len);
	}
	if (body != NULL) {
		int n = snprintf(head, sizeof(head),
				 "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
				 "version=0.0.4\r\nContent-Length: %zu\r\n"
				 "Connection: close\r\n\r\n",
				 len);
		write_all(fd, head, (size_t)n);
		write_all(fd, body, len);
		free(body);
	} else {
		static const char nf[] =
		    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		write_all(fd, nf, sizeof(nf) - 1);
	}
	close(fd);
}

static void *
accept_loop(void *arg)
{
	ud_metrics_server *s = arg;

	up_thread_name("ud-metrics");

	for (;;) {
		int fd = accept(s->fd, NULL, NULL);

		if (atomic_load(&s->stopping)) {
			if (fd >= 0) {
				close(fd);
			}
			break;
		}
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE) {
				continue;
			}
			break;
		}
		serve(s, fd);
	}
	return NULL;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port. 0 or -1. */
static int
split(const char *hp, char *host, size_t hsize, const char **port)
{
	const char *colon = strrchr(hp, ':');
	const char *h = hp;
	size_t n;

	if (colon == NULL || colon[1] == '\0') {
		return -1;
	}
	n = (size_t)(colon - hp);
	if (n >= 2 && hp[0] == '[' && hp[n - 1] == ']') {
		h = hp + 1;
		n -= 2;
	}
	if (n == 0 || n >= hsize) {
		return -1;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

int
ud_metrics_server_start(ud_metrics_server **out, const char *hostport,
			ud_service *svc)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	char host[256], shost[NI_MAXHOST], sport[NI_MAXSERV];
	const char *port;
	ud_metrics_server *s;
	int one = 1;

	*out = NULL;
	if (split(hostport, host, sizeof(host), &port) != 0 ||
	    getaddrinfo(host, port, &hints, &ai) != 0) {
		fprintf(stderr,
			"usersd: --metrics-listen %s: not a HOST:PORT of this "
			"machine\n",
			hostport);
		return UP_INVALID_ARGUMENT;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		freeaddrinfo(ai);
		return UP_INTERNAL;
	}
	s->svc = svc;
	s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (s->fd < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) !=
		0 ||
	    bind(s->fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(s->fd, 16) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &salen) != 0) {
		fprintf(stderr, "usersd: --metrics-listen %s: %s\n", hostport,
			strerror(errno));
		freeaddrinfo(ai);
		ud_metrics_server_stop(s);
		return UP_UNAVAILABLE;
	}
	freeaddrinfo(ai);
	if (pthread_create(&s->tid, NULL, accept_loop, s) != 0) {
		ud_metrics_server_stop(s);
		return UP_INTERNAL;
	}
	s->started = true;
	if (getnameinfo((struct sockaddr *)&sa, salen, shost, sizeof(shost),
			sport, sizeof(sport),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		char url[NI_MAXHOST + NI_MAXSERV + 32], msg[sizeof(url) + 16];

		snprintf(url, sizeof(url), "http://%s%s%s:%s/metrics",
			 strchr(shost, ':') ? "[" : "", shost,
			 strchr(shost, ':') ? "]" : "", sport);
		snprintf(msg, sizeof(msg), "metrics on %s", url);
		up_log(UP_LOG_INFO, "metrics_listening", msg, "url", url, NULL);
	}
	*out = s;
	return 0;
}

void
ud_metrics_server_stop(ud_metrics_server *s)
{
	if (s == NULL) {
		return;
	}
	atomic_store(&s->stopping, true);
	if (s->fd >= 0) {
		shutdown(s->fd, SHUT_RDWR); /* wakes accept() */
	}
	if (s->started) {
		pthread_join(s->tid, NULL);
	}
	if (s->fd >= 0) {
		close(s->fd);
	}
	free(s);
}
