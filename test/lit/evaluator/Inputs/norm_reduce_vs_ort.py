#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compares Kiln's normalization / softmax / reduction kernels with onnxruntime.

The ONNX node tests cover these ops thinly (mostly float32, one or two
attribute settings each). This builds one model per opset holding many
independent single-node cases -- integer and half types, every attribute,
empty dimensions, ties, broadcast parameters, the opset-1/11 forms -- runs it
with onnxruntime and with `kiln run`, and compares every output:
  floats: |kiln - ort| <= 1e-5 + rtol * |ort| (rtol 1e-4; 2e-3 for float16),
          NaN where onnxruntime has NaN, equal infinities;
  integers: exact.
Prints one line per mismatch and exits non-zero on any; "ok N cases" else.

Usage: norm_reduce_vs_ort.py KILN WORKDIR
"""
import os
import subprocess
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

RNG = np.random.default_rng(7)


def rand(shape, dtype=np.float32, low=-3.0, high=3.0):
    if np.issubdtype(np.dtype(dtype), np.integer):
        return RNG.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    return RNG.uniform(low, high, size=shape).astype(dtype)


class Case:
    """One node: inputs (graph inputs), constants (initializers), attrs."""

    def __init__(self, op, inputs, attrs=None, consts=None, outputs=1,
                 oracle="ort"):
        self.op = op
        self.inputs = inputs  # list of arrays or None (omitted)
        self.consts = consts or {}  # position -> array
        self.attrs = attrs or {}
        self.outputs = outputs
        self.oracle = oracle


def cases_by_opset():
    c = {}
    x345 = rand([3, 4, 5])
    r18 = []
    for op in ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
               "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
               "ReduceLogSumExp", "ReduceSumSquare"]:
        pos = rand([3, 4, 5], low=0.1, high=2.0)
        data = pos if op == "ReduceLogSum" else x345
        for axes, keep in [([1], 1), ([0, 2], 0), ([-1], 1), (None, 0),
                           ([2, 0], 1)]:
            consts = {} if axes is None else {1: np.array(axes, np.int64)}
            r18.append(Case(op, [data, None], {"keepdims": keep}, consts))
        # No axes with noop_with_empty_axes: only the element-wise part.
        r18.append(Case(op, [data], {"noop_with_empty_axes": 1}))
        # An empty reduced dimension yields the identity value.
        if op not in ("ReduceMean",):
            r18.append(Case(op, [rand([2, 0, 3]), None], {"keepdims": 0},
                            {1: np.array([1], np.int64)}))
        r18.append(Case(op, [data.astype(np.float64), None], {},
                        {1: np.array([0], np.int64)}))
        r18.append(Case(op, [data.astype(np.float16), None], {},
                        {1: np.array([2], np.int64)}))
    for op in ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
               "ReduceMean"]:
        for t in (np.int32, np.int64):
            r18.append(Case(op, [rand([3, 4, 5], t, -9, 9), None],
                            {"keepdims": 0}, {1: np.array([1], np.int64)}))
    r18.append(Case("ReduceSumSquare", [rand([2, 0, 3], np.int64), None],
                    {}, {1: np.array([1], np.int64)}))
    # Rank 0: reducing "all axes" reduces none.
    for op in ["ReduceSum", "ReduceL1", "ReduceL2", "ReduceLogSumExp",
               "ReduceSumSquare", "ReduceMax"]:
        r18.append(Case(op, [np.array(-1.5, np.float32)], {"keepdims": 0}))
    for op in ["ReduceMax", "ReduceMin"]:
        for t in (np.int8, np.uint8):
            r18.append(Case(op, [rand([3, 4, 5], t, 0, 100), None], {},
                            {1: np.array([0, 2], np.int64)}))
    # Softmax family, opset 13 (one axis).
    for op in ["Softmax", "LogSoftmax", "Hardmax"]:
        for axis in (0, 1, -1):
            r18.append(Case(op, [rand([2, 3, 4, 5])], {"axis": axis}))
        r18.append(Case(op, [rand([3, 6]).astype(np.float16)], {"axis": 0}))
        if op != "Hardmax":  # onnxruntime has no double Hardmax
            r18.append(Case(op, [rand([3, 6]).astype(np.float64)], {}))
    r18.append(Case("Hardmax", [np.array([[1, 3, 3, 2], [0, 0, 0, 0]],
                                         np.float32)], {}))
    r18.append(Case("Hardmax", [rand([3, 6]).astype(np.float64)],
                    {"axis": 0}, oracle="reference"))
    # Arg reductions with ties.
    ties = rand([4, 5, 6], np.int32, 0, 2)
    for op in ["ArgMax", "ArgMin"]:
        for axis, keep, last in [(0, 1, 0), (1, 0, 1), (-1, 1, 1),
                                 (2, 0, 0)]:
            attrs = {"axis": axis, "keepdims": keep, "select_last_index": last}
            r18.append(Case(op, [ties], attrs))
            r18.append(Case(op, [x345.astype(np.float64)],
                            {"axis": min(axis, 2) if axis >= 0 else axis,
                             "keepdims": keep}))
    # Scans.
    for t in (np.float32, np.float64, np.int32, np.int64):
        data = rand([3, 4, 5], t, -4, 4)
        for axis, ex, rev in [(0, 0, 0), (1, 1, 0), (-1, 0, 1), (2, 1, 1)]:
            r18.append(Case("CumSum", [data, None],
                            {"exclusive": ex, "reverse": rev},
                            {1: np.array(axis, np.int64)}))
    # TopK with ties and both directions.
    tk = np.array([[3, 1, 3, 2, 1, 3], [0, 0, 0, 0, 0, 0]], np.float32)
    for largest in (0, 1):
        for k in (0, 2, 6):
            r18.append(Case("TopK", [tk, None], {"largest": largest},
                            {1: np.array([k], np.int64)}, outputs=2))
        r18.append(Case("TopK", [rand([4, 5, 3], np.int64, -5, 5), None],
                        {"largest": largest, "axis": 1},
                        {1: np.array([3], np.int64)}, outputs=2))
        r18.append(Case("TopK", [x345, None], {"largest": largest, "axis": 0},
                        {1: np.array([2], np.int64)}, outputs=2))
    # Normalizations.
    for shape in ([2, 3], [2, 3, 5], [2, 3, 2, 2, 2]):
        ch = shape[1]
        params = [rand([ch]), rand([ch]), rand([ch]),
                  rand([ch], low=0.1, high=2.0)]
        r18.append(Case("BatchNormalization", [rand(shape)] + params,
                        {"epsilon": 1e-3}))
        if len(shape) > 2:
            r18.append(Case("InstanceNormalization",
                            [rand(shape), rand([ch]), rand([ch])],
                            {"epsilon": 1e-2}))
    # onnxruntime has no GroupNormalization-18: ONNX's reference checks it.
    r18.append(Case("GroupNormalization",
                    [rand([2, 6, 3, 2]), rand([3]), rand([3])],
                    {"num_groups": 3}, oracle="reference"))
    r18.append(Case("GroupNormalization",
                    [rand([2, 4, 5]), rand([1]), rand([1])],
                    {"num_groups": 1, "epsilon": 1e-2}, oracle="reference"))
    for axis in (0, 1, -1):
        x = rand([2, 3, 4])
        norm_shape = list(x.shape[axis:] if axis >= 0 else x.shape[axis:])
        r18.append(Case("LayerNormalization",
                        [x, rand(norm_shape), rand(norm_shape[-1:])],
                        {"axis": axis}, outputs=3))
        r18.append(Case("LayerNormalization", [x, rand([1])],
                        {"axis": axis, "epsilon": 1e-2}))
    lp = rand([3, 4, 2])
    lp[:, 1, :] = 0
    for p in (1, 2):
        for axis in (0, 1, -1):
            r18.append(Case("LpNormalization", [lp], {"p": p, "axis": axis}))
    r18.append(Case("MeanVarianceNormalization", [rand([2, 3, 4, 2])], {}))
    r18.append(Case("MeanVarianceNormalization", [rand([2, 3, 4])],
                    {"axes": [1, 2]}))
    for size in (1, 2, 3, 4, 5):
        attrs = {"size": size, "alpha": 0.01, "beta": 0.6, "bias": 2.0}
        r18.append(Case("LRN", [rand([2, 7, 3, 2])], attrs,
                        oracle=lrn if size % 2 == 0 else "ort"))
    r18.append(Case("LRN", [rand([1, 5, 4])], {"size": 3}, oracle=lrn))
    c[18] = r18

    # Opset 11: reduction axes as attributes, softmax coerced to 2-D.
    r11 = []
    for op in ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceL2",
               "ReduceLogSumExp"]:
        for axes in ([1], [-1, 0], None):
            attrs = {"keepdims": 0}
            if axes is not None:
                attrs["axes"] = axes
            r11.append(Case(op, [x345], attrs))
    for op in ["Softmax", "LogSoftmax", "Hardmax"]:
        for axis in (0, 1, 2, 3, -1, -3):
            r11.append(Case(op, [rand([2, 3, 4, 5])], {"axis": axis}))
        r11.append(Case(op, [rand([2, 3, 4])], {}))
    r11.append(Case("TopK", [x345, None], {"axis": 1, "largest": 0},
                    {1: np.array([2], np.int64)}, outputs=2))
    r11.append(Case("ArgMax", [x345], {"axis": -2, "keepdims": 0}))
    c[11] = r11

    # Opset 9 and 7 forms of BatchNormalization / TopK / reductions.
    r9 = [Case("BatchNormalization",
               [rand([2, 3, 4]), rand([3]), rand([3]), rand([3]),
                rand([3], low=0.5, high=1.5)], {}),
          Case("TopK", [x345], {"k": 3, "axis": 2}, outputs=2),
          Case("ReduceProd", [x345], {"axes": [0, 1]})]
    c[9] = r9

    # Opset 23: RMSNormalization (onnxruntime runs its function body).
    r23 = []
    for axis in (0, 1, -1):
        x = rand([2, 3, 4])
        r23.append(Case("RMSNormalization", [x, rand(list(x.shape[axis:]))],
                        {"axis": axis}))
    r23.append(Case("RMSNormalization", [rand([2, 3, 4]), rand([4])],
                    {"epsilon": 1e-2}))
    c[23] = r23

    r21 = [Case("GroupNormalization",
                [rand([2, 6, 3, 2]), rand([6]), rand([6])],
                {"num_groups": 3}),
           Case("GroupNormalization",
                [rand([2, 4, 5]), rand([4]), rand([4])],
                {"num_groups": 1, "epsilon": 1e-2}),
           Case("GroupNormalization",
                [rand([1, 4, 2, 2]).astype(np.float64), rand([4], np.float64),
                 rand([4], np.float64)], {"num_groups": 4})]
    c[21] = r21

    # The losses, with and without weights, ignore_index, every reduction.
    r13 = []
    for shape in ([5, 4], [3, 4, 2], [2, 4, 3, 2]):
        labels = RNG.integers(0, 4, size=[shape[0]] + shape[2:])
        labels.flat[0] = 3
        for op in ("NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"):
            for reduction in ("none", "sum", "mean"):
                for weighted in (False, True):
                    for ii in (None, 3, -7):
                        attrs = {"reduction": reduction}
                        if ii is not None:
                            attrs["ignore_index"] = ii
                        inputs = [rand(shape), labels.astype(
                            np.int32 if weighted else np.int64)]
                        if weighted:
                            inputs.append(rand([4], low=0.2, high=2.0))
                        outs = 2 if op == "SoftmaxCrossEntropyLoss" else 1
                        r13.append(Case(op, inputs, attrs, outputs=outs))
    c[13] = r13

    flags = RNG.integers(0, 2, size=[3, 4, 2]).astype(np.bool_)
    c[20] = [Case(op, [flags, None], {"keepdims": keep},
                  {} if axes is None else {1: np.array(axes, np.int64)})
             for op in ("ReduceMax", "ReduceMin")
             for axes, keep in (([1], 1), ([0, 2], 0), (None, 0))]
    return c


def build(opset, cases):
    """Returns (model, feeds, output names) holding every case."""
    nodes, inputs, inits, outputs, feeds = [], [], [], [], {}
    for k, case in enumerate(cases):
        names = []
        for i, x in enumerate(case.inputs):
            if i in case.consts:
                name = f"c{k}_{i}"
                inits.append(numpy_helper.from_array(case.consts[i], name))
                names.append(name)
            elif x is None:
                names.append("")
            else:
                name = f"x{k}_{i}"
                inputs.append(helper.make_tensor_value_info(
                    name, helper.np_dtype_to_tensor_dtype(x.dtype),
                    list(x.shape)))
                feeds[name] = x
                names.append(name)
        for i, v in case.consts.items():
            if i >= len(case.inputs):
                name = f"c{k}_{i}"
                inits.append(numpy_helper.from_array(v, name))
                names.append(name)
        while names and names[-1] == "":
            names.pop()
        outs = [f"y{k}_{j}" for j in range(case.outputs)]
        nodes.append(helper.make_node(case.op, names, outs, name=f"n{k}",
                                      **case.attrs))
        outputs += [helper.make_tensor_value_info(o, 0, None) for o in outs]
    graph = helper.make_graph(nodes, f"opset{opset}", inputs, outputs, inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8 if opset <= 17 else 10
    # Declare the outputs with the types ONNX infers (onnxruntime needs
    # them; Kiln checks them against its own).
    inferred = onnx.shape_inference.infer_shapes(model)
    known = {v.name: v for v in inferred.graph.value_info}
    known.update({v.name: v for v in inferred.graph.output})
    first_type = {}
    for node in model.graph.node:
        for i in inputs:
            if i.name == node.input[0]:
                first_type[node.output[0]] = i.type.tensor_type.elem_type
    for out in model.graph.output:
        if out.name in known and known[out.name].type.tensor_type.elem_type:
            out.CopyFrom(known[out.name])
        elif out.name in first_type:
            out.type.tensor_type.elem_type = first_type[out.name]
    return model, feeds


def lrn(x, size, alpha=1e-4, beta=0.75, bias=1.0):
    """LRN as ONNX specifies it (onnxruntime takes odd sizes and 4-D only)."""
    sq = np.zeros(x.shape, np.float64)
    channels = x.shape[1]
    for c in range(channels):
        lo = max(0, c - (size - 1) // 2)
        hi = min(channels - 1, c + size - 1 - (size - 1) // 2)
        sq[:, c] = (x[:, lo:hi + 1].astype(np.float64) ** 2).sum(axis=1)
    return [(x / (bias + alpha / size * sq) ** beta).astype(x.dtype)]


def ort_runs(opset, case):
    model, feeds = build(opset, [case])
    try:
        if case.oracle == "reference":
            return ReferenceEvaluator(model).run(None, feeds)
        if callable(case.oracle):
            return case.oracle(*case.inputs, **case.attrs)
        sess = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"])
        return sess.run(None, feeds)
    except Exception as e:  # noqa: BLE001
        return str(e).splitlines()[0][:160]


def close(got, want):
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} != {want.dtype}"
    if not np.issubdtype(want.dtype, np.floating):
        bad = np.argwhere(got != want)
        return None if bad.size == 0 else f"at {bad[0]}: {got[tuple(bad[0])]} != {want[tuple(bad[0])]}"
    g, w = got.astype(np.float64), want.astype(np.float64)
    rtol = 2e-3 if want.dtype == np.float16 else 1e-4
    ok = (np.isnan(g) == np.isnan(w)) & (
        np.isnan(w) | (g == w) | (np.abs(g - w) <= 1e-5 + rtol * np.abs(w)))
    bad = np.argwhere(~ok)
    return None if bad.size == 0 else f"at {bad[0]}: {g[tuple(bad[0])]} != {w[tuple(bad[0])]}"


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    ort.set_default_logger_severity(3)
    os.makedirs(work, exist_ok=True)
    failures, total = 0, 0
    for opset, cases in cases_by_opset().items():
        expected = []
        runnable = []
        for case in cases:
            result = ort_runs(opset, case)
            if isinstance(result, str):
                print(f"note: onnxruntime cannot run {case.op} {case.attrs} "
                      f"(opset {opset}): {result}")
                continue
            runnable.append(case)
            expected.append(result)
        model, feeds = build(opset, runnable)
        path = os.path.join(work, f"opset{opset}.onnx")
        onnx.save(model, path)
        np.savez(os.path.join(work, f"in{opset}.npz"), **feeds)
        out = os.path.join(work, f"out{opset}.npz")
        run = subprocess.run([kiln, "run", path, "--inputs",
                              os.path.join(work, f"in{opset}.npz"),
                              "--outputs", out], capture_output=True,
                             text=True)
        if run.returncode != 0:
            print(f"FAIL opset {opset}: kiln run failed:\n{run.stderr}")
            failures += 1
            continue
        got = np.load(out)
        for k, (case, want) in enumerate(zip(runnable, expected)):
            total += 1
            for j, w in enumerate(want):
                problem = close(got[f"y{k}_{j}"], w)
                if problem:
                    failures += 1
                    print(f"FAIL opset {opset} case {k} {case.op} "
                          f"{case.attrs} input "
                          f"{[None if x is None else (x.dtype.name, x.shape) for x in case.inputs]}"
                          f" output {j}: {problem}")
    print(f"{'ok' if failures == 0 else 'FAILED'} {total} cases, "
          f"{failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
