/*
 * usersclient.h - libusersclient: the RPC client of usersd.
 *
 * One client object talks to one or more daemons (ipc://, tcp://,
 * tls+tcp://), one connection each: ipc:// and tcp:// (by address) on a
 * thread of the client's own that reads and writes them (an epoll loop
 * speaking nng's framing), the others over nng; or over connections an
 * event loop of the caller's reads and writes itself (uc_transport). Every RPC
 * of UserService has a synchronous and an asynchronous form; the gateway,
 * usersctl and usersbench all use this library.
 *
 * Async contract
 *   uc_call_async() returns 0 and then calls the callback exactly once, or
 *   returns an error and never calls it. The callback runs on a thread of
 *   nng's or of the client's own, never inside uc_call_async (with a
 *   transport of the caller's own, below: also inside
 *   uc_transport_received, on the caller's loop). It must not block
 *   (hand the result to your own thread or loop): on the client's own
 *   thread, every read and write of its ipc:// and tcp:// daemons waits
 *   while a callback runs. Async calls are safe
 *   from many threads at once; thousands may be in flight on one client.
 *
 * Batching
 *   Calls started while a message is on its way to a daemon travel
 *   together in the next message; a call started when nothing is on its
 *   way leaves at once (no timer, no added wait). usersd answers each call
 *   as soon as it is done, with the answers ready together in one message.
 *   Each call keeps its own request id, deadline and errors.
 *
 *   A caller that starts calls in bursts (an event loop, for the events of
 *   one wakeup) can make each burst one message: it starts the calls with
 *   uc_call_opts.hold and calls uc_client_flush() when the burst is over.
 *   A held call leaves with the next message to its daemon, at the latest
 *   at that flush; a caller that holds and never flushes leaves its calls
 *   to their deadline.
 *
 * Deadlines
 *   Every call has a deadline (the client's default, or the call's). A
 *   daemon that does not answer in time gives UP_DEADLINE_EXCEEDED. No
 *   daemon connected gives UP_UNAVAILABLE at once (in the first second
 *   after uc_client_open, a call waits for the first connection); a daemon
 *   whose connection closes under a call gives UP_UNAVAILABLE at once when
 *   no other daemon is connected. A call never hangs.
 *
 * Ownership
 *   A uc_result owns its error and response; release it with
 *   uc_result_fini(). In a callback the result is the callback's: it must
 *   call uc_result_fini() (or move the members out and zero them).
 *   Request messages are only read during the call (packed before
 *   uc_call_async returns): the caller keeps ownership.
 *
 * Several daemons, failover and retries
 *   Each call goes to the connected daemon with the fewest calls in
 *   flight. Every call carries a request id: a fresh random one, or
 *   uc_call_opts.request_id when the caller gives one (every path, sync
 *   and async, typed or generic, goes through the same start, so no call
 *   is ever sent without an id). A call is sent again, with the same id,
 *   to another connected daemon when the connection it went out on closes
 *   (a daemon dying mid-call: at once) or when no answer came within its
 *   resend time (half its deadline, 50 ms to 1 s: a stuck daemon). That is
 *   safe for reads. For writes it is safe because usersd answers a
 *   repeated id with its first answer instead of writing again; across
 *   daemons that holds when they share the record of committed ids (one
 *   store with its request log): the client cannot tell a write that died
 *   before its commit from one that died after, and relies on the store
 *   for that. A daemon that went away is redialed in the background
 *   (within about 100 ms of listening again) and used again once back.
 */
#ifndef USERSCLIENT_H
#define USERSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "users_proto.h"

#if defined(__GNUC__)
#define UC_API __attribute__((visibility("default")))
#else
#define UC_API
#endif

typedef struct uc_client uc_client;

