#!/bin/sh
# t-netns-fw.sh - the kernel backends of bans/ (nftables, ipset, iptables)
# against a real kernel, each case in a network namespace of its own
# (wbfw-PID-CASE), with real traffic.
#
# Builds tests/netns-fw-driver.c with the bans/ sources. Inside each
# namespace lo gets extra addresses (10.1.0.1 listens on port 25; the
# others are the clients, `nc -s SRC`), and the checks are: a banned
# source (address or prefix, v4 and v6) cannot connect and one next to
# it can; unban lifts; the kernel itself lifts a 2 s ban after the
# driver has exited; a second ban of an element sets its timeout anew;
# sync of 100,000 bans in one call (time printed) leaves exactly them;
# ipset with maxelem 10 counts the 11th ban as set_full and says so;
# ipset gives a longer ban its 2147483 s cap; close removes everything,
# keep_on_close keeps it; the host's firewall is the same afterwards.
# Prints "ok N - ..." / "not ok N - ..." and "N passed, N failed" last;
# exits 1 when a check failed.
#
# Invariant: the host's firewall is never touched. Every firewall
# command and every driver run goes through `ip netns exec`, and the
# driver itself refuses to run outside the namespace it is named. The
# namespaces and every process started here are removed on exit.
# Needs root, ip, nft, ipset, iptables-legacy, nc (OpenBSD) and timeout;
# otherwise prints "SKIP: reason" and exits 77.

set -u

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "not root (needs CAP_NET_ADMIN for a network namespace)"
for tool in ip nft ipset iptables-legacy ip6tables-legacy nc timeout; do
	command -v $tool >/dev/null 2>&1 || skip "$tool not installed"
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PFX="wbfw-$$"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbfw.XXXXXX") || skip "mktemp failed"
NSLIST=""
PIDS=""

