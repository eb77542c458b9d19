#!/usr/bin/env bash
# prepare.sh - on the work machine: packs into .gpu/ (git-ignored) what tools/gpu/bench.sh needs on the GPU machine, which has no Node, no npm and maybe no compiler.
#   .gpu/node.xz.1 .gpu/node.xz.2 (node, stripped, xz -9e, split)  .gpu/dawn.node.xz  .gpu/webgpu/{index.js,package.json}
#   .gpu/libvulkan1_*.deb  .gpu/gpu_plan.xz (static)
# What one run may take along (repository + carry) is 64 MiB and the repository alone holds ~47 MiB,
# so Node (21 MiB compressed) travels in two runs a few seconds apart (the machine keeps ignored
# files while it stays warm):
#   run 1: `true`                       carry [".gpu/node.xz.1"]
#   run 2: `bash tools/gpu/bench.sh`    carry [".gpu/node.xz.2", ".gpu/dawn.node.xz", ".gpu/webgpu", ".gpu/gpu_plan.xz", ".gpu/libvulkan1_1.3.239.0-1_amd64.deb"]
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu/webgpu
if ! ls .gpu/libvulkan1_*.deb >/dev/null 2>&1; then
    # amd64 package lists in /tmp, so this machine's own lists stay as they are (TOOLCHAIN.md)
    mkdir -p /tmp/amd64/partial
    o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    apt-get "${o[@]}" update >/dev/null
    (cd .gpu && apt-get "${o[@]}" download libvulkan1)
fi
if [ ! -f .gpu/node.xz.2 ]; then
    cp "$(command -v node)" /tmp/node-stripped && strip --strip-all /tmp/node-stripped
    xz -T2 -9e -c /tmp/node-stripped > /tmp/node.xz
    head -c $((12 << 20)) /tmp/node.xz > .gpu/node.xz.1
    tail -c +$(((12 << 20) + 1)) /tmp/node.xz > .gpu/node.xz.2
    rm -f /tmp/node-stripped /tmp/node.xz .gpu/node.xz
fi
[ -f .gpu/dawn.node.xz ] || xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/dawn.node.xz
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpu/webgpu/
# the planner helper, linked statically; its own build directory (build/ is shared)
make -s BUILD=build/gpu-static build/gpu-static/libhearth.a
mkdir -p build/gpu-static/gen
bash tools/gpu/embed_wgsl.sh build/gpu-static/gen/hg_wgsl.c
cc -O2 -std=c11 -Iinclude -Isrc -Itests/webgpu -D_GNU_SOURCE -static -o build/gpu-static/gpu_plan \
    tests/webgpu/*.c src/webgpu/*.c build/gpu-static/gen/hg_wgsl.c build/gpu-static/libhearth.a -lm -lpthread
xz -9 -c build/gpu-static/gpu_plan > .gpu/gpu_plan.xz
rm -f .gpu/gpu_plan
du -sh .gpu; ls -l .gpu
