#!/bin/sh
# t-cli.sh - the command line keeps its promises: --help is printed and
# true, bad options and bad configuration exit 2 naming what is wrong,
# an unreadable capture exits 1 naming the file.
cd "$(dirname "$0")/.." || exit 2
WB=${WIREBAN:-./wireban}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

# expect CODE PATTERN-IN-OUTPUT DESCRIPTION -- ARGS...
expect() {
	code=$1 pat=$2 what=$3
	shift 4
	n=$((n + 1))
	$WB "$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$code" ] && grep -q -- "$pat" "$tmp/out"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what (exit $rc, wanted $code and '$pat')"
		sed 's/^/    /' "$tmp/out" | head -20
		fails=$((fails + 1))
	fi
}

printf '[policy]\nbantime = 1h\nfindtime = often\n' >"$tmp/bad.conf"
printf '[capture]\nports = 25,70000\n' >"$tmp/ports.conf"
printf '[rule mine]\npattern = (open\n' >"$tmp/re.conf"
printf '[rule mine]\npattern = greylisted\ncode = 451\n' >"$tmp/ok.conf"
: >"$tmp/empty.pcap"
head -c 100 pcaps/relay.pcap >"$tmp/cut.pcap"

expect 0 "usage: wireban" "--help prints usage" -- --help
expect 0 "replay" "--help lists replay" -- --help
expect 2 "unknown option" "unknown option exits 2" -- --bogus
expect 2 "unknown option" "unknown command option exits 2" -- replay --bogus x
expect 2 "unknown command" "unknown command exits 2" -- frobnicate
expect 2 "usage" "no command exits 2" --
expect 2 "$tmp/bad.conf:3: policy.findtime: 'often' is not a duration" \
    "bad duration names file:line and key" -- -c "$tmp/bad.conf" rules
expect 2 "$tmp/ports.conf:2: capture.ports" "bad port names file:line" \
    -- -c "$tmp/ports.conf" rules
expect 2 "$tmp/re.conf:2: \[rule mine\] pattern: missing closing" \
    "bad pattern names file:line" -- -c "$tmp/re.conf" rules
expect 2 "No such file" "missing explicit config exits 2" \
    -- -c "$tmp/none.conf" rules
expect 2 "\-o policy.maxretry=x" "bad -o is named" \
    -- -o policy.maxretry=x -o policy.bantime=zz rules
expect 0 "mine .*451 .*greylisted .*\[user\]" "user rule listed first" \
    -- -c "$tmp/ok.conf" rules
expect 0 "^relay .*RCPT" "built-in rules listed" -- rules
expect 1 "$tmp/nonexistent.pcap" "missing capture exits 1 naming it" \
    -- replay "$tmp/nonexistent.pcap"
expect 1 "$tmp/empty.pcap" "empty capture exits 1 naming it" \
    -- replay "$tmp/empty.pcap"
expect 1 "$tmp/cut.pcap" "truncated capture exits 1 naming it" \
    -- replay "$tmp/cut.pcap"
expect 1 "Captures: 1 read, 1 with errors" "report still printed" \
    -- replay pcaps/relay.pcap "$tmp/nonexistent.pcap"
expect 2 "no capture file" "replay without files exits 2" -- replay
# The example config documents every key: with all its settings on, it
# must load, and list each key `wireban config` knows.
sed 's/^#\([^ ]\)/\1/' wireban.conf.example >"$tmp/example.conf"
expect 0 "greylist" "example config with every key set loads" \
    -- -c "$tmp/example.conf" rules
# Every key `wireban config` prints (all of them, with their values).
keys=$($WB config | sed -n 's/^\([a-z0-9_]*\) = .*/\1/p')
[ -n "$keys" ] || { echo "not ok - wireban config printed no keys"; fails=$((fails + 1)); }
for key in $keys; do
	n=$((n + 1))
	if grep -q "^$key = " "$tmp/example.conf"; then
		echo "ok $n - example config documents $key"
	else
		echo "not ok $n - example config lacks $key"
		fails=$((fails + 1))
	fi
done
expect 0 "^bantime = 2h	# -o policy.bantime=2h" \
    "wireban config says where a value came from" -- -o policy.bantime=2h config
expect 0 "^maxretry = 3	# default" "wireban config shows defaults" -- config

