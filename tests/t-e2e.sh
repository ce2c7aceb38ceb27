#!/bin/sh
# t-e2e.sh - end to end: a real exim, real clients, `wireban watch` and
# real bans in the kernel, for each firewall backend.
#
# Two network namespaces joined by a veth pair: the mail host S (exim on
# 10.77.0.1 and fd77::1, wireban watching its end of the veth, the
# firewall) and the clients C (10.77.0.5..., and IPv6 clients in /64s
# of their own: fd77:0:0:105::5 and ::6, fd77:0:0:106::5, ...). For
# nftables and ipset, the default and the other set backend, every
# scenario below; for the compatibility backend iptables, 1 and 4.
#
#   1  relay probe from 10.77.0.5 -> 550 -> within 1 s the ban is in the
#      kernel's set, `wireban list` and the events file have it; .5 can
#      no longer connect, .6 still can
#   2  a banned client's open session is reset (ECONNRESET), exim's end
#      too
#   5  an address in ignoreip is rejected by exim but never banned
#   6  ban/unban by hand (addresses and prefixes; --for 0s refused);
#      uid 65534 cannot use the control socket
#  11  IPv6: a relay prober from fd77:0:0:105::5 is banned within 1 s
#      as its /64: fd77:0:0:105::6 (same /64) is refused too,
#      fd77:0:0:106::5 (another /64) and every IPv4 client still connect
#  12  IPv6: the open session of a banned IPv6 client is reset
#   7  SIGTERM: exit 0, the table/sets and rules removed, bans kept in
#      the state, clients connect again
#   3  bantime 3s: the ban is lifted on time with no packet to wake
#      wireban up
#  3k  bantime 3s, wireban killed -9 and never restarted: the KERNEL
#      lifts the ban at its timeout
#   4  kill -9, firewall tampered with, restart: within 1 s the ban is
#      back from the journal, an element it does not know is gone
# and once, with nftables:
#   8  SIGHUP reloads the rules (a broken file is refused)
#   9  replay --apply of a capture of scenario 1 bans for real and
#      merges into the state; a dry replay touches nothing
#  10  keep_on_exit: SIGTERM leaves the bans in the kernel
#  13  ignoreself cannot be won: the attacker makes our MX send it mail,
#      answers 550; no offence against anyone, and its own relay probe
#      is still banned
#
# Run as `sh tests/t-e2e.sh` from anywhere (it cds to the repo root);
# WIREBAN=PATH runs another build, E2E_BACKENDS="nftables" a subset,
# KEEP_TMP=1 keeps the temporary directory. Prints "ok N - ..." /
# "not ok N - ..." per assertion and "N passed, N failed" last; exits 0
# when all passed, 1 when any failed, 77 ("SKIP: reason") when not root
# or a tool is missing.
#
# Invariant: the host's firewall and network are never touched. Every
# firewall, exim, wireban and client command runs through `ip netns
# exec` in namespaces made here (wbe2e-PID-N-{s,c}). The EXIT trap stops
# every process started here by PID, deletes the namespaces and the
# temporary directory.

