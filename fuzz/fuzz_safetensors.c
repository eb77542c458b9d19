/* fuzz_safetensors.c - libFuzzer target: arbitrary bytes through the safetensors reader, then every tensor converted to floats. */
#include "fuzz_common.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_set *set = calloc(1, sizeof *set);
    if (!set) return 0;
    hearth_err e = {0};
    if (st_parse(set, data, size, &e) == HEARTH_OK) {
        for (size_t i = 0; i < set->n_tensors; i++) {
            const st_tensor *t = &set->tensors[i];
            FUZZ_ASSERT(t->data >= data && t->nbytes <= size && (size_t)(t->data - data) <= size - t->nbytes,
                        "tensor %s lies outside the file", t->name);
            FUZZ_ASSERT(st_find(set, t->name) != NULL, "tensor %s not found", t->name);
            if (t->n_elems <= (1u << 20)) {
                float *dst = malloc(sizeof(float) * (t->n_elems ? t->n_elems : 1));
                if (dst) (void)st_to_f32(t, dst);
                free(dst);
            }
        }
    }
    st_free(set);
    return 0;
}
