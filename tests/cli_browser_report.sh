#!/usr/bin/env bash
# cli_browser_report.sh -- the browser test: writes the report of the default scenario, opens
# it in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core from npm,
# installed into the build directory) and checks that every figure renders. Skips only when
# chromium is not installed (scripts/deps.sh ci installs it).
set -euo pipefail
: "${KETASIM:?}" "${KS_SRC:?}" "${KS_BUILD:?}"
if [ ! -x /usr/bin/chromium ]; then
  echo "SKIP: /usr/bin/chromium is not installed (install it with: scripts/deps.sh ci)"
  echo "browser_report: 0 passed, 0 failed, 1 skipped"
  exit 0
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: chromium is installed but '$tool' is not (scripts/deps.sh ci installs it)" >&2
    echo "browser_report: 0 passed, 1 failed"
    exit 1
  fi
done
work="$KS_BUILD/browser-test"
mkdir -p "$work"
cp "$KS_SRC/tests/browser/package.json" "$KS_SRC/tests/browser/package-lock.json" \
   "$KS_SRC/tests/browser/check_report.mjs" "$work/"
want=$(sed -n 's/.*"playwright-core": "\([0-9.]*\)".*/\1/p' "$work/package.json")
have=$(sed -n 's/^ *"version": "\([0-9.]*\)".*/\1/p' \
       "$work/node_modules/playwright-core/package.json" 2>/dev/null | head -1 || true)
if [ "$have" != "$want" ]; then
  # Uses the npm cache first; reaches the registry only for what the cache lacks.
  if ! (cd "$work" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error); then
    echo "FAIL: npm ci of playwright-core $want failed (no network and no npm cache?)" >&2
    echo "browser_report: 0 passed, 1 failed"
    exit 1
  fi
fi
out="$work/out"
rm -rf "$out"
"$KETASIM" run --quiet --out "$out" --report "$out"
min=1
if head -1 "$out/timecourse.csv" | grep -q madrs_true; then
  min=4 # the mechanism outputs are there: pk, cascade, spines, mood
fi
cd "$work"
node check_report.mjs "$out/report.html" "$KS_BUILD/browser-report.png" "$min"