typedef struct uc_options {
	const char *const *urls; /* daemons; requests spread over them */
	size_t n_urls;
	uint32_t deadline_ms; /* default per call; 0 means 5000 */
	/*
	 * TLS for tls+tcp:// URLs. The daemon's certificate is verified
	 * against tls_ca_file (and its name against tls_server_name, else
	 * the URL's host): a tls+tcp:// URL needs one of tls_ca_file and
	 * tls_insecure, never both.
	 */
	const char *tls_ca_file;
	const char *tls_cert_file; /* client certificate */
	const char *tls_key_file;
	const char *tls_server_name;
	/*
	 * Skip the check of the daemon's certificate: anyone between the
	 * client and the daemon can then read and change the calls,
	 * passwords and tokens included. uc_client_open warns once on
	 * stderr. For tests and first setups only.
	 */
	bool tls_insecure;
	/*
	 * The caller's own transport for some daemons (see "Transports of
	 * the caller's own" below); NULL: nng carries every daemon. Copied
	 * at open; transport->ctx must stay valid until uc_client_close
	 * returns (nothing uses it after detach).
	 */
	const struct uc_transport *transport;
	/*
	 * Without a transport of the caller's, the client carries ipc://
	 * daemons and tcp:// ones given by address on a thread of its own
	 * (an epoll loop speaking nng's framing: no nng thread between a
	 * call and its bytes); tls+tcp:// and tcp:// host names go through
	 * nng. true: every daemon through nng, as before.
	 */
	bool hop_nng;
} uc_options;

typedef struct uc_result {
	int status; /* up_status: UP_OK or the failure */
	/*
	 * The daemon's ResponseStatus when status != UP_OK (for failures the
	 * client detects itself, one it builds: errorCode and message from
	 * the status table). NULL when OK.
	 */
	Users__V1__ResponseStatus *error;
	/* The decoded response message when status == UP_OK, else NULL. */
	ProtobufCMessage *response;
	/* Which daemon answered: the index of its URL in uc_client_open's
	 * list; -1 when none did (the client settled the call itself). */
	int daemon;
} uc_result;

/* Per-call options; NULL means the client's defaults. */
typedef struct uc_call_opts {
	uint32_t deadline_ms;     /* 0: the client's default */
	const char *bearer_token; /* overrides the client's credentials */
	const char *basic_user;   /* with basic_password: Basic credentials */
	const char *basic_password;
	const char *request_id; /* NULL: a fresh random id */
	/*
	 * Queue the call without starting a send: it leaves with the next
	 * message to its daemon, at the latest at the caller's next
	 * uc_client_flush() (see Batching above).
	 */
	bool hold;
} uc_call_opts;

typedef void (*uc_callback)(uc_result *res, void *arg);

/* The longest uc_call_opts.request_id (bytes, without the NUL). */
#define UC_REQUEST_ID_MAX 128
/* The length of a fresh request id (hex digits), without the NUL. */
#define UC_REQUEST_ID_FRESH_LEN 32

/*
 * A fresh request id into out (size > UC_REQUEST_ID_FRESH_LEN): the kind a
 * call without one gets, unique (a random prefix per process and a
 * counter), not secret. For a caller that needs to know the id before the
 * call (to log it, or to send it again). 0 or UP_INTERNAL.
 */
UC_API int uc_request_id_new(char *out, size_t size);

/*
 * Opens a client; dials every URL in the background (reconnecting).
 * Returns 0, or an up_status: UP_INVALID_ARGUMENT (no URL, a URL nng
 * cannot use, unreadable TLS files, tls_ca_file and tls_insecure both
 * set), UP_FAILED_PRECONDITION (a tls+tcp:// URL with neither tls_ca_file
 * nor tls_insecure: the daemon could not be verified),
 * UP_RESOURCE_EXHAUSTED, UP_INTERNAL. uc_client_open_error() says why in
 * words.
 */
UC_API int uc_client_open(uc_client **out, const uc_options *opts);
/*
 * Why the last uc_client_open() of the calling thread failed, as a
 * sentence for people ("" after a success). Thread-local; valid until the
 * thread's next uc_client_open().
 */
UC_API const char *uc_client_open_error(void);
/*
 * Waits for calls in flight to finish (their callbacks run), then frees.
 * New calls started meanwhile fail with UP_CANCELLED. Not from a callback.
 * Every message of the client's is freed before the sockets close.
 * Bounded: nng_close() can hang in nng 1.5.2, so the sockets are closed
 * on a thread of their own, waited for at most 2 s, then left to finish
 * (or, if nng never returns, to leak) in the background.
 */
UC_API void uc_client_close(uc_client *c);

/*
 * The credentials sent with every call (copied). NULL clears. A bearer
 * token is sent when set, else the Basic credentials. 0 or an up_status.
 */
UC_API int uc_set_bearer(uc_client *c, const char *token);
UC_API int uc_set_basic(uc_client *c, const char *user, const char *password);
/* The bearer token in use, or NULL (owned by the client; valid until the
 * next uc_set_bearer/uc_login on this client). */
