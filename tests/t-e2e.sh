#!/bin/sh
# t-e2e.sh - end to end: real exim, real clients, `wireban watch` on the
# loopback of a private network namespace, real bans in the kernel.
#
#   1  relay probe from 127.0.0.5 -> 550 -> within 1 s the DROP rule is in
#      the chain, `wireban list` shows it, the events file has the ban;
#      127.0.0.5 can no longer connect, 127.0.0.6 still can
#   2  a banned client's still-open session is reset: the client sees
#      ECONNRESET (not a reply, not a silent timeout) and exim's end of
#      it is gone too
#   3  bantime 3s: the ban is lifted on time, with no packet to wake
#      wireban up; rule and list entry gone, unban event, connects again
#   4  kill -9 of watch, firewall tampered with, restart: the ban comes
#      back from the state file and a rule it does not know is removed
#   5  an address in ignoreip is rejected by exim but never banned
#   6  ban/unban by hand; a non-root user cannot use the control socket
#   7  SIGTERM: exit 0, chain and INPUT jump removed, bans kept in state
#   9  replay --apply bans through the firewall and keeps the bans: the
#      relay capture's client lands in the chain and in the state file
#   8  SIGHUP reloads the rules: a relay rule made no offence by the
#      config file bans once the file says otherwise; a broken file is
#      refused and the running configuration kept
#
# Run as `sh tests/t-e2e.sh` from anywhere (it cds to the repo root);
# WIREBAN=PATH runs another build of the binary, KEEP_TMP=1 keeps the
# temporary directory (exim logs, wireban logs, events) for a post-mortem.
# Prints "ok N - ..." / "not ok N - ..." per assertion, diagnostics
# indented, and "N passed, N failed" last; exits 0 when all passed, 1 when
# any failed, 77 ("SKIP: reason") when not root or a tool is missing.
#
# Invariant: the host's firewall and network are never touched. Every
# iptables, exim, wireban and client command runs through `ip netns exec`
# in a namespace made here (wbe2e-PID-N), on its loopback only. The EXIT
# trap stops every process started here by PID (wireban, exim and exim's
# session children, found by parent PID), deletes the namespaces and the
# temporary directory.

