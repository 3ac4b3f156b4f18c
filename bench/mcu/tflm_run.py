#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs a .tflite under TF Lite Micro's Python interpreter (PyPI package
`tflite-micro`, pinned in bench/mcu/requirements.txt): int8 outputs for the
given inputs, compared with Kiln's evaluator, and the arena TFLM needs.

  tflm_run.py --tflite M.tflite --inputs T.npz [--samples N]
              [--expected RAW.npz] [--json OUT.json]

Inputs are quantized as Kiln's harness does (float32 division, round half
away from zero, zero point, clamp). --expected is `kiln run --quantize int8
--raw` output; the script reports the largest absolute difference in LSB.
Arena: TFLM's RecordingMicroAllocator report (print_allocations) after one
inference: "head" is the non-persistent section, where TFLM's
GreedyMemoryPlanner places the activations and kernel scratch (what Kiln's
arena holds); "tail" is persistent data (tensor and node structs, kernel
op data, quantization parameters) laid out with the host's 64-bit pointers,
so it is larger here than on a 32-bit Cortex-M. The script checks that a
fresh interpreter runs with exactly the recorded total.
"""
import argparse
import json
import os
import re
import sys
import tempfile

import numpy as np


def capture_fd1(fn):
    """Runs fn() and returns (result, what C code printed on fds 1 and 2)."""
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = [os.dup(1), os.dup(2)]
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            result = fn()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        tmp.seek(0)
        return result, tmp.read().decode(errors="replace")


def quantize(x, scale, zp):
    q = np.asarray(x, np.float32) / np.float32(scale)
    q = np.where(q >= 0, np.floor(q + 0.5), np.ceil(q - 0.5))
    return np.clip(q + zp, -128, 127).astype(np.int8)


def make(runtime, model, arena):
    return runtime.Interpreter.from_bytes(model, arena_size=arena)


def fits(runtime, model, size, shape):
    """Returns True when an interpreter with an arena of |size| bytes
    allocates and runs once."""
    try:
        interp, _ = capture_fd1(lambda: make(runtime, model, size))
        interp.set_input(np.zeros(shape, np.int8), 0)
        capture_fd1(interp.invoke)
        return True
    except Exception:
        return False


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tflite", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--expected")
    p.add_argument("--json")
    args = p.parse_args()
    from tflite_micro.python.tflite_micro import runtime

    model = open(args.tflite, "rb").read()
    interp, _ = capture_fd1(lambda: make(runtime, model, 4 << 20))
    detail = interp.get_input_details(0)
    scale, zp = detail["quantization_parameters"]["scales"][0], \
        detail["quantization_parameters"]["zero_points"][0]
    data = np.load(args.inputs)
    x = data[data.files[0]][: args.samples]
    outputs = []
    for i in range(len(x)):
        interp.set_input(quantize(x[i:i + 1], scale, zp).reshape(detail["shape"]),
                         0)
        _, printed = capture_fd1(interp.invoke)
        outputs.append(interp.get_output(0).reshape(-1).astype(np.int64))
    _, report = capture_fd1(interp.print_allocations)
    result = {"tflite_bytes": len(model)}
    m = re.search(r"Arena allocation total (\d+) bytes", report)
    h = re.search(r"Arena allocation head (\d+) bytes", report)
    t = re.search(r"Arena allocation tail (\d+) bytes", report)
    if m:
        result.update(arena_total=int(m.group(1)), arena_head=int(h.group(1)),
                      arena_tail=int(t.group(1)))
    if "arena_total" in result:
        # The recorded total must be enough on its own (checked on a fresh
        # interpreter; TFLM may crash rather than fail on much smaller ones).
        result["arena_total_fits"] = fits(runtime, model,
                                          result["arena_total"], detail["shape"])
    got = np.stack(outputs)
    if args.expected:
        exp = np.load(args.expected)
        want = exp[exp.files[0]].astype(np.int64).reshape(len(got), -1)
        diff = np.abs(got - want)
        result.update(max_lsb=int(diff.max()), mismatches=int((diff > 0).sum()),
                      values=int(diff.size))
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    print(report, file=sys.stderr)


if __name__ == "__main__":
    main()
