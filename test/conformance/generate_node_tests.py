#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the ONNX backend node tests of the pinned `onnx` package.

The PyPI wheel ships the test-case generators (onnx.backend.test.case.node)
but not their data; this runs the generators and writes each case as
ONNX's own `backend-test-tools generate-data` does:
  <out>/<test name>/model.onnx
  <out>/<test name>/test_data_set_N/{input,output}_M.pb
Usage: generate_node_tests.py OUT_DIR
"""
import argparse
import os
import shutil
import sys
import types
import warnings


def main() -> None:
    out = sys.argv[1]
    warnings.filterwarnings("ignore")
    import onnx.backend.test.case.node as node_cases
    import onnx.backend.test.cmd_tools as cmd_tools

    cases = node_cases.collect_testcases()
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    # Reuse ONNX's own writer so the files are exactly what it would write.
    cmd_tools.model_test = types.SimpleNamespace(collect_testcases=lambda: cases)
    cmd_tools.generate_data(argparse.Namespace(output=tmp))
    shutil.rmtree(out, ignore_errors=True)
    os.rename(os.path.join(tmp, "node"), out)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {len(cases)} node tests to {out}")


if __name__ == "__main__":
    main()
