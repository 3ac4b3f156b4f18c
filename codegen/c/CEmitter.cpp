//===- CEmitter.cpp - C99 code generation for MCUs and the host -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements emitCProgram (see CEmitter.h). Every kernel call is emitted
// with its parameters as `static const` structs, so the generated run
// function is a straight sequence of calls into runtime/c with arena
// offsets decided by kiln-plan-memory. Kernel selection (1x1 / 3x3 / im2col
// / depthwise / in-place depthwise) happens here from static shapes.
//
//===----------------------------------------------------------------------===//

#include "codegen/c/CEmitter.h"
#include "codegen/common/EmitSupport.h"

#include "compiler/reference/IntegerKernels.h"
#include "compiler/support/DiagnosticCapture.h"
#include "compiler/support/Numeric.h"
#include "compiler/support/QuantParams.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"
#include "passes/memory/Passes.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>
#include <sstream>

namespace kiln::codegen {

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The runtime and board files, embedded at build time.
struct EmbeddedFile {
  const char *path;
  const char *contents;
};

const EmbeddedFile kRuntimeFiles[] = {
#include "codegen/c/RuntimeSources.inc"
};

/// The QEMU board and compiler flags of a Cortex-M target.
struct CortexM {
  const char *cpuFlags, *board, *machine;
};

std::optional<CortexM> cortexMOf(const std::string &target) {
  if (target == "cortex-m4")
    return CortexM{"-mcpu=cortex-m4 -mfpu=fpv4-sp-d16", "an386", "mps2-an386"};
  if (target == "cortex-m7")
    return CortexM{"-mcpu=cortex-m7 -mfpu=fpv5-d16", "an500", "mps2-an500"};
  if (target == "cortex-m55")
    return CortexM{"-mcpu=cortex-m55", "an547", "mps3-an547"};
  return std::nullopt;
}

/// Emits the model's C source while walking the function.
class CWriter {
public:
  CWriter(func::FuncOp func, const CEmitOptions &options)
      : func(func), name(options.modelName) {}

  Status run();
  std::string header, source;
  /// Input and output descriptors (also used by the harness).
  std::vector<Port> inputs, outputs;
  int64_t arenaBytes = 0;

private:
  Status emitOp(Operation *op);
  int64_t offsetOf(Value value) { return arenaOffset(value); }
  Status emitPatchStage(ArrayRef<Operation *> ops);
  std::string addParams(QAddOp add);
  std::string convParams(QConv2DOp conv, int64_t inH, int64_t inW,
                         int64_t outH, int64_t outW, ArrayRef<int64_t> pads);
  std::string convCall(QConv2DOp conv, const std::string &params,
                       const std::string &input, const std::string &output,
                       const std::string &scratchPtr, bool inPlace);
  template <typename PoolOp>
  std::string poolParams(PoolOp pool, int64_t inH, int64_t inW, int64_t outH,
                         int64_t outW, ArrayRef<int64_t> pads);
  std::string ptr(Value value) {
    return "a + " + std::to_string(offsetOf(value));
  }
  std::string constant(Value value);
  std::string scratch(Operation *op);
  std::string requant(ArrayRef<int32_t> multipliers, ArrayRef<int32_t> shifts);
  Status unsupported(Operation *op, const std::string &why) {
    return Status::error("the C target cannot emit '" +
                             op->getName().getStringRef().str() + "': " + why,
                         formatLocation(op->getLoc()));
  }

