//===- CudaEmitter.cpp - CUDA C++ code generation for NVIDIA GPUs -*- C++ -*-//
// SPDX-License-Identifier: Apache-2.0
//
// Implements emitCudaProgram (see CudaEmitter.h). The walk mirrors the C
// emitter: every op of the memory-planned int8 function becomes one launch
// with its parameters as constants and its tensors at planned offsets of the
// workspace. Kernel choice happens here, from static shapes and offsets:
//
//   kiln.qconv2d        Conv2dSm80 (implicit GEMM on the tensor cores) when
//                       C is a multiple of 4 and the input offset aligned;
//                       DepthwiseConv2d for depthwise layers likewise; the
//                       portable int8::conv2d otherwise
//   kiln.qfully_connected  the GEMM of Select.h's chooseGemmKernel (sm_90:
//                       TMA + wgmma for M >= 128, planned at create) when K
//                       is a multiple of 16; int8::fullyConnected otherwise
//   pools               Pool2d / GlobalAvgPool (16/8/4-byte vectors) or the
//                       portable kernels
//   kiln.qadd           int8Add (same shape, 16-byte aligned) or
//                       int8::binary (broadcasting); kiln.qmul int8::binary
//   the rest            Int8Ops.cuh
//
// Every choice and every fallback, with its reason, goes to kernels.md, so
// a layer never falls back silently. Weights are pre-packed here (GEMM rows
// padded to 16 bytes, depthwise filters as [KH][KW][C], -zp * sum(w) folded
// into the int32 bias) and written to weights.bin.
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmitter.h"

#include "codegen/common/EmitSupport.h"
#include "compiler/reference/IntegerKernels.h"
#include "compiler/support/DiagnosticCapture.h"
#include "compiler/support/Numeric.h"
#include "compiler/support/QuantParams.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"
#include "passes/memory/Passes.h"

#include "kiln/cuda/Packing.h"
#include "kiln/cuda/Select.h"

#include "llvm/ADT/DenseMap.h"

#include <cstring>
#include <sstream>

namespace kiln::codegen {

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The runtime headers, embedded at build time.
struct EmbeddedFile {
  const char *path;
  const char *contents;
};

const EmbeddedFile kCudaRuntimeFiles[] = {
#include "codegen/cuda/CudaRuntimeSources.inc"
};

/// Alignment of every blob in weights.bin (and of the split-K region).
constexpr int64_t kBlobAlignment = 256;

/// The weights file: a 16-byte header ("KILNWTS1", payload bytes) and the
/// blobs. The model checks the size and an FNV-1a hash of the payload.
class WeightsFile {
public:
  /// Appends |bytes| bytes and returns their payload offset.
  int64_t add(const void *data, size_t bytes) {
    size_t offset = (payload.size() + kBlobAlignment - 1) /
                    kBlobAlignment * kBlobAlignment;
    payload.resize(offset + std::max<size_t>(bytes, 1), 0);
    if (bytes)
      std::memcpy(payload.data() + offset, data, bytes);
    return static_cast<int64_t>(offset);
  }
  template <typename T> int64_t add(const std::vector<T> &values) {
    return add(values.data(), values.size() * sizeof(T));
  }
  uint64_t hash() const {
    uint64_t h = 1469598103934665603ull;
    for (uint8_t byte : payload)
      h = (h ^ byte) * 1099511628211ull;
    return h;
  }
  std::string file() const {
    std::string text = "KILNWTS1";
    uint64_t size = payload.size();
    for (int i = 0; i < 8; ++i)
      text += static_cast<char>((size >> (8 * i)) & 0xff);
    text.append(reinterpret_cast<const char *>(payload.data()),
                payload.size());
    return text;
  }
  size_t size() const { return payload.size(); }

private:
  std::vector<uint8_t> payload;
};

/// Returns the ONNX node names of |loc| ("conv1/conv, conv1/relu"), or
/// the formatted location when it names no node.
std::string nodeNames(Location loc) {
  std::string text = formatLocation(loc), names;
  for (size_t pos = 0; (pos = text.find("node '", pos)) != std::string::npos;) {
    size_t end = text.find('\'', pos + 6);
    if (end == std::string::npos)
      break;
    names += (names.empty() ? "" : ", ") + text.substr(pos + 6, end - pos - 6);
    pos = end;
  }
  return names.empty() ? text : names;
}

/// One line of kernels.md.
struct KernelRecord {
  std::string op, location, kernel, why;
};

/// Returns the largest vector width (16, 8, 4 bytes) dividing |channels|
/// and every offset, or 0.
int vectorBytes(int64_t channels, std::initializer_list<int64_t> offsets) {
  for (int v : {16, 8, 4}) {
    bool ok = channels % v == 0;
    for (int64_t offset : offsets)
      ok = ok && offset % v == 0;
    if (ok)
      return v;
  }
  return 0;
}

class CudaWriter {
public:
  CudaWriter(func::FuncOp func, const CudaEmitOptions &options)
      : func(func), name(options.modelName),
        arch(options.target == "cuda-sm90" ? ::kiln::cuda::Arch::kSm90
                                           : ::kiln::cuda::Arch::kSm80),
        numSMs(options.target == "cuda-sm90" ? 132 : 108) {}

  Status run();
  std::string header, source, report;
  std::vector<Port> inputs, outputs;
  WeightsFile weights;
  int64_t arenaBytes = 0, splitKBytes = 0;

private:
  Status emitOp(Operation *op);
  Status emitConv(QConv2DOp conv);
  Status emitFullyConnected(QFullyConnectedOp fc);
  Status emitBinary(Operation *op);

  std::string act(Value value) {
    return "(h->workspace + " + std::to_string(arenaOffset(value)) + ")";
  }
  std::string s8(Value value) { return "(int8_t *)" + act(value); }
  std::string cs8(Value value) { return "(const int8_t *)" + act(value); }
  std::string blob(int64_t offset, const char *type) {
    return "(const " + std::string(type) + " *)(h->weights + " +
           std::to_string(offset) + ")";
  }
  int64_t int32Blob(ArrayRef<int32_t> values) {
    return weights.add(values.data(), values.size() * sizeof(int32_t));
  }
  /// Adds |value| (an int8 or int32 constant) as is.
  int64_t constantBlob(Value value);
  void call(const std::string &code) {
    body += "  KILN_CALL(" + code + ");\n";
  }
  void record(Operation *op, std::string kernel, const std::string &why) {
    for (size_t pos; (pos = kernel.find("kiln::cuda::")) != std::string::npos;)
      kernel.erase(pos, 12);
    records.push_back({op->getName().getStringRef().str(),
                       nodeNames(op->getLoc()), kernel, why});
  }
  Status unsupported(Operation *op, const std::string &why) {
    return Status::error("the CUDA targets cannot emit '" +
                             op->getName().getStringRef().str() + "': " + why,
                         formatLocation(op->getLoc()));
  }
  /// Returns the EpilogueParams lines of a fixed-point int8 output.
  std::string requantEpilogue(const std::string &var, Value out,
                              int64_t ldOut, int64_t biasOffset,
                              ArrayRef<int32_t> multipliers,
                              ArrayRef<int32_t> shifts, int32_t zp,
                              int64_t actMin, int64_t actMax);
  std::string epilogueType(bool perTensor) {
    return std::string("kiln::cuda::Epilogue<kiln::cuda::OutKind::"
                       "kInt8Fixed, kiln::cuda::Act::kNone, "
                       "kiln::cuda::kEpiBiasInt") +
           (perTensor ? " | kiln::cuda::kEpiPerTensorRequant" : "") + ">";
  }
  void splitK(int64_t bytes) {
    splitKBytes = std::max(splitKBytes, bytes);
  }