cleanup() {
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in $NSLIST; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# What the host's firewall looks like; compared at the end.
host_fw() {
	nft list ruleset 2>&1
	iptables-legacy-save 2>&1 | grep -v '^#'
	ip6tables-legacy-save 2>&1 | grep -v '^#'
	ipset list -n 2>&1
}
host_fw >"$TMP/host.before"

if ! ip netns add "$PFX-probe" 2>"$TMP/netns.err"; then
	skip "ip netns unavailable: $(head -n1 "$TMP/netns.err")"
fi
NSLIST="$PFX-probe"

# ---- build the driver ------------------------------------------------------

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
	[ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 20 | sed 's/^/#   /'
	return 0
}
# check "name" cmd...: ok when the command succeeds.
check() {
	name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else notok "$name" "$out"; fi
}
# checknot "name" cmd...: ok when the command fails.
checknot() {
	name=$1; shift
	if out=$("$@" 2>&1); then notok "$name" "$out"; else ok "$name"; fi
}

# newns CASE: a namespace with lo up, its addresses and a listener on
# 10.1.0.1:25 and [fd00::1]:25 that quit by themselves after 300 s.
# Sets NS.
newns() {
	NS="$PFX-$1"
	ip netns add "$NS" || return 1
	NSLIST="$NSLIST $NS"
	nsx ip link set lo up
	for a in 10.1.0.1 10.1.0.2 10.1.0.3 10.3.0.2 10.3.255.9 10.4.0.2 \
	    10.5.0.9 10.5.1.9; do
		nsx ip addr add "$a/32" dev lo
	done
	for a in fd00::1 fd00::2 fd00::3 fd02::2 fd03::2 fd04::5 fd05::5; do
		nsx ip addr add "$a/128" dev lo nodad
	done
	nsx timeout 300 nc -k -l -n 10.1.0.1 25 >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	nsx timeout 300 nc -6 -k -l -n fd00::1 25 >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	i=0
	while [ $i -lt 50 ] && ! conn 10.1.0.3 >/dev/null 2>&1; do
		i=$((i + 1)); sleep 0.1
	done
	while [ $i -lt 50 ] && ! conn fd00::3 >/dev/null 2>&1; do
		i=$((i + 1)); sleep 0.1
	done
}
nsx() {
	ip netns exec "$NS" "$@"
}
# conn SRC: 0 when a TCP connection from SRC to port 25 opens within
# 0.5 s (a dropped SYN gets no answer: timeout says 124).
conn() {
	case $1 in
	*:*) nsx timeout 0.5 nc -6 -z -n -s "$1" fd00::1 25 ;;
	*) nsx timeout 0.5 nc -z -n -s "$1" 10.1.0.1 25 ;;
	esac
}
blocked() {
	! conn "$1"
}
# refused SRC: the connection is answered with a reset.
refused() {
	out=$(nsx timeout 2 nc -v -z -n -s "$1" 10.1.0.1 25 2>&1)
	case $out in *refused*) return 0 ;; esac
	echo "$out"
	return 1
}
drv() {
	nsx "$DRIVER" -n "$NS" -b "$B" -l "$TMP/xtables.lock" "$@"
}
# The backend's own listing (what `wireban status` hints at).
listing() {
	case $B in
	nftables) nsx nft list table inet wireban ;;
	ipset) nsx ipset list ;;
	iptables) nsx iptables-legacy -S wireban; nsx ip6tables-legacy -S wireban ;;
	esac
}
# has PREFIX: the backend's listing shows the element (rule) of PREFIX.
has() {
	case $B in
	nftables) listing | grep -qE "[{ ,]$1( |,|$)" ;;
	ipset) listing | grep -qE "^$1( |$)" ;;
	iptables)
		p=$1
		case $p in */*) ;; *:*) p="$p/128" ;; *) p="$p/32" ;; esac
		listing | grep -qF -- "-s $p " ;;
	esac
}
hasnt() {
	! has "$1"
}
# timeout_of ADDR: the seconds of ADDR's timeout as the kernel shows it.
timeout_of() {
	case $B in
	nftables)
		listing | tr ',{}' '\n\n\n' | grep -E "^[[:space:]]*$1 timeout" |
		    sed -E 's/.* timeout ([0-9dhms]+).*/\1/' | head -n1 |
		    awk '{ s = 0; t = $0; n = ""
			for (i = 1; i <= length(t); i++) {
				c = substr(t, i, 1)
				if (c ~ /[0-9]/) { n = n c; continue }
				if (c == "m" && substr(t, i + 1, 1) == "s") { i++; n = ""; continue }
				if (c == "d") s += n * 86400; else if (c == "h") s += n * 3600
				else if (c == "m") s += n * 60; else if (c == "s") s += n
				n = ""
			}
			print s }' ;;
	ipset) listing | sed -n "s/^$1 timeout \([0-9]*\).*/\1/p" | head -n1 ;;
	esac
}
# between LO HI VALUE
between() {
	[ -n "$3" ] && [ "$3" -ge "$1" ] && [ "$3" -le "$2" ]
}
# gone: nothing of the backend is left in the namespace.
gone() {
	case $B in
	nftables) [ -z "$(nsx nft list tables)" ] ;;
	ipset) [ -z "$(nsx ipset list -n)" ] &&
		! nsx iptables-legacy -S | grep -q match-set &&
		! nsx ip6tables-legacy -S | grep -q match-set ;;
	iptables) ! nsx iptables-legacy -S | grep -q wireban &&
		! nsx ip6tables-legacy -S | grep -q wireban ;;
	esac
}
# count4: how many IPv4 bans the kernel holds, and none of IPv6.
count4() {
	case $B in
	nftables) listing | grep -oE "[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(/[0-9]+)? timeout" | wc -l
		[ "$(listing | grep -cE '[0-9a-f]*:[0-9a-f:]*(/[0-9]+)? timeout')" = 0 ] || echo v6 ;;
	ipset) nsx ipset list -t wireban4 | sed -n 's/^Number of entries: //p'
		[ "$(nsx ipset list -t wireban6 | sed -n 's/^Number of entries: //p')" = 0 ] || echo v6 ;;
	iptables) nsx iptables-legacy -S wireban | grep -c '^-A wireban'
		[ "$(nsx ip6tables-legacy -S wireban | grep -c '^-A wireban')" = 0 ] || echo v6 ;;
	esac
}

# ---- the same cases for each backend ----------------------------------------

