# bench-net.sh - the parts of `make bench` that need root and network
# namespaces: ban latency and restore time per backend, the storm as
# throughput, live capture against tcpdump. Sourced by run-bench.sh
# (bash), which sets TMP, WIREBAN, BANLAT, GEN, the captures and the
# helpers say/group/field/verdict; everything here writes its results
# under $TMP and prints its table from them.
#
# Invariant: every firewall and every capture is inside a namespace made
# here (wbbench-PID, wbbench-PID-s, wbbench-PID-w), never the host's;
# wireban gets an empty config file, its own socket, state and xtables
# lock under $TMP. net_cleanup (run-bench.sh's EXIT trap) stops what
# was started here by PID and deletes the namespaces.

NET_NSS=""
NET_PIDS=""
NS_LAT="" NS_SND="" NS_CAP=""

net_cleanup() {
	local p n
	for p in $NET_PIDS; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in $NET_NSS; do
		ip netns del "$n" 2>/dev/null
	done
}

# net_why_not: "" when the namespace parts can run, else why not.
net_why_not() {
	local c
	[ "$IS_ROOT" = 1 ] || { echo "not root (needs network namespaces and CAP_NET_ADMIN)"; return; }
	for c in ip tcpreplay; do
		command -v "$c" >/dev/null 2>&1 || { echo "$c not installed"; return; }
	done
	echo ""
}

# net_setup: the latency namespace and the veth pair (sender, capturer).
net_setup() {
	NS_LAT="wbbench-$$"
	NS_SND="wbbench-$$-s"
	NS_CAP="wbbench-$$-w"
	ip netns add "$NS_LAT" 2>"$TMP/netns.err" || return 1
	NET_NSS="$NS_LAT"
	ip netns add "$NS_SND" 2>>"$TMP/netns.err" || return 1
	NET_NSS="$NET_NSS $NS_SND"
	ip netns add "$NS_CAP" 2>>"$TMP/netns.err" || return 1
	NET_NSS="$NET_NSS $NS_CAP"
	ip -n "$NS_LAT" link set lo up &&
	    ip link add wbsend netns "$NS_SND" type veth peer name wbcap \
	    netns "$NS_CAP" 2>>"$TMP/netns.err" &&
	    ip -n "$NS_SND" link set wbsend up && ip -n "$NS_CAP" link set wbcap up &&
	    ip -n "$NS_SND" link set lo up && ip -n "$NS_CAP" link set lo up
}

# has_backend NAME: this tree's bans/ has the backend (ban-latency is
# built from the same sources as wireban; -q touches nothing).
has_backend() { "$BANLAT" -q "$1"; }

# ---- ban latency and restore -------------------------------------------------

# lat_run BACKEND N K: one ban-latency run; its line in $TMP/lat.BACKEND.N
lat_run() {
	local be=$1 n=$2 k=$3 d=$TMP/latdir old=""
	rm -rf "$d"
	mkdir -p "$d"
	# The old per-ban state rewrite is priced once, with the old backend.
	[ "$be" = iptables ] && [ "$n" -le 100000 ] && old=-O
	if ! ip netns exec "$NS_LAT" env XTABLES_LOCKFILE="$TMP/xtables.lock" \
	    "$BANLAT" -n "$NS_LAT" -b "$be" -N "$n" -K "$k" -d "$d" \
	    -l "$TMP/xtables.lock" $old >"$TMP/lat.$be.$n" 2>"$TMP/lat.$be.$n.err"; then
		echo "FAILED $(grep -v '^wireban: reconcile' "$TMP/lat.$be.$n.err" | head -n1)" \
		    >"$TMP/lat.$be.$n"
	fi
	rm -rf "$d"
}

lat_all() {
	local be n k
	for be in $BENCH_BACKENDS; do
		for n in $BENCH_BANS; do
			# libiptc rewrites the table per commit: O(n), so 1M is days
			[ "$be" = iptables ] && [ "$n" -gt 100000 ] && continue
			k=$BENCH_BAN_K
			[ "$be" = iptables ] && [ "$n" -ge 100000 ] && [ "$k" -gt 10 ] && k=10
			say "ban latency: $be, $n bans active, $k cycles"
			lat_run "$be" "$n" "$k"
		done
	done
}

