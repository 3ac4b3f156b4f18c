//===- Options.h - Options of the Kiln compiler -----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// CompileOptions gathers everything the command line (or an embedder) can
// set: the target, the quantization scheme and its parameters, input shapes
// for dynamic dimensions, and emission settings. validate() rejects values
// out of range with a precise message, so no later stage sees them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_INCLUDE_KILN_OPTIONS_H
#define KILN_COMPILER_INCLUDE_KILN_OPTIONS_H

#include "kiln/Diagnostics.h"
#include "kiln/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

/// A fixed shape for one graph input, from `--input-shape name=1x3x224x224`.
struct InputShape {
  std::string name;
  std::vector<int64_t> dims;
};

/// Options of import, the pipeline and code generation.
struct CompileOptions {
  /// Target: host, cortex-m4, cortex-m7, cortex-m55, cuda-sm80, cuda-sm90.
  std::string target = "host";
  /// Quantization scheme: none, fp16, int8, or a low-bit transformer scheme
  /// (isLowBitScheme: w8a8, w8a8-smooth, w4a16, w4a4, w4a4-smooth, w4a4-svd,
  /// w4a8, nvfp4, nvfp4-4over6).
  std::string quantize = "none";
  /// Calibration data: a .npz, a folder of .npy, or a test_data_set folder.
  std::string calibrationPath;
  /// Activation range observer: minmax, percentile, mse.
  std::string observer = "minmax";
  /// Percentile for the percentile observer, in (50, 100].
  double percentile = 99.99;
  /// Smoothing alpha of the smoothing schemes: "auto" (searched per layer
  /// on the calibration data) or a number in [0, 1].
  std::string smoothAlpha = "auto";
  /// Rank of SVDQuant's low-rank branch (w4a4-svd).
  int64_t rank = 32;
  /// KV-cache bits of the low-bit schemes: 16 (float), 8, or 4 (with
  /// SmoothAttention).
  int64_t kvBits = 16;
  /// Block error that Four Over Six minimizes: "mse" or "mae".
  std::string fp4Error = "mse";
  /// Where the low-bit schemes write their per-layer JSON report (empty:
  /// none).
  std::string quantReport;
  /// Shapes that replace dynamic (or all) input dimensions.
  std::vector<InputShape> inputShapes;
  /// Inputs bound to fixed values: the importer turns each model input
  /// whose name matches into a constant (`--bind DATA`). This is how a
  /// static compiler takes shape-like inputs (a Reshape target, the repeats
  /// of Tile) that a model leaves to run time.
  std::vector<Tensor> boundInputs;
  /// Where `compile` writes its output folder.
  std::string outputDir;
  /// Name used for generated symbols (kiln_<name>_run); derived from the
  /// model file name when empty.
  std::string modelName;
  /// Arena planner of the MCU/host targets: "default" or "greedy" (TF Lite
  /// Micro's greedy-by-size without in-place reuse, the baseline).
  std::string memoryPlanner = "default";
  /// Patch-based execution of the first stage (MCUNetV2): N x N patches,
  /// used when it shrinks the arena; 0 turns it off.
  int patch = 0;
  /// Write the memory report (peak, per-op live bytes, SVG timeline) into
  /// the output folder.
  bool report = false;
  /// Data for a harness (main.c) that runs the emitted program on it; empty
  /// for no harness.
  std::string harnessPath;
};

/// Returns the names of all supported targets.
const std::vector<std::string> &supportedTargets();
/// Returns the names of all supported quantization schemes.
const std::vector<std::string> &supportedQuantizeSchemes();

/// Returns true for the low-bit transformer schemes of kiln-quantize-lowbit.
bool isLowBitScheme(const std::string &scheme);

/// Returns true when the scheme of |options| needs calibration data.
bool needsCalibration(const CompileOptions &options);

/// Checks every option; fails with one error per bad value.
Status validate(const CompileOptions &options);

/// Checks that the target of |options| has kernels for its quantization
/// scheme (C targets: int8; CUDA targets: none of the schemes yet); fails
/// with a message naming both.
Status checkTargetSupportsScheme(const CompileOptions &options);

/// Parses "name=1x3x224x224" into |out|; fails with a message on bad syntax,
/// non-positive or absurdly large dimensions.
Status parseInputShape(const std::string &text, InputShape &out);

} // namespace kiln

#endif // KILN_COMPILER_INCLUDE_KILN_OPTIONS_H
