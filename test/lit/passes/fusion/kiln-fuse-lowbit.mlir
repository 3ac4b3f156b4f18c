// RUN: kiln-opt --verify-diagnostics --kiln-fuse-lowbit="arch=sm90 report=%t-sm90.md" %s | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: kiln-opt --verify-diagnostics --kiln-fuse-lowbit="arch=sm80" %s | FileCheck %s --check-prefixes=CHECK,SM80
// RUN: FileCheck %s --check-prefix=REPORT < %t-sm90.md
// RUN: not kiln-opt --kiln-fuse-lowbit="arch=sm70" %s 2>&1 | FileCheck %s --check-prefix=ARCH
// ARCH: kiln-fuse-lowbit: arch must be sm80 or sm90, got 'sm70'

// Every low-bit layer gets the runtime/cuda kernel Select.h chooses for its
// formats and shape (M = 128 tokens here, N = 16, K = 256), or "none" with
// the reason and a remark.

// REPORT: # Low-bit layers and their CUDA kernels (sm90)
// REPORT: | layer | M x N x K | weights x activations | kernel | why |

// W8A8: int8 tensor cores (wgmma for M >= 128 on sm90).
// CHECK-LABEL: func.func @w8a8
// SM90: kiln.kernel = "kiln::cuda::GemmInt8Sm90<kiln::cuda::TileSm90Medium>"
// SM80: kiln.kernel = "kiln::cuda::GemmInt8Sm80<kiln::cuda::TileInt8Medium>"
// CHECK-SAME: kiln.kernel_reason = "W8A8: int8 tensor cores, per-token x per-channel scales in the epilogue"
// REPORT: | node 'w8a8_fc' | 128 x 16 x 256 | int8 x int8 | `kiln::cuda::GemmInt8Sm90<kiln::cuda::TileSm90Medium>` | W8A8
func.func @w8a8(%x: tensor<1x128x256xf32>) -> tensor<1x128x16xf32> {
  %w = kiln.constant dense<1> : tensor<16x256xi8> : tensor<16x256xi8>
  %s = kiln.constant dense<0.5> : tensor<16xf32> : tensor<16xf32>
  %y = kiln.lowbit_linear %x, %w, %s {weight_format = "int8", act_format = "int8"} : (tensor<1x128x256xf32>, tensor<16x256xi8>, tensor<16xf32>) -> tensor<1x128x16xf32> loc("w8a8_fc")
  return %y : tensor<1x128x16xf32>
}

// QoQ W4A8, group 128: RS wgmma on sm90 (M >= 64), mma.sync on sm80.
// CHECK-LABEL: func.func @qoq
// SM90: kiln.kernel = "kiln::cuda::GemmW4A8Sm90<kiln::cuda::TileW4A8Sm90>", kiln.kernel_reason = "QoQ W4A8: RS wgmma (sm90, M >= 64)"
// SM80: kiln.kernel = "kiln::cuda::GemmW4A8<kiln::cuda::TileW4A8Medium>", kiln.kernel_reason = "QoQ W4A8: int8 mma.sync, in-register 4 -> 8 bit unpacking"
func.func @qoq(%x: tensor<1x128x256xf32>) -> tensor<1x128x16xf32> {
  %w = kiln.constant dense<15> : tensor<16x256xui4> : tensor<16x256xui4>
  %s1 = kiln.constant dense<0.5> : tensor<16xf32> : tensor<16xf32>
  %zs = kiln.constant dense<24> : tensor<16x2xui8> : tensor<16x2xui8>
  %s2 = kiln.constant dense<3> : tensor<16x2xui8> : tensor<16x2xui8>
  %y = kiln.lowbit_linear %x, %w, %s1 zeros(%zs) group_scales(%s2) {weight_format = "qoq", weight_group_size = 128 : i64, act_format = "int8"} : (tensor<1x128x256xf32>, tensor<16x256xui4>, tensor<16xf32>, tensor<16x2xui8>, tensor<16x2xui8>) -> tensor<1x128x16xf32>
  return %y : tensor<1x128x16xf32>
}

