#!/usr/bin/env python3
"""client.py: raw-socket SMTP clients for the captures where exact bytes,
segmentation or timing matter (swaks would reorder, wait, or refuse).

Usage: client.py SCENARIO SOURCE_IP [SERVER_IP]   (IPv4 or IPv6 addresses)

Each scenario below is a plain script of what goes on the wire.  Every
send() is ONE write on a TCP_NODELAY socket, so what is sent together
leaves in one segment (every send here is far below the veth's MSS of
1460 bytes).  The transcript goes to
stdout ("C:" sent, "S:" received) for make-pcaps.sh's log.  A scenario
raises if exim does not answer as the scenario expects, so a changed exim
is noticed when the captures are made, not when the tests fail.
"""

import base64
import socket
import sys

SERVER = "192.0.2.1"
TIMEOUT = 10.0


class Session:
    def __init__(self, src, port):
        family = socket.AF_INET6 if ":" in src else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        # Each scenario has its own source address, so one capture's
        # client is identifiable in the expectations.
        self.sock.bind((src, 0))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect((SERVER, port))
        self.buf = b""

    def send(self, data):
        """One write: bytes sent together leave together."""
        if isinstance(data, str):
            data = data.encode()
        for line in data.decode("ascii", "replace").splitlines():
            print("C:", line)
        self.sock.sendall(data)

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("ascii", "replace")

    def reply(self, want=None):
        """Read one (possibly multi-line) reply; check its code."""
        lines = []
        while True:
            line = self._line()
            print("S:", line)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        code = int(lines[-1][:3])
        if want is not None and code != want:
            raise RuntimeError(f"expected {want}, got: {lines}")
        return code, lines

    def cmd(self, line, want=None):
        self.send(line + "\r\n")
        return self.reply(want)

    def wait_close(self):
        """Read until the server closes (after a fatal reply)."""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            print("S:", chunk.decode("ascii", "replace").rstrip())
        self.sock.close()

    def quit(self):
        self.cmd("QUIT", 221)
        self.wait_close()


def b64(s):
    return base64.b64encode(s.encode()).decode()


def ehlo(s, name, need=()):
    code, lines = s.cmd(f"EHLO {name}", 250)
    keywords = {l[4:].split(" ")[0].upper() for l in lines[1:]}
    for k in need:
        if k not in keywords:
            raise RuntimeError(f"exim did not advertise {k}: {lines}")
    return keywords


def message(subject):
    return (f"From: carol@example.com\r\nTo: alice@wireban.test\r\n"
            f"Subject: {subject}\r\n\r\nHello.\r\n")


# ---------------------------------------------------------------- scenarios

def auth535(src):
    """Password guessing in cleartext on 587: AUTH PLAIN with a wrong
    password (535), AUTH LOGIN whose base64 password answer gets the 535,
    and a mechanism exim does not offer (504)."""
    s = Session(src, 587)
    s.reply(220)
    ehlo(s, "guesser.example", need=("AUTH",))
    # \x00, not \0: "\0123456" would be an octal escape (a newline).
    s.cmd("AUTH PLAIN " + b64("\x00alice\x00123456"), 535)
    s.cmd("AUTH LOGIN", 334)
    s.cmd(b64("alice"), 334)
    s.cmd(b64("password1"), 535)
    s.cmd("AUTH CRAM-MD5", 504)
    s.quit()


def auth503(src):
    """AUTH from a host that was not offered AUTH (auth_advertise_hosts
    excludes it): 503 AUTH command used when not advertised."""
    s = Session(src, 587)
    s.reply(220)
    keywords = ehlo(s, "noauth.example")
    if "AUTH" in keywords:
        raise RuntimeError("AUTH was advertised to the auth503 client")
    s.cmd("AUTH PLAIN " + b64("\x00alice\x00letmein"), 503)
    s.quit()


def unrecognized(src):
    """An HTTP probe on port 25: every header line is an unrecognized
    command; exim answers the first three with 500 unrecognized command
    (smtp_max_unknown_commands = 3) and the fourth with 500 Too many
    unrecognized commands, then drops the connection."""
    s = Session(src, 25)
    s.reply(220)
    s.cmd("GET / HTTP/1.0", 500)
    s.cmd("Host: mx.wireban.test", 500)
    s.cmd("User-Agent: wireban-probe/1.0", 500)
    s.cmd("Accept: */*", 500)
    s.wait_close()


