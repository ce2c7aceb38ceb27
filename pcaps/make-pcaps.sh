#!/bin/bash
# make-pcaps.sh: make the test captures in pcaps/ from a REAL exim.
#
# As root: creates two private network namespaces, the mail host and the
# clients, joined by a veth pair (a real network path, Ethernet on both
# ends); serves a DNS blocklist on the mail host's loopback (dnsbl.py);
# starts Debian's exim4 there with its own configuration (exim.conf.in)
# on 192.0.2.1 and 2001:db8::1, ports 25, 465 (TLS on connect) and 587;
# and for each scenario captures one client session with tcpdump on the
# mail host's end of the veth.  Each scenario has its own client address
# (192.0.2.10, .11, ... for the IPv4 scenarios, 2001:db8::10, ::11, ...
# for the v6_ ones), so the client of every expectation is unambiguous.
# All addresses are documentation ones (RFC 5737, RFC 3849): never this
# host's own, never in a range wireban refuses to ban (loopback, the
# first captures' home, is one), and never anybody's on the Internet.
#
# For scenario NAME it writes, next to this script:
#   NAME.pcap     the capture (tcpdump -i on the mail host's veth, ports
#                 25/465/587, snaplen 0)
#   NAME.eximlog  exim's mainlog lines written during that scenario
#   NAME.expect   one line per 4xx/5xx reply sent in plaintext, in wire
#                 order: client_ip TAB command TAB code TAB rule TAB offence
# The expectations are written here, next to the client steps that cause
# them (what we send and what exim is documented to answer); they are
# never derived from wireban.  check-expect.py then verifies them against
# the exim log and the capture.
#
# Usage: sudo pcaps/make-pcaps.sh [SCENARIO...]   (default: all)
#        KEEP_TMP=1 keeps the temporary exim directory for debugging.
#
# Everything runs inside the two namespaces, on their veth pair and the
# mail host's loopback; the host's network, firewall and exim are never
# touched (the veth is created inside the namespaces, it never appears
# in the host's).  The EXIT trap stops every process this script started
# (by PID) and deletes both namespaces.

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
# The mail host (exim, the DNS responder, tcpdump) and the clients (swaks,
# client.py), each in a namespace of its own.
NS=wbpcap-mx
NSC=wbpcap-cl
# The veth pair: MX_IF in NS, CL_IF in NSC.  MACs from IANA's block for
# documentation (RFC 7042 2.1.1), so that no capture names a real NIC.
MX_IF=mx0
CL_IF=cl0
MX_MAC=00:00:5e:00:53:01
CL_MAC=00:00:5e:00:53:02
# Server and client addresses, one IPv4 /24 (TEST-NET-1, RFC 5737) and
# one IPv6 /64 (the documentation prefix, RFC 3849) on the veth.  Every
# address is written as inet_ntop prints it (RFC 5952), which is how the
# .expect files must give it.
SERVER=192.0.2.1
V4_NET=192.0.2.
SERVER6=2001:db8::1
V6_PREFIX=2001:db8::
# exim's resolver asks dnsbl.py on the mail host's own loopback: DNS never
# crosses the veth, so the captures hold the SMTP traffic alone.
DNS_ADDR=127.0.0.1
FILTER='tcp port 25 or tcp port 465 or tcp port 587'
AUTH_PASSWORD=correct-horse-battery-staple

# Scenario order fixes the client addresses: the Nth scenario connects
# from 192.0.2.(10+N).  Keep the order stable, or every .expect changes.
SCENARIOS=(relay unknown_user unrouteable rbl rbl_listed sender_verify
           auth535 auth503 unrecognized early_talker pipelining starttls
           implicit_tls tempfail clean typo rset content data_rejected bdat)
# The IPv6 scenarios, each the IPv4 one of the same name from an IPv6
# client to 2001:db8::1: the Nth connects from 2001:db8::(10+N), N
# counted in hex (2001:db8::10 ... 2001:db8::18).  Same rule: append,
# never reorder.
V6_SCENARIOS=(v6_relay v6_unknown_user v6_rbl v6_rbl_listed v6_auth535
              v6_early_talker v6_pipelining v6_starttls v6_clean)
declare -A IP SRV
for i in "${!SCENARIOS[@]}"; do
    IP[${SCENARIOS[$i]}]=$V4_NET$((10 + i))
    SRV[${SCENARIOS[$i]}]=$SERVER
