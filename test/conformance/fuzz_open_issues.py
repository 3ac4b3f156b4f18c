#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reproducers of importer bugs found while fuzzing that live in other op
families' converters or shape functions (not yet fixed there).

Each case is a tiny model with a hostile integer (2^62, INT64_MIN, ...); a
correct importer rejects it with a clear error. Today several trip UBSan
(signed overflow) in the sanitized build. Run:
  .venv/bin/python test/conformance/fuzz_open_issues.py build/bin/kiln
Once a case prints "ok", move it into hostile_models() of
make_fuzz_corpus.py so the fuzz test replays it on every run.
"""
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import onnx  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402

BIG, MIN, MAX = 2**62, -2**63, 2**63 - 1


def I(name, value):
    return numpy_helper.from_array(np.array(value, np.int64), name)


def vi(name, shape, elem=1):
    return helper.make_tensor_value_info(name, elem, shape)


W = numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), "w")
W2 = numpy_helper.from_array(np.ones((1, 1, 2, 2), np.float32), "w")
X22, X44 = vi("x", [2, 2]), vi("x", [1, 1, 4, 4])
CASES = {
    # name: (file:line it trips today, nodes, inputs, initializers)
    "slice_step_max": ("ops/DataMovement.cpp (Slice count)",
                       [helper.make_node("Slice", ["x", "s", "e", "a", "p"],
                                         ["y"])], [vi("x", [4, 4])],
                       [I("s", [0]), I("e", [4]), I("a", [0]),
                        I("p", [MAX])]),
    "slice_step_min": ("ops/DataMovement.cpp (Slice -step)",
                       [helper.make_node("Slice", ["x", "s", "e", "a", "p"],
                                         ["y"])], [vi("x", [4, 4])],
                       [I("s", [3]), I("e", [-10]), I("a", [0]),
                        I("p", [MIN])]),
    "tile_repeats": ("ops/DataMovement.cpp (Tile dim * repeats)",
                     [helper.make_node("Tile", ["x", "r"], ["y"])], [X22],
                     [I("r", [BIG, BIG])]),
    "pad_huge": ("ops/DataMovement.cpp (Pad dim + pads)",
                 [helper.make_node("Pad", ["x", "p"], ["y"])], [X22],
                 [I("p", [BIG, 0, BIG, 0])]),
    "conv_pads": ("dialects/kiln/KilnShapes.cpp (conv output size)",
                  [helper.make_node("Conv", ["x", "w"], ["y"],
                                    pads=[BIG, 0, BIG, 0])], [X44], [W]),
    "conv_dilation": ("dialects/kiln/KilnShapes.cpp (dilated kernel)",
                      [helper.make_node("Conv", ["x", "w"], ["y"],
                                        dilations=[MAX, 1])], [X44], [W2]),
    "pool_strides": ("dialects/kiln/KilnShapes.cpp (pool output size)",
                     [helper.make_node("MaxPool", ["x"], ["y"],
                                       kernel_shape=[1, 1],
                                       pads=[MAX, 0, MAX, 0])], [X44], []),
}


def main():
    kiln = sys.argv[1]
    folder = tempfile.mkdtemp(prefix="kiln-open-")
    open_count = 0
    for name, (where, nodes, inputs, inits) in CASES.items():
        graph = helper.make_graph(nodes, name, inputs, [vi("y", None)], inits)
        model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", 17)])
        model.ir_version = 10
        path = os.path.join(folder, name + ".onnx")
        onnx.save(model, path)
        proc = subprocess.run([kiln, "import", path, "-o", os.devnull],
                              capture_output=True, text=True)
        clean = proc.returncode == 1 and "runtime error" not in proc.stderr \
            and "Sanitizer" not in proc.stderr
        open_count += not clean
        first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
        print(f"{'ok  ' if clean else 'OPEN'} {name:15} {where}: {first[:150]}")
    print(f"{open_count} open of {len(CASES)}; models in {folder}")
    return 1 if open_count else 0


if __name__ == "__main__":
    sys.exit(main())
