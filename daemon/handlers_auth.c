/*
 * handlers_auth.c - Authenticate (ServiceStack's credentials provider),
 * GetAccessToken (a refresh token traded for a bearer token and the next
 * refresh token) and Logout.
 *
 * An unknown user name, or a user without a password, is verified against
 * a dummy hash (ud_call_sign_in), so that it takes as long as a wrong
 * password and the answer reveals nothing; all count towards the lockout
 * of that name.
 *
 * Refresh tokens are recorded in the store and used once. A sign-in
 * records the first token of a new family. GetAccessToken, in one write,
 * marks the token it is given used and records the next one of the same
 * family, which expires when the sign-in's first does (refreshing does not
 * lengthen a sign-in). A token used a second time is a copy someone kept:
 * the whole family is revoked, so that whoever holds its newest token must
 * sign in again, and the call is refused. Logout revokes the family of the
 * token it is given.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "convert.h"
#include "service.h"
#include "validate.h"

/* Refresh tokens recorded between two prunes of the expired ones. */
#define TOKEN_PRUNE_EVERY 1024

static const char bad_credentials[] = "Invalid Username or Password";

/*
 * Signs a new access token for u, and a new refresh token recorded on
 * conn (a write's connection) in family, valid until expires_s; family
 * NULL: a new sign-in, whose first token names the family. 0, or the
 * status to fail with.
 */
static int
sign_pair(ud_call *c, ud_store_conn *conn, const ud_user *u, const char *family,
	  int64_t expires_s, char **access, char **refresh)
{
	ud_service *svc = c->svc;
	int64_t now = ud_now_ms() / 1000;
	ud_refresh_token t = {.user_id = u->id, .expires_at = expires_s};
	int rc;

	if (expires_s <= now || ud_random_id_new(t.jti) != 0) {
		return UP_INTERNAL;
	}
	memcpy(t.family, family != NULL ? family : t.jti, sizeof(t.family));
	if ((rc = ud_store_refresh_insert(conn, &t)) != 0) {
		/* the user was deleted meanwhile, or the store failed */
		return rc == UP_INVALID_ARGUMENT ? UP_UNAUTHENTICATED
						 : UP_UNAVAILABLE;
	}
	if (atomic_fetch_add(&svc->refresh_tokens, 1) % TOKEN_PRUNE_EVERY ==
	    0) {
		(void)ud_store_refresh_prune(conn, now);
	}
	rc = ud_jwt_sign(&svc->key, UD_JWT_ACCESS, u, NULL, now,
			 svc->cfg->access_ttl_s, access);
	if (rc == 0) {
		rc = ud_jwt_sign(&svc->key, UD_JWT_REFRESH, u, &t, now,
				 expires_s - now, refresh);
		if (rc != 0) {
			free(*access);
			*access = NULL;
		}
	}
	return rc;
}

