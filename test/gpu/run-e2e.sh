#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and checks every CUDA program prepared by
# `test/e2e/cuda_e2e.py prepare` (ctest cuda-build.e2e.* leaves them in
# build/test/e2e/cuda/<model>-<sm>/) on a GPU machine, which has nvcc but no
# Kiln: outputs must equal the reference evaluator's bit for bit.
#   test/gpu/run-e2e.sh [DIR]   (default build/test/e2e/cuda)
# Prints one PASS/FAIL/SKIP line per program and exits non-zero on a FAIL.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/build/test/e2e/cuda}
py=$(command -v python3)
arch=${KILN_E2E_ARCH:-}
if [[ -z "$arch" ]] && command -v nvidia-smi >/dev/null; then
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1)
  case "$cc" in 9.*) arch=90a ;; 8.*) arch=80 ;; esac
fi
failed=0
for prog in "$dir"/*/; do
  prog=${prog%/}
  name=$(basename "$prog")
  # Hopper runs the sm90 programs, Ampere the sm80 ones.
  case "$name:$arch" in
    *-sm90:80) echo "SKIP $name (sm_90a program, sm_80 GPU)"; continue ;;
    *-sm80:90a) ;;  # sm_80 code runs on sm_90 too
  esac
  if ! "$py" "$root/test/e2e/cuda_e2e.py" build --dir "$prog" \
       >"$prog/build.log" 2>&1; then
    echo "FAIL $name (build; see $prog/build.log)"; failed=1; continue
  fi
  "$py" "$root/test/e2e/cuda_e2e.py" check --dir "$prog" >"$prog/check.log" 2>&1
  rc=$?
  case $rc in
    0) echo "PASS $name: $(tr '\n' ' ' <"$prog/check.log")" ;;
    77) echo "SKIP $name: $(cat "$prog/check.log")" ;;
    *) echo "FAIL $name: $(tail -5 "$prog/check.log" | tr '\n' ' ')"; failed=1 ;;
  esac
done
exit $failed
