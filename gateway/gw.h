/*
 * gw.h - usersgw internals shared by the gateway's files (module prefix
 * gw_; the wire formats are the userswire library's, uw_, users_wire.h).
 *
 *   gw_server.c   listen socket, TLS, one h2o evloop per thread, signals,
 *                 clean stop
 *   gw_log.c      --log-file and the access log, reopened on SIGHUP
 *   gw_route.c    the route table from users.proto (documented routes,
 *                 predefined /api/{Op} and /{fmt}/reply|oneway/{Op}, and
 *                 the gateway's own routes)
 *   gw_request.c  one HTTP request = one job in req->pool = one async RPC;
 *                 replies come back to the loop thread through h2o's
 *                 multithread queue
 *   gw_auth.c     credentials (Bearer, Basic, ss-tok cookie), cookies
 *   gw_cors.c     browsers: where a request says it comes from (Origin,
 *                 Sec-Fetch-Site), the --cors-origin list and the CORS
 *                 headers
 *   gw_metrics.c  per-thread atomic counters, Prometheus text; the
 *                 daemons' state for /metrics and /healthz
 *   gw_connect.c  the RPC dialects (Connect, gRPC-Web) on
 *                 /users.v1.UserService/{Method}; their bytes are
 *                 gw_frame.c's
 *
 * Threads: everything about a request, a job and a connection runs on the
 * loop thread that owns the connection. nng callbacks touch only the reply
 * ticket they were given (gw_request.c) and post it to that loop.
 */
#ifndef GW_H
#define GW_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#include "gw_frame.h"
#include "users_wire.h"
#include "users_proto.h"
#include "usersclient.h"

#define GW_DEFAULT_MAX_BODY  (1024u * 1024u)
#define GW_DEFAULT_DEADLINE  5000u
#define GW_DEFAULT_MAX_CONNS 4096u
#define GW_MAX_DAEMONS       16
#define GW_MAX_THREADS       64
#define GW_MAX_CORS_ORIGINS  16

/* The SameSite attribute of the session cookies (--cookie-samesite). */
typedef enum gw_samesite {
	GW_SAMESITE_STRICT = 0, /* the default */
	GW_SAMESITE_LAX,
	GW_SAMESITE_NONE, /* only over HTTPS: the cookies are Secure */
} gw_samesite;

/* ------------------------------------------------------------------------
 * Configuration (main.c fills it; strings borrowed from argv)
 */
typedef struct gw_config {
	const char *listen; /* "127.0.0.1:8080", "[::1]:0" */
	const char *daemons[GW_MAX_DAEMONS];
	size_t n_daemons;
	unsigned threads;     /* 0: one per core */
	const char *tls_cert; /* with tls_key: HTTPS + HTTP/2 */
	const char *tls_key;
	const char *daemon_ca;    /* CA file for tls+tcp:// daemons */
	bool daemon_insecure;     /* tls+tcp:// without verifying the daemon */
	size_t max_body;          /* bytes */
	uint32_t deadline_ms;     /* per RPC */
	unsigned max_connections; /* over all threads */
	gw_samesite cookie_samesite;
	/* Exact origins ("https://app.example.com") that browsers may call
	 * the gateway from, credentials included (gw_cors.c). */
	const char *cors_origins[GW_MAX_CORS_ORIGINS];
	size_t n_cors_origins;
	/* stderr into this file; NULL: stderr as started. SIGHUP reopens. */
	const char *log_file;
	/* One line per request (gw_log.c); NULL: none. SIGHUP reopens. */
	const char *access_log;
	/* Where clients reach the API (the metadata's BaseUrl and Host);
	 * NULL: each request's scheme and Host. */
	const char *public_url;
	/* --hop nng: every daemon through nng's threads, none through the
	 * loop's own hop (gw_hop.c) */
	bool hop_nng;
} gw_config;

/* Splits "host:port" / "[v6]:port" into buffers. 0 or -1. */
int gw_split_hostport(const char *s, char *host, size_t hsize, char *port,
		      size_t psize);

/* Runs the gateway until SIGTERM or SIGINT (SIGHUP reopens the log
 * files). Returns the exit status. */
int gw_server_run(const gw_config *cfg);

/* ------------------------------------------------------------------------
 * Metrics: one set per loop thread, written with relaxed atomics by that
 * thread only, summed by whoever renders them.
 */

