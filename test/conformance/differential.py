#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential test of Kiln's importer + reference evaluator against onnxruntime.

Builds random small ONNX graphs (chains of 2-6 nodes over the ops Kiln
supports, random shapes, broadcasting, attributes, dtypes and opsets), runs
each with onnxruntime (the oracle) and with Kiln (`kiln-batch-run`, which is
`kiln run` for many cases in one process), and compares the outputs:

  floats: |kiln - ort| <= atol + rtol * |ort| elementwise, with
          rtol = 1e-4 (float32/float64) or 1e-2 (float16), and
          atol = rtol * max(1, max |ort|) so that cancellation near zero in
          sums (conv, matmul) is judged against the output's scale;
          NaN must match NaN, +-inf must match exactly;
  integers and booleans: exact.

Every case is generated from numpy.random.default_rng([seed, case, k]), so
`--seed S --case N` regenerates one case exactly (k counts the chains
onnxruntime could not run, which are redrawn). A case counts as
  pass         outputs agree;
  unsupported  Kiln rejected it with only "unsupported ..." errors (a
               generator produced something Kiln does not implement yet);
  FAIL         a mismatch, a crash, or any other Kiln error.
The test fails on any FAIL, and when more than --max-unsupported of the
cases are unsupported (so generators cannot silently rot). On failure it
prints the seed, the case and a folder holding model.onnx, inputs.npz,
expected.npz and the `kiln run` line that reproduces it.

The ops come from the OPS table below: one OpSpec per ONNX op, holding the
element types and ranks it accepts and a build function. Specs whose op
Kiln does not register (`kiln-batch-run --list-ops`) are left out and
listed, so adding an op to the table is all it takes once the importer has
it (Softmax, the reductions and the normalizations are already there).

Usage:
  differential.py --batch-runner build/bin/kiln-batch-run [--seed 1]
                  [--cases 300] [--time-budget 70] [--ops Conv,Add]
                  [--case N] [--work DIR] [--verbose]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Callable, Optional

import numpy as np

warnings.filterwarnings("ignore")
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ort.set_default_logger_severity(4)

F32, F64, F16 = np.float32, np.float64, np.float16
I32, I64, I8, U8 = np.int32, np.int64, np.int8, np.uint8
BOOL = np.bool_
FLOATS = (F32, F64, F16)
SIGNED_INTS = (I32, I64)
NUMERIC = FLOATS + SIGNED_INTS

# Opsets a case may use, and the IR version each is written with (IR 8 keeps
# libonnx's checker in the loop for opset <= 17).
OPSETS = {13: 8, 17: 8, 18: 8, 19: 9, 21: 10}

ONNX_TYPE = {
    np.dtype(F32): TensorProto.FLOAT, np.dtype(F64): TensorProto.DOUBLE,
    np.dtype(F16): TensorProto.FLOAT16, np.dtype(I32): TensorProto.INT32,
    np.dtype(I64): TensorProto.INT64, np.dtype(I8): TensorProto.INT8,
    np.dtype(U8): TensorProto.UINT8, np.dtype(BOOL): TensorProto.BOOL,
}


class GeneratorBug(Exception):
    """The chain a generator built is not valid ONNX."""


class Reject(Exception):
    """A generator cannot apply to the current value; pick another op."""


@dataclasses.dataclass
class Value:
    name: str
    dtype: type
    shape: tuple
    exact: bool  # holds graph-input data exactly (no rounding upstream)


class Graph:
    """An ONNX graph under construction, with shapes tracked by hand."""

    def __init__(self, rng: np.random.Generator, opset: int):
        self.rng = rng
        self.opset = opset
        self.nodes: list = []
        self.inputs: list = []
        self.initializers: list = []
        self.feeds: dict = {}
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def random_data(self, dtype, shape, low=-2.0, high=2.0):
        if np.issubdtype(dtype, np.floating):
            return self.rng.uniform(low, high, size=shape).astype(dtype)
        if dtype == BOOL:
            return self.rng.integers(0, 2, size=shape).astype(BOOL)
        return self.rng.integers(int(low) * 3 - 1, int(high) * 3 + 2,
                                 size=shape).astype(dtype)

    def add_input(self, dtype, shape, low=-2.0, high=2.0) -> Value:
        name = self.fresh("in")
        self.inputs.append(helper.make_tensor_value_info(
            name, ONNX_TYPE[np.dtype(dtype)], list(shape)))
        self.feeds[name] = self.random_data(dtype, shape, low, high)
        return Value(name, dtype, tuple(shape), True)

    def add_const(self, array: np.ndarray, prefix="c") -> str:
        name = self.fresh(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(array),
                                                         name))
        return name

    def operand(self, dtype, shape, low=-2.0, high=2.0) -> Value:
        """A second operand: a graph input or an initializer, at random."""
        if self.rng.random() < 0.5:
            return self.add_input(dtype, shape, low, high)
        name = self.add_const(self.random_data(dtype, shape, low, high), "w")
        return Value(name, dtype, tuple(shape), True)

    def node(self, op, inputs, attrs=None, outputs=1, domain=""):
        names = [self.fresh("v") for _ in range(outputs)]
        self.nodes.append(helper.make_node(
            op, inputs, names, name=self.fresh(op.lower() + "_"),
            domain=domain, **(attrs or {})))
        return names


@dataclasses.dataclass
class OpSpec:
    """How to put one ONNX op into a random chain.

    build(graph, x) returns the new Value (x is the current value, whose
    dtype is in |dtypes| and rank in |ranks|) or raises Reject.
    """
    op: str
    dtypes: tuple
    ranks: tuple
    build: Callable
    # Discontinuous ops (Floor, comparisons, casts to int, ...) apply only to
    # exact graph-input data: upstream rounding differences would flip them.
    needs_exact: bool = False
    min_opset: int = 1
    weight: float = 1.0


def broadcast_shape(g: Graph, shape: tuple) -> tuple:
    """A random shape that numpy-broadcasts against |shape|."""
    r = g.rng.random()
    if r < 0.4:
        return shape
    if r < 0.55:
        return ()
    drop = int(g.rng.integers(0, len(shape) + 1))
    tail = list(shape[drop:])
    for i in range(len(tail)):
        if g.rng.random() < 0.35:
            tail[i] = 1
    return tuple(tail)


def rand_shape(g: Graph, rank: int, lo=1, hi=5) -> tuple:
    return tuple(int(d) for d in g.rng.integers(lo, hi + 1, size=rank))


# --- elementwise ------------------------------------------------------------


