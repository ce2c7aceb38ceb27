#!/bin/sh
# t-systemd.sh - contrib/wireban.service is valid, scores well, and the
# daemon does its job with exactly what the unit grants and no more.
#
#   1  systemd-analyze verify passes on the unit (ExecStart pointed at
#      the built binary, its man pages found), and on the unit with the
#      xtables-lock drop-in
#   2  systemd-analyze security --offline: the exposure score is at most
#      MAX_EXPOSURE (below)
#   3  the unit's privileges, applied by hand, as systemd would: a
#      network namespace pair joined by a veth with a real exim in one;
#      `wireban watch` started with the unit's own ExecStart arguments,
#      as a dynamic-range uid that is not root, with the unit's bounding,
#      ambient and inheritable capabilities, no_new_privs, UMask, the
#      seccomp filters of SystemCallFilter= (EPERM for the rest, as
#      SystemCallErrorNumber= says), SystemCallArchitectures=native,
#      RestrictAddressFamilies= and MemoryDenyWriteExecute=, in a mount
#      namespace where everything is read-only (ProtectSystem=strict)
#      but the unit's StateDirectory, RuntimeDirectory and LogsDirectory;
#      under strace, which must see no system call outside the filter
#   4  so confined it: reports READY=1 on an abstract NOTIFY_SOCKET, a
#      relay probe from the other namespace is banned in the kernel
#      (nft list table inet wireban) within 1 s, root's `wireban list`
#      shows it, the state is the uid's and private; SIGHUP: RELOADING=1
#      then READY=1, reloaded; SIGTERM: STOPPING=1, exit 0, table gone
#   5  with either capability left out it refuses to start, naming it
#   6  the xtables-lock drop-in: as root with the same two capabilities,
#      the iptables backend bans through the lock file the drop-in
#      creates (and, as the dynamic uid, it cannot)
#   7  MemoryDenyWriteExecute: PCRE2's JIT is refused its W+X mapping
#      (EPERM) and the rules still match, by the interpreter
#
# The sd_notify checks run once src/watch.c calls sdnotify(); until then
# they say so in a "#" line and count neither way. Root only; SKIP
# (exit 77) names what is missing. "ok N - ..." / "not ok N - ...",
# "N passed, N failed" last. WIREBAN=PATH tests another build,
# KEEP_TMP=1 keeps the temporary directory.
#
# Invariant: the host's firewall, network and file systems are never
# touched: the firewall and the traffic are those of namespaces made
# here (wbsd-PID-{s,c}), the mounts those of private mount namespaces.
# The EXIT trap stops every process started here by PID and deletes the
# namespaces and the temporary directory.

set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
. "$ROOT/tests/lib/tap.sh"
WB=${WIREBAN:-$ROOT/wireban}
case $WB in /*) ;; *) WB=$ROOT/$WB ;; esac
UNIT=$ROOT/contrib/wireban.service
DROPIN=$ROOT/contrib/xtables-lock.conf
# The exposure systemd-analyze may give the unit, out of 10. The unit
# scores 1.9 (systemd 252, 2026-12); what remains is the network access it exists
# for (AF_PACKET, AF_INET, CAP_NET_ADMIN, CAP_NET_RAW, no
# PrivateNetwork=, no IPAddressDeny=), capset, and the host's root.
MAX_EXPOSURE=2.0
# A uid of systemd's dynamic range (61184-65519), as DynamicUser= picks.
DUID=61184
PY=python3
# LeakSanitizer cannot work under strace (an ASan build, make asan).
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root (needs namespaces, a firewall, setpriv)"
for c in systemd-analyze ip nft iptables-legacy exim4 setpriv unshare \
    nsenter python3 ss; do
	command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
done
[ "$(uname -m)" = x86_64 ] ||
    skip "the seccomp filters here are written for x86_64"
SYSCALLS=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
[ -r "$SYSCALLS" ] || skip "$SYSCALLS missing (linux-libc-dev)"
if [ ! -x "$WB" ]; then
	echo "not ok 1 - $WB is built (run make wireban)"
	echo "0 passed, 1 failed"
	exit 1
fi
HAVE_STRACE=0
command -v strace >/dev/null 2>&1 && HAVE_STRACE=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbsd.XXXXXX") || skip "mktemp failed"
chmod 755 "$TMP"
NSS="" PIDS="" EXIMS=""

cleanup() {
	_rc=$?
	trap '' INT TERM HUP
	trap - EXIT
	for _p in $PIDS; do stop "$_p"; done
	for _p in $EXIMS; do
		for _c in $(ps -o pid= --ppid "$_p" 2>/dev/null); do
			kill -9 "$_c" 2>/dev/null
		done
		stop "$_p"
	done
	for _n in $NSS; do ip netns del "$_n" 2>/dev/null; done
	if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
	exit $_rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

indent() { sed 's/^/    /' | head -n "${1:-30}"; }

# ---- 1, 2: the unit file ------------------------------------------------------

# unit KEY: the values of KEY= in the unit, one per line, in order.
unit() { sed -n "s/^$1=//p" "$UNIT"; }

R=$TMP/root
mkdir -p "$R/etc/systemd/system/wireban.service.d" "$TMP/man/man8" \
    "$TMP/man/man5" "$TMP/out"
sed "s|@SBINDIR@/wireban|$WB|" "$UNIT" >"$R/etc/systemd/system/wireban.service"
cp "$ROOT/man/wireban.8" "$TMP/man/man8/"
cp "$ROOT/man/wireban.conf.5" "$TMP/man/man5/"
# verify asks man(1) for the Documentation= pages: ours, not the host's.
if MANPATH=$TMP/man systemd-analyze verify \
    "$R/etc/systemd/system/wireban.service" >"$TMP/verify" 2>&1 &&
    [ ! -s "$TMP/verify" ]; then
	ok "[1] systemd-analyze verify: the unit is clean (man pages found)"
else
	not_ok "[1] systemd-analyze verify: the unit is clean (man pages found)"
	indent <"$TMP/verify"
fi
cp "$DROPIN" "$R/etc/systemd/system/wireban.service.d/xtables-lock.conf"
# security reads the drop-in too: with it the service runs as root.
systemd-analyze security --offline=true --root="$R" wireban.service \
    >"$TMP/security-dropin" 2>&1
dscore=$(sed -n 's/.*Overall exposure level for wireban.service: \([0-9.]*\).*/\1/p' \
    "$TMP/security-dropin")
