/* wasm_pack.h - unpacking the JS side's packed arguments, shared by web/wasm_api.c (CPU engine) and web/wasm_gpu.c (WebGPU engine).
 *
 * The JS side passes lists as NUL-terminated strings one after another in one buffer (web/engine.js
 * packs them): stop strings "a\0b\0", chat messages "role\0content\0role\0content\0".
 */
#ifndef HEARTH_WASM_PACK_H
#define HEARTH_WASM_PACK_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hearth.h"

/* Copies the n packed strings at packed into a new array *out (caller frees each string and the
 * array); *n_done counts the strings copied. Returns false when out of memory, with what was
 * copied so far in *out and *n_done, so that the caller's usual free releases it. n <= 0: nothing. */
static inline bool hw_unpack_strings(const char *packed, int n, char ***out, int *n_done) {
    *out = NULL;
    *n_done = 0;
    if (n <= 0) return true;
    if (!(*out = calloc((size_t)n, sizeof **out))) return false;
    for (int i = 0; i < n; i++) {
        const size_t l = strlen(packed);
        if (!((*out)[i] = malloc(l + 1))) return false;
        memcpy((*out)[i], packed, l + 1);
        (*n_done)++;
        packed += l + 1;
    }
    return true;
}

/* The n_msgs messages packed as "role\0content\0..." as an array of views into packed (no copies);
 * caller frees the array with free(). NULL when out of memory. */
static inline hearth_message *hw_unpack_messages(const char *packed, int n_msgs) {
    hearth_message *msgs = calloc((size_t)n_msgs, sizeof *msgs);
    if (!msgs) return NULL;
    for (int i = 0; i < n_msgs; i++) {
        msgs[i].role = packed;
        packed += strlen(packed) + 1;
        msgs[i].content = packed;
        packed += strlen(packed) + 1;
    }
    return msgs;
}

#endif
