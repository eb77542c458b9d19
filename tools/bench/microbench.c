/* microbench.c - times the CPU kernels alone (matmul per type and shape, SSM scan/chunked, attention) on random data.
 *
 *   make && cc -O2 -Iinclude -Isrc tools/bench/microbench.c build/libhearth.a -lm -lpthread -o build/microbench
 *   build/microbench [threads]            # HEARTH_KERNELS=generic|avx2 picks a kernel table
 *
 * Prints, per case, the fastest of 7 repetitions and the rate it implies (GB/s of weights
 * for matmuls, since decode is bandwidth-bound; GMAC/s for prefill). With 1 thread the time is
 * the thread's CPU time (time spent descheduled by other work on the machine does not count);
 * with more, wall time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "quant.h"

static int g_nth = 1;

/* CPU time of this thread with one thread (robust to other processes), else wall time. */
static double now(void) {
    if (g_nth > 1) return hu_now();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void fill(float *x, size_t n) {
    uint64_t s = 88172645463325252ull ^ n;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)((s >> 40) & 0xffffff) / 16777216.0f - 0.5f;
    }
}

static void bench_matmul(hcpu_ctx *c, uint32_t type, int n_in, int n_out, int T) {
    uint64_t rb;
    ht_row_bytes(type, (uint64_t)n_in, &rb);
    uint8_t *data = malloc(rb * (uint64_t)n_out);
    float *row = malloc(sizeof(float) * n_in), *x = malloc(sizeof(float) * (size_t)T * n_in);
    float *y = malloc(sizeof(float) * (size_t)T * n_out);
    for (int r = 0; r < n_out; r++) {
        fill(row, (size_t)n_in);
        ht_quantize(type, row, data + (size_t)r * rb, n_in);
    }
    fill(x, (size_t)T * n_in);
    hm_weight w = {.type = type, .ne = {(uint64_t)n_in, (uint64_t)n_out, 1, 1}, .data = data, .row_bytes = rb};
    hcpu_reserve(c, T, n_in, 1, 1, 1, 1, 1, NULL);
    double t[7];
    hcpu_matmul(c, &w, x, T, y);
    for (int i = 0; i < 7; i++) {
        double t0 = now();
        hcpu_matmul(c, &w, x, T, y);
        t[i] = now() - t0;
    }
    qsort(t, 7, sizeof t[0], cmp);
    const double s = t[0]; /* the fastest: least disturbed by other work */
    printf("matmul %-5s %5d x %5d  T=%-4d %8.3f ms  %6.2f GB/s  %7.2f GMAC/s\n", ht_type_get(type)->name, n_out, n_in, T,
           s * 1e3, (double)rb * n_out / s / 1e9, (double)n_in * n_out * T / s / 1e9);
    free(data), free(row), free(x), free(y);
}

static void bench_ssm(hcpu_ctx *c, int T, int chunk) {
    enum { H = 96, P = 80, G = 8, N = 128 };
    float *x = malloc(sizeof(float) * T * H * P), *B = malloc(sizeof(float) * T * G * N), *C = malloc(sizeof(float) * T * G * N);
    float *dt = malloc(sizeof(float) * T * H), A[H], D[H], *S = calloc((size_t)H * P * N, sizeof(float));
    float *y = malloc(sizeof(float) * T * H * P);
    fill(x, (size_t)T * H * P), fill(B, (size_t)T * G * N), fill(C, (size_t)T * G * N);
    for (int i = 0; i < T * H; i++) dt[i] = 0.05f;
    for (int h = 0; h < H; h++) A[h] = -2.0f, D[h] = 1.0f;
    hcpu_reserve(c, T, 32, 1, chunk, G, P, N, NULL);
    double t[7];
    for (int i = 0; i < 7; i++) {
        double t0 = now();
        if (chunk > 1)
            hcpu_ssm_chunked(c, x, B, C, dt, A, D, T, H, P, G, N, chunk, S, y);
        else
            hcpu_ssm_scan(c, x, B, C, dt, A, D, T, H, P, G, N, S, y);
        t[i] = now() - t0;
    }
    qsort(t, 7, sizeof t[0], cmp);
    printf("ssm %-8s T=%-4d chunk %-3d %8.3f ms  %8.1f us/token\n", chunk > 1 ? "chunked" : "scan", T, chunk, t[3] * 1e3,
           t[3] * 1e6 / T);
    free(x), free(B), free(C), free(dt), free(S), free(y);
}

int main(int argc, char **argv) {
    hcpu_ctx *c = NULL;
    if (hcpu_new(argc > 1 ? atoi(argv[1]) : 0, &c, NULL) != HEARTH_OK) return 1;
    g_nth = c->nth;
    printf("kernels %s, %d threads\n", c->k->name, c->nth);
    const uint32_t types[] = {HT_Q4_0, HT_Q8_0};
    for (int i = 0; i < 2; i++) {
        bench_matmul(c, types[i], 3136, 65536, 1); /* larger than the caches: DRAM-bound decode */
        bench_matmul(c, types[i], 3136, 12544, 1); /* 4B ffn_up, decode */
        bench_matmul(c, types[i], 12544, 3136, 1); /* 4B ffn_down, decode */
        bench_matmul(c, types[i], 3136, 12544, 64);
        bench_matmul(c, types[i], 3136, 12544, 256);
    }
    bench_matmul(c, HT_F16, 3136, 4096, 1);
    bench_matmul(c, HT_F16, 3136, 4096, 64);
    bench_ssm(c, 1, 1);
    bench_ssm(c, 256, 64);
    hcpu_free(c);
    return 0;
}