if MANPATH=$TMP/man SYSTEMD_UNIT_PATH=$R/etc/systemd/system: \
    systemd-analyze verify wireban.service >"$TMP/verify2" 2>&1 &&
    [ ! -s "$TMP/verify2" ] &&
    grep -q 'User=/DynamicUser=.*runs as root' "$TMP/security-dropin"; then
	ok "[1] systemd-analyze verify: with the xtables-lock drop-in too (read: root, exposure $dscore)"
else
	not_ok "[1] systemd-analyze verify: with the xtables-lock drop-in too"
	indent <"$TMP/verify2"
fi
rm "$R/etc/systemd/system/wireban.service.d/xtables-lock.conf"

systemd-analyze security --offline=true --root="$R" wireban.service \
    >"$TMP/security" 2>&1
score=$(sed -n 's/.*Overall exposure level for wireban.service: \([0-9.]*\).*/\1/p' \
    "$TMP/security")
if [ -n "$score" ] && awk -v s="$score" -v m="$MAX_EXPOSURE" \
    'BEGIN { exit !(s <= m) }'; then
	ok "[2] systemd-analyze security: exposure $score, at most $MAX_EXPOSURE"
else
	not_ok "[2] systemd-analyze security: exposure '$score', at most $MAX_EXPOSURE"
	grep -v '^✓' "$TMP/security" | indent 40
fi
grep '^✗' "$TMP/security" | sed 's/  */ /g; s/^/# exposed: /'

# ---- what the unit grants, for 3-6 -----------------------------------------------

# Capabilities: "cap_net_raw cap_net_admin" -> "+net_raw,+net_admin".
caps=$(unit AmbientCapabilities | tr 'A-Z' 'a-z' | tr ' ' '\n' |
    sed -n 's/^cap_/+/p' | paste -sd, -)
bcaps=$(unit CapabilityBoundingSet | tr 'A-Z' 'a-z' | tr ' ' '\n' |
    sed -n 's/^cap_/+/p' | paste -sd, -)
umask_=$(unit UMask)
[ "$(unit NoNewPrivileges)" = yes ] && nnp=--no-new-privs || nnp=""
[ "$(unit MemoryDenyWriteExecute)" = yes ] && mdwe=--mdwe || mdwe=""
[ "$(unit SystemCallErrorNumber)" = EPERM ] || echo "# SystemCallErrorNumber is not EPERM: emulated as EPERM all the same"
families=$(unit RestrictAddressFamilies | tr ' ' '\n' | sed -n \
    -e 's/^AF_UNIX$/1/p' -e 's/^AF_INET$/2/p' -e 's/^AF_INET6$/10/p' \
    -e 's/^AF_NETLINK$/16/p' -e 's/^AF_PACKET$/17/p' | paste -sd, -)