/* Route labels beyond the service's methods (index up_method_count()+k). */
enum {
	GW_MR_AUTH_SESSION,
	GW_MR_HEALTHZ,
	GW_MR_METRICS,
	GW_MR_METADATA,
	GW_MR_UNMATCHED,
	GW_MR_COUNT
};

#define GW_M_BUCKETS 14 /* latency buckets, +Inf included */
#define GW_M_CODES   17 /* up_status codes 0..16 */

typedef struct gw_metrics {
	size_t n_routes;
	atomic_uint_least64_t *requests; /* [n_routes][gw_metrics_statuses] */
	atomic_uint_least64_t latency[GW_M_BUCKETS];
	atomic_uint_least64_t latency_sum_us;
	atomic_uint_least64_t latency_count;
	atomic_int_least64_t rpc_inflight;
	atomic_uint_least64_t daemon_errors[GW_M_CODES];
} gw_metrics;

int gw_metrics_init(gw_metrics *m);
void gw_metrics_fini(gw_metrics *m);
/* route: a method index, or up_method_count() + GW_MR_*. */
unsigned gw_metrics_route_special(int which);
/* A route's label: the operation's name, or the gateway's own route. */
const char *gw_metrics_route_name(unsigned route);
void gw_metrics_request(gw_metrics *m, unsigned route, int http_status,
			uint64_t usec);
void gw_metrics_rpc(gw_metrics *m, int delta);
/* Counts a failed RPC whose failure says the daemon side is unwell. */
void gw_metrics_rpc_result(gw_metrics *m, int status);
/* The Prometheus text of the sum of all. 0 or -1. */
int gw_metrics_render(gw_metrics *const *all, size_t n, uw_buf *out);
/*
 * Appends the per-daemon series of uc (usersgw_daemon_up,
 * _replies_total, _failures_total, _connects_total, _disconnects_total,
 * each labelled daemon="URL"). uc NULL: none. 0 or -1.
 */
int gw_metrics_render_daemons(uc_client *uc, uw_buf *out);
/*
 * The /healthz body: {"status":"ok"|"degraded"|"unavailable","daemons":
 * [{"url","connected","replies","failures","lastReplyMsAgo" (null before
 * the first reply),"connects","disconnects"},...]}. alive: a round trip to
 * a daemon answered. "unavailable" when it did not, else "ok" when every
 * daemon is connected, else "degraded". uc NULL: an empty list. Returns
 * the HTTP status (200, or 503 when not alive), or -1 (out full).
 */
int gw_health_render(uc_client *uc, bool alive, uw_buf *out);

/* ------------------------------------------------------------------------
 * Routes
 */
typedef enum gw_route_kind {
	GW_ROUTE_NONE = 0,     /* 404 */
	GW_ROUTE_BAD_METHOD,   /* the path is known, the method is not: 405 */
	GW_ROUTE_DOCUMENTED,   /* a route of users.proto */
	GW_ROUTE_PREDEFINED,   /* /api/{Op}, /{fmt}/reply/{Op}, /{fmt}/oneway */
	GW_ROUTE_AUTH_SESSION, /* GET /auth */
	GW_ROUTE_HEALTHZ,
	GW_ROUTE_METRICS,
} gw_route_kind;

#define GW_MAX_VARS     4
#define GW_MAX_SEGMENTS 16

/* HTTP methods as bits, for the set a path accepts. */
enum {
	GW_M_GET = 1u << 0,
	GW_M_HEAD = 1u << 1,
	GW_M_POST = 1u << 2,
	GW_M_PUT = 1u << 3,
	GW_M_PATCH = 1u << 4,
	GW_M_DELETE = 1u << 5,
	GW_M_OPTIONS = 1u << 6,
};
/* Room for every method's name, comma-separated, and the NUL. */
#define GW_ALLOW_MAX 64

typedef struct gw_route_var {
	const char *name;  /* template name: "userId" */
	const char *value; /* percent-decoded, NUL-terminated, in the pool */
	size_t value_len;
} gw_route_var;

