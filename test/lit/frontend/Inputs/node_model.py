#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a one-node ONNX model for importer lit tests.

Usage:
  node_model.py OUT.onnx OP [--opset N] [--in NAME:TYPE:SHAPE]...
      [--init NAME:TYPE:SHAPE:VALUES]... [--attr NAME=PYTHON_VALUE]...
      [--out NAME]...
  node_model.py --models-from TEST_FILE PREFIX
      writes PREFIX.NAME.onnx for every line "MODEL: NAME OP ARGS..." of
      TEST_FILE (ARGS as above, shell-quoted), all in one process.

TYPE is a numpy dtype name (float32, int64, ...); SHAPE is "2x3x4" ("" or
"scalar" for rank 0); VALUES is a Python list literal. An input name of ""
(written "-") leaves an optional input out. Attribute values are Python
literals: 1, 1e-3, [0, 2], 'tanh'.
"""
import argparse
import ast
import shlex
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def parse_shape(text):
    if text in ("", "scalar"):
        return []
    return [int(d) for d in text.split("x")]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("op")
    parser.add_argument("--opset", type=int, default=21)
    parser.add_argument("--in", dest="inputs", action="append", default=[])
    parser.add_argument("--init", action="append", default=[])
    parser.add_argument("--attr", action="append", default=[])
    parser.add_argument("--out", dest="outputs", action="append", default=[])
    args = parser.parse_args(argv)

    graph_inputs, initializers, node_inputs = [], [], []
    for spec in args.inputs:
        if spec == "-":
            node_inputs.append("")
            continue
        name, dtype, shape = spec.split(":")
        elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        graph_inputs.append(
            helper.make_tensor_value_info(name, elem, parse_shape(shape)))
        node_inputs.append(name)
    for spec in args.init:
        name, dtype, shape, values = spec.split(":", 3)
        array = np.array(ast.literal_eval(values), dtype=dtype)
        array = array.reshape(parse_shape(shape))
        initializers.append(numpy_helper.from_array(array, name))
        node_inputs.append(name)
    attrs = {}
    for spec in args.attr:
        name, value = spec.split("=", 1)
        attrs[name] = ast.literal_eval(value)
    outputs = args.outputs or ["y"]
    node = helper.make_node(args.op, node_inputs, outputs,
                            name=args.op.lower(), **attrs)
    graph = helper.make_graph(
        [node], "g", graph_inputs,
        [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None)
         for o in outputs if o],
        initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", args.opset)])
    onnx.save(model, args.out)


def models_from(test_file, prefix):
    with open(test_file) as f:
        for line in f:
            marker = line.find("MODEL:")
            if marker < 0:
                continue
            words = shlex.split(line[marker + len("MODEL:"):])
            main([f"{prefix}.{words[0]}.onnx"] + words[1:])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--models-from":
        models_from(sys.argv[2], sys.argv[3])
    else:
        main()
