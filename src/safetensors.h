/* safetensors.h - reader for Hugging Face .safetensors files, single or sharded with an index. */
#ifndef HEARTH_SAFETENSORS_H
#define HEARTH_SAFETENSORS_H

#include "util.h"

#define ST_MAX_DIMS 8

typedef struct {
    char *name;
    char dtype[8];   /* as in the header: "F32", "BF16", "I32", ... */
    int type;        /* matching ht_type (HT_F32, HT_F16, HT_BF16, HT_I32, HT_I64, HT_F64, HT_I8, HT_I16) or -1 */
    uint32_t n_dims;
    uint64_t shape[ST_MAX_DIMS]; /* torch order: shape[0] varies slowest */
    uint64_t n_elems;
    uint64_t nbytes;
    const uint8_t *data; /* view into the mapped file, no copy */
} st_tensor;

typedef struct {
    hu_file *files;
    size_t n_files;
    st_tensor *tensors;
    size_t n_tensors;
} st_set;

/* Parses one safetensors image (borrowed; must outlive the set's use of it) and appends its
 * tensors to `set`. Checks the header length, JSON, dtypes, shapes and that every
 * data_offsets pair lies inside the file and matches the shape's byte size. */
hearth_status st_parse(st_set *set, const uint8_t *data, size_t size, hearth_err *e);

/* Opens `path`: a .safetensors file, or a folder holding model.safetensors or
 * model.safetensors.index.json with its shards. Files are memory-mapped. Caller frees with st_free. */
hearth_status st_open(const char *path, st_set **out, hearth_err *e);
void st_free(st_set *set);

const st_tensor *st_find(const st_set *set, const char *name);
/* Converts a tensor of F32/F16/BF16 (or F64) into n_elems floats at dst. False for other dtypes. */
bool st_to_f32(const st_tensor *t, float *dst);

#endif