# ExecStart's arguments after the program ("watch -o paths.socket=...").
execargs=$(unit ExecStart | head -n 1 | sed 's|^@SBINDIR@/wireban ||')
if [ "$caps" = "+net_raw,+net_admin" ] && [ "$bcaps" = "$caps" ] &&
    [ "$umask_" = 0077 ] && [ -n "$nnp" ] && [ -n "$mdwe" ] &&
    [ "$families" = "1,2,10,16,17" ] && [ "$(unit DynamicUser)" = yes ] &&
    [ "$(unit ProtectSystem)" = strict ] &&
    [ "$(unit Type)" = notify ] && [ -n "$execargs" ]; then
	ok "[3] the unit: $caps bounding and ambient, NNP, UMask $umask_, MDWE, families $families, DynamicUser, ProtectSystem=strict, Type=notify; runs 'wireban $execargs'"
else
	not_ok "[3] the unit grants what this test emulates (caps '$caps' '$bcaps', umask '$umask_', nnp '$nnp', mdwe '$mdwe', families '$families', args '$execargs')"
fi

# The system calls SystemCallFilter= allows, in its order: the first
# list an allow list (with @default, as systemd adds it), "~" removing.
systemd-analyze syscall-filter >"$TMP/groups" 2>/dev/null
expand() {
	awk -v want="$*" '
	/^@/ { g = $1; next }
	/^ *#/ { next }
	NF { m[g] = m[g] " " $1 }
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) q[++qn] = w[i]
		while (qn > 0) {
			x = q[qn--]
			if (x in done) continue
			done[x] = 1
			if (substr(x, 1, 1) == "@") {
				k = split(m[x], e, " ")
				for (j = 1; j <= k; j++) q[++qn] = e[j]
			} else print x
		}
	}' "$TMP/groups" | sort -u
}
expand @default >"$TMP/allowed"
unit SystemCallFilter >"$TMP/filters"
while read -r f; do
	case $f in
	"~"*) expand ${f#"~"} >"$TMP/minus"
	    comm -23 "$TMP/allowed" "$TMP/minus" >"$TMP/a2" ;;
	*) expand $f | sort -u - "$TMP/allowed" >"$TMP/a2" ;;
	esac
	mv "$TMP/a2" "$TMP/allowed"
done <"$TMP/filters"
nallowed=$(wc -l <"$TMP/allowed")
if [ "$nallowed" -gt 200 ] && grep -qx capset "$TMP/allowed" &&
    ! grep -qx setuid "$TMP/allowed" && ! grep -qx setrlimit "$TMP/allowed"; then
	ok "[3] SystemCallFilter= allows $nallowed system calls (capset yes; setuid, setrlimit no)"
else
	not_ok "[3] SystemCallFilter= was read ($nallowed system calls)"
	indent <"$TMP/filters"
fi

# ---- the sandbox ----------------------------------------------------------------

# seccomp.py [--mdwe] [--allow FILE] [--families N,...] -- CMD...: execs
# CMD under the filters systemd 252 installs for those settings (x86_64):
# SystemCallArchitectures=native, SystemCallFilter= (EPERM otherwise),
# RestrictAddressFamilies= (socket(2) of another family: EAFNOSUPPORT),
# MemoryDenyWriteExecute= (mmap W+X, mprotect/pkey_mprotect +X, shmat
# SHM_EXEC: EPERM).
cat >"$TMP/seccomp.py" <<EOF
import ctypes, os, re, struct, sys
NR = {}
for m in re.finditer(r"#define __NR_(\w+) (\d+)", open("$SYSCALLS").read()):
    NR[m.group(1)] = int(m.group(2))
ALLOW, KILL = 0x7fff0000, 0x80000000
def errno(e): return 0x00050000 | e
EPERM, EAFNOSUPPORT = 1, 97
LD, JEQ, JGE, JSET, RET, AND = 0x20, 0x15, 0x35, 0x45, 0x06, 0x54
def ins(c, jt, jf, k): return struct.pack("HBBI", c, jt, jf, k)
ARCH = [ins(LD, 0, 0, 4), ins(JEQ, 1, 0, 0xc000003e), ins(RET, 0, 0, KILL),
        ins(LD, 0, 0, 0)]
def install(prog):
    class F(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]
    f = F(len(prog), b"".join(prog))
    if libc.prctl(22, 2, ctypes.byref(f), 0, 0) != 0:
        sys.exit("seccomp.py: PR_SET_SECCOMP: %s" % os.strerror(ctypes.get_errno()))
def arg_test(nr, deny_code, mask, all_bits):
    # for nr: deny_code when arg2 has all (all_bits) or any of mask
    p = [ins(JEQ, 0, 5, nr), ins(LD, 0, 0, 32)]
    if all_bits:
        p += [ins(AND, 0, 0, mask), ins(JEQ, 0, 1, mask)]
    else:
        p += [ins(JSET, 1, 2, mask), ins(RET, 0, 0, ALLOW)]    # unreached
    return p + [ins(RET, 0, 0, deny_code), ins(RET, 0, 0, ALLOW)]
