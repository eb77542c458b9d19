/* convert_cmd.c - `hearth convert`: a Hugging Face checkpoint folder (or, with --random-weights, a config alone) to GGUF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "convert.h"

#define TYPES "f32, f16, bf16, q8_0, q4_0, q4_k_m, q5_k_m, q6_k"

int cmd_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *random_cfg = NULL;
    hconv_options o = {0}; /* f32 */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--type") && i + 1 < argc) {
            if (!hconv_parse_type(argv[++i], &o.type, &o.mix))
                return cli_fail("convert", "unknown type '%s' (%s)", argv[i], TYPES);
        } else if (!strcmp(argv[i], "--random-weights") && i + 1 < argc) {
            random_cfg = argv[++i];
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            char *end;
            o.seed = strtoull(argv[++i], &end, 10);
            if (*end || end == argv[i]) return cli_fail("convert", "--seed wants a number, not '%s'", argv[i]);
        } else if (!strcmp(argv[i], "--vocab-only")) {
            o.vocab_only = true;
        } else if (!strcmp(argv[i], "--quiet")) {
            o.quiet = true;
        } else if (argv[i][0] == '-') {
            return cli_fail("convert", "unknown option '%s'", argv[i]);
        } else if (!in) {
            in = argv[i];
        } else if (!out) {
            out = argv[i];
        } else {
            return cli_fail("convert", "unexpected argument '%s'", argv[i]);
        }
    }
    if (random_cfg) {
        if (!in || out) return cli_fail("convert", "usage: hearth convert --random-weights CONFIG.json OUT.gguf [--type " TYPES "] [--seed S]");
        hearth_err e = {0};
        if (hconv_random_weights(random_cfg, in, &o, &e) != HEARTH_OK) return cli_fail("convert", "%s", e.msg);
        return 0;
    }
    if (!in || !out) return cli_fail("convert", "usage: hearth convert HF_DIR OUT.gguf [--type " TYPES "] [--vocab-only]");
    hearth_err e = {0};
    if (hconv_convert(in, out, &o, &e) != HEARTH_OK) return cli_fail("convert", "%s", e.msg);
    return 0;
}
