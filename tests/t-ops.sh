#!/bin/sh
# t-ops.sh - what an operator relies on, with a real exim and `wireban
# watch` in two network namespaces joined by a veth (as t-e2e.sh):
#
#   1  the metrics file (paths.metrics) is Prometheus' text format
#      (promtool check metrics), rewritten every metrics_interval, and
#      its counters agree with `wireban status`; `status --prometheus`
#      prints the same
#   2  log rotation: while probes keep coming, the events file is moved
#      away and SIGUSR1 sent; every event is in one of the two files,
#      none lost, none cut in two
#   3  paths.log=syslog: the ban line reaches syslog (a /dev/log of the
#      test's own, bind-mounted in a private mount namespace)
#   4  the control socket does not let one client stall the daemon: with
#      a client dripping a byte at a time, a client that never reads a
#      `list` of 20,000 bans, and 100 idle connections, `status` answers
#      in under 100 ms and a relay probe is banned as fast as without
#      them; the dripping client is dropped at its deadline
#
# Prints "ok N - ..." lines and "N passed, N failed"; exit 77 with
# "SKIP: reason" when not root or a tool is missing. Only namespaces made
# here are touched; every process started here is stopped by PID.

set -u
cd "$(dirname "$0")/.." || exit 2
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
ROOT=$(pwd)
. "$ROOT/tests/lib/tap.sh"
# A failed check shows the end of the daemons' logs.
on_fail() { tail -n 5 "$D"/wb*.log 2>/dev/null | sed 's/^/    /'; }
WB=${WIREBAN:-$ROOT/wireban}
case $WB in /*) ;; *) WB=$ROOT/$WB ;; esac

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root (needs network namespaces, a firewall, exim)"
for cmd in ip exim4 nft unshare; do
	command -v "$cmd" >/dev/null 2>&1 || skip "$cmd not installed"
done
[ -x "$WB" ] || { echo "not ok 1 - $WB is built"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbops.XXXXXX") || skip "mktemp failed"
chmod 755 "$TMP"
S="wbops-$$-s" C="wbops-$$-c" D=$TMP
PIDS="" EXIM=""

cleanup() {
	_rc=$?
	trap '' INT TERM HUP
	trap - EXIT
	for _p in $PIDS; do stop "$_p"; done
	if [ -n "$EXIM" ]; then
		for _c in $(ps -o pid= --ppid "$EXIM" 2>/dev/null); do
			kill -9 "$_c" 2>/dev/null
		done
		stop "$EXIM"
	fi
	ip netns del "$S" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	[ "${KEEP_TMP:-0}" = 1 ] && echo "# kept $TMP" || rm -rf "$TMP"
	exit $_rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

sx() { ip netns exec "$S" "$@"; }
cx() { ip netns exec "$C" "$@"; }
wbc() { sx "$WB" -o "paths.socket=$D/sock" "$@"; }

ip netns add "$S" || skip "ip netns unavailable"
ip netns add "$C"
ip link add vs netns "$S" type veth peer name vc netns "$C"
sx ip link set lo up; cx ip link set lo up
sx ip addr add 10.78.0.1/16 dev vs
cx ip addr add 10.78.0.5/16 dev vc
# Clients: 10.78.1.1 .. 10.78.1.60 for the rotation test, .61 and .62
# for the latency one.
i=1
while [ $i -le 62 ]; do cx ip addr add 10.78.1.$i/16 dev vc; i=$((i + 1)); done
sx ip link set vs up; cx ip link set vc up

mkdir "$D/spool" "$D/log"
chown Debian-exim:Debian-exim "$D/spool" "$D/log"
sed -e "s|@TMP@|$D|g" -e "s|@IFACES@|10.78.0.1|" tests/e2e-exim.conf >"$D/exim.conf"
chown root:root "$D/exim.conf"; chmod 644 "$D/exim.conf"
ip netns exec "$S" exim4 -C "$D/exim.conf" -bdf -oX 25 -oP "$D/exim.pid" \
    >"$D/exim.out" 2>&1 &
EXIM=$!
eventually 50 eval 'sx ss -Hltn "sport = :25" | grep -q .' ||
    { echo "Bail out! exim did not start"; exit 1; }

# probe SRC: a relay probe (python: EHLO, MAIL, RCPT to a foreign domain).
cat >"$D/probe.py" <<'EOF'
import socket, sys
src = sys.argv[1]
s = socket.socket()
s.bind((src, 0))
s.settimeout(5)
s.connect(("10.78.0.1", 25))
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if not l or l[3:4] != b"-":
            return l
reply()
for c in (b"EHLO p.example", b"MAIL FROM:<x@example.com>", b"RCPT TO:<v@elsewhere.example>", b"QUIT"):
    s.sendall(c + b"\r\n")
    r = reply()
print(r.decode().strip())
EOF
probe() { cx "$PY" "$D/probe.py" "$1" >/dev/null 2>&1; }
banned() { sx nft get element inet wireban ipv4_addr "{ $1 }" >/dev/null 2>&1; }

start_wb() {
	ip netns exec "$S" "$WB" watch -i vs -o paths.log=stderr \
	    -o "paths.state=$D/state" -o "paths.socket=$D/sock" \
	    -o "paths.events=$D/events.jsonl" "$@" >"$D/wb.log" 2>&1 &
	WBPID=$!
	PIDS="$PIDS $WBPID"
	eventually 50 eval 'grep -q watching "$D/wb.log" && [ -S "$D/sock" ]' ||
	    { echo "Bail out! watch did not start"; cat "$D/wb.log"; exit 1; }
}

# Under the unit's umask (0077), as in the service.
umask 077
start_wb -o "paths.metrics=$D/wireban.prom" -o paths.metrics_interval=1s
umask 022

echo "# 1: metrics"
probe 10.78.0.5
check "[1] the prober is banned" eventually 10 banned 10.78.0.5
check "[1] the metrics file is written" eventually 30 eval '[ -s "$D/wireban.prom" ]'
check "[1] the metrics file is readable by all (mode 644) under umask 077" \
    eval '[ "$(stat -c %a "$D/wireban.prom")" = 644 ]'
# Rewritten each second: wait for one that has the ban.
check "[1] within 2 s the file counts the ban" \
    eventually 25 grep -qx "wireban_bans_total 1" "$D/wireban.prom"
if command -v promtool >/dev/null 2>&1; then
	check "[1] promtool check metrics accepts the file" \
	    eval 'promtool check metrics <"$D/wireban.prom" >"$D/promtool.out" 2>&1 ||
	    { sed "s/^/    /" "$D/promtool.out"; false; }'
else
	echo "# promtool not installed: format check skipped"
fi
wbc status >"$D/status.out"
wbc status --prometheus >"$D/prom.out"
check "[1] status --prometheus prints the same metrics" \
    eval 'grep -q "^# TYPE wireban_bans_total counter" "$D/prom.out" &&
    grep -qx "wireban_bans_total 1" "$D/prom.out"'
check "[1] its counters agree with status: bans, offences, sessions" \
    eval 'grep -q "^banned: *1 now, 1 in all" "$D/status.out" &&
    grep -qx "wireban_bans_active{family=\"ipv4\"} 1" "$D/prom.out" &&
    grep -qx "wireban_offences_total{rule=\"relay\"} 1" "$D/prom.out" &&
    s=$(sed -n "s/^sessions: .* \([0-9]*\) seen.*/\1/p" "$D/status.out") &&
    grep -qx "wireban_sessions_total $s" "$D/prom.out"'
