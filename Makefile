# vcons top-level Makefile: one non-recursive build for the whole tree.
#
# Every folder that builds something has a `module.mk` that only *declares* what it builds:
#
#   LIBS        += name      static library build/lib/libname.a      from name.srcs
#   HOST_PROGS  += name      dynamic host program build/name          from name.srcs + name.deps (libs)
#   GUEST_PROGS += name      static guest program build/guest/name    from name.srcs + name.deps
#   UNIT_TESTS  += name      cmocka test build/test/name              from name.srcs + name.deps
#   E2E_TESTS   += path.sh   end-to-end test script, run by tools/run-tests.sh
#   BENCHES     += path.sh   benchmark script, run by `make bench`, writes build/bench/*.json
#   FUZZERS     += name      fuzz target from name.srcs + name.deps; its inputs live in the folder
#                            name.corpus (default: the first source without .c). `make fuzz` runs it under
#                            libFuzzer (clang, build/fuzz); `make test` replays its corpus under
#                            ASan+UBSan (build/san/fuzz/name, main() from tools/fuzz_replay.c)
#
#   EXTRA_GUEST_BINS += path  a guest program built by a rule of the module's own (another C library)
#
#   name.deps   internal libraries, most dependent first (static link order)
#   name.ldlibs system libraries (-lsqlite3 ...); name.ldflags extra link flags (-static-pie ...)
#
# This file turns those declarations into rules. `make SAN=1` builds host code with AddressSanitizer
# and UBSan into build/san (guest programs are static, which the sanitizers do not support).
# `make TSAN=1` builds everything with ThreadSanitizer into build/tsan, to find data races in the
# threaded servers, load generators and harness (`make tsan` runs them, tools/run-tsan.sh); TSan cannot
# link -static, so there the guest programs are linked dynamically into build/tsan/guest/ (they run
# as plain processes, never under vcons-hv).
# `make FUZZ=1` builds the fuzz targets with clang and libFuzzer into build/fuzz (`make fuzz` does).

.SUFFIXES:
MAKEFLAGS += --no-builtin-rules --no-builtin-variables
.DEFAULT_GOAL := all

CC      ?= cc
AR      ?= ar
ifeq ($(origin CC),default)
CC := cc
endif
ifeq ($(origin AR),default)
AR := ar
endif

TOP := $(CURDIR)
FUZZ_MAIN := tools/fuzz_replay.c
FUZZ_LDFLAGS :=
FUZZ_CFLAGS :=
ifeq ($(FUZZ),1)
B := build/fuzz
CC := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1
FUZZ_MAIN :=
FUZZ_LDFLAGS := -fsanitize=fuzzer
# modules' gcc-only flags (-Wno-format-truncation) mean nothing to clang
FUZZ_CFLAGS := -Wno-unknown-warning-option
else ifeq ($(TSAN),1)
B := build/tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
OPT := -O1
else ifeq ($(SAN),1)
B := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1
else
B := build
SANFLAGS :=
OPT := -O2
endif

WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wold-style-definition -Wundef -Wno-unused-parameter
CFLAGS   := -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARNINGS) $(SANFLAGS) -I. -MMD -MP $(FUZZ_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  := $(SANFLAGS) $(EXTRA_LDFLAGS)

V ?= 0
ifeq ($(V),0)
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
else
Q :=
say :=
endif

LIBS :=
HOST_PROGS :=
GUEST_PROGS :=
UNIT_TESTS :=
E2E_TESTS :=
BENCHES :=
FUZZERS :=
EXTRA_GUEST_BINS :=
include $(sort $(wildcard */module.mk */*/module.mk))

objs = $(patsubst %.S,$(B)/obj/%.o,$(patsubst %.c,$(B)/obj/%.o,$(1)))
libfiles = $(foreach l,$(1),$(B)/lib/lib$(l).a)

# $(1) = library name
define lib_template
$(B)/lib/lib$(1).a: $(call objs,$($(1).srcs))
	@mkdir -p $$(@D)
	$$(call say,AR,$$@)rm -f $$@ && $(AR) rcs $$@ $$^
ALL_OBJS += $(call objs,$($(1).srcs))
endef

# $(1) = program name, $(2) = output path, $(3) = link mode flags, $(4) = link command prefix
define prog_template
$(2): $(call objs,$($(1).srcs)) $(call libfiles,$($(1).deps))
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)$(4)$(CC) $(LDFLAGS) $(3) $($(1).ldflags) -o $$@ \
		$(call objs,$($(1).srcs)) $(call libfiles,$($(1).deps)) $($(1).ldlibs)
ALL_OBJS += $(call objs,$($(1).srcs))
endef

# $(1) = fuzz target name. Its first source gets FUZZ_CORPUS (the corpus folder, for tools/fuzz.h).
define fuzz_template
$(1).corpus ?= $(basename $(firstword $($(1).srcs)))
$(call objs,$(firstword $($(1).srcs))): FUZZ_DEFS = -DFUZZ_CORPUS='"$$($(1).corpus)"'
$(B)/fuzz/$(1): $(call objs,$($(1).srcs) $(FUZZ_MAIN) tools/fuzz.c) $(call libfiles,$($(1).deps))
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS) -o $$@ \
		$(call objs,$($(1).srcs) $(FUZZ_MAIN) tools/fuzz.c) $(call libfiles,$($(1).deps)) $($(1).ldlibs)
ALL_OBJS += $(call objs,$($(1).srcs) $(FUZZ_MAIN) tools/fuzz.c)
endef

$(foreach l,$(LIBS),$(eval $(call lib_template,$(l))))
$(foreach f,$(FUZZERS),$(eval $(call fuzz_template,$(f))))
$(foreach p,$(HOST_PROGS),$(eval $(call prog_template,$(p),$(B)/$(p),)))
$(foreach p,$(UNIT_TESTS),$(eval $(call prog_template,$(p),$(B)/test/$(p),)))
ifeq ($(TSAN),1)
$(foreach p,$(GUEST_PROGS),$(eval $(call prog_template,$(p),$(B)/guest/$(p),,)))
else ifneq ($(SAN),1)
$(foreach p,$(GUEST_PROGS),$(eval $(call prog_template,$(p),$(B)/guest/$(p),-static,tools/link-static.sh )))
endif

HOST_BINS  := $(addprefix $(B)/,$(HOST_PROGS))
GUEST_BINS := $(if $(filter 1,$(SAN)),,$(addprefix $(B)/guest/,$(GUEST_PROGS)))
TEST_BINS  := $(addprefix $(B)/test/,$(UNIT_TESTS))
FUZZ_BINS  := $(addprefix $(B)/fuzz/,$(FUZZERS))

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS) $($(<D).cflags) $(FUZZ_DEFS) -c -o $@ $<

$(B)/obj/%.o: %.S
	@mkdir -p $(@D)
	$(call say,AS,$<)$(CC) $(CFLAGS) -c -o $@ $<

-include $(sort $(ALL_OBJS:.o=.d))

.PHONY: all programs unit-tests fuzzers deps test test-nested sanitize tsan fuzz fuzz-list bench bench-list run \
	format format-check clean help
all: programs unit-tests
programs: $(HOST_BINS) $(GUEST_BINS) $(if $(SAN)$(TSAN)$(FUZZ),,$(EXTRA_GUEST_BINS))
unit-tests: $(TEST_BINS)
fuzzers: $(FUZZ_BINS)

deps:
	$(Q)tools/deps.sh

# make test: everything built, unit tests plain and under ASan+UBSan (with every fuzz target's corpus
# replayed), then the end-to-end scripts, among them cppcheck (tools/test/lint.sh) and the threaded
# programs under ThreadSanitizer (tools/test/tsan.sh, over the TSAN=1 build).
SAN_TESTS = $(addprefix build/san/test/,$(UNIT_TESTS)) $(addprefix build/san/fuzz/,$(FUZZERS))
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory SAN=1 unit-tests fuzzers
	$(Q)$(MAKE) --no-print-directory TSAN=1 all
	$(Q)tools/run-tests.sh --build build \
		--unit "$(addprefix build/test/,$(UNIT_TESTS))" \
		--san-unit "$(SAN_TESTS)" \
		--e2e "$(E2E_TESTS)"

# make test-nested: the tests that need /dev/kvm, on a host without it: inside a QEMU guest with
# emulated SVM (tools/nested-kvm.sh). Slow (an hour or so); proves behaviour, never speed.
KVM_TESTS = $(filter %@hv hv/test/%,$(E2E_TESTS))
test-nested: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/nested-kvm.sh --build build $(or $(TESTS),$(KVM_TESTS))

sanitize: deps
	$(Q)$(MAKE) --no-print-directory SAN=1 unit-tests fuzzers
	$(Q)tools/run-tests.sh --build build --san-unit "$(SAN_TESTS)"

# make tsan: everything built with ThreadSanitizer (build/tsan), then tools/run-tsan.sh runs, natively
# and for a few seconds each, the unit tests that start threads, every threaded server under its load
# generator, the self-driving guests and one short harness run; any TSan report fails it. `make test`
# runs the same as tools/test/tsan.sh (README: "Data races").
tsan: deps
	$(Q)$(MAKE) --no-print-directory TSAN=1 all
	$(Q)tools/run-tsan.sh --build build/tsan --unit "$(addprefix build/tsan/test/,$(UNIT_TESTS))"

# make fuzz [SECONDS=60] [FUZZ_ONLY="name ..."] [MERGE=1]: each fuzz target under libFuzzer for SECONDS;
# MERGE=1 adds the inputs that found new coverage to the checked-in corpus.
fuzz: deps
	$(Q)command -v clang >/dev/null || { echo "make fuzz: needs clang with libFuzzer (apt-get install clang)"; exit 2; }
	$(Q)$(MAKE) --no-print-directory FUZZ=1 fuzzers
	$(Q)tools/run-fuzz.sh --build build/fuzz --seconds $(or $(SECONDS),60) --merge $(or $(MERGE),0) \
		$(foreach f,$(or $(FUZZ_ONLY),$(FUZZERS)),$(f):$($(f).corpus))

# the declared fuzz targets and their corpus folders, one per line
fuzz-list:
	@printf '%s\n' $(foreach f,$(FUZZERS),$(f):$($(f).corpus))

# make bench QUICK=1: every benchmark for a second or two, into build/bench-quick/ (proves the scripts).
bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)VCONS_BENCH_QUICK=$(QUICK) tools/run-benches.sh $(BENCHES)

# the declared benchmarks, one per line (tools/test/benches.sh runs them)
bench-list:
	@printf '%s\n' $(BENCHES)

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/run-default.sh

SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(Q)clang-format -i $(SOURCES)
format-check:
	$(Q)clang-format --dry-run --Werror $(SOURCES) && echo "format-check: $(words $(SOURCES)) files ok"

# make lint: clang-tidy (.clang-tidy) and cppcheck over every C file the build compiles; one line per
# finding and a summary, non-zero on any finding (tools/lint.sh). `make test` runs its cppcheck half
# (tools/test/lint.sh); clang-tidy takes minutes and is only here.
.PHONY: lint
lint:
	$(Q)tools/lint.sh

clean:
	rm -rf build

help:
	@echo "make [all]       build every program into build/ (guest programs: build/guest/)"
	@echo "make run         install missing packages, build, run a short one-CSU benchmark"
	@echo "make test        install missing packages, build, run every test"
	@echo "make test-nested the tests that need /dev/kvm, in a QEMU guest with emulated SVM"
	@echo "                 (for hosts without KVM; TESTS=\"a.sh@hv ...\" picks some)"
	@echo "make sanitize    unit tests and fuzz corpora under AddressSanitizer + UBSan"
	@echo "make tsan        the threaded programs and unit tests under ThreadSanitizer, a few"
	@echo "                 seconds each (build/tsan; reports in build/tsan/tsan-logs/)"
	@echo "make fuzz        every fuzz target under libFuzzer (clang) for SECONDS=60 each"
	@echo "                 (FUZZ_ONLY=\"name ...\" picks some; MERGE=1 keeps new coverage in the corpus)"
	@echo "make bench       benchmarks, JSON under build/bench/"
	@echo "                 (QUICK=1: a second or two each, proves the scripts, build/bench-quick/)"
	@echo "make deps        install missing Debian packages (tools/packages.txt)"
	@echo "make format | format-check"
	@echo "make lint        clang-tidy and cppcheck over every C file; exits 1 on any finding"
