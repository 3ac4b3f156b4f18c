#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the (mostly broken) ONNX models of the frontend lit tests.

Usage: make_models.py KIND OUT [ARGS...]
KIND is one of the functions below; OUT is the model path (some kinds also
write files beside it: external data, symlinks). Deterministic.
"""
import os
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

F = TensorProto.FLOAT


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def make(nodes, inputs, outputs, inits=(), opset=17, ir=10, domains=()):
    graph = helper.make_graph(nodes, "lit", inputs, outputs, list(inits))
    opsets = [helper.make_opsetid("", opset)] + [
        helper.make_opsetid(d, v) for d, v in domains]
    model = helper.make_model(graph, opset_imports=opsets,
                              producer_name="kiln-lit")
    model.ir_version = ir
    return model


def relu_model(shape=(2, 3)):
    return make([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                [vi("x", list(shape))], [vi("y", list(shape))])


def save(model, out):
    with open(out, "wb") as f:
        f.write(model.SerializeToString())


# --- malformed files ---------------------------------------------------------


def garbage(out):
    with open(out, "wb") as f:
        f.write(b"\xff\xfe this is not a protobuf \x00\x01\x02" * 4)


def empty(out):
    open(out, "wb").close()


def truncated(out):
    w = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8),
                                "w")
    model = make([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                 [vi("x", [1, 8])], [vi("y", [1, 8])], [w])
    data = model.SerializeToString()
    # Cut inside the initializer's raw_data (a length-delimited field), so
    # the parse cannot end at a field boundary.
    at = data.find(w.raw_data[100:108])
    with open(out, "wb") as f:
        f.write(data[:at])


def no_graph(out):
    model = onnx.ModelProto(ir_version=8)
    save(model, out)


# --- unsupported ops and attributes --------------------------------------------


def unsupported_ops(out):
    x = vi("x", [1, 4, 8])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
        helper.make_node("LSTM", ["a", "w", "r"], ["b"], name="encoder/lstm",
                         hidden_size=2),
        helper.make_node("Unique", ["a"], ["c"], name="head/unique"),
        helper.make_node("FusedMatMul", ["a", "a"], ["d"],
                         name="ms/fused", domain="com.microsoft"),
        helper.make_node("Det", ["a"], ["e"]),
    ]
    inits = [numpy_helper.from_array(np.zeros((1, 8, 8), np.float32), "w"),
             numpy_helper.from_array(np.zeros((1, 8, 2), np.float32), "r")]
    model = make(nodes, [x], [vi("b", None), vi("c", None), vi("d", None),
                              vi("e", None)], inits,
                 domains=[("com.microsoft", 1)])
    save(model, out)


def unsupported_attr(out):
    x = vi("x", [2, 3])
    nodes = [helper.make_node("Gelu", ["x"], ["y"], name="act/gelu",
                              approximate="cubic")]
    save(make(nodes, [x], [vi("y", [2, 3])], opset=20), out)


def unsupported_pad_mode(out):
    pads = numpy_helper.from_array(np.array([0, 1, 0, 1], np.int64), "pads")
    nodes = [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad/wrap",
                              mode="wrap")]
    save(make(nodes, [vi("x", [2, 3])], [vi("y", [2, 5])], [pads], opset=19),
         out)


def unsupported_fmod(out):
    nodes = [helper.make_node("Mod", ["x", "y"], ["z"], name="mod/float",
                              fmod=0)]
    save(make(nodes, [vi("x", [2, 3]), vi("y", [2, 3])], [vi("z", [2, 3])]),
         out)


def bad_attr_type(out):
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv/bad")
    node.attribute.append(helper.make_attribute("strides", "two"))
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
    save(make([node], [vi("x", [1, 1, 5, 5])], [vi("y", [1, 1, 3, 3])], [w]),
         out)


def bad_signatures(out):
    w = numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), "w")
    twice = helper.make_node("Flatten", ["x"], ["f"], name="flatten/twice",
                             axis=1)
    twice.attribute.append(helper.make_attribute("axis", 2))
    nodes = [
        helper.make_node("Conv", ["x"], ["c"], name="conv/one-input"),
        helper.make_node("Relu", ["x"], ["r"], name="relu/extra", alpha=0.1),
        helper.make_node("Concat", ["x", "", "x"], ["k"], name="concat/hole",
                         axis=1),
        helper.make_node("Gemm", ["x2", ""], ["g"], name="gemm/missing"),
        twice,
    ]
    save(make(nodes, [vi("x", [1, 1, 2, 2]), vi("x2", [2, 2])],
              [vi("c", None), vi("r", None), vi("k", None), vi("g", None),
               vi("f", None)], [w]), out)


# --- shapes ----------------------------------------------------------------------


def dynamic(out):
    model = make([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", ["batch", 3, "len"])], [vi("y", ["batch", 3,
                                                           "len"])])
    save(model, out)


def output_shape_wrong(out):
    model = make([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", [2, 3])], [vi("y", [3, 2])])
    save(model, out)


def output_type_wrong(out):
    model = make([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", [2, 3])], [vi("y", [2, 3], TensorProto.INT32)])
    save(model, out)


def absurd_dims(out):
    big = 1 << 40
    model = make([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", [big, 3])], [vi("y", [big, 3])])
    save(model, out)


def huge_shape_op(out):
    shape = numpy_helper.from_array(np.array([1 << 30, 1 << 30, 1 << 30],
                                             np.int64), "shape")
    nodes = [helper.make_node("Expand", ["x", "shape"], ["y"],
                              name="expand/huge")]
    save(make(nodes, [vi("x", [1, 1, 1])], [vi("y", None)], [shape]), out)


# --- graph structure -----------------------------------------------------------


def missing_initializer(out):
    nodes = [helper.make_node("Add", ["x", "bias"], ["y"], name="add/bias")]
    save(make(nodes, [vi("x", [2, 3])], [vi("y", [2, 3])]), out)


def missing_initializer_checked(out):
    """IR 8, opset 17: libonnx's checker sees the model first."""
    nodes = [helper.make_node("Add", ["x", "bias"], ["y"], name="add/bias")]
    save(make(nodes, [vi("x", [2, 3])], [vi("y", [2, 3])], ir=8), out)


