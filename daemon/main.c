/*
 * main.c - usersd: flags, start-up, the first administrator, and a clean
 * stop on SIGTERM/SIGINT (stop accepting, finish the calls in flight,
 * close the store). SIGHUP opens --log-file again and stops nothing;
 * SIGUSR1 logs the store's counters (writes, commits, round trips).
 * Under systemd (Type=notify) it says READY=1 once it answers, STOPPING=1
 * at the signal, and WATCHDOG=1 while it waits (users_notify.h).
 */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"
#include "metrics.h"
#include "users_flags.h"
#include "users_log.h"
#include "users_notify.h"
#include "service.h"
#include "validate.h"

#define MAX_LISTEN 16
/* every listener has its figures (metrics.h) */
_Static_assert(MAX_LISTEN <= UD_M_LISTENERS, "a --listen without figures");

/* What the flags set: the service's config and main's own. */
typedef struct ud_opts {
	ud_config cfg;
	const char *listen[MAX_LISTEN];
	bool weak_cost_ok;
	const char *metrics_listen; /* HOST:PORT of GET /metrics, or NULL */
	up_log_format log_format;
	up_log_level log_level;
} ud_opts;

static int
set_listen(void *arg, const char *v, unsigned nth, char *why, size_t n)
{
	ud_opts *o = arg;

	if (nth == 0) {
		o->cfg.n_listen = 0; /* a later source replaces the list */
	}
	if (o->cfg.n_listen == MAX_LISTEN) {
		snprintf(why, n, "at most %d listeners", MAX_LISTEN);
		return -1;
	}
	o->listen[o->cfg.n_listen++] = v;
	return 0;
}

static int
set_cost(void *arg, const char *s, unsigned nth, char *why, size_t n)
{
	ud_password_cost *c = &((ud_opts *)arg)->cfg.hash_cost;
	unsigned m, t, p;
	int used = 0;

	if (sscanf(s, "m=%u,t=%u,p=%u%n", &m, &t, &p, &used) != 3 ||
	    s[used] != '\0' || m < 8 * p || t < 1 || p < 1 || p > 16 ||
	    m > 4 * 1024 * 1024) {
		snprintf(why, n, "m=KIB,t=N,p=N (p from 1 to 16, m >= 8*p)");
		return -1;
	}
	c->m_kib = m;
	c->t = t;
	c->p = p;
	return 0;
}

static int
set_hop(void *arg, const char *s, unsigned nth, char *why, size_t n)
{
	ud_opts *o = arg;

	(void)nth;
	if (strcmp(s, "loop") != 0 && strcmp(s, "nng") != 0) {
		snprintf(why, n, "loop or nng");
		return -1;
	}
	o->cfg.hop_nng = s[0] == 'n';
	return 0;
}

