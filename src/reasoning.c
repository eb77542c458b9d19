/* reasoning.c - splits generated text into a reasoning model's thinking and its answer, piece by piece (rules in reasoning.h). */
#include "reasoning.h"

#include <stdlib.h>
#include <string.h>

static const char OPEN[] = "<think>", CLOSE[] = "</think>";
#define OPEN_LEN (sizeof OPEN - 1)
#define CLOSE_LEN (sizeof CLOSE - 1)

static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Length of the longest suffix of s[0..n) that is a proper prefix of tag. */
static size_t partial_tag(const char *s, size_t n, const char *tag, size_t tag_len) {
    for (size_t k = n < tag_len - 1 ? n : tag_len - 1; k > 0; k--)
        if (memcmp(s + n - k, tag, k) == 0) return k;
    return 0;
}

static size_t find(const char *s, size_t n, const char *tag, size_t tag_len) {
    for (size_t i = 0; i + tag_len <= n; i++)
        if (memcmp(s + i, tag, tag_len) == 0) return i;
    return n;
}

/* Appends s[0..n) to out as the next text of the current part (without its leading whitespace if
 * it is the part's start). */
static void take(rs_splitter *r, const char *s, size_t n, char *out, size_t *len) {
    if (r->fresh) {
        while (n && is_space(*s)) s++, n--;
        if (n) r->fresh = false;
    }
    memcpy(out + *len, s, n);
    *len += n;
}

static void hold(rs_splitter *r, const char *s, size_t n) {
    memmove(r->hold, s, n);
    r->n_hold = n;
}

void rs_init(rs_splitter *r, bool in_reasoning) {
    memset(r, 0, sizeof *r);
    r->state = in_reasoning ? RS_REASONING : RS_START;
    r->fresh = true;
    r->had_reasoning = in_reasoning;
}

void rs_push(rs_splitter *r, const char *piece, size_t n, char *reasoning, size_t *nr, char *answer, size_t *na) {
    char *buf = malloc(r->n_hold + n + 1);
    if (!buf) { /* cannot split: pass the held text and the piece on as they are */
        char *out = r->state == RS_REASONING ? reasoning : answer;
        size_t *len = r->state == RS_REASONING ? nr : na;
        take(r, r->hold, r->n_hold, out, len);
        take(r, piece, n, out, len);
        r->n_hold = 0;
        return;
    }
    memcpy(buf, r->hold, r->n_hold);
    memcpy(buf + r->n_hold, piece, n);
    const char *s = buf;
    size_t len = r->n_hold + n;
    r->n_hold = 0;
    for (;;) {
        if (r->state == RS_START) { /* before any answer text: the model may open the block itself */
            size_t lead = 0;
            while (lead < len && is_space(s[lead])) lead++;
            if (len - lead >= OPEN_LEN && memcmp(s + lead, OPEN, OPEN_LEN) == 0) {
                s += lead + OPEN_LEN, len -= lead + OPEN_LEN;
                r->state = RS_REASONING;
                r->had_reasoning = true;
                continue;
            }
            if (len < sizeof r->hold && len - lead < OPEN_LEN && memcmp(OPEN, s + lead, len - lead) == 0) {
                hold(r, s, len); /* maybe the tag, still arriving */
                break;
            }
            r->state = RS_ANSWER;
            r->fresh = false; /* no reasoning before it: the answer passes through as it is */
        }
        if (r->state == RS_REASONING) {
            const size_t at = find(s, len, CLOSE, CLOSE_LEN);
            if (at < len) {
                size_t end = at;
                while (end && is_space(s[end - 1])) end--;
                take(r, s, end, reasoning, nr);
                s += at + CLOSE_LEN, len -= at + CLOSE_LEN;
                r->state = RS_ANSWER;
                r->fresh = true;
                continue;
            }
            size_t keep = len - partial_tag(s, len, CLOSE, CLOSE_LEN); /* a part of the tag, and the whitespace before it, wait */
            while (keep && is_space(s[keep - 1])) keep--;
            if (len - keep >= sizeof r->hold) keep = len - (sizeof r->hold - 1);
            take(r, s, keep, reasoning, nr);
            hold(r, s + keep, len - keep);
            break;
        }
        take(r, s, len, answer, na);
        break;
    }
    free(buf);
}

void rs_end(rs_splitter *r, char *reasoning, size_t *nr, char *answer, size_t *na) {
    size_t n = r->n_hold;
    if (r->state == RS_REASONING) {
        while (n && is_space(r->hold[n - 1])) n--;
        take(r, r->hold, n, reasoning, nr);
    } else if (r->state == RS_START) {
        memcpy(answer + *na, r->hold, n);
        *na += n;
    } else {
        take(r, r->hold, n, answer, na);
    }
    r->n_hold = 0;
}
