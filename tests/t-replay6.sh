#!/bin/sh
# t-replay6.sh - the exim captures of pcaps/ and every variant of them
# (tests/t-replay.sh: pcapng, cooked, VLAN, QinQ, BSD loopback, raw, the
# hostile re-segmentation), rewritten as IPv6 (tests/tools/pcap4to6.py:
# a.b.c.d becomes 2001:db8::a.b.c.d, nothing else changes), give the
# reject events of their .expect files with the addresses rewritten the
# same way: IPv6 goes through the same reassembly as IPv4.
cd "$(dirname "$0")/.." || exit 2
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
WB=${WIREBAN:-./wireban}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

for exp in pcaps/*.expect; do
	name=$(basename "$exp" .expect)
	# The real IPv6 captures are t-replay.sh's; these are the IPv4 ones.
	case $name in v6_*) continue ;; esac
	mkdir -p "$tmp/$name/v4" "$tmp/$name/v6"
	cp "pcaps/$name.pcap" "$tmp/$name/v4/$name.orig.pcap"
	if ! "$PY" tests/tools/pcapvariant.py all "pcaps/$name.pcap" \
	    "$tmp/$name/v4" >"$tmp/verr" 2>&1; then
		echo "not ok - $name: variants not made"
		sed 's/^/    /' "$tmp/verr"
		fails=$((fails + 1))
	fi
done
# One python process for every conversion.
mkdir -p "$tmp/v6all"
"$PY" tests/tools/pcap4to6.py -q -d "$tmp/v6all" "$tmp"/*/v4/* \
    2>"$tmp/cerr" || { echo "not ok - conversion failed"; \
    sed 's/^/    /' "$tmp/cerr"; exit 1; }
for v in "$tmp"/v6all/*; do
	"$WB" -o capture.max_streams=1024 replay --json "$v" >"$v.json" \
	    2>"$v.err" || echo "wireban exited non-zero" >"$v.fail"
done
"$PY" tests/tools/rejects.py "$tmp"/v6all/*.json 2>"$tmp/json.err"

for exp in pcaps/*.expect; do
	name=$(basename "$exp" .expect)
	# The real IPv6 captures are t-replay.sh's; these are the IPv4 ones.
	case $name in v6_*) continue ;; esac
	"$PY" -c '
import ipaddress, sys
pre = int(ipaddress.IPv6Address("2001:db8::"))
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    f[0] = str(ipaddress.IPv6Address(pre | int(ipaddress.IPv4Address(f[0]))))
    print("\t".join(f))' "$exp" >"$tmp/$name.expect6"
	for v in "$tmp"/v6all/"$name".*; do
		case $v in *.json|*.tsv|*.err|*.fail) continue ;; esac
		n=$((n + 1))
		what="$name ($(basename "$v" | sed "s/^$name\.//; s/\.pcap.*//"), IPv6)"
		if [ -f "$v.fail" ]; then
			echo "not ok $n - $what: wireban exited non-zero"
			sed 's/^/    /' "$v.err"
			fails=$((fails + 1))
		elif diff -u "$tmp/$name.expect6" "$v.tsv" >"$tmp/diff" 2>&1
		then
			echo "ok $n - $what"
		else
			echo "not ok $n - $what"
			sed 's/^/    /' "$tmp/diff"
			fails=$((fails + 1))
		fi
	done
done
echo "replay6: $((n - fails)) of $n IPv6 captures and variants right"
[ "$n" -gt 0 ] && [ "$fails" -eq 0 ]
