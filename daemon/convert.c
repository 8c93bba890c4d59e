/*
 * convert.c - store records into the two views of a user (Evo's UserInfo,
 * Viviot's BusinessUserProfileDataView) and organizations into messages.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

#define ORG_TREE_DEPTH 4
#define ORG_TREE_NODES 200

char *
ud_dup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

char *
ud_id_string(int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, id);
	return strdup(buf);
}

static int
copy_strv(const ud_strv *sv, size_t *n, char ***out)
{
	char **v = calloc(sv->n ? sv->n : 1, sizeof(*v));

	if (v == NULL) {
		return -1;
	}
	for (size_t i = 0; i < sv->n; i++) {
		if ((v[i] = strdup(sv->v[i])) == NULL) {
			for (size_t k = 0; k < i; k++) {
				free(v[k]);
			}
			free(v);
			return -1;
		}
	}
	*out = v;
	*n = sv->n;
	return 0;
}

static char *
display_name(const ud_user *u)
{
	const char *f = u->first_name ? u->first_name : "";
	const char *l = u->last_name ? u->last_name : "";
	size_t n = strlen(f) + strlen(l) + 2;
	char *s = malloc(n);

	if (s != NULL) {
		snprintf(s, n, "%s%s%s", f, (*f && *l) ? " " : "", l);
	}
	return s;
}

Users__V1__UserInfo *
ud_user_info_new(const ud_user *u, bool is_self)
{
	Users__V1__UserInfo *m = malloc(sizeof(*m));

	if (m == NULL) {
		return NULL;
	}
	users__v1__user_info__init(m);
	m->id = ud_id_string(u->id);
	m->has_is_authenticated = true;
	m->is_authenticated = is_self;
	m->first_name = ud_dup(u->first_name ? u->first_name : "");
	m->last_name = ud_dup(u->last_name ? u->last_name : "");
	m->name = display_name(u);
	m->avatar_url = ud_dup(u->avatar_url);
	m->email_address = ud_dup(u->email);
	if (u->manager_access >= 0) {
		m->has_manager_access = true;
		m->manager_access =
		    (Users__V1__UserManagerAccess)u->manager_access;
	}
	if (m->id == NULL || m->first_name == NULL || m->last_name == NULL ||
	    m->name == NULL || m->email_address == NULL ||
	    copy_strv(&u->roles, &m->n_roles, &m->roles) != 0 ||
	    copy_strv(&u->org_ids, &m->n_account_ids, &m->account_ids) != 0 ||
	    copy_strv(&u->org_names, &m->n_account_names, &m->account_names) !=
		0) {
		goto fail;
	}
	m->dashboard_permissions =
	    calloc(u->n_dashboard_permissions ? u->n_dashboard_permissions : 1,
		   sizeof(*m->dashboard_permissions));
	if (m->dashboard_permissions == NULL) {
		goto fail;
	}
	for (size_t i = 0; i < u->n_dashboard_permissions; i++) {
		m->dashboard_permissions[i] = (Users__V1__DashboardPermissions)
						  u->dashboard_permissions[i];
	}
	m->n_dashboard_permissions = u->n_dashboard_permissions;
	return m;
fail:
	users__v1__user_info__free_unpacked(m, NULL);
	return NULL;
}

static Users__V1__OrganizationBasicView *
basic_view(ud_store_conn *conn, const ud_org *o, int depth, int *budget)
{
	Users__V1__OrganizationBasicView *v = malloc(sizeof(*v));
	ud_org *kids = NULL;
	size_t n = 0;

	if (v == NULL) {
		return NULL;
	}
	users__v1__organization_basic_view__init(v);
	v->id = ud_dup(o->id);
	v->name = ud_dup(o->name);
	v->has_type = true;
	v->type = (Users__V1__OrganizationType)o->type;
	if (v->id == NULL || v->name == NULL) {
		goto fail;
	}
	(*budget)--;
	if (depth >= ORG_TREE_DEPTH || *budget <= 0 ||
	    ud_store_org_children(conn, o->id, &kids, &n) != 0 || n == 0) {
		ud_orgs_free(kids, n);
		return v;
	}
	v->sub_organizations = calloc(n, sizeof(*v->sub_organizations));
	if (v->sub_organizations == NULL) {
		goto fail;
	}
	for (size_t i = 0; i<n && * budget> 0; i++) {
		Users__V1__OrganizationBasicView *k =
		    basic_view(conn, &kids[i], depth + 1, budget);
		if (k == NULL) {
			goto fail;
		}
		v->sub_organizations[v->n_sub_organizations++] = k;
	}
	ud_orgs_free(kids, n);
	return v;
fail:
	ud_orgs_free(kids, n);
	users__v1__organization_basic_view__free_unpacked(v, NULL);
	return NULL;
}

Users__V1__BusinessUserProfileDataView *
ud_business_view_new(ud_store_conn *conn, const ud_user *u)
{
	Users__V1__BusinessUserProfileDataView *m = malloc(sizeof(*m));
	int budget = ORG_TREE_NODES;

	if (m == NULL) {
		return NULL;
	}
	users__v1__business_user_profile_data_view__init(m);
	m->has_id = true;
	m->id = u->id;
	m->has_activation_status = true;
	m->activation_status =
	    (Users__V1__ActivationStatus)u->activation_status;
	m->user_name = ud_dup(u->email);
	m->first_name = ud_dup(u->first_name ? u->first_name : "");
	m->last_name = ud_dup(u->last_name ? u->last_name : "");
	m->email = ud_dup(u->email);
	m->temporary_email = ud_dup(u->temporary_email);
	m->has_email_confirmed = true;
	m->email_confirmed = u->email_confirmed;
	m->phone_number = ud_dup(u->phone_number);
	m->temporary_phone_number = ud_dup(u->temporary_phone_number);
	m->has_phone_number_confirmed = true;
	m->phone_number_confirmed = u->phone_number_confirmed;
	m->organization_id = ud_dup(u->primary_org_id);
	m->viviot_id = ud_dup(u->viviot_id);
	m->image_content = ud_dup(u->image_content);
	m->image_url = ud_dup(u->avatar_url);
	if (m->user_name == NULL || m->first_name == NULL ||
	    m->last_name == NULL || m->email == NULL ||
	    copy_strv(&u->roles, &m->n_roles, &m->roles) != 0) {
		goto fail;
	}
	m->business_organizations = calloc(u->org_ids.n ? u->org_ids.n : 1,
					   sizeof(*m->business_organizations));
	if (m->business_organizations == NULL) {
		goto fail;
	}
	for (size_t i = 0; i < u->org_ids.n; i++) {
		ud_org o = {0};
		Users__V1__OrganizationBasicView *v;
		if (ud_store_org_get(conn, u->org_ids.v[i], &o) != 0) {
			continue;
		}
		v = basic_view(conn, &o, 1, &budget);
		ud_org_fini(&o);
		if (v == NULL) {
			goto fail;
		}
		m->business_organizations[m->n_business_organizations++] = v;
	}
	return m;
fail:
	users__v1__business_user_profile_data_view__free_unpacked(m, NULL);
	return NULL;
}

Users__V1__Organization *
ud_org_msg_new(const ud_org *o)
{
	Users__V1__Organization *m = malloc(sizeof(*m));

	if (m == NULL) {
		return NULL;
	}
	users__v1__organization__init(m);
	m->id = ud_dup(o->id);
	m->name = ud_dup(o->name);
	m->has_type = true;
	m->type = (Users__V1__OrganizationType)o->type;
	m->parent_id = ud_dup(o->parent_id);
	m->has_member_count = true;
	m->member_count = o->member_count;
	if (m->id == NULL || m->name == NULL ||
	    (o->parent_id != NULL && m->parent_id == NULL)) {
		users__v1__organization__free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}
