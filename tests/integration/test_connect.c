/*
 * test_connect.c - bad input in the RPC dialects (gateway/gw_connect.c),
 * over real sockets against real usersd and usersgw processes (usersgw
 * with --max-body 4096 and --deadline 10000):
 *
 *   frames     a gRPC-Web frame cut short (in its header, in its
 *              message), two frames, a trailer or compressed flag in a
 *              request, grpc-web-text that is not base64, a Connect body
 *              that is not the message's encoding (binary or JSON)
 *   types      no Content-Type, text/plain, application/xml, a gRPC-Web
 *              codec we lack, Connect streaming, plain gRPC (a clear 415
 *              with grpc-status 12 and the reason, never a hang),
 *              Connect-Protocol-Version 2, Content-Encoding gzip, a GET
 *              for a method with side effects or with encoding=xml
 *   sizes      a frame that says it is larger than --max-body, a Connect
 *              body larger than --max-body, a field over its max_len
 *   methods    unknown methods, in each dialect, on and off the path
 *   deadline   Connect-Timeout-Ms: 1 and grpc-timeout: 1m while the
 *              daemon cannot answer, and timeouts that are not numbers
 *   cookie     the session cookie is not a credential in a dialect
 *
 * Each is a clear error in its dialect: Connect's JSON body with the code
 * and HTTP status of the one status table, or gRPC-Web's 200 with the
 * status in the trailer frame. Then nothing else is disturbed: the same
 * calls done right succeed in every dialect, REST too, and both programs
 * exit cleanly.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"
#include "users_wire.h"

#define SVC         "/users.v1.UserService/"
#define MAXB        4096  /* the gateway's --max-body */
#define DEADLINE_MS 10000 /* and its --deadline */
#define LOGIN                                                                  \
	"{\"userName\":\"" TH_ADMIN_EMAIL                                      \
	"\",\"password\":\"" TH_ADMIN_PASSWORD "\"}"
#define GET_1                                                                  \
	"\x0a\x01"                                                             \
	"1" /* GetUser { user_id: "1" } */
#define CT_P   "Content-Type: application/proto"
#define CT_J   "Content-Type: application/json"
#define CT_GW  "Content-Type: application/grpc-web+proto"
#define CT_GWT "Content-Type: application/grpc-web-text+proto"

static th_daemon d;
static gwh_proc gw;
static char auth[4200]; /* "Authorization: Bearer <the admin's token>" */

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* Where needle is in p[0..n); NULL. */
static const char *
find(const char *p, size_t n, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; p != NULL && i + nl <= n; i++) {
		if (memcmp(p + i, needle, nl) == 0) {
			return p + i;
		}
	}
	return NULL;
}

/* POST path with headers h (NULL ended) and len bytes of body. */
static void
post(const char *path, const char *const *h, const char *body, size_t len,
     gwh_res *r)
{
	gwh_http_bin(gw.port, "POST", path, h, body, len, r);
}

/* Whether the answer's Content-Type starts with ct. */
static bool
type_is(const gwh_res *r, const char *ct)
{
	char buf[128];
	const char *v = gwh_header(r, "Content-Type", 0, buf, sizeof(buf));

	return v != NULL && strncmp(v, ct, strlen(ct)) == 0;
}

/*
 * A Connect error: HTTP status http, application/json, {"code": code}
 * and a message holding needle (NULL: any message).
 */
static bool
connect_error(const gwh_res *r, int http, const char *code, const char *needle)
{
	const char *msg = jstr(r->json, "message");
	bool ok = r->status == http && type_is(r, "application/json") &&
		  jstr(r->json, "code") != NULL &&
		  strcmp(jstr(r->json, "code"), code) == 0 &&
		  (needle == NULL || (msg != NULL && strstr(msg, needle)));

	if (!ok) {
		fprintf(stderr, "want %d %s (%s), got %d: %.*s\n", http, code,
			needle != NULL ? needle : "", r->status,
			(int)r->body_len, r->body != NULL ? r->body : "");
	}
	return ok;
}

/*
 * The frames of a gRPC-Web body (decoded from base64 first when text):
 * the data frame's message into *msg (NULL: none) and the trailer frame's
 * grpc-status; -1 when the body is not frames ending in one trailer.
 */
