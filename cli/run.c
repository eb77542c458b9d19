/* run.c - `hearth run` (one prompt, streamed reply) and `hearth chat` (a multi-turn REPL on one session). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model.h"
#include "reasoning.h"

typedef struct {
    const char *model, *prompt, *system, *prompt_tokens;
    bool print_ids, verbose, raw;
    int think; /* -1 template default, 0 off, 1 on */
    int n_ctx, n_threads;
    uint64_t seed;
    hearth_gen_params gen;
} run_opts;

/* Parses the options run and chat share; returns false (after printing why) on a bad one. */
static bool parse_opts(const char *cmd, int argc, char **argv, run_opts *o) {
    memset(o, 0, sizeof *o);
    o->gen = hearth_gen_default_params();
    o->think = -1;
    o->seed = 42;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL() (v ? (i++, v) : (cli_fail(cmd, "%s needs a value", a), (const char *)NULL))
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!(o->model = VAL())) return false; }
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) { if (!(o->prompt = VAL())) return false; }
        else if (!strcmp(a, "--system")) { if (!(o->system = VAL())) return false; }
        else if (!strcmp(a, "--prompt-tokens")) { if (!(o->prompt_tokens = VAL())) return false; }
        else if (!strcmp(a, "-n") || !strcmp(a, "--max-tokens")) { if (!VAL()) return false; o->gen.max_tokens = atoi(v); }
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) { if (!VAL()) return false; o->n_ctx = atoi(v); }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { if (!VAL()) return false; o->n_threads = atoi(v); }
        else if (!strcmp(a, "--temp")) { if (!VAL()) return false; o->gen.temperature = strtof(v, NULL); }
        else if (!strcmp(a, "--top-k")) { if (!VAL()) return false; o->gen.top_k = atoi(v); }
        else if (!strcmp(a, "--top-p")) { if (!VAL()) return false; o->gen.top_p = strtof(v, NULL); }
        else if (!strcmp(a, "--min-p")) { if (!VAL()) return false; o->gen.min_p = strtof(v, NULL); }
        else if (!strcmp(a, "--repeat-penalty")) { if (!VAL()) return false; o->gen.repetition_penalty = strtof(v, NULL); }
        else if (!strcmp(a, "--seed")) { if (!VAL()) return false; o->seed = strtoull(v, NULL, 10); }
        else if (!strcmp(a, "--think")) o->think = 1;
        else if (!strcmp(a, "--no-think")) o->think = 0;
        else if (!strcmp(a, "--print-ids")) o->print_ids = true;
        else if (!strcmp(a, "--raw")) o->raw = true;
        else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) o->verbose = true;
        else if (!strcmp(a, "--ignore-eos")) o->gen.ignore_eos = true;
        else { cli_fail(cmd, "unknown argument '%s'", a); return false; }
#undef VAL
    }
    if (!o->model) { cli_fail(cmd, "-m MODEL.gguf is required"); return false; }
    if (o->gen.max_tokens <= 0) { cli_fail(cmd, "-n must be positive"); return false; }
    if (o->gen.top_p <= 0 || o->gen.top_p > 1) { cli_fail(cmd, "--top-p must be in (0, 1]"); return false; }
    if (o->gen.repetition_penalty <= 0) { cli_fail(cmd, "--repeat-penalty must be positive"); return false; }
    return true;
}

/* Streams one generation to stdout (text, or ids with --print-ids). Returns a status. */
static hearth_status stream(hearth_session *s, const run_opts *o, int *n_out) {
    char piece[512];
    bool done = false;
    int n = 0;
    while (!done) {
        size_t len;
        int32_t tok;
        hearth_status st = hearth_session_generate_next(s, piece, sizeof piece, &len, &tok, &done);
        if (st) return st;
        if (tok >= 0) n++;
        if (o->print_ids) {
            if (tok >= 0) printf("%s%d", n > 1 ? " " : "", tok);
        } else if (len) {
            fwrite(piece, 1, len, stdout);
        }
        fflush(stdout);
    }
    if (o->print_ids || n) putchar('\n');
    *n_out = n;
    return HEARTH_OK;
}

