/*
 * test_tls.c - RPC over tls+tcp:// against a real usersd: a call with the
 * right CA succeeds, a client that trusts another CA is refused, and a
 * second usersd on the same database refuses to start.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"
#include "usersclient.h"

static int
free_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
		port = ntohs(a.sin_port);
	}
	if (fd >= 0) {
		close(fd);
	}
	return port;
}

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
login_over(const char *url, const char *ca, uint32_t deadline_ms)
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
	o.tls_server_name = "localhost";
	if ((rc = uc_client_open(&c, &o)) != 0) {
		return rc;
	}
	rc = uc_login(c, "admin@example.com", "admin-password-1", &res);
	uc_result_fini(&res);
	uc_client_close(c);
	return rc;
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
	const char *args[7];
	th_daemon d;
	int port = free_port();

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
	args[6] = NULL;
	if (th_daemon_start(&d, args) != 0) {
		fprintf(stderr, "cannot start usersd\n");
		return 1;
	}
	CHECK_INT(login_over(url, ca, 5000), UP_OK);
	/* A client that does not trust the server's certificate gets no
	 * answer: never a success. */
	CHECK(login_over(url, other, 1500) != UP_OK);
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
