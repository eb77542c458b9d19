/* quant_k.h - internal to quant.c / quant_k.c: the k-quant row converters the type table points at, and block byte helpers. */
#ifndef HEARTH_QUANT_K_H
#define HEARTH_QUANT_K_H

#include "quant.h"

/* Half floats in blocks are little-endian whatever the host. */
static inline uint16_t hq_load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline void hq_store_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

/* Row converters for Q4_K, Q5_K and Q6_K (layouts in quant.h). n is a multiple of HT_QK_K.
 * *_to_float dequantises n values; *_from_float quantises them with llama.cpp's reference
 * rounding (quantize_row_q*_K_ref, no importance matrix), byte for byte. */
void hq_q4_k_to_float(const void *src, float *dst, int64_t n);
void hq_q4_k_from_float(const float *src, void *dst, int64_t n);
void hq_q5_k_to_float(const void *src, float *dst, int64_t n);
void hq_q5_k_from_float(const float *src, void *dst, int64_t n);
void hq_q6_k_to_float(const void *src, float *dst, int64_t n);
void hq_q6_k_from_float(const float *src, void *dst, int64_t n);

#endif
