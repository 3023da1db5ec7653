# firebreak: one Makefile for the runtime library, the functions, the tests
# and the packages. `make help` lists the targets.
#
# User CFLAGS add to the defaults (redis src/Makefile habit); V=1 is verbose.

.DEFAULT_GOAL := all
SHELL := /bin/bash

FUNCTIONS := $(sort $(notdir $(patsubst %/main.c,%,$(wildcard functions/*/main.c))))
PYTHON := /usr/bin/python3

# ---- toolchain and flags ----------------------------------------------------
CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -MMD -MP -Iruntime
override CFLAGS := $(BASE_CFLAGS) $(SAN_CFLAGS) $(CFLAGS)
NATIVE_LIBS := -lcurl -lcjson -lssl -lcrypto -lexpat -lz -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---- native build: build/native ----------------------------------------------
B := build/native
RUNTIME_SRC := $(wildcard runtime/*.c)
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(B)/obj/%.o)
LIB := $(B)/libfirebreak.a
BOOTSTRAPS := $(FUNCTIONS:%=$(B)/%/bootstrap)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# Test programs beside the unit tests (e.g. tests/testfn, tests/tools/*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
TESTFN := $(B)/testfn/bootstrap

.PHONY: all help deps test unit integration package demo local invoke bench fuzz lint clean
all: $(LIB) $(BOOTSTRAPS) $(TESTFN) $(TOOL_BIN)

help:
	@echo "make demo     run the local P1 drill (installs what it needs)"
	@echo "make local    every function on 127.0.0.1:\$$LOCAL_PORT (9001) over a seeded fake AWS"
	@echo "make invoke FN=<name> [EVENT=<file>]   one local invocation, the response on stdout"
	@echo "make test     unit + integration tests (installs what it needs)"
	@echo "make all      native build into $(B)/<name>/bootstrap"
	@echo "make package  build/arm64/<name>.zip for provided.al2023 arm64"
	@echo "make bench    benchmarks (build/bench/results.json)"
	@echo "make fuzz     libFuzzer targets, FUZZ_SECONDS=N each"
	@echo "make lint     static checks"
	@echo "make deps     install build and test dependencies (apt-get)"

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(RUNTIME_OBJ)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# A function is every .c in its folder (main.c plus any parts it splits out).
.SECONDEXPANSION:
$(B)/%/bootstrap: $$(patsubst %.c,$(B)/obj/%.o,$$(wildcard functions/$$*/*.c)) $(LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(NATIVE_LIBS) $(LDFLAGS)

$(TESTFN): $(B)/obj/tests/testfn/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(NATIVE_LIBS) $(LDFLAGS)

# tests/unit/wipecheck.h: these tests see every free()/realloc() of runtime/
# code, to catch secret bytes handed back to the allocator unwiped.
$(B)/tests/test_buf $(B)/tests/test_http $(B)/tests/test_redeploy: LDFLAGS += -Wl,--wrap=free -Wl,--wrap=realloc

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(NATIVE_LIBS) $(LDFLAGS)

$(B)/tools/%: $(B)/obj/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(NATIVE_LIBS) $(LDFLAGS)

# ---- sam build (infra/template.yaml: Metadata BuildMethod makefile) --- infra ---
# `sam build -t infra/template.yaml` runs build-<LogicalId> with ARTIFACTS_DIR
# set; each target packages one function (build/arm64/<name>.zip, as `make
# package` does) and puts its aarch64 bootstrap there.
define sam_build
	$(Q)test -n "$(ARTIFACTS_DIR)" || { echo "build-$(2): ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	$(Q)runtime/mk/package.sh $(1)
	$(Q)mkdir -p "$(ARTIFACTS_DIR)" && unzip -o -q build/arm64/$(1).zip bootstrap -d "$(ARTIFACTS_DIR)"
endef
.PHONY: build-RootVerifyFunction build-KmsGuardFunction build-LeakRotateFunction build-TaskQuarantineFunction
build-RootVerifyFunction:
	$(call sam_build,root-verify,RootVerifyFunction)
build-KmsGuardFunction:
	$(call sam_build,kms-guard,KmsGuardFunction)
build-LeakRotateFunction:
	$(call sam_build,leak-rotate,LeakRotateFunction)
build-TaskQuarantineFunction:
	$(call sam_build,task-quarantine,TaskQuarantineFunction)
.PHONY: build-PublicLockFunction
build-PublicLockFunction:
	$(call sam_build,public-lock,PublicLockFunction)
.PHONY: build-IamContainFunction
build-IamContainFunction:
	$(call sam_build,iam-contain,IamContainFunction)
build-InstanceQuarantineFunction:
	$(call sam_build,instance-quarantine,InstanceQuarantineFunction)
.PHONY: build-NetBlockFunction
build-NetBlockFunction:
	$(call sam_build,net-block,NetBlockFunction)
.PHONY: build-DataBreachFunction
build-DataBreachFunction:
	$(call sam_build,data-breach,DataBreachFunction)
.PHONY: build-AccessTriageFunction
build-AccessTriageFunction:
	$(call sam_build,access-triage,AccessTriageFunction)
.PHONY: build-CognitoLockdownFunction
build-CognitoLockdownFunction:
	$(call sam_build,cognito-lockdown,CognitoLockdownFunction)
.PHONY: build-CodeArtifactLockFunction
build-CodeArtifactLockFunction:
	$(call sam_build,codeartifact-lock,CodeArtifactLockFunction)
.PHONY: build-FirebreakRestoreFunction
build-FirebreakRestoreFunction:
	$(call sam_build,firebreak-restore,FirebreakRestoreFunction)
# ---- end of sam build ------------------------------------------------------------

# ---- dependencies ------------------------------------------------------------
# runtime/mk/deps.sh installs only what is missing (idempotent, non-interactive).
deps:
	$(Q)runtime/mk/deps.sh all
deps-build:
	$(Q)runtime/mk/deps.sh build
deps-test:
	$(Q)runtime/mk/deps.sh test

# ---- tests ---------------------------------------------------------------------
# make test: deps, native build, unit tests, then every tests/integration/*
# script (each exits non-zero on failure). Closes with "N passed, N failed".
# The arm64 package (OpenSSL and libcurl built from source on a fresh
# machine) builds in the background while the tests that do not need it
# run (tests/run.sh --package).
test: deps-test
	$(Q)$(MAKE) --no-print-directory -j2 all $(UNIT_BIN)
	$(Q)tests/run.sh --package $(UNIT_BIN)

unit: all $(UNIT_BIN)
	$(Q)tests/run.sh --unit-only $(UNIT_BIN)

integration: all
	$(Q)tests/run.sh --integration-only

# ---- arm64 packages ------------------------------------------------------------
# build/arm64/<name>.zip: one static (except glibc) aarch64 bootstrap each.
package: deps-build
	$(Q)runtime/mk/package.sh $(FUNCTIONS) testfn

# build/static-x86_64/<name>/bootstrap: the package recipe for this machine,
# so cold start is measured natively (tests/bench/coldstart.py). Its libcurl
# is cached under build/third_party/x86_64; `make test` never builds it.
.PHONY: static-native
static-native: deps-build
	$(Q)runtime/mk/package.sh --arch x86_64 $(FUNCTIONS) testfn
bench: static-native

# ---- demo, bench, fuzz, lint -------------------------------------------------------
demo: deps-test
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(PYTHON) tests/demo/demo.py $(if $(SCENARIO),--scenario $(SCENARIO)) $(if $(DRY_RUN),--dry-run) $(if $(DEMO_OUT),--out $(DEMO_OUT))

# make local: the fake AWS (127.0.0.1:LOCAL_AWS_PORT) seeded with the demo
# world and the Lambda emulator serving every function on 127.0.0.1:LOCAL_PORT;
# prints an `aws lambda invoke` line per function; Ctrl-C stops it all. With
# AWS_ENDPOINT_URL set (LocalStack, moto) the functions talk to that instead.
LOCAL_PORT ?= 9001
LOCAL_AWS_PORT ?= 9002
local: deps-test
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(PYTHON) tests/demo/local.py --port $(LOCAL_PORT) --fake-port $(LOCAL_AWS_PORT) $(if $(DRY_RUN),--dry-run)

invoke: deps-test
	$(Q)test -n "$(FN)" || { echo "usage: make invoke FN=<function> [EVENT=<file>] [DRY_RUN=1]" >&2; exit 2; }
	$(Q)$(MAKE) --no-print-directory all >&2
	$(Q)$(PYTHON) tests/demo/local.py --invoke $(FN) --fake-port 0 $(if $(EVENT),--event $(EVENT)) $(if $(DRY_RUN),--dry-run)

bench: deps-test
	$(Q)$(MAKE) --no-print-directory all package
	$(Q)$(PYTHON) tests/bench/bench.py

FUZZ_SECONDS ?= 60
fuzz:
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS)

lint: all
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Iruntime runtime functions
	$(Q)! grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|gets)\s*\(' runtime/*.[ch] functions/*/*.c tests/testfn/*.c

clean:
	rm -rf build

-include $(shell find build/native/obj -name '*.d' 2>/dev/null)
