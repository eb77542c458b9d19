/* serve_api.c - the OpenAI-style chat API of `hearth serve -m MODEL`: POST /v1/chat/completions (whole, or streamed as server-sent events) and GET /v1/models. */
#include "serve_api.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"
#include "reasoning.h"

#define MAX_BODY (4u << 20) /* request bodies above this are refused (413) */
#define MAX_STOPS 16

struct serve_api {
    hearth_model *model;
    hearth_session *session;
    char id[128]; /* the model's name: its file name without .gguf */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool busy; /* a request holds the session */
    uint64_t n_requests;
};

/* ---- a growable string ---- */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sb;

static void sb_add(sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (!hu_grow(&b->p, &b->cap, b->len + n + 1)) {
        b->oom = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_str(sb *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_fmt(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(sb *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the well-formed UTF-8 character at s[0..n) (lead byte >= 0x80), or 0 if it is not one. */
static size_t utf8_char(const unsigned char *s, size_t n) {
    const unsigned char c = s[0];
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!len || n < len) return 0;
    /* the second byte's range excludes overlong forms, surrogates and code points above U+10FFFF */
    const unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80, hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return len;
}

/* s[0..n) as a JSON string literal. Well-formed UTF-8 passes through; a byte that is not part of a
 * well-formed character (a sampled token can split or garble one) becomes U+FFFD, so the JSON stays
 * valid UTF-8, as a browser's TextDecoder would show it. */
static void sb_json(sb *b, const char *s, size_t n) {
    sb_add(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            const size_t len = utf8_char((const unsigned char *)s + i, n - i);
            if (len) {
                i += len - 1;
                continue;
            }
            sb_add(b, s + run, i - run);
            run = i + 1;
            sb_str(b, "\\ufffd");
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sb_add(b, s + run, i - run);
        run = i + 1;
        if (c == '"') sb_str(b, "\\\"");
        else if (c == '\\') sb_str(b, "\\\\");
        else if (c == '\n') sb_str(b, "\\n");
        else if (c == '\r') sb_str(b, "\\r");
        else if (c == '\t') sb_str(b, "\\t");
        else sb_fmt(b, "\\u%04x", c);
    }
    sb_add(b, s + run, n - run);
    sb_add(b, "\"", 1);
}

/* ---- responses ---- */

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code, const char *type, sb *body) {
    struct MHD_Response *r = MHD_create_response_from_buffer(body->len, body->p ? body->p : (char *)"", MHD_RESPMEM_MUST_COPY);
    free(body->p);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* An OpenAI-shaped error: {"error": {"message", "type", "code"}}. */
static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned code, const char *code_name, const char *msg) {
    sb b = {0};
    sb_str(&b, "{\"error\":{\"message\":");
    sb_json(&b, msg, strlen(msg));
    sb_fmt(&b, ",\"type\":\"%s\",\"code\":\"%s\"}}\n", code >= 500 ? "server_error" : "invalid_request_error", code_name);
    return respond(c, code, "application/json", &b);
}

/* ---- the request ---- */

typedef struct {
    hearth_message *msgs;
    size_t n_msgs;
    hearth_gen_params gp;
    hearth_chat_options co;
    const char *stops[MAX_STOPS];
    bool stream;
    bool has_seed; /* seed given: the sampler is reseeded, so the same request draws the same reply */
    uint64_t seed;
    char *parts; /* message contents joined from {type: text} parts, owned */
} chat_req;

/* Appends the text parts ({type: "text", text}) of an array content to joined, NUL-terminated. */
static void join_parts(const json_value *v, sb *joined) {
    for (size_t i = 0; i < v->len; i++) {
        const char *type = json_get_string(&v->items[i], "type"), *text = json_get_string(&v->items[i], "text");
        if (type && strcmp(type, "text") == 0 && text) sb_str(joined, text);
    }
    sb_add(joined, "", 1);
}

/* Reads the request; on failure writes the reason to err and returns false. */
static bool parse_chat(const json_value *root, int n_ctx, chat_req *r, char *err, size_t errsz) {
    memset(r, 0, sizeof *r);
    r->gp = hearth_gen_default_params();
    r->gp.max_tokens = n_ctx; /* until the context is full, unless the request says otherwise */
    r->co = hearth_chat_default_options();
    const json_value *msgs = json_get(root, "messages");
    if (!root || root->type != JSON_OBJECT) return snprintf(err, errsz, "the body must be a JSON object"), false;
    if (!msgs || msgs->type != JSON_ARRAY || msgs->len == 0)
        return snprintf(err, errsz, "'messages' must be a non-empty array"), false;
    r->msgs = calloc(msgs->len, sizeof *r->msgs);
    if (!r->msgs) return snprintf(err, errsz, "out of memory"), false;
    /* contents given as arrays of parts are joined into one buffer first, then pointed into */
    sb joined = {0};
    for (size_t i = 0; i < msgs->len; i++) {
        const json_value *m = &msgs->items[i], *v = json_get(m, "content");
        r->msgs[i].role = json_get_string(m, "role");
        if (!r->msgs[i].role) return free(joined.p), snprintf(err, errsz, "messages[%zu] has no role", i), false;
        if (v && v->type != JSON_NULL && v->type != JSON_STRING && v->type != JSON_ARRAY)
            return free(joined.p), snprintf(err, errsz, "messages[%zu].content is not text", i), false;
        if (v && v->type == JSON_ARRAY) join_parts(v, &joined);
    }
    if (joined.oom) return free(joined.p), snprintf(err, errsz, "out of memory"), false;
    r->parts = joined.p;
    r->n_msgs = msgs->len;
    size_t at = 0;
    for (size_t i = 0; i < r->n_msgs; i++) {
        const json_value *v = json_get(&msgs->items[i], "content");
        if (v && v->type == JSON_STRING) {
            r->msgs[i].content = v->str;
        } else if (v && v->type == JSON_ARRAY) {
            r->msgs[i].content = r->parts + at;
            at += strlen(r->parts + at) + 1;
        } else {
            r->msgs[i].content = "";
        }
    }
    double x;
    int64_t k;
    bool flag;
    if (json_get_int(root, "max_completion_tokens", &k) || json_get_int(root, "max_tokens", &k)) {
        if (k < 1) return snprintf(err, errsz, "max_tokens must be at least 1"), false;
        r->gp.max_tokens = k < n_ctx ? (int)k : n_ctx;
    }
    if (json_get_int(root, "n", &k) && k != 1) return snprintf(err, errsz, "only n = 1 is supported"), false;
    if (json_get_number(root, "temperature", &x)) r->gp.temperature = (float)x;
    if (json_get_number(root, "top_p", &x)) r->gp.top_p = (float)x;
    if (json_get_int(root, "top_k", &k)) r->gp.top_k = (int)(k < 0 ? 0 : k > 1000000 ? 1000000 : k);
    if (json_get_number(root, "min_p", &x)) r->gp.min_p = (float)x;
    if (json_get_number(root, "repetition_penalty", &x) || json_get_number(root, "repeat_penalty", &x))
        r->gp.repetition_penalty = (float)x;
    if (json_get_bool(root, "stream", &flag)) r->stream = flag;
    if (json_get_int(root, "seed", &k)) {
        r->has_seed = true;
        r->seed = (uint64_t)k;
    }
    const json_value *kw = json_get(root, "chat_template_kwargs"); /* vLLM's spelling, or hearth's JS API's */
    if (json_get_bool(kw, "enable_thinking", &flag) || json_get_bool(root, "enable_thinking", &flag))
        r->co.enable_thinking = flag ? 1 : 0;
    const json_value *stop = json_get(root, "stop");
    if (stop && stop->type == JSON_STRING) {
        r->stops[r->gp.n_stop++] = stop->str;
    } else if (stop && stop->type == JSON_ARRAY) {
        for (size_t i = 0; i < stop->len; i++) {
            if (stop->items[i].type != JSON_STRING) return snprintf(err, errsz, "stop must be strings"), false;
            if (r->gp.n_stop == MAX_STOPS) return snprintf(err, errsz, "at most %d stop strings", MAX_STOPS), false;
            r->stops[r->gp.n_stop++] = stop->items[i].str;
        }
    }
    r->gp.stop = r->gp.n_stop ? r->stops : NULL;
    return true;
}

static void chat_req_free(chat_req *r) {
    free(r->msgs);
    free(r->parts);
}

/* ---- one generation, whole or streamed ---- */

typedef struct {
    serve_api *api;
    json_value *root; /* the request (its strings back the messages and stops) */
    char id[64];
    long created;
    int n_prompt, n_generated, max_tokens;
    rs_splitter split;
    const char *finish; /* NULL while generating */
    bool failed;
    char err[256];
    sb reasoning, answer; /* whole: the reply so far */
    sb out;               /* streamed: text not yet handed to MHD */
    size_t out_pos;
    bool sent_role; /* streamed: the first chunk went out */
    bool ended;     /* streamed: [DONE] written */
} gen;

static void api_acquire(serve_api *a) {
    pthread_mutex_lock(&a->mu);
    while (a->busy) pthread_cond_wait(&a->cv, &a->mu);
    a->busy = true;
    pthread_mutex_unlock(&a->mu);
}

static void api_release(serve_api *a) {
    pthread_mutex_lock(&a->mu);
    a->busy = false;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* One generation step: the piece, split, appended to reasoning / answer. Sets g->finish at the end. */
static void gen_step(gen *g, sb *reasoning, sb *answer) {
    char piece[1024];
    size_t len = 0;
    int32_t tok = -1;
    bool done = false;
    hearth_session *s = g->api->session;
    hearth_status st = hearth_session_generate_next(s, piece, sizeof piece, &len, &tok, &done);
    if (st != HEARTH_OK) {
        snprintf(g->err, sizeof g->err, "generation failed: %s", hearth_session_error(s));
        g->failed = true;
        g->finish = "error";
        return;
    }
    if (tok >= 0) g->n_generated++;
    char r[sizeof piece + sizeof g->split.hold], a[sizeof piece + sizeof g->split.hold];
    size_t nr = 0, na = 0;
    rs_push(&g->split, piece, len, r, &nr, a, &na);
    if (done) {
        sb_add(reasoning, r, nr);
        sb_add(answer, a, na);
        nr = na = 0;
        rs_end(&g->split, r, &nr, a, &na);
        const bool full = hearth_session_n_past(s) >= hearth_session_n_ctx(s);
        g->finish = g->n_generated >= g->max_tokens || full ? "length" : "stop";
    }
    sb_add(reasoning, r, nr);
    sb_add(answer, a, na);
}

static void put_usage(sb *b, const gen *g) {
    sb_fmt(b, ",\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}", g->n_prompt, g->n_generated,
           g->n_prompt + g->n_generated);
}

/* The chunk header up to the choice's delta. */
static void put_chunk_head(sb *b, const gen *g) {
    sb_fmt(b, "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\",\"created\":%ld,\"model\":", g->id, g->created);
    sb_json(b, g->api->id, strlen(g->api->id));
    sb_str(b, ",\"choices\":[{\"index\":0,\"delta\":{");
}

/* Streams: the next server-sent events, then the end (MHD's content reader). */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    gen *g = cls;
    while (g->out_pos == g->out.len) {
        g->out.len = g->out_pos = 0;
        if (g->ended || g->out.oom) return MHD_CONTENT_READER_END_OF_STREAM;
        sb r = {0}, a = {0};
        if (!g->finish) gen_step(g, &r, &a);
        if (r.len || a.len) {
            put_chunk_head(&g->out, g);
            bool comma = false;
            if (!g->sent_role) { /* the first chunk names the role, as OpenAI's do */
                sb_str(&g->out, "\"role\":\"assistant\"");
                g->sent_role = comma = true;
            }
            if (r.len) {
                sb_str(&g->out, comma ? ",\"reasoning_content\":" : "\"reasoning_content\":");
                sb_json(&g->out, r.p, r.len);
                comma = true;
            }
            if (a.len) {
                sb_str(&g->out, comma ? ",\"content\":" : "\"content\":");
                sb_json(&g->out, a.p, a.len);
            }
            sb_str(&g->out, "},\"finish_reason\":null}]}\n\n");
        }
        free(r.p);
        free(a.p);
        if (g->finish) {
            if (g->failed) {
                sb_str(&g->out, "data: {\"error\":{\"message\":");
                sb_json(&g->out, g->err, strlen(g->err));
                sb_str(&g->out, ",\"type\":\"server_error\"}}\n\n");
            } else {
                put_chunk_head(&g->out, g);
                sb_fmt(&g->out, "},\"finish_reason\":\"%s\"}]", g->finish);
                put_usage(&g->out, g);
                sb_str(&g->out, "}\n\n");
            }
            sb_str(&g->out, "data: [DONE]\n\n");
            g->ended = true;
        }
    }
    const size_t n = g->out.len - g->out_pos < max ? g->out.len - g->out_pos : max;
    memcpy(buf, g->out.p + g->out_pos, n);
    g->out_pos += n;
    return (ssize_t)n;
}

static void gen_free(void *cls) {
    gen *g = cls;
    api_release(g->api); /* also when the client went away mid-stream: the next request may start */
    json_free(g->root);
    free(g->out.p);
    free(g);
}

/* The whole reply as one chat.completion. */
static enum MHD_Result respond_whole(struct MHD_Connection *c, gen *g) {
    while (!g->finish) gen_step(g, &g->reasoning, &g->answer);
    if (g->failed || g->reasoning.oom || g->answer.oom) {
        free(g->reasoning.p);
        free(g->answer.p);
        return respond_error(c, 500, "generation_failed", g->failed ? g->err : "out of memory");
    }
    sb b = {0};
    sb_fmt(&b, "{\"id\":\"%s\",\"object\":\"chat.completion\",\"created\":%ld,\"model\":", g->id, g->created);
    sb_json(&b, g->api->id, strlen(g->api->id));
    sb_str(&b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    sb_json(&b, g->answer.p ? g->answer.p : "", g->answer.len);
    if (g->split.had_reasoning) {
        sb_str(&b, ",\"reasoning_content\":");
        sb_json(&b, g->reasoning.p ? g->reasoning.p : "", g->reasoning.len);
    }
    sb_fmt(&b, "},\"finish_reason\":\"%s\"}]", g->finish);
    put_usage(&b, g);
    sb_str(&b, "}\n");
    free(g->reasoning.p);
    free(g->answer.p);
    return respond(c, 200, "application/json", &b);
}

static enum MHD_Result chat_completions(serve_api *a, struct MHD_Connection *c, const char *body, size_t len) {
    hearth_err e = {0};
    json_value *root = json_parse(body, len, &e);
    if (!root) return respond_error(c, 400, "invalid_json", e.msg[0] ? e.msg : "the body is not JSON");
    chat_req req;
    char err[256];
    if (!parse_chat(root, hearth_session_n_ctx(a->session), &req, err, sizeof err)) {
        chat_req_free(&req);
        json_free(root);
        return respond_error(c, 400, "invalid_request", err);
    }
    gen *g = calloc(1, sizeof *g);
    if (!g) {
        chat_req_free(&req);
        json_free(root);
        return respond_error(c, 500, "out_of_memory", "out of memory");
    }
    g->api = a;
    g->root = root;
    g->created = (long)time(NULL);
    g->max_tokens = req.gp.max_tokens;
    api_acquire(a);
    snprintf(g->id, sizeof g->id, "chatcmpl-hearth-%" PRIu64, ++a->n_requests);
    if (req.has_seed) hearth_session_set_seed(a->session, req.seed);
    hearth_status st = hearth_session_chat_begin(a->session, req.msgs, req.n_msgs, &req.co, &req.gp);
    chat_req_free(&req); /* the session copied what it needs (stop strings too) */
    if (st != HEARTH_OK) {
        snprintf(err, sizeof err, "%s", hearth_session_error(a->session));
        gen_free(g);
        return respond_error(c, st == HEARTH_ERR_CONTEXT_FULL ? 400 : 500,
                             st == HEARTH_ERR_CONTEXT_FULL ? "context_length_exceeded" : "engine_error", err);
    }
    g->n_prompt = hearth_session_n_past(a->session);
    rs_init(&g->split, hearth_session_chat_reasoning(a->session));
    if (!req.stream) {
        enum MHD_Result ret = respond_whole(c, g);
        gen_free(g);
        return ret;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, g, gen_free);
    if (!r) {
        gen_free(g);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result list_models(serve_api *a, struct MHD_Connection *c) {
    sb b = {0};
    sb_str(&b, "{\"object\":\"list\",\"data\":[{\"id\":");
    sb_json(&b, a->id, strlen(a->id));
    sb_str(&b, ",\"object\":\"model\",\"created\":0,\"owned_by\":\"hearth\"}]}\n");
    return respond(c, 200, "application/json", &b);
}

/* ---- MHD glue ---- */

typedef struct {
    sb body;
    bool too_big;
} api_req;

int serve_api_owns(const char *url) { return strncmp(url, "/v1/", 4) == 0; }

void serve_api_completed(void *req_cls) {
    api_req *q = req_cls;
    if (!q) return;
    free(q->body.p);
    free(q);
}

enum MHD_Result serve_api_request(serve_api *a, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *upload_data, size_t *upload_size, void **req_cls) {
    api_req *q = *req_cls;
    if (!q) { /* first call: headers only */
        if (!(q = calloc(1, sizeof *q))) return MHD_NO;
        *req_cls = q;
        return MHD_YES;
    }
    if (*upload_size) { /* a piece of the body */
        if (q->body.len + *upload_size > MAX_BODY) q->too_big = true;
        else sb_add(&q->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (!a) return respond_error(c, 404, "no_model", "no model is loaded: start the server with hearth serve -m MODEL.gguf");
    const bool post = strcmp(method, "POST") == 0, get = strcmp(method, "GET") == 0;
    if (strcmp(url, "/v1/models") == 0) {
        return get ? list_models(a, c) : respond_error(c, 405, "method_not_allowed", "use GET for /v1/models");
    }
    if (strcmp(url, "/v1/chat/completions") == 0) {
        if (!post) return respond_error(c, 405, "method_not_allowed", "use POST for /v1/chat/completions");
        if (q->too_big) return respond_error(c, 413, "body_too_large", "the request body is larger than 4 MiB");
        if (q->body.oom) return respond_error(c, 500, "out_of_memory", "out of memory");
        return chat_completions(a, c, q->body.p ? q->body.p : "", q->body.len);
    }
    return respond_error(c, 404, "not_found", "unknown endpoint (this server has /v1/chat/completions and /v1/models)");
}

serve_api *serve_api_new(const char *model_path, int n_ctx, int n_threads) {
    serve_api *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    const char *base = strrchr(model_path, '/');
    snprintf(a->id, sizeof a->id, "%s", base ? base + 1 : model_path);
    size_t n = strlen(a->id);
    if (n > 5 && strcmp(a->id + n - 5, ".gguf") == 0) a->id[n - 5] = 0;
    if (!(a->model = cli_load_model(model_path, n_threads))) {
        serve_api_free(a);
        return NULL;
    }
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = n_ctx;
    char err[256];
    if (hearth_session_new(a->model, &sp, &a->session, err, sizeof err) != HEARTH_OK) {
        cli_fail("serve", "cannot make a session: %s", err);
        serve_api_free(a);
        return NULL;
    }
    return a;
}

void serve_api_free(serve_api *a) {
    if (!a) return;
    hearth_session_free(a->session);
    hearth_model_free(a->model);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
}
