/*
 * test_listen.c - usersd's own listeners (daemon/loop.c) on the wire, byte
 * for byte, through a real usersd and plain sockets that speak nng's SP
 * framing (proto/sp.c):
 *
 * - the hellos, and a request through a device (two words of backtrace)
 *   answered with the same two words, over ipc:// and tcp://;
 * - a request sent one byte at a time;
 * - a client that sends 2,000 listings and reads nothing: usersd stops
 *   reading from it once its answers pile up (the client's sends block
 *   long before all are out), and when the client reads, usersd sends on
 *   the rest of writes the kernel took in part, and every answer arrives
 *   once, whole, with its own request id;
 * - refusals that close the connection, as nng's do: a REP hello, a frame
 *   longer than --max-message (refused on its head, before its body), a
 *   frame whose backtrace has no request id;
 * - the daemon answering new connections after each of them;
 * - a daemon that stops removes its ipc:// socket file, but not one that a
 *   newer daemon made at the same path meanwhile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"
#include "usersclient.h"

#define WAIT_MS 10000
#define MANY    2000
#define LONG    20 /* users whose names make a listing some 6 KiB */

static char token[4096];

/* LONG users named "long..." at url; how many were made. */
static int
seed(const char *url)
{
	const char *urls[] = {url};
	uc_options o = {.urls = urls, .n_urls = 1, .deadline_ms = WAIT_MS};
	uc_client *c = NULL;
	char name[121], email[64];
	int made = 0;

	if (uc_client_open(&c, &o) != 0) {
		return -1;
	}
	uc_set_bearer(c, token);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "long", 4);
	for (int i = 0; i < LONG; i++) {
		Users__V1__NewUser u = USERS__V1__NEW_USER__INIT;
		uc_result res;

		snprintf(email, sizeof(email), "long-%d@example.com", i);
		u.email_address = email;
		u.first_name = name;
		u.last_name = name;
		u.password = "password-123";
		made += uc_new_user(c, &u, NULL, &res) == UP_OK;
		uc_result_fini(&res);
	}
	uc_client_close(c);
	return made;
}

/* A connected socket to url (ipc://PATH or tcp://127.0.0.1:PORT), -1. */
static int
dial(const char *url)
{
	int fd = -1;

	if (strncmp(url, "ipc://", 6) == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", url + 6);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 &&
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(fd);
			fd = -1;
		}
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET};

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)atoi(strrchr(url, ':') + 1));
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0 &&
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(fd);
			fd = -1;
		}
	}
	return fd;
}

/* Whether fd has bytes (or an end) within ms. */
static bool
readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

/* Exactly n bytes, within WAIT_MS; false on an end or a timeout. */
static bool
read_full(int fd, void *buf, size_t n)
{
	long long until = th_now_ms() + WAIT_MS;
	size_t got = 0;

	while (got < n) {
		ssize_t r;

		if (!readable(fd, (int)(until - th_now_ms())) ||
		    th_now_ms() > until) {
			return false;
		}
		if ((r = recv(fd, (uint8_t *)buf + got, n - got, 0)) <= 0) {
			return false;
		}
		got += (size_t)r;
	}
	return true;
}

static bool
send_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = send(fd, (const uint8_t *)buf + done, n - done,
				 MSG_NOSIGNAL);

		if (w <= 0) {
			return false;
		}
		done += (size_t)w;
	}
	return true;
}

/* Whether the peer closed fd within WAIT_MS (anything it sent first is
 * read and dropped). */
static bool
closed_by_peer(int fd)
{
	long long until = th_now_ms() + WAIT_MS;
	uint8_t b[256];

	while (th_now_ms() < until) {
		ssize_t r;

		if (!readable(fd, 100)) {
			continue;
		}
		r = recv(fd, b, sizeof(b), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			return true;
		}
	}
	return false;
}

/* Reads usersd's hello (REP v0) and sends ours (REQ v0). */
static bool
greet(int fd)
{
	uint8_t h[UP_SP_HELLO_LEN], ours[UP_SP_HELLO_LEN];

	if (!read_full(fd, h, sizeof(h))) {
		return false;
	}
	CHECK_INT(up_sp_hello_check(h, UP_SP_REP), 0);
	up_sp_hello(ours, UP_SP_REQ);
	return send_full(fd, ours, sizeof(ours));
}