check "[1] the latency histogram counted the ban" \
    grep -q '^wireban_ban_latency_seconds_count 1$' "$D/prom.out"
check "[1] no temp file is left beside it" eval '[ ! -e "$D/wireban.prom.tmp" ]'

echo "# 2: rotation without loss"
(
	i=1
	while [ $i -le 60 ]; do probe 10.78.1.$i; i=$((i + 1)); sleep 0.02; done
) &
PRPID=$!
PIDS="$PIDS $PRPID"
# Rotated in the middle of the wave: after the 20th ban.
eventually 100 eval '[ "$(wbc list | grep -c "^10\.78\.1\.")" -ge 20 ]'
mv "$D/events.jsonl" "$D/events.jsonl.1"
kill -USR1 "$WBPID"
wait "$PRPID"
check "[2] the log says the events file was reopened" \
    eventually 20 grep -q "events.jsonl reopened" "$D/wb.log"
check "[2] the probes ended in 60 bans" \
    eventually 30 eval '[ "$(wbc list | grep -c "^10\.78\.1\.")" = 60 ]'
wbc status >/dev/null 2>&1	# a barrier: events before it are flushed
count() { cat "$D/events.jsonl.1" "$D/events.jsonl" 2>/dev/null | grep -c "\"event\":\"$1\""; }
check "[2] both files together hold all 61 ban events" \
    eventually 30 eval '[ "$(count ban)" = 61 ]'
check "[2] and a reject event per probe (61)" eval '[ "$(count reject)" = 61 ]'
check "[2] the new file got events after the rotation" \
    grep -q '"event":"ban"' "$D/events.jsonl"
check "[2] every line of both files is whole JSON" \
    eval 'cat "$D/events.jsonl.1" "$D/events.jsonl" | "$PY" -c "
import json, sys
for l in sys.stdin: json.loads(l)"'