done
for i in "${!V6_SCENARIOS[@]}"; do
    IP[${V6_SCENARIOS[$i]}]=$V6_PREFIX$(printf '%x' $((0x10 + i)))
    SRV[${V6_SCENARIOS[$i]}]=$SERVER6
done
ALL_SCENARIOS=("${SCENARIOS[@]}" "${V6_SCENARIOS[@]}")

die() { echo "make-pcaps: $*" >&2; exit 1; }
say() { echo "make-pcaps: $*"; }

# ------------------------------------------------------------ preflight

[ "$(id -u)" = 0 ] || die "must run as root (network namespace, tcpdump, exim)"

missing=()
for cmd in ip ss exim4 swaks tcpdump tshark openssl python3 perl; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
# swaks needs these two Perl modules for STARTTLS and TLS on connect, and
# IO::Socket::INET6 for IPv6 (swaks 20201014 knows no other IPv6 socket).
for mod in Net::SSLeay IO::Socket::SSL IO::Socket::INET6; do
    perl -M"$mod" -e 1 2>/dev/null || missing+=("perl:$mod")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "make-pcaps: missing: ${missing[*]}" >&2
    echo "make-pcaps: on Debian 12: apt-get install iproute2 exim4-daemon-light" \
         "swaks tcpdump tshark openssl python3 libnet-ssleay-perl" \
         "libio-socket-ssl-perl libio-socket-inet6-perl" >&2
    exit 1
fi

if [ $# -gt 0 ]; then
    for s in "$@"; do
        [ -n "${IP[$s]+x}" ] || die "unknown scenario '$s' (known: ${ALL_SCENARIOS[*]})"
    done
    RUN=("$@")
else
    RUN=("${ALL_SCENARIOS[@]}")
fi

# A namespace of these names that we did not create is not ours to delete.
for n in "$NS" "$NSC"; do
    if ip netns list | awk '{print $1}' | grep -qx "$n" || [ -e "/etc/netns/$n" ]
    then
        die "network namespace $n or /etc/netns/$n already exists (a crashed" \
            "run?); inspect, then 'ip netns del $n; rm -rf /etc/netns/$n'"
    fi
done

# ------------------------------------------------------------ clean-up

TMP=
EXIM_PID=
DNS_PID=
TCPDUMP_PID=
NS_MADE=
NSC_MADE=
ETC_MADE=
ETC_MADE_C=
STOPPING=

stop_pid() {            # stop_pid PID [SIGNAL]: stop one of our children
    local pid=$1 sig=${2:-TERM}
    [ -n "$pid" ] || return 0
    STOPPING=1
    kill -"$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    STOPPING=
}

cleanup() {
    local rc=$?
    set +e
    stop_pid "$TCPDUMP_PID" INT
    stop_pid "$EXIM_PID"
    stop_pid "$DNS_PID"
    # Deleting a namespace deletes the veth end in it, and so the pair.
    [ -z "$NSC_MADE" ] || ip netns del "$NSC"
    [ -z "$NS_MADE" ] || ip netns del "$NS"
    [ -z "$ETC_MADE_C" ] || rm -rf "/etc/netns/$NSC"
    [ -z "$ETC_MADE" ] || rm -rf "/etc/netns/$NS"
    if [ -n "$TMP" ]; then
        if [ "${KEEP_TMP:-0}" = 1 ]; then
            say "kept $TMP"
        else
            rm -rf "$TMP"
        fi
    fi
    [ $rc = 0 ] || echo "make-pcaps: FAILED (exit $rc)" >&2
    exit $rc
}
# When a child we wait for dies of SIGINT (tcpdump re-raises it after
# flushing), bash runs our INT trap as if we had been interrupted; that
# one is ours, not the user's, so it must not end the run.
on_signal() { [ -n "$STOPPING" ] || exit 130; }
trap cleanup EXIT
trap on_signal INT TERM

# Everything network-facing runs in a namespace: nsx on the mail host,
# nsc on the clients.  Background processes are started with a plain
# `ip netns exec ... &` instead: ip execs the program, so $! is the
# program's own PID (through a shell function, $! would be a subshell
# that ignores SIGINT).
nsx() { ip netns exec "$NS" "$@"; }
nsc() { ip netns exec "$NSC" "$@"; }

# wait_for DESCRIPTION COMMAND...: poll up to 10 s for COMMAND to succeed.
wait_for() {
    local what=$1 i
    shift
    for i in $(seq 100); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "timed out waiting for $what"
}

# tcp_listening ADDR PORT / udp_listening PORT: is something bound on the
# mail host?  ss prints an IPv6 local address in brackets.
tcp_listening() {
    local a=$1
    case $a in *:*) a="[$a]" ;; esac
    nsx ss -Hltn "sport = :$2" | awk '{print $4}' | grep -qxF "$a:$2"
}
udp_listening() { nsx ss -Hlun "sport = :$1" | grep -q .; }

