#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Speed of Kiln's reference evaluator (`kiln run`) against onnxruntime.

Builds two large float32 models with onnx.helper and fixed-seed random
weights:
  resnet50   ResNet-50 v1.5 (torchvision layout), 1x3x224x224, BatchNorm
             folded into the convolutions as inference exports do
             (4.1 GMACs, 25.6 M parameters);
  bert-base  a BERT-base-sized encoder: 12 layers, hidden 768, 12 heads,
             FFN 3072, sequence 128, batch 1 (11.2 GMACs, 85 M parameters),
             with LayerNormalization, Softmax and Gelu (Erf form).
Where Kiln does not implement an op yet (its import fails with
"unsupported"), the model is rebuilt with that op decomposed into ones it
has (LayerNormalization and Softmax via MatMul-with-ones reductions), and
the table says so.

For each model it times (wall clock, best of --repeat runs):
  kiln run     `kiln run MODEL --inputs X --outputs Y --timing`, the whole
               process (start, import, evaluation, writing outputs)
  import       the import phase --timing reports (protobuf + kiln IR)
  evaluator    the evaluation phase --timing reports
  onnxruntime  InferenceSession.run, CPU provider, 1 thread and all threads
checks that the outputs agree (rtol 1e-3, atol 1e-3 * max |ort|), prints a
Markdown table and writes it with the date and the CPU model to
bench/results/evaluator-speed.md.

