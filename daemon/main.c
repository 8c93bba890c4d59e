/*
 * main.c - usersd: flags, start-up, the first administrator, and a clean
 * stop on SIGTERM/SIGINT (stop accepting, finish the calls in flight,
 * close the store). SIGHUP opens --log-file again and stops nothing;
 * SIGUSR1 logs the store's counters (writes, commits, round trips).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"
#include "service.h"
#include "validate.h"

#define MAX_LISTEN 16

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: usersd [options]\n"
		"  --listen URL         ipc://PATH, tcp://HOST:PORT or "
		"tls+tcp://HOST:PORT;\n"
		"                       repeatable (default "
		"ipc://./var/usersd.sock)\n"
		"  --db PATH|URL        SQLite database file (default "
		"./var/users.db), or a\n"
		"                       postgresql://USER@HOST:PORT/DB URL "
		"(several daemons\n"
		"                       may share one; the password from "
		"PGPASSWORD or\n"
		"                       ~/.pgpass rather than the URL)\n"
		"  --db-writers N       PostgreSQL writer connections "
		"(default 2)\n"
		"  --key-file PATH      token signing key, created 0600 on "
		"first run\n"
		"                       (default: usersd.key beside a "
		"SQLite database;\n"
		"                       required with PostgreSQL: every "
		"daemon signs with it)\n"
		"  --tls-cert FILE      certificate for tls+tcp:// listeners\n"
		"  --tls-key FILE       its private key\n"
		"  --tls-ca FILE        CA for optional client certificates\n"
		"  --contexts N         requests served at once (default 64)\n"
		"  --workers N          worker threads (default 4; with "
		"PostgreSQL, where\n"
		"                       every call's reads run on them, 2 per "
		"core, at least 4)\n"
		"  --hash-workers N     password hashing threads (default: "
		"cores)\n"
		"  --hash-cost m=KIB,t=N,p=N  argon2id cost (default "
		"m=19456,t=2,p=1); at least\n"
		"                       m=7168 and m*t=35840 (OWASP's "
		"minimums)\n"
		"  --allow-insecure-hash-cost  accept a --hash-cost below "
		"that floor, with\n"
		"                       a warning: for tests and benchmarks "
		"only\n"
		"  --access-ttl S       bearer token lifetime (default 900)\n"
		"  --refresh-ttl S      refresh token lifetime (default "
		"2592000)\n"
		"  --max-message BYTES  largest request (default 1048576)\n"
		"  --replay-window S    how long request ids are remembered "
		"(default 300)\n"
		"  --replay-memory N    request ids also kept in memory "
		"(default 4096)\n"
		"  --bootstrap-admin EMAIL  create the first Admin if the "
		"store is empty;\n"
		"                       password from USERSD_ADMIN_PASSWORD, "
		"else generated\n"
		"                       and printed once\n"
		"  --log-file PATH      write diagnostics there, not to "
		"stderr (appended;\n"
		"                       SIGHUP opens it again, for log "
		"rotation)\n"
		"  --help\n");
}

/* A flag's number into an unsigned (up_parse_ulong's rules). */
static int
parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;

	if (up_parse_ulong(s, min, max, &v) != 0) {
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
parse_cost(const char *s, ud_password_cost *c)
{
	unsigned m, t, p;
	int used = 0;

	if (sscanf(s, "m=%u,t=%u,p=%u%n", &m, &t, &p, &used) != 3 ||
	    s[used] != '\0' || m < 8 * p || t < 1 || p < 1 || p > 16 ||
	    m > 4 * 1024 * 1024) {
		return -1;
	}
	c->m_kib = m;
	c->t = t;
	c->p = p;
	return 0;
}

static int
parse_args(int argc, char **argv, ud_config *cfg, const char **listen,
	   bool *weak_cost_ok)
{
	enum {
		O_LISTEN = 256,
		O_DB,
		O_KEY,
		O_CERT,
		O_TKEY,
		O_CA,
		O_CTX,
		O_WORKERS,
		O_HASHERS,
		O_COST,
		O_ATTL,
		O_RTTL,
		O_MAXMSG,
		O_REPLAY,
		O_REPLAYMAX,
		O_BOOT,
		O_DBW,
		O_WEAKCOST,
		O_LOGFILE,
		O_HELP
	};
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, O_LISTEN},
	    {"db", required_argument, NULL, O_DB},
	    {"key-file", required_argument, NULL, O_KEY},
	    {"tls-cert", required_argument, NULL, O_CERT},
	    {"tls-key", required_argument, NULL, O_TKEY},
	    {"tls-ca", required_argument, NULL, O_CA},
	    {"contexts", required_argument, NULL, O_CTX},
	    {"workers", required_argument, NULL, O_WORKERS},
	    {"hash-workers", required_argument, NULL, O_HASHERS},
	    {"hash-cost", required_argument, NULL, O_COST},
	    {"access-ttl", required_argument, NULL, O_ATTL},
	    {"refresh-ttl", required_argument, NULL, O_RTTL},
	    {"max-message", required_argument, NULL, O_MAXMSG},
	    {"replay-window", required_argument, NULL, O_REPLAY},
	    {"replay-memory", required_argument, NULL, O_REPLAYMAX},
	    {"bootstrap-admin", required_argument, NULL, O_BOOT},
	    {"db-writers", required_argument, NULL, O_DBW},
	    {"allow-insecure-hash-cost", no_argument, NULL, O_WEAKCOST},
	    {"log-file", required_argument, NULL, O_LOGFILE},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	unsigned v;
	int o, bad = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_LISTEN:
			if (cfg->n_listen == MAX_LISTEN) {
				fprintf(stderr, "usersd: too many --listen\n");
				return -1;
			}
			listen[cfg->n_listen++] = optarg;
			break;
		case O_DB:
			cfg->db_path = optarg;
			break;
		case O_KEY:
			cfg->key_file = optarg;
			break;
		case O_LOGFILE:
			cfg->log_file = optarg;
			break;
		case O_DBW:
			if (parse_uint(optarg, 1, 64, &v) != 0) {
				fprintf(stderr, "usersd: --db-writers: 1 to "
						"64\n");
				bad = 1;
			}
			cfg->db_writers = v;
			break;
		case O_CERT:
			cfg->tls_cert = optarg;
			break;
		case O_TKEY:
			cfg->tls_key = optarg;
			break;
		case O_CA:
			cfg->tls_ca = optarg;
			break;
		case O_CTX:
			bad |= parse_uint(optarg, 1, 4096, &cfg->contexts);
			break;
		case O_WORKERS:
			bad |= parse_uint(optarg, 1, 256, &cfg->workers);
			break;
		case O_HASHERS:
			bad |= parse_uint(optarg, 1, 64, &cfg->hashers);
			break;
		case O_COST:
			bad |= parse_cost(optarg, &cfg->hash_cost);
			break;
		case O_ATTL:
			bad |=
			    parse_uint(optarg, 10, 86400, &cfg->access_ttl_s);
			break;
		case O_RTTL:
			bad |= parse_uint(optarg, 60, 31536000,
					  &cfg->refresh_ttl_s);
			break;
		case O_MAXMSG:
			bad |= parse_uint(optarg, 1024, 64u << 20, &v);
			cfg->max_message = v;
			break;
		case O_REPLAY:
			bad |=
			    parse_uint(optarg, 1, 86400, &cfg->replay_window_s);
			break;
		case O_REPLAYMAX:
			bad |=
			    parse_uint(optarg, 16, 1u << 20, &cfg->replay_max);
			break;
		case O_BOOT:
			cfg->bootstrap_admin = optarg;
			break;
		case O_WEAKCOST:
			*weak_cost_ok = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		if (bad) {
			fprintf(stderr, "usersd: bad value for --%s: %s\n",
				opts[o - O_LISTEN].name, optarg);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usersd: unexpected argument %s\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

/*
 * A hash cost below OWASP's minimums makes a leaked database cheap to
 * crack: refused, unless --allow-insecure-hash-cost says it is wanted
 * (tests, benchmarks), and then said once. 0, or -1 when refused.
 */
static int
check_cost(const ud_password_cost *c, bool weak_cost_ok)
{
	if (ud_password_cost_secure(c)) {
		return 0;
	}
	fprintf(stderr,
		"usersd: %s: --hash-cost m=%u,t=%u,p=%u is below the floor "
		"(m >= %u KiB and m*t >= %u, OWASP's argon2id minimums): "
		"%s\n",
		weak_cost_ok ? "warning" : "refused", (unsigned)c->m_kib,
		(unsigned)c->t, (unsigned)c->p, UD_PASSWORD_FLOOR_M_KIB,
		UD_PASSWORD_FLOOR_M_T,
		weak_cost_ok ? "stolen hashes are cheap to crack; for tests "
			       "and benchmarks only"
			     : "give --allow-insecure-hash-cost only for tests "
			       "and benchmarks");
	return weak_cost_ok ? 0 : -1;
}

/* Creates the directory that holds path, when it is the default ./var. */
static void
ensure_dir_of(const char *path)
{
	char *copy = strdup(path);

	if (copy != NULL) {
		mkdir(dirname(copy), 0700);
		free(copy);
	}
}

/*
 * SIGUSR1: the store's counters since it opened, one line (what the
 * benchmarks compare between two moments).
 */
static void
log_stats(ud_service *svc)
{
	ud_store_counters s;

	ud_store_stats(svc->store, &s);
	fprintf(stderr,
		"usersd: stats: writes %llu commits %llu commit_failures %llu"
		" largest_batch %llu queued %llu round_trips %llu\n",
		(unsigned long long)s.writes, (unsigned long long)s.commits,
		(unsigned long long)s.commit_failures,
		(unsigned long long)s.largest_batch,
		(unsigned long long)s.queued,
		(unsigned long long)s.round_trips);
}

static void
on_alarm(int sig)
{
	(void)sig;
	_exit(0);
}

static int
bootstrap_write(ud_store_conn *conn, void *arg)
{
	ud_user *u = arg;

	if (ud_store_user_count(conn) != 0) {
		return UP_ALREADY_EXISTS;
	}
	return ud_store_user_insert(conn, u);
}

static int
bootstrap(ud_service *svc, const char *email)
{
	const char *env = getenv("USERSD_ADMIN_PASSWORD");
	char generated[25], hash[UD_PASSWORD_HASH_MAX];
	ud_user u = {0};
	int rc;

	if (!ud_email_valid(email)) {
		fprintf(stderr, "usersd: --bootstrap-admin: not an email: %s\n",
			email);
		return UP_INVALID_ARGUMENT;
	}
	if (env == NULL || env[0] == '\0') {
		static const char alphabet[] =
		    "abcdefghijkmnpqrstuvwxyz"
		    "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
		unsigned char raw[24];
		if (ud_random_bytes(raw, sizeof(raw)) != 0) {
			return UP_INTERNAL;
		}
		for (size_t i = 0; i < sizeof(raw); i++) {
			generated[i] =
			    alphabet[raw[i] % (sizeof(alphabet) - 1)];
		}
		generated[24] = '\0';
		env = NULL;
	}
	rc =
	    ud_password_hash(&svc->cfg->hash_cost, env ? env : generated,
			     strlen(env ? env : generated), hash, sizeof(hash));
	if (rc != 0) {
		fprintf(stderr, "usersd: USERSD_ADMIN_PASSWORD must be 8 to "
				"1024 bytes\n");
		return rc;
	}
	u.email = strdup(email);
	u.first_name = strdup("Admin");
	u.last_name = strdup("");
	u.password_hash = strdup(hash);
	u.manager_access = -1;
	if (u.email == NULL || u.first_name == NULL || u.last_name == NULL ||
	    u.password_hash == NULL || ud_strv_push(&u.roles, "Admin") != 0 ||
	    ud_strv_push(&u.roles, "SystemAdministrator") != 0) {
		ud_user_fini(&u);
		return UP_INTERNAL;
	}
	rc = ud_store_write_sync(svc->store, bootstrap_write, &u);
	if (rc == 0) {
		fprintf(stderr,
			"usersd: created the first administrator %s "
			"(id %lld)\n",
			email, (long long)u.id);
		if (env == NULL) {
			printf("usersd: password of %s (shown once): %s\n",
			       email, generated);
			fflush(stdout);
		}
	} else if (rc == UP_ALREADY_EXISTS) {
		rc = 0; /* the store has users: nothing to do */
	}
	ud_wipe(generated, sizeof(generated));
	ud_user_fini(&u);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char *listen[MAX_LISTEN];
	ud_config cfg = {
	    .contexts = 64,
	    .workers = 0, /* 4, or 16 with PostgreSQL */
	    .hashers = 0,
	    .hash_cost = {19456, 2, 1},
	    .access_ttl_s = 900,
	    .refresh_ttl_s = 2592000,
	    .max_message = 1 << 20,
	    .replay_window_s = 300,
	    /* Recent ids only: the request log answers the older ones. */
	    .replay_max = 4096,
	};
	ud_service svc;
	ud_server *srv = NULL;
	char key_path[4096];
	bool weak_cost_ok = false;
	up_logfile log = {NULL, -1};
	sigset_t sigs;
	int sig, rc;

	if (parse_args(argc, argv, &cfg, listen, &weak_cost_ok) != 0 ||
	    check_cost(&cfg.hash_cost, weak_cost_ok) != 0) {
		return 2;
	}
	if (cfg.n_listen == 0) {
		listen[cfg.n_listen++] = "ipc://./var/usersd.sock";
		ensure_dir_of("./var/usersd.sock");
	}
	cfg.listen = listen;
	if (cfg.db_path == NULL) {
		cfg.db_path = "./var/users.db";
		ensure_dir_of(cfg.db_path);
	}
	if (cfg.key_file == NULL && ud_store_target_is_pg(cfg.db_path)) {
		fprintf(stderr, "usersd: --key-file is required with a "
				"PostgreSQL --db (every daemon sharing the "
				"database must sign with the same key)\n");
		return 2;
	}
	if (cfg.key_file == NULL) {
		char *copy = strdup(cfg.db_path);
		if (copy == NULL) {
			return 1;
		}
		snprintf(key_path, sizeof(key_path), "%s/usersd.key",
			 dirname(copy));
		free(copy);
		cfg.key_file = key_path;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (cores < 1 || cores > 64) {
		cores = 2;
	}
	if (cfg.hashers == 0) {
		cfg.hashers = (unsigned)cores;
	}
	if (cfg.workers == 0) {
		/*
		 * PostgreSQL: two per core (a round trip leaves its worker
		 * idle), at least 4. Not more: calls beyond them wait in
		 * the workers' queue, in order, instead of as more server
		 * processes in the kernel's run queue, where one preempted
		 * is the p99 (docs/decisions.md, section 21).
		 */
		cfg.workers = 4;
		if (ud_store_target_is_pg(cfg.db_path) && cores > 2) {
			cfg.workers = 2 * (unsigned)cores;
		}
	}

	/*
	 * Signals are taken by this thread only (sigwait below), blocked
	 * before any thread starts so that every thread inherits the mask.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cfg.log_file != NULL &&
	    (rc = up_logfile_open(&log, cfg.log_file, STDERR_FILENO)) != 0) {
		fprintf(stderr, "usersd: --log-file %s: %s\n", cfg.log_file,
			strerror(rc));
		return 1;
	}

	if ((rc = ud_service_init(&svc, &cfg)) != 0) {
		return 1;
	}
	if (cfg.bootstrap_admin != NULL &&
	    bootstrap(&svc, cfg.bootstrap_admin) != 0) {
		ud_service_fini(&svc);
		return 1;
	}
	if ((rc = ud_server_start(&srv, &svc, &cfg)) != 0) {
		ud_service_fini(&svc);
		return 1;
	}
	fprintf(stderr, "usersd: ready\n");

	for (;;) {
		if (sigwait(&sigs, &sig) != 0) {
			continue;
		}
		if (sig == SIGUSR1) {
			log_stats(&svc);
			continue;
		}
		if (sig != SIGHUP) {
			break;
		}
		if ((rc = up_logfile_reopen(&log)) != 0) {
			fprintf(stderr,
				"usersd: SIGHUP: --log-file %s: %s (kept the "
				"old file)\n",
				cfg.log_file, strerror(rc));
		}
		fprintf(stderr, "usersd: SIGHUP: log file reopened\n");
	}
	fprintf(stderr, "usersd: %s: finishing the calls in flight\n",
		sig == SIGTERM ? "SIGTERM" : "SIGINT");

	if (ud_server_drain(srv, 10000) != 0) {
		/* Every acknowledged write is committed; leave the rest. */
		fprintf(stderr, "usersd: calls still running after 10 s; "
				"exiting\n");
		_exit(1);
	}
	ud_service_fini(&svc);
	fprintf(stderr, "usersd: store closed\n");
	/*
	 * nng_close can hang at exit (docs/decisions.md, section 13).
	 * Everything that matters is done (every reply sent, the store
	 * closed): if it hangs, leave anyway, with success.
	 */
	signal(SIGALRM, on_alarm);
	alarm(2);
	ud_server_free(srv);
	return 0;
}
