/* gpu_serve.c - `gpu_plan serve DIR`: the C planner driven line by line from stdin, as the wasm build will be from web/.
 *
 * One command per line; one answer line per command ("ok ...", "run ...", "token N", "done" or
 * "err message"). Blobs are written to files in DIR and named in the answer.
 *
 *   convert HF_DIR OUT.gguf TYPE                       hconv_convert (TYPE as `hearth convert --type`: f32 ..
 *                                                      q4_0, q6_k, q4_k_m, q5_k_m)
 *   convert_random CONFIG.json OUT.gguf TYPE SEED      hconv_random_weights (the same types)
 *   load GGUF N_CTX MAX_BATCH LOGITS_ROWS CHUNK MAX_PART MAX_BINDING MAX_BUFFER MAX_WG SUBGROUP_MIN DOT4
 *                                                      -> ok PLAN_FILE PLAN_BYTES BYTES_PER_TOKEN (CPU session + GPU plan)
 *   step MODE POS RESET T tok...                       one forward step (MODE none|last|all) -> ok FILE DISPATCHES
 *   reset                                              forget every token (hg_session_reset)
 *   gen_begin SEED MAX TEMP TOP_K TOP_P MIN_P REP T tok...   hg_gen_begin (SEED reseeds the session RNG)
 *   gen_next                                           -> run FILE WANTS_TOKEN WANTS_LOGITS | token N | done
 *   gen_result TOKEN LOGITS_FILE|-                     -> ok NEW_TOKEN
 *   gen_lost                                           -> ok (the CPU continues)
 *   cpu_logits MODE T tok...                           logits (MODE last|all) on a fresh CPU session -> ok FILE
 *   cpu_gen SEED MAX TEMP TOP_K TOP_P MIN_P REP T tok...     the same generation on the CPU alone -> ok tok...
 *   cpu_check FILE N_PROMPT                            teacher-forced check of a token sequence (int32 file:
 *                                                      prompt, then generated) on a fresh CPU session -> ok FILE
 *                                                      of (argmax int32, top-2 gap / max |logit| f32) per generated token
 *   decode_blobs POS N TOKEN                           N greedy decode steps from POS (TOKEN fed first, then
 *                                                      each step's sampled token, on the GPU) -> ok FILE... DISPATCHES
 *   quit
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "convert.h"
#include "gpu_helper.h"
#include "quant.h"
#include "session.h"
#include "webgpu/gpu.h"

typedef struct {
    const char *dir;
    hearth_model *m;
    hearth_session *s;
    hg_session *gs;
    int n_ctx;
    int n_files;
} server;

static void drop(server *sv) {
    hg_session_free(sv->gs);
    hearth_session_free(sv->s);
    hearth_model_free(sv->m);
    sv->gs = NULL;
    sv->s = NULL;
    sv->m = NULL;
}

/* Writes a blob to a fresh file; prints nothing. Returns the file name (static buffer). */
static const char *put_blob(server *sv, const uint8_t *p, size_t n) {
    static char name[64];
    snprintf(name, sizeof name, "blob_%d.bin", sv->n_files++);
    if (gh_write_file(sv->dir, name, p, n)) return NULL;
    return name;
}

static int next_int(char **save) {
    char *t = strtok_r(NULL, " \t\n", save);
    return t ? atoi(t) : 0;
}
static double next_num(char **save) {
    char *t = strtok_r(NULL, " \t\n", save);
    return t ? atof(t) : 0;
}
static char *next_str(char **save) { return strtok_r(NULL, " \t\n", save); }

static int32_t *read_tokens(char **save, int *n) {
    *n = next_int(save);
    if (*n < 0 || *n > 1 << 20) return NULL;
    int32_t *t = malloc(sizeof(int32_t) * (size_t)(*n ? *n : 1));
    for (int i = 0; t && i < *n; i++) t[i] = next_int(save);
    return t;
}

static void read_sampler(char **save, uint64_t *seed, int *max, hs_sampler_params *sp) {
    *seed = (uint64_t)next_num(save);
    *max = next_int(save);
    sp->temperature = (float)next_num(save);
    sp->top_k = next_int(save);
    sp->top_p = (float)next_num(save);
    sp->min_p = (float)next_num(save);
    sp->repetition_penalty = (float)next_num(save);
}

