"""Writes the calibration data of kiln-quantize-lowbit.mlir: one array per
test function input (matched by the kiln.name of the argument), samples
stacked on axis 0. Fixed seeds, so the pass's choices are reproducible."""
import sys

import numpy as np

rng = np.random.default_rng(7)
arrays = {
    # Channel maxima [4, 1, 1, 0.25]: with column maxima 1 and alpha 0.5
    # the smoothing scales are exactly [2, 1, 1, 0.5].
    "x_gain": np.array([[[4.0, 1.0, -1.0, 0.25], [-2.0, 0.5, 0.5, -0.125]]],
                       np.float32),
    "x_qkv": rng.normal(size=(2, 1, 3, 8)).astype(np.float32),
    "x_ln": rng.normal(size=(2, 1, 3, 8)).astype(np.float32),
    "x_tanh": rng.normal(size=(2, 1, 3, 8)).astype(np.float32),
    "x_glu": rng.normal(size=(2, 1, 3, 8)).astype(np.float32),
    "x_svd": (rng.normal(size=(2, 1, 8, 64)) *
              np.where(np.arange(64) == 5, 20.0, 1.0)).astype(np.float32),
    "x_qoq": rng.normal(size=(2, 1, 4, 128)).astype(np.float32),
    "x_attn": rng.normal(size=(2, 1, 4, 8)).astype(np.float32),
}
np.savez(sys.argv[1], **arrays)
