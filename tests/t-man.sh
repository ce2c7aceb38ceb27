#!/bin/sh
# t-man.sh - the man pages say what the code does, and lint clean.
#
#   mandoc -T lint -W warning finds nothing in man/wireban.8 and
#   man/wireban.conf.5;
#   every key of the key lists in src/config.c has an entry (.It Ic KEY)
#   in the section of wireban.conf(5) for its section, and no entry there
#   names a key the code does not know;
#   every default `wireban config` prints stands in its key's entry as
#   "Default: VALUE";
#   every command of `wireban --help` and of main.c's command table has
#   an entry (.It Cm NAME) in wireban(8), and every option of --help and
#   of main.c's option lists one (.It ... Fl NAME) under OPTIONS;
#   the configuration examples of wireban.conf(5) are accepted by wireban.
#
# The lists come from the code and from the binary, never from this
# file, so a key, option or default added or changed without its page
# fails here. Prints "ok N - ..." / "not ok N - ...", "N passed, N failed"
# last; exit 0, 1, or 77 ("SKIP: reason") without mandoc.
cd "$(dirname "$0")/.." || exit 2
WB=${WIREBAN:-./wireban}
M8=man/wireban.8
M5=man/wireban.conf.5

command -v mandoc >/dev/null 2>&1 || { echo "SKIP: mandoc not installed"; exit 77; }
if [ ! -x "$WB" ]; then
	echo "not ok 1 - $WB is built (run make wireban)"
	echo "0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
N=0 PASS=0 FAIL=0

