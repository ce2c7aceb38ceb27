# wireban - see README.md. `make` builds ./wireban, `make test` runs every
# test, `make asan` the same suite under ASan+UBSan, `make fuzz` a
# libFuzzer run over the SMTP parser (`make fuzz-config`: over the config
# reader), `make bench` the benchmarks.
# `make install` (PREFIX, DESTDIR, ...: see "Installing" below) puts the
# program, its man pages, the systemd unit and the rest of contrib/ in
# place; `make uninstall` takes them away again.

CC	?= cc
WARN	 = -std=c11 -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual \
	   -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	   -Werror=implicit-function-declaration
CFLAGS	?= -O2 -g
# CFLAGS may be set on the command line (make asan does); the flags the
# code needs are kept apart so they always apply. CPPFLAGS and LDFLAGS
# too: a package build passes dpkg-buildflags' (-D_FORTIFY_SOURCE=2,
# -fstack-protector-strong, -Wl,-z,relro,-z,now) through them.
XCFLAGS	 = $(CPPFLAGS) $(CFLAGS) $(WARN) -D_GNU_SOURCE -Iinclude
ifneq ($(WERROR),0)
XCFLAGS	+= -Werror
endif
LDFLAGS	?=

PCRE_LIBS  = -lpcre2-8
NIDS_LIBS  = -lnids -lpcap
IPTC_LIBS  = -lip4tc -lip6tc
# The firewall backends of bans/: nftables, ipset, iptables; crowdsec
# (libcurl, and a thread of its own).
FW_LIBS    = -lnftables -lipset $(IPTC_LIBS) -lcurl -lpthread
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

