/* st_write.c - writes small .safetensors files (F32 / I32 tensors), e.g. logits for comparison with the reference. */
#include "st_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

hearth_status st_write_file(const char *path, const st_out_tensor *ts, size_t n, hearth_err *e) {
    /* header JSON; every tensor is 4-byte elements so offsets stay aligned */
    size_t cap = 256 + n * 256, len = 0;
    char *hdr = malloc(cap);
    if (!hdr) return herr(e, HEARTH_ERR_NOMEM, "out of memory");
    uint64_t off = 0;
    len += (size_t)snprintf(hdr + len, cap - len, "{");
    for (size_t i = 0; i < n; i++) {
        uint64_t elems = 1;
        for (int d = 0; d < ts[i].n_dims; d++) elems *= ts[i].shape[d];
        len += (size_t)snprintf(hdr + len, cap - len, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "", ts[i].name,
                                ts[i].is_int ? "I32" : "F32");
        for (int d = 0; d < ts[i].n_dims; d++)
            len += (size_t)snprintf(hdr + len, cap - len, "%s%llu", d ? "," : "", (unsigned long long)ts[i].shape[d]);
        len += (size_t)snprintf(hdr + len, cap - len, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                                (unsigned long long)(off + 4 * elems));
        off += 4 * elems;
    }
    len += (size_t)snprintf(hdr + len, cap - len, "}");
    while (len % 8) hdr[len++] = ' ';
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(hdr);
        return herr(e, HEARTH_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    uint64_t hl = len;
    bool ok = fwrite(&hl, 8, 1, f) == 1 && fwrite(hdr, 1, len, f) == len;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t elems = 1;
        for (int d = 0; d < ts[i].n_dims; d++) elems *= ts[i].shape[d];
        ok = fwrite(ts[i].data, 4, elems, f) == elems;
    }
    free(hdr);
    if (fclose(f) != 0) ok = false;
    return ok ? HEARTH_OK : herr(e, HEARTH_ERR_IO, "error writing %s", path);
}
