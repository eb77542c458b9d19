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

/* Block layouts (byte-exact with llama.cpp; f16 fields little-endian):
 *   Q8_0: 32 values = { f16 d; int8 q[32]; }            34 bytes, x = d * q
 *   Q4_0: 32 values = { f16 d; uint8 qs[16]; }          18 bytes, x = d * (nibble - 8);
 *         value j (0..15) is the low nibble of qs[j], value j+16 the high nibble of qs[j].
 *   Q4_1: 32 values = { f16 d; f16 m; uint8 qs[16]; }   20 bytes, x = d * nibble + m (nibbles as Q4_0)
 *   Q5_0: 32 values = { f16 d; uint8 qh[4]; uint8 qs[16]; } 22 bytes, x = d * (q - 16), q = nibble
 *         (as Q4_0) | bit j of the little-endian u32 qh << 4, for value j (0..31).
 *   Q5_1: 32 values = { f16 d; f16 m; uint8 qh[4]; uint8 qs[16]; } 24 bytes, x = d * q + m (q as Q5_0)
 * K-quants: super-blocks of 256 values (HT_QK_K) in sub-blocks with their own quantised scales.
 *   Q4_K: { f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]; }             144 bytes, 4.5 bits/value
 *         8 sub-blocks of 32, each with a 6-bit scale sc and 6-bit min m (packed in scales[]):
 *         x = d*sc * q - dmin*m, q a nibble; qs[32c + l] holds value 64c + l (low nibble, sub-block
 *         2c) and value 64c + 32 + l (high nibble, sub-block 2c+1).
 *   Q5_K: { f16 d; f16 dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]; } 176 bytes, 5.5 bits
 *         as Q4_K plus a fifth bit: value 64c + l has bit 2c of qh[l], value 64c + 32 + l bit 2c+1.
 *   Q6_K: { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d; }           210 bytes, 6.5625 bits
 *         16 sub-blocks of 16 with int8 scales: x = d * scales[i/16] * (q - 32), q 6 bits.
 * quant_k.c spells out the bit positions of Q4_K/Q5_K scales and of Q6_K. */
#define HT_QK8_0 32
#define HT_QK4_0 32
#define HT_QK_K 256

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
/* Quantises n values into dst (ht_row_bytes(type, n) bytes) with llama.cpp's reference rounding
 * (quantize_row_*_ref, no importance matrix): the same bytes llama-quantize writes.
 * Supported targets: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K. */
void ht_quantize(uint32_t type, const float *src, void *dst, int64_t n);
/* Dot product of one row of `type` (n values) with f32 x, accumulated in f32: the reference every
 * faster kernel is tested against (dequantises 256 values at a time, then multiplies). */
float ht_dot(uint32_t type, const void *row, const float *x, int64_t n);

#endif
