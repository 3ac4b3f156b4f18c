# SPDX-License-Identifier: Apache-2.0
"""onnxruntime's static int8 QDQ quantization, as Kiln's scripts use it.

One place for the recipe that models/ort_int8_reference.py,
test/e2e/qdq_check.py and bench/quant_accuracy/quant_accuracy.py compare
Kiln against: BatchNorm folded first (quant_pre_process), QuantFormat.QDQ,
per-output-channel symmetric int8 weights, int8 (or uint8) asymmetric
activations, MinMax (or 99.99 percentile) calibration fed one sample at a
time (the models have batch 1).

Scripts outside models/ import it with models/ on sys.path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process


class Reader(CalibrationDataReader):
    """Feeds the calibration samples of |x| one at a time as |name|."""

    def __init__(self, x: np.ndarray, name: str = "input"):
        self._it = iter([{name: x[i : i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self._it, None)


def quantize_qdq(model: Path | str, calib: np.ndarray, work: Path, tag: str = "ort",
                 *, input_name: str = "input", method: str = "minmax",
                 unsigned: bool = False) -> Path:
    """Writes onnxruntime's QDQ int8 model of |model| to WORK/TAG-qdq.onnx
    (the pre-processed float model beside it) and returns its path."""
    pre, qdq = Path(work) / f"{tag}-pre.onnx", Path(work) / f"{tag}-qdq.onnx"
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)
    extra = {}
    calibrate = CalibrationMethod.MinMax
    if method == "percentile":
        calibrate = CalibrationMethod.Percentile
        extra = {"CalibPercentile": 99.99}
    elif method != "minmax":
        raise ValueError(f"unknown calibration method {method!r}")
    quantize_static(str(pre), str(qdq), Reader(calib, input_name),
                    quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8 if unsigned else QuantType.QInt8,
                    weight_type=QuantType.QInt8, calibrate_method=calibrate,
                    extra_options=extra)
    return qdq
