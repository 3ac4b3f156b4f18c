#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Trains a small CNN on scikit-learn's digits and writes it as ONNX.

Run: .venv/bin/python models/digits/generate.py [--out DIR]

Data: `sklearn.datasets.load_digits` (1,797 8x8 grayscale digits, 10
classes, bundled with scikit-learn; pixel values 0..16). Inputs are
normalised as x / 16, so they lie in [0, 1]. Stratified split, 75 % train /
25 % test, random_state 0.

Network (NCHW, no conv biases since every conv feeds a BatchNorm):
  conv3x3(1->16, pad 1) + BN + Relu            8x8
  conv3x3(16->32, pad 1) + BN + Relu           8x8
  MaxPool 2x2                                  4x4
  conv3x3(32->32, pad 1) + BN + Clip(0, 6)     4x4
  GlobalAveragePool + Flatten + Gemm(32->10)   logits

Training: numpy float64, hand-written backward pass, Adam (lr 3e-3, cosine
decay), batch 64, 30 epochs, weight decay 5e-4, random +-1 pixel shifts.
BatchNorm runs in training mode (batch statistics); after training its
running statistics are recomputed exactly over the un-augmented training set.

Outputs (in --out, default this folder):
  digits_cnn.onnx     input "input" [N,1,8,8] float32 (dynamic batch), output
                      "output" [N,10] (logits)
  digits_cnn_b1.onnx  the same network with batch fixed to 1
  digits_test.npz     held-out split: input [450,1,8,8] float32, label [450] int64
  digits_calib.npz    100 training images (10 per class): input [100,1,8,8]

Reproducibility: the result must not depend on the BLAS kernel, so the
trained weights and BatchNorm statistics are rounded to 16 significant bits
before export (see models/modelgen/determinism.py); this changes no test
prediction (checked below). The same script gives the same bytes on re-run.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from modelgen.determinism import parse_out_dir, round_sig, save_model, save_npz  # noqa: E402
from modelgen.netbuilder import NetBuilder, param_count, verify_with_ort  # noqa: E402

SEED = 20240617
EPOCHS = 30
BATCH = 64
LR = 3e-3
WEIGHT_DECAY = 5e-4
BN_EPS = 1e-5
WEIGHT_BITS = 16
MIN_ACCURACY = 0.96

# -- layers with forward and backward (float64, NCHW) -------------------------


def im2col3x3(x):
    """Returns the [N*H*W, C*9] patches of a 3x3 / stride 1 / pad 1 conv."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.stack([xp[:, :, i : i + h, j : j + w] for i in range(3) for j in range(3)], axis=2)
    return cols.transpose(0, 3, 4, 1, 2).reshape(n * h * w, c * 9)


def col2im3x3(dcols, shape):
    """Returns the input gradient for the patches' gradient `dcols`."""
    n, c, h, w = shape
    d = dcols.reshape(n, h, w, c, 9).transpose(0, 3, 4, 1, 2)
    dxp = np.zeros((n, c, h + 2, w + 2))
    for t in range(9):
        i, j = divmod(t, 3)
        dxp[:, :, i : i + h, j : j + w] += d[:, :, t]
    return dxp[:, :, 1:-1, 1:-1]


class Conv3x3:
    def __init__(self, rng, cin, cout):
        self.w = rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))

    def forward(self, x):
        self.shape = x.shape
        self.cols = im2col3x3(x)
        n, _, h, w = x.shape
        y = self.cols @ self.w.reshape(len(self.w), -1).T
        return y.reshape(n, h, w, -1).transpose(0, 3, 1, 2)

    def backward(self, dy):
        m = len(self.w)
        dyf = dy.transpose(0, 2, 3, 1).reshape(-1, m)
        self.dw = (dyf.T @ self.cols).reshape(self.w.shape)
        return col2im3x3(dyf @ self.w.reshape(m, -1), self.shape)


class BatchNorm:
    def __init__(self, c):
        self.gamma = np.ones(c)
        self.beta = np.zeros(c)
        self.mean = np.zeros(c)
        self.var = np.ones(c)

    def forward(self, x, train):
        if train:
            mu = x.mean(axis=(0, 2, 3))
            var = x.var(axis=(0, 2, 3))
        else:
            mu, var = self.mean, self.var
        self.inv = 1.0 / np.sqrt(var + BN_EPS)
        self.xhat = (x - mu[None, :, None, None]) * self.inv[None, :, None, None]
        return self.xhat * self.gamma[None, :, None, None] + self.beta[None, :, None, None]

    def backward(self, dy):
        m = dy.shape[0] * dy.shape[2] * dy.shape[3]
        self.dgamma = (dy * self.xhat).sum(axis=(0, 2, 3))
        self.dbeta = dy.sum(axis=(0, 2, 3))
        dxhat = dy * self.gamma[None, :, None, None]
        return (
            self.inv[None, :, None, None]
            / m
            * (
                m * dxhat
                - dxhat.sum(axis=(0, 2, 3))[None, :, None, None]
                - self.xhat * (dxhat * self.xhat).sum(axis=(0, 2, 3))[None, :, None, None]
            )
        )


