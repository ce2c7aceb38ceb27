#!/bin/sh
# t-install.sh - building and installing the way a packager and an admin
# do, as an ordinary user (nobody), in a copy of the tree:
#
#   1  a build with dpkg-buildflags' hardening flags (CPPFLAGS, CFLAGS,
#      LDFLAGS; hardening=+all) passes them to every compile and the
#      link, and the binary is PIE, full RELRO (BIND_NOW), with stack
#      protector and _FORTIFY_SOURCE calls
#   2  make install DESTDIR=... installs exactly the expected files with
#      the expected modes, the unit pointing at the installed binary; the
#      binary runs
#   3  a second install keeps a config the admin changed; uninstall
#      removes everything else and keeps that config; with the config
#      unchanged, uninstall leaves nothing
#   4  PREFIX=/usr puts the unit in /lib/systemd/system; SYSCONFDIR
#      other than /etc makes the unit pass -c
#   5  make check runs what make test runs; make asan-tree copies a tree
#      with no .git (an unpacked tarball)
#   6  the logrotate snippet rotates the events file of a running
#      `wireban watch` (in a network namespace of its own, as nobody with
#      the unit's two capabilities) in the directory layout of
#      DynamicUser= (private directory and a link); after its SIGUSR1 the
#      next event goes to a new file of wireban's own; nothing is lost
#   7  every module modules-load.d/wireban.conf names exists in the
#      running kernel (when it has modules)
#
# Root is needed only to become nobody (setpriv); without root, or
# without dpkg-buildflags, it says SKIP. "ok N - ..." / "not ok N - ...",
# "N passed, N failed" last; exit 0, 1 or 77.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
. "$ROOT/tests/lib/tap.sh"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root (needs to run make as the user nobody)"
for c in setpriv dpkg-buildflags readelf cpio; do
	command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbinst.XXXXXX") || skip "mktemp failed"
chmod 755 "$TMP"
WBPID="" NSS=""
NS="wbinst-$$"
cleanup() {
	[ -n "$WBPID" ] && kill "$WBPID" 2>/dev/null && wait "$WBPID" 2>/dev/null
	[ -n "$NSS" ] && ip netns del "$NSS" 2>/dev/null
	[ "${KEEP_TMP:-0}" = 1 ] && echo "# kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

indent() { sed 's/^/    /' | head -n 40; }
# As nobody, in the copy, with what the caller exported.
asnobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    --reset-env sh -c 'cd "$0" && exec "$@"' "$SRC" "$@"
}

# ---- the copy ---------------------------------------------------------------

SRC=$TMP/src
mkdir "$SRC"
if [ -e .git ]; then
	git ls-files -co --exclude-standard
else
	find . -name .git -prune -o -name 'build-*' -prune -o -type f -print
fi | grep -v '\.o$' | grep -v '^\./build-' | cpio -pdm "$SRC" 2>/dev/null
( cd "$SRC" && make -s clean-objs >/dev/null 2>&1 )
rm -f "$SRC/wireban"
chown -R nobody:nogroup "$SRC"
mkdir "$TMP/dest" && chown nobody:nogroup "$TMP/dest"

# ---- 1: a hardened build ----------------------------------------------------

cat >"$SRC/build.sh" <<'EOF'
# Runs as nobody: the packager's build.
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
make -j2 wireban
EOF
if asnobody sh build.sh >"$TMP/build.log" 2>&1; then
	ok "[1] make wireban as nobody with dpkg-buildflags (hardening=+all)"
else
	not_ok "[1] make wireban as nobody with dpkg-buildflags (hardening=+all)"
	tail -n 20 "$TMP/build.log" | indent
fi
WB=$SRC/wireban
compiles=$(grep -c ' -c -o ' "$TMP/build.log")
fortified=$(grep ' -c -o ' "$TMP/build.log" | grep -- '-D_FORTIFY_SOURCE=2' |
    grep -- '-fstack-protector-strong' | grep -c -- '-Werror=format-security')
check "[1] every compile ($compiles) got CPPFLAGS and CFLAGS ($fortified did)" \
    eval '[ "$compiles" -gt 20 ] && [ "$fortified" = "$compiles" ]'
