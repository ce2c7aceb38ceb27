#!/bin/sh
# setup.sh - installs what wireban's build and tests need on Debian 12
# (run as root). Installs only what is missing, and is a no-op when all
# is there.
#
# It never starts or enables a service: packages such as
# exim4-daemon-light, prometheus or crowdsec start theirs when
# installed on a systemd host, so a policy-rc.d that says no (exit 101)
# is in place for the length of the install and removed after it (the
# one in place, if any, put back), also on failure, and what the new
# packages enabled at boot is disabled again. It never
# touches a mail server the host runs already: when another MTA package
# is installed, or something listens on port 25, exim4-daemon-light is
# not installed (apt would replace that MTA with it) and the end-to-end
# tests, which need exim4, say SKIP.
set -e
PKGS="build-essential pkg-config clang libpcap-dev libnids-dev
  libpcre2-dev libiptc-dev libip4tc-dev libip6tc-dev libnftables-dev
  libipset-dev libcurl4-openssl-dev check iptables nftables ipset
  iproute2 tcpdump tshark tcpreplay python3 cpio exim4-daemon-light swaks
  openssl libnet-ssleay-perl netcat-openbsd mandoc systemd logrotate
  strace"
# Installed without their Recommends: prometheus (wanted for promtool)
# would bring prometheus-node-exporter, another daemon, and its timers.
PKGS_NOREC="prometheus"
# CrowdSec, for tests/t-crowdsec.sh and tests/bench/crowdsec-storm.sh:
# Debian's crowdsec (the LAPI, cscli) and crowdsec-firewall-bouncer,
# installed offline and never started, without their Recommends. Their
# postinst registers with the Central API (online) unless
# online_api_credentials.yaml is not empty, so one is written first;
# `dpkg --configure` repairs a half-configured install. The tests run a
# LAPI of their own, with a private config. Not fatal: the tests say
# SKIP without it.
PKGS_CROWDSEC="crowdsec crowdsec-firewall-bouncer"
POLICY=/usr/sbin/policy-rc.d

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null |
	    grep -q 'install ok installed'
}

