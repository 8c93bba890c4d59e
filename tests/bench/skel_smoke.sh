#!/bin/sh
# skel_smoke.sh H2O_BARE SKELETON - ctest: each gateway reference server
# starts on an ephemeral port of 127.0.0.1, answers a few requests (curl)
# with the right status, headers and body, and exits 0 on SIGTERM within
# 10 s (the skeleton's echo child with it). Bounded: every wait has a
# deadline; only the processes started here are signalled.
set -u

H2O_BARE=$1
SKELETON=$2
DIR=$(mktemp -d "${TMPDIR:-/tmp}/skel_smoke.XXXXXX") || exit 1
PID=
FAILED=0

fail() {
	echo "FAIL: $*" >&2
	FAILED=1
}

# 0 while PID is running (a zombie counts as exited).
alive() {
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_st" ] && [ "$_st" != Z ]
}

# stop_server NAME: SIGTERM, up to 10 s, then SIGKILL; fails unless the
# exit status is 0.
stop_server() {
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	_n=0
	while alive "$PID" && [ $_n -lt 100 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	if alive "$PID"; then
		fail "$1: still running 10 s after SIGTERM"
		kill -KILL "$PID" 2>/dev/null
	fi
	wait "$PID"
	_rc=$?
	[ $_rc -eq 0 ] || fail "$1: exit status $_rc after SIGTERM"
	PID=
}

cleanup() {
	if [ -n "$PID" ]; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# start_server NAME BIN: starts BIN --port 0, waits up to 10 s for its
# ready line; sets PID and PORT.
start_server() {
	"$2" --port 0 >"$DIR/$1.out" 2>"$DIR/$1.err" &
	PID=$!
	_n=0
	PORT=
	while [ $_n -lt 100 ]; do
		PORT=$(sed -n "s/^$1: ready port=\([0-9]*\) .*/\1/p" \
			"$DIR/$1.out")
		[ -n "$PORT" ] && return 0
		alive "$PID" || break
		sleep 0.1
		_n=$((_n + 1))
	done
	fail "$1: no ready line"
	cat "$DIR/$1.err" >&2
	return 1
}

# check NAME METHOD BODY|- EXPECTED_FILE: one request, 200, JSON, body.
check() {
	_url="http://127.0.0.1:$PORT/users/u_123"
	if [ "$3" = - ]; then
		_code=$(curl -sS --max-time 5 -o "$DIR/body" \
			-D "$DIR/headers" -w '%{http_code}' -X "$2" "$_url")
	else
		_code=$(curl -sS --max-time 5 -o "$DIR/body" \
			-D "$DIR/headers" -w '%{http_code}' -X "$2" \
			-H 'Content-Type: application/json' --data-binary "$3" \
			"$_url")
	fi
	[ "$_code" = 200 ] || {
		fail "$1 $2: status $_code"
		return
	}
	grep -qi '^content-type: application/json; charset=utf-8' \
		"$DIR/headers" || fail "$1 $2: no JSON content type"
	_len=$(wc -c <"$4" | tr -d ' ')
	grep -qi "^content-length: $_len" "$DIR/headers" ||
		fail "$1 $2: content-length is not $_len"
	cmp -s "$DIR/body" "$4" || fail "$1 $2: unexpected body"
}

PATCH_BODY='{"firstName":"Bench","lastName":"User-0001","accountIds":null}'
printf '%s' "$PATCH_BODY" >"$DIR/patch.json"

# h2o_bare: the fixed 259-byte record for everything.
if start_server h2o_bare "$H2O_BARE"; then
	for i in 1 2 3; do
		curl -sS --max-time 5 -o "$DIR/fixed.json" \
			"http://127.0.0.1:$PORT/"
		check h2o_bare GET - "$DIR/fixed.json"
	done
	[ "$(wc -c <"$DIR/fixed.json" | tr -d ' ')" -ge 250 ] ||
		fail "h2o_bare: body shorter than 250 bytes"
	check h2o_bare PATCH "$PATCH_BODY" "$DIR/fixed.json"
	stop_server h2o_bare
fi

# skeleton: GET comes back as the same record, PATCH echoes its body.
if start_server skeleton "$SKELETON"; then
	ECHO_PID=$(cat "/proc/$PID/task/$PID/children" 2>/dev/null |
		tr -d ' ')
	for i in 1 2 3; do
		check skeleton GET - "$DIR/fixed.json"
		check skeleton PATCH "$PATCH_BODY" "$DIR/patch.json"
	done
	stop_server skeleton
	if [ -n "$ECHO_PID" ] && alive "$ECHO_PID"; then
		fail "skeleton: echo child $ECHO_PID outlived its parent"
	fi
	grep -q "^skeleton: 6 requests, 0 errors, 0 late" "$DIR/skeleton.err" ||
		fail "skeleton: unexpected summary: $(cat "$DIR/skeleton.err")"
fi

[ $FAILED -eq 0 ] && echo "bench_gw_refs_smoke: ok"
exit $FAILED