lat_table() {
	local be n line p50 ep50 old
	echo "  BAN LATENCY (private netns; offence -> element committed in the kernel; p50/p99 over K bans)"
	echo "    direct: the policy's hook commits on the same thread (the kernel's own cost per ban);"
	echo "    enforcer: the daemon's path: hook -> ban_enforcer_ban -> enforcer thread: journal record + commit"
	printf "  %-9s %10s %4s %9s %9s %10s %10s %10s %15s\n" backend "bans" K \
	    "direct p50" "p99" "enf. p50" "enf. p99" "enf. max" "preload sync ms"
	for be in $BENCH_BACKENDS; do
		for n in $BENCH_BANS; do
			[ -f "$TMP/lat.$be.$n" ] || continue
			line=$(cat "$TMP/lat.$be.$n")
			case $line in
			backend=*)
				p50=$(field p50_ms "$line")
				ep50=$(field enf_p50_ms "$line")
				printf "  %-9s %10s %4s %9s %9s %10s %10s %10s %15s" "$be" \
				    "$(group "$n")" "$(field K "$line")" "$p50" \
				    "$(field p99_ms "$line")" "$ep50" \
				    "$(field enf_p99_ms "$line")" "$(field enf_max_ms "$line")" \
				    "$(field preload_ms "$line")"
				echo "  enf. p50 < 1 ms: $(verdict "$(awk -v p="$ep50" 'BEGIN { print (p < 1) ? 1 : 0 }')")"
				;;
			*) printf "  %-9s %10s %s\n" "$be" "$(group "$n")" "$line" ;;
			esac
		done
	done
	old=""
	for n in $BENCH_BANS; do
		line=$(cat "$TMP/lat.iptables.$n" 2>/dev/null)
		case $line in backend=*) ;; *) continue ;; esac
		[ "$(field save_p50_ms "$line")" = 0.000 ] && continue
		old="$old${old:+, }$(group "$n") bans $(field save_p50_ms "$line") ms"
	done
	[ -n "$old" ] && echo "  (the old path also rewrote and fsynced the whole state per ban, p50 on top of the commit: $old)"
	echo
	echo "  RESTORE (a restart: the state read into the policy, then one sync into a flushed kernel)"
	printf "  %-9s %10s %14s %14s %10s %14s %14s %10s\n" backend bans \
	    "snapshot read" "+ sync" "total ms" "journal read" "+ sync" "total ms"
	for be in $BENCH_BACKENDS; do
		for n in $BENCH_BANS; do
			[ "$n" -ge 10000 ] || continue
			line=$(cat "$TMP/lat.$be.$n" 2>/dev/null)
			case $line in backend=*) ;; *) continue ;; esac
			printf "  %-9s %10s %14s %14s %10s %14s %14s %10s\n" "$be" "$(group "$n")" \
			    "$(field snap_read_ms "$line")" "$(field snap_sync_ms "$line")" \
			    "$(awk -v a="$(field snap_read_ms "$line")" -v b="$(field snap_sync_ms "$line")" 'BEGIN { printf "%.0f", a + b }')" \
			    "$(field jrnl_read_ms "$line")" "$(field jrnl_sync_ms "$line")" \
			    "$(awk -v a="$(field jrnl_read_ms "$line")" -v b="$(field jrnl_sync_ms "$line")" 'BEGIN { printf "%.0f", a + b }')"
		done
	done
	echo "  (snapshot: every ban one \"ban\" line after a compaction; journal: every ban one CRC'd record, as after a storm)"
}

# ---- the kernel's ban set, per backend ------------------------------------------

kernel_count() {
	case $1 in
	nftables)
		ip netns exec "$NS_CAP" nft -j list set inet wireban ipv4_addr 2>/dev/null |
		    python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    d = {"nftables": []}
print(sum(len(o.get("set", {}).get("elem", [])) for o in d["nftables"]))' ;;
	ipset)
		ip netns exec "$NS_CAP" ipset list wireban4 2>/dev/null |
		    sed -n '/^Members:/,$p' | sed '1d' | grep -c . ;;
	iptables)
		ip netns exec "$NS_CAP" env XTABLES_LOCKFILE="$TMP/xtables.lock" \
		    iptables-legacy -w 5 -S wireban 2>/dev/null | grep -c '^-A wireban -s' ;;
	*) echo 0 ;;
	esac
}

