/*
 * test_tls.c - RPC over tls+tcp:// against a real usersd: a call with the
 * right CA succeeds, a client that trusts another CA is refused, a client
 * without a CA is refused at creation with a reason (library, usersctl,
 * usersbench, usersgw) unless it says it is insecure (then it works and
 * warns once), and a second usersd on the same database refuses to start.
 *
 * The listener guard on tls+tcp://: its probes are taken, and after
 * each client that refused the certificate and hung up in the handshake
 * (which can leave nng 1.5.2's listener stuck) new connections are
 * answered again within the guard's time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"
#include "usersclient.h"

static int
make_cert(const char *dir, const char *name)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
		 "/CN=localhost -addext subjectAltName=DNS:localhost,IP:127."
		 "0.0.1 -keyout %s/%s.key -out %s/%s.pem 2>/dev/null",
		 dir, name, dir, name);
	return system(cmd);
}

static int
login_over(const char *url, const char *ca, bool insecure, uint32_t deadline_ms)
{
	const char *urls[] = {url};
	uc_options o = {0};
	uc_client *c = NULL;
	uc_result res = {0};
	int rc;

	o.urls = urls;
	o.n_urls = 1;
	o.deadline_ms = deadline_ms;
	o.tls_ca_file = ca;
	o.tls_insecure = insecure;
	o.tls_server_name = "localhost";
	if ((rc = uc_client_open(&c, &o)) != 0) {
		return rc;
	}
	rc = uc_login(c, "admin@example.com", "admin-password-1", &res);
	uc_result_fini(&res);
	uc_client_close(c);
	return rc;
}

/*
 * New connections are answered: a login on a new client each try, until
 * one succeeds (at most 20 s: a listener left stuck by the client before
 * is made anew by the guard within about 5 s).
 */
static void
await_answers(const char *url)
{
	long long until = th_now_ms() + 20000;
	int rc;

	while ((rc = login_over(url, NULL, true, 3000)) != UP_OK &&
	       th_now_ms() < until) {
		gwh_nap_ms(100);
	}
	CHECK_INT(rc, UP_OK);
}

/* How often needle occurs in hay. */
static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL;
	     p += strlen(needle)) {
		n++;
	}
	return n;
}

/* The library: no CA is refused at creation, with a reason. */
static void
test_library(const char *url, const char *ca)
{
	const char *urls[] = {"ipc:///nowhere.sock", url};
	uc_options o = {0};
	uc_client *c = NULL;

	o.urls = urls;
	o.n_urls = 2;
	CHECK_INT(uc_client_open(&c, &o), UP_FAILED_PRECONDITION);
	CHECK(c == NULL);
	CHECK(strstr(uc_client_open_error(), url) != NULL);
	CHECK(strstr(uc_client_open_error(), "no CA file") != NULL);
	/* a CA and insecure together: contradictory */
	o.tls_ca_file = ca;
	o.tls_insecure = true;
	CHECK_INT(uc_client_open(&c, &o), UP_INVALID_ARGUMENT);
	CHECK(uc_client_open_error()[0] != '\0');
	/* no tls+tcp:// URL: nothing to verify, nothing asked */
	o.urls = urls;
	o.n_urls = 1;
	o.tls_ca_file = NULL;
	o.tls_insecure = false;
	CHECK_INT(uc_client_open(&c, &o), 0);
	CHECK_STR(uc_client_open_error(), "");
	uc_client_close(c);
	/* insecure: the call goes through */
	CHECK_INT(login_over(url, NULL, true, 5000), UP_OK);
	CHECK(login_over(url, NULL, false, 1500) == UP_FAILED_PRECONDITION);
}

/* usersctl login over tls+tcp:// with args; its output into o. */
static void
usersctl_login(const th_daemon *d, const char *url, const char *a1,
	       const char *a2, th_output *o)
{
	char bin[512], tok[600];
	const char *env[] = {"USERSCTL_PASSWORD=" TH_ADMIN_PASSWORD, NULL};
	const char *argv[16];
	size_t n = 0;

	memset(o, 0, sizeof(*o));
	o->status = -1;
	if (th_bin("usersctl", bin, sizeof(bin)) != 0) {
		return;
	}
	snprintf(tok, sizeof(tok), "%s/token", d->dir);
	argv[n++] = bin;
	argv[n++] = "--url";
	argv[n++] = url;
	argv[n++] = "--token-file";
	argv[n++] = tok;
	argv[n++] = "--tls-server-name";
	argv[n++] = "localhost";
	if (a1 != NULL) {
		argv[n++] = a1;
	}
	if (a2 != NULL) {
		argv[n++] = a2;
	}
	argv[n++] = "--user";
	argv[n++] = TH_ADMIN_EMAIL;
	argv[n++] = "login";
	argv[n] = NULL;
	CHECK_INT(th_run(argv, env, NULL, 20000, o), 0);
}

