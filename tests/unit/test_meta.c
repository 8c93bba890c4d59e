/* The metadata read from users.proto: routes, roles, names, limits. */
#include <string.h>

#include "check.h"
#include "users_proto.h"

static void
test_methods(void)
{
	const up_method *m;

	CHECK_INT(up_meta_load(), 0);
	CHECK_STR(up_api_name(), "Evo Voice");
	CHECK_INT(up_method_count(),
		  users__v1__user_service__descriptor.n_methods);
	CHECK_INT(up_method_count(), 16);

	m = up_method_find("patchuser");
	CHECK(m != NULL);
	if (m == NULL) {
		return;
	}
	CHECK_STR(m->desc->name, "PatchUser");
	CHECK_STR(m->description, "Update the specified login");
	CHECK_INT(m->n_routes, 1);
	CHECK_STR(m->routes[0].method, "PATCH");
	CHECK_STR(m->routes[0].path, "/users/{userId}");
	CHECK_INT(m->n_roles, 2);
	CHECK_STR(m->roles[0], "SystemAdministrator");
	CHECK_STR(m->roles[1], "Manager");
	CHECK(m->writes);
	CHECK(!m->auth_none);
	CHECK(m->desc->input == &users__v1__patch_user__descriptor);

	m = up_method_find("UpdateBusinessUser");
	CHECK(m != NULL && m->n_roles == 2 &&
	      strcmp(m->roles[0], "Admin") == 0);
	m = up_method_find("Authenticate");
	CHECK(m != NULL && m->auth_none && m->n_routes == 2);
	m = up_method_find("GetUser");
	CHECK(m != NULL && !m->writes && m->n_roles == 0);
	/* a refresh token is used once; a retry must find its first answer */
	m = up_method_find("GetAccessToken");
	CHECK(m != NULL && m->auth_none && m->writes);
	m = up_method_find("Logout");
	CHECK(m != NULL && m->auth_none && m->writes && m->n_routes == 1 &&
	      strcmp(m->routes[0].path, "/auth/logout") == 0 &&
	      strcmp(m->routes[0].method, "POST") == 0 &&
	      m->desc->output == &users__v1__authenticate_response__descriptor);
	CHECK(up_method_find("NoSuchMethod") == NULL);
}

static void
test_fields(void)
{
	const ProtobufCMessageDescriptor *d = &users__v1__new_user__descriptor;
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(d, "email_address");
	const up_field_info *fi = up_field_info_of(d, f);
	const up_message_info *mi;

	CHECK(fi != NULL);
	if (fi != NULL) {
		CHECK_STR(fi->json_name, "emailAddress");
		CHECK_STR(fi->pascal_name, "EmailAddress");
		CHECK_STR(fi->description, "The email address of the new user");
		CHECK_INT(fi->max_len, 254);
	}
	mi = up_message_info_of(d);
	CHECK(mi != NULL && mi->xml_namespace != NULL);
	if (mi != NULL && mi->xml_namespace != NULL) {
		CHECK_STR(mi->xml_namespace,
			  "http://schemas.datacontract.org/"
			  "2004/07/Voice.Api.Authentication");
	}

	d = &users__v1__organization_basic_view__descriptor;
	f = protobuf_c_message_descriptor_get_field_by_name(
	    d, "sub_organizations");
	fi = up_field_info_of(d, f);
	CHECK(fi != NULL);
	if (fi != NULL) {
		CHECK_STR(fi->json_name, "organizations");
		CHECK_STR(fi->pascal_name, "SubOrganizations");
		/* a wire name of its own: a DataMember name */
		CHECK_STR(fi->data_member, "organizations");
	}
	/* the others have none: their wire name is their camelCase */
	fi = up_field_info_of(d, &d->fields[1]);
	CHECK(fi != NULL && fi->data_member == NULL);

	/* Viviot's base classes, what each declares, documented types */
	mi = up_message_info_of(&users__v1__update_business_user__descriptor);
	CHECK(mi != NULL && mi->n_bases == 2 &&
	      strcmp(mi->bases[0], "BaseEditBusinessUser") == 0 &&
	      strcmp(mi->bases[1], "BaseRequest") == 0);
	CHECK(mi != NULL && mi->fields[0].declared_in == NULL &&
	      strcmp(mi->fields[0].data_type, "int") == 0);
	CHECK(mi != NULL &&
	      strcmp(mi->fields[7].declared_in, "BaseRequest") == 0);
	{
		const up_method *m = up_method_find("UpdateBusinessUser");
		const up_method *a = up_method_find("Authenticate");

		CHECK(m != NULL && strcmp(m->service_name, "Viviot.Api") == 0 &&
		      strcmp(m->routes[0].summary,
			     "Updates a business user.") == 0);
		CHECK(a != NULL && strcmp(a->service_name, "Evo Voice") == 0);
		/* GET /auth: documented with Authenticate, not its route */
		CHECK(a != NULL && a->n_gw_routes == 1 &&
		      strcmp(a->gw_routes[0].method, "GET") == 0 &&
		      strcmp(a->gw_routes[0].path, "/auth") == 0);
	}
	mi = up_message_info_of(&users__v1__string_list__descriptor);
	CHECK(mi != NULL && mi->list_wrapper);
	CHECK(up_enum_as_number(&users__v1__activation_status__descriptor));
	CHECK(up_enum_as_number(&users__v1__organization_type__descriptor));
	CHECK(
	    !up_enum_as_number(&users__v1__dashboard_permissions__descriptor));
}

/* (always_written): ResponseStatus.errors; not its other fields, nor
 * those of the ResponseError inside it. */
static void
test_always_written(void)
{
	const ProtobufCMessageDescriptor *ds[] = {
	    &users__v1__response_status__descriptor,
	    &users__v1__response_error__descriptor};

	for (size_t k = 0; k < 2; k++) {
		for (unsigned i = 0; i < ds[k]->n_fields; i++) {
			const ProtobufCFieldDescriptor *f = &ds[k]->fields[i];
			const up_field_info *fi = up_field_info_of(ds[k], f);
			CHECK(fi != NULL);
			if (fi != NULL) {
				CHECK_INT(fi->always_written,
					  k == 0 &&
					      strcmp(f->name, "errors") == 0);
			}
		}
	}
}

static void
test_status(void)
{
	CHECK_INT(up_status_http(UP_PERMISSION_DENIED), 403);
	CHECK_INT(up_status_http(UP_UNAUTHENTICATED), 401);
	CHECK_INT(up_status_http(UP_ALREADY_EXISTS), 409);
	CHECK_INT(up_status_http(UP_RESOURCE_EXHAUSTED), 429);
	CHECK_INT(up_status_http(UP_DEADLINE_EXCEEDED), 504);
	CHECK_INT(up_status_http(999), 500);
	CHECK_STR(up_status_name(UP_INVALID_ARGUMENT), "INVALID_ARGUMENT");
	CHECK_STR(up_status_error_code(UP_NOT_FOUND), "NotFound");
	CHECK_INT(UP_UNAUTHENTICATED, USERS__V1__STATUS_CODE__UNAUTHENTICATED);
	/* The wire's list and the C table are one list: every value of
	 * users.proto's StatusCode is the row of its own name. */
	{
		const ProtobufCEnumDescriptor *d =
		    &users__v1__status_code__descriptor;
		CHECK(d->n_values == 17);
		for (unsigned i = 0; i < d->n_values; i++) {
			CHECK_STR(up_status_name(d->values[i].value),
				  d->values[i].name);
		}
	}
}

int
main(void)
{
	test_methods();
	test_fields();
	test_always_written();
	test_status();
	return check_done();
}
