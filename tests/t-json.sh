#!/bin/sh
# t-json.sh - the event stream is byte for byte what it was: every IPv4
# capture's `replay --json` against tests/json-golden (see its README),
# made by the writer this one replaced. Prints "ok N - ..." lines and
# exits 0 when all match.
cd "$(dirname "$0")/.." || exit 2
WB=${WIREBAN:-./wireban}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
n=0 fails=0
for g in tests/json-golden/*.jsonl; do
	name=$(basename "$g" .jsonl)
	n=$((n + 1))
	$WB replay --json "pcaps/$name.pcap" >"$tmp" 2>/dev/null
	if cmp -s "$g" "$tmp"; then
		echo "ok $n - $name: the same bytes"
	else
		echo "not ok $n - $name differs"
		diff "$g" "$tmp" | head -6 | sed 's/^/    /'
		fails=$((fails + 1))
	fi
done
echo "json: $((n - fails)) of $n byte for byte"
[ "$n" -gt 0 ] && [ "$fails" -eq 0 ]
