/*
 * users_proto.h - the contract of usersd as C: the generated messages, the
 * one status list of the whole system, and the metadata (routes, roles,
 * descriptions, wire hints) read from the embedded descriptor set of
 * users.proto.
 *
 * Everything returned by the up_meta_* functions is owned by the library,
 * immutable and valid for the life of the process; it is safe to read from
 * any thread once up_meta_load() has returned 0.
 */
#ifndef USERS_PROTO_H
#define USERS_PROTO_H

#include <stdbool.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "users.pb-c.h"

/*
 * The status list: gRPC's codes, each with its HTTP status, ServiceStack's
 * errorCode and a default message. X(NAME, code, http, errorCode, message)
 */
#define UP_STATUS_TABLE(X)                                                     \
	X(OK, 0, 200, "OK", "OK")                                              \
	X(CANCELLED, 1, 499, "Cancelled", "The request was cancelled.")        \
	X(UNKNOWN, 2, 500, "Exception", "Unknown error.")                      \
	X(INVALID_ARGUMENT, 3, 400, "ArgumentException",                       \
	  "The request is not valid.")                                         \
	X(DEADLINE_EXCEEDED, 4, 504, "Timeout",                                \
	  "The service did not answer in time.")                               \
	X(NOT_FOUND, 5, 404, "NotFound", "Not found.")                         \
	X(ALREADY_EXISTS, 6, 409, "Conflict", "It already exists.")            \
	X(PERMISSION_DENIED, 7, 403, "Forbidden", "Invalid Role")              \
	X(RESOURCE_EXHAUSTED, 8, 429, "TooManyRequests",                       \
	  "Too many requests; try again later.")                               \
	X(FAILED_PRECONDITION, 9, 400, "FailedPrecondition",                   \
	  "The request cannot be carried out in the current state.")           \
	X(ABORTED, 10, 409, "Aborted", "The request was aborted; retry it.")   \
	X(OUT_OF_RANGE, 11, 400, "OutOfRange", "A value is out of range.")     \
	X(UNIMPLEMENTED, 12, 501, "NotImplementedException",                   \
	  "The operation is not implemented.")                                 \
	X(INTERNAL, 13, 500, "InternalServerError", "Internal error.")         \
	X(UNAVAILABLE, 14, 503, "ServiceUnavailable",                          \
	  "The service is unavailable.")                                       \
	X(DATA_LOSS, 15, 500, "DataLoss", "Data loss.")                        \
	X(UNAUTHENTICATED, 16, 401, "Unauthorized", "Not Authenticated")

typedef enum up_status {
#define UP_STATUS_ENUM(name, code, http, ec, msg) UP_##name = code,
	UP_STATUS_TABLE(UP_STATUS_ENUM)
#undef UP_STATUS_ENUM
} up_status;

/* "INVALID_ARGUMENT"; "UNKNOWN" for a code outside the list. */
const char *up_status_name(int code);
/* 400; 500 for a code outside the list. */
int up_status_http(int code);
/*
 * The HTTP status of an answer with this status and errorCode: the
 * table's, except for an errorCode that names a finer one (RequestIdReused:
 * 422, the same key sent with another request). error_code may be NULL.
 */
int up_status_http_of(int code, const char *error_code);
/* ServiceStack's default errorCode for the status: "Forbidden". */
const char *up_status_error_code(int code);
/* A default human message for the status. */
const char *up_status_message(int code);
/*
 * Whether an answer with this status says its daemon is unwell (cancelled,
 * unknown, deadline, internal, unavailable, data loss) rather than that the
 * request was refused: what the client's and the gateway's per-daemon
 * failure counts count.
 */
bool up_status_daemon_failure(int code);

/*
 * A decimal number of a command line, strictly: digits only (no sign, no
 * space), within [min, max]. 0 with *out, or -1.
 */
int up_parse_ulong(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out);

/*
 * A log file that log rotation can move away (SIGHUP: open it again).
 * path is borrowed; fd -1 when closed.
 */
typedef struct up_logfile {
	const char *path;
	int fd;
} up_logfile;

/*
 * Opens path for appending (created 0640): onto descriptor fd when fd >= 0
 * (STDERR_FILENO: the program's own diagnostics go there), else on a new
 * descriptor. 0 or an errno.
 */