static int
grpc_web_frames(const gwh_res *r, bool text, char *buf, size_t size,
		const char **msg, size_t *msg_len, char *message,
		size_t message_size)
{
	const uint8_t *p = (const uint8_t *)r->body;
	size_t len = r->body_len, at = 0;
	int status = -1;

	*msg = NULL;
	*msg_len = 0;
	message[0] = '\0';
	if (p == NULL) {
		return -1;
	}
	if (text) {
		if (uw_base64_decoded_max(len) > size ||
		    uw_base64_decode(r->body, len, (uint8_t *)buf, &len) != 0) {
			return -1;
		}
		p = (const uint8_t *)buf;
	}
	while (at + 5 <= len) {
		size_t n = (size_t)p[at + 1] << 24 | (size_t)p[at + 2] << 16 |
			   (size_t)p[at + 3] << 8 | p[at + 4];
		const char *s = (const char *)p + at + 5, *m;

		if (at + 5 + n > len) {
			return -1;
		}
		if (p[at] == 0 && status == -1) {
			*msg = s;
			*msg_len = n;
		} else if (p[at] == 0x80 && status == -1) {
			/* "grpc-status: N\r\n[grpc-message: ...\r\n]..." */
			if (n < 14 || strncmp(s, "grpc-status: ", 13) != 0) {
				return -1;
			}
			status = atoi(s + 13);
			m = find(s, n, "grpc-message: ");
			if (m != NULL) {
				size_t ml = strcspn(m + 14, "\r");

				snprintf(message, message_size, "%.*s", (int)ml,
					 m + 14);
			}
		} else {
			return -1;
		}
		at += 5 + n;
	}
	return at == len ? status : -1;
}

/*
 * A gRPC-Web answer: 200, the Content-Type ct, no message, grpc-status
 * code, and a grpc-message holding needle (NULL: any).
 */
static bool
grpc_web_error(const gwh_res *r, const char *ct, int code, const char *needle)
{
	static char buf[1 << 16];
	char message[512];
	const char *msg;
	size_t n;
	int st =
	    grpc_web_frames(r, strstr(ct, "-text") != NULL, buf, sizeof(buf),
			    &msg, &n, message, sizeof(message));
	bool ok = r->status == 200 && type_is(r, ct) && msg == NULL &&
		  st == code && (needle == NULL || strstr(message, needle));

	if (!ok) {
		fprintf(stderr,
			"want grpc-status %d (%s), got HTTP %d, status %d "
			"\"%s\"\n",
			code, needle != NULL ? needle : "", r->status, st,
			message);
	}
	return ok;
}

/* The calls done right, in each dialect: what must keep working. */
static void
good_calls(void)
{
	const char *hp[] = {CT_P, auth, NULL};
	const char *hj[] = {CT_J, NULL};
	const char *hw[] = {CT_GW, auth, NULL};
	const char *hr[] = {auth, NULL};
	static char buf[1 << 16];
	char message[256];
	const char *msg;
	size_t n;
	gwh_res r;

	post(SVC "Authenticate", hj, LOGIN, strlen(LOGIN), &r);
	CHECK_INT(r.status, 200);
	CHECK(type_is(&r, "application/json"));
	CHECK(jstr(r.json, "bearerToken") != NULL);
	if (jstr(r.json, "bearerToken") != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 jstr(r.json, "bearerToken"));
	}
	gwh_res_fini(&r);

	post(SVC "GetUser", hp, GET_1, 3, &r);
	CHECK_INT(r.status, 200);
	CHECK(type_is(&r, "application/proto"));
	CHECK(r.body != NULL &&
	      find(r.body, r.body_len, TH_ADMIN_EMAIL) != NULL);
	gwh_res_fini(&r);

	post(SVC "GetUser", hw, "\0\0\0\0\3" GET_1, 8, &r);
	CHECK_INT(r.status, 200);
	CHECK(type_is(&r, "application/grpc-web+proto"));
	CHECK_INT(grpc_web_frames(&r, false, buf, sizeof(buf), &msg, &n,
				  message, sizeof(message)),
		  0);
	CHECK(msg != NULL && find(msg, n, TH_ADMIN_EMAIL) != NULL);
	gwh_res_fini(&r);

	gwh_http(gw.port, "GET", "/users/1", hr, NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
}