kernel_clean() {
	ip netns exec "$NS_CAP" nft delete table inet wireban 2>/dev/null
	ip netns exec "$NS_CAP" ipset destroy wireban4 2>/dev/null
	ip netns exec "$NS_CAP" ipset destroy wireban6 2>/dev/null
	ip netns exec "$NS_CAP" env XTABLES_LOCKFILE="$TMP/xtables.lock" \
	    iptables-legacy -w 5 -F wireban 2>/dev/null
}

# ---- a watch on the capture end ------------------------------------------------

WB_PID=""
# wb_start DIR BACKEND: wireban watch -i wbcap, state and socket in DIR.
wb_start() {
	local d=$1 be=$2 i
	rm -rf "$d"
	mkdir -p "$d"
	# shellcheck disable=SC2086
	ip netns exec "$NS_CAP" env XTABLES_LOCKFILE="$TMP/xtables.lock" \
	    ${BENCH_WIREBAN_ENV:-} "$WIREBAN" -c "$TMP/empty.conf" \
	    -o "firewall.backend=$be" -o "paths.state=$d/state" \
	    -o "paths.socket=$d/sock" -o paths.log=stderr watch -i wbcap \
	    >"$d/wb.log" 2>&1 &
	WB_PID=$!
	NET_PIDS="$NET_PIDS $WB_PID"
	for i in $(seq 200); do
		grep -q watching "$d/wb.log" 2>/dev/null && [ -S "$d/sock" ] && return 0
		kill -0 "$WB_PID" 2>/dev/null || break
		sleep 0.05
	done
	say "wireban watch did not start: $(tail -n1 "$d/wb.log")"
	return 1
}

wb_stop() {
	local i
	kill -TERM "$WB_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$WB_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$WB_PID" 2>/dev/null
	wait "$WB_PID" 2>/dev/null
}

wb_status() {
	ip netns exec "$NS_CAP" "$WIREBAN" -c "$TMP/empty.conf" \
	    -o "paths.socket=$1/sock" status >"$1/status" 2>&1
}

# replay RATE PCAP OUT: tcpreplay from the sender's end; RATE a packet
# rate or "top". Leaves tcpreplay's output in OUT.
replay() {
	local rr="--pps=$1"
	[ "$1" = top ] && rr=--topspeed
	ip netns exec "$NS_SND" tcpreplay -q -i wbsend $rr "$2" >"$3" 2>&1
}

