# Makefile - builds the hearth engine, the `hearth` command and the tests; `make help` lists targets.
CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter
CPPFLAGS = -Iinclude -Isrc -Icli -D_GNU_SOURCE
LDLIBS   = -lm -lpthread

ENGINE_SRC := $(sort $(wildcard src/*.c))
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
CLI_SRC    := $(sort $(wildcard cli/*.c))
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC   := $(sort $(wildcard tests/test_*.c))
TEST_BIN   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
LIB        := $(BUILD)/libhearth.a

# Tests of the parsers and of hostile input also run under AddressSanitizer + UBSan in `make test`.
ASAN_TESTS := test_hostile test_gguf test_safetensors test_json test_tokenizer test_chat test_fixtures
ASAN_FLAGS := -O1 -g -std=c11 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all help deps test debug clean demo asan

all: $(BUILD)/hearth $(TEST_BIN)

help:
	@echo "make          build build/hearth and the test programs"
	@echo "make deps     install what is missing (Debian packages, npm packages from the lockfile)"
	@echo "make test     install deps, build, run every test; last line is 'N passed, N failed'"
	@echo "make debug    the same build with ASan+UBSan in build/debug, and run the tests there"
	@echo "make asan     build the parser and hostile-input tests with ASan+UBSan (part of make test)"
	@echo "make demo     build and run hearth on the bundled model"
	@echo "make clean    remove build/"

$(BUILD)/%.o: %.c $(wildcard include/*.h src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ISAFLAGS) -c $< -o $@

# ISA kernels: only these files get the ISA's flags; src/cpu_dispatch.c checks the CPU at run time
# (__builtin_cpu_supports), so the binary still runs on CPUs without AVX2.
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
$(BUILD)/src/cpu_avx2.o: ISAFLAGS = -mavx2 -mfma -mf16c
endif

$(LIB): $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/hearth: $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(CLI_OBJ) $(LIB) $(LDLIBS) -lmicrohttpd -o $@

$(BUILD)/tests/%: tests/%.c tests/check.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB) $(LDLIBS) -o $@

deps:
	@bash tools/deps.sh

test: deps all asan
	@bash tests/run.sh

asan:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan CFLAGS="$(ASAN_FLAGS)" $(ASAN_TESTS:%=$(BUILD)/asan/tests/%)

debug:
	$(MAKE) BUILD=build/debug OPT=-O1 CFLAGS="-O1 -g -std=c11 -Wall -Wextra -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all
	BUILD=build/debug bash tests/run.sh

clean:
	rm -rf build
