#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the tiny ONNX models of the importer tests in test/lit/frontend.

Usage: make_op_models.py OUT_DIR NAME...
Each NAME is one model below; it is written to OUT_DIR/NAME.onnx. Inputs
that the converters need as constants are initializers.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, shape_inference

F = TensorProto.FLOAT


def model(name, nodes, inputs, outputs, inits=(), opset=21):
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in inits],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    # The ONNX checker of older opsets wants output shapes: infer them.
    inferred = shape_inference.infer_shapes(m, data_prop=True)
    known = {v.name: v for v in inferred.graph.value_info}
    known.update({v.name: v for v in inferred.graph.output})
    for out in m.graph.output:
        if not out.type.tensor_type.HasField("shape"):
            out.CopyFrom(known[out.name])
    return m


def i64(*values):
    return np.array(values, dtype=np.int64)


def f32(*values):
    return np.array(values, dtype=np.float32)


MODELS = {
    "gather_elements": lambda: model(
        "gather_elements",
        [helper.make_node("GatherElements", ["x", "i"], ["y"], axis=-1)],
        [("x", F, [2, 3]), ("i", TensorProto.INT64, [2, 2])],
        [("y", F, None)],
    ),
    "gather_nd": lambda: model(
        "gather_nd",
        [helper.make_node("GatherND", ["x", "i"], ["y"], batch_dims=1)],
        [("x", F, [2, 3, 4]), ("i", TensorProto.INT64, [2, 5, 1])],
        [("y", F, None)],
    ),
    "scatter_elements": lambda: model(
        "scatter_elements",
        [helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=1,
                          reduction="add")],
        [("x", F, [2, 5]), ("i", TensorProto.INT64, [2, 2]), ("u", F, [2, 2])],
        [("y", F, None)],
    ),
    "scatter_elements_max_v16": lambda: model(
        "scatter_elements_max_v16",
        [helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=1,
                          reduction="max")],
        [("x", F, [2, 5]), ("i", TensorProto.INT64, [2, 2]), ("u", F, [2, 2])],
        [("y", F, None)],
        opset=16,
    ),
    "scatter_v10": lambda: model(
        "scatter_v10",
        [helper.make_node("Scatter", ["x", "i", "u"], ["y"], axis=0)],
        [("x", F, [3, 3]), ("i", TensorProto.INT64, [1, 3]), ("u", F, [1, 3])],
        [("y", F, None)],
        opset=10,
    ),
    "scatter_nd": lambda: model(
        "scatter_nd",
        [helper.make_node("ScatterND", ["x", "i", "u"], ["y"], reduction="min")],
        [("x", F, [4, 4]), ("i", TensorProto.INT64, [2, 1]), ("u", F, [2, 4])],
        [("y", F, None)],
    ),
    "depth_to_space": lambda: model(
        "depth_to_space",
        [helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode="CRD")],
        [("x", F, [1, 8, 2, 3])],
        [("y", F, None)],
    ),
    "space_to_depth": lambda: model(
        "space_to_depth",
        [helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=2)],
        [("x", F, [1, 2, 4, 6])],
        [("y", F, None)],
    ),
    "trilu": lambda: model(
        "trilu",
        [helper.make_node("Trilu", ["x", "k"], ["y"], upper=0)],
        [("x", F, [2, 3, 4])],
        [("y", F, None)],
        [("k", i64(-1))],
    ),
    "one_hot": lambda: model(
        "one_hot",
        [helper.make_node("OneHot", ["i", "d", "v"], ["y"], axis=-2)],
        [("i", TensorProto.INT64, [2, 3])],
        [("y", F, None)],
        [("d", f32(5.7)), ("v", f32(0, 1))],
    ),
    "one_hot_v9": lambda: model(
        "one_hot_v9",
        [helper.make_node("OneHot", ["i", "d", "v"], ["y"])],
        [("i", TensorProto.INT64, [3])],
        [("y", F, None)],
        [("d", i64(4)), ("v", f32(0, 1))],
        opset=9,
    ),
    "reverse_sequence": lambda: model(
        "reverse_sequence",
        [helper.make_node("ReverseSequence", ["x", "l"], ["y"], batch_axis=0,
                          time_axis=1)],
        [("x", F, [3, 4, 2]), ("l", TensorProto.INT64, [3])],
        [("y", F, None)],
    ),
    "compress": lambda: model(
        "compress",
        [helper.make_node("Compress", ["x", "c"], ["y"], axis=-1)],
        [("x", F, [2, 4])],
        [("y", F, None)],
        [("c", np.array([True, False, True], dtype=bool))],
    ),
    "compress_flat": lambda: model(
        "compress_flat",
        [helper.make_node("Compress", ["x", "c"], ["y"])],
        [("x", F, [2, 2])],
        [("y", F, None)],
        [("c", np.array([False, True, True], dtype=bool))],
    ),
    "compress_dynamic": lambda: model(
        "compress_dynamic",
        [helper.make_node("Compress", ["x", "c"], ["y"], axis=0)],
        [("x", F, [3]), ("c", TensorProto.BOOL, [3])],
        [("y", F, None)],
    ),
    "center_crop_pad": lambda: model(
        "center_crop_pad",
        [helper.make_node("CenterCropPad", ["x", "s"], ["y"], axes=[-2, -1])],
        [("x", F, [3, 10, 7])],
        [("y", F, None)],
        [("s", i64(5, 10))],
    ),
    "resize_scales": lambda: model(
        "resize_scales",
        [helper.make_node("Resize", ["x", "", "s"], ["y"], mode="cubic",
                          cubic_coeff_a=-0.5, exclude_outside=1)],
        [("x", F, [1, 1, 4, 4])],
        [("y", F, None)],
        [("s", f32(1, 1, 0.6, 1.5))],
    ),
    "resize_sizes_axes": lambda: model(
        "resize_sizes_axes",
        [helper.make_node("Resize", ["x", "", "", "s"], ["y"], axes=[3, 2],
                          keep_aspect_ratio_policy="not_larger",
                          mode="linear", antialias=1)],
        [("x", F, [1, 1, 4, 6])],
        [("y", F, None)],
        [("s", i64(3, 3))],
    ),
    "resize_crop": lambda: model(
        "resize_crop",
        [helper.make_node("Resize", ["x", "r", "", "s"], ["y"], axes=[2],
                          coordinate_transformation_mode="tf_crop_and_resize",
                          extrapolation_value=10.0)],
        [("x", F, [1, 1, 4, 4])],
        [("y", F, None)],
        [("r", f32(0.25, 1.5)), ("s", i64(3))],
    ),
    "resize_v10": lambda: model(
        "resize_v10",
        [helper.make_node("Resize", ["x", "s"], ["y"], mode="nearest")],
        [("x", F, [1, 1, 4, 4])],
        [("y", F, None)],
        [("s", f32(1, 1, 0.5, 2))],
        opset=10,
    ),
    "upsample_v7": lambda: model(
        "upsample_v7",
        [helper.make_node("Upsample", ["x"], ["y"], mode="linear",
                          scales=[1.0, 1.0, 2.0, 1.5])],
        [("x", F, [1, 1, 2, 2])],
        [("y", F, None)],
        opset=7,
    ),
    "conv_transpose_same": lambda: model(
        "conv_transpose_same",
        [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"],
                          auto_pad="SAME_UPPER", strides=[2, 2], group=2)],
        [("x", F, [1, 4, 3, 3])],
        [("y", F, None)],
        [("w", np.zeros((4, 1, 3, 3), np.float32)),
         ("b", np.zeros(2, np.float32))],
    ),
    "conv_transpose_output_shape": lambda: model(
        "conv_transpose_output_shape",
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[3, 2],
                          output_shape=[10, 8])],
        [("x", F, [1, 1, 3, 3])],
        [("y", F, None)],
        [("w", np.zeros((1, 2, 3, 3), np.float32))],
    ),
    "conv_transpose_total_2": lambda: model(
        "conv_transpose_total_2",
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2],
                          output_shape=[5])],
        [("x", F, [1, 1, 3])],
        [("y", F, None)],
        [("w", np.zeros((1, 1, 3), np.float32))],
    ),
    "conv_transpose_v1_odd": lambda: model(
        "conv_transpose_v1_odd",
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2],
                          output_shape=[6])],
        [("x", F, [1, 1, 3])],
        [("y", F, [1, 1, 6])],
        [("w", np.zeros((1, 1, 3), np.float32))],
        opset=10,
    ),
    "conv_transpose_negative": lambda: model(
        "conv_transpose_negative",
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2],
                          output_shape=[10])],
        [("x", F, [1, 1, 3])],
        [("y", F, None)],
        [("w", np.zeros((1, 1, 3), np.float32))],
    ),
    "einsum_implicit": lambda: model(
        "einsum_implicit",
        [helper.make_node("Einsum", ["a", "b"], ["y"], equation="ij, jk")],
        [("a", F, [2, 3]), ("b", F, [3, 4])],
        [("y", F, None)],
    ),
    "einsum_mixed_case": lambda: model(
        "einsum_mixed_case",
        [helper.make_node("Einsum", ["a", "b"], ["y"], equation="...bA,Ac")],
        [("a", F, [5, 2, 3]), ("b", F, [3, 4])],
        [("y", F, None)],
    ),
    "einsum_ellipsis": lambda: model(
        "einsum_ellipsis",
        [helper.make_node("Einsum", ["a", "b"], ["y"],
                          equation="...ij,...jk->...ik")],
        [("a", F, [5, 2, 3]), ("b", F, [3, 4])],
        [("y", F, None)],
    ),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in sys.argv[2:] or MODELS:
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(MODELS[name]().SerializeToString())


if __name__ == "__main__":
    main()
