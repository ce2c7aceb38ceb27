#!/bin/sh
# t-sidecar.sh - the container recipe of contrib/container/ without a
# container engine: exim and wireban share a network namespace and
# nothing else, as `docker run --network container:exim` (compose:
# network_mode: "service:exim") makes them, and a relay probe coming in
# over a veth is banned where exim receives it.
#
#   "pod" namespace P: exim on 10.79.0.1, in a mount namespace of its own
#   (a private /var/spool holding its spool and logs, a private
#   /etc/exim4 holding its config); wireban beside it in the same network
#   namespace but its own mount and PID namespaces (as PID 1, like a
#   container's process), root with NET_ADMIN and NET_RAW only (the
#   compose file's cap_drop and cap_add). Clients in C.
#
#   1  exim and wireban: one network namespace, two mount namespaces,
#      neither the host's; wireban's PID namespace is its own
#   2  wireban cannot see exim's config, spool or processes; exim can
#   3  exim refuses 10.79.0.5's relay probe, wireban bans it in P's
#      nftables within 1 s; 10.79.0.5 can no longer reach exim, 10.79.0.6
#      still can
#   4  SIGTERM to wireban (PID 1 of its namespace) stops it, exit 0,
#      the table removed, the ban kept in its state (its own volume)
#   5  contrib/container: compose.yaml says what this test does
#      (network_mode service:exim, cap_add NET_ADMIN and NET_RAW); the
#      Dockerfile's runtime packages exist in Debian 12
#
# Root only; SKIP (exit 77) names what is missing. "ok N - ...",
# "N passed, N failed" last. WIREBAN=PATH tests another build.
#
# Invariant: only namespaces made here (wbsc-PID-{p,c}) are touched; the
# EXIT trap stops every process started here by PID and deletes them.