# Edges of the configuration and of manual bans.
expect 0 "0.0.0.0/0 covers every IPv4 address: nothing over IPv4 will ever be banned" \
    "ignoreip 0.0.0.0/0 warns" -- -o policy.ignoreip=0.0.0.0/0 rules
expect 0 "::/0 covers every IPv6 address" \
    "ignoreip ::/0 warns" -- -o policy.ignoreip=::/0 rules
printf '[policy]\nbantime = 1h\nbantime = 2h\n' >"$tmp/dup.conf"
expect 2 "$tmp/dup.conf:3: policy.bantime: already set at line 2" \
    "a key given twice names both lines" -- -c "$tmp/dup.conf" rules
expect 2 "0x10m" "durations are decimal only" -- -o policy.bantime=0x10m rules
expect 2 "not a duration above 0" "ban --for 0s is an error" \
    -- -o paths.socket="$tmp/none.sock" ban 192.0.2.1 --for 0s
expect 2 "address or prefix" "ban of a bad prefix is an error" \
    -- -o paths.socket="$tmp/none.sock" ban 192.0.2.1/33
# A user pattern that PCRE2 gives up on is counted and said once.
printf '[rule slow]\ncode = 5xx\npattern = ^(\\w+\\s?)*\\d$\n' >"$tmp/slow.conf"
expect 0 "rule slow: its pattern hit a PCRE2 limit" \
    "a pattern at the match limit is said" -- -c "$tmp/slow.conf" replay pcaps/rbl.pcap
expect 0 "slow  *0  (1 replies at a PCRE2 limit: not matched)" \
    "and counted in the report" -- -c "$tmp/slow.conf" replay pcaps/rbl.pcap

# replay on a terminal: a progress line for a capture that takes more
# than a second, cleared at the end; none with --json. The capture
# (20,000 copies of relay.pcap's frames) arrives through a pipe with a
# pause in the middle, so that it takes longer than a second; script(1)
# gives replay a terminal.
if command -v script >/dev/null 2>&1; then
	python3 - "$tmp/many.pcap" <<'PY'
import sys
d = open("pcaps/relay.pcap", "rb").read()
hdr, recs, o = d[:24], [], 24
while o + 16 <= len(d):
    n = int.from_bytes(d[o + 8:o + 12], "little")
    recs.append(d[o:o + 16 + n])
    o += 16 + n
out = open(sys.argv[1], "wb")
out.write(hdr)
for i in range(20000):
    out.write(recs[i % len(recs)])
PY
	half=$(( $(wc -c <"$tmp/many.pcap") / 2 ))
	slow() {
		script -qec "sh -c '(head -c $half $tmp/many.pcap; sleep 1.5; \
		    tail -c +$((half + 1)) $tmp/many.pcap) | $WB replay $1 -'" \
		    /dev/null >"$tmp/tty.out" 2>&1
	}
	n=$((n + 1))
	if slow "" && grep -q "packets/s, [0-9]* sessions" "$tmp/tty.out" &&
	    grep -q "$(printf '\r\033\\[K')" "$tmp/tty.out"; then
		echo "ok $n - replay on a terminal shows and clears a progress line"
	else
		echo "not ok $n - replay on a terminal shows and clears a progress line"
		od -c "$tmp/tty.out" | head -5 | sed 's/^/    /'
		fails=$((fails + 1))
	fi
	n=$((n + 1))
	if slow --json && ! grep -q "packets/s" "$tmp/tty.out"; then
		echo "ok $n - no progress line with --json"
	else
		echo "not ok $n - no progress line with --json"
		fails=$((fails + 1))
	fi
	n=$((n + 1))
	if $WB replay "$tmp/many.pcap" 2>&1 | grep -q "packets/s"; then
		echo "not ok $n - no progress line when stderr is not a terminal"
		fails=$((fails + 1))
	else
		echo "ok $n - no progress line when stderr is not a terminal"
	fi
fi

# watch without the privileges it needs says which are missing.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	cp "$WB" "$tmp/wb" && chmod 755 "$tmp" "$tmp/wb"
	WB_SAVED=$WB
	WB="setpriv --reuid=65534 --regid=65534 --clear-groups $tmp/wb"
	expect 1 "missing: CAP_NET_RAW CAP_NET_ADMIN" \
	    "watch as nobody names the missing capabilities" -- watch -i lo
	WB=$WB_SAVED
fi

echo "cli: $((n - fails)) of $n right"
[ "$fails" -eq 0 ]
