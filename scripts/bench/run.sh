#!/usr/bin/env bash
# make bench: watchd against inotifywait -r and Watchman, side by side; the
# ledger; the pre-commit hook against pre-commit (bench_hook.py); warm CI
# (ci_bench.py); the remote result cache (bench_remote.py).
#   BENCH_FILES=2000 BENCH_DIRS=200 scripts/bench/run.sh    (quick, scaled down)
# Other knobs (defaults in brackets): BENCH_SMALL_FILES/BENCH_SMALL_DIRS
# [files/10, dirs/10, at most 10000/1000], BENCH_LAT_N [200], BENCH_BURST
# [10000], BENCH_FROZEN [20000, 0 skips], BENCH_IDLE_S [20], BENCH_QUIET_S [3],
# BENCH_REWRITE [10000], BENCH_REWRITE_NEWDIR [500], BENCH_BURST_REPS [3, 0 skips
# the fresh/aged rewrite bursts], BENCH_AGE_RUNS [300],
# BENCH_TOOLS [inotifywait,watchman,watchd], BENCH_TMP [/tmp].
# Prints the table on stdout and writes build/bench/watch.json.
set -euo pipefail

cd "$(dirname "$0")/../.."
PYTHON=/usr/bin/python3

if [ -x scripts/install-deps.sh ]; then
	scripts/install-deps.sh --bench
fi
if [ ! -x ./watchd ]; then
	make --no-print-directory watchd
fi

# inotifywait and watchman are compared against, not depended on: a missing
# one is left out of the run (Debian: apt-get install inotify-tools watchman).
tools=()
for t in ${BENCH_TOOLS:-inotifywait watchman watchd}; do
	t=${t//,/ }
	for u in $t; do
		if [ "$u" = watchd ] || command -v "$u" >/dev/null 2>&1; then
			tools+=("$u")
		else
			echo "bench: $u is not installed; leaving it out (apt-get install" \
				"$([ "$u" = inotifywait ] && echo inotify-tools || echo "$u"))" >&2
		fi
	done
done
command -v cc >/dev/null || { echo "bench: cc is needed for the reporter" >&2; exit 1; }
command -v stdbuf >/dev/null || { echo "bench: stdbuf (coreutils) is needed" >&2; exit 1; }

mkdir -p build/bench
BENCH_TOOLS=$(IFS=,; echo "${tools[*]}") "$PYTHON" scripts/bench/bench_watch.py \
	--watchd ./watchd --out build/bench/watch.json "$@"
# the ledger: recording speed against a bare insert loop, and query times
scripts/bench/ledger.sh
# the pre-commit hook: `watchd check --staged` against pre-commit 3.0.4 on
# 1,000 staged files, warm (all judged) and cold (the same Ruff engine);
# BENCH_HOOK_FILES, BENCH_HOOK_ROUNDS, BENCH_HOOK_CASES=warm,cold,first
[ -d tests/tools/node_modules/@astral-sh ] || scripts/install-test-tools.sh
"$PYTHON" scripts/bench/bench_hook.py --watchd ./watchd --out build/bench/hook.json
# warm `watchd ci` (every result in a restored ledger) against pre-commit
"$PYTHON" scripts/bench/ci_bench.py --watchd ./watchd --out build/bench/ci.json
# the remote result cache: `watchd run` and `check --staged` in a fresh clone
# of 1,000 files with a warm cache (a private nginx) against no remote;
# BENCH_REMOTE_FILES, BENCH_REMOTE_ROUNDS,
# BENCH_REMOTE_CASES=run,run-known,hook,hook-known
"$PYTHON" scripts/bench/bench_remote.py --watchd ./watchd --out build/bench/remote.json
