/* main.c - the `hearth` command: dispatches to convert, info, logits, run, chat, tokenize, bench, serve. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "serve.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} command;

static const command commands[] = {
    {"convert", cmd_convert, "convert HF_DIR OUT.gguf [--type f32|f16|bf16|q8_0|q4_0|q4_k_m|q5_k_m|q6_k] [--vocab-only]\n"
                             "             | convert --random-weights CONFIG.json OUT.gguf [--type ...] [--seed S]"},
    {"info", cmd_info, "info MODEL.gguf                     architecture, hyperparameters, tensors"},
    {"logits", cmd_logits, "logits -m MODEL --tokens 1,2,3 --out F.safetensors [--decode] [--generate N]"},
    {"run", cmd_run, "run -m MODEL (-p PROMPT [--raw] | --prompt-tokens 1,2,3 [--print-ids]) [--system S] [-n N]\n"
                     "             [-t THREADS] [-c CTX] [--temp T --top-k K --top-p P --min-p P --repeat-penalty R --seed S] [--think|--no-think]"},
    {"chat", cmd_chat, "chat -m MODEL [--system S] [sampling options] [--think|--no-think] [--verbose]"},
    {"serve", hearth_cmd_serve, "serve [--port P] [--root DIR] [-m MODEL]      the chat app and model files over HTTP;\n"
                                "                                                      with -m, the OpenAI-style /v1/chat/completions"},
    {"tokenize", cmd_tokenize, "tokenize (-m MODEL | --tokenizer tokenizer.json) (TEXT | --text-file F | --decode 1,2,3)"},
    {"bench", cmd_bench, "bench -m MODEL [-p 512] [-n 128] [-r 5] [--threads N] [--json]   prefill/decode speed"},
};

static void usage(FILE *f) {
    fprintf(f, "hearth - run small reasoning models locally\n\nusage:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) fprintf(f, "  hearth %s\n", commands[i].help);
}

bool cli_parse_ids(const char *s, int32_t **ids, int *n) {
    size_t cap = 16;
    int count = 0;
    int32_t *out = malloc(cap * sizeof *out);
    if (!out) return false;
    const char *p = s;
    while (*p) {
        while (*p == ',' || *p == ' ') p++;
        if (!*p) break;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > INT32_MAX) {
            free(out);
            return false;
        }
        if ((size_t)count == cap) {
            cap *= 2;
            int32_t *nb = realloc(out, cap * sizeof *nb);
            if (!nb) {
                free(out);
                return false;
            }
            out = nb;
        }
        out[count++] = (int32_t)v;
        p = end;
        if (*p && *p != ',' && *p != ' ') {
            free(out);
            return false;
        }
    }
    *ids = out;
    *n = count;
    return true;
}

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hearth %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

hearth_model *cli_load_model(const char *path, int n_threads) {
    hearth_model *m = NULL;
    char err[600];
    hearth_model_params p = hearth_model_default_params();
    p.n_threads = n_threads;
    if (hearth_model_load(path, &p, &m, err, sizeof err) != HEARTH_OK) {
        fprintf(stderr, "hearth: cannot load model: %s\n", err);
        return NULL;
    }
    return m;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "hearth: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