  func::FuncOp func;
  std::string name;
  ::kiln::cuda::Arch arch;
  int numSMs;
  std::string types, init, body, handleFields;
  std::vector<KernelRecord> records;
  llvm::DenseMap<Value, int64_t> constants;
  unsigned counter = 0;
};

int64_t CudaWriter::constantBlob(Value value) {
  auto it = constants.find(value);
  if (it != constants.end())
    return it->second;
  auto op = value.getDefiningOp<ConstantOp>();
  std::optional<Tensor> tensor = fromElementsAttr(op.getValue());
  int64_t offset = weights.add(tensor->data.data(), tensor->data.size());
  constants[value] = offset;
  return offset;
}

std::string CudaWriter::requantEpilogue(const std::string &var, Value out,
                                        int64_t ldOut, int64_t biasOffset,
                                        ArrayRef<int32_t> multipliers,
                                        ArrayRef<int32_t> shifts, int32_t zp,
                                        int64_t actMin, int64_t actMax) {
  int64_t m = int32Blob(multipliers), s = int32Blob(shifts);
  return "    " + var + ".out = " + act(out) + ";\n    " + var +
         ".ldOut = " + std::to_string(ldOut) + ";\n    " + var +
         ".biasInt = " + blob(biasOffset, "int32_t") + ";\n    " + var +
         ".multiplier = " + blob(m, "int32_t") + ";\n    " + var +
         ".shift = " + blob(s, "int32_t") + ";\n    " + var +
         ".outZeroPoint = " + std::to_string(zp) + ";\n    " + var +
         ".clampMin = " + std::to_string(actMin) + ";\n    " + var +
         ".clampMax = " + std::to_string(actMax) + ";\n";
}

Status CudaWriter::emitConv(QConv2DOp conv) {
  ArrayRef<int64_t> x = conv.getInput().getType().getShape();
  ArrayRef<int64_t> y = conv.getType().getShape();
  ArrayRef<int64_t> w = conv.getWeight().getType().getShape();
  ArrayRef<int64_t> st = conv.getStrides(), d = conv.getDilations(),
                    p = conv.getPads();
  int64_t group = conv.getGroup();
  int32_t inZp = perTensorParams(conv.getInput().getType()).zeroPoint;
  int32_t outZp = perTensorParams(conv.getType()).zeroPoint;
  std::optional<Tensor> filter =
      fromElementsAttr(conv.getWeight().getDefiningOp<ConstantOp>().getValue());
  std::optional<Tensor> bias;
  if (conv.getBias())
    bias = fromElementsAttr(conv.getBias().getDefiningOp<ConstantOp>().getValue());
  const int8_t *wv = filter->as<int8_t>();
  int64_t OC = y[3], KH = w[1], KW = w[2], Cg = w[3];
  ArrayRef<int32_t> mult = conv.getMultipliers(), shifts = conv.getShifts();
  bool perTensor = mult.size() == 1;
  int64_t inOff = arenaOffset(conv.getInput());
  bool depthwise = group == x[3] && OC == x[3] && Cg == 1 && x[3] > 1;
  int vec = vectorBytes(x[3], {inOff});

  std::string geometry =
      "    kiln::cuda::ConvGeometry g;\n    g.batch = " +
      std::to_string(x[0]) + "; g.H = " + std::to_string(x[1]) +
      "; g.W = " + std::to_string(x[2]) + "; g.C = " + std::to_string(x[3]) +
      ";\n    g.OH = " + std::to_string(y[1]) + "; g.OW = " +
      std::to_string(y[2]) + "; g.KH = " + std::to_string(KH) +
      "; g.KW = " + std::to_string(KW) + ";\n    g.strideH = " +
      std::to_string(st[0]) + "; g.strideW = " + std::to_string(st[1]) +
      "; g.padTop = " + std::to_string(p[0]) + "; g.padLeft = " +
      std::to_string(p[1]) + ";\n    g.dilationH = " + std::to_string(d[0]) +
      "; g.dilationW = " + std::to_string(d[1]) +
      "; g.padValue = " + std::to_string(inZp) + ";\n";
  // The folded bias: bias[oc] - inZp * sum(w[oc]) (padding taps read the
  // zero point, so every tap contributes (x - zp) * w).
  auto foldedBias = [&](int64_t taps) {
    std::vector<int32_t> folded(OC);
    for (int64_t oc = 0; oc < OC; ++oc) {
      int64_t sum = 0;
      for (int64_t k = 0; k < taps; ++k)
        sum += wv[oc * taps + k];
      int64_t b = bias ? bias->as<int32_t>()[oc] : 0;
      folded[oc] = static_cast<int32_t>(static_cast<uint32_t>(
          static_cast<uint64_t>(b) - static_cast<uint64_t>(inZp * sum)));
    }
    return int32Blob(folded);
  };

  if (group == 1 && vec) {
    int64_t K = KH * KW * Cg, M = x[0] * y[1] * y[2];
    int64_t ldw = ::kiln::cuda::paddedStride(K, 1);
    int64_t wOff = weights.add(::kiln::cuda::padRows(wv, OC, K, ldw, 1));
    int64_t bOff = foldedBias(K);
    ::kiln::cuda::GemmChoice choice =
        ::kiln::cuda::selectGemm(M, OC, K, 1, numSMs);
    std::string launcher =
        "kiln::cuda::Conv2dSm80<int8_t, " +
        std::string(::kiln::cuda::tileTypeName(choice.tile, true)) + ", " +
        epilogueType(perTensor) + ", " + std::to_string(vec) + ">";
    std::string id = "Conv" + std::to_string(counter++);
    types += "using " + id + " = " + launcher + ";\n";
    init += "  KILN_CALL(" + id + "::prepare());\n";
    body += "  {\n" + geometry + "    kiln::cuda::EpilogueParams e;\n" +
            requantEpilogue("e", conv.getResult(), OC, bOff, mult, shifts,
                            outZp, conv.getActMin(), conv.getActMax()) +
            "    kiln::cuda::GemmArgs args = kiln::cuda::makeConvArgs(g, " +
            std::to_string(OC) + ", " + act(conv.getInput()) + ", " +
            blob(wOff, "int8_t") + ", " + std::to_string(ldw) + ", e);\n";
    if (choice.splitK > 1) {
      splitK(choice.splitK * M * OC * 4);
      body += "    args.splitK = " + std::to_string(choice.splitK) +
              ";\n    args.workspace = h->splitK;\n";
    }
    body += "    KILN_CALL(" + id + "::run(args, g, h->stream));\n  }\n";
    record(conv, launcher.substr(0, launcher.find('<')) + " " +
                     ::kiln::cuda::tileTypeName(choice.tile, true) +
                     (choice.splitK > 1
                          ? " split-K " + std::to_string(choice.splitK)
                          : std::string()),
           "implicit GEMM on the tensor cores, " + std::to_string(vec) +
               "-byte channel vectors");
    return Status::ok();
  }
  if (depthwise && vec) {
    int64_t wOff = weights.add(::kiln::cuda::packDepthwise(
        wv, static_cast<int>(x[3]), static_cast<int>(KH), static_cast<int>(KW)));
    int64_t bOff = foldedBias(KH * KW);
    std::string launcher = "kiln::cuda::DepthwiseConv2d<int8_t, " +
                           epilogueType(perTensor) + ", " +
                           std::to_string(vec) + ">";
    body += "  {\n" + geometry + "    kiln::cuda::DepthwiseArgs dw;\n" +
            "    dw.g = g;\n    dw.input = " + act(conv.getInput()) +
            ";\n    dw.filter = " + blob(wOff, "int8_t") + ";\n" +
            requantEpilogue("dw.epi", conv.getResult(), OC, bOff, mult,
                            shifts, outZp, conv.getActMin(),
                            conv.getActMax()) +
            "    KILN_CALL((" + launcher + "::run(dw, h->stream)));\n  }\n";
    record(conv, "DepthwiseConv2d",
           std::to_string(vec) + "-byte channel vectors");
    return Status::ok();
  }
  // Portable kernel: raw OHWI filter and bias.
  int64_t wOff = constantBlob(conv.getWeight());
  int64_t bOff = conv.getBias() ? constantBlob(conv.getBias()) : -1;
  int64_t mOff = int32Blob(mult), sOff = int32Blob(shifts);
  body += "  {\n    kiln::cuda::int8::ConvArgs c;\n    c.batch = " +
          std::to_string(x[0]) + "; c.H = " + std::to_string(x[1]) +
          "; c.W = " + std::to_string(x[2]) + "; c.C = " +
          std::to_string(x[3]) + ";\n    c.OH = " + std::to_string(y[1]) +
          "; c.OW = " + std::to_string(y[2]) + "; c.OC = " +
          std::to_string(OC) + "; c.KH = " + std::to_string(KH) +
          "; c.KW = " + std::to_string(KW) + ";\n    c.strideH = " +
          std::to_string(st[0]) + "; c.strideW = " + std::to_string(st[1]) +
          "; c.dilationH = " + std::to_string(d[0]) + "; c.dilationW = " +
          std::to_string(d[1]) + ";\n    c.padTop = " +
          std::to_string(p[0]) + "; c.padLeft = " + std::to_string(p[1]) +
          "; c.groups = " + std::to_string(group) +
          ";\n    c.inputZeroPoint = " + std::to_string(inZp) +
          "; c.outputZeroPoint = " + std::to_string(outZp) +
          ";\n    c.clampMin = " + std::to_string(conv.getActMin()) +
          "; c.clampMax = " + std::to_string(conv.getActMax()) +
          ";\n    c.multiplier = " + blob(mOff, "int32_t") +
          ";\n    c.shift = " + blob(sOff, "int32_t") +
          ";\n    c.perChannel = " + (perTensor ? "false" : "true") +
          ";\n    c.bias = " +
          (bOff >= 0 ? blob(bOff, "int32_t") : std::string("nullptr")) +
          ";\n    c.input = " + cs8(conv.getInput()) + ";\n    c.filter = " +
          blob(wOff, "int8_t") + ";\n    c.output = " + s8(conv.getResult()) +
          ";\n    KILN_CALL(kiln::cuda::int8::conv2d(c, h->stream));\n  }\n";
  std::string why;
  if (group != 1 && !depthwise)
    why = "grouped convolution (" + std::to_string(group) + " groups)";
  else if (x[3] % 4 != 0)
    why = std::to_string(x[3]) + " input channels, not a multiple of 4";
  else
    why = "input offset " + std::to_string(inOff) + " not 4-byte aligned";
  record(conv, "int8::conv2d (portable)", why);
  return Status::ok();
}

Status CudaWriter::emitFullyConnected(QFullyConnectedOp fc) {
  ArrayRef<int64_t> x = fc.getInput().getType().getShape();
  ArrayRef<int64_t> w = fc.getWeight().getType().getShape();
  int64_t M = x[0], K = x[1], N = w[0];
  int32_t inZp = perTensorParams(fc.getInput().getType()).zeroPoint;
  int32_t outZp = perTensorParams(fc.getType()).zeroPoint;
  ArrayRef<int32_t> mult = fc.getMultipliers(), shifts = fc.getShifts();
  bool perTensor = mult.size() == 1;
  int64_t inOff = arenaOffset(fc.getInput());
  if (K % 16 == 0 && inOff % 16 == 0) {
    std::optional<Tensor> weight =
        fromElementsAttr(fc.getWeight().getDefiningOp<ConstantOp>().getValue());
    std::optional<Tensor> bias;
    if (fc.getBias())
      bias =
          fromElementsAttr(fc.getBias().getDefiningOp<ConstantOp>().getValue());
    const int8_t *wv = weight->as<int8_t>();
    std::vector<int32_t> folded(N);
    for (int64_t n = 0; n < N; ++n) {
      int64_t sum = 0;
      for (int64_t k = 0; k < K; ++k)
        sum += wv[n * K + k];
      int64_t b = bias ? bias->as<int32_t>()[n] : 0;
      folded[n] = static_cast<int32_t>(static_cast<uint32_t>(
          static_cast<uint64_t>(b) - static_cast<uint64_t>(inZp * sum)));
    }
    int64_t wOff = weights.add(wv, static_cast<size_t>(N * K));
    int64_t bOff = int32Blob(folded);
    ::kiln::cuda::KernelChoice choice =
        ::kiln::cuda::chooseGemmKernel(arch, M, N, K, 1, numSMs);
    std::string launcher = std::string(choice.launcher) + "<" + choice.tile +
                           ", " + epilogueType(perTensor) + ">";
    std::string id = "Fc" + std::to_string(counter++);
    types += "using " + id + " = " + launcher + ";\n";
    std::string args =
        "    kiln::cuda::GemmArgs args;\n    args.M = " + std::to_string(M) +
        "; args.N = " + std::to_string(N) + "; args.K = " + std::to_string(K) +
        ";\n    args.A = " + act(fc.getInput()) + "; args.lda = " +
        std::to_string(K) + ";\n    args.B = " + blob(wOff, "int8_t") +
        "; args.ldb = " + std::to_string(K) + ";\n" +
        requantEpilogue("args.epi", fc.getResult(), N, bOff, mult, shifts,
                        outZp, fc.getActMin(), fc.getActMax());
    if (choice.needsPlan) {
      std::string plan = "plan" + std::to_string(counter - 1);
      handleFields += "  kiln::cuda::GemmSm90Plan " + plan + ";\n";
      init += "  {\n" + args + "    KILN_CALL(" + id +
              "::makePlan(args, h->" + plan + "));\n  }\n  KILN_CALL(" + id +
              "::prepare());\n";
      call(id + "::run(h->" + plan + ", h->stream)");
    } else {
      init += "  KILN_CALL(" + id + "::prepare());\n";
      body += "  {\n" + args;
      if (choice.splitK > 1) {
        splitK(choice.splitK * M * N * 4);
        body += "    args.splitK = " + std::to_string(choice.splitK) +
                ";\n    args.workspace = h->splitK;\n";
      }
      body += "    KILN_CALL(" + id + "::run(args, h->stream));\n  }\n";
    }
    record(fc,
           std::string(choice.launcher) + " " + choice.tile +
               (choice.splitK > 1 ? " split-K " + std::to_string(choice.splitK)
                                  : std::string()),
           "tensor-core GEMM");
    return Status::ok();
  }
  int64_t mOff = int32Blob(mult), sOff = int32Blob(shifts);
  int64_t bOff = fc.getBias() ? constantBlob(fc.getBias()) : -1;
  body += "  {\n    kiln::cuda::int8::FullyConnectedArgs f;\n    f.M = " +
          std::to_string(M) + "; f.N = " + std::to_string(N) + "; f.K = " +
          std::to_string(K) + ";\n    f.inputZeroPoint = " +
          std::to_string(inZp) + "; f.outputZeroPoint = " +
          std::to_string(outZp) + ";\n    f.clampMin = " +
          std::to_string(fc.getActMin()) + "; f.clampMax = " +
          std::to_string(fc.getActMax()) + ";\n    f.multiplier = " +
          blob(mOff, "int32_t") + "; f.shift = " + blob(sOff, "int32_t") +
          ";\n    f.perChannel = " + (perTensor ? "false" : "true") +
          ";\n    f.bias = " +
          (bOff >= 0 ? blob(bOff, "int32_t") : std::string("nullptr")) +
          ";\n    f.input = " + cs8(fc.getInput()) + ";\n    f.weight = " +
          blob(constantBlob(fc.getWeight()), "int8_t") +
          ";\n    f.output = " + s8(fc.getResult()) +
          ";\n    KILN_CALL(kiln::cuda::int8::fullyConnected(f, "
          "h->stream));\n  }\n";
  record(fc, "int8::fullyConnected (portable, one warp per output)",
         K % 16 ? "K = " + std::to_string(K) + " is not a multiple of 16"
                : "input offset not 16-byte aligned");
  return Status::ok();
}

Status CudaWriter::emitBinary(Operation *op) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  auto lType = cast<RankedTensorType>(lhs.getType());
  auto rType = cast<RankedTensorType>(rhs.getType());
  auto outType = cast<RankedTensorType>(op->getResult(0).getType());
  int32_t z1 = perTensorParams(lType).zeroPoint,
          z2 = perTensorParams(rType).zeroPoint,
          zo = perTensorParams(outType).zeroPoint;
  auto operand = [&](Value v) {
    return v.getDefiningOp<ConstantOp>()
               ? blob(constantBlob(v), "int8_t")
               : cs8(v);
  };
  auto offsetOrConst = [&](Value v) {
    return v.getDefiningOp<ConstantOp>() ? constantBlob(v) : arenaOffset(v);
  };
  auto add = dyn_cast<QAddOp>(op);
  bool same = lType.getShape() == rType.getShape();
  if (add && same && offsetOrConst(lhs) % 16 == 0 &&
      offsetOrConst(rhs) % 16 == 0 &&
      arenaOffset(op->getResult(0)) % 16 == 0) {
    body += "  {\n    kiln::cuda::Int8AddParams p;\n    p.input1ZeroPoint = " +
            std::to_string(z1) + "; p.input2ZeroPoint = " +
            std::to_string(z2) + "; p.outputZeroPoint = " +
            std::to_string(zo) + ";\n    p.leftShift = " +
            std::to_string(add.getLeftShift()) + ";\n    p.input1Multiplier = " +
            std::to_string(add.getInput1Multiplier()) + "; p.input1Shift = " +
            std::to_string(add.getInput1Shift()) +
            ";\n    p.input2Multiplier = " +
            std::to_string(add.getInput2Multiplier()) + "; p.input2Shift = " +
            std::to_string(add.getInput2Shift()) +
            ";\n    p.outputMultiplier = " +
            std::to_string(add.getOutputMultiplier()) + "; p.outputShift = " +
            std::to_string(add.getOutputShift()) + ";\n    p.clampMin = " +
            std::to_string(add.getActMin()) + "; p.clampMax = " +
            std::to_string(add.getActMax()) +
            ";\n    KILN_CALL(kiln::cuda::int8Add(" +
            std::to_string(outType.getNumElements()) + ", p, " +
            operand(lhs) + ", " + operand(rhs) + ", " +
            s8(op->getResult(0)) + ", h->stream));\n  }\n";
    record(op, "int8Add", "same shapes, 16-byte vectors");
    return Status::ok();
  }
  ArrayRef<int64_t> shape = outType.getShape();
  if (shape.size() > 6)
    return unsupported(op, "broadcasting over more than 6 dimensions");
  SmallVector<int64_t> dims(shape.begin(), shape.end());
  if (dims.empty())
    dims.push_back(1);
  auto strides = [&](ArrayRef<int64_t> from) {
    SmallVector<int64_t> result(dims.size(), 0);
    int64_t stride = 1;
    for (int64_t i = static_cast<int64_t>(from.size()) - 1; i >= 0; --i) {
      size_t dd = dims.size() - from.size() + i;
      result[dd] = from[i] == 1 ? 0 : stride;
      stride *= from[i];
    }
    return result;
  };
  auto list = [](const std::string &field, ArrayRef<int64_t> values) {
    std::string text;
    for (size_t i = 0; i < values.size(); ++i)
      text += " b." + field + "[" + std::to_string(i) +
              "] = " + std::to_string(values[i]) + ";";
    return text;
  };
  std::string params =
      "    kiln::cuda::int8::BinaryArgs p;\n    p.isMul = " +
      std::string(add ? "false" : "true") + ";\n    p.zeroPoint1 = " +
      std::to_string(z1) + "; p.zeroPoint2 = " + std::to_string(z2) +
      "; p.outputZeroPoint = " + std::to_string(zo) + ";\n";
  if (add)
    params += "    p.leftShift = " + std::to_string(add.getLeftShift()) +
              ";\n    p.multiplier1 = " +
              std::to_string(add.getInput1Multiplier()) + "; p.shift1 = " +
              std::to_string(add.getInput1Shift()) +
              ";\n    p.multiplier2 = " +
              std::to_string(add.getInput2Multiplier()) + "; p.shift2 = " +
              std::to_string(add.getInput2Shift()) +
              ";\n    p.outputMultiplier = " +
              std::to_string(add.getOutputMultiplier()) +
              "; p.outputShift = " + std::to_string(add.getOutputShift()) +
              ";\n    p.clampMin = " + std::to_string(add.getActMin()) +
              "; p.clampMax = " + std::to_string(add.getActMax()) + ";\n";
  else {
    auto mul = cast<QMulOp>(op);
    params += "    p.outputMultiplier = " +
              std::to_string(mul.getMultiplier()) + "; p.outputShift = " +
              std::to_string(mul.getShift()) + ";\n    p.clampMin = " +
              std::to_string(mul.getActMin()) + "; p.clampMax = " +
              std::to_string(mul.getActMax()) + ";\n";
  }
  std::string space = "    kiln::cuda::int8::Broadcast b;\n    b.rank = " +
                      std::to_string(same ? 1 : dims.size()) + ";";
  if (same)
    space += " b.dims[0] = " + std::to_string(outType.getNumElements()) +
             "; b.strides1[0] = 1; b.strides2[0] = 1;";
  else
    space += list("dims", dims) + "\n   " +
             list("strides1", strides(lType.getShape())) + "\n   " +
             list("strides2", strides(rType.getShape()));
  body += "  {\n" + params + space +
          "\n    KILN_CALL(kiln::cuda::int8::binary(p, b, " + operand(lhs) +
          ", " + operand(rhs) + ", " + s8(op->getResult(0)) +
          ", h->stream));\n  }\n";
  record(op, "int8::binary (portable)",
         add ? (same ? "operands not 16-byte aligned" : "broadcasting")
             : "int8 Mul");
  return Status::ok();
}

