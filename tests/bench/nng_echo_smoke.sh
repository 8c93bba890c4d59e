#!/bin/sh
# nng_echo_smoke.sh NNG_ECHO - ctest: one second of nng_echo over ipc; the
# JSON must parse with round trips and no errors.
set -u
out=$("$1" --duration 1 --concurrency 8 --json) || {
	echo "nng_echo exited non-zero" >&2
	exit 1
}
echo "$out"
printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["round_trips"] > 0 and d["errors"] == 0 and
	d["latency_us"]["p99"] > 0 else 1)
'