static char *
session_id(void)
{
	char *s = malloc(33);

	if (s == NULL || ud_random_id_new(s) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static int
copy_roles(const ud_user *u, Users__V1__AuthenticateResponse *r)
{
	const ProtobufCEnumDescriptor *ed =
	    &users__v1__dashboard_permissions__descriptor;

	r->roles = calloc(u->roles.n ? u->roles.n : 1, sizeof(char *));
	r->permissions =
	    calloc(u->n_dashboard_permissions ? u->n_dashboard_permissions : 1,
		   sizeof(char *));
	if (r->roles == NULL || r->permissions == NULL) {
		return -1;
	}
	for (size_t i = 0; i < u->roles.n; i++) {
		if ((r->roles[i] = strdup(u->roles.v[i])) == NULL) {
			return -1;
		}
		r->n_roles++;
	}
	for (size_t i = 0; i < u->n_dashboard_permissions; i++) {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(
			ed, u->dashboard_permissions[i]);
		if (v != NULL) {
			if ((r->permissions[r->n_permissions] =
				 strdup(v->name)) == NULL) {
				return -1;
			}
			r->n_permissions++;
		}
	}
	return 0;
}

/*
 * The AuthenticateResponse for c->target, a user who just proved who they
 * are, in the write (conn) that records the sign-in's first refresh token.
 */
static int
session_answer(ud_call *c, ud_store_conn *conn)
{
	const ud_user *u = &c->target;
	Users__V1__AuthenticateResponse *resp;
	int rc;

	if ((resp = malloc(sizeof(*resp))) == NULL) {
		return UP_INTERNAL;
	}
	users__v1__authenticate_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	resp->user_id = ud_id_string(u->id);
	resp->session_id = session_id();
	resp->user_name = ud_dup(u->email);
	resp->display_name = ud_dup(
	    u->first_name && u->first_name[0] ? u->first_name : u->email);
	if (resp->user_id == NULL || resp->session_id == NULL ||
	    resp->user_name == NULL || resp->display_name == NULL ||
	    copy_roles(u, resp) != 0) {
		return UP_INTERNAL;
	}
	rc = sign_pair(c, conn, u, NULL,
		       ud_now_ms() / 1000 + c->svc->cfg->refresh_ttl_s,
		       &resp->bearer_token, &resp->refresh_token);
	return rc == 0 ? UP_OK : ud_call_fail(c, rc, NULL, NULL);
}

static int
session_write(ud_store_conn *conn, void *arg)
{
	return session_answer(arg, conn);
}

/* Signs c->target in: a write records the new sign-in, then answers. */
static int
respond_session(ud_call *c)
{
	return ud_call_write(c, session_write) == 0
		   ? UD_ASYNC
		   : ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
}

/*
 * Stores the new hash of a password that was hashed at an older cost. The
 * password did not change: the token version stays, and if the user's
 * hash changed meanwhile (a new password), the new one is kept.
 */
static int
rehash_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	ud_user fresh = {0};
	int rc = ud_store_user_get(conn, c->target.id, &fresh);

	if (rc == 0 && fresh.password_hash != NULL &&
	    strcmp(fresh.password_hash, c->target.password_hash) == 0) {
		free(fresh.password_hash);
		fresh.password_hash = c->hash;
		c->hash = NULL;
		rc = ud_store_user_update(conn, &fresh, 0, false);
	}
	ud_user_fini(&fresh);
	if (rc != 0 && rc != UP_NOT_FOUND) {
		return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
	}
	return session_answer(c, conn);
}

static int
rehashed(ud_call *c)
{
	if (c->hash_rc != 0) {
		return respond_session(c); /* keep the old hash; sign in */
	}
	return ud_call_write(c, rehash_write) == 0 ? UD_ASYNC
						   : respond_session(c);
}

static int
authenticated(ud_call *c)
{
	ud_service *svc = c->svc;
	const ud_user *u = &c->target;

	if (c->hash_rc != 0 || u->id == 0 || u->disabled) {
		return ud_call_login_failed(c, "Unauthorized", bad_credentials);
	}
	ud_call_login_ok(c);
	if (ud_password_needs_rehash(u->password_hash, &svc->cfg->hash_cost) &&
	    ud_call_hash(c, rehashed) == 0) {
		return UD_ASYNC;
	}
	return respond_session(c);
}

static int
authenticate(ud_call *c)
{
	const Users__V1__Authenticate *r =
	    (const Users__V1__Authenticate *)c->req;

	if (r->provider != NULL && r->provider[0] != '\0' &&
	    strcasecmp(r->provider, "credentials") != 0) {
		return ud_err_invalid(c, "Provider", "NotSupported",
				      "must be 'credentials'.");
	}
	/* UserName and Password are (required): validate.c has seen them */
	return ud_call_sign_in(c, r->user_name, r->password, &c->target,
			       authenticated);
}

/* The verified claims of a request's refresh token: c->op. */
static void
claims_free(void *p)
{
	ud_jwt_claims_fini(p);
	free(p);
}

/* Verifies tok as a refresh token into c->op (*out): 0,
 * UP_UNAUTHENTICATED, or UP_INTERNAL. */
static int
refresh_claims(ud_call *c, const char *tok, const ud_jwt_claims **out)
{
	ud_jwt_claims *cl = calloc(1, sizeof(*cl));

	if (cl == NULL) {
		return UP_INTERNAL;
	}
	if (ud_jwt_verify(&c->svc->key, UD_JWT_REFRESH, tok, strlen(tok),
			  ud_now_ms() / 1000, cl) != 0) {
		free(cl);
		return UP_UNAUTHENTICATED;
	}
	c->op = cl;
	c->op_free = claims_free;
	*out = cl;
	return 0;
}

/*
 * The trade, in one write. The token must be recorded and unused: it is
 * marked used, and the next one recorded with the sign-in's expiry. One
 * used already is a copy: the family is revoked, the new tokens refreshed
 * from it included, and the call refused.
 */
static int
refresh_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	const ud_jwt_claims *cl = c->op;
	Users__V1__GetAccessTokenResponse *resp;
	ud_refresh_token t;
	int rc = ud_store_refresh_get(conn, cl->fam, cl->jti, &t);

	if (rc == 0 && t.used) {
		if (ud_store_refresh_revoke(conn, t.family) != 0) {
			return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
		}
		ud_call_fail(c, UP_UNAUTHENTICATED, "TokenException",
			     "The refresh token was used already; every token "
			     "of its sign-in is revoked");
		return UD_COMMIT_FAIL;
	}
	if (rc == 0 &&
	    (t.user_id != cl->sub || t.expires_at <= ud_now_ms() / 1000)) {
		rc = UP_NOT_FOUND;
	}
	if (rc == UP_NOT_FOUND) {
		return ud_call_fail(c, UP_UNAUTHENTICATED, "TokenException",
				    "The refresh token is no longer valid");
	}
	if (rc != 0 || ud_store_refresh_use(conn, t.jti) != 0) {
		return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
	}
	if ((resp = malloc(sizeof(*resp))) == NULL) {
		return UP_INTERNAL;
	}
	users__v1__get_access_token_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	rc = sign_pair(c, conn, &c->target, t.family, t.expires_at,
		       &resp->access_token, &resp->refresh_token);
	return rc == 0 ? UP_OK : ud_call_fail(c, rc, NULL, NULL);
}