Status CudaWriter::emitOp(Operation *op) {
  body += opComment(op);
  if (auto conv = dyn_cast<QConv2DOp>(op))
    return emitConv(conv);
  if (auto fc = dyn_cast<QFullyConnectedOp>(op))
    return emitFullyConnected(fc);
  if (isa<QAddOp, QMulOp>(op))
    return emitBinary(op);
  if (isa<QAvgPool2DOp, QMaxPool2DOp>(op)) {
    bool isMax = isa<QMaxPool2DOp>(op);
    auto emit = [&](auto pool) -> Status {
      ArrayRef<int64_t> x = pool.getInput().getType().getShape();
      ArrayRef<int64_t> y = pool.getType().getShape();
      ArrayRef<int64_t> k = pool.getKernelShape(), s = pool.getStrides(),
                        p = pool.getPads();
      int32_t zp = perTensorParams(pool.getInput().getType()).zeroPoint;
      int vec = vectorBytes(x[3], {arenaOffset(pool.getInput()),
                                   arenaOffset(pool.getResult())});
      std::string fields =
          "    a.batch = " + std::to_string(x[0]) + "; a.H = " +
          std::to_string(x[1]) + "; a.W = " + std::to_string(x[2]) +
          "; a.C = " + std::to_string(x[3]) + ";\n    a.OH = " +
          std::to_string(y[1]) + "; a.OW = " + std::to_string(y[2]) +
          "; a.KH = " + std::to_string(k[0]) + "; a.KW = " +
          std::to_string(k[1]) + ";\n    a.strideH = " +
          std::to_string(s[0]) + "; a.strideW = " + std::to_string(s[1]) +
          ";\n    a.padTop = " + std::to_string(p[0]) + "; a.padLeft = " +
          std::to_string(p[1]) + "; a.padBottom = " + std::to_string(p[2]) +
          "; a.padRight = " + std::to_string(p[3]) +
          ";\n    a.countIncludePad = " +
          (pool.getCountIncludePad() ? "true" : "false") +
          "; a.zeroPoint = " + std::to_string(zp) + ";\n    a.clampMin = " +
          std::to_string(pool.getActMin()) + "; a.clampMax = " +
          std::to_string(pool.getActMax()) + ";\n";
      if (vec) {
        body += "  {\n    kiln::cuda::PoolArgs a;\n" + fields +
                "    a.input = " + act(pool.getInput()) + "; a.output = " +
                act(pool.getResult()) + ";\n    KILN_CALL((kiln::cuda::Pool2d<"
                "int8_t, kiln::cuda::PoolKind::" +
                (isMax ? "kMax" : "kAverage") + ", " + std::to_string(vec) +
                ">::run(a, h->stream)));\n  }\n";
        record(op, "Pool2d", std::to_string(vec) + "-byte channel vectors");
      } else {
        body += "  {\n    kiln::cuda::int8::PoolArgs a;\n" + fields +
                "    a.isMax = " + (isMax ? "true" : "false") +
                ";\n    a.input = " + cs8(pool.getInput()) + "; a.output = " +
                s8(pool.getResult()) +
                ";\n    KILN_CALL(kiln::cuda::int8::pool2d(a, h->stream));\n"
                "  }\n";
        record(op, "int8::pool2d (portable)",
               std::to_string(x[3]) +
                   " channels or offsets not a multiple of 4 bytes");
      }
      return Status::ok();
    };
    return isMax ? emit(cast<QMaxPool2DOp>(op)) : emit(cast<QAvgPool2DOp>(op));
  }
  if (auto pool = dyn_cast<QGlobalAvgPool2DOp>(op)) {
    ArrayRef<int64_t> x = pool.getInput().getType().getShape();
    int vec = vectorBytes(x[3], {arenaOffset(pool.getInput()),
                                 arenaOffset(pool.getResult())});
    std::string fields =
        "    a.batch = " + std::to_string(x[0]) + "; a.HW = " +
        std::to_string(x[1] * x[2]) + "; a.C = " + std::to_string(x[3]) +
        ";\n    a.inputZeroPoint = " +
        std::to_string(perTensorParams(pool.getInput().getType()).zeroPoint) +
        "; a.outputZeroPoint = " +
        std::to_string(perTensorParams(pool.getType()).zeroPoint) +
        ";\n    a.multiplier = " + std::to_string(pool.getMultiplier()) +
        "; a.shift = " + std::to_string(pool.getShift()) +
        ";\n    a.clampMin = " + std::to_string(pool.getActMin()) +
        "; a.clampMax = " + std::to_string(pool.getActMax()) + ";\n";
    if (vec) {
      body += "  {\n    kiln::cuda::GlobalPoolArgs a;\n" + fields +
              "    a.input = " + act(pool.getInput()) + "; a.output = " +
              act(pool.getResult()) +
              ";\n    KILN_CALL((kiln::cuda::GlobalAvgPool<int8_t, " +
              std::to_string(vec) + ">::run(a, h->stream)));\n  }\n";
      record(op, "GlobalAvgPool", std::to_string(vec) + "-byte vectors");
    } else {
      body += "  {\n    kiln::cuda::int8::GlobalAvgPoolArgs a;\n" + fields +
              "    a.input = " + cs8(pool.getInput()) + "; a.output = " +
              s8(pool.getResult()) +
              ";\n    KILN_CALL(kiln::cuda::int8::globalAvgPool(a, "
              "h->stream));\n  }\n";
      record(op, "int8::globalAvgPool (portable)",
             "channels or offsets not a multiple of 4 bytes");
    }
    return Status::ok();
  }
  if (isa<QClampOp, RequantizeOp>(op)) {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    std::string fields = "    kiln::cuda::int8::RescaleArgs r;\n    r.count = " +
                         std::to_string(type.getNumElements()) + ";\n";
    if (auto clamp = dyn_cast<QClampOp>(op)) {
      fields += "    r.clampOnly = true; r.clampMin = " +
                std::to_string(clamp.getMin()) + "; r.clampMax = " +
                std::to_string(clamp.getMax()) + ";\n";
    } else {
      auto rq = cast<RequantizeOp>(op);
      fields +=
          "    r.inputZeroPoint = " +
          std::to_string(perTensorParams(rq.getInput().getType()).zeroPoint) +
          "; r.outputZeroPoint = " +
          std::to_string(perTensorParams(rq.getType()).zeroPoint) +
          ";\n    r.multiplier = " + std::to_string(rq.getMultiplier()) +
          "; r.shift = " + std::to_string(rq.getShift()) + ";\n";
    }
    body += "  {\n" + fields + "    r.input = " + cs8(op->getOperand(0)) +
            "; r.output = " + s8(op->getResult(0)) +
            ";\n    KILN_CALL(kiln::cuda::int8::rescale(r, h->stream));\n  }\n";
    record(op, "int8::rescale", "elementwise");
    return Status::ok();
  }
  if (auto softmax = dyn_cast<QSoftmaxOp>(op)) {
    auto type = softmax.getType();
    int64_t row = type.getShape().back();
    int64_t table = int32Blob(softmax.getTable());
    call("kiln::cuda::int8::softmax(" +
         std::to_string(type.getNumElements() / row) + ", " +
         std::to_string(row) + ", " + blob(table, "int32_t") + ", " +
         cs8(softmax.getInput()) + ", " + s8(softmax.getResult()) +
         ", h->stream)");
    record(op, "int8::softmax", "one block per row");
    return Status::ok();
  }
  if (auto concat = dyn_cast<QConcatOp>(op)) {
    auto [outer, inner, placed] = concatLayout(concat);
    int64_t axis = concat.getAxis();
    ArrayRef<int64_t> out = concat.getType().getShape();
    if (placed && outer == 1) {
      body += "  /* inputs were written in place */\n";
      record(op, "none", "inputs placed in their slices by the planner");
      return Status::ok();
    }
    int64_t outBlock = out[axis] * inner, offset = 0;
    int32_t zo = perTensorParams(concat.getType()).zeroPoint;
    for (auto [i, input] : llvm::enumerate(concat.getInputs())) {
      auto type = cast<RankedTensorType>(input.getType());
      int64_t block = type.getDimSize(axis) * inner;
      std::string data = input.getDefiningOp<ConstantOp>()
                             ? blob(constantBlob(input), "int8_t")
                             : cs8(input);
      body += "  {\n    kiln::cuda::int8::ConcatInput in;\n    in.data = " +
              data + "; in.block = " + std::to_string(block) +
              ";\n    in.zeroPoint = " +
              std::to_string(perTensorParams(type).zeroPoint) +
              "; in.multiplier = " +
              std::to_string(concat.getMultipliers()[i]) + "; in.shift = " +
              std::to_string(concat.getShifts()[i]) +
              ";\n    KILN_CALL(kiln::cuda::int8::concatInput(in, " +
              std::to_string(outer) + ", " + std::to_string(outBlock) + ", " +
              std::to_string(offset) + ", " + std::to_string(zo) + ", " +
              s8(concat.getResult()) + ", h->stream));\n  }\n";
      offset += block;
    }
    record(op, "int8::concatInput x" +
                   std::to_string(concat.getInputs().size()),
           "one copy per input");
    return Status::ok();
  }
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    if (arenaOffset(reshape.getInput()) == arenaOffset(reshape.getResult())) {
      body += "  /* zero-copy */\n";
      return Status::ok();
    }
    call("cudaMemcpyAsync(" + act(reshape.getResult()) + ", " +
         act(reshape.getInput()) + ", " +
         std::to_string(reshape.getType().getNumElements()) +
         ", cudaMemcpyDeviceToDevice, h->stream)");
    record(op, "cudaMemcpyAsync", "reshape between distinct buffers");
    return Status::ok();
  }
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    ArrayRef<int64_t> in = transpose.getInput().getType().getShape();
    if (in.size() > 6)
      return unsupported(op, "transposes of more than 6 dimensions");
    std::string text = "  {\n    kiln::cuda::int8::TransposeArgs t;\n"
                       "    t.rank = " + std::to_string(in.size()) + ";";
    for (size_t i = 0; i < in.size(); ++i)
      text += " t.dims[" + std::to_string(i) + "] = " + std::to_string(in[i]) +
              "; t.perm[" + std::to_string(i) +
              "] = " + std::to_string(transpose.getPerm()[i]) + ";";
    body += text + "\n    t.input = " + act(transpose.getInput()) +
            "; t.output = " + act(transpose.getResult()) +
            ";\n    KILN_CALL(kiln::cuda::int8::transpose(t, h->stream));\n"
            "  }\n";
    record(op, "int8::transpose", "rank " + std::to_string(in.size()));
    return Status::ok();
  }
  if (auto pad = dyn_cast<PadOp>(op)) {
    ArrayRef<int64_t> in = pad.getInput().getType().getShape();
    ArrayRef<int64_t> pads = pad.getPads();
    if (pad.getMode() != "constant" || in.size() > 6 || in.empty() ||
        llvm::any_of(pads, [](int64_t v) { return v < 0; }))
      return unsupported(op, "only non-negative constant padding of rank 1 "
                             "to 6 is implemented");
    std::string text = "  {\n    kiln::cuda::int8::PadArgs p;\n    p.rank = " +
                       std::to_string(in.size()) + ";";
    for (size_t i = 0; i < in.size(); ++i)
      text += " p.dims[" + std::to_string(i) + "] = " + std::to_string(in[i]) +
              "; p.before[" + std::to_string(i) + "] = " +
              std::to_string(pads[i]) + "; p.after[" + std::to_string(i) +
              "] = " + std::to_string(pads[i + in.size()]) + ";";
    body += text + "\n    p.value = " +
            std::to_string(perTensorParams(pad.getType()).zeroPoint) +
            ";\n    p.input = " + cs8(pad.getInput()) + "; p.output = " +
            s8(pad.getResult()) +
            ";\n    KILN_CALL(kiln::cuda::int8::pad(p, h->stream));\n  }\n";
    record(op, "int8::pad", "constant padding with the zero point");
    return Status::ok();
  }
  return unsupported(op, "no int8 CUDA kernel (the CUDA targets emit int8 "
                         "models: compile with --quantize int8)");
}

