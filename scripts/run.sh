#!/usr/bin/env bash
# Installs what is missing, builds ketasim and runs the default scenario (or `ketasim run`
# with the arguments given). Outputs go to ketasim-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/ketasim run "$@"