int up_logfile_open(up_logfile *lf, const char *path, int fd);
/*
 * Opens the path again onto the same descriptor (after a rotation moved
 * the file). 0 (also when lf is closed) or an errno: the old file then
 * stays in use.
 */
int up_logfile_reopen(up_logfile *lf);
/* Closes a descriptor of its own (not stdin/stdout/stderr). */
void up_logfile_fini(up_logfile *lf);

/*
 * The process_* series (CPU, memory, start time, descriptors) and
 * <prog>_build_info{version} in Prometheus text, into buf. The bytes
 * written, or -1 (buf too small, /proc unreadable).
 */
int up_metrics_process(const char *prog, char *buf, size_t size);

/* ------------------------------------------------------------------------
 * Metadata from users.proto's custom options (options.proto).
 */

typedef struct up_route {
	const char *method;  /* "PATCH" */
	const char *path;    /* "/users/{userId}" */
	const char *summary; /* "" when none */
} up_route;

/*
 * One rule of the policy: an aspect of the operation is allowed for a
 * caller who passes one of the actor roles ("*": any authenticated caller)
 * when every condition in `when` holds (options.proto, "Who may do what").
 */
typedef struct up_rule {
	Users__V1__Aspect aspect;
	const char *const *actors;
	size_t n_actors;
	uint32_t when; /* bit (1u << Users__V1__Condition) per condition */
} up_rule;

#define UP_COND(c) (1u << USERS__V1__CONDITION__##c)

typedef struct up_method {
	const ProtobufCMethodDescriptor *desc; /* name, input, output */
	unsigned index;                        /* in the service descriptor */
	const char *description;               /* "" when none */
	const up_route *routes;
	size_t n_routes;
	const char *const *roles; /* any of them; empty: authenticated only */
	size_t n_roles;
	bool auth_none; /* open to anonymous callers */
	bool writes;    /* changes the store */
	/* idempotency_level = NO_SIDE_EFFECTS: a read that Connect may send
	 * as GET (never with writes or auth_none: up_meta_load refuses). */
	bool no_side_effects;
	const up_rule *rules; /* the policy's rules, in users.proto's order */
	size_t n_rules;
	/* The service its page's title names: (service_name), else the API's
	 * name. */
	const char *service_name;
	/* Routes usersgw answers itself, documented with the operation
	 * (gateway_http): never in the route table. */
	const up_route *gw_routes;
	size_t n_gw_routes;
} up_method;

typedef struct up_field_info {
	const ProtobufCFieldDescriptor *desc;
	const char *json_name;   /* "emailAddress" (or json_name option) */
	const char *pascal_name; /* "EmailAddress" */
	const char *description; /* "" when none */
	const char *param_in;    /* "path", "query", "body", "form" or NULL */
	uint32_t max_len;        /* 0: no limit of its own */
	bool required;
	bool guid;
	bool secret;         /* a password, or bytes that may carry one */
	bool always_written; /* written even when unset or empty */
	/* The wire name when it is not the camelCase of the declared name
	 * (a json_name option): ServiceStack's DataMember(Name=...), and the
	 * XML element's name. NULL otherwise. */
	const char *data_member;
	const char *data_type;   /* the pages' Data Type, NULL: from the type */
	const char *declared_in; /* a base class of the message, or NULL */
} up_field_info;

typedef struct up_message_info {
	const ProtobufCMessageDescriptor *desc;
	const char *xml_namespace; /* full URI; NULL when none */
	bool list_wrapper;
	const up_field_info *fields; /* same order as desc->fields */
	size_t n_fields;
	const char *const *bases; /* base classes, nearest first (bases) */
	size_t n_bases;
} up_message_info;

/* Parses the embedded descriptor set once (thread-safe). 0 or -1. */
int up_meta_load(void);

/* The service descriptor and its api_name option ("Evo Voice"). */
const ProtobufCServiceDescriptor *up_service(void);
const char *up_api_name(void);

size_t up_method_count(void);
const up_method *up_method_at(size_t i);
/* Finds a method by name, case-insensitively; NULL when unknown. */
const up_method *up_method_find(const char *name);

/* Per message of users.v1; NULL for a descriptor outside the contract. */
const up_message_info *up_message_info_of(const ProtobufCMessageDescriptor *d);
/* The field's info within its message, or NULL. */
const up_field_info *up_field_info_of(const ProtobufCMessageDescriptor *d,
				      const ProtobufCFieldDescriptor *f);