# What tcpreplay says it did: sent packets and the rate it reached.
tr_sent() { sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$1"; }
tr_pps() { sed -n 's/^Rated: .*, \([0-9.]*\) pps/\1/p' "$1" | awk '{ printf "%.0f", $1 }'; }

now_ms() { date +%s%3N; }

# ---- the storm -------------------------------------------------------------------

# storm_run BACKEND RATE: the storm capture at RATE into a watch; one
# line of NAME=VALUE in $TMP/storm.BACKEND.RATE.
storm_run() {
	local be=$1 rate=$2 d=$TMP/storm.run out=$TMP/storm.$1.$2
	local t0 t1 t2="" c=0 st
	kernel_clean
	wb_start "$d" "$be" || { echo "FAILED: watch did not start" >"$out"; return; }
	t0=$(now_ms)
	replay "$rate" "$STORM" "$d/tr.out"
	t1=$(now_ms)
	# Read the kernel only once the storm is over: reading it costs CPU.
	while [ "$(now_ms)" -lt $((t1 + 5000)) ]; do
		c=$(kernel_count "$be")
		[ "$c" -ge "$ST_N" ] && { t2=$(now_ms); break; }
		sleep 0.02
	done
	wb_status "$d"
	st=$d/status
	echo "sent=$(tr_sent "$d/tr.out") pps=$(tr_pps "$d/tr.out") replay_ms=$((t1 - t0)) \
kernel=$c lag_ms=${t2:+$((t2 - t1))} full_ms=${t2:+$((t2 - t0))} \
recv=$(sed -n 's/^capture: *\([0-9]*\) packets.*/\1/p' "$st") \
drops=$(sed -n 's/^capture: .* \([0-9]*\) dropped by the kernel.*/\1/p' "$st") \
banned=$(sed -n 's/^banned: *\([0-9]*\) now.*/\1/p' "$st") \
batches=$(sed -n 's/^ban queue: .* committed in \([0-9]*\) batches.*/\1/p' "$st") \
largest=$(sed -n 's/^ban queue: .*(largest \([0-9]*\)).*/\1/p' "$st") \
deferred=$(sed -n 's/^ *\([0-9]*\) found the queue full.*/\1/p' "$st") \
p50=$(sed -n 's/^latency: .* p50 <= \([0-9.]*\) ms.*/\1/p' "$st") \
p99=$(sed -n 's/^latency: .* p99 <= \([0-9.]*\) ms.*/\1/p' "$st")" >"$out"
	wb_stop
}

storm_all() {
	local be r
	for be in $BENCH_BACKENDS; do
		for r in $BENCH_STORM_RATES; do
			say "storm: $be at $r packets/s"
			storm_run "$be" "$r"
		done
	done
}

storm_table() {
	local be r line n b
	echo "  STORM ($(group "$ST_N") relay probers + $(group "$ST_M") good clients, one address each, $(group "$ST_PKTS") packets; tcpreplay -> veth -> wireban watch)"
	echo "    lag: from the last packet sent to the last ban in the kernel; bans/s: bans / (first packet -> last ban)"
	printf "  %-9s %8s %9s %9s %7s %8s %9s %8s %9s %8s %12s\n" backend "asked" "sent pps" \
	    "drops" "banned" "lag ms" "bans/s" batches "mean bat" largest "p50/p99 ms"
	for be in $BENCH_BACKENDS; do
		for r in $BENCH_STORM_RATES; do
			[ -f "$TMP/storm.$be.$r" ] || continue
			line=$(cat "$TMP/storm.$be.$r")
			case $line in FAILED*) printf "  %-9s %8s %s\n" "$be" "$r" "$line"; continue ;; esac
			n=$(field banned "$line")
			b=$(field batches "$line")
			printf "  %-9s %8s %9s %9s %7s %8s %9s %8s %9s %8s %12s\n" "$be" "$r" \
			    "$(group "$(field pps "$line")")" "$(group "$(field drops "$line")")" \
			    "$(group "${n:-0}")" "$(field lag_ms "$line")" \
			    "$(group "$(awk -v n="$(field kernel "$line")" -v t="$(field full_ms "$line")" 'BEGIN { if (t > 0) printf "%.0f", n * 1000 / t; else print "-" }')")" \
			    "$b" "$(awk -v n="${n:-0}" -v b="${b:-0}" 'BEGIN { if (b > 0) printf "%.1f", n / b; else print "-" }')" \
			    "$(field largest "$line")" "$(field p50 "$line")/$(field p99 "$line")"
		done
	done
	echo "    (target, at 100,000 packets/s: every prober banned, 0 drops, lag < 1 s; p50/p99: the enforcer's histogram, bucket bounds)"
	for be in $BENCH_BACKENDS; do
		line=$(cat "$TMP/storm.$be.100000" 2>/dev/null)
		case $line in sent=*) ;; *) continue ;; esac
		printf "  %-70s %s\n" "$be at 100,000 packets/s: all $(group "$ST_N") banned, 0 drops, lag < 1 s" \
		    "$(verdict "$(awk -v n="$(field kernel "$line")" -v w="$ST_N" -v d="$(field drops "$line")" -v l="$(field lag_ms "$line")" \
		    'BEGIN { print (n + 0 >= w && d + 0 == 0 && l != "" && l + 0 < 1000) ? 1 : 0 }')")"
	done
}

# ---- live capture: wireban against tcpdump --------------------------------------