Status CudaWriter::run() {
  auto arena = func->getAttrOfType<IntegerAttr>("kiln.arena_bytes");
  if (!arena)
    return Status::error("the function has no memory plan (run "
                         "kiln-plan-memory device=gpu first)");
  arenaBytes = arena.getInt();
  if (Status ports = collectInt8Ports(func, "the CUDA targets", inputs, outputs);
      ports.failed())
    return ports;
  for (Operation &op : func.getBody().front()) {
    if (isa<ConstantOp, func::ReturnOp>(op) || isInputBoundary(&op) ||
        isOutputBoundary(&op))
      continue;
    if (op.hasAttr("kiln.in_place") &&
        op.getAttrOfType<StringAttr>("kiln.in_place").getValue() ==
            "depthwise")
      return Status::error("the memory plan runs a depthwise convolution in "
                           "place, which the GPU kernels cannot (plan with "
                           "kiln-plan-memory device=gpu)",
                           formatLocation(op.getLoc()));
    if (Status status = emitOp(&op); status.failed())
      return status;
  }

  std::string upper = upperCase(name);
  std::string prefix = "kiln_" + name;
  std::ostringstream h;
  h << "/* DO NOT EDIT — generated by kiln */\n"
    << "/* model.h: the int8 model '" << name << "' on NVIDIA GPUs ("
    << (arch == ::kiln::cuda::Arch::kSm90 ? "sm_90a" : "sm_80") << "). */\n"
    << "#ifndef KILN_CUDA_MODEL_" << upper << "_H\n#define KILN_CUDA_MODEL_"
    << upper << "_H\n\n#include <cuda_runtime.h>\n#include <stddef.h>\n"
    << "#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "#define KILN_" << upper << "_NUM_INPUTS " << inputs.size() << "\n"
    << "#define KILN_" << upper << "_NUM_OUTPUTS " << outputs.size() << "\n"
    << "/* Bytes of device memory the model allocates at create: the weights\n"
       " * and one workspace (planned activations and split-K sums). */\n"
    << "#define KILN_" << upper << "_WEIGHTS_BYTES " << weights.size() << "\n"
    << "#define KILN_" << upper << "_WORKSPACE_BYTES "
    << (arenaBytes + (splitKBytes ? kBlobAlignment + splitKBytes : 0))
    << "\n/* Returned when the weights file is missing, truncated or belongs "
       "to\n * another model (other failures return the cudaError_t). */\n"
    << "#define KILN_" << upper << "_ERROR_WEIGHTS (-1)\n\n"
    << "#ifndef KILN_TENSOR_DESC_DEFINED\n#define KILN_TENSOR_DESC_DEFINED\n"
    << "/* An int8 input or output: real value = scale * (q - zero_point). "
       "*/\ntypedef struct kiln_tensor_desc {\n  const char *name;\n"
       "  int32_t rank;\n  int32_t dims[6];\n  int32_t bytes;\n"
       "  float scale;\n  int32_t zero_point;\n} kiln_tensor_desc_t;\n"
       "#endif\n\n"
    << "extern const kiln_tensor_desc_t " << prefix << "_inputs[];\n"
    << "extern const kiln_tensor_desc_t " << prefix << "_outputs[];\n\n"
    << "typedef struct " << prefix << " " << prefix << "_t;\n\n"
    << "/* Loads |weights_path| (weights.bin) to the device, allocates the\n"
       " * workspace and prepares every kernel (outside any stream capture).\n"
       " * Every later launch goes to |stream|. Returns 0 or an error. */\n"
    << "int " << prefix << "_create(cudaStream_t stream, const char "
       "*weights_path,\n                " << prefix << "_t **handle);\n\n"
    << "/* Enqueues the model on the stream: |inputs| are device pointers "
       "to\n * float32 tensors (quantized on the device), |outputs| device "
       "pointers\n * to float32 results (dequantized). No allocation, no "
       "synchronization:\n * capturable in a CUDA graph. */\n"
    << "int " << prefix << "_run(" << prefix
    << "_t *handle, const float *const *inputs,\n             float *const "
       "*outputs);\n\n"
    << "/* The same on int8 device tensors (quantized as the descriptors "
       "say). */\n"
    << "int " << prefix << "_run_int8(" << prefix
    << "_t *handle, const int8_t *const *inputs,\n                  int8_t "
       "*const *outputs);\n\n"
    << "/* Zero-copy use: int8 tensors inside the workspace (device "
       "pointers). */\n"
    << "int8_t *" << prefix << "_input_int8(" << prefix
    << "_t *handle, int index);\n"
    << "const int8_t *" << prefix << "_output_int8(const " << prefix
    << "_t *handle, int index);\n"
    << "int " << prefix << "_invoke(" << prefix << "_t *handle);\n\n"
    << "/* Frees the device memory (after the stream's work is done). */\n"
    << "int " << prefix << "_destroy(" << prefix << "_t *handle);\n\n"
    << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n#endif\n";
  header = h.str();

  auto descriptors = [&](const std::vector<Port> &ports) {
    std::string text;
    for (const Port &port : ports) {
      std::vector<int64_t> dims = port.shape;
      dims.resize(6, 1);
      char scale[64];
      std::snprintf(scale, sizeof(scale), "%.9gf", port.scale);
      text += "    {\"" + port.name + "\", " +
              std::to_string(port.shape.size()) + ", " + braces(dims) + ", " +
              std::to_string(port.bytes) + ", " + scale + ", " +
              std::to_string(port.zeroPoint) + "},\n";
    }
    return text.empty() ? std::string("    {nullptr, 0, {0}, 0, 0.0f, 0},\n")
                        : text;
  };
  auto offsets = [&](const std::vector<Port> &ports) {
    std::vector<int64_t> values;
    for (const Port &port : ports)
      values.push_back(port.offset);
    if (values.empty())
      values.push_back(0);
    return initializer(llvm::ArrayRef<int64_t>(values));
  };
  int64_t splitKOffset =
      (arenaBytes + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment;
  std::ostringstream c;
  c << "// DO NOT EDIT — generated by kiln\n"
    << "// model.cu: the kernels of '" << name
    << "' in execution order on one stream, workspace\n// offsets from the "
       "memory planner, constants in weights.bin (kernels.md\n// says which "
       "kernel each layer got and why).\n"
    << "#include \"model.h\"\n\n"
    << "#include \"kiln/cuda/Conv.cuh\"\n#include \"kiln/cuda/Elementwise.cuh\"\n"
    << "#include \"kiln/cuda/GemmSm80.cuh\"\n"
    << (arch == ::kiln::cuda::Arch::kSm90 ? "#include \"kiln/cuda/GemmSm90.cuh\"\n"
                                          : "")
    << "#include \"kiln/cuda/Int8Ops.cuh\"\n#include \"kiln/cuda/Pool.cuh\"\n"
    << "#include \"kiln/cuda/Select.h\"\n\n"
    << "#include <cstdio>\n#include <cstring>\n#include <vector>\n\n"
    << "#define KILN_CALL(x)                                                  "
       "\\\n  do {                                                          "
       "      \\\n    cudaError_t kiln_status_ = (x);                          "
       "           \\\n    if (kiln_status_ != cudaSuccess)                  "
       "                  \\\n      return kiln_status_;                      "
       "                      \\\n  } while (0)\n\n"
    << "extern \"C\" {\nconst kiln_tensor_desc_t " << prefix << "_inputs[] = {\n"
    << descriptors(inputs) << "};\nconst kiln_tensor_desc_t " << prefix
    << "_outputs[] = {\n" << descriptors(outputs) << "};\n}\n\n"
    << "namespace {\n\nconstexpr int64_t kInputOffsets[] = {\n"
    << offsets(inputs) << "};\nconstexpr int64_t kOutputOffsets[] = {\n"
    << offsets(outputs) << "};\nconstexpr size_t kWeightsBytes = "
    << weights.size() << ";\nconstexpr uint64_t kWeightsHash = "
    << weights.hash() << "ull;\nconstexpr size_t kArenaBytes = " << arenaBytes
    << ";\nconstexpr size_t kSplitKBytes = " << splitKBytes
    << ";\nconstexpr size_t kSplitKOffset = " << splitKOffset << ";\n\n"
    << types << "\n} // namespace\n\n"
    << "struct " << prefix << " {\n  cudaStream_t stream;\n"
    << "  char *weights;\n  char *workspace;\n  void *splitK;\n"
    << handleFields << "};\n\n"
    << "namespace {\n\n/// Prepares every kernel: shared-memory limits, "
       "sm_90 plans.\ncudaError_t prepare(" << prefix << "_t *h) {\n"
    << init << "  (void)h;\n  return cudaSuccess;\n}\n\n"
    << "/// Enqueues the kernels.\ncudaError_t invoke(" << prefix
    << "_t *h) {\n" << body << "  (void)h;\n  return cudaSuccess;\n}\n\n"
    << "/// Reads weights.bin; returns false when it is not this model's.\n"
    << "bool readWeights(const char *path, std::vector<char> &payload) {\n"
    << "  std::FILE *file = std::fopen(path, \"rb\");\n"
    << "  if (!file)\n    return false;\n  char head[16];\n"
    << "  bool ok = std::fread(head, 1, 16, file) == 16 &&\n"
    << "            std::memcmp(head, \"KILNWTS1\", 8) == 0;\n"
    << "  uint64_t size = 0;\n  for (int i = 0; ok && i < 8; ++i)\n"
    << "    size |= uint64_t(uint8_t(head[8 + i])) << (8 * i);\n"
    << "  ok = ok && size == kWeightsBytes;\n"
    << "  if (ok) {\n    payload.resize(size);\n"
    << "    ok = std::fread(payload.data(), 1, size, file) == size;\n  }\n"
    << "  std::fclose(file);\n  uint64_t hash = 1469598103934665603ull;\n"
    << "  for (size_t i = 0; ok && i < payload.size(); ++i)\n"
    << "    hash = (hash ^ uint8_t(payload[i])) * 1099511628211ull;\n"
    << "  return ok && hash == kWeightsHash;\n}\n\n} // namespace\n\n"
    << "extern \"C\" {\n\n"
    << "int " << prefix << "_create(cudaStream_t stream, const char "
       "*weights_path,\n                " << prefix << "_t **handle) {\n"
    << "  if (!handle)\n    return int(cudaErrorInvalidValue);\n"
    << "  *handle = nullptr;\n  std::vector<char> payload;\n"
    << "  if (!weights_path || !readWeights(weights_path, payload)) {\n"
    << "    std::fprintf(stderr, \"" << prefix << "_create: '%s' is missing, "
       "truncated or not this model's weights\\n\",\n"
    << "                 weights_path ? weights_path : \"(null)\");\n"
    << "    return KILN_" << upper << "_ERROR_WEIGHTS;\n  }\n"
    << "  " << prefix << "_t *h = new " << prefix << "_t();\n"
    << "  h->stream = stream;\n  cudaError_t e = cudaMalloc(&h->weights, "
       "payload.size());\n"
    << "  if (e == cudaSuccess)\n    e = cudaMemcpy(h->weights, "
       "payload.data(), payload.size(),\n                   "
       "cudaMemcpyHostToDevice);\n"
    << "  if (e == cudaSuccess)\n    e = cudaMalloc(&h->workspace, "
       "kSplitKBytes ? kSplitKOffset + kSplitKBytes\n"
       "                                               : (kArenaBytes ? "
       "kArenaBytes : 16));\n"
    << "  h->splitK = kSplitKBytes && h->workspace ? h->workspace + "
       "kSplitKOffset : nullptr;\n"
    << "  if (e == cudaSuccess)\n    e = prepare(h);\n"
    << "  if (e != cudaSuccess) {\n    " << prefix << "_destroy(h);\n"
    << "    return int(e);\n  }\n  *handle = h;\n  return 0;\n}\n\n"
    << "int8_t *" << prefix << "_input_int8(" << prefix
    << "_t *h, int index) {\n"
    << "  return (int8_t *)(h->workspace + kInputOffsets[index]);\n}\n\n"
    << "const int8_t *" << prefix << "_output_int8(const " << prefix
    << "_t *h, int index) {\n"
    << "  return (const int8_t *)(h->workspace + kOutputOffsets[index]);\n}\n\n"
    << "int " << prefix << "_invoke(" << prefix << "_t *h) {\n"
    << "  return h ? int(invoke(h)) : int(cudaErrorInvalidValue);\n}\n\n"
    << "int " << prefix << "_run(" << prefix
    << "_t *h, const float *const *inputs,\n             float *const "
       "*outputs) {\n"
    << "  if (!h)\n    return int(cudaErrorInvalidValue);\n"
    << "  for (int i = 0; i < KILN_" << upper << "_NUM_INPUTS; ++i) {\n"
    << "    const kiln_tensor_desc_t &d = " << prefix << "_inputs[i];\n"
    << "    cudaError_t e = kiln::cuda::int8::quantize(\n        d.bytes, "
       "inputs[i], d.scale, d.zero_point, " << prefix
    << "_input_int8(h, i), h->stream);\n"
    << "    if (e != cudaSuccess)\n      return int(e);\n  }\n"
    << "  if (cudaError_t e = invoke(h); e != cudaSuccess)\n"
    << "    return int(e);\n"
    << "  for (int i = 0; i < KILN_" << upper << "_NUM_OUTPUTS; ++i) {\n"
    << "    const kiln_tensor_desc_t &d = " << prefix << "_outputs[i];\n"
    << "    cudaError_t e = kiln::cuda::int8::dequantize(\n        d.bytes, "
    << prefix << "_output_int8(h, i), d.scale, d.zero_point, outputs[i],\n"
       "        h->stream);\n"
    << "    if (e != cudaSuccess)\n      return int(e);\n  }\n  return 0;\n}\n\n"
    << "int " << prefix << "_run_int8(" << prefix
    << "_t *h, const int8_t *const *inputs,\n                  int8_t *const "
       "*outputs) {\n"
    << "  if (!h)\n    return int(cudaErrorInvalidValue);\n"
    << "  for (int i = 0; i < KILN_" << upper << "_NUM_INPUTS; ++i) {\n"
    << "    cudaError_t e = cudaMemcpyAsync(" << prefix
    << "_input_int8(h, i), inputs[i],\n        " << prefix
    << "_inputs[i].bytes, cudaMemcpyDeviceToDevice, h->stream);\n"
    << "    if (e != cudaSuccess)\n      return int(e);\n  }\n"
    << "  if (cudaError_t e = invoke(h); e != cudaSuccess)\n"
    << "    return int(e);\n"
    << "  for (int i = 0; i < KILN_" << upper << "_NUM_OUTPUTS; ++i) {\n"
    << "    cudaError_t e = cudaMemcpyAsync(outputs[i], " << prefix
    << "_output_int8(h, i),\n        " << prefix
    << "_outputs[i].bytes, cudaMemcpyDeviceToDevice, h->stream);\n"
    << "    if (e != cudaSuccess)\n      return int(e);\n  }\n  return 0;\n}\n\n"
    << "int " << prefix << "_destroy(" << prefix << "_t *h) {\n"
    << "  if (!h)\n    return 0;\n  cudaError_t e1 = cudaFree(h->weights);\n"
    << "  cudaError_t e2 = cudaFree(h->workspace);\n  delete h;\n"
    << "  return int(e1 != cudaSuccess ? e1 : e2);\n}\n\n} // extern \"C\"\n";
  source = c.str();

  std::ostringstream r;
  r << "# Kernels of '" << name << "' ("
    << (arch == ::kiln::cuda::Arch::kSm90 ? "cuda-sm90" : "cuda-sm80")
    << ")\n\nOne row per layer: the kernel it got and why (a portable "
       "kernel is a fallback; the reason says what kept the fast kernel "
       "out).\n\n| # | op | location | kernel | why |\n|---|---|---|---|---|\n";
  for (auto [i, rec] : llvm::enumerate(records))
    r << "| " << i << " | `" << rec.op << "` | " << rec.location << " | "
      << rec.kernel << " | " << rec.why << " |\n";
  r << "\nWorkspace: " << arenaBytes << " bytes of activations (memory "
       "planner) + " << splitKBytes << " bytes of split-K sums; weights: "
    << weights.size() << " bytes.\n";
  report = r.str();
  return Status::ok();
}

/// Returns the harness main.cu: embedded samples, one line per output.
std::string harnessSource(const CudaWriter &writer, const std::string &name,
                          const std::vector<std::vector<Tensor>> &samples) {
  std::string prefix = "kiln_" + name, upper = upperCase(name);
  std::ostringstream m;
  m << "// DO NOT EDIT — generated by kiln\n"
    << "// main.cu: runs '" << name << "' on " << samples.size()
    << " embedded sample(s) and prints \"<output>: v0 v1 ...\"\n// (raw int8 "
       "values) for each. Usage: model_run [weights.bin]. Exits 77 when\n"
       "// there is no usable CUDA device.\n"
    << "#include \"model.h\"\n\n#include <cstdio>\n#include <vector>\n\n";
  for (size_t s = 0; s < samples.size(); ++s)
    for (size_t i = 0; i < writer.inputs.size(); ++i) {
      const Tensor &t = samples[s][i];
      const Port &port = writer.inputs[i];
      if (t.dtype == DType::I8) {
        m << "static const int8_t in_" << s << "_" << i << "[] = {\n"
          << initializer(llvm::ArrayRef<int8_t>(t.as<int8_t>(), port.bytes))
          << "};\n";
      } else {
        m << "static const float in_" << s << "_" << i << "[] = {\n";
        for (int64_t k = 0; k < port.bytes; ++k) {
          char text[32];
          std::snprintf(text, sizeof(text), "%.9g",
                        static_cast<float>(loadFloat(t, k)));
          std::string v = text;
          if (v.find_first_of(".en") == std::string::npos)
            v += ".0";
          if (v == "inf" || v == "-inf" || v == "nan")
            v = v == "nan" ? "__builtin_nanf(\"\")"
                           : (v[0] == '-' ? "-__builtin_inff()"
                                          : "__builtin_inff()");
          else
            v += "f";
          m << (k % 8 == 0 ? (k ? ",\n  " : "  ") : ", ") << v;
        }
        m << "};\n";
      }
    }
  bool floatInputs = !samples.empty() && !samples[0].empty() &&
                     samples[0][0].dtype != DType::I8;
  m << "\nstatic int fail(const char *what, int status) {\n"
    << "  std::printf(\"kiln: %s failed with status %d\\n\", what, status);\n"
    << "  return 1;\n}\n\n"
    << "int main(int argc, char **argv) {\n"
    << "  int devices = 0;\n  cudaError_t e = cudaGetDeviceCount(&devices);\n"
    << "  if (e != cudaSuccess || devices == 0) {\n"
    << "    std::printf(\"no CUDA device: %s\\n\",\n"
    << "                e != cudaSuccess ? cudaGetErrorString(e) : \"none "
       "found\");\n    return 77;\n  }\n"
    << "  cudaStream_t stream;\n  if ((e = cudaStreamCreate(&stream)) != "
       "cudaSuccess)\n    return fail(\"cudaStreamCreate\", int(e));\n"
    << "  " << prefix << "_t *model = nullptr;\n"
    << "  int status = " << prefix
    << "_create(stream, argc > 1 ? argv[1] : \"weights.bin\", &model);\n"
    << "  if (status != 0)\n    return fail(\"create\", status);\n"
    << "  std::vector<void *> in(" << std::max<size_t>(writer.inputs.size(), 1)
    << "), out(" << std::max<size_t>(writer.outputs.size(), 1) << ");\n"
    << "  for (int i = 0; i < KILN_" << upper << "_NUM_INPUTS; ++i)\n"
    << "    if ((e = cudaMalloc(&in[i], " << prefix << "_inputs[i].bytes * "
    << (floatInputs ? "sizeof(float)" : "1") << ")) != cudaSuccess)\n"
    << "      return fail(\"cudaMalloc\", int(e));\n"
    << "  for (int i = 0; i < KILN_" << upper << "_NUM_OUTPUTS; ++i)\n"
    << "    if ((e = cudaMalloc(&out[i], " << prefix
    << "_outputs[i].bytes * sizeof(float))) != cudaSuccess)\n"
    << "      return fail(\"cudaMalloc\", int(e));\n";
  for (size_t s = 0; s < samples.size(); ++s) {
    m << "  {\n";
    for (size_t i = 0; i < writer.inputs.size(); ++i)
      m << "    if ((e = cudaMemcpy(in[" << i << "], in_" << s << "_" << i
        << ", sizeof(in_" << s << "_" << i
        << "), cudaMemcpyHostToDevice)) != cudaSuccess)\n"
        << "      return fail(\"cudaMemcpy\", int(e));\n";
    if (floatInputs)
      m << "    status = " << prefix
        << "_run(model, (const float *const *)in.data(),\n"
        << "                 (float *const *)out.data());\n";
    else
      m << "    status = " << prefix
        << "_run_int8(model, (const int8_t *const *)in.data(),\n"
        << "                      (int8_t *const *)out.data());\n";
    m << "    if (status != 0)\n      return fail(\"run\", status);\n"
      << "    if ((e = cudaStreamSynchronize(stream)) != cudaSuccess)\n"
      << "      return fail(\"the model's kernels\", int(e));\n";
    for (size_t i = 0; i < writer.outputs.size(); ++i)
      m << "    {\n      std::vector<int8_t> q(" << writer.outputs[i].bytes
        << ");\n      if ((e = cudaMemcpy(q.data(), " << prefix
        << "_output_int8(model, " << i << "), q.size(),\n"
        << "                          cudaMemcpyDeviceToHost)) != "
           "cudaSuccess)\n"
        << "        return fail(\"cudaMemcpy\", int(e));\n"
        << "      std::printf(\"" << writer.outputs[i].name << ":\");\n"
        << "      for (int8_t v : q)\n        std::printf(\" %d\", int(v));\n"
        << "      std::printf(\"\\n\");\n    }\n";
    m << "  }\n";
  }
  m << "  for (void *p : in)\n    cudaFree(p);\n  for (void *p : out)\n"
    << "    cudaFree(p);\n  status = " << prefix << "_destroy(model);\n"
    << "  cudaStreamDestroy(stream);\n  std::fflush(stdout);\n"
    << "  return status == 0 ? 0 : fail(\"destroy\", status);\n}\n";
  return m.str();
}

/// Returns the CMakeLists.txt of the program.
std::string cmakeLists(const std::string &name, bool sm90, bool harness) {
  std::ostringstream t;
  t << "# DO NOT EDIT — generated by kiln. Builds lib" << name
    << ".so (model.cu)" << (harness ? " and model_run (main.cu)" : "")
    << ".\n#   cmake -B build -DCMAKE_CUDA_HOST_COMPILER=g++ && cmake --build "
       "build\ncmake_minimum_required(VERSION 3.24)\n"
    << "# The target's architecture unless the caller chose one.\n"
    << "if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)\n"
    << "  set(CMAKE_CUDA_ARCHITECTURES " << (sm90 ? "90a" : "80") << ")\n"
    << "endif()\nproject(kiln_" << name << " LANGUAGES CXX CUDA)\n"
    << "set(CMAKE_CUDA_STANDARD 17)\n"
    << "set(CMAKE_CUDA_STANDARD_REQUIRED ON)\n"
    << "add_library(" << name << " SHARED model.cu)\n"
    << "target_include_directories(" << name
    << " PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}\n  PRIVATE "
       "${CMAKE_CURRENT_SOURCE_DIR}/kiln_cuda/include)\n"
    << "target_compile_options(" << name
    << " PRIVATE\n  $<$<COMPILE_LANGUAGE:CUDA>:--Werror all-warnings "
       "-lineinfo>)\n";
  if (harness)
    t << "add_executable(model_run main.cu)\n"
      << "target_link_libraries(model_run PRIVATE " << name << ")\n"
      << "set_target_properties(model_run PROPERTIES BUILD_RPATH "
         "${CMAKE_CURRENT_BINARY_DIR})\n";
  return t.str();
}

} // namespace

Result<std::vector<std::string>>
emitCudaProgram(func::FuncOp func, const CudaEmitOptions &options) {
  if (options.target != "cuda-sm80" && options.target != "cuda-sm90")
    return Status::error("the CUDA emitter does not support target '" +
                         options.target + "'");
  CudaWriter writer(func, options);
  Status status = writer.run();
  if (status.failed())
    return status;
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
  bool harness = !options.harnessSamples.empty();
  write("model.h", writer.header);
  write("model.cu", writer.source);
  write("weights.bin", writer.weights.file());
  write("kernels.md", writer.report);
  for (const EmbeddedFile &file : kCudaRuntimeFiles)
    write("kiln_cuda/" + std::string(file.path), file.contents);
  if (harness)
    write("main.cu",
          harnessSource(writer, options.modelName, options.harnessSamples));
  write("CMakeLists.txt", cmakeLists(options.modelName,
                                     options.target == "cuda-sm90", harness));
  if (status.failed())
    return status;
  return files;
}

} // namespace kiln::codegen
