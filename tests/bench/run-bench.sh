#!/usr/bin/env bash
# run-bench.sh - `make bench`: wireban's throughput, memory, ban
# latency, restore time, storm and live capture, against baselines
# measured in the same run, as one table.
#
# What it does, in order:
#   1. installs what is missing (tcpdump, tshark, GNU time; apt-get, as
#      root; a tool that cannot be installed turns its rows into
#      "skipped: reason");
#   2. builds tests/bench/gen-smtp-pcap (gen-*.c), bare-nids.c and ban-latency.c
#      (the last against the project's bans/ sources);
#   3. generates, in a temporary directory removed at the end: the large
#      capture (BENCH_SIZE, default 1G), a subset for tshark (the same
#      generator and seed cut at BENCH_SUBSET, default 50M: the same first
#      sessions, all complete), the BENCH_CONC-concurrent capture (default
#      100000) and a 1-session capture of the same kind (RSS baseline);
#   4. runs each throughput command BENCH_RUNS times (default 3),
#      interleaved round-robin so that a noisy neighbour hits all of them
#      alike, and takes the median wall time (measured here, so hyperfine
#      is not needed); CPU time and peak RSS from /usr/bin/time; tshark
#      runs with -n (no name lookups) on the subset only, being ~25x
#      slower, and its rate is scaled to the large capture in the table;
#      the same, interleaved with them: the large capture rewritten as
#      IPv6 (gen-smtp-pcap -6, the same sessions), and a capture of
#      many short sessions (a storm of BENCH_JSON_N probers) replayed
#      with and without --json;
#   5. root only, in network namespaces made and deleted here (never
#      the host's firewall; tests/bench/bench-net.sh): per backend of
#      BENCH_BACKENDS that this tree has, ban latency with BENCH_BANS
#      bans active (BENCH_BAN_K cycles; iptables to 100000 only, 10
#      cycles there) and the restore of a restart; the storm of
#      BENCH_STORM_N probers at each of BENCH_STORM_RATES; live capture
#      of the large capture at BENCH_LIVE_RATES, wireban against
#      tcpdump, until each drops;
#   6. prints the table.
#
# Environment: BENCH_SIZE, BENCH_SUBSET, BENCH_CONC, BENCH_RUNS,
# BENCH_SEED (1), BENCH_BANS ("0 1000 10000 100000 1000000"),
# BENCH_BAN_K (50), BENCH_BACKENDS ("nftables ipset iptables"),
# BENCH_STORM_N (20000 probers, a tenth as many good clients),
# BENCH_STORM_RATES ("100000 200000 400000 top"), BENCH_LIVE_RATES
# ("100000 150000 200000 250000 300000 top"; "top": tcpreplay
# --topspeed), BENCH_JSON_N (100000), BENCH_PARTS (which parts run:
# "replay latency storm live"), BENCH_WIREBAN_ENV (extra environment
# for the watches of the storm and live parts, e.g. to try a scratch
# build's knobs), BENCH_TMP (where the captures go, default $TMPDIR or
# /tmp), BENCH_EXPERIMENTS=1 (also time bare libnids variants that
# price wireban's extra per-packet work), BENCH_PROFILE=1 (perf record
# wireban on the large capture, top symbols).
# Numbers are printed, never judged: this is not a test and never fails
# on timing. Exit status 1 only when something could not be built.

set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_DIR="$ROOT/tests/bench"
WIREBAN="$ROOT/wireban"