# live_run CAPTURER RATE PCAP: one replay; "sent recv drops pps" in
# $TMP/live.CAPTURER.RATE
live_run() {
	local who=$1 rate=$2 pcap=$3 d=$TMP/live.run out=$TMP/live.$1.$2 pid
	rm -rf "$d"
	mkdir -p "$d"
	if [ "$who" = tcpdump ]; then
		# the same buffer and filter as wireban's (sniffer/capture.c)
		ip netns exec "$NS_CAP" tcpdump -i wbcap -n -s 262144 -B 8192 \
		    -w /dev/null 'tcp port 25 or tcp port 465 or tcp port 587 or (ip and ip[6:2] & 0x3fff != 0)' \
		    >"$d/td.log" 2>&1 &
		pid=$!
		NET_PIDS="$NET_PIDS $pid"
		sleep 1
		replay "$rate" "$pcap" "$d/tr.out"
		sleep 1
		kill -INT "$pid"
		wait "$pid" 2>/dev/null
		echo "$(tr_sent "$d/tr.out") $(sed -n 's/^\([0-9]*\) packets captured/\1/p' "$d/td.log") $(sed -n 's/^\([0-9]*\) packets dropped by kernel/\1/p' "$d/td.log") $(tr_pps "$d/tr.out")" >"$out"
		return
	fi
	kernel_clean
	wb_start "$d" "$LIVE_BACKEND" || { echo "- - - -" >"$out"; return; }
	replay "$rate" "$pcap" "$d/tr.out"
	sleep 1
	wb_status "$d"
	echo "$(tr_sent "$d/tr.out") $(sed -n 's/^capture: *\([0-9]*\) packets.*/\1/p' "$d/status") $(sed -n 's/^capture: .* \([0-9]*\) dropped by the kernel.*/\1/p' "$d/status") $(tr_pps "$d/tr.out")" >"$out"
	wb_stop
}

# Up the rates until each capturer's first rate with drops.
live_all() {
	local r who stopped=""
	for r in $BENCH_LIVE_RATES; do
		for who in tcpdump wireban; do
			case " $stopped " in *" $who "*) continue ;; esac
			say "live capture: $who at $r packets/s"
			live_run "$who" "$r" "$LIVE_PCAP"
			# shellcheck disable=SC2046
			set -- $(cat "$TMP/live.$who.$r")
			[ "${3:-1}" != 0 ] && stopped="$stopped $who"
		done
		[ "$stopped" = " tcpdump wireban" ] && break
	done
}

live_table() {
	local r who line best_td=0 best_wb=0 td_dropped=0 cell
	echo "  LIVE CAPTURE (the large capture, $(mb "$L_BYTES") MB, $(group "$L_PKTS") packets, tcpreplay -> veth -> capture on the other end; the same BPF filter and 8 MiB buffer;"
	echo "    wireban watch with firewall $LIVE_BACKEND; a rate climbs until the first one with kernel drops)"
	printf "  %-8s | %-34s | %-34s\n" "asked" "tcpdump -w /dev/null: pps sent, drops" "wireban watch: pps sent, drops"
	for r in $BENCH_LIVE_RATES; do
		[ -f "$TMP/live.tcpdump.$r" ] || [ -f "$TMP/live.wireban.$r" ] || continue
		printf "  %-8s" "$r"
		for who in tcpdump wireban; do
			if [ -f "$TMP/live.$who.$r" ]; then
				# shellcheck disable=SC2046
				set -- $(cat "$TMP/live.$who.$r")
				cell="$(group "${4:-0}") pps, $(group "${3:--}") dropped of $(group "${1:-0}")"
				if [ "${3:-1}" = 0 ]; then
					if [ "$who" = tcpdump ]; then
						[ "${4:-0}" -gt "$best_td" ] && best_td=$4
					else
						[ "${4:-0}" -gt "$best_wb" ] && best_wb=$4
					fi
				elif [ "$who" = tcpdump ]; then
					td_dropped=1
				fi
			else
				cell="(stopped: dropped at a lower rate)"
			fi
			printf " | %-34s" "$cell"
		done
		echo
	done
	if [ "$td_dropped" = 0 ]; then
		echo "  (tcpdump never dropped: its floor is at least tcpreplay's highest rate here)"
	fi
	printf "  %-70s %s\n" "highest rate without drops: tcpdump / wireban" "$(group "$best_td") / $(group "$best_wb") pps"
	printf "  %-70s %7s  target >= 0.8x: %s\n" "wireban / tcpdump (packets/s without drops)" \
	    "$(ratio "$best_wb" "$best_td")" \
	    "$(verdict "$(awk -v a="$best_wb" -v b="$best_td" 'BEGIN { print (b > 0 && a >= 0.8 * b) ? 1 : 0 }')")"
}