SMTP_OBJ  = $(patsubst %.c,%.o,$(wildcard smtp/*.c))
SNIFF_OBJ = $(patsubst %.c,%.o,$(wildcard sniffer/*.c))
BANS_OBJ  = $(patsubst %.c,%.o,$(wildcard bans/*.c))
MAIN_OBJ  = $(patsubst %.c,%.o,$(filter-out src/main.c,$(wildcard src/*.c)))
HDRS	  = $(wildcard include/*.h smtp/*.h smtp/*.def sniffer/*.h bans/*.h src/*.h)

CHECKS	  = $(patsubst %.c,%,$(wildcard tests/check_*.c))

all: wireban

wireban: src/main.o $(MAIN_OBJ) $(SMTP_OBJ) $(SNIFF_OBJ) $(BANS_OBJ)
	$(CC) $(XCFLAGS) $(LDFLAGS) -o $@ $^ $(PCRE_LIBS) $(NIDS_LIBS) $(FW_LIBS) -lm

%.o: %.c $(HDRS)
	$(CC) $(XCFLAGS) -c -o $@ $<

# Each module's tests link that module alone: check_smtp must build
# without pcap, nids or iptc, which is the proof smtp/ is pure.
tests/check_smtp: tests/check_smtp.c tests/smtp_cases.h tests/smtp_rule_cases.h \
    smtp/commands.def $(SMTP_OBJ)
	$(CC) $(XCFLAGS) -o $@ $(filter %.c %.o,$^) $(PCRE_LIBS) $(CHECK_LIBS)
tests/check_rules: tests/check_rules.c tests/smtp_rule_cases.h \
    smtp/commands.def $(SMTP_OBJ)
	$(CC) $(XCFLAGS) -o $@ $(filter %.c %.o,$^) $(PCRE_LIBS) $(CHECK_LIBS)
# The sniffer's suites share tests/lib (capture writer, recorder); the
# IPv6 and gate suites test sniffer/ internals too (-Isniffer).
SNIFF_CHECKS = tests/check_sniffer tests/check_sniffer_conn \
	tests/check_sniffer_io tests/check_sniffer6 \
	tests/check_sniffer6_sessions tests/check_sniffer_gate
SNIFF_TLIB   = tests/lib/pcapw.c tests/lib/sniffrec.c
$(SNIFF_CHECKS): tests/%: tests/%.c $(SNIFF_TLIB) $(wildcard tests/lib/*.h) $(SNIFF_OBJ)
	$(CC) $(XCFLAGS) -Itests/lib -Isniffer -o $@ $(filter %.c %.o,$^) $(NIDS_LIBS) $(CHECK_LIBS)
# The suites of bans/ share a fixture (tests/bans_fixture.c).
BANS_CHECKS = tests/check_policy tests/check_policy_prefix tests/check_state \
	      tests/check_state_crash tests/check_reconcile tests/check_backends \
	      tests/check_enforcer tests/check_fwsets
$(BANS_CHECKS): tests/%: tests/%.c tests/bans_fixture.c tests/bans_fixture.h $(BANS_OBJ)
	$(CC) $(XCFLAGS) -Itests -o $@ $(filter %.c %.o,$^) $(FW_LIBS) $(CHECK_LIBS)
# The crowdsec backend's: its pure parts, then the spool and the backend
# against a fake LAPI.
CS_FIX = tests/cs_fixture.c tests/cs_fixture.h tests/bans_fixture.c \
	 tests/bans_fixture.h
tests/check_crowdsec: tests/check_crowdsec.c $(CS_FIX) $(BANS_OBJ)
	$(CC) $(XCFLAGS) -Itests -o $@ $(filter %.c %.o,$^) $(FW_LIBS) $(CHECK_LIBS)
tests/check_crowdsec_lapi: tests/check_crowdsec_lapi.c tests/cs_fake_lapi.c \
    tests/cs_fake_lapi.h $(CS_FIX) $(BANS_OBJ)
	$(CC) $(XCFLAGS) -Itests -o $@ $(filter %.c %.o,$^) $(FW_LIBS) $(CHECK_LIBS)
tests/check_events: tests/check_events.c src/events.o $(SMTP_OBJ) $(SNIFF_OBJ)
	$(CC) $(XCFLAGS) -Isrc -o $@ $(filter %.c %.o,$^) $(PCRE_LIBS) \
	    $(NIDS_LIBS) $(CHECK_LIBS)
tests/check_config: tests/check_config.c src/config.h src/config.o
	$(CC) $(XCFLAGS) -o $@ $(filter %.c %.o,$^) -lm $(CHECK_LIBS)
tests/check_sdnotify: tests/check_sdnotify.c src/sdnotify.h src/sdnotify.o
	$(CC) $(XCFLAGS) -o $@ $(filter %.c %.o,$^) $(CHECK_LIBS)

checks: $(CHECKS)

# The README's commands do their own set-up: setup.sh installs what is
# missing (Debian 12, as root) and is a no-op when all is there.
setup:
	@./setup.sh

# The README's test command. Prints one "N passed, N failed" line last.
test: setup
	@$(MAKE) -s wireban checks
	@tests/run-tests.sh

# The GNU name for the same.
check: test

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer,
# built in a separate tree so the normal objects are left alone.
# The tree is copied from git's list of files in a checkout, and from
# the directory itself in an unpacked tarball (no .git); the objects a
# tarball may carry are removed by clean-objs.
asan: asan-tree
	$(MAKE) -C build-asan clean-objs
	$(MAKE) -C build-asan test CC=clang \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined"

asan-tree:
	rm -rf build-asan && mkdir -p build-asan
	if [ -e .git ]; then git ls-files -co --exclude-standard; \
	else find . -name .git -prune -o -name 'build-*' -prune -o \
	    -type f -print | sed 's|^\./||'; fi | grep -v '^build-' | \
	    cpio -pdm build-asan 2>/dev/null
	test -f build-asan/Makefile

# libFuzzer over smtp_feed; FUZZ_SECONDS bounds the run.
FUZZ_SECONDS ?= 60
tests/fuzz/fuzz_smtp: tests/fuzz/fuzz_smtp.c $(wildcard smtp/*.c) $(HDRS)
	clang -std=c11 -g -O1 -D_GNU_SOURCE -Iinclude \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ tests/fuzz/fuzz_smtp.c $(wildcard smtp/*.c) $(PCRE_LIBS)
fuzz: tests/fuzz/fuzz_smtp
	mkdir -p tests/fuzz/corpus
	tests/fuzz/fuzz_smtp -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -print_final_stats=1 tests/fuzz/corpus tests/fuzz/seeds

# libFuzzer over the config reader: make fuzz-config [FUZZ_SECONDS=n].
tests/fuzz/fuzz_config: tests/fuzz/fuzz_config.c src/config.c src/config.h \
    include/addr.h
	clang -std=c11 -g -O1 -D_GNU_SOURCE -Iinclude \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ tests/fuzz/fuzz_config.c src/config.c -lm
# libFuzzer over the whole packet path, frames to bans: make fuzz-pcap.
FUZZ_SRC = $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard smtp/*.c) \
	   $(wildcard sniffer/*.c) $(wildcard bans/*.c)
tests/fuzz/fuzz_pcap: tests/fuzz/fuzz_pcap.c $(FUZZ_SRC) $(HDRS)
	clang -std=c11 -g -O1 -D_GNU_SOURCE -Iinclude -Isrc \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ tests/fuzz/fuzz_pcap.c $(FUZZ_SRC) $(PCRE_LIBS) \
	    $(NIDS_LIBS) $(FW_LIBS) $(CURL_LIBS) -lm -lpthread
fuzz-pcap: tests/fuzz/fuzz_pcap
	mkdir -p tests/fuzz/corpus-pcap
	tests/fuzz/fuzz_pcap -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -print_final_stats=1 tests/fuzz/corpus-pcap tests/fuzz/seeds-pcap

# libFuzzer over the control socket (server and requests): fuzz-control.
tests/fuzz/fuzz_control: tests/fuzz/fuzz_control.c $(FUZZ_SRC) $(HDRS)
	clang -std=c11 -g -O1 -D_GNU_SOURCE -Iinclude -Isrc \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ tests/fuzz/fuzz_control.c $(FUZZ_SRC) $(PCRE_LIBS) \
	    $(NIDS_LIBS) $(FW_LIBS) $(CURL_LIBS) -lm -lpthread
fuzz-control: tests/fuzz/fuzz_control
	mkdir -p tests/fuzz/corpus-control
	tests/fuzz/fuzz_control -max_total_time=$(FUZZ_SECONDS) -max_len=1024 \
	    -print_final_stats=1 tests/fuzz/corpus-control \
	    tests/fuzz/seeds-control

# libFuzzer over the ban state's readers (records, snapshot, journal).
tests/fuzz/fuzz_state: tests/fuzz/fuzz_state.c $(wildcard bans/*.c) $(HDRS)
	clang -std=c11 -g -O1 -D_GNU_SOURCE -Iinclude \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ tests/fuzz/fuzz_state.c $(wildcard bans/*.c) $(FW_LIBS) \
	    -lpthread
fuzz-state: tests/fuzz/fuzz_state
	mkdir -p tests/fuzz/corpus-state
	tests/fuzz/fuzz_state -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    -print_final_stats=1 tests/fuzz/corpus-state tests/fuzz/seeds-state

fuzz-config: tests/fuzz/fuzz_config
	mkdir -p tests/fuzz/corpus-config
	tests/fuzz/fuzz_config -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    -dict=tests/fuzz/config.dict -print_final_stats=1 \
	    tests/fuzz/corpus-config tests/fuzz/seeds-config

run: setup
	@$(MAKE) -s wireban
	./wireban replay pcaps/relay.pcap

bench: wireban
	tests/bench/run-bench.sh

clean-objs:
	rm -f src/*.o smtp/*.o sniffer/*.o bans/*.o wireban $(CHECKS)

clean: clean-objs
	rm -rf build-asan tests/fuzz/fuzz_smtp tests/fuzz/fuzz_config \
	    tests/fuzz/fuzz_state tests/fuzz/fuzz_pcap tests/fuzz/fuzz_control

# ---- Installing ------------------------------------------------------
#
#   make install [PREFIX=/usr/local] [DESTDIR=] [SBINDIR=] [MANDIR=] ...
#
# SYSCONFDIR is /etc, not GNU's $(PREFIX)/etc: the program reads
# /etc/wireban/wireban.conf unless told otherwise, and /etc is where a
# Debian admin looks; with another SYSCONFDIR the unit passes -c. The
# unit goes where systemd looks for it: $(PREFIX)/lib/systemd/system
# (/usr/local/lib/systemd/system is on systemd's path), and for
# PREFIX=/usr where Debian 12's packages put theirs, /lib/systemd/system.
# The config file is written only when there is none: an admin's is
# never overwritten, and uninstall removes it only when it is still the
# example, unchanged. Nothing here runs systemctl or chowns anything, so
# `make install DESTDIR=/tmp/x` works as any user (tests/t-install.sh).
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/wireban
SYSCONFDIR	?= /etc
LOGROTATEDIR	?= $(SYSCONFDIR)/logrotate.d
MODULESLOADDIR	?= $(PREFIX)/lib/modules-load.d
ifeq ($(PREFIX),/usr)
UNITDIR		?= /lib/systemd/system
else
UNITDIR		?= $(PREFIX)/lib/systemd/system
endif
INSTALL		?= install
ifneq ($(SYSCONFDIR),/etc)
UNIT_SED	 = -e 's|/wireban watch$$|/wireban -c $(SYSCONFDIR)/wireban/wireban.conf watch|'
endif
CONF		 = $(DESTDIR)$(SYSCONFDIR)/wireban/wireban.conf

install: wireban
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(MODULESLOADDIR) \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/wireban
	$(INSTALL) -m 0755 wireban $(DESTDIR)$(SBINDIR)/wireban
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' $(UNIT_SED) \
	    contrib/wireban.service >$(DESTDIR)$(UNITDIR)/wireban.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/wireban.service
	$(INSTALL) -m 0644 man/wireban.8 $(DESTDIR)$(MANDIR)/man8/wireban.8
	$(INSTALL) -m 0644 man/wireban.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5/wireban.conf.5
	$(INSTALL) -m 0644 contrib/logrotate.d/wireban \
	    $(DESTDIR)$(LOGROTATEDIR)/wireban
	$(INSTALL) -m 0644 contrib/modules-load.d/wireban.conf \
	    $(DESTDIR)$(MODULESLOADDIR)/wireban.conf
	$(INSTALL) -m 0644 wireban.conf.example \
	    $(DESTDIR)$(DOCDIR)/wireban.conf.example
	$(INSTALL) -m 0644 contrib/xtables-lock.conf \
	    $(DESTDIR)$(DOCDIR)/xtables-lock.conf
	@if [ -e $(CONF) ]; then \
	    echo "kept $(CONF) (the example is in $(DOCDIR))"; \
	else \
	    $(INSTALL) -m 0644 wireban.conf.example $(CONF) && \
	    echo "installed $(CONF) (every key commented out: the defaults)"; \
	fi
	@if [ -z "$(DESTDIR)" ]; then echo "then: systemctl daemon-reload;" \
	    "systemctl enable --now wireban"; fi

# The config goes only when it is still the example (compared with the
# copy install left in DOCDIR, or this tree's when that is gone).
uninstall:
	@ex=$(DESTDIR)$(DOCDIR)/wireban.conf.example; \
	[ -f "$$ex" ] || ex=wireban.conf.example; \
	if [ -e $(CONF) ] && cmp -s $(CONF) "$$ex"; then \
	    rm -f $(CONF) && echo "removed $(CONF) (unchanged)"; \
	elif [ -e $(CONF) ]; then \
	    echo "kept $(CONF): it differs from the example"; \
	fi
	rm -f $(DESTDIR)$(SBINDIR)/wireban \
	    $(DESTDIR)$(UNITDIR)/wireban.service \
	    $(DESTDIR)$(MANDIR)/man8/wireban.8 \
	    $(DESTDIR)$(MANDIR)/man5/wireban.conf.5 \
	    $(DESTDIR)$(LOGROTATEDIR)/wireban \
	    $(DESTDIR)$(MODULESLOADDIR)/wireban.conf \
	    $(DESTDIR)$(DOCDIR)/wireban.conf.example \
	    $(DESTDIR)$(DOCDIR)/xtables-lock.conf
	@rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/wireban 2>/dev/null \
	    || true

.PHONY: check asan-tree install uninstall

.PHONY: all setup checks test asan fuzz fuzz-config fuzz-state fuzz-pcap \
	fuzz-control run \
	bench clean \
	clean-objs
