#!/usr/bin/env bash
# Runs the unit tests and the integration tests against one build and ends
# with a single line "N passed, N failed[, N skipped]" totalling both.
# Usage: scripts/run-tests.sh BUILD_DIR   (e.g. build/asan)
# Exit status: 0 when every test passed, at least one unit test and one
# integration test ran and not every integration test skipped, else 1
# (2 on usage errors). pytest lists its 25 slowest tests (--durations=25).
set -uo pipefail

if [ $# -ne 1 ]; then
	echo "usage: scripts/run-tests.sh BUILD_DIR" >&2
	exit 2
fi
cd "$(dirname "$0")/.." || exit 2
build=$1
case $build in
/*) ;;
*) build="$PWD/$build" ;;
esac
python=/usr/bin/python3
passed=0
failed=0
skipped=0
log=$(mktemp "${TMPDIR:-/tmp}/watchd-tests.XXXXXX")
trap 'rm -f "$log"' EXIT

# --- unit tests: the runner ends with "# unit: N passed, N failed" ---
if [ -x "$build/unit-tests" ]; then
	"$build/unit-tests" 2>&1 | tee "$log"
	unit_rc=${PIPESTATUS[0]}
	line=$(grep -E '^# unit: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		up=$(sed -E 's/^# unit: ([0-9]+) passed.*/\1/' <<<"$line")
		uf=$(sed -E 's/^# unit: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
		passed=$((passed + up))
		failed=$((failed + uf))
		if [ $((up + uf)) -eq 0 ]; then
			echo "run-tests: no unit test ran" >&2
			failed=$((failed + 1))
		elif [ "$unit_rc" -ne 0 ] && [ "$uf" -eq 0 ]; then
			echo "run-tests: unit-tests exited $unit_rc without a failed test" >&2
			failed=$((failed + 1))
		fi
	else
		echo "run-tests: unit-tests exited $unit_rc without its summary line" >&2
		failed=$((failed + 1))
	fi
else
	echo "run-tests: $build/unit-tests not found (build it first)" >&2
	failed=$((failed + 1))
fi

# --- integration tests (pytest) ---
targets=(tests/integration)
if [ -f tests/tools/test_ruff_wrapper.py ]; then
	targets+=(tests/tools/test_ruff_wrapper.py)
fi
WATCHD="$build/watchd" "$python" -m pytest -q -p no:cacheprovider --durations=25 \
	"${targets[@]}" 2>&1 | tee "$log"
py_rc=${PIPESTATUS[0]}
# pytest's closing line, e.g. "3 failed, 90 passed, 2 skipped in 5.89s"
summary=$(grep -E '^=*[ ]*[0-9]+ (passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?)\b.* in [0-9.]+s' "$log" | tail -n 1)
count() {
	# count WORD...: the number before the first WORD found in $summary
	local w n
	for w in "$@"; do
		n=$(grep -oE "[0-9]+ $w\b" <<<"$summary" | head -n 1 | cut -d' ' -f1)
		if [ -n "$n" ]; then
			echo "$n"
			return
		fi
	done
	echo 0
}
pp=$(( $(count passed) + $(count xpassed) ))
pf=$(( $(count failed) + $(count errors error) ))
ps=$(( $(count skipped) + $(count xfailed) ))
passed=$((passed + pp))
failed=$((failed + pf))
skipped=$((skipped + ps))
# A suite that ran nothing, or skipped everything, proves nothing: that is
# a failure, whatever pytest's exit status says.
if [ $((pp + pf)) -eq 0 ]; then
	echo "run-tests: no integration test ran ($ps skipped; pytest exited $py_rc)" >&2
	failed=$((failed + 1))
elif [ "$py_rc" -ne 0 ] && [ "$pf" -eq 0 ]; then
	echo "run-tests: pytest exited $py_rc without a failed test" >&2
	failed=$((failed + 1))
fi
echo "# pytest: $pp passed, $pf failed, $ps skipped"

line="$passed passed, $failed failed"
if [ "$skipped" -gt 0 ]; then
	line="$line, $skipped skipped"
fi
echo "$line"
if [ "$failed" -gt 0 ] || [ $((passed + failed)) -eq 0 ]; then
	exit 1
fi
exit 0
