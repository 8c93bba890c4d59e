/*
 * store_walbuf.h - the SQLite backend's VFS (internal to the store).
 *
 * SQLite's default VFS, except that the frames of a WAL commit reach the
 * file in writes of 64 KiB instead of two a frame (store_walbuf.c says why
 * that keeps every guarantee, and the one setting it needs:
 * synchronous=FULL).
 */
#ifndef UD_STORE_WALBUF_H
#define UD_STORE_WALBUF_H

#include <sqlite3.h>

/*
 * The VFS's name for sqlite3_open_v2, registered at the first call (not
 * as the default); NULL when it could not be (then open with the default
 * VFS). Safe from any thread.
 */
const char *ud_store_walbuf_vfs(void);

#endif