static void
test_frames(void)
{
	const char *hw[] = {CT_GW, auth, NULL};
	const char *ht[] = {CT_GWT, auth, NULL};
	const char *hp[] = {CT_P, auth, NULL};
	const char *hj[] = {CT_J, auth, NULL};
	gwh_res r;

	/* says 10 bytes, has 3 */
	post(SVC "GetUser", hw, "\0\0\0\0\12" GET_1, 8, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+proto", 3, "cut short"));
	gwh_res_fini(&r);
	/* cut in the header */
	post(SVC "GetUser", hw, "\0\0\0", 3, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+proto", 3, "cut short"));
	gwh_res_fini(&r);
	/* two frames in a unary call */
	post(SVC "GetUser", hw, "\0\0\0\0\3" GET_1 "\0\0\0\0\0", 13, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+proto", 3,
			     "exactly one message"));
	gwh_res_fini(&r);
	/* a trailer frame, a compressed frame, in a request */
	post(SVC "GetUser", hw, "\x80\0\0\0\3" GET_1, 8, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+proto", 3, "flags"));
	gwh_res_fini(&r);
	post(SVC "GetUser", hw, "\1\0\0\0\3" GET_1, 8, &r);
	CHECK(
	    grpc_web_error(&r, "application/grpc-web+proto", 12, "Compressed"));
	gwh_res_fini(&r);
	/* a frame whose message is not GetUser's encoding */
	post(SVC "GetUser", hw,
	     "\0\0\0\0\3\x0a\x05"
	     "1",
	     8, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+proto", 3,
			     "binary encoding"));
	gwh_res_fini(&r);
	/* grpc-web-text: "AAAAAAMKATE=" is the good call; cut, and not
	 * base64 */
	post(SVC "GetUser", ht, "AAAAAAMKATE=", 12, &r);
	CHECK_INT(r.status, 200);
	CHECK(type_is(&r, "application/grpc-web-text+proto"));
	gwh_res_fini(&r);
	post(SVC "GetUser", ht, "AAAAAAMK", 8, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web-text+proto", 3,
			     "cut short"));
	gwh_res_fini(&r);
	post(SVC "GetUser", ht, "AAAA!AMKATE=", 12, &r);
	CHECK(
	    grpc_web_error(&r, "application/grpc-web-text+proto", 3, "base64"));
	gwh_res_fini(&r);
	/* Connect bodies that are not the message */
	post(SVC "GetUser", hp,
	     "\x0a\x05"
	     "1",
	     3, &r);
	CHECK(connect_error(&r, 400, "invalid_argument", "binary encoding"));
	gwh_res_fini(&r);
	post(SVC "GetUser", hj, "{\"userId\":", 10, &r);
	CHECK(connect_error(&r, 400, "invalid_argument", NULL));
	gwh_res_fini(&r);
	post(SVC "GetUser", hj, "[\"1\"]", 5, &r);
	CHECK(connect_error(&r, 400, "invalid_argument", NULL));
	gwh_res_fini(&r);
	/* a string that is not UTF-8, in binary */
	post(SVC "GetUser", hp, "\x0a\x01\xff", 3, &r);
	CHECK(connect_error(&r, 400, "invalid_argument", "UTF-8"));
	gwh_res_fini(&r);
}