typedef struct gw_route_match {
	gw_route_kind kind;
	const up_method *method; /* DOCUMENTED, PREDEFINED */
	/* A format the path names (.ext suffix or /{fmt}/reply); NULL: none. */
	const uw_codec *codec;
	/* The path named a format we do not speak (".xml" before XML). */
	bool unknown_format;
	bool oneway;
	/*
	 * The methods the path accepts (GW_M_* bits, OPTIONS included), for
	 * Allow and CORS preflights; 0 when the path is unknown.
	 */
	unsigned allow;
	/* BAD_METHOD because method names an operation that writes or signs
	 * in and the request line says GET or HEAD. */
	bool unsafe_on_get;
	size_t n_vars;
	gw_route_var vars[GW_MAX_VARS];
} gw_route_match;

/* Builds the table from up_meta (up_meta_load() first). 0 or -1. */
int gw_routes_init(void);
void gw_routes_fini(void);
/*
 * Matches a request against the table: method is what routes it (the
 * request line's method, or X-Http-Method-Override), real the request
 * line's own method, which alone says whether the request is safe: an
 * operation that writes or is open to anonymous callers (up_method.writes,
 * .auth_none), and /auth/logout, are never matched when real is GET or
 * HEAD (BAD_METHOD, unsafe_on_get). path: raw, without the query; its
 * segments are percent-decoded into pool. Always fills *out.
 */
void gw_route_find(h2o_mem_pool_t *pool, h2o_iovec_t method, h2o_iovec_t real,
		   const char *path, size_t len, gw_route_match *out);
/* allow (GW_M_* bits) as an Allow header value, "GET, HEAD, OPTIONS",
 * into buf (GW_ALLOW_MAX bytes). Returns buf. */
const char *gw_route_allow_text(unsigned allow, char *buf);
/* The documented route templates, for messages. */
size_t gw_route_count(void);

/* ------------------------------------------------------------------------
 * Credentials and cookies
 */
typedef struct gw_creds {
	const char *bearer; /* Authorization: Bearer, else the ss-tok cookie */
	const char *basic_user;
	const char *basic_password;
	const char *session_id;    /* the ss-id cookie */
	const char *refresh_token; /* the ss-reftok cookie */
	bool bearer_from_cookie;
	bool remember; /* ss-opt=perm: a sign-in with rememberMe */
} gw_creds;

/* Reads the request's credentials into pool strings. Never fails: what
 * does not parse is ignored (the daemon decides). */
void gw_auth_read(h2o_req_t *req, gw_creds *out);
/*
 * Looks name up in one Cookie header value (lenient: fragments that do
 * not parse are skipped). The value points into header. true when found.
 */
bool gw_cookie_find(const char *header, size_t len, const char *name,
		    h2o_iovec_t *value);
/* The "sub" claim of a JWT, read WITHOUT verifying it (the daemon does),
 * into pool; NULL when there is none. */
const char *gw_jwt_subject(h2o_mem_pool_t *pool, const char *jwt);
/* Set-Cookie for a login (ss-tok, ss-reftok, ss-id, ss-pid, ss-opt). */
void gw_auth_set_login_cookies(h2o_req_t *req,
			       const Users__V1__AuthenticateResponse *r,
			       bool secure, bool remember);
/* Set-Cookie for a refresh: the new ss-tok and the next ss-reftok, kept
 * as long as the sign-in's (remember: its ss-opt=perm). */
void gw_auth_set_token_cookies(h2o_req_t *req,
			       const Users__V1__GetAccessTokenResponse *r,
			       bool secure, bool remember);
/* Set-Cookie that clears every cookie of a login. */
void gw_auth_clear_cookies(h2o_req_t *req, bool secure);

/* ------------------------------------------------------------------------
 * Browsers: where a request comes from, and CORS (gw_cors.c)
 */

/*
 * Checks one --cors-origin value: "http://" or "https://", a host name or
 * address ("[::1]" for IPv6), an optional ":port", nothing else (no path,
 * no "/" at the end, no "*", no "null"). 0, or -1 with the reason in err.
 */
int gw_cors_origin_check(const char *origin, char *err, size_t size);

typedef enum gw_site {
	GW_SITE_SAME,      /* our own pages: Origin ours, or Sec-Fetch-Site
			      same-origin (or none: the user's own typing) */
	GW_SITE_SAME_SITE, /* Sec-Fetch-Site: same-site, no Origin: a page
			      of a sibling host (another subdomain) */
	GW_SITE_UNKNOWN,   /* neither header: a client that is not a
			      browser, or a browser too old to say */
	GW_SITE_LISTED,    /* Origin is one of the --cors-origin list */
	GW_SITE_CROSS,     /* another site: Origin foreign, "null" or not an
			      origin, or Sec-Fetch-Site: cross-site */
} gw_site;

