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
           "depthwise, whose threads would race)">
  ];
}

#endif // KILN_PASSES_MEMORY_PASSES_TD