/* An older client's GetUser of the admin: one envelope, no batch. */
static size_t
get_envelope(const char *request_id, uint8_t *out, size_t cap)
{
	Users__V1__RequestEnvelope e = USERS__V1__REQUEST_ENVELOPE__INIT;
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	uint8_t payload[64];

	g.user_id = TH_ADMIN_ID;
	e.method = "GetUser";
	e.request_id = (char *)request_id;
	e.bearer_token = token;
	e.has_payload = true;
	e.payload.data = payload;
	e.payload.len = users__v1__get_user__pack(&g, payload);
	if (users__v1__request_envelope__get_packed_size(&e) > cap) {
		return 0;
	}
	return users__v1__request_envelope__pack(&e, out);
}

/* A whole frame: head, the words of backtrace, the body. */
static size_t
frame(uint8_t *out, bool ipc, const uint32_t *words, size_t n_words,
      const uint8_t *body, size_t len)
{
	size_t k = up_sp_head(out, ipc, 4 * n_words + len);

	for (size_t i = 0; i < n_words; i++) {
		out[k++] = (uint8_t)(words[i] >> 24);
		out[k++] = (uint8_t)(words[i] >> 16);
		out[k++] = (uint8_t)(words[i] >> 8);
		out[k++] = (uint8_t)words[i];
	}
	if (len > 0) {
		memcpy(out + k, body, len);
	}
	return k + len;
}

/*
 * The next answer frame on fd: its backtrace (at most 8 words, *n_words)
 * and its decoded envelope; NULL on an end, a timeout or bytes that are
 * no answer.
 */
