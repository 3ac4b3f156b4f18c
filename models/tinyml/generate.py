#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the standard tiny-ML architectures as ONNX with fixed-seed weights.

Run: .venv/bin/python models/tinyml/generate.py [--out DIR] [--only NAME ...]

For every model (see MODELS and archs.py):
  <name>.onnx        batch 1, opset 13, NCHW, input "input", output "output"
  <name>_calib.npz   32 calibration inputs, key "input"
  <name>_test.npz    test inputs, key "input": 8 for the 96x96 and 128x128
                     image models, 32 for the small-input ones (cheap, and
                     enough to see int8 top-1 flips)

Weights are He-normal (std sqrt(2 / fan_in)) from a per-model seed, except
depthwise kernels, which are centre-weighted bumps plus half a He-normal draw
(NetBuilder.center_weighted_kernels). Every BatchNormalization gets a
log-normal gamma, a normal beta, and running statistics *measured* on a
separate batch of synthetic inputs, so each BN output is normalised the way a
trained network's is and activations neither explode nor vanish through the
depth (checked: every BN/activation/Add output must have a standard deviation
in [0.05, 20] over that batch). BNs in front of a ReLU get beta around 0.5,
BNs that end a residual branch gamma around 0.3 (archs.py says why: without
this a deep random BN network amplifies small input differences, and so
quantization noise, 20-100x, which trained networks do not). Classifier rows
are scaled to a logit spread of 2 and centred on that batch so that different
inputs win different classes. The weights are untrained: these models are for
compiler, memory-planning and quantization-error tests, not for accuracy.

The inputs are realistic synthetic data from modelgen/synth.py (natural-image-
like pictures, MFCC maps, machine-sound log-mel frames) in each model's usual
preprocessing range. onnxruntime is checked against the float64 numpy
reference the builder runs, and output statistics are printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import archs  # noqa: E402
from modelgen import synth  # noqa: E402
from modelgen.determinism import save_model, save_npz  # noqa: E402
from modelgen.netbuilder import NetBuilder, param_count, run_ort, verify_with_ort  # noqa: E402

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])[None, :, None, None]
IMAGENET_STD = np.array([0.229, 0.224, 0.225])[None, :, None, None]
MAX_BYTES = 2 * 1024 * 1024


@dataclass
class Spec:
    """One model: architecture, input data and how many samples of each set."""

    seed: int
    arch: Callable
    data: Callable  # (rng, n) -> float64 batch
    input_desc: str
    doc: str
    n_stats: int = 64
    n_calib: int = 32
    n_test: int = 8
    classifier: bool = True


def images(h, w, lo=0.0, hi=1.0):
    """Returns a data function: natural images scaled from [0, 1] to [lo, hi]."""
    return lambda rng, n: lo + (hi - lo) * synth.natural_images(rng, n, h, w)


def imagenet_normalised(h, w):
    return lambda rng, n: (synth.natural_images(rng, n, h, w) - IMAGENET_MEAN) / IMAGENET_STD


MODELS = {
    "mobilenetv2_035_96": Spec(
        seed=1001,
        arch=lambda b: archs.mobilenet_v2(b, width=0.35, classes=2),
        data=images(96, 96, -1.0, 1.0),
        input_desc="RGB 96x96 in [-1, 1] (pixel / 127.5 - 1)",
        doc="MobileNetV2 width 0.35, 96x96x3, 2 classes (visual wake words scale); torchvision "
        "definition (channels rounded to multiples of 8, ReLU6 as Clip, expansion 6, "
        "last conv 1280).",
    ),
    "mobilenetv1_025": Spec(
        seed=1002,
        arch=lambda b: archs.mobilenet_v1(b, width=0.25, classes=2),
        data=images(96, 96),
        input_desc="RGB 96x96 in [0, 1] (pixel / 255)",
        doc="MobileNetV1 width 0.25, 96x96x3, 2 classes: the MLPerf Tiny visual wake words "
        "architecture (Keras MobileNet layers, ReLU6, SAME padding; AveragePool, Dense, Softmax).",
    ),
    "ds_cnn_kws": Spec(
        seed=1003,
        arch=lambda b: archs.ds_cnn(b),
        data=lambda rng, n: synth.mfcc_features(rng, n),
        input_desc="49 frames x 10 MFCCs, about [-123, 26]",
        doc="DS-CNN keyword spotting as in MLPerf Tiny: 1x49x10 MFCC input, 64 channels, "
        "4 depthwise-separable blocks, 12 classes, Softmax.",
        n_test=32,
    ),
    "resnet8_cifar": Spec(
        seed=1004,
        arch=lambda b: archs.resnet8(b),
        data=images(32, 32),
        input_desc="RGB 32x32 in [0, 1] (pixel / 255)",
        doc="ResNet-8 as in MLPerf Tiny image classification: 32x32x3, 16/32/64 channels, "
        "10 classes, Softmax.",
        n_test=32,
    ),
    "mcunet_blocks": Spec(
        seed=1005,
        arch=lambda b: archs.mcunet(b),
        data=imagenet_normalised(128, 128),
        input_desc="RGB 128x128, ImageNet mean/std normalised",
        doc="MCUNet-style stack: stem, inverted residual blocks with kernels 3/5/7 and expansion "
        "3/4/6 at 128x128 input (large early activations), GlobalAveragePool, 10-class Gemm.",
        n_stats=32,
    ),
    "fc_autoencoder": Spec(
        seed=1006,
        arch=lambda b: archs.fc_autoencoder(b),
        data=lambda rng, n: synth.logmel_frames(rng, n),
        input_desc="5 frames x 128 log-mel bins (dB), flattened to 640",
        doc="MLPerf Tiny anomaly-detection FC autoencoder: 640 -> 128 x4 -> 8 -> 128 x4 -> 640, "
        "Dense + BatchNorm + ReLU.",
        classifier=False,
        n_test=32,
    ),
}