def early_talker(src):
    """Send EHLO at once, before the greeting.  The connect ACL delays
    this host's greeting by 2s, so the EHLO is pending when exim checks:
    554 SMTP synchronization error instead of a greeting, then drop."""
    s = Session(src, 25)
    s.send("EHLO early.example\r\n")
    s.reply(554)
    s.wait_close()


def pipelining(src):
    """PIPELINING: MAIL, four RCPTs (good, unknown user, relay attempt,
    good) and DATA in ONE write; exim answers them in order, and DATA
    gets 354 because two recipients were accepted."""
    s = Session(src, 25)
    s.reply(220)
    ehlo(s, "pipeliner.example", need=("PIPELINING",))
    s.send("MAIL FROM:<carol@example.com>\r\n"
           "RCPT TO:<alice@wireban.test>\r\n"
           "RCPT TO:<nobody@wireban.test>\r\n"
           "RCPT TO:<victim@elsewhere.example>\r\n"
           "RCPT TO:<bob@wireban.test>\r\n"
           "DATA\r\n")
    for want in (250, 250, 550, 550, 250, 354):
        s.reply(want)
    s.send(message("pipelined") + ".\r\n")
    s.reply(250)
    s.quit()


def rset(src):
    """A relay attempt refused, RSET, then a good delivery in the same
    session: the reply pairing must survive the reset."""
    s = Session(src, 25)
    s.reply(220)
    ehlo(s, "resetter.example")
    s.cmd("MAIL FROM:<carol@example.com>", 250)
    s.cmd("RCPT TO:<someone@elsewhere.example>", 550)
    s.cmd("RSET", 250)
    s.cmd("MAIL FROM:<carol@example.com>", 250)
    s.cmd("RCPT TO:<alice@wireban.test>", 250)
    s.cmd("DATA", 354)
    s.send(message("after RSET") + ".\r\n")
    s.reply(250)
    s.quit()


def data_rejected(src):
    """A HELO client (no PIPELINING) says DATA without any RCPT: 503.
    It sends the message anyway, line by line; exim reads each line as a
    command: 500 unrecognized command.  The 503 and the 500s all count
    as syntax/protocol errors, so the fourth one (the final ".") is
    answered "500-unrecognized command" "500 Too many syntax or protocol
    errors" (smtp_max_synprot_errors = 3) and exim drops the connection."""
    s = Session(src, 25)
    s.reply(220)
    s.cmd("HELO blaster.example", 250)
    s.cmd("MAIL FROM:<carol@example.com>", 250)
    s.cmd("DATA", 503)
    s.cmd("Subject: buy now", 500)
    s.cmd("cheap pills", 500)
    code, lines = s.cmd(".", 500)
    if "Too many syntax or protocol errors" not in lines[-1]:
        raise RuntimeError(f"expected the synprot limit, got: {lines}")
    s.wait_close()


def bdat(src):
    """CHUNKING: a mistyped recipient (550), then the message in two BDAT
    chunks.  The first chunk holds text that looks like SMTP commands and
    ends mid-line: it is content, not commands."""
    s = Session(src, 25)
    s.reply(220)
    ehlo(s, "chunker.example", need=("CHUNKING",))
    s.cmd("MAIL FROM:<carol@example.com>", 250)
    s.cmd("RCPT TO:<alice@wireban.test>", 250)
    s.cmd("RCPT TO:<alcie@wireban.test>", 550)
    chunk1 = (b"From: carol@example.com\r\nSubject: chunked\r\n\r\n"
              b"RCPT TO:<fake@elsewhere.example>\r\nQUIT\r\nhalf a li")
    chunk2 = b"ne, then the end.\r\n"
    s.send(b"BDAT %d\r\n" % len(chunk1) + chunk1)
    s.reply(250)
    s.send(b"BDAT %d LAST\r\n" % len(chunk2) + chunk2)
    s.reply(250)
    s.quit()


SCENARIOS = {f.__name__: f for f in (auth535, auth503, unrecognized,
                                     early_talker, pipelining, rset,
                                     data_rejected, bdat)}


def main(argv):
    if len(argv) not in (3, 4) or argv[1] not in SCENARIOS:
        sys.exit(f"usage: client.py {{{'|'.join(SCENARIOS)}}} SOURCE_IP "
                 f"[SERVER_IP]")
    if len(argv) == 4:
        global SERVER
        SERVER = argv[3]
    SCENARIOS[argv[1]](argv[2])


if __name__ == "__main__":
    main(sys.argv)
