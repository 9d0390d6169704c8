#!/usr/bin/env bash
# bench/run --quick (10 patients x 3 days): the model written again for SciPy (LSODA, BDF) and
# for R deSolve (compiled C right-hand side) agrees with ketasim's reference path on every
# hourly MADRS value, to 1e-3 of the scale range (docs/BENCHMARK.md). Agreement only: timings
# are never checked. Skipped when the peers (python3-scipy, r-cran-desolve) are not installed.
set -uo pipefail
out=$(bash "$KS_SRC/bench/run" --quick --build "$KS_BUILD" --no-build --no-install 2>&1)
rc=$?
if [ $rc = 77 ]; then
  echo "SKIP: benchmark peers not installed (python3-scipy, r-cran-desolve)"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
if [ $rc != 0 ]; then
  echo "$out"
  echo "bench/run --quick failed (exit $rc)"
  echo "0 passed, 1 failed"
  exit 1
fi
line=$(echo "$out" | tail -n 1)
z=$(echo "$line" | sed -n 's/^ratios: .* maxreldiff=\([^ ]*\)$/\1/p')
if [ -z "$z" ] || ! awk -v z="$z" 'BEGIN { exit !(z + 0 == z && z <= 1e-3) }'; then
  echo "$out"
  echo "maxreldiff '$z' is not <= 1e-3 (last line: $line)"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$line"
echo "1 passed, 0 failed"
