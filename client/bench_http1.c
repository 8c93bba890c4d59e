/*
 * bench_http1.c - the HTTP/1.1 response reader (bench_http1.h).
 *
 * The head is found first (CRLF CRLF within BH1_MAX_HEAD bytes) and read
 * line by line; then the body's framing decides the length: Content-Length
 * at once, a chunked body by walking its chunk lines (hex size, optional
 * extensions, CRLF, data, CRLF; a last chunk of size 0, trailer lines and
 * an empty line). The same walk copies the body out (bh1_body).
 */
#include "bench_http1.h"

#include <string.h>

#define MAX_LINE 1024 /* a chunk line or a trailer line */

static bool
tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether [p, p+n) equals the lowercase word w, in any case. */
static bool
same_word(const char *p, size_t n, const char *w)
{
	size_t i;

	if (strlen(w) != n) {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (lower(p[i]) != w[i]) {
			return false;
		}
	}
	return true;
}

/* Whether the comma-separated list [v, v+n) holds the token w. */
static bool
has_token(const char *v, size_t n, const char *w)
{
	size_t i = 0, start, end;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
			i++;
		}
		start = i;
		while (i < n && v[i] != ',') {
			i++;
		}
		end = i;
		while (end > start &&
		       (v[end - 1] == ' ' || v[end - 1] == '\t')) {
			end--;
		}
		if (end > start && same_word(v + start, end - start, w)) {
			return true;
		}
	}
	return false;
}

/* The end of the line starting at p (the CR of its CRLF), or NULL. */
static const char *
line_end(const char *p, const char *end)
{
	const char *cr = memchr(p, '\r', (size_t)(end - p));

	if (cr == NULL || cr + 1 >= end || cr[1] != '\n') {
		return NULL;
	}
	return cr;
}

/*
 * Walks a chunked body from p: BH1_DONE with *used (the framed bytes) and
 * *content (the data bytes), BH1_MORE, or BH1_BAD. With out, copies the
 * data (at most cap - 1 bytes).
 */
static int
walk_chunks(const char *p, const char *end, size_t *used, size_t *content,
	    char *out, size_t cap)
{
	const char *start = p, *eol, *q;
	size_t size, total = 0, n;

	for (;;) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL) {
			return end - p >= MAX_LINE ? BH1_BAD : BH1_MORE;
		}
		if (eol - p >= MAX_LINE || eol == p || eol[-1] != '\r') {
			return BH1_BAD;
		}
		size = 0;
		for (q = p; q < eol - 1; q++) {
			char c = lower(*q);
			unsigned d;

			if (c >= '0' && c <= '9') {
				d = (unsigned)(c - '0');
			} else if (c >= 'a' && c <= 'f') {
				d = (unsigned)(c - 'a' + 10);
			} else {
				break;
			}
			size = size * 16 + d;
			if (size > BH1_MAX_BODY) {
				return BH1_BAD;
			}
		}
		if (q == p ||
		    (q < eol - 1 && *q != ';' && *q != ' ' && *q != '\t')) {
			return BH1_BAD;
		}
		p = eol + 1;
		if (size == 0) {
			break;
		}
		if (total + size > BH1_MAX_BODY) {
			return BH1_BAD;
		}
		if ((size_t)(end - p) < size + 2) {
			return BH1_MORE;
		}
		if (p[size] != '\r' || p[size + 1] != '\n') {
			return BH1_BAD;
		}
		if (out != NULL && total < cap - 1) {
			n = cap - 1 - total < size ? cap - 1 - total : size;
			memcpy(out + total, p, n);
		}
		total += size;
		p += size + 2;
	}
	/* Trailer lines, then an empty line. */
	for (;;) {
		eol = line_end(p, end);
		if (eol == NULL) {
			if (memchr(p, '\n', (size_t)(end - p)) != NULL) {
				return BH1_BAD; /* a bare LF */
			}
			return end - p >= MAX_LINE ? BH1_BAD : BH1_MORE;
		}
		if (eol - p >= MAX_LINE || memchr(p, '\n', (size_t)(eol - p))) {
			return BH1_BAD; /* too long, or a bare LF in it */
		}
		if (eol == p) {
			p = eol + 2;
			break;
		}
		p = eol + 2;
	}
	if (out != NULL && cap > 0) {
		out[total < cap - 1 ? total : cap - 1] = '\0';
	}
	*used = (size_t)(p - start);
	*content = total;
	return BH1_DONE;
}