def unary(op, attrs=None, domain_fix=None):
    def build(g: Graph, x: Value) -> Value:
        src = x
        if domain_fix == "positive":
            # Log, Sqrt, ...: |x| + 0.5 keeps the argument away from 0.
            (a,) = g.node("Abs", [x.name])
            half = g.add_const(np.array(0.5, dtype=x.dtype))
            (p,) = g.node("Add", [a, half])
            src = Value(p, x.dtype, x.shape, False)
        elif domain_fix == "unit":
            # Asin, Acos, Atanh: squash into (-0.9, 0.9) with Tanh * 0.9.
            (t,) = g.node("Tanh", [x.name])
            k = g.add_const(np.array(0.9, dtype=x.dtype))
            (p,) = g.node("Mul", [t, k])
            src = Value(p, x.dtype, x.shape, False)
        elif domain_fix == "ge1":
            (a,) = g.node("Abs", [x.name])
            one = g.add_const(np.array(1.25, dtype=x.dtype))
            (p,) = g.node("Add", [a, one])
            src = Value(p, x.dtype, x.shape, False)
        (y,) = g.node(op, [src.name], attrs(g) if callable(attrs) else attrs)
        return Value(y, x.dtype, x.shape, False)
    return build


def binary(op, low=-2.0, high=2.0, nonzero=False):
    def build(g: Graph, x: Value) -> Value:
        shape = broadcast_shape(g, x.shape)
        if g.rng.random() < 0.2:
            # Broadcast the other way: the new operand is the larger one.
            shape = tuple(list(rand_shape(g, 1, 1, 3)) + list(x.shape))
            if len(shape) > 5:
                shape = x.shape
        y = g.operand(x.dtype, shape, low, high)
        if nonzero:
            arr = g.feeds.get(y.name)
            if arr is None:
                init = next(i for i in g.initializers if i.name == y.name)
                arr = numpy_helper.to_array(init).copy()
                arr[np.abs(arr) < 0.5] = 1
                g.initializers.remove(init)
                g.initializers.append(numpy_helper.from_array(arr, y.name))
            else:
                arr[np.abs(arr) < 0.5] = 1
        lhs, rhs = (x.name, y.name) if g.rng.random() < 0.8 else (y.name,
                                                                  x.name)
        (out,) = g.node(op, [lhs, rhs])
        out_shape = np.broadcast_shapes(x.shape, shape)
        return Value(out, x.dtype, tuple(out_shape), False)
    return build


def variadic(op):
    def build(g: Graph, x: Value) -> Value:
        others = [g.operand(x.dtype, broadcast_shape(g, x.shape))
                  for _ in range(int(g.rng.integers(0, 3)))]
        (out,) = g.node(op, [x.name] + [o.name for o in others])
        shape = np.broadcast_shapes(x.shape, *[o.shape for o in others])
        return Value(out, x.dtype, tuple(shape), False)
    return build


def comparison(op):
    def build(g: Graph, x: Value) -> Value:
        y = g.operand(x.dtype, broadcast_shape(g, x.shape))
        (b,) = g.node(op, [x.name, y.name])
        shape = tuple(np.broadcast_shapes(x.shape, y.shape))
        # Turn the booleans back into x's type so the chain goes on.
        (out,) = g.node("Where", [b, x.name, y.name])
        return Value(out, x.dtype, shape, True)
    return build


def build_clip(g: Graph, x: Value) -> Value:
    lo = float(g.rng.uniform(-1.5, 0))
    hi = float(g.rng.uniform(0, 1.5))
    if g.opset < 11:
        raise Reject()
    ins = [x.name, g.add_const(np.array(lo, dtype=x.dtype)),
           g.add_const(np.array(hi, dtype=x.dtype))]
    if g.rng.random() < 0.3:
        ins = ins[:2]
    (y,) = g.node("Clip", ins)
    return Value(y, x.dtype, x.shape, False)


def build_cast(g: Graph, x: Value) -> Value:
    # Casts to integers truncate, so they are only applied to exact data
    # (needs_exact), where both sides see the same values.
    choices = [F32, F64, I32, I64]
    to = choices[int(g.rng.integers(0, len(choices)))]
    (y,) = g.node("Cast", [x.name], {"to": ONNX_TYPE[np.dtype(to)]})
    return Value(y, to, x.shape, x.exact)


def build_where(g: Graph, x: Value) -> Value:
    cond_shape = broadcast_shape(g, x.shape)
    cond = g.add_input(BOOL, cond_shape)
    other = g.operand(x.dtype, broadcast_shape(g, x.shape))
    (y,) = g.node("Where", [cond.name, x.name, other.name])
    shape = np.broadcast_shapes(cond_shape, x.shape, other.shape)
    return Value(y, x.dtype, tuple(shape), False)


def build_prelu(g: Graph, x: Value) -> Value:
    # The slope broadcasts unidirectionally to x.
    shape = tuple(d if g.rng.random() < 0.5 else 1 for d in x.shape)
    shape = shape[int(g.rng.integers(0, len(shape) + 1)):]
    slope = g.operand(x.dtype, shape, -0.5, 0.5)
    (y,) = g.node("PRelu", [x.name, slope.name])
    return Value(y, x.dtype, x.shape, False)


def build_pow(g: Graph, x: Value) -> Value:
    (a,) = g.node("Abs", [x.name])
    half = g.add_const(np.array(0.25, dtype=x.dtype))
    (base,) = g.node("Add", [a, half])
    e = g.operand(x.dtype, broadcast_shape(g, x.shape), -1.5, 2.0)
    (y,) = g.node("Pow", [base, e.name])
    return Value(y, x.dtype, tuple(np.broadcast_shapes(x.shape, e.shape)),
                 False)


def build_mod(g: Graph, x: Value) -> Value:
    y = g.operand(x.dtype, broadcast_shape(g, x.shape), 1, 3)
    fmod = 1 if np.issubdtype(x.dtype, np.floating) else int(
        g.rng.integers(0, 2))
    (out,) = g.node("Mod", [x.name, y.name], {"fmod": fmod})
    return Value(out, x.dtype, tuple(np.broadcast_shapes(x.shape, y.shape)),
                 False)


def float_attr(name, lo, hi):
    return lambda g: {name: float(g.rng.uniform(lo, hi))}


# --- linear -----------------------------------------------------------------


def build_matmul(g: Graph, x: Value) -> Value:
    k = x.shape[-1]
    n = int(g.rng.integers(1, 7))
    r = g.rng.random()
    if len(x.shape) == 1:
        wshape = (k, n) if r < 0.7 else (k,)
    elif r < 0.6:
        wshape = (k, n)
    elif r < 0.8:
        wshape = x.shape[:-2] + (k, n)
    else:
        wshape = (k,)
    w = g.operand(x.dtype, wshape, -1, 1)
    (y,) = g.node("MatMul", [x.name, w.name])
    a = np.zeros(x.shape, np.int8)
    b = np.zeros(wshape, np.int8)
    return Value(y, x.dtype, np.matmul(a, b).shape, False)


def build_gemm(g: Graph, x: Value) -> Value:
    if len(x.shape) != 2:
        raise Reject()
    trans_a = int(g.rng.integers(0, 2))
    trans_b = int(g.rng.integers(0, 2))
    m, k = (x.shape[1], x.shape[0]) if trans_a else x.shape
    n = int(g.rng.integers(1, 7))
    w = g.operand(x.dtype, (n, k) if trans_b else (k, n), -1, 1)
    ins = [x.name, w.name]
    if g.rng.random() < 0.7:
        cshape = [(m, n), (n,), (1, n), (m, 1), ()][int(g.rng.integers(0, 5))]
        ins.append(g.operand(x.dtype, cshape).name)
    attrs = {"transA": trans_a, "transB": trans_b}
    if g.rng.random() < 0.4:
        attrs["alpha"] = float(g.rng.uniform(0.25, 2))
    if g.rng.random() < 0.4:
        attrs["beta"] = float(g.rng.uniform(0.25, 2))
    (y,) = g.node("Gemm", ins, attrs)
    return Value(y, x.dtype, (m, n), False)


