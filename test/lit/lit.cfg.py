# -*- Python -*-
# lit configuration of Kiln's FileCheck tests: per-pass .mlir tests, importer
# tests, tool tests and codegen tests. Tools come from build/bin, FileCheck and
# friends from LLVM's tools folder (/usr/lib/llvm-22/bin).

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "KILN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test", "lit")
config.excludes = ["Inputs", "CMakeLists.txt", "README.md", "lit.cfg.py"]

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [os.path.join(config.kiln_obj_root, "bin"), config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["kiln", "kiln-opt"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
config.substitutions.append(("%kiln_src", config.kiln_src_root))
# use_default_substitutions() already maps %python to lit's own interpreter;
# put the project venv's first so tests get onnx / numpy from the venv.
config.substitutions.insert(0, ("%python", config.kiln_python))

# Sanitized binaries must fail the test on any report, and leak checking is
# meaningful for our own code only.
config.environment["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"

if os.path.exists(config.kiln_python):
    config.available_features.add("python")
if config.kiln_cuda:
    config.available_features.add("nvcc")
if config.kiln_cortexm:
    config.available_features.add("cortexm")