def old_opset_undefined_output(out):
    """Opset 1 goes through libonnx's version converter, which crashed on
    this (found by kiln-fuzz-importer)."""
    nodes = [helper.make_node("Not", ["x"], ["y"], name="not")]
    save(make(nodes, [vi("x", [2], TensorProto.BOOL)],
              [vi("nope", [2], TensorProto.BOOL)], opset=1, ir=3), out)


def cycle(out):
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="loop/a"),
             helper.make_node("Relu", ["a"], ["b"], name="loop/b"),
             helper.make_node("Abs", ["a"], ["y"], name="out")]
    save(make(nodes, [vi("x", [2])], [vi("y", [2])]), out)


def duplicate(out):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="first"),
             helper.make_node("Abs", ["x"], ["y"], name="second")]
    save(make(nodes, [vi("x", [2])], [vi("y", [2])]), out)


def future_opset(out):
    save(make([helper.make_node("Relu", ["x"], ["y"], name="relu")],
              [vi("x", [2])], [vi("y", [2])], opset=99, ir=10), out)


def ir3_initializer_inputs(out):
    """IR 3: initializers must also be listed as graph inputs."""
    w = numpy_helper.from_array(np.array([1, 2, 3], np.float32), "w")
    nodes = [helper.make_node("Add", ["x", "w"], ["y"], name="add")]
    save(make(nodes, [vi("x", [3]), vi("w", [3])], [vi("y", [3])], [w],
              opset=8, ir=3), out)


def reshape_shape_input(out):
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"],
                              name="reshape")]
    save(make(nodes, [vi("x", [2, 6]), vi("shape", [2], TensorProto.INT64)],
              [vi("y", None)]), out)


# --- external data ---------------------------------------------------------------


def external(out, location="weights.bin", offset=None, length=None,
             write_data=True):
    """Add(x, w) with w = [1, 2, 3, 4] in external data."""
    data = np.array([1, 2, 3, 4], np.float32)
    folder = os.path.dirname(os.path.abspath(out))
    if write_data and location == "weights.bin":
        with open(os.path.join(folder, "weights.bin"), "wb") as f:
            f.write(b"\0" * 8 + data.tobytes())
    w = TensorProto(name="w", data_type=F, dims=[4],
                    data_location=TensorProto.EXTERNAL)
    entries = [("location", location)]
    entries.append(("offset", str(8 if offset is None else offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for key, value in entries:
        e = w.external_data.add()
        e.key, e.value = key, value
    nodes = [helper.make_node("Add", ["x", "w"], ["y"], name="add")]
    save(make(nodes, [vi("x", [4])], [vi("y", [4])], [w]), out)


def external_ok(out):
    external(out, length=16)


def external_absolute(out):
    external(out, location="/etc/hostname")


def external_dotdot(out):
    external(out, location="../weights.bin")


def external_symlink(out):
    folder = os.path.dirname(os.path.abspath(out))
    outside = os.path.join(os.path.dirname(folder), "outside.bin")
    with open(outside, "wb") as f:
        f.write(b"\0" * 24)
    link = os.path.join(folder, "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(outside, link)
    external(out, location="link.bin")


def external_offset(out):
    external(out, offset=4096)


def external_length(out):
    external(out, length=64)


def external_missing(out):
    external(out, location="nonexistent.bin")


# --- data files ----------------------------------------------------------------


def tiny_cnn(out):
    """Conv -> Relu -> MaxPool -> Flatten -> Gemm, fixed weights."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.uniform(-1, 1, (4, 1, 3, 3)).astype(
        np.float32), "conv.weight")
    b = numpy_helper.from_array(rng.uniform(-1, 1, 4).astype(np.float32),
                                "conv.bias")
    fw = numpy_helper.from_array(rng.uniform(-1, 1, (3, 16)).astype(
        np.float32), "fc.weight")
    fb = numpy_helper.from_array(rng.uniform(-1, 1, 3).astype(np.float32),
                                 "fc.bias")
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"],
                         ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"],
                         name="fc", transB=1),
    ]
    model = make(nodes, [vi("input", [1, 1, 4, 4])],
                 [vi("logits", [1, 3])], [w, b, fw, fb], opset=13, ir=7)
    model.graph.name = "tiny_cnn"
    save(model, out)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    globals()[kind](out, *sys.argv[3:])


if __name__ == "__main__":
    main()
