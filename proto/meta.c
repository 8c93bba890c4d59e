/*
 * meta.c - reads users.proto's custom options out of the embedded
 * descriptor set, once, into immutable tables: per method its routes, roles,
 * description and flags; per message its XML namespace; per field its wire
 * names, description, limits, whether it holds a secret and whether the
 * encoders always write it; and
 * up_message_wipe_secrets(), which zeroes those before a message is freed.
 *
 * Custom options arrive as unknown fields of the *Options messages (protobuf-c
 * has no extension registry); their numbers are the ones of options.proto.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "policy_words.h"
#include "users_proto.h"

enum {
	OPT_API_NAME = 50000,
	OPT_HTTP = 50001,
	OPT_ROLES = 50002,
	OPT_DESCRIPTION = 50003,
	OPT_AUTH = 50004,
	OPT_WRITES = 50005,
	OPT_ALLOW = 50006,
	OPT_SERVICE_NAME = 50007,
	OPT_GATEWAY_HTTP = 50008,
	OPT_SUPERUSER_ROLE = 50010,
	OPT_ADMINISTRATIVE_ROLES = 50011,
	OPT_SUBTREE_ROLES = 50012,
	OPT_XML_NAMESPACE = 50020,
	OPT_LIST_WRAPPER = 50021,
	OPT_BASES = 50022,
	OPT_FIELD_DESCRIPTION = 50030,
	OPT_REQUIRED = 50031,
	OPT_PARAM_IN = 50032,
	OPT_GUID = 50033,
	OPT_MAX_LEN = 50034,
	OPT_SECRET = 50035,
	OPT_ALWAYS_WRITTEN = 50036,
	OPT_DATA_TYPE = 50037,
	OPT_DECLARED_IN = 50038,
	OPT_ENUM_AS_NUMBER = 50040,
};

#define MAX_MESSAGES 128
#define MAX_ENUMS    32

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc = -1;

static Google__Protobuf__FileDescriptorSet *set;
static const char *api_name = "";
static const char *superuser_role = "";
/* Service-wide string lists (administrative and subtree roles). */
typedef struct str_list {
	char **v;
	size_t n;
} str_list;
static str_list admin_roles, subtree_roles;
static up_method *methods;
static size_t n_methods;
static up_message_info messages[MAX_MESSAGES];
static size_t n_messages;
static const ProtobufCEnumDescriptor *number_enums[MAX_ENUMS];
static size_t n_number_enums;

/* ------------------------------------------------------------------------
 * Unknown-field readers
 */

static uint64_t
varint(const uint8_t *p, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len && i < 10; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			break;
		}
	}
	return v;
}

/*
 * The payload of a length-delimited unknown field: protobuf-c keeps the
 * length prefix in the field's data.
 */
static int
len_payload(const ProtobufCMessageUnknownField *u, const uint8_t **p, size_t *n)
{
	size_t i = 0;
	uint64_t len = 0;

	if (u->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
		return -1;
	}
	for (; i < u->len && i < 10; i++) {
		len |= (uint64_t)(u->data[i] & 0x7f) << (7 * i);
		if ((u->data[i] & 0x80) == 0) {
			i++;
			break;
		}
	}
	if (len > u->len - i) {
		return -1;
	}
	*p = u->data + i;
	*n = (size_t)len;
	return 0;
}

/* A string option: a copy the tables own, or NULL when absent. */
static char *
opt_string(const ProtobufCMessage *opts, uint32_t tag)
{
	if (opts == NULL) {
		return NULL;
	}
	for (unsigned i = 0; i < opts->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u =
		    &opts->unknown_fields[i];
		const uint8_t *p;
		size_t n;
		if (u->tag == tag && len_payload(u, &p, &n) == 0) {
			return strndup((const char *)p, n);
		}
	}
	return NULL;
}

static uint64_t
opt_varint(const ProtobufCMessage *opts, uint32_t tag)
{
	if (opts == NULL) {
		return 0;
	}
	for (unsigned i = 0; i < opts->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u =
		    &opts->unknown_fields[i];
		if (u->tag == tag &&
		    u->wire_type == PROTOBUF_C_WIRE_TYPE_VARINT) {
			return varint(u->data, u->len);
		}
	}
	return 0;
}

