/* quant.h - tensor element types with llama.cpp's ids and block layouts; (de)quantisation and dot products. */
#ifndef HEARTH_QUANT_H
#define HEARTH_QUANT_H

#include "util.h"

/* Type ids are GGML's, so GGUF files move between hearth and llama.cpp unchanged. */
typedef enum {
    HT_F32 = 0,
    HT_F16 = 1,
    HT_Q4_0 = 2,
    HT_Q4_1 = 3,
    HT_Q5_0 = 6,
    HT_Q5_1 = 7,
    HT_Q8_0 = 8,
    HT_Q8_1 = 9,
    HT_Q2_K = 10,
    HT_Q3_K = 11,
    HT_Q4_K = 12,
    HT_Q5_K = 13,
    HT_Q6_K = 14,
    HT_Q8_K = 15,
    HT_I8 = 24,
    HT_I16 = 25,
    HT_I32 = 26,
    HT_I64 = 27,
    HT_F64 = 28,
    HT_BF16 = 30,
    HT_TYPE_COUNT = 40 /* ids >= this are unknown */
} ht_type;

/* Block layouts (byte-exact with llama.cpp):
 *   Q8_0: 32 values = { f16 d; int8 q[32]; }            34 bytes, x = d * q
 *   Q4_0: 32 values = { f16 d; uint8 qs[16]; }          18 bytes, x = d * (nibble - 8);
 *         value j (0..15) is the low nibble of qs[j], value j+16 the high nibble of qs[j]. */
#define HT_QK8_0 32
#define HT_QK4_0 32

typedef struct {
    const char *name;   /* "f32", "q4_0", ...; lower case as in llama.cpp */
    uint32_t block_size; /* values per block (1 for plain types) */
    uint32_t type_size;  /* bytes per block */
    bool supported;      /* hearth can dequantise and compute with it */
} ht_type_info;

/* Info for a type id; NULL for ids that GGML does not define. */
const ht_type_info *ht_type_get(uint32_t type);
/* Type id by name ("q8_0", "bf16", ...), or -1. */
int ht_type_from_name(const char *name);

/* Bytes for n values of `type` (n must be a multiple of the block size). False on overflow,
 * unknown type or a ragged n. */
bool ht_row_bytes(uint32_t type, uint64_t n, uint64_t *out);

/* Dequantises n values (a multiple of the block size) from src into dst. Type must be supported. */
void ht_dequantize(uint32_t type, const void *src, float *dst, int64_t n);
/* Quantises n values into dst (ht_row_bytes(type, n) bytes) with llama.cpp's reference rounding.
 * Supported targets: F32, F16, BF16, Q8_0, Q4_0. */
void ht_quantize(uint32_t type, const float *src, void *dst, int64_t n);
/* Dot product of one row of `type` (n values) with f32 x, accumulated in f32. */
float ht_dot(uint32_t type, const void *row, const float *x, int64_t n);

#endif