for B in nftables ipset iptables; do
	newns "$B" || { notok "$B: make a namespace"; continue; }
	check "$B: listener answers before any ban" conn 10.1.0.2
	check "$B: open" drv open
	check "$B: ban v4 and v6 addresses and prefixes in one commit" \
	    drv open ban 10.1.0.2 ban fd00::2 ban 10.3.0.0/16 ban fd02::/48 \
	    ban fd04::/64 commit
	check "$B: the kernel lists 10.1.0.2" has 10.1.0.2
	check "$B: the kernel lists 10.3.0.0/16" has 10.3.0.0/16
	check "$B: the kernel lists fd02::/48" has fd02::/48
	check "$B: banned 10.1.0.2 cannot connect" blocked 10.1.0.2
	check "$B: 10.1.0.3 still can" conn 10.1.0.3
	check "$B: banned fd00::2 cannot connect" blocked fd00::2
	check "$B: fd00::3 still can" conn fd00::3
	check "$B: 10.3.0.2 inside 10.3.0.0/16 cannot connect" blocked 10.3.0.2
	check "$B: 10.3.255.9 inside 10.3.0.0/16 cannot connect" blocked 10.3.255.9
	check "$B: 10.4.0.2 outside it can" conn 10.4.0.2
	check "$B: fd02::2 inside fd02::/48 cannot connect" blocked fd02::2
	check "$B: fd03::2 outside it can" conn fd03::2
	check "$B: fd04::5 inside fd04::/64 cannot connect" blocked fd04::5
	check "$B: unban" drv open unban 10.1.0.2 unban fd00::2 unban 10.3.0.0/16
	check "$B: after unban 10.1.0.2 connects" conn 10.1.0.2
	check "$B: after unban fd00::2 connects" conn fd00::2
	check "$B: after unban 10.3.0.2 connects" conn 10.3.0.2
	check "$B: fd02::/48 stays banned" blocked fd02::2
	check "$B: unban of what is not banned is no error" drv open unban 192.0.2.99 unban 10.9.0.0/16
	if [ "$B" != iptables ]; then
		drv open ban 10.1.0.9 100 >/dev/null 2>&1
		check "$B: ban of a present element: 5000 s" drv open ban 10.1.0.9 5000
		t=$(timeout_of 10.1.0.9)
		if between 4990 5000 "$t"; then
			ok "$B: ... its timeout is now 5000 s ($t)"
		else
			notok "$B: ... its timeout is now 5000 s" "timeout: '$t'"
		fi
		check "$B: and back down to 300 s" drv open ban 10.1.0.9 300
		t=$(timeout_of 10.1.0.9)
		if between 290 300 "$t"; then
			ok "$B: ... its timeout is now 300 s ($t)"
		else
			notok "$B: ... its timeout is now 300 s" "timeout: '$t'"
		fi
		check "$B: a 2 s ban of 10.1.0.2, then the driver exits" drv open ban 10.1.0.2 2
		check "$B: 10.1.0.2 is blocked at once" blocked 10.1.0.2
		sleep 2.5
		check "$B: 3 s later the kernel has lifted it: 10.1.0.2 connects" conn 10.1.0.2
		check "$B: ... and no longer lists it" hasnt 10.1.0.2
	fi
	drv open ban 10.1.0.3 >/dev/null 2>&1
	if out=$(drv open sync 100000 3600 2>&1); then
		ok "$B: sync of 100,000 bans in one call: $(echo "$out" | sed -n 's/^sync [0-9]* bans: //p')"
	else
		notok "$B: sync of 100,000 bans in one call" "$out"
	fi
	c=$(count4)
	if [ "$c" = 100000 ]; then
		ok "$B: the kernel holds exactly 100,000 IPv4 bans and no IPv6 one"
	else
		notok "$B: the kernel holds exactly 100,000 IPv4 bans and no IPv6 one" "count: $c"
	fi
	if has 100.64.0.0 && has 100.65.134.159; then
		ok "$B: the first and the last synced are listed"
	else
		notok "$B: the first and the last synced are listed"
	fi
	check "$B: a ban from before the sync is gone: 10.1.0.3 connects" conn 10.1.0.3
	check "$B: keep_on_close: close" drv -k open ban 10.1.0.2 commit close
	check "$B: ... leaves the bans: 10.1.0.2 blocked" blocked 10.1.0.2
	check "$B: close" drv open close
	check "$B: close removes everything" gone
	check "$B: after close 10.1.0.2 connects" conn 10.1.0.2

	# REJECT and the forward chain, in a namespace of their own.
	newns "$B-reject" || { notok "$B: make a namespace"; continue; }
	check "$B: REJECT + forward: open and ban 10.1.0.2" drv -t REJECT -f open ban 10.1.0.2
	check "$B: REJECT answers 10.1.0.2 with a reset" refused 10.1.0.2
	case $B in
	nftables) check "$B: forward chain" sh -c "ip netns exec $NS nft list chain inet wireban forward | grep -q '@ipv4_addr reject'" ;;
	ipset) check "$B: FORWARD rule" sh -c "ip netns exec $NS iptables-legacy -S FORWARD | grep -q 'match-set wireban4 src -j REJECT'" ;;
	iptables) check "$B: FORWARD jump" sh -c "ip netns exec $NS iptables-legacy -S FORWARD | grep -q 'j wireban'" ;;
	esac
	check "$B: REJECT: close" drv -f open close
	check "$B: REJECT: close removes everything" gone
done

