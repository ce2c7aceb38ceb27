#!/bin/sh
# t-replay.sh - every capture of a real exim in pcaps/ gives exactly the
# reject events its .expect file lists (written from exim's own log of
# the same run, see pcaps/README.md), and so does every variant of it:
# pcapng, Linux cooked (v1 and v2), VLAN and QinQ tagged, BSD loopback,
# raw IP, and a hostile rewrite (1-3 byte segments, reordered, duplicated,
# overlapping retransmits).
cd "$(dirname "$0")/.." || exit 2
WB=${WIREBAN:-./wireban}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

check() {	# check NAME PCAP EXPECT
	n=$((n + 1))
	if ! "$WB" replay --json "$2" >"$tmp/out.json" 2>"$tmp/err"; then
		echo "not ok $n - $1: wireban exited non-zero"
		sed 's/^/    /' "$tmp/err"
		fails=$((fails + 1))
		return
	fi
	if ! python3 tests/tools/rejects.py <"$tmp/out.json" >"$tmp/got"; then
		echo "not ok $n - $1: malformed event stream"
		fails=$((fails + 1))
		return
	fi
	if diff -u "$3" "$tmp/got" >"$tmp/diff"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		sed 's/^/    /' "$tmp/diff"
		fails=$((fails + 1))
	fi
}

for exp in pcaps/*.expect; do
	name=$(basename "$exp" .expect)
	pcap=pcaps/$name.pcap
	[ -f "$pcap" ] || { echo "not ok - $name: no $pcap"; fails=$((fails + 1)); continue; }
	check "$name" "$pcap" "$exp"
	for mode in pcapng sll sll2 vlan qinq null raw hostile; do
		if python3 tests/tools/pcapvariant.py "$mode" "$pcap" \
		    "$tmp/$name.$mode" 2>"$tmp/verr"; then
			check "$name ($mode)" "$tmp/$name.$mode" "$exp"
		else
			n=$((n + 1))
			echo "not ok $n - $name ($mode): variant not made"
			sed 's/^/    /' "$tmp/verr"
			fails=$((fails + 1))
		fi
	done
done
echo "replay: $((n - fails)) of $n captures and variants right"
[ "$fails" -eq 0 ]