# ------------------------------------------------------------ set-up

TMP=$(mktemp -d /tmp/wireban-pcaps.XXXXXX)
# exim's receiving processes run as Debian-exim: they must reach the
# spool, log and TLS files below.
chmod 755 "$TMP"
mkdir "$TMP/spool" "$TMP/log" "$TMP/tls"
chown Debian-exim:Debian-exim "$TMP/spool" "$TMP/log"

# ip netns exec bind-mounts /etc/netns/NS/resolv.conf over
# /etc/resolv.conf: exim's resolver asks only our DNS responder.  The
# clients' resolver points at their own loopback, where nothing listens:
# a stray lookup (swaks needs none) fails at once and never leaves.
mkdir -p "/etc/netns/$NS"
ETC_MADE=1
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$DNS_ADDR" \
    > "/etc/netns/$NS/resolv.conf"
mkdir -p "/etc/netns/$NSC"
ETC_MADE_C=1
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
    > "/etc/netns/$NSC/resolv.conf"
ip netns add "$NS"
NS_MADE=1
ip netns add "$NSC"
NSC_MADE=1
nsx ip link set lo up
nsc ip link set lo up
# The veth pair, made inside the mail host's namespace with its peer put
# straight into the clients' (so it never shows up in the host's).  The
# kernel leaves the TCP checksums of packets on a veth to "hardware" that
# does not exist (checksum offload): the captures carry wrong TCP sums in
# both directions, as loopback ones did.  Left so on purpose: a capture
# on a real mail server looks the same, and wireban's checksums = auto
# is made for it (it stops verifying at the first wrong sum).
nsx ip link add "$MX_IF" address "$MX_MAC" type veth \
    peer name "$CL_IF" address "$CL_MAC" netns "$NSC"
# The server's addresses on its end; on the clients' end, one address per
# scenario, so every session's client is known from its source address.
# nodad: no duplicate address detection, an IPv6 address is usable at
# once (there is nobody else on this link).
nsx ip addr add "$SERVER/24" dev "$MX_IF"
nsx ip -6 addr add "$SERVER6/64" dev "$MX_IF" nodad
for s in "${SCENARIOS[@]}"; do
    nsc ip addr add "${IP[$s]}/24" dev "$CL_IF"
done
for s in "${V6_SCENARIOS[@]}"; do
    nsc ip -6 addr add "${IP[$s]}/64" dev "$CL_IF" nodad
done
nsx ip link set "$MX_IF" up
nsc ip link set "$CL_IF" up
# Neighbour discovery uses the link-local addresses, which do go through
# DAD once the link is up: wait until both ends are up and each has a
# link-local address that is no longer tentative.
end_ready() {           # end_ready nsx|nsc DEV
    $1 ip -br link show dev "$2" | grep -qw UP &&
        [ -n "$($1 ip -6 addr show dev "$2" scope link)" ] &&
        [ -z "$($1 ip -6 addr show dev "$2" tentative)" ]
}
veth_ready() { end_ready nsx "$MX_IF" && end_ready nsc "$CL_IF"; }
wait_for "the veth pair (link up, IPv6 duplicate address detection)" veth_ready

# A throw-away self-signed certificate for STARTTLS and port 465.  An EC
# key keeps the handshakes (and so the captures) small.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$TMP/tls/key.pem" -out "$TMP/tls/cert.pem" -days 3650 \
    -subj /CN=mx.wireban.test -addext subjectAltName=DNS:mx.wireban.test \
    2>/dev/null
chgrp Debian-exim "$TMP/tls/key.pem"
chmod 640 "$TMP/tls/key.pem"

