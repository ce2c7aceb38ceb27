#!/bin/sh
# setup.sh - installs what wireban's build and tests need on Debian 12
# (run as root). Installs only what is missing.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev libpcap-dev
  libnids-dev libpcre2-dev libiptc-dev
  libip4tc-dev libip6tc-dev check iptables iproute2 tcpdump tshark
  python3 cpio exim4-daemon-light swaks openssl libnet-ssleay-perl
  netcat-openbsd"
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
