/* generate.c - steppable generation: prefill, sample, stream whole UTF-8 pieces, stop on eos / stop strings / limit. */
#include <stdlib.h>

#include "session.h"

void hm_gen_clear(hearth_session *s) {
    hm_gen *g = &s->gen;
    for (size_t i = 0; i < g->n_stop; i++) free(g->stop[i]);
    free(g->stop);
    free(g->text);
    free(g->logits);
    free(g->scratch);
    memset(g, 0, sizeof *g);
    g->pending = -1;
}
