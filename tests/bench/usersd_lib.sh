# usersd_lib.sh - start and stop a throwaway usersd (and usersgw) for the
# benchmarks. Sourced (POSIX sh) by usersbench_smoke.sh,
# usersbench_modes_smoke.sh and rpc_bench.sh.
#
#   usersd_start BIN_DIR WORK_DIR
#     Starts BIN_DIR/usersd listening on ipc://WORK_DIR/usersd.sock and a
#     free tcp port of 127.0.0.1, database in WORK_DIR, cheap password
#     hashing, bootstrap admin $BENCH_ADMIN with password
#     $BENCH_PASSWORD (generated when unset). Waits until it is ready:
#     "usersd: ready" in its log, or a successful usersbench --login-only,
#     within $USERSD_READY_SECS (30). Sets USERSD_PID, USERSD_IPC,
#     USERSD_TCP, USERSD_LOG. Returns non-zero (with the log on stderr) on
#     failure.
#   usersd_stop
#     SIGTERM to USERSD_PID only, waits up to 10 s, then SIGKILL.
#   usersgw_start BIN_DIR WORK_DIR
#     Starts BIN_DIR/usersgw on a free port of 127.0.0.1 (port 0) in
#     front of USERSD_IPC and waits (USERSD_READY_SECS) for its "usersgw:
#     ready on http://..." line. Sets USERSGW_PID, USERSGW_URL,
#     USERSGW_LOG. Returns non-zero (with the log on stderr) on failure.
#   usersgw_stop
#     As usersd_stop, for USERSGW_PID.

BENCH_ADMIN=${BENCH_ADMIN:-bench@example.com}
if [ -z "${BENCH_PASSWORD:-}" ]; then
	BENCH_PASSWORD="Bench-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')-Pw9!"
fi
USERSD_PID=
USERSD_IPC=
USERSD_TCP=
USERSD_LOG=
USERSGW_PID=
USERSGW_URL=
USERSGW_LOG=

bench_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# 0 when usersd answers a login.
usersd_login_ok() {
	USERSBENCH_PASSWORD=$BENCH_PASSWORD "$1/usersbench" --url "$USERSD_IPC" \
		--user "$BENCH_ADMIN" --deadline 1000 --login-only \
		>/dev/null 2>&1
}

usersd_start() {
	_bin=$1
	_dir=$2
	_tries=0
	while [ $_tries -lt 3 ]; do
		_tries=$((_tries + 1))
		_port=$(bench_free_port) || return 1
		USERSD_IPC="ipc://$_dir/usersd.sock"
		USERSD_TCP="tcp://127.0.0.1:$_port"
		USERSD_LOG="$_dir/usersd.log"
		USERSD_ADMIN_PASSWORD=$BENCH_PASSWORD "$_bin/usersd" \
			--listen "$USERSD_IPC" --listen "$USERSD_TCP" \
			--db "$_dir/users.db" --hash-cost m=64,t=1,p=1 \
			--allow-insecure-hash-cost \
			--bootstrap-admin "$BENCH_ADMIN" >"$USERSD_LOG" 2>&1 &
		USERSD_PID=$!
		_waited=0
		_limit=$((${USERSD_READY_SECS:-30} * 10))
		while [ $_waited -lt $_limit ]; do
			if grep -q "usersd: ready" "$USERSD_LOG" 2>/dev/null; then
				return 0
			fi
			if ! kill -0 "$USERSD_PID" 2>/dev/null; then
				break
			fi
			# Once a second, try a real login too.
			if [ $((_waited % 10)) -eq 9 ] &&
				[ -x "$_bin/usersbench" ] && usersd_login_ok "$_bin"; then
				return 0
			fi
			sleep 0.1
			_waited=$((_waited + 1))
		done
		if kill -0 "$USERSD_PID" 2>/dev/null; then
			echo "usersd: not ready after ${USERSD_READY_SECS:-30} s" >&2
			usersd_stop
			cat "$USERSD_LOG" >&2
			return 1
		fi
		wait "$USERSD_PID" 2>/dev/null
		USERSD_PID=
		# A port taken between the probe and the bind: try another.
		if ! grep -qi "address in use\|EADDRINUSE" "$USERSD_LOG"; then
			break
		fi
	done
	echo "usersd: exited during startup" >&2
	cat "$USERSD_LOG" >&2
	return 1
}

# bench_stop_pid PID NAME: SIGTERM, up to 10 s, then SIGKILL; reaps it.
bench_stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	_waited=0
	while kill -0 "$1" 2>/dev/null && [ $_waited -lt 100 ]; do
		sleep 0.1
		_waited=$((_waited + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "$2: no exit 10 s after SIGTERM; SIGKILL" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	return 0
}

usersd_stop() {
	bench_stop_pid "${USERSD_PID:-}" usersd
	USERSD_PID=
	return 0
}

usersgw_start() {
	USERSGW_LOG="$2/usersgw.log"
	"$1/usersgw" --listen 127.0.0.1:0 --daemon "$USERSD_IPC" \
		>"$USERSGW_LOG" 2>&1 &
	USERSGW_PID=$!
	_waited=0
	_limit=$((${USERSD_READY_SECS:-30} * 10))
	while [ $_waited -lt $_limit ]; do
		USERSGW_URL=$(sed -n 's/.*usersgw: ready on \(http:[^ ]*\).*/\1/p' \
			"$USERSGW_LOG" 2>/dev/null | head -1)
		[ -n "$USERSGW_URL" ] && return 0
		kill -0 "$USERSGW_PID" 2>/dev/null || break
		sleep 0.1
		_waited=$((_waited + 1))
	done
	echo "usersgw: not ready" >&2
	cat "$USERSGW_LOG" >&2
	usersgw_stop
	return 1
}

usersgw_stop() {
	bench_stop_pid "${USERSGW_PID:-}" usersgw
	USERSGW_PID=
	return 0
}
