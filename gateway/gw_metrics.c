/*
 * gw_metrics.c - the gateway's counters in Prometheus text format, and the
 * daemons' state (libusersclient's per-daemon snapshot) for /metrics and
 * /healthz.
 *
 * Each loop thread owns one gw_metrics and is its only writer (relaxed
 * atomic adds, no locks, no shared cache lines between threads); a
 * /metrics request sums every thread's set while they keep running, so a
 * scrape is a consistent-enough snapshot, as Prometheus expects. The
 * per-daemon series come from uc_daemon_stats_get, which the client keeps
 * the same way.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

/* HTTP statuses we label; anything else counts as "other". */
static const int statuses[] = {200, 204, 400, 401, 403, 404, 405, 406, 409,
			       413, 415, 429, 499, 500, 501, 503, 504};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Latency bucket upper bounds in microseconds (+Inf last). */
static const uint64_t bucket_us[GW_M_BUCKETS - 1] = {
    500,    1000,   2500,   5000,    10000,   25000,  50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000};

static const char *const special_names[GW_MR_COUNT] = {
    "auth_session", "healthz", "metrics", "metadata", "unmatched"};

static size_t
status_index(int status)
{
	for (size_t i = 0; i + 1 < N_STATUSES; i++) {
		if (statuses[i] == status) {
			return i;
		}
	}
	return N_STATUSES - 1;
}

int
gw_metrics_init(gw_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->n_routes = up_method_count() + GW_MR_COUNT;
	m->requests = calloc(m->n_routes * N_STATUSES, sizeof(*m->requests));
	return m->requests != NULL ? 0 : -1;
}

void
gw_metrics_fini(gw_metrics *m)
{
	free(m->requests);
	m->requests = NULL;
}

unsigned
gw_metrics_route_special(int which)
{
	return (unsigned)(up_method_count() + (size_t)which);
}

static void
add(atomic_uint_least64_t *a, uint64_t v)
{
	atomic_fetch_add_explicit(a, v, memory_order_relaxed);
}

void
gw_metrics_request(gw_metrics *m, unsigned route, int http_status,
		   uint64_t usec)
{
	size_t b = 0;

	if (route >= m->n_routes) {
		route = (unsigned)(m->n_routes - 1);
	}
	add(&m->requests[route * N_STATUSES + status_index(http_status)], 1);
	while (b < GW_M_BUCKETS - 1 && usec > bucket_us[b]) {
		b++;
	}
	add(&m->latency[b], 1);
	add(&m->latency_sum_us, usec);
	add(&m->latency_count, 1);
}

void
gw_metrics_rpc(gw_metrics *m, int delta)
{
	atomic_fetch_add_explicit(&m->rpc_inflight, delta,
				  memory_order_relaxed);
}

void
gw_metrics_rpc_result(gw_metrics *m, int status)
{
	if (up_status_daemon_failure(status)) {
		add(&m->daemon_errors[status], 1);
	}
}

