#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end check of the CUDA targets, in three steps that may run on two
machines (the GPU machine has nvcc but no Kiln):

  cuda_e2e.py prepare --kiln BIN --model M.onnx --calibration C.npz
              --inputs T.npz --target cuda-sm80|cuda-sm90 --dir DIR
      compiles the model with a harness into DIR/program and writes the
      reference evaluator's raw int8 outputs to DIR/expected.txt
  cuda_e2e.py build --dir DIR [--nvcc PATH] [--arch 80|90a]
      configures and builds DIR/program with CMake + nvcc (host g++)
  cuda_e2e.py check --dir DIR
      runs DIR/build/model_run and requires its outputs to equal
      expected.txt bit for bit; exits 77 (ctest: skipped) without a usable
      CUDA device, saying why

`all` does the three in order. test/gpu/run-e2e.sh runs build + check over
every prepared folder on the GPU machine.
"""
import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import compare, format_expected, parse_harness, run  # noqa


def prepare(args):
    import numpy as np
    work = args.dir
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data = np.load(args.inputs)
    subset = {k: data[k][: args.samples] for k in data.files}
    inputs = os.path.join(work, "inputs.npz")
    np.savez(inputs, **subset)
    ref = os.path.join(work, "ref.npz")
    common = ["--quantize", "int8", "--calibration", args.calibration]
    run([args.kiln, "run", args.model, *common, "--inputs", inputs,
         "--outputs", ref, "--raw"])
    run([args.kiln, "compile", args.model, "--target", args.target, *common,
         "--harness", inputs, "-o", os.path.join(work, "program")])
    expected = np.load(ref)
    with open(os.path.join(work, "expected.txt"), "w") as f:
        f.write(format_expected({k: expected[k] for k in expected.files}))
    print(f"prepared {work}/program and expected.txt")


def build(args):
    program = os.path.join(args.dir, "program")
    out = os.path.join(args.dir, "build")
    shutil.rmtree(out, ignore_errors=True)
    nvcc = args.nvcc or shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    configure = ["cmake", "-S", program, "-B", out, "-G", "Ninja",
                 f"-DCMAKE_CUDA_COMPILER={nvcc}",
                 "-DCMAKE_CUDA_HOST_COMPILER=g++", "-DCMAKE_CXX_COMPILER=g++",
                 "-DCMAKE_BUILD_TYPE=Release"]
    if args.arch:
        configure.append(f"-DCMAKE_CUDA_ARCHITECTURES={args.arch}")
    env = dict(os.environ)
    env.pop("CUDAFLAGS", None)
    if shutil.which("cmake") and shutil.which("ninja"):
        run(configure, env=env)
        run(["cmake", "--build", out], env=env, timeout=1800)
    else:
        # The GPU machine may lack CMake: the same two nvcc steps by hand.
        os.makedirs(out)
        arch = args.arch or ("90a" if "sm_90a" in open(
            os.path.join(program, "model.h")).read() else "80")
        flags = ["-std=c++17", "-O3", "-lineinfo", f"-arch=sm_{arch}",
                 "-ccbin", "g++", "--Werror", "all-warnings"]
        run([nvcc, *flags, "-shared", "-Xcompiler", "-fPIC",
             "-I", program, "-I", os.path.join(program, "kiln_cuda/include"),
             os.path.join(program, "model.cu"), "-o",
             os.path.join(out, "libmodel.so")], env=env, timeout=1800)
        run([nvcc, *flags, "-I", program, os.path.join(program, "main.cu"),
             "-L", out, "-lmodel", f"-Xlinker=-rpath,{os.path.abspath(out)}",
             "-o", os.path.join(out, "model_run")], env=env)
    print(f"built {out}/model_run with {nvcc}")


def check(args):
    out = os.path.join(args.dir, "build")
    runner = os.path.join(out, "model_run")
    code, stdout = run([runner, os.path.join(args.dir, "program",
                                             "weights.bin")],
                       ok_codes=(0, 77))
    if code == 77:
        print(stdout.strip() or "no CUDA device")
        sys.exit(77)
    with open(os.path.join(args.dir, "expected.txt")) as f:
        want = parse_harness(f.read())
    if not compare(want, parse_harness(stdout)):
        sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=["prepare", "build", "check", "all"])
    p.add_argument("--dir", required=True)
    p.add_argument("--kiln")
    p.add_argument("--model")
    p.add_argument("--calibration")
    p.add_argument("--inputs")
    p.add_argument("--target", default="cuda-sm80")
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--nvcc")
    p.add_argument("--arch")
    args = p.parse_args()
    if args.step in ("prepare", "all"):
        prepare(args)
    if args.step in ("build", "all"):
        build(args)
    if args.step in ("check", "all"):
        check(args)


if __name__ == "__main__":
    main()
