/*
 * handlers_auth.c - Authenticate (ServiceStack's credentials provider) and
 * GetAccessToken (refresh token -> bearer token), and the table of every
 * operation's handler.
 *
 * An unknown user name, or a user without a password, is verified against
 * a dummy hash (ud_call_sign_in), so that it takes as long as a wrong
 * password and the answer reveals nothing; all count towards the lockout
 * of that name.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "convert.h"
#include "service.h"
#include "validate.h"

static const char bad_credentials[] = "Invalid Username or Password";

static int
sign_pair(ud_call *c, const ud_user *u, char **access, char **refresh)
{
	ud_service *svc = c->svc;
	int64_t now = ud_now_ms() / 1000;
	int rc;

	rc = ud_jwt_sign(&svc->key, UD_JWT_ACCESS, u, now,
			 svc->cfg->access_ttl_s, access);
	if (rc == 0 && refresh != NULL) {
		rc = ud_jwt_sign(&svc->key, UD_JWT_REFRESH, u, now,
				 svc->cfg->refresh_ttl_s, refresh);
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
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[16];
	char *s = malloc(33);

	if (s == NULL || getrandom(raw, sizeof(raw), 0) != sizeof(raw)) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		s[2 * i] = hex[raw[i] >> 4];
		s[2 * i + 1] = hex[raw[i] & 15];
	}
	s[32] = '\0';
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

/* The AuthenticateResponse for c->target, a user who just proved who
 * they are. */
static int
respond_session(ud_call *c)
{
	const ud_user *u = &c->target;
	Users__V1__AuthenticateResponse *resp;

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
	    copy_roles(u, resp) != 0 ||
	    sign_pair(c, u, &resp->bearer_token, &resp->refresh_token) != 0) {
		return UP_INTERNAL;
	}
	return UP_OK;
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
	return respond_session(c);
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
	int rc;

	if (r->provider != NULL && r->provider[0] != '\0' &&
	    strcasecmp(r->provider, "credentials") != 0) {
		return ud_err_invalid(c, "Provider", "NotSupported",
				      "must be 'credentials'.");
	}
	if (r->user_name == NULL || r->user_name[0] == '\0') {
		rc = ud_err_not_empty(c, "UserName");
	} else {
		rc = 0;
	}
	if (r->password == NULL || r->password[0] == '\0') {
		rc = ud_err_not_empty(c, "Password");
	}
	if (rc != 0) {
		return rc;
	}
	return ud_call_sign_in(c, r->user_name, r->password, &c->target,
			       authenticated);
}

static int
get_access_token(ud_call *c)
{
	const Users__V1__GetAccessToken *r =
	    (const Users__V1__GetAccessToken *)c->req;
	Users__V1__GetAccessTokenResponse *resp;
	ud_jwt_claims cl;
	int rc;

	if (r->refresh_token == NULL || r->refresh_token[0] == '\0') {
		return ud_err_not_empty(c, "RefreshToken");
	}
	if (ud_jwt_verify(&c->svc->key, UD_JWT_REFRESH, r->refresh_token,
			  strlen(r->refresh_token), ud_now_ms() / 1000,
			  &cl) != 0) {
		return ud_call_fail(c, UP_UNAUTHENTICATED, "TokenException",
				    "Invalid or expired refresh token");
	}
	rc = ud_store_user_get(c->reader, cl.sub, &c->target);
	if (rc == 0 &&
	    (c->target.disabled || c->target.token_version != cl.tv)) {
		rc = UP_UNAUTHENTICATED;
	}
	ud_jwt_claims_fini(&cl);
	if (rc != 0) {
		return ud_call_fail(c, UP_UNAUTHENTICATED, "TokenException",
				    "The refresh token is no longer valid");
	}
	if ((resp = malloc(sizeof(*resp))) == NULL) {
		return UP_INTERNAL;
	}
	users__v1__get_access_token_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	return sign_pair(c, &c->target, &resp->access_token, NULL) == 0
		   ? UP_OK
		   : UP_INTERNAL;
}

const ud_handler ud_auth_handlers[] = {
    {"Authenticate", authenticate},
    {"GetAccessToken", get_access_token},
    {NULL, NULL},
};

const ud_handler *
ud_handler_find(const char *method)
{
	static const ud_handler *const tables[] = {
	    ud_user_handlers, ud_org_handlers, ud_auth_handlers};

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (const ud_handler *h = tables[t]; h->method != NULL; h++) {
			if (strcmp(h->method, method) == 0) {
				return h;
			}
		}
	}
	return NULL;
}
