//===- DataMovementOps.td - Shape and data movement ops ------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Ops that move or replicate elements without arithmetic: reshape,
// transpose, concat, slice, pad, broadcast, tile, gathers and scatters,
// depth/space rearrangements, trilu, one_hot, reverse_sequence and resize.
// All attributes are normalised (non-negative axes, full-rank lists).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_DATAMOVEMENTOPS_TD
#define KILN_DIALECTS_KILN_OPS_DATAMOVEMENTOPS_TD

include "dialects/kiln/KilnBase.td"

def Kiln_ReshapeOp : Kiln_Op<"reshape", [SameOperandsAndResultElementType]> {
  let summary = "reinterprets a tensor with a new static shape";
  let description = [{
    Row-major reinterpretation; the element count is unchanged. ONNX Reshape,
    Flatten, Squeeze and Unsqueeze all import as this op (the target shape is
    the result type).

    Example:

    ```mlir
    %y = kiln.reshape %x : (tensor<1x16x1x1xf32>) -> tensor<1x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_TransposeOp : Kiln_Op<"transpose",
    [SameOperandsAndResultElementType]> {
  let summary = "permutes dimensions";
  let description = [{
    Result dimension i is input dimension `perm[i]`.

    Example:

    ```mlir
    %y = kiln.transpose %x {perm = array<i64: 0, 2, 3, 1>}
         : (tensor<1x3x8x8xf32>) -> tensor<1x8x8x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_ConcatOp : Kiln_Op<"concat"> {
  let summary = "concatenates tensors along an axis";
  let description = [{
    Example:

    ```mlir
    %y = kiln.concat %a, %b {axis = 1 : i64}
         : (tensor<1x2x4xf32>, tensor<1x3x4xf32>) -> tensor<1x5x4xf32>
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_SliceOp : Kiln_Op<"slice", [SameOperandsAndResultElementType]> {
  let summary = "strided slice with one (start, step) per dimension";
  let description = [{
    Result element `i` along dimension `d` is input element
    `starts[d] + i * steps[d]`; the result type gives the counts. `steps`
    may be negative (`starts` is then the first, highest index). ONNX Slice
    and Split import as this op with clamped, non-negative starts.

    Example:

    ```mlir
    %y = kiln.slice %x {starts = array<i64: 0, 1>, steps = array<i64: 1, 2>}
         : (tensor<2x8xf32>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$steps);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_PadOp : Kiln_Op<"pad", [SameOperandsAndResultElementType]> {
  let summary = "pads every dimension (constant, reflect, edge or wrap)";
  let description = [{
    `pads` holds the begin pads of every dimension, then the end pads; they
    may be negative (cropping). `mode` is "constant", "reflect", "edge" or
    "wrap"; `value` (of the element type, default 0) fills constant padding.

    Example:

    ```mlir
    %y = kiln.pad %x {pads = array<i64: 0, 1, 0, 1>, mode = "constant",
           value = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$pads,
                   DefaultValuedAttr<StrAttr, "\"constant\"">:$mode,
                   Kiln_OptionalScalarAttr:$value);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_BroadcastOp : Kiln_Op<"broadcast",
    [SameOperandsAndResultElementType]> {
  let summary = "broadcasts to the result shape (ONNX Expand)";
  let description = [{
    numpy broadcasting of `input` to the result shape.

    Example:

    ```mlir
    %y = kiln.broadcast %x : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_TileOp : Kiln_Op<"tile", [SameOperandsAndResultElementType]> {
  let summary = "repeats the tensor along each dimension";
  let description = [{
    Example:

    ```mlir
    %y = kiln.tile %x {repeats = array<i64: 2, 3>}
         : (tensor<2x2xf32>) -> tensor<4x6xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_GatherOp : Kiln_Op<"gather"> {
  let summary = "gathers slices along an axis by index (ONNX Gather)";
  let description = [{
    Negative indices count from the end of `axis`; an index out of range is
    an evaluation error.

    Example:

    ```mlir
    %y = kiln.gather %table, %ids {axis = 0 : i64}
         : (tensor<100x16xf32>, tensor<1x8xi64>) -> tensor<1x8x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_GatherElementsOp : Kiln_Op<"gather_elements"> {
  let summary = "gathers single elements along an axis (ONNX GatherElements)";
  let description = [{
    Example:

    ```mlir
    %y = kiln.gather_elements %x, %i {axis = 1 : i64}
         : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $indices attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_GatherNDOp : Kiln_Op<"gather_nd"> {
  let summary = "gathers slices by index tuples (ONNX GatherND)";
  let description = [{
    Example:

    ```mlir
    %y = kiln.gather_nd %x, %i {batch_dims = 0 : i64}
         : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $indices attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_ScatterElementsOp : Kiln_Op<"scatter_elements"> {
  let summary = "writes updates at indices along an axis";
  let description = [{
    `reduction` is "none", "add", "mul", "max" or "min".

    Example:

    ```mlir
    %y = kiln.scatter_elements %x, %i, %u {axis = 1 : i64}
         : (tensor<1x5xf32>, tensor<1x2xi64>, tensor<1x2xf32>) -> tensor<1x5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                   Kiln_Tensor:$updates, I64Attr:$axis,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Kiln_ScatterNDOp : Kiln_Op<"scatter_nd"> {
  let summary = "writes update slices at index tuples (ONNX ScatterND)";
  let description = [{
    Example:

    ```mlir
    %y = kiln.scatter_nd %x, %i, %u
         : (tensor<8xf32>, tensor<4x1xi64>, tensor<4xf32>) -> tensor<8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                   Kiln_Tensor:$updates,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Kiln_DepthToSpaceOp : Kiln_Op<"depth_to_space",
    [SameOperandsAndResultElementType]> {
  let summary = "moves channel blocks into spatial blocks";
  let description = [{
    `dcr` (default) or `crd` channel order, as ONNX DepthToSpace.

    Example:

    ```mlir
    %y = kiln.depth_to_space %x {blocksize = 2 : i64, crd = false}
         : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$blocksize,
                   DefaultValuedAttr<BoolAttr, "false">:$crd);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_SpaceToDepthOp : Kiln_Op<"space_to_depth",
    [SameOperandsAndResultElementType]> {
  let summary = "moves spatial blocks into channels";
  let description = [{
    Example:

    ```mlir
    %y = kiln.space_to_depth %x {blocksize = 2 : i64}
         : (tensor<1x2x4x6xf32>) -> tensor<1x8x2x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$blocksize);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_TriluOp : Kiln_Op<"trilu", [SameOperandsAndResultType]> {
  let summary = "keeps the upper or lower triangle of the last two dims";
  let description = [{
    Elements below (`upper`) or above (lower) diagonal `k` become zero.

    Example:

    ```mlir
    %y = kiln.trilu %x {upper = true, k = 0 : i64} : tensor<4x5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, BoolAttr:$upper, I64Attr:$k);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_OneHotOp : Kiln_Op<"one_hot"> {
  let summary = "one-hot encoding of indices (ONNX OneHot)";
  let description = [{
    `values` holds [off, on]; negative indices count from `depth`; indices
    out of range give an all-off row. `axis` is where the new dimension goes.

    Example:

    ```mlir
    %y = kiln.one_hot %i, %v {depth = 10 : i64, axis = 1 : i64}
         : (tensor<3xi64>, tensor<2xf32>) -> tensor<3x10xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$indices, Kiln_Tensor:$values,
                   I64Attr:$depth, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $indices `,` $values attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_ReverseSequenceOp : Kiln_Op<"reverse_sequence"> {
  let summary = "reverses the first seq_len elements of each batch entry";
  let description = [{
    Example:

    ```mlir
    %y = kiln.reverse_sequence %x, %lens {batch_axis = 1 : i64,
           time_axis = 0 : i64}
         : (tensor<4x4xf32>, tensor<4xi64>) -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$sequence_lens,
                   I64Attr:$batch_axis, I64Attr:$time_axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $sequence_lens attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_ResizeOp : Kiln_Op<"resize", [SameOperandsAndResultElementType]> {
  let summary = "resamples with nearest, linear or cubic interpolation";
  let description = [{
    ONNX Resize with every parameter explicit: one scale per dimension
    (`scales`, after `keep_aspect_ratio_policy`), `roi` (begins then ends,
    used by `tf_crop_and_resize`), `mode` ("nearest", "linear", "cubic"),
    `coordinate_transformation_mode`, `nearest_mode`, `cubic_coeff_a`,
    `exclude_outside`, `extrapolation_value` and `antialias`. The result
    type gives the output sizes.

    Example:

    ```mlir
    %y = kiln.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>,
           roi = array<f32>, mode = "nearest",
           coordinate_transformation_mode = "asymmetric",
           nearest_mode = "floor"}
         : (tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseF32ArrayAttr:$scales,
                   DenseF32ArrayAttr:$roi, StrAttr:$mode,
                   StrAttr:$coordinate_transformation_mode,
                   DefaultValuedAttr<StrAttr, "\"round_prefer_floor\"">:$nearest_mode,
                   DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                   DefaultValuedAttr<BoolAttr, "false">:$exclude_outside,
                   DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value,
                   DefaultValuedAttr<BoolAttr, "false">:$antialias);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_KILN_OPS_DATAMOVEMENTOPS_TD
