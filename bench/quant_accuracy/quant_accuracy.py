#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Int8 accuracy of Kiln's post-training quantization, beside onnxruntime's.

Run: .venv/bin/python bench/quant_accuracy/quant_accuracy.py
         [--kiln build/bin/kiln] [--models digits ds_cnn_kws ...]
         [--out bench/results/quant-accuracy.md] [--no-write]

Prints the tables and writes them, with the date and the machine, to
bench/results/quant-accuracy.md.

What it measures (float32 = the same ONNX model run by onnxruntime; Kiln's
own float evaluator agrees with it to ~1e-6):

* digits CNN (trained; real test split of 450 images): top-1 accuracy in
  float32 and int8, top-1 agreement int8 vs float, output (logit) SQNR, for
  Kiln's three observers (`--observer minmax | percentile (99.99) | mse`)
  and for onnxruntime's `quantize_static` (MinMax and Percentile 99.99);
* digits CNN, per layer: the SQNR of each quantized layer's int8 output,
  dequantized, against the float activation at the same point, for Kiln
  (`kiln run --dump-activations`, matched by ONNX node name; NHWC int8
  values come back in NCHW) and for onnxruntime (the DequantizeLinear that
  follows the same tensor in its QDQ model);
* tiny-ML models (untrained, synthetic inputs): output SQNR and top-1
  agreement (classifiers) of each int8 model vs float, on the test inputs
  and on calibration + test inputs (the 96x96 and 128x128 models have only
  8 test inputs).

onnxruntime's setting, the closest to Kiln's int8 scheme (shared/TECHNIQUES.md,
TFLite int8): QuantFormat.QDQ, per-channel symmetric int8 weights
(QuantType.QInt8, range [-127, 127]), asymmetric int8 activations
(QuantType.QInt8), BatchNorm folded first (quant_pre_process), the same
calibration inputs one at a time. onnxruntime executes the QDQ model with
its int8 kernels (QLinearConv etc. after its QDQ fusions).

SQNR = 10 log10(sum f^2 / sum (f - q)^2) in dB over all inputs of a set.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
sys.path.insert(0, str(MODELS))
from ort_quant import quantize_qdq  # noqa: E402
DIGITS = MODELS / "digits" / "digits_cnn_b1.onnx"
TINYML = ["ds_cnn_kws", "resnet8_cifar", "mobilenetv1_025", "mobilenetv2_035_96",
          "mcunet_blocks", "fc_autoencoder"]
OBSERVERS = [("minmax", []), ("percentile", ["--percentile", "99.99"]), ("mse", [])]
# The int8 kernels whose outputs the per-layer table compares (layout ops,
# (de)quantization and clamps fused into them are not layers).
LAYER_OPS = {"kiln.qconv2d", "kiln.qfully_connected", "kiln.qadd", "kiln.qmul",
             "kiln.qmax_pool2d", "kiln.qavg_pool2d", "kiln.qglobal_avg_pool2d",
             "kiln.qconcat", "kiln.qsoftmax", "kiln.qclamp"}


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------

def sqnr(f: np.ndarray, q: np.ndarray) -> float:
    f = f.astype(np.float64)
    err = ((f - q.astype(np.float64)) ** 2).sum()
    return float("inf") if err == 0 else float(10.0 * np.log10((f**2).sum() / err))


def agreement(f: np.ndarray, q: np.ndarray) -> float:
    return float((f.argmax(1) == q.argmax(1)).mean())


def accuracy(y: np.ndarray, labels: np.ndarray) -> float:
    return float((y.argmax(1) == labels).mean())


# --------------------------------------------------------------------------
# Kiln
# --------------------------------------------------------------------------