# ---- cases of one backend ---------------------------------------------------

B=nftables
newns nft-prefix || notok "nftables: make a namespace"
check "nftables prefix4 24: ban 10.5.0.0/24 (the hash set, masked)" drv -4 24 open ban 10.5.0.0/24
check "nftables prefix4 24: the rule masks the source" sh -c "ip netns exec $NS nft list chain inet wireban input | grep -q 'ip saddr & 255.255.255.0 == @ipv4_addr'"
check "nftables prefix4 24: 10.5.0.9 cannot connect" blocked 10.5.0.9
check "nftables prefix4 24: 10.5.1.9 can" conn 10.5.1.9
check "nftables: a ban longer than 24.8 days keeps its length" drv -4 24 open ban 10.1.0.2 3000000
t=$(timeout_of 10.1.0.2)
if between 2999990 3000000 "$t"; then
	ok "nftables: ... the kernel shows 3000000 s ($t): no cap"
else
	notok "nftables: ... the kernel shows 3000000 s" "timeout: '$t'"
fi
out=$(drv -4 24 open ban 10.3.0.0/16 commit ban 10.3.1.0/28 ban 10.1.0.3 commit 2>&1)
case $out in
*"1 of 2 changes not applied"*overlaps*) ok "nftables: an overlapping prefix is refused alone, and said so" ;;
*) notok "nftables: an overlapping prefix is refused alone, and said so" "$out" ;;
esac
check "nftables: ... the other ban of that commit is in" blocked 10.1.0.3

B=ipset
newns ipset-full || notok "ipset: make a namespace"
out=$(drv -m 10 open ban 10.1.0.2 ban 10.6.0.1 ban 10.6.0.2 ban 10.6.0.3 \
    ban 10.6.0.4 ban 10.6.0.5 ban 10.6.0.6 ban 10.6.0.7 ban 10.6.0.8 \
    ban 10.6.0.9 ban 10.1.0.3 commit stats 2>&1)
rc=$?
case $out in
*"set_full=1 capacity=10"*) ok "ipset maxelem 10: the 11th ban is counted in set_full" ;;
*) notok "ipset maxelem 10: the 11th ban is counted in set_full" "$out" ;;
esac
case $out in
*"1 of 11 changes refused, 1 of them because the set is full"*) ok "ipset maxelem 10: commit logs it in one line" ;;
*) notok "ipset maxelem 10: commit logs it in one line" "$out" ;;
esac
if [ $rc = 1 ]; then ok "ipset maxelem 10: commit fails"; else notok "ipset maxelem 10: commit fails" "exit $rc"; fi
c=$(nsx ipset list -t wireban4 | sed -n 's/^Number of entries: //p')
if [ "$c" = 10 ]; then
	ok "ipset maxelem 10: ten bans are in the set, not eleven"
else
	notok "ipset maxelem 10: ten bans are in the set, not eleven" "$c"
fi
check "ipset maxelem 10: they are enforced (10.1.0.2 blocked)" blocked 10.1.0.2
check "ipset: sync replaces a set made with another maxelem" drv open sync 20 3600
if nsx ipset list -t wireban4 | grep -q 'maxelem 1048576'; then
	ok "ipset: ... the set now has maxelem 1048576"
else
	notok "ipset: ... the set now has maxelem 1048576" "$(nsx ipset list -t wireban4)"
fi
check "ipset: a ban longer than the cap" drv open ban 10.1.0.9 3000000
t=$(timeout_of 10.1.0.9)
if between 2147470 2147483 "$t"; then
	ok "ipset: ... is given ipset's cap, 2147483 s ($t)"
else
	notok "ipset: ... is given ipset's cap, 2147483 s" "timeout: '$t'"
fi

# ---- the driver refuses the wrong namespace ---------------------------------

B=nftables
NS="$PFX-probe"
if out=$(ip netns exec "$PFX-probe" "$DRIVER" -n "$PFX-nftables" -b nftables open 2>&1); then
	notok "the driver refuses to run outside its namespace" "$out"
else
	case $out in
	*"refusing to touch"*) ok "the driver refuses to run outside its namespace" ;;
	*) notok "the driver refuses to run outside its namespace" "$out" ;;
	esac
fi
check "... and left that namespace alone" gone

# ---- the host ---------------------------------------------------------------

host_fw >"$TMP/host.after"
if cmp -s "$TMP/host.before" "$TMP/host.after"; then
	ok "the host's firewall is untouched"
else
	notok "the host's firewall is untouched" "$(diff "$TMP/host.before" "$TMP/host.after")"
fi

echo "1..$N"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