static size_t
opt_count(const ProtobufCMessage *opts, uint32_t tag)
{
	size_t n = 0;
	for (unsigned i = 0; opts != NULL && i < opts->n_unknown_fields; i++) {
		n += opts->unknown_fields[i].tag == tag;
	}
	return n;
}

/* Every value of a repeated string option, in order. 0 or -1. */
static int
opt_strings(const ProtobufCMessage *opts, uint32_t tag, str_list *out)
{
	size_t n = opt_count(opts, tag), k = 0;

	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (out->v == NULL) {
		return -1;
	}
	for (unsigned i = 0; opts != NULL && i < opts->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u =
		    &opts->unknown_fields[i];
		const uint8_t *p;
		size_t len;
		if (u->tag != tag || len_payload(u, &p, &len) != 0) {
			continue;
		}
		if ((out->v[k] = strndup((const char *)p, len)) == NULL) {
			return -1;
		}
		out->n = ++k;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Names
 */

static char *
pascal_of(const char *snake)
{
	size_t n = strlen(snake);
	char *out = malloc(n + 1);
	size_t j = 0;
	bool up = true;

	if (out == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = snake[i];
		if (c == '_') {
			up = true;
			continue;
		}
		out[j++] = (up && c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
		up = false;
	}
	out[j] = '\0';
	return out;
}

/* ------------------------------------------------------------------------
 * Loading
 */

static const Google__Protobuf__FileDescriptorProto *
users_file(void)
{
	for (size_t i = 0; i < set->n_file; i++) {
		if (strcmp(set->file[i]->name, "users.proto") == 0) {
			return set->file[i];
		}
	}
	return NULL;
}

static const Google__Protobuf__DescriptorProto *
find_message_proto(const Google__Protobuf__DescriptorProto *const *list,
		   size_t n, const char *prefix, const char *full)
{
	for (size_t i = 0; i < n; i++) {
		const Google__Protobuf__DescriptorProto *m = list[i];
		size_t plen = strlen(prefix);
		if (strncmp(full, prefix, plen) != 0 || full[plen] != '.') {
			continue;
		}
		const char *rest = full + plen + 1;
		size_t nlen = strlen(m->name);
		if (strncmp(rest, m->name, nlen) != 0) {
			continue;
		}
		if (rest[nlen] == '\0') {
			return m;
		}
		if (rest[nlen] == '.') {
			char sub[256];
			snprintf(sub, sizeof(sub), "%s.%s", prefix, m->name);
			const Google__Protobuf__DescriptorProto *r =
			    find_message_proto((const void *)m->nested_type,
					       m->n_nested_type, sub, full);
			if (r != NULL) {
				return r;
			}
		}
	}
	return NULL;
}

static int add_message(const ProtobufCMessageDescriptor *d);

static int
add_enum(const ProtobufCEnumDescriptor *e)
{
	const Google__Protobuf__FileDescriptorProto *f = users_file();

	for (size_t i = 0; i < n_number_enums; i++) {
		if (number_enums[i] == e) {
			return 0;
		}
	}
	for (size_t i = 0; i < f->n_enum_type; i++) {
		const Google__Protobuf__EnumDescriptorProto *ep =
		    f->enum_type[i];
		if (strcmp(ep->name, e->short_name) != 0) {
			continue;
		}
		if (opt_varint((const ProtobufCMessage *)ep->options,
			       OPT_ENUM_AS_NUMBER) != 0) {
			if (n_number_enums == MAX_ENUMS) {
				return -1;
			}
			number_enums[n_number_enums++] = e;
		}
	}
	return 0;
}

static int
fill_field(up_field_info *fi, const ProtobufCFieldDescriptor *fd,
	   const Google__Protobuf__DescriptorProto *mp)
{
	const Google__Protobuf__FieldDescriptorProto *fp = NULL;
	const ProtobufCMessage *o = NULL;

	for (size_t i = 0; mp != NULL && i < mp->n_field; i++) {
		if (strcmp(mp->field[i]->name, fd->name) == 0) {
			fp = mp->field[i];
			break;
		}
	}
	if (fp != NULL) {
		o = (const ProtobufCMessage *)fp->options;
	}
	fi->desc = fd;
	fi->pascal_name = pascal_of(fd->name);
	fi->json_name = (fp != NULL && fp->json_name != NULL)
			    ? strdup(fp->json_name)
			    : NULL;
	if (fi->json_name == NULL) {
		/* lowerCamel of the PascalCase name */
		char *j = fi->pascal_name ? strdup(fi->pascal_name) : NULL;
		if (j != NULL && j[0] >= 'A' && j[0] <= 'Z') {
			j[0] = (char)(j[0] + 32);
		}
		fi->json_name = j;
	}
	fi->description = opt_string(o, OPT_FIELD_DESCRIPTION);
	if (fi->description == NULL) {
		fi->description = "";
	}
	fi->param_in = opt_string(o, OPT_PARAM_IN);
	fi->max_len = (uint32_t)opt_varint(o, OPT_MAX_LEN);
	fi->required = opt_varint(o, OPT_REQUIRED) != 0;
	fi->guid = opt_varint(o, OPT_GUID) != 0;
	fi->secret = opt_varint(o, OPT_SECRET) != 0;
	fi->always_written = opt_varint(o, OPT_ALWAYS_WRITTEN) != 0;
	fi->data_type = opt_string(o, OPT_DATA_TYPE);
	fi->declared_in = opt_string(o, OPT_DECLARED_IN);
	if (fi->pascal_name == NULL || fi->json_name == NULL) {
		return -1;
	}
	/* a wire name of its own: not the declared name in camelCase */
	if (strcasecmp(fi->json_name, fi->pascal_name) != 0) {
		fi->data_member = fi->json_name;
	}
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		return add_message(fd->descriptor);
	}
	if (fd->type == PROTOBUF_C_TYPE_ENUM) {
		return add_enum(fd->descriptor);
	}
	return 0;
}

static int
add_message(const ProtobufCMessageDescriptor *d)
{
	const Google__Protobuf__FileDescriptorProto *f = users_file();
	const Google__Protobuf__DescriptorProto *mp;
	const ProtobufCMessage *o;
	up_message_info *mi;
	up_field_info *fields;
	char *ns;

	for (size_t i = 0; i < n_messages; i++) {
		if (messages[i].desc == d) {
			return 0;
		}
	}
	if (n_messages == MAX_MESSAGES) {
		return -1;
	}
	mp = find_message_proto((const void *)f->message_type,
				f->n_message_type, "users.v1", d->name);
	o = mp != NULL ? (const ProtobufCMessage *)mp->options : NULL;
	mi = &messages[n_messages++];
	mi->desc = d;
	mi->list_wrapper = opt_varint(o, OPT_LIST_WRAPPER) != 0;
	ns = opt_string(o, OPT_XML_NAMESPACE);
	if (ns != NULL && strncmp(ns, "http", 4) != 0) {
		const char *base = "http://schemas.datacontract.org/2004/07/";
		size_t len = strlen(base) + strlen(ns) + 1;
		char *full = malloc(len);
		if (full == NULL) {
			free(ns);
			return -1;
		}
		snprintf(full, len, "%s%s", base, ns);
		free(ns);
		ns = full;
	}
	mi->xml_namespace = ns;
	{
		str_list bases = {0};

		if (opt_strings(o, OPT_BASES, &bases) != 0) {
			return -1;
		}
		mi->bases = (const char *const *)bases.v;
		mi->n_bases = bases.n;
	}
	fields = calloc(d->n_fields ? d->n_fields : 1, sizeof(*fields));
	if (fields == NULL) {
		return -1;
	}
	mi->fields = fields;
	mi->n_fields = d->n_fields;
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (fill_field(&fields[i], &d->fields[i], mp) != 0) {
			return -1;
		}
	}
	return 0;
}

/*
 * One (allow) rule. A rule the tables cannot hold exactly (an unknown
 * aspect or condition, no actor) fails the load: the policy is never read
 * as more permissive than it is written.
 */
static int
load_rule(up_rule *out, const uint8_t *p, size_t n)
{
	Users__V1__Rule *rule = users__v1__rule__unpack(NULL, n, p);
	char **actors = NULL;
	int rc = -1;

	if (rule == NULL || rule->n_actor == 0 ||
	    up_aspect_name(rule->aspect)[0] == '\0' ||
	    rule->base.n_unknown_fields != 0 ||
	    (actors = calloc(rule->n_actor, sizeof(*actors))) == NULL) {
		goto out;
	}
	out->aspect = rule->aspect;
	out->actors = (const char *const *)actors;
	for (size_t i = 0; i < rule->n_actor; i++) {
		if ((actors[i] = strdup(rule->actor[i])) == NULL) {
			goto out;
		}
		out->n_actors = i + 1;
	}
	for (size_t i = 0; i < rule->n_when; i++) {
		Users__V1__Condition c = rule->when[i];
		if (c == USERS__V1__CONDITION__COND_NONE ||
		    up_condition_name(c)[0] == '\0') {
			goto out;
		}
		out->when |= 1u << c;
	}
	rc = 0;
out:
	if (rule != NULL) {
		users__v1__rule__free_unpacked(rule, NULL);
	}
	return rc;
}

/* One HttpRoute option into r. 0 or -1. */
static int
load_route(up_route *r, const uint8_t *p, size_t n)
{
	Users__V1__HttpRoute *hr = users__v1__http_route__unpack(NULL, n, p);

	if (hr == NULL) {
		return -1;
	}
	r->method = strdup(hr->method ? hr->method : "");
	r->path = strdup(hr->path ? hr->path : "");
	r->summary = strdup(hr->summary ? hr->summary : "");
	users__v1__http_route__free_unpacked(hr, NULL);
	return r->method != NULL && r->path != NULL && r->summary != NULL ? 0
									  : -1;
}

static int
load_method(up_method *m, unsigned index,
	    const Google__Protobuf__MethodDescriptorProto *mp)
{
	const ProtobufCMessage *o = (const ProtobufCMessage *)mp->options;
	size_t n_routes = opt_count(o, OPT_HTTP);
	size_t n_gw = opt_count(o, OPT_GATEWAY_HTTP);
	size_t n_roles = opt_count(o, OPT_ROLES);
	size_t n_rules = opt_count(o, OPT_ALLOW);
	up_route *routes = calloc(n_routes ? n_routes : 1, sizeof(*routes));
	up_route *gw = calloc(n_gw ? n_gw : 1, sizeof(*gw));
	const char **roles = calloc(n_roles ? n_roles : 1, sizeof(*roles));
	up_rule *rules = calloc(n_rules ? n_rules : 1, sizeof(*rules));
	size_t r = 0, g = 0, k = 0, a = 0;

	if (routes == NULL || gw == NULL || roles == NULL || rules == NULL) {
		free(routes);
		free(gw);
		free(roles);
		free(rules);
		return -1;
	}
	m->routes = routes;
	m->gw_routes = gw;
	m->roles = roles;
	m->rules = rules;
	for (unsigned i = 0; o != NULL && i < o->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &o->unknown_fields[i];
		const uint8_t *p;
		size_t n;
		if (len_payload(u, &p, &n) != 0) {
			continue;
		}
		if (u->tag == OPT_HTTP) {
			if (load_route(&routes[r++], p, n) != 0) {
				return -1;
			}
		} else if (u->tag == OPT_GATEWAY_HTTP) {
			if (load_route(&gw[g++], p, n) != 0) {
				return -1;
			}
		} else if (u->tag == OPT_ROLES) {
			roles[k] = strndup((const char *)p, n);
			if (roles[k++] == NULL) {
				return -1;
			}
		} else if (u->tag == OPT_ALLOW) {
			if (load_rule(&rules[a++], p, n) != 0) {
				return -1;
			}
		}
	}
	m->n_routes = r;
	m->n_gw_routes = g;
	m->n_roles = k;
	m->n_rules = a;
	m->index = index;
	m->desc = &users__v1__user_service__descriptor.methods[index];
	m->description = opt_string(o, OPT_DESCRIPTION);
	if (m->description == NULL) {
		m->description = "";
	}
	m->service_name = opt_string(o, OPT_SERVICE_NAME);
	if (m->service_name == NULL) {
		m->service_name = api_name;
	}
	m->auth_none = opt_varint(o, OPT_AUTH) == 1;
	m->writes = opt_varint(o, OPT_WRITES) != 0;
	m->no_side_effects =
	    mp->options != NULL && mp->options->has_idempotency_level &&
	    mp->options->idempotency_level ==
		GOOGLE__PROTOBUF__METHOD_OPTIONS__IDEMPOTENCY_LEVEL__NO_SIDE_EFFECTS;
	if (m->no_side_effects && (m->writes || m->auth_none)) {
		/* a contract that contradicts itself is refused whole */
		fprintf(stderr,
			"users.proto: %s says NO_SIDE_EFFECTS but writes or "
			"signs in\n",
			mp->name);
		return -1;
	}
	if (add_message(m->desc->input) != 0 ||
	    add_message(m->desc->output) != 0) {
		return -1;
	}
	return 0;
}

static void
load(void)
{
	const ProtobufCServiceDescriptor *sd =
	    &users__v1__user_service__descriptor;
	const Google__Protobuf__FileDescriptorProto *f;
	const Google__Protobuf__ServiceDescriptorProto *sp = NULL;

	set = google__protobuf__file_descriptor_set__unpack(
	    NULL, up_descriptor_set_len, up_descriptor_set);
	if (set == NULL || (f = users_file()) == NULL) {
		return;
	}
	for (size_t i = 0; i < f->n_service; i++) {
		if (strcmp(f->service[i]->name, sd->short_name) == 0) {
			sp = f->service[i];
		}
	}
	if (sp == NULL || sp->n_method != sd->n_methods) {
		return;
	}
	const ProtobufCMessage *so = (const ProtobufCMessage *)sp->options;
	char *an = opt_string(so, OPT_API_NAME);
	char *su = opt_string(so, OPT_SUPERUSER_ROLE);
	if (an != NULL) {
		api_name = an;
	}
	if (su != NULL) {
		superuser_role = su;
	}
	if (opt_strings(so, OPT_ADMINISTRATIVE_ROLES, &admin_roles) != 0 ||
	    opt_strings(so, OPT_SUBTREE_ROLES, &subtree_roles) != 0) {
		return;
	}
	up_policy_words_init(
	    superuser_role, (const char *const *)admin_roles.v, admin_roles.n,
	    (const char *const *)subtree_roles.v, subtree_roles.n);
	methods = calloc(sd->n_methods, sizeof(*methods));
	if (methods == NULL) {
		return;
	}
	for (unsigned i = 0; i < sd->n_methods; i++) {
		if (strcmp(sp->method[i]->name, sd->methods[i].name) != 0 ||
		    load_method(&methods[i], i, sp->method[i]) != 0) {
			return;
		}
	}
	n_methods = sd->n_methods;
	if (add_message(&users__v1__error_response__descriptor) != 0 ||
	    add_message(&users__v1__request_envelope__descriptor) != 0 ||
	    add_message(&users__v1__response_envelope__descriptor) != 0) {
		return;
	}
	load_rc = 0;
}

int
up_meta_load(void)
{
	pthread_once(&once, load);
	return load_rc;
}

const ProtobufCServiceDescriptor *
up_service(void)
{
	return &users__v1__user_service__descriptor;
}

const char *
up_api_name(void)
{
	return api_name;
}

size_t
up_method_count(void)
{
	return load_rc == 0 ? n_methods : 0;
}

const up_method *
up_method_at(size_t i)
{
	return (load_rc == 0 && i < n_methods) ? &methods[i] : NULL;
}

const up_method *
up_method_find(const char *name)
{
	if (name == NULL || load_rc != 0) {
		return NULL;
	}
	for (size_t i = 0; i < n_methods; i++) {
		if (strcasecmp(methods[i].desc->name, name) == 0) {
			return &methods[i];
		}
	}
	return NULL;
}

const up_message_info *
up_message_info_of(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; load_rc == 0 && i < n_messages; i++) {
		if (messages[i].desc == d) {
			return &messages[i];
		}
	}
	return NULL;
}

