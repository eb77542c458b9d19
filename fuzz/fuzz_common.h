/* fuzz_common.h - what the libFuzzer targets share: reading fixture files named relative to the repo, a trap for broken invariants. */
#ifndef HEARTH_FUZZ_COMMON_H
#define HEARTH_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* libFuzzer calls this once per input; every target defines it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding: print what and stop, so libFuzzer saves the input. */
#define FUZZ_ASSERT(cond, ...)                                                  \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "fuzz invariant failed at %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            __builtin_trap();                                                   \
        }                                                                       \
    } while (0)

/* Reads a whole file named relative to $HEARTH_ROOT (default: the current directory, the repo
 * root under make). Returns NULL when absent. Caller frees. The buffer has a NUL after *len. */
static inline char *fuzz_read_file(const char *rel, size_t *len) {
    char path[4096];
    const char *root = getenv("HEARTH_ROOT");
    snprintf(path, sizeof path, "%s%s%s", root ? root : "", root ? "/" : "", rel);
    char *text = NULL;
    hearth_err e = {0};
    if (hu_read_text(path, &text, len, &e) != HEARTH_OK) return NULL;
    return text;
}

/* Splits data at its first NUL: [0, *a_len) and the rest after the NUL (may be empty). */
static inline const uint8_t *fuzz_split(const uint8_t *data, size_t size, size_t *a_len, size_t *b_len) {
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul) {
        *a_len = size;
        *b_len = 0;
        return data + size;
    }
    *a_len = (size_t)(nul - data);
    *b_len = size - *a_len - 1;
    return nul + 1;
}

#endif
