# boundary — the only build entry.  See README.md ("Building and testing").
SHELL := /bin/bash
#
#   make                 bin/boundary-compile (objects in build/)
#   make check           unit tests, golden diffs, no-alloc check, corpus replay
#   make check SAN=1     the same under ASan+UBSan, in build/san/
#   make fuzz            libFuzzer builds of fuzz/fuzz_*.c, each run briefly
#   make bench           benchmarks (-O2, no sanitizers)
#   make deps            installs the Debian packages the project needs
#   make install PREFIX=/usr/local
#
# V=1 shows the commands.

SAN ?=
V ?=
PREFIX ?= /usr/local

ifeq ($(SAN),)
BUILD := build
SANFLAGS :=
else ifeq ($(SAN),1)
BUILD := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
$(error SAN must be empty or 1, not '$(SAN)')
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

CC ?= cc
RE2C ?= re2c
PKG_CONFIG ?= pkg-config

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wcast-qual -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
PKGS := yaml-0.1 wolfssl libcares libnftables libmnl libseccomp
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(SANFLAGS) -MMD -MP \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libev ships no .pc file on Debian: plain -lev (STYLE rule 37)
LDLIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lyaml -lwolfssl -lcares -lnftables -lmnl -lseccomp) -lev -lpthread
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

# Sources are discovered: add a .c to a folder and it is built.
LIB_SRC := $(filter-out %/main.c,$(wildcard compiler/*.c runtime/*.c audit/*.c jail/*.c))
RE_SRC := $(wildcard grammar/*.re)
GEN_SRC := $(patsubst grammar/%.re,$(BUILD)/gen/%.c,$(RE_SRC))
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) \
	$(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(GEN_SRC))
LIB := $(BUILD)/libboundary.a

BINS := $(BUILD)/bin/boundary-compile
ifneq ($(wildcard runtime/main.c),)
BINS += $(BUILD)/bin/boundary
endif

UNIT_SRC := $(wildcard tests/unit/*/*.c)
UNIT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(UNIT_SRC) tests/unit/main.c tests/tap.c tests/ref/ref_decide.c)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(FUZZ_SRC))
REPLAY_BINS := $(patsubst %,$(BUILD)/replay/fuzz_%,$(FUZZ_NAMES))
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,build/bench/%,$(BENCH_SRC))

.PHONY: all check unit golden nmcheck replay deps fuzz fuzz-run bench \
	bench-callgrind install clean fmt fmt-check golden-update re2c-version

all: $(BINS)
ifeq ($(SAN),)
	$(Q)mkdir -p bin && cp -f $(BINS) bin/
endif

re2c-version:
	@v=$$($(RE2C) --version 2>/dev/null | awk '{print $$2}'); \
	case "$$v" in 3.*|[4-9].*) ;; \
	*) echo "error: re2c >= 3.0 is needed (found: '$$v'); run 'make deps'" >&2; exit 1;; esac

$(BUILD)/gen/%.c: grammar/%.re | re2c-version
	@mkdir -p $(@D)
	@echo "  RE2C  $<"
	$(Q)$(RE2C) -W -Werror --no-generation-date --no-version -o $@ $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(ALL_CFLAGS) -iquote grammar -iquote runtime -iquote compiler -c -o $@ $<

# Every object may include generated code (build/gen is on the path).
$(BUILD)/obj/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/gen -I. -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/boundary-compile: $(BUILD)/obj/compiler/main.o $(LIB)
	@mkdir -p $(@D)
	@echo "  LD    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/boundary: $(BUILD)/obj/runtime/main.o $(LIB)
	@mkdir -p $(@D)
	@echo "  LD    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- tests ------------------------------------------------------------------