const up_field_info *
up_field_info_of(const ProtobufCMessageDescriptor *d,
		 const ProtobufCFieldDescriptor *f)
{
	const up_message_info *mi = up_message_info_of(d);

	if (mi == NULL || f < d->fields || f >= d->fields + d->n_fields) {
		return NULL;
	}
	return &mi->fields[f - d->fields];
}

bool
up_enum_as_number(const ProtobufCEnumDescriptor *e)
{
	for (size_t i = 0; load_rc == 0 && i < n_number_enums; i++) {
		if (number_enums[i] == e) {
			return true;
		}
	}
	return false;
}

const char *
up_superuser_role(void)
{
	return superuser_role;
}

size_t
up_administrative_role_count(void)
{
	return load_rc == 0 ? admin_roles.n : 0;
}

const char *
up_administrative_role_at(size_t i)
{
	return (load_rc == 0 && i < admin_roles.n) ? admin_roles.v[i] : NULL;
}

static bool
str_list_has(const str_list *l, const char *s)
{
	for (size_t i = 0; load_rc == 0 && s != NULL && i < l->n; i++) {
		if (strcmp(l->v[i], s) == 0) {
			return true;
		}
	}
	return false;
}

bool
up_role_is_administrative(const char *role)
{
	return str_list_has(&admin_roles, role);
}