/* What gw_site_of reads: the request's headers and its own origin. */
typedef struct gw_site_in {
	const char *origin; /* the Origin header; NULL: none */
	size_t origin_len;
	const char *fetch_site; /* Sec-Fetch-Site; NULL: none */
	size_t fetch_site_len;
	bool https;            /* the request's own scheme */
	const char *authority; /* Host, or HTTP/2's :authority */
	size_t authority_len;
	const char *const *listed; /* --cors-origin */
	size_t n_listed;
} gw_site_in;

gw_site gw_site_of(const gw_site_in *in);
/* gw_site_of for a request. */
gw_site gw_request_site(h2o_req_t *req, const gw_config *cfg);
/* true, with the Origin header's value in *origin, when the request's
 * Origin is one of the --cors-origin list. */
bool gw_cors_listed(h2o_req_t *req, const gw_config *cfg, h2o_iovec_t *origin);
/*
 * Adds to every answer the gateway sends (gw_request.c): Vary (Accept,
 * and Origin when a CORS list is set), and for a listed Origin,
 * Access-Control-Allow-Origin (that origin) and -Allow-Credentials.
 */
void gw_cors_response_headers(h2o_req_t *req, const gw_config *cfg);
/* The rest of a preflight's answer for a listed origin: -Allow-Methods
 * (allow, GW_M_* bits), -Allow-Headers, -Max-Age. */
void gw_cors_preflight_headers(h2o_req_t *req, unsigned allow);

/* ------------------------------------------------------------------------
 * The RPC dialects: Connect and gRPC-Web (gw_connect.c)
 */

/* A request in a dialect (in its pool). */
typedef struct gw_rpc_req {
	gw_rpc_type type;
	const up_method *method; /* NULL: the path names no method */
	bool get;                /* Connect's GET */
	/* Set by gw_connect_read when it refuses the request: */
	int http;          /* the answer's HTTP status (0: the table's) */
	const char *allow; /* an Allow header (405) */
	bool accept_post;  /* an Accept-Post header (415) */
	uw_decode_error decode_error; /* the text err points to */
} gw_rpc_req;

/* Why gw_connect_read refused a request (strings static or in rr). */
typedef struct gw_rpc_err {
	int code;            /* up_status */
	const char *message; /* NULL: the table's */
	const char *field;   /* NULL: none */
} gw_rpc_err;

/*
 * The request's dialect when it has one: its path is
 * /users.v1.UserService/..., or its Content-Type names gRPC, gRPC-Web or
 * Connect streaming (on any path). NULL: a REST request.
 */
gw_rpc_req *gw_connect_match(h2o_req_t *req);
/* The methods (GW_M_* bits) the request's path accepts. */
unsigned gw_connect_allow(const gw_rpc_req *rr);
/*
 * The request message (*msg, owned by the caller) and the call's deadline
 * (the client's timeout within cfg->deadline_ms). 0, or -1 with *err (the
 * answer's extras in rr).
 */
int gw_connect_read(h2o_req_t *req, gw_rpc_req *rr, const gw_config *cfg,
		    ProtobufCMessage **msg, uint32_t *deadline_ms,
		    gw_rpc_err *err);
/* The answer to a call that succeeded, appended to out: the HTTP status,
 * with its Content-Type in *ct; -1 when it cannot be encoded. */
int gw_connect_reply(h2o_req_t *req, const gw_rpc_req *rr,
		     const ProtobufCMessage *resp, uw_buf *out,
		     const char **ct);
/* Connect's HTTP status for a failure with code: also the metrics'
 * status label of a failure in gRPC-Web, whose HTTP status is 200. */
int gw_connect_http_status(const gw_rpc_req *rr, int code);
/* The answer to a failure (code, and rs with its texts filled in), the
 * same way; adds the headers rr asks for. */
int gw_connect_error(h2o_req_t *req, const gw_rpc_req *rr, int code,
		     const Users__V1__ResponseStatus *rs, uw_buf *out,
		     const char **ct);

/* ------------------------------------------------------------------------
 * The server and its loop threads
 */
typedef struct gw_server gw_server;

