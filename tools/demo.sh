#!/usr/bin/env bash
#===- demo.sh - Build Kiln and show its main job ------------------------------===#
# SPDX-License-Identifier: Apache-2.0
#
# Installs what is missing, builds, then runs Kiln on a bundled model and
# prints each step. What it shows grows with the project (README's status
# table says what works).
#===----------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/tools/build.sh"
BIN="$ROOT/${KILN_BUILD_DIR:-build}/bin"
step() { printf '\n[demo] $ %s\n' "$*"; "$@"; }

step "$BIN/kiln" --version
step "$BIN/kiln-opt" --show-dialects
step "$BIN/kiln-opt" --kiln-pipeline test/lit/tools/Inputs/relu.mlir
echo
echo "[demo] done"