libc = ctypes.CDLL(None, use_errno=True)
args = sys.argv[1:]
filters = []
while args and args[0] != "--":
    a = args.pop(0)
    if a == "--mdwe":
        p = list(ARCH)
        p += arg_test(NR["mmap"], errno(EPERM), 6, True)
        p += [ins(LD, 0, 0, 0)]
        p += arg_test(NR["mprotect"], errno(EPERM), 4, False)
        p += [ins(LD, 0, 0, 0)]
        p += arg_test(NR["pkey_mprotect"], errno(EPERM), 4, False)
        p += [ins(LD, 0, 0, 0)]
        p += arg_test(NR["shmat"], errno(EPERM), 0o100000, False)
        p += [ins(RET, 0, 0, ALLOW)]
        filters.append(p)
    elif a == "--allow":
        names = open(args.pop(0)).read().split()
        nrs = sorted(set(NR[n] for n in names if n in NR))
        p = list(ARCH) + [ins(JGE, 0, 1, 0x40000000), ins(RET, 0, 0, errno(EPERM))]
        for n in nrs:
            p += [ins(JEQ, 0, 1, n), ins(RET, 0, 0, ALLOW)]
        p += [ins(RET, 0, 0, errno(EPERM))]
        filters.append(p)
    elif a == "--families":
        fams = [int(x) for x in args.pop(0).split(",")]
        p = list(ARCH) + [ins(JEQ, 1, 0, NR["socket"]), ins(RET, 0, 0, ALLOW),
                          ins(LD, 0, 0, 16)]
        for i, fam in enumerate(fams):
            p += [ins(JEQ, len(fams) - i, 0, fam)]
        p += [ins(RET, 0, 0, errno(EAFNOSUPPORT)), ins(RET, 0, 0, ALLOW)]
        filters.append(p)
    else:
        sys.exit("seccomp.py: unknown option " + a)
args.pop(0)
if libc.prctl(38, 1, 0, 0, 0) != 0:     # PR_SET_NO_NEW_PRIVS: needed anyway
    sys.exit("seccomp.py: PR_SET_NO_NEW_PRIVS failed")
for p in filters:
    install(p)
os.execv(args[0], args)
EOF

# The mount namespace of ProtectSystem=strict: every mount read-only,
# /run, /var/lib and /var/log replaced by tmpfs (so nothing of the host's
# is written) holding the unit's RuntimeDirectory, StateDirectory and
# LogsDirectory, the dynamic uid's and mode 0700. Then the command.
# Run by `unshare --mount --propagation private`.
cat >"$TMP/mounts.sh" <<'EOF'
uid=$1 out=$2 name=$3 py=$4
shift 4
# The test's output (strace, syslog): root's directory, a mount of its
# own, first: a mount with a file open for writing cannot be made
# read-only.
mount --bind "$out" "$out" || exit 97
for d in /run /var/lib /var/log; do
	mount -t tmpfs -o mode=0755,size=16m tmpfs "$d" || exit 97
	mkdir "$d/wireban" && chown "$uid:$uid" "$d/wireban" &&
	    chmod 0700 "$d/wireban" && mount --bind "$d/wireban" "$d/wireban" ||
	    exit 97
done
# journald's syslog socket, where the service's /dev/log points; a
# receiver of the test's (root, outside the sandbox) stands in for it.
mkdir -p /run/systemd/journal
"$py" "$out/syslog.py" /run/systemd/journal/dev-log "$out/$name.syslog" \
    </dev/null >/dev/null 2>&1 &
echo $! >"$out/$name.syslog.pid"
i=0
while [ ! -S /run/systemd/journal/dev-log ] && [ $i -lt 50 ]; do
	sleep 0.05
	i=$((i + 1))
done
# PrivateDevices=: a /dev of its own, the pseudo devices and the links
# systemd makes there (/dev/log among them).
mkdir /run/.dev && mount -t tmpfs -o mode=0755,size=1m tmpfs /run/.dev || exit 97
for n in null zero full random urandom tty; do
	: >"/run/.dev/$n" && mount --bind "/dev/$n" "/run/.dev/$n" || exit 97
done
mkdir /run/.dev/pts /run/.dev/shm
ln -s /run/systemd/journal/dev-log /run/.dev/log
ln -s /proc/self/fd /run/.dev/fd
ln -s /proc/self/fd/0 /run/.dev/stdin
ln -s /proc/self/fd/1 /run/.dev/stdout
ln -s /proc/self/fd/2 /run/.dev/stderr
mount --move /run/.dev /dev || exit 97
# The xtables-lock drop-in's ExecStartPre (root, before the sandbox).
[ "${TOUCH_LOCK:-0}" = 1 ] && touch /run/xtables.lock
awk '{ print $5 }' /proc/self/mountinfo | while read -r mp; do
	case $mp in
	/run/wireban|/var/lib/wireban|/var/log/wireban|"$out") continue ;;
	esac
	mount -o remount,bind,ro "$mp" 2>/dev/null