/* The status line: "HTTP/1.x NNN[ reason]"; 0, or -1. */
static int
status_line(const char *p, const char *eol, int *status, bool *http10)
{
	size_t n = (size_t)(eol - p);
	const char *q;

	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' || p[9] < '1' ||
	    p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' ||
	    p[11] > '9' || (n > 12 && p[12] != ' ')) {
		return -1;
	}
	for (q = p + 12; q < eol; q++) {
		if ((unsigned char)*q < 0x20 && *q != '\t') {
			return -1;
		}
	}
	*http10 = p[7] == '0';
	*status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	return 0;
}

int
bh1_parse(const char *buf, size_t len, bh1_response *r)
{
	const char *end, *head_end, *p, *eol, *colon, *v, *ve;
	size_t scan = len < BH1_MAX_HEAD ? len : BH1_MAX_HEAD, fields = 0;
	size_t clen = 0, used, content;
	bool http10 = false, have_clen = false, keep_alive = false;
	bool close = false, chunked = false;
	int rc;

	memset(r, 0, sizeof(*r));
	/* The head ends at the first CRLF CRLF. */
	head_end = NULL;
	for (p = buf; p + 3 < buf + scan; p++) {
		p = memchr(p, '\r', (size_t)(buf + scan - p));
		if (p == NULL || p + 3 >= buf + scan) {
			break;
		}
		if (memcmp(p, "\r\n\r\n", 4) == 0) {
			head_end = p + 2; /* the CR of the empty line */
			break;
		}
	}
	if (head_end == NULL) {
		return len >= BH1_MAX_HEAD ? BH1_BAD : BH1_MORE;
	}
	end = head_end + 2;
	eol = line_end(buf, end);
	if (eol == NULL || status_line(buf, eol, &r->status, &http10) != 0 ||
	    r->status < 200) {
		return BH1_BAD;
	}
	for (p = eol + 2; p < head_end; p = eol + 2) {
		eol = line_end(p, end);
		if (eol == NULL || eol > head_end ||
		    ++fields > BH1_MAX_FIELDS) {
			return BH1_BAD;
		}
		colon = p;
		while (colon < eol && tchar(*colon)) {
			colon++;
		}
		if (colon == p || colon == eol || *colon != ':') {
			return BH1_BAD; /* no name, or a folded line */
		}
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++) {
		}
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		     ve--) {
		}
		for (const char *q = v; q < ve; q++) {
			if (((unsigned char)*q < 0x20 && *q != '\t') ||
			    *q == 0x7f) {
				return BH1_BAD;
			}
		}
		if (same_word(p, (size_t)(colon - p), "content-length")) {
			size_t x = 0;
			const char *q;

			if (v == ve || ve - v > 9) {
				return BH1_BAD;
			}
			for (q = v; q < ve; q++) {
				if (*q < '0' || *q > '9') {
					return BH1_BAD;
				}
				x = x * 10 + (size_t)(*q - '0');
			}
			if (x > BH1_MAX_BODY || (have_clen && x != clen)) {
				return BH1_BAD;
			}
			clen = x;
			have_clen = true;
		} else if (same_word(p, (size_t)(colon - p),
				     "transfer-encoding")) {
			if (chunked ||
			    !same_word(v, (size_t)(ve - v), "chunked")) {
				return BH1_BAD;
			}
			chunked = true;
		} else if (same_word(p, (size_t)(colon - p), "connection")) {
			close |= has_token(v, (size_t)(ve - v), "close");
			keep_alive |=
			    has_token(v, (size_t)(ve - v), "keep-alive");
		}
	}
	r->body_off = (size_t)(end - buf);
	r->close = close || (http10 && !keep_alive);
	r->chunked = chunked;
	if (r->status == 204 || r->status == 304) {
		if (chunked || (have_clen && clen != 0)) {
			return BH1_BAD;
		}
		r->size = r->body_off;
		return BH1_DONE;
	}
	if (chunked == have_clen) {
		return BH1_BAD; /* no framing, or both */
	}
	if (have_clen) {
		if (len - r->body_off < clen) {
			return BH1_MORE;
		}
		r->body_len = clen;
		r->size = r->body_off + clen;
		return BH1_DONE;
	}
	rc = walk_chunks(end, buf + len, &used, &content, NULL, 0);
	if (rc != BH1_DONE) {
		return rc;
	}
	r->body_len = content;
	r->size = r->body_off + used;
	return BH1_DONE;
}

size_t
bh1_body(const char *buf, const bh1_response *r, char *out, size_t cap)
{
	size_t used, content = 0, n;

	if (cap == 0) {
		return r->body_len;
	}
	if (r->chunked) {
		if (walk_chunks(buf + r->body_off, buf + r->size, &used,
				&content, out, cap) != BH1_DONE) {
			out[0] = '\0';
			return 0;
		}
		return content;
	}
	n = r->body_len < cap - 1 ? r->body_len : cap - 1;
	memcpy(out, buf + r->body_off, n);
	out[n] = '\0';
	return r->body_len;
}