static Users__V1__ResponseEnvelope *
read_answer(int fd, bool ipc, uint32_t *words, size_t *n_words)
{
	uint8_t head[UP_SP_HEAD_MAX], *payload;
	size_t hl = ipc ? 9 : 8, bl, frame_len, body_off;
	uint64_t len = 0;
	Users__V1__ResponseEnvelope *env = NULL;
	uint8_t *all;

	if (!read_full(fd, head, hl)) {
		return NULL;
	}
	for (size_t i = hl - 8; i < hl; i++) {
		len = len << 8 | head[i];
	}
	if (len > (1u << 20) || (all = malloc(hl + (size_t)len)) == NULL) {
		return NULL;
	}
	memcpy(all, head, hl);
	payload = all + hl;
	if (read_full(fd, payload, (size_t)len) &&
	    up_sp_next(all, hl + (size_t)len, ipc, 1u << 20, &frame_len,
		       &body_off) == 1) {
		*n_words = (body_off - hl) / 4;
		for (size_t i = 0; i < *n_words; i++) {
			const uint8_t *w = all + hl + 4 * i;

			words[i] = (uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 |
				   (uint32_t)w[2] << 8 | w[3];
		}
		bl = frame_len - body_off;
		env = users__v1__response_envelope__unpack(NULL, bl,
							   all + body_off);
	}
	free(all);
	return env;
}

/* A request through a device (two words) answered with both words. */
static void
test_device_hop(const char *url)
{
	bool ipc = strncmp(url, "ipc://", 6) == 0;
	const uint32_t words[2] = {0x00000007u, 0x80000abcu};
	uint32_t back[8];
	size_t n_back = 0, n;
	uint8_t env[8192], buf[8192 + 64];
	Users__V1__ResponseEnvelope *ans;
	int fd = dial(url);

	CHECK(fd >= 0);
	if (fd < 0) {
		return;
	}
	CHECK(greet(fd));
	n = get_envelope("device-1", env, sizeof(env));
	CHECK(n > 0);
	n = frame(buf, ipc, words, 2, env, n);
	CHECK(send_full(fd, buf, n));
	ans = read_answer(fd, ipc, back, &n_back);
	CHECK(ans != NULL);
	if (ans != NULL) {
		CHECK_INT(ans->status, USERS__V1__STATUS_CODE__OK);
		CHECK_STR(ans->request_id, "device-1");
		users__v1__response_envelope__free_unpacked(ans, NULL);
	}
	CHECK_INT(n_back, 2);
	CHECK_INT(back[0], words[0]);
	CHECK_INT(back[1], words[1]);

	/* the same, one byte at a time */
	for (size_t i = 0; i < n; i++) {
		CHECK(send_full(fd, buf + i, 1));
	}
	ans = read_answer(fd, ipc, back, &n_back);
	CHECK(ans != NULL && ans->status == USERS__V1__STATUS_CODE__OK);
	if (ans != NULL) {
		users__v1__response_envelope__free_unpacked(ans, NULL);
	}
	close(fd);
}

/*
 * A client that sends and does not read. MANY listings (some 6 KiB of
 * answer each) go out without a single answer read: usersd answers what
 * fits in the kernel's buffers, keeps a bounded backlog, and then reads
 * no more from this connection, so the client's sends block long before
 * all MANY are out (usersd holds a bounded amount for it). Then the client
 * reads while it sends the rest: every answer arrives once, whole, with
 * its own request id, after writes that the kernel took only in part.
 */
typedef struct out_frames {
	uint8_t buf[8192 + 64];
	size_t len, off; /* the frame being sent */
	int next;        /* the next request to frame */
	int whole;       /* frames sent whole */
} out_frames;

/* Sends what the socket takes now; false on an error. */
static bool
send_some(int fd, bool ipc, out_frames *o)
{
	for (;;) {
		ssize_t w;

		if (o->off == o->len) {
			Users__V1__RequestEnvelope e =
			    USERS__V1__REQUEST_ENVELOPE__INIT;
			Users__V1__ListUsers q = USERS__V1__LIST_USERS__INIT;
			uint8_t env[8192], payload[64];
			uint32_t word = 0x80000000u | (uint32_t)o->next;
			char id[32];

			if (o->next == MANY) {
				return true;
			}
			snprintf(id, sizeof(id), "many-%d", o->next);
			q.name = "long";
			e.method = "ListUsers";
			e.request_id = id;
			e.bearer_token = token;
			e.has_payload = true;
			e.payload.data = payload;
			e.payload.len =
			    users__v1__list_users__pack(&q, payload);
			o->len =
			    frame(o->buf, ipc, &word, 1, env,
				  users__v1__request_envelope__pack(&e, env));
			o->off = 0;
			o->next++;
		}
		w = send(fd, o->buf + o->off, o->len - o->off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		o->off += (size_t)w;
		o->whole += o->off == o->len;
	}
}

static void
test_unread_answers(const char *url)
{
	bool ipc = strncmp(url, "ipc://", 6) == 0;
	static bool seen[MANY];
	static out_frames o;
	int fd = dial(url), ok = 0, got = 0, before_block;
	long long bytes = 0, until;

	CHECK(fd >= 0);
	if (fd < 0) {
		return;
	}
	CHECK(greet(fd));
	memset(seen, 0, sizeof(seen));
	memset(&o, 0, sizeof(o));
	/* Sending only, until the socket takes nothing for a second. */
	until = th_now_ms() + WAIT_MS;
	while (o.next < MANY && th_now_ms() < until) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};

		CHECK(send_some(fd, ipc, &o));
		if (o.whole == MANY || poll(&p, 1, 1000) == 0) {
			break;
		}
	}
	before_block = o.whole;
	fprintf(stderr,
		"test_listen: %d of %d requests sent before the sends "
		"blocked\n",
		before_block, MANY);
	/* Over tcp:// the kernel's buffers grow to megabytes on loopback
	 * and take every request; a Unix socket's hold some 200 KiB. */
	CHECK(!ipc || before_block < MANY / 2);
	/* Reading, and sending the rest as the socket takes it. */
	until = th_now_ms() + 6 * WAIT_MS;
	while (got < MANY && th_now_ms() < until) {
		uint32_t back[8];
		size_t n_back = 0;
		Users__V1__ResponseEnvelope *ans;
		uint32_t k;
		char id[32];

		if (!send_some(fd, ipc, &o)) {
			CHECK(!"send");
			break;
		}
		if (got == o.whole) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			poll(&p, 1, 100); /* nothing due: room to send */
			continue;
		}
		if ((ans = read_answer(fd, ipc, back, &n_back)) == NULL) {
			break;
		}
		got++;
		k = back[0] & 0x7fffffffu;
		snprintf(id, sizeof(id), "many-%u", k);
		if (n_back == 1 && k < MANY && !seen[k] &&
		    ans->status == USERS__V1__STATUS_CODE__OK &&
		    strcmp(ans->request_id, id) == 0) {
			seen[k] = true;
			ok++;
			bytes += (long long)ans->payload.len;
		}
		users__v1__response_envelope__free_unpacked(ans, NULL);
	}
	CHECK_INT(ok, MANY);
	/* far more than a socket's buffers (some 200 KiB each way) */
	CHECK(bytes > 4 * 1024 * 1024);
	fprintf(stderr, "test_listen: %d answers read (%lld payload bytes)\n",
		ok, bytes);
	close(fd);
}

