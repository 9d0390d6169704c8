#!/usr/bin/env bash
# Installs the Debian packages ketasim needs that are missing. As root it runs apt-get; as
# another user it prints the exact command to run and exits 1.
# usage: scripts/deps.sh [build|test|ci]   (default build)
set -euo pipefail
what=${1:-build}
pkgs=(build-essential cmake pkg-config libsundials-dev libsuitesparse-dev libcjson-dev)
case "$what" in
  build) pkgs+=(libopenmpi-dev openmpi-bin) ;;
  test) pkgs+=(libopenmpi-dev openmpi-bin python3) ;;
  ci)
    # chromium + node/npm: the browser test of the HTML report (tests/cli_browser_report.sh).
    # npm ships inside some nodejs builds; Debian packages it separately.
    # libopenmpi-dev + openmpi-bin: `mpirun -np K ketasim trial` (tests/cli_trial_mpi.sh).
    pkgs+=(python3 clang clang-format libclang-rt-14-dev chromium nodejs libopenmpi-dev openmpi-bin)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm) ;;
  *) echo "scripts/deps.sh: unknown set '$what' (build, test or ci)" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "scripts/deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "scripts/deps.sh: missing Debian packages. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