done
# Read-only, all but those (test -w asks; it writes nothing).
if [ -w / ] || [ -w /run ] || [ -w /etc ] || [ -w /dev ]; then exit 98; fi
exec "$@"
EOF

# Stands in for journald's syslog socket: one line per datagram.
cat >"$TMP/out/syslog.py" <<'EOF'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
out = open(sys.argv[2], "a", buffering=1)
while True:
    out.write(s.recv(8192).decode("ascii", "replace").rstrip("\n") + "\n")
EOF

# The notify socket's far end: prints each datagram, "--" after it.
cat >"$TMP/notify.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    out.write(s.recv(4096).decode("ascii", "replace") + "\n--\n")
EOF

# probe SRC: a relay probe to 10.78.0.1; prints exim's replies.
cat >"$TMP/probe.py" <<'EOF'
import socket, sys
s = socket.create_connection(("10.78.0.1", 25), 5, (sys.argv[1], 0))
f = s.makefile("rwb")
def reply():
    while True:
        l = f.readline().decode("ascii", "replace").rstrip("\r\n")
        print("S:", l)
        if len(l) < 4 or l[3] != "-":
            return l
reply()
for c in ("EHLO probe.example", "MAIL FROM:<x@example.com>",
          "RCPT TO:<v@elsewhere.example>", "QUIT"):
    f.write((c + "\r\n").encode()); f.flush()
    print("C:", c)
    reply()
EOF

S="wbsd-$$-s" C="wbsd-$$-c"
sx() { ip netns exec "$S" "$@"; }
cx() { ip netns exec "$C" "$@"; }
ip netns add "$S" 2>"$TMP/netns.err" ||
    skip "ip netns unavailable: $(head -n1 "$TMP/netns.err")"
NSS="$S"
ip netns add "$C" || { echo "Bail out! ip netns add $C"; exit 1; }
NSS="$NSS $C"
ip link add vs netns "$S" type veth peer name vc netns "$C" || {
	echo "Bail out! veth pair"; exit 1; }
sx ip link set lo up
cx ip link set lo up
sx ip addr add 10.78.0.1/24 dev vs
cx ip addr add 10.78.0.5/24 dev vc
cx ip addr add 10.78.0.6/24 dev vc
sx ip link set vs up
cx ip link set vc up

mkdir "$TMP/exim" "$TMP/exim/spool" "$TMP/exim/log"
chown Debian-exim:Debian-exim "$TMP/exim/spool" "$TMP/exim/log"
sed -e "s|@TMP@|$TMP/exim|g" -e "s|@IFACES@|10.78.0.1|" \
    "$ROOT/tests/e2e-exim.conf" >"$TMP/exim/exim.conf"
chown root:root "$TMP/exim/exim.conf"
chmod 644 "$TMP/exim/exim.conf"
ip netns exec "$S" exim4 -C "$TMP/exim/exim.conf" -bdf -oX 25 \
    -oP "$TMP/exim/exim.pid" >"$TMP/exim/out" 2>&1 &
EXIMS=$!
listening25() { sx ss -Hltn 'sport = :25' | grep -q .; }
eventually 50 listening25 || { echo "Bail out! exim did not start"; indent <"$TMP/exim/out"; exit 1; }

# The program, where the confined uid can read it whatever the tree's
# modes (the unit's is /usr/local/sbin/wireban, mode 0755).
mkdir "$TMP/bin"
cp "$WB" "$TMP/bin/wireban"
chmod 755 "$TMP/bin" "$TMP/bin/wireban"
WBC=$TMP/bin/wireban

ip netns exec "$S" "$PY" "$TMP/notify.py" "wbsd-$$" "$TMP/notify.log" &
PIDS="$PIDS $!"
: >"$TMP/notify.log"
# Does this build tell systemd anything? (watch.c calls sdnotify())
NOTIFY=0
objdump -d "$WB" 2>/dev/null | grep -q 'call.*<sdnotify>' && NOTIFY=1
[ $NOTIFY = 1 ] || echo "# src/watch.c does not call sdnotify() yet: the READY/RELOADING/STOPPING checks are not run"

