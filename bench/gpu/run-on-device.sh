#!/usr/bin/env bash
#===- run-on-device.sh - Build, test and benchmark runtime/cuda on a GPU ----===#
# SPDX-License-Identifier: Apache-2.0
#
# One call on a lent GPU machine (the `device` tool) does everything:
#
#   bash bench/gpu/run-on-device.sh
#
# 1. builds every GPU test and benchmark with nvcc (test/gpu/build.sh, the
#    same script CTest uses on CI; sm_90a on Hopper, sm_80 on Ampere, or
#    $KILN_GPU_ARCHS), 16 programs in parallel;
# 2. runs the GPU tests (each kernel against its host reference on random
#    data, many shapes);
# 3. runs the benchmarks: PyTorch SDPA timings (bench_sdpa.py), then
#    kiln-bench-gemm, kiln-bench-attention, kiln-bench-lowbit;
# 4. writes into $OUT (what the device tool brings back):
#      results.md   GPU model (nvidia-smi), date, commit, test summary and
#                   every benchmark table
#      tests.log    the full output of the test programs
#      bench.log    the full output of the benchmarks and of SDPA
#      build.log    compiler output and ptxas resource reports
#      sass.txt     per kernel: counts of tensor-core instructions in the
#                   SASS (HGMMA / IMMA / HMMA), spills, from cuobjdump
# and prints the test summary and results.md last.
#
# Stages share a time budget (KILN_DEVICE_BUDGET_S, default 560 s, inside
# the tool's 600 s limit): a stage that would not fit is skipped and says
# so. KILN_BENCH_QUICK=1 runs a reduced benchmark set. KILN_SKIP_BENCH=1
# runs tests only; KILN_SKIP_TESTS=1 benchmarks only. KILN_BUILD_JOBS
# (default: all cores) limits parallel nvcc processes.
#===----------------------------------------------------------------------===#
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-/tmp/kiln-out}"
WORK="${KILN_GPU_WORK:-/tmp/kiln-gpu}"
BUDGET="${KILN_DEVICE_BUDGET_S:-560}"
mkdir -p "$OUT" "$WORK"
START=$SECONDS
RESULTS="$OUT/results.md"
left() { echo $((BUDGET - (SECONDS - START))); }
say() { echo "[run-on-device $((SECONDS - START))s] $*"; }

#--- Machine ----------------------------------------------------------------#
GPU="$(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm \
      --format=csv,noheader 2>/dev/null | head -1)"
CAP="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null |
      head -1 | tr -d '.')"
COMMIT="${KILN_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
NVCC_BIN="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
export NVCC="$NVCC_BIN"
if [[ -z ${KILN_GPU_ARCHS:-} ]]; then
  case "$CAP" in
  90) KILN_GPU_ARCHS="90a" ;;
  8*) KILN_GPU_ARCHS="80" ;;
  *) KILN_GPU_ARCHS="80 90a" ;;
  esac
fi
{
  echo "# Kiln runtime/cuda on $(echo "$GPU" | cut -d, -f1)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- GPU (nvidia-smi: name, driver, memory, max SM clock): $GPU"
  echo "- nvcc: $("$NVCC" --version | tail -1)"
  echo "- commit: $COMMIT; built for sm: $KILN_GPU_ARCHS"
  echo
} >"$RESULTS"
say "GPU: $GPU (sm_$CAP), archs $KILN_GPU_ARCHS"

#--- cuBLAS for the benchmarks ---------------------------------------------#
CUDA_HOME="$(cd "$(dirname "$NVCC")/.." && pwd)"
LIBDIRS="$CUDA_HOME/lib64:$CUDA_HOME/targets/x86_64-linux/lib"
if ! ls "$CUDA_HOME"/lib64/libcublasLt.so >/dev/null 2>&1 &&
   ! ls "$CUDA_HOME"/targets/x86_64-linux/lib/libcublasLt.so >/dev/null 2>&1; then
  # cuBLAS from PyTorch's wheels: versioned .so only, headers beside it.
  lib="$(python3 - <<'PY' 2>/dev/null
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
for r in roots:
    for p in glob.glob(os.path.join(r, "nvidia", "**", "libcublasLt.so*"), recursive=True):
        print(p); raise SystemExit
PY
)"
  if [[ -n $lib ]]; then
    dir="$(dirname "$lib")"
    inc="$(dirname "$dir")/include"
    export KILN_CUBLAS_FLAGS="-I$inc -L$dir -l:$(basename "$lib") -l:$(basename "$(ls "$dir"/libcublas.so* | head -1)")"
    LIBDIRS="$dir:$LIBDIRS"
    say "cuBLAS from $dir"
  else
    say "cuBLAS not found: benchmarks will not build"
  fi
fi
export LD_LIBRARY_PATH="$LIBDIRS:${LD_LIBRARY_PATH:-}"