  func::FuncOp func;
  std::string name;
  std::string tables, body;
  /// Helpers that patch stages need (emitted once, before the tables).
  std::string helpers;
  llvm::DenseMap<Value, std::string> constants;
  unsigned counter = 0;
};

std::string CWriter::constant(Value value) {
  auto it = constants.find(value);
  if (it != constants.end())
    return it->second;
  auto op = value.getDefiningOp<ConstantOp>();
  std::optional<Tensor> tensor = fromElementsAttr(op.getValue());
  std::string id = "k" + std::to_string(counter++);
  const char *ctype = tensor->dtype == DType::I32 ? "int32_t" : "int8_t";
  tables += "static const " + std::string(ctype) + " " + id + "[" +
            std::to_string(std::max<int64_t>(tensor->numElements(), 1)) +
            "] KILN_ALIGNED = {\n";
  if (tensor->dtype == DType::I32)
    tables += initializer(llvm::ArrayRef<int32_t>(tensor->as<int32_t>(),
                                                  tensor->numElements()));
  else
    tables += initializer(llvm::ArrayRef<int8_t>(tensor->as<int8_t>(),
                                                 tensor->numElements()));
  tables += "};\n";
  constants[value] = id;
  return id;
}

std::string CWriter::requant(ArrayRef<int32_t> multipliers,
                             ArrayRef<int32_t> shifts) {
  std::string id = "q" + std::to_string(counter++);
  tables += "static const int32_t " + id + "_m[] = {\n" +
            initializer(multipliers) + "};\n";
  tables += "static const int32_t " + id + "_s[] = {\n" + initializer(shifts) +
            "};\n";
  tables += "static const kiln_requant_t " + id + " = {" + id + "_m, " + id +
            "_s, " + (multipliers.size() > 1 ? "1" : "0") + "};\n";
  return id;
}

std::string CWriter::scratch(Operation *op) {
  auto attr = op->getAttrOfType<IntegerAttr>("kiln.scratch_offset");
  if (!attr)
    return "NULL";
  return "a + " + std::to_string(attr.getInt());
}

std::string CWriter::addParams(QAddOp add) {
  auto zp = [](Value v) {
    return std::to_string(
        perTensorParams(cast<RankedTensorType>(v.getType())).zeroPoint);
  };
  return "{" + zp(add->getOperand(0)) + ", " + zp(add->getOperand(1)) + ", " +
         zp(add->getResult(0)) + ", " + std::to_string(add.getLeftShift()) +
         ", " + std::to_string(add.getInput1Multiplier()) + ", " +
         std::to_string(add.getInput1Shift()) + ", " +
         std::to_string(add.getInput2Multiplier()) + ", " +
         std::to_string(add.getInput2Shift()) + ", " +
         std::to_string(add.getOutputMultiplier()) + ", " +
         std::to_string(add.getOutputShift()) + ", " +
         std::to_string(add.getActMin()) + ", " +
         std::to_string(add.getActMax()) + "}";
}

std::string CWriter::convParams(QConv2DOp conv, int64_t inH, int64_t inW,
                                int64_t outH, int64_t outW,
                                ArrayRef<int64_t> p) {
  ArrayRef<int64_t> x = conv.getInput().getType().getShape();
  ArrayRef<int64_t> y = conv.getType().getShape();
  ArrayRef<int64_t> w = conv.getWeight().getType().getShape();
  ArrayRef<int64_t> s = conv.getStrides(), d = conv.getDilations();
  int32_t inZp = perTensorParams(conv.getInput().getType()).zeroPoint;
  int32_t outZp = perTensorParams(conv.getType()).zeroPoint;
  return braces({x[0], inH, inW, x[3], outH, outW, y[3], w[1], w[2], s[0],
                 s[1], d[0], d[1], p[0], p[1], p[2], p[3], conv.getGroup(),
                 inZp, outZp, conv.getActMin(), conv.getActMax()});
}

std::string CWriter::convCall(QConv2DOp conv, const std::string &params,
                              const std::string &input,
                              const std::string &output,
                              const std::string &scratchPtr, bool inPlace) {
  ArrayRef<int64_t> x = conv.getInput().getType().getShape();
  ArrayRef<int64_t> w = conv.getWeight().getType().getShape();
  ArrayRef<int64_t> p = conv.getPads();
  std::string rq = requant(conv.getMultipliers(), conv.getShifts());
  std::string weights = constant(conv.getWeight());
  std::string bias = conv.getBias() ? constant(conv.getBias()) : "NULL";
  bool depthwise = conv.getGroup() == x[3] && x[3] > 1;
  if (depthwise && inPlace)
    return "kiln_dwconv2d_inplace_s8(" + params + ", &" + rq + ", " +
           weights + ", " + bias + ", " + input + ", " + scratchPtr + ")";
  if (depthwise)
    return "kiln_dwconv2d_s8(" + params + ", &" + rq + ", " + input + ", " +
           weights + ", " + bias + ", " + output + ", " + scratchPtr + ")";
  if (conv.getGroup() != 1)
    return "kiln_conv2d_generic_s8(" + params + ", &" + rq + ", " + input +
           ", " + weights + ", " + bias + ", " + output + ")";
  bool pointwise = w[1] == 1 && w[2] == 1 &&
                   llvm::all_of(p, [](int64_t v) { return v == 0; });
  bool threeByThree = w[1] == 3 && w[2] == 3;
  const char *kernel = pointwise      ? "kiln_conv2d_1x1_s8"
                       : threeByThree ? "kiln_conv2d_3x3_s8"
                                      : "kiln_conv2d_s8";
  return std::string(kernel) + "(" + params + ", &" + rq + ", " + input +
         ", " + weights + ", " + bias + ", " + output + ", " + scratchPtr +
         ")";
}

template <typename PoolOp>
std::string CWriter::poolParams(PoolOp pool, int64_t inH, int64_t inW,
                                int64_t outH, int64_t outW,
                                ArrayRef<int64_t> p) {
  ArrayRef<int64_t> x = pool.getInput().getType().getShape();
  ArrayRef<int64_t> k = pool.getKernelShape(), s = pool.getStrides();
  return braces({x[0], inH, inW, x[3], outH, outW, k[0], k[1], s[0], s[1],
                 p[0], p[1], p[2], p[3], pool.getCountIncludePad() ? 1 : 0,
                 perTensorParams(pool.getInput().getType()).zeroPoint,
                 pool.getActMin(), pool.getActMax()});
}

/// The C helpers of patch stages: a window of a whole tensor copied into a
/// dense NHWC block (the first layer's input, also from an NCHW input), and
/// a dense block written into a window of a whole NHWC tensor (the stage
/// output).
const char *kPatchHelpers = R"(/* Copies rows [win[0], win[1]) x columns [win[2], win[3]) of an h x w x c
 * int8 tensor (NHWC, or NCHW when |nchw|) into |dst| as a dense NHWC block. */
static void kiln_patch_gather(int8_t *dst, const int8_t *src, int32_t h,
                              int32_t w, int32_t c, int nchw,
                              const int32_t *win) {
  int32_t y, x, k;
  size_t row = (size_t)(win[3] - win[2]) * (size_t)c;
  if (!nchw) {
    for (y = win[0]; y < win[1]; ++y, dst += row)
      memcpy(dst, src + ((size_t)y * (size_t)w + (size_t)win[2]) * (size_t)c,
             row);
    return;
  }
  for (k = 0; k < c; ++k) {
    int8_t *out = dst + k;
    for (y = win[0]; y < win[1]; ++y) {
      const int8_t *in = src + ((size_t)k * (size_t)h + (size_t)y) * (size_t)w;
      for (x = win[2]; x < win[3]; ++x, out += c)
        *out = in[x];
    }
  }
}

/* Writes the dense NHWC block |src| into rows [win[0], win[1]) x columns
 * [win[2], win[3]) of a whole NHWC int8 tensor |dst| of width w and c
 * channels. */
static void kiln_patch_scatter(int8_t *dst, const int8_t *src, int32_t w,
                               int32_t c, const int32_t *win) {
  int32_t y;
  size_t row = (size_t)(win[3] - win[2]) * (size_t)c;
  for (y = win[0]; y < win[1]; ++y, src += row)
    memcpy(dst + ((size_t)y * (size_t)w + (size_t)win[2]) * (size_t)c, src,
           row);
}

)";

