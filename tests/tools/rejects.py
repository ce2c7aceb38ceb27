#!/usr/bin/env python3
"""rejects.py - turns wireban's JSON event stream into the lines of a
pcaps/*.expect file: client, command, code, rule, offence, tab-
separated, one per "reject" event, in stream order.

  rejects.py < events.json            prints the lines
  rejects.py FILE.json...             writes FILE.tsv beside each (one
                                      process for a whole test run)

It also checks that every line of the stream is valid JSON with the
fields README.md ("Events") promises, so a malformed stream fails the test.
"""
import json
import sys

REJECT_FIELDS = ("ts", "client", "client_port", "server", "server_port",
                 "command", "arg", "code", "text", "rule", "offence")
SESSION_FIELDS = ("ts", "client", "server", "helo", "tls", "commands",
                  "rejects", "closed")


def convert(lines, out, name):
    bad = 0
    for n, line in enumerate(lines, 1):
        try:
            ev = json.loads(line)
        except ValueError as e:
            print("%s:%d: not JSON: %s" % (name, n, e), file=sys.stderr)
            bad += 1
            continue
        kind = ev.get("event")
        need = {"reject": REJECT_FIELDS, "session": SESSION_FIELDS}.get(
            kind, ())
        missing = [f for f in need if f not in ev]
        if missing:
            print("%s:%d: %s event lacks %s" % (name, n, kind, missing),
                  file=sys.stderr)
            bad += 1
        if kind != "reject":
            continue
        out.write("\t".join([ev["client"], ev["command"] or "NONE",
                             str(ev["code"]), ev["rule"] or "-",
                             "yes" if ev["offence"] else "no"]) + "\n")
    return bad


def main():
    if len(sys.argv) == 1:
        return 1 if convert(sys.stdin, sys.stdout, "stdin") else 0
    bad = 0
    for path in sys.argv[1:]:
        base = path[:-5] if path.endswith(".json") else path
        with open(path) as f, open(base + ".tsv", "w") as out:
            if convert(f, out, path):
                bad += 1
                # A malformed stream must not pass for an empty one.
                out.write("MALFORMED EVENT STREAM\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
