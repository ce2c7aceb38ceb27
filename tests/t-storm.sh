#!/bin/sh
# t-storm.sh - an attack wave, live: STORM_N relay probers (20000) and
# STORM_M good clients (2000), each from its own address, replayed with
# tcpreplay at STORM_PPS (100000) packets/s over a veth pair into
# `wireban watch`, which captures on the other end (promiscuously: the
# frames are not addressed to it) and bans through the kernel firewall.
#
#   1  within 1 s of the last packet every prober is in the kernel's
#      ban set and no good client is; `wireban status` says 0 packets
#      dropped by the kernel and nothing left in the ban queue
#   2  kill -9, the kernel's bans wiped (as by a reboot), restart:
#      within 1 s of the exec every ban is back, rebuilt from the
#      journal; the times from exec to "watching" and to the full set
#      are printed
#   3  kill -9 at a random moment during the storm (STORM_KILL_MS to
#      pick it): every ban in the kernel is in the state on disk (the
#      journal is written before the commit), and after a restart the
#      kernel holds exactly what the state holds
#
# The backend is wireban's default (firewall.backend unset). When this
# build lacks it (nftables before the set backends are merged) it falls
# back to iptables and says so on a "#" line. The kernel's set is read
# with the backend's own tool: `nft -j list set inet wireban ipv4_addr`,
# `ipset list wireban4`, `iptables-legacy -S wireban`.
#
# Environment: STORM_N, STORM_M, STORM_PPS, STORM_DEADLINE_MS (1000: for
# 1 and 2), STORM_KILL_MS, WIREBAN=PATH (another build), KEEP_TMP=1.
# At the defaults it takes about 20 s; make bench runs larger storms.
#
# Output as t-e2e.sh: "ok N - ..." / "not ok N - ...", "N passed, N
# failed" last; exit 0, 1 when a check failed, 77 ("SKIP: reason") when
# not root or a tool is missing.
#
# Invariant: nothing of the host is touched. Both ends of the veth pair
# live in namespaces made here (wbst-PID-s sends, wbst-PID-w watches);
# wireban gets an empty config file and its own socket, state and
# xtables lock (XTABLES_LOCKFILE) in the temporary directory, which is
# on disk, not tmpfs (the journal's fsync must mean something). The EXIT
# trap stops every process started here by PID and deletes the
# namespaces and the directory.

set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
WB=${WIREBAN:-$ROOT/wireban}
case $WB in /*) ;; *) WB=$ROOT/$WB ;; esac
N=${STORM_N:-20000}
M=${STORM_M:-2000}
PPS=${STORM_PPS:-100000}
DEADLINE_MS=${STORM_DEADLINE_MS:-1000}
CC=${CC:-cc}

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "not root (needs network namespaces, a firewall)"
for cmd in ip tcpreplay "$CC" date od; do
	command -v "$cmd" >/dev/null 2>&1 || skip "$cmd not installed"
done
if [ ! -x "$WB" ]; then
	echo "not ok 1 - $WB is built (run make wireban)"
	exit 1
fi

# The temporary directory must be on disk: /var/tmp when TMPDIR is tmpfs.
base=${TMPDIR:-/tmp}
[ "$(stat -f -c %T "$base" 2>/dev/null)" = tmpfs ] && base=/var/tmp
TMP=$(mktemp -d "$base/wbstorm.XXXXXX") || skip "mktemp failed"
NSS=""		# namespaces made here
PIDS=""		# processes started here (wireban, tcpreplay)

cleanup() {
	_rc=$?
	trap '' INT TERM HUP
	trap - EXIT
	for _p in $PIDS; do
		kill -9 "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	for _n in $NSS; do
		ip netns del "$_n" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit $_rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

T=0 PASS=0 FAIL=0
indent() { sed 's/^/    /'; }
ok() { T=$((T + 1)); PASS=$((PASS + 1)); echo "ok $T - $*"; }
not_ok() { T=$((T + 1)); FAIL=$((FAIL + 1)); echo "not ok $T - $*"; }
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}
forget() {
	_out=""
	for _p in $2; do [ "$_p" = "$1" ] || _out="$_out $_p"; done
	echo "$_out"
}

# now_ms: the wall clock in milliseconds.
now_ms() { date +%s%3N; }

# ---- build ----------------------------------------------------------------

GEN=$TMP/gen-smtp-pcap
DUMP=$TMP/state-dump
# state-dump needs the state's reader and the policy; when bans/ has
# been split differently, all of it and the firewall libraries.
if ! $CC -O2 -o "$GEN" tests/bench/gen-*.c -lm 2>"$TMP/build.err" || {
    ! $CC -O2 -Iinclude -D_GNU_SOURCE -o "$DUMP" tests/tools/state-dump.c \
    bans/state.c bans/record.c bans/policy.c bans/table.c bans/util.c \
    bans/ignore.c bans/fsutil.c 2>>"$TMP/build.err" &&
    ! $CC -O2 -Iinclude -D_GNU_SOURCE -o "$DUMP" tests/tools/state-dump.c \
    bans/*.c -lnftables -lipset -lip4tc -lip6tc -lpthread 2>>"$TMP/build.err"; }; then
	echo "Bail out! cannot build the generator or state-dump"
	indent <"$TMP/build.err"
	exit 1
fi
if ! "$GEN" -q -T -p "$N" -a "$M" -L "$TMP/clients" -o "$TMP/storm.pcap" \
    2>"$TMP/gen.err"; then
	echo "Bail out! gen-smtp-pcap -T failed"
	indent <"$TMP/gen.err"
	exit 1
fi
sed -n 's/^probe //p' "$TMP/clients" | sort >"$TMP/probers"
sed -n 's/^deliver //p' "$TMP/clients" | sort >"$TMP/good"
PKTS=$(GEN_STATS=1 "$GEN" -q -T -p "$N" -a "$M" -o /dev/null 2>&1 |
    sed -n 's/^STATS packets=\([0-9]*\) .*/\1/p')
