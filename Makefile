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
ASAN_TESTS := test_hostile test_gguf test_safetensors test_json test_tokenizer test_chat test_fixtures test_quant
ASAN_FLAGS := -O1 -g -std=c11 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all help deps test debug clean demo asan wasm wasm-fake

all: $(BUILD)/hearth $(TEST_BIN) $(BUILD)/tests/gpu_plan

help:
	@echo "make          build build/hearth and the test programs"
	@echo "make deps     install what is missing (Debian packages, npm packages from the lockfile)"
	@echo "make test     install deps, build, run every test; last line is 'N passed, N failed'"
	@echo "make debug    the same build with ASan+UBSan in build/debug, and run the tests there"
	@echo "make asan     build the parser and hostile-input tests with ASan+UBSan (part of make test)"
	@echo "make fuzz     run every libFuzzer target FUZZ_TIME seconds (default 60)"
	@echo "make demo     build and run hearth on the bundled model"
	@echo "make clean    remove build/"

$(BUILD)/%.o: %.c $(wildcard include/*.h src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ISAFLAGS) -c $< -o $@

# ISA kernels: only these files get the ISA's flags; src/cpu_dispatch.c checks the CPU at run time
# (__builtin_cpu_supports), so the binary still runs on CPUs without AVX2.
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
$(BUILD)/src/cpu_avx2.o: ISAFLAGS = -mavx2 -mfma -mf16c
$(BUILD)/src/cpu_avx512.o: ISAFLAGS = -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni
endif

$(LIB): $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/hearth: $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(CLI_OBJ) $(LIB) $(LDLIBS) -lmicrohttpd -o $@

$(BUILD)/tests/%: tests/%.c tests/check.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB) $(LDLIBS) -o $@

# WebGPU: the WGSL kernels embedded as C strings, and the native helper the Node WebGPU tests drive.
$(BUILD)/gen/hg_wgsl.c: $(wildcard web/gpu/kernels/*.wgsl) tools/gpu/embed_wgsl.sh
	@mkdir -p $(dir $@)
	bash tools/gpu/embed_wgsl.sh $@
$(BUILD)/tests/gpu_plan: $(wildcard tests/webgpu/*.c tests/webgpu/*.h src/webgpu/*.c src/webgpu/*.h) $(BUILD)/gen/hg_wgsl.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/webgpu $(CFLAGS) $(filter %.c,$^) $(LIB) $(LDLIBS) -o $@

# libFuzzer targets for every parser (make fuzz, make fuzz-build); make test replays and fuzzes briefly.
include fuzz/fuzz.mk

deps:
	@bash tools/deps.sh

# deps first (it may install the compilers), then the builds in parallel, then the tests.
NPROC := $(shell nproc 2>/dev/null || echo 2)
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(NPROC) all asan wasm wasm-fake fuzz-build
	@bash tests/run.sh

# The engine as WebAssembly (SIMD128; single-threaded and pthreads builds), and the same shell
# around a test double of hearth.h for the browser tests of everything above the engine.
wasm: build/wasm/hearth-st.wasm
wasm-fake: build/wasm-fake/hearth-st.wasm
build/wasm/hearth-st.wasm: $(ENGINE_SRC) web/wasm_api.c web/wasm_gpu.c $(wildcard include/*.h src/*.h src/webgpu/*.c src/webgpu/*.h web/gpu/kernels/*.wgsl) tools/wasm/build.sh
	bash tools/wasm/build.sh
build/wasm-fake/hearth-st.wasm: tests/e2e/fake/engine.c src/util.c web/wasm_api.c include/hearth.h tools/wasm/build.sh
	bash tools/wasm/build.sh --fake

# Build everything and serve the chat app with the bundled demo model.
demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(NPROC) all wasm
	@echo "hearth: open http://127.0.0.1:8080/web/app/ (the demo model models/demo-q8_0.gguf is preselected);"
	@echo "        the same model answers OpenAI-style requests at http://127.0.0.1:8080/v1/chat/completions"
	$(BUILD)/hearth serve --port 8080 --root . -m models/demo-q8_0.gguf

asan:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan CFLAGS="$(ASAN_FLAGS)" $(ASAN_TESTS:%=$(BUILD)/asan/tests/%)

debug:
	$(MAKE) BUILD=build/debug OPT=-O1 CFLAGS="-O1 -g -std=c11 -Wall -Wextra -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all
	BUILD=build/debug bash tests/run.sh

clean:
	rm -rf build
