/*
 * metrics.h - usersd's own figures and the small HTTP listener that serves
 * them (--metrics-listen HOST:PORT, GET /metrics, Prometheus text), and
 * the log records of refused sign-ins and calls (users_log.h).
 *
 * Every call ends in ud_call_finish, which hands it to ud_metrics_observe:
 * counted by method and status, its time from arrival to answer into a
 * histogram, and, when the answer is a refusal (a failed sign-in, a
 * locked name, a bad token, a forbidden call), one log record naming the
 * method, the caller and the reason code. Counters are relaxed atomics in
 * the service (ud_service.metrics), written by whichever thread ends the
 * call; a scrape reads them while they move.
 */
#ifndef UD_METRICS_H
#define UD_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UD_M_METHODS   32 /* the contract's methods, and "unknown" last */
#define UD_M_CODES     17 /* up_status codes 0..16 */
#define UD_M_BUCKETS   13 /* latency buckets, +Inf included */
#define UD_M_LISTENERS 16 /* --listen URLs with figures of their own */

typedef struct ud_metrics {
	atomic_uint_least64_t calls[UD_M_METHODS][UD_M_CODES];
	atomic_uint_least64_t latency[UD_M_METHODS][UD_M_BUCKETS];
	atomic_uint_least64_t latency_sum_ms[UD_M_METHODS];
	atomic_uint_least64_t signin_failures; /* wrong name or password */
	atomic_uint_least64_t signin_locked;   /* refused: too many failures */
	atomic_uint_least64_t unauthenticated; /* bad or expired credentials */
	atomic_uint_least64_t denied;          /* PERMISSION_DENIED */
	/* Retries answered with their first answer, from memory (the
	 * replay table) or from the store's request log. */
	atomic_uint_least64_t replayed_memory;
	atomic_uint_least64_t replayed_log;
	/* The server's listener guard (daemon/server.c), a slot a listener:
	 * its probes, and how often it was made anew, stuck by the nng 1.5
	 * bug. url and n_listeners are set before the metrics listener
	 * starts, and stay. */
	struct ud_m_listener {
		const char *url;
		atomic_uint_least64_t probes_taken;
		atomic_uint_least64_t probes_missed;
		atomic_uint_least64_t renewed;
	} listeners[UD_M_LISTENERS];
	size_t n_listeners;
} ud_metrics;

struct ud_call;
struct ud_service;
typedef struct ud_metrics_server ud_metrics_server;

/* Counts a call that ends with status; logs it when it is a refusal. */
void ud_metrics_observe(struct ud_call *c, int status);
/* Counts a retry answered with its first answer (stages.c), which ends
 * without ud_call_finish. */
void ud_metrics_replayed(struct ud_service *svc, bool from_log);

/* The whole /metrics text (malloc'd, *len bytes), or NULL. */
char *ud_metrics_render(struct ud_service *svc, size_t *len);

/*
 * Listens on HOST:PORT (port 0: any; "usersd: metrics on
 * http://HOST:PORT/metrics" on stderr says which) and serves GET /metrics
 * on a thread of its own, one connection at a time. 0 or an up_status.
 */
int ud_metrics_server_start(ud_metrics_server **out, const char *hostport,
			    struct ud_service *svc);
/* Stops the thread and closes the socket. Safe on NULL. */
void ud_metrics_server_stop(ud_metrics_server *s);

#endif /* UD_METRICS_H */