/* Every flag of usersd, and so every key of its configuration file. */
static const up_flag flags[] = {
    UP_FLAG_FN("listen", "URL", true, set_listen,
	       "ipc://PATH, tcp://HOST:PORT or tls+tcp://HOST:PORT;\n"
	       "repeatable (default ipc://./var/usersd.sock)"),
    UP_FLAG_STR(ud_opts, cfg.db_path, "db", "PATH|URL",
		"SQLite database file (default ./var/users.db), or a\n"
		"postgresql://USER@HOST:PORT/DB URL (several daemons\n"
		"may share one; the password from PGPASSWORD or\n"
		"~/.pgpass rather than the URL)"),
    UP_FLAG_NUM(ud_opts, cfg.db_writers, "db-writers", "N", 1, 64,
		"PostgreSQL writer connections (default 2)"),
    UP_FLAG_NUM(ud_opts, cfg.index_idle_ms, "index-idle", "MS", 1, 3600000,
		"SQLite: time without writes before the writer brings\n"
		"the search index up to date (default 20; searches are\n"
		"exact either way)"),
    UP_FLAG_STR(ud_opts, cfg.key_file, "key-file", "PATH",
		"token signing key, created 0600 on first run\n"
		"(default: usersd.key beside a SQLite database;\n"
		"required with PostgreSQL: every daemon signs with it)"),
    UP_FLAG_STR(ud_opts, cfg.tls_cert, "tls-cert", "FILE",
		"certificate for tls+tcp:// listeners"),
    UP_FLAG_STR(ud_opts, cfg.tls_key, "tls-key", "FILE", "its private key"),
    UP_FLAG_STR(ud_opts, cfg.tls_ca, "tls-ca", "FILE",
		"CA for optional client certificates"),
    UP_FLAG_NUM(ud_opts, cfg.contexts, "contexts", "N", 1, 4096,
		"calls in flight at once (default 64)"),
    UP_FLAG_FN("hop", "loop|nng", false, set_hop,
	       "who reads and writes ipc:// and tcp:// connections: our\n"
	       "own event loops, one per core (loop, default), or nng's\n"
	       "threads (nng); tls+tcp:// always goes through nng"),
    UP_FLAG_NUM(ud_opts, cfg.workers, "workers", "N", 1, 256,
		"worker threads (default 4; with PostgreSQL, where\n"
		"every call's reads run on them, 2 per core, at least 4)"),
    UP_FLAG_NUM(ud_opts, cfg.hashers, "hash-workers", "N", 1, 64,
		"password hashing threads (default: cores)"),
    UP_FLAG_FN("hash-cost", "m=KIB,t=N,p=N", false, set_cost,
	       "argon2id cost (default m=19456,t=2,p=1); at least\n"
	       "m=7168 and m*t=35840 (OWASP's minimums)"),
    UP_FLAG_BOOL(ud_opts, weak_cost_ok, "allow-insecure-hash-cost",
		 "accept a --hash-cost below that floor, with\n"
		 "a warning: for tests and benchmarks only"),
    UP_FLAG_NUM(ud_opts, cfg.access_ttl_s, "access-ttl", "S", 10, 86400,
		"bearer token lifetime (default 900)"),
    UP_FLAG_NUM(ud_opts, cfg.refresh_ttl_s, "refresh-ttl", "S", 60, 31536000,
		"refresh token lifetime (default 2592000)"),
    UP_FLAG_NUM(ud_opts, cfg.max_message, "max-message", "BYTES", 1024,
		64u << 20, "largest request (default 1048576)"),
    UP_FLAG_NUM(ud_opts, cfg.replay_window_s, "replay-window", "S", 1, 86400,
		"how long request ids are remembered (default 300)"),
    UP_FLAG_NUM(ud_opts, cfg.replay_max, "replay-memory", "N", 16, 1u << 20,
		"request ids also kept in memory (default 4096)"),
    UP_FLAG_STR(ud_opts, cfg.bootstrap_admin, "bootstrap-admin", "EMAIL",
		"create the first Admin if the store is empty;\n"
		"password from USERSD_ADMIN_PASSWORD, else generated\n"
		"and printed once"),
    UP_FLAG_STR(ud_opts, cfg.log_file, "log-file", "PATH",
		"write diagnostics there, not to stderr (appended;\n"
		"SIGHUP opens it again, for log rotation)"),
    UP_FLAG_FN_AT(ud_opts, log_format, "log-format", "text|logfmt|json",
		  up_log_format_flag,
		  "the records of events (start, stop, refused sign-ins and\n"
		  "calls): text \"usersd: ...\" lines (default), logfmt or\n"
		  "JSON with time, level and fields"),
    UP_FLAG_FN_AT(ud_opts, log_level, "log-level", "LEVEL", up_log_level_flag,
		  "debug, info (default), warn or error: the least\n"
		  "level of the records written"),
    UP_FLAG_STR(ud_opts, metrics_listen, "metrics-listen", "HOST:PORT",
		"serve GET /metrics (Prometheus text) there; none by\n"
		"default. Port 0: any (stderr says which)"),
};

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
	fprintf(
	    stderr,
	    "usersd: stats: writes %llu commits %llu commit_failures %llu"
	    " largest_batch %llu queued %llu round_trips %llu"
	    " kept_hits %llu checkpoints %llu copies %llu\n",
	    (unsigned long long)s.writes, (unsigned long long)s.commits,
	    (unsigned long long)s.commit_failures,
	    (unsigned long long)s.largest_batch, (unsigned long long)s.queued,
	    (unsigned long long)s.round_trips, (unsigned long long)s.kept_hits,
	    (unsigned long long)s.checkpoints, (unsigned long long)s.copies);
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
		char msg[400], id[24];

		snprintf(msg, sizeof(msg),
			 "created the first administrator %s (id %lld)", email,
			 (long long)u.id);
		snprintf(id, sizeof(id), "%lld", (long long)u.id);
		up_log(UP_LOG_INFO, "bootstrap", msg, "email", email, "id", id,
		       NULL);
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

/*
 * The defaults the flags left, and the checks between flags. Creates the
 * default ./var unless only checking. 0, or the exit status.
 */
