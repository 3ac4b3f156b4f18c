//===- MobileNetV2Test.cpp - A real model's lifetimes replayed --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// MobileNetV2 with width multiplier 0.35 at 96x96x3, int8 (1 byte per
// element), encoded layer by layer as in the reference architecture
// (torchvision's mobilenet_v2: channels rounded to multiples of 8 with
// _make_divisible, expansion 6, hidden width round(in * 6), last conv 1280
// wide, global average pool, flatten, a 1000-way classifier). Kernel scratch
// sizes are those of Kiln's runtime (runtime/c/include/kiln_rt.h):
// kiln_conv2d_s8_scratch_bytes = 16 * ceil(k * k * C_in / 4) for every
// convolution, kiln_dwconv2d_3x3_s8_scratch_bytes = one zero-padded input
// plane, and kiln_dwconv2d_inplace_s8 needs that same plane instead (so its
// temporary replaces the scratch).
//
// The test plans it with TF Lite Micro's greedy-by-size and with Kiln's
// default planner, then with the first stage (the stem and the blocks up to
// the first 24x24 output) run patch by patch, prints every figure, and checks
// the invariants and the bytes worked out by hand in the comments.
// Set KILN_MEMORY_REPORT_DIR to also write the text reports and SVG
// timelines there.
//
//===----------------------------------------------------------------------===//

#include "MemoryTestUtil.h"

#include "passes/memory/planner/MemoryPlanner.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kiln::memory::test {
namespace {

/// torchvision's _make_divisible(value, 8).
int makeDivisible(double value) {
  int rounded = std::max(8, static_cast<int>(value + 4) / 8 * 8);
  if (rounded < 0.9 * value)
    rounded += 8;
  return rounded;
}

/// The model as a MemoryGraph, plus the geometry of its first stage.
struct MobileNetV2 {
  GraphBuilder b;
  TensorId image = -1;
  /// Ops and layer geometry of the patch stage.
  std::vector<OpId> stageOps;
  std::vector<SpatialLayer> stageLayers;

  /// Adds a conv (or depthwise / pool) layer reading |in| of |h| x |h| x
  /// |inC| and returns its output.
  TensorId layer(const std::string &name, TensorId in, int h, int inC, int outC,
                 int kernel, int stride, SpatialOpKind kind, bool inStage) {
    int pad = kernel == 3 ? 1 : 0;
    int out = (h + 2 * pad - kernel) / stride + 1;
    if (kind == SpatialOpKind::Pool)
      out = 1;
    TensorId result = b.tensor(name, static_cast<uint64_t>(out) * out * outC);
    std::vector<TensorId> inputs{in};
    std::vector<uint64_t> scratch;
    uint64_t taps = static_cast<uint64_t>(kernel) * kernel;
    OpId op;
    if (kind == SpatialOpKind::DepthwiseConv) {
      inputs.push_back(b.constant(name + ".w", taps * outC + 4 * outC));
      uint64_t plane =
          (static_cast<uint64_t>(h + 2 * pad) * (h + 2 * pad) + 4 + 3) &
          ~uint64_t(3);
      scratch.push_back(plane);
      op = b.op(name, inputs, {result}, scratch);
      InPlaceCapability inPlace{InPlaceKind::Depthwise, 0, 0, plane};
      inPlace.replacesScratch = true;
      b.graph.op(op).inPlace.push_back(inPlace);
    } else if (kind == SpatialOpKind::Conv) {
      inputs.push_back(b.constant(name + ".w", taps * inC * outC + 4 * outC));
      scratch.push_back(16 * ((taps * inC + 3) / 4));
      op = b.op(name, inputs, {result}, scratch);
    } else {
      op = b.op(name, inputs, {result});
    }
    if (inStage) {
      stageOps.push_back(op);
      SpatialLayer geometry;
      geometry.name = name;
      geometry.kind = kind;
      geometry.kernelH = geometry.kernelW = kernel;
      geometry.strideH = geometry.strideW = stride;
      geometry.padTop = geometry.padLeft = geometry.padBottom =
          geometry.padRight = pad;
      geometry.inH = geometry.inW = h;
      geometry.inC = inC;
      geometry.outH = geometry.outW = out;
      geometry.outC = outC;
      geometry.scratchBytes = scratch.empty() ? 0 : scratch.front();
      stageLayers.push_back(geometry);
    }
    return result;
  }

