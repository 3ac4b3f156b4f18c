//===- EmitSupport.h - Helpers shared by the code generators ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// What the C and the CUDA emitters share: writing files, formatting
// initializers, C identifiers, arena offsets recorded by kiln-plan-memory,
// and the int8 program boundary (the quantized inputs and outputs of a
// memory-planned function, with their scales and arena offsets).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_COMMON_EMITSUPPORT_H
#define KILN_CODEGEN_COMMON_EMITSUPPORT_H

#include "kiln/Diagnostics.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::codegen {

/// Writes |text| to |dir|/|name|, creating folders.
Status writeFile(const std::string &dir, const std::string &name,
                 const std::string &text);

/// Formats integers as a C initializer list, 16 per line.
template <typename T>
std::string initializer(llvm::ArrayRef<T> values, const char *indent = "  ") {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i % 16 == 0)
      text += std::string(i ? ",\n" : "") + indent;
    else
      text += ", ";
    text += std::to_string(static_cast<int64_t>(values[i]));
  }
  return text;
}

/// Returns "{1, 2, 3}".
std::string braces(llvm::ArrayRef<int64_t> values);

/// Returns |name| turned into a C identifier (lowercase, [a-z0-9_]).
std::string sanitizeIdentifier(const std::string &name);

/// Returns |name| in upper case.
std::string upperCase(const std::string &name);

/// Returns a C comment line naming |op| and its location ("  /* ... */\n").
std::string opComment(mlir::Operation *op, const std::string &indent = "  ");

/// Returns the arena offset kiln-plan-memory gave |value| (0 for arguments
/// and unplanned values).
int64_t arenaOffset(mlir::Value value);

/// How a kiln.qconcat is laid out: the product of the dimensions before and
/// after its axis, and whether the memory planner already placed every
/// (non-constant) input in its slice of the output (nothing to copy).
struct ConcatLayout {
  int64_t outer = 1, inner = 1;
  bool placed = true;
};

/// Returns the layout of the kiln.qconcat |concat|.
ConcatLayout concatLayout(mlir::Operation *concat);

/// An int8 input or output of a memory-planned program.
struct Port {
  std::string name;
  std::vector<int64_t> shape;
  double scale = 1;
  int32_t zeroPoint = 0;
  /// Arena offset of the int8 tensor.
  int64_t offset = 0;
  int64_t bytes = 0;
};

/// The int8 boundary of |func|: each argument must enter through one
/// kiln.quantize and each result leave through kiln.dequantize. |target|
/// names the target in errors ("the C targets").
Status collectInt8Ports(mlir::func::FuncOp func, const std::string &target,
                        std::vector<Port> &inputs, std::vector<Port> &outputs);

} // namespace kiln::codegen

#endif // KILN_CODEGEN_COMMON_EMITSUPPORT_H