Status CWriter::emitPatchStage(ArrayRef<Operation *> ops) {
  auto stage = func->getAttrOfType<DictionaryAttr>("kiln.patch_stage");
  auto patchesAttr = stage ? stage.getAs<IntegerAttr>("patches") : nullptr;
  if (!patchesAttr)
    return unsupported(ops.front(), "a patch-stage op, but the function has "
                                    "no kiln.patch_stage");
  int64_t n = patchesAttr.getInt();
  int64_t numPatches = n * n;
  Operation *transpose = nullptr;
  SmallVector<Operation *> layers;
  for (Operation *op : ops) {
    if (isa<TransposeOp>(op) && layers.empty() && !transpose)
      transpose = op;
    else
      layers.push_back(op);
  }
  if (layers.empty())
    return unsupported(ops.front(), "a patch stage without layers");
  Value stageInput = transpose ? transpose->getOperand(0)
                               : layers.front()->getOperand(0);
  Value stageOutput = layers.back()->getResult(0);
  ArrayRef<int64_t> in =
      cast<RankedTensorType>(layers.front()->getOperand(0).getType())
          .getShape();
  ArrayRef<int64_t> out =
      cast<RankedTensorType>(stageOutput.getType()).getShape();
  if (helpers.empty())
    helpers = kPatchHelpers;

  struct Layer {
    Operation *op;
    ArrayRef<int64_t> regions;
    ArrayRef<int64_t> buffer;
    std::string params;
  };
  std::vector<Layer> info;
  for (Operation *op : layers) {
    auto regions = op->getAttrOfType<DenseI64ArrayAttr>("kiln.patch_regions");
    auto buffer = op->getAttrOfType<DenseI64ArrayAttr>("kiln.patch_buffer");
    if (!regions || !buffer ||
        static_cast<int64_t>(regions.size()) != 12 * numPatches ||
        buffer.size() != 3)
      return unsupported(op, "a patch-stage layer without well-formed "
                             "kiln.patch_regions / kiln.patch_buffer");
    info.push_back({op, regions.asArrayRef(), buffer.asArrayRef(), ""});
  }
  if (info.front().buffer[0] < 0 || info.back().buffer[1] < 0)
    return unsupported(layers.front(), "a patch stage whose first layer has "
                                       "no input window or whose last layer "
                                       "has no output region in the buffer");

  // Per-patch parameter tables, one entry per patch.
  llvm::DenseMap<Value, size_t> layerOf;
  for (auto [l, layer] : llvm::enumerate(info))
    layerOf[layer.op->getResult(0)] = l;
  for (Layer &layer : info) {
    std::string id = "p" + std::to_string(counter++);
    if (auto add = dyn_cast<QAddOp>(layer.op)) {
      // A residual add reads a window of each operand's region (the skip
      // tensor's region also holds the block's halo) row by row: per patch
      // {rows, elements per row, then per operand its offset in the region
      // and its row pitch, in elements}.
      int64_t c = add.getType().getShape()[3];
      std::string rows;
      for (int64_t p = 0; p < numPatches; ++p) {
        ArrayRef<int64_t> r = layer.regions.slice(12 * p + 4, 4);
        SmallVector<int64_t> entry = {r[1] - r[0], (r[3] - r[2]) * c};
        for (Value operand : add->getOperands()) {
          auto it = layerOf.find(operand);
          if (it == layerOf.end() || info[it->second].buffer[1] < 0)
            return unsupported(layer.op, "a patch-stage add whose operand is "
                                         "not a region of the stage");
          ArrayRef<int64_t> q =
              info[it->second].regions.slice(12 * p + 4, 4);
          if (r[0] < q[0] || r[1] > q[1] || r[2] < q[2] || r[3] > q[3])
            return unsupported(layer.op, "a patch-stage add that reads "
                                         "outside its operand's region");
          entry.append({((r[0] - q[0]) * (q[3] - q[2]) + (r[2] - q[2])) * c,
                        (q[3] - q[2]) * c});
        }
        rows += "  " + braces(entry) + ",\n";
      }
      tables += "static const kiln_add_params_t " + id + " = " +
                addParams(add) + ";\n";
      std::string win = "w" + std::to_string(counter++);
      tables += "static const int32_t " + win + "[" +
                std::to_string(numPatches) + "][6] = {\n" + rows + "};\n";
      layer.params = id + "," + win;
      continue;
    }
    std::string entries;
    for (int64_t p = 0; p < numPatches; ++p) {
      ArrayRef<int64_t> r = layer.regions.slice(12 * p, 12);
      int64_t inH = r[1] - r[0], inW = r[3] - r[2];
      int64_t outH = r[5] - r[4], outW = r[7] - r[6];
      ArrayRef<int64_t> pads = r.slice(8, 4);
      if (auto conv = dyn_cast<QConv2DOp>(layer.op))
        entries += "  " + convParams(conv, inH, inW, outH, outW, pads) + ",\n";
      else if (auto pool = dyn_cast<QMaxPool2DOp>(layer.op))
        entries += "  " + poolParams(pool, inH, inW, outH, outW, pads) + ",\n";
      else if (auto pool = dyn_cast<QAvgPool2DOp>(layer.op))
        entries += "  " + poolParams(pool, inH, inW, outH, outW, pads) + ",\n";
      else
        return unsupported(layer.op, "no patch kernel for this op");
    }
    const char *type = isa<QConv2DOp>(layer.op) ? "kiln_conv_params_t"
                                                 : "kiln_pool_params_t";
    tables += "static const " + std::string(type) + " " + id + "[" +
              std::to_string(numPatches) + "] = {\n" + entries + "};\n";
    layer.params = id;
  }
  // Windows of the stage input and output, per patch.
  std::string inWin = "w" + std::to_string(counter++);
  std::string outWin = "w" + std::to_string(counter++);
  std::string inRows, outRows;
  for (int64_t p = 0; p < numPatches; ++p) {
    inRows += "  " + braces(info.front().regions.slice(12 * p, 4)) + ",\n";
    outRows += "  " + braces(info.back().regions.slice(12 * p + 4, 4)) + ",\n";
  }
  tables += "static const int32_t " + inWin + "[" +
            std::to_string(numPatches) + "][4] = {\n" + inRows + "};\n";
  tables += "static const int32_t " + outWin + "[" +
            std::to_string(numPatches) + "][4] = {\n" + outRows + "};\n";

  auto arena = [](int64_t offset) {
    return offset < 0 ? std::string("NULL")
                      : "a + " + std::to_string(offset);
  };
  std::string text;
  char line[256];
  auto macs = [&](const char *key) {
    auto attr = stage.getAs<IntegerAttr>(key);
    return attr ? attr.getInt() : 0;
  };
  std::snprintf(line, sizeof(line),
                "  /* patch-based stage (MCUNetV2): %zu layer(s) in %lld x "
                "%lld patches, %lld MACs instead of %lld */\n",
                layers.size(), static_cast<long long>(n),
                static_cast<long long>(n),
                static_cast<long long>(macs("patch_macs")),
                static_cast<long long>(macs("whole_macs")));
  text += line;
  text += "  {\n    int32_t i;\n    for (i = 0; i < " +
          std::to_string(numPatches) + "; ++i) {\n";
  text += "      kiln_patch_gather(" + arena(info.front().buffer[0]) + ", " +
          ptr(stageInput) + ", " + std::to_string(in[1]) + ", " +
          std::to_string(in[2]) + ", " + std::to_string(in[3]) + ", " +
          (transpose ? "1" : "0") + ", " + inWin + "[i]);\n";
  for (const Layer &layer : info) {
    std::string loc = formatLocation(layer.op->getLoc());
    for (size_t pos; (pos = loc.find("*/")) != std::string::npos;)
      loc.replace(pos, 2, "* /");
    text += "      /* " + layer.op->getName().getStringRef().str() +
            (loc.empty() ? "" : " at " + loc) + " */\n";
    std::string input = arena(layer.buffer[0]);
    std::string output = arena(layer.buffer[1]);
    std::string call;
    std::string params = "&" + layer.params + "[i]";
    if (isa<QAddOp>(layer.op)) {
      size_t comma = layer.params.find(',');
      std::string id = layer.params.substr(0, comma);
      std::string win = layer.params.substr(comma + 1);
      auto operand = [&](unsigned k) {
        int64_t offset = info[layerOf.lookup(layer.op->getOperand(k))].buffer[1];
        return "a + " + std::to_string(offset) + " + g[" +
               std::to_string(2 + 2 * k) + "] + y * g[" +
               std::to_string(3 + 2 * k) + "]";
      };
      text += "      {\n        const int32_t *g = " + win +
              "[i];\n        int32_t y;\n        for (y = 0; y < g[0]; ++y) "
              "{\n          s = kiln_add_s8(&" + id + ", " + operand(0) + ", " +
              operand(1) + ", " + output + " + y * g[1], g[1]);\n" +
              "          if (s != KILN_RT_OK)\n            return (int)s;\n" +
              "        }\n      }\n";
      continue;
    }
    if (auto conv = dyn_cast<QConv2DOp>(layer.op))
      call = convCall(conv, params, input, output, arena(layer.buffer[2]),
                      /*inPlace=*/false);
    else if (isa<QMaxPool2DOp>(layer.op))
      call = "kiln_maxpool2d_s8(" + params + ", " + input + ", " + output +
             ")";
    else
      call = "kiln_avgpool2d_s8(" + params + ", " + input + ", " + output +
             ")";
    text += "      s = " + call + ";\n      if (s != KILN_RT_OK)\n" +
            "        return (int)s;\n";
  }
  text += "      kiln_patch_scatter(" + ptr(stageOutput) + ", " +
          arena(info.back().buffer[1]) + ", " + std::to_string(out[2]) +
          ", " + std::to_string(out[3]) + ", " + outWin + "[i]);\n";
  text += "    }\n  }\n";
  body += text;
  return Status::ok();
}


