# streamhost build.  `make`, `make test`, `make run`, `make install PREFIX=...`
# SANITIZE=1 builds everything with ASan+UBSan into build/asan.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
CC        ?= cc
PKG       ?= pkg-config

ifeq ($(SANITIZE),1)
BUILD     ?= build/asan
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD     ?= build
SANFLAGS  :=
endif

HOST_PKGS := rdkafka avro-c libcurl jansson zlib libmicrohttpd libcrypto
PLUG_PKGS := libcurl jansson zlib libcrypto
OPT       ?= -O2 -g
V         ?= 0
Q         := $(if $(filter 1,$(V)),,@)   # `make V=1` shows full command lines
WARN      := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
CFLAGS    += -std=gnu11 $(OPT) $(WARN) -fPIC $(SANFLAGS) -Iinclude -DSH_VERSION=\"$(VERSION)\"
LDFLAGS   += $(SANFLAGS)

# --- build dependencies ---------------------------------------------------------
# Every goal that builds or runs something first checks that what it needs is
# installed (scripts/ensure-deps.sh: pkg-config for the libraries, command -v
# for the tools).  When something is missing, it says what and runs
# scripts/install-deps.sh itself (through sudo when not root), before any
# pkg-config flags below are computed: `make run` and `make test` work as the
# first command on a fresh Debian 12.  It prints nothing when all is there.
# STREAMHOST_NO_INSTALL=1 only reports; `make -n` and these goals never install:
NODEPS_GOALS  := clean help deps check-deps stack-down
DEPS_GOALS    := $(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all))
DEPS_PROFILES := build \
  $(if $(filter test unit-test valgrind,$(DEPS_GOALS)),unit) \
  $(if $(filter test integration-test bench bench-flink demo stack-up,$(DEPS_GOALS)),integration) \
  $(if $(filter valgrind,$(DEPS_GOALS)),valgrind) \
  $(if $(filter fuzz build/fuzz/%,$(DEPS_GOALS)),fuzz)
ENSURE_DEPS = CC='$(CC)' PKG_CONFIG='$(PKG)' PKG_MODULES='$(sort $(HOST_PKGS) $(PLUG_PKGS))' scripts/ensure-deps.sh
ifneq ($(DEPS_GOALS),)
ifeq ($(findstring n,$(firstword -$(MAKEFLAGS))),)
$(shell $(ENSURE_DEPS) $(DEPS_PROFILES) >&2)
ifneq ($(.SHELLSTATUS),0)
$(error missing build dependencies, see above)
endif
endif
endif

# librdkafka: RDKAFKA=wheel (the default) links the librdkafka 2.16 that the
# confluent-kafka wheel on PyPI ships (scripts/librdkafka.sh fetches it into
# .cache/ once; the host finds it by rpath, `make install` puts it into
# $(PREFIX)/lib/streamhost/).  Why by default: SCRAM against Kafka >= 3.9
# needs librdkafka >= 2.6.1, and fetch.queue.backoff.ms (>= 2.3) keeps the
# consumer's speed at a tenth of 2.0's memory (bench/RESULTS.md).
# RDKAFKA=system links Debian's 2.0.2 (offline builds; no SCRAM with a
# current Kafka).  Both compile against Debian's headers (the C ABI is
# stable).  docs/security.md.
RDKAFKA   ?= wheel
RDKAFKA_SO :=