BENCH_SIZE=${BENCH_SIZE:-1G}
BENCH_SUBSET=${BENCH_SUBSET:-50M}
BENCH_CONC=${BENCH_CONC:-100000}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_BANS=${BENCH_BANS:-"0 1000 10000 100000 1000000"}
BENCH_BAN_K=${BENCH_BAN_K:-50}
BENCH_BACKENDS=${BENCH_BACKENDS:-"nftables ipset iptables"}
BENCH_STORM_N=${BENCH_STORM_N:-20000}
BENCH_STORM_RATES=${BENCH_STORM_RATES:-"100000 200000 400000 top"}
BENCH_LIVE_RATES=${BENCH_LIVE_RATES:-"100000 150000 200000 250000 300000 top"}
BENCH_JSON_N=${BENCH_JSON_N:-100000}
BENCH_PARTS=${BENCH_PARTS:-"replay latency storm live"}
BENCH_EXPERIMENTS=${BENCH_EXPERIMENTS:-0}
BENCH_PROFILE=${BENCH_PROFILE:-0}
CC=${CC:-cc}

# The bare libnids baseline gets what wireban has: a 1 MiB stdio buffer
# for the capture file and wireban's default stream table (131072), so
# the ratio measures the work wireban adds, not set-up differences.
BARE_OPTS=(-b 1048576 -m 131072)

TMP=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/wbbench.XXXXXX") || {
	echo "run-bench: mktemp failed" >&2; exit 1; }
# shellcheck source=tests/bench/bench-net.sh
. "$BENCH_DIR/bench-net.sh"

