/* gpu_synth.c - `gpu_plan synth OUT.gguf PRESET TYPE`: a nemotron_h GGUF with random weights and real shapes, for speed measurements.
 *
 * Decode speed does not depend on the weights' values, so a file with NVIDIA-Nemotron-3-Nano-4B's
 * shapes (../shared/models/nemotron-3-nano-4b.config.json, MODEL-nemotron-h.md) and random blocks
 * measures it faithfully, and is written in seconds where no checkpoint can travel. Values are kept
 * tame (small scales, norm weights 1, A < 0) so that activations stay finite.
 * PRESET: "nemotron-4b" or "tiny" (nemotron_h_tiny's shapes). TYPE: the matrices' type (f32, f16,
 * bf16, q8_0, q4_0); as `hearth convert` does, the LM head is Q8_0 when TYPE is q4_0, and the
 * 1-D parameters stay F32.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gguf.h"
#include "gpu_helper.h"
#include "quant.h"

typedef struct {
    int vocab, embd, ff, heads, kv_heads, head_dim, ssm_heads, ssm_head_dim, state, groups, conv;
    const char *pattern; /* M = Mamba-2, * = attention, - = MLP */
} preset;

static const preset presets[] = {
    {131072, 3136, 12544, 40, 8, 128, 96, 80, 128, 8, 4, "M-M-M-MM-M-M*-M-M*-M-M-M*-M-M-MM*-MMM-M-M-"},
    {512, 64, 160, 4, 2, 16, 8, 16, 16, 2, 4, "M-M*-M*-"},
};

typedef struct {
    uint64_t s;
} synth_rng;

static uint64_t next(synth_rng *r) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

typedef struct {
    synth_rng rng;
    const preset *p;
} producer;

/* Fills a tensor: quantised blocks with random codes and small scales; f32 vectors by role. */
static hearth_status produce(void *user, uint64_t index, const gguf_tensor *t, void *dst, hearth_err *e) {
    (void)index;
    (void)e;
    producer *pr = user;
    uint8_t *d = dst;
    const uint64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    if (t->type == HT_Q4_0 || t->type == HT_Q8_0) {
        const uint64_t bs = t->type == HT_Q4_0 ? 18 : 34, nb = n / 32;
        /* scale ~ 1/sqrt(row length) / codes' spread, so that outputs keep unit size */
        const float scale = 1.0f / sqrtf((float)t->ne[0]) / (t->type == HT_Q4_0 ? 4.0f : 64.0f);
        const uint16_t h = hu_f32_to_f16(scale);
        for (uint64_t b = 0; b < nb; b++) {
            uint8_t *blk = d + b * bs;
            blk[0] = (uint8_t)h;
            blk[1] = (uint8_t)(h >> 8);
            for (uint64_t j = 2; j < bs; j += 8) {
                uint64_t r = next(&pr->rng);
                memcpy(blk + j, &r, bs - j < 8 ? bs - j : 8);
            }
        }
        return HEARTH_OK;
    }
    float *f = malloc(sizeof(float) * (size_t)n);
    if (!f) return HEARTH_ERR_NOMEM;
    const char *name = t->name;
    for (uint64_t i = 0; i < n; i++) {
        float u = (float)(next(&pr->rng) >> 11) * (1.0f / 9007199254740992.0f) - 0.5f; /* [-0.5, 0.5) */
        float v;
        if (strstr(name, "norm")) v = 1.0f;
        else if (strstr(name, "ssm_a")) v = -1.0f - u;
        else if (strstr(name, "ssm_d")) v = 1.0f;
        else if (strstr(name, "ssm_dt")) v = -2.0f + u;
        else if (strstr(name, "conv1d")) v = u * 0.5f;
        else v = u * 2.0f / sqrtf((float)t->ne[0]); /* float matrices */
        f[i] = v;
    }
    ht_quantize(t->type, f, dst, (int64_t)n);
    free(f);
    return HEARTH_OK;
}

static hearth_status add(gguf_ctx *g, const char *name, uint32_t type, uint64_t ne0, uint64_t ne1, hearth_err *e) {
    const uint64_t ne[2] = {ne0, ne1};
    return gguf_add_tensor_deferred(g, name, type, ne1 > 1 || strstr(name, "ssm_a") || strstr(name, "ssm_d") ? 2 : 1, ne, e);
}

