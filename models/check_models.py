#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the committed models: reproducible, loadable, runnable, small.

Run: .venv/bin/python models/check_models.py [--only DIR ...] [--skip-regenerate] [--keep]

"Committed" means tracked by git or untracked but not ignored (build outputs
that a .gitignore excludes are not checked); `--only digits tinyml` limits
every check to those folders under models/.

1. Regenerate: every `models/**/generate.py` runs with `--out <temp dir>`;
   every file it writes must be byte-identical to the committed file of the
   same name next to the script, and every committed .onnx/.npz in that
   folder must be one the generator writes (no stale files). A generator
   that cannot be re-run here (it needs torch, say) opts out with the line
   `# kiln-check: no-regenerate`; its models still get checks 2 and 3.
2. Load and run: every committed `models/**/*.onnx` passes onnx.checker
   (full check) and runs in onnxruntime on its test inputs: `<stem>_test.npz`
   or, failing that, the `<prefix>_test.npz` beside it with the longest
   prefix of the model's name; failing both, inputs made from the declared
   types. Where the test file has a `label` array, the top-1 accuracy must
   reach the floor in ACCURACY_FLOORS.
3. Size: every committed .onnx and .npz is at most 2 MiB.

Prints one line per check and the total time; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

MODELS = Path(__file__).resolve().parent
MAX_BYTES = 2 * 1024 * 1024
OPT_OUT = "# kiln-check: no-regenerate"
# Minimum top-1 accuracy on the labelled test set, by model file name.
ACCURACY_FLOORS = {"digits_cnn.onnx": 0.96, "digits_cnn_b1.onnx": 0.96}
DATA_SUFFIXES = (".onnx", ".npz")


class Report:
    def __init__(self):
        self.failures: list[str] = []

    def ok(self, msg: str):
        print(f"ok    {msg}", flush=True)

    def fail(self, msg: str):
        print(f"FAIL  {msg}", flush=True)
        self.failures.append(msg)


def rel(p: Path) -> str:
    return str(p.relative_to(MODELS.parent))


def committed_files() -> list[Path]:
    """Returns the files under models/ that are or would be committed.

    That is git's tracked plus untracked-but-not-ignored files, so build
    outputs a .gitignore excludes are left alone; outside a git checkout,
    every file.
    """
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=MODELS,
            capture_output=True,
            check=True,
        ).stdout.decode()
        files = [MODELS / p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        files = [p for p in MODELS.rglob("*") if p.is_file()]
    return sorted(p for p in files if p.is_file())


def selected(path: Path, only: list[str] | None) -> bool:
    """Returns whether `path` lies in one of the `--only` folders."""
    if not only:
        return True
    parts = path.relative_to(MODELS).parts
    return any(parts[: len(Path(o).parts)] == Path(o).parts for o in only)


def describe_npz_difference(a: Path, b: Path) -> str:
    """Returns why two .npz files differ, array by array."""
    try:
        x, y = np.load(a), np.load(b)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the answer
        return f"cannot compare contents ({e})"
    if sorted(x.files) != sorted(y.files):
        return f"keys {sorted(x.files)} vs {sorted(y.files)}"
    for k in x.files:
        if x[k].shape != y[k].shape or x[k].dtype != y[k].dtype:
            return f"'{k}': {x[k].dtype}{list(x[k].shape)} vs {y[k].dtype}{list(y[k].shape)}"
        if not np.array_equal(x[k], y[k]):
            return f"'{k}': max abs difference {np.abs(x[k].astype(np.float64) - y[k]).max():.3g}"
    return "same arrays, different bytes (zip/zlib version?)"


def describe_onnx_difference(a: Path, b: Path) -> str:
    """Returns the first initializer or structural difference of two models."""
    try:
        x, y = onnx.load(a), onnx.load(b)
    except Exception as e:  # noqa: BLE001
        return f"cannot compare contents ({e})"
    xi = {t.name: onnx.numpy_helper.to_array(t) for t in x.graph.initializer}
    yi = {t.name: onnx.numpy_helper.to_array(t) for t in y.graph.initializer}
    if xi.keys() != yi.keys():
        return "different initializer names"
    diffs = [k for k in xi if xi[k].shape != yi[k].shape or not np.array_equal(xi[k], yi[k])]
    if diffs:
        k = diffs[0]
        return f"{len(diffs)} initializers differ, first '{k}'"
    return "same weights, different graph or metadata"


def check_regeneration(gen: Path, committed: set[Path], report: Report, keep: bool):
    if OPT_OUT in gen.read_text():
        report.ok(f"{rel(gen)}: opted out of regeneration")
        return
    folder = gen.parent
    tmp = Path(tempfile.mkdtemp(prefix="kiln-models-"))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, str(gen), "--out", str(tmp)], env=env, capture_output=True, text=True
    )
    took = time.time() - t0
    if proc.returncode != 0:
        report.fail(
            f"{rel(gen)} exited {proc.returncode} after {took:.1f} s:\n"
            f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
        return
    produced = sorted(p for p in tmp.iterdir() if p.is_file())
    bad = 0
    for new in produced:
        old = folder / new.name
        if old not in committed:
            report.fail(f"{rel(gen)} writes {new.name}, which is not committed in {rel(folder)}")
            bad += 1
        elif old.read_bytes() != new.read_bytes():
            why = (
                describe_onnx_difference(old, new)
                if new.suffix == ".onnx"
                else describe_npz_difference(old, new)
            )
            report.fail(f"{rel(old)} differs from a fresh regeneration: {why}")
            bad += 1
    names = {p.name for p in produced}
    for old in sorted(p for p in committed if p.parent == folder):
        if old.suffix in DATA_SUFFIXES and old.name not in names:
            report.fail(f"{rel(old)} is not written by {rel(gen)} (stale?)")
            bad += 1
    if not bad:
        report.ok(f"{rel(gen)}: {len(produced)} files byte-identical ({took:.1f} s)")
    if keep:
        print(f"      kept {tmp}")
    else:
        for p in produced:
            p.unlink()
        tmp.rmdir()


def find_test_data(model: Path) -> Path | None:
    exact = model.with_name(f"{model.stem}_test.npz")
    if exact.exists():
        return exact
    best = None
    for cand in model.parent.glob("*_test.npz"):
        prefix = cand.name[: -len("_test.npz")]
        if model.stem.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, cand)
    return best[1] if best else None