def generate(name: str, spec: Spec, out: Path) -> dict:
    """Builds, checks and writes one model and its data; returns its facts."""
    t0 = time.time()
    rng_data = np.random.default_rng(spec.seed + 100000)
    x_stats = spec.data(rng_data, spec.n_stats)
    x_calib = spec.data(rng_data, spec.n_calib).astype(np.float32)
    x_test = spec.data(rng_data, spec.n_test).astype(np.float32)

    b = NetBuilder(name, x_stats, np.random.default_rng(spec.seed))
    y = b.rename_output(spec.arch(b), "output")
    b.check_scales()
    model = b.build(
        [y],
        f"Kiln tiny-ML model, generated by models/tinyml/generate.py. {spec.doc} "
        f"Input: {spec.input_desc}. Untrained: fixed-seed He-normal weights, BatchNorm "
        "statistics measured on synthetic inputs.",
    )
    size = save_model(model, out / f"{name}.onnx")
    if size > MAX_BYTES:
        raise SystemExit(f"error: {name}.onnx is {size} bytes, over the {MAX_BYTES} limit")
    save_npz(out / f"{name}_calib.npz", {"input": x_calib})
    save_npz(out / f"{name}_test.npz", {"input": x_test})

    _, err = verify_with_ort(model, x_stats[:8], y.value[:8], batch_one=True)
    if err > 1e-3:
        raise SystemExit(
            f"error: {name}: onnxruntime differs from the numpy reference by {err:.2e}"
        )
    got = run_ort(model, np.concatenate([x_calib, x_test]), batch_one=True)

    print(
        f"{name}: {size / 1024:.0f} KiB, {param_count(model)} parameters, "
        f"{b.macs / 1e6:.2f} M MACs, "
        f"{len(model.graph.node)} nodes, input {list(x_stats.shape[1:])} ({spec.input_desc})"
    )
    print(f"  activations: {b.scale_summary()}")
    print(f"  onnxruntime vs float64 reference: max rel. error {err:.1e}")
    print(
        f"  output on calib+test: mean {got.mean():.4f}, std {got.std():.4f}, min {got.min():.4f}, "
        f"max {got.max():.4f}"
    )
    if spec.classifier:
        hist = np.bincount(got.argmax(1), minlength=got.shape[1])
        print(f"  argmax histogram over {len(got)} inputs: {hist.tolist()}")
    else:
        x_all = np.concatenate([x_calib, x_test])
        mse = ((got - x_all) ** 2).mean(axis=1)
        print(
            f"  reconstruction MSE per input: min {mse.min():.2f}, median {np.median(mse):.2f}, "
            f"max {mse.max():.2f} (input std {x_all.std():.2f})"
        )
    print(f"  {time.time() - t0:.1f} s")
    return dict(size=size, params=param_count(model), macs=b.macs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help=f"output folder (default: {HERE})")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(MODELS), help="generate only these models"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    total = 0
    for name in args.only or MODELS:
        total += generate(name, MODELS[name], args.out)["size"]
    print(f"wrote {args.out}: models {total / 1024:.0f} KiB in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
