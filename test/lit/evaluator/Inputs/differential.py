#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential checks of Kiln's quantization and attention kernels.

The ONNX backend node tests cover each op with one or two small cases; this
script adds the layouts and types they miss (per-channel and blocked scales,
rounding ties, saturation, int32 / float16 / bfloat16 paths, batched and
broadcast integer products, grouped and strided integer convolutions,
attention with GQA, caches, broadcast masks, softcap, score outputs and
reduced-precision softmax, partial rotary embeddings). Each case builds a
one-node model with onnx.helper, runs it with `kiln run` and compares with
an oracle: onnxruntime where it implements the case, else ONNX's reference
evaluator (the spec's executable definition), else a numpy formula stated
next to the case.

Usage: differential.py KILN_BINARY WORK_DIR [CASE_SUBSTRING]
Prints "ok NAME" per case and "FAIL NAME: reason" on a mismatch; exits 1 if
any case fails.
"""
import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

RNG = np.random.default_rng(20240607)
F8 = ml_dtypes.float8_e4m3fn
BF16 = ml_dtypes.bfloat16

# Output element types `kiln run` cannot write to .npz are cast to these
# (exactly) inside the model.
WIDEN = {
    TensorProto.INT4: TensorProto.INT8,
    TensorProto.UINT4: TensorProto.UINT8,
    TensorProto.BFLOAT16: TensorProto.FLOAT,
    TensorProto.FLOAT8E4M3FN: TensorProto.FLOAT,
    TensorProto.FLOAT8E5M2: TensorProto.FLOAT,
    TensorProto.FLOAT4E2M1: TensorProto.FLOAT,
}


def elem_type(array):
    return helper.np_dtype_to_tensor_dtype(array.dtype)


def make_model(op, inputs, outputs, opset, **attrs):
    """One-node model; |inputs| maps names to arrays ("" skips a slot),
    |outputs| lists (name, ONNX element type)."""
    names = list(inputs)
    node = helper.make_node(op, [n if not n.startswith("_") else "" for n in names],
                            [o for o, _ in outputs], **attrs)
    graph_inputs = [
        helper.make_tensor_value_info(n, elem_type(a), a.shape)
        for n, a in inputs.items() if not n.startswith("_")
    ]
    nodes = [node]
    graph_outputs = []
    for name, t in outputs:
        if not name:
            continue  # an optional output that is not requested
        if t in WIDEN:
            nodes.append(helper.make_node("Cast", [name], [name + "_wide"],
                                          to=WIDEN[t]))
            graph_outputs.append(helper.make_tensor_value_info(
                name + "_wide", WIDEN[t], None))
        else:
            graph_outputs.append(helper.make_tensor_value_info(name, t, None))
    graph = helper.make_graph(nodes, op.lower(), graph_inputs, graph_outputs)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    return model


def run_kiln(kiln, work, name, model, inputs):
    folder = os.path.join(work, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    onnx.save(model, path)
    real = [(n, a) for n, a in inputs.items() if not n.startswith("_")]
    for i, (n, a) in enumerate(real):
        with open(os.path.join(data, f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())
    out = os.path.join(folder, "out.npz")
    proc = subprocess.run([kiln, "run", path, "--inputs", data, "--outputs", out],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("kiln run failed: " + proc.stderr.strip())
    got = np.load(out)
    return [got[o.name] for o in model.graph.output]


def oracle_outputs(model, inputs, oracle):
    feeds = {n: a for n, a in inputs.items() if not n.startswith("_")}
    if oracle == "ort":
        import onnxruntime as ort
        session = ort.InferenceSession(model.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        return session.run(None, feeds)
    return ReferenceEvaluator(model).run(None, feeds)


def compare(got, want, exact, rtol, atol):
    want = np.asarray(want)
    if want.dtype.kind in "iub" or exact:
        if got.shape != want.shape or not np.array_equal(
                got.astype(np.float64), want.astype(np.float64), equal_nan=True):
            bad = np.argwhere(got.astype(np.float64) != want.astype(np.float64))
            where = tuple(bad[0]) if len(bad) else "shape"
            return f"mismatch at {where}: got {got[where] if len(bad) else got.shape}, " \
                   f"want {want[where] if len(bad) else want.shape}"
        return None
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    if got64.shape != want64.shape:
        return f"shape {got64.shape}, want {want64.shape}"
    ok = np.isclose(got64, want64, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        i = tuple(np.argwhere(~ok)[0])
        return f"element {i}: got {got64[i]!r}, want {want64[i]!r}"
    return None


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def ties(shape, scale):
    """Values that land exactly on .5 after division by |scale|, plus noise
    and out-of-range values, to exercise rounding and saturation."""
    k = RNG.integers(-600, 600, size=shape)
    x = (k + 0.5) * scale
    noise = RNG.random(shape) < 0.3
    return np.where(noise, RNG.normal(0, 200, size=shape) * scale, x).astype(np.float32)


@case
def quantize_per_axis_ties():
    scale = np.array([0.5, 0.25, 2.0, 0.125], np.float32)
    x = ties((3, 4, 5), 0.25)
    zp = np.array([-3, 0, 7, 127], np.int8)
    inputs = {"x": x, "s": scale, "z": zp}
    return make_model("QuantizeLinear", inputs, [("y", TensorProto.INT8)], 21,
                      axis=-2), inputs, "ort", True


@case
def quantize_blocked_ragged_int4():
    # Axis 1 of length 7 in blocks of 3 (the last block is short).
    x = ties((2, 7, 3), 0.5)
    scale = (RNG.random((2, 3, 3)) + 0.25).astype(np.float32)
    zp = RNG.integers(-3, 3, size=(2, 3, 3)).astype(ml_dtypes.int4)
    inputs = {"x": x, "s": scale, "z": zp}
    return make_model("QuantizeLinear", inputs, [("y", TensorProto.INT4)], 21,
                      axis=1, block_size=3), inputs, "ref", True


@case
def quantize_uint16_int32_input():
    x = RNG.integers(-100000, 100000, size=(6, 5)).astype(np.int32)
    scale = np.array(1.5, np.float32)
    zp = np.array(30000, np.uint16)
    inputs = {"x": x, "s": scale, "z": zp}
    return make_model("QuantizeLinear", inputs, [("y", TensorProto.UINT16)], 21), \
        inputs, "ref", True


@case
def quantize_float16_precision():
    # float16 data and scale divide in float16 (y = rint(f16(x / s))).
    x = (RNG.normal(0, 30, size=(4, 33))).astype(np.float16)
    scale = np.array([0.3], np.float16)
    zp = np.array([-2], np.int8)
    inputs = {"x": x, "s": scale, "z": zp}
    return make_model("QuantizeLinear", inputs, [("y", TensorProto.INT8)], 21), \
        inputs, "ref", True


@case
def quantize_precision_attribute():
    # precision=float16: x and the scale are rounded to float16, divided in
    # float16.
    x = RNG.normal(0, 30, size=(64,)).astype(np.float32)
    scale = np.array(0.37, np.float32)
    zp = np.array(3, np.uint8)
    inputs = {"x": x, "s": scale, "z": zp}
    return make_model("QuantizeLinear", inputs, [("y", TensorProto.UINT8)], 23,
                      precision=TensorProto.FLOAT16), inputs, "ref", True


@case
def quantize_float8_no_saturate():
    x = np.array([0, 1e-3, -2.7, 300, 448, 465, 1e6, -1e6, np.inf, -np.inf,
                  np.nan, -0.0], np.float32)
    scale = np.array(1.0, np.float32)
    zp = np.zeros((), F8)
    inputs = {"x": x, "s": scale, "z": zp}
    return make_model("QuantizeLinear", inputs,
                      [("y", TensorProto.FLOAT8E4M3FN)], 21, saturate=0), \
        inputs, "ref", True


@case
def dequantize_int32_blocked_float16_output():
    x = RNG.integers(-(1 << 20), 1 << 20, size=(4, 10)).astype(np.int32)
    scale = (RNG.random((4, 3)) * 1e-3).astype(np.float32)
    zp = RNG.integers(-100, 100, size=(4, 3)).astype(np.int32)
    inputs = {"x": x, "s": scale, "z": zp}
    return make_model("DequantizeLinear", inputs, [("y", TensorProto.FLOAT16)],
                      23, axis=1, block_size=4,
                      output_dtype=TensorProto.FLOAT16), inputs, "ref", True


@case
def dequantize_uint4_per_axis():
    x = RNG.integers(0, 16, size=(3, 4, 2)).astype(ml_dtypes.uint4)
    scale = np.array([0.5, 1.25, 3.0], np.float32)
    zp = np.array([0, 8, 15], ml_dtypes.uint4)
    inputs = {"x": x, "s": scale, "z": zp}
    return make_model("DequantizeLinear", inputs, [("y", TensorProto.FLOAT)],
                      21, axis=0), inputs, "ref", True


@case
def dynamic_quantize_random():
    x = RNG.normal(0.7, 3, size=(5, 17)).astype(np.float32)
    inputs = {"x": x}
    return make_model("DynamicQuantizeLinear", inputs,
                      [("y", TensorProto.UINT8), ("s", TensorProto.FLOAT),
                       ("z", TensorProto.UINT8)], 11), inputs, "ort", True


@case
def matmul_integer_batched_per_column():
    a = RNG.integers(-128, 128, size=(2, 1, 5, 33)).astype(np.int8)
    b = RNG.integers(0, 256, size=(3, 33, 7)).astype(np.uint8)
    azp = np.array(-3, np.int8)
    bzp = RNG.integers(0, 256, size=(7,)).astype(np.uint8)
    inputs = {"a": a, "b": b, "az": azp, "bz": bzp}
    # onnxruntime rejects a 1-D b_zero_point with a 3-D B; numpy states the
    # spec (per column of every batch).
    want = (a.astype(np.int32) - azp) @ (b.astype(np.int32) - bzp.astype(np.int32))
    return make_model("MatMulInteger", inputs, [("y", TensorProto.INT32)], 10), \
        inputs, [want], True


@case
def matmul_integer_vector_operands():
    a = RNG.integers(0, 256, size=(9,)).astype(np.uint8)
    b = RNG.integers(0, 256, size=(4, 9, 6)).astype(np.uint8)
    inputs = {"a": a, "b": b}
    return make_model("MatMulInteger", inputs, [("y", TensorProto.INT32)], 10), \
        inputs, "ort", True


@case
def matmul_integer_per_row():
    # ONNX's spec: a 1-D a_zero_point of M entries is per row of A. ONNX's
    # reference broadcasts it along K instead, so numpy states the expected
    # result here.
    a = RNG.integers(0, 256, size=(6, 11)).astype(np.uint8)
    b = RNG.integers(-128, 128, size=(11, 4)).astype(np.int8)
    azp = RNG.integers(0, 256, size=(6,)).astype(np.uint8)
    inputs = {"a": a, "b": b, "az": azp}
    want = (a.astype(np.int32) - azp.astype(np.int32)[:, None]) @ b.astype(np.int32)
    return make_model("MatMulInteger", inputs, [("y", TensorProto.INT32)], 10), \
        inputs, [want], True


@case
def conv_integer_grouped_strided():
    x = RNG.integers(0, 256, size=(2, 4, 9, 8)).astype(np.uint8)
    w = RNG.integers(0, 256, size=(6, 2, 3, 2)).astype(np.uint8)
    xzp = np.array(131, np.uint8)
    wzp = np.array(17, np.uint8)
    inputs = {"x": x, "w": w, "xz": xzp, "wz": wzp}
    return make_model("ConvInteger", inputs, [("y", TensorProto.INT32)], 10,
                      group=2, strides=[2, 1], pads=[1, 0, 2, 1],
                      dilations=[1, 2]), inputs, "ort", True


@case
def conv_integer_per_channel_1d():
    x = RNG.integers(-128, 128, size=(1, 3, 20)).astype(np.int8)
    w = RNG.integers(-128, 128, size=(5, 3, 4)).astype(np.int8)
    wzp = RNG.integers(-5, 5, size=(5,)).astype(np.int8)
    inputs = {"x": x, "w": w, "_xz": None, "wz": wzp}
    # SAME_UPPER with a kernel of 4: one column of padding before, two after.
    # (ONNX's reference assumes 2-D kernels for per-channel zero points.)
    xp = np.pad(x.astype(np.int32), ((0, 0), (0, 0), (1, 2)))
    wd = w.astype(np.int32) - wzp.astype(np.int32)[:, None, None]
    want = np.zeros((1, 5, 20), np.int32)
    for o in range(20):
        want[0, :, o] = np.einsum("ck,mck->m", xp[0, :, o:o + 4], wd)
    return make_model("ConvInteger", inputs, [("y", TensorProto.INT32)], 10,
                      auto_pad="SAME_UPPER"), inputs, [want], True


@case
def qlinear_conv_per_channel_bias():
    x = RNG.integers(0, 256, size=(1, 4, 7, 7)).astype(np.uint8)
    w = RNG.integers(-128, 128, size=(6, 4, 3, 3)).astype(np.int8)
    inputs = {
        "x": x, "xs": np.array(0.02, np.float32), "xz": np.array(120, np.uint8),
        "w": w, "ws": (RNG.random(6) * 0.01 + 0.001).astype(np.float32),
        "wz": np.zeros(6, np.int8),
        "ys": np.array(0.15, np.float32), "yz": np.array(100, np.uint8),
        "b": RNG.integers(-5000, 5000, size=(6,)).astype(np.int32),
    }
    return make_model("QLinearConv", inputs, [("y", TensorProto.UINT8)], 10,
                      pads=[1, 1, 1, 1], strides=[2, 2]), inputs, "ort", True


@case
def qlinear_conv_grouped_3d():
    x = RNG.integers(-128, 128, size=(1, 4, 3, 5, 4)).astype(np.int8)
    w = RNG.integers(-128, 128, size=(4, 2, 2, 2, 2)).astype(np.int8)
    inputs = {
        "x": x, "xs": np.array(0.05, np.float32), "xz": np.array(3, np.int8),
        "w": w, "ws": np.array(0.004, np.float32), "wz": np.array(0, np.int8),
        "ys": np.array(0.3, np.float32), "yz": np.array(-7, np.int8),
    }
    return make_model("QLinearConv", inputs, [("y", TensorProto.INT8)], 10,
                      group=2), inputs, "ort", True


@case
def qlinear_matmul_per_column():
    a = RNG.integers(0, 256, size=(2, 5, 16)).astype(np.uint8)
    b = RNG.integers(-128, 128, size=(16, 6)).astype(np.int8)
    inputs = {
        "a": a, "as": np.array(0.03, np.float32), "az": np.array(128, np.uint8),
        "b": b, "bs": (RNG.random(6) * 0.02 + 0.001).astype(np.float32),
        "bz": np.zeros(6, np.int8),
        "ys": np.array(0.07, np.float32), "yz": np.array(10, np.uint8),
    }
    return make_model("QLinearMatMul", inputs, [("y", TensorProto.UINT8)], 21), \
        inputs, "ort", False


def attention_inputs(dtype, b, hq, hkv, sq, skv, d, dv, past=0):
    inputs = {
        "Q": RNG.normal(0, 1, size=(b, hq, sq, d)).astype(dtype),
        "K": RNG.normal(0, 1, size=(b, hkv, skv, d)).astype(dtype),
        "V": RNG.normal(0, 1, size=(b, hkv, skv, dv)).astype(dtype),
    }
    return inputs


@case
def attention_gqa_past_float_mask_all_outputs():
    inputs = attention_inputs(np.float32, 2, 8, 2, 37, 70, 16, 24)
    inputs["mask"] = RNG.normal(0, 1, size=(37, 75)).astype(np.float32)
    inputs["pk"] = RNG.normal(0, 1, size=(2, 2, 5, 16)).astype(np.float32)
    inputs["pv"] = RNG.normal(0, 1, size=(2, 2, 5, 24)).astype(np.float32)
    outs = [("Y", TensorProto.FLOAT), ("PK", TensorProto.FLOAT),
            ("PV", TensorProto.FLOAT), ("QK", TensorProto.FLOAT)]
    return make_model("Attention", inputs, outs, 23, is_causal=1,
                      qk_matmul_output_mode=2, softcap=3.0), inputs, "ref", False


@case
def attention_3d_bool_mask_short():
    # A 3-D boolean mask (heads x q x kv) shorter than the keys: the missing
    # columns are masked; scale given explicitly.
    inputs = {
        "Q": RNG.normal(0, 1, size=(2, 9, 4 * 8)).astype(np.float32),
        "K": RNG.normal(0, 1, size=(2, 13, 2 * 8)).astype(np.float32),
        "V": RNG.normal(0, 1, size=(2, 13, 2 * 5)).astype(np.float32),
        "mask": RNG.random((4, 9, 11)) < 0.7,
    }
    return make_model("Attention", inputs, [("Y", TensorProto.FLOAT)], 23,
                      q_num_heads=4, kv_num_heads=2, scale=0.3), \
        inputs, "ref", False


@case
def attention_float16_softmax_float32_mode3():
    inputs = attention_inputs(np.float16, 1, 4, 4, 20, 90, 32, 32)
    outs = [("Y", TensorProto.FLOAT16), ("", 0), ("", 0),
            ("QK", TensorProto.FLOAT16)]
    return make_model("Attention", inputs, outs, 23,
                      softmax_precision=TensorProto.FLOAT,
                      qk_matmul_output_mode=3), inputs, "ref", False


@case
def attention_bfloat16_causal_long():
    # Long rows make bfloat16's per-addition rounding of the softmax sums
    # visible; the comparison is exact.
    inputs = attention_inputs(BF16, 1, 2, 1, 6, 150, 8, 8)
    return make_model("Attention", inputs, [("Y", TensorProto.BFLOAT16)], 23,
                      is_causal=1), inputs, "ref", True


@case
def attention_nonpad_window():
    inputs = attention_inputs(np.float32, 2, 2, 2, 4, 12, 8, 8)
    inputs["_mask"] = inputs["_pk"] = inputs["_pv"] = None
    inputs["nonpad"] = np.array([9, 12], np.int64)
    return make_model("Attention", inputs, [("Y", TensorProto.FLOAT)], 25,
                      is_causal=1, left_window_size=3), inputs, "ref", False


@case
def rotary_3d_partial_positions():
    x = RNG.normal(0, 1, size=(2, 5, 3 * 10)).astype(np.float32)
    cos = RNG.normal(0, 1, size=(16, 3)).astype(np.float32)
    sin = RNG.normal(0, 1, size=(16, 3)).astype(np.float32)
    pos = RNG.integers(0, 16, size=(2, 5)).astype(np.int64)
    inputs = {"x": x, "cos": cos, "sin": sin, "pos": pos}
    return make_model("RotaryEmbedding", inputs, [("y", TensorProto.FLOAT)],
                      23, num_heads=3, rotary_embedding_dim=6,
                      interleaved=1), inputs, "ref", True


@case
def rotary_float16_no_positions():
    x = RNG.normal(0, 1, size=(1, 2, 7, 8)).astype(np.float16)
    cos = RNG.normal(0, 1, size=(1, 7, 4)).astype(np.float16)
    sin = RNG.normal(0, 1, size=(1, 7, 4)).astype(np.float16)
    inputs = {"x": x, "cos": cos, "sin": sin}
    return make_model("RotaryEmbedding", inputs, [("y", TensorProto.FLOAT16)],
                      23), inputs, "ref", True


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    only = sys.argv[3] if len(sys.argv) > 3 else ""
    failures = 0
    for fn in CASES:
        name = fn.__name__
        if only not in name:
            continue
        model, inputs, oracle, exact = fn()
        try:
            got = run_kiln(kiln, work, name, model, inputs)
            want = oracle if isinstance(oracle, list) else \
                oracle_outputs(model, inputs, oracle)
            # Inexact cases differ from numpy by the order of float32 sums
            # (BLAS): about one float32 unit of the summands, so an absolute
            # 1e-6 next to a relative 1e-5; float16 results may move by one
            # unit in the last place (relative 1e-3).
            rtol, atol = 1e-5, 1e-6
            if any(o.type.tensor_type.elem_type == TensorProto.FLOAT16
                   for o in model.graph.output):
                rtol = 1e-3
            problems = [compare(g, w, exact, rtol, atol)
                        for g, w in zip(got, want)]
            problems = [p for p in problems if p]
            if len(got) != len(want):
                problems.append(f"{len(got)} outputs, want {len(want)}")
        except Exception as error:  # noqa: BLE001 - report and continue
            problems = [str(error)]
        if problems:
            failures += 1
            print(f"FAIL {name}: {problems[0]}")
        else:
            print(f"ok {name}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
