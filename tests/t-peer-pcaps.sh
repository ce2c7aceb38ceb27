#!/bin/sh
# t-peer-pcaps.sh - wireban over every SMTP capture of other projects'
# public test suites (../shared/peer-pcaps, see its INDEX.md; not part
# of this repository). Each must replay with no crash, no sanitizer
# report (under `make asan` this is the ASan build) and an exit status
# of 0, or 1 only for the files INDEX.md calls damaged. Each file's count
# of 4xx and 5xx replies must equal INDEX.md's (tshark's), or differ as
# tests/peer-pcaps-notes.txt says and explains.
cd "$(dirname "$0")/.." || exit 2
# Debian's own python3 when there is one: it starts fastest.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
WB=${WIREBAN:-./wireban}
dir=${PEER_PCAPS:-}
if [ -z "$dir" ]; then
	d=$(pwd)
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		if [ -f "$d/shared/peer-pcaps/INDEX.md" ]; then
			dir=$d/shared/peer-pcaps
			break
		fi
	done
fi
if [ -z "$dir" ] || [ ! -f "$dir/INDEX.md" ]; then
	echo "SKIP: no shared/peer-pcaps/INDEX.md above $(pwd) (set PEER_PCAPS)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
notes=tests/peer-pcaps-notes.txt
fails=0 n=0 same=0 noted=0

# "| `file` | origin | bytes | link | ... | 4xx/5xx | what |": the file
# and the 4xx/5xx column (the 9th field of the row).
grep -E '^\| `[^`]+` \|' "$dir/INDEX.md" |
    awk -F'|' '{ f = $2; gsub(/[ `]/, "", f); c = $10; gsub(/ /, "", c);
	print f, c }' >"$tmp/list"

while read -r file counts; do
	[ -f "$dir/$file" ] || continue
	n=$((n + 1))
	pcap=$dir/$file
	case $file in *.gz)
		pcap=$tmp/$(basename "$file" .gz)
		gunzip -c "$dir/$file" >"$pcap" ;;
	esac
	"$WB" -o capture.ports=25,465,587,2525 -o capture.max_streams=4096 \
	    replay --json "$pcap" \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -gt 1 ] || grep -q "Sanitizer\|runtime error" "$tmp/err"
	then
		echo "not ok $n - $file: exit $rc"
		sed 's/^/    /' "$tmp/err" | head -20
		fails=$((fails + 1))
		continue
	fi
	if [ $rc -eq 1 ] && ! grep -q "^$file	damaged" "$notes"; then
		echo "not ok $n - $file: exit 1 and not known as damaged"
		sed 's/^/    /' "$tmp/err" | head -5
		fails=$((fails + 1))
		continue
	fi
	got=$("$PY" -c '
import json, sys
c4 = c5 = 0
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "reject":
        if ev["code"] < 500: c4 += 1
        else: c5 += 1
print("%d/%d" % (c4, c5))' "$tmp/out") || { echo "not ok $n - $file: bad JSON"; fails=$((fails + 1)); continue; }
	if [ "$got" = "$counts" ]; then
		echo "ok $n - $file: $got 4xx/5xx as tshark"
		same=$((same + 1))
	elif grep -q "^$file	$got	" "$notes"; then
		why=$(grep "^$file	$got	" "$notes" | cut -f3)
		echo "ok $n - $file: $got, tshark $counts: $why"
		noted=$((noted + 1))
	else
		echo "not ok $n - $file: $got 4xx/5xx, tshark $counts, no note"
		fails=$((fails + 1))
	fi
done <"$tmp/list"
echo "peer captures: $n replayed, $same as tshark, $noted explained," \
    "$fails wrong"
[ $n -gt 0 ] && [ $fails -eq 0 ]