# The DNS blocklists: rbl's client is listed in bl.wireban.test (RCPT ACL,
# exim's stock message plus our TXT), rbl_listed's in dnsbl.wireban.test
# (connect ACL, "Host is listed in"); v6_rbl's and v6_rbl_listed's the
# same way, under their reversed nibbles (exim's spec, "DNS lists and
# IPv6").  The DNS itself runs over IPv4, on the mail host's loopback.
ip netns exec "$NS" python3 "$HERE/dnsbl.py" "$DNS_ADDR" \
    bl.wireban.test "${IP[rbl]}" \
        "Listed in the wireban test list, see https://bl.wireban.test/q/${IP[rbl]}" \
    dnsbl.wireban.test "${IP[rbl_listed]}" \
        "Dynamic address range, see https://dnsbl.wireban.test/q/${IP[rbl_listed]}" \
    bl.wireban.test "${IP[v6_rbl]}" \
        "Listed in the wireban test list, see https://bl.wireban.test/q/${IP[v6_rbl]}" \
    dnsbl.wireban.test "${IP[v6_rbl_listed]}" \
        "Dynamic address range, see https://dnsbl.wireban.test/q/${IP[v6_rbl_listed]}" \
    > "$TMP/dns.log" 2>&1 &
DNS_PID=$!
wait_for "the DNS responder" udp_listening 53

# exim refuses a config file that is not owned by root or is writable by
# others; -bV checks its syntax before we start the daemon.
CONF=$TMP/exim.conf
sed -e "s|@TMP@|$TMP|g" \
    -e "s|@SERVER@|$SERVER|g" \
    -e "s|@SERVER6@|$SERVER6|g" \
    -e "s|@IP_auth503@|${IP[auth503]}|g" \
    -e "s|@IP_unrouteable@|${IP[unrouteable]}|g" \
    -e "s|@IP_early_talker@|${IP[early_talker]}|g" \
    -e "s|@IP_v6_early_talker@|${IP[v6_early_talker]}|g" \
    -e "s|@AUTH_PASSWORD@|$AUTH_PASSWORD|g" \
    "$HERE/exim.conf.in" > "$CONF"
chown root:root "$CONF"
chmod 644 "$CONF"
exim4 -C "$CONF" -bV >/dev/null || die "exim rejects $CONF"
EXIM_VERSION=$(exim4 -C "$CONF" -bV | sed -n '1s/^Exim version \([^ ]*\).*/\1/p')

# -bdf: daemon in the foreground, so $! is the daemon's own PID.
ip netns exec "$NS" exim4 -C "$CONF" -bdf -oX 25:465:587 -oP "$TMP/exim.pid" \
    2> "$TMP/exim.stderr" &
EXIM_PID=$!
for addr in "$SERVER" "$SERVER6"; do
    for port in 25 465 587; do
        wait_for "exim on $addr port $port" tcp_listening "$addr" "$port"
    done
done
MAINLOG=$TMP/log/mainlog
say "exim $EXIM_VERSION listening on $SERVER and $SERVER6 in namespace $NS," \
    "clients in $NSC (tmp $TMP)"

# ------------------------------------------------------------ helpers

CLIENT_LOG=$TMP/clients.log
TRANSCRIPT=$TMP/transcript

# expect COMMAND CODE RULE OFFENCE: one expected 4xx/5xx reply of the
# current scenario's client, in wire order.
expect() {
    printf '%s\t%s\t%s\t%s\t%s\n' "$CUR_IP" "$1" "$2" "$3" "$4" >> "$CUR_EXPECT"
}

# bracket ADDR: an IPv6 address in brackets, as swaks wants it (it would
# take the last colon of a bare one for a port separator); IPv4 as is.
bracket() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }

# sw ARGS...: one swaks session from the scenario's address, in the
# clients' namespace.  swaks exits non-zero when exim rejects, which is
# the point here, so its status is ignored; saw() checks the transcript
# instead.
sw() {
    nsc swaks --server "$(bracket "$CUR_SERVER")" \
        --local-interface "$(bracket "$CUR_IP")" --timeout 10 \
        "$@" > "$TRANSCRIPT" 2>&1 || true
    cat "$TRANSCRIPT" >> "$CLIENT_LOG"
}

# saw TEXT: the last swaks transcript contains TEXT (a server reply).
saw() {
    grep -qF -- "$1" "$TRANSCRIPT" || {
        cat "$TRANSCRIPT" >&2
        die "$CUR: expected '$1' in the swaks transcript"
    }
}

# raw SCENARIO: the raw-socket client of that name (client.py), in the
# clients' namespace, which itself fails when exim's answers differ from
# the script.
raw() {
    nsc python3 "$HERE/client.py" "$1" "$CUR_IP" "$CUR_SERVER" \
        > "$TRANSCRIPT" 2>&1 || {
        cat "$TRANSCRIPT" >&2
        die "$CUR: client.py $1 failed"
    }
    cat "$TRANSCRIPT" >> "$CLIENT_LOG"
}