/* usersbench --login-only over tls+tcp:// with args. */
static void
usersbench_login(const char *url, const char *a1, const char *a2, th_output *o)
{
	char bin[512];
	const char *env[] = {"USERSBENCH_PASSWORD=" TH_ADMIN_PASSWORD, NULL};
	const char *argv[12];
	size_t n = 0;

	memset(o, 0, sizeof(*o));
	o->status = -1;
	if (th_bin("usersbench", bin, sizeof(bin)) != 0) {
		return;
	}
	argv[n++] = bin;
	argv[n++] = "--url";
	argv[n++] = url;
	argv[n++] = "--user";
	argv[n++] = TH_ADMIN_EMAIL;
	argv[n++] = "--login-only";
	if (a1 != NULL) {
		argv[n++] = a1;
	}
	if (a2 != NULL) {
		argv[n++] = a2;
	}
	argv[n] = NULL;
	CHECK_INT(th_run(argv, env, NULL, 20000, o), 0);
}

static void
test_programs(const th_daemon *d, const char *url, const char *ca,
	      const char *other)
{
	th_output o;

	/* usersctl */
	usersctl_login(d, url, NULL, NULL, &o);
	CHECK_INT(o.status, 2);
	CHECK(o.err != NULL && strstr(o.err, "no CA file") != NULL &&
	      strstr(o.err, "--tls-ca") != NULL &&
	      strstr(o.err, "--tls-insecure") != NULL);
	th_output_fini(&o);
	usersctl_login(d, url, "--tls-insecure", NULL, &o);
	CHECK_INT(o.status, 0);
	CHECK(o.err != NULL && count_of(o.err, "not verified") == 1);
	th_output_fini(&o);
	usersctl_login(d, url, "--tls-ca", ca, &o);
	CHECK_INT(o.status, 0);
	CHECK(o.err != NULL && strstr(o.err, "not verified") == NULL);
	th_output_fini(&o);
	usersctl_login(d, url, "--tls-ca", other, &o);
	CHECK(o.status != 0 && o.status != -1);
	th_output_fini(&o);
	await_answers(url);

	/* usersbench */
	usersbench_login(url, NULL, NULL, &o);
	CHECK_INT(o.status, 1);
	CHECK(o.err != NULL && strstr(o.err, "no CA file") != NULL &&
	      strstr(o.err, "--tls-ca") != NULL);
	th_output_fini(&o);
	usersbench_login(url, "--tls-insecure", NULL, &o);
	CHECK_INT(o.status, 0);
	CHECK(o.err != NULL && count_of(o.err, "not verified") == 1);
	th_output_fini(&o);
}

/* GET /users/1 as the admin (Basic) through the gateway: the status. */
static int
gateway_get(const gwh_proc *g)
{
	const char *h[] = {"Authorization: Basic "
			   "YWRtaW5AZXhhbXBsZS5jb206YWRtaW4tcGFzc3dvcmQtMQ==",
			   NULL};
	gwh_res r;
	int st;

	gwh_http(g->port, "GET", "/users/1", h, NULL, &r);
	st = r.status;
	gwh_res_fini(&r);
	return st;
}

/* usersgw in front of the tls+tcp:// daemon. */
static void
test_gateway(const th_daemon *d, const char *url, const char *ca,
	     const char *other)
{
	th_daemon tls = *d; /* the same daemon, by its tls+tcp:// URL */
	char bin[512], log[8192] = "";
	gwh_proc g;
	th_output o;

	snprintf(tls.url, sizeof(tls.url), "%s", url);
	if (th_bin("usersgw", bin, sizeof(bin)) == 0) {
		const char *argv[] = {bin,        "--listen", "127.0.0.1:0",
				      "--daemon", url,        NULL};

		CHECK_INT(th_run(argv, NULL, NULL, 20000, &o), 0);
		CHECK_INT(o.status, 1);
		CHECK(o.err != NULL && strstr(o.err, "no CA file") != NULL &&
		      strstr(o.err, "--daemon-ca") != NULL &&
		      strstr(o.err, "--daemon-insecure") != NULL);
		CHECK(o.err != NULL && strstr(o.err, "ready") == NULL);
		th_output_fini(&o);
	}
	if (th_bin("usersgw", bin, sizeof(bin)) == 0) {
		const char *argv[] = {bin,
				      "--listen",
				      "127.0.0.1:0",
				      "--daemon",
				      url,
				      "--daemon-ca",
				      ca,
				      "--daemon-insecure",
				      NULL};

		CHECK_INT(th_run(argv, NULL, NULL, 20000, &o), 0);
		CHECK_INT(o.status, 2);
		CHECK(o.err != NULL && strstr(o.err, "contradict") != NULL);
		th_output_fini(&o);
	}
	{
		const char *extra[] = {"--daemon-insecure", NULL};

		if (gwh_start(&g, &tls, "gw-insecure", extra) != 0) {
			CHECK(0);
		} else {
			CHECK_INT(gateway_get(&g), 200);
			CHECK_INT(gwh_stop(&g), 0);
			gwh_read_file(g.log, log, sizeof(log));
			CHECK_INT(count_of(log, "not verified"), 1);
		}
	}
	{
		const char *extra[] = {"--daemon-ca", ca, NULL};

		/* the certificate names localhost */
		snprintf(tls.url, sizeof(tls.url), "tls+tcp://localhost:%s",
			 strrchr(url, ':') + 1);
		if (gwh_start(&g, &tls, "gw-ca", extra) != 0) {
			CHECK(0);
		} else {
			CHECK_INT(gateway_get(&g), 200);
			CHECK_INT(gwh_stop(&g), 0);
		}
	}
	{
		const char *extra[] = {"--daemon-ca", other, NULL};

		if (gwh_start(&g, &tls, "gw-other", extra) != 0) {
			CHECK(0);
		} else {
			int st = gateway_get(&g);

			CHECK(st == 503 || st == 504);
			CHECK_INT(gwh_stop(&g), 0);
		}
	}
	await_answers(url);
}