ifneq ($(DEPS_GOALS),) # (clean, help...: no flags, so no pkg-config noise on a fresh machine)
HOST_CFLAGS := $(shell $(PKG) --cflags $(HOST_PKGS))
ifeq ($(RDKAFKA),wheel)
RDKAFKA_SO  := $(shell scripts/librdkafka.sh path)
ifeq ($(RDKAFKA_SO),)
$(error RDKAFKA=wheel: no librdkafka from the confluent-kafka wheel (see above); RDKAFKA=system links Debian's)
endif
# $(call host_libs,DIR): the host's libraries with the wheel's librdkafka in DIR
# (the cache for the build, $(PREFIX)/lib/streamhost for the installed kit)
host_libs    = $(shell $(PKG) --libs $(filter-out rdkafka,$(HOST_PKGS))) $(1)/$(notdir $(RDKAFKA_SO)) \
  -Wl,-rpath,'$$ORIGIN/../lib/streamhost' -Wl,-rpath,$(1) -ldl -lpthread -lm
HOST_LIBS   := $(call host_libs,$(patsubst %/,%,$(dir $(RDKAFKA_SO))))
KIT_INSTALLED_LIBS = $(call host_libs,$(PREFIX)/lib/streamhost)
else ifeq ($(RDKAFKA),system)
HOST_LIBS   := $(shell $(PKG) --libs $(HOST_PKGS)) -ldl -lpthread -lm
KIT_INSTALLED_LIBS = $(HOST_LIBS)
else
$(error RDKAFKA=$(RDKAFKA): use wheel (librdkafka 2.16 from PyPI) or system (Debian's))
endif
PLUG_CFLAGS := $(shell $(PKG) --cflags $(PLUG_PKGS))
PLUG_LIBS   := $(shell $(PKG) --libs $(PLUG_PKGS)) -lm
endif
CMOCKA       = $(shell $(PKG) --cflags --libs cmocka)   # `=`: only test links ask for it

HOST_SRCS := $(wildcard host/*.c)
HOST_OBJS := $(HOST_SRCS:%.c=$(BUILD)/obj/%.o)
HOST_LIB_OBJS := $(filter-out $(BUILD)/obj/host/main.o,$(HOST_OBJS))

# Every folder under plugins/ is one plugin: plugins/<name>/*.c -> $(BUILD)/plugins/<name>.so
PLUGIN_DIRS := $(patsubst plugins/%/,%,$(sort $(dir $(wildcard plugins/*/*.c))))
PLUGIN_SOS  := $(PLUGIN_DIRS:%=$(BUILD)/plugins/%.so)

# Unit tests: tests/unit/test_*.c link the host objects; plugins/<p>/tests/test_*.c
# link that plugin's sources and the test host in tests/support/.
HOST_TESTS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
PLUGIN_TESTS := $(foreach p,$(PLUGIN_DIRS),$(patsubst plugins/$(p)/tests/%.c,$(BUILD)/tests/$(p)-%,$(wildcard plugins/$(p)/tests/test_*.c)))

.SECONDARY:
.PHONY: all clean test unit-test integration-test valgrind deps check-deps help fuzz install run demo bench fuzz stack-up stack-down check-fresh
all: $(BUILD)/streamhost $(PLUGIN_SOS)

