/* json.h - a bounds-checked JSON parser for config.json, tokenizer.json and friends. */
#ifndef HEARTH_JSON_H
#define HEARTH_JSON_H

#include "util.h"

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    bool boolean;     /* JSON_BOOL */
    double number;    /* JSON_NUMBER; also +-inf / nan from the literals Infinity, -Infinity, NaN */
    char *str;        /* JSON_STRING: NUL-terminated UTF-8 (may contain NUL: use len) */
    size_t len;       /* JSON_STRING: bytes in str; JSON_ARRAY / JSON_OBJECT: number of items */
    json_value *items; /* JSON_ARRAY / JSON_OBJECT: the values, in file order */
    char **keys;      /* JSON_OBJECT: keys[i] names items[i] (NUL-terminated) */
};

/* Parses `len` bytes of JSON text. Accepts the non-standard literals Infinity, -Infinity and NaN
 * that some model configs contain. Nesting is limited to 256 levels. On success returns a tree
 * the caller frees with json_free(); on failure returns NULL and sets *e with the byte offset. */
json_value *json_parse(const char *text, size_t len, hearth_err *e);
void json_free(json_value *v);

/* Member `key` of an object; NULL when v is not an object or has no such key. Borrowed. */
const json_value *json_get(const json_value *v, const char *key);
/* Item i of an array; NULL when out of range or not an array. Borrowed. */
const json_value *json_at(const json_value *v, size_t i);

/* Reads a number. Also accepts transformers' {"__float__": "Infinity"} / "-Infinity" / "NaN"
 * objects. Returns false when v is NULL or not a number. */
bool json_number(const json_value *v, double *out);
/* Convenience lookups on an object member; return false (leaving *out untouched) if absent or of
 * another type. json_get_int also fails for non-integral values or values outside int64. */
bool json_get_number(const json_value *obj, const char *key, double *out);
bool json_get_int(const json_value *obj, const char *key, int64_t *out);
bool json_get_bool(const json_value *obj, const char *key, bool *out);
const char *json_get_string(const json_value *obj, const char *key); /* borrowed or NULL */

#endif