static void report(const hearth_session *s) {
    hearth_stats st;
    hearth_session_stats(s, &st);
    fprintf(stderr, "[prefill %d tokens, %.1f tok/s | decode %d tokens, %.1f tok/s]\n", st.n_prefill,
            st.prefill_seconds > 0 ? st.n_prefill / st.prefill_seconds : 0, st.n_decode,
            st.decode_seconds > 0 ? st.n_decode / st.decode_seconds : 0);
}

static hearth_session *open_session(const char *cmd, hearth_model *m, const run_opts *o) {
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = o->n_ctx;
    sp.seed = o->seed;
    hearth_session *s = NULL;
    char err[600];
    if (hearth_session_new(m, &sp, &s, err, sizeof err) != HEARTH_OK) {
        cli_fail(cmd, "%s", err);
        return NULL;
    }
    return s;
}

int cmd_run(int argc, char **argv) {
    run_opts o;
    if (!parse_opts("run", argc, argv, &o)) return 1;
    if (!o.prompt == !o.prompt_tokens) return cli_fail("run", "give exactly one of -p PROMPT and --prompt-tokens 1,2,3");
    hearth_model *m = cli_load_model(o.model, o.n_threads);
    if (!m) return 1;
    hearth_session *s = open_session("run", m, &o);
    int rc = 1, n = 0;
    if (!s) goto done;
    hearth_status st;
    if (o.prompt_tokens) {
        int32_t *ids = NULL;
        int n_ids = 0;
        if (!cli_parse_ids(o.prompt_tokens, &ids, &n_ids) || n_ids == 0) {
            cli_fail("run", "--prompt-tokens: expected a list like 5,17,42");
            goto done;
        }
        st = hearth_session_generate_begin(s, ids, n_ids, &o.gen);
        free(ids);
    } else if (o.raw) {
        /* the prompt is already in the model's chat format: tokenize it as is (special tokens too) */
        size_t n_ids = 0;
        int32_t *ids = NULL;
        st = hearth_tokenize(m, o.prompt, strlen(o.prompt), true, NULL, 0, &n_ids);
        if (st == HEARTH_OK && !(ids = malloc(sizeof(int32_t) * (n_ids ? n_ids : 1)))) st = HEARTH_ERR_NOMEM;
        if (st == HEARTH_OK) st = hearth_tokenize(m, o.prompt, strlen(o.prompt), true, ids, n_ids, &n_ids);
        if (st != HEARTH_OK) {
            free(ids);
            cli_fail("run", "cannot tokenize the prompt: %s", hm_tokenizer_error(m));
            goto done;
        }
        st = hearth_session_generate_begin(s, ids, (int)n_ids, &o.gen);
        free(ids);
    } else {
        hearth_message msgs[2];
        size_t n_msgs = 0;
        if (o.system) msgs[n_msgs++] = (hearth_message){"system", o.system};
        msgs[n_msgs++] = (hearth_message){"user", o.prompt};
        hearth_chat_options co = hearth_chat_default_options();
        co.enable_thinking = o.think;
        st = hearth_session_chat_begin(s, msgs, n_msgs, &co, &o.gen);
    }
    if (st == HEARTH_OK) st = stream(s, &o, &n);
    if (st != HEARTH_OK) {
        cli_fail("run", "%s", hearth_session_error(s));
        goto done;
    }
    if (o.verbose) report(s);
    rc = 0;
done:
    hearth_session_free(s);
    hearth_model_free(m);
    return rc;
}

/* Reads one line from stdin into a growing buffer; false at end of input. */
static bool read_line(char **buf, size_t *cap) {
    size_t n = 0;
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        if (n + 2 > *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            char *nb = realloc(*buf, nc);
            if (!nb) return false;
            *buf = nb;
            *cap = nc;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0) return false;
    if (!*buf && !(*buf = malloc(1))) return false;
    (*buf)[n] = 0;
    return true;
}

/* A reply on a terminal: the reasoning dim, then a blank line, then the answer (reasoning.h splits them). */
typedef struct {
    rs_splitter split;
    bool reasoned, answered; /* some reasoning / some answer printed */
} reply_view;