/* Bytes nng would refuse: usersd closes the connection. */
static void
test_refusals(const char *url, size_t max_message)
{
	bool ipc = strncmp(url, "ipc://", 6) == 0;
	uint8_t rep[UP_SP_HELLO_LEN], buf[64], head[UP_SP_HEAD_MAX];
	uint8_t h[UP_SP_HELLO_LEN];
	const uint32_t no_id[2] = {1, 2};
	int fd;

	/* a REP's hello: no client of ours */
	fd = dial(url);
	CHECK(fd >= 0 && read_full(fd, h, sizeof(h)));
	up_sp_hello(rep, UP_SP_REP);
	CHECK(send_full(fd, rep, sizeof(rep)));
	CHECK(closed_by_peer(fd));
	close(fd);

	/* a frame longer than --max-message: its head alone is enough */
	fd = dial(url);
	CHECK(fd >= 0 && greet(fd));
	CHECK(send_full(fd, head, up_sp_head(head, ipc, max_message + 1)));
	CHECK(closed_by_peer(fd));
	close(fd);

	/* a backtrace without a request id */
	fd = dial(url);
	CHECK(fd >= 0 && greet(fd));
	CHECK(send_full(fd, buf, frame(buf, ipc, no_id, 2, NULL, 0)));
	CHECK(closed_by_peer(fd));
	close(fd);
}

/*
 * The path is bound anew while the daemon runs (the test's own listener
 * standing in for a newer daemon): stopping, the daemon leaves that file
 * alone. Another daemon's stop removes its own file.
 */
static void
test_path_kept(void)
{
	th_daemon d;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path;
	int fd;

	if (th_daemon_start(&d, NULL) != 0) {
		CHECK(!"usersd started");
		return;
	}
	path = d.url + 6;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		CHECK(!"a short enough path");
		th_daemon_stop(&d);
		return;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	CHECK_INT(unlink(path), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	CHECK_INT(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_INT(listen(fd, 4), 0);
	CHECK_INT(th_daemon_signal(&d, SIGTERM), 0);
	CHECK_INT(th_daemon_wait(&d, WAIT_MS), 0);
	CHECK_INT(access(path, F_OK), 0); /* still the newer one's */
	close(fd);
	unlink(path);
	th_daemon_stop(&d);

	if (th_daemon_start(&d, NULL) != 0) {
		CHECK(!"usersd started");
		return;
	}
	CHECK_INT(access(d.url + 6, F_OK), 0);
	CHECK_INT(th_daemon_signal(&d, SIGTERM), 0);
	CHECK_INT(th_daemon_wait(&d, WAIT_MS), 0);
	CHECK(access(d.url + 6, F_OK) != 0); /* its own: removed */
	th_daemon_stop(&d);
}

int
main(void)
{
	char tcp[64], port[16];
	const char *args[] = {"--listen", tcp, "--max-message", "65536", NULL};
	th_daemon d;

	snprintf(port, sizeof(port), "%d", th_free_port());
	snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%s", port);
	if (th_daemon_start(&d, args) != 0) {
		CHECK(!"usersd started");
		return check_done();
	}
	CHECK_INT(th_admin_token(d.url, token, sizeof(token)), UP_OK);
	CHECK_INT(seed(d.url), LONG);
	for (int k = 0; k < 2; k++) {
		const char *url = k == 0 ? d.url : tcp;

		fprintf(stderr, "test_listen: %s\n", url);
		test_device_hop(url);
		test_unread_answers(url);
		test_refusals(url, 65536);
		/* and new connections are answered after all that */
		test_device_hop(url);
	}
	if (check_failed > 0) {
		th_daemon_dump_log(&d);
	}
	th_daemon_stop(&d);
	test_path_kept();
	return check_done();
}