# No message left in the spool: every accepted message has been delivered
# (and logged).  Counted by hand, because `exim -C ... -bpc` complains on
# stderr that it lost privilege.
queue_empty() { [ -z "$(find "$TMP/spool/input" -name '*-H' 2>/dev/null)" ]; }

# ------------------------------------------------------------ scenarios
# One function per scenario: drive the client, state the expectations.

scn_relay() {
    sw --helo relay-probe.example --from spammer@example.com \
       --to victim@elsewhere.example
    saw "550 relay not permitted"
    expect RCPT 550 relay yes
}

scn_unknown_user() {
    sw --helo harvester.example --from carol@example.com \
       --to nosuchuser@wireban.test
    saw "550 Unknown user"
    expect RCPT 550 unknown_user yes
}

scn_unrouteable() {
    # This client may relay; the remote domain does not resolve.
    sw --helo relay-client.example --from carol@example.com \
       --to someone@nowhere.example
    saw "550 Unrouteable address"
    expect RCPT 550 unknown_user yes
}

scn_rbl() {
    sw --helo listed.example --from carol@example.com \
       --to alice@wireban.test
    saw "550-rejected because $CUR_IP is in a black list at bl.wireban.test"
    saw "550 Listed in the wireban test list"
    expect RCPT 550 rbl yes
}

scn_rbl_listed() {
    # Refused in the connect ACL: the greeting itself is the 550 (exim's
    # code for a connect-time deny), then exim closes.
    sw --helo listed2.example --from carol@example.com \
       --to alice@wireban.test
    saw "550 Host is listed in dnsbl.wireban.test"
    expect NONE 550 rbl yes
}

scn_sender_verify() {
    # A forged sender in our own domain fails sender verification at MAIL.
    sw --helo forger.example --from ghost@wireban.test \
       --to alice@wireban.test
    saw "550-Verification failed for <ghost@wireban.test>"
    saw "550-Unknown user"
    saw "550 Sender verify failed"
    expect MAIL 550 callout yes
}

scn_auth535() {
    raw auth535
    expect AUTH 535 auth yes        # AUTH PLAIN, wrong password
    expect AUTH 535 auth yes        # AUTH LOGIN: answers the password line
    expect AUTH 504 auth yes        # AUTH CRAM-MD5: not offered
}

scn_auth503() {
    raw auth503
    expect AUTH 503 auth yes
}

scn_unrecognized() {
    raw unrecognized
    expect UNKNOWN 500 - no
    expect UNKNOWN 500 - no
    expect UNKNOWN 500 - no
    expect UNKNOWN 500 protocol yes
}

scn_early_talker() {
    # The 554 takes the greeting's place; it answers no command, even
    # though the client's EHLO is already on the wire.
    raw early_talker
    expect NONE 554 sync yes
}

scn_pipelining() {
    raw pipelining
    expect RCPT 550 unknown_user yes  # nobody@wireban.test
    expect RCPT 550 relay yes         # victim@elsewhere.example
}

scn_starttls() {
    # The relay attempt happens inside TLS: nothing to see in plaintext.
    sw --helo tls-client.example --from carol@example.com \
       --to victim@elsewhere.example --tls
    saw "220 TLS go ahead"
    saw "550 relay not permitted"
}

scn_implicit_tls() {
    # TLS from the first byte on 465; the rejected recipient is hidden.
    sw --port 465 --tlsc --helo smtps-client.example \
       --from carol@example.com \
       --to alice@wireban.test,nosuchuser@wireban.test
    saw "550 Unknown user"
    saw "250 OK id="
}

scn_tempfail() {
    sw --helo greylisted.example --from carol@example.com \
       --to greylist@wireban.test
    saw "451 Greylisted, please try again later"
    expect RCPT 451 - no
}

scn_clean() {
    sw --helo good.example --from carol@example.com --to alice@wireban.test
    saw "250 OK id="
    sw --helo good.example --from carol@example.com --to bob@wireban.test
    saw "250 OK id="
}

scn_typo() {
    sw --helo typo.example --from carol@example.com \
       --to alice@wireban.test,alcie@wireban.test,bob@wireban.test
    saw "550 Unknown user"
    saw "250 OK id="
    expect RCPT 550 unknown_user yes
}

scn_rset() {
    raw rset
    expect RCPT 550 relay yes
}

scn_content() {
    sw --helo infected.example --from carol@example.com \
       --to alice@wireban.test \
       --body "Open the attachment. WIREBAN-TEST-VIRUS"
    saw "550 This message contains a virus"
    expect EOM 550 content yes
}

