#!/usr/bin/env bash
# Formats every C source and header with the project's .clang-format; with --check, changes
# nothing and fails listing the files that are not formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
bad=()
while IFS= read -r f; do
  if [ "$mode" = "--check" ]; then
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  else
    clang-format -i "$f"
  fi
done < <(git ls-files '*.c' '*.h')
if [ ${#bad[@]} -gt 0 ]; then
  echo "not formatted (run scripts/format.sh): ${bad[*]}" >&2
  exit 1
fi
