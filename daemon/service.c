/*
 * service.c - builds and tears down the daemon's shared state: the store,
 * the signing key, the lockout and replay tables, the worker and hasher
 * pools; and bootstraps the first administrator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "service.h"
#include "validate.h"

static int
worker_init(void *arg, void **tctx)
{
	ud_service *svc = arg;

	return ud_store_reader_open(svc->store, (ud_store_conn **)tctx);
}

static void
worker_fini(void *arg, void *tctx)
{
	ud_store_reader_close(tctx);
}

/* Every operation of UserService has a handler, or the daemon won't start. */
static int
check_handlers(void)
{
	for (size_t i = 0; i < up_method_count(); i++) {
		const char *name = up_method_at(i)->desc->name;
		if (ud_handler_find(name) == NULL) {
			fprintf(stderr, "usersd: no handler for %s\n", name);
			return UP_INTERNAL;
		}
	}
	return 0;
}

/* The store's answers hook: the committed writes of one group are
 * answered together (the server's hold). */
static void
answers_round(void *arg, bool begin)
{
	ud_service *svc = arg;
	ud_hold_fn hold = atomic_load(&svc->hold); /* the store runs first */

	if (hold != NULL) {
		hold(begin);
	}
}

int
ud_service_init(ud_service *svc, const ud_config *cfg)
{
	ud_pool_config wc = {"worker",    cfg->workers, 4096,
			     worker_init, worker_fini,  svc};
	ud_pool_config hc = {"hasher", cfg->hashers, 1024, NULL, NULL, NULL};
	ud_lockout_config lc = {5, 900, 60, 900, 65536};
	ud_store_config store_cfg = {.writers = cfg->db_writers,
				     .index_idle_ms = cfg->index_idle_ms,
				     .changed = ud_callers_changed,
				     .answers = answers_round};
	char dummy_pw[32];
	int rc;

	memset(svc, 0, sizeof(*svc));
	svc->cfg = cfg;
	pthread_mutex_init(&svc->readers_mu, NULL);
	pthread_mutex_init(&svc->calls_mu, NULL);
	if (up_meta_load() != 0) {
		fprintf(stderr, "usersd: cannot read the embedded contract\n");
		return UP_INTERNAL;
	}
	if ((rc = check_handlers()) != 0) {
		return rc;
	}
	/* before the store, which reports the users it changes to it */
	if ((rc = ud_callers_alloc(&svc->callers, 0)) != 0) {
		goto fail;
	}
	store_cfg.changed_arg = svc->callers;
	store_cfg.answers_arg = svc;
	if ((rc = ud_store_open(&svc->store, cfg->db_path, &store_cfg)) != 0) {
		fprintf(stderr, "usersd: cannot open the store %s%s\n",
			ud_store_target_is_pg(cfg->db_path)
			    ? "(the PostgreSQL database)"
			    : cfg->db_path,
			rc == UP_FAILED_PRECONDITION
			    ? ": another usersd is using it"
			    : "");
		goto fail;
	}
	if ((rc = ud_jwt_key_load(&svc->key, cfg->key_file)) != 0) {
		fprintf(stderr, "usersd: cannot use the key file %s%s\n",
			cfg->key_file,
			rc == UP_FAILED_PRECONDITION
			    ? " (it must be 32 bytes, mode 0600)"
			    : "");
		goto fail;
	}
	if ((rc = ud_seal_key_derive(&svc->log_key, svc->key.key,
				     sizeof(svc->key.key),
				     "usersd request log v1")) != 0) {
		goto fail;
	}
	if ((rc = ud_token_cache_alloc(&svc->tokens)) != 0 ||
	    (rc = ud_lockout_alloc(&svc->lockout, &lc)) != 0 ||
	    (rc = ud_replay_alloc(&svc->replay, cfg->replay_window_s,
				  cfg->replay_max)) != 0) {
		goto fail;
	}
	/* A real hash at the configured cost, of a password nobody knows. */
	if (ud_random_bytes(dummy_pw, sizeof(dummy_pw)) != 0) {
		rc = UP_INTERNAL;
		goto fail;
	}
	for (size_t i = 0; i < sizeof(dummy_pw); i++) {
		dummy_pw[i] = (char)('a' + ((unsigned char)dummy_pw[i] % 26));
	}
	rc = ud_password_hash(&cfg->hash_cost, dummy_pw, sizeof(dummy_pw),
			      svc->dummy_hash, sizeof(svc->dummy_hash));
	ud_wipe(dummy_pw, sizeof(dummy_pw));
	if (rc != 0) {
		goto fail;
	}
	if ((rc = ud_pool_alloc(&svc->hashers, &hc)) != 0 ||
	    (rc = ud_pool_alloc(&svc->workers, &wc)) != 0) {
		goto fail;
	}
	return 0;
fail:
	ud_service_fini(svc);
	return rc ? rc : UP_INTERNAL;
}

void
ud_service_fini(ud_service *svc)
{
	/* Workers first: they may still hand calls to the hashers. */
	ud_pool_free(svc->workers);
	svc->workers = NULL;
	ud_pool_free(svc->hashers);
	svc->hashers = NULL;
	for (size_t i = 0; i < svc->n_readers; i++) {
		ud_store_reader_close(svc->readers[i]);
	}
	free(svc->readers);
	svc->readers = NULL;
	svc->n_readers = 0;
	if (svc->store != NULL) {
		ud_store_close(svc->store);
		svc->store = NULL;
	}
	ud_callers_free(svc->callers); /* after the store, which reports */
	svc->callers = NULL;
	ud_token_cache_free(svc->tokens);
	svc->tokens = NULL;
	ud_replay_free(svc->replay);
	svc->replay = NULL;
	ud_lockout_free(svc->lockout);
	svc->lockout = NULL;
	ud_wipe(&svc->key, sizeof(svc->key));
	ud_seal_key_wipe(&svc->log_key);
	ud_call_pool_fini(svc);
}