scn_data_rejected() {
    raw data_rejected
    expect DATA 503 - no              # valid RCPT command must precede DATA
    expect UNKNOWN 500 - no           # "Subject: buy now"
    expect UNKNOWN 500 - no           # "cheap pills"
    expect UNKNOWN 500 protocol yes   # "." -> 500-... Too many syntax or protocol errors
}

scn_bdat() {
    raw bdat
    expect RCPT 550 unknown_user yes
}

# The IPv6 scenarios: the same client steps and the same expectations
# (which carry the IPv6 client address).  The blocklists, the early
# talker's delay and the PIPECONNECT exception name these clients too.
scn_v6_relay()        { scn_relay; }
scn_v6_unknown_user() { scn_unknown_user; }
scn_v6_rbl()          { scn_rbl; }
scn_v6_rbl_listed()   { scn_rbl_listed; }
scn_v6_auth535()      { scn_auth535; }
scn_v6_early_talker() { scn_early_talker; }
scn_v6_pipelining()   { scn_pipelining; }
scn_v6_starttls()     { scn_starttls; }
scn_v6_clean()        { scn_clean; }

# ------------------------------------------------------------ main loop

for CUR in "${RUN[@]}"; do
    CUR_IP=${IP[$CUR]}
    CUR_SERVER=${SRV[$CUR]}
    kill -0 "$EXIM_PID" 2>/dev/null || die "exim (pid $EXIM_PID) has died"
    # Work files go to $TMP and are moved next to this script only when
    # the scenario is complete: an interrupted run leaves no half capture.
    CUR_EXPECT=$TMP/$CUR.expect
    pcap=$TMP/$CUR.pcap
    : > "$CUR_EXPECT"

    # --immediate-mode: hand each packet over at once; without it libpcap
    # (TPACKET_V3) waits for a full ring block, and packets still in the
    # ring when SIGINT arrives are silently never written.  -U writes
    # every packet to the file at once.  -Z root: Debian's tcpdump would
    # otherwise switch to the tcpdump user, who may not write here.
    ip netns exec "$NS" tcpdump -i "$MX_IF" -s 0 -n -U --immediate-mode -Z root \
        -w "$pcap" "$FILTER" 2> "$TMP/tcpdump.err" &
    TCPDUMP_PID=$!
    # "listening on" is printed once the capture is active in the kernel.
    wait_for "tcpdump to capture" grep -q "listening on" "$TMP/tcpdump.err"

    log_from=$(stat -c %s "$MAINLOG")
    "scn_$CUR"

    # Let exim finish: deliveries of accepted messages, the closing log
    # lines, and the last FIN/ACK on the wire.
    wait_for "exim's queue to empty" queue_empty
    sleep 0.5
    stop_pid "$TCPDUMP_PID" INT
    TCPDUMP_PID=
    # Every packet the filter accepted must be in the file.  On the veth
    # the kernel shows each packet once, in whichever direction it goes
    # (on lo it showed each twice): received = captured.
    captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$TMP/tcpdump.err")
    received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$TMP/tcpdump.err")
    dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$TMP/tcpdump.err")
    if [ "${captured:-0}" = 0 ] || [ "$captured" != "$received" ] ||
       [ "$dropped" != 0 ]; then
        die "$CUR: incomplete capture: $(cat "$TMP/tcpdump.err")"
    fi

    tail -c +"$((log_from + 1))" "$MAINLOG" > "$TMP/$CUR.eximlog"
    chmod 644 "$pcap" "$CUR_EXPECT" "$TMP/$CUR.eximlog"
    mv -f "$pcap" "$CUR_EXPECT" "$TMP/$CUR.eximlog" "$HERE/"
    say "$CUR: $captured packets," \
        "$(wc -l < "$HERE/$CUR.expect") expected reject(s), client $CUR_IP"
done

# The one expected panic: exim re-executes itself (still with -C) to
# deliver each accepted message, and as the exim user it may not keep
# root with a -C file that is not in Debian's TRUSTED_CONFIG_LIST
# (/etc/exim4/trusted_configs, the host's file: we leave it alone).  It
# says so in the paniclog, then delivers to :blackhole: all the same.
if grep -v "exim user lost privilege for using -C option" \
        "$TMP/log/paniclog" 2>/dev/null | grep .; then
    die "exim wrote an unexpected paniclog (above)"
fi
say "done: exim $EXIM_VERSION, $(swaks --version | sed -n '1p')"

# Cross-check every capture in the folder against its log and capture.
"$HERE/check-expect.py" "$HERE"