cleanup() {
	net_cleanup
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say() { echo "run-bench: $*" >&2; }
part() { case " $BENCH_PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- 1. tools ---------------------------------------------------------------

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
APT_UPDATED=0

apt_install() {
	[ "$IS_ROOT" = 1 ] || return 1
	command -v apt-get >/dev/null 2>&1 || return 1
	export DEBIAN_FRONTEND=noninteractive
	if apt-get install -y -q --no-install-recommends "$@" >"$TMP/apt.log" 2>&1; then
		return 0
	fi
	if [ "$APT_UPDATED" = 0 ]; then
		APT_UPDATED=1
		apt-get update -q >"$TMP/apt.log" 2>&1 || true
		apt-get install -y -q --no-install-recommends "$@" >"$TMP/apt.log" 2>&1 && return 0
	fi
	return 1
}

# need COMMAND PACKAGE: "" when there, else why not (after trying to install)
need() {
	if [ -x "$1" ] || command -v "$1" >/dev/null 2>&1; then
		echo ""
		return
	fi
	say "installing $2"
	if apt_install "$2" && { [ -x "$1" ] || command -v "$1" >/dev/null 2>&1; }; then
		echo ""
	elif [ "$IS_ROOT" = 0 ]; then
		echo "$2 not installed (not root: apt-get install $2)"
	else
		echo "$2 could not be installed (apt-get failed)"
	fi
}

NO_TCPDUMP=$(need tcpdump tcpdump)
NO_TCPREPLAY=$(need tcpreplay tcpreplay)
NO_TSHARK=$(need tshark tshark)
NO_TIME=$(need /usr/bin/time time)
[ -n "$NO_TIME" ] && say "no /usr/bin/time: wall times only, no peak RSS ($NO_TIME)"

# Build dependencies come with `make` (setup.sh); fetch them if not.
if ! printf '#include <nids.h>\n#include <pcap/pcap.h>\nint main(void){return 0;}\n' |
    $CC -x c -o /dev/null - -lnids -lpcap -lnet -lgthread-2.0 -lglib-2.0 2>/dev/null; then
	say "installing libnids-dev libpcap-dev"
	apt_install libnids-dev libpcap-dev libnet1-dev libglib2.0-dev || true
fi

# ---- 2. build -------------------------------------------------------------

CFLAGS_B="-O2 -g -std=c11 -Wall -Wextra"
GEN="$TMP/gen-smtp-pcap"
BARE="$TMP/bare-nids"
BANLAT="$TMP/ban-latency"

$CC $CFLAGS_B -o "$GEN" "$BENCH_DIR"/gen-*.c -lm ||
	{ say "cannot build gen-smtp-pcap"; exit 1; }
$CC $CFLAGS_B -I"$ROOT/sniffer" -o "$BARE" "$BENCH_DIR/bare-nids.c" \
    "$ROOT/sniffer/nidsparams.c" \
    -lnids -lpcap -lnet -lgthread-2.0 -lglib-2.0 ||
	{ say "cannot build bare-nids"; exit 1; }
[ -x "$WIREBAN" ] || { say "no $WIREBAN: run make wireban"; exit 1; }

# The project's bans/ sources, compiled apart from the tree's objects so
# that a concurrent build there cannot hand us half-written files.
NO_BANLAT=""
mkdir -p "$TMP/obj"
for src in "$ROOT"/bans/*.c; do
	$CC -O2 -g -std=c11 -D_GNU_SOURCE -I"$ROOT/include" -c \
	    -o "$TMP/obj/$(basename "$src" .c).o" "$src" 2>>"$TMP/build.log" ||
		NO_BANLAT="bans/$(basename "$src") does not build"
done
# The firewall libraries the tree's backends use, those installed.
FW_LIBS="$(pkg-config --libs libnftables libipset libcurl 2>/dev/null) -lip4tc -lip6tc"
if [ -z "$NO_BANLAT" ] && ! $CC $CFLAGS_B -I"$ROOT/include" -o "$BANLAT" \
    "$BENCH_DIR/ban-latency.c" "$TMP"/obj/*.o $FW_LIBS -lpthread 2>>"$TMP/build.log" &&
    ! $CC $CFLAGS_B -I"$ROOT/include" -o "$BANLAT" \
    "$BENCH_DIR/ban-latency.c" "$TMP"/obj/*.o -lnftables -lipset -lip4tc -lip6tc -lcurl -lpthread 2>>"$TMP/build.log"; then
	NO_BANLAT="ban-latency does not build (see $TMP/build.log)"
fi
: >"$TMP/empty.conf"

# ---- 3. captures ----------------------------------------------------------

LARGE="$TMP/large.pcap"
LARGE6="$TMP/large6.pcap"
SUBSET="$TMP/subset.pcap"
CONC="$TMP/concurrent.pcap"
ONE="$TMP/one.pcap"
STORM="$TMP/storm.pcap"
SHORT="$TMP/short.pcap"

# gen OUT ARGS...: writes a capture, leaves "packets bytes sessions" in OUT.stats
gen() {
	local out=$1; shift
	if ! "$GEN" -S "$BENCH_SEED" -o "$out" "$@" 2>"$out.log"; then
		say "generator failed: $(tail -n1 "$out.log")"
		exit 1
	fi
	sed -n 's/^STATS packets=\([0-9]*\) bytes=\([0-9]*\) sessions=\([0-9]*\)$/\1 \2 \3/p' \
	    "$out.log" >"$out.stats"
}

# Room for the captures: the large one twice (IPv4, IPv6), the subset,
# ~200 MB for the rest.
AVAIL_KB=$(df -Pk "$TMP" | awk 'NR == 2 { print $4 }')
WANT_KB=$(awk -v s="$BENCH_SIZE" -v t="$BENCH_SUBSET" 'function b(x,  m) {
	m = 1; if (x ~ /[kK]/) m = 1e3; if (x ~ /[mM]/) m = 1e6; if (x ~ /[gG]/) m = 1e9
	return (x + 0) * m } BEGIN { printf "%.0f", (b(s) * 2.3 + b(t) * 1.5) / 1024 + 400000 }')
if [ -n "$AVAIL_KB" ] && [ "$AVAIL_KB" -lt "$WANT_KB" ]; then
	say "not enough room in $TMP: ${AVAIL_KB} KB free, about ${WANT_KB} KB needed (BENCH_TMP=DIR or a smaller BENCH_SIZE)"
	exit 1
fi

say "generating captures in $TMP (large: $BENCH_SIZE)"
T0=${EPOCHREALTIME:-$(date +%s.%N)}
gen "$LARGE" -s "$BENCH_SIZE"
T1=${EPOCHREALTIME:-$(date +%s.%N)}
GEN_SECS=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
gen "$SUBSET" -s "$BENCH_SUBSET"
gen "$CONC" -c "$BENCH_CONC"
gen "$ONE" -c 1
read -r L_PKTS L_BYTES L_SESS <"$LARGE.stats"
read -r S_PKTS S_BYTES S_SESS <"$SUBSET.stats"
read -r C_PKTS C_BYTES C_SESS <"$CONC.stats"
# The same sessions over IPv6: -n, not -s (IPv6 headers are longer).
gen "$LARGE6" -6 -n "$L_SESS"
read -r L6_PKTS L6_BYTES L6_SESS <"$LARGE6.stats"
ST_N=$BENCH_STORM_N
ST_M=$((ST_N / 10))
gen "$STORM" -T -p "$ST_N" -a "$ST_M"
read -r ST_PKTS ST_BYTES ST_SESS <"$STORM.stats"
gen "$SHORT" -T -p "$BENCH_JSON_N" -a $((BENCH_JSON_N / 10))
read -r SH_PKTS SH_BYTES SH_SESS <"$SHORT.stats"
# Into the page cache: every tool then reads from memory alike.
cat "$LARGE" "$LARGE6" "$SUBSET" "$CONC" "$ONE" "$STORM" "$SHORT" >/dev/null

# ---- 4. timing --------------------------------------------------------------

# run_once LABEL CMD...: one run; appends "wall cpu rss_kb status" to
# $TMP/r.LABEL (rss 0 when GNU time is missing).
run_once() {
	local label=$1; shift
	local t0 t1 st=0 cpu=0 rss=0 line
	if [ -z "$NO_TIME" ]; then
		t0=${EPOCHREALTIME:-$(date +%s.%N)}
		/usr/bin/time -f "%U %S %M" -o "$TMP/time.out" "$@" \
		    >"$TMP/out.$label" 2>"$TMP/err.$label" || st=$?
		t1=${EPOCHREALTIME:-$(date +%s.%N)}
		line=$(tail -n1 "$TMP/time.out")
		cpu=$(echo "$line" | awk '{ printf "%.2f", $1 + $2 }')
		rss=$(echo "$line" | awk '{ print $3 }')
	else
		t0=${EPOCHREALTIME:-$(date +%s.%N)}
		"$@" >"$TMP/out.$label" 2>"$TMP/err.$label" || st=$?
		t1=${EPOCHREALTIME:-$(date +%s.%N)}
	fi
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }') $cpu $rss $st" \
	    >>"$TMP/r.$label"
}

# median LABEL FIELD: the median of column FIELD (1 wall, 2 cpu, 3 rss)
median() {
	[ -s "$TMP/r.$1" ] || { echo ""; return; }
	awk -v f="$2" '{ print $f }' "$TMP/r.$1" | sort -g |
	    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	        else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# failed LABEL: non-empty (the first error line) when any run failed
failed() {
	if awk '$4 != 0 { bad = 1 } END { exit !bad }' "$TMP/r.$1" 2>/dev/null; then
		echo "failed (exit $(awk '$4 != 0 { print $4; exit }' "$TMP/r.$1")): $(head -n1 "$TMP/err.$1")"
	fi
}

LABELS=()
declare -A CMD

add() {
	local label=$1; shift
	LABELS+=("$label")
	CMD[$label]=$(printf '%q ' "$@")
}

[ -z "$NO_TCPDUMP" ] && add tcpdump tcpdump -r "$LARGE" -w /dev/null
add bare "$BARE" "${BARE_OPTS[@]}" "$LARGE"
add bare_k "$BARE" "${BARE_OPTS[@]}" -k "$LARGE"
add wireban "$WIREBAN" replay "$LARGE"
add wireban_off "$WIREBAN" -o capture.checksums=off replay "$LARGE"
[ -z "$NO_TSHARK" ] && add tshark_sub tshark -n -r "$SUBSET" -Y "smtp.response.code >= 500"
add wireban_sub "$WIREBAN" replay "$SUBSET"
add wb_conc "$WIREBAN" replay "$CONC"
add wb_one "$WIREBAN" replay "$ONE"
add bare_conc "$BARE" "${BARE_OPTS[@]}" "$CONC"
add bare_conc_f "$BARE" "${BARE_OPTS[@]}" -f "$CONC"
add wb_v6 "$WIREBAN" replay "$LARGE6"
add wb_plain "$WIREBAN" replay "$SHORT"
add wb_json "$WIREBAN" replay --json "$SHORT"
if [ "$BENCH_EXPERIMENTS" = 1 ]; then
	add bare_t "$BARE" "${BARE_OPTS[@]}" -t "$LARGE"
	add bare_f "$BARE" "${BARE_OPTS[@]}" -f "$LARGE"
	add bare_kt "$BARE" "${BARE_OPTS[@]}" -k -t "$LARGE"
fi

part replay || LABELS=()
[ ${#LABELS[@]} -gt 0 ] && say "timing: ${#LABELS[@]} commands x $BENCH_RUNS runs, interleaved"
for ((run = 1; run <= BENCH_RUNS; run++)); do
	for label in "${LABELS[@]}"; do
		eval "run_once $label ${CMD[$label]}"
	done
done

# ---- 5. namespaces: ban latency, restore, storm, live capture -----------------

NO_NET=$(net_why_not)
[ -z "$NO_NET" ] && [ -n "$NO_BANLAT" ] && NO_NET=$NO_BANLAT
if [ -z "$NO_NET" ] && ! net_setup; then
	NO_NET="ip netns / veth failed: $(head -n1 "$TMP/netns.err")"
fi
# The backends this tree has; the live part uses the default (nftables)
# or, without it, iptables.
HAVE_BACKENDS=""
MISSING_BACKENDS=""
if [ -z "$NO_NET" ]; then
	for be in $BENCH_BACKENDS; do
		if has_backend "$be"; then
			HAVE_BACKENDS="$HAVE_BACKENDS $be"
		else
			MISSING_BACKENDS="$MISSING_BACKENDS $be"
		fi
	done
	BENCH_BACKENDS=$HAVE_BACKENDS
fi
LIVE_BACKEND=nftables
has_backend nftables 2>/dev/null || LIVE_BACKEND=iptables
LIVE_PCAP=$LARGE
if [ -z "$NO_NET" ]; then
	part latency && lat_all
	part storm && storm_all
	if part live && [ -z "$NO_TCPDUMP" ]; then
		live_all
	fi
fi

# ---- 6. profile (optional) --------------------------------------------------

PROFILE=""
if [ "$BENCH_PROFILE" = 1 ]; then
	if perf record -q -o "$TMP/perf.data" "$WIREBAN" replay "$LARGE" \
	    >/dev/null 2>"$TMP/perf.err"; then
		PROFILE=$(perf report -i "$TMP/perf.data" --no-children \
		    --sort dso,symbol --stdio 2>/dev/null | grep '%' |
		    grep -v '^#' | head -n 20)
	else
		PROFILE="skipped: perf record failed: $(head -n1 "$TMP/perf.err")"
	fi
fi

# ---- 7. the table -----------------------------------------------------------

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
# rate COUNT SECONDS
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; }
group() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "-" }'; }

# throughput_row NAME LABEL PACKETS BYTES SESSIONS(or -) SKIPREASON [LARGE_BYTES]
# With LARGE_BYTES (a subset row) the time the large capture would take
# at the same MB/s follows the row.
throughput_row() {
	local name=$1 label=$2 pk=$3 by=$4 se=$5 skip=$6 scale=${7:-}
	local w c why pps mbs sps extra=""
	if [ -n "$skip" ]; then
		printf "  %-46s skipped: %s\n" "$name" "$skip"
		return
	fi
	why=$(failed "$label")
	if [ -n "$why" ]; then
		printf "  %-46s %s\n" "$name" "$why"
		return
	fi
	w=$(median "$label" 1)
	c=$(median "$label" 2)
	pps=$(group "$(rate "$pk" "$w")")
	mbs=$(awk -v b="$by" -v s="$w" 'BEGIN { printf "%.1f", b / 1e6 / s }')
	sps="-"
	[ "$se" != "-" ] && sps=$(group "$(rate "$se" "$w")")
	[ -n "$scale" ] && extra=$(awk -v w="$w" -v a="$by" -v b="$scale" \
	    'BEGIN { printf "  (large capture: ~%.1f s)", w * b / a }')
	printf "  %-46s %7.2f %6s %11s %8s %10s%s\n" "$name" "$w" "$c" \
	    "$pps" "$mbs" "$sps" "$extra"
}

# MB/s of a label on BYTES, for the ratios
mbps() {
	local w
	[ -s "$TMP/r.$1" ] && [ -z "$(failed "$1")" ] || { echo 0; return; }
	w=$(median "$1" 1)
	awk -v b="$2" -v s="$w" 'BEGIN { if (s > 0) printf "%.6f", b / s; else print 0 }'
}

rss_mb() {
	local r
	[ -s "$TMP/r.$1" ] && [ -z "$(failed "$1")" ] || { echo ""; return; }
	r=$(median "$1" 3)
	[ "$r" = 0 ] && { echo ""; return; }
	awk -v k="$r" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'
}

# field NAME LINE: the value of NAME=VALUE in LINE
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }

CPU=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo
echo "wireban benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) cores ($CPU), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "large capture:  $(mb "$L_BYTES") MB, $(group "$L_PKTS") packets, $(group "$L_SESS") SMTP sessions, 200 interleaved (generated in ${GEN_SECS} s, seed $BENCH_SEED)"
echo "tshark subset:  $(mb "$S_BYTES") MB, $(group "$S_PKTS") packets, $(group "$S_SESS") sessions (the same generator and seed stopped at $BENCH_SUBSET)"
echo "concurrent:     $(group "$C_SESS") sessions open at once, $(mb "$C_BYTES") MB, $(group "$C_PKTS") packets"
echo "storm:          $(group "$ST_N") probers + $(group "$ST_M") good clients, $(mb "$ST_BYTES") MB, $(group "$ST_PKTS") packets; short sessions: $(group "$SH_SESS") sessions, $(mb "$SH_BYTES") MB"
echo "times: median of $BENCH_RUNS runs, all commands interleaved in each round; MB/s = capture file bytes / wall time"
echo
part replay || echo "  (BENCH_PARTS=\"$BENCH_PARTS\": no replay timings)"
if part replay; then
printf "  %-46s %7s %6s %11s %8s %10s\n" "THROUGHPUT (large capture unless [subset])" "wall s" "cpu s" "packets/s" "MB/s" "sessions/s"
throughput_row "tcpdump -r FILE -w /dev/null (read floor)" tcpdump "$L_PKTS" "$L_BYTES" - "$NO_TCPDUMP"
throughput_row "bare libnids, checksums off" bare "$L_PKTS" "$L_BYTES" "$L_SESS" ""
throughput_row "bare libnids, checksums verified" bare_k "$L_PKTS" "$L_BYTES" "$L_SESS" ""
throughput_row "wireban replay (checksums=auto: verified)" wireban "$L_PKTS" "$L_BYTES" "$L_SESS" ""
throughput_row "wireban replay, checksums=off" wireban_off "$L_PKTS" "$L_BYTES" "$L_SESS" ""
throughput_row "tshark -Y 'smtp.response.code>=500' [subset]" tshark_sub "$S_PKTS" "$S_BYTES" "$S_SESS" "$NO_TSHARK" "$L_BYTES"
throughput_row "wireban replay [subset]" wireban_sub "$S_PKTS" "$S_BYTES" "$S_SESS" "" "$L_BYTES"
WB_SEEN=$(sed -n 's/^Sessions: *\([0-9]*\) SMTP.*/\1/p' "$TMP/out.wireban" 2>/dev/null)
WB_OFF=$(sed -n 's/^Offenders: *\([0-9]*\) offences.*/\1/p' "$TMP/out.wireban" 2>/dev/null)
WB_BANS=$(sed -n 's/^Would ban: *\([0-9]*\) bans.*/\1/p' "$TMP/out.wireban" 2>/dev/null)
echo "  (wireban's report on the large capture: ${WB_SEEN:-?} of $L_SESS sessions, ${WB_OFF:-?} offences, ${WB_BANS:-?} would-be bans)"
echo
echo "  RATIOS (same run, median MB/s)"
R1=$(ratio "$(mbps wireban "$L_BYTES")" "$(mbps bare "$L_BYTES")")
R2=$(ratio "$(mbps wireban_off "$L_BYTES")" "$(mbps bare "$L_BYTES")")
R3=$(ratio "$(mbps wireban "$L_BYTES")" "$(mbps bare_k "$L_BYTES")")
OK1=$(awk -v r="${R1%x}" 'BEGIN { print (r + 0 >= 0.8) ? 1 : 0 }')
printf "  %-70s %7s  target >= 0.8x: %s\n" "wireban / bare libnids (as shipped: wireban verifies, bare does not)" "$R1" "$(verdict "$OK1")"
printf "  %-70s %7s\n" "wireban / bare libnids, checksums off in both" "$R2"
printf "  %-70s %7s\n" "wireban / bare libnids, checksums verified in both" "$R3"
# CPU time (user + sys) moves less than wall time when a neighbour is busy
printf "  %-70s %7s\n" "the same three by CPU time (user+sys): as shipped / off / verified" \
    "$(ratio "$(median bare 2)" "$(median wireban 2)") / $(ratio "$(median bare 2)" "$(median wireban_off 2)") / $(ratio "$(median bare_k 2)" "$(median wireban 2)")"
if [ -z "$NO_TSHARK" ]; then
	printf "  %-70s %7s\n" "wireban / tshark (the same subset, wireban's start-up included)" \
	    "$(ratio "$(mbps wireban_sub "$S_BYTES")" "$(mbps tshark_sub "$S_BYTES")")"
	printf "  %-70s %7s\n" "wireban on the large capture / tshark on the subset (MB/s)" \
	    "$(ratio "$(mbps wireban "$L_BYTES")" "$(mbps tshark_sub "$S_BYTES")")"
else
	printf "  %-70s skipped: %s\n" "wireban / tshark" "$NO_TSHARK"
fi
echo
echo "  MEMORY (peak RSS, median)"
if [ -n "$NO_TIME" ]; then
	echo "  skipped: $NO_TIME"
else
	RL=$(rss_mb wireban)
	RC=$(rss_mb wb_conc)
	R1S=$(rss_mb wb_one)
	RBC=$(rss_mb bare_conc)
	RBF=$(rss_mb bare_conc_f)
	printf "  %-70s %9s MB\n" "wireban replay, large capture" "${RL:-failed}"
	printf "  %-70s %9s MB" "wireban, $(group "$C_SESS") sessions open at once (default max_streams)" "${RC:-failed}"
	if [ -n "$RC" ]; then
		OK2=$(awk -v r="$RC" 'BEGIN { print (r * 1e6 < 256 * 1048576) ? 1 : 0 }')
		echo "  target < 256 MB: $(verdict "$OK2")"
	else
		echo
	fi
	printf "  %-70s %9s MB\n" "wireban, 1 session, same options (baseline: tables preallocated)" "${R1S:-failed}"
	if [ -n "$RC" ] && [ -n "$R1S" ]; then
		printf "  %-70s %9s\n" "bytes per open session: (RSS_conc - RSS_1) / $C_SESS" \
		    "$(group "$(awk -v a="$RC" -v b="$R1S" -v n="$C_SESS" 'BEGIN { printf "%.0f", (a - b) * 1e6 / n }')")"
	fi
	printf "  %-70s %9s MB\n" "bare libnids, the same concurrent capture" "${RBC:-failed}"
	printf "  %-70s %9s MB\n" "bare libnids, same, half-stream buffer freed after each callback" "${RBF:-failed}"
	printf "  %-70s %9.2f s / %.2f s\n" "wall time of those two (libnids' 4 KB buffers cost time too)" \
	    "$(median bare_conc 1)" "$(median bare_conc_f 1)"
fi
echo
fi
if part replay; then
	echo "  IPv6 AND --json (same run, median wall time)"
	V6_SEEN=$(sed -n 's/^Sessions: *\([0-9]*\) SMTP.*/\1/p' "$TMP/out.wb_v6" 2>/dev/null)
	if [ -z "$V6_SEEN" ] || [ "$V6_SEEN" = 0 ]; then
		printf "  %-70s skipped: this build does not inspect IPv6 (%s)\n" "IPv6 / IPv4 replay" \
		    "$(grep -m1 -o '[0-9]* IPv6 not inspected' "$TMP/out.wb_v6" 2>/dev/null)"
	else
		R6=$(ratio "$(median wireban 1)" "$(median wb_v6 1)")
		printf "  %-70s %7s s / %s s\n" "wireban replay, large capture: IPv4 / IPv6 ($(group "$L6_SESS") sessions each)" \
		    "$(median wireban 1)" "$(median wb_v6 1)"
		printf "  %-70s %7s  target >= 0.9x: %s\n" "IPv6 throughput / IPv4 (sessions/s; $V6_SEEN of $L6_SESS sessions seen)" "$R6" \
		    "$(verdict "$(awk -v r="${R6%x}" 'BEGIN { print (r + 0 >= 0.9) ? 1 : 0 }')")"
	fi
	RJ=$(ratio "$(median wb_json 1)" "$(median wb_plain 1)")
	printf "  %-70s %7s s / %s s\n" "replay --json / plain report, $(group "$SH_SESS") short sessions ($(mb "$SH_BYTES") MB)" \
	    "$(median wb_json 1)" "$(median wb_plain 1)"
	printf "  %-70s %7s  target <= 1.15x: %s\n" "--json / plain (wall time)" "$RJ" \
	    "$(verdict "$(awk -v r="${RJ%x}" 'BEGIN { print (r + 0 > 0 && r + 0 <= 1.15) ? 1 : 0 }')")"
	echo
fi
if [ -n "$NO_NET" ]; then
	echo "  BAN LATENCY, RESTORE, STORM, LIVE CAPTURE: skipped: $NO_NET"
else
	[ -n "$MISSING_BACKENDS" ] && echo "  (backends not in this tree, skipped:$MISSING_BACKENDS)"
	if part latency; then
		lat_table
		echo
	fi
	if part storm; then
		storm_table
		echo
	fi
	if part live; then
		if [ -n "$NO_TCPDUMP" ]; then
			echo "  LIVE CAPTURE: skipped: $NO_TCPDUMP"
		else
			live_table
		fi
		echo
	fi
fi
if [ "$BENCH_EXPERIMENTS" = 1 ]; then
	echo
	echo "  EXPERIMENTS (bare libnids variants on the large capture: the price of wireban's extra work)"
	printf "  %-58s %8s %6s %8s\n" "" "wall s" "cpu s" "vs bare"
	for l in bare bare_k bare_t bare_kt bare_f; do
		case $l in
		bare) n="bare libnids (checksums off)";;
		bare_k) n="+ checksums verified (-k)";;
		bare_t) n="+ a stream lookup per packet, as sniffer's touch() (-t)";;
		bare_kt) n="+ both (-k -t)";;
		bare_f) n="+ free the half-stream buffer after each callback (-f)";;
		esac
		printf "  %-58s %8.2f %6s %8s\n" "$n" "$(median "$l" 1)" "$(median "$l" 2)" \
		    "$(ratio "$(median "$l" 1)" "$(median bare 1)")"
	done
fi
if [ -n "$PROFILE" ]; then
	echo
	echo "  PROFILE (perf record, wireban replay on the large capture; self time)"
	echo "$PROFILE" | sed 's/^/  /'
fi
echo
