#!/usr/bin/env bash
# build_static.sh - a statically linked hearth without `serve` (.gpu/hearth-static) for machines without a toolchain.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s build/libhearth.a
mkdir -p .gpu build/static
echo 'int hearth_cmd_serve(int argc, char **argv) { (void)argc; (void)argv; return 1; }' > build/static/no_serve.c
objs=$(ls cli/*.c | grep -v 'cli/serve.c' | sed 's|^|build/|; s|\.c$|.o|')
make -s $objs
cc -O2 -static -o .gpu/hearth-static $objs build/static/no_serve.c build/libhearth.a -lm -lpthread
echo "wrote .gpu/hearth-static"