static void
test_types(void)
{
	const char *none[] = {auth, NULL};
	const char *plain[] = {"Content-Type: text/plain", auth, NULL};
	const char *xml[] = {"Content-Type: application/xml", auth, NULL};
	const char *thrift[] = {"Content-Type: application/grpc-web+thrift",
				auth, NULL};
	const char *stream[] = {"Content-Type: application/connect+proto", auth,
				NULL};
	const char *grpc[] = {"Content-Type: application/grpc", "TE: trailers",
			      auth, NULL};
	const char *v2[] = {CT_P, "Connect-Protocol-Version: 2", auth, NULL};
	const char *gz[] = {CT_P, "Content-Encoding: gzip", auth, NULL};
	char buf[256];
	gwh_res r;

	post(SVC "GetUser", none, GET_1, 3, &r);
	CHECK(connect_error(&r, 415, "unimplemented", "Content-Type"));
	CHECK(gwh_header(&r, "Accept-Post", 0, buf, sizeof(buf)) != NULL &&
	      strstr(buf, "application/proto") != NULL);
	gwh_res_fini(&r);
	post(SVC "GetUser", plain, GET_1, 3, &r);
	CHECK(connect_error(&r, 415, "unimplemented", "Content-Type"));
	gwh_res_fini(&r);
	post(SVC "GetUser", xml, "<GetUser/>", 10, &r);
	CHECK(connect_error(&r, 415, "unimplemented", "Content-Type"));
	CHECK(gwh_header(&r, "Accept-Post", 0, buf, sizeof(buf)) != NULL);
	gwh_res_fini(&r);
	post(SVC "GetUser", thrift, "\0\0\0\0\3" GET_1, 8, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+json", 12,
			     "Content-Type"));
	gwh_res_fini(&r);
	post(SVC "GetUser", stream, "\0\0\0\0\3" GET_1, 8, &r);
	CHECK(connect_error(&r, 415, "unimplemented", "streaming"));
	gwh_res_fini(&r);
	/* plain gRPC: an answer at once, the reason where gRPC looks too */
	post(SVC "GetUser", grpc, "\0\0\0\0\3" GET_1, 8, &r);
	CHECK(connect_error(&r, 415, "unimplemented", "HTTP/2 trailers"));
	CHECK(gwh_header(&r, "grpc-status", 0, buf, sizeof(buf)) != NULL &&
	      strcmp(buf, "12") == 0);
	CHECK(gwh_header(&r, "grpc-message", 0, buf, sizeof(buf)) != NULL &&
	      strstr(buf, "trailers") != NULL);
	gwh_res_fini(&r);
	/* and on any path: the Content-Type alone says gRPC */
	post("/users/1", grpc, "\0\0\0\0\0", 5, &r);
	CHECK(connect_error(&r, 415, "unimplemented", "HTTP/2 trailers"));
	gwh_res_fini(&r);
	post(SVC "GetUser", v2, GET_1, 3, &r);
	CHECK(connect_error(&r, 400, "invalid_argument",
			    "Connect-Protocol-Version"));
	gwh_res_fini(&r);
	post(SVC "GetUser", gz, GET_1, 3, &r);
	CHECK(connect_error(&r, 501, "unimplemented", "Compressed"));
	gwh_res_fini(&r);
	/* GET: for reads only, in encodings we speak */
	gwh_http(gw.port, "GET",
		 SVC "NewUser?encoding=json&message=%7B%7D&connect=v1", none,
		 NULL, &r);
	CHECK(connect_error(&r, 405, "unimplemented", "POST"));
	CHECK(gwh_header(&r, "Allow", 0, buf, sizeof(buf)) != NULL &&
	      strcmp(buf, "POST, OPTIONS") == 0);
	gwh_res_fini(&r);
	gwh_http(gw.port, "GET", SVC "GetUser?encoding=xml&message=x", none,
		 NULL, &r);
	CHECK(connect_error(&r, 415, "unimplemented", "encoding"));
	gwh_res_fini(&r);
	gwh_http(gw.port, "GET",
		 SVC "GetUser?encoding=proto&base64=1&message=!!", none, NULL,
		 &r);
	CHECK(connect_error(&r, 400, "invalid_argument", "message"));
	gwh_res_fini(&r);
	/* a PUT is no call */
	gwh_http_bin(gw.port, "PUT", SVC "GetUser",
		     (const char *[]){CT_P, auth, NULL}, GET_1, 3, &r);
	CHECK(connect_error(&r, 405, "unimplemented", "POST"));
	CHECK(gwh_header(&r, "Allow", 0, buf, sizeof(buf)) != NULL &&
	      strcmp(buf, "GET, POST, OPTIONS") == 0);
	gwh_res_fini(&r);
}

