#!/bin/sh
# run-tests.sh - runs every test of wireban and ends with one line
# "N passed, N failed" (", N skipped" after it when some were skipped).
#
# Check suites count their own checks (from their "Checks: N, Failures:
# N, Errors: N" line); every shell test (tests/t-*.sh) counts as one,
# exit 77 meaning skipped (for a suite too). A suite that crashes, exits
# non-zero after its summary, or prints none counts as one failure.
cd "$(dirname "$0")/.." || exit 2
passed=0 failed=0 skipped=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for t in tests/check_*; do
	case $t in *.c|*.h) continue ;; esac
	[ -x "$t" ] || continue
	echo "== $t"
	"$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(grep -E '^[0-9]+%: Checks: ' "$out" | tail -1)
	if [ -n "$line" ]; then
		n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
		f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
		e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
		passed=$((passed + n - f - e))
		failed=$((failed + f + e))
		# A suite that says all passed but exits non-zero (a crash
		# after the summary, a leak report) is a failure too.
		if [ $rc -ne 0 ] && [ $((f + e)) -eq 0 ]; then
			failed=$((failed + 1))
			echo "FAIL: $t exited $rc after its summary"
		fi
	elif [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
	elif [ $rc -ne 0 ]; then
		failed=$((failed + 1))
		echo "FAIL: $t (exit $rc, no summary)"
	else
		failed=$((failed + 1))
		echo "FAIL: $t printed no Check summary"
	fi
done

for t in tests/t-*.sh; do
	[ -e "$t" ] || continue
	echo "== $t"
	sh "$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	case $rc in
	0) passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)); echo "FAIL: $t (exit $rc)" ;;
	esac
done

if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