Status CWriter::emitOp(Operation *op) {
  std::string comment = opComment(op);
  std::string call;
  if (auto conv = dyn_cast<QConv2DOp>(op)) {
    ArrayRef<int64_t> x = conv.getInput().getType().getShape();
    ArrayRef<int64_t> y = conv.getType().getShape();
    std::string id = "p" + std::to_string(counter++);
    tables += "static const kiln_conv_params_t " + id + " = " +
              convParams(conv, x[1], x[2], y[1], y[2], conv.getPads()) +
              ";\n";
    auto inPlace = op->getAttrOfType<StringAttr>("kiln.in_place");
    call = convCall(conv, "&" + id, ptr(conv.getInput()),
                    ptr(conv.getResult()), scratch(op),
                    inPlace && inPlace.getValue() == "depthwise");
  } else if (auto fc = dyn_cast<QFullyConnectedOp>(op)) {
    ArrayRef<int64_t> x = fc.getInput().getType().getShape();
    ArrayRef<int64_t> w = fc.getWeight().getType().getShape();
    std::string id = "p" + std::to_string(counter++);
    tables += "static const kiln_fc_params_t " + id + " = {" +
              std::to_string(x[0]) + ", " + std::to_string(x[1]) + ", " +
              std::to_string(w[0]) + ", " +
              std::to_string(perTensorParams(fc.getInput().getType()).zeroPoint) +
              ", " + std::to_string(perTensorParams(fc.getType()).zeroPoint) +
              ", " + std::to_string(fc.getActMin()) + ", " +
              std::to_string(fc.getActMax()) + "};\n";
    std::string rq = requant(fc.getMultipliers(), fc.getShifts());
    call = "kiln_fully_connected_s8(&" + id + ", &" + rq + ", " +
           ptr(fc.getInput()) + ", " + constant(fc.getWeight()) + ", " +
           (fc.getBias() ? constant(fc.getBias()) : std::string("NULL")) +
           ", " + ptr(fc.getResult()) + ")";
  } else if (isa<QAvgPool2DOp, QMaxPool2DOp>(op)) {
    bool isMax = isa<QMaxPool2DOp>(op);
    auto get = [&](auto pool) {
      ArrayRef<int64_t> x = pool.getInput().getType().getShape();
      ArrayRef<int64_t> y = pool.getType().getShape();
      ArrayRef<int64_t> k = pool.getKernelShape(), s = pool.getStrides(),
                        p = pool.getPads();
      std::string id = "p" + std::to_string(counter++);
      tables += "static const kiln_pool_params_t " + id + " = {" +
                std::to_string(x[0]) + ", " + std::to_string(x[1]) + ", " +
                std::to_string(x[2]) + ", " + std::to_string(x[3]) + ", " +
                std::to_string(y[1]) + ", " + std::to_string(y[2]) + ", " +
                std::to_string(k[0]) + ", " + std::to_string(k[1]) + ", " +
                std::to_string(s[0]) + ", " + std::to_string(s[1]) + ", " +
                std::to_string(p[0]) + ", " + std::to_string(p[1]) + ", " +
                std::to_string(p[2]) + ", " + std::to_string(p[3]) + ", " +
                std::to_string(pool.getCountIncludePad() ? 1 : 0) + ", " +
                std::to_string(
                    perTensorParams(pool.getInput().getType()).zeroPoint) +
                ", " + std::to_string(pool.getActMin()) + ", " +
                std::to_string(pool.getActMax()) + "};\n";
      return std::string(isMax ? "kiln_maxpool2d_s8" : "kiln_avgpool2d_s8") +
             "(&" + id + ", " + ptr(pool.getInput()) + ", " +
             ptr(pool.getResult()) + ")";
    };
    call = isMax ? get(cast<QMaxPool2DOp>(op)) : get(cast<QAvgPool2DOp>(op));
  } else if (auto pool = dyn_cast<QGlobalAvgPool2DOp>(op)) {
    ArrayRef<int64_t> x = pool.getInput().getType().getShape();
    std::string id = "p" + std::to_string(counter++);
    tables +=
        "static const kiln_global_avgpool_params_t " + id + " = {" +
        std::to_string(x[0]) + ", " + std::to_string(x[1]) + ", " +
        std::to_string(x[2]) + ", " + std::to_string(x[3]) + ", " +
        std::to_string(perTensorParams(pool.getInput().getType()).zeroPoint) +
        ", " + std::to_string(perTensorParams(pool.getType()).zeroPoint) +
        ", " + std::to_string(pool.getMultiplier()) + ", " +
        std::to_string(pool.getShift()) + ", " +
        std::to_string(pool.getActMin()) + ", " +
        std::to_string(pool.getActMax()) + "};\n";
    call = "kiln_global_avgpool_s8(&" + id + ", " + ptr(pool.getInput()) +
           ", " + ptr(pool.getResult()) + ")";
  } else if (isa<QAddOp, QMulOp>(op)) {
    Value lhs = op->getOperand(0), rhs = op->getOperand(1);
    auto lType = cast<RankedTensorType>(lhs.getType());
    auto rType = cast<RankedTensorType>(rhs.getType());
    auto outType = cast<RankedTensorType>(op->getResult(0).getType());
    std::string id = "p" + std::to_string(counter++);
    std::string zps = std::to_string(perTensorParams(lType).zeroPoint) + ", " +
                      std::to_string(perTensorParams(rType).zeroPoint) + ", " +
                      std::to_string(perTensorParams(outType).zeroPoint);
    bool isAdd = isa<QAddOp>(op);
    if (auto add = dyn_cast<QAddOp>(op))
      tables += "static const kiln_add_params_t " + id + " = " +
                addParams(add) + ";\n";
    else {
      auto mul = cast<QMulOp>(op);
      tables += "static const kiln_mul_params_t " + id + " = {" + zps + ", " +
                std::to_string(mul.getMultiplier()) + ", " +
                std::to_string(mul.getShift()) + ", " +
                std::to_string(mul.getActMin()) + ", " +
                std::to_string(mul.getActMax()) + "};\n";
    }
    auto operand = [&](Value v) {
      return v.getDefiningOp<ConstantOp>() ? constant(v) : ptr(v);
    };
    std::string kernel = isAdd ? "kiln_add" : "kiln_mul";
    if (lType.getShape() == rType.getShape()) {
      call = kernel + "_s8(&" + id + ", " + operand(lhs) + ", " +
             operand(rhs) + ", " + ptr(op->getResult(0)) + ", " +
             std::to_string(outType.getNumElements()) + ")";
    } else {
      ArrayRef<int64_t> shape = outType.getShape();
      if (shape.size() > 6)
        return unsupported(op, "broadcasting over more than 6 dimensions");
      auto strides = [&](ArrayRef<int64_t> from) {
        SmallVector<int64_t> result(shape.size(), 0);
        int64_t stride = 1;
        for (int64_t i = static_cast<int64_t>(from.size()) - 1; i >= 0; --i) {
          size_t d = shape.size() - from.size() + i;
          result[d] = from[i] == 1 ? 0 : stride;
          stride *= from[i];
        }
        return result;
      };
      std::string b = "b" + std::to_string(counter++);
      tables += "static const kiln_broadcast_t " + b + " = {" +
                std::to_string(shape.size()) + ", " + braces(shape) + ", " +
                braces(strides(lType.getShape())) + ", " +
                braces(strides(rType.getShape())) + "};\n";
      call = kernel + "_broadcast_s8(&" + id + ", &" + b + ", " +
             operand(lhs) + ", " + operand(rhs) + ", " +
             ptr(op->getResult(0)) + ")";
    }
  } else if (auto clamp = dyn_cast<QClampOp>(op)) {
    call = "kiln_clamp_s8(" + ptr(clamp.getInput()) + ", " +
           ptr(clamp.getResult()) + ", " +
           std::to_string(clamp.getType().getNumElements()) + ", " +
           std::to_string(clamp.getMin()) + ", " +
           std::to_string(clamp.getMax()) + ")";
  } else if (auto rq = dyn_cast<RequantizeOp>(op)) {
    std::string id = "p" + std::to_string(counter++);
    tables +=
        "static const kiln_requantize_params_t " + id + " = {" +
        std::to_string(perTensorParams(rq.getInput().getType()).zeroPoint) +
        ", " + std::to_string(perTensorParams(rq.getType()).zeroPoint) + ", " +
        std::to_string(rq.getMultiplier()) + ", " +
        std::to_string(rq.getShift()) + ", -128, 127};\n";
    call = "kiln_requantize_s8(&" + id + ", " + ptr(rq.getInput()) + ", " +
           ptr(rq.getResult()) + ", " +
           std::to_string(rq.getType().getNumElements()) + ")";
  } else if (auto softmax = dyn_cast<QSoftmaxOp>(op)) {
    std::string id = "t" + std::to_string(counter++);
    tables += "static const int32_t " + id + "[256] = {\n" +
              initializer(softmax.getTable()) + "};\n";
    auto type = softmax.getType();
    int64_t row = type.getShape().back();
    call = "kiln_softmax_s8(" + ptr(softmax.getInput()) + ", " +
           ptr(softmax.getResult()) + ", " +
           std::to_string(type.getNumElements() / row) + ", " +
           std::to_string(row) + ", " + id + ")";
  } else if (auto concat = dyn_cast<QConcatOp>(op)) {
    // Placed by the memory planner: every input already sits in its slice.
    auto [outer, inner, placed] = concatLayout(concat);
    int64_t axis = concat.getAxis();
    if (placed && outer == 1) {
      body += comment + "  /* inputs were written in place */\n";
      return Status::ok();
    }
    std::string id = "c" + std::to_string(counter++);
    std::string list;
    for (auto [i, input] : llvm::enumerate(concat.getInputs())) {
      auto type = cast<RankedTensorType>(input.getType());
      list += "    {" + ptr(input) + ", " +
              std::to_string(type.getDimSize(axis) * inner) + ", " +
              std::to_string(perTensorParams(type).zeroPoint) + ", " +
              std::to_string(concat.getMultipliers()[i]) + ", " +
              std::to_string(concat.getShifts()[i]) + "},\n";
    }
    body += comment + "  {\n    const kiln_concat_input_t " + id +
            "[] = {\n" + list + "    };\n    s = kiln_concat_s8(" + id +
            ", " + std::to_string(concat.getInputs().size()) + ", " +
            std::to_string(outer) + ", " +
            std::to_string(perTensorParams(concat.getType()).zeroPoint) +
            ", " + ptr(concat.getResult()) +
            ");\n    if (s != KILN_RT_OK)\n      return (int)s;\n  }\n";
    return Status::ok();
  } else if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    if (offsetOf(reshape.getInput()) == offsetOf(reshape.getResult())) {
      body += comment + "  /* zero-copy */\n";
      return Status::ok();
    }
    body += comment + "  memmove(" + ptr(reshape.getResult()) + ", " +
            ptr(reshape.getInput()) + ", " +
            std::to_string(reshape.getType().getNumElements()) + ");\n";
    return Status::ok();
  } else if (auto transpose = dyn_cast<TransposeOp>(op)) {
    ArrayRef<int64_t> in = transpose.getInput().getType().getShape();
    if (in.size() > 6)
      return unsupported(op, "transposes of more than 6 dimensions");
    std::string id = "p" + std::to_string(counter++);
    tables += "static const kiln_transpose_params_t " + id + " = {" +
              std::to_string(in.size()) + ", " + braces(in) + ", " +
              braces(transpose.getPerm()) + "};\n";
    call = "kiln_transpose_s8(&" + id + ", " + ptr(transpose.getInput()) +
           ", " + ptr(transpose.getResult()) + ")";
  } else if (auto pad = dyn_cast<PadOp>(op)) {
    ArrayRef<int64_t> in = pad.getInput().getType().getShape();
    ArrayRef<int64_t> pads = pad.getPads();
    if (pad.getMode() != "constant" || in.size() > 6 ||
        llvm::any_of(pads, [](int64_t p) { return p < 0; }))
      return unsupported(op, "only non-negative constant padding is "
                             "implemented");
    std::string id = "p" + std::to_string(counter++);
    tables += "static const kiln_pad_params_t " + id + " = {" +
              std::to_string(in.size()) + ", " + braces(in) + ", " +
              braces(pads.take_front(in.size())) + ", " +
              braces(pads.drop_front(in.size())) + ", " +
              std::to_string(perTensorParams(pad.getType()).zeroPoint) +
              "};\n";
    call = "kiln_pad_s8(&" + id + ", " + ptr(pad.getInput()) + ", " +
           ptr(pad.getResult()) + ")";
  } else {
    return unsupported(op, "no C kernel (the C targets run int8 models: "
                           "compile with --quantize int8)");
  }
  body += comment + "  s = " + call + ";\n  if (s != KILN_RT_OK)\n" +
          "    return (int)s;\n";
  return Status::ok();
}