  MobileNetV2() {
    const double width = 0.35;
    image = b.input("image", 96 * 96 * 3);
    int channels = makeDivisible(32 * width); // 16
    int h = 96;
    TensorId x =
        layer("stem", image, h, 3, channels, 3, 2, SpatialOpKind::Conv, true);
    h = 48;
    struct Setting {
      int expansion, channels, repeats, stride;
    };
    const Setting settings[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2},
                                {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2},
                                {6, 320, 1, 1}};
    int block = 0;
    for (const Setting &s : settings) {
      int outC = makeDivisible(s.channels * width);
      for (int i = 0; i < s.repeats; ++i, ++block) {
        int stride = i == 0 ? s.stride : 1;
        int hidden = static_cast<int>(std::lround(channels * s.expansion));
        std::string p = "b" + std::to_string(block) + ".";
        // The patch stage: the stem and blocks 0 and 1, whose output is the
        // first 24x24 activation.
        bool inStage = block <= 1;
        TensorId y = x;
        if (s.expansion != 1)
          y = layer(p + "expand", y, h, channels, hidden, 1, 1,
                    SpatialOpKind::Conv, inStage);
        y = layer(p + "dw", y, h, hidden, hidden, 3, stride,
                  SpatialOpKind::DepthwiseConv, inStage);
        int outH = (h + 2 - 3) / stride + 1;
        y = layer(p + "project", y, outH, hidden, outC, 1, 1,
                  SpatialOpKind::Conv, inStage);
        if (stride == 1 && channels == outC) {
          TensorId sum =
              b.tensor(p + "add", static_cast<uint64_t>(outH) * outH * outC);
          b.elementwise(p + "add", {x, y}, sum);
          y = sum;
        }
        x = y;
        channels = outC;
        h = outH;
      }
    }
    x = layer("head", x, h, channels, 1280, 1, 1, SpatialOpKind::Conv, false);
    x = layer("pool", x, h, 1280, 1280, h, 1, SpatialOpKind::Pool, false);
    TensorId flat = b.tensor("flatten", 1280);
    b.reshape("flatten", x, flat);
    TensorId logits = b.tensor("logits", 1000);
    b.op("classifier", {flat, b.constant("fc.w", 1280 * 1000 + 4000)},
         {logits});
    b.output(logits);
  }
};

/// Writes |plan|'s text report and SVG to $KILN_MEMORY_REPORT_DIR, if set.
void maybeWriteReport(const MemoryGraph &graph, const ArenaPlan &plan,
                      const std::string &stem) {
  const char *dir = std::getenv("KILN_MEMORY_REPORT_DIR");
  if (!dir || !*dir)
    return;
  std::string base = std::string(dir) + "/" + stem;
  SvgOptions options;
  options.title = "MobileNetV2-0.35 96x96 int8, " + stem;
  EXPECT_TRUE(
      writeTextFile(base + ".txt", formatPlanReport(graph, plan)).succeeded());
  EXPECT_TRUE(writeTextFile(base + ".svg", renderArenaSvg(graph, plan, options))
                  .succeeded());
}