check "[1] the link got LDFLAGS (-Wl,-z,relro -Wl,-z,now)" \
    eval 'grep -- " -o wireban " "$TMP/build.log" | grep -q -- "-Wl,-z,relro -Wl,-z,now"'
elf_ok() {
	readelf -hW "$WB" | grep -q 'Type: *DYN' &&
	readelf -lW "$WB" | grep -q GNU_RELRO &&
	readelf -dW "$WB" | grep -q 'FLAGS.*BIND_NOW\|FLAGS_1.*NOW' &&
	readelf -dW "$WB" | grep -q 'FLAGS_1.*PIE' &&
	nm -D "$WB" | grep -q ' U __stack_chk_fail' &&
	nm -D "$WB" | grep -q ' U __snprintf_chk@'
}
check "[1] the binary: PIE, GNU_RELRO and BIND_NOW, __stack_chk_fail, __snprintf_chk (fortified)" \
    elf_ok

# ---- 2: make install DESTDIR, as nobody -----------------------------------------

D=$TMP/dest
if asnobody make -s install DESTDIR="$D" >"$TMP/install.log" 2>&1; then
	ok "[2] make install DESTDIR=$D as nobody"
else
	not_ok "[2] make install DESTDIR=$D as nobody"
	indent <"$TMP/install.log"
fi
# What is there: "mode path" per file, sorted.
listing() { ( cd "$1" && find . -type f -printf '%m %P\n' | sort ); }
cat >"$TMP/want" <<'EOF'
644 etc/logrotate.d/wireban
644 etc/wireban/wireban.conf
644 usr/local/lib/modules-load.d/wireban.conf
644 usr/local/lib/systemd/system/wireban.service
644 usr/local/share/doc/wireban/wireban.conf.example
644 usr/local/share/doc/wireban/xtables-lock.conf
644 usr/local/share/man/man5/wireban.conf.5
644 usr/local/share/man/man8/wireban.8
755 usr/local/sbin/wireban
EOF
listing "$D" >"$TMP/got"
if cmp -s "$TMP/want" "$TMP/got"; then
	ok "[2] exactly the 9 files, with their modes"
else
	not_ok "[2] exactly the 9 files, with their modes"
	diff "$TMP/want" "$TMP/got" | indent
fi
U=$D/usr/local/lib/systemd/system/wireban.service
check "[2] the unit runs /usr/local/sbin/wireban watch; no @...@ is left" \
    eval 'grep -q "^ExecStart=/usr/local/sbin/wireban watch\( \|$\)" "$U" && ! grep -q "@[A-Z]*@" "$U"'
check "[2] the config installed is the example" \
    cmp -s "$D/etc/wireban/wireban.conf" "$ROOT/wireban.conf.example"
check "[2] nobody owns what was installed (nothing was chowned)" \
    eval '[ -z "$(find "$D" ! -user nobody)" ]'
check "[2] the installed binary runs: $("$D/usr/local/sbin/wireban" --version 2>&1)" \
    eval '"$D/usr/local/sbin/wireban" --version | grep -q "^wireban "'
check "[2] the installed man pages render" \
    eval 'command -v mandoc >/dev/null || exit 0
    mandoc -T html "$D/usr/local/share/man/man8/wireban.8" | grep -q "id=\"SYNOPSIS\"" &&
    mandoc -T html "$D/usr/local/share/man/man5/wireban.conf.5" | grep -q "id=\"CAPTURE\""'

# ---- 3: the admin's config is never lost ---------------------------------------

printf '\n[policy]\nbantime = 2h\n' >>"$D/etc/wireban/wireban.conf"
cp "$D/etc/wireban/wireban.conf" "$TMP/admin.conf"
asnobody make -s install DESTDIR="$D" >"$TMP/install2.log" 2>&1
check "[3] a second install keeps the changed config, and says so" \
    eval 'cmp -s "$D/etc/wireban/wireban.conf" "$TMP/admin.conf" &&
    grep -q "^kept .*wireban.conf" "$TMP/install2.log"'
asnobody make -s uninstall DESTDIR="$D" >"$TMP/uninstall.log" 2>&1
check "[3] uninstall keeps the changed config and removes the rest" \
    eval '[ "$(listing "$D")" = "644 etc/wireban/wireban.conf" ] &&
    cmp -s "$D/etc/wireban/wireban.conf" "$TMP/admin.conf" &&
    grep -q "^kept .*differs" "$TMP/uninstall.log"'
