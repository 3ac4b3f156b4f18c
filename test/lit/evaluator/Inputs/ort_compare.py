#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential test of the reference evaluator against onnxruntime.

Builds one model whose independent subgraphs exercise the data movement
ops, Resize, ConvTranspose and Einsum on random data at sizes the ONNX
node tests do not reach (grouped and dilated transposed convolutions, 3-D
resizes, multi-operand einsums, ...), runs it with `kiln run` and with
onnxruntime, and compares every output.

Usage: ort_compare.py KILN WORKDIR
Prints one line per case ("ok NAME" or "FAIL NAME: ...") and exits 1 on any
failure.
"""
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(7)
CASES = []


def case(name, op, inputs, attrs=None, consts=()):
    """Adds a case: |inputs| are runtime arrays, |consts| initializers."""
    CASES.append((name, op, inputs, attrs or {}, consts))


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def ints(*values):
    return np.array(values, dtype=np.int64)


# Resize: modes and coordinate transforms where onnxruntime and the ONNX
# definition agree (integer output sizes given through 'sizes').
for mode, transform, size in [
    ("nearest", "asymmetric", (1, 3, 13, 9)),
    ("nearest", "half_pixel", (1, 3, 5, 4)),
    ("linear", "half_pixel", (1, 3, 13, 9)),
    ("linear", "pytorch_half_pixel", (1, 3, 5, 1)),
    ("linear", "align_corners", (1, 3, 13, 17)),
    ("linear", "asymmetric", (1, 3, 4, 3)),
    ("cubic", "half_pixel", (1, 3, 15, 7)),
    ("cubic", "align_corners", (1, 3, 4, 20)),
]:
    case(f"resize_{mode}_{transform}", "Resize", [rand(1, 3, 8, 10)],
         {"mode": mode, "coordinate_transformation_mode": transform},
         [np.zeros(0, np.float32), np.zeros(0, np.float32), ints(*size)])
case("resize_linear_3d", "Resize", [rand(2, 5, 6, 7)],
     {"mode": "linear"},
     [np.zeros(0, np.float32), np.array([1, 1, 2, 0.5], np.float32)])
case("resize_cubic_exclude", "Resize", [rand(1, 2, 9, 9)],
     {"mode": "cubic", "exclude_outside": 1, "cubic_coeff_a": -0.5},
     [np.zeros(0, np.float32), np.zeros(0, np.float32), ints(1, 2, 4, 13)])
case("resize_crop", "Resize", [rand(1, 1, 10, 10)],
     {"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize",
      "extrapolation_value": -3.0},
     [np.array([0, 0, 0.1, -0.2, 1, 1, 0.8, 1.3], np.float32),
      np.zeros(0, np.float32), ints(1, 1, 7, 9)])
case("resize_antialias", "Resize", [rand(1, 2, 20, 12)],
     {"mode": "linear", "antialias": 1},
     [np.zeros(0, np.float32), np.zeros(0, np.float32), ints(1, 2, 7, 5)])

# ConvTranspose: strides, dilations, pads, output_padding, groups, bias.
for name, x, w, attrs in [
    ("convt_2d", (2, 6, 7, 5), (6, 4, 3, 3),
     {"strides": [2, 3], "pads": [1, 0, 2, 1], "output_padding": [1, 2]}),
    ("convt_group", (1, 8, 6, 6), (8, 3, 3, 2),
     {"group": 4, "dilations": [2, 1], "strides": [1, 2]}),
    ("convt_1d", (3, 4, 11), (4, 5, 4), {"strides": [3], "pads": [2, 1]}),
    ("convt_3d", (1, 2, 3, 4, 5), (2, 3, 2, 3, 2),
     {"strides": [2, 1, 2], "dilations": [1, 2, 1]}),
    ("convt_same_lower", (1, 3, 5, 5), (3, 2, 4, 4),
     {"strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    ("convt_same_upper_odd", (2, 1, 5), (1, 2, 4), {"auto_pad": "SAME_UPPER"}),
    ("convt_output_shape", (1, 2, 5, 4), (2, 3, 4, 3),
     {"strides": [1, 2], "output_shape": [5, 8]}),
]:
    case(name, "ConvTranspose", [rand(*x)], attrs, [rand(*w), rand(w[1] * attrs.get("group", 1))])

# Einsum.
for equation, shapes in [
    ("bij,bjk->bik", [(3, 4, 5), (3, 5, 6)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 7, 8), (2, 3, 9, 8)]),
    ("ii->i", [(6, 6)]),
    ("ij->", [(4, 5)]),
    ("i,j->ij", [(4,), (7,)]),
    ("...ii->...i", [(2, 3, 4, 4)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 6)]),
    ("ij,ij->i", [(5, 6), (5, 6)]),
    ("bij,jk", [(2, 3, 4), (4, 5)]),
]:
    case("einsum_" + equation.replace(",", "_").replace("->", "_to_")
         .replace(".", "e"), "Einsum", [rand(*s) for s in shapes],
         {"equation": equation})

# Gathers, scatters and rearrangements.
case("gather_elements", "GatherElements",
     [rand(4, 5, 6), RNG.integers(-5, 5, (4, 3, 6))], {"axis": 1})
case("gather_nd_batch", "GatherND",
     [rand(2, 3, 4, 5), RNG.integers(0, 3, (2, 6, 2))], {"batch_dims": 1})
case("scatter_elements_mul", "ScatterElements",
     [rand(3, 6), ints(*[[0, 5, 0], [1, 1, 2], [5, 4, 3]]).reshape(3, 3),
      rand(3, 3)], {"axis": 1, "reduction": "mul"})
case("scatter_nd_add", "ScatterND",
     [rand(5, 4, 3), ints(0, 2, 0, 4).reshape(4, 1), rand(4, 4, 3)],
     {"reduction": "add"})
case("scatter_nd_elements", "ScatterND",
     [rand(5, 4), ints(0, 1, 4, 3, 2, 2).reshape(3, 2), rand(3)])
case("depth_to_space_dcr", "DepthToSpace", [rand(2, 18, 3, 2)],
     {"blocksize": 3})
case("depth_to_space_crd", "DepthToSpace", [rand(2, 8, 3, 2)],
     {"blocksize": 2, "mode": "CRD"})
case("space_to_depth", "SpaceToDepth", [rand(2, 3, 6, 4)], {"blocksize": 2})
case("trilu_upper", "Trilu", [rand(2, 5, 7)], {"upper": 1}, [ints(2)])
case("trilu_lower", "Trilu", [rand(7, 4)], {"upper": 0}, [ints(-1)])
case("one_hot", "OneHot", [RNG.integers(-6, 7, (3, 4))], {"axis": 1},
     [ints(5), np.array([-1.5, 2.0], np.float32)])
case("reverse_sequence", "ReverseSequence",
     [rand(5, 3, 2), ints(5, 0, 3)], {"batch_axis": 1, "time_axis": 0})


def build():
    nodes, inputs, outputs, inits, feeds = [], [], [], [], {}
    for c, (name, op, arrays, attrs, consts) in enumerate(CASES):
        names = []
        for i, a in enumerate(arrays):
            n = f"c{c}_in{i}"
            feeds[n] = a
            inputs.append(helper.make_tensor_value_info(
                n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape))
            names.append(n)
        for i, a in enumerate(consts):
            n = f"c{c}_const{i}"
            inits.append(numpy_helper.from_array(a, n))
            names.append(n)
        if op == "Resize":
            # X, roi, scales, sizes: the first constant is roi.
            names = [names[0]] + names[1:]
            if len(consts) == 2:
                names = names[:3]
        out = f"c{c}_out"
        nodes.append(helper.make_node(op, names, [out], name=name, **attrs))
        outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT,
                                                     None))
    graph = helper.make_graph(nodes, "ort_compare", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    return model, feeds


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    model, feeds = build()
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    expected = session.run(None, feeds)
    # Declare the output shapes (ONNX's checker wants them).
    for output, value in zip(model.graph.output, expected):
        output.CopyFrom(helper.make_tensor_value_info(
            output.name, TensorProto.FLOAT, value.shape))
    path = os.path.join(work, "model.onnx")
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    np.savez(os.path.join(work, "inputs.npz"), **feeds)
    subprocess.run([kiln, "run", path, "--inputs",
                    os.path.join(work, "inputs.npz"), "--outputs",
                    os.path.join(work, "outputs.npz")], check=True,
                   stdout=subprocess.DEVNULL)
    got = np.load(os.path.join(work, "outputs.npz"))
    failed = 0
    for c, (name, *_rest) in enumerate(CASES):
        want, have = expected[c], got[f"c{c}_out"]
        if want.shape != have.shape:
            print(f"FAIL {name}: shape {have.shape}, expected {want.shape}")
            failed += 1
        elif not np.allclose(have, want, rtol=1e-4, atol=1e-5):
            err = np.max(np.abs(have.astype(np.float64) - want))
            print(f"FAIL {name}: max abs error {err:.3g}")
            failed += 1
        else:
            print(f"ok {name}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