$(BUILD)/obj/%.o: %.c $(wildcard include/streamhost/*.h) $(wildcard host/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -c -o $@ $<

# Whatever links librdkafka is linked again when RDKAFKA changes.
RDK_STAMP := $(BUILD)/obj/rdkafka.$(RDKAFKA)
$(RDK_STAMP):
	@mkdir -p $(dir $@) && rm -f $(BUILD)/obj/rdkafka.* && touch $@

$(BUILD)/streamhost: $(HOST_OBJS) $(RDK_STAMP)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $(HOST_OBJS) $(HOST_LIBS)

# The test kit (include/streamhost/testkit.h): the host's own objects plus the
# harness in kit/, as one static library.  Every plugin's unit tests link it
# (so they run the plugin in the real host's services), and `make install`
# installs it with a pkg-config file for authors of plugins out of tree.
KIT_LIB := $(BUILD)/libstreamhost-kit.a
$(KIT_LIB): $(HOST_LIB_OBJS) $(BUILD)/obj/kit/testkit.o
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

define PLUGIN_RULE
$(BUILD)/plugins/$(1).so: $(wildcard plugins/$(1)/*.c) $(wildcard plugins/$(1)/*.h) $(wildcard include/streamhost/*.h)
	@mkdir -p $$(dir $$@)
	@echo "  PLUGIN  $$@"
	$$(Q)$$(CC) $$(CFLAGS) $$(PLUG_CFLAGS) -fvisibility=hidden -shared -o $$@ $(wildcard plugins/$(1)/*.c) $$(LDFLAGS) $$(PLUG_LIBS)

$(BUILD)/tests/$(1)-%: plugins/$(1)/tests/%.c $(wildcard plugins/$(1)/*.c) $(wildcard plugins/$(1)/*.h) $(wildcard include/streamhost/*.h) $(KIT_LIB) tests/support/testhost.h
	@mkdir -p $$(dir $$@)
	@echo "  TEST    $$@"
	$$(Q)$$(CC) $$(CFLAGS) $$(PLUG_CFLAGS) -Iplugins/$(1) -Itests/support -Ihost -DSH_UNIT_TEST -o $$@ $$< $(wildcard plugins/$(1)/*.c) $(KIT_LIB) $$(LDFLAGS) $$(PLUG_LIBS) $$(HOST_LIBS) $$(CMOCKA)
endef
$(foreach p,$(PLUGIN_DIRS),$(eval $(call PLUGIN_RULE,$(p))))

# sink-dashboard: links libmicrohttpd, and embeds its web page (web/: the page,
# its script, the vendored chart library) into the .so as a generated header.
DASH_WEB    := $(shell find plugins/sink-dashboard/web -type f 2>/dev/null)
DASH_ASSETS := $(BUILD)/gen/sink-dashboard/web_assets.h
DASH_TARGETS := $(BUILD)/plugins/sink-dashboard.so $(filter $(BUILD)/tests/sink-dashboard-%,$(PLUGIN_TESTS))
$(DASH_TARGETS): $(DASH_ASSETS)
$(DASH_TARGETS): CFLAGS += -I$(dir $(DASH_ASSETS))
$(DASH_TARGETS): PLUG_LIBS += $(if $(DEPS_GOALS),$(shell $(PKG) --libs libmicrohttpd))
$(DASH_ASSETS): plugins/sink-dashboard/embed_web.sh $(DASH_WEB)
	@mkdir -p $(dir $@)
	@echo "  EMBED   $@"
	$(Q)plugins/sink-dashboard/embed_web.sh $@ plugins/sink-dashboard/web

# Small plugins the host's tests load (good, broken, wrong ABI).
TEST_PLUGINS := $(patsubst tests/unit/plugins/%.c,$(BUILD)/tests/plugins/%.so,$(wildcard tests/unit/plugins/*.c))
# Built against the frozen ABI 1.0 header (tests/abi/README.md), which comes first on the path.
TEST_PLUGINS += $(BUILD)/tests/plugins/transform-abi1.so
$(BUILD)/tests/plugins/transform-abi1.so: tests/abi/transform-abi1.c tests/abi/1.0/streamhost/plugin.h
	@mkdir -p $(dir $@)
	@echo "  PLUGIN  $@ (ABI 1.0 header)"
	$(Q)$(CC) -Itests/abi/1.0 $(CFLAGS) -shared -o $@ $< $(LDFLAGS)
$(BUILD)/tests/plugins/%.so: tests/unit/plugins/%.c include/streamhost/plugin.h
	@mkdir -p $(dir $@)
	@echo "  PLUGIN  $@"
	$(Q)$(CC) $(CFLAGS) -shared -o $@ $< $(LDFLAGS)

$(BUILD)/tests/%: tests/unit/%.c $(HOST_LIB_OBJS) $(TEST_PLUGINS) tests/support/testhost.h $(RDK_STAMP)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -Ihost -Itests/support -DTEST_PLUGIN_DIR=\"$(BUILD)/tests/plugins\" -DTEST_BIN_DIR=\"$(BUILD)\" -o $@ $< $(HOST_LIB_OBJS) $(LDFLAGS) -rdynamic $(HOST_LIBS) $(CMOCKA)

# --- tests -------------------------------------------------------------------
unit-test: all $(HOST_TESTS) $(PLUGIN_TESTS)
	@BUILD=$(BUILD) tests/run-unit.sh $(HOST_TESTS) $(PLUGIN_TESTS)

# Small librdkafka tools the integration tests use (exact bytes in, headers out).
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(wildcard tests/tools/*.c))
$(BUILD)/tests/tools/%: tests/tools/%.c $(RDK_STAMP)
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -o $@ $< $(LDFLAGS) $(HOST_LIBS)
# msk_token prints the host's own MSK IAM token (host/msk_iam.c): it links the host's objects.
$(BUILD)/tests/tools/msk_token: tests/tools/msk_token.c $(HOST_LIB_OBJS) $(RDK_STAMP)
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -Ihost -o $@ $< $(HOST_LIB_OBJS) $(LDFLAGS) -rdynamic $(HOST_LIBS)

integration-test: all $(TEST_TOOLS)
	@BUILD=$(BUILD) tests/run-integration.sh

test: unit-test integration-test

# Unit tests under valgrind: no leaks, no invalid accesses (CI runs this).
valgrind: all $(HOST_TESTS) $(PLUGIN_TESTS)
	@VALGRIND=1 BUILD=$(BUILD) tests/run-unit.sh $(HOST_TESTS) $(PLUGIN_TESTS)

deps:
	scripts/install-deps.sh

# What is installed and what is missing, for every goal; installs nothing.
check-deps:
	@STREAMHOST_DEPS_VERBOSE=1 STREAMHOST_NO_INSTALL=1 $(ENSURE_DEPS) build unit integration valgrind fuzz

# --- install -----------------------------------------------------------------
# The installed kit links the librdkafka installed beside the plugins (KIT_INSTALLED_LIBS), not the cache's.
install: all $(KIT_LIB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/streamhost/plugins \
	  $(DESTDIR)$(PREFIX)/include/streamhost $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/streamhost
	install -m 755 $(BUILD)/streamhost $(DESTDIR)$(PREFIX)/bin/streamhost
	install -m 755 $(PLUGIN_SOS) $(DESTDIR)$(PREFIX)/lib/streamhost/plugins/
	$(if $(RDKAFKA_SO),install -m 644 $(RDKAFKA_SO) $(DESTDIR)$(PREFIX)/lib/streamhost/)
	install -m 644 include/streamhost/*.h $(DESTDIR)$(PREFIX)/include/streamhost/
	install -m 644 conf/*.ini conf/*.avsc $(DESTDIR)$(PREFIX)/share/streamhost/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' streamhost.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/streamhost.pc
	install -m 644 $(KIT_LIB) $(DESTDIR)$(PREFIX)/lib/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@KIT_LIBS@|$(subst ',,$(KIT_INSTALLED_LIBS))|g' \
	  streamhost-kit.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/streamhost-kit.pc

# --- running -----------------------------------------------------------------
# `make run SIMULATED=1`: the generator on the simulated clock, documents at once.
RUN_CONFIG ?= conf/quickstart$(if $(filter 1,$(SIMULATED)),-simulated).ini
run: all
	@mkdir -p out
	$(BUILD)/streamhost run $(RUN_CONFIG)

help:
	@echo "make [all]           build the host and every plugin into $(BUILD)/"
	@echo "make run             the quickstart: the whole clickstream application, live (SIMULATED=1: simulated clock)"
	@echo "make test            unit tests, then integration tests against real Kafka and OpenSearch (SANITIZE=1: ASan+UBSan)"
	@echo "make unit-test | integration-test [INTEGRATION=pattern] | valgrind | fuzz | bench | demo"
	@echo "make install PREFIX=/usr/local | stack-up | stack-down | clean"
	@echo "make check-deps      what is installed and what is missing (installs nothing)"
	@echo "make deps            install every dependency (scripts/install-deps.sh)"
	@echo "Goals that build or run install missing dependencies first; STREAMHOST_NO_INSTALL=1 only reports."

# Benchmarks against the real local Kafka (started if needed); appends to bench/RESULTS.md.
bench: all
	BUILD=$(BUILD) bench/run.sh

# Only the comparison with the reference job on Flink (bench/flink; built with mvn on demand).
.PHONY: bench-flink
bench-flink: all
	BUILD=$(BUILD) BENCH_ONLY=flink bench/run.sh

# The reference deployment locally: Kafka + OpenSearch, generator and analytics
# as two processes, document counts per index refreshing until Ctrl-C.
demo: all
	BUILD=$(BUILD) scripts/demo.sh

stack-up:
	scripts/kafka.sh start
	scripts/opensearch.sh start
	scripts/registry.sh start

stack-down:
	-scripts/registry.sh stop
	-scripts/opensearch.sh stop
	-scripts/kafka.sh stop

clean:
	rm -rf build

# --- fuzzing (libFuzzer, clang) ----------------------------------------------
# `make fuzz` replays every saved crash input (tests/fuzz/regressions/), then
# fuzzes each target for FUZZ_TIME seconds from the seed corpus in tests/fuzz/corpus/.
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
# -fno-sanitize-recover: undefined behaviour stops the fuzzer (a finding), not one log line
FUZZ_FLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -Ihost -DSH_VERSION=\"$(VERSION)\"
FUZZERS    := build/fuzz/fuzz_avro build/fuzz/fuzz_config build/fuzz/fuzz_jsonl build/fuzz/fuzz_bulk_response
JSONL_SRCS := plugins/source-file/json_record.c plugins/source-file/json_scan.c plugins/source-file/avsc_schema.c plugins/source-file/str_arena.c
BULK_SRCS  := plugins/sink-opensearch/bulk_response.c plugins/sink-opensearch/retry_backoff.c

# libFuzzer's runtime is its own Debian package (libclang-rt-14-dev, in
# scripts/install-deps.sh); without it clang fails to link with an error that
# does not say so.  Checked once by linking an empty fuzzer.
build/fuzz/.runtime-ok:
	@mkdir -p $(dir $@)
	@printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
	  | $(FUZZ_CC) -fsanitize=fuzzer,address,undefined -x c - -o $(dir $@)runtime-check 2>/dev/null \
	  || { echo "make fuzz: $(FUZZ_CC) cannot link libFuzzer: install libclang-rt-14-dev (scripts/install-deps.sh)" >&2; exit 1; }
	@rm -f $(dir $@)runtime-check && touch $@

build/fuzz/fuzz_avro: tests/fuzz/fuzz_avro.c host/avro_codec.c host/*.h | build/fuzz/.runtime-ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(HOST_CFLAGS) -o $@ tests/fuzz/fuzz_avro.c host/avro_codec.c $(HOST_LIBS)
build/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(filter-out host/main.c,$(HOST_SRCS)) host/*.h | build/fuzz/.runtime-ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(HOST_CFLAGS) -o $@ tests/fuzz/fuzz_config.c $(filter-out host/main.c,$(HOST_SRCS)) $(HOST_LIBS)
build/fuzz/fuzz_jsonl: tests/fuzz/fuzz_jsonl.c $(JSONL_SRCS) | build/fuzz/.runtime-ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iplugins/source-file -o $@ tests/fuzz/fuzz_jsonl.c $(JSONL_SRCS) -ljansson
build/fuzz/fuzz_bulk_response: tests/fuzz/fuzz_bulk_response.c $(BULK_SRCS) plugins/sink-opensearch/opensearch_sink.h | build/fuzz/.runtime-ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(PLUG_CFLAGS) -Iplugins/sink-opensearch -o $@ tests/fuzz/fuzz_bulk_response.c $(BULK_SRCS) $(PLUG_LIBS)

# Every target in FUZZERS, each for FUZZ_TIME seconds (CI: FUZZ_TIME=30).
fuzz: $(FUZZERS)
	tests/run-fuzz.sh $(FUZZ_TIME) $(FUZZERS)