def kiln_run(kiln: str, model: Path, inputs: Path, work: Path, tag: str,
             quant: list[str] | None = None, dump: bool = False):
    """Runs `kiln run` and returns (outputs, activations, manifest)."""
    out = work / f"{tag}.npz"
    cmd = [kiln, "run", str(model), "--inputs", str(inputs), "--outputs", str(out)]
    if quant is not None:
        cmd += ["--quantize", "int8", *quant]
    if dump:
        cmd += ["--dump-activations", str(work / f"{tag}-act.npz")]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr[-3000:]}")
    outputs = np.load(out)["output"]
    if not dump:
        return outputs, None, None
    acts = np.load(work / f"{tag}-act.npz")
    manifest = json.loads((work / f"{tag}-act.json").read_text())["activations"]
    return outputs, acts, manifest


# --------------------------------------------------------------------------
# onnxruntime
# --------------------------------------------------------------------------

def ort_session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort_session(path)
    return np.concatenate([sess.run(None, {"input": x[i : i + 1]})[0] for i in range(len(x))])


def ort_layers(qdq: Path, x: np.ndarray, work: Path) -> dict[str, np.ndarray]:
    """Returns, per float tensor name of the QDQ model, the output of the
    DequantizeLinear that follows QuantizeLinear(tensor): the int8 value of
    that tensor, dequantized. (Exposing these tensors as graph outputs can
    keep onnxruntime from fusing some QDQ groups into integer kernels; the
    values stay those of the same quantization grid.)"""
    model = onnx.load(str(qdq))
    consumers: dict[str, list] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    taps = {}
    for node in model.graph.node:
        if node.op_type != "QuantizeLinear":
            continue
        for dq in consumers.get(node.output[0], []):
            if dq.op_type == "DequantizeLinear":
                # A graph output keeps its name on the DequantizeLinear;
                # the producer's tensor is renamed '<name>_QuantizeLinear_Input'.
                taps[node.input[0].removesuffix("_QuantizeLinear_Input")] = dq.output[0]
    known = {o.name for o in model.graph.output}
    for tensor in taps.values():
        if tensor not in known:
            model.graph.output.append(onnx.ValueInfoProto(name=tensor))
    path = work / (qdq.stem + "-taps.onnx")
    onnx.save(model, str(path))
    sess = ort_session(path)
    names = list(taps.values())
    runs = [sess.run(names, {"input": x[i : i + 1]}) for i in range(len(x))]
    return {t: np.concatenate([r[j] for r in runs]) for j, t in enumerate(taps)}


def node_tensors(model: Path, names) -> list[tuple[str, str]]:
    """Pairs each Kiln activation name (an ONNX node name) with the tensor
    that node writes in |model| (the name itself when it is no node)."""
    outputs = {n.name: n.output[0] for n in onnx.load(str(model)).graph.node}
    return [(name, outputs.get(name, name)) for name in names]


# --------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------

def per_layer(manifest, acts, float_acts) -> list[tuple[str, str, str, float]]:
    """(name, op, int8 grid, SQNR) for each quantized layer of a Kiln dump."""
    rows = []
    for entry in manifest:
        if entry["op"] not in LAYER_OPS:
            continue
        name = entry["name"]
        if name not in float_acts.files:
            continue
        q, f = acts[entry["key"]], float_acts[name]
        if q.shape != f.shape:
            raise RuntimeError(f"{name}: int8 {q.shape} vs float {f.shape} "
                               f"(layout {entry['layout'] or 'source'})")
        grid = f"{entry['scale']:.4g}, {entry['zero_point']}"
        rows.append((name, entry["op"].removeprefix("kiln."), grid, sqnr(f, q)))
    return rows


