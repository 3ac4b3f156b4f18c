#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of kiln-fuzz-importer (deterministic).

  - about 400 small ONNX node-test models (every op type the node tests
    have, smallest model first), so the fuzzer starts from valid graphs of
    every converter;
  - hostile models built with onnx.helper: cycles, missing initializers,
    duplicate names, absurd and negative dimensions, huge ConstantOfShape /
    Expand / Tile / Reshape targets, attributes of the wrong type, bad
    element types, raw_data of the wrong length, external data pointing
    outside the folder, opsets from the future, IR < 4 with inputs that are
    initializers, nested subgraphs;
  - corrupted bytes: truncations and bit flips of some of the above;
  - fuzz-regressions/: every input that once crashed the importer.

Usage: make_fuzz_corpus.py NODE_TESTS_DIR OUT_DIR
"""
import hashlib
import os
import random
import shutil
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

MAX_MODEL_BYTES = 16384


def node_test_models(node_dir):
    """The smallest model of every op type in the node tests."""
    by_op = {}
    for name in sorted(os.listdir(node_dir)):
        path = os.path.join(node_dir, name, "model.onnx")
        if not os.path.isfile(path):
            continue
        size = os.path.getsize(path)
        if size > MAX_MODEL_BYTES:
            continue
        key = name[5:].split("_")[0]
        by_op.setdefault(key, []).append((size, path))
    picked = []
    for key in sorted(by_op):
        picked.extend(p for _, p in sorted(by_op[key])[:3])
    return picked


def model(nodes, inputs, outputs, inits=(), opset=17, ir=8, **kw):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("",
                                                                   opset)],
                          **kw)
    m.ir_version = ir
    return m


def vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def hostile_models():
    f = TensorProto.FLOAT
    x = vi("x", [2, 3])
    y = vi("y", [2, 3])
    big = 1 << 40
    ms = {}
    ms["cycle"] = model([helper.make_node("Relu", ["b"], ["a"]),
                         helper.make_node("Relu", ["a"], ["b"])], [x],
                        [vi("b", [2, 3])])
    ms["missing_init"] = model([helper.make_node("Add", ["x", "w"], ["y"])],
                               [x], [y])
    ms["duplicate"] = model([helper.make_node("Relu", ["x"], ["y"]),
                             helper.make_node("Abs", ["x"], ["y"])], [x], [y])
    ms["absurd_input"] = model([helper.make_node("Relu", ["x"], ["y"])],
                               [vi("x", [big, big])], [vi("y", [big, big])])
    ms["negative_dim"] = model([helper.make_node("Relu", ["x"], ["y"])],
                               [vi("x", [-5, 3])], [vi("y", [-5, 3])])
    ms["zero_dim"] = model([helper.make_node("Relu", ["x"], ["y"])],
                           [vi("x", [0, 3])], [vi("y", [0, 3])])
    shape = numpy_helper.from_array(np.array([big, big], np.int64), "s")
    ms["huge_constantofshape"] = model(
        [helper.make_node("ConstantOfShape", ["s"], ["y"])], [],
        [vi("y", None)], [shape])
    ms["huge_expand"] = model([helper.make_node("Expand", ["x", "s"], ["y"])],
                              [vi("x", [1, 1])], [vi("y", None)], [shape])
    ms["huge_reshape"] = model(
        [helper.make_node("Reshape", ["x", "s"], ["y"])], [x],
        [vi("y", None)], [shape])
    reps = numpy_helper.from_array(np.array([1 << 31, 1 << 31], np.int64),
                                   "r")
    ms["huge_tile"] = model([helper.make_node("Tile", ["x", "r"], ["y"])],
                            [x], [vi("y", None)], [reps])
    rng = numpy_helper.from_array(np.array(0, np.int64), "a")
    lim = numpy_helper.from_array(np.array(1 << 40, np.int64), "b")
    one = numpy_helper.from_array(np.array(1, np.int64), "c")
    ms["huge_range"] = model([helper.make_node("Range", ["a", "b", "c"],
                                               ["y"])], [],
                             [vi("y", None, TensorProto.INT64)],
                             [rng, lim, one])
    bad_attr = helper.make_node("Conv", ["x", "w"], ["y"])
    bad_attr.attribute.append(helper.make_attribute("strides", "abc"))
    w = numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), "w")
    ms["bad_attr_type"] = model([bad_attr], [vi("x", [1, 1, 4, 4])],
                                [vi("y", [1, 1, 4, 4])], [w])
    zero_stride = helper.make_node("Conv", ["x", "w"], ["y"], strides=[0, 0],
                                   dilations=[0, -1], pads=[-3, 9, 9, -3])
    ms["bad_window"] = model([zero_stride], [vi("x", [1, 1, 4, 4])],
                             [vi("y", None)], [w])
    bad_group = helper.make_node("Conv", ["x", "w"], ["y"], group=0)
    ms["bad_group"] = model([bad_group], [vi("x", [1, 1, 4, 4])],
                            [vi("y", None)], [w])
    pool = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[1 << 40,
                                                                  3])
    ms["huge_kernel"] = model([pool], [vi("x", [1, 1, 4, 4])],
                              [vi("y", None)])
    raw = TensorProto(name="w", data_type=f, dims=[1 << 20, 1 << 20],
                      raw_data=b"\0" * 16)
    ms["raw_length"] = model([helper.make_node("Add", ["x", "w"], ["y"])],
                             [x], [y], [raw])
    odd = TensorProto(name="w", data_type=f, dims=[2, 3], raw_data=b"\0" * 7)
    ms["raw_odd"] = model([helper.make_node("Add", ["x", "w"], ["y"])], [x],
                          [y], [odd])
    ext = TensorProto(name="w", data_type=f, dims=[2, 3],
                      data_location=TensorProto.EXTERNAL)
    for key, value in (("location", "/etc/passwd"), ("offset", "0")):
        e = ext.external_data.add()
        e.key, e.value = key, value
    ms["external_abs"] = model([helper.make_node("Add", ["x", "w"], ["y"])],
                               [x], [y], [ext])
    ext2 = TensorProto()
    ext2.CopyFrom(ext)
    ext2.external_data[0].value = "../../../../etc/passwd"
    ms["external_dotdot"] = model([helper.make_node("Add", ["x", "w"],
                                                    ["y"])], [x], [y], [ext2])
    weird = TensorProto(name="w", data_type=999, dims=[2, 3])
    ms["bad_elem_type"] = model([helper.make_node("Add", ["x", "w"], ["y"])],
                                [x], [y], [weird])
    ms["future_opset"] = model([helper.make_node("Relu", ["x"], ["y"])], [x],
                               [y], opset=999)
    ms["ir3_init_inputs"] = model(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        [x, vi("w", [2, 3])], [y],
        [numpy_helper.from_array(np.ones((2, 3), np.float32), "w")],
        opset=9, ir=3)
    then = helper.make_graph([helper.make_node("Relu", ["x"], ["t"])], "then",
                             [], [vi("t", [2, 3])])
    ms["if_subgraph"] = model(
        [helper.make_node("If", ["c"], ["y"], then_branch=then,
                          else_branch=then)],
        [vi("c", [], TensorProto.BOOL), x], [y])
    ms["unknown_op"] = model([helper.make_node("Frobnicate", ["x"], ["y"],
                                               domain="com.example")],
                             [x], [y])
    ms["output_mismatch"] = model([helper.make_node("Relu", ["x"], ["y"])],
                                  [x], [vi("y", [7, 7, 7])])
    ms["split_many"] = model(
        [helper.make_node("Split", ["x"], [f"o{i}" for i in range(40)],
                          axis=1, num_outputs=40)],
        [x], [vi("o0", None)], opset=18)
    ms["gather_oob"] = model(
        [helper.make_node("Gather", ["x", "i"], ["y"], axis=0)], [x],
        [vi("y", None)],
        [numpy_helper.from_array(np.array([5, -9], np.int64), "i")])
    ms["slice_extreme"] = model(
        [helper.make_node("Slice", ["x", "s", "e", "a", "p"], ["y"])], [x],
        [vi("y", None)],
        [numpy_helper.from_array(np.array([-(1 << 62)], np.int64), "s"),
         numpy_helper.from_array(np.array([1 << 62], np.int64), "e"),
         numpy_helper.from_array(np.array([1], np.int64), "a"),
         numpy_helper.from_array(np.array([-(1 << 62)], np.int64), "p")])
    # Old opsets go through libonnx's version converter, which crashed on
    # graphs its checker accepts (found by this fuzzer).
    ms["old_opset_undefined_output"] = model(
        [helper.make_node("Not", ["x"], ["y"])],
        [vi("x", [2], TensorProto.BOOL)], [vi("nope", [2], TensorProto.BOOL)],
        opset=1, ir=3)
    ms["old_opset_cycle"] = model(
        [helper.make_node("Relu", ["b"], ["a"]),
         helper.make_node("Relu", ["a"], ["b"])], [x], [vi("b", [2, 3])],
        opset=6, ir=3)
    ms["old_opset_missing_input"] = model(
        [helper.make_node("Add", ["x"], ["y"])], [x], [y], opset=6, ir=3)
    ms["cast_weird"] = model([helper.make_node("Cast", ["x"], ["y"], to=-4)],
                             [x], [vi("y", None)])
    return ms


def main():
    node_dir, out = sys.argv[1], sys.argv[2]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    written = 0

    def write(data: bytes):
        nonlocal written
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        written += 1

    seeds = []
    for path in node_test_models(node_dir):
        with open(path, "rb") as f:
            seeds.append(f.read())
    hostile = [m.SerializeToString() for _, m in sorted(
        hostile_models().items())]
    for data in seeds + hostile:
        write(data)
    regressions = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "fuzz-regressions")
    for name in sorted(os.listdir(regressions)):
        if name.endswith(".md"):
            continue
        with open(os.path.join(regressions, name), "rb") as f:
            write(f.read())
    rand = random.Random(1)
    for data in hostile + rand.sample(seeds, min(60, len(seeds))):
        if len(data) < 8:
            continue
        write(data[:rand.randrange(1, len(data))])
        flipped = bytearray(data)
        for _ in range(4):
            i = rand.randrange(len(flipped))
            flipped[i] ^= 1 << rand.randrange(8)
        write(bytes(flipped))
    print(f"wrote {written} seed inputs to {out}")


if __name__ == "__main__":
    main()