def conv_out(size, k, s, pb, pe, d):
    return (size + pb + pe - d * (k - 1) - 1) // s + 1


def window(g: Graph, spatial, allow_dilation=True, max_k=3):
    """Random kernel, strides, pads, dilations, auto_pad for |spatial|."""
    nd = len(spatial)
    for _ in range(20):
        k = [int(g.rng.integers(1, max_k + 1)) for _ in range(nd)]
        s = [int(g.rng.integers(1, 3)) for _ in range(nd)]
        d = [int(g.rng.integers(1, 3)) if allow_dilation and
             g.rng.random() < 0.3 else 1 for _ in range(nd)]
        p = [int(g.rng.integers(0, k[i])) for i in range(nd)] + \
            [int(g.rng.integers(0, k[i])) for i in range(nd)]
        auto = "NOTSET"
        r = g.rng.random()
        if r < 0.15:
            auto = "SAME_UPPER"
        elif r < 0.25:
            auto = "SAME_LOWER"
        elif r < 0.35:
            auto = "VALID"
        if auto != "NOTSET":
            d = [1] * nd
            p = None
        ok = True
        out = []
        for i in range(nd):
            if auto in ("SAME_UPPER", "SAME_LOWER"):
                out.append(-(-spatial[i] // s[i]))
            elif auto == "VALID":
                o = (spatial[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1
                out.append(o)
            else:
                out.append(conv_out(spatial[i], k[i], s[i], p[i], p[nd + i],
                                    d[i]))
            ok = ok and out[-1] >= 1
        if ok:
            attrs = {"kernel_shape": k, "strides": s}
            if auto != "NOTSET":
                attrs["auto_pad"] = auto
            else:
                attrs["pads"] = p
                if any(v != 1 for v in d):
                    attrs["dilations"] = d
            return attrs, out
    raise Reject()


def build_conv(g: Graph, x: Value) -> Value:
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    attrs, out = window(g, spatial)
    group = 1
    r = g.rng.random()
    if r < 0.25:
        group = c  # depthwise
    elif r < 0.4 and c % 2 == 0:
        group = 2
    m = group * int(g.rng.integers(1, 4))
    w = g.operand(x.dtype, (m, c // group) + tuple(attrs["kernel_shape"]),
                  -1, 1)
    ins = [x.name, w.name]
    if g.rng.random() < 0.6:
        ins.append(g.operand(x.dtype, (m,)).name)
    if g.rng.random() < 0.3:
        del attrs["kernel_shape"]
    attrs["group"] = group
    (y,) = g.node("Conv", ins, attrs)
    return Value(y, x.dtype, (n, m) + tuple(out), False)


def pool(op):
    def build(g: Graph, x: Value) -> Value:
        spatial = x.shape[2:]
        attrs, out = window(g, spatial, allow_dilation=(op == "MaxPool"))
        # Pads must be smaller than the kernel (onnxruntime checks it).
        if "pads" in attrs:
            nd = len(spatial)
            k = attrs["kernel_shape"]
            attrs["pads"] = [min(p, k[i % nd] - 1)
                             for i, p in enumerate(attrs["pads"])]
            d = attrs.get("dilations", [1] * nd)
            out = [conv_out(spatial[i], k[i], attrs["strides"][i],
                            attrs["pads"][i], attrs["pads"][nd + i], d[i])
                   for i in range(nd)]
            if min(out) < 1:
                raise Reject()
        if not windows_touch_data(spatial, attrs, out):
            # A window entirely in the padding has no defined value (ONNX
            # leaves it open; onnxruntime gives -FLT_MAX for MaxPool).
            raise Reject()
        if op == "AveragePool" and g.rng.random() < 0.5:
            attrs["count_include_pad"] = 1
        if op == "LpPool":
            attrs["p"] = int(g.rng.integers(1, 4))
            attrs.pop("dilations", None)
            if attrs.get("auto_pad", "NOTSET") != "NOTSET" or any(
                    attrs.get("pads", [0])):
                # onnxruntime's LpPool pads differently from the spec.
                raise Reject()
        (y,) = g.node(op, [x.name], attrs)
        return Value(y, x.dtype, x.shape[:2] + tuple(out), False)
    return build


def windows_touch_data(spatial, attrs, out) -> bool:
    """True when every pooling window holds at least one input element."""
    nd = len(spatial)
    k, st = attrs["kernel_shape"], attrs["strides"]
    d = attrs.get("dilations", [1] * nd)
    auto = attrs.get("auto_pad", "NOTSET")
    for i in range(nd):
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            total = max((out[i] - 1) * st[i] + k[i] - spatial[i], 0)
            begin = total // 2 if auto == "SAME_UPPER" else total - total // 2
        elif auto == "VALID":
            begin = 0
        else:
            begin = attrs["pads"][i]
        for o in range(out[i]):
            if not any(0 <= o * st[i] - begin + j * d[i] < spatial[i]
                       for j in range(k[i])):
                return False
    return True


def global_pool(op):
    def build(g: Graph, x: Value) -> Value:
        (y,) = g.node(op, [x.name])
        return Value(y, x.dtype, x.shape[:2] + (1,) * (len(x.shape) - 2),
                     False)
    return build


# --- data movement ----------------------------------------------------------


def build_transpose(g: Graph, x: Value) -> Value:
    perm = [int(v) for v in g.rng.permutation(len(x.shape))]
    attrs = {} if g.rng.random() < 0.2 else {"perm": perm}
    if not attrs:
        perm = list(reversed(range(len(x.shape))))
    (y,) = g.node("Transpose", [x.name], attrs)
    return Value(y, x.dtype, tuple(x.shape[p] for p in perm), x.exact)


def build_reshape(g: Graph, x: Value) -> Value:
    total = int(np.prod(x.shape))
    dims = []
    rest = total
    for _ in range(int(g.rng.integers(1, 4))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = divisors[int(g.rng.integers(0, len(divisors)))]
        dims.append(d)
        rest //= d
    dims.append(rest)
    shape = list(dims)
    if g.rng.random() < 0.4:
        shape[int(g.rng.integers(0, len(shape)))] = -1
    if g.rng.random() < 0.3:
        # 0 copies the input dimension (allowzero = 0).
        for i in range(min(len(shape), len(x.shape))):
            if shape[i] == x.shape[i] and g.rng.random() < 0.5:
                shape[i] = 0
    if shape.count(-1) > 1:
        raise Reject()
    (y,) = g.node("Reshape", [x.name, g.add_const(np.array(shape, I64))])
    return Value(y, x.dtype, tuple(dims), x.exact)


def build_flatten(g: Graph, x: Value) -> Value:
    axis = int(g.rng.integers(-len(x.shape), len(x.shape) + 1))
    a = axis + len(x.shape) if axis < 0 else axis
    (y,) = g.node("Flatten", [x.name], {"axis": axis})
    return Value(y, x.dtype, (int(np.prod(x.shape[:a])),
                              int(np.prod(x.shape[a:]))), x.exact)


def build_unsqueeze(g: Graph, x: Value) -> Value:
    rank = len(x.shape) + 1
    axis = int(g.rng.integers(-rank, rank))
    (y,) = g.node("Unsqueeze", [x.name, g.add_const(np.array([axis], I64))])
    shape = list(x.shape)
    shape.insert(axis % rank, 1)
    return Value(y, x.dtype, tuple(shape), x.exact)


def build_squeeze(g: Graph, x: Value) -> Value:
    ones = [i for i, d in enumerate(x.shape) if d == 1]
    if not ones:
        raise Reject()
    if g.rng.random() < 0.3:
        (y,) = g.node("Squeeze", [x.name])
        axes = ones
    else:
        axes = [ones[int(g.rng.integers(0, len(ones)))]]
        (y,) = g.node("Squeeze", [x.name, g.add_const(np.array(axes, I64))])
    return Value(y, x.dtype, tuple(d for i, d in enumerate(x.shape)
                                   if i not in axes), x.exact)


def build_concat(g: Graph, x: Value) -> Value:
    rank = len(x.shape)
    axis = int(g.rng.integers(-rank, rank))
    a = axis % rank
    parts = [x]
    for _ in range(int(g.rng.integers(1, 3))):
        shape = list(x.shape)
        shape[a] = int(g.rng.integers(1, 4))
        parts.append(g.operand(x.dtype, tuple(shape)))
    if g.rng.random() < 0.3:
        g.rng.shuffle(parts)
    (y,) = g.node("Concat", [p.name for p in parts], {"axis": axis})
    shape = list(x.shape)
    shape[a] = sum(p.shape[a] for p in parts)
    return Value(y, x.dtype, tuple(shape), x.exact)


def build_slice(g: Graph, x: Value) -> Value:
    rank = len(x.shape)
    naxes = int(g.rng.integers(1, rank + 1))
    axes = [int(a) for a in g.rng.permutation(rank)[:naxes]]
    starts, ends, steps = [], [], []
    ref = np.zeros(x.shape, np.int8)
    index = [slice(None)] * rank
    for a in axes:
        dim = x.shape[a]
        step = int(g.rng.choice([1, 1, 2, -1, -2]))
        s = int(g.rng.integers(-dim - 2, dim + 2))
        e = int(g.rng.integers(-dim - 2, dim + 2))
        if g.rng.random() < 0.15:
            e = 2**62 if step > 0 else -(2**62)
        starts.append(s)
        ends.append(e)
        steps.append(step)
        index[a] = slice(s, e, step)
    out_shape = ref[tuple(index)].shape
    if 0 in out_shape:
        raise Reject()
    ins = [x.name, g.add_const(np.array(starts, I64)),
           g.add_const(np.array(ends, I64))]
    neg_axes = [a - rank if g.rng.random() < 0.3 else a for a in axes]
    ins.append(g.add_const(np.array(neg_axes, I64)))
    ins.append(g.add_const(np.array(steps, I64)))
    (y,) = g.node("Slice", ins)
    return Value(y, x.dtype, out_shape, x.exact)


def build_split(g: Graph, x: Value) -> Value:
    rank = len(x.shape)
    a = int(g.rng.integers(0, rank))
    dim = x.shape[a]
    if dim < 2:
        raise Reject()
    cut = int(g.rng.integers(1, dim))
    sizes = [cut, dim - cut]
    if g.opset >= 18 and g.rng.random() < 0.4:
        parts = 2
        chunk = -(-dim // parts)
        sizes = [chunk, dim - chunk]
        ys = g.node("Split", [x.name], {"axis": a, "num_outputs": parts},
                    outputs=2)
    else:
        ys = g.node("Split", [x.name, g.add_const(np.array(sizes, I64))],
                    {"axis": a}, outputs=2)
    pick = int(g.rng.integers(0, 2))
    shape = list(x.shape)
    shape[a] = sizes[pick]
    if shape[a] == 0:
        raise Reject()
    return Value(ys[pick], x.dtype, tuple(shape), x.exact)


def build_expand(g: Graph, x: Value) -> Value:
    target = list(x.shape)
    for i, d in enumerate(target):
        if d == 1 and g.rng.random() < 0.6:
            target[i] = int(g.rng.integers(2, 4))
    if g.rng.random() < 0.3 and len(target) < 5:
        target.insert(0, int(g.rng.integers(1, 3)))
    given = [1 if (g.rng.random() < 0.3 and i >= len(target) - len(x.shape))
             else t for i, t in enumerate(target)]
    (y,) = g.node("Expand", [x.name, g.add_const(np.array(given, I64))])
    shape = np.broadcast_shapes(x.shape, tuple(given))
    return Value(y, x.dtype, tuple(shape), x.exact)


def build_gather(g: Graph, x: Value) -> Value:
    rank = len(x.shape)
    a = int(g.rng.integers(-rank, rank))
    dim = x.shape[a % rank]
    ishape = rand_shape(g, int(g.rng.integers(0, 3)), 1, 3)
    idx = g.rng.integers(-dim, dim, size=ishape).astype(
        I64 if g.rng.random() < 0.7 else I32)
    (y,) = g.node("Gather", [x.name, g.add_const(idx)], {"axis": a})
    a %= rank
    shape = x.shape[:a] + tuple(ishape) + x.shape[a + 1:]
    return Value(y, x.dtype, shape, x.exact)


def build_tile(g: Graph, x: Value) -> Value:
    reps = [int(g.rng.integers(1, 3)) for _ in x.shape]
    (y,) = g.node("Tile", [x.name, g.add_const(np.array(reps, I64))])
    return Value(y, x.dtype, tuple(d * r for d, r in zip(x.shape, reps)),
                 x.exact)


def build_pad(g: Graph, x: Value) -> Value:
    rank = len(x.shape)
    modes = ["constant", "constant", "reflect", "edge"]
    if g.opset >= 19:
        modes.append("wrap")
    mode = str(g.rng.choice(modes))
    pads = []
    for i in range(2 * rank):
        dim = x.shape[i % rank]
        hi = dim - 1 if mode == "reflect" else (dim if mode == "wrap" else 2)
        lo = -1 if (mode == "constant" and dim > 1) else 0
        pads.append(int(g.rng.integers(lo, max(hi, 0) + 1)))
    shape = tuple(x.shape[i] + pads[i] + pads[rank + i] for i in range(rank))
    if min(shape) < 1:
        raise Reject()
    ins = [x.name, g.add_const(np.array(pads, I64))]
    if mode == "constant" and g.rng.random() < 0.5:
        ins.append(g.add_const(np.array(g.rng.uniform(-1, 1), x.dtype)))
    (y,) = g.node("Pad", ins, {"mode": mode})
    return Value(y, x.dtype, shape, x.exact)


def build_shape_chain(g: Graph, x: Value) -> Value:
    """Shape -> Cast -> Add: a shape subgraph the importer folds."""
    (s,) = g.node("Shape", [x.name])
    (c,) = g.node("Cast", [s], {"to": ONNX_TYPE[np.dtype(x.dtype)]})
    rank = len(x.shape)
    if rank == 0:
        raise Reject()
    (y,) = g.node("Add", [x.name, c]) if x.shape[-1] in (1, rank) else \
        g.node("Identity", [x.name])
    shape = np.broadcast_shapes(x.shape, (rank,)) if x.shape[-1] in (
        1, rank) else x.shape
    return Value(y, x.dtype, tuple(shape), False)


# --- normalization / reduction (flip on once the importer has them) --------


def build_softmax(op):
    def build(g: Graph, x: Value) -> Value:
        axis = int(g.rng.integers(-len(x.shape), len(x.shape)))
        (y,) = g.node(op, [x.name], {"axis": axis})
        return Value(y, x.dtype, x.shape, False)
    return build


def reduce(op):
    def build(g: Graph, x: Value) -> Value:
        rank = len(x.shape)
        axes = sorted(int(a) for a in g.rng.permutation(rank)[
            :int(g.rng.integers(1, rank + 1))])
        keep = int(g.rng.integers(0, 2))
        src = x
        if op in ("ReduceLogSum", "ReduceL2", "ReduceLogSumExp") and False:
            pass
        if op in ("ReduceLogSum",):
            (a,) = g.node("Abs", [x.name])
            one = g.add_const(np.array(0.5, dtype=x.dtype))
            (p,) = g.node("Add", [a, one])
            src = Value(p, x.dtype, x.shape, False)
        if g.opset >= 18 or op == "ReduceSum":
            (y,) = g.node(op, [src.name, g.add_const(np.array(axes, I64))],
                          {"keepdims": keep})
        else:
            (y,) = g.node(op, [src.name], {"axes": axes, "keepdims": keep})
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)
                      if keep or i not in axes)
        return Value(y, x.dtype, shape, False)
    return build


def build_batchnorm(g: Graph, x: Value) -> Value:
    c = x.shape[1]
    ins = [x.name, g.add_const(g.rng.uniform(0.5, 1.5, c).astype(x.dtype)),
           g.add_const(g.rng.uniform(-1, 1, c).astype(x.dtype)),
           g.add_const(g.rng.uniform(-1, 1, c).astype(x.dtype)),
           g.add_const(g.rng.uniform(0.5, 2, c).astype(x.dtype))]
    (y,) = g.node("BatchNormalization", ins,
                  {"epsilon": float(g.rng.uniform(1e-5, 1e-2))})
    return Value(y, x.dtype, x.shape, False)


def build_layernorm(g: Graph, x: Value) -> Value:
    rank = len(x.shape)
    axis = int(g.rng.integers(-rank, rank))
    norm = x.shape[axis % rank:]
    ins = [x.name, g.add_const(g.rng.uniform(0.5, 1.5, norm).astype(x.dtype))]
    if g.rng.random() < 0.7:
        ins.append(g.add_const(g.rng.uniform(-1, 1, norm).astype(x.dtype)))
    (y,) = g.node("LayerNormalization", ins, {"axis": axis})
    return Value(y, x.dtype, x.shape, False)


def build_instancenorm(g: Graph, x: Value) -> Value:
    c = x.shape[1]
    ins = [x.name, g.add_const(g.rng.uniform(0.5, 1.5, c).astype(x.dtype)),
           g.add_const(g.rng.uniform(-1, 1, c).astype(x.dtype))]
    (y,) = g.node("InstanceNormalization", ins)
    return Value(y, x.dtype, x.shape, False)


ALL_RANKS = (1, 2, 3, 4)
CONV_RANKS = (3, 4)

OPS: list[OpSpec] = [
    # Elementwise unary.
    OpSpec("Relu", NUMERIC[:2] + (F16,), ALL_RANKS, unary("Relu")),
    OpSpec("Abs", NUMERIC, ALL_RANKS, unary("Abs")),
    OpSpec("Neg", NUMERIC, ALL_RANKS, unary("Neg")),
    OpSpec("Sigmoid", FLOATS, ALL_RANKS, unary("Sigmoid")),
    OpSpec("Tanh", FLOATS, ALL_RANKS, unary("Tanh")),
    OpSpec("Exp", FLOATS, ALL_RANKS, unary("Exp")),
    OpSpec("Log", FLOATS, ALL_RANKS, unary("Log", domain_fix="positive")),
    OpSpec("Sqrt", FLOATS, ALL_RANKS, unary("Sqrt", domain_fix="positive")),
    OpSpec("Reciprocal", FLOATS, ALL_RANKS,
           unary("Reciprocal", domain_fix="positive")),
    OpSpec("Sin", (F32, F64), ALL_RANKS, unary("Sin"), weight=0.3),
    OpSpec("Cos", (F32, F64), ALL_RANKS, unary("Cos"), weight=0.3),
    OpSpec("Tan", (F32,), ALL_RANKS, unary("Tan", domain_fix="unit"),
           weight=0.3),
    OpSpec("Asin", (F32,), ALL_RANKS, unary("Asin", domain_fix="unit"),
           weight=0.3),
    OpSpec("Acos", (F32,), ALL_RANKS, unary("Acos", domain_fix="unit"),
           weight=0.3),
    OpSpec("Atan", (F32,), ALL_RANKS, unary("Atan"), weight=0.3),
    OpSpec("Sinh", (F32,), ALL_RANKS, unary("Sinh"), weight=0.3),
    OpSpec("Cosh", (F32,), ALL_RANKS, unary("Cosh"), weight=0.3),
    OpSpec("Asinh", (F32,), ALL_RANKS, unary("Asinh"), weight=0.3),
    OpSpec("Acosh", (F32,), ALL_RANKS, unary("Acosh", domain_fix="ge1"),
           weight=0.3),
    OpSpec("Atanh", (F32,), ALL_RANKS, unary("Atanh", domain_fix="unit"),
           weight=0.3),
    OpSpec("Erf", (F32,), ALL_RANKS, unary("Erf"), weight=0.5),
    OpSpec("Softplus", (F32, F64), ALL_RANKS, unary("Softplus"), weight=0.5),
    OpSpec("Softsign", (F32,), ALL_RANKS, unary("Softsign"), weight=0.5),
    OpSpec("HardSwish", (F32,), ALL_RANKS, unary("HardSwish"), min_opset=14),
    OpSpec("HardSigmoid", (F32,), ALL_RANKS,
           unary("HardSigmoid", lambda g: {"alpha": float(g.rng.uniform(
               0.1, 0.5)), "beta": float(g.rng.uniform(0.2, 0.8))})),
    OpSpec("Mish", (F32, F64), ALL_RANKS, unary("Mish"), min_opset=18),
    OpSpec("LeakyRelu", (F32, F16), ALL_RANKS,
           unary("LeakyRelu", float_attr("alpha", 0.01, 0.5))),
    OpSpec("Elu", (F32,), ALL_RANKS,
           unary("Elu", float_attr("alpha", 0.5, 1.5))),
    OpSpec("Selu", (F32,), ALL_RANKS, unary("Selu")),
    OpSpec("Celu", (F32,), ALL_RANKS,
           unary("Celu", float_attr("alpha", 0.5, 1.5))),
    OpSpec("ThresholdedRelu", (F32,), ALL_RANKS,
           unary("ThresholdedRelu", float_attr("alpha", 0.1, 1.0)),
           needs_exact=True),
    OpSpec("Gelu", (F32, F64), ALL_RANKS,
           unary("Gelu", lambda g: {"approximate": str(g.rng.choice(
               ["none", "tanh"]))}), min_opset=20),
    OpSpec("Shrink", (F32,), ALL_RANKS,
           unary("Shrink", lambda g: {"lambd": float(g.rng.uniform(0, 1)),
                                      "bias": float(g.rng.uniform(0, 1))}),
           needs_exact=True),
    OpSpec("Floor", (F32, F64), ALL_RANKS, unary("Floor"), needs_exact=True),
    OpSpec("Ceil", (F32, F64), ALL_RANKS, unary("Ceil"), needs_exact=True),
    OpSpec("Round", (F32, F64), ALL_RANKS, unary("Round"), needs_exact=True),
    OpSpec("Sign", NUMERIC, ALL_RANKS, unary("Sign"), needs_exact=True),
    OpSpec("Clip", (F32, F64), ALL_RANKS, build_clip),
    OpSpec("Cast", (F32, F64, F16) + SIGNED_INTS, ALL_RANKS, build_cast,
           needs_exact=True, weight=0.5),
    OpSpec("Identity", NUMERIC, ALL_RANKS, unary("Identity"), weight=0.2),
    # Elementwise binary and variadic.
    OpSpec("Add", NUMERIC, ALL_RANKS, binary("Add"), weight=2),
    OpSpec("Sub", NUMERIC, ALL_RANKS, binary("Sub"), weight=1.5),
    OpSpec("Mul", NUMERIC, ALL_RANKS, binary("Mul"), weight=2),
    OpSpec("Div", (F32, F64), ALL_RANKS, binary("Div", nonzero=True)),
    OpSpec("Pow", (F32, F64), ALL_RANKS, build_pow),
    OpSpec("Mod", (F32, I32, I64), ALL_RANKS, build_mod, needs_exact=True),
    OpSpec("PRelu", (F32,), ALL_RANKS, build_prelu),
    OpSpec("Sum", (F32, F64), ALL_RANKS, variadic("Sum")),
    OpSpec("Min", NUMERIC[:2] + SIGNED_INTS, ALL_RANKS, variadic("Min")),
    OpSpec("Max", NUMERIC[:2] + SIGNED_INTS, ALL_RANKS, variadic("Max")),
    OpSpec("Mean", (F32,), ALL_RANKS, variadic("Mean")),
    OpSpec("Where", NUMERIC, ALL_RANKS, build_where),
    OpSpec("Equal", (F32, I32, I64), ALL_RANKS, comparison("Equal"),
           needs_exact=True, weight=0.5),
    OpSpec("Less", (F32, F64, I64), ALL_RANKS, comparison("Less"),
           needs_exact=True, weight=0.5),
    OpSpec("Greater", (F32, F64, I32), ALL_RANKS, comparison("Greater"),
           needs_exact=True, weight=0.5),
    OpSpec("LessOrEqual", (F32, I64), ALL_RANKS, comparison("LessOrEqual"),
           needs_exact=True, weight=0.5),
    OpSpec("GreaterOrEqual", (F32, I32), ALL_RANKS,
           comparison("GreaterOrEqual"), needs_exact=True, weight=0.5),
    # Linear.
    OpSpec("MatMul", (F32, F64), ALL_RANKS, build_matmul, weight=2),
    OpSpec("Gemm", (F32, F64), (2,), build_gemm, weight=2),
    OpSpec("Conv", (F32,), CONV_RANKS, build_conv, weight=3),
    # Pooling.
    OpSpec("MaxPool", (F32, F64), CONV_RANKS, pool("MaxPool"), weight=2),
    OpSpec("AveragePool", (F32,), CONV_RANKS, pool("AveragePool"),
           weight=2),
    OpSpec("LpPool", (F32,), CONV_RANKS, pool("LpPool"), weight=0.5),
    OpSpec("GlobalAveragePool", (F32, F64), CONV_RANKS,
           global_pool("GlobalAveragePool")),
    OpSpec("GlobalMaxPool", (F32,), CONV_RANKS,
           global_pool("GlobalMaxPool")),
    # Data movement and structure.
    OpSpec("Transpose", NUMERIC, ALL_RANKS, build_transpose, weight=1.5),
    OpSpec("Reshape", NUMERIC, ALL_RANKS, build_reshape, weight=1.5),
    OpSpec("Flatten", NUMERIC, ALL_RANKS, build_flatten),
    OpSpec("Unsqueeze", NUMERIC, (1, 2, 3), build_unsqueeze),
    OpSpec("Squeeze", NUMERIC, ALL_RANKS, build_squeeze),
    OpSpec("Concat", NUMERIC, ALL_RANKS, build_concat, weight=1.5),
    OpSpec("Slice", NUMERIC, ALL_RANKS, build_slice, weight=1.5),
    OpSpec("Split", NUMERIC, ALL_RANKS, build_split),
    OpSpec("Expand", NUMERIC, ALL_RANKS, build_expand),
    OpSpec("Gather", NUMERIC, ALL_RANKS, build_gather, weight=1.5),
    OpSpec("Tile", NUMERIC, ALL_RANKS, build_tile),
    OpSpec("Pad", (F32, F64, I64), ALL_RANKS, build_pad, weight=1.5),
    OpSpec("Shape", (F32, F64), ALL_RANKS, build_shape_chain, weight=0.5),
    # Normalization, softmax and reductions: used once Kiln registers them.
    OpSpec("Softmax", (F32, F64), ALL_RANKS, build_softmax("Softmax")),
    OpSpec("LogSoftmax", (F32, F64), ALL_RANKS, build_softmax("LogSoftmax")),
    OpSpec("ReduceSum", (F32, F64, I64), ALL_RANKS, reduce("ReduceSum")),
    OpSpec("ReduceMean", (F32, F64), ALL_RANKS, reduce("ReduceMean")),
    OpSpec("ReduceMax", (F32, F64, I64), ALL_RANKS, reduce("ReduceMax")),
    OpSpec("ReduceMin", (F32, F64), ALL_RANKS, reduce("ReduceMin")),
    OpSpec("ReduceProd", (F32,), ALL_RANKS, reduce("ReduceProd"),
           weight=0.5),
    OpSpec("ReduceL2", (F32,), ALL_RANKS, reduce("ReduceL2"), weight=0.5),
    OpSpec("ReduceLogSum", (F32,), ALL_RANKS, reduce("ReduceLogSum"),
           weight=0.5),
    OpSpec("BatchNormalization", (F32, F64), CONV_RANKS, build_batchnorm),
    OpSpec("LayerNormalization", (F32, F64), ALL_RANKS, build_layernorm,
           min_opset=17),
    OpSpec("InstanceNormalization", (F32,), CONV_RANKS,
           build_instancenorm),
]


# --- one case ----------------------------------------------------------------


@dataclasses.dataclass
class Case:
    index: int
    model: onnx.ModelProto
    feeds: dict
    ops: list
    dtype: type


def make_case(seed: int, index: int, specs: list[OpSpec],
              attempt: int = 0) -> Case:
    rng = np.random.default_rng([seed, index, attempt])
    for _attempt in range(50):
        opset = list(OPSETS)[int(rng.integers(0, len(OPSETS)))]
        g = Graph(rng, opset)
        usable = [s for s in specs if s.min_opset <= opset]
        # Pick a dtype the chain's first op accepts.
        first = usable[int(rng.integers(0, len(usable)))]
        dtype = first.dtypes[int(rng.integers(0, len(first.dtypes)))]
        rank = first.ranks[int(rng.integers(0, len(first.ranks)))]
        shape = rand_shape(g, rank, 1, 6 if rank >= 3 else 5)
        if rank >= 3:
            shape = (int(rng.integers(1, 3)),) + shape[1:]
        x = g.add_input(dtype, shape)
        length = int(rng.integers(2, 7))
        used = []
        tries = 0
        current = x
        while len(used) < length and tries < 60:
            tries += 1
            spec = first if not used else None
            if spec is None:
                weights = np.array([s.weight for s in usable])
                spec = usable[int(rng.choice(len(usable),
                                             p=weights / weights.sum()))]
            if current.dtype not in spec.dtypes:
                continue
            if len(current.shape) not in spec.ranks:
                continue
            if spec.needs_exact and not current.exact:
                continue
            saved = (len(g.nodes), len(g.inputs), len(g.initializers),
                     dict(g.feeds))
            try:
                out = spec.build(g, current)
            except Reject:
                del g.nodes[saved[0]:], g.inputs[saved[1]:]
                del g.initializers[saved[2]:]
                g.feeds = saved[3]
                continue
            if int(np.prod(out.shape)) > 20000 or len(out.shape) > 5:
                del g.nodes[saved[0]:], g.inputs[saved[1]:]
                del g.initializers[saved[2]:]
                g.feeds = saved[3]
                continue
            used.append(spec.op)
            current = out
        if len(used) < 2:
            continue
        outputs = [helper.make_tensor_value_info(
            current.name, ONNX_TYPE[np.dtype(current.dtype)],
            list(current.shape))]
        graph = helper.make_graph(g.nodes, f"diff_{seed}_{index}", g.inputs,
                                  outputs, g.initializers)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", opset)],
            ir_version=OPSETS[opset], producer_name="kiln-differential")
        # The generators track shapes by hand; ONNX's strict shape inference
        # double-checks them (a disagreement is a generator bug: redraw).
        try:
            onnx.shape_inference.infer_shapes(model, strict_mode=True)
        except Exception as error:  # noqa: BLE001
            raise GeneratorBug(f"seed {seed} case {index} {used}: "
                               f"{str(error)[:200]}") from None
        return Case(index, model, g.feeds, used, current.dtype)
    raise RuntimeError(f"seed {seed} case {index}: no valid chain")


def run_ort(case: Case):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = \
        ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4
    session = ort.InferenceSession(case.model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, case.feeds)))


def compare(got: np.ndarray, want: np.ndarray) -> Optional[str]:
    if got.dtype != want.dtype:
        return f"dtype {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}"
    if not np.issubdtype(want.dtype, np.floating):
        bad = np.flatnonzero(got.reshape(-1) != want.reshape(-1))
        if bad.size:
            i = bad[0]
            return (f"{bad.size} elements differ; element {i} is "
                    f"{got.reshape(-1)[i]}, expected {want.reshape(-1)[i]}")
        return None
    g = got.astype(np.float64).reshape(-1)
    w = want.astype(np.float64).reshape(-1)
    rtol = 1e-2 if want.dtype == np.float16 else 1e-4
    finite = np.isfinite(w)
    scale = np.max(np.abs(w[finite])) if finite.any() else 1.0
    atol = rtol * max(1.0, scale)
    nan_ok = np.isnan(w) & np.isnan(g)
    inf_ok = np.isinf(w) & (g == w)
    close = np.abs(g - w) <= atol + rtol * np.abs(w)
    bad = np.flatnonzero(~(close | nan_ok | inf_ok))
    if bad.size:
        i = bad[0]
        err = np.max(np.abs(g - w)[finite]) if finite.any() else np.nan
        return (f"{bad.size}/{w.size} elements outside rtol={rtol:g} "
                f"atol={atol:.3g}; element {i} is {g[i]!r}, expected "
                f"{w[i]!r}; max abs error {err:.3g}")
    return None


def supported_ops(batch_runner: str) -> set:
    out = subprocess.run([batch_runner, "--list-ops"], check=True,
                         capture_output=True, text=True).stdout
    return {line.split(":", 1)[1] for line in out.split() if ":" in line}


exit_problems: list = []


def run_batch(batch_runner: str, lines: list[str], work: str):
    """Runs manifest |lines|; returns {index: (verdict, diagnostics)}.

    A crash names the case that was running (its last START line) and the
    remaining cases run in a fresh process.
    """
    results = {}
    pending = list(range(len(lines)))
    while pending:
        manifest = os.path.join(work, "manifest.tsv")
        with open(manifest, "w") as f:
            for i in pending:
                f.write(lines[i] + "\n")
        proc = subprocess.run([batch_runner, manifest], capture_output=True,
                              text=True, errors="replace")
        current = None
        verdict = None
        for line in proc.stdout.splitlines():
            head, _, rest = line.partition(" ")
            if head == "START":
                current = pending[int(rest)]
            elif head in ("OK", "UNSUPPORTED", "ERROR"):
                verdict = head
                results[current] = (head, [])
            elif line.startswith("  ") and current is not None and verdict:
                results[current][1].append(line[2:])
        missing = [i for i in pending if i not in results]
        tail = (proc.stderr or "").strip().splitlines()[-25:]
        if missing:
            crashed = current if current in missing else missing[0]
            results[crashed] = ("CRASH", [f"exit status {proc.returncode}"] +
                                tail)
        elif proc.returncode != 0:
            # Every case finished, then the process failed (a leak report).
            exit_problems.append(f"kiln-batch-run exited with status "
                                 f"{proc.returncode} after its last case: " +
                                 " | ".join(tail))
        pending = [i for i in pending if i not in results]
    return results


def run_each(kiln: str, lines: list[str]):
    """Like run_batch, one `kiln run` process per case (slower)."""
    results = {}
    for i, line in enumerate(lines):
        model, inputs, outputs = line.split("\t")[:3]
        proc = subprocess.run([kiln, "run", model, "--inputs", inputs,
                               "--outputs", outputs], capture_output=True,
                              text=True, errors="replace")
        errors = [e for e in proc.stderr.splitlines() if ": error: " in e]
        if proc.returncode == 0:
            results[i] = ("OK", [])
        elif proc.returncode == 1 and errors and all(
                e.split(": error: ", 1)[1].startswith("unsupported")
                for e in errors):
            results[i] = ("UNSUPPORTED", errors)
        elif proc.returncode == 1 and errors:
            results[i] = ("ERROR", errors)
        else:
            results[i] = ("CRASH", [f"exit status {proc.returncode}"] +
                          proc.stderr.strip().splitlines()[-20:])
    return results


def write_case(folder: str, case: Case, expected: dict):
    os.makedirs(folder, exist_ok=True)
    onnx.save(case.model, os.path.join(folder, "model.onnx"))
    np.savez(os.path.join(folder, "inputs.npz"), **case.feeds)
    np.savez(os.path.join(folder, "expected.npz"), **expected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    runner = parser.add_mutually_exclusive_group(required=True)
    runner.add_argument("--batch-runner",
                        help="kiln-batch-run (all cases in one process)")
    runner.add_argument("--kiln", help="kiln (one `kiln run` per case; "
                                       "every op of the table is tried)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--case", type=int, help="run only this case")
    parser.add_argument("--time-budget", type=float, default=0,
                        help="stop generating after this many seconds "
                             "(0: no limit)")
    parser.add_argument("--ops", help="comma-separated ops to use (default: "
                                      "every op Kiln supports)")
    parser.add_argument("--max-unsupported", type=float, default=0.05,
                        help="fail when more than this fraction of cases "
                             "is unsupported")
    parser.add_argument("--work", help="folder for cases (default: a "
                                       "temporary one; failures are kept)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    start = time.time()
    kiln_ops = supported_ops(args.batch_runner) if args.batch_runner else \
        {s.op for s in OPS}
    wanted = set(args.ops.split(",")) if args.ops else None
    specs = [s for s in OPS if s.op in kiln_ops and
             (wanted is None or s.op in wanted)]
    missing = sorted({s.op for s in OPS} - kiln_ops)
    if missing:
        print(f"ops in the generator table that Kiln does not support yet "
              f"(left out): {', '.join(missing)}")
    if not specs:
        print("error: no op to generate")
        return 2
    work = args.work or tempfile.mkdtemp(prefix="kiln-differential-")
    os.makedirs(work, exist_ok=True)
    failures_dir = os.path.join(work, f"failures-seed{args.seed}")

    indices = [args.case] if args.case is not None else range(args.cases)
    cases, expected, lines, folders = [], [], [], []
    oracle_rejects = []
    for index in indices:
        if args.time_budget and time.time() - start > args.time_budget * 0.6:
            break
        # A chain onnxruntime cannot run (an element type its kernel lacks)
        # is drawn again, deterministically.
        for attempt in range(20):
            try:
                case = make_case(args.seed, index, specs, attempt)
                want = run_ort(case)
                break
            except Exception as error:  # noqa: BLE001
                oracle_rejects.append(f"case {index}: {error}"[:200])
        else:
            print(f"error: onnxruntime rejected 20 chains of case {index}")
            return 2
        folder = os.path.join(work, f"seed{args.seed}-case{index:04d}")
        write_case(folder, case, want)
        cases.append(case)
        expected.append(want)
        folders.append(folder)
        lines.append("\t".join([os.path.join(folder, "model.onnx"),
                                os.path.join(folder, "inputs.npz"),
                                os.path.join(folder, "kiln.npz")]))
    gen_time = time.time() - start
    results = run_batch(args.batch_runner, lines, work) \
        if args.batch_runner else run_each(args.kiln, lines)
    run_time = time.time() - start - gen_time

    counts = {"pass": 0, "unsupported": 0, "fail": 0}
    op_counts: dict = {}
    failures = []
    unsupported_msgs: dict = {}
    for i, case in enumerate(cases):
        verdict, diags = results[i]
        for op in case.ops:
            op_counts[op] = op_counts.get(op, 0) + 1
        reason = None
        if verdict == "OK":
            got = dict(np.load(os.path.join(folders[i], "kiln.npz")))
            for name, want in expected[i].items():
                if name not in got:
                    reason = f"output '{name}' missing from Kiln's outputs"
                    break
                reason = compare(got[name], want)
                if reason:
                    reason = f"output '{name}': {reason}"
                    break
        elif verdict == "UNSUPPORTED":
            counts["unsupported"] += 1
            msg = diags[0] if diags else "?"
            unsupported_msgs[msg.split(": error: ")[-1]] = case.index
            if args.verbose:
                print(f"unsupported case {case.index}: {msg}")
            continue
        else:
            reason = f"{verdict}: " + " | ".join(diags[:6])
        if reason:
            counts["fail"] += 1
            dest = os.path.join(failures_dir, os.path.basename(folders[i]))
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(folders[i], dest)
            failures.append((case, reason, dest))
        else:
            counts["pass"] += 1
            if args.verbose:
                print(f"pass case {case.index}: {' -> '.join(case.ops)}")

    for case, reason, dest in failures:
        print(f"FAIL seed {args.seed} case {case.index} "
              f"[{' -> '.join(case.ops)}] ({np.dtype(case.dtype).name}, "
              f"opset {case.model.opset_import[0].version}): {reason}")
        how = (f"--batch-runner {args.batch_runner}" if args.batch_runner
               else f"--kiln {args.kiln}")
        print(f"  reproduce: {sys.argv[0]} {how} --seed {args.seed} "
              f"--case {case.index}")
        print(f"  or: kiln run {dest}/model.onnx --inputs {dest}/inputs.npz "
              f"--outputs /tmp/out.npz   (expected: {dest}/expected.npz)")
    for msg, index in sorted(unsupported_msgs.items()):
        print(f"unsupported (e.g. case {index}): {msg}")
    if args.verbose:
        for line in oracle_rejects:
            print(f"onnxruntime rejected a chain of {line}")
    covered = ", ".join(f"{op} {n}" for op, n in sorted(op_counts.items()))
    print(f"op coverage (nodes per op over all cases): {covered}")
    total = len(cases)
    print(f"differential seed {args.seed}: {total} cases ({gen_time:.1f} s "
          f"generation + onnxruntime, {run_time:.1f} s Kiln; "
          f"{len(oracle_rejects)} chains redrawn because onnxruntime "
          f"rejected them)")
    print(f"{counts['pass']} passed, {counts['fail']} failed, "
          f"{counts['unsupported']} skipped")
    if not args.work and not failures:
        shutil.rmtree(work, ignore_errors=True)
    elif failures:
        print(f"failing cases kept in {failures_dir}")
    for problem in exit_problems:
        print(f"FAIL {problem}")
    if counts["fail"] or exit_problems:
        return 1
    # With --kiln the supported ops are unknown, so skips are expected.
    if total and args.batch_runner and \
            counts["unsupported"] > args.max_unsupported * total:
        print(f"FAIL: {counts['unsupported']} of {total} cases unsupported "
              f"(more than {args.max_unsupported:.0%}): a generator makes "
              "what Kiln rejects")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
