# tap.sh - what the t-*.sh tests share, sourced (POSIX sh): TAP lines
# and their counts, waiting for a condition, stopping a process.
#
#   ok TEXT, not_ok TEXT   one TAP line "ok N - TEXT" / "not ok N - TEXT"
#                          (TEXT after $TAP_PREFIX, when set),
#                          counted in PASS / FAIL (N counts both)
#   check TEXT CMD...      ok TEXT when CMD succeeds; else not_ok TEXT,
#                          then on_fail, when the script defines it, shows
#                          why (logs, the firewall)
#   eventually T CMD...    CMD until it succeeds, every 0.1 s, at most T
#                          times more; CMD's last status
#   stop PID [T]           SIGTERM, up to T tenths of a second (default
#                          30) to end, then SIGKILL; reaped; always 0
#
# The script ends with: echo "$PASS passed, $FAIL failed".

N=0 PASS=0 FAIL=0

ok() { N=$((N + 1)); PASS=$((PASS + 1)); echo "ok $N - ${TAP_PREFIX:-}$*"; }
not_ok() {
	N=$((N + 1)); FAIL=$((FAIL + 1)); echo "not ok $N - ${TAP_PREFIX:-}$*"
}

check() {
	_d=$1
	shift
	if "$@"; then
		ok "$_d"
	else
		not_ok "$_d"
		if command -v on_fail >/dev/null 2>&1; then
			on_fail
		fi
	fi
}

eventually() {
	_t=$1
	shift
	while :; do
		"$@" && return 0
		[ "$_t" -le 0 ] && return 1
		_t=$((_t - 1))
		sleep 0.1
	done
}

stop() {
	kill "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt "${2:-30}" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
