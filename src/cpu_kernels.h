/* cpu_kernels.h - the CPU kernel table: the inner loops of the hot ops, once in plain C and again per ISA, picked at run time.
 *
 * Each entry is a small, single-threaded loop over contiguous memory; the threaded drivers in
 * cpu_*.c split work across the pool and call these. Implementations:
 *   cpu_generic.c  plain C, every target (the reference every other table is tested against)
 *   cpu_avx2.c     x86-64 AVX2 + FMA + F16C (compiled with those flags; used only when the CPU has them)
 *   cpu_avx512.c   x86-64 AVX-512 F/BW/VL + VNNI Q4_0 and Q8_0 tiles, over the AVX2 table
 *   cpu_wasm.c     WebAssembly SIMD128 (compiled only when __wasm_simd128__ is defined)
 *
 * Q4_0 weights multiply activations quantised to Q8_0 blocks, as llama.cpp does: the activation
 * row is quantised once per matmul, then every block product is an exact int8 dot product scaled
 * by d_w * d_x. The result differs from the f32 reference (ht_dot on f32 activations) only by the
 * activation rounding, at most sum_i |w_i| * 0.57 * d_x(block of i) (half a step, plus the f16
 * rounding of d_x).
 *
 * Q8_0 and the k-quant weights (Q4_K, Q5_K, Q6_K) multiply activations quantised to int16 per
 * 32-value block (d_x = amax/32767 in f32): int8 (or 4-6 bit) weight x int16 activation products
 * are summed exactly in int32 per block and scaled in f32. The activation rounding is then at
 * most sum_i |w_i| * 0.5 * d_x(block of i) = sum_i |w_i| * amax/65534, 258x below Q8_0's: close
 * enough to f32 activations that Q8_0 weights keep the reference's top-1 (issue #2), where Q8_0
 * activations flipped near-ties. (llama.cpp uses Q8_0 / Q8_K activations for these types; hearth's
 * answers on them differ from llama.cpp's by that rounding.)
 *
 * Q4_0 matrices can be repacked at load (cpu_repack.c) into the x16 layout, which the AVX-512
 * kernel (and the AVX2 one, as two halves of 8 rows) loads with plain vector loads instead of gathering and transposing 16 rows per block at
 * every token (llama.cpp repacks Q4_0 at load for the same reason). A group of 16 rows of nb
 * blocks keeps its bytes (16 * nb * 18) and is rewritten block by block, 288 bytes each:
 *   bytes 0..31     the 16 rows' f16 scales, row k at 2k
 *   bytes 32..287   4 runs of 64 bytes; run j, bytes 4k..4k+3 = row k's qs[4j..4j+3]
 * so run j is, as it stands, the vpdpbusd operand of values 4j..4j+3 (low nibbles) and 16+4j..
 * (high nibbles) with one row per 32-bit lane. Only whole groups are repacked: the last nr % 16
 * rows of a matrix stay in row layout.
 */
#ifndef HEARTH_CPU_KERNELS_H
#define HEARTH_CPU_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HK_QK 32  /* values per Q8_0 / Q4_0 block, and per activation block */
#define HK_QKK 256 /* values per k-quant super-block */
#define HK_X16 16  /* rows per group of the Q4_0 x16 layout */
#define HK_X16_BLOCK 288 /* bytes per block of a group: 16 scales (32) + 16 x 16 nibble bytes */

/* Repacks the nr / 16 whole groups of the Q4_0 matrix w (nr rows of rb = nb * 18 bytes) into the
 * x16 layout, in place; the last nr % 16 rows are left as they are. tmp: 16 * rb bytes of scratch. */
void hk_q4_0_pack_x16(uint8_t *w, size_t rb, uint64_t nr, uint8_t *tmp);
/* Blocks b0..b0+n-1 of row r of the Q4_0 matrix w (nr rows of rb bytes, x16 layout) in row layout,
 * written to out (n * 18 bytes). */
void hk_q4_0_blocks_x16(const uint8_t *w, size_t rb, uint64_t nr, uint64_t r, size_t b0, size_t n, uint8_t *out);

/* Activations of nt tokens quantised to Q8_0, unpacked for the kernels. Token t, block b:
 * codes q[(t*nb + b)*32 + j], scale d[t*nb + b] (the Q8_0 scale after its f16 rounding, as f32)
 * and s[t*nb + b] = d * (sum of the block's 32 codes) (for Q4_0's offset of 8). */
typedef struct {
    int8_t *q;
    float *d;
    float *s;
    int nb; /* blocks per token */
} hk_q8act;

/* Activations of nt tokens quantised to int16 per 32-value block (for Q8_0 and k-quant weights).
 * Token t, block b: codes q[(t*nb + b)*32 + j], scale d[t*nb + b] = amax/32767 (f32, no f16
 * rounding) and s[t*nb + b] = d * (sum of the block's 32 codes) (for the k-quants' mins). */
typedef struct {
    int16_t *q;
    float *d;
    float *s;
    int nb; /* 32-value blocks per token */
} hk_q16act;

/* Quantised-weight tile: y[t*ys + r] = dot(row r of W, token t) for r < nr, t < nt.
 * Row r of W starts at w + r*rb (bytes); its blocks are GGML Q4_0 blocks (Q8_0 activations, nb
 * blocks of 32), or Q8_0 blocks / Q4_K, Q5_K, Q6_K super-blocks of 256 (int16 activations, nb
 * blocks of 32: nb/8 super-blocks). */