# confined NAME UID AMBIENT BOUNDING [ARGS...]: `wireban ARGS` in S, in
# the sandbox; sets WBPID (the wireban process), LOG (its stderr) and
# SYSLOG (what it sent to /dev/log: the unit's paths.log=auto logs
# there, as stderr is no terminal).
confined() {
	LOG=$TMP/$1 SYSLOG=$TMP/out/$1.syslog
	_name=$1 _uid=$2 _amb=$3 _bnd=$4
	shift 4
	_strace=""
	[ $HAVE_STRACE = 1 ] && _strace="strace -f -qq -o $TMP/out/$_name.strace"
	NOTIFY_SOCKET=@wbsd-$$ ip netns exec "$S" unshare --mount \
	    --propagation private sh "$TMP/mounts.sh" "$_uid" "$TMP/out" \
	    "$_name" "$PY" \
	    $_strace setpriv --reuid="$_uid" --regid="$_uid" --clear-groups \
	    --inh-caps=-all,"$_amb" --ambient-caps="$_amb" \
	    --bounding-set=-all,"$_bnd" $nnp \
	    sh -c 'umask "$0"; exec "$@"' "$umask_" \
	    "$PY" "$TMP/seccomp.py" $mdwe --allow "$TMP/allowed" \
	    --families "$families" -- "$WBC" "$@" >"$LOG" 2>&1 &
	WBPID=$!
	PIDS="$PIDS $WBPID"
}
# The wireban process among the descendants of the chain confined
# started (strace's, setpriv's; the syslog receiver is one of them too).
leaf() {
	_q=$WBPID
	while [ -n "$_q" ]; do
		set -- $_q
		_p=$1
		shift
		_q="$* $(ps -o pid= --ppid "$_p" 2>/dev/null)"
		_q=$(echo $_q)
		if [ "$(cat "/proc/$_p/comm" 2>/dev/null)" = wireban ]; then
			echo "$_p"
			return 0
		fi
	done
	return 1
}
# finish: after a stop (or a refusal to start), the wireban process
# gone, the syslog receiver stopped, the chain reaped; its exit status.
finish() {
	_w=$(leaf)
	[ -n "$_w" ] && eventually 100 eval '! kill -0 "$_w" 2>/dev/null'
	sleep 0.2	# what it said last reaches the receiver's file
	end_syslog
	reap "$WBPID"
}
# reap PID: its exit status, waiting 10 s at most (then SIGKILL).
reap() {
	_reap=$1
	eventually 100 eval '! kill -0 "$_reap" 2>/dev/null'
	kill -9 "$_reap" 2>/dev/null
	wait "$_reap"
}
# logs: what it said, on stderr and to syslog.
logs() { cat "$LOG" "$SYSLOG" 2>/dev/null; }
watching() { logs | grep -q "watching"; }
# The syslog receiver of the last confined run goes when it is done.
end_syslog() {
	[ -f "$SYSLOG.pid" ] && kill "$(cat "$SYSLOG.pid")" 2>/dev/null
	rm -f "$SYSLOG.pid"
}
# Root's control client, in the daemon's mount and network namespace.
wbc() {
	nsenter -t "$(leaf)" -m -n "$WBC" -o paths.socket=/run/wireban/control.sock "$@"
}
probe() { cx "$PY" "$TMP/probe.py" "$1" >"$TMP/probe.$1" 2>&1; grep -q '^S: 550 relay not permitted' "$TMP/probe.$1"; }
banned_nft() { sx nft get element inet wireban ipv4_addr "{ $1 }" >/dev/null 2>&1; }
notified() { grep -q "^$1" "$TMP/notify.log"; }
# notified_after N VAR: a datagram after the first N ones has VAR.
notified_after() {
	awk -v n="$1" -v v="$2" '/^--$/ { k++; next } k >= n && index($0, v) == 1 { f = 1 } END { exit !f }' "$TMP/notify.log"
}
ndgrams() { grep -c '^--$' "$TMP/notify.log"; }

# ---- 3, 4: the daemon as the unit runs it -------------------------------------------

echo "# 3, 4: wireban $execargs -i vs, uid $DUID, caps $caps, confined"
confined wb.log "$DUID" "$caps" "$bcaps" $execargs -i vs
if ! eventually 80 watching; then
	not_ok "[4] confined wireban watch starts"
	logs | indent
	end_syslog
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
ok "[4] confined wireban watch starts, logs to /dev/log: $(grep -o 'wireban\[[0-9]*\]: watching.*' "$SYSLOG" | cut -c1-70)"
P=$(leaf)
st() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$P/status"; }
check "[3] it runs as uid $DUID: $(st Uid | tr -s '\t' ' ')" \
    eval '[ "$(st Uid | tr -s "\t" " ")" = "$DUID $DUID $DUID $DUID" ]'
check "[3] capabilities left: effective/permitted/bounding net_raw+net_admin only, none inheritable or ambient" \
    eval '[ "$(st CapEff)" = 0000000000003000 ] && [ "$(st CapPrm)" = 0000000000003000 ] &&
    [ "$(st CapBnd)" = 0000000000003000 ] && [ "$(st CapInh)" = 0000000000000000 ] &&
    [ "$(st CapAmb)" = 0000000000000000 ]'
