#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""onnxruntime's own int8 post-training quantization of the CNN models: the
external reference point for Kiln's int8 pass.

Run: .venv/bin/python models/ort_int8_reference.py [MODEL.onnx ...]

For every model (default: models/digits/digits_cnn_b1.onnx and every
models/tinyml/*.onnx) this runs onnxruntime.quantization the way Kiln's int8
baseline is specified (shared/TECHNIQUES.md): BatchNorm folded first
(quant_pre_process), per-output-channel symmetric int8 weights, asymmetric
int8 activations, min/max calibration on `<name>_calib.npz`, QDQ format. It
then compares the int8 model with the float model on the test inputs (and,
since some test sets have only 8 inputs, on the calibration inputs too):

  SQNR     10 log10(sum f^2 / sum (f - q)^2) over the outputs, in dB
  top-1    fraction of inputs whose argmax is unchanged (classifiers)
  acc      accuracy on the labels, float and int8 (digits only)

Nothing is written; the models are quantized in a temporary folder. The
numbers are a baseline to beat or match, not a check: onnxruntime's
quantizer is not Kiln's, and its results move with its version.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
MODELS = Path(__file__).resolve().parent
sys.path.insert(0, str(MODELS))
from ort_quant import quantize_qdq  # noqa: E402


def run(path: Path, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {"input": x[i : i + 1]})[0] for i in range(len(x))])


def data_for(model: Path, kind: str) -> Path:
    own = model.with_name(f"{model.stem}_{kind}.npz")
    return own if own.exists() else model.with_name(f"{model.stem.split('_')[0]}_{kind}.npz")


def compare(f: np.ndarray, q: np.ndarray, classifier: bool) -> str:
    sqnr = 10.0 * np.log10((f**2).sum() / max(((f - q) ** 2).sum(), 1e-30))
    msg = f"SQNR {sqnr:5.1f} dB"
    if classifier:
        msg += f", top-1 {(f.argmax(1) == q.argmax(1)).mean():.3f} of {len(f)}"
    return msg


def main() -> int:
    logging.getLogger().setLevel(logging.ERROR)
    models = [Path(a) for a in sys.argv[1:]] or [MODELS / "digits" / "digits_cnn_b1.onnx"] + sorted(
        (MODELS / "tinyml").glob("*.onnx")
    )
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            calib = np.load(data_for(model, "calib"))["input"]
            test = np.load(data_for(model, "test"))
            q8 = quantize_qdq(model, calib, Path(tmp))
            xt = test["input"]
            ft, qt = run(model, xt), run(q8, xt)
            fc, qc = run(model, calib), run(q8, calib)
            classifier = ft.shape[1] < 100
            line = f"{model.stem:20s} test: {compare(ft, qt, classifier)}; "
            line += f"calib: {compare(fc, qc, classifier)}"
            if "label" in test.files:
                y = test["label"]
                acc_f, acc_q = (ft.argmax(1) == y).mean(), (qt.argmax(1) == y).mean()
                line += f"; accuracy float {acc_f:.4f}, int8 {acc_q:.4f}"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