static void
test_sizes(void)
{
	const char *hw[] = {CT_GW, auth, NULL};
	const char *hp[] = {CT_P, auth, NULL};
	static char big[MAXB + 64];
	char frame[5 + 2 + 40];
	gwh_res r;

	/* a frame that says it is over the limit, before its bytes come */
	post(SVC "GetUser", hw, "\0\0\0\x20\x01" GET_1, 8, &r);
	CHECK(
	    grpc_web_error(&r, "application/grpc-web+proto", 8, "larger than"));
	gwh_res_fini(&r);
	/* a body over --max-body: h2o refuses it (413) by its Content-Length,
	 * before the request reaches the gateway and its dialect is known */
	memset(big, 'a', sizeof(big));
	big[0] = 0x0a;
	big[1] = 0x7f;
	post(SVC "GetUser", hp, big, sizeof(big), &r);
	CHECK_INT(r.status, 413);
	gwh_res_fini(&r);
	/* a field over its max_len (user_id: 32) */
	memcpy(frame, "\0\0\0\0\x2a\x0a\x28", 7);
	memset(frame + 7, '1', 40);
	post(SVC "GetUser", hw, frame, sizeof(frame), &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+proto", 3, NULL));
	gwh_res_fini(&r);
	post(SVC "GetUser", hp, frame + 5, sizeof(frame) - 5, &r);
	CHECK(connect_error(&r, 400, "invalid_argument", NULL));
	gwh_res_fini(&r);
}

static void
test_methods(void)
{
	const char *hp[] = {CT_P, auth, NULL};
	const char *hw[] = {CT_GW, auth, NULL};
	gwh_res r;

	post(SVC "Nope", hp, "", 0, &r);
	CHECK(connect_error(&r, 404, "unimplemented", "No such method"));
	gwh_res_fini(&r);
	/* names are exact */
	post(SVC "getUser", hp, GET_1, 3, &r);
	CHECK(connect_error(&r, 404, "unimplemented", "No such method"));
	gwh_res_fini(&r);
	post(SVC, hp, "", 0, &r);
	CHECK(connect_error(&r, 404, "unimplemented", NULL));
	gwh_res_fini(&r);
	post(SVC "GetUser/x", hp, GET_1, 3, &r);
	CHECK(connect_error(&r, 404, "unimplemented", NULL));
	gwh_res_fini(&r);
	post(SVC "Nope", hw, "", 0, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+proto", 12,
			     "No such method"));
	gwh_res_fini(&r);
	/* another service: gRPC-Web by its Content-Type, no such method */
	post("/users.v2.UserService/GetUser", hw, "\0\0\0\0\3" GET_1, 8, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+proto", 12, NULL));
	gwh_res_fini(&r);
}

/*
 * A deadline of 1 ms is met by nothing: the daemon is stopped (SIGSTOP)
 * while the calls wait, so no answer can beat it. The answers come long
 * before the gateway's own --deadline (DEADLINE_MS): the client's timeout
 * is the one that counted.
 */
static void
test_deadline(void)
{
	const char *cj[] = {CT_J, "Connect-Timeout-Ms: 1", NULL};
	const char *gj[] = {"Content-Type: application/grpc-web+json",
			    "grpc-timeout: 1m", NULL};
	const char *bad[] = {CT_J, "Connect-Timeout-Ms: soon", NULL};
	const char *badg[] = {CT_GW, "grpc-timeout: 1", auth, NULL};
	char frame[5 + sizeof(LOGIN)];
	long long t0;
	gwh_res r;

	CHECK_INT(th_daemon_signal(&d, SIGSTOP), 0);
	t0 = th_now_ms();
	post(SVC "Authenticate", cj, LOGIN, strlen(LOGIN), &r);
	CHECK(connect_error(&r, 504, "deadline_exceeded", NULL));
	CHECK(th_now_ms() - t0 < DEADLINE_MS / 2);
	gwh_res_fini(&r);
	memcpy(frame, "\0\0\0\0", 4);
	frame[4] = (char)strlen(LOGIN);
	memcpy(frame + 5, LOGIN, strlen(LOGIN));
	t0 = th_now_ms();
	post(SVC "Authenticate", gj, frame, 5 + strlen(LOGIN), &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+json", 4, NULL));
	CHECK(th_now_ms() - t0 < DEADLINE_MS / 2);
	gwh_res_fini(&r);
	CHECK_INT(th_daemon_signal(&d, SIGCONT), 0);

	post(SVC "Authenticate", bad, LOGIN, strlen(LOGIN), &r);
	CHECK(connect_error(&r, 400, "invalid_argument", "Connect-Timeout-Ms"));
	gwh_res_fini(&r);
	post(SVC "GetUser", badg, "\0\0\0\0\3" GET_1, 8, &r);
	CHECK(grpc_web_error(&r, "application/grpc-web+proto", 3,
			     "grpc-timeout"));
	gwh_res_fini(&r);
}

static void
test_cookie(void)
{
	char cookie[4200];
	const char *h[] = {CT_P, cookie, NULL};
	gwh_res r;

	/* the admin's own token, as the session cookie: not a credential */
	snprintf(cookie, sizeof(cookie), "Cookie: ss-tok=%s",
		 auth + strlen("Authorization: Bearer "));
	post(SVC "GetUser", h, GET_1, 3, &r);
	CHECK(connect_error(&r, 401, "unauthenticated", NULL));
	gwh_res_fini(&r);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (th_daemon_start(&d, NULL) != 0) {
		return 1;
	}
	if (gwh_spawn(&gw, &d, "usersgw",
		      (const char *const[]){"--threads", "2", "--max-body",
					    "4096", "--deadline", "10000",
					    NULL}) != 0) {
		th_daemon_stop(&d);
		return 1;
	}
	good_calls();
	test_frames();
	test_types();
	test_sizes();
	test_methods();
	test_deadline();
	test_cookie();
	/* nothing else disturbed */
	good_calls();
	if (check_failed > 0) {
		gwh_dump_log(&gw);
	}
	CHECK_INT(gwh_stop(&gw), 0);
	CHECK_INT(th_daemon_stop(&d), 0);
	return check_done();
}
