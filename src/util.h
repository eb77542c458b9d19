/* util.h - internal helpers shared by every engine file: errors, checked arithmetic, half floats, file mapping. */
#ifndef HEARTH_UTIL_H
#define HEARTH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hearth.h"

/* An error travels as a value: a status code plus a message. Functions that can fail take a
 * `hearth_err *` (may be NULL) and return a hearth_status. */
typedef struct {
    hearth_status code;
    char msg[512];
} hearth_err;

/* Sets *e (when non-NULL) and returns `code`, so callers can write `return herr(e, ...)`. */
hearth_status herr(hearth_err *e, hearth_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checked arithmetic for sizes that come from untrusted files. Return false on overflow. */
static inline bool hu_mul(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool hu_add(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_add_overflow(a, b, out); }

/* Largest single allocation the engine makes from a size read out of a file (2^40 bytes natively,
 * 2^31 in wasm32): anything larger is rejected with HEARTH_ERR_TOO_LARGE before allocating. */
#if UINTPTR_MAX == 0xffffffffu
#define HU_ALLOC_CAP ((uint64_t)1 << 31)
#else
#define HU_ALLOC_CAP ((uint64_t)1 << 40)
#endif

/* malloc/calloc that refuse sizes above HU_ALLOC_CAP and report failures through `e`.
 * Caller frees with free(). */
void *hu_malloc(uint64_t size, hearth_err *e);
void *hu_calloc(uint64_t n, uint64_t size, hearth_err *e);
/* Grows the heap buffer *buf (capacity *cap bytes, NULL and 0 to start) to hold at least need
 * bytes, doubling from 256; contents kept. The caller owns *buf and frees it with free(). Returns
 * false when out of memory (*buf and *cap unchanged). */
bool hu_grow(char **buf, size_t *cap, size_t need);
char *hu_strndup(const char *s, size_t n); /* NUL-terminated copy; caller frees; NULL on OOM */

/* Bytes of memory this process can ever use: physical RAM natively, the maximum heap in wasm;
 * 0 when unknown. For refusing, with a clear message, a request that cannot fit. */
uint64_t hu_mem_total(void);

/* IEEE half and bfloat16 conversions (round to nearest even). */
float hu_f16_to_f32(uint16_t h);
uint16_t hu_f32_to_f16(float f);
static inline float hu_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
uint16_t hu_f32_to_bf16(float f);

/* A whole file, read-only: memory-mapped natively, read into the heap in wasm.
 * Release with hu_file_unmap. */
typedef struct {
    const uint8_t *data;
    size_t size;
    void *priv_; /* implementation details */
    void *map_base_;
    size_t map_len_;
    bool mapped_;
} hu_file;
hearth_status hu_file_map(const char *path, hu_file *out, hearth_err *e);
/* The same, but read into private anonymous memory on transparent huge pages where the system
 * has them (Linux; elsewhere = hu_file_map): slower to load, faster to stream every token, since
 * page-cache mappings use small pages and the TLB misses cost bandwidth (file_copy.c). */
hearth_status hu_file_copy(const char *path, hu_file *out, hearth_err *e);
/* The bytes of a private copy made by hu_file_copy, writable (for a load-time rewrite in place,
 * e.g. the Q4_0 repack) or read-only again; NULL (nothing changed) for anything but such a copy. */
uint8_t *hu_file_writable(hu_file *f, bool writable);
/* Size of a file in bytes (0 if it cannot be read), and the memory the system could give this
 * process without swapping (Linux MemAvailable; elsewhere free physical memory; 0 if unknown). */
uint64_t hu_file_size(const char *path);
/* Whether hu_file_copy gets huge pages here (Linux with transparent huge pages "always" or "madvise"). */
bool hu_huge_pages_available(void);
uint64_t hu_mem_available(void);
void hu_file_unmap(hu_file *f);

/* Reads a whole (small) text file into a NUL-terminated heap buffer. Caller frees with free(). */
hearth_status hu_read_text(const char *path, char **out, size_t *len, hearth_err *e);

/* Monotonic wall clock in seconds. */
double hu_now(void);

#endif
