//===- KilnDialect.h - The kiln graph dialect -------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Declares the `kiln` dialect (see KilnDialect.td for its description).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNDIALECT_H
#define KILN_DIALECTS_KILN_KILNDIALECT_H

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Dialect.h"

#include "dialects/kiln/KilnDialect.h.inc"

#endif // KILN_DIALECTS_KILN_KILNDIALECT_H
