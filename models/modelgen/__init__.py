# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of Kiln's model generators (models/*/generate.py).

Everything here is plain numpy + onnx: no torch, no network access. The
generators build ONNX graphs node by node with `onnx.helper` while a float64
numpy reference runs the same graph on a batch of inputs (to measure
BatchNorm statistics and to cross-check onnxruntime), and write their data
with a deterministic `.npz` writer, so that a re-run gives the same bytes.

Modules:
  determinism  rounding to coarse grids, deterministic .npz writer, CLI
  refops       float64 numpy reference of the ops the generators use
  netbuilder   ONNX graph builder with a running numpy reference
  synth        realistic synthetic inputs (images, MFCC, log-mel frames)
"""
