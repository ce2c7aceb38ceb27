#!/bin/sh
# setup.sh - installs what wireban's build and tests need on Debian 12
# (run as root). Installs only what is missing.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev libpcap-dev
  libnids-dev libpcre2-dev libiptc-dev
  libip4tc-dev libip6tc-dev check iptables iproute2 tcpdump tshark
  python3 cpio exim4-daemon-light swaks openssl libnet-ssleay-perl
  netcat-openbsd"
# CrowdSec, for tests/t-crowdsec.sh and tests/bench/crowdsec-storm.sh:
# Debian's crowdsec (the LAPI, cscli) and crowdsec-firewall-bouncer,
# installed offline and never started. Their postinst registers with
# the Central API (online) unless online_api_credentials.yaml is not
# empty, so one is written first; a policy-rc.d that exits 101 refuses
# every service start for the length of the install (the one in place,
# if any, is put back); `dpkg --configure` repairs a half-configured
# install; what the packages enabled at boot is disabled again. The
# tests run a LAPI of their own, with a private config. Not fatal: the
# tests say SKIP without it.
crowdsec_setup() {
	command -v crowdsec >/dev/null 2>&1 &&
	    command -v crowdsec-firewall-bouncer >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "setup.sh: crowdsec is not installed (run as root)" >&2
		return 0
	fi
	mkdir -p /etc/crowdsec
	[ -s /etc/crowdsec/online_api_credentials.yaml ] ||
	    echo "# none: installed offline by wireban's setup.sh" \
	    >/etc/crowdsec/online_api_credentials.yaml
	_prc=/usr/sbin/policy-rc.d
	_saved=""
	[ -e "$_prc" ] && _saved=$(mktemp) && cp -p "$_prc" "$_saved"
	printf '#!/bin/sh\nexit 101\n' >"$_prc"
	chmod 755 "$_prc"
	_pk="crowdsec crowdsec-firewall-bouncer"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $_pk ||
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $_pk; } ||
	    dpkg --configure $_pk
	_rc=$?
	if [ -n "$_saved" ]; then
		mv "$_saved" "$_prc"
	else
		rm -f "$_prc"
	fi
	systemctl disable crowdsec.service crowdsec-firewall-bouncer.service \
	    >/dev/null 2>&1 || true
	return $_rc
}
crowdsec_setup || echo "setup.sh: crowdsec could not be installed;" \
    "tests/t-crowdsec.sh will skip" >&2
missing=$(for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || echo "$p"; done)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "setup.sh: missing packages:" $missing >&2
	echo "setup.sh: run it as root (sudo ./setup.sh)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing
