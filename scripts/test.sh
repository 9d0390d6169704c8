#!/usr/bin/env bash
# Installs what is missing, builds ketasim with warnings as errors and runs the whole test
# suite with ctest. Extra arguments go to ctest (e.g. -R pk).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKS_WERROR=ON >/dev/null
cmake --build build-test -j"$(nproc)"
cd build-test
ctest --output-on-failure -j"$(nproc)" "$@"