int gh_synth_main(const char *out, const char *preset_name, const char *type_name) {
    const preset *p = strcmp(preset_name, "nemotron-4b") == 0 ? &presets[0] : strcmp(preset_name, "tiny") == 0 ? &presets[1] : NULL;
    const int ti = ht_type_from_name(type_name);
    if (!p || ti < 0) {
        fprintf(stderr, "synth: unknown preset %s or type %s\n", preset_name, type_name);
        return 2;
    }
    const uint32_t wt = (uint32_t)ti, head = wt == HT_Q4_0 ? HT_Q8_0 : wt;
    const int L = (int)strlen(p->pattern), E = p->embd;
    const int DI = p->ssm_heads * p->ssm_head_dim, CD = DI + 2 * p->groups * p->state, IN = DI + CD + p->ssm_heads;
    gguf_ctx *g = gguf_new();
    hearth_err e = {0};
    hearth_status st = g ? HEARTH_OK : HEARTH_ERR_NOMEM;
    int32_t *kv = calloc((size_t)L, sizeof(int32_t)), *ff = calloc((size_t)L, sizeof(int32_t));
    for (int l = 0; l < L; l++) {
        kv[l] = p->pattern[l] == '*' ? p->kv_heads : 0;
        ff[l] = p->pattern[l] == '-' ? p->ff : 0;
    }
#define TRY(x) do { if (st == HEARTH_OK) st = (x); } while (0)
    TRY(gguf_set_str(g, "general.architecture", "nemotron_h"));
    TRY(gguf_set_str(g, "general.name", "synthetic (random weights, real shapes)"));
    TRY(gguf_set_u32(g, "nemotron_h.block_count", (uint32_t)L));
    TRY(gguf_set_u32(g, "nemotron_h.embedding_length", (uint32_t)E));
    TRY(gguf_set_u32(g, "nemotron_h.context_length", 1u << 20));
    TRY(gguf_set_u32(g, "nemotron_h.attention.head_count", (uint32_t)p->heads));
    TRY(gguf_set_arr(g, "nemotron_h.attention.head_count_kv", GGUF_I32, kv, (uint64_t)L));
    TRY(gguf_set_arr(g, "nemotron_h.feed_forward_length", GGUF_I32, ff, (uint64_t)L));
    TRY(gguf_set_u32(g, "nemotron_h.attention.key_length", (uint32_t)p->head_dim));
    TRY(gguf_set_u32(g, "nemotron_h.attention.value_length", (uint32_t)p->head_dim));
    TRY(gguf_set_f32(g, "nemotron_h.attention.layer_norm_rms_epsilon", 1e-5f));
    TRY(gguf_set_f32(g, "nemotron_h.attention.layer_norm_epsilon", 1e-5f));
    TRY(gguf_set_u32(g, "nemotron_h.ssm.conv_kernel", (uint32_t)p->conv));
    TRY(gguf_set_u32(g, "nemotron_h.ssm.state_size", (uint32_t)p->state));
    TRY(gguf_set_u32(g, "nemotron_h.ssm.group_count", (uint32_t)p->groups));
    TRY(gguf_set_u32(g, "nemotron_h.ssm.inner_size", (uint32_t)DI));
    TRY(gguf_set_u32(g, "nemotron_h.ssm.time_step_rank", (uint32_t)p->ssm_heads));
    TRY(add(g, "token_embd.weight", wt, (uint64_t)E, (uint64_t)p->vocab, &e));
    char n[96];
    for (int l = 0; l < L; l++) {
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", l, (s)), n)
        TRY(add(g, NAME("attn_norm.weight"), HT_F32, (uint64_t)E, 1, &e));
        if (p->pattern[l] == 'M') {
            TRY(add(g, NAME("ssm_in.weight"), wt, (uint64_t)E, (uint64_t)IN, &e));
            TRY(add(g, NAME("ssm_conv1d.weight"), HT_F32, (uint64_t)p->conv, (uint64_t)CD, &e));
            TRY(add(g, NAME("ssm_conv1d.bias"), HT_F32, (uint64_t)CD, 1, &e));
            TRY(add(g, NAME("ssm_dt.bias"), HT_F32, (uint64_t)p->ssm_heads, 1, &e));
            TRY(add(g, NAME("ssm_a"), HT_F32, 1, (uint64_t)p->ssm_heads, &e));
            TRY(add(g, NAME("ssm_d"), HT_F32, 1, (uint64_t)p->ssm_heads, &e));
            TRY(add(g, NAME("ssm_norm.weight"), HT_F32, (uint64_t)(DI / p->groups), (uint64_t)p->groups, &e));
            TRY(add(g, NAME("ssm_out.weight"), wt, (uint64_t)DI, (uint64_t)E, &e));
        } else if (p->pattern[l] == '*') {
            const uint64_t qd = (uint64_t)p->heads * (uint64_t)p->head_dim, kvd = (uint64_t)p->kv_heads * (uint64_t)p->head_dim;
            TRY(add(g, NAME("attn_q.weight"), wt, (uint64_t)E, qd, &e));
            TRY(add(g, NAME("attn_k.weight"), wt, (uint64_t)E, kvd, &e));
            TRY(add(g, NAME("attn_v.weight"), wt, (uint64_t)E, kvd, &e));
            TRY(add(g, NAME("attn_output.weight"), wt, qd, (uint64_t)E, &e));
        } else {
            TRY(add(g, NAME("ffn_up.weight"), wt, (uint64_t)E, (uint64_t)p->ff, &e));
            TRY(add(g, NAME("ffn_down.weight"), wt, (uint64_t)p->ff, (uint64_t)E, &e));
        }
#undef NAME
    }
    TRY(add(g, "output_norm.weight", HT_F32, (uint64_t)E, 1, &e));
    TRY(add(g, "output.weight", head, (uint64_t)E, (uint64_t)p->vocab, &e));
#undef TRY
    producer pr = {{0x9e3779b97f4a7c15ull}, p};
    if (st == HEARTH_OK) st = gguf_write_file_cb(g, out, produce, &pr, &e);
    free(kv);
    free(ff);
    gguf_free(g);
    if (st != HEARTH_OK) {
        fprintf(stderr, "synth: %s\n", e.msg[0] ? e.msg : hearth_status_name(st));
        return 1;
    }
    return 0;
}