typedef struct gw_thread {
	h2o_context_t ctx; /* first: req->conn->ctx leads back here */
	gw_server *srv;
	unsigned index;
	h2o_evloop_t *loop;
	h2o_multithread_receiver_t replies; /* RPC replies, on ctx.queue */
	bool replies_registered;
	bool ctx_initialised;
	h2o_accept_ctx_t accept;
	h2o_socket_t *listener;
	size_t pending; /* RPCs in flight from this loop (loop thread) */
	size_t held;    /* RPCs started this turn, not yet flushed (ditto) */
	size_t conns;   /* connections open on this loop (loop thread) */
	bool hop_wrote; /* loop 0: its last turn's hop pump wrote (turn()) */
	pthread_t tid;
	bool started;
	bool torn_down; /* the loop freed its h2o objects itself */
	gw_metrics metrics;
} gw_thread;

/* ------------------------------------------------------------------------
 * The hop to usersd on loop 0's own sockets (gw_hop.c): a transport of
 * libusersclient's for ipc:// and tcp:// daemons.
 */
typedef struct gw_hop gw_hop;

/* Before uc_client_open: srv->hop, whose transport the client is given.
 * 0 or -1 (out of memory). */
int gw_hop_init(gw_server *srv);
const uc_transport *gw_hop_transport(gw_hop *h);
/* Once the client is open. */
void gw_hop_set_client(gw_hop *h, uc_client *uc);
/* Before the loops start: t (loop 0) will carry the hop. */
void gw_hop_bind(gw_hop *h, gw_thread *t);
/* Loop 0, at its setup: connects to the daemons it carries. */
void gw_hop_start(gw_hop *h, gw_thread *t);
/*
 * Loop 0, after each turn: writes what the client has for them. true when
 * it started a write: h2o then holds the write's completion until its
 * loop runs again, so the caller runs it once more without waiting
 * (h2o_evloop_run(loop, 0)). Elsewhere: nothing, false.
 */
bool gw_hop_pump(gw_hop *h);
/* Loop 0, at its teardown (after the client closed). */
void gw_hop_stop(gw_hop *h, gw_thread *t);
/* After every loop stopped. */
void gw_hop_fini(gw_server *srv);

struct gw_server {
	gw_config cfg;
	h2o_globalconf_t conf;
	bool conf_initialised;
	SSL_CTX *ssl;
	uc_client *uc;
	gw_hop *hop; /* NULL with --hop nng */
	int listen_fd;
	char listen_name[80]; /* "127.0.0.1:8080" after bind */
	gw_thread *threads;
	size_t n_threads;
	gw_metrics **all_metrics; /* n_threads pointers, for /metrics */
	/*
	 * Stopping: `stopping` set by the main thread; each loop, once it
	 * has seen it, never starts another RPC and says so (n_acked); then
	 * the client is closed and `client_closed` set; then each loop
	 * answers what is left and tears itself down.
	 */
	atomic_bool stopping;
	atomic_bool client_closed;
	up_logfile log;    /* --log-file, onto stderr */
	up_logfile access; /* --access-log */
	h2o_logconf_t *access_format;
	pthread_mutex_t mtx; /* the counters below */
	pthread_cond_t cv;
	unsigned n_ready, n_failed, n_acked;
	atomic_uint conns; /* over all threads, for --max-connections */
};

/* The h2o handler of every request (gw_request.c). */
/* gw_log.c: --log-file and --access-log. Each 0, or -1 (said why). */
int gw_log_open(gw_server *srv);
/* The access logger on path (none without --access-log). */
int gw_log_register(gw_server *srv, h2o_pathconf_t *path);
/* SIGHUP: both files opened again under their paths. */
void gw_log_reopen(gw_server *srv);
void gw_log_close(gw_server *srv);

int gw_request_on_req(h2o_handler_t *self, h2o_req_t *req);
/* The receiver callback of a thread's replies (loop thread). */
void gw_request_on_replies(h2o_multithread_receiver_t *receiver,
			   h2o_linklist_t *messages);
/* Frees replies that no loop will ever run (after the loops stopped and
 * the client closed). */
void gw_request_drop_replies(h2o_linklist_t *messages);
/*
 * The end of a loop turn (loop thread, after h2o_evloop_run returned):
 * the RPCs this turn started (held, uc_call_opts.hold) leave together, one
 * message per daemon. Once the loop has acknowledged the stop it starts
 * no RPC, so a flush then finds nothing held and never touches the client
 * (which may be closed).
 */
void gw_request_flush(gw_thread *t);

#endif /* GW_H */
