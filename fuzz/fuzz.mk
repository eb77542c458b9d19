# fuzz/fuzz.mk - libFuzzer targets for every parser, built with clang's ASan+UBSan; included by the Makefile.
#
#   make fuzz-build            build build/fuzz/fuzz_<target> (and the engine they link, instrumented)
#   make fuzz [FUZZ_TIME=60]   run every target FUZZ_TIME seconds; corpora grow in build/fuzz/corpus/
#   make fuzz FUZZ_TARGETS=json FUZZ_TIME=600    one target, longer
# `make test` replays fuzz/regress/ and fuzzes each target a few seconds (tests/fuzz.test.sh).
FUZZ_CC      ?= clang-14
FUZZ_DIR     := build/fuzz
FUZZ_TARGETS ?= gguf model safetensors json tokenizer tokenizer_json chat state
FUZZ_ALL     := gguf model safetensors json tokenizer tokenizer_json chat state
FUZZ_TIME    ?= 60
FUZZ_CFLAGS  := -O1 -g -std=c11 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_BIN     := $(FUZZ_ALL:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build

fuzz-build: $(FUZZ_BIN)

# The engine compiled with coverage instrumentation into build/fuzz/, by the Makefile's own rules
# run with clang (that make has BUILD = build/fuzz, and must not see this rule).
ifneq ($(BUILD),$(FUZZ_DIR))
$(FUZZ_DIR)/libhearth.a: $(ENGINE_SRC) $(wildcard include/*.h src/*.h)
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" $@
endif

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_DIR)/libhearth.a
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_DIR)/libhearth.a $(LDLIBS) -o $@

fuzz: all fuzz-build
	@bash fuzz/run.sh --time $(FUZZ_TIME) $(FUZZ_TARGETS)