class Clip:
    def __init__(self, hi):
        self.hi = hi

    def forward(self, x, train=False):
        self.mask = (x > 0) & (x < self.hi)
        return np.clip(x, 0.0, self.hi)

    def backward(self, dy):
        return dy * self.mask


def maxpool2(x):
    n, c, h, w = x.shape
    win = (
        x.reshape(n, c, h // 2, 2, w // 2, 2)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, h // 2, w // 2, 4)
    )
    idx = win.argmax(axis=-1)
    return np.take_along_axis(win, idx[..., None], axis=-1)[..., 0], idx


def maxpool2_backward(dy, idx, shape):
    n, c, h, w = shape
    dwin = np.zeros((n, c, h // 2, w // 2, 4))
    np.put_along_axis(dwin, idx[..., None], dy[..., None], axis=-1)
    return dwin.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)


class DigitsCNN:
    """The network of the module docstring, trainable in numpy."""

    def __init__(self, rng):
        self.c1, self.b1 = Conv3x3(rng, 1, 16), BatchNorm(16)
        self.c2, self.b2 = Conv3x3(rng, 16, 32), BatchNorm(32)
        self.c3, self.b3 = Conv3x3(rng, 32, 32), BatchNorm(32)
        self.a1, self.a2, self.a3 = Clip(np.inf), Clip(np.inf), Clip(6.0)
        self.fw = rng.standard_normal((10, 32)) * np.sqrt(1.0 / 32)
        self.fb = np.zeros(10)

    def forward(self, x, train=False):
        h = self.a1.forward(self.b1.forward(self.c1.forward(x), train))
        h = self.a2.forward(self.b2.forward(self.c2.forward(h), train))
        self.pool_shape = h.shape
        h, self.pool_idx = maxpool2(h)
        h = self.a3.forward(self.b3.forward(self.c3.forward(h), train))
        self.gap_shape = h.shape
        self.feat = h.mean(axis=(2, 3))
        return self.feat @ self.fw.T + self.fb

    def backward(self, dlogits):
        self.dfw = dlogits.T @ self.feat
        self.dfb = dlogits.sum(axis=0)
        dfeat = dlogits @ self.fw
        n, c, h, w = self.gap_shape
        dh = np.broadcast_to(dfeat[:, :, None, None] / (h * w), self.gap_shape)
        dh = self.c3.backward(self.b3.backward(self.a3.backward(dh)))
        dh = maxpool2_backward(dh, self.pool_idx, self.pool_shape)
        dh = self.c2.backward(self.b2.backward(self.a2.backward(dh)))
        self.c1.backward(self.b1.backward(self.a1.backward(dh)))

    def tensors(self):
        """Returns [(name, array, grad)] of every trainable tensor."""
        out = []
        for k, conv, bn in (
            ("1", self.c1, self.b1),
            ("2", self.c2, self.b2),
            ("3", self.c3, self.b3),
        ):
            out += [
                (f"c{k}.w", conv.w, conv.dw),
                (f"b{k}.g", bn.gamma, bn.dgamma),
                (f"b{k}.b", bn.beta, bn.dbeta),
            ]
        return out + [("fc.w", self.fw, self.dfw), ("fc.b", self.fb, self.dfb)]

    def recompute_bn_stats(self, x):
        """Sets every BN's running statistics to its exact population values."""
        h = x
        for conv, bn, act, pool in (
            (self.c1, self.b1, self.a1, False),
            (self.c2, self.b2, self.a2, True),
            (self.c3, self.b3, self.a3, False),
        ):
            z = conv.forward(h)
            bn.mean = z.mean(axis=(0, 2, 3))
            bn.var = z.var(axis=(0, 2, 3))
            h = act.forward(bn.forward(z, False))
            if pool:
                h, _ = maxpool2(h)

    def round_for_export(self):
        """Rounds every exported number to WEIGHT_BITS significant bits."""
        for obj, attr in (
            (self.c1, "w"),
            (self.c2, "w"),
            (self.c3, "w"),
            (self.b1, "gamma"),
            (self.b1, "beta"),
            (self.b1, "mean"),
            (self.b1, "var"),
            (self.b2, "gamma"),
            (self.b2, "beta"),
            (self.b2, "mean"),
            (self.b2, "var"),
            (self.b3, "gamma"),
            (self.b3, "beta"),
            (self.b3, "mean"),
            (self.b3, "var"),
        ):
            setattr(obj, attr, round_sig(getattr(obj, attr), WEIGHT_BITS))
        self.fw = round_sig(self.fw, WEIGHT_BITS)
        self.fb = round_sig(self.fb, WEIGHT_BITS)


def softmax_xent(logits, labels):
    """Returns (mean loss, dlogits)."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(p[np.arange(n), labels] + 1e-12).mean()
    p[np.arange(n), labels] -= 1.0
    return loss, p / n


def shift_batch(rng, x):
    """Returns x with every image shifted by -1..1 pixel in y and x (zero fill)."""
    out = np.zeros_like(x)
    shifts = rng.integers(-1, 2, (len(x), 2))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for k, (dy, dx) in enumerate(shifts):
        out[k] = xp[k, :, 1 + dy : 9 + dy, 1 + dx : 9 + dx]
    return out


def train(x_train, y_train, x_test, y_test, seed=SEED):
    """Returns the trained DigitsCNN."""
    rng = np.random.default_rng(seed)
    net = DigitsCNN(rng)
    moments = {}
    steps_per_epoch = -(-len(x_train) // BATCH)
    total = EPOCHS * steps_per_epoch
    step = 0
    for epoch in range(EPOCHS):
        order = rng.permutation(len(x_train))
        losses = []
        for b in range(steps_per_epoch):
            idx = order[b * BATCH : (b + 1) * BATCH]
            xb = shift_batch(rng, x_train[idx])
            loss, dlogits = softmax_xent(net.forward(xb, train=True), y_train[idx])
            net.backward(dlogits)
            losses.append(loss)
            step += 1
            lr = LR * 0.5 * (1.0 + np.cos(np.pi * step / total))
            for name, p, g in net.tensors():
                if name.endswith(".w"):
                    g = g + WEIGHT_DECAY * p
                m, v = moments.get(name, (np.zeros_like(p), np.zeros_like(p)))
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                moments[name] = (m, v)
                p -= lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        if (epoch + 1) % 10 == 0:
            net.recompute_bn_stats(x_train)
            acc = (net.forward(x_test).argmax(1) == y_test).mean()
            print(f"  epoch {epoch + 1:3d}: loss {np.mean(losses):.4f}, test accuracy {acc:.4f}")
    net.recompute_bn_stats(x_train)
    return net


def build_onnx(net, x_ref, batch_dim):
    """Returns the ONNX model of `net`, the reference logits and the MACs."""
    b = NetBuilder("digits_cnn", x_ref, np.random.default_rng(0), batch_dim=batch_dim)
    h = b.input
    for k, (conv, bn, act) in enumerate(
        ((net.c1, net.b1, "relu"), (net.c2, net.b2, "relu"), (net.c3, net.b3, "relu6")), 1
    ):
        with b.scope(f"conv{k}"):
            h = b.conv(h, conv.w.shape[0], 3, pads=(1, 1, 1, 1), weight=conv.w)
            h = b.bn(h, gamma=bn.gamma, beta=bn.beta, mean=bn.mean, var=bn.var)
            h = b.relu(h) if act == "relu" else b.relu6(h)
        if k == 2:
            h = b.maxpool(h, 2, 2)
    with b.scope("head"):
        h = b.flatten(b.gap(h))
        h = b.gemm(h, 10, weight=net.fw, bias_value=net.fb)
    logits = b.rename_output(h, "output")
    doc = (
        "Kiln digits CNN: trained by models/digits/generate.py on scikit-learn load_digits "
        "(75/25 stratified split, random_state 0). Input: 8x8 grayscale digit, pixel/16 in [0, 1]. "
        "Output: 10 class logits."
    )
    return b.build([logits], doc), logits.value, b.macs


def main():
    out = parse_out_dir(HERE, "Train the digits CNN and write it as ONNX.")
    t0 = time.time()
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    print(f"digits: {len(x_train)} train / {len(x_test)} test images")
    net = train(x_train.astype(np.float64), y_train, x_test.astype(np.float64), y_test)
    acc_full = (net.forward(x_test.astype(np.float64)).argmax(1) == y_test).mean()
    net.round_for_export()
    pred_np = net.forward(x_test.astype(np.float64)).argmax(1)
    acc_np = (pred_np == y_test).mean()
    print(
        f"numpy float64 test accuracy: {acc_np:.4f} "
        f"(before rounding to {WEIGHT_BITS} bits: {acc_full:.4f})"
    )
    if acc_np < MIN_ACCURACY:
        raise SystemExit(f"error: accuracy {acc_np:.4f} below {MIN_ACCURACY}")

    for fname, batch_dim in (("digits_cnn.onnx", "N"), ("digits_cnn_b1.onnx", "1")):
        model, ref_logits, macs = build_onnx(net, x_test.astype(np.float64), batch_dim)
        size = save_model(model, out / fname)
        got, err = verify_with_ort(model, x_test, ref_logits, batch_one=batch_dim == "1")
        acc_ort = (got.argmax(1) == y_test).mean()
        agree = (got.argmax(1) == pred_np).mean()
        print(
            f"{fname}: {size} bytes, {param_count(model)} parameters, {macs / 1e6:.3f} M MACs; "
            f"onnxruntime test accuracy {acc_ort:.4f}, argmax agreement with numpy "
            f"{agree:.4f}, max rel. logit error {err:.2e}"
        )
        if agree != 1.0 or err > 1e-4:
            raise SystemExit("error: onnxruntime disagrees with the numpy model")

    calib_idx = np.concatenate([np.flatnonzero(y_train == c)[:10] for c in range(10)])
    save_npz(out / "digits_test.npz", {"input": x_test, "label": y_test})
    save_npz(out / "digits_calib.npz", {"input": x_train[calib_idx]})
    print(f"wrote {out} in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
