/* gpu_helper.h - the native test helper for the WebGPU backend (build/tests/gpu_plan): shared declarations. */
#ifndef HEARTH_TESTS_GPU_HELPER_H
#define HEARTH_TESTS_GPU_HELPER_H

#include <stddef.h>
#include <stdint.h>

/* Writes n bytes to dir/name; 0 on success. */
int gh_write_file(const char *dir, const char *name, const void *data, size_t n);

#include "webgpu/hg.h"

/* `gpu_plan ops DIR [SUBGROUP_MIN DOT4]`: writes the op-parity cases (gpu_ops.c); the weight kernels
 * also in the device's optional variants (subgroup lane sums, dot4I8Packed) when given. */
int gh_ops_main(const char *dir, const hg_device *features);
/* `gpu_plan synth OUT.gguf PRESET TYPE`: a random-weight nemotron_h GGUF with real shapes (gpu_synth.c). */
int gh_synth_main(const char *out, const char *preset, const char *type);
/* `gpu_plan serve DIR`: the planner driven line by line from stdin (gpu_serve.c). */
int gh_serve_main(const char *dir);

#endif
