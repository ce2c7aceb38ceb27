#!/usr/bin/env python3
"""check-expect.py: cross-check every NAME.expect against the two
independent records of the same run that make-pcaps.sh saved beside it:

1. exim's own log (NAME.eximlog): each expected reply must have its
   rejection logged for the same client (a "rejected RCPT" line for a
   RCPT reply, "authenticator failed" for a 535, ...), and a rule must be
   backed by the logged reason (relay -> "relay not permitted", ...).
   Conversely, a rejection exim logged for a plaintext session must have
   an expect line (rejections inside TLS, logged with X=TLS..., must not).
2. the capture itself, as tshark's SMTP dissector reads it: the 4xx/5xx
   replies (client address and code, in wire order) must be exactly the
   expect lines.  tshark counts a multi-line reply once and stops at
   STARTTLS, as the expectations do.

Client addresses are IPv4 or IPv6; an IPv6 one must be written as
inet_ntop prints it (RFC 5952: lower case, longest run of zero groups
as "::"), which is how exim logs it and how wireban will report it.

Usage: check-expect.py [DIR]   (default: the directory of this script)
Prints one line per capture and every mismatch; exits 1 on any mismatch.
Needs only python3 and tshark; no root, no exim.
"""

import ipaddress
import os
import re
import subprocess
import sys

COMMANDS = {"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "EOM", "AUTH",
            "STARTTLS", "QUIT", "RSET", "NOOP", "VRFY", "EXPN", "UNKNOWN",
            "NONE"}
RULES = {"relay", "unknown_user", "callout", "rbl", "auth", "sync",
         "protocol", "content", "policy", "-"}


def verb_error(verb):
    """exim's log line for a rejected or malformed command VERB."""
    return rf'rejected {verb}\b|SMTP (?:protocol|syntax) error in "{verb}\b'


# Log evidence that exim refused the command an expect line names.
COMMAND_LOG = {
    "RCPT": r"rejected RCPT ",
    "MAIL": r"rejected MAIL ",
    "EOM": r"rejected after DATA",
    "BDAT": r"rejected after DATA|" + verb_error("BDAT"),
    "DATA": verb_error("DATA"),
    "AUTH": r"authenticator failed|" + verb_error("AUTH"),
    "UNKNOWN": r'SMTP syntax error in ".*" .*unrecognized command',
    "NONE": r"rejected connection|synchronization error",
}
for _verb in ("HELO", "EHLO", "STARTTLS", "QUIT", "RSET", "NOOP", "VRFY",
              "EXPN"):
    COMMAND_LOG[_verb] = verb_error(_verb)

# Log evidence for the rule: exim logs the reason of every rejection.
RULE_LOG = {
    "relay": r"relay not permitted",
    "unknown_user": r"Unknown user|Unrouteable address|"
                    r"too many bad recipients",
    "callout": r"Sender verify failed|Verification failed|"
               r"Callout verification failed",
    "rbl": r"black ?list|blocklist|is listed in",
    "auth": r"535 Incorrect authentication data|"
            r"AUTH command used when not advertised|"
            r"authentication mechanism not supported",
    "sync": r"synchronization error",
    "protocol": r"too many unrecognized commands|too many nonmail commands|"
                r"too many syntax or protocol errors|syntactically invalid|"
                r"does not match calling host|NUL characters",
    "content": r"virus|local_scan",
    "policy": r"Administrative prohibition",
}

# Any log line that records a reply of 4xx/5xx to the client.
REJECTION_LOG = re.compile(
    r"rejected (?:RCPT|MAIL|DATA|after DATA|connection|HELO|EHLO|VRFY|EXPN)"
    r"|authenticator failed|SMTP (?:protocol|syntax) error in"
    r"|synchronization error|dropped: too many", re.I)


def parse_expect(path, problems):
    rows = []
    with open(path, encoding="ascii") as f:
        for n, line in enumerate(f, 1):
            where = f"{os.path.basename(path)}:{n}"
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 5:
                problems.append(f"{where}: want 5 tab-separated fields")
                continue
            ip, command, code, rule, offence = fields
            try:
                # str() is RFC 5952's form (Python prints IPv4-mapped
                # addresses in hex, inet_ntop dotted: none are used here).
                if str(ipaddress.ip_address(ip)) != ip:
                    problems.append(f"{where}: write {ip!r} as "
                                    f"{str(ipaddress.ip_address(ip))!r}")
            except ValueError:
                problems.append(f"{where}: bad client address {ip!r}")
            if command not in COMMANDS:
                problems.append(f"{where}: unknown command {command!r}")
            if not re.fullmatch(r"[45][0-9][0-9]", code):
                problems.append(f"{where}: code {code!r} is not 4xx/5xx")
            if rule not in RULES:
                problems.append(f"{where}: unknown rule {rule!r}")
            # Only a 5xx matched by a rule is an offence; 4xx never match.
            want = "yes" if code.startswith("5") and rule != "-" else "no"
            if offence != want:
                problems.append(f"{where}: offence must be {want}")
            if code.startswith("4") and rule != "-":
                problems.append(f"{where}: a 4xx reply takes rule -")
            rows.append((ip, command, code, rule, offence, where))
    return rows


