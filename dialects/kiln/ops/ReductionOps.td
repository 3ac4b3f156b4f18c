//===- ReductionOps.td - Reductions, arg-reductions, scans ---*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// reduce_* over a set of axes, argmax/argmin, cumulative sum/product and
// top-k.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_REDUCTIONOPS_TD
#define KILN_DIALECTS_KILN_OPS_REDUCTIONOPS_TD

include "dialects/kiln/KilnBase.td"

def Kiln_ReduceSumOp : Kiln_ReduceOp<"reduce_sum", "sum">;
def Kiln_ReduceMeanOp : Kiln_ReduceOp<"reduce_mean", "arithmetic mean">;
def Kiln_ReduceMaxOp : Kiln_ReduceOp<"reduce_max", "maximum">;
def Kiln_ReduceMinOp : Kiln_ReduceOp<"reduce_min", "minimum">;
def Kiln_ReduceProdOp : Kiln_ReduceOp<"reduce_prod", "product">;
def Kiln_ReduceL1Op : Kiln_ReduceOp<"reduce_l1", "sum of absolute values">;
def Kiln_ReduceL2Op : Kiln_ReduceOp<"reduce_l2",
    "square root of the sum of squares">;
def Kiln_ReduceLogSumOp : Kiln_ReduceOp<"reduce_log_sum", "log of the sum">;
def Kiln_ReduceLogSumExpOp : Kiln_ReduceOp<"reduce_log_sum_exp",
    "log of the sum of exponentials">;
def Kiln_ReduceSumSquareOp : Kiln_ReduceOp<"reduce_sum_square",
    "sum of squares">;

class Kiln_ArgReduceOp<string mnemonic, string what> : Kiln_Op<mnemonic> {
  let summary = "index of the " # what # " along one axis";
  let description = [{
    Returns int64 indices; ties pick the first occurrence, or the last with
    `select_last_index`.

    Example:

    ```mlir
    %i = kiln.}] # mnemonic # [{ %x {axis = 1 : i64, keepdims = false}
         : (tensor<2x10xf32>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                   DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs Kiln_IndexTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_ArgMaxOp : Kiln_ArgReduceOp<"argmax", "maximum">;
def Kiln_ArgMinOp : Kiln_ArgReduceOp<"argmin", "minimum">;

class Kiln_ScanOp<string mnemonic, string what>
    : Kiln_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = "cumulative " # what # " along one axis";
  let description = [{
    With `exclusive` the current element is not included; with `reverse`
    the scan runs from the end.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x {axis = 0 : i64} : tensor<5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                   DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_CumSumOp : Kiln_ScanOp<"cumsum", "sum">;
def Kiln_CumProdOp : Kiln_ScanOp<"cumprod", "product">;

def Kiln_TopKOp : Kiln_Op<"topk"> {
  let summary = "the k largest (or smallest) elements along an axis";
  let description = [{
    Returns values and int64 indices. Equal values keep the lower index
    first. With `sorted` false the order is still the sorted one (allowed by
    ONNX).

    Example:

    ```mlir
    %v, %i = kiln.topk %x {k = 3 : i64, axis = 1 : i64, largest = true}
         : (tensor<2x10xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$k, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$largest,
                   DefaultValuedAttr<BoolAttr, "true">:$sorted);
  let results = (outs Kiln_Tensor:$values, Kiln_IndexTensor:$indices);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_KILN_OPS_REDUCTIONOPS_TD
