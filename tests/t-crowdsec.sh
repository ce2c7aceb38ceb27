#!/bin/sh
# t-crowdsec.sh - end to end: `wireban watch` with firewall.backend =
# crowdsec delivers its bans to a real CrowdSec Local API (Debian's
# crowdsec 1.4.6), and the stock crowdsec-firewall-bouncer on the mail
# host enforces them.
#
# Three network namespaces: C, the clients (10.78.0.5...); MX, the mail
# host (exim on 10.78.0.1, wireban watching that veth, the bouncer and
# its nftables tables); L, the LAPI (10.78.1.2:8080, a private config,
# sqlite db, no hub, no Central API). MX and L are joined by a second
# veth.
#
#   1  a relay probe from .5 is in the bouncer's set within its poll
#      interval (1 s) + 1 s; .5 can no longer connect, .6 still can;
#      `cscli decisions list -a` shows it with origin wireban
#   2  LAPI stopped, a probe from .6, LAPI started again: .6's decision
#      arrives after the restart, .5's is still there (none lost)
#   3  a restart of wireban pushes nothing again (alerts counted)
#   4  `wireban unban` lifts the decision: gone from the LAPI and from
#      the bouncer's set
#   5  nftables,crowdsec with the LAPI down: a probe from .7 is banned
#      locally within 1 s, status says what is pending and why; it is
#      delivered once the LAPI is back
#   6  a wrong password: the log and status' last error say so, wireban
#      goes on
#
# crowdsec and crowdsec-firewall-bouncer come from ./setup.sh (offline,
# no service started); without them, or without root, SKIP (exit 77).
# KEEP_TMP=1 keeps the temporary directory; WIREBAN=PATH another build.
#
# Invariant: nothing outside the namespaces made here (wbcs-PID-*) is
# touched; every process started is stopped by PID; the system's
# crowdsec configuration and database are not used.

