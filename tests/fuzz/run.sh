#!/bin/sh
# run.sh FUZZER CORPUS WORKDIR SECONDS - runs a libFuzzer target for a bounded
# time on a copy of the committed corpus (the committed one is never
# changed by a run). Prints the executions and time; a crash fails.
set -eu
fuzzer=$1 corpus=$2 work=$3 secs=$4
rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true
start=$(date +%s)
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
	"$work/corpus" >"$work/log" 2>&1 || {
	tail -60 "$work/log"
	echo "fuzz: $(basename "$fuzzer") failed; inputs in $work/artifacts"
	exit 1
}
end=$(date +%s)
execs=$(grep -m1 'stat::number_of_executed_units' "$work/log" | awk '{print $2}')
echo "fuzz: $(basename "$fuzzer") ran $((end - start)) s, ${execs:-?} executions"