Status CWriter::run() {
  auto arena = func->getAttrOfType<IntegerAttr>("kiln.arena_bytes");
  if (!arena)
    return Status::error("the function has no memory plan (run "
                         "kiln-plan-memory first)");
  arenaBytes = arena.getInt();
  if (Status ports = collectInt8Ports(func, "the C targets", inputs, outputs);
      ports.failed())
    return ports;
  SmallVector<Operation *> stage;
  auto flushStage = [&]() {
    Status status = stage.empty() ? Status::ok() : emitPatchStage(stage);
    stage.clear();
    return status;
  };
  for (Operation &op : func.getBody().front()) {
    if (isa<ConstantOp, func::ReturnOp>(op) || isInputBoundary(&op) ||
        isOutputBoundary(&op))
      continue;
    if (op.hasAttr("kiln.patch_layer")) {
      stage.push_back(&op);
      continue;
    }
    Status status = flushStage();
    if (status.succeeded())
      status = emitOp(&op);
    if (status.failed())
      return status;
  }
  if (Status status = flushStage(); status.failed())
    return status;

  std::string upper = upperCase(name);
  std::ostringstream h;
  h << "/* DO NOT EDIT — generated by kiln (Kiln " << "compiler) */\n"
    << "/* model.h: the int8 model '" << name << "'. */\n"
    << "#ifndef KILN_MODEL_" << upper << "_H\n#define KILN_MODEL_" << upper
    << "_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "/* Bytes of the one arena the model needs (activations, scratch). */\n"
    << "#define KILN_" << upper << "_ARENA_BYTES " << arenaBytes << "\n"
    << "#define KILN_" << upper << "_NUM_INPUTS " << inputs.size() << "\n"
    << "#define KILN_" << upper << "_NUM_OUTPUTS " << outputs.size()
    << "\n\n"
    << "#ifndef KILN_TENSOR_DESC_DEFINED\n#define KILN_TENSOR_DESC_DEFINED\n"
    << "/* An int8 input or output: real value = scale * (q - zero_point). "
       "*/\ntypedef struct kiln_tensor_desc {\n  const char *name;\n"
       "  int32_t rank;\n  int32_t dims[6];\n  int32_t bytes;\n"
       "  float scale;\n  int32_t zero_point;\n} kiln_tensor_desc_t;\n"
       "#endif\n\n"
    << "extern const kiln_tensor_desc_t kiln_" << name << "_inputs[];\n"
    << "extern const kiln_tensor_desc_t kiln_" << name << "_outputs[];\n\n"
    << "/* Runs the model. |arena| holds KILN_" << upper
    << "_ARENA_BYTES bytes, 16-byte aligned,\n * owned by the caller and "
       "used only during the call (re-entrant given distinct\n * arenas). "
       "|inputs| and |outputs| hold one pointer per descriptor. Returns 0,\n"
       " * or a kiln_rt_status_t code. */\n"
    << "int kiln_" << name
    << "_run(void *arena, const int8_t *const *inputs,\n"
    << "             int8_t *const *outputs);\n\n"
    << "/* Zero-copy use: write inputs at kiln_" << name
    << "_input(arena, i), call\n * kiln_" << name
    << "_invoke(arena), read outputs at kiln_" << name
    << "_output(arena, i). */\n"
    << "int8_t *kiln_" << name << "_input(void *arena, int index);\n"
    << "const int8_t *kiln_" << name
    << "_output(const void *arena, int index);\n"
    << "int kiln_" << name << "_invoke(void *arena);\n\n"
    << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n#endif\n";
  header = h.str();

  auto descriptors = [&](const std::vector<Port> &ports) {
    std::string text;
    for (const Port &port : ports) {
      std::vector<int64_t> dims = port.shape;
      dims.resize(6, 1);
      char scale[64];
      std::snprintf(scale, sizeof(scale), "%.9gf", port.scale);
      text += "  {\"" + port.name + "\", " + std::to_string(port.shape.size()) +
              ", " + braces(dims) + ", " + std::to_string(port.bytes) + ", " +
              scale + ", " + std::to_string(port.zeroPoint) + "},\n";
    }
    return text;
  };
  auto offsets = [&](const std::vector<Port> &ports) {
    std::vector<int64_t> values;
    for (const Port &port : ports)
      values.push_back(port.offset);
    return initializer(llvm::ArrayRef<int64_t>(values));
  };
  std::ostringstream c;
  c << "/* DO NOT EDIT — generated by kiln */\n"
    << "/* model.c: kernels of '" << name << "' in execution order, arena "
    << "offsets from the memory planner. */\n"
    << "#include \"model.h\"\n\n#include \"kiln_rt.h\"\n\n#include <string.h>\n\n"
    << "#if defined(__GNUC__)\n#define KILN_ALIGNED "
       "__attribute__((aligned(16)))\n#else\n#define KILN_ALIGNED\n#endif\n\n"
    << "const kiln_tensor_desc_t kiln_" << name << "_inputs[] = {\n"
    << descriptors(inputs) << "};\n"
    << "const kiln_tensor_desc_t kiln_" << name << "_outputs[] = {\n"
    << descriptors(outputs) << "};\n"
    << "static const int32_t input_offsets[] = {\n" << offsets(inputs)
    << "};\nstatic const int32_t output_offsets[] = {\n" << offsets(outputs)
    << "};\n\n"
    << helpers << tables << "\n"
    << "int8_t *kiln_" << name << "_input(void *arena, int index) {\n"
    << "  return (int8_t *)arena + input_offsets[index];\n}\n\n"
    << "const int8_t *kiln_" << name
    << "_output(const void *arena, int index) {\n"
    << "  return (const int8_t *)arena + output_offsets[index];\n}\n\n"
    << "int kiln_" << name << "_invoke(void *arena) {\n"
    << "  int8_t *a = (int8_t *)arena;\n  kiln_rt_status_t s = KILN_RT_OK;\n"
    << body << "  (void)a;\n  return (int)s;\n}\n\n"
    << "int kiln_" << name
    << "_run(void *arena, const int8_t *const *inputs,\n"
    << "             int8_t *const *outputs) {\n  int i, status;\n"
    << "  for (i = 0; i < KILN_" << upper << "_NUM_INPUTS; ++i)\n"
    << "    memcpy(kiln_" << name << "_input(arena, i), inputs[i],\n"
    << "           (size_t)kiln_" << name << "_inputs[i].bytes);\n"
    << "  status = kiln_" << name << "_invoke(arena);\n"
    << "  if (status != 0)\n    return status;\n"
    << "  for (i = 0; i < KILN_" << upper << "_NUM_OUTPUTS; ++i)\n"
    << "    memcpy(outputs[i], kiln_" << name << "_output(arena, i),\n"
    << "           (size_t)kiln_" << name << "_outputs[i].bytes);\n"
    << "  return 0;\n}\n";
  source = c.str();
  return Status::ok();
}

