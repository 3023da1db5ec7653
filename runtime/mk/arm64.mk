# Cross build of our own code for `make package`; run by runtime/mk/package.sh
# after it has built the third-party archives:
#   make -f runtime/mk/arm64.mk NAMES="root-verify ... testfn"
# The same recipe for this x86_64 machine (`make static-native`, for
# measuring cold start natively; bootstraps only, no zips):
#   make -f runtime/mk/arm64.mk ARCH=x86_64 NAMES="..."
# Same warnings as the top-level Makefile; -MMD so a header edit rebuilds
# what includes it, and nothing else.

ARCH ?= arm64
ifeq ($(ARCH),arm64)
TRIPLET := aarch64-linux-gnu
B := build/arm64
else ifeq ($(ARCH),x86_64)
TRIPLET := x86_64-linux-gnu
B := build/static-x86_64
else
$(error ARCH must be arm64 or x86_64, not '$(ARCH)')
endif

CROSS ?= $(TRIPLET)-
CC := $(CROSS)gcc
AR := $(CROSS)ar
STRIP := $(CROSS)strip
SHELL := /bin/bash

TP := build/third_party/$(ARCH)
SYSLIB := /usr/lib/$(TRIPLET)

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla
# -ffunction-sections/-fdata-sections + --gc-sections: drop what no bootstrap
# calls (keeps the zips small; provided.al2023 reads them on cold start).
ARM64_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 $(WARN) -MMD -MP \
	-ffunction-sections -fdata-sections -Iruntime -I$(TP)/include

# Everything but glibc is static, and of glibc only libc.so.6 (+ the loader)
# may be NEEDED. libpthread/libdl are part of libc.so.6 since glibc 2.34
# (their .a are empty stubs). No -lm on purpose: libm.so.6 is not allowed and
# a static libm.a drags in GLIBC_PRIVATE symbols that differ between glibc
# releases, so a call into libm fails this link instead of failing on Lambda.
# -static-libgcc: libgcc_s.so.1 stays out of NEEDED.
THIRD_PARTY := $(TP)/lib/libcurl.a $(TP)/lib/libcjson.a \
	$(TP)/lib/libssl.a $(TP)/lib/libcrypto.a $(SYSLIB)/libexpat.a $(SYSLIB)/libz.a
ARM64_LDFLAGS := -Wl,-O1 -Wl,--gc-sections -Wl,-z,relro -Wl,-z,now -static-libgcc \
	-L$(TP)/lib -L$(SYSLIB)
ARM64_LIBS := -Wl,-Bstatic -lcurl -lcjson -lssl -lcrypto -lexpat -lz \
	-Wl,-Bdynamic -Wl,--as-needed -lpthread -ldl -Wl,--no-as-needed

RUNTIME_SRC := $(wildcard runtime/*.c)
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(B)/obj/%.o)
LIB := $(B)/libfirebreak.a
# Keeps libexpat.a off arc4random_buf@GLIBC_2.36; see the file.
COMPAT := $(B)/obj/glibc234-compat.o

# As in the top-level Makefile: a function is every .c in functions/<name>/
# (main.c plus the parts it splits out); testfn is tests/testfn/main.c.
main_src = $(if $(filter testfn,$(1)),tests/testfn/main.c,$(sort $(wildcard functions/$(1)/*.c)))
main_obj = $(patsubst %.c,$(B)/obj/%.o,$(call main_src,$(1)))

ZIPS := $(NAMES:%=$(B)/%.zip)
BOOTSTRAPS := $(NAMES:%=$(B)/%/bootstrap)

.PHONY: all
.DELETE_ON_ERROR:
ifeq ($(ARCH),arm64)
all: $(ZIPS)
	@for z in $(ZIPS); do printf '  ZIP     %-32s %8d bytes\n' "$$z" "$$(stat -c %s "$$z")"; done
else
all: $(BOOTSTRAPS)
	@for b in $(BOOTSTRAPS); do printf '  BIN     %-32s %8d bytes\n' "$$b" "$$(stat -c %s "$$b")"; done
endif

# Every object is compiled against the OpenSSL headers in $(TP)/include:
# a rebuilt OpenSSL (its stamp rewritten) recompiles them all.
$(B)/obj/%.o: %.c $(TP)/.openssl.done
	@mkdir -p $(dir $@)
	@echo "  CC      $< ($(ARCH))"
	@$(CC) $(ARM64_CFLAGS) -c -o $@ $<

$(COMPAT): runtime/mk/glibc234-compat.c $(TP)/.openssl.done
	@mkdir -p $(dir $@)
	@echo "  CC      $< ($(ARCH))"
	@$(CC) $(ARM64_CFLAGS) -c -o $@ $<

$(LIB): $(RUNTIME_OBJ)
	@rm -f $@ && $(AR) rcs $@ $^

# $(B)/<name>/bootstrap: unstripped, for gdb-multiarch; the zip gets a
# stripped copy. runtime/mk/glibc-ceiling.sh fails the link if any symbol
# needs a glibc newer than AL2023's 2.34.
define package_rules
$(B)/$(1)/bootstrap: $(call main_obj,$(1)) $(LIB) $(COMPAT) $(THIRD_PARTY)
	@mkdir -p $$(dir $$@)
	@echo "  LINK    $$@ ($(ARCH))"
	@$(CC) $(ARM64_LDFLAGS) -o $$@.tmp $(call main_obj,$(1)) $(LIB) $(COMPAT) $(ARM64_LIBS)
	@READELF=$(CROSS)readelf runtime/mk/glibc-ceiling.sh $$@.tmp >/dev/null
	@mv -f $$@.tmp $$@

$(B)/$(1).zip: $(B)/$(1)/bootstrap
	@rm -rf $(B)/$(1)/zip && mkdir -p $(B)/$(1)/zip
	@$(STRIP) --strip-all -o $(B)/$(1)/zip/bootstrap $$<
	@chmod 0755 $(B)/$(1)/zip/bootstrap
	@# A fixed timestamp and no extra fields: same input, same zip.
	@TZ=UTC touch -d 2020-01-01T00:00:00 $(B)/$(1)/zip/bootstrap
	@rm -f $$@.tmp && (cd $(B)/$(1)/zip && TZ=UTC zip -q -X -9 ../../$(1).zip.tmp bootstrap)
	@mv -f $$@.tmp $$@
endef
$(foreach n,$(NAMES),$(eval $(call package_rules,$(n))))

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