typedef void (*hk_gemm_q_fn)(const uint8_t *w, size_t rb, int nr, const hk_q8act *x, int nt, float *y, size_t ys);
typedef void (*hk_gemm_q16_fn)(const uint8_t *w, size_t rb, int nr, const hk_q16act *x, int nt, float *y, size_t ys);
/* Float-weight tile (F32, F16, BF16 rows of n values) with f32 activations x[t*xs + i]. */
typedef void (*hk_gemm_f_fn)(const uint8_t *w, size_t rb, int nr, const float *x, size_t xs, int nt, int n, float *y,
                             size_t ys);

/* Sub-block j (of 8) of a Q4_K / Q5_K super-block: its 6-bit scale and min, unpacked from the 12
 * packed bytes s (llama.cpp's layout; quant_k.c spells it out). */
static inline void hk_k_scale_min(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* All 8 sub-blocks of the Q4_K / Q5_K super-block blk as floats: sc[j] = d * scale j and
 * mn[j] = dmin * min j, where d and dmin are the block's two leading f16 values, converted by the
 * caller (each table has its own f16 conversion; all are exact). */
static inline void hk_k_scales_mins(const uint8_t *blk, float d, float dmin, float sc[8], float mn[8]) {
    for (int j = 0; j < 8; j++) {
        int s, m;
        hk_k_scale_min(blk + 4, j, &s, &m);
        sc[j] = d * (float)s;
        mn[j] = dmin * (float)m;
    }
}

typedef struct {
    const char *name; /* "generic", "avx2", "wasm-simd128" */

    /* Quantises nb blocks of x into codes q[nb*32], d[nb], s[nb] with llama.cpp's Q8_0 rounding
     * (d = f16(amax/127), q = roundf(x * 127/amax), ties away from zero): codes and d equal
     * ht_quantize(HT_Q8_0) byte for byte. */
    void (*quantize_q8)(const float *x, int8_t *q, float *d, float *s, int nb);

    /* Quantises nb blocks of x to int16 codes q[nb*32], d[nb], s[nb]: d = amax/32767 (f32),
     * q = roundf(x * (1/d)) (ties away from zero; 0 for non-finite input). Every table writes the
     * same codes and d as the generic one. */
    void (*quantize_q16)(const float *x, int16_t *q, float *d, float *s, int nb);

    hk_gemm_q_fn gemm_q4_0;
    /* Q4_0 in the x16 layout: w is the start of a group; whole groups of 16 rows in x16, a last
     * short group (nr % 16 rows) in row layout. Outputs equal gemm_q4_0's on the same rows bit for
     * bit. NULL in tables without one (hcpu_matmul then uses the generic table's). */
    hk_gemm_q_fn gemm_q4_0_x16;
    /* Whether Q4_0 matrices should be repacked to x16 at load for this table (its gemm_q4_0_x16
     * is faster than its gemm_q4_0). */
    bool repack_q4_0;
    hk_gemm_q16_fn gemm_q8_0;
    hk_gemm_q16_fn gemm_q4_k;
    hk_gemm_q16_fn gemm_q5_k;
    hk_gemm_q16_fn gemm_q6_k;
    hk_gemm_f_fn gemm_f32;
    hk_gemm_f_fn gemm_f16;
    hk_gemm_f_fn gemm_bf16;

    /* Small f32 matrix product, row-major: out[i][c] = alpha*out[i][c] + sum_k a[i][k] b[k][c] for
     * i < M, c < n, k < K (row strides os, as, bs in floats). alpha == 0 writes without reading out. */
    void (*mm_f32)(float *out, size_t os, const float *a, size_t as, const float *b, size_t bs, int M, int n, int K,
                   float alpha);
    /* sum a[i]*b[i] */
    float (*dot)(const float *a, const float *b, int n);
    /* y[i] += a * x[i] */
    void (*axpy)(float *y, float a, const float *x, int n);
    /* y[i] *= a */
    void (*scale)(float *y, float a, int n);
    /* One Mamba-2 state row for one token: S[i] = a*S[i] + bx*B[i]; returns sum S[i]*C[i]. */
    float (*ssm_step)(float *S, float a, float bx, const float *B, const float *C, int n);
    /* x[i] = exp(x[i] - m); returns the sum of the new x (softmax numerator). */
    float (*exp_sum)(float *x, float m, int n);
    /* y[i] = x[i] * sigmoid(x[i]) (y may alias x) */
    void (*silu)(float *y, const float *x, int n);
    /* y[i] = a[i] * silu(b[i]) (y may alias a) */
    void (*mul_silu)(float *y, const float *a, const float *b, int n);
    /* sum x[i]^2, accumulated in double (as the reference norms do) */
    double (*sumsq)(const float *x, int n);
    /* out[i] = w[i] * (x[i] * r) (out may alias x) */
    void (*scale_mul)(float *out, const float *x, const float *w, float r, int n);
} hk_kernels;

/* The plain-C table (always available). */
const hk_kernels *hk_generic(void);
/* The AVX2 table when this build has it and the CPU supports AVX2, FMA and F16C; else NULL. */
const hk_kernels *hk_avx2(void);
/* The AVX-512 table (the AVX2 table with AVX-512 VNNI quantised tiles) written into *out, when
 * this build has it and the CPU supports AVX-512 F, BW, VL and VNNI; else false. */
bool hk_avx512(hk_kernels *out);
/* The SIMD128 table in a wasm build compiled with -msimd128; else NULL. */
const hk_kernels *hk_wasm(void);

/* Writes the best table for this machine into *out and returns out. The environment variable
 * HEARTH_KERNELS=generic|avx2|avx512|wasm forces one (for benchmarks and tests); an unavailable
 * choice falls back to the best. */
const hk_kernels *hk_pick(hk_kernels *out);

#endif
