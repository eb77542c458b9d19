/* test_reasoning.c - src/reasoning.c: a reply split into reasoning and answer, the same whether it arrives whole or in pieces of any size (the cases of tests/js/reasoning.test.mjs). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "reasoning.h"

typedef struct {
    const char *text;
    bool opened; /* the template opened the block */
    const char *reasoning, *answer;
    bool had;
} split_case;

static const split_case CASES[] = {
    {"Plan it.\n</think>\n\nThe answer.", true, "Plan it.", "The answer.", true}, /* Nemotron: template-opened */
    {"<think>\nPlan.\n</think>\n\nAnswer", false, "Plan.", "Answer", true},       /* Qwen3: the model opens it */
    {"\n<think>x</think>y", false, "x", "y", true},
    {"  Plain answer\n", false, "", "  Plain answer\n", false},                   /* no block: unchanged */
    {"<b>bold</b> and <thin", false, "", "<b>bold</b> and <thin", false},
    {"A <think> later is text", false, "", "A <think> later is text", false},     /* only a leading tag opens */
    {"never closes \n", true, "never closes", "", true},                          /* cut by max_tokens */
    {"</think>answer only", true, "", "answer only", true},
    {"a </thinking> b</think>c", true, "a </thinking> b", "c", true},
    {"", true, "", "", true},
    /* a whitespace run longer than the hold inside the reasoning is kept, not lost */
    {"a                                                                                  b</think>c", true,
     "a                                                                                  b", "c", true},
};

static void run(const split_case *c, size_t step) {
    const size_t n = strlen(c->text);
    char *r = calloc(1, n + 256), *a = calloc(1, n + 256);
    size_t nr = 0, na = 0;
    rs_splitter s;
    rs_init(&s, c->opened);
    for (size_t i = 0; i < n; i += step) rs_push(&s, c->text + i, n - i < step ? n - i : step, r, &nr, a, &na);
    rs_end(&s, r, &nr, a, &na);
    CHECK(nr == strlen(c->reasoning) && memcmp(r, c->reasoning, nr) == 0, "pieces of %zu, \"%s\": reasoning \"%.*s\"", step,
          c->text, (int)nr, r);
    CHECK(na == strlen(c->answer) && memcmp(a, c->answer, na) == 0, "pieces of %zu, \"%s\": answer \"%.*s\"", step, c->text,
          (int)na, a);
    CHECK(s.had_reasoning == c->had, "pieces of %zu, \"%s\": had_reasoning %d", step, c->text, s.had_reasoning);
    free(r);
    free(a);
}

int main(void) {
    const size_t steps[] = {1, 2, 3, 7, 1000};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) run(&CASES[i], steps[k]);
    return check_summary("reasoning");
}
