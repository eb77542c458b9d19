/* reasoning.h - splits generated text into a reasoning model's thinking (inside <think>…</think>) and its answer, piece by piece (web/reasoning.js does the same in the page). */
#ifndef HEARTH_CLI_REASONING_H
#define HEARTH_CLI_REASONING_H

#include <stdbool.h>
#include <stddef.h>

/* The state of one reply. The reply starts inside the block when the chat template opened it
 * (hearth_session_chat_reasoning right after chat_begin), or the model may open it itself as the
 * first thing it writes. Tags are dropped, so is the whitespace around the reasoning and at the
 * start of an answer that follows it; a reply without a block passes through unchanged. A tag split
 * across pieces, and whitespace that may end the reasoning, are held back until they are known. */
typedef struct {
    enum { RS_START, RS_REASONING, RS_ANSWER } state;
    bool fresh;         /* nothing of the current part emitted yet: its leading whitespace goes */
    bool had_reasoning; /* the reply had a reasoning block */
    char hold[64];      /* held-back text: at most a partial tag plus whitespace */
    size_t n_hold;
} rs_splitter;

void rs_init(rs_splitter *r, bool in_reasoning);

/* Feeds a piece; appends what can be emitted to reasoning[*nr..] and answer[*na..] (each buffer
 * must have room for n + sizeof r->hold more bytes). A whitespace run longer than the hold is
 * emitted early rather than held (so nothing is ever lost). */
void rs_push(rs_splitter *r, const char *piece, size_t n, char *reasoning, size_t *nr, char *answer, size_t *na);

/* The end of the reply: emits what was held back. */
void rs_end(rs_splitter *r, char *reasoning, size_t *nr, char *answer, size_t *na);

#endif
