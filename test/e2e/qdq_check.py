#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end check of Kiln's QDQ input path against onnxruntime.

  qdq_check.py --kiln BIN --model M.onnx --calibration C.npz --inputs T.npz
               --workdir DIR [--activation int8|uint8] [--samples N]
               [--end-to-end] [--host [--cc gcc] [--host-samples N]]

1. onnxruntime's `quantize_static` makes a QDQ model of M (BatchNorm folded
   first by quant_pre_process; QuantFormat.QDQ, per-channel symmetric int8
   weights, int8 or uint8 asymmetric activations, MinMax calibration on C).
2. `kiln run QDQ.onnx --quantize int8` compiles it WITHOUT calibration data
   (kiln-fold-qdq keeps the model's scales) and must lower every op to int8
   (no "stays float" remark).
3. Scales kept: every activation QuantizeLinear of the QDQ model (scale s,
   zero point z) must appear in Kiln's int8 IR as the type of the value at
   the same node (`--dump-activations`), with the same s and z (uint8 z
   maps to z - 128 on the same grid).
4. Same integer ops, layer by layer: each quantized layer of Kiln (conv,
   fully connected, add, pooling, softmax, ...) is compared with
   onnxruntime running that one QDQ node group (DequantizeLinear inputs, the
   node, QuantizeLinear) on Kiln's own int8 input values:
   |kiln - ort| <= 1 integer step, elementwise. One step is allowed because
   the two round differently: Kiln's kernels follow TFLite (fixed-point
   requantization, ties away from zero / towards +inf; average pooling
   rounds ties of the raw int8 average away from zero), onnxruntime rounds
   float products half to even.
5. With --end-to-end: the whole model's outputs, |kiln - ort| <= the output
   scale (one quantization step of the output, elementwise; both lie on
   the output grid, so the deviation is a whole number of steps up to
   float32 rounding of the dequantized values). Without it the deviation is
   printed only: one-step differences compound through deep untrained
   networks (see bench/results/quant-accuracy.md).
6. With --host: `kiln compile QDQ.onnx --target host --quantize int8
   --harness` builds a C program that must print the int8 outputs of
   `kiln run --raw` bit for bit.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from ort_quant import quantize_qdq  # noqa: E402

# Kiln's int8 layer kernels (plus the requantization that puts a softmax on
# a QDQ model's own output grid).
LAYER_OPS = {"kiln.qconv2d", "kiln.qfully_connected", "kiln.qadd", "kiln.qmul",
             "kiln.qmax_pool2d", "kiln.qavg_pool2d", "kiln.qglobal_avg_pool2d",
             "kiln.qconcat", "kiln.qsoftmax", "kiln.qclamp", "kiln.requantize"}


def run(cmd, timeout=600, cwd=None):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                            timeout=timeout, cwd=cwd)
    if result.returncode != 0:
        sys.stderr.write(f"FAILED ({result.returncode}): {' '.join(map(str, cmd))}\n")
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        sys.exit(1)
    return result