def bench_digits(kiln: str, work: Path, lines: list[str]) -> dict:
    calib_path = MODELS / "digits" / "digits_calib.npz"
    test_path = MODELS / "digits" / "digits_test.npz"
    calib = np.load(calib_path)["input"]
    test = np.load(test_path)
    x, labels = test["input"], test["label"]
    f = ort_run(DIGITS, x)
    kf, float_acts, _ = kiln_run(kiln, DIGITS, test_path, work, "digits-f32", dump=True)
    results = {"float_acc": accuracy(f, labels), "kiln_float_acc": accuracy(kf, labels)}
    rows, layers = [], {}
    for observer, extra in OBSERVERS:
        q, acts, manifest = kiln_run(kiln, DIGITS, test_path, work, f"digits-{observer}",
                                     ["--calibration", str(calib_path), "--observer",
                                      observer, *extra], dump=True)
        label = observer + (" 99.99" if observer == "percentile" else "")
        rows.append((f"Kiln, {label}", accuracy(q, labels), agreement(f, q), sqnr(f, q)))
        layers[f"Kiln {observer}"] = per_layer(manifest, acts, float_acts)
    for method in ["minmax", "percentile"]:
        qdq = quantize_qdq(DIGITS, calib, work, f"digits-ort-{method}", method=method)
        q = ort_run(qdq, x)
        label = "MinMax" if method == "minmax" else "Percentile 99.99"
        rows.append((f"onnxruntime, {label}", accuracy(q, labels), agreement(f, q), sqnr(f, q)))
        taps = ort_layers(qdq, x, work)
        layers[f"ORT {method}"] = {name: sqnr(float_acts[name], taps[tensor])
                                   for name, tensor in node_tensors(DIGITS, float_acts.files)
                                   if tensor in taps}
    results["rows"] = rows
    lines += ["## Digits CNN (trained, 450 held-out test images)", "",
              f"float32 top-1 accuracy: **{100 * results['float_acc']:.2f} %** "
              f"(onnxruntime; Kiln's float evaluator: {100 * results['kiln_float_acc']:.2f} %). "
              "Calibration: `digits_calib.npz` (100 training images).", "",
              "| int8 | top-1 accuracy | change vs float | top-1 agreement | logit SQNR |",
              "| --- | --- | --- | --- | --- |"]
    for name, acc, agree, s in rows:
        lines.append(f"| {name} | {100 * acc:.2f} % | {100 * (acc - results['float_acc']):+.2f} pt "
                     f"| {100 * agree:.2f} % | {s:.2f} dB |")
    kiln_names = list(layers)[:3]
    head = "| layer (node) | kernel | int8 scale, zero point (minmax) | " + " | ".join(
        f"{k} dB" for k in layers) + " |"
    lines += ["", "Per layer: SQNR of each quantized layer's int8 output (dequantized) vs the "
              "float activation at the same node, over the 450 test images. Kiln's come from "
              "`kiln run --dump-activations` (NHWC kernel outputs transposed back to NCHW); "
              "onnxruntime's from the DequantizeLinear after the same tensor in its QDQ model. "
              "Fused ReLU/Clip: the layer is named after its last node.", "",
              head, "| --- | --- | --- |" + " --- |" * len(layers)]
    for i, (name, op, grid, _) in enumerate(layers[kiln_names[0]]):
        cells = []
        for k in layers:
            if k.startswith("Kiln"):
                cells.append(f"{layers[k][i][3]:.2f}")
            else:
                v = layers[k].get(name)
                cells.append("—" if v is None else f"{v:.2f}")
        lines.append(f"| {name} | {op} | {grid} | " + " | ".join(cells) + " |")
    lines.append("")
    results["layers"] = layers
    return results


# Size of the fresh evaluation set per model (the committed test sets have
# 8 or 32 inputs: too few to tell 0.2 dB apart); the 96x96 / 128x128 models
# get fewer because the evaluator runs them for each observer.
EVAL_INPUTS = {"ds_cnn_kws": 256, "resnet8_cifar": 256, "fc_autoencoder": 256,
               "mobilenetv1_025": 64, "mobilenetv2_035_96": 64, "mcunet_blocks": 64}
EVAL_SEED_OFFSET = 700000  # generate.py draws the model's data from seed + 100000


def fresh_inputs(name: str, n: int) -> np.ndarray:
    """More inputs from the distribution of |name|'s calibration and test sets
    (models/tinyml/generate.py's data function), from a seed of their own."""
    sys.path.insert(0, str(MODELS / "tinyml"))
    import generate  # noqa: PLC0415 (models/tinyml/generate.py)

    spec = generate.MODELS[name]
    return spec.data(np.random.default_rng(spec.seed + EVAL_SEED_OFFSET), n).astype(np.float32)


