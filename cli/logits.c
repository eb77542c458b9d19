/* logits.c - `hearth logits`: next-token logits of a token list (prefill or decode), plus greedy tokens, to safetensors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "st_write.h"

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

int cmd_logits(int argc, char **argv) {
    const char *model_path = NULL, *tokens_arg = NULL, *out = NULL;
    bool decode = false;
    int n_gen = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc) model_path = argv[++i];
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) tokens_arg = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--decode")) decode = true;
        else if (!strcmp(argv[i], "--generate") && i + 1 < argc) n_gen = atoi(argv[++i]);
        else return cli_fail("logits", "unknown argument '%s'", argv[i]);
    }
    if (!model_path || !tokens_arg || !out)
        return cli_fail("logits", "usage: hearth logits -m MODEL.gguf --tokens 5,17,42 --out FILE.safetensors [--decode] [--generate N]");
    if (n_gen < 0 || n_gen > 1 << 20) return cli_fail("logits", "--generate %d is out of range", n_gen);
    int32_t *toks = NULL;
    int T = 0;
    if (!cli_parse_ids(tokens_arg, &toks, &T) || T == 0) return cli_fail("logits", "--tokens: expected a list like 5,17,42");
    hearth_model *m = cli_load_model(model_path, 0);
    if (!m) {
        free(toks);
        return 1;
    }
    const int V = hearth_model_n_vocab(m);
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = T + n_gen + 1;
    hearth_session *s = NULL;
    char err[600];
    int rc = 1;
    float *logits = malloc(sizeof(float) * (size_t)V * (size_t)T);
    int32_t *gen = malloc(sizeof(int32_t) * (size_t)(n_gen + 1));
    float *last = malloc(sizeof(float) * (size_t)V);
    if (!logits || !gen || !last) {
        cli_fail("logits", "out of memory");
        goto done;
    }
    if (hearth_session_new(m, &sp, &s, err, sizeof err) != HEARTH_OK) {
        cli_fail("logits", "%s", err);
        goto done;
    }
    hearth_status st = HEARTH_OK;
    if (decode) {
        for (int t = 0; t < T && st == HEARTH_OK; t++)
            st = hearth_session_eval(s, toks + t, 1, logits + (size_t)t * V, HEARTH_LOGITS_LAST);
    } else {
        st = hearth_session_eval(s, toks, T, logits, HEARTH_LOGITS_ALL);
    }
    if (st == HEARTH_OK && n_gen > 0) {
        memcpy(last, logits + (size_t)(T - 1) * V, sizeof(float) * (size_t)V);
        for (int k = 0; k < n_gen && st == HEARTH_OK; k++) {
            gen[k] = argmax(last, V);
            if (k + 1 < n_gen) st = hearth_session_eval(s, gen + k, 1, last, HEARTH_LOGITS_LAST);
        }
    }
    if (st != HEARTH_OK) {
        cli_fail("logits", "%s", hearth_session_error(s));
        goto done;
    }
    st_out_tensor ts[2] = {
        {.name = "logits", .n_dims = 2, .shape = {(uint64_t)T, (uint64_t)V}, .data = logits},
        {.name = "generated", .is_int = true, .n_dims = 1, .shape = {(uint64_t)n_gen}, .data = gen},
    };
    hearth_err e = {0};
    if (st_write_file(out, ts, n_gen > 0 ? 2 : 1, &e) != HEARTH_OK) {
        cli_fail("logits", "%s", e.msg);
        goto done;
    }
    rc = 0;
done:
    hearth_session_free(s);
    hearth_model_free(m);
    free(toks);
    free(logits);
    free(gen);
    free(last);
    return rc;
}
