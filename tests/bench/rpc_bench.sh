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
# reply sizes. Not run by ctest: it keeps both cores busy for ~45 s.
#
# Environment: RPC_BENCH_DURATION (10), RPC_BENCH_CONCURRENCY (64),
# RPC_BENCH_USERS (1000), RPC_BENCH_MIX (get=70,patch=30), RPC_BENCH_KEEP=1
# keeps the temp dir (JSON files, daemon log).
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

run_usersbench() { # name url
	echo "rpc_bench: usersbench --url $2 --user $BENCH_ADMIN" \
		"--concurrency $conc --duration $duration --mix $mix" \
		"--users $nusers --json" >&2
	USERSBENCH_PASSWORD=$BENCH_PASSWORD "$bin/usersbench" --url "$2" \
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

run_echo() { # name url
	echo "rpc_bench: nng_echo --url $2 --concurrency $conc" \
		"--duration $duration --size $size --json" >&2
	"$echo_bin" --url "$2" --concurrency "$conc" --duration "$duration" \
		--size "$size" --json >"$dir/$1.json" || {
		echo "rpc_bench: nng_echo over $1 failed" >&2
		exit 1
	}
}

run_echo echo_ipc "ipc://$dir/echo.sock"
run_echo echo_tcp "tcp://127.0.0.1:0"

python3 - "$dir" "$size" <<'EOF'
import json, os, sys
d, size = sys.argv[1], sys.argv[2]
def load(n):
	return json.load(open(os.path.join(d, n + ".json")))
print()
print("usersbench (%s, %s in flight) vs raw nng echo (%s-byte messages)"
      % (load("ub_ipc")["mix"], load("ub_ipc")["concurrency"], size))
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
EOF