check "[3] no_new_privs, and seccomp filters in force ($(st Seccomp_filters) of them)" \
    eval '[ "$(st NoNewPrivs)" = 1 ] && [ "$(st Seccomp)" = 2 ] && [ "$(st Seccomp_filters)" -ge 3 ]'
check "[3] its file systems are read-only but /var/lib/wireban, /run/wireban, /var/log/wireban" \
    nsenter -t "$P" -m sh -c '[ ! -w / ] && [ ! -w /etc ] && [ ! -w /run ] &&
    [ ! -w /var/lib ] && [ ! -w /tmp ] && [ -w /var/lib/wireban ] &&
    [ -w /run/wireban ] && [ -w /var/log/wireban ]'
if [ $NOTIFY = 1 ]; then
	check "[4] READY=1 with a STATUS= on the abstract NOTIFY_SOCKET" \
	    eventually 20 eval 'notified READY=1 && notified STATUS=watching'
fi
check "[4] exim answers 10.78.0.5's relay probe with 550" probe 10.78.0.5
check "[4] within 1 s 10.78.0.5 is in the kernel's set (nft inet wireban)" \
    eventually 10 banned_nft 10.78.0.5
check "[4] root's wireban list (via /run/wireban/control.sock) shows 10.78.0.5" \
    eval 'wbc list 2>&1 | grep -q "^10\.78\.0\.5 "'
check "[4] 10.78.0.6 is not banned" eval '! banned_nft 10.78.0.6'
stf() { stat -c "%u %a" "/proc/$P/root/var/lib/wireban/$1" 2>/dev/null; }
check "[4] the state in /var/lib/wireban: the uid's, mode 0600 (UMask): $(stf state.journal)" \
    eval '[ "$(stf state.journal)" = "$DUID 600" ] && [ "$(stf state.lock)" = "$DUID 600" ]'
check "[4] the control socket: the uid's, mode 0600" \
    eval '[ "$(stat -c "%u %a" "/proc/$P/root/run/wireban/control.sock")" = "$DUID 600" ]'
n0=$(ndgrams)
kill -HUP "$P"
check "[4] SIGHUP: configuration reloaded" \
    eventually 30 eval 'logs | grep -q "configuration reloaded"'
if [ $NOTIFY = 1 ]; then
	check "[4] SIGHUP: RELOADING=1 (with MONOTONIC_USEC) then READY=1" \
	    eventually 20 eval 'notified_after $n0 RELOADING=1 &&
	    notified_after $n0 MONOTONIC_USEC= && notified_after $((n0 + 1)) READY=1'
fi
check "[4] still running after the reload, the ban kept" \
    eval 'kill -0 "$P" && banned_nft 10.78.0.5'
n0=$(ndgrams)
kill -TERM "$P"
finish
rc=$?
check "[4] SIGTERM: exit 0 (exit $rc)" [ "$rc" = 0 ]
[ $NOTIFY = 1 ] && check "[4] SIGTERM: STOPPING=1" notified_after "$n0" STOPPING=1
check "[4] the table inet wireban is gone" \
    eval '! sx nft list table inet wireban >/dev/null 2>&1'
check "[4] it said so to syslog: stopping" eval 'grep -q "stopping; bans kept" "$SYSLOG"'
end_syslog

if [ $HAVE_STRACE = 1 ]; then
	# The system calls of wireban itself: from its execve on.
	awk '/execve\("[^"]*\/wireban"/ { on = 1 } on' "$TMP/out/wb.log.strace" |
	    sed -E 's/^[0-9]+ +//; s/\(.*//' | grep -E '^[a-z_0-9]+$' |
	    sort -u >"$TMP/used"
	comm -23 "$TMP/used" "$TMP/allowed" >"$TMP/outside"
	nused=$(wc -l <"$TMP/used")
	if [ "$nused" -gt 30 ] && [ ! -s "$TMP/outside" ]; then
		ok "[3] strace: the $nused system calls wireban made are all in SystemCallFilter="
	else
		not_ok "[3] strace: the $nused system calls wireban made are all in SystemCallFilter="
		indent <"$TMP/outside"
	fi
	# EPERM from the kernel itself is not the sandbox's: wireban drops
	# from the bounding set what it does not hold, without CAP_SETPCAP.
	grep -E ' = -1 (EPERM|EAFNOSUPPORT)' "$TMP/out/wb.log.strace" |
	    grep -v 'PROT_WRITE|PROT_EXEC' | grep -v 'prctl(PR_CAPBSET_DROP' |
	    head -n 5 >"$TMP/denied"
	if [ -s "$TMP/out/wb.log.strace" ] && [ ! -s "$TMP/denied" ]; then
		ok "[3] strace: no call failed with EPERM or EAFNOSUPPORT but PCRE2's W+X mmap (and the bounding-set drops the kernel refuses)"
	else
		not_ok "[3] strace: no call failed with EPERM or EAFNOSUPPORT but PCRE2's W+X mmap (and the bounding-set drops the kernel refuses)"
		indent <"$TMP/denied"
	fi