static int
settle(ud_opts *o, char *key_path, size_t key_size, bool check_only)
{
	ud_config *cfg = &o->cfg;

	if (check_cost(&cfg->hash_cost, o->weak_cost_ok) != 0) {
		return 2;
	}
	if (cfg->n_listen == 0) {
		o->listen[cfg->n_listen++] = "ipc://./var/usersd.sock";
		if (!check_only) {
			ensure_dir_of("./var/usersd.sock");
		}
	}
	cfg->listen = o->listen;
	if (cfg->db_path == NULL) {
		cfg->db_path = "./var/users.db";
		if (!check_only) {
			ensure_dir_of(cfg->db_path);
		}
	}
	if (cfg->key_file == NULL && ud_store_target_is_pg(cfg->db_path)) {
		fprintf(stderr, "usersd: --key-file is required with a "
				"PostgreSQL --db (every daemon sharing the "
				"database must sign with the same key)\n");
		return 2;
	}
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		fprintf(stderr,
			"usersd: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (cfg->key_file == NULL) {
		char *copy = strdup(cfg->db_path);
		if (copy == NULL) {
			return 1;
		}
		snprintf(key_path, key_size, "%s/usersd.key", dirname(copy));
		free(copy);
		cfg->key_file = key_path;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (cores < 1 || cores > 64) {
		cores = 2;
	}
	if (cfg->hashers == 0) {
		cfg->hashers = (unsigned)cores;
	}
	if (cfg->workers == 0) {
		/*
		 * PostgreSQL: two per core (a round trip leaves its worker
		 * idle), at least 4. Not more: calls beyond them wait in
		 * the workers' queue, in order, instead of as more server
		 * processes in the kernel's run queue, where one preempted
		 * is the p99 (docs/decisions.md, section 21).
		 */
		cfg->workers = 4;
		if (ud_store_target_is_pg(cfg->db_path) && cores > 2) {
			cfg->workers = 2 * (unsigned)cores;
		}
	}
	return 0;
}

/*
 * LeakSanitizer, in sanitizer builds: an answer nng 1.5.2 loses when a
 * connection closes just as the answer moves from the socket's queue to
 * it (made by answer_msg, grown by open_room, lost in nng's
 * xrep0_pipe_getq_cb: docs/decisions.md, section 13) is not ours to
 * report. Unused otherwise.
 */
__attribute__((visibility("default"), used)) const char *
__lsan_default_suppressions(void);

__attribute__((visibility("default"), used)) const char *
__lsan_default_suppressions(void)
{
	return "leak:answer_msg\n"
	       "leak:open_room\n";
}

int
main(int argc, char **argv)
{
	/* static: nng's threads may read the listen URLs until exit */
	static ud_opts o = {
	    .cfg =
		{
		    .contexts = 64,
		    .workers = 0, /* 4, or 16 with PostgreSQL */
		    .hashers = 0,
		    .hash_cost = {19456, 2, 1},
		    .access_ttl_s = 900,
		    .refresh_ttl_s = 2592000,
		    .max_message = 1 << 20,
		    .replay_window_s = 300,
		    /* Recent ids only: the request log answers the older
		       ones. */
		    .replay_max = 4096,
		},
	    .log_level = UP_LOG_INFO,
	};
	static up_flags fl = {
	    .prog = "usersd",
	    .synopsis = "[options]",
	    .table = flags,
	    .n = sizeof(flags) / sizeof(flags[0]),
	    .cfg = &o,
	};
	ud_config *const cfg = &o.cfg;
	ud_service svc;
	ud_server *srv = NULL;
	static char key_path[4096];
	up_logfile log = {NULL, -1};
	ud_metrics_server *metrics = NULL;
	sigset_t sigs;
	int sig, rc;

	switch (up_flags_parse(&fl, argc, argv)) {
	case UP_FLAGS_RUN:
		break;
	case UP_FLAGS_EXIT_OK:
		return 0;
	default:
		return 2;
	}
	if ((rc = settle(&o, key_path, sizeof(key_path), fl.check_only)) != 0) {
		return rc;
	}
	if (fl.check_only) {
		printf("usersd: configuration OK\n");
		return 0;
	}
	up_log_setup("usersd", o.log_format, o.log_level);

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
	if (cfg->log_file != NULL &&
	    (rc = up_logfile_open(&log, cfg->log_file, STDERR_FILENO)) != 0) {
		fprintf(stderr, "usersd: --log-file %s: %s\n", cfg->log_file,
			strerror(rc));
		return 1;
	}

	if ((rc = ud_service_init(&svc, cfg)) != 0) {
		return 1;
	}
	if (cfg->bootstrap_admin != NULL &&
	    bootstrap(&svc, cfg->bootstrap_admin) != 0) {
		ud_service_fini(&svc);
		return 1;
	}
	if ((rc = ud_server_start(&srv, &svc, cfg)) != 0) {
		ud_service_fini(&svc);
		return 1;
	}
	if (o.metrics_listen != NULL &&
	    ud_metrics_server_start(&metrics, o.metrics_listen, &svc) != 0) {
		ud_server_drain(srv, 0);
		ud_service_fini(&svc);
		return 1;
	}
	up_log(UP_LOG_INFO, "ready", "ready", NULL);
	up_notify("READY=1\nSTATUS=answering");

	for (;;) {
		if ((sig = up_notify_sigwait(&sigs)) < 0) {
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
				cfg->log_file, strerror(rc));
		}
		up_log(UP_LOG_INFO, "reopened", "SIGHUP: log file reopened",
		       NULL);
	}
	up_notify("STOPPING=1\nSTATUS=finishing the calls in flight");
	up_log(UP_LOG_INFO, "stopping",
	       sig == SIGTERM ? "SIGTERM: finishing the calls in flight"
			      : "SIGINT: finishing the calls in flight",
	       NULL);
	ud_metrics_server_stop(metrics);

	if (ud_server_drain(srv, 10000) != 0) {
		/* Every acknowledged write is committed; leave the rest. */
		fprintf(stderr, "usersd: calls still running after 10 s; "
				"exiting\n");
		_exit(1);
	}
	ud_service_fini(&svc);
	up_log(UP_LOG_INFO, "stopped", "store closed", NULL);
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
