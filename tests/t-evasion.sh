#!/bin/sh
# t-evasion.sh - the attacks that used to make a prober unbannable,
# replayed (tests/tools/flood.py writes the captures):
#
#   1  a relay probe whose "550 relay not permitted" comes after 10,000
#      spoofed SYNs (each with the server's SYN-ACK), max_streams 1000:
#      the prober and ten sessions in the middle of a transaction are all
#      still followed, their rejects reported and they banned; the flood
#      is counted as half-open handshakes, never followed
#   2  the same after 2,000 idle full handshakes: idle sessions are
#      evicted for room, the busy ones (a command waiting for its reply)
#      never, so all eleven are still banned
#   3  the ignoreself attack in a replay: the attacker's host answered
#      our server's own outbound session with a 550, then probed our
#      relay. Before, the attacker became "self" (the server side of a
#      session with an offence) and was never banned. Now self is only
#      what capture.servers says: with it set, the attacker is banned
#      and our server is not; without it, the attacker is banned all the
#      same, and the report says to set capture.servers
#
# Prints "ok N - ..." and "N passed, N failed"; exits 0 or 1.
cd "$(dirname "$0")/.." || exit 2
WB=${WIREBAN:-./wireban}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fails=0

check() {
	_d=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $_d"
	else
		echo "not ok $n - $_d"
		sed 's/^/    /' "$tmp/out" | head -30
		fails=$((fails + 1))
	fi
}

"$PY" tests/tools/flood.py syn "$tmp/syn.pcap" || exit 1
"$PY" tests/tools/flood.py idle "$tmp/idle.pcap" || exit 1

replay() {
	$WB -o capture.max_streams=1000 -o policy.ipv4_prefix=32 \
	    replay "$@" >"$tmp/out" 2>&1
}
bans() { grep -c '"event":"ban"' "$tmp/out"; }

echo "# 1: a spoofed SYN flood does not evict the prober"
replay --json "$tmp/syn.pcap"
rejects() { grep '"event":"reject"' "$tmp/out" | grep -c '"rule":"relay"'; }
check "[1] all eleven relay rejects are reported" eval '[ "$(rejects)" = 11 ]'
check "[1] and all eleven clients banned" eval '[ "$(bans)" = 11 ]'
check "[1] the prober 192.0.2.66 among them" \
    grep -q '"event":"ban".*"client":"192.0.2.66"' "$tmp/out"
replay "$tmp/syn.pcap"
check "[1] Would ban: 11, and the flood is never followed (11 sessions)" \
    eval 'grep -q "^Would ban: 11 bans" "$tmp/out" &&
    grep -q "^Sessions: 11 SMTP" "$tmp/out"'
replay -o capture.max_handshakes=1000 "$tmp/syn.pcap"
check "[1] with 1000 pending handshakes at most: the rest of the flood is dropped, counted, and all eleven still banned" \
    eval 'grep -q "handshakes never completed: 9000 dropped (table full)" "$tmp/out" &&
    grep -q "^Would ban: 11 bans" "$tmp/out"'

echo "# 2: idle full handshakes do not evict a busy session"
replay --json "$tmp/idle.pcap"
check "[2] all eleven relay rejects are reported" eval '[ "$(rejects)" = 11 ]'
check "[2] and all eleven clients banned" eval '[ "$(bans)" = 11 ]'
replay "$tmp/idle.pcap"
check "[2] idle sessions were evicted for room, no busy one" \
    grep -q "evicted for room ([1-9][0-9]* idle, 0 busy)" "$tmp/out"

echo "# 3: the attacker cannot become self (replay)"
# The server 192.0.2.1 sends mail out to the attacker 203.0.113.66 (a
# session whose client is our server), which answers 550; then the
# attacker probes the server's relay.
"$PY" - "$tmp/self.pcap" <<'EOF'
import sys
sys.path.insert(0, "tests/tools")
import flood
w = flood.Writer(sys.argv[1])
atk = (203, 0, 113, 66)
flood.SERVER = atk
out = flood.Session(w, (192, 0, 2, 1), 50000)
out.handshake()
out.server(b"220 attacker.example ESMTP\r\n")
out.client(b"EHLO mx.wireban.test\r\n")
out.server(b"250 attacker.example\r\n")
out.client(b"MAIL FROM:<>\r\n")
out.server(b"250 OK\r\n")
out.client(b"RCPT TO:<bounce@attacker.example>\r\n")
out.server(b"550 relay not permitted\r\n")
flood.SERVER = (192, 0, 2, 1)
probe = flood.Session(w, atk, 40001)
probe.handshake()
probe.server(b"220 mx.wireban.test ESMTP Exim 4.96\r\n")
probe.client(b"EHLO atk.example\r\n")
probe.server(b"250 mx.wireban.test\r\n")
probe.client(b"MAIL FROM:<x@example.com>\r\n")
probe.server(b"250 OK\r\n")
probe.client(b"RCPT TO:<v@elsewhere.example>\r\n")
probe.server(b"550 relay not permitted\r\n")
EOF
$WB -o capture.servers=192.0.2.1 replay --json "$tmp/self.pcap" >"$tmp/out" 2>&1
check "[3] capture.servers set: the attacker's relay probe is banned" \
    grep -q '"event":"ban".*"client":"203.0.113.66"' "$tmp/out"
check "[3] our own server is not banned" \
    eval '! grep -q "\"event\":\"ban\".*\"client\":\"192.0.2.1\"" "$tmp/out"'
$WB replay --json "$tmp/self.pcap" >"$tmp/out" 2>&1
check "[3] capture.servers not set: the attacker is banned all the same" \
    grep -q '"event":"ban".*"client":"203.0.113.66"' "$tmp/out"
$WB replay "$tmp/self.pcap" >"$tmp/out" 2>&1
check "[3] and the report says to set capture.servers" \
    grep -q "capture.servers is not set" "$tmp/out"

echo "evasion: $((n - fails)) of $n right"
[ "$fails" -eq 0 ]