set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
. "$ROOT/tests/lib/tap.sh"
WB=${WIREBAN:-$ROOT/wireban}
case $WB in /*) ;; *) WB=$ROOT/$WB ;; esac
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "not root (needs network namespaces, a firewall)"
for cmd in crowdsec cscli crowdsec-firewall-bouncer; do
	command -v "$cmd" >/dev/null 2>&1 ||
	    skip "$cmd not installed (./setup.sh installs crowdsec and" \
	    "crowdsec-firewall-bouncer offline, no service started)"
done
for cmd in ip exim4 nft ss curl; do
	command -v "$cmd" >/dev/null 2>&1 || skip "$cmd not installed"
done
if [ ! -x "$WB" ]; then
	echo "not ok 1 - $WB is built (run make wireban)"
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbcs.XXXXXX") || skip "mktemp failed"
chmod 755 "$TMP"
L=wbcs-$$-lapi MX=wbcs-$$-mx C=wbcs-$$-c
NSS="" PIDS="" EXIMS=""
LAPIPID="" FBPID="" WBPID=""


cleanup() {
	_rc=$?
	trap '' INT TERM HUP
	trap - EXIT
	for _p in $WBPID $FBPID $LAPIPID $PIDS; do
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

indent() { sed 's/^/    /'; }
lx() { ip netns exec "$L" "$@"; }
mx() { ip netns exec "$MX" "$@"; }
cx() { ip netns exec "$C" "$@"; }
wbc() { mx "$WB" -o "paths.socket=$TMP/sock" "$@"; }
cscli_() { lx cscli -c "$TMP/lapi/config.yaml" "$@"; }

on_fail() {
	{
		echo "wireban log (last 12):"
		tail -n 12 "$TMP"/wb*.log 2>/dev/null
		echo "bouncer log (last 6):"
		tail -n 6 "$TMP/bouncer/crowdsec-firewall-bouncer.log" \
		    2>/dev/null
		echo "bouncer's nftables:"
		mx nft list table ip crowdsec 2>&1 | head -n 20
		echo "decisions:"
		cscli_ decisions list -a -o raw 2>&1 | head -n 10
		echo "LAPI log (last 6):"
		tail -n 6 "$TMP/lapi.log" 2>/dev/null
	} | indent
}


# eventually TENTHS CMD...: CMD true within TENTHS tenths of a second.

now_ms() { date +%s%3N; }

# ---- the network --------------------------------------------------------------

for _n in $L $MX $C; do
	ip netns add "$_n" 2>"$TMP/netns.err" ||
	    skip "ip netns unavailable: $(head -n1 "$TMP/netns.err")"
	NSS="$NSS $_n"
	ip netns exec "$_n" ip link set lo up
done
ip link add vm netns "$MX" type veth peer name vc netns "$C"
ip link add vml netns "$MX" type veth peer name vl netns "$L"
mx ip addr add 10.78.0.1/24 dev vm
mx ip addr add 10.78.1.1/24 dev vml
lx ip addr add 10.78.1.2/24 dev vl
for _a in 5 6 7 8 9; do
	cx ip addr add 10.78.0.$_a/24 dev vc
done
mx ip link set vm up
mx ip link set vml up
lx ip link set vl up
cx ip link set vc up
API=http://10.78.1.2:8080

# ---- the LAPI: a private configuration --------------------------------------

LD=$TMP/lapi
mkdir -p "$LD/data" "$LD/hub" "$LD/notifications"
echo '{}' >"$LD/hub/.index.json"
echo 'simulation: off' >"$LD/simulation.yaml"
cp /etc/crowdsec/profiles.yaml "$LD/profiles.yaml" 2>/dev/null ||
    printf 'name: default_ip_remediation\nfilters:\n - Alert.Remediation == true && Alert.GetScope() == "Ip"\ndecisions:\n - type: ban\n   duration: 4h\non_success: break\n' >"$LD/profiles.yaml"
cat >"$LD/config.yaml" <<EOF
common:
  daemonize: false
  log_media: stdout
  log_level: info
config_paths:
  config_dir: $LD/
  data_dir: $LD/data/
  simulation_path: $LD/simulation.yaml
  hub_dir: $LD/hub/
  index_path: $LD/hub/.index.json
  notification_dir: $LD/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: $LD/acquis.yaml
cscli:
  output: human
db_config:
  log_level: info
  type: sqlite
  db_path: $LD/data/crowdsec.db
  use_wal: false
api:
  client:
    insecure_skip_verify: false
    credentials_path: $LD/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: 10.78.1.2:8080
    profiles_path: $LD/profiles.yaml
    trusted_ips:
      - 127.0.0.1
      - 10.78.1.2
prometheus:
  enabled: false
EOF
: >"$LD/local_api_credentials.yaml"
cscli_ machines add cscli-local --auto -f "$LD/local_api_credentials.yaml" \
    --url "$API" >"$TMP/cscli.out" 2>&1 ||
    { echo "Bail out! cscli machines add"; indent <"$TMP/cscli.out"; exit 1; }
PW=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
cscli_ machines add wireban-mx1 --password "$PW" -f "$TMP/mx1.yaml" \
    >>"$TMP/cscli.out" 2>&1 || { echo "Bail out! cscli machines add"; exit 1; }
printf '%s\n' "$PW" >"$TMP/pw"
chmod 600 "$TMP/pw"
printf 'not-the-password\n' >"$TMP/badpw"
chmod 600 "$TMP/badpw"

lapi_up() { mx curl -s -o /dev/null -m 1 "$API/health"; }
# A LAPI that dies (kill -9): SIGTERM makes 1.4.6 answer for seconds.
kill_lapi() {
	kill -9 "$LAPIPID" 2>/dev/null
	wait "$LAPIPID" 2>/dev/null
	LAPIPID=""
}
start_lapi() {
	# Not through lx: $! must be crowdsec's own PID.
	ip netns exec "$L" crowdsec -c "$LD/config.yaml" -no-cs \
	    >>"$TMP/lapi.log" 2>&1 &
	LAPIPID=$!
	eventually 100 lapi_up ||
	    { echo "Bail out! the LAPI did not start"; indent <"$TMP/lapi.log"
	    exit 1; }
}
start_lapi

# ---- the bouncer on the mail host ---------------------------------------------

KEY=$(cscli_ bouncers add "fb-mx-$$" -o raw 2>>"$TMP/cscli.out")
[ -n "$KEY" ] || { echo "Bail out! cscli bouncers add"; exit 1; }
mkdir "$TMP/bouncer"
cat >"$TMP/bouncer/bouncer.yaml" <<EOF
mode: nftables
pid_dir: $TMP/bouncer/
update_frequency: 1s
daemonize: false
log_mode: file
log_dir: $TMP/bouncer/
log_level: info
api_url: $API/
api_key: $KEY
disable_ipv6: false
deny_action: DROP
deny_log: false
supported_decisions_types:
  - ban
nftables:
  ipv4:
    enabled: true
    set-only: false
    table: crowdsec
    chain: crowdsec-chain
  ipv6:
    enabled: true
    set-only: false
    table: crowdsec6
    chain: crowdsec6-chain
prometheus:
  enabled: false
EOF
ip netns exec "$MX" crowdsec-firewall-bouncer -c "$TMP/bouncer/bouncer.yaml" \
    >"$TMP/bouncer.out" 2>&1 &
FBPID=$!
bouncer_up() { mx nft list table ip crowdsec >/dev/null 2>&1; }
eventually 100 bouncer_up ||
    { echo "Bail out! the bouncer did not start"; indent <"$TMP/bouncer.out"
    exit 1; }

# ---- exim and wireban on the mail host ----------------------------------------

mkdir "$TMP/spool" "$TMP/log"
chown Debian-exim:Debian-exim "$TMP/spool" "$TMP/log"
sed -e "s|@TMP@|$TMP|g" -e "s|@IFACES@|10.78.0.1|" \
    "$ROOT/tests/e2e-exim.conf" >"$TMP/exim.conf"
chmod 644 "$TMP/exim.conf"
ip netns exec "$MX" exim4 -C "$TMP/exim.conf" -bdf -oX 25 \
    -oP "$TMP/exim.pid" >"$TMP/exim.out" 2>&1 &
EXIMS=$!
listening25() { mx ss -Hltn 'sport = :25' | grep -q .; }
eventually 50 listening25 || { echo "Bail out! exim did not start"; exit 1; }

cat >"$TMP/client.py" <<'EOF'
import socket, sys
src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((src, 0))
s.settimeout(float(sys.argv[4]) if len(sys.argv) > 4 else 5)
try:
    s.connect((dst, 25))
except socket.timeout:
    print("timeout")
    sys.exit(1)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode("ascii", "replace").rstrip("\r\n")
        if len(l) < 4 or l[3] != "-":
            return l
print("S:", reply())
if mode == "probe":
    for c in ("EHLO probe.example", "MAIL FROM:<x@example.com>",
              "RCPT TO:<v@elsewhere.example>", "QUIT"):
        s.sendall((c + "\r\n").encode())
        print("S:", reply())
EOF
probe() {
	cx "$PY" "$TMP/client.py" "$1" 10.78.0.1 probe >"$TMP/probe.$1" 2>&1
	grep -q '^S: 550 relay not permitted' "$TMP/probe.$1"
}
refused() { ! cx "$PY" "$TMP/client.py" "$1" 10.78.0.1 greet 1 >/dev/null 2>&1; }
greets() { cx "$PY" "$TMP/client.py" "$1" 10.78.0.1 greet 2 2>/dev/null |
    grep -q '^S: 220'; }

# start_wb LOG BACKEND PASSWORD_FILE: watch on MX's client side.
start_wb() {
	ip netns exec "$MX" "$WB" watch -i vm -o paths.log=stderr \
	    -o "firewall.backend=$2" \
	    -o "crowdsec.url=$API" -o crowdsec.login=wireban-mx1 \
	    -o "crowdsec.password_file=$3" -o "crowdsec.timeout=2s" \
	    -o "paths.state=$TMP/state" -o "paths.socket=$TMP/sock" \
	    >"$TMP/$1" 2>&1 &
	WBPID=$!
	eventually 50 watching "$TMP/$1" ||
	    { echo "Bail out! wireban did not start"; indent <"$TMP/$1"
	    exit 1; }
}
watching() { grep -q "watching" "$1" && [ -S "$TMP/sock" ]; }
stop_wb() { stop "$WBPID"; WBPID=""; rm -f "$TMP/sock"; }

in_bouncer() { mx nft get element ip crowdsec crowdsec-blacklists \
    "{ $1 }" >/dev/null 2>&1; }
not_in_bouncer() { ! in_bouncer "$1"; }
in_lapi() { cscli_ decisions list -a -o raw 2>/dev/null |
    grep -q ",wireban,Ip:$1,"; }
not_in_lapi() { cscli_ decisions list -a -o raw >"$TMP/dl.out" 2>&1 &&
    ! grep -q ",Ip:$1," "$TMP/dl.out"; }
in_local() { mx nft get element inet wireban ipv4_addr "{ $1 }" \
    >/dev/null 2>&1; }
# Alerts the LAPI holds (raw: a CSV header, then one line each).
alerts() { cscli_ alerts list -a -o raw -l 0 2>/dev/null | grep -c ',Ip,'; }

# ---- 1: a probe, banned by the bouncer ----------------------------------------

start_wb wb1.log crowdsec "$TMP/pw"
check "watch starts with firewall.backend=crowdsec, says where the bans are" \
    grep -q "cscli decisions list -a --origin wireban" "$TMP/wb1.log"
check "10.78.0.5 connects before" greets 10.78.0.5
check "relay probe from 10.78.0.5 refused by exim (550)" probe 10.78.0.5
t0=$(now_ms)
check "10.78.0.5 is in the bouncer's nftables set within 1 s (poll) + 1 s" \
    eventually 20 in_bouncer 10.78.0.5
t1=$(now_ms)
echo "# probe answered -> bouncer's set: $((t1 - t0)) ms"
check "10.78.0.5 can no longer connect to the mail host" refused 10.78.0.5
check "10.78.0.6 still can" greets 10.78.0.6
check "cscli decisions list -a shows it with origin wireban" in_lapi 10.78.0.5
cscli_ decisions list -a 2>&1 | indent

# ---- 2: the LAPI down, then back: none lost -----------------------------------

kill_lapi
check "relay probe from 10.78.0.6 while the LAPI is down" probe 10.78.0.6
sleep 3
check "the log says the LAPI cannot be reached" \
    grep -q "crowdsec: POST /v1/alerts: .*retrying" "$TMP/wb1.log"
check "wireban is still up" kill -0 "$WBPID"
t0=$(now_ms)
start_lapi
check "after the restart 10.78.0.6's decision arrives" \
    eventually 700 in_lapi 10.78.0.6
t1=$(now_ms)
echo "# LAPI back -> decision delivered: $((t1 - t0)) ms"
check "and the bouncer bans 10.78.0.6" eventually 30 in_bouncer 10.78.0.6
check "10.78.0.5's is still there" in_lapi 10.78.0.5
check "the log says the LAPI is reachable again" \
    grep -q "reachable again" "$TMP/wb1.log"

# ---- 3: a restart of wireban pushes nothing again ---------------------------

before=$(alerts)
stop_wb
start_wb wb2.log crowdsec "$TMP/pw"
sleep 2
after=$(alerts)
two_and_two() { [ "$before" = 2 ] && [ "$after" = 2 ]; }
check "restart: 2 bans restored, no alert pushed again ($before -> $after)" \
    two_and_two

# ---- 4: unban by hand ----------------------------------------------------------

wbc unban 10.78.0.5 >"$TMP/unban.out" 2>&1
check "wireban unban 10.78.0.5: the decision is lifted at the LAPI" \
    eventually 30 not_in_lapi 10.78.0.5
check "and by the bouncer" eventually 30 not_in_bouncer 10.78.0.5
check "10.78.0.6's stays" in_lapi 10.78.0.6
stop_wb

# ---- 5: local bans unaffected while the LAPI is down -----------------------------

start_wb wb3.log nftables,crowdsec "$TMP/pw"
kill_lapi
t0=$(now_ms)
check "nftables,crowdsec, LAPI down: a probe from 10.78.0.7" probe 10.78.0.7
check "is banned locally within 1 s" eventually 10 in_local 10.78.0.7
t1=$(now_ms)
echo "# probe answered -> local nftables set (LAPI down): $((t1 - t0)) ms"
sleep 2
wbc status >"$TMP/status5.out" 2>&1
check "status: crowdsec 1 pending, with the last error" grep -Eq \
    "^crowdsec .* 1 pending, .*last error: POST /v1/(alerts|watchers/login): " \
    "$TMP/status5.out"
grep -E "^(firewall|crowdsec)" "$TMP/status5.out" | indent
start_lapi
check "LAPI back: 10.78.0.7 delivered too" eventually 700 in_lapi 10.78.0.7
stop_wb

# ---- 6: a wrong password ----------------------------------------------------

start_wb wb4.log nftables,crowdsec "$TMP/badpw"
wbc ban 10.78.0.8 --for 1h >/dev/null 2>&1
check "wrong password: the log says the login was refused" \
    eventually 50 grep -q "login as wireban-mx1 refused: 401 incorrect" \
    "$TMP/wb4.log"
sleep 1.5
wbc status >"$TMP/status6.out" 2>&1
check "status' last error says so" grep -q "last error: login as \
wireban-mx1 refused: 401 incorrect Username or Password" "$TMP/status6.out"
grep -E "^crowdsec" "$TMP/status6.out" | indent
check "wireban goes on (local ban of 10.78.0.8 in place)" in_local 10.78.0.8
check "and is still running" kill -0 "$WBPID"
stop_wb
check "SIGTERM: pending kept in the spool, said so" \
    grep -q "deliveries pending, kept in $TMP/state.crowdsec" "$TMP/wb4.log"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