echo "# storm: $N probers, $M good clients, $PKTS packets at $PPS/s"

# ---- namespaces -------------------------------------------------------------

NS_S=wbst-$$-s
NS_W=wbst-$$-w
ip netns add "$NS_S" 2>"$TMP/netns.err" ||
    skip "ip netns unavailable: $(head -n1 "$TMP/netns.err")"
NSS="$NS_S"
ip netns add "$NS_W" || { echo "Bail out! ip netns add $NS_W"; exit 1; }
NSS="$NSS $NS_W"
if ! ip link add wbsend netns "$NS_S" type veth peer name wbcap \
    netns "$NS_W" 2>"$TMP/veth.err" ||
    ! ip -n "$NS_S" link set wbsend up || ! ip -n "$NS_W" link set wbcap up ||
    ! ip -n "$NS_S" link set lo up || ! ip -n "$NS_W" link set lo up; then
	skip "no veth pair: $(head -n1 "$TMP/veth.err")"
fi

export XTABLES_LOCKFILE="$TMP/xtables.lock"
: >"$TMP/empty.conf"
# STORM_BACKEND=ipset (t-storm-ipset.sh) runs it all on another backend.
BACKEND_OPT=${STORM_BACKEND:+-o firewall.backend=$STORM_BACKEND}
BACKEND=""

nsw() { ip netns exec "$NS_W" "$@"; }
wbc() { nsw "$WB" -c "$TMP/empty.conf" -o "paths.socket=$D/sock" "$@"; }

# start_wb LOG: wireban watch on wbcap with the state in D; sets WBPID
# and STARTED_MS (just before the exec). Does not wait.
start_wb() {
	STARTED_MS=$(now_ms)
	# shellcheck disable=SC2086
	ip netns exec "$NS_W" "$WB" -c "$TMP/empty.conf" $BACKEND_OPT \
	    -o "paths.state=$D/state" -o "paths.socket=$D/sock" \
	    -o paths.log=stderr watch -i wbcap >"$D/$1" 2>&1 &
	WBPID=$!
	PIDS="$PIDS $WBPID"
}

# wait_wb LOG: up to 5 s for "watching" and the socket; WATCHING_MS.
wait_wb() {
	_i=0
	while ! grep -q "watching" "$D/$1" 2>/dev/null || [ ! -S "$D/sock" ]; do
		if [ $_i -ge 500 ] || ! kill -0 "$WBPID" 2>/dev/null; then
			echo "Bail out! wireban watch did not start"
			indent <"$D/$1"
			exit 1
		fi
		_i=$((_i + 1))
		sleep 0.01
	done
	WATCHING_MS=$(now_ms)
}

kill9() {
	kill -9 "$WBPID" 2>/dev/null
	wait "$WBPID" 2>/dev/null
	PIDS=$(forget "$WBPID" "$PIDS")
}

# kernel_list: the banned IPv4 addresses in the kernel, sorted.
kernel_list() {
	case $BACKEND in
	nftables)
		nsw nft -j list set inet wireban ipv4_addr 2>/dev/null |
		    python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        v = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
        print(v if isinstance(v, str) else v["prefix"]["addr"])
' ;;
	ipset)
		nsw ipset list wireban4 2>/dev/null |
		    sed -n '/^Members:/,$p' | sed '1d' | cut -d' ' -f1 ;;
	iptables)
		nsw iptables-legacy -w 5 -S wireban 2>/dev/null |
		    sed -n 's|^-A wireban -s \([0-9.]*\)/32 .*|\1|p' ;;
	esac | sort
}
kernel_count() { kernel_list | wc -l; }

