#!/usr/bin/env bash
# deps.sh - installs what building and testing need and is missing: Debian packages, then npm packages from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

# What is needed, as "command-or-header:debian-package": the C toolchain, the `hearth serve` HTTP
# library, the wasm toolchain, the browser for the e2e tests, Node and npm (a Node that ships its
# own npm, as NodeSource's does, counts: then Debian's npm is not installed).
NEEDS=(cc:build-essential make:build-essential /usr/include/microhttpd.h:libmicrohttpd-dev emcc:emscripten
       chromium:chromium node:nodejs npm:npm /usr/lib/x86_64-linux-gnu/libvulkan.so.1:libvulkan1
       /usr/share/unicode/NormalizationTest.txt.bz2:unicode-data bzcat:bzip2 clang-14:clang-14)
missing=()
for need in "${NEEDS[@]}"; do
    what=${need%%:*} pkg=${need#*:}
    if [[ $what == /* ]]; then [ -e "$what" ] && continue; else command -v "$what" >/dev/null && continue; fi
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    echo "deps: installing ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages (marked, dompurify, playwright-core, node-llama-cpp, ...): exactly the lockfile,
# reinstalled only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: npm ci"
    npm ci --omit=optional --no-audit --no-fund
fi