static int
get_access_token(ud_call *c)
{
	const Users__V1__GetAccessToken *r =
	    (const Users__V1__GetAccessToken *)c->req;
	const ud_jwt_claims *cl;
	int rc;

	/* RefreshToken is (required): validate.c has seen it */
	if ((rc = refresh_claims(c, r->refresh_token, &cl)) != 0) {
		return rc != UP_UNAUTHENTICATED
			   ? rc
			   : ud_call_fail(c, UP_UNAUTHENTICATED,
					  "TokenException",
					  "Invalid or expired refresh token");
	}
	/* The user's password, roles or state changed since: refused. */
	rc = ud_store_user_get(c->reader, cl->sub, &c->target);
	if (rc == UP_UNAVAILABLE || rc == UP_INTERNAL) {
		return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
	}
	if (rc == 0 &&
	    (c->target.disabled || c->target.token_version != cl->tv)) {
		rc = UP_UNAUTHENTICATED;
	}
	if (rc != 0) {
		return ud_call_fail(c, UP_UNAUTHENTICATED, "TokenException",
				    "The refresh token is no longer valid");
	}
	return ud_call_write(c, refresh_write) == 0
		   ? UD_ASYNC
		   : ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
}

/* Logout's answer: an empty AuthenticateResponse, as ServiceStack's. */
static int
logged_out(ud_call *c)
{
	Users__V1__AuthenticateResponse *resp = malloc(sizeof(*resp));

	if (resp == NULL) {
		return UP_INTERNAL;
	}
	users__v1__authenticate_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	return UP_OK;
}

static int
logout_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	const ud_jwt_claims *cl = c->op;

	if (ud_store_refresh_revoke(conn, cl->fam) != 0) {
		return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
	}
	return logged_out(c);
}

/*
 * Revokes the sign-in (the family) of the refresh token given. Whatever
 * the token (none, not one of ours, expired, revoked already) the answer
 * is the same: logging out twice is no error, and the answer tells nothing
 * about the token. Only a revocation the store cannot record fails.
 */
static int
logout(ud_call *c)
{
	const Users__V1__Logout *r = (const Users__V1__Logout *)c->req;
	const ud_jwt_claims *cl;
	int rc;

	if (r->refresh_token == NULL || r->refresh_token[0] == '\0') {
		return logged_out(c);
	}
	if ((rc = refresh_claims(c, r->refresh_token, &cl)) != 0) {
		return rc == UP_UNAUTHENTICATED ? logged_out(c) : rc;
	}
	return ud_call_write(c, logout_write) == 0
		   ? UD_ASYNC
		   : ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
}

const ud_handler ud_auth_handlers[] = {
    {"Authenticate", authenticate},
    {"GetAccessToken", get_access_token},
    {"Logout", logout},
    {NULL, NULL},
};
