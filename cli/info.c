/* info.c - `hearth info`: architecture, hyperparameters, tensor table with types, type mix, total size (of files hearth cannot run too). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gguf.h"
#include "model.h"
#include "quant.h"

static const char *kind_name(hm_layer_kind k) {
    switch (k) {
    case HM_LAYER_MAMBA: return "M";
    case HM_LAYER_ATTN: return "*";
    case HM_LAYER_MLP: return "-";
    default: return "D";
    }
}

/* The tensor table and the type mix: types hearth cannot compute with are marked. */
static void print_tensors(const gguf_ctx *g) {
    uint64_t bytes_by_type[HT_TYPE_COUNT] = {0}, count_by_type[HT_TYPE_COUNT] = {0}, total = 0, other = 0;
    printf("\n%-36s %-7s %-24s %12s\n", "tensor", "type", "shape", "bytes");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        char shape[64] = "", tname[16];
        size_t n = 0;
        for (uint32_t d = 0; d < t->n_dims; d++)
            n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%llu", d ? " x " : "", (unsigned long long)t->ne[d]);
        const ht_type_info *ti = ht_type_get(t->type);
        if (ti) snprintf(tname, sizeof tname, "%s", ti->name);
        else snprintf(tname, sizeof tname, "id %u", t->type);
        printf("%-36s %-7s %-24s %12llu\n", t->name, tname, shape, (unsigned long long)t->nbytes);
        if (ti) {
            bytes_by_type[t->type] += t->nbytes;
            count_by_type[t->type]++;
        } else {
            other++;
        }
        total += t->nbytes;
    }
    printf("\ntype mix     ");
    for (int t = 0; t < HT_TYPE_COUNT; t++) {
        if (!count_by_type[t]) continue;
        const ht_type_info *ti = ht_type_get((uint32_t)t);
        printf(" %s: %llu tensors (%.2f MiB)%s", ti->name, (unsigned long long)count_by_type[t], bytes_by_type[t] / 1048576.0,
               ti->supported ? "" : " [not supported]");
    }
    if (other) printf(" unknown type ids: %llu tensors [not supported]", (unsigned long long)other);
    printf("\ntotal         %llu bytes (%.2f MiB) of weights\n", (unsigned long long)total, total / 1048576.0);
}

/* A file hearth cannot run (an unsupported type, architecture, ...): what the GGUF itself says. */
static int info_gguf_only(const char *path, const char *why) {
    hu_file f = {0};
    gguf_ctx *g = NULL;
    hearth_err e = {0};
    if (hu_file_map(path, &f, &e) != HEARTH_OK || gguf_read(f.data, f.size, &g, &e) != HEARTH_OK) {
        hu_file_unmap(&f);
        return cli_fail("info", "cannot load model: %s", why);
    }
    const char *name = gguf_get_str(g, "general.name"), *arch = gguf_get_str(g, "general.architecture");
    printf("file          %s\n", path);
    printf("name          %s\n", name ? name : "-");
    printf("architecture  %s\n", arch ? arch : "-");
    printf("gguf          v%u, %llu metadata keys, %llu tensors\n", g->version, (unsigned long long)g->n_kv,
           (unsigned long long)g->n_tensors);
    printf("runs          no: %s\n", why);
    print_tensors(g);
    gguf_free(g);
    hu_file_unmap(&f);
    return 0;
}

int cmd_info(int argc, char **argv) {
    if (argc != 2) return cli_fail("info", "usage: hearth info MODEL.gguf");
    hearth_model *m = NULL;
    char err[600];
    hearth_model_params mp = hearth_model_default_params();
    if (hearth_model_load(argv[1], &mp, &m, err, sizeof err) != HEARTH_OK) return info_gguf_only(argv[1], err);
    const hm_hparams *hp = &m->hp;
    const gguf_ctx *g = m->gguf;
    const char *name = gguf_get_str(g, "general.name");
    printf("file          %s\n", argv[1]);
    printf("name          %s\n", name ? name : "-");
    printf("architecture  %s\n", hm_arch_name(hp->arch));
    printf("gguf          v%u, %llu metadata keys, %llu tensors\n", g->version, (unsigned long long)g->n_kv,
           (unsigned long long)g->n_tensors);
    printf("vocab         %d\nembedding     %d\nlayers        %d\ncontext       %d\nrms eps       %g\n", hp->n_vocab,
           hp->n_embd, hp->n_layer, hp->n_ctx_train, hp->rms_eps);
    printf("attention     %d heads, %d kv heads, head dim %d%s\n", hp->n_head, hp->n_head_kv, hp->head_dim,
           hp->arch == HM_ARCH_NEMOTRON_H ? ", no rope" : "");
    if (hp->arch != HM_ARCH_NEMOTRON_H) printf("rope          base %g, %s\n", hp->rope_base, hp->rope_neox ? "neox" : "normal");
    printf("mlp           %d\n", hp->n_ff);
    if (hp->arch == HM_ARCH_NEMOTRON_H) {
        printf("mamba-2       %d heads x %d, state %d, %d groups, conv %d\n", hp->ssm_n_head, hp->ssm_head_dim,
               hp->ssm_d_state, hp->ssm_n_group, hp->ssm_d_conv);
        printf("pattern       ");
        for (int l = 0; l < hp->n_layer; l++) fputs(kind_name(hp->kind[l]), stdout);
        printf("   (M mamba-2, * attention, - mlp)\n");
    }
    print_tensors(g);
    hearth_model_free(m);
    return 0;
}