UC_API const char *uc_bearer(const uc_client *c);

/*
 * Runs Authenticate with the credentials (the call itself carries no
 * other credentials) and, on success, keeps the bearer token for later
 * calls. res holds the AuthenticateResponse. Returns res->status.
 */
UC_API int uc_login(uc_client *c, const char *user, const char *password,
		    uc_result *res);

/*
 * The generic call: method by name ("PatchUser", case-insensitive), the
 * request a message of the method's input type (else UP_INVALID_ARGUMENT).
 * Returns res->status too; res is always filled (uc_result_fini() it).
 * The sync forms wait on the async path: never call them from a callback.
 * uc_call_async returns 0 or an up_status (UP_INVALID_ARGUMENT,
 * UP_RESOURCE_EXHAUSTED, UP_CANCELLED while closing); transport failures
 * (UP_UNAVAILABLE, UP_DEADLINE_EXCEEDED) come through the callback.
 */
UC_API int uc_call(uc_client *c, const char *method,
		   const ProtobufCMessage *request, const uc_call_opts *opts,
		   uc_result *res);
UC_API int uc_call_async(uc_client *c, const char *method,
			 const ProtobufCMessage *request,
			 const uc_call_opts *opts, uc_callback cb, void *arg);

/*
 * Sends every call queued and held (uc_call_opts.hold), as one message per
 * daemon (more only past the batch limits); where a send is in flight, its
 * completion sends them. Never blocks on the network: it takes the
 * client's lock briefly, as every call does. Any thread, between open and
 * close (not after uc_client_close has begun).
 */
UC_API void uc_client_flush(uc_client *c);

UC_API void uc_result_fini(uc_result *res);

/*
 * Per-daemon state: one snapshot per configured URL, by its index in
 * uc_options.urls (the order given; the index stays the daemon's for the
 * life of the client, reconnects and redials included).
 *
 * Counters are cumulative since uc_client_open and only grow. They are
 * kept with relaxed atomics on the reply path, so a snapshot taken while
 * calls run is consistent enough for monitoring, not an exact cut.
 */
typedef struct uc_daemon_stats {
	/* The URL as given (the client's copy: valid until uc_client_close;
	 * do not free). */
	const char *url;
	bool connected;   /* at least one pipe to it is up now */
	uint32_t pipes;   /* pipes up now (normally 0 or 1) */
	uint64_t replies; /* replies received from it, whatever their status */
	/*
	 * Replies from it that report a failure on the daemon's side
	 * (UP_CANCELLED, UP_UNKNOWN, UP_DEADLINE_EXCEEDED, UP_INTERNAL,
	 * UP_UNAVAILABLE, UP_DATA_LOSS, or a reply that does not decode),
	 * and messages from it that are no batch of answers. Calls that end
	 * without any reply (deadline, no daemon) are not counted here.
	 */
	uint64_t failures;
	/*
	 * When the last reply from it arrived, in milliseconds of
	 * CLOCK_MONOTONIC (the clock nng_clock() reads), and how long ago
	 * that was when the snapshot was taken; both -1 when none came yet.
	 */
	int64_t last_reply_ms;
	int64_t last_reply_age_ms;
	uint64_t connects;    /* pipes to it that came up */
	uint64_t disconnects; /* pipes to it that went away */
	/*
	 * Messages sent to it and the calls they carried (resends and moved
	 * calls count again), and messages received from it: calls per
	 * message is the batching on the hop.
	 */
	uint64_t sent_messages;
	uint64_t sent_calls;
	uint64_t recv_messages;
} uc_daemon_stats;

/* How many URLs the client was opened with (0 for NULL). */
UC_API size_t uc_daemon_count(const uc_client *c);
/*
 * Fills *out with daemon index's state. 0, or UP_INVALID_ARGUMENT (no
 * client, no out, index >= uc_daemon_count()). Safe from any thread, at
 * any time between open and close, callbacks included; it takes the
 * client's lock briefly, as every call does (the counters need none).
 */
UC_API int uc_daemon_stats_get(uc_client *c, size_t index,
			       uc_daemon_stats *out);