/// Returns the harness main.c: embedded int8 inputs, one line per output.
std::string harnessSource(const CWriter &writer, const std::string &name,
                          const std::vector<std::vector<Tensor>> &samples,
                          bool cortexM) {
  std::string upper = upperCase(name);
  std::ostringstream m;
  m << "/* DO NOT EDIT — generated by kiln */\n"
    << "/* main.c: runs '" << name << "' on " << samples.size()
    << " embedded sample(s) and prints\n * \"<output>: v0 v1 ...\" (raw int8 "
       "values) for each. */\n"
    << "#include \"model.h\"\n\n#include <stdio.h>\n"
    << (cortexM ? "#include \"kiln_mps2.h\"\n" : "#include <stdlib.h>\n")
    << "\n#if defined(__GNUC__)\n#define KILN_ALIGNED "
       "__attribute__((aligned(16)))\n#else\n#define KILN_ALIGNED\n#endif\n\n"
    << "static int8_t arena[KILN_" << upper
    << "_ARENA_BYTES > 0 ? KILN_" << upper
    << "_ARENA_BYTES : 1] KILN_ALIGNED;\n\n";
  for (size_t s = 0; s < samples.size(); ++s)
    for (size_t i = 0; i < writer.inputs.size(); ++i) {
      const Port &port = writer.inputs[i];
      const Tensor &t = samples[s][i];
      std::vector<int8_t> q(static_cast<size_t>(port.bytes));
      for (int64_t k = 0; k < port.bytes; ++k) {
        if (t.dtype == DType::I8)
          q[k] = t.as<int8_t>()[k];
        else
          q[k] = ref::quantize(static_cast<float>(loadFloat(t, k)),
                               static_cast<float>(port.scale),
                               port.zeroPoint);
      }
      m << "static const int8_t in_" << s << "_" << i << "[] = {\n"
        << initializer(llvm::ArrayRef<int8_t>(q)) << "};\n";
    }
  for (size_t i = 0; i < writer.outputs.size(); ++i)
    m << "static int8_t out_" << i << "[" << writer.outputs[i].bytes
      << "];\n";
  m << "\nstatic void finish(int status) {\n"
    << (cortexM ? "  kiln_mps2_exit(status);\n" : "  exit(status);\n")
    << "}\n\nint main(void) {\n";
  m << "  int8_t *outputs[] = {";
  for (size_t i = 0; i < writer.outputs.size(); ++i)
    m << (i ? ", " : "") << "out_" << i;
  m << "};\n  int32_t k;\n";
  for (size_t s = 0; s < samples.size(); ++s) {
    m << "  {\n    const int8_t *inputs[] = {";
    for (size_t i = 0; i < writer.inputs.size(); ++i)
      m << (i ? ", " : "") << "in_" << s << "_" << i;
    m << (writer.inputs.empty() ? "0" : "") << "};\n"
      << "    int status = kiln_" << name
      << "_run(arena, inputs, outputs);\n"
      << "    if (status != 0) {\n      printf(\"kiln: run failed with "
         "status %d\\n\", status);\n      finish(1);\n    }\n";
    for (size_t i = 0; i < writer.outputs.size(); ++i)
      m << "    printf(\"" << writer.outputs[i].name << ":\");\n"
        << "    for (k = 0; k < " << writer.outputs[i].bytes << "; ++k)\n"
        << "      printf(\" %d\", out_" << i << "[k]);\n"
        << "    printf(\"\\n\");\n";
    m << "  }\n";
  }
  m << "  fflush(stdout);\n  finish(0);\n  return 0;\n}\n";
  return m.str();
}

