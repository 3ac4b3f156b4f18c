//===- Passes.td - Fusion passes -----------------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Kernel selection and fusion for the GPU targets: which runtime/cuda kernel
// each layer gets, which neighbouring ops run inside it, and why a layer
// falls back.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_FUSION_PASSES_TD
#define KILN_PASSES_FUSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnFuseLowBitPass : Pass<"kiln-fuse-lowbit", "ModuleOp"> {
  let summary = "Chooses the CUDA kernel of every low-bit linear layer and "
                "fuses SVDQuant's low-rank branch into the W4A4 GEMM";
  let description = [{
    Runs after `kiln-quantize-lowbit`. For every `kiln.lowbit_linear`
    (M = the product of the input's leading dimensions, N x K the weight)
    it picks the `runtime/cuda` kernel for `arch` with the heuristics of
    `runtime/cuda/include/kiln/cuda/Select.h` (the same code the generated
    program is built against) and records the choice on the op:
      - `kiln.kernel`: the launcher and its tile, e.g.
        `kiln::cuda::GemmW4A8Sm90<kiln::cuda::TileW4A8Sm90>`, or `none`;
      - `kiln.kernel_reason`: why that kernel, or why none applies.
    Pairs and kernels:
      - int8 x int8 (W8A8): `chooseGemmKernel` (GemmInt8Sm90 for M >= 128
        on sm90, else GemmInt8Sm80 tiles with split-K), per-token x
        per-channel scales in the epilogue;
      - qoq x int8 (QoQ W4A8): `chooseW4A8Kernel`; needs group 128,
        K % 128 == 0 and N % 8 == 0;
      - int4-sym x int4-sym (W4A4), group 64, K % 64 == 0: `W4A4Quantize`
        + `GemmW4A4` (int4 mma on sm80; int8 mma after in-register
        unpacking on sm90, which has no int4 tensor cores). When the
        layer's SVDQuant branch is present — `kiln.matmul {kiln.lowrank =
        "down"}` of the same input, `kiln.matmul {kiln.lowrank = "up"}`,
        `kiln.add {kiln.lowrank = "merge"}` — and its rank is 16, 32, 64
        or 128, the branch is fused: the quantizer computes X L1 while it
        reads X, the GEMM epilogue adds (X L1) L2. The layer gets
        `kiln.lowrank_rank`, and the three branch ops get
        `kiln.fused_into = "<kernel>"` (the emitter skips them). Other
        ranks run the branch unfused (reported);
      - everything else has no CUDA kernel (NVFP4 needs sm_100 FP4 tensor
        cores; weight-only W4A16 has no kernel yet): `kiln.kernel = "none"`.
    Every layer without its best kernel — no kernel, or an unfused
    low-rank branch — gets a remark saying why, so no layer falls back
    silently. With `report=PATH` the pass writes a Markdown table, one row
    per layer: node, M x N x K, formats, kernel, reason.

    Example (sm90, QoQ, M = 128):
    ```mlir
    %y = kiln.lowbit_linear %x, %w, %s1 zeros(%zs2) group_scales(%s2)
           {act_format = "int8", weight_format = "qoq",
            weight_group_size = 128 : i64,
            kiln.kernel = "kiln::cuda::GemmW4A8Sm90<kiln::cuda::TileW4A8Sm90>",
            kiln.kernel_reason = "QoQ W4A8: RS wgmma (sm90, M >= 64)"} : ...
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
  let options = [
    Option<"arch", "arch", "std::string", "\"sm90\"",
           "GPU architecture: sm80 or sm90">,
    Option<"report", "report", "std::string", "\"\"",
           "Write a Markdown table of every layer's kernel to this path">
  ];
}

#endif // KILN_PASSES_FUSION_PASSES_TD