/* Whether an enum is written as numbers on the wire. */
bool up_enum_as_number(const ProtobufCEnumDescriptor *e);

/* ------------------------------------------------------------------------
 * The policy's service-wide part (users.proto's service options).
 */

/* The role that passes every role check ("Admin"). */
const char *up_superuser_role(void);
/* The administrative roles, in users.proto's order. */
size_t up_administrative_role_count(void);
const char *up_administrative_role_at(size_t i);
bool up_role_is_administrative(const char *role);
/* Whether a rule naming this role reaches below the caller's orgs. */
bool up_role_reaches_below(const char *role);

/* Short names: "call", "profile", ...; "themselves", ... ("" unknown). */
const char *up_aspect_name(Users__V1__Aspect a);
/* What the aspect covers, for people: "names and phone number". */
const char *up_aspect_label(Users__V1__Aspect a);
const char *up_condition_name(Users__V1__Condition c);
/* The condition for people: "all of whose organizations are in scope". */
const char *up_condition_text(Users__V1__Condition c);
/*
 * The rule for people, e.g. "Manager: another user, who holds no
 * administrative role, all of whose organizations are in scope", into buf
 * (always NUL-terminated). Returns the length it needed, as snprintf.
 */
size_t up_rule_text(const up_rule *r, char *buf, size_t size);
/* One sentence on scope and the superuser, for the pages' legends. */
const char *up_policy_legend(void);
/*
 * The whole policy as a Markdown table (a row per operation and aspect)
 * and the legend, to out: what `usersctl policy` prints and the README
 * shows. 0 or -1.
 */
int up_policy_markdown(FILE *out);

/* ------------------------------------------------------------------------
 * Secrets
 */

/*
 * Overwrites n bytes at p with zeros, in a way the compiler keeps even
 * when the memory is freed right after: the one wiping primitive of the
 * system (p may be NULL when n is 0).
 */
void up_wipe(void *p, size_t n);
/* up_wipe, then free (p may be NULL). */
void up_wipe_free(void *p, size_t n);

/*
 * Zeroes, in place, every field marked (secret) in users.proto (strings
 * and bytes, repeated ones included) of msg and of every message below it,
 * so that freeing msg leaves no password behind. Fields that are not
 * secret are left as they are. msg must own its strings (unpacked, or
 * built with malloc'd ones): a field still pointing at its descriptor's
 * default is skipped. Needs up_meta_load(); without it (or for a message
 * outside the contract) nothing is known secret and nothing is wiped.
 * NULL is fine.
 */
void up_message_wipe_secrets(ProtobufCMessage *msg);

/* ------------------------------------------------------------------------
 * Batches (RequestBatch, ResponseBatch in users.proto): the framing
 */

/* The first byte of a batch: field 15, length-delimited. */
#define UP_BATCH_TAG 0x7a
/* The longest frame head: three keys and three 5-byte varints. */
#define UP_BATCH_HEAD_MAX 18

/* The bytes of v as a protobuf varint (1 to 10). */
size_t up_varint_len(uint64_t v);

/* Whether a message is a batch (else it is one envelope). */
bool up_batch_is(const void *buf, size_t len);
/*
 * Writes into out the head of one frame: what goes before env_len bytes of
 * a packed envelope to make them call's frame of a batch. Returns its
 * length. env_len below 2^32 - 64.
 */
size_t up_batch_frame_head(uint8_t out[UP_BATCH_HEAD_MAX], uint32_t call,
			   size_t env_len);

/* Reads the frames of a batch in place (the bytes must outlive it). */
typedef struct up_batch_reader {
	const uint8_t *p;
	const uint8_t *end;
} up_batch_reader;

void up_batch_reader_init(up_batch_reader *r, const void *buf, size_t len);
/*
 * The next frame: 1 with its call number and its envelope's bytes (inside
 * the batch; possibly empty), 0 at the end, -1 when the rest is malformed
 * (a frame past the end, a wrong wire type, a group, two envelopes in one
 * frame); after -1 the reader is at its end. Unknown fields are skipped.
 */
int up_batch_next(up_batch_reader *r, uint32_t *call, const uint8_t **env,
		  size_t *env_len);