ok() { N=$((N + 1)); PASS=$((PASS + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAIL=$((FAIL + 1)); echo "not ok $N - $*"; }
# report DESCRIPTION FILE: ok when FILE is empty, else not ok and FILE.
report() {
	if [ -s "$2" ]; then
		not_ok "$1"
		sed 's/^/    /' "$2" | head -n 30
	else
		ok "$1"
	fi
}

# ---- lint ---------------------------------------------------------------

for p in "$M8" "$M5"; do
	mandoc -T lint -W warning "$p" >"$tmp/lint" 2>&1
	echo "exit $?" >>"$tmp/lint"
	grep -v '^exit 0$' "$tmp/lint" >"$tmp/lint.bad"
	report "mandoc -T lint -W warning $p: nothing to say" "$tmp/lint.bad"
done

# ---- keys -----------------------------------------------------------------

# "section key" per line, from the *_keys[] arrays of src/config.c.
awk '
/static const char \*const [a-z]+_keys\[\] = \{/ {
	sec = $0
	sub(/.*const /, "", sec)
	sub(/_keys\[.*/, "", sec)
}
sec != "" {
	line = $0
	sub(/.*\{/, "", line)
	while (match(line, /"[^"]*"/)) {
		print sec, substr(line, RSTART + 1, RLENGTH - 2)
		line = substr(line, RSTART + RLENGTH)
	}
	if ($0 ~ /NULL *\};/)
		sec = ""
}' src/config.c >"$tmp/keys"
nkeys=$(wc -l <"$tmp/keys")
# The sections: those of the sections[] table, and the rules'.
sections=$(awk '/^} sections\[\] = \{/ { on = 1; next } on && /^\};/ { on = 0 }
    on { if (match($0, /"[a-z]+"/)) print substr($0, RSTART + 1, RLENGTH - 2) }' \
    src/config.c | tr '\n' ' ')rule
nsec=$(echo $sections | wc -w)
if [ "$nkeys" -ge 30 ] && [ "$nsec" -ge 5 ] &&
    [ "$(cut -d' ' -f1 "$tmp/keys" | sort -u | tr '\n' ' ')" = "$(echo $sections | tr ' ' '\n' | sort | tr '\n' ' ')" ]; then
	ok "src/config.c: $nkeys keys in the lists of its $nsec sections ($sections)"
else
	not_ok "src/config.c: the key lists were read ($nkeys keys)"
	sed 's/^/    /' "$tmp/keys"
fi

# man_section SEC: the .Sh heading of wireban.conf(5) for a config section.
man_section() {
	case $1 in
	rule) echo RULES ;;
	*) echo "$1" | tr a-z A-Z ;;
	esac
}
# entries HEADING: the names of the ".It Ic NAME" entries under .Sh HEADING
# (the first list level only: nested lists have no Ic entries).
entries() {
	awk -v h="$1" '
	/^\.Sh / { in_sec = ($2 == h); next }
	in_sec && /^\.It Ic / { print $3 }' "$M5"
}

: >"$tmp/missing"
while read -r sec key; do
	entries "$(man_section "$sec")" | grep -qx -- "$key" ||
	    echo "[$sec] $key: no '.It Ic $key' under .Sh $(man_section "$sec")" \
	    >>"$tmp/missing"
done <"$tmp/keys"
report "wireban.conf(5) has an entry for each of the $nkeys keys, in its section" \
    "$tmp/missing"

: >"$tmp/stale"
for sec in $sections; do
	for k in $(entries "$(man_section "$sec")"); do
		grep -qx -- "$sec $k" "$tmp/keys" ||
		    echo "[$sec] $k is documented but src/config.c has no such key" \
		    >>"$tmp/stale"
	done
done
report "wireban.conf(5) documents no key the code does not know" "$tmp/stale"

# ---- defaults -------------------------------------------------------------

# "section key value" per key with a default, from `wireban config` run
# with no configuration file at all.
: >"$tmp/empty.conf"
if "$WB" -c "$tmp/empty.conf" config >"$tmp/config" 2>&1; then
	awk '
	/^\[/ { sec = substr($0, 2, length($0) - 2); next }
	/\t# default$/ {
		line = $0
		sub(/\t# default$/, "", line)
		key = line; sub(/ = .*/, "", key)
		val = line; sub(/^[^=]* = ?/, "", val)
		if (val != "") print sec, key, val
	}' "$tmp/config" >"$tmp/defaults"
else
	cp "$tmp/config" "$tmp/defaults.err"
	: >"$tmp/defaults"
fi
ndef=$(wc -l <"$tmp/defaults")
: >"$tmp/baddef"
[ "$ndef" -ge 20 ] || echo "wireban config gave $ndef defaults" >>"$tmp/baddef"
# entry HEADING KEY: the text of the entry of KEY, joined on one line.
entry() {
	awk -v h="$1" -v k="$2" '
	/^\.Sh / { in_sec = ($2 == h); on = 0; next }
	in_sec && /^\.It Ic / { on = ($3 == k); next }
	in_sec && /^\.(It|El)( |$)/ && depth == 0 { on = 0 }
	on && /^\.Bl / { depth++ }
	on && /^\.El/ { depth-- }
	on { printf "%s ", $0 }' "$M5"
}
while read -r sec key val; do
	entry "$(man_section "$sec")" "$key" | grep -qF -- "Default: $val" ||
	    echo "$sec.$key: wireban config says '$val', the page has no 'Default: $val'" \
	    >>"$tmp/baddef"
done <"$tmp/defaults"
report "wireban.conf(5) gives each of the $ndef defaults of wireban config" \
    "$tmp/baddef"

# ---- commands and options ---------------------------------------------------

"$WB" --help >"$tmp/help" 2>&1
# The commands: indented words in --help's "commands:" block, and the
# names of main.c's command table.
awk '/^commands:/ { on = 1; next } /^[^ ]/ { on = 0 }
    on && /^  [a-z]/ { print $1 }' "$tmp/help" >"$tmp/cmds"
sed -n 's/^[[:space:]]*{ "\([a-z]*\)", cmd_[a-z_]*,.*/\1/p' src/main.c >>"$tmp/cmds"
sort -u "$tmp/cmds" -o "$tmp/cmds"
sh_entries() {
	awk -v h="$1" '/^\.Sh / { on = ($2 == h); next } on && /^\.It / { print }' "$M8"
}
sh_entries COMMANDS >"$tmp/m8cmds"
: >"$tmp/nocmd"
[ "$(wc -l <"$tmp/cmds")" -ge 8 ] ||
    echo "only $(wc -l <"$tmp/cmds") commands found in --help and main.c" >>"$tmp/nocmd"
for c in $(cat "$tmp/cmds"); do
	grep -q "^\.It Cm $c\( \|$\)" "$tmp/m8cmds" ||
	    echo "command $c: no '.It Cm $c' under COMMANDS" >>"$tmp/nocmd"
done
report "wireban(8) has an entry for each command: $(tr '\n' ' ' <"$tmp/cmds")" \
    "$tmp/nocmd"

# The options: the first word of each line of --help's "options:" block
# ("-h, --help": both), main.c's short option string and long options.
awk '/^options:/ { on = 1; next } /^[^ ]/ { on = 0 }
    on && /^  -/ { for (i = 1; i <= NF; i++) { w = $i; sub(/,$/, "", w);
	if (w ~ /^-/) print w; else break } }' "$tmp/help" >"$tmp/opts"
sed -n 's/.*getopt_long(argc, argv, cmd == NULL ? "+\([^"]*\)".*/\1/p' \
    src/main.c | tr -d ':' | sed 's/./-&\n/g' | grep . >>"$tmp/opts"
sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", [a-z_]*_argument,.*/--\1/p' \
    src/main.c >>"$tmp/opts"
sort -u "$tmp/opts" -o "$tmp/opts"
sh_entries OPTIONS >"$tmp/m8opts"
: >"$tmp/noopt"
[ "$(wc -l <"$tmp/opts")" -ge 11 ] ||
    echo "only $(wc -l <"$tmp/opts") options found in --help and main.c" >>"$tmp/noopt"
for o in $(cat "$tmp/opts"); do
	f=${o#-}
	grep -q "^\.It .*Fl $f\( \|$\)" "$tmp/m8opts" ||
	    echo "option $o: no '.It ... Fl $f' under OPTIONS" >>"$tmp/noopt"
done
report "wireban(8) has an entry for each option: $(tr '\n' ' ' <"$tmp/opts")" \
    "$tmp/noopt"

# ---- the examples -----------------------------------------------------------

awk '/^\.Sh EXAMPLES/ { ex = 1 } ex && /^\.Bd -literal/ { n++; on = 1; next }
    on && /^\.Ed/ { on = 0 } on { print > (dir "/example" n ".conf") }' \
    dir="$tmp" "$M5"
: >"$tmp/badex"
nex=0
for f in "$tmp"/example*.conf; do
	[ -e "$f" ] || continue
	nex=$((nex + 1))
	"$WB" -c "$f" config >"$tmp/ex.out" 2>&1 || {
		echo "$(basename "$f"):"
		cat "$f"
		cat "$tmp/ex.out"
	} >>"$tmp/badex"
done
[ "$nex" -ge 2 ] || echo "only $nex examples found" >>"$tmp/badex"
report "the $nex configuration examples of wireban.conf(5) load (wireban -c FILE config)" \
    "$tmp/badex"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
