/* st_write.h - writes small .safetensors files of F32 / I32 tensors. */
#ifndef HEARTH_ST_WRITE_H
#define HEARTH_ST_WRITE_H

#include "util.h"

typedef struct {
    const char *name;
    bool is_int;           /* I32 instead of F32 */
    int n_dims;
    uint64_t shape[4];
    const void *data;      /* 4-byte elements, borrowed */
} st_out_tensor;

hearth_status st_write_file(const char *path, const st_out_tensor *ts, size_t n, hearth_err *e);

#endif