static void cmd_load(server *sv, char **save) {
    drop(sv);
    const char *path = next_str(save);
    hg_options o = hg_default_options();
    sv->n_ctx = o.n_ctx = next_int(save);
    o.max_batch = next_int(save);
    o.logits_rows = next_int(save);
    o.ssd_chunk = next_int(save);
    o.max_part = (uint64_t)next_num(save);
    hg_device dev = hg_device_default();
    dev.max_binding = (uint64_t)next_num(save);
    dev.max_buffer = (uint64_t)next_num(save);
    dev.max_wg = (uint32_t)next_int(save);
    dev.subgroup_min = (uint32_t)next_int(save);
    dev.subgroups = dev.subgroup_min > 0;
    dev.dot4 = next_int(save) != 0;
    char err[600];
    if (!path || hearth_model_load(path, NULL, &sv->m, err, sizeof err) != HEARTH_OK) {
        printf("err load: %s\n", path ? err : "no path");
        return;
    }
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = o.n_ctx;
    if (hearth_session_new(sv->m, &sp, &sv->s, err, sizeof err) != HEARTH_OK) {
        printf("err session: %s\n", err);
        drop(sv);
        return;
    }
    hm_session_set_ssm_chunk(sv->s, o.ssd_chunk);
    hearth_err e = {0};
    if (hg_session_new(sv->s, &dev, &o, &sv->gs, &e) != HEARTH_OK) {
        printf("err plan: %s\n", e.msg);
        drop(sv);
        return;
    }
    size_t len;
    const uint8_t *p = hg_session_plan(sv->gs, &len);
    const char *f = put_blob(sv, p, len);
    if (!f) printf("err cannot write the plan\n");
    else printf("ok %s %zu %llu\n", f, len, (unsigned long long)hg_model_bytes_per_token(hg_session_model(sv->gs)));
}

static void cmd_step(server *sv, char **save) {
    const char *mode = next_str(save);
    int pos = next_int(save), reset = next_int(save), T;
    int32_t *toks = read_tokens(save, &T);
    hg_step_opts so = {0};
    so.logits = !mode || strcmp(mode, "none") == 0 ? HEARTH_LOGITS_NONE : strcmp(mode, "all") == 0 ? HEARTH_LOGITS_ALL : HEARTH_LOGITS_LAST;
    so.reset = reset != 0;
    hearth_err e = {0};
    const uint8_t *p;
    size_t len;
    hg_model *gm = hg_session_model(sv->gs);
    if (hg_model_step(gm, T ? toks : NULL, T ? T : 1, pos, &so, &p, &len, &e) != HEARTH_OK) printf("err %s\n", e.msg);
    else printf("ok %s %d\n", put_blob(sv, p, len), hg_model_dispatches(gm));
    free(toks);
}

static void cmd_gen_begin(server *sv, char **save) {
    uint64_t seed;
    int max, n;
    hs_sampler_params sp;
    read_sampler(save, &seed, &max, &sp);
    int32_t *toks = read_tokens(save, &n);
    hs_rng_seed(&sv->s->rng, seed);
    hearth_err e = {0};
    if (hg_gen_begin(sv->gs, toks, n, &sp, max, &e) != HEARTH_OK) printf("err %s\n", e.msg);
    else printf("ok\n");
    free(toks);
}

static void cmd_gen_next(server *sv) {
    hg_action a;
    hearth_err e = {0};
    if (hg_gen_next(sv->gs, &a, &e) != HEARTH_OK) {
        printf("err %s\n", e.msg);
        return;
    }
    if (a.kind == HG_ACT_DONE) printf("done\n");
    else if (a.kind == HG_ACT_TOKEN) printf("token %d\n", a.token);
    else printf("run %s %d %d %d\n", put_blob(sv, a.blob, a.len), a.wants_token, a.wants_logits, hg_model_dispatches(hg_session_model(sv->gs)));
}

static void cmd_gen_result(server *sv, char **save) {
    int token = next_int(save);
    const char *lf = next_str(save);
    float *logits = NULL;
    if (lf && strcmp(lf, "-") != 0) {
        const int V = sv->m->hp.n_vocab;
        logits = malloc(sizeof(float) * (size_t)V);
        FILE *f = fopen(lf, "rb");
        if (!f || fread(logits, sizeof(float), (size_t)V, f) != (size_t)V) {
            printf("err cannot read %s\n", lf);
            if (f) fclose(f);
            free(logits);
            return;
        }
        fclose(f);
    }
    hearth_err e = {0};
    int32_t tok;
    if (hg_gen_result(sv->gs, token, logits, &tok, &e) != HEARTH_OK) printf("err %s\n", e.msg);
    else printf("ok %d\n", tok);
    free(logits);
}

