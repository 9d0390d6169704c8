#!/usr/bin/env bash
# The example program printed in docs/API.md is the file the test suite compiles
# (examples/api_example.c, from its first #include on): the documentation cannot drift from
# code that builds and runs.
set -euo pipefail
doc=$(awk '/^```c$/{f=1;next} /^```$/{if(f){exit}} f' "$KS_SRC/docs/API.md")
src=$(sed -n '/^#include <ketasim.h>/,$p' "$KS_SRC/examples/api_example.c")
if [ "$doc" != "$src" ]; then
  echo "docs/API.md example differs from examples/api_example.c:"
  diff <(echo "$doc") <(echo "$src") || true
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed"