// Decode-sized QoQ (M = 1) stays on the mma.sync kernel's skinny tile on
// both architectures.
// CHECK-LABEL: func.func @qoq_decode
// CHECK: kiln.kernel = "kiln::cuda::GemmW4A8<kiln::cuda::TileW4A8Skinny>"
func.func @qoq_decode(%x: tensor<1x1x256xf32>) -> tensor<1x1x16xf32> {
  %w = kiln.constant dense<15> : tensor<16x256xui4> : tensor<16x256xui4>
  %s1 = kiln.constant dense<0.5> : tensor<16xf32> : tensor<16xf32>
  %zs = kiln.constant dense<24> : tensor<16x2xui8> : tensor<16x2xui8>
  %s2 = kiln.constant dense<3> : tensor<16x2xui8> : tensor<16x2xui8>
  %y = kiln.lowbit_linear %x, %w, %s1 zeros(%zs) group_scales(%s2) {weight_format = "qoq", weight_group_size = 128 : i64, act_format = "int8"} : (tensor<1x1x256xf32>, tensor<16x256xui4>, tensor<16xf32>, tensor<16x2xui8>, tensor<16x2xui8>) -> tensor<1x1x16xf32>
  return %y : tensor<1x1x16xf32>
}

// QoQ with group 64: the W4A8 kernels decode groups of 128 only.
// CHECK-LABEL: func.func @qoq_group64
// CHECK: kiln.kernel = "none", kiln.kernel_reason = "QoQ W4A8 needs group 128, K % 128 == 0 and N % 8 == 0 (group 64, K 256, N 16)"
func.func @qoq_group64(%x: tensor<1x128x256xf32>) -> tensor<1x128x16xf32> {
  %w = kiln.constant dense<15> : tensor<16x256xui4> : tensor<16x256xui4>
  %s1 = kiln.constant dense<0.5> : tensor<16xf32> : tensor<16xf32>
  %zs = kiln.constant dense<24> : tensor<16x4xui8> : tensor<16x4xui8>
  %s2 = kiln.constant dense<3> : tensor<16x4xui8> : tensor<16x4xui8>
  // expected-remark @+1 {{no CUDA kernel: QoQ W4A8 needs group 128}}
  %y = kiln.lowbit_linear %x, %w, %s1 zeros(%zs) group_scales(%s2) {weight_format = "qoq", weight_group_size = 64 : i64, act_format = "int8"} : (tensor<1x128x256xf32>, tensor<16x256xui4>, tensor<16xf32>, tensor<16x4xui8>, tensor<16x4xui8>) -> tensor<1x128x16xf32>
  return %y : tensor<1x128x16xf32>
}

// SVDQuant W4A4 with its rank-16 branch (as kiln-quantize-lowbit builds it):
// the branch fuses into the W4A4 kernels and its three ops are marked.
// CHECK-LABEL: func.func @svd_fused
// CHECK: %[[Q:.+]] = kiln.lowbit_linear
// SM90-SAME: kiln.kernel = "kiln::cuda::W4A4Quantize<16> + kiln::cuda::GemmW4A4<16, false>"
// SM90-SAME: kiln.kernel_reason = "SVDQuant W4A4, low-rank branch (rank 16) fused: X L1 in the quantizer, (X L1) L2 in the GEMM epilogue; int8 mma after in-register int4 unpacking (sm90 has no int4 tensor cores)"
// SM80-SAME: kiln.kernel = "kiln::cuda::W4A4Quantize<16> + kiln::cuda::GemmW4A4<16, true>"
// SM80-SAME: int4 mma (m16n8k64)
// CHECK-SAME: kiln.lowrank_rank = 16 : i64
// CHECK: kiln.matmul %arg0, %{{.+}} {kiln.fused_into = "kiln::cuda::W4A4Quantize<16> + kiln::cuda::GemmW4A4<16, {{true|false}}>", kiln.lowrank = "down"}
// CHECK: kiln.matmul %{{.+}}, %{{.+}} {kiln.fused_into = "{{.+}}", kiln.lowrank = "up"}
// CHECK: kiln.add %[[Q]], %{{.+}} {kiln.fused_into = "{{.+}}", kiln.lowrank = "merge"}
func.func @svd_fused(%x: tensor<1x128x256xf32>) -> tensor<1x128x16xf32> {
  %w = kiln.constant dense<-7> : tensor<16x256xi4> : tensor<16x256xi4>
  %s = kiln.constant dense<0.125> : tensor<16x4xf32> : tensor<16x4xf32>
  %down = kiln.constant dense<0.01> : tensor<256x16xf32> : tensor<256x16xf32>
  %up = kiln.constant dense<0.02> : tensor<16x16xf32> : tensor<16x16xf32>
  %q = kiln.lowbit_linear %x, %w, %s {weight_format = "int4-sym", weight_group_size = 64 : i64, act_format = "int4-sym", act_group_size = 64 : i64} : (tensor<1x128x256xf32>, tensor<16x256xi4>, tensor<16x4xf32>) -> tensor<1x128x16xf32>
  %t = kiln.matmul %x, %down {kiln.lowrank = "down"} : (tensor<1x128x256xf32>, tensor<256x16xf32>) -> tensor<1x128x16xf32>
  %u = kiln.matmul %t, %up {kiln.lowrank = "up"} : (tensor<1x128x16xf32>, tensor<16x16xf32>) -> tensor<1x128x16xf32>
  %y = kiln.add %q, %u {kiln.lowrank = "merge"} : (tensor<1x128x16xf32>, tensor<1x128x16xf32>) -> tensor<1x128x16xf32>
  return %y : tensor<1x128x16xf32>
}

