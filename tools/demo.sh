#!/usr/bin/env bash
#===- demo.sh - Build Kiln and show its main job ------------------------------===#
# SPDX-License-Identifier: Apache-2.0
#
# Installs what is missing, builds, then takes the bundled digits CNN (trained
# on scikit-learn's digits) through Kiln: import, int8 quantization with
# calibration, C code for the host and for Cortex-M4, both built and run (the
# M4 one under qemu-system-arm), printing outputs, accuracy and memory.
#===----------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/tools/build.sh"
BIN="$ROOT/${KILN_BUILD_DIR:-build}/bin"
PY="$ROOT/.venv/bin/python"
OUT="$ROOT/${KILN_BUILD_DIR:-build}/demo"
MODEL=models/digits/digits_cnn_b1.onnx
CALIB=models/digits/digits_calib.npz
TEST=models/digits/digits_test.npz
mkdir -p "$OUT"
step() { printf '\n[demo] $ %s\n' "$*"; "$@"; }

step "$BIN/kiln" --version
step "$BIN/kiln" inspect "$MODEL"

# Float and int8 accuracy on the held-out split, with the reference evaluator.
step "$BIN/kiln" run "$MODEL" --inputs "$TEST" --outputs "$OUT/float.npz"
step "$BIN/kiln" run "$MODEL" --quantize int8 --calibration "$CALIB" \
  --inputs "$TEST" --outputs "$OUT/int8.npz"
"$PY" - "$TEST" "$OUT/float.npz" "$OUT/int8.npz" <<'PY'
import sys
import numpy as np
labels = np.load(sys.argv[1])["label"]
f = np.load(sys.argv[2])["output"].argmax(1)
q = np.load(sys.argv[3])["output"].argmax(1)
print(f"[demo] digits test split ({len(labels)} images): float32 top-1 "
      f"{(f == labels).mean():.2%}, Kiln int8 top-1 {(q == labels).mean():.2%}, "
      f"agreement {(f == q).mean():.2%}")
PY

# A harness with the first four test images.
"$PY" -c "import numpy as np; d=np.load('$TEST'); np.savez('$OUT/four.npz', input=d['input'][:4])"
for target in host cortex-m4; do
  step "$BIN/kiln" compile "$MODEL" --target "$target" --quantize int8 \
    --calibration "$CALIB" --harness "$OUT/four.npz" --report \
    -o "$OUT/$target"
  step make -s -C "$OUT/$target"
  step make -s -C "$OUT/$target" run
  grep -E 'arena bytes|lower bound \(with' "$OUT/$target/memory.md" |
    sed 's/^/[demo] memory: /'
done
size "$OUT/cortex-m4/model.elf" 2>/dev/null | sed 's/^/[demo] /' || true
echo "[demo] the int8 program for $MODEL runs on the host and on Cortex-M4;"
echo "[demo] outputs above are raw int8 logits (highest = predicted digit)."
echo "[demo] done"
