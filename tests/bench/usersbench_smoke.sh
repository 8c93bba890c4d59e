#!/bin/sh
# usersbench_smoke.sh - ctest: a two-second usersbench against a real
# usersd in a temp dir; the JSON must parse with throughput > 0 and no
# errors. Needs USERS_BIN (the build's bin/ with usersd and usersbench).
set -u
: "${USERS_BIN:?USERS_BIN must point at the build bin directory}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/usersd_lib.sh"

dir=$(mktemp -d /tmp/ubsmoke.XXXXXX) || exit 1
cleanup() {
	usersd_stop
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

usersd_start "$USERS_BIN" "$dir" || exit 1

rc=0
USERSBENCH_PASSWORD=$BENCH_PASSWORD "$USERS_BIN/usersbench" \
	--url "$USERSD_IPC" --user "$BENCH_ADMIN" --duration 2 \
	--concurrency 16 --users 50 --json \
	--mix get=70,patch=25,create=5 >"$dir/out.json" 2>"$dir/err.txt" || rc=$?
cat "$dir/err.txt" >&2
cat "$dir/out.json"
if [ $rc -ne 0 ]; then
	echo "usersbench_smoke: usersbench exited $rc" >&2
	tail -n 50 "$USERSD_LOG" >&2
	exit 1
fi
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = True
if not d["throughput"] > 0:
	print("usersbench_smoke: throughput is", d["throughput"]); ok = False
if d["errors"] != 0:
	print("usersbench_smoke: errors", d["errors"], d["by_status"]); ok = False
for k in ("p50", "p90", "p99", "p999", "max"):
	if k not in d["latency_us"]:
		print("usersbench_smoke: latency_us lacks", k); ok = False
if not isinstance(d["by_status"], dict) or d["requests"] <= 0:
	print("usersbench_smoke: bad requests/by_status"); ok = False
sys.exit(0 if ok else 1)
' "$dir/out.json" || {
	tail -n 50 "$USERSD_LOG" >&2
	exit 1
}

# Seeded users are found again however many there are: past two pages of
# ListUsers (and past its 1000-match count) a second run creates nothing.
for run in 1 2; do
	USERSBENCH_PASSWORD=$BENCH_PASSWORD "$USERS_BIN/usersbench" \
		--url "$USERSD_IPC" --user "$BENCH_ADMIN" --users 2100 \
		--requests 1 --concurrency 16 >/dev/null 2>"$dir/seed$run.txt" || {
		cat "$dir/seed$run.txt" >&2
		echo "usersbench_smoke: seeding 2100 users, run $run, failed" >&2
		exit 1
	}
done
if grep -q "creating" "$dir/seed2.txt"; then
	cat "$dir/seed2.txt" >&2
	echo "usersbench_smoke: the second run did not find every seeded user" >&2
	exit 1
fi
echo "usersbench_smoke: ok"