def check_log(rows, log_lines, problems):
    """Consume one log line per expect line (two when the reason is logged
    on a line of its own, as for "dropped: too many ...")."""
    used = set()

    def find(pattern, ip, extra=None):
        for i, line in enumerate(log_lines):
            if i in used or f"[{ip}]" not in line:
                continue
            if re.search(pattern, line, re.I) and (extra is None
                                                   or extra(line)):
                return i
        return None

    for ip, command, code, rule, _, where in rows:
        def plain(line, temp=code.startswith("4")):
            # A reply inside TLS (logged with X=TLS...) is never on the
            # wire in plaintext; a 4xx is logged "temporarily rejected".
            return " X=TLS" not in line and (
                ("temporarily rejected" in line) == temp
                or "rejected" not in line)
        cmd_re = COMMAND_LOG.get(command, command)
        rule_re = RULE_LOG.get(rule)
        # Best: one line that shows both the command and the reason.
        if rule_re:
            i = find(cmd_re, ip,
                     lambda l: plain(l) and re.search(rule_re, l, re.I))
            if i is not None:
                used.add(i)
                continue
        i = find(cmd_re, ip, plain)
        if i is None:
            problems.append(f"{where}: no plaintext {command} rejection for "
                            f"{ip} in the exim log")
            continue
        used.add(i)
        if rule == "-":
            continue
        # The reason on a line of its own ("dropped: too many ...").
        j = find(rule_re, ip)
        if j is None:
            problems.append(f"{where}: the exim log gives no '{rule}' "
                            f"reason for {ip} {command}")
        else:
            used.add(j)

    for i, line in enumerate(log_lines):
        if i in used or not REJECTION_LOG.search(line):
            continue
        if " X=TLS" in line:
            continue  # refused inside TLS: invisible on the wire, by design
        problems.append(f"exim logged a rejection with no expect line: "
                        f"{line.strip()}")


def tshark_rejects(pcap, problems):
    """(client, code) of every 4xx/5xx reply tshark sees, in wire order.
    Several pipelined replies in one frame come as comma-separated codes;
    the client is the reply's destination (ip.dst or ipv6.dst, whichever
    the frame has), normalised to RFC 5952's form."""
    cmd = ["tshark", "-n", "-r", pcap, "-Y", "smtp.response.code >= 400",
           "-T", "fields", "-E", "separator=\t", "-e", "ip.dst",
           "-e", "ipv6.dst", "-e", "smtp.response.code"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        problems.append(f"tshark failed on {pcap}: {e}")
        return []
    seen = []
    for line in out.stdout.splitlines():
        v4, v6, codes = line.split("\t")
        try:
            client = str(ipaddress.ip_address(v4 or v6))
        except ValueError:
            client = v4 or v6
        seen += [(client, c) for c in codes.split(",") if c >= "400"]
    return seen


def check_capture(base, problems):
    name = os.path.basename(base)
    for ext in (".pcap", ".expect", ".eximlog"):
        if not os.path.exists(base + ext):
            problems.append(f"{name}{ext} is missing")
            return 0
    if os.path.getsize(base + ".pcap") <= 24:  # the pcap header alone
        problems.append(f"{name}.pcap holds no packets")
    rows = parse_expect(base + ".expect", problems)
    with open(base + ".eximlog", encoding="utf-8", errors="replace") as f:
        log_lines = f.readlines()
    if not log_lines:
        problems.append(f"{name}.eximlog is empty")
    check_log(rows, log_lines, problems)

    want = [(ip, code) for ip, _, code, _, _, _ in rows]
    seen = tshark_rejects(base + ".pcap", problems)
    if seen != want:
        problems.append(f"{name}: tshark sees 4xx/5xx replies {seen}, "
                        f".expect has {want}")
    return len(rows)


def main(argv):
    here = argv[1] if len(argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    names = sorted({f.rsplit(".", 1)[0] for f in os.listdir(here)
                    if f.endswith((".pcap", ".expect"))})
    if not names:
        sys.exit(f"check-expect: no captures in {here}")
    failed = 0
    for name in names:
        problems = []
        n = check_capture(os.path.join(here, name), problems)
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for p in problems:
                print(f"     {p}")
        else:
            print(f"ok   {name} ({n} expected 4xx/5xx)")
    print(f"check-expect: {len(names) - failed}/{len(names)} captures agree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
