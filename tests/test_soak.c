/* test_soak.c - one long session: 20,000 generated tokens with memory flat after warm-up, then the state saved, restored and continued identically.
 *
 * The demo model (models/demo-q8_0.gguf, or $HEARTH_DEMO_MODEL) generates with ignore_eos in a
 * 20,480-token context on one thread. The session's KV cache is allocated whole when the session is
 * made, but the OS maps its pages only as positions are first written (~4 KiB per token for
 * this model); the test writes it once up front so that RSS measures everything else: sampler,
 * text buffers, scratch, thread pool. Checked after warm-up (token 1,000) to the end:
 *   - RSS grows by at most 2 MiB, and the heap in use (mallinfo2) by at most 512 KiB (the only
 *     growing buffer is the session's text, ~4 bytes a token);
 *   - the saved state restores into a fresh session, saves back to the same bytes, and both
 *     sessions then sample the same 64 tokens (same KV cache, SSM state and RNG).
 * Prints tokens/s and the RSS and heap at each checkpoint. $HEARTH_SOAK_TOKENS and $HEARTH_SOAK_THREADS
 * change the length (default 20,000) and the threads (default 1); under AddressSanitizer (make debug)
 * the default is 2,000 tokens. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "session.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifdef UNDER_ASAN
#define N_GEN_DEFAULT 2000
#else
#define N_GEN_DEFAULT 20000
#endif
#define N_MORE 64

static double rss_mib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static double heap_mib(void) {
    struct mallinfo2 mi = mallinfo2();
    return (double)(mi.uordblks + mi.hblkhd) / 1048576.0;
}

/* Generates until done or `max` pieces; returns the tokens produced, their ids in ids[]. */
static int generate(hearth_session *s, int32_t *ids, int max) {
    int n = 0;
    bool done = false;
    char piece[256];
    size_t len;
    int32_t t;
    while (!done && n < max) {
        if (hearth_session_generate_next(s, piece, sizeof piece, &len, &t, &done) != HEARTH_OK) {
            CHECK(0, "generate_next: %s", hearth_session_error(s));
            break;
        }
        if (t >= 0) ids[n++] = t;
    }
    return n;
}

