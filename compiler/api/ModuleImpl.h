//===- ModuleImpl.h - What a kiln::Module holds -----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Private to the library: the MLIR module behind a kiln::Module and the
// context that owns its types and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_API_MODULEIMPL_H
#define KILN_COMPILER_API_MODULEIMPL_H

#include "kiln/Compiler.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>
#include <string>

namespace kiln {

struct Module::Impl {
  std::shared_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// The file the module came from (for diagnostics and default names).
  std::string sourcePath;
};

} // namespace kiln

#endif // KILN_COMPILER_API_MODULEIMPL_H