def per_input_sqnr_gap(f, a, b, rng, rounds=2000) -> tuple[float, float]:
    """95 % paired bootstrap interval (over inputs) of SQNR(a) - SQNR(b)."""
    n = len(f)
    fa, ea, eb = (f.reshape(n, -1) ** 2).sum(1), ((f - a).reshape(n, -1) ** 2).sum(1), \
        ((f - b).reshape(n, -1) ** 2).sum(1)
    gaps = []
    for _ in range(rounds):
        i = rng.integers(0, n, n)
        gaps.append(10 * np.log10(fa[i].sum() / ea[i].sum()) - 10 * np.log10(fa[i].sum() / eb[i].sum()))
    lo, hi = np.percentile(gaps, [2.5, 97.5])
    return float(lo), float(hi)


def bench_tinyml(kiln: str, work: Path, names: list[str], lines: list[str]) -> dict:
    results = {}
    keys = [f"Kiln {o}" for o, _ in OBSERVERS] + ["ORT minmax", "ORT percentile"]
    rng = np.random.default_rng(0)
    for name in names:
        model = MODELS / "tinyml" / f"{name}.onnx"
        calib_path = MODELS / "tinyml" / f"{name}_calib.npz"
        test_path = MODELS / "tinyml" / f"{name}_test.npz"
        calib, xt = np.load(calib_path)["input"], np.load(test_path)["input"]
        xe = fresh_inputs(name, EVAL_INPUTS[name])
        x = np.concatenate([xt, xe])
        both_path = work / f"{name}-eval.npz"
        np.savez(both_path, input=x)
        f = ort_run(model, x)
        classifier = f.shape[1] < 100
        outs = {}
        for observer, extra in OBSERVERS:
            outs[f"Kiln {observer}"], _, _ = kiln_run(
                kiln, model, both_path, work, f"{name}-{observer}",
                ["--calibration", str(calib_path), "--observer", observer, *extra])
        for method in ["minmax", "percentile"]:
            qdq = quantize_qdq(model, calib, work, f"{name}-ort-{method}", method=method)
            outs[f"ORT {method}"] = ort_run(qdq, x)
        nt = len(xt)
        row = {"model": name, "n_test": nt, "n_eval": len(xe), "classifier": classifier}
        for k, q in outs.items():
            row[k] = {"sqnr_test": sqnr(f[:nt], q[:nt]), "sqnr_eval": sqnr(f[nt:], q[nt:])}
            if classifier:
                row[k]["agree_test"] = agreement(f[:nt], q[:nt])
                row[k]["agree_eval"] = agreement(f[nt:], q[nt:])
        row["gap_minmax"] = per_input_sqnr_gap(f[nt:], outs["Kiln minmax"][nt:],
                                               outs["ORT minmax"][nt:], rng)
        best_kiln = max((k for k in keys if k.startswith("Kiln")),
                        key=lambda k: row[k]["sqnr_eval"])
        best_ort = max((k for k in keys if k.startswith("ORT")),
                       key=lambda k: row[k]["sqnr_eval"])
        row["best"] = (best_kiln, best_ort)
        row["gap_best"] = per_input_sqnr_gap(f[nt:], outs[best_kiln][nt:], outs[best_ort][nt:], rng)
        results[name] = row
        print(f"  {name}: " + ", ".join(f"{k} {row[k]['sqnr_eval']:.2f} dB" for k in keys),
              flush=True)

    def table(metric, subset, title):
        lines.extend([title, "", "| model | inputs | " + " | ".join(keys) + " |",
                      "| --- | --- |" + " --- |" * len(keys)])
        for row in results.values():
            if metric == "agree" and not row["classifier"]:
                continue
            n = row[f"n_{subset}"]
            vals = [row[k][f"{metric}_{subset}"] for k in keys]
            cells = [f"{v:.2f}" if metric == "sqnr" else f"{round(v * n)}/{n}" for v in vals]
            cells = [f"**{c}**" if v == max(vals) else c for c, v in zip(cells, vals)]
            lines.append(f"| {row['model']} | {n} | " + " | ".join(cells) + " |")
        lines.append("")

    table("sqnr", "eval", "### Output SQNR vs float32 (dB), fresh evaluation inputs")
    lines += ["Kiln − onnxruntime, output SQNR on the fresh inputs, with a 95 % paired "
              "bootstrap interval over inputs (the same method vs the same method; then each "
              "side's best observer):", "",
              "| model | Kiln minmax − ORT MinMax | best Kiln − best ORT |",
              "| --- | --- | --- |"]
    for row in results.values():
        a = row["Kiln minmax"]["sqnr_eval"] - row["ORT minmax"]["sqnr_eval"]
        b = row[row["best"][0]]["sqnr_eval"] - row[row["best"][1]]["sqnr_eval"]
        (la, ha), (lb, hb) = row["gap_minmax"], row["gap_best"]
        lines.append(f"| {row['model']} | {a:+.2f} dB [{la:+.2f}, {ha:+.2f}] | "
                     f"{b:+.2f} dB [{lb:+.2f}, {hb:+.2f}] ({row['best'][0]} vs {row['best'][1]}) |")
    lines.append("")
    table("agree", "eval", "### Top-1 agreement with float32, fresh evaluation inputs (classifiers)")
    table("sqnr", "test", "### Output SQNR vs float32 (dB), committed test inputs")
    table("agree", "test", "### Top-1 agreement with float32, committed test inputs (classifiers)")
    return results


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kiln", default=str(ROOT / "build" / "bin" / "kiln"))
    p.add_argument("--models", nargs="*", default=["digits", *TINYML])
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "quant-accuracy.md"))
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    logging.getLogger().setLevel(logging.ERROR)

    kiln_version = subprocess.run([args.kiln, "--version"], capture_output=True,
                                  text=True).stdout.strip().splitlines()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    lines = ["# Int8 accuracy: Kiln vs onnxruntime static quantization", "",
             f"Generated by `bench/quant_accuracy/quant_accuracy.py` on "
             f"{datetime.date.today().isoformat()}, {machine()}; "
             f"{kiln_version[-1] if kiln_version else 'kiln'}, commit {commit}; "
             f"onnxruntime {ort.__version__}, onnx {onnx.__version__}.", "",
             "Kiln: `kiln run MODEL --quantize int8 --calibration <name>_calib.npz "
             "--observer O` (reference evaluator, exact TFLite int8 semantics: "
             "per-channel symmetric int8 weights, asymmetric int8 activations, int32 bias, "
             "fixed-point requantization). onnxruntime: `quantize_static`, QDQ, per-channel "
             "int8 weights, **int8 (QInt8) asymmetric activations** (the setting closest to "
             "Kiln's), BatchNorm folded first, same calibration inputs, run by onnxruntime's "
             "CPU provider. Reference: the float32 model in onnxruntime.", ""]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "digits" in args.models:
            print("digits ...", flush=True)
            bench_digits(args.kiln, work, lines)
        tiny = [m for m in args.models if m in TINYML]
        if tiny:
            print("tiny-ML ...", flush=True)
            lines += ["## Tiny-ML architectures (untrained weights, synthetic inputs)", "",
                      "Calibration: `<name>_calib.npz` (32 inputs) for both. Evaluation: "
                      "the committed `<name>_test.npz` (8 or 32 inputs) and, because those "
                      "are too few to separate methods 0.2 dB apart, fresh inputs from the "
                      "same generator (`models/tinyml/generate.py`'s data function, seed + "
                      f"{EVAL_SEED_OFFSET}): " + ", ".join(f"{m} {EVAL_INPUTS[m]}" for m in tiny)
                      + ". Best value of each row in bold. Agreement on untrained "
                      "classifiers (logit spread 2) is a sharp comparison tool, not "
                      "accuracy (docs/models.md).", ""]
            bench_tinyml(args.kiln, work, tiny, lines)
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