[ "$(listing "$D")" = "644 etc/wireban/wireban.conf" ] || listing "$D" | indent
rm "$D/etc/wireban/wireban.conf"
asnobody make -s install DESTDIR="$D" >/dev/null 2>&1
asnobody make -s uninstall DESTDIR="$D" >"$TMP/uninstall2.log" 2>&1
check "[3] install then uninstall with the config unchanged leaves no file" \
    eval '[ -z "$(listing "$D")" ] && [ ! -e "$D/etc/wireban" ] &&
    [ ! -e "$D/usr/local/share/doc/wireban" ]'
[ -z "$(listing "$D")" ] || listing "$D" | indent

# ---- 4: other prefixes ------------------------------------------------------------

D2=$TMP/dest2
mkdir "$D2" && chown nobody:nogroup "$D2"
asnobody make -s install DESTDIR="$D2" PREFIX=/usr >"$TMP/install3.log" 2>&1
check "[4] PREFIX=/usr: /usr/sbin, /lib/systemd/system (Debian 12), /usr/lib/modules-load.d" \
    eval '[ -x "$D2/usr/sbin/wireban" ] &&
    grep -q "^ExecStart=/usr/sbin/wireban watch\( \|$\)" "$D2/lib/systemd/system/wireban.service" &&
    [ -f "$D2/usr/lib/modules-load.d/wireban.conf" ] &&
    [ -f "$D2/usr/share/man/man8/wireban.8" ] && [ -f "$D2/etc/wireban/wireban.conf" ]'
D3=$TMP/dest3
mkdir "$D3" && chown nobody:nogroup "$D3"
asnobody make -s install DESTDIR="$D3" SYSCONFDIR=/usr/local/etc >/dev/null 2>&1
check "[4] SYSCONFDIR=/usr/local/etc: the config there, and the unit passes -c" \
    eval '[ -f "$D3/usr/local/etc/wireban/wireban.conf" ] &&
    grep -q "^ExecStart=/usr/local/sbin/wireban -c /usr/local/etc/wireban/wireban.conf watch\( \|$\)" \
    "$D3/usr/local/lib/systemd/system/wireban.service"'

# ---- 5: make check, make asan from a tarball ----------------------------------------

( cd "$SRC" && make -n check ) >"$TMP/check.n" 2>&1
( cd "$SRC" && make -n test ) >"$TMP/test.n" 2>&1
check "[5] make check does what make test does" \
    eval 'cmp -s "$TMP/check.n" "$TMP/test.n" && grep -q run-tests.sh "$TMP/check.n"'
[ -e "$SRC/.git" ] && echo "# (the copy has a .git: the tarball case is not what runs)"
if asnobody make -s asan-tree >"$TMP/asan.log" 2>&1; then
	ok "[5] make asan-tree in a tree without .git"
else
	not_ok "[5] make asan-tree in a tree without .git"
	indent <"$TMP/asan.log"
fi
check "[5] build-asan has the sources and the Makefile, no build-asan inside" \
    eval '[ -f "$SRC/build-asan/Makefile" ] && [ -f "$SRC/build-asan/src/main.c" ] &&
    [ -f "$SRC/build-asan/tests/run-tests.sh" ] && [ ! -e "$SRC/build-asan/build-asan" ]'

# ---- 6: logrotate, with the daemon -------------------------------------------------