set -u
cd "$(dirname "$0")/.." || exit 2
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
ROOT=$(pwd)
. "$ROOT/tests/lib/tap.sh"
WB=${WIREBAN:-$ROOT/wireban}
case $WB in /*) ;; *) WB=$ROOT/$WB ;; esac
BACKENDS=${E2E_BACKENDS:-"nftables ipset iptables"}

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "not root (needs network namespaces, a firewall, exim)"
for cmd in ip exim4 python3 nft ipset iptables-legacy setpriv ss tcpdump; do
	command -v "$cmd" >/dev/null 2>&1 || skip "$cmd not installed"
done
if [ ! -x "$WB" ]; then
	echo "not ok 1 - $WB is built (run make wireban)"
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbe2e.XXXXXX") || skip "mktemp failed"
chmod 755 "$TMP"
NSS=""		# namespaces made here
PIDS=""		# wireban, tcpdump and helper PIDs
EXIMS=""	# exim daemon PIDs (each run with -bdf: $! is the daemon)

forget() {
	_out=""
	for _p in $2; do
		[ "$_p" = "$1" ] || _out="$_out $_p"
	done
	echo "$_out"
}


cleanup() {
	_rc=$?
	trap '' INT TERM HUP
	trap - EXIT
	for _p in $PIDS; do
		stop "$_p"
	done
	for _p in $EXIMS; do
		for _c in $(ps -o pid= --ppid "$_p" 2>/dev/null); do
			kill -9 "$_c" 2>/dev/null
		done
		stop "$_p"
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

# ---- the client -------------------------------------------------------------

# greet SRC DST TIMEOUT: connect, print the greeting; exit 1 on timeout.
# probe SRC DST: EHLO, MAIL, RCPT to a remote domain; print the reply.
# hold SRC DST: as probe, keep the socket, 0.5 s later another RCPT: what
#     became of it.
# serve ADDR: an SMTP server on ADDR:25 that answers 550 to every RCPT
#     (the attacker's host in scenario 13), until killed.
cat >"$TMP/client.py" <<'EOF'
import socket, sys, time

def fam(a):
    return socket.AF_INET6 if ":" in a else socket.AF_INET

def connect(src, dst, timeout):
    s = socket.socket(fam(dst), socket.SOCK_STREAM)
    s.bind((src, 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(timeout)
    s.connect((dst, 25))
    return s

buf = b""
def reply(s):
    global buf
    while True:
        while b"\n" not in buf:
            d = s.recv(4096)
            if not d:
                raise EOFError()
            buf += d
        line, buf = buf.split(b"\n", 1)
        line = line.rstrip(b"\r").decode("ascii", "replace")
        if len(line) < 4 or line[3] != "-":
            return line

def serve(addr):
    ls = socket.socket(fam(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, 25))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        f = c.makefile("rb")
        c.sendall(b"220 attacker.example ESMTP\r\n")
        for line in f:
            v = line[:4].upper()
            if v == b"QUIT":
                c.sendall(b"221 bye\r\n")
                break
            if v == b"RCPT":
                c.sendall(b"550 relay not permitted\r\n")
            else:
                c.sendall(b"250 ok\r\n")
        c.close()

mode = sys.argv[1]
if mode == "serve":
    serve(sys.argv[2])
src, dst = sys.argv[2], sys.argv[3]
if mode == "greet":
    try:
        print(reply(connect(src, dst, float(sys.argv[4]))))
        sys.exit(0)
    except socket.timeout:
        print("timeout")
        sys.exit(1)
    except Exception as e:
        print("error: %r" % e)
        sys.exit(2)
s = connect(src, dst, 5)
print("S:", reply(s))
for c in ("EHLO probe.example", "MAIL FROM:<x@example.com>",
          "RCPT TO:<v@elsewhere.example>"):
    s.sendall((c + "\r\n").encode())
    print("C:", c)
    print("S:", reply(s))
if mode == "probe":
    s.sendall(b"QUIT\r\n")
    try:
        print("S:", reply(s))
    except Exception:
        pass
    sys.exit(0)
time.sleep(0.5)
s.settimeout(2)
t0 = time.time()
try:
    s.sendall(b"RCPT TO:<w@elsewhere.example>\r\n")
    print("C: RCPT TO:<w@elsewhere.example>")
    print("reply:", reply(s))
except ConnectionResetError:
    print("reset after %.2fs" % (time.time() - t0))
except BrokenPipeError:
    print("broken pipe after %.2fs" % (time.time() - t0))
except EOFError:
    print("eof after %.2fs" % (time.time() - t0))
except socket.timeout:
    print("timeout, no reply in %.2fs" % (time.time() - t0))
EOF

# ---- helpers ----------------------------------------------------------------

S="" C="" D="" WBPID="" TAP_PREFIX=""

indent() { sed 's/^/    /'; }

sx() { ip netns exec "$S" "$@"; }
cx() { ip netns exec "$C" "$@"; }
wbc() { sx "$WB" -o "paths.socket=$D/sock" "$@"; }

# What the kernel holds for the backend under test.
kernel() {
	case $BACKEND in
	nftables) sx nft list table inet wireban 2>&1 ;;
	ipset) sx ipset list 2>&1; sx iptables-legacy -w 5 -S INPUT 2>&1
	    sx ip6tables-legacy -w 5 -S INPUT 2>&1 ;;
	iptables) sx iptables-legacy -w 5 -S 2>&1
	    sx ip6tables-legacy -w 5 -S wireban 2>&1 ;;
	esac
}

on_fail() {
	{
		echo "kernel ($BACKEND, namespace $S):"
		kernel | head -n 40
		echo "wireban list:"
		wbc list 2>&1 | head -n 10
		echo "wireban log (last 10 lines):"
		tail -n 10 "$D"/wb*.log 2>/dev/null
		echo "events (last 6):"
		tail -n 6 "$D/events.jsonl" 2>/dev/null
		echo "exim mainlog (last 6):"
		tail -n 6 "$D/log/mainlog" 2>/dev/null
	} | indent
}



# new_pair: fresh namespaces S and C joined by a veth; sets S, C, D.
new_pair() {
	NSCOUNT=$((${NSCOUNT:-0} + 1))
	S="wbe2e-$$-$NSCOUNT-s"
	C="wbe2e-$$-$NSCOUNT-c"
	D=$TMP/$NSCOUNT
	mkdir "$D"
	if ! ip netns add "$S" 2>"$D/netns.err"; then
		[ "$NSCOUNT" = 1 ] &&
		    skip "ip netns unavailable: $(head -n1 "$D/netns.err")"
		echo "Bail out! ip netns add $S: $(cat "$D/netns.err")"
		exit 1
	fi
	NSS="$NSS $S"
	ip netns add "$C" || { echo "Bail out! ip netns add $C"; exit 1; }
	NSS="$NSS $C"
	ip link add vs netns "$S" type veth peer name vc netns "$C" || {
		echo "Bail out! veth pair"; exit 1; }
	sx ip link set lo up
	cx ip link set lo up
	sx ip addr add 10.77.0.1/24 dev vs
	sx ip addr add fd77::1/64 dev vs nodad
	for _a in 5 6 7 8 9 66; do
		cx ip addr add 10.77.0.$_a/24 dev vc
	done
	# IPv6 clients live in /64s of their own (a ban of the server's
	# own /64 would fall back to the one address: it holds fd77::1):
	# fd77:0:0:105::/64 (two of them), 106 and 107.
	cx ip addr add fd77:0:0:105::5/64 dev vc nodad
	cx ip addr add fd77:0:0:105::6/64 dev vc nodad
	cx ip addr add fd77:0:0:106::5/64 dev vc nodad
	cx ip addr add fd77:0:0:107::5/64 dev vc nodad
	sx ip link set vs up
	cx ip link set vc up
	sx ip -6 route add fd77:0:0:100::/56 dev vs
	cx ip -6 route add fd77::/64 dev vc
}

listening25() { sx ss -Hltn 'sport = :25' | grep -q .; }

start_exim() {
	mkdir "$D/spool" "$D/log"
	chown Debian-exim:Debian-exim "$D/spool" "$D/log"
	sed -e "s|@TMP@|$D|g" -e "s|@IFACES@|10.77.0.1 ; fd77::1|" \
	    "$ROOT/tests/e2e-exim.conf" >"$D/exim.conf"
	chown root:root "$D/exim.conf"
	chmod 644 "$D/exim.conf"
	ip netns exec "$S" exim4 -C "$D/exim.conf" -bdf -oX 25 \
	    -oP "$D/exim.pid" >"$D/exim.out" 2>&1 &
	EXIMS="$EXIMS $!"
	if ! eventually 50 listening25; then
		echo "Bail out! exim did not start in $S"
		indent <"$D/exim.out"
		exit 1
	fi
}

# start_wb LOG [-o ...]: wireban watch on S's veth; sets WBPID.
start_wb() {
	_log=$D/$1
	shift
	ip netns exec "$S" "$WB" watch -i vs -o "firewall.backend=$BACKEND" \
	    -o paths.log=stderr \
	    -o "paths.state=$D/state" -o "paths.socket=$D/sock" \
	    -o "paths.events=$D/events.jsonl" "$@" >"$_log" 2>&1 &
	WBPID=$!
	PIDS="$PIDS $WBPID"
}

watching() { grep -q "watching" "$1" && [ -S "$D/sock" ]; }

wait_wb() {
	if ! eventually 50 watching "$D/$1"; then
		echo "Bail out! wireban watch did not start in $S"
		indent <"$D/$1"
		exit 1
	fi
}

# probe SRC [DST]: a relay probe from SRC; 550 expected.
probe() {
	_dst=${2:-10.77.0.1}
	case $1 in *:*) _dst=${2:-fd77::1} ;; esac
	cx "$PY" "$TMP/client.py" probe "$1" "$_dst" >"$D/probe.$1" 2>&1
	grep -q '^S: 550 relay not permitted' "$D/probe.$1" || {
		indent <"$D/probe.$1"
		return 1
	}
}

# in_kernel PREFIX: the backend holds a ban of exactly PREFIX.
in_kernel() {
	case $BACKEND in
	nftables)
		# The hash sets hold prefixes of the policy's lengths (/32,
		# /64) by their network; any other length is in an interval
		# set (bans/fw_nft_text.c).
		case $1 in
		*:*/64) _set=ipv6_addr _e=${1%/64} ;;
		*:*) _set=ipv6_net _e=$1 ;;
		*/32) _set=ipv4_addr _e=${1%/32} ;;
		*/*) _set=ipv4_net _e=$1 ;;
		*) _set=ipv4_addr _e=$1 ;;
		esac
		sx nft get element inet wireban "$_set" "{ $_e }" \
		    >/dev/null 2>&1 ;;
	ipset)
		case $1 in *:*) _set=wireban6 ;; *) _set=wireban4 ;; esac
		sx ipset list "$_set" 2>/dev/null | grep -q "^$1 " ;;
	iptables)
		case $1 in
		*/*) _r=$1 ;;
		*:*) _r=$1/128 ;;
		*) _r=$1/32 ;;
		esac
		case $1 in *:*) _tool=ip6tables-legacy ;; *) _tool=iptables-legacy ;; esac
		sx $_tool -w 5 -S wireban 2>/dev/null |
		    grep -qxF -- "-A wireban -s $_r -j DROP" ;;
	esac
}
not_in_kernel() { kernel >/dev/null; ! in_kernel "$1"; }
# The backend's table/sets/rules exist at all.
kernel_up() {
	case $BACKEND in
	nftables) sx nft list table inet wireban >/dev/null 2>&1 ;;
	ipset) sx ipset list -n 2>/dev/null | grep -qx wireban4 ;;
	iptables) sx iptables-legacy -w 5 -S wireban >/dev/null 2>&1 ;;
	esac
}
kernel_gone() { ! kernel_up && ! sx iptables-legacy -w 5 -S INPUT |
    grep -q wireban; }

