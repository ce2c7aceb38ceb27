#!/bin/sh
# crowdsec-storm.sh - a storm of STORM_BANS (20000) bans through the
# enforcer and the crowdsec backend into a real CrowdSec LAPI (Debian's
# crowdsec, a private config and sqlite db, in a network namespace made
# and deleted here), then how fast they reached it and in what batches.
# For tests/bench/run-bench.sh (or alone, as root). Prints a few lines;
# "skipped: reason" when crowdsec or root is missing. Never fails on
# timing; exit 1 only when the driver cannot be built or not every ban
# arrived.
#
# STORM_BANS, STORM_BATCH (crowdsec.batch, 500), KEEP_TMP=1.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${STORM_BANS:-20000}
BATCH=${STORM_BATCH:-500}

skipped() {
	echo "crowdsec storm: skipped: $*"
	exit 0
}
[ "$(id -u)" = 0 ] || skipped "not root"
command -v crowdsec >/dev/null 2>&1 && command -v cscli >/dev/null 2>&1 ||
    skipped "crowdsec not installed (./setup.sh)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wbstorm.XXXXXX") || exit 1
NS=wbcs-storm-$$
LAPIPID=""
cleanup() {
	if [ -n "$LAPIPID" ]; then
		kill -9 "$LAPIPID" 2>/dev/null
		wait "$LAPIPID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	[ "${KEEP_TMP:-0}" = 1 ] && echo "# kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# The driver, against the project's bans/ objects.
(cd "$ROOT" && make -s wireban) >/dev/null 2>"$TMP/build.log" &&
    cc -std=c11 -O2 -D_GNU_SOURCE -I"$ROOT/include" -o "$TMP/storm" \
    "$ROOT/tests/bench/crowdsec-storm.c" "$ROOT"/bans/*.o -lnftables \
    -lipset -lip4tc -lip6tc -lcurl -lpthread -lm 2>>"$TMP/build.log" ||
    { echo "crowdsec storm: the driver does not build:"; cat "$TMP/build.log"
    exit 1; }

ip netns add "$NS" || skipped "ip netns unavailable"
ip netns exec "$NS" ip link set lo up
L=$TMP/lapi
mkdir -p "$L/data" "$L/hub"
echo '{}' >"$L/hub/.index.json"
echo 'simulation: off' >"$L/simulation.yaml"
cp /etc/crowdsec/profiles.yaml "$L/profiles.yaml"
cat >"$L/config.yaml" <<EOF
common:
  daemonize: false
  log_media: stdout
  log_level: warning
config_paths:
  config_dir: $L/
  data_dir: $L/data/
  simulation_path: $L/simulation.yaml
  hub_dir: $L/hub/
  index_path: $L/hub/.index.json
  notification_dir: $L/
  plugin_dir: /usr/lib/crowdsec/plugins/
db_config:
  log_level: warning
  type: sqlite
  db_path: $L/data/crowdsec.db
  use_wal: true
api:
  client:
    credentials_path: $L/local_api_credentials.yaml
  server:
    log_level: warning
    listen_uri: 127.0.0.1:8080
    profiles_path: $L/profiles.yaml
prometheus:
  enabled: false
EOF
: >"$L/local_api_credentials.yaml"
cscli -c "$L/config.yaml" machines add cli --auto \
    -f "$L/local_api_credentials.yaml" --url http://127.0.0.1:8080 \
    >/dev/null 2>&1
cscli -c "$L/config.yaml" machines add storm --password stormpw \
    -f "$TMP/creds.yaml" >/dev/null 2>&1
printf 'stormpw\n' >"$TMP/pw"
chmod 600 "$TMP/pw"
ip netns exec "$NS" crowdsec -c "$L/config.yaml" -no-cs >"$TMP/lapi.log" 2>&1 &
LAPIPID=$!
i=0
until ip netns exec "$NS" curl -s -o /dev/null -m 1 \
    http://127.0.0.1:8080/health; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "crowdsec storm: the LAPI did not start"
	    exit 1; }
	sleep 0.1
done

ip netns exec "$NS" "$TMP/storm" http://127.0.0.1:8080 storm "$TMP/pw" \
    "$TMP/spool" "$N" "$BATCH" >"$TMP/out" 2>"$TMP/err"
rc=$?
got=$(ip netns exec "$NS" cscli -c "$L/config.yaml" decisions list -a \
    -o raw -l 0 2>/dev/null | grep -c ',wireban,')
v() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$TMP/out"; }
echo "crowdsec storm: $(v bans) bans, crowdsec.batch $BATCH, LAPI" \
    "$(crowdsec -version 2>&1 | sed -n 's/.*version: //p' | head -n 1)" \
    "(sqlite, WAL)"
echo "  handed over in $(v handover_s) s; first at the LAPI after" \
    "$(v first_delivered_s) s, all after $(v all_delivered_s) s:" \
    "$(v pushes_per_s) pushes/s"
echo "  $(v posts) POSTs (largest $(v largest), mean $(v mean_batch));" \
    "alerts per POST: $(v hist)"
echo "  $(v logins) login(s), $(v failures) failed requests; the LAPI" \
    "lists $got decisions of origin wireban"
echo "  enforcer: $(v enforcer_commits) commits (largest $(v enforcer_largest))," \
    "hand-over to commit $(v enforcer_lat_mean_ms) ms mean (the network" \
    "is the worker's)"
[ -s "$TMP/err" ] && sed 's/^/  stderr: /' "$TMP/err" | head -n 5
[ $rc -eq 0 ] && [ "$got" -ge "$N" ]
