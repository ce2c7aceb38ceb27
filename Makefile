# wireban - see README.md. `make` builds ./wireban, `make test` runs every
# test, `make asan` the same suite under ASan+UBSan, `make fuzz` a
# libFuzzer run over the SMTP parser (`make fuzz-config`: over the config
# reader), `make bench` the benchmarks.

CC	?= cc
WARN	 = -std=c11 -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual \
	   -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	   -Werror=implicit-function-declaration
CFLAGS	?= -O2 -g
# CFLAGS may be set on the command line (make asan does); the flags the
# code needs are kept apart so they always apply.
XCFLAGS	 = $(CFLAGS) $(WARN) -D_GNU_SOURCE -Iinclude
ifneq ($(WERROR),0)
XCFLAGS	+= -Werror
endif
LDFLAGS	?=

PCRE_LIBS  = -lpcre2-8
NIDS_LIBS  = -lnids -lpcap
IPTC_LIBS  = -lip4tc -lip6tc
# The firewall backends of bans/: nftables, ipset, iptables.
FW_LIBS    = -lnftables -lipset $(IPTC_LIBS)
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
tests/check_sniffer: tests/check_sniffer.c $(SNIFF_OBJ)
	$(CC) $(XCFLAGS) -o $@ $^ $(NIDS_LIBS) $(CHECK_LIBS)
# The suites of bans/ share a fixture (tests/bans_fixture.c).
BANS_CHECKS = tests/check_policy tests/check_state tests/check_backends \
	      tests/check_enforcer tests/check_fwsets
$(BANS_CHECKS): tests/%: tests/%.c tests/bans_fixture.c tests/bans_fixture.h $(BANS_OBJ)
	$(CC) $(XCFLAGS) -Itests -o $@ $(filter %.c %.o,$^) $(FW_LIBS) $(CHECK_LIBS)
tests/check_config: tests/check_config.c src/config.h src/config.o
	$(CC) $(XCFLAGS) -o $@ $(filter %.c %.o,$^) -lm $(CHECK_LIBS)

checks: $(CHECKS)

# The README's commands do their own set-up: setup.sh installs what is
# missing (Debian 12, as root) and is a no-op when all is there.
setup:
	@./setup.sh

# The README's test command. Prints one "N passed, N failed" line last.
test: setup
	@$(MAKE) -s wireban checks
	@tests/run-tests.sh

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer,
# built in a separate tree so the normal objects are left alone.
asan:
	rm -rf build-asan && mkdir -p build-asan
	git ls-files -co --exclude-standard | grep -v '^build-' | \
	    cpio -pdm build-asan 2>/dev/null
	$(MAKE) -C build-asan clean-objs
	$(MAKE) -C build-asan test CC=clang \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined"

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
	    tests/fuzz/fuzz_state

.PHONY: all setup checks test asan fuzz fuzz-config fuzz-state run bench clean \
	clean-objs