# Why exim4-daemon-light must not be installed here, or nothing.
mta_in_the_way() {
	_other=$(dpkg-query -W -f='${Status}\t${Package}\t${Provides}\n' \
	    2>/dev/null | awk -F '\t' '$1 == "install ok installed" &&
	    $3 ~ /(^|[ ,])mail-transport-agent([ ,(]|$)/ &&
	    $2 != "exim4-daemon-light" { print $2 }' | head -n 1)
	if [ -n "$_other" ]; then
		echo "the MTA package $_other is installed"
		return
	fi
	# Port 25 (0019) in state LISTEN (0A), v4 or v6, whoever holds it.
	if awk 'FNR > 1 && $2 ~ /:0019$/ && $4 == "0A" { f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
		echo "something listens on port 25 already"
	fi
}

# The clang runtime (sanitizers, libFuzzer) of the clang installed.
clang_rt() {
	command -v clang >/dev/null 2>&1 || return 0
	_v=$(clang -dumpversion 2>/dev/null) || return 0
	echo "libclang-rt-${_v%%.*}-dev"
}

missing_of() {
	for _p in "$@"; do
		installed "$_p" || echo "$_p"
	done
}

missing=$(missing_of $PKGS)
missing_norec=$(missing_of $PKGS_NOREC)
missing_cs=$(missing_of $PKGS_CROWDSEC)
rt=$(clang_rt)
[ -n "$rt" ] && ! installed "$rt" && missing="$missing $rt"
case " $(echo $missing) " in
*" exim4-daemon-light "*)
	why=$(mta_in_the_way)
	if [ -n "$why" ]; then
		echo "setup.sh: not installing exim4-daemon-light: $why;" \
		    "the end-to-end tests will skip (no exim4)" >&2
		missing=$(echo $missing | tr ' ' '\n' |
		    grep -vx exim4-daemon-light || true)
	fi
	;;
esac
missing=$(echo $missing)
missing_norec=$(echo $missing_norec)
missing_cs=$(echo $missing_cs)
[ -z "$missing$missing_norec$missing_cs" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	if [ -z "$missing$missing_norec" ]; then
		echo "setup.sh: crowdsec is not installed (run as root);" \
		    "tests/t-crowdsec.sh will skip" >&2
		exit 0
	fi
	echo "setup.sh: missing packages:" $missing $missing_norec \
	    $missing_cs >&2
	echo "setup.sh: run it as root (sudo ./setup.sh)" >&2
	exit 1
fi

# ---- no service starts meanwhile -------------------------------------------

saved="" ours="" before=""
restore_policy() {
	if [ -n "$saved" ]; then
		mv -f "$saved" "$POLICY"
	elif [ -n "$ours" ]; then
		rm -f "$POLICY"
	fi
	[ -z "$before" ] || rm -f "$before"
}
trap restore_policy EXIT
trap 'exit 130' INT TERM HUP
refuses() { "$POLICY" exim4 start >/dev/null 2>&1; [ $? = 101 ]; }
if [ -x "$POLICY" ] && refuses; then
	echo "setup.sh: $POLICY already refuses to start services; kept"
else
	if [ -e "$POLICY" ]; then
		saved=$POLICY.wireban-saved
		mv -f "$POLICY" "$saved"
	fi
	ours=1
	printf '#!/bin/sh\n# %s\nexit 101\n' \
	    "wireban's setup.sh: no service starts while it installs." \
	    >"$POLICY"
	chmod 755 "$POLICY"
	echo "setup.sh: services are not started while installing" \
	    "($POLICY exits 101 until the install is over)"
fi

pkglist() {
	dpkg-query -W -f='${Status}\t${Package}\n' 2>/dev/null |
	    awk -F '\t' '$1 == "install ok installed" { print $2 }' | sort
}
before=$(mktemp)
pkglist >"$before"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
[ -z "$missing" ] || apt-get install -y -qq $missing
# shellcheck disable=SC2086
[ -z "$missing_norec" ] ||
    apt-get install -y -qq --no-install-recommends $missing_norec
if [ -n "$missing_cs" ]; then
	mkdir -p /etc/crowdsec
	[ -s /etc/crowdsec/online_api_credentials.yaml ] ||
	    echo "# none: installed offline by wireban's setup.sh" \
	    >/etc/crowdsec/online_api_credentials.yaml
	# shellcheck disable=SC2086
	if ! apt-get install -y -qq --no-install-recommends $missing_cs &&
	    ! dpkg --configure $missing_cs; then
		echo "setup.sh: crowdsec could not be installed;" \
		    "tests/t-crowdsec.sh will skip" >&2
	fi
fi
# clang came in just now: its runtime, by its version.
rt=$(clang_rt)
if [ -n "$rt" ] && ! installed "$rt"; then
	apt-get install -y -qq "$rt"
fi

# ---- nor at the next boot ----------------------------------------------------

# The units and init scripts of the packages installed now (not of
# systemd itself, whose units are the system's own) that are enabled.
new=$(pkglist | comm -13 "$before" -)
rm -f "$before"
units=""
for p in $new; do
	case $p in systemd|systemd-sysv|udev|dbus|libpam-systemd) continue ;; esac
	for f in $(dpkg -L "$p" 2>/dev/null | grep -E -e \
	    '^(/usr)?/lib/systemd/system/[^/]+\.(service|socket|timer)$' \
	    -e '^/etc/init\.d/[^/]+$'); do
		u=${f##*/}
		case $f in /etc/init.d/*) u=$u.service ;; esac
		command -v systemctl >/dev/null 2>&1 &&
		    [ "$(systemctl is-enabled "$u" 2>/dev/null)" = enabled ] &&
		    units="$units $u"
	done
done
units=$(echo $units | tr ' ' '\n' | sort -u | tr '\n' ' ')
units=${units% }
if [ -n "$units" ]; then
	echo "setup.sh: disabling what the new packages enabled at boot: $units"
	# shellcheck disable=SC2086
	systemctl disable $units >/dev/null 2>&1 ||
	    echo "setup.sh: systemctl disable $units failed" >&2
fi
