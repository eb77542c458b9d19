/* gpu_plan.c - native helper for the WebGPU tests: runs the C planner without the wasm build and hands its blobs to Node.
 *
 *   gpu_plan ops DIR [SUBGROUP_MIN DOT4]   op-parity cases (random inputs, plain-C reference outputs, plans) -> DIR
 *   gpu_plan synth OUT.gguf PRESET TYPE   a random-weight GGUF with real shapes (benchmarks)
 *   gpu_plan serve DIR   reads commands from stdin, answers one line each; blobs go to files in DIR
 *                        (see gpu_serve.c); tests/js/webgpu_model.test.mjs drives it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_helper.h"

int gh_write_file(const char *dir, const char *name, const void *data, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return (fclose(f) != 0 || w != n) ? -1 : 0;
}

int main(int argc, char **argv) {
    if ((argc == 3 || argc == 5) && strcmp(argv[1], "ops") == 0) {
        hg_device f = hg_device_default();
        if (argc == 5) {
            f.subgroup_min = (uint32_t)atoi(argv[3]);
            f.subgroups = f.subgroup_min > 0;
            f.dot4 = atoi(argv[4]) != 0;
        }
        return gh_ops_main(argv[2], &f);
    }
    if (argc == 3 && strcmp(argv[1], "serve") == 0) return gh_serve_main(argv[2]);
    if (argc == 5 && strcmp(argv[1], "synth") == 0) return gh_synth_main(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: gpu_plan ops DIR [SUBGROUP_MIN DOT4] | gpu_plan serve DIR | gpu_plan synth OUT.gguf PRESET TYPE\n");
    return 2;
}
