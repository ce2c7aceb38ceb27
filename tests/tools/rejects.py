#!/usr/bin/env python3
"""rejects.py - turns wireban's JSON event stream (stdin) into the lines
of a pcaps/*.expect file: client, command, code, rule, offence, tab-
separated, one per "reject" event, in stream order.

It also checks that every line of the stream is valid JSON with the
fields DESIGN.md promises, so a malformed stream fails the test.
"""
import json
import sys

REJECT_FIELDS = ("ts", "client", "client_port", "server", "server_port",
                 "command", "arg", "code", "text", "rule", "offence")
SESSION_FIELDS = ("ts", "client", "server", "helo", "tls", "commands",
                  "rejects", "closed")


def main():
    bad = 0
    for n, line in enumerate(sys.stdin, 1):
        try:
            ev = json.loads(line)
        except ValueError as e:
            print("line %d: not JSON: %s" % (n, e), file=sys.stderr)
            bad += 1
            continue
        kind = ev.get("event")
        need = {"reject": REJECT_FIELDS, "session": SESSION_FIELDS}.get(
            kind, ())
        missing = [f for f in need if f not in ev]
        if missing:
            print("line %d: %s event lacks %s" % (n, kind, missing),
                  file=sys.stderr)
            bad += 1
        if kind != "reject":
            continue
        print("\t".join([ev["client"], ev["command"] or "NONE",
                         str(ev["code"]), ev["rule"] or "-",
                         "yes" if ev["offence"] else "no"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