def synth_input(info) -> np.ndarray:
    """Returns a deterministic input for an ONNX input of `info`'s type."""
    shape = [d if isinstance(d, int) else 1 for d in info.shape]
    if "float" in info.type:
        return np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    dtype = {"tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}.get(
        info.type, np.int64
    )
    return np.zeros(shape, dtype=dtype)


def check_model(model: Path, report: Report):
    try:
        proto = onnx.load(model)
        onnx.checker.check_model(proto, full_check=True)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - report every kind of load failure
        report.fail(f"{rel(model)}: does not load: {e}")
        return
    inputs = sess.get_inputs()
    data = find_test_data(model)
    feeds_list, labels, source = [], None, "synthesised inputs"
    if data is not None:
        arrays = np.load(data)
        missing = [i.name for i in inputs if i.name not in arrays.files]
        if missing:
            report.fail(f"{rel(model)}: {rel(data)} lacks inputs {missing}")
            return
        n = len(arrays[inputs[0].name])
        fixed_batch = all(isinstance(i.shape[0], int) for i in inputs if i.shape)
        if fixed_batch:
            b = inputs[0].shape[0]
            feeds_list = [
                {i.name: arrays[i.name][k : k + b] for i in inputs} for k in range(0, n - b + 1, b)
            ]
        else:
            feeds_list = [{i.name: arrays[i.name] for i in inputs}]
        labels = arrays["label"] if "label" in arrays.files else None
        source = rel(data)
    else:
        feeds_list = [{i.name: synth_input(i) for i in inputs}]
    try:
        outs = [sess.run(None, feeds) for feeds in feeds_list]
    except Exception as e:  # noqa: BLE001
        report.fail(f"{rel(model)}: onnxruntime failed on {source}: {e}")
        return
    first = np.concatenate([o[0] for o in outs])
    if not np.all(np.isfinite(first)):
        report.fail(f"{rel(model)}: non-finite outputs on {source}")
        return
    shape = list(first.shape[1:])
    msg = f"{rel(model)}: runs on {source} ({len(first)} x {shape}, std {first.std():.3g})"
    if labels is not None:
        acc = float((first.argmax(-1) == labels[: len(first)]).mean())
        floor = ACCURACY_FLOORS.get(model.name, 0.0)
        msg += f", top-1 accuracy {acc:.4f}"
        if acc < floor:
            report.fail(f"{msg} below the floor {floor}")
            return
    report.ok(msg)


def main() -> int:
    parser = argparse.ArgumentParser(description="Check the committed models.")
    parser.add_argument("--skip-regenerate", action="store_true", help="only load/run/size checks")
    parser.add_argument("--keep", action="store_true", help="keep the regenerated files")
    parser.add_argument(
        "--only", nargs="+", metavar="DIR", help="folders under models/ to check (default: all)"
    )
    args = parser.parse_args()
    t0 = time.time()
    report = Report()
    files = [f for f in committed_files() if selected(f, args.only)]
    committed = set(files)
    if not args.skip_regenerate:
        for gen in (f for f in files if f.name == "generate.py" and "modelgen" not in f.parts):
            check_regeneration(gen, committed, report, args.keep)
    models = [f for f in files if f.suffix == ".onnx"]
    for model in models:
        check_model(model, report)
    for f in (f for f in files if f.suffix in DATA_SUFFIXES):
        if f.stat().st_size > MAX_BYTES:
            report.fail(f"{rel(f)} is {f.stat().st_size} bytes, over {MAX_BYTES}")
    total = sum(m.stat().st_size for m in models)
    print(f"{len(models)} models, {total / 2**20:.2f} MiB; {time.time() - t0:.1f} s")
    if report.failures:
        print(f"{len(report.failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all model checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
