//===- EmitSupport.cpp - Helpers shared by the code generators --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements EmitSupport.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/EmitSupport.h"

#include "compiler/support/DiagnosticCapture.h"
#include "compiler/support/QuantParams.h"
#include "dialects/kiln/KilnOps.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cctype>
#include <fstream>

namespace kiln::codegen {

using namespace mlir;
using namespace mlir::kiln;

Status writeFile(const std::string &dir, const std::string &name,
                 const std::string &text) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  if (auto error = llvm::sys::fs::create_directories(
          llvm::sys::path::parent_path(path)))
    return Status::error("cannot create folder: " + error.message(),
                         std::string(path));
  std::ofstream file(std::string(path), std::ios::binary);
  file << text;
  if (!file)
    return Status::error("cannot write", std::string(path));
  return Status::ok();
}

std::string braces(llvm::ArrayRef<int64_t> values) {
  std::string text = "{";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "}";
}

std::string sanitizeIdentifier(const std::string &name) {
  std::string id;
  for (char c : name) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    id += std::isalnum(static_cast<unsigned char>(lower)) ? lower : '_';
  }
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])))
    id = "m_" + id;
  return id;
}

std::string upperCase(const std::string &name) {
  std::string upper = name;
  for (char &c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::string opComment(Operation *op, const std::string &indent) {
  std::string loc = formatLocation(op->getLoc());
  std::string text =
      op->getName().getStringRef().str() + (loc.empty() ? "" : " at " + loc);
  // A location may not end the C comment early.
  for (size_t pos; (pos = text.find("*/")) != std::string::npos;)
    text.replace(pos, 2, "* /");
  return indent + "/* " + text + " */\n";
}

int64_t arenaOffset(Value value) {
  Operation *def = value.getDefiningOp();
  if (!def)
    return 0;
  auto offsets = def->getAttrOfType<DenseI64ArrayAttr>("kiln.offsets");
  unsigned index = cast<OpResult>(value).getResultNumber();
  return offsets && index < offsets.size() ? offsets[index] : 0;
}

ConcatLayout concatLayout(mlir::Operation *op) {
  auto concat = mlir::cast<mlir::kiln::QConcatOp>(op);
  llvm::ArrayRef<int64_t> out = concat.getType().getShape();
  int64_t axis = concat.getAxis();
  ConcatLayout layout;
  for (int64_t d = 0; d < axis; ++d)
    layout.outer *= out[d];
  for (size_t d = axis + 1; d < out.size(); ++d)
    layout.inner *= out[d];
  int64_t slice = arenaOffset(concat.getResult());
  for (mlir::Value input : concat.getInputs()) {
    if (arenaOffset(input) != slice ||
        input.getDefiningOp<mlir::kiln::ConstantOp>())
      layout.placed = false;
    slice += mlir::cast<mlir::RankedTensorType>(input.getType())
                 .getNumElements();
  }
  return layout;
}

Status collectInt8Ports(func::FuncOp func, const std::string &target,
                        std::vector<Port> &inputs, std::vector<Port> &outputs) {
  for (BlockArgument arg : func.getArguments()) {
    auto argName = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                     "kiln.name");
    Port port;
    port.name = argName ? argName.getValue().str()
                        : "input_" + std::to_string(arg.getArgNumber());
    QuantizeOp quantize;
    for (Operation *user : arg.getUsers())
      if (auto q = dyn_cast<QuantizeOp>(user))
        quantize = q;
    if (!quantize || !arg.hasOneUse())
      return Status::error("input '" + port.name + "' is used in float: " +
                           target + " need an int8 model (compile with "
                           "--quantize int8)");
    auto type = quantize.getType();
    port.shape.assign(type.getShape().begin(), type.getShape().end());
    QuantParams p = perTensorParams(type);
    port.scale = p.scale;
    port.zeroPoint = p.zeroPoint;
    port.offset = arenaOffset(quantize.getResult());
    port.bytes = type.getNumElements();
    inputs.push_back(port);
  }
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  for (auto [i, operand] : llvm::enumerate(ret.getOperands())) {
    auto resName = func.getResultAttrOfType<StringAttr>(i, "kiln.name");
    Port port;
    port.name =
        resName ? resName.getValue().str() : "output_" + std::to_string(i);
    auto dq = operand.getDefiningOp<DequantizeOp>();
    if (!dq)
      return Status::error("output '" + port.name + "' is computed in "
                           "float: " + target + " need an int8 model "
                           "(compile with --quantize int8)");
    auto type = dq.getInput().getType();
    port.shape.assign(type.getShape().begin(), type.getShape().end());
    QuantParams p = perTensorParams(type);
    port.scale = p.scale;
    port.zeroPoint = p.zeroPoint;
    port.offset = arenaOffset(dq.getInput());
    port.bytes = type.getNumElements();
    outputs.push_back(port);
  }
  return Status::ok();
}

} // namespace kiln::codegen