// A rank the fused kernel does not take (2): plain W4A4 kernel, the branch
// stays as it is, and a remark says so.
// CHECK-LABEL: func.func @svd_rank2
// CHECK: kiln.lowbit_linear {{.*}}kiln.kernel = "kiln::cuda::W4A4Quantize<0> + kiln::cuda::GemmW4A4<0, {{true|false}}>"
// CHECK-NOT: kiln.fused_into
// CHECK: return
func.func @svd_rank2(%x: tensor<1x128x256xf32>) -> tensor<1x128x16xf32> {
  %w = kiln.constant dense<-7> : tensor<16x256xi4> : tensor<16x256xi4>
  %s = kiln.constant dense<0.125> : tensor<16x4xf32> : tensor<16x4xf32>
  %down = kiln.constant dense<0.01> : tensor<256x2xf32> : tensor<256x2xf32>
  %up = kiln.constant dense<0.02> : tensor<2x16xf32> : tensor<2x16xf32>
  // expected-remark @+1 {{low-rank branch of rank 2 runs unfused (the fused kernel takes ranks 16, 32, 64, 128)}}
  %q = kiln.lowbit_linear %x, %w, %s {weight_format = "int4-sym", weight_group_size = 64 : i64, act_format = "int4-sym", act_group_size = 64 : i64} : (tensor<1x128x256xf32>, tensor<16x256xi4>, tensor<16x4xf32>) -> tensor<1x128x16xf32>
  %t = kiln.matmul %x, %down {kiln.lowrank = "down"} : (tensor<1x128x256xf32>, tensor<256x2xf32>) -> tensor<1x128x2xf32>
  %u = kiln.matmul %t, %up {kiln.lowrank = "up"} : (tensor<1x128x2xf32>, tensor<2x16xf32>) -> tensor<1x128x16xf32>
  %y = kiln.add %q, %u {kiln.lowrank = "merge"} : (tensor<1x128x16xf32>, tensor<1x128x16xf32>) -> tensor<1x128x16xf32>
  return %y : tensor<1x128x16xf32>
}