/*
 * Transports of the caller's own
 *
 * An event loop can read and write some daemons' connections itself
 * instead of through nng's threads (usersgw does, for ipc:// and tcp://).
 * The client keeps everything else: the calls, their batching, deadlines,
 * resends and moves between daemons. At open it asks carries() about each
 * URL; a daemon carried by the caller has no nng socket, and:
 *
 *   - the caller connects (and reconnects), then says so with
 *     uc_transport_up(); a connection lost, uc_transport_down() (its
 *     calls move to another daemon or fail at once, and the message
 *     being written, if any, is dropped: no uc_transport_sent for it);
 *   - kick() tells the caller the daemon has calls to send. It runs on
 *     any thread, under the client's lock: it may only note it and wake
 *     the caller's loop, which then takes them with uc_transport_take()
 *     and, once the bytes are written, calls uc_transport_sent(). While
 *     one message is being written the client piles up the next;
 *   - each message received is given whole to uc_transport_received(),
 *     which runs the answers' callbacks on the caller's thread;
 *   - uc_client_close() calls detach() once no call is in flight (not
 *     on the caller's loop thread: it waits for that loop). After it
 *     returns the caller makes no uc_transport_* call again.
 *
 * The caller frames the bytes for nng's peers itself (usersd listens
 * with nng): a message is the body given by take or to received.
 */
typedef struct uc_transport {
	void *ctx;
	bool (*carries)(void *ctx, size_t daemon, const char *url);
	void (*kick)(void *ctx, size_t daemon);
	void (*detach)(void *ctx);
} uc_transport;

/*
 * The next message for daemon: 1 and a body the caller owns (free() it
 * once written), 0 when there is nothing to send (or a message is being
 * written already, or no connection is up), UP_RESOURCE_EXHAUSTED when out
 * of memory (the calls wait for their deadline).
 */
UC_API int uc_transport_take(uc_client *c, size_t daemon, uint8_t **body,
			     size_t *len);
/* The message taken last for daemon is written (ok), or could not be. */
UC_API void uc_transport_sent(uc_client *c, size_t daemon, bool ok);
UC_API void uc_transport_up(uc_client *c, size_t daemon);
UC_API void uc_transport_down(uc_client *c, size_t daemon);
/* A message from daemon (its body: the batch of answers). */
UC_API void uc_transport_received(uc_client *c, size_t daemon,
				  const uint8_t *body, size_t len);

/* "PERMISSION_DENIED: Invalid Role" style text for a result: a static
 * string, or a thread-local buffer valid until the next call of
 * uc_result_message() on the same thread. */
UC_API const char *uc_result_message(const uc_result *res);

/*
 * Typed forms of every RPC: uc_<method>(c, req, opts, res) and
 * uc_<method>_async(c, req, opts, cb, arg). X(snake, Pascal, Request)
 */
#define UC_METHODS(X)                                                          \
	X(new_user, NewUser, Users__V1__NewUser)                               \
	X(patch_user, PatchUser, Users__V1__PatchUser)                         \
	X(get_user, GetUser, Users__V1__GetUser)                               \
	X(list_users, ListUsers, Users__V1__ListUsers)                         \
	X(delete_user, DeleteUser, Users__V1__DeleteUser)                      \
	X(import_users, ImportUsers, Users__V1__ImportUsers)                   \
	X(export_users, ExportUsers, Users__V1__ExportUsers)                   \
	X(update_business_user, UpdateBusinessUser,                            \
	  Users__V1__UpdateBusinessUser)                                       \
	X(create_organization, CreateOrganization,                             \
	  Users__V1__CreateOrganization)                                       \
	X(get_organization, GetOrganization, Users__V1__GetOrganization)       \
	X(list_organizations, ListOrganizations, Users__V1__ListOrganizations) \
	X(add_organization_member, AddOrganizationMember,                      \
	  Users__V1__AddOrganizationMember)                                    \
	X(remove_organization_member, RemoveOrganizationMember,                \
	  Users__V1__RemoveOrganizationMember)                                 \
	X(authenticate, Authenticate, Users__V1__Authenticate)                 \
	X(get_access_token, GetAccessToken, Users__V1__GetAccessToken)         \
	X(logout, Logout, Users__V1__Logout)

#define UC_DECLARE(snake, pascal, req_t)                                       \
	UC_API int uc_##snake(uc_client *c, const req_t *req,                  \
			      const uc_call_opts *opts, uc_result *res);       \
	UC_API int uc_##snake##_async(uc_client *c, const req_t *req,          \
				      const uc_call_opts *opts,                \
				      uc_callback cb, void *arg);
UC_METHODS(UC_DECLARE)
#undef UC_DECLARE

#endif /* USERSCLIENT_H */
