#!/usr/bin/env bash
#===- test.sh - Install, build and run every Kiln test -----------------------===#
# SPDX-License-Identifier: Apache-2.0
#
# tools/build.sh, then ctest over lit, GoogleTest, conformance, end-to-end and
# (where the tools exist) Cortex-M tests. GPU tests skip with a visible reason
# on machines without a GPU. Exits non-zero on any failure.
#===----------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
start=$(date +%s)
"$ROOT/tools/build.sh"
BUILD_DIR="${KILN_BUILD_DIR:-build}"
JOBS="${KILN_JOBS:-$(nproc)}"
echo "[test] running ctest in $BUILD_DIR"
status=0
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" "$@") || status=$?
echo "[test] total time $(($(date +%s) - start)) s"
if ((status != 0)); then
  echo "[test] FAILED (ctest exit status $status)" >&2
  exit "$status"
fi
echo "[test] all tests passed"
