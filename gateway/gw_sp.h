/*
 * gw_sp.h - the bytes of nng's SP protocol on a stream, as usersgw's own
 * hop to usersd speaks them (gw_hop.c): usersd listens with nng (a raw
 * REP socket), and the gateway's loop reads and writes that connection
 * itself instead of through nng's threads. docs/decisions.md (section
 * "The gateway's hop on its own loop") says why; this is what goes over
 * the wire, nng 1.5's transports and its REQ/REP protocol:
 *
 *   hello    8 bytes each way once connected: 0x00 'S' 'P' 0x00, the
 *            sender's protocol (16 bits, big-endian: REQ v0 48, REP v0
 *            49), two zero bytes
 *   frame    ipc://: a type byte (1) and a 64-bit big-endian length;
 *            tcp://: the length alone. Then that many bytes: the SP
 *            header, then the body
 *   header   a request's: its request id, 32 bits with the top bit set;
 *            a reply's: the same id, given back (the backtrace of one
 *            hop: no device sits between usersgw and usersd)
 *
 * Pure functions over bytes (no h2o, no sockets): a library with the
 * gRPC frames (gw_frame), so that the fuzz target links them alone.
 */
#ifndef GW_SP_H
#define GW_SP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_SP_HELLO_LEN 8
/* The longest frame head we write: type, length and request id. */
#define GW_SP_HEAD_MAX (1 + 8 + 4)
/* The request id of every message the gateway sends (its calls are told
 * apart by their tags inside the body, as libusersclient's are). */
#define GW_SP_REQUEST_ID 0x80000001u

/* Our hello: REQ v0. */
void gw_sp_hello(uint8_t out[GW_SP_HELLO_LEN]);
/* 0 when in is a REP v0 peer's hello, -1 otherwise. */
int gw_sp_hello_check(const uint8_t in[GW_SP_HELLO_LEN]);
/* Writes the head of a request of body_len bytes (ipc: with the type
 * byte) to out; returns its length. */
size_t gw_sp_head(uint8_t out[GW_SP_HEAD_MAX], bool ipc, size_t body_len);
/*
 * The first frame of p[0..n) when it is a reply of ours: 1 with its length
 * (*frame_len, head included) and where its body starts (*body_off; the
 * body is the rest of the frame) once the whole frame is there; 0 while
 * more bytes are needed; -1 when the bytes cannot be a reply to us (a
 * wrong type byte, a frame shorter than its header, a body longer than
 * max_body, a header that is not one request id with its top bit set).
 */
int gw_sp_next(const uint8_t *p, size_t n, bool ipc, size_t max_body,
	       size_t *frame_len, size_t *body_off);

#endif /* GW_SP_H */
