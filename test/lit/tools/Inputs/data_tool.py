#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Data files for the `kiln run` / `--bind` lit tests.

  data_tool.py inputs MODEL DIR
      writes fixed-seed inputs for MODEL's graph inputs as DIR/in.npz,
      DIR/npy/<name>.npy and DIR/test_data_set_0/input_N.pb (+ output_N.pb
      computed by onnxruntime)
  data_tool.py compare MODEL INPUTS.npz OUTPUTS.npz [BIND.npz]
      runs MODEL in onnxruntime on INPUTS (plus the bound tensors) and
      compares with Kiln's OUTPUTS; prints one line per output and exits 1
      on a mismatch (rtol 1e-4, atol 1e-5)
  data_tool.py npz OUT NAME=DTYPE:V0,V1,... [...]
      writes a small .npz with the given 1-D arrays
"""
import os
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import numpy_helper  # noqa: E402


def graph_inputs(model):
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def run_ort(path, feeds):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


def inputs(model_path, folder):
    model = onnx.load(model_path)
    rng = np.random.default_rng(7)
    feeds = {}
    for i in graph_inputs(model):
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(
            i.type.tensor_type.elem_type)
        feeds[i.name] = rng.uniform(-1, 1, shape).astype(dtype)
    os.makedirs(os.path.join(folder, "npy"), exist_ok=True)
    os.makedirs(os.path.join(folder, "test_data_set_0"), exist_ok=True)
    np.savez(os.path.join(folder, "in.npz"), **feeds)
    for k, (name, value) in enumerate(feeds.items()):
        np.save(os.path.join(folder, "npy", name + ".npy"), value)
        tensor = numpy_helper.from_array(value, name)
        with open(os.path.join(folder, "test_data_set_0",
                               f"input_{k}.pb"), "wb") as f:
            f.write(tensor.SerializeToString())
    for k, (name, value) in enumerate(run_ort(model_path, feeds).items()):
        with open(os.path.join(folder, "test_data_set_0",
                               f"output_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(value, name).SerializeToString())
    print(f"wrote {len(feeds)} input(s) in 3 formats to {folder}")


def compare(model_path, inputs_path, outputs_path, bind_path=None):
    feeds = dict(np.load(inputs_path))
    if bind_path:
        feeds.update(dict(np.load(bind_path)))
    want = run_ort(model_path, feeds)
    got = dict(np.load(outputs_path))
    ok = True
    for name, expected in want.items():
        actual = got.get(name)
        if actual is None:
            print(f"{name}: MISSING")
            ok = False
            continue
        same = (actual.dtype == expected.dtype and
                actual.shape == expected.shape and
                np.allclose(actual, expected, rtol=1e-4, atol=1e-5))
        err = float(np.max(np.abs(actual.astype(np.float64) - expected))) \
            if actual.shape == expected.shape else float("inf")
        print(f"{name}: {actual.dtype}{list(actual.shape)} "
              f"{'matches' if same else 'DIFFERS'} onnxruntime "
              f"(max abs error {'below 1e-5' if err < 1e-5 else err})")
        ok = ok and same
    return 0 if ok else 1


def npz(out, *specs):
    arrays = {}
    for spec in specs:
        name, _, rest = spec.partition("=")
        dtype, _, values = rest.partition(":")
        arrays[name] = np.array([float(v) for v in values.split(",")],
                                dtype=dtype)
    np.savez(out, **arrays)


def main():
    command = sys.argv[1]
    if command == "inputs":
        inputs(*sys.argv[2:])
        return 0
    if command == "compare":
        return compare(*sys.argv[2:])
    if command == "npz":
        npz(*sys.argv[2:])
        return 0
    print(f"unknown command {command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
