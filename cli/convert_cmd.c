/* convert_cmd.c - `hearth convert`: a Hugging Face checkpoint folder to GGUF. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "convert.h"
#include "quant.h"

int cmd_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    hconv_options o = {.type = HT_F32};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--type") && i + 1 < argc) {
            int t = ht_type_from_name(argv[++i]);
            if (t < 0) return cli_fail("convert", "unknown type '%s' (f32, f16, bf16, q8_0, q4_0)", argv[i]);
            o.type = (uint32_t)t;
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
    if (!in || !out) return cli_fail("convert", "usage: hearth convert HF_DIR OUT.gguf [--type f32|f16|bf16|q8_0|q4_0] [--vocab-only]");
    hearth_err e = {0};
    if (hconv_convert(in, out, &o, &e) != HEARTH_OK) return cli_fail("convert", "%s", e.msg);
    return 0;
}
