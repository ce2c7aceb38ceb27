"""pcapvar - the library behind tests/tools/pcapvariant.py (and
pcap4to6.py).  Python 3 standard library only.

Modules, each importing only those above it:
    base      link types, EtherTypes, flags; CaptureError, warn()
    pcapio    reading and writing pcap and pcapng
    inet      IPv4, IPv6 (extension header chains) and TCP: parsing,
              building, checksums over either pseudo-header
    link      link headers and the link-layer modes
    turns     the unit of reordering shared by the rewrites
    hostile   TCP re-segmentation (IPv4 and IPv6)
    v6only    IPv6 fragments, extension headers, conflicting overlaps
    driver    the list of modes, convert(), output names
    reasm     the reference reassembler the checks use
    synth     the self-test's synthetic capture (IPv4 and IPv6)
    checks    the self-test's checks of the general modes
    checks6   ... and of the IPv6 modes
    selftest  synthetic round trips through every mode
    verify    the same against tshark and tcpdump
    cli       the command line
"""