Use a non-sanitized build:
  KILN_SANITIZE=OFF KILN_BUILD_DIR=build-release tools/build.sh
  .venv/bin/python bench/evaluator/evaluator_speed.py --kiln build-release/bin/kiln
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class Builder:
    """Collects nodes and initializers; counts parameters and MACs."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.params = 0
        self.macs = 0
        self.n = 0

    def name(self, prefix):
        self.n += 1
        return f"{prefix}_{self.n}"

    def const(self, array, prefix="w"):
        name = self.name(prefix)
        array = np.asarray(array)
        self.inits.append(numpy_helper.from_array(array, name))
        if array.dtype == np.float32:
            self.params += array.size
        return name

    def node(self, op, inputs, name=None, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out],
                                           name=name or out, **attrs))
        return out


# --- ResNet-50 -----------------------------------------------------------------


def conv(b: Builder, x, cin, cout, k, stride, hw, name, gain=1.0):
    """Conv with folded BatchNorm (weight and bias); returns (y, out hw)."""
    std = gain * np.sqrt(2.0 / (cin * k * k))
    w = (b.rng.standard_normal((cout, cin, k, k)) * std).astype(np.float32)
    bias = (b.rng.standard_normal(cout) * 0.05).astype(np.float32)
    pad = k // 2
    out = (hw + 2 * pad - k) // stride + 1
    b.macs += cout * cin * k * k * out * out
    y = b.node("Conv", [x, b.const(w), b.const(bias)], name=name,
               kernel_shape=[k, k], strides=[stride, stride],
               pads=[pad] * 4)
    return y, out


def resnet50(seed: int):
    b = Builder(seed)
    x = "input"
    y, hw = conv(b, x, 3, 64, 7, 2, 224, "conv1")
    y = b.node("Relu", [y])
    y = b.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1])
    hw = (hw + 2 - 3) // 2 + 1
    cin = 64
    for stage, (width, blocks, stride) in enumerate(
            [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]):
        for block in range(blocks):
            s = stride if block == 0 else 1
            prefix = f"layer{stage + 1}.{block}"
            h, _ = conv(b, y, cin, width, 1, 1, hw, prefix + ".conv1")
            h = b.node("Relu", [h])
            h, hw2 = conv(b, h, width, width, 3, s, hw, prefix + ".conv2")
            h = b.node("Relu", [h])
            # A small gain at the end of the residual branch keeps the
            # activations of an untrained 50-layer network in range.
            h, _ = conv(b, h, width, width * 4, 1, 1, hw2, prefix + ".conv3",
                        gain=0.2)
            if block == 0:
                short, _ = conv(b, y, cin, width * 4, 1, s, hw,
                                prefix + ".downsample")
            else:
                short = y
            y = b.node("Relu", [b.node("Add", [h, short])])
            cin, hw = width * 4, hw2
    y = b.node("GlobalAveragePool", [y])
    y = b.node("Flatten", [y])
    w = (b.rng.standard_normal((1000, 2048)) * np.sqrt(1 / 2048)).astype(
        np.float32)
    b.macs += 1000 * 2048
    y = b.node("Gemm", [y, b.const(w), b.const(np.zeros(1000, np.float32))],
               name="fc", transB=1)
    graph = helper.make_graph(
        b.nodes, "resnet50",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       [1, 3, 224, 224])],
        [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 1000])],
        b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("",
                                                                       17)])
    model.ir_version = 8
    feeds = {"input": np.random.default_rng(seed + 1).uniform(
        -1, 1, (1, 3, 224, 224)).astype(np.float32)}
    return model, feeds, b


# --- BERT-base encoder -----------------------------------------------------------


def bert(seed: int, decompose: set, layers=12, hidden=768, heads=12,
         ffn=3072, seq=128):
    b = Builder(seed)
    dh = hidden // heads

    def linear(x, fin, fout, name):
        w = (b.rng.standard_normal((fin, fout)) * np.sqrt(1 / fin)).astype(
            np.float32)
        bias = (b.rng.standard_normal(fout) * 0.02).astype(np.float32)
        b.macs += seq * fin * fout
        return b.node("Add", [b.node("MatMul", [x, b.const(w)], name=name),
                              b.const(bias)])

    ones_h = None

    def layernorm(x, name):
        nonlocal ones_h
        gamma = np.ones(hidden, np.float32)
        beta = np.zeros(hidden, np.float32)
        if "LayerNormalization" not in decompose:
            return b.node("LayerNormalization",
                          [x, b.const(gamma), b.const(beta)], name=name,
                          axis=-1, epsilon=1e-12)
        if ones_h is None:
            ones_h = b.const(np.full((hidden, 1), 1.0 / hidden, np.float32),
                             "mean_vec")
        mean = b.node("MatMul", [x, ones_h])
        d = b.node("Sub", [x, mean])
        var = b.node("MatMul", [b.node("Mul", [d, d]), ones_h])
        eps = b.const(np.array(1e-12, np.float32))
        inv = b.node("Reciprocal", [b.node("Sqrt", [b.node("Add", [var,
                                                                   eps])])])
        return b.node("Add", [b.node("Mul", [b.node("Mul", [d, inv]),
                                             b.const(gamma)]), b.const(beta)])

    ones_s = None

    def softmax(x):
        nonlocal ones_s
        if "Softmax" not in decompose:
            return b.node("Softmax", [x], axis=-1)
        if ones_s is None:
            ones_s = b.const(np.ones((seq, 1), np.float32), "sum_vec")
        e = b.node("Exp", [x])
        return b.node("Div", [e, b.node("MatMul", [e, ones_s])])

    x = "hidden_states"
    shape_heads = b.const(np.array([1, seq, heads, dh], np.int64), "shape")
    shape_back = b.const(np.array([1, seq, hidden], np.int64), "shape")
    scale = b.const(np.array(1.0 / np.sqrt(dh), np.float32), "scale")
    for layer in range(layers):
        p = f"layer{layer}"
        q = linear(x, hidden, hidden, p + ".q")
        k = linear(x, hidden, hidden, p + ".k")
        v = linear(x, hidden, hidden, p + ".v")
        qh = b.node("Transpose", [b.node("Reshape", [q, shape_heads])],
                    perm=[0, 2, 1, 3])
        kh = b.node("Transpose", [b.node("Reshape", [k, shape_heads])],
                    perm=[0, 2, 3, 1])
        vh = b.node("Transpose", [b.node("Reshape", [v, shape_heads])],
                    perm=[0, 2, 1, 3])
        scores = b.node("Mul", [b.node("MatMul", [qh, kh],
                                       name=p + ".scores"), scale])
        b.macs += 2 * heads * seq * seq * dh
        probs = softmax(scores)
        ctx = b.node("MatMul", [probs, vh], name=p + ".context")
        ctx = b.node("Reshape", [b.node("Transpose", [ctx],
                                        perm=[0, 2, 1, 3]), shape_back])
        attn = linear(ctx, hidden, hidden, p + ".out")
        x = layernorm(b.node("Add", [attn, x]), p + ".ln1")
        h = linear(x, hidden, ffn, p + ".fc1")
        # Gelu, erf form: 0.5 * h * (1 + erf(h / sqrt(2))).
        g = b.node("Erf", [b.node("Mul", [h, b.const(np.array(
            1 / np.sqrt(2), np.float32))])])
        h = b.node("Mul", [b.node("Mul", [h, b.node("Add", [g, b.const(
            np.array(1, np.float32))])]), b.const(np.array(0.5,
                                                          np.float32))])
        h = linear(h, ffn, hidden, p + ".fc2")
        x = layernorm(b.node("Add", [h, x]), p + ".ln2")
    graph = helper.make_graph(
        b.nodes, "bert_base_encoder",
        [helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT,
                                       [1, seq, hidden])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT,
                                       [1, seq, hidden])], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("",
                                                                       17)])
    model.ir_version = 8
    feeds = {"hidden_states": np.random.default_rng(seed + 1).standard_normal(
        (1, seq, hidden)).astype(np.float32)}
    return model, feeds, b


# --- timing ------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run_kiln(kiln, args):
    start = time.perf_counter()
    proc = subprocess.run([kiln] + args, capture_output=True, text=True)
    return time.perf_counter() - start, proc


def time_ort(path, feeds, threads, repeat):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = ort.InferenceSession(path, options,
                                   providers=["CPUExecutionProvider"])
    out = session.run(None, feeds)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(None, feeds)
        best = min(best, time.perf_counter() - start)
    return best, out[0]


def unsupported_ops(stderr: str) -> set:
    return set(re.findall(r"unsupported ONNX op '(\w+)'", stderr))


def bench_model(kiln, name, make, work, repeat):
    decompose = set()
    for _ in range(3):
        model, feeds, b = make(decompose)
        path = os.path.join(work, f"{name}.onnx")
        onnx.save(model, path)
        t, proc = run_kiln(kiln, ["import", path, "-o", os.devnull])
        missing = unsupported_ops(proc.stderr)
        if proc.returncode == 0 or not missing or missing <= decompose:
            break
        decompose |= missing
    if proc.returncode != 0:
        return {"model": name, "error": proc.stderr.strip()[:400]}
    inputs = os.path.join(work, f"{name}_in.npz")
    outputs = os.path.join(work, f"{name}_out.npz")
    np.savez(inputs, **feeds)
    run_times, eval_times, load_times = [], [], []
    for _ in range(repeat):
        t, proc = run_kiln(kiln, ["run", path, "--inputs", inputs,
                                  "--outputs", outputs, "--timing"])
        if proc.returncode != 0:
            return {"model": name, "error": proc.stderr.strip()[:400]}
        run_times.append(t)
        match = re.search(r"import ([0-9.]+) s, pipeline ([0-9.]+) s, "
                          r"inputs ([0-9.]+) s, evaluation ([0-9.]+) s",
                          proc.stderr)
        eval_times.append(float(match.group(4)))
        load_times.append(float(match.group(1)))
    got = next(iter(np.load(outputs).values()))
    ort1, want = time_ort(path, feeds, 1, repeat)
    ortn, _ = time_ort(path, feeds, os.cpu_count() or 1, repeat)
    err = float(np.max(np.abs(got.astype(np.float64) - want)))
    scale = float(np.max(np.abs(want)))
    agree = bool(np.allclose(got, want, rtol=1e-3, atol=1e-3 * max(1.0,
                                                                   scale)))
    return {"model": name, "macs": b.macs, "params": b.params,
            "size_mb": os.path.getsize(path) / 2**20,
            "decomposed": sorted(decompose), "import": min(load_times),
            "run": min(run_times), "eval": min(eval_times), "ort1": ort1,
            "ortn": ortn, "err": err, "scale": scale, "agree": agree}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kiln", default=os.path.join(
        ROOT, "build-release", "bin", "kiln"))
    parser.add_argument("--only", nargs="*", choices=["resnet50",
                                                      "bert-base"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(
        ROOT, "bench", "results", "evaluator-speed.md"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    version = subprocess.run([args.kiln, "--version"], capture_output=True,
                             text=True).stdout.strip()
    models = {
        "resnet50": lambda d: resnet50(args.seed),
        "bert-base": lambda d: bert(args.seed, d),
    }
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as work:
        for name, make in models.items():
            if args.only and name not in args.only:
                continue
            print(f"[bench] {name} ...", flush=True)
            rows.append(bench_model(args.kiln, name, make, work,
                                    args.repeat))
            print(f"[bench] {rows[-1]}", flush=True)

    threads = os.cpu_count() or 1
    lines = [
        "# Reference evaluator speed",
        "",
        f"Generated by `bench/evaluator/evaluator_speed.py` on "
        f"{datetime.date.today().isoformat()}; {version}; "
        f"onnxruntime {ort.__version__}; CPU: {cpu_model()} "
        f"({threads} threads available); wall-clock seconds, best of "
        f"{args.repeat}; load average {load_before:.1f} when it started "
        "(a shared machine: other work was running).",
        "",
        "| model | GMACs | params | kiln import | kiln run | evaluator | "
        f"ort 1 thread | ort {threads} threads | evaluator / ort-1 | "
        "outputs agree (max abs err / max abs) | decomposed for Kiln |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
        "--- | --- |",
    ]
    ok = True
    for r in rows:
        if "error" in r:
            ok = False
            lines.append(f"| {r['model']} | | | | | | | | | kiln failed: "
                         f"{r['error'].splitlines()[0]} | |")
            continue
        ok = ok and r["agree"]
        lines.append(
            f"| {r['model']} | {r['macs'] / 1e9:.1f} | "
            f"{r['params'] / 1e6:.1f} M | {r['import']:.2f} | "
            f"{r['run']:.2f} | {r['eval']:.2f} | {r['ort1']:.3f} | "
            f"{r['ortn']:.3f} | {r['eval'] / r['ort1']:.1f}x | "
            f"{'yes' if r['agree'] else 'NO'} ({r['err']:.2g} / "
            f"{r['scale']:.3g}) | {', '.join(r['decomposed']) or '-'} |")
    lines += [
        "",
        "`kiln run` is the whole process; `kiln import` and `evaluator` are "
        "its import and evaluation phases (`kiln run --timing`). The "
        "reference evaluator runs single-threaded.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)
        print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