set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
. "$ROOT/tests/lib/tap.sh"
WB=${WIREBAN:-$ROOT/wireban}
case $WB in /*) ;; *) WB=$ROOT/$WB ;; esac
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
# compose.yaml's capabilities: cap_drop ALL, cap_add NET_ADMIN NET_RAW.
CAPS="+net_admin,+net_raw"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root (needs namespaces and a firewall)"
for c in ip nft exim4 unshare nsenter setpriv python3 ss; do
	command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
done
if [ ! -x "$WB" ]; then
	echo "not ok 1 - $WB is built (run make wireban)"
	echo "0 passed, 1 failed"
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbsc.XXXXXX") || skip "mktemp failed"
chmod 755 "$TMP"
NSS="" PIDS=""
cleanup() {
	_rc=$?
	trap '' INT TERM HUP
	trap - EXIT
	# exim's session processes first, then the daemons.
	[ -n "${EXIMPID:-}" ] && for _c in $(ps -o pid= --ppid "$EXIMPID" 2>/dev/null); do
		kill -9 "$_c" 2>/dev/null
	done
	for _p in $PIDS; do stop "$_p"; done
	for _n in $NSS; do ip netns del "$_n" 2>/dev/null; done
	if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
	exit $_rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

indent() { sed 's/^/    /' | head -n 30; }
# leaf PID: the last of PID's first children (the process a chain of
# ip netns exec / unshare --fork / setpriv ends in).
leaf() {
	_p=$1
	while _c=$(ps -o pid= --ppid "$_p" 2>/dev/null | head -n 1) &&
	    [ -n "$_c" ]; do
		_p=$(echo $_c)
	done
	echo "$_p"
}

P="wbsc-$$-p" C="wbsc-$$-c"
px() { ip netns exec "$P" "$@"; }
cx() { ip netns exec "$C" "$@"; }
ip netns add "$P" 2>"$TMP/netns.err" ||
    skip "ip netns unavailable: $(head -n1 "$TMP/netns.err")"
NSS="$P"
ip netns add "$C" || { echo "Bail out! ip netns add $C"; exit 1; }
NSS="$NSS $C"
# eth0 of the pod, as a container engine names it.
ip link add eth0 netns "$P" type veth peer name vc netns "$C" || {
	echo "Bail out! veth pair"; exit 1; }
px ip link set lo up
cx ip link set lo up
px ip addr add 10.79.0.1/24 dev eth0
cx ip addr add 10.79.0.5/24 dev vc
cx ip addr add 10.79.0.6/24 dev vc
px ip link set eth0 up
cx ip link set vc up

# ---- exim's container ----------------------------------------------------------

# In its own mount namespace: tmpfs over /etc/exim4 and /var/spool, the
# config written there, a marker in it to look for elsewhere.
MARK="sidecar-$$"
sed -e "s|@TMP@|/var/spool/exim4|g" -e "s|@IFACES@|10.79.0.1|" \
    -e "s|^primary_hostname = .*|primary_hostname = mx.$MARK.test|" \
    "$ROOT/tests/e2e-exim.conf" >"$TMP/exim.conf"
cat >"$TMP/exim.sh" <<'EOF'
mount -t tmpfs -o mode=0755 tmpfs /etc/exim4 || exit 97
mount -t tmpfs -o mode=0755 tmpfs /var/spool || exit 97
cp "$1" /etc/exim4/exim.conf && chmod 644 /etc/exim4/exim.conf || exit 97
mkdir -p /var/spool/exim4/spool /var/spool/exim4/log
chown -R Debian-exim:Debian-exim /var/spool/exim4
exec exim4 -C /etc/exim4/exim.conf -bdf -oX 25 -oP /var/spool/exim4/exim.pid
EOF
ip netns exec "$P" unshare --mount --propagation private \
    sh "$TMP/exim.sh" "$TMP/exim.conf" >"$TMP/exim.out" 2>&1 &
PIDS="$PIDS $!"
EXIMPID=$!
listening25() { px ss -Hltn 'sport = :25' | grep -q .; }
eventually 50 listening25 || { echo "Bail out! exim did not start"; indent <"$TMP/exim.out"; exit 1; }

# ---- wireban's container ---------------------------------------------------------

# Its own mount namespace (its image: an empty /etc/exim4 and /var/spool
# here, a volume for its state, /run its own) and PID namespace (wireban
# is PID 1 there), root with NET_ADMIN and NET_RAW only.
# The image's entry point's options (-o paths.log=stderr).
ENTRY=$(sed -n 's/^ENTRYPOINT \["[^"]*"\(.*\)\]$/\1/p' contrib/container/Dockerfile |
    tr -d '",')
mkdir "$TMP/state" "$TMP/bin"
cp "$WB" "$TMP/bin/wireban"
cat >"$TMP/wireban.sh" <<'EOF'
mount -t proc proc /proc || exit 97
mount -t tmpfs -o mode=0755 tmpfs /etc/exim4 || exit 97
mount -t tmpfs -o mode=0755 tmpfs /var/spool || exit 97
mount -t tmpfs -o mode=0755 tmpfs /run || exit 97
exec "$@"
EOF
ip netns exec "$P" unshare --mount --propagation private --pid --fork \
    sh "$TMP/wireban.sh" setpriv --bounding-set=-all,"$CAPS" \
    "$TMP/bin/wireban" $ENTRY watch -i eth0 -o paths.state="$TMP/state/state" \
    >"$TMP/wb.log" 2>&1 &
UNSHARE=$!
PIDS="$PIDS $UNSHARE"
watching() { grep -qs watching "$TMP/wb.log"; }
if ! eventually 50 watching; then
	echo "Bail out! wireban did not start"
	indent <"$TMP/wb.log"
	exit 1
fi
W=$(leaf "$UNSHARE")
E=$EXIMPID	# ip netns exec, unshare and sh exec: exim itself
ns() { readlink "/proc/$1/ns/$2"; }

# ---- 1, 2: what is shared ------------------------------------------------------

check "[1] exim and wireban share one network namespace: $(ns "$W" net)" \
    eval '[ "$(ns "$W" net)" = "$(ns "$E" net)" ] && [ "$(ns "$W" net)" != "$(ns $$ net)" ]'
check "[1] each has a mount namespace of its own, neither the host's" \
    eval '[ "$(ns "$W" mnt)" != "$(ns "$E" mnt)" ] && [ "$(ns "$W" mnt)" != "$(ns $$ mnt)" ] &&
    [ "$(ns "$E" mnt)" != "$(ns $$ mnt)" ]'
check "[1] wireban is PID 1 of a PID namespace of its own" \
    eval '[ "$(ns "$W" pid)" != "$(ns $$ pid)" ] &&
    [ "$(sed -n "s/^NSpid:.*[[:space:]]\([0-9]*\)$/\1/p" /proc/$W/status)" = 1 ]'
check "[2] exim sees its config (with $MARK), its spool and pid file" \
    nsenter -t "$E" -m sh -c "grep -q '$MARK' /etc/exim4/exim.conf && [ -d /var/spool/exim4/spool ] && [ -s /var/spool/exim4/exim.pid ]"
check "[2] wireban cannot: no /etc/exim4/exim.conf, no exim spool, no $MARK anywhere in /etc" \
    nsenter -t "$W" -m sh -c "[ ! -e /etc/exim4/exim.conf ] && [ ! -e /var/spool/exim4 ] &&
    ! grep -rqs '$MARK' /etc"
check "[2] nor exim's processes (so no /proc/PID/root into exim's files)" \
    nsenter -t "$W" -m -p sh -c '! grep -qs exim /proc/[0-9]*/comm'

# ---- 3: a probe from outside is banned in the shared namespace -----------------

cat >"$TMP/probe.py" <<'EOF'
import socket, sys
mode, src = sys.argv[1], sys.argv[2]
try:
    s = socket.create_connection(("10.79.0.1", 25), 2, (src, 0))
