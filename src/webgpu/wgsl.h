/* wgsl.h - the WGSL kernel sources (web/gpu/kernels/NAME.wgsl), embedded at build time by tools/gpu/embed_wgsl.sh. */
#ifndef HEARTH_WEBGPU_WGSL_H
#define HEARTH_WEBGPU_WGSL_H

typedef struct {
    const char *name; /* file name without ".wgsl" */
    const char *text;
} hg_wgsl_file;

extern const hg_wgsl_file hg_wgsl_files[];
extern const int hg_wgsl_count;

#endif
