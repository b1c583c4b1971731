#!/usr/bin/env bash
# Runs every libFuzzer harness in build/fuzz for SECONDS each (default 60),
# from a corpus seeded with the real tool outputs in tests/fixtures and the
# seeds in tests/fuzz/seeds (copied: the repository is never written). Prints
# one line per harness (runs, execs/s, corpus size) and exits 1 when any
# crashed, leaked or timed out; the input that did is kept in
# build/fuzz/artifacts/. Usage: scripts/fuzz.sh [SECONDS]   (make fuzz)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=build/fuzz
fix=tests/fixtures
seeds=tests/fuzz/seeds

# harness -> seed files (globs under the repository)
declare -A seed_globs=(
	[config]="watch.config.json $seeds/config/*"
	[ipc]="$seeds/ipc/*"
	[ruff]="$fix/ruff/*.json $fix/ruff/*.jsonl $fix/ruff/*.txt"
	[pssa]="$fix/psscriptanalyzer/*"
	[junit]="$fix/pester/* $fix/ruff/*.xml"
	[sarif]="$fix/sarif/* $fix/ruff/check_sarif*"
	[gcc]="$seeds/gcc/*"
	[glob]="$seeds/glob/*"
	[commitmsg]="$seeds/commitmsg/*"
	[remote]="$seeds/remote/*"
)

mkdir -p "$build/artifacts"
failed=0
for bin in "$build"/fuzz-*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz-}
	corpus="$build/corpus/$name"
	mkdir -p "$corpus"
	for f in ${seed_globs[$name]:-}; do
		[ -f "$f" ] && cp -f "$f" "$corpus/seed-${f//\//_}"
	done
	log="$build/$name.log"
	# -timeout: one input taking 10 s is a hang (a glob that backtracks);
	# -rss_limit_mb: a parser that balloons is a bug too
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" \
		"$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	size=$(find "$corpus" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		printf 'fuzz %-7s ok      %9s runs %7s execs/s corpus %s\n' "$name" "${runs:-?}" "${eps:-?}" "$size"
	else
		printf 'fuzz %-7s FAILED  (exit %d): see %s\n' "$name" $rc "$log"
		grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$log" | sed 's/^/    /'
		failed=1
	fi
done
exit $failed