listed() { wbc list 2>/dev/null | grep -q "^$1 "; }
not_listed() { wbc list >"$D/list.out" 2>&1 && ! grep -q "^$1 " "$D/list.out"; }
list_empty() { [ "$(wbc list 2>&1)" = "OK" ]; }
event() {
	grep -F "\"event\":\"$1\"" "$D/events.jsonl" 2>/dev/null |
	    grep -qF "\"client\":\"$2\""
}
no_event() { ! event "$@"; }
# connects SRC [DST]: a new connection from SRC gets exim's 220.
connects() {
	_dst=${2:-10.77.0.1}
	case $1 in *:*) _dst=${2:-fd77::1} ;; esac
	cx "$PY" "$TMP/client.py" greet "$1" "$_dst" 2 | grep -q '^220 '
}
# blocked SRC: a new connection from SRC times out (2 s).
blocked() {
	_dst=10.77.0.1
	case $1 in *:*) _dst=fd77::1 ;; esac
	cx "$PY" "$TMP/client.py" greet "$1" "$_dst" 2 >"$D/greet.$1" 2>&1
	[ $? = 1 ] || { indent <"$D/greet.$1"; return 1; }
}
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! alive "$1"; }
sigterm_wb() {
	kill -TERM "$WBPID"
	eventually 30 dead "$WBPID"
	wait "$WBPID"
	_rc=$?
	PIDS=$(forget "$WBPID" "$PIDS")
	return $_rc
}
kill9_wb() {
	kill -9 "$WBPID"
	wait "$WBPID" 2>/dev/null
	PIDS=$(forget "$WBPID" "$PIDS")
}