static void cmd_cpu_logits(server *sv, char **save) {
    const char *mode = next_str(save);
    const bool all = mode && strcmp(mode, "all") == 0;
    int n;
    int32_t *toks = read_tokens(save, &n);
    hearth_session_params p = hearth_session_default_params();
    p.n_ctx = sv->n_ctx;
    hearth_session *s = NULL;
    char err[256];
    const int V = sv->m->hp.n_vocab;
    const size_t rows = all ? (size_t)(n > 0 ? n : 1) : 1;
    float *logits = malloc(sizeof(float) * (size_t)V * rows);
    if (hearth_session_new(sv->m, &p, &s, err, sizeof err) != HEARTH_OK) printf("err %s\n", err);
    else if (hearth_session_eval(s, toks, n, logits, all ? HEARTH_LOGITS_ALL : HEARTH_LOGITS_LAST) != HEARTH_OK)
        printf("err %s\n", hearth_session_error(s));
    else printf("ok %s\n", put_blob(sv, (const uint8_t *)logits, sizeof(float) * (size_t)V * rows));
    hearth_session_free(s);
    free(logits);
    free(toks);
}

/* The same generation on a fresh CPU session: the reference for the GPU's tokens. */
static void cmd_cpu_gen(server *sv, char **save) {
    uint64_t seed;
    int max, n;
    hs_sampler_params sp;
    read_sampler(save, &seed, &max, &sp);
    int32_t *toks = read_tokens(save, &n);
    hearth_session_params p = hearth_session_default_params();
    p.n_ctx = sv->n_ctx;
    hearth_session *s = NULL;
    char err[256];
    if (hearth_session_new(sv->m, &p, &s, err, sizeof err) != HEARTH_OK) {
        printf("err %s\n", err);
        free(toks);
        return;
    }
    hs_rng_seed(&s->rng, seed);
    const int V = sv->m->hp.n_vocab;
    float *logits = malloc(sizeof(float) * (size_t)V);
    void *scratch = malloc(hs_sample_scratch_bytes(V));
    int32_t *hist = malloc(sizeof(int32_t) * (size_t)(n + max + 1));
    memcpy(hist, toks, sizeof(int32_t) * (size_t)n);
    int nh = n;
    printf("ok");
    hearth_status st = hearth_session_eval(s, toks, n, logits, HEARTH_LOGITS_LAST);
    for (int k = 0; k < max && st == HEARTH_OK; k++) {
        int32_t t = hs_sample(&sp, logits, V, hist, nh, &s->rng, scratch);
        printf(" %d", t);
        hist[nh++] = t;
        if (k + 1 < max) st = hearth_session_eval(s, &t, 1, logits, HEARTH_LOGITS_LAST);
    }
    printf("\n");
    free(logits), free(scratch), free(hist), free(toks);
    hearth_session_free(s);
}

/* The CPU's verdict on a generated sequence (tests/js/webgpu_soak.test.mjs): the sequence is fed in
 * chunks to a fresh CPU session; for generated token k the row that predicted it gives its argmax and
 * how far the top two logits are apart (relative to the row's largest |logit|). */
