#!/usr/bin/env bash
#===- build.sh - Set up, configure and build Kiln ----------------------------===#
# SPDX-License-Identifier: Apache-2.0
#
# Runs tools/setup.sh, configures build/ (Ninja, clang-22, ccache) if needed,
# and builds. Environment:
#   KILN_BUILD_DIR  build folder (default: build)
#   KILN_SANITIZE   ON|OFF: ASan + UBSan on Kiln's code (default: ON; the test
#                   suite runs the compiler and generated code sanitized)
#   KILN_JOBS       parallel jobs (default: all cores)
#===----------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/tools/setup.sh"

BUILD_DIR="${KILN_BUILD_DIR:-build}"
SANITIZE="${KILN_SANITIZE:-ON}"
JOBS="${KILN_JOBS:-$(nproc)}"
say() { printf '[build] %s\n' "$*"; }

if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  say "configuring $BUILD_DIR (sanitizers: $SANITIZE)"
  mkdir -p "$BUILD_DIR"
  if ! cmake -G Ninja -S . -B "$BUILD_DIR" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DKILN_SANITIZE="$SANITIZE" >"$BUILD_DIR/configure.log" 2>&1; then
    cat "$BUILD_DIR/configure.log" >&2
    say "configure FAILED" >&2
    exit 1
  fi
  grep -E '^-- Kiln:' "$BUILD_DIR/configure.log" || true
fi
start=$(date +%s)
cmake --build "$BUILD_DIR" -j "$JOBS"
say "built in $(($(date +%s) - start)) s: $BUILD_DIR/bin/kiln, $BUILD_DIR/bin/kiln-opt"