# kernel_wipe: what a reboot does to the bans.
kernel_wipe() {
	case $BACKEND in
	nftables) nsw nft flush set inet wireban ipv4_addr ;;
	ipset) nsw ipset flush wireban4 ;;
	iptables) nsw iptables-legacy -w 5 -F wireban ;;
	esac
}

# wait_full DEADLINE_MS WANT [LOG]: polls until the kernel holds WANT
# bans or the clock passes DEADLINE_MS; FULL_MS is when it did (or
# empty). With LOG, also notes in WATCHING_MS when D/LOG first said
# "watching" (to within one round of polling).
wait_full() {
	FULL_MS=""
	while :; do
		if [ -n "${3:-}" ] && [ -z "$WATCHING_MS" ] &&
		    grep -q watching "$D/$3" 2>/dev/null; then
			WATCHING_MS=$(now_ms)
		fi
		_c=$(kernel_count)
		if [ "$_c" -ge "$2" ]; then
			FULL_MS=$(now_ms)
			return 0
		fi
		[ "$(now_ms)" -gt "$1" ] && { LAST_COUNT=$_c; return 1; }
		sleep 0.02
	done
}

# same FILE_A FILE_B: identical sorted lists; a diff summary if not.
same() {
	if cmp -s "$1" "$2"; then return 0; fi
	echo "    $(comm -23 "$1" "$2" | wc -l) only in $(basename "$1"), " \
	    "$(comm -13 "$1" "$2" | wc -l) only in $(basename "$2"), e.g.:"
	{ comm -3 "$1" "$2" | head -n 5; } | indent
	return 1
}

status_line() { grep "^$1" "$D/status" | head -n1; }

# ---- 1: the storm -----------------------------------------------------------

D=$TMP/1
mkdir "$D"
start_wb wb.log
# A build without its default backend says so and exits at once.
wait "$WBPID" 2>/dev/null &
_i=0
while kill -0 "$WBPID" 2>/dev/null && ! grep -q watching "$D/wb.log" &&
    [ $_i -lt 500 ]; do
	_i=$((_i + 1))
	sleep 0.01
done
if ! kill -0 "$WBPID" 2>/dev/null &&
    grep -q "firewall.backend: no backend" "$D/wb.log"; then
	echo "# the default backend is not in this build ($(cat "$D/wb.log")): using iptables"
	PIDS=$(forget "$WBPID" "$PIDS")
	BACKEND_OPT="-o firewall.backend=iptables"
	rm -f "$D/wb.log"
	start_wb wb.log
	DEFAULT="iptables, NOT the default"
else
	DEFAULT=${STORM_BACKEND:+firewall.backend=$STORM_BACKEND}
	DEFAULT=${DEFAULT:-the default backend}
fi
wait_wb wb.log
BACKEND=$(sed -n 's/.*), firewall \([a-z-]*\).*/\1/p' "$D/wb.log" | head -n1)
echo "# 1: the storm, firewall $BACKEND ($DEFAULT) ($NS_W)"
[ -n "$BACKEND" ] || { echo "Bail out! unknown backend"; indent <"$D/wb.log"; exit 1; }
for cmd in $(case $BACKEND in nftables) echo nft python3 ;;
    ipset) echo ipset ;; iptables) echo iptables-legacy ;; esac); do
	command -v "$cmd" >/dev/null 2>&1 || skip "$cmd not installed"
done
ip netns exec "$NS_S" tcpreplay -q -i wbsend --pps="$PPS" "$TMP/storm.pcap" \
    >"$D/tcpreplay.out" 2>&1
LAST_MS=$(now_ms)
sent=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$D/tcpreplay.out")
echo "# tcpreplay: ${sent:-?} packets sent; $(grep -o 'Actual:.*' "$D/tcpreplay.out" | head -n1)"
if wait_full $((LAST_MS + DEADLINE_MS)) "$N"; then
	ok "[1] within $DEADLINE_MS ms of the last packet all $N probers are in the kernel ($((FULL_MS - LAST_MS)) ms)"
else
	not_ok "[1] within $DEADLINE_MS ms of the last packet all $N probers are in the kernel (${LAST_COUNT:-?} were)"
fi
# Once more after a grace second, so that a miss says whether it was
# slow or lost.
[ -z "$FULL_MS" ] && wait_full $(($(now_ms) + 2000)) "$N"
kernel_list >"$D/kernel"
check "[1] the kernel holds the probers and nothing else" same "$D/kernel" "$TMP/probers"
check "[1] no good client is banned" eval '[ -z "$(comm -12 "$D/kernel" "$TMP/good")" ]'
wbc status >"$D/status" 2>&1
status_line "capture:" | indent
status_line "ban queue:" | indent
grep -A1 "^ban queue:" "$D/status" | tail -n1 | indent
status_line "latency:" | indent
check "[1] wireban status: 0 packets dropped by the kernel" \
    eval 'status_line "capture:" | grep -q ", 0 dropped by the kernel"'
