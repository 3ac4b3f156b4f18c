# SPDX-License-Identifier: Apache-2.0
"""Float64 numpy reference of the ONNX ops the generators emit (NCHW).

Only what the models here need: Conv (groups 1 or depthwise, explicit
asymmetric pads), BatchNormalization (inference), Relu, Clip, Add, MaxPool,
AveragePool (no padding), GlobalAveragePool, Flatten, Gemm (transB=1),
Softmax. The semantics follow the ONNX operator specification; the builder
cross-checks every model against onnxruntime.
"""

from __future__ import annotations

import numpy as np


def out_size(size: int, k: int, stride: int, pad_lo: int, pad_hi: int) -> int:
    """Returns the output length of a conv/pool window along one axis."""
    return (size + pad_lo + pad_hi - k) // stride + 1


def conv2d(x, w, b, stride, pads, groups):
    """Returns Conv(x, w, b) with pads = (top, left, bottom, right)."""
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    sh, sw = stride
    pt, pl, pb, pr = pads
    oh = out_size(h, kh, sh, pt, pb)
    ow = out_size(wd, kw, sw, pl, pr)
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    w = w.astype(np.float64)
    if groups == 1:
        # One matrix product per kernel tap, accumulated in NHWC; the same
        # flops as im2col without materialising the column matrix.
        acc = np.zeros((n * oh * ow, m))
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, :, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]
                acc += patch.transpose(0, 2, 3, 1).reshape(-1, c) @ w[:, :, i, j].T
        y = acc.reshape(n, oh, ow, m).transpose(0, 3, 1, 2)
    elif groups == c == m and cg == 1:
        y = np.zeros((n, m, oh, ow))
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, :, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]
                y += patch * w[None, :, 0, i, j, None, None]
    else:
        raise NotImplementedError(f"conv with groups={groups}, c={c}, m={m}")
    if b is not None:
        y = y + b.astype(np.float64)[None, :, None, None]
    return np.ascontiguousarray(y)


def batchnorm(x, gamma, beta, mean, var, eps):
    """Returns inference-mode BatchNormalization over axis 1."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    inv = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    return (x - mean.astype(np.float64).reshape(shape)) * inv.reshape(shape) + beta.astype(
        np.float64
    ).reshape(shape)


def pool2d(x, kind, kernel, stride):
    """Returns MaxPool / AveragePool without padding (floor mode)."""
    n, c, h, w = x.shape
    kh, kw = kernel
    sh, sw = stride
    oh = out_size(h, kh, sh, 0, 0)
    ow = out_size(w, kw, sw, 0, 0)
    taps = [
        x[:, :, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    if kind == "max":
        return np.max(np.stack(taps), axis=0)
    return np.sum(np.stack(taps), axis=0) / (kh * kw)


def gemm(x, w, b):
    """Returns Gemm(x, w, b) with transB=1 (w is [out, in])."""
    y = x @ w.astype(np.float64).T
    return y if b is None else y + b.astype(np.float64)


def softmax(x):
    """Returns Softmax over the last axis."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
