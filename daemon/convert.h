/*
 * convert.h - store records into response messages. Every message built
 * here is made of separately malloc'd pieces, so that
 * protobuf_c_message_free_unpacked(msg, NULL) frees it (that is how
 * ud_call_finish releases c->resp). NULL when out of memory.
 */
#ifndef UD_CONVERT_H
#define UD_CONVERT_H

#include <stdbool.h>

#include "store.h"
#include "users_proto.h"

char *ud_dup(const char *s); /* NULL-safe strdup */
Users__V1__UserInfo *ud_user_info_new(const ud_user *u, bool is_self);
Users__V1__BusinessUserProfileDataView *
ud_business_view_new(ud_store_conn *conn, const ud_user *u);
Users__V1__Organization *ud_org_msg_new(const ud_org *o);
/* "42" for id 42 (malloc'd). */
char *ud_id_string(int64_t id);

#endif
