#!/bin/sh
# t-replay.sh - every capture of a real exim in pcaps/ gives exactly the
# reject events its .expect file lists (written from exim's own log of
# the same run, see pcaps/README.md), and so does every variant of it:
# pcapng, Linux cooked (v1 and v2), VLAN and QinQ tagged, BSD loopback,
# raw IP, and a hostile rewrite (1-3 byte segments, reordered, duplicated,
# overlapping retransmits).
cd "$(dirname "$0")/.." || exit 2
# Debian's own python3 when there is one: it starts fastest.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
WB=${WIREBAN:-./wireban}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

# Every capture and its variants go through wireban first; then one
# python process checks and converts every event stream (a process per
# file made this test slow), and each is compared with its .expect.
n=0
for exp in pcaps/*.expect; do
	name=$(basename "$exp" .expect)
	pcap=pcaps/$name.pcap
	mkdir -p "$tmp/$name"
	cp "$pcap" "$tmp/$name/$name.orig.pcap"
	if ! "$PY" tests/tools/pcapvariant.py all "$pcap" "$tmp/$name" \
	    >"$tmp/verr" 2>&1; then
		echo "not ok - $name: variants not made"
		sed 's/^/    /' "$tmp/verr"
		fails=$((fails + 1))
	fi
	for v in "$tmp/$name"/*.pcap*; do
		# A small stream table: these captures hold a few sessions, and
		# the default one costs each start tens of milliseconds.
		if ! "$WB" -o capture.max_streams=1024 replay --json "$v" \
		    >"$v.json" 2>"$v.err"; then
			echo "wireban exited non-zero" >"$v.fail"
		fi
	done
done
"$PY" tests/tools/rejects.py "$tmp"/*/*.json 2>"$tmp/json.err"

for exp in pcaps/*.expect; do
	name=$(basename "$exp" .expect)
	for v in "$tmp/$name"/*.pcap*; do
		case $v in *.json|*.tsv|*.err|*.fail) continue ;; esac
		n=$((n + 1))
		what="$name ($(basename "$v" | sed "s/^$name\.//; s/\.pcap.*//"))"
		if [ -f "$v.fail" ]; then
			echo "not ok $n - $what: wireban exited non-zero"
			sed 's/^/    /' "$v.err"
			fails=$((fails + 1))
		elif diff -u "$exp" "$v.tsv" >"$tmp/diff" 2>&1; then
			echo "ok $n - $what"
		else
			echo "not ok $n - $what"
			sed 's/^/    /' "$tmp/diff"
			grep -F "$v" "$tmp/json.err" | sed 's/^/    /'
			fails=$((fails + 1))
		fi
	done
done
echo "replay: $((n - fails)) of $n captures and variants right"
[ "$n" -gt 0 ] && [ "$fails" -eq 0 ]
