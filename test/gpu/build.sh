#!/usr/bin/env bash
#===- build.sh - Build Kiln's GPU test and benchmark programs with nvcc -----===#
# SPDX-License-Identifier: Apache-2.0
#
# The one description of how runtime/cuda programs are compiled. CTest's
# cuda-build.* tests call it (on CI, without a GPU) and so does
# bench/gpu/run-on-device.sh (on a lent GPU machine, which has nvcc but no
# CMake project), so both build the same way.
#
#   test/gpu/build.sh [-o OUTDIR] [-a "80 90a"] [-j JOBS] [NAME...]
#
# NAMEs (default: every test): the tests gemm conv elementwise attention
# lowbit sm90, the compile-only check compile-all (plain sm_90, the
# non-"a" Hopper target), the benchmarks bench-gemm bench-attention
# bench-lowbit, or the groups tests / benches / all. -a takes nvcc targets:
# 80 (A100), 90 (H100/H200, portable), 90a (H100/H200 with wgmma). Programs
# that need sm_90a features are built for 90a only. Each program's ptxas
# resource report (registers, shared memory, spills) is written to
# OUTDIR/NAME.resources.txt and any spill is listed at the end.
#
# Environment: NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc),
# KILN_CUDA_HOST_CXX (default g++; nvcc 13 refuses clang 22),
# KILN_CUBLAS_FLAGS (include and link flags replacing -lcublasLt -lcublas
# for the benchmarks when cuBLAS is not part of the toolkit, e.g. a wheel).
#===----------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/build/gpu"
ARCHS="80 90a"
JOBS=1
while getopts "o:a:j:" opt; do
  case $opt in
  o) OUT="$OPTARG" ;;
  a) ARCHS="$OPTARG" ;;
  j) JOBS="$OPTARG" ;;
  *) echo "usage: $0 [-o OUTDIR] [-a ARCHS] [-j JOBS] [NAME...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
NVCC="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
HOST_CXX="${KILN_CUDA_HOST_CXX:-g++}"
mkdir -p "$OUT"

# name|source|extra nvcc flags|arch override ("" = ARCHS)|compile only
PROGRAMS=(
  "gemm|test/gpu/GemmTest.cu|||"
  "conv|test/gpu/ConvTest.cu|||"
  "elementwise|test/gpu/ElementwiseTest.cu|||"
  "attention|test/gpu/AttentionTest.cu|||"
  "lowbit|test/gpu/LowBitTest.cu|||"
  "sm90|test/gpu/Sm90Test.cu||90a|"
  "compile-all|test/gpu/CompileAll.cu||90|yes"
  "bench-gemm|bench/gpu/BenchGemm.cu|CUBLAS||"
  "bench-attention|bench/gpu/BenchAttention.cu|CUBLAS||"
  "bench-lowbit|bench/gpu/BenchLowBit.cu|CUBLAS||"
)
TESTS="gemm conv elementwise attention lowbit sm90"
BENCHES="bench-gemm bench-attention bench-lowbit"

names=("$@")
((${#names[@]})) || names=(tests)
expanded=()
for n in "${names[@]}"; do
  case $n in
  tests) expanded+=($TESTS) ;;
  benches) expanded+=($BENCHES) ;;
  all) expanded+=($TESTS compile-all $BENCHES) ;;
  *) expanded+=("$n") ;;
  esac
done

gencode() {
  local flags=""
  for a in $1; do
    flags+=" -gencode arch=compute_${a},code=sm_${a}"
  done
  echo "$flags"
}

build_one() {
  local name=$1 entry="" e
  for e in "${PROGRAMS[@]}"; do
    [[ ${e%%|*} == "$name" ]] && entry=$e
  done
  if [[ -z $entry ]]; then
    echo "build.sh: unknown program '$name'" >&2
    return 2
  fi
  IFS='|' read -r _ src extra archOverride compileOnly <<<"$entry"
  local archs="${archOverride:-$ARCHS}"
  # Programs with sm_90a kernels (the wgmma paths) skip plain sm_90 / sm_80
  # targets unless asked for explicitly through -a.
  local out="$OUT/kiln-gpu-$name"
  [[ $name == bench-* ]] && out="$OUT/kiln-$name"
  local mode="-o $out"
  [[ -n $compileOnly ]] && mode="-c -o $OUT/$name.o" && extra=""
  # CUBLAS: the toolkit's cuBLAS, or KILN_CUBLAS_FLAGS (e.g. a pip wheel).
  extra="${extra/CUBLAS/${KILN_CUBLAS_FLAGS:--lcublasLt -lcublas}}"
  local start=$SECONDS
  # shellcheck disable=SC2086
  if ! "$NVCC" -ccbin "$HOST_CXX" -std=c++17 -O3 -lineinfo \
      -Xcompiler -ffp-contract=off,-Wall --Werror all-warnings \
      -Xptxas -v -I"$ROOT/runtime/cuda/include" -I"$ROOT/test/gpu" \
      $(gencode "$archs") "$ROOT/$src" $mode $extra \
      >"$OUT/$name.resources.txt" 2>&1; then
    cat "$OUT/$name.resources.txt" >&2
    echo "build.sh: $name FAILED ($src, sm: $archs)" >&2
    return 1
  fi
  echo "build.sh: $name built in $((SECONDS - start)) s (sm: $archs)"
  if grep -q "[1-9][0-9]* bytes spill" "$OUT/$name.resources.txt"; then
    echo "build.sh: $name: kernels with register spills:"
    grep -B3 "[1-9][0-9]* bytes spill" "$OUT/$name.resources.txt" |
      grep -E "Compiling entry|spill" | sed 's/^/    /'
  fi
}

status=0
if ((JOBS > 1)); then
  pids=()
  for n in "${expanded[@]}"; do
    build_one "$n" &
    pids+=($!)
    while (($(jobs -rp | wc -l) >= JOBS)); do sleep 0.2; done
  done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
else
  for n in "${expanded[@]}"; do build_one "$n" || status=1; done
fi
exit $status