/// Returns the Makefile of |target|.
std::string makefile(const std::string &target, bool harness) {
  std::ostringstream mk;
  mk << "# DO NOT EDIT — generated by kiln. `make` builds, `make run` runs "
        "the harness.\n"
     << "RT_SRC := $(wildcard kiln_rt/src/*.c)\n"
     << "WARN := -std=c99 -Wall -Wextra -Werror -pedantic\n";
  std::optional<CortexM> m = cortexMOf(target);
  if (!m) {
    mk << "CC ?= cc\nCFLAGS ?= -O2\n"
       << "ALL_CFLAGS := $(WARN) $(CFLAGS) -Ikiln_rt/include -Ikiln_rt/src\n"
       << "OBJ := model.o $(RT_SRC:.c=.o)\n\n";
    if (harness)
      mk << "all: model_run\n\nmodel_run: main.o $(OBJ)\n"
         << "\t$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^\n\n"
         << "run: model_run\n\t./model_run\n\n";
    else
      mk << "all: libmodel.a\n\n";
    mk << "libmodel.a: $(OBJ)\n\t$(AR) rcs $@ $^\n\n"
       << "%.o: %.c\n\t$(CC) $(ALL_CFLAGS) -c -o $@ $<\n\n"
       << "clean:\n\trm -f *.o kiln_rt/src/*.o libmodel.a model_run\n\n"
       << ".PHONY: all run clean\n";
    return mk.str();
  }
  mk << "CC := arm-none-eabi-gcc\nCFLAGS ?= -O2\n"
     << "CPU := -mthumb -mfloat-abi=hard " << m->cpuFlags << "\n"
     << "ALL_CFLAGS := $(WARN) $(CFLAGS) $(CPU) -Ikiln_rt/include "
        "-Ikiln_rt/src -Iplatform -ffunction-sections -fdata-sections\n"
     << "LDFLAGS := --specs=nano.specs --specs=rdimon.specs "
        "-Wl,--gc-sections -Lplatform -T" << m->board << ".ld "
        "-Wl,-Map=model.map\n"
     << "QEMU := qemu-system-arm -M " << m->machine
     << " -nographic -semihosting -kernel\n"
     << "SRC := model.c $(RT_SRC) platform/startup.c platform/semihost.c"
     << (harness ? " main.c" : "") << "\n\n"
     << "all: model.elf\n\nmodel.elf: $(SRC) model.h\n"
     << "\t$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(SRC)\n\n"
     << "run: model.elf\n\t$(QEMU) model.elf\n\n"
     << "clean:\n\trm -f model.elf model.map\n\n.PHONY: all run clean\n";
  return mk.str();
}

} // namespace

