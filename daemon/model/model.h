/*
 * model.h - the daemon's domain model: users, organizations, the sign-in
 * state of a name and the record of a refresh token, as every part of the
 * daemon sees them (the store keeps them, auth and the handlers read
 * them); and the few primitives they all share: ids, the one random
 * source, clocks.
 *
 * Ownership: structs with strings own them; the matching _fini / _free
 * releases them and is safe on a zeroed struct. Functions return an
 * up_status code (users_proto.h) where they can fail.
 */
#ifndef UD_MODEL_H
#define UD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A growable vector of owned strings. Zero-initialised is empty. */
typedef struct ud_strv {
	char **v;
	size_t n;
	size_t cap;
} ud_strv;

int ud_strv_push(ud_strv *sv, const char *s); /* copies s; 0 or UP_INTERNAL */
bool ud_strv_has(const ud_strv *sv, const char *s); /* exact match */
void ud_strv_fini(ud_strv *sv);                     /* safe on empty */

typedef struct ud_user {
	int64_t id;
	char *email;         /* unique, compared case-insensitively */
	char *password_hash; /* argon2id encoded; never leaves the daemon */
	char *first_name;
	char *last_name;
	char *phone_number;
	char *temporary_email;
	char *temporary_phone_number;
	char *avatar_url; /* avatarUrl (Evo) and imageUrl (Viviot) */
	char *image_content;
	char *viviot_id;
	char *primary_org_id; /* organizationId of the Viviot view, or NULL */
	bool email_confirmed;
	bool phone_number_confirmed;
	bool disabled;                  /* a disabled user cannot log in */
	int32_t activation_status;      /* 0, 10, 20, 30 */
	int32_t manager_access;         /* UserManagerAccess, -1 when unset */
	ud_strv roles;                  /* sorted, unique */
	int32_t *dashboard_permissions; /* DashboardPermissions values */
	size_t n_dashboard_permissions;
	ud_strv org_ids;    /* memberships, ordered by organization name */
	ud_strv org_names;  /* the names of org_ids, same order */
	int64_t created_at; /* unix milliseconds */
	int64_t updated_at;
	/*
	 * Changes (in the store, by ud_store_user_update with bump_token set)
	 * whenever the password, roles or state change; tokens carry it.
	 */
	int64_t token_version;
	/*
	 * The revision of the stored record (PostgreSQL: every change of the
	 * user's record, roles, permissions or memberships advances it; 0
	 * when the store keeps none), for a cache to check it is current.
	 */
	int64_t rev;
} ud_user;

void ud_user_fini(ud_user *u); /* frees the members; safe on zeroed */

typedef struct ud_org {
	char *id; /* 32 lowercase hex digits */
	char *name;
	int32_t type;    /* OrganizationType: 0, 10, 20, 30 */
	char *parent_id; /* NULL for a root */
	int32_t member_count;
	int64_t created_at;
} ud_org;

void ud_org_fini(ud_org *o);
void ud_users_free(ud_user *users, size_t n);
void ud_orgs_free(ud_org *orgs, size_t n);

/*
 * The sign-in state of one folded user name (auth/lockout.h keeps the
 * policy; the store keeps the state when several daemons share it).
 */
typedef struct ud_login_state {
	int64_t window_start; /* unix seconds */
	int64_t last;         /* the last attempt */
	int64_t locked_until;
	int32_t failures; /* in the window */
	int32_t locks;    /* so far: each doubles the next */
	int32_t pending;  /* attempts reserved, not yet judged */
} ud_login_state;

/* A recorded refresh token (store.h, "Refresh tokens"). */
typedef struct ud_refresh_token {
	char jti[33];    /* the token's id */
	char family[33]; /* the id of the first token of its sign-in */
	int64_t user_id;
	int64_t expires_at; /* unix seconds */
	bool used;          /* traded for the next token already */
} ud_refresh_token;

/* ------------------------------------------------------------------------
 * Ids, randomness and clocks
 */

/* A new random 32-hex-digit Guid into buf[33]. 0 or UP_INTERNAL. */
int ud_guid_new(char buf[33]);
/* Normalises a Guid written dashed or not, any case, into buf[33]. */
int ud_guid_parse(const char *s, char buf[33]);
/* A new random id: 128 random bits as 32 lowercase hex digits into buf[33].
 * 0 or UP_INTERNAL. */
int ud_random_id_new(char buf[33]);
/* len bytes from the kernel's random source: 0 or UP_INTERNAL. The one
 * random source of the daemon (ids, salts, keys, nonces). */
int ud_random_bytes(void *buf, size_t len);
/* The len bytes of in as 2 * len lowercase hex digits, then a NUL, into
 * out (2 * len + 1 bytes). */
void ud_hex(char *out, const uint8_t *in, size_t len);
/* True when s is 32 lowercase hex digits, as ud_random_id_new writes. */
bool ud_random_id_valid(const char *s);
int64_t ud_now_ms(void);
/* The time ms milliseconds from now on clock (pthread_cond_timedwait). */
void ud_time_after_ms(clockid_t clock, unsigned ms, struct timespec *out);

#endif /* UD_MODEL_H */