static void show_piece(reply_view *v, const char *piece, size_t len, bool last) {
    char r[512 + sizeof v->split.hold], a[512 + sizeof v->split.hold];
    size_t nr = 0, na = 0;
    rs_push(&v->split, piece, len, r, &nr, a, &na);
    for (int pass = 0; pass < (last ? 2 : 1); pass++) {
        if (nr) printf("\033[2m%.*s\033[0m", (int)nr, r);
        if (na) printf("%s%.*s", v->reasoned && !v->answered ? "\n\n" : "", (int)na, a);
        v->reasoned |= nr > 0;
        v->answered |= na > 0;
        nr = na = 0;
        if (last && pass == 0) rs_end(&v->split, r, &nr, a, &na);
    }
    fflush(stdout);
}

/* The conversation so far: owned copies of each message. */
typedef struct {
    hearth_message *msgs;
    char **owned;
    size_t n, cap;
} history;

static bool push(history *h, const char *role, const char *text, size_t len) {
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 16;
        hearth_message *nm = realloc(h->msgs, nc * sizeof *nm);
        if (!nm) return false;
        h->msgs = nm;
        char **no = realloc(h->owned, nc * sizeof *no);
        if (!no) return false;
        h->owned = no;
        h->cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy) return false;
    memcpy(copy, text, len);
    copy[len] = 0;
    h->owned[h->n] = copy;
    h->msgs[h->n] = (hearth_message){role, copy};
    h->n++;
    return true;
}

int cmd_chat(int argc, char **argv) {
    run_opts o;
    if (!parse_opts("chat", argc, argv, &o)) return 1;
    hearth_model *m = cli_load_model(o.model, o.n_threads);
    if (!m) return 1;
    hearth_session *s = open_session("chat", m, &o);
    history h = {0};
    char *line = NULL, *reply = NULL;
    size_t line_cap = 0;
    int rc = s ? 0 : 1;
    if (s && o.system && !push(&h, "system", o.system, strlen(o.system))) rc = cli_fail("chat", "out of memory");
    hearth_chat_options co = hearth_chat_default_options();
    co.enable_thinking = o.think;
    while (rc == 0) {
        fprintf(stderr, "> ");
        if (!read_line(&line, &line_cap)) break;
        if (!line[0]) continue;
        if (!strcmp(line, "/quit") || !strcmp(line, "/exit")) break;
        if (!push(&h, "user", line, strlen(line))) { rc = cli_fail("chat", "out of memory"); break; }
        hearth_status st = hearth_session_chat_begin(s, h.msgs, h.n, &co, &o.gen);
        size_t reply_len = 0, reply_cap = 0;
        bool done = false;
        /* on a terminal the reasoning is shown dim and the answer plain; piped, the text as generated */
        reply_view view = {0};
        rs_init(&view.split, st == HEARTH_OK && hearth_session_chat_reasoning(s));
        const bool tty = isatty(STDOUT_FILENO);
        while (st == HEARTH_OK && !done) {
            char piece[512];
            size_t len;
            int32_t tok;
            st = hearth_session_generate_next(s, piece, sizeof piece, &len, &tok, &done);
            if (st) continue;
            if (tty) {
                show_piece(&view, piece, len, done);
            } else if (len) {
                fwrite(piece, 1, len, stdout);
                fflush(stdout);
            }
            if (!len) continue;
            if (reply_len + len + 1 > reply_cap) {
                reply_cap = (reply_len + len + 1) * 2;
                char *nb = realloc(reply, reply_cap);
                if (!nb) { st = HEARTH_ERR_NOMEM; continue; }
                reply = nb;
            }
            memcpy(reply + reply_len, piece, len);
            reply_len += len;
        }
        putchar('\n');
        if (st) {
            /* the turn failed: drop it from the history, keep the conversation */
            cli_fail("chat", "%s", hearth_session_error(s));
            free(h.owned[--h.n]);
            continue;
        }
        if (!push(&h, "assistant", reply ? reply : "", reply_len)) { rc = cli_fail("chat", "out of memory"); break; }
        if (o.verbose) report(s);
    }
    for (size_t i = 0; i < h.n; i++) free(h.owned[i]);
    free(h.msgs);
    free(h.owned);
    free(line);
    free(reply);
    hearth_session_free(s);
    hearth_model_free(m);
    return rc;
}