#--- 1. Build ---------------------------------------------------------------#
say "building (nvcc $("$NVCC" --version | grep -o 'release [0-9.]*'))"
TARGETS="gemm conv elementwise attention lowbit compile-all"
[[ $CAP == 9* ]] && TARGETS+=" sm90"
[[ ${KILN_SKIP_BENCH:-0} == 1 ]] || TARGETS+=" bench-gemm bench-attention bench-lowbit"
# shellcheck disable=SC2086
timeout "$(left)" test/gpu/build.sh -o "$WORK" -a "$KILN_GPU_ARCHS" \
  -j "${KILN_BUILD_JOBS:-$(nproc)}" \
  $TARGETS >"$OUT/build.log" 2>&1
buildStatus=$?
cat "$WORK"/*.resources.txt >>"$OUT/build.log" 2>/dev/null
grep -E "build.sh" "$OUT/build.log"
say "build exit status $buildStatus"

#--- SASS summary -----------------------------------------------------------#
if command -v cuobjdump >/dev/null; then
  for bin in "$WORK"/kiln-gpu-* "$WORK"/kiln-bench-*; do
    [[ -x $bin ]] || continue
    echo "== $(basename "$bin")"
    cuobjdump --dump-sass "$bin" 2>/dev/null | awk '
      /Function :/ { if (name) printf "%-6s HGMMA %5d IMMA %5d HMMA %5d LDL/STL %4d  %s\n", arch, g, i, h, l, name;
                     name = $3; g = i = h = l = 0; next }
      /arch = / { arch = $NF }
      /HGMMA/ { g++ } /IMMA/ { i++ } /HMMA/ { h++ } /LDL|STL/ { l++ }
      END { if (name) printf "%-6s HGMMA %5d IMMA %5d HMMA %5d LDL/STL %4d  %s\n", arch, g, i, h, l, name }' |
      c++filt | cut -c1-220
  done >"$OUT/sass.txt" 2>&1
fi

#--- 2. Tests ---------------------------------------------------------------#
{
  echo "## GPU tests (each kernel vs its host reference)"
  echo
  echo "| program | cases | failed | exit |"
  echo "| --- | --- | --- | --- |"
} >>"$RESULTS"
: >"$OUT/tests.log"
if [[ ${KILN_SKIP_TESTS:-0} != 1 ]]; then
  for t in gemm conv elementwise attention lowbit sm90; do
    bin="$WORK/kiln-gpu-$t"
    [[ -x $bin ]] || { [[ $t == sm90 && $CAP != 9* ]] && continue;
                       echo "| $t | not built | | |" >>"$RESULTS"; continue; }
    budget=$(($(left) - 200))
    ((budget > 240)) && budget=240
    if ((budget < 20)); then
      echo "| $t | skipped: out of time | | |" >>"$RESULTS"; continue
    fi
    say "test $t (limit ${budget}s)"
    timeout "$budget" "$bin" >"$WORK/$t.log" 2>&1
    rc=$?
    cat "$WORK/$t.log" >>"$OUT/tests.log"
    summary="$(grep -E '^kiln-gpu-.*cases' "$WORK/$t.log" | tail -1)"
    cases="$(echo "$summary" | grep -o '[0-9]* cases' | cut -d' ' -f1)"
    failed="$(echo "$summary" | grep -o '[0-9]* failed' | cut -d' ' -f1)"
    note=""
    [[ $rc == 124 ]] && note=" (timeout)"
    [[ $rc == 77 ]] && note=" (skipped: $(grep -m1 'no CUDA device' "$WORK/$t.log"))"
    echo "| $t | ${cases:-?} | ${failed:-?} | $rc$note |" >>"$RESULTS"
    grep -E '^FAIL' "$WORK/$t.log" | head -5 | sed 's/^/    /'
  done
fi
echo >>"$RESULTS"

#--- 3. Benchmarks ----------------------------------------------------------#
: >"$OUT/bench.log"
if [[ ${KILN_SKIP_BENCH:-0} != 1 ]]; then
  if (($(left) > 60)); then
    say "PyTorch SDPA"
    PYTHONUNBUFFERED=1 timeout 90 python3 bench/gpu/bench_sdpa.py "$WORK/sdpa.txt" \
      >>"$OUT/bench.log" 2>&1 || say "SDPA benchmark failed (see bench.log)"
  fi
  export KILN_SDPA_TIMES="$WORK/sdpa.txt"
  for b in gemm attention lowbit; do
    bin="$WORK/kiln-bench-$b"
    budget=$(($(left) - 10))
    if [[ ! -x $bin ]]; then
      echo "(kiln-bench-$b was not built; see build.log)" >>"$RESULTS"; continue
    fi
    if ((budget < 30)); then
      echo "(kiln-bench-$b skipped: out of time; rerun with KILN_SKIP_TESTS=1)" >>"$RESULTS"
      continue
    fi
    say "benchmark $b (limit ${budget}s)"
    timeout "$budget" "$bin" "$RESULTS" >>"$OUT/bench.log" 2>&1 ||
      echo "(kiln-bench-$b exited with status $? ; partial tables above)" >>"$RESULTS"
  done
fi

say "done in $((SECONDS - START)) s; files in $OUT"
echo
cat "$RESULTS"