# hold SRC: a session kept open across its own ban; was it reset?
held_reset() {
	_dst=10.77.0.1
	case $1 in *:*) _dst=fd77::1 ;; esac
	cx "$PY" "$TMP/client.py" hold "$1" "$_dst" >"$D/hold.$1" 2>&1
	grep -q '^S: 550 relay not permitted' "$D/hold.$1" &&
	    grep -q '^reset\|^broken pipe' "$D/hold.$1" || {
		indent <"$D/hold.$1"
		return 1
	}
}
exim_side_closed() {
	! sx ss -Htn state established "( sport = :25 and dst $1 )" |
	    grep -q .
}

# ---- the scenarios, per backend ---------------------------------------------

# 1, 2, 5, 6, 11, 12, 7: one pair, default policy (bantime 1h).
main_scenarios() {
	new_pair
	start_exim
	# The capture of scenario 1's probe, for scenario 9.
	ip netns exec "$S" tcpdump -i vs -U -w "$D/probe.pcap" \
	    'tcp port 25' >/dev/null 2>&1 &
	TDPID=$!
	PIDS="$PIDS $TDPID"
	sleep 0.5
	start_wb wb.log -o policy.ignoreip=10.77.0.7
	wait_wb wb.log

	echo "# 1: relay probe banned, the kernel drops the client"
	check "[1] exim answers 10.77.0.5 '550 relay not permitted'" probe 10.77.0.5
	check "[1] within 1 s the kernel holds the ban of 10.77.0.5" \
	    eventually 10 in_kernel 10.77.0.5
	check "[1] wireban list shows 10.77.0.5 (rule relay)" \
	    eval 'wbc list | grep -q "^10\.77\.0\.5  *relay  *left [0-9]*s"'
	check "[1] events file: reject (rule relay) and ban for 10.77.0.5" \
	    eval 'event reject 10.77.0.5 && event ban 10.77.0.5'
	check "[1] a new connection from 10.77.0.5 times out (2 s)" blocked 10.77.0.5
	check "[1] a new connection from 10.77.0.6 gets the 220 greeting" \
	    connects 10.77.0.6
	check "[1] the start line says which backend and how to list the bans" \
	    grep -q "firewall $BACKEND (see the bans: " "$D/wb.log"
	# Capabilities are per thread: every one of watch's threads (the
	# capture loop, the enforcer) keeps CAP_NET_ADMIN and CAP_NET_RAW
	# (bits 12, 13: 0x3000) and nothing else, bounding set included.
	caps_ok() {
		for _st in /proc/$WBPID/task/*/status; do
			grep -q "^CapEff:	0000000000003000$" "$_st" &&
			    grep -q "^CapBnd:	0000000000003000$" "$_st" &&
			    grep -q "^NoNewPrivs:	1$" "$_st" || {
				grep "^Cap\|^NoNew" "$_st" | indent; return 1; }
		done
		[ "$(ls /proc/$WBPID/task | wc -l)" -ge 2 ]
	}
	check "[1] every thread of watch holds only CAP_NET_ADMIN and CAP_NET_RAW" \
	    caps_ok
	stop "$TDPID"
	PIDS=$(forget "$TDPID" "$PIDS")
	cp "$D/probe.pcap" "$TMP/probe.pcap" 2>/dev/null

	echo "# 2: the banned client's open session is cut"
	check "[2] the held session of 10.77.0.8 draws 550 and is reset" \
	    held_reset 10.77.0.8
	check "[2] 10.77.0.8 is banned" eventually 10 in_kernel 10.77.0.8
	check "[2] exim's end of the session is closed within 2 s" \
	    eventually 20 exim_side_closed 10.77.0.8

	echo "# 5: ignoreip: rejected, never banned"
	check "[5] exim answers 10.77.0.7 '550 relay not permitted'" probe 10.77.0.7
	check "[5] events file: the reject of 10.77.0.7" \
	    eventually 10 event reject 10.77.0.7
	wbc status >/dev/null 2>&1
	check "[5] no ban of 10.77.0.7 in the kernel" not_in_kernel 10.77.0.7
	check "[5] no ban event for 10.77.0.7" no_event ban 10.77.0.7
	check "[5] 10.77.0.7 still connects" connects 10.77.0.7

	if [ "$BACKEND" != iptables ]; then
		echo "# 11: IPv6: a prober is banned as its /64"
		check "[11] exim answers fd77:0:0:105::5 '550 relay not permitted'" \
		    probe fd77:0:0:105::5
		check "[11] within 1 s the kernel holds the ban of fd77:0:0:105::/64" \
		    eventually 10 in_kernel fd77:0:0:105::/64
		check "[11] events file: ban of fd77:0:0:105::/64" \
		    event ban fd77:0:0:105::/64
		check "[11] fd77:0:0:105::5 can no longer connect over IPv6" \
		    blocked fd77:0:0:105::5
		check "[11] fd77:0:0:105::6, same /64, is refused as well" \
		    blocked fd77:0:0:105::6
		check "[11] fd77:0:0:106::5, another /64, still connects" \
		    connects fd77:0:0:106::5
		check "[11] IPv4 clients still connect (10.77.0.6)" connects 10.77.0.6

		echo "# 12: IPv6: the open session of a banned client is cut"
		check "[12] the held session of fd77:0:0:107::5 draws 550 and is reset" \
		    held_reset fd77:0:0:107::5
		check "[12] fd77:0:0:107::/64 is banned" \
		    eventually 10 in_kernel fd77:0:0:107::/64
		check "[12] exim's end of the session is closed within 2 s" \
		    eventually 20 exim_side_closed fd77:0:0:107::5
	fi

	echo "# 6: ban and unban by hand; the socket is root's only"
	check "[6] wireban ban 10.77.0.9 --for 30s" \
	    eval 'wbc ban 10.77.0.9 --for 30s | grep -q "^banned 10.77.0.9"'
	check "[6] the kernel holds the ban of 10.77.0.9" \
	    eventually 10 in_kernel 10.77.0.9
	check "[6] wireban list shows 10.77.0.9, rule manual, at most 30 s left" \
	    eval 'wbc list | grep -Eq "^10\.77\.0\.9 +manual +left ([0-2]?[0-9]|30)s"'
	check "[6] wireban ban 198.51.100.0/24 bans the prefix" \
	    eval 'wbc ban 198.51.100.0/24 --for 1m | grep -q "^banned 198.51.100.0/24"'
	check "[6] the kernel holds 198.51.100.0/24" \
	    eventually 10 in_kernel 198.51.100.0/24
	check "[6] a ban longer than bantime_max (1w) is capped, and says so" \
	    eval 'wbc ban 10.77.0.8/32 --for 30d 2>&1 | grep -q "capped at policy.bantime_max (604800s)"'
	check "[6] with --force it is not: 30 days left" \
	    eval 'wbc ban 198.51.100.7 --for 30d --force | grep -q "^banned" &&
	    wbc list | grep -Eq "^198\.51\.100\.7 +manual +left 259[0-9]{4}s"'
	check "[6] --for 0s is refused (exit 2)" \
	    eval 'wbc ban 10.77.0.9 --for 0s >/dev/null 2>&1; [ $? = 2 ]'
	check "[6] 0.0.0.0, 255.255.255.255, 224.0.0.1, ::1 are never banned" \
	    eval '! wbc ban 0.0.0.0 >/dev/null 2>&1 &&
	    ! wbc ban 255.255.255.255 >/dev/null 2>&1 &&
	    ! wbc ban 224.0.0.1 >/dev/null 2>&1 && ! wbc ban ::1 >/dev/null 2>&1'
	check "[6] this host's own address 10.77.0.1 is never banned" \
	    eval '! wbc ban 10.77.0.1 >/dev/null 2>&1'
	check "[6] wireban unban 10.77.0.9" \
	    eval 'wbc unban 10.77.0.9 | grep -q "^unbanned 10.77.0.9"'
	check "[6] the ban of 10.77.0.9 is gone from the kernel" \
	    eventually 10 not_in_kernel 10.77.0.9
	check "[6] list: 10.77.0.9 gone, 10.77.0.5 still there" \
	    eval 'not_listed 10.77.0.9 && listed 10.77.0.5'
	check "[6] events file: unban for 10.77.0.9" event unban 10.77.0.9
	mkdir -p "$TMP/bin"
	cp "$WB" "$TMP/bin/wireban"
	chmod 755 "$TMP/bin" "$TMP/bin/wireban"
	nobody() {
		(
			trap '' PIPE
			exec ip netns exec "$S" setpriv --reuid=65534 \
			    --regid=65534 --clear-groups "$TMP/bin/wireban" \
			    -o "paths.socket=$D/sock" status
		) >"$D/nobody.out" 2>&1
		_rc=$?
		[ $_rc != 0 ] && grep -q "$1" "$D/nobody.out"
	}
	check "[6] the socket is root's, mode 0600" \
	    eval '[ "$(stat -c "%U %a" "$D/sock")" = "root 600" ]'
	check "[6] uid 65534: wireban status fails (Permission denied)" \
	    nobody "Permission denied"
	chmod 666 "$D/sock"
	check "[6] socket made 0666: uid 65534 is refused (peer uid check)" \
	    nobody "only root"
	chmod 600 "$D/sock"
	check "[6] root's wireban status still works" \
	    eval 'wbc status | tail -n1 | grep -qx OK'

	echo "# 7: SIGTERM stops cleanly"
	sigterm_wb
	rc=$?
	check "[7] watch exits 0 on SIGTERM (exit $rc)" [ "$rc" = 0 ]
	check "[7] the backend's table, sets and rules are gone" kernel_gone
	check "[7] the control socket is removed" eval '[ ! -e "$D/sock" ]'
	check "[7] the bans are kept in the state" \
	    eval 'cat "$D/state" "$D/state.journal" 2>/dev/null | grep -q "^ban 10\.77\.0\.5 "'
	check "[7] 10.77.0.5 connects again" connects 10.77.0.5
}

# 3, 3k: bantime 3s.
expiry_scenarios() {
	new_pair
	start_exim
	start_wb wb.log -o policy.bantime=3s
	wait_wb wb.log
	echo "# 3: bantime 3s: lifted on time"
	check "[3] exim answers 10.77.0.5 '550 relay not permitted'" probe 10.77.0.5
	check "[3] within 1 s the kernel holds the ban" \
	    eventually 10 in_kernel 10.77.0.5
	check "[3] events file: ban of 3 s" \
	    eval 'grep -F "\"event\":\"ban\"" "$D/events.jsonl" |
	    grep -F "\"client\":\"10.77.0.5\"" | grep -qF "\"duration\":3,"'
	check "[3] within 5 s the ban is gone, no packet needed" \
	    eventually 50 not_in_kernel 10.77.0.5
	check "[3] wireban list is empty" list_empty
	check "[3] events file: unban for 10.77.0.5" event unban 10.77.0.5
	check "[3] 10.77.0.5 connects again" connects 10.77.0.5
	if [ "$BACKEND" != iptables ]; then
		echo "# 3k: killed -9 and never restarted: the kernel lifts it"
		check "[3k] exim answers 10.77.0.6 '550 relay not permitted'" \
		    probe 10.77.0.6
		check "[3k] within 1 s the kernel holds the ban" \
		    eventually 10 in_kernel 10.77.0.6
		kill9_wb
		check "[3k] wireban is dead; the ban is still in the kernel" \
		    in_kernel 10.77.0.6
		check "[3k] within 5 s the kernel's timeout lifts it" \
		    eventually 50 not_in_kernel 10.77.0.6
		check "[3k] 10.77.0.6 connects again" connects 10.77.0.6
	fi
}

# 4: kill -9 and restart.
restart_scenario() {
	new_pair
	start_exim
	start_wb wb.log
	wait_wb wb.log
	echo "# 4: kill -9 and restart: the ban comes back"
	check "[4] exim answers 10.77.0.5 '550 relay not permitted'" probe 10.77.0.5
	check "[4] within 1 s the kernel holds the ban" \
	    eventually 10 in_kernel 10.77.0.5
	kill9_wb
	check "[4] after kill -9 the ban is still in the kernel" \
	    in_kernel 10.77.0.5
	# The firewall was reset meanwhile (a reboot, an admin), and someone
	# left a ban wireban never made: only the journal can restore it.
	case $BACKEND in
	nftables)
		sx nft delete table inet wireban
		sx nft -f - <<-EOF
		table inet wireban {
			set ipv4_addr { type ipv4_addr; flags timeout; elements = { 10.77.0.99 } }
		}
		EOF
		;;
	ipset)
		sx ipset del wireban4 10.77.0.5
		sx ipset add wireban4 10.77.0.99 timeout 3600 ;;
	iptables)
		sx iptables-legacy -w 5 -D wireban -s 10.77.0.5/32 -j DROP
		sx iptables-legacy -w 5 -A wireban -s 10.77.0.99/32 -j DROP ;;
	esac
	check "[4] (set-up) 10.77.0.5 removed, a stray 10.77.0.99 added" \
	    eval 'not_in_kernel 10.77.0.5 && in_kernel 10.77.0.99'
	start_wb wb2.log
	check "[4] restarted: within 1 s the ban of 10.77.0.5 is back" \
	    eventually 10 in_kernel 10.77.0.5
	check "[4] the stray 10.77.0.99 is gone" \
	    eventually 10 not_in_kernel 10.77.0.99
	wait_wb wb2.log
	check "[4] wireban list shows 10.77.0.5 with about an hour left" \
	    eval 'wbc list | grep -Eq "^10\.77\.0\.5 +relay +left 3[0-9]{3}s"'
	check "[4] the log says 1 ban is in force" \
	    grep -q "1 bans in force" "$D/wb2.log"
	check "[4] a new connection from 10.77.0.5 still times out" \
	    blocked 10.77.0.5
	sigterm_wb
}

# ---- once, with nftables ------------------------------------------------------

once_scenarios() {
	new_pair
	start_exim
	printf '[rule relay]\noffence = no\n' >"$D/wb.conf"
	start_wb wb.log -c "$D/wb.conf"
	wait_wb wb.log
	echo "# 8: SIGHUP reloads the configuration"
	check "[8] exim answers 10.77.0.5 '550 relay not permitted'" probe 10.77.0.5
	check "[8] events file: the reject of 10.77.0.5, no offence" \
	    eventually 10 eval 'grep -F "\"client\":\"10.77.0.5\"" "$D/events.jsonl" |
	    grep -qF "\"offence\":false"'
	wbc status >/dev/null 2>&1
	check "[8] relay is no offence: no ban of 10.77.0.5" not_in_kernel 10.77.0.5
	: >"$D/wb.conf"
	kill -HUP "$WBPID"
	check "[8] SIGHUP: the log says reloaded" \
	    eventually 20 grep -q "configuration reloaded" "$D/wb.log"
	check "[8] after the reload 10.77.0.6 is banned for the same probe" \
	    eval 'probe 10.77.0.6 && eventually 10 in_kernel 10.77.0.6'
	printf '[policy]\nbantime = soon\n' >"$D/wb.conf"
	kill -HUP "$WBPID"
	check "[8] a broken file is refused, naming file:line and key" \
	    eventually 20 grep -q "reload refused.*wb.conf:2: policy.bantime" \
	    "$D/wb.log"
	check "[8] still on the old configuration: 10.77.0.8 banned" \
	    eval 'probe 10.77.0.8 && eventually 10 in_kernel 10.77.0.8'

	echo "# 13: the attacker cannot make itself \"self\""
	cx "$PY" "$TMP/client.py" serve 10.77.0.66 >"$D/serve.out" 2>&1 &
	SRVPID=$!
	PIDS="$PIDS $SRVPID"
	eventually 30 eval 'cx ss -Hltn "sport = :25" | grep -q .'
	# Our MX (10.77.0.1) sends mail out to the attacker, who answers 550.
	check "[13] an outbound session from 10.77.0.1 draws 550 from 10.77.0.66" \
	    eval 'sx "$PY" "$TMP/client.py" probe 10.77.0.1 10.77.0.66 \
	    >"$D/out.probe" 2>&1; grep -q "^S: 550" "$D/out.probe"'
	check "[13] events file: that reject is no offence" \
	    eventually 10 eval 'grep -F "\"client\":\"10.77.0.1\"" "$D/events.jsonl" |
	    grep -F "\"event\":\"reject\"" | grep -q .'
	wbc status >/dev/null 2>&1
	check "[13] our own 10.77.0.1 is not banned" not_in_kernel 10.77.0.1
	check "[13] status counts it as a session this host opened" \
	    eval 'wbc status | grep -q "(1 in sessions this host opened"'
	check "[13] the attacker's own relay probe is still banned" \
	    eval 'probe 10.77.0.66 && eventually 10 in_kernel 10.77.0.66'
	stop "$SRVPID"
	PIDS=$(forget "$SRVPID" "$PIDS")

	echo "# 10: keep_on_exit leaves the bans in the kernel"
	sigterm_wb
	start_wb wb3.log -o firewall.keep_on_exit=yes
	wait_wb wb3.log
	check "[10] (set-up) 10.77.0.6 banned again after the restart" \
	    eventually 10 in_kernel 10.77.0.6
	sigterm_wb
	check "[10] SIGTERM with keep_on_exit: the ban stays in the kernel" \
	    in_kernel 10.77.0.6

	echo "# 9: replay --apply bans for real and merges into the state"
	new_pair
	check "[9] (set-up) the capture of scenario 1 exists" \
	    eval '[ -s "$TMP/probe.pcap" ]'
	printf 'wireban-state 1\nban 192.0.2.44 manual 1.000000 %s.000000 1 0\n' \
	    "$(($(date +%s) + 3600))" >"$D/state"
	check "[9] replay --apply of it exits 0" \
	    eval 'sx "$WB" -o "paths.state=$D/state" -o "firewall.backend=$BACKEND" \
	    replay --apply "$TMP/probe.pcap" >"$D/apply.out" 2>&1'
	check "[9] the kernel holds the ban of 10.77.0.5" in_kernel 10.77.0.5
	check "[9] the report says Banned: 1" grep -q "^Banned: 1 bans" "$D/apply.out"
	check "[9] the state holds the new ban and the old one (merged)" \
	    eval 'cat "$D/state" "$D/state.journal" 2>/dev/null | grep -q "^ban 10\.77\.0\.5 " &&
	    cat "$D/state" "$D/state.journal" 2>/dev/null | grep -q "^ban 192\.0\.2\.44 "'
	start_wb wb.log
	wait_wb wb.log
	check "[9] a second writer is refused while watch holds the state" \
	    eval '! sx "$WB" -o "paths.state=$D/state" replay --apply \
	    "$TMP/probe.pcap" >"$D/apply2.out" 2>&1 &&
	    grep -q "in use by another wireban (pid $WBPID)" "$D/apply2.out"'
	sigterm_wb
	check "[9] a dry replay touches nothing" \
	    eval 'sx "$WB" -o firewall.table=other replay "$TMP/probe.pcap" \
	    >/dev/null 2>&1 && ! sx nft list table inet other >/dev/null 2>&1'
}

for BACKEND in $BACKENDS; do
	TAP_PREFIX="$BACKEND: "
	echo "# ==== backend $BACKEND"
	case $BACKEND in
	iptables)
		main_scenarios
		restart_scenario ;;
	*)
		main_scenarios
		expiry_scenarios
		restart_scenario ;;
	esac
done
BACKEND=nftables TAP_PREFIX="nftables: "
case " $BACKENDS " in *" nftables "*) once_scenarios ;; esac

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] || exit 1
exit 0