int main(void) {
    const int N_GEN = getenv("HEARTH_SOAK_TOKENS") ? atoi(getenv("HEARTH_SOAK_TOKENS")) : N_GEN_DEFAULT;
    int N_CTX = ((N_GEN + 480) + 255) / 256 * 256; /* room for the prompt and the continuation */
    if (getenv("HEARTH_SOAK_CTX") && atoi(getenv("HEARTH_SOAK_CTX")) > N_CTX) N_CTX = atoi(getenv("HEARTH_SOAK_CTX"));
    const int threads = getenv("HEARTH_SOAK_THREADS") ? atoi(getenv("HEARTH_SOAK_THREADS")) : 1;
    if (N_GEN < 1000) {
        CHECK(0, "HEARTH_SOAK_TOKENS=%d: at least 1,000 (the warm-up)", N_GEN);
        return check_summary("soak");
    }
    const char *path = getenv("HEARTH_DEMO_MODEL") ? getenv("HEARTH_DEMO_MODEL") : "models/demo-q8_0.gguf";
    hearth_model *m = NULL;
    char err[512];
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = threads;
    if (hearth_model_load(path, &mp, &m, err, sizeof err) != HEARTH_OK) {
        CHECK(0, "load %s: %s", path, err);
        return check_summary("soak");
    }
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = N_CTX;
    sp.seed = 7;
    hearth_session *s = NULL;
    CHECK(hearth_session_new(m, &sp, &s, err, sizeof err) == HEARTH_OK, "session: %s", err);
    if (!s) return check_summary("soak");
    const hm_hparams *hp = &m->hp;
    for (int l = 0; l < hp->n_layer; l++) /* map the KV cache's pages now (see the top) */
        if (s->layers[l].k) {
            size_t bytes = sizeof(float) * (size_t)N_CTX * (size_t)hp->n_head_kv * (size_t)hp->head_dim;
            memset(s->layers[l].k, 0, bytes);
            memset(s->layers[l].v, 0, bytes);
        }

    hearth_message msgs[] = {{"system", "You are a storyteller."}, {"user", "Tell me a very long story about a lighthouse."}};
    hearth_chat_options co = hearth_chat_default_options();
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = N_GEN;
    gp.ignore_eos = true;
    CHECK(hearth_session_chat_begin(s, msgs, 2, &co, &gp) == HEARTH_OK, "chat_begin: %s", hearth_session_error(s));
    const int n_prompt = hearth_session_n_past(s);

    int32_t *ids = malloc(sizeof(int32_t) * (size_t)N_GEN);
    const int marks[] = {1000, 1000 + (N_GEN - 1000) / 4, 1000 + (N_GEN - 1000) / 2, 1000 + 3 * (N_GEN - 1000) / 4, N_GEN};
    double rss[5], heap[5], at[5];
    double t0 = hu_now();
    int n = 0;
    for (int k = 0; k < 5; k++) {
        n += generate(s, ids + n, marks[k] - n);
        rss[k] = rss_mib();
        heap[k] = heap_mib();
        at[k] = hu_now() - t0;
        printf("# %5d tokens  %6.1f s  RSS %7.2f MiB  heap %6.2f MiB  n_past %d\n", n, at[k], rss[k], heap[k],
               hearth_session_n_past(s));
        fflush(stdout);
    }
    CHECK(n == N_GEN, "generated %d tokens, expected %d", n, N_GEN);
    hearth_stats st;
    hearth_session_stats(s, &st);
    printf("# decode: %d tokens in %.1f s = %.0f tokens/s (%d thread%s; n_ctx %d)\n", st.n_decode, st.decode_seconds,
           st.n_decode / (st.decode_seconds > 0 ? st.decode_seconds : 1), threads, threads == 1 ? "" : "s", N_CTX);
    CHECK(rss[4] - rss[0] <= 2.0, "RSS grew %.2f MiB from token 1,000 to %d", rss[4] - rss[0], N_GEN);
    (void)at;
    CHECK(heap[4] - heap[0] <= 0.5, "heap in use grew %.2f MiB from token 1,000 to %d", heap[4] - heap[0], N_GEN);
    CHECK(hearth_session_n_past(s) >= n_prompt + N_GEN - 1, "n_past %d after %d prompt + %d generated tokens",
          hearth_session_n_past(s), n_prompt, N_GEN);

    /* save -> restore into a fresh session -> save again: the same bytes */
    size_t len = 0, len2 = 0;
    hearth_session_save(s, NULL, 0, &len);
    uint8_t *a = malloc(len), *b = malloc(len);
    CHECK(a && b && hearth_session_save(s, a, len, &len) == HEARTH_OK, "save %zu bytes", len);
    hearth_session *r = NULL;
    CHECK(hearth_session_new(m, &sp, &r, err, sizeof err) == HEARTH_OK, "second session: %s", err);
    CHECK(hearth_session_load(r, a, len) == HEARTH_OK, "restore: %s", hearth_session_error(r));
    CHECK(hearth_session_n_past(r) == hearth_session_n_past(s), "n_past %d restored as %d", hearth_session_n_past(s),
          hearth_session_n_past(r));
    hearth_session_save(r, NULL, 0, &len2);
    CHECK(len2 == len && hearth_session_save(r, b, len2, &len2) == HEARTH_OK && memcmp(a, b, len) == 0,
          "the restored session saves differently (%zu vs %zu bytes)", len2, len);
    printf("# state: %.1f MiB for %d tokens\n", (double)len / 1048576.0, hearth_session_n_past(s));

    /* both continue the same way: a newline fed, then tokens sampled with the restored RNG */
    hearth_gen_params g2 = hearth_gen_default_params();
    g2.max_tokens = N_MORE;
    g2.ignore_eos = true;
    int32_t x[N_MORE], y[N_MORE];
    int nx = 0, ny = 0;
    int32_t nl = 0;
    size_t nn = 0;
    hearth_tokenize(m, "\n", 1, false, &nl, 1, &nn);
    if (hearth_session_generate_begin(s, &nl, 1, &g2) == HEARTH_OK) nx = generate(s, x, N_MORE);
    if (hearth_session_generate_begin(r, &nl, 1, &g2) == HEARTH_OK) ny = generate(r, y, N_MORE);
    CHECK(nx == N_MORE && ny == N_MORE && memcmp(x, y, sizeof x) == 0, "continuations differ after restore (%d, %d tokens)", nx, ny);

    free(a);
    free(b);
    free(ids);
    hearth_session_free(r);
    hearth_session_free(s);
    hearth_model_free(m);
    return check_summary("soak");
}
