#!/bin/sh
# t-storm-ipset.sh - tests/t-storm.sh with the other set backend: the
# same storm of relay probers, kill -9 and restarts, bans in ipset's
# sets (the default backend, nftables, is t-storm.sh's own run).
STORM_BACKEND=ipset exec sh "$(dirname "$0")/t-storm.sh"
