//===- Passes.td - Memory planning passes --------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The MLIR side of memory planning: builds the planner's graph from a
// lowered function, runs KilnMemoryPlanner and records the arena layout.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PASSES_TD
#define KILN_PASSES_MEMORY_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnPlanMemoryPass : Pass<"kiln-plan-memory", "func::FuncOp"> {
  let summary = "Plans one static arena for every activation";
  let description = [{
    Builds the planner graph of a lowered function (every non-constant
    tensor; kiln.quantize of an argument is the program's int8 input and
    the kiln.dequantize feeding the return marks its outputs; reshapes are
    zero-copy aliases; int8 depthwise convolutions, clamps, requantizes,
    softmax and same-shape add / mul may run in place; conv scratch is
    planned too), runs the planner (`default`, or `greedy` for TF Lite
    Micro's greedy-by-size with no reuse), checks the result, reorders the
    ops to the execution order it chose, and records:
      - `kiln.offsets = array<i64: ...>` (one arena offset per result),
      - `kiln.scratch_offset` and `kiln.in_place = "depthwise"` /
        `"elementwise"` on ops that use them,
      - `kiln.arena_bytes`, `kiln.arena_lower_bound`, `kiln.planner` on the
        function.
    With `device=gpu` the plan is for the CUDA kernels: no per-op scratch
    and no in-place depthwise convolution (elementwise ops still run in
    place). With `report=PREFIX` it writes PREFIX.md (peak, per-op live bytes) and
    PREFIX.svg (the arena timeline).

    With `patch=N` (MCUNetV2's patch-based inference) the pass cuts a stage
    from the chain of int8 conv / depthwise / pooling ops that starts at the
    program input (after an optional NCHW -> NHWC transpose of the input),
    plans every prefix of it as N x N patches with the planner library
    (planPatches, replaceStageWithPatches) and keeps the prefix with the
    smallest arena if it beats whole-tensor execution. It then records
      - on the function: `kiln.patch_stage = {patches, buffer_offset,
        buffer_bytes, whole_macs, patch_macs}`;
      - on each stage op: `kiln.patch_layer` (its index, -1 for the input
        transpose, which the patches gather directly); stage intermediates
        get offset -1 (they never exist whole);
      - on each layer: `kiln.patch_regions` (12 values per patch: input rows
        and columns [begin, end), output rows and columns, pads top, left,
        bottom, right) and `kiln.patch_buffer` (arena offsets of the layer's
        input region, output region and scratch inside the per-patch
        buffer, -1 where unused).
    ```mlir
    %1 = kiln.qconv2d %0, %w, %b {..., kiln.offsets = array<i64: -1>,
           kiln.patch_layer = 0 : i64,
           kiln.patch_regions = array<i64: 0, 17, 0, 17, 0, 8, 0, 8, 1, 1, 0, 0, ...>,
           kiln.patch_buffer = array<i64: 27648, 29440, 28560>} : ...
    ```
    The report then has a section listing every candidate stage (buffer,
    stage peak, recomputed MACs, arena) and the choice.

    Example: after the pass a kernel reads
    ```mlir
    %y = kiln.qconv2d %x, %w, %b {..., kiln.offsets = array<i64: 1024>,
           kiln.scratch_offset = 4096 : i64} : ...
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
  let options = [
    Option<"planner", "planner", "std::string", "\"default\"",
           "Arena planner: default, or greedy (TF Lite Micro's baseline)">,
    Option<"report", "report", "std::string", "\"\"",
           "Write PREFIX.md and PREFIX.svg describing the plan">,
    Option<"device", "device", "std::string", "\"mcu\"",
           "Kernels the plan is for: mcu (runtime/c: conv scratch, in-place "
           "depthwise) or gpu (runtime/cuda: no scratch, no in-place "
           "depthwise, whose threads would race)">,
    Option<"patch", "patch", "int", "0",
           "Run the first stage in N x N patches (MCUNetV2) when that "
           "shrinks the arena; 0: off">
  ];
}

#endif // KILN_PASSES_MEMORY_PASSES_TD