check "[1] wireban status: the ban queue is empty, everything committed" \
    eval 'status_line "ban queue:" | grep -q "^ban queue: *0 queued now, 0 not yet committed"'
check "[1] wireban status: $N banned" \
    eval 'status_line "banned:" | grep -q "^banned: *$N now"'

# ---- 2: kill -9, wipe, restart ---------------------------------------------

echo "# 2: kill -9, the kernel's bans wiped, restart from the journal"
kill9
kernel_wipe
check "[2] (set-up) the kernel holds no ban" eval '[ "$(kernel_count)" = 0 ]'
start_wb wb2.log
WATCHING_MS=""
if wait_full $((STARTED_MS + DEADLINE_MS)) "$N" wb2.log; then
	ok "[2] within $DEADLINE_MS ms of the restart all $N bans are back ($((FULL_MS - STARTED_MS)) ms)"
else
	not_ok "[2] within $DEADLINE_MS ms of the restart all $N bans are back (${LAST_COUNT:-?} were)"
fi
[ -n "$WATCHING_MS" ] || wait_wb wb2.log
echo "# exec to \"watching\": $((WATCHING_MS - STARTED_MS)) ms, exec to the full set: ${FULL_MS:+$((FULL_MS - STARTED_MS)) ms}; wireban: $(grep -o 'restored in [0-9]* ms' "$D/wb2.log")"
[ -z "$FULL_MS" ] && wait_full $(($(now_ms) + 2000)) "$N"
kernel_list >"$D/kernel2"
check "[2] the kernel holds exactly the probers again" same "$D/kernel2" "$TMP/probers"
kill9

# ---- 3: kill -9 during the storm ---------------------------------------------

D=$TMP/3
mkdir "$D"
kernel_wipe
# A moment inside the storm: between 10% and 90% of its length.
LEN_MS=$((PKTS * 1000 / PPS))
if [ -n "${STORM_KILL_MS:-}" ]; then
	KILL_MS=$STORM_KILL_MS
else
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	KILL_MS=$((LEN_MS / 10 + r % (LEN_MS * 8 / 10 + 1)))
fi
echo "# 3: kill -9 $KILL_MS ms into the storm (of ~$LEN_MS ms; STORM_KILL_MS=$KILL_MS repeats it)"
start_wb wb.log
wait_wb wb.log
ip netns exec "$NS_S" tcpreplay -q -i wbsend --pps="$PPS" "$TMP/storm.pcap" \
    >"$D/tcpreplay.out" 2>&1 &
TRPID=$!
PIDS="$PIDS $TRPID"
sleep "$(awk -v m="$KILL_MS" 'BEGIN { printf "%.3f", m / 1000 }')"
kill9
wait "$TRPID"
PIDS=$(forget "$TRPID" "$PIDS")
kernel_list >"$D/kernel"
mkdir "$D/copy"
cp "$D"/state "$D"/state.journal "$D/copy/" 2>/dev/null
"$DUMP" "$D/copy/state" >"$D/journal" 2>"$D/dump.err" || {
	echo "Bail out! state-dump failed"
	indent <"$D/dump.err"
	exit 1
}
sort -o "$D/journal" "$D/journal"
echo "# after the kill: $(wc -l <"$D/kernel") bans in the kernel, $(wc -l <"$D/journal") in the state on disk"
indent <"$D/dump.err"
check "[3] some bans were made before the kill" eval '[ -s "$D/journal" ]'
check "[3] every ban in the kernel is in the state on disk" \
    eval '[ -z "$(comm -23 "$D/kernel" "$D/journal")" ] || { same "$D/kernel" "$D/journal"; false; }'
check "[3] the state holds probers only" \
    eval '[ -z "$(comm -23 "$D/journal" "$TMP/probers")" ]'
start_wb wb2.log
wait_wb wb2.log
WANT=$(wc -l <"$D/journal")
wait_full $((STARTED_MS + DEADLINE_MS)) "$WANT"
wbc status >"$D/status" 2>&1
kernel_list >"$D/kernel2"
check "[3] restarted: the kernel holds exactly the bans of the state" \
    same "$D/kernel2" "$D/journal"
check "[3] wireban status: the ban queue is empty" \
    eval 'status_line "ban queue:" | grep -q "^ban queue: *0 queued now, 0 not yet committed"'
kill9

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] || exit 1
exit 0