except socket.timeout:
    print("timeout"); sys.exit(1)
f = s.makefile("rwb")
def reply():
    while True:
        l = f.readline().decode("ascii", "replace").rstrip("\r\n")
        print("S:", l)
        if len(l) < 4 or l[3] != "-":
            return l
reply()
if mode == "probe":
    for c in ("EHLO probe.example", "MAIL FROM:<x@example.com>",
              "RCPT TO:<v@elsewhere.example>", "QUIT"):
        f.write((c + "\r\n").encode()); f.flush()
        print("C:", c)
        reply()
EOF
probe() { cx "$PY" "$TMP/probe.py" probe "$1" >"$TMP/probe.$1" 2>&1; grep -q '^S: 550 relay not permitted' "$TMP/probe.$1"; }
greets() { cx "$PY" "$TMP/probe.py" greet "$1" 2>&1 | grep -q '^S: 220 '; }
blocked() { cx "$PY" "$TMP/probe.py" greet "$1" 2>&1 | grep -q '^timeout'; }
banned() { px nft get element inet wireban ipv4_addr "{ $1 }" >/dev/null 2>&1; }

check "[3] exim answers 10.79.0.5's relay probe with 550" probe 10.79.0.5
check "[3] within 1 s wireban has banned 10.79.0.5 in the pod's nftables" \
    eventually 10 banned 10.79.0.5
check "[3] a new connection from 10.79.0.5 to exim times out" blocked 10.79.0.5
check "[3] 10.79.0.6 still gets exim's 220" greets 10.79.0.6

# ---- 4: stop ------------------------------------------------------------------------

kill -TERM "$W"
# At most 10 s, then SIGKILL (a status of 137 fails the check).
eventually 100 eval '! kill -0 "$UNSHARE" 2>/dev/null'
kill -9 "$UNSHARE" 2>/dev/null
wait "$UNSHARE"
rc=$?
PIDS=$(echo $PIDS | tr ' ' '\n' | grep -vx "$UNSHARE" | tr '\n' ' ')
check "[4] SIGTERM to wireban, PID 1 of its namespace: exit 0 (exit $rc)" [ "$rc" = 0 ]
check "[4] the table is removed, the ban kept in the state volume" \
    eval '! px nft list table inet wireban >/dev/null 2>&1 &&
    grep -rqs "10\.79\.0\.5" "$TMP/state"'
check "[4] 10.79.0.5 reaches exim again" greets 10.79.0.5

# ---- 5: the recipe says the same ------------------------------------------------------

Y=contrib/container/compose.yaml
check "[5] compose.yaml: wireban has network_mode service:exim, cap_add NET_ADMIN and NET_RAW" \
    eval 'grep -q "network_mode: *\"service:exim\"" "$Y" &&
    awk "/cap_add:/ { on = 1; next } on && /^ *- / { print \$2; next } { on = 0 }" "$Y" |
    sort | tr "\n" " " | grep -qx "NET_ADMIN NET_RAW "'
check "[5] the Dockerfile's entry point logs to stderr (docker logs): $ENTRY" \
    eval 'echo "$ENTRY" | grep -q "paths.log=stderr"'
pkgs=$(sed -n 's/^ARG RUNTIME_PACKAGES="\(.*\)"$/\1/p' contrib/container/Dockerfile)
missing=""
for p in $pkgs; do
	apt-cache show "$p" >/dev/null 2>&1 || missing="$missing $p"
done
check "[5] the Dockerfile's runtime packages are in Debian 12's archive:${missing:- $pkgs}" \
    eval '[ -n "$pkgs" ] && [ -z "$missing" ]'
# The binary's own libraries (DT_NEEDED) come from those packages (apt
# brings what they need in turn), or from libc6 and libgcc-s1, which
# every Debian image has (the Essential packages depend on them).
pkg_of() {	# the package holding the library the binary loads as $1
	_path=$(ldd "$WB" | awk -v so="$1" '$1 == so { print $3 }')
	[ -n "$_path" ] || return 0
	for _f in "$_path" "$(realpath "$_path")" "${_path#/usr}" "/usr$_path"; do
		dpkg -S "$_f" 2>/dev/null | head -n 1 | cut -d: -f1 | grep . && return 0
	done
}
need=$(readelf -dW "$WB" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' |
    while read -r so; do pkg_of "$so"; done | sort -u |
    grep -vx -e libc6 -e libgcc-s1 | tr '\n' ' ')
absent=""
for p in $need; do
	case " $pkgs " in *" $p "*) ;; *) absent="$absent $p" ;; esac
done
check "[5] every library package the binary links ($need) is in RUNTIME_PACKAGES${absent:+ (absent:$absent)}" \
    eval '[ -n "$need" ] && [ -z "$absent" ]'

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