// A matmul that merely looks like a branch (another input) is not fused.
// CHECK-LABEL: func.func @not_a_branch
// CHECK: kiln.kernel = "kiln::cuda::W4A4Quantize<0> + kiln::cuda::GemmW4A4<0, {{true|false}}>", kiln.kernel_reason = "W4A4: {{[^;"]*}}"
// CHECK-NOT: kiln.fused_into
// CHECK: return
func.func @not_a_branch(%x: tensor<1x128x256xf32>, %z: tensor<1x128x256xf32>) -> tensor<1x128x16xf32> {
  %w = kiln.constant dense<-7> : tensor<16x256xi4> : tensor<16x256xi4>
  %s = kiln.constant dense<0.125> : tensor<16x4xf32> : tensor<16x4xf32>
  %down = kiln.constant dense<0.01> : tensor<256x16xf32> : tensor<256x16xf32>
  %up = kiln.constant dense<0.02> : tensor<16x16xf32> : tensor<16x16xf32>
  %q = kiln.lowbit_linear %x, %w, %s {weight_format = "int4-sym", weight_group_size = 64 : i64, act_format = "int4-sym", act_group_size = 64 : i64} : (tensor<1x128x256xf32>, tensor<16x256xi4>, tensor<16x4xf32>) -> tensor<1x128x16xf32>
  %t = kiln.matmul %z, %down {kiln.lowrank = "down"} : (tensor<1x128x256xf32>, tensor<256x16xf32>) -> tensor<1x128x16xf32>
  %u = kiln.matmul %t, %up {kiln.lowrank = "up"} : (tensor<1x128x16xf32>, tensor<16x16xf32>) -> tensor<1x128x16xf32>
  %y = kiln.add %q, %u {kiln.lowrank = "merge"} : (tensor<1x128x16xf32>, tensor<1x128x16xf32>) -> tensor<1x128x16xf32>
  return %y : tensor<1x128x16xf32>
}

// NVFP4 and weight-only layers have no kernel on sm80/sm90: reported.
// CHECK-LABEL: func.func @no_kernel
// SM90: kiln.kernel = "none", kiln.kernel_reason = "no NVFP4 kernel for sm90: FP4 tensor cores need sm_100 (Blackwell)"
// SM80: kiln.kernel = "none", kiln.kernel_reason = "no NVFP4 kernel for sm80: FP4 tensor cores need sm_100 (Blackwell)"
// CHECK: kiln.kernel = "none", kiln.kernel_reason = "no weight-only (int4-asym weights, float activations) kernel in runtime/cuda yet"
// REPORT: | {{.*}}kiln-fuse-lowbit.mlir:{{[0-9]+}}:{{[0-9]+}} | 128 x 16 x 256 | nvfp4 x nvfp4 | `none` | no NVFP4 kernel for sm90: FP4 tensor cores need sm_100 (Blackwell) |
func.func @no_kernel(%x: tensor<1x128x256xf32>) -> (tensor<1x128x16xf32>, tensor<1x128x16xf32>) {
  %f4 = kiln.constant dense<1.5> : tensor<16x256xf4E2M1FN> : tensor<16x256xf4E2M1FN>
  %sb = kiln.constant dense<2.0> : tensor<16x16xf8E4M3FN> : tensor<16x16xf8E4M3FN>
  %ts = kiln.constant dense<0.01> : tensor<1xf32> : tensor<1xf32>
  // expected-remark @+1 {{FP4 tensor cores need sm_100 (Blackwell)}}
  %a = kiln.lowbit_linear %x, %f4, %sb tensor_scale(%ts) {weight_format = "nvfp4", weight_group_size = 16 : i64, act_format = "nvfp4", act_group_size = 16 : i64} : (tensor<1x128x256xf32>, tensor<16x256xf4E2M1FN>, tensor<16x16xf8E4M3FN>, tensor<1xf32>) -> tensor<1x128x16xf32>
  %u4 = kiln.constant dense<15> : tensor<16x256xui4> : tensor<16x256xui4>
  %s4 = kiln.constant dense<0.125> : tensor<16x2xf32> : tensor<16x2xf32>
  %z4 = kiln.constant dense<8> : tensor<16x2xui4> : tensor<16x2xui4>
  // expected-remark @+1 {{no CUDA kernel: no weight-only (int4-asym weights, float activations) kernel in runtime/cuda yet}}
  %b = kiln.lowbit_linear %x, %u4, %s4 zeros(%z4) {weight_format = "int4-asym", weight_group_size = 128 : i64} : (tensor<1x128x256xf32>, tensor<16x256xui4>, tensor<16x2xf32>, tensor<16x2xui4>) -> tensor<1x128x16xf32>
  return %a, %b : tensor<1x128x16xf32>, tensor<1x128x16xf32>
}