/*
 * The guard's probes through the tls+tcp:// listener are taken, round
 * after round: its answered series in GET /metrics grows (twice within
 * 15 s).
 */
static void
test_guard(const th_daemon *d, const char *url)
{
	long long until = th_now_ms() + 15000, first = -1, now = -1;
	int port = th_daemon_metrics_port(d);

	CHECK(port > 0);
	if (port > 0) {
		first = gwh_guard_metric(port, url, "taken");
	}
	while (port > 0 && th_now_ms() < until &&
	       (now = gwh_guard_metric(port, url, "taken")) < first + 2) {
		gwh_nap_ms(100);
	}
	CHECK(first >= 0 && now >= first + 2);
	/* present (a renewal is no failure here: a refusing client before
	 * may really have stuck the listener) */
	CHECK(port > 0 && gwh_guard_metric(port, url, NULL) >= 0);
}

static void
test_second_daemon_refused(const th_daemon *d)
{
	char db[600], sock[600], cmd[2048];
	int status;

	snprintf(db, sizeof(db), "%s/users.db", d->dir);
	snprintf(sock, sizeof(sock), "ipc://%s/other.sock", d->dir);
	snprintf(cmd, sizeof(cmd),
		 "%s/usersd --listen %s --db %s --hash-cost m=64,t=1,p=1 "
		 "--allow-insecure-hash-cost >%s/second.log 2>&1",
		 getenv("USERS_BIN"), sock, db, d->dir);
	status = system(cmd);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	/* ... and so is a second one on the same socket. */
	snprintf(cmd, sizeof(cmd),
		 "%s/usersd --listen %s --db %s/other.db --hash-cost "
		 "m=64,t=1,p=1 --allow-insecure-hash-cost >%s/third.log 2>&1",
		 getenv("USERS_BIN"), d->url, d->dir, d->dir);
	status = system(cmd);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

int
main(void)
{
	char dir[] = "/tmp/usersd-tls-XXXXXX";
	char url[64], cert[600], key[600], ca[600], other[600];
	const char *args[9];
	th_daemon d;
	int port = th_free_port();

	if (mkdtemp(dir) == NULL || port <= 0 ||
	    make_cert(dir, "server") != 0 || make_cert(dir, "other") != 0) {
		fprintf(stderr, "cannot make certificates (openssl)\n");
		return 1;
	}
	snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%d", port);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(ca, sizeof(ca), "%s/server.pem", dir);
	snprintf(other, sizeof(other), "%s/other.pem", dir);
	args[0] = "--listen";
	args[1] = url;
	args[2] = "--tls-cert";
	args[3] = cert;
	args[4] = "--tls-key";
	args[5] = key;
	args[6] = "--metrics-listen";
	args[7] = "127.0.0.1:0";
	args[8] = NULL;
	if (th_daemon_start(&d, args) != 0) {
		fprintf(stderr, "cannot start usersd\n");
		return 1;
	}
	CHECK_INT(login_over(url, ca, false, 5000), UP_OK);
	/* A client that does not trust the server's certificate gets no
	 * answer: never a success. */
	CHECK(login_over(url, other, false, 1500) != UP_OK);
	await_answers(url);
	test_library(url, ca);
	test_programs(&d, url, ca, other);
	test_gateway(&d, url, ca, other);
	test_guard(&d, url);
	test_second_daemon_refused(&d);
	th_daemon_stop(&d);
	{
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "cannot remove %s\n", dir);
		}
	}
	return check_done();
}
