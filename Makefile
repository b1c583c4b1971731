# watchd — single non-recursive Makefile.
#   make            build ./watchd
#   make run        install what is missing, build, watch this repository in the foreground
#   make test       install what is missing, check the layering, build with ASan+UBSan, run unit
#                   and integration tests
#   make check-layering   the #include rules between lib/ gates/ config/ and daemon/'s stages
#   make install    binary, man page, completions, systemd user unit (PREFIX, DESTDIR); make uninstall
#   make fuzz       each libFuzzer harness for FUZZ_SECONDS (60) under ASan+UBSan (make test: 3 s each)
#   make soak       30 min of random churn: RSS growth, fd count, lost paths (SOAK_MINUTES)
#   make bench      benchmarks: watching against inotifywait and Watchman, and the ledger (scripts/bench/)
# Switches: SANITIZE=address,undefined  V=1  CFLAGS=...

PKGS      := libuv libcjson libgit2 libssh2 sqlite3 expat yaml-0.1 libcrypto
# headers only: libcurl is loaded when a remote cache is first used
# (lib/curlapi.c), so that its twenty libraries never slow a command down
HDR_PKGS  := libcurl
PYTHON    := /usr/bin/python3
CC        ?= cc
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror -Wvla -Wshadow -Wpointer-arith -Wmissing-prototypes \
             -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(HDR_PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -iquote . $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDLIBS     = $(PKG_LIBS) -lm -ldl

BUILD ?= build
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC  := $(wildcard lib/*.c) $(wildcard gates/*.c) $(wildcard config/*.c) \
            $(filter-out daemon/cli/main.c,$(wildcard daemon/*.c daemon/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/daemon/cli/main.o
UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/unit/runner.o

.PHONY: all run test unit integration bench deps clean install uninstall check-layering tools fuzz fuzzers soak FORCE
all: watchd

watchd: $(BUILD)/watchd
ifeq ($(BUILD),build)
	@# rename over, so a running ./watchd (make run) never blocks a rebuild
	$(Q)cp $(BUILD)/watchd watchd.tmp && mv -f watchd.tmp watchd
endif

$(BUILD)/watchd: $(MAIN_OBJ) $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# `watchd service` writes the shipped unit: it is compiled in from
# contrib/, so the two cannot drift apart.
$(BUILD)/gen/unit.h: contrib/systemd/watchd@.service
	@mkdir -p $(dir $@)
	$(Q){ echo '#define UNIT_TEMPLATE \\'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n" \\/' $<; \
	  echo '	""'; } > $@

$(BUILD)/daemon/cli/cmd-service.o: $(BUILD)/gen/unit.h
$(BUILD)/daemon/cli/cmd-service.o: ALL_CFLAGS += -I$(BUILD)/gen

# The unit test list is generated from the TEST_IMPL() lines, so adding a
# test never means editing a shared list. It is regenerated on every build
# (a deleted test file must leave it too) and replaced only when it changed.
$(BUILD)/tests/unit/test-list.h: FORCE
	@mkdir -p $(dir $@)
	$(Q)grep -ho '^TEST_IMPL([a-z0-9_]*)' $(UNIT_SRC) | sed 's/TEST_IMPL/TEST/' > $@.tmp && \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

FORCE:

$(BUILD)/tests/unit/runner.o: tests/unit/runner.c $(BUILD)/tests/unit/test-list.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/tests/unit -c -o $@ $<

$(BUILD)/unit-tests: $(UNIT_OBJ) $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@scripts/install-deps.sh

# This repository's own gates include ruff; where no ruff is installed the
# test stand-in (tests/tools/ruff, appended to PATH so a real one wins) serves.
run: deps tools
	@$(MAKE) --no-print-directory watchd
	PATH="$$PATH:$(CURDIR)/tests/tools" ./watchd --root . start --foreground

tools: deps
	@scripts/install-test-tools.sh

# Tests run against the sanitized build so every integration test is also an
# ASan/UBSan run of the real daemon. The layering check runs first; the tests
# run even when it fails (one run shows both), and then make test fails too.
TEST_BUILD := build/asan
FUZZ_SMOKE_SECONDS ?= 3
test: deps tools
	@scripts/check-layering.sh; layering=$$?; \
	$(MAKE) --no-print-directory BUILD=$(TEST_BUILD) SANITIZE=address,undefined \
		$(TEST_BUILD)/watchd $(TEST_BUILD)/unit-tests && \
	$(MAKE) --no-print-directory watchd && \
	scripts/run-tests.sh $(TEST_BUILD); tests=$$?; \
	$(MAKE) --no-print-directory fuzzers && scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS) || tests=1; \
	if [ $$layering -ne 0 ]; then \
		echo "make test: the layering check failed (its report is at the top)" >&2; \
	fi; \
	[ $$layering -eq 0 ] && [ $$tests -eq 0 ]

check-layering:
	@scripts/check-layering.sh

unit: deps
	@$(MAKE) --no-print-directory BUILD=$(TEST_BUILD) SANITIZE=address,undefined $(TEST_BUILD)/unit-tests
	$(TEST_BUILD)/unit-tests

integration: deps tools
	@$(MAKE) --no-print-directory BUILD=$(TEST_BUILD) SANITIZE=address,undefined $(TEST_BUILD)/watchd
	WATCHD=$(TEST_BUILD)/watchd $(PYTHON) -m pytest -q --durations=25 tests/integration $(PYTEST_ARGS)

bench: deps
	@$(MAKE) --no-print-directory watchd
	@scripts/bench/run.sh

# make install [PREFIX=/usr/local] [DESTDIR=staging]: the binary, the man
# page, bash and zsh completions and the systemd user unit (pointing at the
# installed binary). make uninstall removes exactly those files.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
USERUNITDIR ?= $(PREFIX)/lib/systemd/user
INSTALLED   := $(BINDIR)/watchd $(MANDIR)/man1/watchd.1 $(BASHCOMPDIR)/watchd \
               $(ZSHCOMPDIR)/_watchd $(USERUNITDIR)/watchd@.service
install: watchd
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(USERUNITDIR)
	install -m 755 watchd $(DESTDIR)$(BINDIR)/watchd
	install -m 644 docs/watchd.1 $(DESTDIR)$(MANDIR)/man1/watchd.1
	install -m 644 contrib/completions/watchd.bash $(DESTDIR)$(BASHCOMPDIR)/watchd
	install -m 644 contrib/completions/_watchd $(DESTDIR)$(ZSHCOMPDIR)/_watchd
	sed 's|@bindir@|$(BINDIR)|g' contrib/systemd/watchd@.service > $(DESTDIR)$(USERUNITDIR)/watchd@.service
	chmod 644 $(DESTDIR)$(USERUNITDIR)/watchd@.service

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# libFuzzer harnesses (tests/fuzz/fuzz-*.c), one per parser of untrusted
# input, built with clang under ASan+UBSan from the pure layers they test.
# make fuzz runs each for FUZZ_SECONDS (default 60); make test runs each for
# a few seconds so that they keep building and passing.
FUZZ_BUILD   := build/fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE $(WARN) -Wno-unknown-warning-option -iquote . \
                $(PKG_CFLAGS) -O1 -g -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB_SRC := $(wildcard lib/*.c gates/*.c config/*.c) daemon/ipc/request.c daemon/remote/record.c \
                daemon/remote/acproto.c
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZERS      := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz-*.c))

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)

.SECONDARY: $(FUZZ_LIB_OBJ)
fuzzers: $(FUZZERS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzzers
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# make soak: 30 minutes (SOAK_MINUTES) of random churn against the daemon;
# RSS growth, fd count and lost paths (scripts/soak/soak.py). Not in CI.
soak: deps
	@$(MAKE) --no-print-directory watchd
	@$(PYTHON) scripts/soak/soak.py

# No format/check-format targets: clang-format 14 cannot express the house
# style (struct members and trailing comments aligned on tab stops, locals not
# aligned, hand-chosen line breaks); its nearest style rewrites ~1,300 lines.

clean:
	rm -rf build watchd

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