def session(model) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def tensor_info(model: onnx.ModelProto):
    """Returns (producer node name of each tensor, initializer arrays)."""
    producer = {}
    for node in model.graph.node:
        for out in node.output:
            producer[out] = node
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    return producer, inits


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--calibration", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--activation", choices=["int8", "uint8"], default="int8")
    p.add_argument("--samples", type=int, default=0, help="use the first N inputs (0: all)")
    p.add_argument("--end-to-end", action="store_true")
    p.add_argument("--host", action="store_true")
    p.add_argument("--cc", default=None)
    p.add_argument("--host-samples", type=int, default=4)
    args = p.parse_args()
    logging.getLogger().setLevel(logging.ERROR)

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    data = np.load(args.inputs)
    x = data["input"][: args.samples or None]
    inputs = work / "inputs.npz"
    np.savez(inputs, input=x)
    calib = np.load(args.calibration)["input"]
    unsigned = args.activation == "uint8"
    shift = 128 if unsigned else 0  # uint8 values are int8 values + 128

    # 1. onnxruntime's QDQ model.
    qdq_path = quantize_qdq(args.model, calib, work, "ort", unsigned=unsigned)
    qdq = onnx.load(str(qdq_path))
    producer, inits = tensor_info(qdq)
    ort_out = np.concatenate([session(qdq).run(None, {"input": x[i : i + 1]})[0]
                              for i in range(len(x))])

    # 2. Kiln, without calibration data.
    out_f, out_raw = work / "kiln.npz", work / "kiln-raw.npz"
    dump = work / "act.npz"
    result = run([args.kiln, "run", qdq_path, "--quantize", "int8", "--inputs", inputs,
                  "--outputs", out_f])
    remarks = [line for line in result.stderr.splitlines() if "stays float" in line]
    run([args.kiln, "run", qdq_path, "--quantize", "int8", "--inputs", inputs,
         "--outputs", out_raw, "--raw", "--dump-activations", dump])
    acts = np.load(dump)
    manifest = json.loads((work / "act.json").read_text())["activations"]
    failures = []
    if remarks:
        failures.append("ops left in float:\n  " + "\n  ".join(remarks))

    by_name: dict[str, list] = {}
    for entry in manifest:
        by_name.setdefault(entry["name"], []).append(entry)

    def kiln_value(tensor: str):
        """Kiln's int8 entry for the value an ONNX tensor holds: the last
        kernel output of its producing node (or the graph input's
        quantization), else the last int8 entry under that name."""
        node = producer.get(tensor)
        name = node.name if node is not None else tensor
        entries = [e for e in by_name.get(name, []) if "scale" in e]
        kernels = [e for e in entries if e["op"] in LAYER_OPS]
        return (kernels or entries or [None])[-1]

    # 3. Scales kept.
    quantized = 0
    for node in qdq.graph.node:
        if node.op_type != "QuantizeLinear" or node.input[0] in inits:
            continue
        scale = float(inits[node.input[1]])
        zero = int(inits[node.input[2]]) - shift
        entry = kiln_value(node.input[0])
        quantized += 1
        if entry is None:
            failures.append(f"tensor '{node.input[0]}': no int8 value in Kiln's IR")
        elif abs(entry["scale"] - scale) > 1e-6 * scale or entry["zero_point"] != zero:
            failures.append(f"tensor '{node.input[0]}': Kiln {entry['scale']}, "
                            f"{entry['zero_point']} vs QDQ {scale}, {zero}")
    print(f"scales: {quantized} activation quantizations of the QDQ model checked")

    # 4. Layer by layer.
    consumers: dict[str, list] = {}
    for node in qdq.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    nodes = {n.name: n for n in qdq.graph.node}
    elem = onnx.TensorProto.UINT8 if unsigned else onnx.TensorProto.INT8
    dtype = np.uint8 if unsigned else np.int8
    layers = 0
    for name, entries in by_name.items():
        kernels = [e for e in entries if e["op"] in LAYER_OPS]
        if not kernels or name not in nodes:
            continue
        node = nodes[name]
        kiln_out = acts[kernels[-1]["key"]].astype(np.int32) + shift
        quant = [c for c in consumers.get(node.output[0], []) if c.op_type == "QuantizeLinear"]
        if not quant:
            failures.append(f"layer '{name}': its output is not quantized in the QDQ model")
            continue
        sub_nodes, sub_inits, feeds, sub_inputs = [], [], {}, []
        for tensor in node.input:
            if not tensor:
                continue
            dq = producer.get(tensor)
            if dq is None or dq.op_type != "DequantizeLinear":
                failures.append(f"layer '{name}': input '{tensor}' has no DequantizeLinear")
                break
            sub_nodes.append(dq)
            for aux in dq.input[1:]:
                sub_inits.append(numpy_helper.from_array(inits[aux], aux))
            if dq.input[0] in inits:  # a weight or bias
                sub_inits.append(numpy_helper.from_array(inits[dq.input[0]], dq.input[0]))
                continue
            q = producer[dq.input[0]]  # the activation's QuantizeLinear
            source = kiln_value(q.input[0])
            if source is None:
                failures.append(f"layer '{name}': no Kiln value for input '{q.input[0]}'")
                break
            value = (acts[source["key"]].astype(np.int32) + shift).astype(dtype)
            feeds[dq.input[0]] = value
            sub_inputs.append(helper.make_tensor_value_info(dq.input[0], elem, value.shape))
        else:
            q = quant[0]
            for aux in q.input[1:]:
                sub_inits.append(numpy_helper.from_array(inits[aux], aux))
            graph = helper.make_graph(sub_nodes + [node, q], f"layer_{layers}", sub_inputs,
                                      [helper.make_tensor_value_info(q.output[0], elem, None)],
                                      sub_inits)
            sub = helper.make_model(graph, opset_imports=qdq.opset_import)
            sub.ir_version = qdq.ir_version
            ref = session(sub).run(None, feeds)[0].astype(np.int32)
            if ref.shape != kiln_out.shape:
                failures.append(f"layer '{name}': onnxruntime {ref.shape} vs Kiln "
                                f"{kiln_out.shape} ({kernels[-1]['op']})")
                continue
            diff = np.abs(ref - kiln_out)
            layers += 1
            print(f"layer {name:28s} {kernels[-1]['op'][5:]:20s} max |kiln - ort| "
                  f"{diff.max()} step(s), {100 * (diff > 0).mean():6.3f} % of "
                  f"{diff.size} values differ")
            if diff.max() > 1:
                failures.append(f"layer '{name}': {diff.max()} steps apart")
    if layers == 0:
        failures.append("no layer was compared")

    # 5. End to end.
    out_q = [n for n in qdq.graph.node if n.op_type == "QuantizeLinear"
             and consumers.get(n.output[0]) and any(
                 c.output[0] in {o.name for o in qdq.graph.output}
                 for c in consumers[n.output[0]])]
    kiln_f = np.load(out_f)["output"]
    step = float(inits[out_q[0].input[1]]) if out_q else float("nan")
    dev = np.abs(kiln_f - ort_out)
    sqnr = 10 * np.log10((ort_out.astype(np.float64) ** 2).sum()
                         / max(((kiln_f - ort_out).astype(np.float64) ** 2).sum(), 1e-30))
    print(f"end to end: max |kiln - ort| = {dev.max():.6g} = {dev.max() / step:.3f} output "
          f"step(s) (step {step:.6g}); {100 * (dev > step / 2).mean():.2f} % of "
          f"{dev.size} outputs differ; SQNR kiln vs ort {sqnr:.1f} dB")
    # Both outputs lie on the output grid (float32 products (q - z) * s), so
    # a deviation is a whole number of steps up to float32 rounding.
    if args.end_to_end and not np.rint(dev.max() / step) <= 1:
        failures.append(f"end to end: {dev.max() / step:.3f} output steps apart")

    # 6. C for the host, bit-exact with the evaluator.
    if args.host:
        n = min(args.host_samples, len(x))
        sub_inputs = work / "host-inputs.npz"
        np.savez(sub_inputs, input=x[:n])
        ref = work / "host-ref.npz"
        run([args.kiln, "run", qdq_path, "--quantize", "int8", "--inputs", sub_inputs,
             "--outputs", ref, "--raw"])
        out = work / "host"
        run([args.kiln, "compile", qdq_path, "--target", "host", "--quantize", "int8",
             "--harness", sub_inputs, "-o", out])
        make = ["make", "-s", "-C", out] + ([f"CC={args.cc}"] if args.cc else [])
        run(make + ["all"])
        stdout = run(make + ["run"]).stdout
        got: dict[str, list] = {}
        for line in stdout.splitlines():
            if ":" in line:
                key, values = line.split(":", 1)
                got.setdefault(key.strip(), []).append([int(v) for v in values.split()])
        expected = np.load(ref)
        for key in expected.files:
            want = expected[key].astype(np.int64).reshape(n, -1)
            have = np.array(got.get(key, []), np.int64)
            if have.shape != want.shape or not np.array_equal(have, want):
                failures.append(f"host program output '{key}' differs from kiln run --raw")
            else:
                print(f"host: '{key}' {have.size} int8 values bit-identical to the "
                      f"evaluator over {n} sample(s)")

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