set -u
cd "$(dirname "$0")/.." || exit 2
# Debian's own python3 when there is one: it starts fastest.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
ROOT=$(pwd)
# WIREBAN=path tests another build (e.g. an ASan one); made absolute, as
# it runs from namespaces and as another user.
WB=${WIREBAN:-$ROOT/wireban}
case $WB in /*) ;; *) WB=$ROOT/$WB ;; esac

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "not root (needs network namespaces, iptables, exim)"
for cmd in ip exim4 swaks python3 iptables-legacy setpriv ss; do
	command -v "$cmd" >/dev/null 2>&1 || skip "$cmd not installed"
done
if [ ! -x "$WB" ]; then
	echo "not ok 1 - $WB is built (run make wireban)"
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbe2e.XXXXXX") || skip "mktemp failed"
# exim's session processes run as Debian-exim and the non-root check runs
# as nobody: both must reach their files below.
chmod 755 "$TMP"
NSS=""		# namespaces made here
WBS=""		# wireban watch PIDs
EXIMS=""	# exim daemon PIDs (each run with -bdf: $! is the daemon)

# forget PID LIST: LIST without PID (once waited for, a PID may be reused).
forget() {
	_out=""
	for _p in $2; do
		[ "$_p" = "$1" ] || _out="$_out $_p"
	done
	echo "$_out"
}

# stop PID: TERM, up to 2 s, then KILL; reaps it.
stop() {
	kill "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 20 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

cleanup() {
	_rc=$?
	# A second signal must not cut the clean-up short.
	trap '' INT TERM HUP
	trap - EXIT
	for _p in $WBS; do
		stop "$_p"
	done
	for _p in $EXIMS; do
		# Session processes first: once the daemon is gone they are
		# the init's and no longer found by parent.
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

# greet SRC TIMEOUT: connect from SRC, print the greeting; exit 1 on timeout.
# hold SRC: EHLO, MAIL, RCPT to a remote domain (550 -> ban), keep the
# socket, 0.5 s later send another RCPT: print what became of it.
cat >"$TMP/client.py" <<'EOF'
import socket, sys, time

def connect(src, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", 25))
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

mode, src = sys.argv[1], sys.argv[2]
if mode == "greet":
    try:
        print(reply(connect(src, float(sys.argv[3]))))
        sys.exit(0)
    except socket.timeout:
        print("timeout")
        sys.exit(1)
    except Exception as e:
        print("error: %r" % e)
        sys.exit(2)
s = connect(src, 5)
print("S:", reply(s))
for c in ("EHLO hold.example", "MAIL FROM:<x@example.com>",
          "RCPT TO:<v@elsewhere.example>"):
    s.sendall((c + "\r\n").encode())
    print("C:", c)
    print("S:", reply(s))
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

N=0 PASS=0 FAIL=0
NS="" D="" WBPID=""

indent() { sed 's/^/    /'; }

ok() {
	N=$((N + 1)); PASS=$((PASS + 1))
	echo "ok $N - $*"
}
not_ok() {
	N=$((N + 1)); FAIL=$((FAIL + 1))
	echo "not ok $N - $*"
}

# What the current namespace looks like, for a failed check.
show() {
	{
		echo "iptables-legacy -S (namespace $NS):"
		nsx iptables-legacy -w 5 -S 2>&1
		echo "wireban list:"
		wbc list 2>&1
		echo "wireban log (last 10 lines):"
		tail -n 10 "$D"/wb*.log 2>/dev/null
		echo "events (last 6):"
		tail -n 6 "$D/events.jsonl" 2>/dev/null
		echo "exim mainlog (last 6):"
		tail -n 6 "$D/log/mainlog" 2>/dev/null
	} | indent
}

# check DESCRIPTION COMMAND...: one assertion.
check() {
	_d=$1
	shift
	if "$@"; then
		ok "$_d"
	else
		not_ok "$_d"
		show
	fi
}

# eventually TENTHS COMMAND...: COMMAND succeeds within TENTHS * 0.1 s.
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

nsx() { ip netns exec "$NS" "$@"; }
wbc() { nsx "$WB" -o "paths.socket=$D/sock" "$@"; }

# new_ns: a fresh namespace (lo up) and directory; sets NS and D.
new_ns() {
	NS="wbe2e-$$-$((${NSCOUNT:-0} + 1))"
	NSCOUNT=$((${NSCOUNT:-0} + 1))
	D=$TMP/$NSCOUNT
	mkdir "$D"
	if ! ip netns add "$NS" 2>"$D/netns.err"; then
		[ "$NSCOUNT" = 1 ] &&
		    skip "ip netns unavailable: $(head -n1 "$D/netns.err")"
		echo "Bail out! ip netns add $NS: $(cat "$D/netns.err")"
		exit 1
	fi
	NSS="$NSS $NS"
	nsx ip link set lo up || { echo "Bail out! lo up in $NS"; exit 1; }
}

listening25() { nsx ss -Hltn 'sport = :25' | grep -q .; }

# start_exim: exim on 127.0.0.1:25 in NS, spool and log in D.
start_exim() {
	mkdir "$D/spool" "$D/log"
	chown Debian-exim:Debian-exim "$D/spool" "$D/log"
	sed "s|@TMP@|$D|g" "$ROOT/tests/e2e-exim.conf" >"$D/exim.conf"
	# exim refuses a file not owned by root or writable by others.
	chown root:root "$D/exim.conf"
	chmod 644 "$D/exim.conf"
	# Not through nsx: a backgrounded function is a subshell, and $!
	# would be its PID, not exim's (ip netns exec execs the command).
	ip netns exec "$NS" exim4 -C "$D/exim.conf" -bdf -oX 25 \
	    -oP "$D/exim.pid" >"$D/exim.out" 2>&1 &
	EXIMS="$EXIMS $!"
	if ! eventually 50 listening25; then
		echo "Bail out! exim did not start in $NS"
		indent <"$D/exim.out"
		exit 1
	fi
}

# start_wb LOG [-o ...]: wireban watch in NS; sets WBPID. Does not wait.
start_wb() {
	_log=$D/$1
	shift
	ip netns exec "$NS" "$WB" watch -i lo -o policy.ignoreself=no \
	    -o "paths.state=$D/state" -o "paths.socket=$D/sock" \
	    -o "paths.events=$D/events.jsonl" "$@" >"$_log" 2>&1 &
	WBPID=$!
	WBS="$WBS $WBPID"
}

watching() { grep -q "watching" "$1" && [ -S "$D/sock" ]; }

# wait_wb LOG: up to 5 s for "watching" and the socket.
wait_wb() {
	if ! eventually 50 watching "$D/$1"; then
		echo "Bail out! wireban watch did not start in $NS"
		indent <"$D/$1"
		exit 1
	fi
}

# relay SRC: a swaks relay probe from SRC; the transcript is in D.
relay() {
	nsx swaks --server 127.0.0.1 --local-interface "$1" --timeout 5 \
	    --helo probe.example --from spammer@example.com \
	    --to victim@elsewhere.example >"$D/swaks.$1" 2>&1
	grep -q '^<\*\* *550 relay not permitted' "$D/swaks.$1" || {
		indent <"$D/swaks.$1"
		return 1
	}
}

rules() { nsx iptables-legacy -w 5 -S wireban 2>/dev/null; }
has_rule() { rules | grep -qxF -- "-A wireban -s $1/32 -j DROP"; }
no_rule() { rules >/dev/null && ! has_rule "$1"; }
listed() { wbc list 2>/dev/null | grep -q "^$1 "; }
not_listed() { wbc list >"$D/list.out" 2>&1 && ! grep -q "^$1 " "$D/list.out"; }
list_empty() { [ "$(wbc list 2>&1)" = "OK" ]; }
# event KIND ADDR: the events file has a KIND event for ADDR.
event() {
	grep -F "\"event\":\"$1\"" "$D/events.jsonl" 2>/dev/null |
	    grep -qF "\"client\":\"$2\""
}
no_event() { ! event "$@"; }
# connects SRC: a new connection from SRC gets exim's 220 greeting.
connects() { nsx "$PY" "$TMP/client.py" greet "$1" 2 | grep -q '^220 '; }
# blocked SRC: a new connection from SRC times out (2 s).
blocked() {
	nsx "$PY" "$TMP/client.py" greet "$1" 2 >"$D/greet.$1" 2>&1
	[ $? = 1 ] || { indent <"$D/greet.$1"; return 1; }
}
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! alive "$1"; }

# ---- 1, 2, 6, 7: one namespace, default policy (bantime 1h) -----------------

new_ns
start_exim
start_wb wb.log
wait_wb wb.log

echo "# 1: relay probe banned, kernel drops the client ($NS)"
check "[1] exim answers 127.0.0.5 '550 relay not permitted'" relay 127.0.0.5
check "[1] within 1 s: iptables-legacy -S wireban has -A wireban -s 127.0.0.5/32 -j DROP" \
    eventually 10 has_rule 127.0.0.5
check "[1] INPUT jumps to wireban for the SMTP ports" \
    eval 'nsx iptables-legacy -w 5 -S INPUT |
    grep -qx -- "-A INPUT -p tcp -m multiport --dports 25,465,587 -j wireban"'
check "[1] wireban list shows 127.0.0.5 (rule relay)" \
    eval 'wbc list | grep -q "^127\.0\.0\.5  *relay  *left [0-9]*s"'
check "[1] events file: reject (rule relay) and ban for 127.0.0.5" \
    eval 'event reject 127.0.0.5 && event ban 127.0.0.5 &&
    grep -F "\"event\":\"ban\"" "$D/events.jsonl" | grep -qF "\"rule\":\"relay\""'
check "[1] a new connection from 127.0.0.5 times out (2 s)" blocked 127.0.0.5
check "[1] a new connection from 127.0.0.6 gets the 220 greeting" \
    connects 127.0.0.6

echo "# 2: the banned client's open session is cut"
nsx "$PY" "$TMP/client.py" hold 127.0.0.8 >"$D/hold.out" 2>&1
check "[2] exim answers the held session from 127.0.0.8 with 550" \
    grep -q '^S: 550 relay not permitted' "$D/hold.out"
check "[2] 127.0.0.8 is banned" eventually 10 has_rule 127.0.0.8
# Without wireban's RSTs the DROP would leave the client waiting for a
# reply that never comes (a timeout); a reset can only be wireban's.
if grep -q '^reset\|^broken pipe' "$D/hold.out"; then
	ok "[2] the client's socket is reset: $(tail -n1 "$D/hold.out")"
else
	not_ok "[2] the client's socket is reset (ECONNRESET)"
	indent <"$D/hold.out"
fi
# exim's side of that session: closed by the RST wireban forges to it?
exim_side_closed() {
	! nsx ss -Htn state established '( sport = :25 and dst 127.0.0.8 )' |
	    grep -q .
}
# The RST toward exim carries the client's address: it must go out before
# the DROP rule goes in, or INPUT drops it and exim's session process
# waits for a command until smtp_receive_timeout.
check "[2] exim's end of the session is closed within 2 s" \
    eventually 20 exim_side_closed

echo "# 6: ban and unban by hand; the socket is root's only"
manual_ban() {
	wbc ban "$@" >"$D/ban.out" 2>&1
	_rc=$?
	[ $_rc = 0 ] && grep -q "^banned 127.0.0.9" "$D/ban.out" || {
		echo "exit $_rc:"
		cat "$D/ban.out"
	} | indent
	[ $_rc = 0 ] && grep -q "^banned 127.0.0.9" "$D/ban.out"
}
check "[6] wireban ban 127.0.0.9 --for 30s (the order --help documents)" \
    manual_ban 127.0.0.9 --for 30s
if ! has_rule 127.0.0.9; then
	# So that the rest of the check still runs when only the argument
	# order is refused.
	echo "# retrying as: wireban ban --for 30s 127.0.0.9"
	manual_ban --for 30s 127.0.0.9 >/dev/null
fi
check "[6] the rule for 127.0.0.9 is in the chain" eventually 10 has_rule 127.0.0.9
check "[6] wireban list shows 127.0.0.9, rule manual, at most 30 s left" \
    eval 'wbc list | grep -Eq "^127\.0\.0\.9 +manual +left ([0-2]?[0-9]|30)s"'
check "[6] wireban unban 127.0.0.9" \
    eval 'wbc unban 127.0.0.9 | grep -q "^unbanned 127.0.0.9"'
check "[6] the rule for 127.0.0.9 is gone" eventually 10 no_rule 127.0.0.9
check "[6] wireban list no longer shows 127.0.0.9, still shows 127.0.0.5" \
    eval 'not_listed 127.0.0.9 && listed 127.0.0.5'
check "[6] events file: unban for 127.0.0.9" event unban 127.0.0.9
# The non-root client runs a copy of the binary in TMP (mode 755), so the
# only thing between it and the daemon is the socket itself.
mkdir "$TMP/bin"
cp "$WB" "$TMP/bin/wireban"
chmod 755 "$TMP/bin" "$TMP/bin/wireban"
# nobody PATTERN: `wireban status` as uid 65534 fails and says PATTERN.
# SIGPIPE is ignored for it: a refused client may find the socket closed
# before it has written its request, and should still read why.
nobody() {
	(
		trap '' PIPE
		exec ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 \
		    --clear-groups "$TMP/bin/wireban" -o "paths.socket=$D/sock" \
		    status
	) >"$D/nobody.out" 2>&1
	_rc=$?
	[ $_rc != 0 ] && grep -q "$1" "$D/nobody.out" || {
		echo "exit $_rc:"
		cat "$D/nobody.out"
	} | indent
	[ $_rc != 0 ] && grep -q "$1" "$D/nobody.out"
}
check "[6] the socket is root's, mode 0600" \
    eval '[ "$(stat -c "%U %a" "$D/sock")" = "root 600" ]'
check "[6] uid 65534: wireban status fails (Permission denied on connect)" \
    nobody "Permission denied"
# Even with the mode opened up, the daemon checks the peer's uid.
chmod 666 "$D/sock"
check "[6] socket made 0666: uid 65534 is refused by wireban (peer uid check)" \
    nobody "only root"
chmod 600 "$D/sock"
check "[6] root's wireban status still works" \
    eval 'wbc status | tail -n1 | grep -qx OK'

echo "# 7: SIGTERM stops cleanly"
kill -TERM "$WBPID"
eventually 30 dead "$WBPID"
wait "$WBPID"
rc=$?
WBS=$(forget "$WBPID" "$WBS")
check "[7] watch exits 0 on SIGTERM (exit $rc)" [ "$rc" = 0 ]
check "[7] the chain wireban is gone" \
    eval '! nsx iptables-legacy -w 5 -S wireban >/dev/null 2>&1'
check "[7] INPUT no longer jumps to wireban" \
    eval '! nsx iptables-legacy -w 5 -S INPUT | grep -q wireban'
check "[7] the control socket is removed" eval '[ ! -e "$D/sock" ]'
check "[7] the bans are kept in the state file" \
    eval 'grep -q "^ban  *127\.0\.0\.5 " "$D/state" &&
    grep -q "^ban  *127\.0\.0\.8 " "$D/state"'
check "[7] 127.0.0.5 connects again" connects 127.0.0.5

# ---- 3: bans expire on time -------------------------------------------------

new_ns
start_exim
start_wb wb.log -o policy.bantime=3s
wait_wb wb.log

echo "# 3: bantime 3s: the ban is lifted on time ($NS)"
check "[3] exim answers 127.0.0.5 '550 relay not permitted'" relay 127.0.0.5
check "[3] within 1 s the rule for 127.0.0.5 is in the chain" \
    eventually 10 has_rule 127.0.0.5
check "[3] events file: ban for 127.0.0.5 of 3 s" \
    eval 'grep -F "\"event\":\"ban\"" "$D/events.jsonl" |
    grep -F "\"client\":\"127.0.0.5\"" | grep -qF "\"duration\":3,"'
# No packet comes in meanwhile: expiry must run on the clock alone.
check "[3] within 5 s the rule is gone" eventually 50 no_rule 127.0.0.5
check "[3] wireban list is empty" list_empty
check "[3] events file: unban for 127.0.0.5" event unban 127.0.0.5
check "[3] 127.0.0.5 connects again" connects 127.0.0.5

# ---- 4: kill -9 loses no ban ------------------------------------------------

new_ns
start_exim
start_wb wb.log
wait_wb wb.log

echo "# 4: kill -9 and restart: the ban is restored ($NS)"
check "[4] exim answers 127.0.0.5 '550 relay not permitted'" relay 127.0.0.5
check "[4] within 1 s the rule for 127.0.0.5 is in the chain" \
    eventually 10 has_rule 127.0.0.5
kill -9 "$WBPID"
wait "$WBPID" 2>/dev/null
WBS=$(forget "$WBPID" "$WBS")
check "[4] after kill -9 the rule is still in the kernel" has_rule 127.0.0.5
# Pretend the firewall was reset meanwhile (e.g. a reboot), and someone
# left a rule wireban never made: only the state file can restore the ban.
nsx iptables-legacy -w 5 -D wireban -s 127.0.0.5/32 -j DROP
nsx iptables-legacy -w 5 -A wireban -s 127.0.0.99/32 -j DROP
check "[4] (set-up) rule for 127.0.0.5 deleted, stray rule for 127.0.0.99 added" \
    eval '! has_rule 127.0.0.5 && has_rule 127.0.0.99'
start_wb wb2.log
check "[4] restarted: within 1 s the rule for 127.0.0.5 is back" \
    eventually 10 has_rule 127.0.0.5
check "[4] the stray rule for 127.0.0.99 is removed" \
    eventually 10 no_rule 127.0.0.99
wait_wb wb2.log
check "[4] wireban list shows 127.0.0.5 with about an hour left" \
    eval 'wbc list | grep -Eq "^127\.0\.0\.5 +relay +left 3[0-9]{3}s"'
check "[4] the log says the ban was restored" \
    grep -q "1 bans restored" "$D/wb2.log"
check "[4] a new connection from 127.0.0.5 still times out" blocked 127.0.0.5

# ---- 5: ignoreip ------------------------------------------------------------

new_ns
start_exim
start_wb wb.log -o policy.ignoreip=127.0.0.7
wait_wb wb.log

echo "# 5: ignoreip: rejected, never banned ($NS)"
check "[5] exim answers 127.0.0.7 '550 relay not permitted'" relay 127.0.0.7
check "[5] events file: the reject of 127.0.0.7 (rule relay)" \
    eventually 10 eval 'grep -F "\"event\":\"reject\"" "$D/events.jsonl" |
    grep -F "\"client\":\"127.0.0.7\"" | grep -qF "\"rule\":\"relay\""'
# A control request is served after the packets before it: a barrier.
wbc status >/dev/null 2>&1
check "[5] no rule for 127.0.0.7" no_rule 127.0.0.7
check "[5] wireban list is empty" list_empty
check "[5] no ban event for 127.0.0.7" no_event ban 127.0.0.7
check "[5] 127.0.0.7 still connects" connects 127.0.0.7
check "[5] (control) 127.0.0.5, not in ignoreip, is banned for the same probe" \
    eval 'relay 127.0.0.5 && eventually 10 has_rule 127.0.0.5'

# ---- 8: SIGHUP reloads ------------------------------------------------------

new_ns
start_exim
printf '[rule relay]\noffence = no\n' >"$D/wb.conf"
start_wb wb.log -c "$D/wb.conf"
wait_wb wb.log

echo "# 8: SIGHUP reloads the configuration ($NS)"
check "[8] exim answers 127.0.0.5 '550 relay not permitted'" relay 127.0.0.5
check "[8] events file: the reject of 127.0.0.5, no offence" \
    eventually 10 eval 'grep -F "\"client\":\"127.0.0.5\"" "$D/events.jsonl" |
    grep -qF "\"offence\":false"'
wbc status >/dev/null 2>&1
check "[8] relay is no offence: no rule for 127.0.0.5" no_rule 127.0.0.5
: >"$D/wb.conf"
kill -HUP "$WBPID"
check "[8] SIGHUP: the log says reloaded" \
    eventually 20 grep -q "configuration reloaded" "$D/wb.log"
check "[8] after the reload 127.0.0.6 is banned for the same probe" \
    eval 'relay 127.0.0.6 && eventually 10 has_rule 127.0.0.6'
printf '[policy]\nbantime = soon\n' >"$D/wb.conf"
kill -HUP "$WBPID"
check "[8] a broken file is refused, naming file:line and key" \
    eventually 20 grep -q "reload refused.*wb.conf:2: policy.bantime" \
    "$D/wb.log"
check "[8] still running on the old configuration: 127.0.0.8 banned" \
    eval 'relay 127.0.0.8 && eventually 10 has_rule 127.0.0.8'
check "[8] the ban of 127.0.0.6 survived both reloads" \
    eval 'wbc list | grep -q "^127\.0\.0\.6 "'

# ---- 9: replay --apply -----------------------------------------------------

new_ns
echo "# 9: replay --apply bans for real ($NS)"
check "[9] replay --apply of pcaps/relay.pcap exits 0" \
    eval 'nsx "$WB" -o "paths.state=$D/state" replay --apply \
    pcaps/relay.pcap >"$D/apply.out" 2>&1'
check "[9] the rule for 127.0.0.10 is in the chain" has_rule 127.0.0.10
check "[9] the report says Banned: 1" grep -q "^Banned: 1 bans" "$D/apply.out"
check "[9] the state file holds the ban" grep -q "^ban 127.0.0.10 " "$D/state"
check "[9] a dry replay touches nothing" \
    eval 'nsx "$WB" -o firewall.chain=other replay pcaps/relay.pcap \
    >/dev/null 2>&1 && ! nsx iptables-legacy -w 5 -S other >/dev/null 2>&1'

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] || exit 1
exit 0
