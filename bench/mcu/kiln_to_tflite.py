#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes Kiln's int8 program as a .tflite flatbuffer, so that TF Lite Micro
runs the same int8 model (same weights, scales, zero points, biases and
fused activation ranges) as the C code Kiln emits.

  kiln_to_tflite.py --kiln-opt BIN --model M.onnx --calibration C.npz -o M.tflite

How: kiln-opt runs the same passes as `kiln compile --quantize int8`
(kiln-pipeline, then kiln-calibrate and kiln-int8-lowering) and prints the
lowered module as MLIR text; this script reads that text (ops, attributes,
quantized types and the weight blobs in the module's dialect resources) and
builds the TFLite model with the flatbuffers schema that ships in the
`tflite-micro` package (tflite_micro ... schema_py_generated). It is a bench
tool: the compiler itself has no TFLite dependency.

Mapping (TFLite's int8 spec is Kiln's): kiln.quantize of the input and
kiln.dequantize of the output are dropped (the .tflite takes and returns
int8); qconv2d -> CONV_2D or DEPTHWISE_CONV_2D (filter [1,KH,KW,C*M]),
with PAD (zero point) + VALID when the explicit pads are neither VALID nor
TFLite's SAME; qadd -> ADD; qfully_connected -> FULLY_CONNECTED;
qmax_pool2d / qavg_pool2d -> MAX_POOL_2D / AVERAGE_POOL_2D;
qglobal_avg_pool2d -> MEAN over H, W (keep dims); reshape -> RESHAPE;
transpose -> TRANSPOSE; qsoftmax -> SOFTMAX (beta recovered from Kiln's exp
table); requantize -> QUANTIZE. Fused activations: Kiln's act_min/act_max
must equal what TFLite derives from NONE, RELU or RELU6 and the output
quantization, else the script fails (the model could not be expressed
exactly). Requantization multipliers are not stored: TFLite recomputes them
from the float32 scales, as Kiln's quantizer did.
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

TENSOR_RE = re.compile(r"tensor<([^<>]*(?:<[^<>]*(?:<[^<>]*>[^<>]*)*>)?[^<>]*)>")


class Value:
    """One SSA value of the lowered function."""

    def __init__(self, shape, dtype, scale=None, zp=None, axis=None):
        self.shape = shape
        self.dtype = dtype  # 'i8', 'i32', 'f32'
        self.scale = scale  # float or list of floats (per axis)
        self.zp = zp
        self.axis = axis
        self.data = None  # numpy array for constants
        self.tensor = None  # TFLite tensor index


def parse_type(text):
    """Parses 'tensor<1x3x4x!quant.uniform<...>>' (text inside tensor<>)."""
    m = re.match(r"((?:\d+x)*)(.*)$", text)
    dims = [int(d) for d in m.group(1).split("x") if d]
    elem = m.group(2)
    if elem.startswith("!quant.uniform<"):
        body = elem[len("!quant.uniform<"):-1]
        per_axis = re.match(r"i8(?:<[^>]*>)?:f32:(\d+), \{([^}]*)\}", body)
        if per_axis:
            scales = [float(s.split(":")[0]) for s in per_axis.group(2).split(",")]
            zps = [int(s.split(":")[1]) if ":" in s else 0
                   for s in per_axis.group(2).split(",")]
            return Value(dims, "i8", scales, zps, int(per_axis.group(1)))
        per_tensor = re.match(r"i8(?:<[^>]*>)?:f32, ([^:]+)(?::(-?\d+))?$", body)
        if not per_tensor:
            raise ValueError(f"unsupported quantized type {elem}")
        return Value(dims, "i8", float(per_tensor.group(1)),
                     int(per_tensor.group(2) or 0))
    return Value(dims, elem)


def split_types(text):
    """Returns the tensor<...> bodies in a type list, in order."""
    out, depth, start = [], 0, None
    i = 0
    while i < len(text):
        if text.startswith("tensor<", i) and depth == 0:
            start = i + len("tensor<")
            depth = 1
            i = start
            continue
        if depth:
            if text[i] == "<":
                depth += 1
            elif text[i] == ">":
                depth -= 1
                if depth == 0:
                    out.append(text[start:i])
        i += 1
    return out


def parse_attrs(text):
    attrs = {}
    for m in re.finditer(r"([\w.]+) = (array<\w+(?::[^>]*)?>|\"[^\"]*\"|"
                         r"-?[\w.+]+(?: : \w+)?)", text):
        key, raw = m.group(1), m.group(2)
        if raw.startswith("array<"):
            body = raw[len("array<"):-1]
            vals = body.split(":", 1)[1] if ":" in body else ""
            attrs[key] = [int(v) for v in vals.split(",") if v.strip()]
        elif raw.startswith('"'):
            attrs[key] = raw[1:-1]
        else:
            v = raw.split(" : ")[0]
            attrs[key] = int(v) if re.fullmatch(r"-?\d+", v) else v
    return attrs


def lower(args, workdir):
    """Runs Kiln's int8 pipeline and returns the lowered module text."""
    kiln = os.path.join(os.path.dirname(args.kiln_opt), "kiln")
    imported = os.path.join(workdir, "imported.mlir")
    cleaned = os.path.join(workdir, "cleaned.mlir")
    lowered = os.path.join(workdir, "lowered.mlir")
    subprocess.run([kiln, "import", args.model, "-o", imported], check=True)
    subprocess.run([args.kiln_opt, imported, "--kiln-pipeline", "-o", cleaned],
                   check=True)
    subprocess.run([args.kiln_opt, cleaned, "--pass-pipeline",
                    "builtin.module(func.func(kiln-calibrate{data=%s}),"
                    "kiln-int8-lowering)" % os.path.abspath(args.calibration),
                    "-o", lowered], check=True)
    with open(lowered) as f:
        return f.read()


def parse_module(text):
    """Returns (ops, values, resources, inputs, outputs) of @main."""
    resources = {}
    for m in re.finditer(r"(\w+): \"0x([0-9A-Fa-f]*)\"", text):
        raw = bytes.fromhex(m.group(2))
        resources[m.group(1)] = raw[4:]  # 4-byte alignment header
    values, ops = {}, []
    func = re.search(r"func\.func @main\((.*?)\) -> \((.*?)\) (?:attributes|\{)",
                     text)
    for m in re.finditer(r"(%arg\d+): tensor<", func.group(1)):
        pass
    body = text[text.index("func.func @main"):]
    body = body[:body.index("\n  }\n")]
    for line in body.splitlines()[1:]:
        line = line.strip()
        if line.startswith("return"):
            outputs = re.findall(r"%[\w]+", line.split(":")[0])
            continue
        m = re.match(r"(%\w+) = (kiln\.\w+) (.*)$", line)
        if not m:
            continue
        result, name, rest = m.groups()
        if name == "kiln.constant":
            cm = re.match(r"(dense_resource<(\w+)>|dense<(.*?)>) : tensor<[^>]*> : (.*)$",
                          rest)
            types = split_types(cm.group(4))
            v = parse_type(types[0])
            dt = np.int32 if v.dtype == "i32" else np.int8
            if cm.group(2):
                v.data = np.frombuffer(resources[cm.group(2)], dt).reshape(v.shape)
            else:
                lit = cm.group(3)
                if lit.startswith('"0x'):
                    raw = bytes.fromhex(lit[3:-1])
                    v.data = np.frombuffer(raw, dt).reshape(v.shape)
                    values[result] = v
                    continue
                nums = [int(x) for x in re.findall(r"-?\d+", lit)]
                if lit.strip().startswith("["):
                    v.data = np.array(nums, dt).reshape(v.shape)
                else:
                    v.data = np.full(v.shape, nums[0], dt)
            values[result] = v
            continue
        head, _, types = rest.rpartition(" : ")
        attr_text = head[head.index("{"):] if "{" in head else ""
        operands = re.findall(r"%\w+", head[:head.index("{")] if "{" in head
                              else head)
        tys = split_types(types)
        values[result] = parse_type(tys[-1])
        ops.append((name, result, operands, parse_attrs(attr_text)))
    return ops, values, outputs


def act_code(attrs, out):
    """Returns the TFLite fused activation equal to Kiln's clamp range."""
    lo, hi = attrs.get("act_min", -128), attrs.get("act_max", 127)
    zp, s = out.zp, out.scale

    def q(x):
        return zp + int(round(x / s))

    candidates = {
        fb.ActivationFunctionType.NONE: (-128, 127),
        fb.ActivationFunctionType.RELU: (max(-128, q(0.0)), 127),
        fb.ActivationFunctionType.RELU6: (max(-128, q(0.0)), min(127, q(6.0))),
    }
    for code, rng in candidates.items():
        if rng == (lo, hi):
            return code
    raise ValueError(f"clamp [{lo}, {hi}] is no TFLite fused activation "
                     f"(output scale {s}, zero point {zp})")


class Writer:
    def __init__(self):
        self.model = fb.ModelT()
        self.model.version = 3
        self.model.buffers = [fb.BufferT()]  # buffer 0: empty
        self.model.operatorCodes = []
        self.sub = fb.SubGraphT()
        self.sub.tensors, self.sub.operators = [], []
        self.codes = {}

    def tensor(self, v, name, data=None):
        t = fb.TensorT()
        t.shape = list(v.shape)
        t.type = {"i8": fb.TensorType.INT8, "i32": fb.TensorType.INT32}[v.dtype]
        t.name = name
        t.buffer = 0
        if data is not None:
            b = fb.BufferT()
            b.data = np.ascontiguousarray(data).view(np.uint8).reshape(-1).tolist()
            self.model.buffers.append(b)
            t.buffer = len(self.model.buffers) - 1
        if v.scale is not None:
            qp = fb.QuantizationParametersT()
            qp.scale = list(v.scale) if isinstance(v.scale, list) else [v.scale]
            qp.zeroPoint = (list(v.zp) if isinstance(v.zp, list) else [v.zp])
            qp.quantizedDimension = v.axis or 0
            t.quantization = qp
        self.sub.tensors.append(t)
        return len(self.sub.tensors) - 1

    def op(self, code, inputs, outputs, opt_type=0, opt=None):
        if code not in self.codes:
            oc = fb.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = 1
            self.model.operatorCodes.append(oc)
            self.codes[code] = len(self.model.operatorCodes) - 1
        o = fb.OperatorT()
        o.opcodeIndex = self.codes[code]
        o.inputs, o.outputs = inputs, outputs
        o.builtinOptionsType = opt_type
        o.builtinOptions = opt
        self.sub.operators.append(o)

    def finish(self, inputs, outputs):
        self.sub.inputs, self.sub.outputs = inputs, outputs
        self.sub.name = "main"
        self.model.subgraphs = [self.sub]
        self.model.description = "Kiln int8 program (bench/mcu/kiln_to_tflite.py)"
        b = flatbuffers.Builder(1024)
        b.Finish(self.model.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def padding_of(in_hw, out_hw, k, s, d, pads):
    """Returns ('SAME'|'VALID', None) or ('VALID', explicit pads [t, l, b, r])
    for a window op whose Kiln pads are |pads| (only the pads a window
    reaches count)."""
    eff = []
    for i in range(2):
        span = (k[i] - 1) * d[i] + 1
        before = pads[i]
        after = max(0, (out_hw[i] - 1) * s[i] + span - in_hw[i] - before)
        eff.append((before, after))
    if all(b == 0 and a == 0 for b, a in eff):
        return "VALID", None
    same = True
    for i in range(2):
        span = (k[i] - 1) * d[i] + 1
        if out_hw[i] != -(-in_hw[i] // s[i]):
            same = False
            break
        total = max((out_hw[i] - 1) * s[i] + span - in_hw[i], 0)
        if eff[i] != (total // 2, total - total // 2):
            same = False
    if same:
        return "SAME", None
    return "VALID", [eff[0][0], eff[1][0], eff[0][1], eff[1][1]]


def convert(ops, values, outputs):
    w = Writer()
    graph_inputs = []
    alias = {}  # dropped ops: result -> source value name

    def tid(name):
        name = alias.get(name, name)
        v = values[name]
        if v.tensor is None:
            v.tensor = w.tensor(v, name.lstrip("%"), v.data)
        return v.tensor

    for name, result, operands, attrs in ops:
        out = values[result]
        if name == "kiln.quantize":
            graph_inputs.append(tid(result))
            continue
        if name == "kiln.dequantize":
            alias[result] = operands[0]
            continue
        if name == "kiln.qconv2d":
            x, wt = values[operands[0]], values[operands[1]]
            bias = values[operands[2]] if len(operands) > 2 else None
            k = wt.shape[1:3]
            s, d, p = attrs["strides"], attrs["dilations"], attrs["pads"]
            pad_mode, explicit = padding_of(x.shape[1:3], out.shape[1:3], k, s,
                                            d, p)
            xin = tid(operands[0])
            if explicit:
                padded = Value([1, x.shape[1] + explicit[0] + explicit[2],
                                x.shape[2] + explicit[1] + explicit[3], x.shape[3]],
                               "i8", x.scale, x.zp)
                pv = Value([4, 2], "i32")
                pads_arr = np.array([[0, 0], [explicit[0], explicit[2]],
                                     [explicit[1], explicit[3]], [0, 0]], np.int32)
                pt = w.tensor(padded, result.lstrip("%") + "_pad")
                w.op(fb.BuiltinOperator.PAD,
                     [xin, w.tensor(pv, result.lstrip("%") + "_pads", pads_arr)],
                     [pt], fb.BuiltinOptions.PadOptions, fb.PadOptionsT())
                xin = pt
            depthwise = attrs["group"] == x.shape[3] and x.shape[3] > 1
            if not depthwise and attrs["group"] != 1:
                raise ValueError("grouped convolution has no TFLite op")
            wdata = wt.data
            wv = Value(list(wt.shape), "i8", wt.scale, [0] * len(wt.scale), 0)
            if depthwise:
                wdata = np.transpose(wt.data, (3, 1, 2, 0))  # [1, KH, KW, C*M]
                wv = Value(list(wdata.shape), "i8", wt.scale, [0] * len(wt.scale), 3)
            ins = [xin, w.tensor(wv, result.lstrip("%") + "_w", wdata)]
            if bias is not None:
                in_scale = x.scale
                bv = Value(list(bias.shape), "i32",
                           [in_scale * ws for ws in wt.scale], [0] * len(wt.scale), 0)
                ins.append(w.tensor(bv, result.lstrip("%") + "_b", bias.data))
            else:
                ins.append(-1)
            if depthwise:
                opt = fb.DepthwiseConv2DOptionsT()
                opt.depthMultiplier = out.shape[3] // x.shape[3]
                code, otype = (fb.BuiltinOperator.DEPTHWISE_CONV_2D,
                               fb.BuiltinOptions.DepthwiseConv2DOptions)
            else:
                opt = fb.Conv2DOptionsT()
                code, otype = fb.BuiltinOperator.CONV_2D, fb.BuiltinOptions.Conv2DOptions
            opt.padding = fb.Padding.SAME if pad_mode == "SAME" else fb.Padding.VALID
            opt.strideH, opt.strideW = s
            opt.dilationHFactor, opt.dilationWFactor = d
            opt.fusedActivationFunction = act_code(attrs, out)
            w.op(code, ins, [tid(result)], otype, opt)
        elif name == "kiln.qfully_connected":
            x, wt = values[operands[0]], values[operands[1]]
            bias = values[operands[2]] if len(operands) > 2 else None
            per_channel = isinstance(wt.scale, list)
            scales = wt.scale if per_channel else [wt.scale]
            wv = Value(list(wt.shape), "i8", scales, [0] * len(scales), 0)
            ins = [tid(operands[0]), w.tensor(wv, result.lstrip("%") + "_w", wt.data)]
            if bias is not None:
                bv = Value(list(bias.shape), "i32", [x.scale * s for s in scales],
                           [0] * len(scales), 0)
                ins.append(w.tensor(bv, result.lstrip("%") + "_b", bias.data))
            else:
                ins.append(-1)
            opt = fb.FullyConnectedOptionsT()
            opt.fusedActivationFunction = act_code(attrs, out)
            w.op(fb.BuiltinOperator.FULLY_CONNECTED, ins, [tid(result)],
                 fb.BuiltinOptions.FullyConnectedOptions, opt)
        elif name == "kiln.qadd":
            opt = fb.AddOptionsT()
            opt.fusedActivationFunction = act_code(attrs, out)
            w.op(fb.BuiltinOperator.ADD, [tid(operands[0]), tid(operands[1])],
                 [tid(result)], fb.BuiltinOptions.AddOptions, opt)
        elif name in ("kiln.qmax_pool2d", "kiln.qavg_pool2d"):
            x = values[operands[0]]
            k, s, p = attrs["kernel_shape"], attrs["strides"], attrs["pads"]
            pad_mode, explicit = padding_of(x.shape[1:3], out.shape[1:3], k, s,
                                            [1, 1], p)
            if explicit:
                raise ValueError("pooling with padding TFLite cannot express")
            if name == "kiln.qavg_pool2d" and attrs.get("count_include_pad") and pad_mode == "SAME":
                raise ValueError("average pooling counting the padding")
            opt = fb.Pool2DOptionsT()
            opt.padding = fb.Padding.SAME if pad_mode == "SAME" else fb.Padding.VALID
            opt.strideH, opt.strideW = s
            opt.filterHeight, opt.filterWidth = k
            opt.fusedActivationFunction = act_code(attrs, out)
            code = (fb.BuiltinOperator.MAX_POOL_2D if name == "kiln.qmax_pool2d"
                    else fb.BuiltinOperator.AVERAGE_POOL_2D)
            w.op(code, [tid(operands[0])], [tid(result)],
                 fb.BuiltinOptions.Pool2DOptions, opt)
        elif name == "kiln.qglobal_avg_pool2d":
            axes = w.tensor(Value([2], "i32"), result.lstrip("%") + "_axes",
                            np.array([1, 2], np.int32))
            opt = fb.ReducerOptionsT()
            opt.keepDims = True
            w.op(fb.BuiltinOperator.MEAN, [tid(operands[0]), axes], [tid(result)],
                 fb.BuiltinOptions.ReducerOptions, opt)
        elif name == "kiln.reshape":
            shape = w.tensor(Value([len(out.shape)], "i32"),
                             result.lstrip("%") + "_shape",
                             np.array(out.shape, np.int32))
            w.op(fb.BuiltinOperator.RESHAPE, [tid(operands[0]), shape],
                 [tid(result)], fb.BuiltinOptions.ReshapeOptions,
                 fb.ReshapeOptionsT())
        elif name == "kiln.transpose":
            perm = w.tensor(Value([len(out.shape)], "i32"),
                            result.lstrip("%") + "_perm",
                            np.array(attrs["perm"], np.int32))
            w.op(fb.BuiltinOperator.TRANSPOSE, [tid(operands[0]), perm],
                 [tid(result)], fb.BuiltinOptions.TransposeOptions,
                 fb.TransposeOptionsT())
        elif name == "kiln.qsoftmax":
            # table[d] = round(2^K exp(-beta * scale * d)): beta from d = 1.
            t = attrs["table"]
            beta = -math.log(t[1] / t[0]) / values[operands[0]].scale
            opt = fb.SoftmaxOptionsT()
            opt.beta = float(round(beta, 3))
            w.op(fb.BuiltinOperator.SOFTMAX, [tid(operands[0])], [tid(result)],
                 fb.BuiltinOptions.SoftmaxOptions, opt)
        elif name == "kiln.requantize":
            w.op(fb.BuiltinOperator.QUANTIZE, [tid(operands[0])], [tid(result)])
        else:
            raise ValueError(f"no TFLite mapping for {name}")
    return w.finish(graph_inputs, [tid(o) for o in outputs])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kiln-opt", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--calibration", required=True)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--keep-mlir", help="also write the lowered module here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        text = lower(args, tmp)
    if args.keep_mlir:
        with open(args.keep_mlir, "w") as f:
            f.write(text)
    ops, values, outputs = parse_module(text)
    data = convert(ops, values, outputs)
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"wrote {args.output}: {len(data)} bytes, {len(ops)} ops")


if __name__ == "__main__":
    main()