Result<std::vector<std::string>> emitCProgram(func::FuncOp func,
                                              const CEmitOptions &options) {
  if (options.target != "host" && !cortexMOf(options.target))
    return Status::error("the C emitter does not support target '" +
                         options.target + "'");
  CWriter writer(func, options);
  Status status = writer.run();
  if (status.failed())
    return status;
  bool cortexM = cortexMOf(options.target).has_value();
  bool harness = !options.harnessSamples.empty();
  for (const auto &sample : options.harnessSamples)
    if (sample.size() != writer.inputs.size())
      return Status::error("harness data has " +
                           std::to_string(sample.size()) + " inputs, the "
                           "model " + std::to_string(writer.inputs.size()));
  std::vector<std::string> files;
  auto write = [&](const std::string &file, const std::string &text) {
    status.append(writeFile(options.outputDir, file, text));
    files.push_back(file);
  };
  write("model.h", writer.header);
  write("model.c", writer.source);
  for (const EmbeddedFile &file : kRuntimeFiles) {
    std::string path = file.path;
    if (path.rfind("platform/mps2/", 0) == 0) {
      if (!cortexM)
        continue;
      path = "platform/" + path.substr(14);
      // Only the chosen board's linker script.
      if (path.size() > 3 && path.compare(path.size() - 3, 3, ".ld") == 0 &&
          path.find(cortexMOf(options.target)->board) == std::string::npos &&
          path.find("sections") == std::string::npos)
        continue;
      write(path, file.contents);
    } else {
      write("kiln_rt/" + path, file.contents);
    }
  }
  if (harness)
    write("main.c", harnessSource(writer, options.modelName,
                                  options.harnessSamples, cortexM));
  write("Makefile", makefile(options.target, harness));
  if (status.failed())
    return status;
  return files;
}

} // namespace kiln::codegen