/* ------------------------------------------------------------------------
 * SP framing (sp.c): nng's wire on a stream, for the loops that read and
 * write it themselves instead of through nng's threads (usersgw's hop,
 * usersd's listeners; docs/decisions.md says why). nng 1.5's transports
 * and its REQ/REP protocol put this on the wire:
 *
 *   hello    8 bytes each way once connected: 0x00 'S' 'P' 0x00, the
 *            sender's protocol (16 bits, big-endian: REQ v0 48, REP v0
 *            49), two zero bytes
 *   frame    ipc://: a type byte (1) and a 64-bit big-endian length;
 *            tcp://: the length alone. Then that many bytes, the payload:
 *            the SP header, then the body
 *   header   a request's: its backtrace, 32-bit words up to and including
 *            the request id, the one word with its top bit set (one word
 *            from a client, one more per device between); a reply's: the
 *            same words, given back
 *
 * Pure functions over bytes (no sockets), fuzzed (tests/fuzz/fuzz_sp.c).
 */

#define UP_SP_HELLO_LEN 8
#define UP_SP_REQ       48u /* REQ v0 */
#define UP_SP_REP       49u /* REP v0 */
/* The longest frame head: ipc's type byte and the length. */
#define UP_SP_HEAD_MAX 9
/* The most words of backtrace read (nng's default and largest TTL is 8;
 * the request id is one of them). */
#define UP_SP_HOPS_MAX 8

/* Our hello, as protocol proto (UP_SP_REQ, UP_SP_REP). */
void up_sp_hello(uint8_t out[UP_SP_HELLO_LEN], unsigned proto);
/* 0 when in is the hello of a peer speaking proto, -1 otherwise. */
int up_sp_hello_check(const uint8_t in[UP_SP_HELLO_LEN], unsigned proto);
/* Writes the head of a frame of payload_len bytes (header and body; ipc:
 * with the type byte) to out; returns its length. */
size_t up_sp_head(uint8_t out[UP_SP_HEAD_MAX], bool ipc, size_t payload_len);
/*
 * The first frame of p[0..n): 1 once the whole frame is there, with its
 * length (*frame_len, head included) and where its body starts (*body_off:
 * after the head and the backtrace; the body is the rest of the frame); 0
 * while more bytes are needed; -1 when the bytes cannot be a message: a
 * wrong type byte, a payload longer than max_payload, no word with its top
 * bit set among the payload's first UP_SP_HOPS_MAX words. Refusals come as
 * soon as the bytes that show them are there.
 */
int up_sp_next(const uint8_t *p, size_t n, bool ipc, size_t max_payload,
	       size_t *frame_len, size_t *body_off);
/*
 * The address to dial for url, for a loop of ours: ipc://PATH, or
 * tcp://HOST:PORT with HOST an address (IPv6 in brackets), never a name
 * (a lookup blocks; nng does those on its threads). 0 with *out, *len
 * and *ipc; -1 for anything else.
 */
int up_sp_addr(const char *url, struct sockaddr_storage *out, socklen_t *len,
	       bool *ipc);

/*
 * A connection's input: the bytes read and not yet handed over, in a
 * buffer that grows up to the largest frame, shrinks back after a large
 * one, and never leaves a client's bytes (passwords, tokens) unwiped in
 * memory it lets go of. Zeroed is empty.
 */
typedef struct up_sp_in {
	uint8_t *p;
	size_t len, cap;
} up_sp_in;

/* Room for at least one more byte, the buffer at most `most` bytes: 0, or
 * -1 (full at `most`, or out of memory). */
int up_sp_in_room(up_sp_in *b, size_t most);
/* The first n bytes were handed over: dropped (wiped). */
void up_sp_in_consume(up_sp_in *b, size_t n);
void up_sp_in_fini(up_sp_in *b);

/* Milliseconds of CLOCK_MONOTONIC (deadlines, timeouts, backoffs). */
int64_t up_mono_ms(void);

/* Names the calling thread for top -H, ps -L and perf (15 bytes kept). */
void up_thread_name(const char *name);

/* The raw embedded FileDescriptorSet (for tools that want all of it). */
extern const uint8_t up_descriptor_set[];
extern const size_t up_descriptor_set_len;

#endif /* USERS_PROTO_H */
