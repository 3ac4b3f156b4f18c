#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a one-node ONNX model for importer tests.

Usage:
  onnx_node.py OUT.onnx OP OPSET [--in NAME:TYPE:SHAPE | --in -]...
               [--const NAME:TYPE:SHAPE:V1,V2,...]... [--out NAME[:TYPE]]...
               [--attr NAME=VALUE]...

TYPE is an ONNX element type name in lower case (float, float16, bfloat16,
int8, uint8, int4, int32, int64, bool, float8e4m3fn, ...); SHAPE is
`2x3x4`, or `scalar`. `--in -` leaves an optional input slot empty;
`--const` makes the input an initializer. An output without a type is left
for the importer to infer. VALUE is an int, a float (with a dot), a comma
list of ints, or a string.
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper


def element_type(name):
    return getattr(TensorProto, name.upper())


def shape_of(text):
    return [] if text == "scalar" else [int(d) for d in text.split("x")]


def attribute_value(text):
    for parse in (int, float):
        try:
            if parse is float and "." not in text:
                continue
            return parse(text)
        except ValueError:
            pass
    if "," in text:
        return [int(v) for v in text.split(",")]
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("op")
    parser.add_argument("opset", type=int)
    # Inputs and constants keep their command-line order as node inputs.
    parser.add_argument("--in", dest="slots", action="append", default=[],
                        type=lambda s: ("in", s))
    parser.add_argument("--const", dest="slots", action="append",
                        type=lambda s: ("const", s))
    parser.add_argument("--out", dest="outputs", action="append", default=[])
    parser.add_argument("--attr", action="append", default=[])
    args = parser.parse_args()

    names, graph_inputs, initializers = [], [], []
    for kind, spec in args.slots:
        if spec == "-":
            names.append("")
            continue
        if kind == "in":
            name, type_name, shape = spec.split(":")
            graph_inputs.append(helper.make_tensor_value_info(
                name, element_type(type_name), shape_of(shape)))
        else:
            name, type_name, shape, values = spec.split(":")
            data = [float(v) for v in values.split(",")]
            array = np.array(data, dtype=np.float64).reshape(shape_of(shape))
            np_type = helper.tensor_dtype_to_np_dtype(element_type(type_name))
            initializers.append(onnx.numpy_helper.from_array(
                array.astype(np_type), name))
        names.append(name)
    outputs = []
    for spec in args.outputs:
        name, _, type_name = spec.partition(":")
        outputs.append(helper.make_tensor_value_info(
            name, element_type(type_name) if type_name else 0, None))
    attrs = {}
    for spec in args.attr:
        key, _, value = spec.partition("=")
        attrs[key] = attribute_value(value)
    node = helper.make_node(args.op, names, [o.name for o in outputs],
                            name="node", **attrs)
    graph = helper.make_graph([node], "test", graph_inputs, outputs,
                              initializer=initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", args.opset)])
    model.ir_version = 10
    onnx.save(model, args.out)


if __name__ == "__main__":
    main()
