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
    `output[i][j][k] = input[indices[i][j][k]][j][k]` for `axis = 0` (and
    likewise for other axes): the result has the shape of `indices`, which
    has the rank of `input`. Negative indices count from the end of `axis`;
    an index out of range is an evaluation error.

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
  let hasVerifier = 1;
}

def Kiln_GatherNDOp : Kiln_Op<"gather_nd"> {
  let summary = "gathers slices by index tuples (ONNX GatherND)";
  let description = [{
    The last dimension of `indices` (length `q`) holds index tuples into the
    dimensions `batch_dims .. batch_dims + q - 1` of `input`; the first
    `batch_dims` dimensions of both operands are batch dimensions. The
    result shape is `indices.shape[:-1] + input.shape[batch_dims + q:]`.
    Negative indices count from the end; out of range is an evaluation error.

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
  let hasVerifier = 1;
}

def Kiln_ScatterElementsOp : Kiln_Op<"scatter_elements"> {
  let summary = "writes updates at indices along an axis";
  let description = [{
    ONNX ScatterElements (and the deprecated Scatter): a copy of `input`
    where, for `axis = 0`, `output[indices[i][j]][j]` is combined with
    `updates[i][j]`. `indices` and `updates` have one shape, of the rank of
    `input`. `reduction` is "none" (the update replaces; with repeated
    indices the last update in row-major order wins), "add", "mul", "max"
    or "min". Negative indices count from the end of `axis`.

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
  let hasVerifier = 1;
}

def Kiln_ScatterNDOp : Kiln_Op<"scatter_nd"> {
  let summary = "writes update slices at index tuples (ONNX ScatterND)";
  let description = [{
    A copy of `input` where the slice `output[indices[i]]` (an index tuple of
    length `q = indices.shape[-1]`) is combined with `updates[i]`, whose
    shape is `indices.shape[:-1] + input.shape[q:]`. `reduction` is as in
    `kiln.scatter_elements`; updates apply in row-major order of `indices`.

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
  let hasVerifier = 1;
}

def Kiln_DepthToSpaceOp : Kiln_Op<"depth_to_space",
    [SameOperandsAndResultElementType]> {
  let summary = "moves channel blocks into spatial blocks";
  let description = [{
    `N x C x H x W` to `N x C/(b*b) x H*b x W*b` with ONNX DepthToSpace
    semantics: channels are read in depth-column-row order (DCR, the
    default) or, with `crd`, column-row-depth order.

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
  let hasVerifier = 1;
}

def Kiln_SpaceToDepthOp : Kiln_Op<"space_to_depth",
    [SameOperandsAndResultElementType]> {
  let summary = "moves spatial blocks into channels";
  let description = [{
    `N x C x H x W` to `N x C*b*b x H/b x W/b`, the inverse of
    `kiln.depth_to_space` with the same `crd` flag (ONNX SpaceToDepth; the
    CRD order came with opset 28).

    Example:

    ```mlir
    %y = kiln.space_to_depth %x {blocksize = 2 : i64, crd = false}
         : (tensor<1x2x4x6xf32>) -> tensor<1x8x2x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$blocksize,
                   DefaultValuedAttr<BoolAttr, "false">:$crd);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_TriluOp : Kiln_Op<"trilu", [SameOperandsAndResultType]> {
  let summary = "keeps the upper or lower triangle of the last two dims";
  let description = [{
    Over the last two dimensions (rows i, columns j), `upper` keeps the
    elements with `j - i >= k` and lower keeps those with `j - i <= k`; the
    others become zero. The input has rank >= 2.

    Example:

    ```mlir
    %y = kiln.trilu %x {upper = true, k = 0 : i64} : tensor<4x5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, BoolAttr:$upper, I64Attr:$k);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Kiln_OneHotOp : Kiln_Op<"one_hot"> {
  let summary = "one-hot encoding of indices (ONNX OneHot)";
  let description = [{
    `values` holds [off, on] and gives the result element type; negative
    indices count from `depth`; indices out of range give an all-off row.
    `axis` (in [0, rank(indices)]) is where the new dimension of size
    `depth` goes. Floating-point indices are truncated to integers.

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
  let hasVerifier = 1;
}

def Kiln_ReverseSequenceOp : Kiln_Op<"reverse_sequence"> {
  let summary = "reverses the first seq_len elements of each batch entry";
  let description = [{
    For batch entry `b` (along `batch_axis`), the first `sequence_lens[b]`
    elements along `time_axis` are reversed and the rest copied. A length
    outside [0, time dimension] is an evaluation error.

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
  let hasVerifier = 1;
}

def Kiln_ResizeOp : Kiln_Op<"resize", [SameOperandsAndResultElementType]> {
  let summary = "resamples with nearest, linear or cubic interpolation";
  let description = [{
    ONNX Resize (and Upsample) with every parameter explicit. Each dimension
    is resampled separately, in double precision, as the ONNX reference
    implementation does: output index `x` maps to the input coordinate
    `x_original` by `coordinate_transformation_mode` ("half_pixel",
    "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
    "asymmetric", "tf_half_pixel_for_nn" or "tf_crop_and_resize"), where the
    resized length is `scales[d] * input_dim` (fractional when the scale does
    not divide evenly) and the result type gives the integer output sizes.
    `mode` "nearest" picks one input element by `nearest_mode`
    ("round_prefer_floor", "round_prefer_ceil", "floor" or "ceil");
    "linear" and "cubic" (`cubic_coeff_a`) weight 2 or 4 neighbours, or a
    filter stretched by 1 / scale when `antialias` is set and the dimension
    shrinks. Neighbours outside the input repeat the edge element, or get
    weight 0 (weights renormalised) with `exclude_outside`. With
    "tf_crop_and_resize", `roi` (begins then ends, normalised coordinates,
    one pair per dimension) selects the input window, and positions mapped
    outside the input take `extrapolation_value`. Integer results are
    rounded half to even and saturated.

    `scales` and `roi` are f64 so that scales derived from ONNX `sizes`
    (output / input) keep the double value the ONNX definition computes.

    Example:

    ```mlir
    %y = kiln.resize %x {scales = array<f64: 1.0, 1.0, 2.0, 2.0>,
           roi = array<f64>, mode = "nearest",
           coordinate_transformation_mode = "asymmetric",
           nearest_mode = "floor"}
         : (tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseF64ArrayAttr:$scales,
                   DenseF64ArrayAttr:$roi, StrAttr:$mode,
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
