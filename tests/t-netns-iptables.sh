#!/bin/sh
# t-netns-iptables.sh - the libiptc backend against a real kernel, inside a
# private network namespace made for the run (wbtest-PID).
#
# Builds tests/netns-fw-driver.c with the bans/ sources, then checks
# what the backend leaves in the legacy tables (iptables-legacy -S) and
# what the kernel does with it (a banned source cannot connect to port 25,
# another can). Prints "ok N - ..." / "not ok N - ..." per check and
# "N passed, N failed" last; exits 1 when a check failed.
#
# Invariant: the host's firewall is never touched. Every iptables command
# and every driver run goes through `ip netns exec` (the nsx function),
# and the driver itself refuses to run outside the namespace it is named.
# The namespace and every process started here are removed on exit.
# Needs root and `ip netns`; otherwise prints "SKIP: reason", exits 77.

set -u

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "not root (needs CAP_NET_ADMIN for a network namespace)"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) not installed"
command -v iptables-legacy >/dev/null 2>&1 || skip "iptables-legacy not installed"
command -v ip6tables-legacy >/dev/null 2>&1 || skip "ip6tables-legacy not installed"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NS="wbtest-$$"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbnetns.XXXXXX") || skip "mktemp failed"
PIDS=""

cleanup() {
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS-b" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! ip netns add "$NS" 2>"$TMP/netns.err"; then
	skip "ip netns unavailable: $(head -n1 "$TMP/netns.err")"
fi
# The namespace must really be one: never fall through to the host.
nsx() {
	ip netns exec "$NS" "$@"
}
nsx true || skip "ip netns exec does not work"
nsx ip link set lo up || skip "cannot bring lo up in the namespace"

# ---- build the driver ------------------------------------------------------

# Built here from the sources, with the Makefile's warnings, so the run
# does not depend on how bans/*.o were last built (e.g. by `make asan`).
# EXTRA_CFLAGS is added to compile and link (e.g. -fsanitize=address).
CC=${CC:-cc}
WARN="-std=c11 -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual
    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Werror
    -D_GNU_SOURCE"
mkdir -p "$TMP/obj"
for src in "$ROOT"/bans/*.c; do
	obj="$TMP/obj/$(basename "$src" .c).o"
	# shellcheck disable=SC2086 # $WARN is a list of flags
	$CC $WARN ${EXTRA_CFLAGS:-} -O1 -g -I"$ROOT/include" -c -o "$obj" "$src" ||
		{ echo "not ok 1 - build $(basename "$src")"; echo "0 passed, 1 failed"; exit 1; }
done
DRIVER="$TMP/driver"
# shellcheck disable=SC2086 # $WARN is a list of flags
if ! $CC $WARN ${EXTRA_CFLAGS:-} -O1 -g -I"$ROOT/include" -o "$DRIVER" \
    "$ROOT/tests/netns-fw-driver.c" "$TMP"/obj/*.o -lnftables -lipset \
    -lip4tc -lip6tc; then
	echo "not ok 1 - build the driver"
	echo "0 passed, 1 failed"
	exit 1
fi

# ---- helpers ----------------------------------------------------------------

N=0
PASS=0
FAIL=0
ok() {
	N=$((N + 1)); PASS=$((PASS + 1))
	echo "ok $N - $1"
}
notok() {
	N=$((N + 1)); FAIL=$((FAIL + 1))
	echo "not ok $N - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'
	return 0
}
# check "name" cmd...: ok when the command succeeds.
check() {
	name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else notok "$name" "$out"; fi
}

drv() {
	nsx "$DRIVER" -n "$NS" -b iptables -l "$TMP/xtables.lock" "$@"
}
v4() {
	nsx iptables-legacy -w "$@"
}
v6() {
	nsx ip6tables-legacy -w "$@"
}
# has TOOL "exact rule line": the line is in TOOL -S.
has() {
	tool=$1; shift
	$tool -S | grep -qxF -- "$1"
}
hasnt() {
	! has "$@"
}
first_input() {
	$1 -S INPUT | sed -n 2p
}

JUMP_MP="-A INPUT -p tcp -m multiport --dports 25,465,587 -j wireban"

# ---- chain and jumps --------------------------------------------------------

# Someone else's rule, to see that ours goes on top and theirs stays.
v4 -A INPUT -p udp --dport 9 -j ACCEPT
v6 -A INPUT -p udp --dport 9 -j ACCEPT

check "open succeeds" drv open
check "open creates the chain" has v4 "-N wireban"
if [ "$(first_input v4)" = "$JUMP_MP" ]; then
	ok "INPUT jumps to wireban first, for the SMTP ports"
else
	notok "INPUT jumps to wireban first, for the SMTP ports" "$(v4 -S INPUT)"
fi
check "other INPUT rules stay" has v4 "-A INPUT -p udp -m udp --dport 9 -j ACCEPT"
check "ip6tables has the chain" has v6 "-N wireban"
if [ "$(first_input v6)" = "$JUMP_MP" ]; then
	ok "ip6tables INPUT jumps to wireban first"
else
	notok "ip6tables INPUT jumps to wireban first" "$(v6 -S INPUT)"
fi
check "a second open keeps one jump" drv open
if [ "$(v4 -S INPUT | grep -c -- '-j wireban')" = 1 ]; then
	ok "exactly one jump after two opens"
else
	notok "exactly one jump after two opens" "$(v4 -S INPUT)"
fi
check "FORWARD untouched without forward" hasnt v4 "-A FORWARD -p tcp -m multiport --dports 25,465,587 -j wireban"

# ---- ban and unban ----------------------------------------------------------

check "ban 192.0.2.7" drv open ban 192.0.2.7
check "ban shows as -s 192.0.2.7/32 -j DROP" has v4 "-A wireban -s 192.0.2.7/32 -j DROP"
check "ban again" drv open ban 192.0.2.7 ban 192.0.2.7
if [ "$(v4 -S wireban | grep -c 192.0.2.7)" = 1 ]; then
	ok "a repeated ban leaves one rule"
else
	notok "a repeated ban leaves one rule" "$(v4 -S wireban)"
fi
check "three bans, one commit" drv open ban 192.0.2.10 ban 192.0.2.11 ban 192.0.2.12 commit
if has v4 "-A wireban -s 192.0.2.10/32 -j DROP" &&
    has v4 "-A wireban -s 192.0.2.11/32 -j DROP" &&
    has v4 "-A wireban -s 192.0.2.12/32 -j DROP"; then
	ok "the coalesced bans are all there"
else
	notok "the coalesced bans are all there" "$(v4 -S wireban)"
fi
check "ban 2001:db8::7" drv open ban 2001:db8::7
check "ip6tables-legacy -S wireban shows the IPv6 ban" has v6 "-A wireban -s 2001:db8::7/128 -j DROP"
check "IPv6 ban not in the IPv4 table" hasnt v4 "-A wireban -s 2001:db8::7/128 -j DROP"
check "unban 192.0.2.7 and 2001:db8::7" drv open unban 192.0.2.7 unban 2001:db8::7
check "unban removes the IPv4 rule" hasnt v4 "-A wireban -s 192.0.2.7/32 -j DROP"
check "unban removes the IPv6 rule" hasnt v6 "-A wireban -s 2001:db8::7/128 -j DROP"
check "unban of an unknown address is no error" drv open unban 203.0.113.250
check "ban then unban in one commit leaves nothing" drv open ban 192.0.2.30 unban 192.0.2.30 commit
check "... and indeed nothing" hasnt v4 "-A wireban -s 192.0.2.30/32 -j DROP"
check "flush empties the chain" drv open flush
if [ "$(v4 -S wireban | wc -l)" = 1 ] && [ "$(v6 -S wireban | wc -l)" = 1 ]; then
	ok "chain empty after flush"
else
	notok "chain empty after flush" "$(v4 -S wireban; v6 -S wireban)"
fi

# ---- reconcile --------------------------------------------------------------

NOW=1700001000
cat >"$TMP/state" <<EOF
wireban-state 1
ban 192.0.2.7 relay 1700000000.000000 1700003600.000000 1 3
ban 192.0.2.9 auth 1700000000.000000 1700000500.000000 1 3
ban 2001:db8::7 rbl 1700000000.000000 1700003600.000000 2 3
past 192.0.2.40 sync 1690000000.000000 1690003600.000000 1 3
EOF
drv open ban 192.0.2.9 >/dev/null 2>&1
v4 -A wireban -s 198.51.100.9/32 -j DROP
v6 -A wireban -s 2001:db8::99/128 -j DROP
check "reconcile succeeds" drv open reconcile "$TMP/state" "$NOW"
check "reconcile restores a known ban" has v4 "-A wireban -s 192.0.2.7/32 -j DROP"
check "reconcile restores a known IPv6 ban" has v6 "-A wireban -s 2001:db8::7/128 -j DROP"
check "reconcile removes an unknown rule" hasnt v4 "-A wireban -s 198.51.100.9/32 -j DROP"
check "reconcile removes an unknown IPv6 rule" hasnt v6 "-A wireban -s 2001:db8::99/128 -j DROP"
check "reconcile drops an expired ban" hasnt v4 "-A wireban -s 192.0.2.9/32 -j DROP"
check "reconcile does not ban history" hasnt v4 "-A wireban -s 192.0.2.40/32 -j DROP"
v4 -D wireban -s 192.0.2.7/32 -j DROP
v4 -D INPUT -p tcp -m multiport --dports 25,465,587 -j wireban
check "reconcile again after rule and jump were deleted" drv open reconcile "$TMP/state" "$NOW"
check "the deleted ban is back" has v4 "-A wireban -s 192.0.2.7/32 -j DROP"
if [ "$(first_input v4)" = "$JUMP_MP" ]; then
	ok "the deleted jump is back on top"
else
	notok "the deleted jump is back on top" "$(v4 -S INPUT)"
fi

# ---- close ------------------------------------------------------------------

check "close with keep_on_close" drv -k open close
check "keep_on_close leaves the chain" has v4 "-A wireban -s 192.0.2.7/32 -j DROP"
check "close" drv open close
if ! v4 -S | grep -q wireban && ! v6 -S | grep -q wireban; then
	ok "close removes chain and jumps (v4 and v6)"
else
	notok "close removes chain and jumps (v4 and v6)" "$(v4 -S; v6 -S)"
fi
check "close leaves other rules" has v4 "-A INPUT -p udp -m udp --dport 9 -j ACCEPT"

# ---- targets and port matches ------------------------------------------------

check "REJECT: open and ban" drv -t REJECT open ban 192.0.2.8 ban 2001:db8::8
check "REJECT rule with tcp-reset" has v4 "-A wireban -s 192.0.2.8/32 -p tcp -j REJECT --reject-with tcp-reset"
check "IPv6 REJECT rule with tcp-reset" has v6 "-A wireban -s 2001:db8::8/128 -p tcp -j REJECT --reject-with tcp-reset"
drv open close >/dev/null 2>&1
check "allports: open" drv -a open
if [ "$(first_input v4)" = "-A INPUT -p tcp -j wireban" ]; then
	ok "allports jumps for every TCP port"
else
	notok "allports jumps for every TCP port" "$(v4 -S INPUT)"
fi
check "allports: no multiport jump" hasnt v4 "$JUMP_MP"
check "one port: open" drv -p 25 open
if [ "$(first_input v4)" = "-A INPUT -p tcp -m tcp --dport 25 -j wireban" ]; then
	ok "one port is a tcp --dport match"
else
	notok "one port is a tcp --dport match" "$(v4 -S INPUT)"
fi
check "two ports: open" drv -p 25,2525 open
check "two ports is multiport" has v4 "-A INPUT -p tcp -m multiport --dports 25,2525 -j wireban"
check "forward: open" drv -f open
check "forward jumps from FORWARD too" has v4 "-A FORWARD -p tcp -m multiport --dports 25,465,587 -j wireban"
check "forward: close" drv -f open close
check "forward: FORWARD jump removed" hasnt v4 "-A FORWARD -p tcp -m multiport --dports 25,465,587 -j wireban"

# ---- the xtables lock ---------------------------------------------------------

# Hold the lock file the driver is told to use; the driver must give up.
# The subshell becomes sleep, so this one PID holds the lock.
(exec 9>"$TMP/xtables.lock" && flock 9 && exec sleep 30) &
LOCKPID=$!
PIDS="$PIDS $LOCKPID"
i=0
while [ $i -lt 50 ] && flock -n "$TMP/xtables.lock" true; do
	i=$((i + 1)); sleep 0.1
done
if out=$(drv -w 300 open ban 192.0.2.77 2>&1); then
	notok "a held xtables lock stops the change" "$out"
else
	case $out in
	*"held $TMP/xtables.lock for 300 ms"*) ok "a held xtables lock stops the change, with a clear message" ;;
	*) notok "a held xtables lock stops the change, with a clear message" "$out" ;;
	esac
fi
check "nothing was changed under the lock" hasnt v4 "-N wireban"
kill "$LOCKPID" 2>/dev/null
wait "$LOCKPID" 2>/dev/null
check "the lock is taken again once free" drv -w 2000 open close

# ---- the driver refuses the wrong namespace ---------------------------------

# Run inside a second namespace while naming the first: it must refuse.
NS2="$NS-b"
if ip netns add "$NS2" 2>/dev/null; then
	if out=$(ip netns exec "$NS2" "$DRIVER" -n "$NS" -b iptables \
	    -l "$TMP/xtables.lock" open 2>&1); then
		notok "the driver refuses to run outside its namespace" "$out"
	else
		case $out in
		*"refusing to touch"*) ok "the driver refuses to run outside its namespace" ;;
		*) notok "the driver refuses to run outside its namespace" "$out" ;;
		esac
	fi
	if ip netns exec "$NS2" iptables-legacy -S | grep -q wireban; then
		notok "the other namespace is untouched"
	else
		ok "the other namespace is untouched"
	fi
	ip netns del "$NS2"
fi

# ---- traffic ----------------------------------------------------------------

if ! command -v python3 >/dev/null 2>&1; then
	echo "ok $((N + 1)) - # SKIP traffic checks: python3 not installed"
	N=$((N + 1)); PASS=$((PASS + 1))
else
	# A listener on 127.0.0.1:25 that quits by itself after 60 s idle.
	nsx python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 25))
s.listen(64)
s.settimeout(60)
try:
    while True:
        c, _ = s.accept()
        c.close()
except socket.timeout:
    pass
' &
	LPID=$!
	PIDS="$PIDS $LPID"
	# connect SRC: 0 when a TCP connection from SRC to 127.0.0.1:25 opens.
	connect() {
		nsx python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(1.0)
s.bind((sys.argv[1], 0))
try:
    s.connect(("127.0.0.1", 25))
except OSError as e:
    print(type(e).__name__)
    sys.exit(1)
' "$1"
	}
	i=0
	while [ $i -lt 50 ] && ! connect 127.0.0.6 >/dev/null 2>&1; do
		i=$((i + 1)); sleep 0.1
	done
	check "listener answers before any ban" connect 127.0.0.5
	check "traffic: ban 127.0.0.5 (DROP)" drv open ban 127.0.0.5
	if out=$(connect 127.0.0.5 2>&1); then
		notok "a connection from the banned 127.0.0.5 fails" "connected"
	else
		ok "a connection from the banned 127.0.0.5 fails ($out)"
	fi
	check "a connection from 127.0.0.6 still works" connect 127.0.0.6
	check "traffic: REJECT instead" drv open close
	check "traffic: ban 127.0.0.5 (REJECT)" drv -t REJECT open ban 127.0.0.5
	out=$(connect 127.0.0.5 2>&1)
	case $out in
	ConnectionRefusedError) ok "REJECT answers the banned source with a reset" ;;
	*) notok "REJECT answers the banned source with a reset" "$out" ;;
	esac
	check "traffic: unban 127.0.0.5" drv -t REJECT open unban 127.0.0.5
	check "after unban 127.0.0.5 connects again" connect 127.0.0.5
	drv open close >/dev/null 2>&1
	kill "$LPID" 2>/dev/null
fi

echo "1..$N"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
