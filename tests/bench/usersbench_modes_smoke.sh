#!/bin/sh
# usersbench_modes_smoke.sh rpc|http - ctest: usersbench's open loop over
# RPC (against a real usersd), or its HTTP mode (against a real usersgw in
# front of it), a few seconds each, checking the shape of what it writes
# and its exit status; no figure is judged (benchmarks measure, tests
# check). Needs USERS_BIN (the build's bin/).
#
#   1. an open-loop run (--rate 200, --warmup 1, --duration 2) with
#      thresholds it keeps: exit 0; the JSON's open_loop block and its
#      distribution (HdrHistogram's steps up to 100 %, counts ending at the
#      requests), and the .hgrm file (header, steps, footer, its total
#      count the requests). http: a closed-loop run first (by_http 200
#      only).
#   2. --max-p99-ms 0.001 (no round trip is that fast): exit 3.
#   3. --rate 100000 on one slot or connection (no server answers one
#      caller that fast): the report says it fell behind, the unsent
#      count as errors, the latencies count from the due times (p99 above
#      100 ms where each round trip is far less), and --max-errors 0
#      exits 3. http: also --ids with
#      an id that does not exist: every answer an error (4xx), exit 3.
#   4. Ctrl-C (SIGINT) in a 60 s run once it is under way: exit 130 with
#      the report, "interrupted" true and less than 60 s measured.
set -u
: "${USERS_BIN:?USERS_BIN must point at the build bin directory}"
mode=${1:-}
case "$mode" in
rpc | http) ;;
*)
	echo "usage: $0 rpc|http" >&2
	exit 2
	;;
esac
here=$(cd "$(dirname "$0")" && pwd)
. "$here/usersd_lib.sh"

