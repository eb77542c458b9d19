/* fuzz_json.c - libFuzzer target: arbitrary bytes through the JSON parser and every accessor, over the whole tree. */
#include "fuzz_common.h"
#include "json.h"

static void walk(const json_value *v, int depth) {
    FUZZ_ASSERT(depth <= 257, "tree deeper than the parser's nesting limit");
    double d;
    int64_t i64;
    bool b;
    (void)json_number(v, &d);
    switch (v->type) {
    case JSON_STRING:
        FUZZ_ASSERT(v->str[v->len] == 0, "string not NUL-terminated");
        break;
    case JSON_ARRAY:
        for (size_t i = 0; i < v->len; i++) walk(json_at(v, i), depth + 1);
        FUZZ_ASSERT(json_at(v, v->len) == NULL, "item past the end");
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->len; i++) {
            FUZZ_ASSERT(v->keys[i] != NULL, "NULL key");
            FUZZ_ASSERT(json_get(v, v->keys[i]) != NULL, "key %s not found", v->keys[i]);
            (void)json_get_number(v, v->keys[i], &d);
            (void)json_get_int(v, v->keys[i], &i64);
            (void)json_get_bool(v, v->keys[i], &b);
            (void)json_get_string(v, v->keys[i]);
            walk(&v->items[i], depth + 1);
        }
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hearth_err e = {0};
    json_value *v = json_parse((const char *)data, size, &e);
    if (!v) {
        FUZZ_ASSERT(e.msg[0] != 0, "a failed parse has no message");
        return 0;
    }
    walk(v, 0);
    json_free(v);
    return 0;
}