echo "# 4: no control client stalls the daemon"
# 20,000 bans to list.
"$PY" - "$D/bans.txt" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write("198.%d.%d.%d\n" % (18 + i // 65536, (i // 256) % 256, i % 256))
EOF
while read -r a; do echo "ban $a 1h"; done <"$D/bans.txt" >"$D/bans.req"
cat >"$D/clients.py" <<'EOF'
import socket, sys, time, os
path, mode = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s
if mode == "bans":
    # one request per connection, as the CLI does
    for line in open(sys.argv[3]):
        s = conn(); s.sendall(line.encode())
        while s.recv(4096): pass
        s.close()
elif mode == "drip":
    s = conn()
    t0 = time.time()
    try:
        for ch in b"status\n":
            s.sendall(bytes([ch])); time.sleep(1)
        print("not dropped")
    except (BrokenPipeError, ConnectionResetError):
        print("dropped after %.1fs" % (time.time() - t0))
elif mode == "stuck":
    s = conn()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"list\n")
    time.sleep(float(sys.argv[3]))
elif mode == "idle":
    socks = [conn() for i in range(int(sys.argv[3]))]
    time.sleep(float(sys.argv[4]))
elif mode == "status":
    t0 = time.time(); s = conn(); s.sendall(b"status\n"); d = b""
    while True:
        x = s.recv(65536)
        if not x: break
        d += x
    print("%.1f ms %s" % ((time.time() - t0) * 1000, d.splitlines()[-1].decode()))
EOF
sx "$PY" "$D/clients.py" "$D/sock" bans "$D/bans.req"
check "[4] (set-up) 20,000 manual bans" \
    eval '[ "$(wbc status | sed -n "s/^banned: *\([0-9]*\) now.*/\1/p")" -ge 20000 ]'
t_base() {
	probe "$1"
	_t0=$(date +%s%N)
	eventually 50 banned "$1"
	echo $(( ($(date +%s%N) - _t0) / 1000000 ))
}
base=$(t_base 10.78.1.61 2>/dev/null || echo 9999)
# 100 idle connections (past CONTROL_CLIENTS_MAX, 32: the ones idle
# longest are dropped to make room), then the stuck reader, then the
# dripping client, which must be dropped at its own deadline (2 s).
ip netns exec "$S" "$PY" "$D/clients.py" "$D/sock" idle 100 15 >/dev/null 2>&1 &
IDLE=$!
sleep 0.5
ip netns exec "$S" "$PY" "$D/clients.py" "$D/sock" stuck 15 >/dev/null 2>&1 &
STUCK=$!
sleep 0.2
ip netns exec "$S" "$PY" "$D/clients.py" "$D/sock" drip >"$D/drip.out" 2>&1 &
DRIP=$!
PIDS="$PIDS $DRIP $STUCK $IDLE"
sleep 1
sx "$PY" "$D/clients.py" "$D/sock" status >"$D/st.out" 2>&1
ms=$(cut -d' ' -f1 "$D/st.out" | cut -d. -f1)
check "[4] with them all open, status answers in under 100 ms (${ms} ms)" \
    eval '[ -n "$ms" ] && [ "$ms" -lt 100 ] && grep -q " OK$" "$D/st.out"'
loaded=$(t_base 10.78.1.62 2>/dev/null || echo 9999)
echo "# ban latency as seen by the test: ${base} ms alone, ${loaded} ms with the clients"
check "[4] a probe is still banned within 1 s (${loaded} ms; ${base} ms alone)" \
    eval '[ "$loaded" -lt 1000 ]'
wait "$DRIP"
check "[4] the dripping client was dropped at its deadline (2 s)" \
    eval 'grep -q "dropped after [23]\." "$D/drip.out" ||
    { sed "s/^/    /" "$D/drip.out"; false; }'
check "[4] no capture drops" \
    eval 'wbc status | grep -q "capture: .* 0 dropped by the kernel"'
for p in $STUCK $IDLE; do stop "$p"; done

echo "# 3: syslog"
stop "$WBPID"
cat >"$D/syslog.py" <<'EOF'
import socket, sys, os
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(p)
os.chmod(p, 0o666)
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536) + b"\n")
EOF
"$PY" "$D/syslog.py" "$D/devlog" "$D/syslog.out" &
SYSL=$!
PIDS="$PIDS $SYSL"
eventually 30 eval '[ -S "$D/devlog" ]'
# This host may have no /dev/log: in a mount namespace of its own,
# wireban gets a /dev of tmpfs with null, zero, urandom and our log.
mkdir "$D/dev.orig"
ip netns exec "$S" unshare -m sh -c "
    mount --make-rprivate / && mount --rbind /dev '$D/dev.orig' &&
    mount -t tmpfs -o mode=755 none /dev &&
    for n in null zero urandom random; do
        : >/dev/\$n && mount --bind '$D/dev.orig'/\$n /dev/\$n || exit 1
    done &&
    : >/dev/log && mount --bind '$D/devlog' /dev/log &&
    exec '$WB' watch -i vs -o paths.log=syslog -o 'paths.state=$D/state2' \
    -o 'paths.socket=$D/sock2'" >"$D/wb2.log" 2>&1 &
WB2=$!
PIDS="$PIDS $WB2"
probe 10.78.0.5 2>/dev/null
eventually 30 eval 'grep -q "wireban\[[0-9]*\]: watching vs" "$D/syslog.out"'
probe 10.78.0.5
check "[3] syslog got the start line, ident wireban with its pid" \
    grep -q "wireban\[[0-9]*\]: watching vs" "$D/syslog.out"
check "[3] facility daemon (priority <29> or <30>)" \
    grep -q "^<2[89]>\|^<30>" "$D/syslog.out"
check "[3] nothing went to stderr" eval '! grep -q "watching" "$D/wb2.log"'

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
