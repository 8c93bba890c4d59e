#!/bin/sh
# rpc_bench.sh BUILD_DIR - the RPC figures: usersbench against a real usersd
# over ipc and tcp, the raw nng echo benchmark with the same message size
# over ipc and tcp, and a table with the ratio usersbench / raw nng.
#
# Starts usersd in a temp dir (cheap hashing, a bootstrap admin), runs
#   usersbench --concurrency 64 --duration 10 --mix get=70,patch=30
#              --users 1000 --json
# over ipc:// and tcp://127.0.0.1 (the first run seeds the 1000 users; the
# seeding is not timed), stops the daemon, then runs
#   nng_echo --concurrency 64 --duration 10 --size B --json
# over ipc and tcp, B being the mean of usersbench's estimated request and
# reply sizes. A last row runs the same echo over ipc with the server
# spending RPC_BENCH_WORK_US (5) microseconds of CPU on each message: what
# nng costs around a request that does any work at all. Not run by ctest:
# it keeps both cores busy for ~55 s.
#
# RPC_BENCH_PIN=1 pins each side to its own CPU, in every row alike: usersd
# and the echo server on CPU 1, usersbench and the echo client on CPU 0
# (the two processes then stop waking each other's threads across CPUs,
# which on a 2-core VM costs more than the work).
#
# Environment: RPC_BENCH_DURATION (10), RPC_BENCH_CONCURRENCY (64),
# RPC_BENCH_USERS (1000), RPC_BENCH_MIX (get=70,patch=30),
# RPC_BENCH_WORK_US (5), RPC_BENCH_PIN (0), RPC_BENCH_KEEP=1 keeps the temp
# dir (JSON files, daemon log).
set -u
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
bin=$build/bin
echo_bin=$build/tests/nng_echo
for f in "$bin/usersd" "$bin/usersbench" "$echo_bin"; do
	if [ ! -x "$f" ]; then
		echo "rpc_bench: $f missing (build it first)" >&2
		exit 1
	fi
done
here=$(cd "$(dirname "$0")" && pwd)
. "$here/usersd_lib.sh"

duration=${RPC_BENCH_DURATION:-10}
conc=${RPC_BENCH_CONCURRENCY:-64}
nusers=${RPC_BENCH_USERS:-1000}
mix=${RPC_BENCH_MIX:-get=70,patch=30}
work_us=${RPC_BENCH_WORK_US:-5}
pin=${RPC_BENCH_PIN:-0}
client_pin=
echo_pin=
if [ "$pin" = 1 ]; then
	client_pin="taskset -c 0"
	echo_pin="--server-cpu 1 --client-cpu 0"
fi

dir=$(mktemp -d /tmp/rpcbench.XXXXXX) || exit 1
cleanup() {
	usersd_stop
	if [ "${RPC_BENCH_KEEP:-0}" = 1 ]; then
		echo "rpc_bench: kept $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

usersd_start "$bin" "$dir" || exit 1
echo "rpc_bench: usersd pid $USERSD_PID on $USERSD_IPC and $USERSD_TCP" >&2
if [ "$pin" = 1 ]; then
	taskset -a -p -c 1 "$USERSD_PID" >/dev/null || exit 1
fi

run_usersbench() { # name url
	echo "rpc_bench: usersbench --url $2 --user $BENCH_ADMIN" \
		"--concurrency $conc --duration $duration --mix $mix" \
		"--users $nusers --json" >&2
	USERSBENCH_PASSWORD=$BENCH_PASSWORD $client_pin "$bin/usersbench" \
		--url "$2" \
		--user "$BENCH_ADMIN" --concurrency "$conc" \
		--duration "$duration" --mix "$mix" --users "$nusers" \
		--json >"$dir/$1.json" || {
		echo "rpc_bench: usersbench over $1 failed" >&2
		tail -n 30 "$USERSD_LOG" >&2
		exit 1
	}
}

run_usersbench ub_ipc "$USERSD_IPC"
run_usersbench ub_tcp "$USERSD_TCP"
usersd_stop

size=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = d.get("msg_bytes_est", {})
print((m.get("request", 200) + m.get("response", 200)) // 2)
' "$dir/ub_ipc.json") || size=200

run_echo() { # name url [work_us]
	echo "rpc_bench: nng_echo --url $2 --concurrency $conc" \
		"--duration $duration --size $size --work-us ${3:-0}" \
		"$echo_pin --json" >&2
	# shellcheck disable=SC2086 # echo_pin is two options or none
	"$echo_bin" --url "$2" --concurrency "$conc" --duration "$duration" \
		--size "$size" --work-us "${3:-0}" $echo_pin \
		--json >"$dir/$1.json" || {
		echo "rpc_bench: nng_echo over $1 failed" >&2
		exit 1
	}
}

run_echo echo_ipc "ipc://$dir/echo.sock"
run_echo echo_tcp "tcp://127.0.0.1:0"
run_echo echo_work "ipc://$dir/echo_work.sock" "$work_us"

python3 - "$dir" "$size" "$work_us" "$pin" <<'EOF'
import json, os, sys
d, size, work_us, pin = sys.argv[1:5]
def load(n):
	return json.load(open(os.path.join(d, n + ".json")))
print()
print("usersbench (%s, %s in flight) vs raw nng echo (%s-byte messages)%s"
      % (load("ub_ipc")["mix"], load("ub_ipc")["concurrency"], size,
         ", each side pinned to its own CPU" if pin == "1" else ""))
hdr = "%-5s %12s %8s %8s %7s | %12s %8s %8s | %6s"
print(hdr % ("", "usersbench/s", "p50 us", "p99 us", "errors",
             "raw nng/s", "p50 us", "p99 us", "ratio"))
for t in ("ipc", "tcp"):
	u, e = load("ub_" + t), load("echo_" + t)
	ratio = u["throughput"] / e["throughput"] if e["throughput"] else 0
	print("%-5s %12.0f %8d %8d %7d | %12.0f %8d %8d | %6.3f" % (
		t, u["throughput"], u["latency_us"]["p50"], u["latency_us"]["p99"],
		u["errors"], e["throughput"], e["latency_us"]["p50"],
		e["latency_us"]["p99"], ratio))
	if u["errors"]:
		print("      errors by status:", u["by_status"])
w, e = load("echo_work"), load("echo_ipc")
print("raw nng echo over ipc with %s us of server work per message: %.0f/s "
      "(p50 %d us, p99 %d us), %.3f of the bare echo; usersbench/that: %.3f"
      % (work_us, w["throughput"], w["latency_us"]["p50"],
         w["latency_us"]["p99"],
         w["throughput"] / e["throughput"] if e["throughput"] else 0,
         load("ub_ipc")["throughput"] / w["throughput"]
         if w["throughput"] else 0))
EOF
