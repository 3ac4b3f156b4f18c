#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end check of the C targets: compile a model to C with a harness,
build and run the program (natively or under qemu-system-arm), and require
its int8 outputs to equal the reference evaluator's bit for bit.

  mcu_e2e.py --kiln BIN --model M.onnx --calibration C.npz --inputs T.npz
             --target host|cortex-m4|cortex-m7|cortex-m55 --workdir DIR
             [--cc gcc] [--sanitize] [--samples N] [--patch N]
             [--expect-residual] [--max-arena BYTES]

The evaluator's raw outputs come from `kiln run --quantize int8 --raw`; the
program prints "<output>: v0 v1 ..." per sample (see codegen/c/CEmitter.h).
"""
import argparse
import os
import re
import shutil
import sys

import numpy as np

from e2e_common import compare, parse_harness, run


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--calibration", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--cc", default=None)
    p.add_argument("--sanitize", action="store_true")
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--extra", nargs="*", default=[],
                   help="extra kiln flags, e.g. --memory-planner=greedy")
    p.add_argument("--patch", type=int, default=0,
                   help="compile with --patch N (patch-based first stage); "
                        "the program must still match the evaluator, and "
                        "the memory report must show the stage was used")
    p.add_argument("--expect-residual", action="store_true",
                   help="with --patch: the patch stage must run a residual "
                        "block (a kiln_add_s8 inside the patch loop)")
    p.add_argument("--max-arena", type=int, default=0,
                   help="the program's arena must not exceed BYTES")
    args = p.parse_args()

    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data = np.load(args.inputs)
    subset = {k: data[k][: args.samples] for k in data.files}
    inputs = os.path.join(work, "inputs.npz")
    np.savez(inputs, **subset)

    ref = os.path.join(work, "ref.npz")
    common = ["--quantize", "int8", "--calibration", args.calibration]
    run([args.kiln, "run", args.model, *common, "--inputs", inputs,
         "--outputs", ref, "--raw", *args.extra])
    out = os.path.join(work, "out")
    compile_flags = []
    if args.patch:
        compile_flags = [f"--patch={args.patch}", "--report"]
    run([args.kiln, "compile", args.model, "--target", args.target, *common,
         "--harness", inputs, "-o", out, *args.extra, *compile_flags])
    if args.patch:
        with open(os.path.join(out, "model.c")) as f:
            source = f.read()
        if "kiln_patch_gather(" not in source:
            sys.exit(f"--patch {args.patch}: the program has no patch "
                     "stage (see out/memory.md)")
        # The patch loop: from the stage's comment to its scatter call.
        begin = source.find("patch-based stage (MCUNetV2)")
        stage = source[begin:source.find("kiln_patch_scatter(", begin)]
        if args.expect_residual and "kiln_add_s8(" not in stage:
            sys.exit(f"--patch {args.patch}: the patch stage runs no "
                     "residual add (see out/memory.md)")
    if args.max_arena:
        with open(os.path.join(out, "model.h")) as f:
            match = re.search(r"#define KILN_\w+_ARENA_BYTES (\d+)", f.read())
        if not match or int(match.group(1)) > args.max_arena:
            sys.exit(f"arena {match.group(1) if match else '?'} bytes exceeds "
                     f"--max-arena {args.max_arena} (see out/memory.md)")

    env = dict(os.environ)
    make = ["make", "-s", "-C", out]
    if args.cc:
        make.append(f"CC={args.cc}")
    if args.sanitize:
        make.append("CFLAGS=-O1 -g -fsanitize=address,undefined "
                    "-fno-sanitize-recover=all -fno-omit-frame-pointer")
        make.append("LDFLAGS=-fsanitize=address,undefined")
        env["ASAN_OPTIONS"] = "detect_leaks=1"
    run(make + ["all"], env=env)
    _, stdout = run(make + ["run"], env=env)

    expected = np.load(ref)
    if not compare({k: expected[k] for k in expected.files},
                   parse_harness(stdout)):
        sys.exit(1)


if __name__ == "__main__":
    main()
