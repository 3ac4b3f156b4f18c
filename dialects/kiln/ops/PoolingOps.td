//===- PoolingOps.td - Pooling ops ---------------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Sliding-window max / average / Lp pooling and their global forms.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_POOLINGOPS_TD
#define KILN_DIALECTS_KILN_OPS_POOLINGOPS_TD

include "dialects/kiln/KilnBase.td"

class Kiln_PoolOp<string mnemonic, string what> : Kiln_Op<mnemonic> {
  let summary = what # " pooling over sliding windows";
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_MaxPoolOp : Kiln_PoolOp<"max_pool", "max"> {
  let description = [{
    ONNX `MaxPool` on a channels-first tensor. Padded positions never win.
    With `ceil_mode`, the output size rounds up, and a window that would start
    inside the end padding is dropped. With `with_indices`, a second result
    holds the flat (row-major over N x C x spatial, or spatial only with
    `storage_order` 1 meaning column-major) index of each maximum.

    Example:

    ```mlir
    %y = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>,
           strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>,
           dilations = array<i64: 1, 1>, ceil_mode = false}
         : (tensor<1x16x8x8xf32>) -> tensor<1x16x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
}

def Kiln_MaxPoolWithIndicesOp : Kiln_Op<"max_pool_with_indices"> {
  let summary = "max pooling that also returns the index of each maximum";
  let description = [{
    As `kiln.max_pool`, plus `indices` (int64): the flat index of the
    maximum in the input tensor, row-major (`storage_order` = 0) or with the
    spatial dimensions in column-major order (`storage_order` = 1).

    Example:

    ```mlir
    %y, %i = kiln.max_pool_with_indices %x {kernel_shape = array<i64: 2, 2>,
           strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>,
           dilations = array<i64: 1, 1>}
         : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                   DefaultValuedAttr<I64Attr, "0">:$storage_order);
  let results = (outs Kiln_Tensor:$output, Kiln_IndexTensor:$indices);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_AvgPoolOp : Kiln_PoolOp<"avg_pool", "average"> {
  let description = [{
    ONNX `AveragePool` on a channels-first tensor. With `count_include_pad`
    the divisor counts the explicit padding (never positions beyond it that
    `ceil_mode` adds).

    Example:

    ```mlir
    %y = kiln.avg_pool %x {kernel_shape = array<i64: 3, 3>,
           strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>,
           dilations = array<i64: 1, 1>, ceil_mode = false,
           count_include_pad = false}
         : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
}

def Kiln_LpPoolOp : Kiln_PoolOp<"lp_pool", "Lp-norm"> {
  let description = [{
    ONNX `LpPool`: `(sum over the window of |x|^p)^(1/p)`; padding counts as
    zeros.

    Example:

    ```mlir
    %y = kiln.lp_pool %x {kernel_shape = array<i64: 2, 2>,
           strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
           dilations = array<i64: 1, 1>, p = 2 : i64}
         : (tensor<1x1x4x4xf32>) -> tensor<1x1x3x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                   I64Attr:$p);
}

class Kiln_GlobalPoolOp<string mnemonic, string what> : Kiln_Op<mnemonic> {
  let summary = "global " # what # " pooling over all spatial positions";
  let description = [{
    Reduces every spatial dimension of an `N x C x D1 ... Dn` tensor to 1.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x : (tensor<1x16x8x8xf32>)
         -> tensor<1x16x1x1xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_GlobalAvgPoolOp : Kiln_GlobalPoolOp<"global_avg_pool", "average">;
def Kiln_GlobalMaxPoolOp : Kiln_GlobalPoolOp<"global_max_pool", "max">;
def Kiln_GlobalLpPoolOp : Kiln_GlobalPoolOp<"global_lp_pool", "Lp-norm"> {
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$p);
}

#endif // KILN_DIALECTS_KILN_OPS_POOLINGOPS_TD