else
	echo "# strace not installed: the system calls are not checked"
fi

# ---- 5: one capability less ------------------------------------------------------------

for missing in net_admin net_raw; do
	keep=$(echo "$caps" | tr ',' '\n' | grep -v "+$missing" | paste -sd, -)
	HAVE_STRACE_SAVED=$HAVE_STRACE HAVE_STRACE=0
	confined "wb-no-$missing.log" "$DUID" "$keep" "$keep" $execargs -i vs
	HAVE_STRACE=$HAVE_STRACE_SAVED
	finish
	rc=$?
	CAP=$(echo "cap_$missing" | tr a-z A-Z)
	end_syslog
	if [ "$rc" = 1 ] && logs | grep -q "missing: *$CAP"; then
		ok "[5] without $CAP it refuses to start (exit 1) naming it"
	else
		not_ok "[5] without $CAP it refuses to start (exit 1) naming it (exit $rc)"
		logs | indent
	fi
done

# ---- 6: the xtables-lock drop-in ---------------------------------------------------

HAVE_STRACE_SAVED=$HAVE_STRACE HAVE_STRACE=0
confined wb-xt-dyn.log "$DUID" "$caps" "$bcaps" $execargs -i vs \
    -o firewall.backend=iptables
finish
rc=$?
end_syslog
if [ "$rc" != 0 ] && logs | grep -q "xtables.lock"; then
	ok "[6] the iptables backend as the dynamic uid fails on /run/xtables.lock (why the drop-in)"
else
	not_ok "[6] the iptables backend as the dynamic uid fails on /run/xtables.lock (exit $rc)"
	logs | indent
fi
confined wb-xt-root.log 0 "$caps" "$bcaps" $execargs -i vs \
    -o firewall.backend=iptables
finish
rc=$?
end_syslog
if [ "$rc" != 0 ] && logs | grep -q "xtables.lock: Read-only file system"; then
	ok "[6] as root too, without the drop-in's ExecStartPre: /run is read-only, no lock to create"
else
	not_ok "[6] as root too, without the drop-in's ExecStartPre: /run is read-only (exit $rc)"
	logs | indent
fi
TOUCH_LOCK=1 confined wb-xt.log 0 "$caps" "$bcaps" $execargs -i vs \
    -o firewall.backend=iptables
HAVE_STRACE=$HAVE_STRACE_SAVED
if eventually 80 watching; then
	ok "[6] with the drop-in (root, the same two capabilities, lock created) the iptables backend starts"
else
	not_ok "[6] with the drop-in (root, the same two capabilities, lock created) the iptables backend starts"
	logs | indent
fi
P=$(leaf)
check "[6] as root it still holds net_raw+net_admin only: $(st CapEff)" \
    eval '[ "$(st CapEff)" = 0000000000003000 ] && [ "$(st CapBnd)" = 0000000000003000 ]'
check "[6] a relay probe from 10.78.0.6 is banned: iptables-legacy -S wireban" \
    eval 'probe 10.78.0.6 && eventually 10 eval "sx iptables-legacy -w 5 -S wireban 2>/dev/null |
    grep -qxF -- \"-A wireban -s 10.78.0.6/32 -j DROP\""'
kill -TERM "$P"
finish

# ---- 7: MemoryDenyWriteExecute and PCRE2's JIT ----------------------------------------

if [ $HAVE_STRACE = 1 ]; then
	strace -f -qq -e trace=mmap -o "$TMP/jit.strace" "$PY" "$TMP/seccomp.py" \
	    --mdwe -- "$WB" replay pcaps/relay.pcap >"$TMP/jit.out" 2>&1
	strace -f -qq -e trace=mmap -o "$TMP/nojit.strace" \
	    "$WB" replay pcaps/relay.pcap >"$TMP/nojit.out" 2>&1
	check "[7] without the filter PCRE2's JIT maps W+X memory (and gets it)" \
	    eval 'grep "PROT_WRITE|PROT_EXEC" "$TMP/nojit.strace" | grep -qv "= -1"'
	check "[7] under MemoryDenyWriteExecute that mmap fails with EPERM" \
	    eval 'grep "PROT_WRITE|PROT_EXEC" "$TMP/jit.strace" | grep -q "= -1 EPERM" &&
	    ! grep "PROT_WRITE|PROT_EXEC" "$TMP/jit.strace" | grep -qv "= -1"'
	check "[7] and the relay rule still matches, interpreted: the same report" \
	    eval 'grep -Eq "^  relay +[0-9.]+ \(1\)" "$TMP/jit.out" &&
	    cmp -s "$TMP/jit.out" "$TMP/nojit.out"'
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