static void cmd_cpu_check(server *sv, char **save) {
    const char *path = next_str(save);
    const int n_prompt = next_int(save), V = sv->m->hp.n_vocab, CH = 256;
    size_t bytes = 0;
    int32_t *toks = NULL;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (f && fseek(f, 0, SEEK_END) == 0 && ftell(f) > 0 && (bytes = (size_t)ftell(f)) <= (64u << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (toks = malloc(bytes)) && fread(toks, 1, bytes, f) != bytes)
        bytes = 0;
    if (f) fclose(f);
    const int n = (int)(bytes / sizeof(int32_t)), n_gen = n - n_prompt;
    hearth_session_params p = hearth_session_default_params();
    p.n_ctx = sv->n_ctx;
    hearth_session *s = NULL;
    char err[256];
    float *logits = malloc(sizeof(float) * (size_t)V * CH);
    uint8_t *res = malloc(8 * (size_t)(n_gen > 0 ? n_gen : 1));
    hearth_status st = !toks || n_prompt < 1 || n_gen < 1 || !logits || !res ? HEARTH_ERR_INVALID_ARG
                                                                              : hearth_session_new(sv->m, &p, &s, err, sizeof err);
    for (int t0 = 0; st == HEARTH_OK && t0 < n - 1; t0 += CH) {
        const int T = n - 1 - t0 < CH ? n - 1 - t0 : CH; /* the last token predicts nothing */
        st = hearth_session_eval(s, toks + t0, T, logits, HEARTH_LOGITS_ALL);
        for (int r = 0; st == HEARTH_OK && r < T; r++) {
            const int k = t0 + r + 1 - n_prompt; /* row t0+r predicts token t0+r+1 */
            if (k < 0) continue;
            const float *l = logits + (size_t)r * V;
            int a = 0, b = -1;
            float mx = 0;
            for (int i = 0; i < V; i++) {
                mx = fabsf(l[i]) > mx ? fabsf(l[i]) : mx;
                if (l[i] > l[a]) b = a, a = i;
                else if (i != a && (b < 0 || l[i] > l[b])) b = i;
            }
            const float gap = (l[a] - (b >= 0 ? l[b] : l[a])) / (mx > 0 ? mx : 1);
            memcpy(res + 8 * (size_t)k, &a, 4);
            memcpy(res + 8 * (size_t)k + 4, &gap, 4);
        }
    }
    if (st != HEARTH_OK) printf("err cpu_check: %s\n", s ? hearth_session_error(s) : "bad arguments or no memory");
    else printf("ok %s\n", put_blob(sv, res, 8 * (size_t)n_gen));
    hearth_session_free(s);
    free(toks), free(logits), free(res);
}

/* Decode steps that need nothing from the CPU between them (benchmarks pipeline them). */
static void cmd_decode_blobs(server *sv, char **save) {
    int pos = next_int(save), n = next_int(save);
    int32_t tok = next_int(save);
    hg_model *gm = hg_session_model(sv->gs);
    hg_step_opts so = {0};
    so.sample = true; /* greedy */
    hearth_err e = {0};
    printf("ok");
    for (int i = 0; i < n; i++) {
        const uint8_t *p;
        size_t len;
        if (hg_model_step(gm, i == 0 ? &tok : NULL, 1, pos + i, &so, &p, &len, &e) != HEARTH_OK) {
            printf("\nerr %s\n", e.msg);
            return;
        }
        printf(" %s", put_blob(sv, p, len));
    }
    printf(" %d\n", hg_model_dispatches(gm));
}

int gh_serve_main(const char *dir) {
    server sv = {0};
    sv.dir = dir;
    char line[1 << 16];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        char *save = NULL;
        char *cmd = strtok_r(line, " \t\n", &save);
        if (!cmd) continue;
        if (strcmp(cmd, "quit") == 0) break;
        if (strcmp(cmd, "convert") == 0 || strcmp(cmd, "convert_random") == 0) {
            const bool rnd = strcmp(cmd, "convert_random") == 0;
            const char *src = next_str(&save), *dst = next_str(&save), *type = next_str(&save);
            const char *seed = rnd ? next_str(&save) : NULL;
            hconv_options o = {.quiet = true, .seed = seed ? strtoull(seed, NULL, 10) : 0};
            hearth_err e = {0};
            if (!src || !dst || !type || !hconv_parse_type(type, &o.type, &o.mix) || (rnd && !seed))
                printf("err convert: bad arguments\n");
            else if ((rnd ? hconv_random_weights(src, dst, &o, &e) : hconv_convert(src, dst, &o, &e)) != HEARTH_OK)
                printf("err convert: %s\n", e.msg);
            else printf("ok\n");
            continue;
        }
        if (strcmp(cmd, "load") == 0) {
            cmd_load(&sv, &save);
            continue;
        }
        if (!sv.gs) {
            printf("err no model loaded\n");
            continue;
        }
        if (strcmp(cmd, "step") == 0) cmd_step(&sv, &save);
        else if (strcmp(cmd, "reset") == 0) {
            hg_session_reset(sv.gs);
            printf("ok\n");
        } else if (strcmp(cmd, "gen_begin") == 0) cmd_gen_begin(&sv, &save);
        else if (strcmp(cmd, "gen_next") == 0) cmd_gen_next(&sv);
        else if (strcmp(cmd, "gen_result") == 0) cmd_gen_result(&sv, &save);
        else if (strcmp(cmd, "gen_lost") == 0) {
            hearth_err e = {0};
            if (hg_gen_lost(sv.gs, &e) != HEARTH_OK) printf("err %s\n", e.msg);
            else printf("ok\n");
        } else if (strcmp(cmd, "cpu_gen") == 0) cmd_cpu_gen(&sv, &save);
        else if (strcmp(cmd, "cpu_logits") == 0) cmd_cpu_logits(&sv, &save);
        else if (strcmp(cmd, "decode_blobs") == 0) cmd_decode_blobs(&sv, &save);
        else if (strcmp(cmd, "cpu_check") == 0) cmd_cpu_check(&sv, &save);

        else printf("err unknown command %s\n", cmd);
    }
    drop(&sv);
    return 0;
}