# The list of unit test functions, one per tests/unit/<dir>/<file>.c:
# test_<dir>__<file>_c (STYLE rule 31).
$(BUILD)/gen/unit_list.h: $(UNIT_SRC) Makefile
	@mkdir -p $(@D)
	$(Q)for f in $(sort $(UNIT_SRC)); do \
		n=$${f#tests/unit/}; n=$${n%.c}; d=$${n%%/*}; b=$${n#*/}; \
		echo "UNIT(test_$${d}__$${b}_c)"; \
	done > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/tests/unit/main.o: $(BUILD)/gen/unit_list.h

$(BUILD)/tests/unit: $(UNIT_OBJ) $(LIB)
	@mkdir -p $(@D)
	@echo "  LD    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/obj/fuzz/%.o: fuzz/%.c | $(GEN_SRC)
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/gen -I. -c -o $@ $<

$(BUILD)/replay/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/obj/fuzz/replay.o $(BUILD)/obj/tests/ref/ref_decide.o $(LIB)
	@mkdir -p $(@D)
	@echo "  LD    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# The counting-allocator proof of rule 16, never under a sanitizer.
NOALLOC_SRC := tests/noalloc.c runtime/bt.c runtime/url.c runtime/reason.c
$(BUILD)/tests/noalloc: $(NOALLOC_SRC) $(GEN_SRC)
	@mkdir -p $(@D)
	@echo "  CC    $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) -I. -I$(BUILD)/gen -iquote runtime -iquote compiler -iquote grammar -o $@ \
		$(NOALLOC_SRC) $(filter %/host.c %/path.c %/url.c,$(GEN_SRC))

check: deps
	$(Q)$(MAKE) --no-print-directory checkbuild
	$(Q)BUILD=$(BUILD) SAN=$(SAN) sh tests/run.sh

.PHONY: checkbuild
checkbuild: $(BINS) $(BUILD)/tests/unit $(BUILD)/tests/noalloc $(REPLAY_BINS)

golden-update: $(BINS)
	$(Q)BUILD=$(BUILD) UPDATE=1 sh tests/golden/run.sh

# ---- dependencies -----------------------------------------------------------

DEB_PACKAGES := build-essential pkg-config re2c libyaml-dev libev-dev \
	libwolfssl-dev libc-ares-dev libmnl-dev libnftables-dev libseccomp-dev \
	clang libclang-rt-14-dev curl git python3 valgrind openssl nodejs \
	iproute2 nftables iptables util-linux passwd procps

deps:
	$(Q)missing=$$(dpkg-query -W -f='$${Package} $${Status}\n' $(DEB_PACKAGES) 2>/dev/null | \
		awk '$$NF != "installed" {print $$1}'; \
		for p in $(DEB_PACKAGES); do dpkg-query -W $$p >/dev/null 2>&1 || echo $$p; done); \
	missing=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
	if [ -n "$$(echo $$missing | tr -d ' ')" ]; then \
		echo "make deps: installing $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to install: $$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

# ---- fuzzing ----------------------------------------------------------------

FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -I. -Ibuild/fuzz/gen -iquote runtime -iquote compiler -iquote grammar \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
SECS ?= 15
FUZZ_LIB_SRC := $(LIB_SRC)

build/fuzz/gen/%.c: grammar/%.re | re2c-version
	@mkdir -p $(@D)
	$(Q)$(RE2C) -W -Werror --no-generation-date --no-version -o $@ $<

build/fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_SRC) $(patsubst grammar/%.re,build/fuzz/gen/%.c,$(RE_SRC)) tests/ref/ref_decide.c
	@mkdir -p $(@D)
	@echo "  FUZZCC $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(patsubst grammar/%.re,build/fuzz/gen/%.c,$(RE_SRC)) tests/ref/ref_decide.c $(LDLIBS)

fuzz: deps $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))
	$(Q)for t in $(FUZZ_NAMES); do \
		$(MAKE) --no-print-directory fuzz-run T=$$t SECS=$(SECS) || exit 1; \
	done

fuzz-run: build/fuzz/fuzz_$(T)
	@test -n "$(T)" || { echo "usage: make fuzz-run T=<target> [SECS=60]" >&2; exit 2; }
	@mkdir -p build/fuzz/corpus/$(T)
	@echo "== fuzz $(T) for $(SECS)s"
	$(Q)set -o pipefail; dict=""; [ -f fuzz/dict/$(T).dict ] && dict="-dict=fuzz/dict/$(T).dict"; \
	build/fuzz/fuzz_$(T) -max_total_time=$(SECS) -print_final_stats=1 $$dict \
		-artifact_prefix=build/fuzz/ build/fuzz/corpus/$(T) fuzz/corpus/$(T) 2>&1 | \
		grep -E '^(stat::number_of_executed_units|stat::peak_rss|==|SUMMARY|INFO: Seed|Done)'

# ---- benchmarks -------------------------------------------------------------

BENCH_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -I. -Ibuild/gen \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)

build/bench/%: tests/bench/%.c build/libboundary.a
	@mkdir -p $(@D)
	@echo "  CC    $@"
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $< build/libboundary.a $(LDLIBS)

bench: bench-deps
	$(Q)$(MAKE) --no-print-directory SAN= all build/libboundary.a $(BENCH_BINS)
	$(Q)for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done
	$(Q)bash tests/bench/proxy/run.sh
	$(Q)bash tests/bench/jail/run.sh

# The decision benchmark alone (no peers needed).
.PHONY: bench-decide bench-proxy bench-jail bench-deps
bench-decide:
	$(Q)$(MAKE) --no-print-directory SAN= all build/libboundary.a $(BENCH_BINS)
	$(Q)for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

bench-proxy: bench-deps
	$(Q)$(MAKE) --no-print-directory SAN= all
	$(Q)bash tests/bench/proxy/run.sh

# The jail's start-up and a client inside it vs --proxy-only.
bench-jail: bench-deps
	$(Q)$(MAKE) --no-print-directory SAN= all
	$(Q)bash tests/bench/jail/run.sh

# Peers for the side-by-side proxy benchmark.
BENCH_PACKAGES := nginx-light squid-openssl tinyproxy wrk time openssl libwolfssl-dev
bench-deps:
	$(Q)$(MAKE) --no-print-directory deps DEB_PACKAGES="$(BENCH_PACKAGES)"

# ---- install, format, clean -------------------------------------------------

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/

FMT_SRC := $(wildcard compiler/*.[ch] runtime/*.[ch] audit/*.[ch] jail/*.[ch] fuzz/*.c tests/*.[ch] tests/*/*.c tests/*/*/*.c)
fmt:
	clang-format -i $(FMT_SRC)
fmt-check:
	clang-format --dry-run -Werror $(FMT_SRC)

clean:
	rm -rf build bin

.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
