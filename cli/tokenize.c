/* tokenize.c - `hearth tokenize`: text to ids (from a GGUF's vocabulary or a tokenizer.json), or ids back to text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tokenizer.h"
#include "util.h"

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *tok_json = NULL, *text = NULL, *text_file = NULL, *decode = NULL;
    bool no_special = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-m") && v) model = argv[++i];
        else if (!strcmp(a, "--tokenizer") && v) tok_json = argv[++i];
        else if (!strcmp(a, "--text-file") && v) text_file = argv[++i];
        else if (!strcmp(a, "--decode") && v) decode = argv[++i];
        else if (!strcmp(a, "--no-special")) no_special = true;
        else if (a[0] == '-' && a[1]) return cli_fail("tokenize", "unknown argument '%s'", a);
        else if (!text) text = a;
        else return cli_fail("tokenize", "unexpected argument '%s'", a);
    }
    if (!model == !tok_json)
        return cli_fail("tokenize", "usage: hearth tokenize (-m MODEL.gguf | --tokenizer tokenizer.json) (TEXT | --text-file F | --decode 1,2,3)");
    if ((text != NULL) + (text_file != NULL) + (decode != NULL) != 1)
        return cli_fail("tokenize", "give exactly one of TEXT, --text-file F and --decode IDS");

    hearth_err e = {0};
    hk_tokenizer *own = NULL;
    const hk_tokenizer *tok = NULL;
    char *file_text = NULL;
    int rc = 1;
    if (model) {
        /* only the vocabulary is read, so a --vocab-only GGUF works as well as a whole model */
        hu_file f;
        gguf_ctx *g = NULL;
        hearth_status st = hu_file_map(model, &f, &e);
        if (!st) st = gguf_read(f.data, f.size, &g, &e);
        if (!st && !gguf_find(g, "tokenizer.ggml.tokens")) st = herr(&e, HEARTH_ERR_FORMAT, "the file has no vocabulary");
        if (!st) st = hk_tokenizer_from_gguf(g, &own, &e);
        gguf_free(g);
        hu_file_unmap(&f);
        if (st) {
            cli_fail("tokenize", "%s: %s", model, e.msg);
            goto done;
        }
        tok = own;
    } else {
        size_t len;
        char *json = NULL;
        if (hu_read_text(tok_json, &json, &len, &e) || hk_tokenizer_from_json(json, len, &own, &e)) {
            free(json);
            cli_fail("tokenize", "%s: %s", tok_json, e.msg);
            goto done;
        }
        free(json);
        tok = own;
    }
    if (decode) {
        int32_t *ids = NULL;
        int n = 0;
        if (!cli_parse_ids(decode, &ids, &n)) {
            cli_fail("tokenize", "--decode: expected a list like 1,2,3");
            goto done;
        }
        size_t len = 0;
        hearth_status st = hk_tokenizer_decode(tok, ids, (size_t)n, false, NULL, 0, &len);
        char *out = st == HEARTH_ERR_INVALID_ARG || st == HEARTH_OK ? malloc(len + 1) : NULL;
        if (out && hk_tokenizer_decode(tok, ids, (size_t)n, false, out, len + 1, &len) == HEARTH_OK) {
            fwrite(out, 1, len, stdout);
            putchar('\n');
            rc = 0;
        } else {
            cli_fail("tokenize", "--decode: an id is outside the vocabulary");
        }
        free(out);
        free(ids);
        goto done;
    }
    size_t len;
    if (text_file) {
        if (hu_read_text(text_file, &file_text, &len, &e)) {
            cli_fail("tokenize", "%s", e.msg);
            goto done;
        }
        text = file_text;
    } else {
        len = strlen(text);
    }
    int32_t *ids = NULL;
    size_t n = 0;
    if (hk_tokenizer_encode_alloc(tok, text, len, !no_special, &ids, &n, &e)) {
        cli_fail("tokenize", "%s", e.msg);
        goto done;
    }
    for (size_t i = 0; i < n; i++) printf("%s%d", i ? " " : "", ids[i]);
    putchar('\n');
    free(ids);
    rc = 0;
done:
    free(file_text);
    hk_tokenizer_free(own);
    return rc;
}