TEST(MemoryMobileNetV2, ReplaysLifetimesAndBeatsGreedy) {
  MobileNetV2 net;
  const MemoryGraph &graph = net.b.graph;
  ASSERT_TRUE(graph.verify().succeeded()) << graph.verify().str();
  EXPECT_EQ(graph.numOps(), 65u);

  PlanOptions baseline;
  baseline.planner = PlannerKind::GreedyBySize;
  Result<ArenaPlan> greedy = planMemory(graph, baseline);
  Result<ArenaPlan> best = planMemory(graph);
  ASSERT_TRUE(greedy.succeeded()) << greedy.status().str();
  ASSERT_TRUE(best.succeeded()) << best.status().str();
  EXPECT_PLAN_VALID(graph, *greedy);
  EXPECT_PLAN_VALID(graph, *best);
  maybeWriteReport(graph, *greedy, "greedy-by-size");
  maybeWriteReport(graph, *best, "default");

  // Without reuse the peak is block 1's stride-2 depthwise: 48x48x48 in,
  // 24x24x48 out, a 50x50 (+4) padded plane of scratch.
  EXPECT_EQ(greedy->lowerBoundWithoutReuse, 110592u + 27648u + 2504u);
  EXPECT_GE(greedy->arenaBytes, greedy->lowerBoundWithoutReuse);
  // In place, that depthwise needs 110592 + 2504 and the peak moves to
  // block 1's expansion: 48x48x8 in, 48x48x48 out, 32 bytes of im2col.
  EXPECT_EQ(best->lowerBound, 18432u + 110592u + 32u);
  EXPECT_EQ(best->arenaBytes, best->lowerBound);
  EXPECT_LT(best->arenaBytes, greedy->arenaBytes);
  double plainRatio = static_cast<double>(greedy->arenaBytes) /
                      static_cast<double>(best->arenaBytes);
  std::printf("[ mbv2     ] greedy-by-size %llu B (bound %llu B); default "
              "%llu B (bound %llu B, %s): %.3fx smaller\n",
              static_cast<unsigned long long>(greedy->arenaBytes),
              static_cast<unsigned long long>(greedy->lowerBound),
              static_cast<unsigned long long>(best->arenaBytes),
              static_cast<unsigned long long>(best->lowerBound),
              best->strategy.c_str(), plainRatio);

  // Patch-based first stage: try several splits, keep the smallest arena.
  ASSERT_EQ(net.stageOps.size(), 6u);
  uint64_t bestPatched = UINT64_MAX;
  int bestSplit = 0;
  for (int split : {2, 3, 4, 6, 8}) {
    SCOPED_TRACE("split " + std::to_string(split));
    Result<PatchPlan> patches = planPatches(net.stageLayers, split);
    ASSERT_TRUE(patches.succeeded()) << patches.status().str();
    Result<PatchedGraph> patched =
        replaceStageWithPatches(graph, net.stageOps, *patches);
    ASSERT_TRUE(patched.succeeded()) << patched.status().str();
    Result<ArenaPlan> plan = planMemory(patched->graph);
    ASSERT_TRUE(plan.succeeded()) << plan.status().str();
    EXPECT_PLAN_VALID(patched->graph, *plan);
    EXPECT_GE(plan->arenaBytes, patches->patchPeakBytes);
    // The planner packs the patched model without fragmentation.
    EXPECT_EQ(plan->arenaBytes, plan->lowerBound);
    std::printf("[ mbv2     ] patches %dx%d: stage %llu B whole / %llu B "
                "patched (buffer %llu B), recompute %.1f%% of %llu MACs; "
                "model arena %llu B: %.2fx smaller than greedy-by-size\n",
                split, split,
                static_cast<unsigned long long>(patches->wholeTensorPeakBytes),
                static_cast<unsigned long long>(patches->patchPeakBytes),
                static_cast<unsigned long long>(patches->patchBufferBytes),
                patches->recomputePercent,
                static_cast<unsigned long long>(patches->wholeMacs),
                static_cast<unsigned long long>(plan->arenaBytes),
                static_cast<double>(greedy->arenaBytes) / plan->arenaBytes);
    if (plan->arenaBytes < bestPatched) {
      bestPatched = plan->arenaBytes;
      bestSplit = split;
      maybeWriteReport(patched->graph, *plan, "default-patched");
    }
  }
  double patchedRatio = static_cast<double>(greedy->arenaBytes) /
                        static_cast<double>(bestPatched);
  std::printf("[ mbv2     ] best: %dx%d patches, %llu B, %.2fx smaller than "
              "greedy-by-size (target 1.5x)\n",
              bestSplit, bestSplit,
              static_cast<unsigned long long>(bestPatched), patchedRatio);
  // After patching, the peak is block 2 (24x24): block input kept for the
  // residual add + expanded 24x24x48 + projected output + 192 bytes of
  // im2col = 37056 bytes, or the patch stage itself (image + stage output +
  // patch buffer).
  EXPECT_GE(bestPatched, 37056u);
  EXPECT_GE(patchedRatio, 1.5);
}

TEST(MemoryMobileNetV2, OrderSearchKeepsTheChain) {
  MobileNetV2 net;
  Result<OrderResult> order = chooseExecutionOrder(net.b.graph);
  ASSERT_TRUE(order.succeeded());
  EXPECT_TRUE(order->exact);
  // Every op depends on the previous one (residuals only skip tensors), so
  // there is only one order.
  EXPECT_EQ(order->order, net.b.graph.candidateOrder());
  EXPECT_EQ(order->peakBytes, 18432u + 110592u + 32u);
}

} // namespace
} // namespace kiln::memory::test
