/* cpu_dispatch.c - picks the kernel table for this CPU at run time (compiled without ISA flags, so it runs anywhere). */
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
/* F16C through CPUID: clang before 15 does not know __builtin_cpu_supports("f16c"). */
static bool cpu_has_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}
#endif

/* Defined by cpu_avx2.c, cpu_avx512.c (x86-64 builds) and cpu_wasm.c: the ISA's table, or NULL
 * when that file was compiled without the ISA's flags. The AVX-512 one sets only the entries it
 * replaces in the AVX2 table. */
const hk_kernels *hk_avx2_table(void);
const hk_kernels *hk_avx512_table(void);
const hk_kernels *hk_wasm_table(void);

const hk_kernels *hk_avx2(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c())
        return hk_avx2_table();
#endif
    return NULL;
}

bool hk_avx512(hk_kernels *out) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const hk_kernels *base = hk_avx2(), *over = hk_avx512_table();
    if (!base || !over || !__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni"))
        return false;
    *out = *base;
    out->name = over->name;
    if (over->gemm_q4_0) out->gemm_q4_0 = over->gemm_q4_0;
    if (over->gemm_q4_0_x16) out->gemm_q4_0_x16 = over->gemm_q4_0_x16;
    out->repack_q4_0 = over->repack_q4_0;
    if (over->gemm_q8_0) out->gemm_q8_0 = over->gemm_q8_0;
    return true;
#else
    (void)out;
    return false;
#endif
}

const hk_kernels *hk_wasm(void) { return hk_wasm_table(); }

const hk_kernels *hk_pick(hk_kernels *out) {
    const char *want = getenv("HEARTH_KERNELS");
    const hk_kernels *k = NULL;
    if (want && !strcmp(want, "generic")) k = hk_generic();
    if (want && !strcmp(want, "avx2")) k = hk_avx2();
    if (want && !strcmp(want, "wasm")) k = hk_wasm();
    if (!k && (!want || !strcmp(want, "avx512")) && hk_avx512(out)) return out;
    if (!k) k = hk_avx2();
    if (!k) k = hk_wasm();
    *out = k ? *k : *hk_generic();
    return out;
}