# A real `wireban watch` (as the unit runs it: nobody standing for the
# dynamic user, with the two capabilities) writes its events in the
# layout of DynamicUser= (/var/log/wireban -> private/wireban, the
# user's); logrotate runs the snippet, whose postrotate command (systemctl
# kill --signal=USR1) is replaced by a kill -USR1 of that PID.
if command -v logrotate >/dev/null 2>&1 && command -v nft >/dev/null 2>&1 &&
    ip netns add "$NS" 2>/dev/null; then
	NSS=$NS
	ip netns exec "$NS" ip link set lo up
	L=$TMP/log
	mkdir -p "$L/private/wireban"
	# 0711: the service sees through private/ in its own namespace;
	# here the directory is only made traversable.
	chmod 711 "$L/private"
	chown nobody:nogroup "$L/private/wireban"
	chmod 700 "$L/private/wireban"
	ln -s private/wireban "$L/wireban"
	E=$L/wireban/events.jsonl
	ip netns exec "$NS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    --inh-caps=-all,+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin \
	    --bounding-set=-all,+net_raw,+net_admin --no-new-privs \
	    sh -c 'umask 077; exec "$@"' sh "$WB" watch -i lo \
	    -o paths.log=stderr -o "paths.events=$E" -o "paths.state=$L/wireban/state" \
	    -o "paths.socket=$L/wireban/sock" >"$TMP/wb.log" 2>&1 &
	WBPID=$!
	i=0
	while ! grep -q watching "$TMP/wb.log" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	wbc() { ip netns exec "$NS" "$WB" -o "paths.socket=$L/wireban/sock" "$@"; }
	has_event() { grep -q "\"client\":\"$2\"" "$1" 2>/dev/null; }
	wait_event() {
		i=0
		while ! has_event "$1" "$2" && [ $i -lt 30 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		has_event "$1" "$2"
	}
	wbc ban 192.0.2.50 >/dev/null 2>&1
	check "[6] wireban watch (as nobody, the unit's capabilities) writes the ban of 192.0.2.50 to $E" \
	    wait_event "$E" 192.0.2.50
	awk -v pid="$WBPID" '
	/postrotate/ { print; print "\t\tkill -USR1 " pid; skip = 1; next }
	/endscript/ { skip = 0 }
	!skip' contrib/logrotate.d/wireban |
	    sed "s|/var/log/wireban/|$L/wireban/|" >"$TMP/logrotate.conf"
	logrotate -s "$TMP/logrotate.state" -f "$TMP/logrotate.conf" \
	    >"$TMP/logrotate.out" 2>&1
	lrc=$?
	check "[6] logrotate -f on the snippet (postrotate: kill -USR1): exit 0, nothing said" \
	    eval '[ $lrc = 0 ] && [ ! -s "$TMP/logrotate.out" ]'
	[ -s "$TMP/logrotate.out" ] && indent <"$TMP/logrotate.out"
	wbc ban 192.0.2.51 >/dev/null 2>&1
	check "[6] after SIGUSR1 the ban of 192.0.2.51 goes to a new $E" \
	    wait_event "$E" 192.0.2.51
	check "[6] the rotated file holds the first ban, the new one the second only" \
	    eval 'has_event "$E.1" 192.0.2.50 && ! has_event "$E.1" 192.0.2.51 &&
	    ! has_event "$E" 192.0.2.50'
	check "[6] the new file is wireban's (nobody, 0600: no create): $(stat -c '%U %a' "$E" 2>&1)" \
	    eval '[ "$(stat -c "%U %a" "$E")" = "nobody 600" ]'
	check "[6] every line of both files is whole JSON" \
	    eval 'python3 -c "import json, sys
for f in sys.argv[1:]:
    for l in open(f):
        json.loads(l)" "$E.1" "$E"'
	kill "$WBPID" 2>/dev/null
	i=0
	while kill -0 "$WBPID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$WBPID" 2>/dev/null
	wait "$WBPID" 2>/dev/null
	WBPID=""
	ip netns del "$NS"
	NSS=""
else
	echo "# logrotate, nft or ip netns missing: [6] not run"
fi

# ---- 7: the modules-load.d file names real modules -------------------------------

# Every module named (active or commented out) is a module of the
# running kernel, or built into it. A kernel without modules (no
# /lib/modules/RELEASE) cannot tell.
K=/lib/modules/$(uname -r)
if [ -f "$K/modules.builtin" ] || [ -f "$K/modules.order" ]; then
	: >"$TMP/nomod"
	for m in $(sed -n 's/^#\{0,1\}\([a-z][A-Za-z0-9_]*\)$/\1/p' \
	    contrib/modules-load.d/wireban.conf); do
		cat "$K/modules.order" "$K/modules.builtin" 2>/dev/null |
		    grep -q "/$m\.ko" || echo "$m" >>"$TMP/nomod"
	done
	check "[7] every module of modules-load.d/wireban.conf is in $K" \
	    eval '[ ! -s "$TMP/nomod" ]'
	[ -s "$TMP/nomod" ] && indent <"$TMP/nomod"
else
	echo "# $K absent (a kernel without modules): [7] not run"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