dir=$(mktemp -d /tmp/ubmodes.XXXXXX) || exit 1
bg=
cleanup() {
	[ -n "$bg" ] && bench_stop_pid "$bg" usersbench
	usersgw_stop
	usersd_stop
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "usersbench_modes_smoke ($mode): $*" >&2
	for f in "$dir"/*.json; do
		[ -f "$f" ] && python3 -c '
import json, sys
try:
	d = json.load(open(sys.argv[1]))
	print("---", sys.argv[1], {k: d.get(k) for k in ("requests", "errors",
		"unanswered", "by_status", "by_http", "open_loop", "thresholds")})
except Exception as e:
	print("---", sys.argv[1], e)' "$f" >&2
	done
	for f in "$dir"/err*.txt; do
		[ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
	done
	tail -n 30 "$USERSD_LOG" >&2
	[ -n "$USERSGW_LOG" ] && tail -n 30 "$USERSGW_LOG" >&2
	exit 1
}

usersd_start "$USERS_BIN" "$dir" || exit 1
if [ "$mode" = http ]; then
	usersgw_start "$USERS_BIN" "$dir" || exit 1
	target="--http $USERSGW_URL --url $USERSD_IPC"
else
	target="--url $USERSD_IPC"
fi

# ub NAME ARGS...: usersbench with the target; out in $dir/NAME.json,
# stderr in $dir/errNAME.txt; sets rc.
ub() {
	_name=$1
	shift
	rc=0
	# shellcheck disable=SC2086 # target: options and their values
	USERSBENCH_PASSWORD=$BENCH_PASSWORD timeout -k 5 120 \
		"$USERS_BIN/usersbench" $target --user "$BENCH_ADMIN" \
		--users 50 "$@" >"$dir/$_name.json" 2>"$dir/err$_name.txt" ||
		rc=$?
}

# check NAME KIND: the JSON's shape (KIND open|closed|interrupted).
check() {
	python3 - "$dir/$1.json" "$2" "$mode" "${3:-}" <<'PY' ||
import json, sys
path, kind, mode, hgrm = sys.argv[1:5]
d = json.load(open(path))
bad = []
def need(cond, what):
	if not cond:
		bad.append(what)
need(d["mode"] == mode, "mode")
need(d["requests"] > 0 and d["throughput"] > 0, "requests, throughput")
lat = d["latency_us"]
for k in ("p50", "p90", "p99", "p999", "max", "min", "mean"):
	need(k in lat, "latency_us." + k)
rows = lat["distribution"]
need(len(rows) >= 2, "distribution rows")
need(rows[0]["percentile"] == 0.0 and rows[-1]["percentile"] == 1.0,
     "distribution from 0 to 1")
need(all(a["percentile"] < b["percentile"] and a["us"] <= b["us"] and
	 a["count"] <= b["count"] for a, b in zip(rows, rows[1:])),
     "distribution ascending")
answered = d["requests"] - (d["by_http"].get("no_answer", 0)
			    if mode == "http" else 0)
need(rows[-1]["count"] == answered, "distribution ends at the requests")
for op in d["by_op"].values():
	need(op["latency_us"]["distribution"][-1]["count"] <= d["requests"],
	     "by_op distribution")
if mode == "http":
	need(set(d["by_http"]) == {"200"} and d["by_status"] == {},
	     "by_http: 200 only")
else:
	need(set(d["by_status"]) == {"OK"}, "by_status: OK only")
need(d["errors"] == 0 and d["unanswered"] == 0, "no errors")
if kind == "open":
	o = d["open_loop"]
	need(o is not None and o["rate"] == 200, "open_loop.rate")
	for k in ("intended", "unsent", "late_sends", "max_send_lag_us",
		  "cap_full_s", "behind"):
		need(k in o, "open_loop." + k)
	need(o["unsent"] == 0 and o["intended"] > 0, "open_loop counts")
	need(d["warmup_s"] == 1 and d["thresholds"]["passed"] is True,
	     "warm-up, thresholds")
elif kind == "closed":
	need(d["open_loop"] is None, "closed: no open_loop")
elif kind == "interrupted":
	need(d["interrupted"] is True and d["duration_s"] < 60,
	     "interrupted, < 60 s")
if hgrm:
	lines = open(hgrm).read().splitlines()
	need(lines[0].split() == ["Value", "Percentile", "TotalCount",
				  "1/(1-Percentile)"] and lines[1] == "",
	     "hgrm header")
	steps = [l.split() for l in lines[2:] if not l.startswith("#")]
	need(len(steps) == len(rows), "hgrm: a line per distribution row")
	need(steps[-1][1] == "1.000000" and steps[-1][3] == "inf" and
	     int(steps[-1][2]) == answered, "hgrm last line")
	need(all(abs(float(s[0]) * 1000 - r["us"]) <= 1
		 for s, r in zip(steps, rows)), "hgrm values in ms")
	foot = [l for l in lines if l.startswith("#[")]
	need(len(foot) == 3 and foot[0].startswith("#[Mean") and
	     "Total count" in foot[1] and
	     int(foot[1].split("=")[-1].strip(" ]")) == answered and
	     foot[2].startswith("#[Buckets"), "hgrm footer")
if bad:
	print("bad output:", ", ".join(bad))
	sys.exit(1)
PY
		fail "$1: see above"
}

# 1. Runs that keep their thresholds.
if [ "$mode" = http ]; then
	ub closed --duration 2 --concurrency 8 --json
	[ $rc -eq 0 ] || fail "closed loop exited $rc"
	check closed closed
fi
ub open --rate 200 --warmup 1 --duration 2 --concurrency 16 --json \
	--hgrm "$dir/open.hgrm" --max-p99-ms 60000 --max-errors 0
[ $rc -eq 0 ] || fail "open loop exited $rc"
check open open "$dir/open.hgrm"

# 2. A p99 threshold exceeded.
ub p99 --rate 200 --duration 1 --json --max-p99-ms 0.001
[ $rc -eq 3 ] || fail "--max-p99-ms 0.001 exited $rc, not 3"
grep -q "threshold: p99" "$dir/errp99.txt" || fail "no p99 threshold line"

# 3. Behind the rate: unsent requests are errors.
ub behind --rate 100000 --duration 1 --concurrency 1 --json --max-errors 0
[ $rc -eq 3 ] || fail "--max-errors 0 behind the rate exited $rc, not 3"
grep -q "fell behind 100000/s" "$dir/errbehind.txt" ||
	fail "falling behind not reported"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
o = d["open_loop"]
assert o["behind"] and o["unsent"] > 0 and d["errors"] >= o["unsent"], o
assert d["thresholds"]["passed"] is False
# Request k was due at k * 10 us and went out after the k round trips
# before it (each well above 10 us): timed from its due time, the late
# ones waited most of the second. Timed from when it was sent, each
# would show one round trip.
assert d["latency_us"]["p99"] > 100000, d["latency_us"]["p99"]
' "$dir/behind.json" || fail "behind: bad JSON"
if [ "$mode" = http ]; then
	echo "no-such-user-id" >"$dir/ids"
	target="--http $USERSGW_URL --ids $dir/ids"
	ub notfound --duration 1 --concurrency 2 --json --max-errors 0
	[ $rc -eq 3 ] || fail "--ids with an unknown id exited $rc, not 3"
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["requests"] > 0 and d["errors"] == d["requests"], d["errors"]
assert all(400 <= int(c) < 500 for c in d["by_http"]), d["by_http"]
' "$dir/notfound.json" || fail "--ids: bad JSON"
	target="--http $USERSGW_URL --url $USERSD_IPC"
fi

# 4. Ctrl-C once the run is under way (its first progress line).
USERSBENCH_PASSWORD=$BENCH_PASSWORD "$USERS_BIN/usersbench" $target \
	--user "$BENCH_ADMIN" --users 50 --rate 100 --duration 60 --json \
	>"$dir/int.json" 2>"$dir/errint.txt" &
bg=$!
n=0
until grep -q "usersbench: 1 s:" "$dir/errint.txt" 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 600 ] && kill -0 "$bg" 2>/dev/null ||
		fail "no progress line within 60 s"
	sleep 0.1
done
kill -INT "$bg"
rc=0
wait "$bg" || rc=$?
bg=
[ $rc -eq 130 ] || fail "Ctrl-C: exit $rc, not 130"
check int interrupted

echo "usersbench_modes_smoke ($mode): ok"
