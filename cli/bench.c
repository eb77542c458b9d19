/* bench.c - `hearth bench`: load time, prefill and decode tokens/s (median of r runs) and peak memory of a model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "cpu_kernels.h"
#include "threadpool.h"
#include "util.h"

typedef struct {
    const char *model;
    int n_prompt, n_gen, reps, threads;
    bool json, warmup;
    uint64_t seed;
    hearth_weights_mode weights;
} bench_opts;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n) {
    double *s = malloc(sizeof(double) * (size_t)n);
    if (!s) return 0;
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

static int argmax(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

/* Peak resident memory of this process in MiB (includes the mapped weights it touched). */
static double peak_rss_mib(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

/* CPU seconds (user + system) this process has used. */
static double cpu_seconds(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

/* One run: prefill n_prompt tokens, then n_gen greedy decode steps. Wall seconds into *tp, *td;
 * CPU seconds of the process during each phase into *cp, *cd. */
static hearth_status run_once(hearth_session *s, const int32_t *prompt, int n_prompt, int n_gen, float *logits, int V,
                              double *tp, double *td, double *cp, double *cd) {
    hearth_session_reset(s);
    const double c0 = cpu_seconds(), t0 = hu_now();
    hearth_status st = hearth_session_eval(s, prompt, n_prompt, logits, HEARTH_LOGITS_LAST);
    const double c1 = cpu_seconds(), t1 = hu_now();
    for (int i = 0; st == HEARTH_OK && i < n_gen; i++) {
        int32_t tok = argmax(logits, V);
        st = hearth_session_eval(s, &tok, 1, logits, HEARTH_LOGITS_LAST);
    }
    *tp = t1 - t0;
    *td = hu_now() - t1;
    *cp = c1 - c0;
    *cd = cpu_seconds() - c1;
    return st;
}

static int usage(void) {
    return cli_fail("bench", "usage: hearth bench -m MODEL [-p 512] [-n 128] [-r 5] [--threads N] [--json] [--no-warmup] [--seed S]\n"
                            "       [--weights auto|mmap|copy]");
}

int cmd_bench(int argc, char **argv) {
    bench_opts o = {NULL, 512, 128, 5, 0, false, true, 1, HEARTH_WEIGHTS_AUTO};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const bool has = i + 1 < argc;
        if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && has) o.model = argv[++i];
        else if (!strcmp(a, "-p") && has) o.n_prompt = atoi(argv[++i]);
        else if (!strcmp(a, "-n") && has) o.n_gen = atoi(argv[++i]);
        else if (!strcmp(a, "-r") && has) o.reps = atoi(argv[++i]);
        else if ((!strcmp(a, "--threads") || !strcmp(a, "-t")) && has) o.threads = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && has) o.seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--json")) o.json = true;
        else if (!strcmp(a, "--no-warmup")) o.warmup = false;
        else if (!strcmp(a, "--weights") && has) {
            const char *v = argv[++i];
            if (!strcmp(v, "auto")) o.weights = HEARTH_WEIGHTS_AUTO;
            else if (!strcmp(v, "mmap")) o.weights = HEARTH_WEIGHTS_MMAP;
            else if (!strcmp(v, "copy")) o.weights = HEARTH_WEIGHTS_COPY;
            else return usage();
        }
        else return usage();
    }
    if (!o.model || o.n_prompt < 1 || o.n_gen < 0 || o.reps < 1 || o.threads < 0) return usage();

    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = o.threads;
    mp.weights = o.weights;
    hearth_model *m = NULL;
    char err[600];
    double t0 = hu_now();
    if (hearth_model_load(o.model, &mp, &m, err, sizeof err) != HEARTH_OK) return cli_fail("bench", "cannot load model: %s", err);
    const double load_s = hu_now() - t0;
    const int V = hearth_model_n_vocab(m);

    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = o.n_prompt + o.n_gen + 1;
    hearth_session *s = NULL;
    if (hearth_session_new(m, &sp, &s, err, sizeof err) != HEARTH_OK) {
        hearth_model_free(m);
        return cli_fail("bench", "cannot create a session: %s", err);
    }
    int32_t *prompt = malloc(sizeof(int32_t) * (size_t)o.n_prompt);
    float *logits = malloc(sizeof(float) * (size_t)V);
    double *tp = calloc((size_t)o.reps, sizeof(double)), *td = calloc((size_t)o.reps, sizeof(double));
    double *up = calloc((size_t)o.reps, sizeof(double)), *ud = calloc((size_t)o.reps, sizeof(double));
    const int nth = o.threads > 0 ? o.threads : htp_cpu_count();
    int rc = 0;
    if (!prompt || !logits || !tp || !td || !up || !ud) {
        rc = cli_fail("bench", "out of memory");
        goto done;
    }
    uint64_t st = o.seed * 0x9e3779b97f4a7c15ull + 1;
    for (int i = 0; i < o.n_prompt; i++) {
        st ^= st << 13, st ^= st >> 7, st ^= st << 17;
        prompt[i] = (int32_t)(st % (uint64_t)V);
    }
    /* the first run touches every mapped weight page: a short warm-up run keeps it out of the figures */
    if (o.warmup) {
        double a, b, c, d;
        if (run_once(s, prompt, o.n_prompt < 32 ? o.n_prompt : 32, o.n_gen < 4 ? o.n_gen : 4, logits, V, &a, &b, &c, &d) != HEARTH_OK) {
            rc = cli_fail("bench", "warm-up failed: %s", hearth_session_error(s));
            goto done;
        }
    }
    for (int r = 0; r < o.reps; r++) {
        double cp, cd;
        if (run_once(s, prompt, o.n_prompt, o.n_gen, logits, V, &tp[r], &td[r], &cp, &cd) != HEARTH_OK) {
            rc = cli_fail("bench", "run %d failed: %s", r + 1, hearth_session_error(s));
            goto done;
        }
        /* CPU utilisation: 1 = every thread busy the whole time (the pool spins while it waits),
         * less when other processes took the cores */
        up[r] = cp / (tp[r] * nth);
        ud[r] = o.n_gen ? cd / (td[r] * nth) : 0;
        tp[r] = o.n_prompt / tp[r];
        td[r] = o.n_gen ? o.n_gen / td[r] : 0;
        if (!o.json)
            fprintf(stderr, "run %d/%d: prefill %.2f tok/s, decode %.2f tok/s (cpu utilisation %.2f, %.2f)\n", r + 1, o.reps,
                    tp[r], td[r], up[r], ud[r]);
    }
    const double mp_ = median(tp, o.reps), md = median(td, o.reps), rss = peak_rss_mib();
    hk_kernels kt;
    const char *kname = hk_pick(&kt)->name;
    if (o.json) {
        printf("{\"engine\":\"hearth\",\"model\":\"%s\",\"arch\":\"%s\",\"kernels\":\"%s\",\"threads\":%d,"
               "\"load_s\":%.4f,\"weights\":\"%s\",\"n_prompt\":%d,\"n_gen\":%d,\"runs\":%d,\"prefill_tps\":[",
               o.model, hearth_model_arch(m), kname, nth, load_s, hearth_model_weights(m), o.n_prompt, o.n_gen, o.reps);
        for (int r = 0; r < o.reps; r++) printf("%s%.4f", r ? "," : "", tp[r]);
        printf("],\"decode_tps\":[");
        for (int r = 0; r < o.reps; r++) printf("%s%.4f", r ? "," : "", td[r]);
        printf("],\"prefill_cpu_util\":[");
        for (int r = 0; r < o.reps; r++) printf("%s%.3f", r ? "," : "", up[r]);
        printf("],\"decode_cpu_util\":[");
        for (int r = 0; r < o.reps; r++) printf("%s%.3f", r ? "," : "", ud[r]);
        printf("],\"prefill_tps_median\":%.4f,\"decode_tps_median\":%.4f,\"peak_rss_mib\":%.1f}\n", mp_, md, rss);
    } else {
        printf("model      %s (%s)\n", o.model, hearth_model_arch(m));
        printf("kernels    %s, %d threads\n", kname, nth);
        printf("load       %.3f s (weights: %s)\n", load_s, hearth_model_weights(m));
        printf("prefill    %.2f tok/s  (%d tokens, median of %d)\n", mp_, o.n_prompt, o.reps);
        printf("decode     %.2f tok/s  (%d tokens, median of %d)\n", md, o.n_gen, o.reps);
        printf("peak RSS   %.1f MiB\n", rss);
    }
done:
    free(prompt);
    free(logits);
    free(tp);
    free(td);
    free(up);
    free(ud);
    hearth_session_free(s);
    hearth_model_free(m);
    return rc;
}