static uint64_t
load(const atomic_uint_least64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

static int printf_buf(uw_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
printf_buf(uw_buf *out, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		return -1;
	}
	return uw_buf_append(out, line, (size_t)n);
}

const char *
gw_metrics_route_name(unsigned r)
{
	size_t nm = up_method_count();

	/* Methods are counted by their index in the service descriptor. */
	return r < nm ? up_service()->methods[r].name : special_names[r - nm];
}

int
gw_metrics_render(gw_metrics *const *all, size_t n, uw_buf *out)
{
	size_t n_routes = n > 0 ? all[0]->n_routes : 0;
	uint64_t cum = 0;
	uint64_t sum = 0;
	uint64_t count = 0;
	int64_t inflight = 0;
	int rc = 0;

	rc |= uw_buf_puts(out, "# HELP usersgw_requests_total HTTP requests by "
			       "route and status.\n"
			       "# TYPE usersgw_requests_total counter\n");
	for (size_t r = 0; r < n_routes; r++) {
		for (size_t s = 0; s < N_STATUSES; s++) {
			uint64_t v = 0;

			for (size_t t = 0; t < n; t++) {
				v +=
				    load(&all[t]->requests[r * N_STATUSES + s]);
			}
			if (v == 0) {
				continue;
			}
			if (s + 1 < N_STATUSES) {
				rc |= printf_buf(
				    out,
				    "usersgw_requests_total{route=\"%s\","
				    "status=\"%d\"} %" PRIu64 "\n",
				    gw_metrics_route_name((unsigned)r),
				    statuses[s], v);
			} else {
				rc |= printf_buf(
				    out,
				    "usersgw_requests_total{route=\"%s\","
				    "status=\"other\"} %" PRIu64 "\n",
				    gw_metrics_route_name((unsigned)r), v);
			}
		}
	}

	rc |= uw_buf_puts(
	    out, "# HELP usersgw_request_duration_seconds Time from "
		 "request to response.\n"
		 "# TYPE usersgw_request_duration_seconds histogram\n");
	for (size_t b = 0; b < GW_M_BUCKETS; b++) {
		for (size_t t = 0; t < n; t++) {
			cum += load(&all[t]->latency[b]);
		}
		if (b + 1 < GW_M_BUCKETS) {
			rc |=
			    printf_buf(out,
				       "usersgw_request_duration_seconds_bucket"
				       "{le=\"%g\"} %" PRIu64 "\n",
				       (double)bucket_us[b] / 1e6, cum);
		} else {
			rc |=
			    printf_buf(out,
				       "usersgw_request_duration_seconds_bucket"
				       "{le=\"+Inf\"} %" PRIu64 "\n",
				       cum);
		}
	}
	for (size_t t = 0; t < n; t++) {
		sum += load(&all[t]->latency_sum_us);
		count += load(&all[t]->latency_count);
		inflight += atomic_load_explicit(&all[t]->rpc_inflight,
						 memory_order_relaxed);
	}
	rc |= printf_buf(out,
			 "usersgw_request_duration_seconds_sum %.6f\n"
			 "usersgw_request_duration_seconds_count %" PRIu64 "\n",
			 (double)sum / 1e6, count);

	rc |= printf_buf(out,
			 "# HELP usersgw_rpcs_in_flight RPCs sent to the "
			 "daemon and not answered yet.\n"
			 "# TYPE usersgw_rpcs_in_flight gauge\n"
			 "usersgw_rpcs_in_flight %" PRId64 "\n",
			 inflight);

	rc |= uw_buf_puts(out,
			  "# HELP usersgw_daemon_errors_total RPCs that failed "
			  "on the daemon's side or on the way.\n"
			  "# TYPE usersgw_daemon_errors_total counter\n");
	for (int code = 0; code < GW_M_CODES; code++) {
		uint64_t v = 0;

		for (size_t t = 0; t < n; t++) {
			v += load(&all[t]->daemon_errors[code]);
		}
		if (v > 0) {
			rc |= printf_buf(
			    out,
			    "usersgw_daemon_errors_total{code=\"%s\"} "
			    "%" PRIu64 "\n",
			    up_status_name(code), v);
		}
	}
	return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------
 * The daemons
 */

/* A snapshot of every daemon of uc into st (at most GW_MAX_DAEMONS). */
static size_t
daemons_snapshot(uc_client *uc, uc_daemon_stats st[GW_MAX_DAEMONS])
{
	size_t n = uc != NULL ? uc_daemon_count(uc) : 0;
	size_t k = 0;

	for (size_t i = 0; i < n && k < GW_MAX_DAEMONS; i++) {
		if (uc_daemon_stats_get(uc, i, &st[k]) == 0) {
			k++;
		}
	}
	return k;
}

/* s as a Prometheus label value: backslash, quote and newline escaped. */
static int
put_label_value(uw_buf *out, const char *s)
{
	int rc = 0;

	for (const char *p = s; *p != '\0' && rc == 0; p++) {
		switch (*p) {
		case '\\':
			rc = uw_buf_puts(out, "\\\\");
			break;
		case '"':
			rc = uw_buf_puts(out, "\\\"");
			break;
		case '\n':
			rc = uw_buf_puts(out, "\\n");
			break;
		default:
			rc = uw_buf_append(out, p, 1);
			break;
		}
	}
	return rc;
}

/* One family of per-daemon series: HELP, TYPE, one line per daemon. */
static int
daemon_family(uw_buf *out, const char *name, const char *type, const char *help,
	      const uc_daemon_stats *st, size_t n,
	      uint64_t (*value)(const uc_daemon_stats *))
{
	int rc = 0;

	rc |= printf_buf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			 type);
	for (size_t i = 0; i < n; i++) {
		rc |= uw_buf_puts(out, name);
		rc |= uw_buf_puts(out, "{daemon=\"");
		rc |= put_label_value(out, st[i].url);
		rc |= printf_buf(out, "\"} %" PRIu64 "\n", value(&st[i]));
	}
	return rc;
}

static uint64_t
v_up(const uc_daemon_stats *s)
{
	return s->connected ? 1 : 0;
}

static uint64_t
v_replies(const uc_daemon_stats *s)
{
	return s->replies;
}

static uint64_t
v_sent_messages(const uc_daemon_stats *s)
{
	return s->sent_messages;
}

static uint64_t
v_sent_calls(const uc_daemon_stats *s)
{
	return s->sent_calls;
}

static uint64_t
v_recv_messages(const uc_daemon_stats *s)
{
	return s->recv_messages;
}

static uint64_t
v_failures(const uc_daemon_stats *s)
{
	return s->failures;
}

static uint64_t
v_connects(const uc_daemon_stats *s)
{
	return s->connects;
}

static uint64_t
v_disconnects(const uc_daemon_stats *s)
{
	return s->disconnects;
}

int
gw_metrics_render_daemons(uc_client *uc, uw_buf *out)
{
	uc_daemon_stats st[GW_MAX_DAEMONS];
	size_t n = daemons_snapshot(uc, st);
	int rc = 0;

	if (n == 0) {
		return 0;
	}
	rc |= daemon_family(out, "usersgw_daemon_up", "gauge",
			    "Whether a connection to the daemon is up.", st, n,
			    v_up);
	rc |= daemon_family(out, "usersgw_daemon_replies_total", "counter",
			    "Replies received from the daemon.", st, n,
			    v_replies);
	rc |= daemon_family(out, "usersgw_daemon_failures_total", "counter",
			    "Replies from the daemon that report a failure on "
			    "its side.",
			    st, n, v_failures);
	rc |=
	    daemon_family(out, "usersgw_daemon_messages_sent_total", "counter",
			  "Messages (batches of calls) sent to the daemon.", st,
			  n, v_sent_messages);
	rc |= daemon_family(out, "usersgw_daemon_calls_sent_total", "counter",
			    "Calls sent to the daemon, resends included "
			    "(per message: the batching).",
			    st, n, v_sent_calls);
	rc |= daemon_family(out, "usersgw_daemon_messages_received_total",
			    "counter",
			    "Messages (batches of replies) received from the "
			    "daemon.",
			    st, n, v_recv_messages);
	rc |= daemon_family(out, "usersgw_daemon_connects_total", "counter",
			    "Connections to the daemon that came up.", st, n,
			    v_connects);
	rc |= daemon_family(out, "usersgw_daemon_disconnects_total", "counter",
			    "Connections to the daemon that went away.", st, n,
			    v_disconnects);
	return rc == 0 ? 0 : -1;
}

int
gw_health_render(uc_client *uc, bool alive, uw_buf *out)
{
	uc_daemon_stats st[GW_MAX_DAEMONS];
	size_t n = daemons_snapshot(uc, st);
	size_t up = 0;
	const char *status;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		up += st[i].connected;
	}
	status = !alive ? "unavailable" : up == n ? "ok" : "degraded";
	rc |= printf_buf(out, "{\"status\":\"%s\",\"daemons\":[", status);
	for (size_t i = 0; i < n; i++) {
		rc |= uw_buf_puts(out, i > 0 ? ",{\"url\":" : "{\"url\":");
		rc |= uw_json_string(out, st[i].url, strlen(st[i].url));
		rc |= printf_buf(out,
				 ",\"connected\":%s,\"replies\":%" PRIu64
				 ",\"failures\":%" PRIu64,
				 st[i].connected ? "true" : "false",
				 st[i].replies, st[i].failures);
		if (st[i].last_reply_age_ms >= 0) {
			rc |= printf_buf(out, ",\"lastReplyMsAgo\":%" PRId64,
					 st[i].last_reply_age_ms);
		} else {
			rc |= uw_buf_puts(out, ",\"lastReplyMsAgo\":null");
		}
		rc |= printf_buf(out,
				 ",\"connects\":%" PRIu64
				 ",\"disconnects\":%" PRIu64 "}",
				 st[i].connects, st[i].disconnects);
	}
	rc |= uw_buf_puts(out, "]}");
	if (rc != 0) {
		return -1;
	}
	return alive ? 200 : 503;
}