bool
up_role_reaches_below(const char *role)
{
	return str_list_has(&subtree_roles, role);
}

/* ------------------------------------------------------------------------
 * Secrets
 */

void
up_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0) {
		explicit_bzero(p, n);
	}
}

void
up_wipe_free(void *p, size_t n)
{
	if (p != NULL) {
		up_wipe(p, n);
		free(p);
	}
}

/* Whether the oneof member f is the one set in m (always, outside one). */
static bool
field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0) {
		return true;
	}
	return *(const uint32_t *)((const char *)m + f->quantifier_offset) ==
	       f->id;
}

static void
wipe_string(const ProtobufCFieldDescriptor *f, char *s)
{
	if (s != NULL && s != (const char *)f->default_value) {
		up_wipe(s, strlen(s));
	}
}

static void
wipe_bytes(const ProtobufCFieldDescriptor *f, ProtobufCBinaryData *b)
{
	const ProtobufCBinaryData *def = f->default_value;

	if (b->data != NULL && (def == NULL || b->data != def->data)) {
		up_wipe(b->data, b->len);
	}
}

void
up_message_wipe_secrets(ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d;

	if (msg == NULL || (d = msg->descriptor) == NULL) {
		return;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const up_field_info *fi = up_field_info_of(d, f);
		char *at = (char *)msg + f->offset;
		bool secret = fi != NULL && fi->secret;
		size_t n = 1;

		if (!field_present(msg, f)) {
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(size_t *)((char *)msg + f->quantifier_offset);
			at = *(char **)at;
			if (at == NULL) {
				continue;
			}
		}
		for (size_t k = 0; k < n; k++) {
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				up_message_wipe_secrets(
				    ((ProtobufCMessage **)at)[k]);
			} else if (secret &&
				   f->type == PROTOBUF_C_TYPE_STRING) {
				wipe_string(f, ((char **)at)[k]);
			} else if (secret && f->type == PROTOBUF_C_TYPE_BYTES) {
				wipe_bytes(f, &((ProtobufCBinaryData *)at)[k]);
			}
		}
	}
}
