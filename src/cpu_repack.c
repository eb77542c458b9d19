/* cpu_repack.c - Q4_0 matrices to and from the x16 layout (cpu_kernels.h): 16 rows interleaved per block, as the AVX2 and AVX-512 kernels load them. */
#include <string.h>

#include "cpu_kernels.h"

enum { Q4_0_BLOCK = 18 /* f16 scale + 16 nibble bytes */ };

/* Row k's block (18 bytes, row layout) and its place in a block of x16 layout: the scale at 2k,
 * nibble bytes 4j..4j+3 at 32 + 64j + 4k. (Fixed-size copies: the compiler turns them into moves.) */
static inline void block_to_x16(uint8_t *x16, const uint8_t *row, int k) {
    memcpy(x16 + 2 * k, row, 2);
    for (int j = 0; j < 4; j++) memcpy(x16 + 32 + 64 * j + 4 * k, row + 2 + 4 * j, 4);
}

static inline void block_from_x16(const uint8_t *x16, uint8_t *row, int k) {
    memcpy(row, x16 + 2 * k, 2);
    for (int j = 0; j < 4; j++) memcpy(row + 2 + 4 * j, x16 + 32 + 64 * j + 4 * k, 4);
}

/* One group: src = 16 rows in row layout (stride rb), dst = the group in x16 layout. */
static void pack_group(const uint8_t *src, size_t rb, uint8_t *dst) {
    const size_t nb = rb / Q4_0_BLOCK;
    for (size_t b = 0; b < nb; b++)
        for (int k = 0; k < HK_X16; k++) block_to_x16(dst + b * HK_X16_BLOCK, src + (size_t)k * rb + b * Q4_0_BLOCK, k);
}

void hk_q4_0_pack_x16(uint8_t *w, size_t rb, uint64_t nr, uint8_t *tmp) {
    const size_t group = (size_t)HK_X16 * rb; /* a group keeps its bytes: nb * 288 = 16 * rb */
    for (uint64_t g = 0; g < nr / HK_X16; g++) {
        uint8_t *grp = w + g * group;
        memcpy(tmp, grp, group);
        pack_group(tmp, rb, grp);
    }
}

void hk_q4_0_blocks_x16(const uint8_t *w, size_t rb, uint64_t nr, uint64_t r, size_t b0, size_t n, uint8_t *out) {
    if (r >= nr / HK_X16 * HK_X16) { /* the short last group stays in row layout */
        memcpy(out, w + r * rb + b0 * Q4_0_BLOCK, n * Q4_0_BLOCK);
        return;
    }
    const uint8_t *grp = w + (r / HK_X16) * HK_X16 * rb;
    const int k = (int)(r % HK_X16);
    for (size_t b = 0; b < n; b++) block_from_x16(grp + (b0 + b) * HK_X16_BLOCK, out + b * Q4_0_BLOCK, k);
}
