//===- PatchPlannerTest.cpp - MCUNetV2 patch geometry -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Receptive-field propagation with halos and per-patch padding worked out by
// hand, the memory and recomputation figures that follow from them, the
// geometry checks, and the graph rewrite that hands a patch stage to the
// whole-graph planner.
//
//===----------------------------------------------------------------------===//

#include "MemoryTestUtil.h"

#include "passes/memory/planner/PatchPlanner.h"

namespace kiln::memory::test {
namespace {

/// Returns a square conv layer description.
SpatialLayer conv(int in, int inC, int out, int outC, int kernel, int stride,
                  int pad, SpatialOpKind kind = SpatialOpKind::Conv) {
  SpatialLayer layer;
  layer.kind = kind;
  layer.kernelH = layer.kernelW = kernel;
  layer.strideH = layer.strideW = stride;
  layer.padTop = layer.padLeft = layer.padBottom = layer.padRight = pad;
  layer.inH = layer.inW = in;
  layer.inC = inC;
  layer.outH = layer.outW = out;
  layer.outC = outC;
  return layer;
}

TEST(MemoryPatchPlanner, SingleLayerSplitsWithoutRecomputation) {
  // 3x3 stride-1 pad-1 conv on 8x8x2 -> 8x8x4, 2x2 patches of 4x4 outputs.
  Result<PatchPlan> plan = planPatches({conv(8, 2, 8, 4, 3, 1, 1)}, 2);
  ASSERT_TRUE(plan.succeeded()) << plan.status().str();
  ASSERT_EQ(plan->regions.size(), 4u);
  const LayerPatch &topLeft = plan->regions[0][0];
  EXPECT_EQ(topLeft.output, (PixelRegion{0, 4, 0, 4}));
  // Rows -1..4 are needed; -1 is padding.
  EXPECT_EQ(topLeft.input, (PixelRegion{0, 5, 0, 5}));
  EXPECT_EQ(topLeft.padTop, 1);
  EXPECT_EQ(topLeft.padLeft, 1);
  EXPECT_EQ(topLeft.padBottom, 0);
  const LayerPatch &bottomRight = plan->regions[3][0];
  EXPECT_EQ(bottomRight.output, (PixelRegion{4, 8, 4, 8}));
  EXPECT_EQ(bottomRight.input, (PixelRegion{3, 8, 3, 8}));
  EXPECT_EQ(bottomRight.padBottom, 1);
  EXPECT_EQ(bottomRight.padRight, 1);
  EXPECT_EQ(bottomRight.padTop, 0);
  EXPECT_EQ(plan->wholeMacs, 64u * 4 * 9 * 2);
  EXPECT_EQ(plan->patchMacs, plan->wholeMacs);
  EXPECT_DOUBLE_EQ(plan->recomputePercent, 0.0);
  // One layer: it reads the whole input and writes the whole output.
  EXPECT_EQ(plan->patchBufferBytes, 0u);
  EXPECT_EQ(plan->wholeTensorPeakBytes, 128u + 256u);
  EXPECT_EQ(plan->patchPeakBytes, 128u + 256u);
}

TEST(MemoryPatchPlanner, TwoLayersRecomputeTheHalo) {
  // 16x16x3 -conv3x3 s1-> 16x16x8 -conv3x3 s2-> 8x8x16, 2x2 patches.
  std::vector<SpatialLayer> layers = {conv(16, 3, 16, 8, 3, 1, 1),
                                      conv(16, 8, 8, 16, 3, 2, 1)};
  layers[0].scratchBytes = 100;
  Result<PatchPlan> plan = planPatches(layers, 2);
  ASSERT_TRUE(plan.succeeded()) << plan.status().str();
  // Patch 0: output rows 0..3 of layer 1 need rows 2*0-1 .. 2*3-1+2 = -1..7
  // of its input; patch 1 (rows 4..7) needs 7..15: row 7 is the halo.
  EXPECT_EQ(plan->regions[0][1].input, (PixelRegion{0, 8, 0, 8}));
  EXPECT_EQ(plan->regions[0][1].padTop, 1);
  EXPECT_EQ(plan->regions[3][1].input, (PixelRegion{7, 16, 7, 16}));
  EXPECT_EQ(plan->regions[3][1].padBottom, 0);
  // Layer 0 computes what layer 1 reads.
  EXPECT_EQ(plan->regions[3][0].output, plan->regions[3][1].input);
  EXPECT_EQ(plan->regions[3][0].input, (PixelRegion{6, 16, 6, 16}));
  EXPECT_EQ(plan->regions[3][0].padBottom, 1);

  // Layer 0 computes 8x8, 8x9, 9x8 and 9x9 pixels instead of 16x16.
  uint64_t mac0 = 8 * 9 * 3, mac1 = 16 * 9 * 8;
  EXPECT_EQ(plan->wholeMacs, 256 * mac0 + 64 * mac1);
  EXPECT_EQ(plan->patchMacs, 289 * mac0 + 64 * mac1);
  EXPECT_NEAR(plan->recomputePercent,
              100.0 * 33 * mac0 / (256 * mac0 + 64 * mac1), 1e-9);
  // Per patch: layer 0 writes at most 9x9x8 intermediate bytes (plus its
  // scratch); layer 1 reads them.
  EXPECT_EQ(plan->patchBufferBytes, 9u * 9 * 8 + 100);
  // Whole tensors: layer 1 holds 2048 + 1024 bytes, more than layer 0's
  // 768 + 2048 + 100.
  EXPECT_EQ(plan->wholeTensorPeakBytes, 2048u + 1024);
  EXPECT_EQ(plan->patchPeakBytes, 768u + 1024 + 9 * 9 * 8 + 100);
}

TEST(MemoryPatchPlanner, BufferLayoutWithCopiedWindows) {
  // The C code generator's layout: layer 0 reads a copied input window, the
  // last layer writes its region into the buffer, everything 16-aligned.
  std::vector<SpatialLayer> layers = {conv(16, 3, 16, 8, 3, 1, 1),
                                      conv(16, 8, 8, 16, 3, 2, 1),
                                      conv(8, 16, 8, 4, 1, 1, 0)};
  layers[0].scratchBytes = 100;
  // A depthwise-style plane that shrinks with the patch.
  layers[1].patchScratchBytes = [](const LayerPatch &patch) {
    return static_cast<uint64_t>((patch.input.rows() + patch.padTop +
                                  patch.padBottom) *
                                 (patch.input.cols() + patch.padLeft +
                                  patch.padRight));
  };
  PatchOptions options;
  options.copyInputWindow = true;
  options.copyOutputWindow = true;
  options.alignment = 16;
  Result<PatchPlan> plan = planPatches(layers, 2, options);
  ASSERT_TRUE(plan.succeeded()) << plan.status().str();
  ASSERT_EQ(plan->layout.size(), 3u);
  // Largest regions: layer 0 reads 10x10x3 (9 rows + halo + pad), writes
  // 9x9x8; layer 1 writes 4x4x16; layer 2 writes 4x4x4.
  EXPECT_EQ(plan->layout[0].inputBytes, 10u * 10 * 3);
  EXPECT_EQ(plan->layout[0].outputBytes, 9u * 9 * 8);
  EXPECT_EQ(plan->layout[1].inputBytes, 9u * 9 * 8);
  EXPECT_EQ(plan->layout[1].scratchBytes, 9u * 9); // 8 rows + 1 pad
  EXPECT_EQ(plan->layout[2].outputBytes, 4u * 4 * 4);
  EXPECT_EQ(plan->scratch[0][1], 9u * 9);
  // Ping-pong: each layer's input is where the previous layer wrote.
  for (size_t l = 1; l < 3; ++l)
    EXPECT_EQ(plan->layout[l].inputOffset, plan->layout[l - 1].outputOffset);
  // Inside one layer, input, output and scratch never overlap, and all lie
  // in the buffer, aligned.
  for (const PatchLayerLayout &layout : plan->layout) {
    std::vector<std::pair<int64_t, uint64_t>> spans = {
        {layout.inputOffset, layout.inputBytes},
        {layout.outputOffset, layout.outputBytes},
        {layout.scratchOffset, layout.scratchBytes}};
    for (size_t a = 0; a < spans.size(); ++a) {
      if (spans[a].second == 0)
        continue;
      EXPECT_GE(spans[a].first, 0);
      EXPECT_EQ(spans[a].first % 16, 0);
      EXPECT_LE(spans[a].first + static_cast<int64_t>(spans[a].second),
                static_cast<int64_t>(plan->patchBufferBytes));
      for (size_t b = a + 1; b < spans.size(); ++b)
        if (spans[b].second > 0)
          EXPECT_TRUE(spans[a].first + static_cast<int64_t>(spans[a].second) <=
                          spans[b].first ||
                      spans[b].first + static_cast<int64_t>(spans[b].second) <=
                          spans[a].first);
    }
  }
  // Layer 0 holds the largest sum: 304 + 112 (scratch) + 656 (aligned).
  EXPECT_EQ(plan->patchBufferBytes, 304u + 112 + 656);
  EXPECT_EQ(plan->patchPeakBytes, 768u + 256 + plan->patchBufferBytes);

  PatchOptions bad;
  bad.alignment = 12;
  EXPECT_FALSE(planPatches(layers, 2, bad).succeeded());
}

TEST(MemoryPatchPlanner, DepthwiseAndPoolMacs) {
  SpatialLayer dw = conv(8, 4, 8, 4, 3, 1, 1, SpatialOpKind::DepthwiseConv);
  SpatialLayer pool = conv(8, 4, 4, 4, 3, 2, 1, SpatialOpKind::Pool);
  EXPECT_EQ(layerMacs(dw, 64), 64u * 4 * 9);
  EXPECT_EQ(layerMacs(pool, 16), 0u);
  Result<PatchPlan> plan = planPatches({dw, pool}, 4);
  ASSERT_TRUE(plan.succeeded()) << plan.status().str();
  EXPECT_EQ(plan->regions.size(), 16u);
  EXPECT_GT(plan->recomputePercent, 0.0);
}

/// Returns an add of two |size| x |size| x |channels| layers.
SpatialLayer add(int size, int channels, int lhs, int rhs) {
  SpatialLayer layer = conv(size, channels, size, channels, 1, 1, 0,
                            SpatialOpKind::Add);
  layer.inputs = {lhs, rhs};
  return layer;
}

/// A stem conv and one inverted-residual block on 8x8: 0 stem 3x3 (8x8x2 ->
/// 8x8x4), 1 expand 1x1 (-> 8x8x8), 2 depthwise 3x3, 3 project 1x1 (->
/// 8x8x4), 4 add of the stem's output (the skip tensor) and 3.
std::vector<SpatialLayer> residualBlock() {
  std::vector<SpatialLayer> layers = {
      conv(8, 2, 8, 4, 3, 1, 1), conv(8, 4, 8, 8, 1, 1, 0),
      conv(8, 8, 8, 8, 3, 1, 1, SpatialOpKind::DepthwiseConv),
      conv(8, 8, 8, 4, 1, 1, 0), add(8, 4, 0, 3)};
  for (int l = 0; l < 4; ++l)
    layers[l].inputs = {l - 1};
  return layers;
}

TEST(MemoryPatchPlanner, ResidualBlockRegionsAreUnionsOverReaders) {
  PatchOptions options;
  options.copyInputWindow = true;
  options.copyOutputWindow = true;
  Result<PatchPlan> plan = planPatches(residualBlock(), 2, options);
  ASSERT_TRUE(plan.succeeded()) << plan.status().str();
  EXPECT_TRUE(plan->dag);
  EXPECT_EQ(plan->inputs[4], (std::vector<int>{0, 3}));
  ASSERT_EQ(plan->regions.size(), 4u);

  // Top-left patch: the add's 4x4 region is the projection's and the
  // depthwise output's; the depthwise reads rows -1..4 (row -1 is padding)
  // of the expand output, which reads the same rows of the skip tensor.
  const std::vector<LayerPatch> &topLeft = plan->regions[0];
  PixelRegion patch{0, 4, 0, 4}, halo{0, 5, 0, 5};
  EXPECT_EQ(topLeft[4].output, patch);
  EXPECT_EQ(topLeft[4].input, patch);
  EXPECT_EQ(topLeft[3].output, patch);
  EXPECT_EQ(topLeft[2].output, patch);
  EXPECT_EQ(topLeft[2].input, halo);
  EXPECT_EQ(topLeft[2].padTop, 1);
  EXPECT_EQ(topLeft[2].padBottom, 0);
  EXPECT_EQ(topLeft[1].output, halo);
  // The skip tensor covers what both readers need: the expand's 5x5 (with
  // the halo) and the add's 4x4, a window of it.
  EXPECT_EQ(topLeft[0].output, halo);
  EXPECT_EQ(topLeft[0].input, (PixelRegion{0, 6, 0, 6}));
  EXPECT_EQ(topLeft[0].padTop, 1);
  // Bottom-right: the halo lies above and left.
  const std::vector<LayerPatch> &bottomRight = plan->regions[3];
  EXPECT_EQ(bottomRight[4].output, (PixelRegion{4, 8, 4, 8}));
  EXPECT_EQ(bottomRight[0].output, (PixelRegion{3, 8, 3, 8}));
  EXPECT_EQ(bottomRight[0].input, (PixelRegion{2, 8, 2, 8}));
  EXPECT_EQ(bottomRight[2].padBottom, 1);

  // MACs: the stem and expand compute 4 x 5x5 pixels instead of 8x8; the
  // depthwise and projection no more than the whole; the add counts none.
  uint64_t stem = 4 * 9 * 2, expand = 8 * 4, dw = 8 * 9, project = 4 * 8;
  EXPECT_EQ(plan->wholeMacs, 64 * (stem + expand + dw + project));
  EXPECT_EQ(plan->patchMacs, 100 * (stem + expand) + 64 * (dw + project));

  // Whole tensors: at the depthwise, the skip tensor (256 bytes), the
  // expand output (512) and the depthwise output (512) are live.
  EXPECT_EQ(plan->wholeTensorPeakBytes, 256u + 512 + 512);

  // Per patch: the skip region (5x5x4 = 100 bytes) stays live through the
  // block; the peak is at the depthwise: 100 + 200 (expand, 5x5x8) + 128
  // (depthwise, 4x4x8). The add writes over the projection's region (same
  // 4x4 region, read last), not over the larger skip region.
  EXPECT_EQ(plan->patchBufferBytes, 100u + 200 + 128);
  const std::vector<PatchLayerLayout> &layout = plan->layout;
  EXPECT_EQ(layout[4].inputOffsets,
            (std::vector<int64_t>{layout[0].outputOffset,
                                  layout[3].outputOffset}));
  EXPECT_EQ(layout[4].outputOffset, layout[3].outputOffset);
  EXPECT_EQ(layout[1].inputOffset, layout[0].outputOffset);
  EXPECT_EQ(layout[4].inputBytes, 4u * 4 * 4);
  EXPECT_EQ(layout[0].outputBytes, 5u * 5 * 4);
  // Regions live at the same time never overlap: the skip region against
  // every region of the block.
  auto disjoint = [&](size_t a, size_t b) {
    int64_t aBegin = layout[a].outputOffset, bBegin = layout[b].outputOffset;
    return aBegin + static_cast<int64_t>(layout[a].outputBytes) <= bBegin ||
           bBegin + static_cast<int64_t>(layout[b].outputBytes) <= aBegin;
  };
  for (size_t l = 1; l <= 3; ++l)
    EXPECT_TRUE(disjoint(0, l)) << "layer " << l;
  EXPECT_TRUE(disjoint(1, 2));
  EXPECT_TRUE(disjoint(2, 3));
  EXPECT_EQ(plan->patchPeakBytes, 128u + 256 + plan->patchBufferBytes);

  // A chain keeps the ping-pong layout.
  std::vector<SpatialLayer> chain = residualBlock();
  chain.pop_back();
  Result<PatchPlan> chainPlan = planPatches(chain, 2, options);
  ASSERT_TRUE(chainPlan.succeeded());
  EXPECT_FALSE(chainPlan->dag);
}

TEST(MemoryPatchPlanner, RejectsDagsTheKernelsCannotRun) {
  // Two convs read the stem: the 1x1 needs less of it than the 3x3, and a
  // conv cannot read a window of its input's region.
  std::vector<SpatialLayer> layers = {
      conv(8, 2, 8, 4, 3, 1, 1), conv(8, 4, 8, 4, 1, 1, 0),
      conv(8, 4, 8, 4, 3, 1, 1), add(8, 4, 1, 2)};
  layers[1].inputs = {0};
  layers[2].inputs = {0};
  Result<PatchPlan> partial = planPatches(layers, 2);
  ASSERT_FALSE(partial.succeeded());
  EXPECT_NE(partial.status().str().find("reads only part of the region"),
            std::string::npos)
      << partial.status().str();

  // A layer nobody in the stage reads (layer 1: its output would leave the
  // stage beside the last layer's).
  std::vector<SpatialLayer> dead = {conv(8, 2, 8, 4, 3, 1, 1),
                                    conv(8, 4, 8, 4, 1, 1, 0),
                                    conv(8, 4, 8, 4, 1, 1, 0)};
  dead[1].inputs = {0};
  dead[2].inputs = {0};
  Result<PatchPlan> unread = planPatches(dead, 2);
  ASSERT_FALSE(unread.succeeded());
  EXPECT_NE(unread.status().str().find("no later layer of the stage reads"),
            std::string::npos)
      << unread.status().str();

  // An add reads two layers, each before it; only layer 0 reads the input.
  std::vector<SpatialLayer> oneInput = residualBlock();
  oneInput[4].inputs = {3};
  EXPECT_FALSE(planPatches(oneInput, 2).succeeded());
  std::vector<SpatialLayer> forward = residualBlock();
  forward[4].inputs = {0, 4};
  EXPECT_FALSE(planPatches(forward, 2).succeeded());
  std::vector<SpatialLayer> input = residualBlock();
  input[1].inputs = {-1};
  input[1].inC = 2;
  EXPECT_FALSE(planPatches(input, 2).succeeded());
}

TEST(MemoryPatchPlanner, RejectsInconsistentGeometry) {
  Result<PatchPlan> wrongOut = planPatches({conv(8, 2, 7, 4, 3, 1, 1)}, 2);
  ASSERT_FALSE(wrongOut.succeeded());
  EXPECT_NE(wrongOut.status().str().find(
                "output is 7x7 but the kernel, stride and padding give 8x8"),
            std::string::npos)
      << wrongOut.status().str();

  Result<PatchPlan> broken =
      planPatches({conv(8, 2, 8, 4, 3, 1, 1), conv(8, 5, 8, 4, 1, 1, 0)}, 2);
  ASSERT_FALSE(broken.succeeded());
  EXPECT_NE(broken.status().str().find("does not match the next layer's"),
            std::string::npos);

  Result<PatchPlan> tooMany = planPatches({conv(8, 2, 8, 4, 3, 1, 1)}, 9);
  ASSERT_FALSE(tooMany.succeeded());
  EXPECT_NE(tooMany.status().str().find("between 1 and the stage output's 8"),
            std::string::npos);

  EXPECT_FALSE(planPatches({}, 1).succeeded());
  SpatialLayer badDw = conv(8, 4, 8, 6, 3, 1, 1, SpatialOpKind::DepthwiseConv);
  EXPECT_FALSE(planPatches({badDw}, 1).succeeded());
}

TEST(MemoryPatchPlanner, ReplacesTheStageInTheGraph) {
  std::vector<SpatialLayer> layers = {conv(16, 3, 16, 8, 3, 1, 1),
                                      conv(16, 8, 8, 16, 3, 2, 1)};
  Result<PatchPlan> plan = planPatches(layers, 2);
  ASSERT_TRUE(plan.succeeded());

  GraphBuilder b;
  TensorId image = b.input("image", 768);
  TensorId w0 = b.constant("w0", 216);
  TensorId mid = b.tensor("mid", 2048);
  TensorId stageOut = b.tensor("stage_out", 1024);
  TensorId head = b.tensor("head", 64);
  b.output(head);
  b.op("conv0", {image, w0}, {mid});
  b.op("conv1", {mid}, {stageOut});
  b.op("head", {stageOut}, {head});

  Result<PatchedGraph> patched =
      replaceStageWithPatches(b.graph, {0, 1}, *plan);
  ASSERT_TRUE(patched.succeeded()) << patched.status().str();
  const MemoryGraph &g = patched->graph;
  EXPECT_TRUE(g.verify().succeeded());
  EXPECT_EQ(g.numOps(), 2u);
  EXPECT_EQ(patched->tensorMap[mid], -1);
  EXPECT_EQ(patched->opMap[0], patched->stageOp);
  EXPECT_EQ(patched->opMap[1], patched->stageOp);
  const OpDesc &stage = g.op(patched->stageOp);
  EXPECT_EQ(stage.scratchBytes,
            (std::vector<uint64_t>{plan->patchBufferBytes}));
  EXPECT_EQ(stage.inputs.size(), 2u);

  ArenaPlan whole = planOrFail(b.graph, PlannerKind::Default);
  ArenaPlan tiled = planOrFail(g, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, whole);
  EXPECT_PLAN_VALID(g, tiled);
  EXPECT_EQ(whole.arenaBytes, 2048u + 1024u);
  EXPECT_EQ(tiled.arenaBytes, plan->patchPeakBytes);

  // The stage's output must have the size the plan computes.
  GraphBuilder wrong;
  TensorId in2 = wrong.input("image", 768);
  TensorId mid2 = wrong.tensor("mid", 2048);
  TensorId out2 = wrong.tensor("out", 1000);
  wrong.output(out2);
  wrong.op("conv0", {in2}, {mid2});
  wrong.op("conv1", {mid2}, {out2});
  Result<PatchedGraph> mismatch =
      replaceStageWithPatches(wrong.graph, {0, 1}, *plan);
  ASSERT_FALSE(mismatch.succeeded());
  EXPECT_NE(mismatch.status().str().find("has 1000 bytes"), std::string::npos);

  // A stage that does not end at the plan's output is refused.
  Result<PatchedGraph> leaky = replaceStageWithPatches(b.graph, {0}, *plan);
  ASSERT_FALSE(leaky.succeeded());
}

TEST(MemoryPatchPlanner, ReplacesAResidualStage) {
  Result<PatchPlan> plan = planPatches(residualBlock(), 2);
  ASSERT_TRUE(plan.succeeded()) << plan.status().str();
  GraphBuilder b;
  TensorId image = b.input("image", 128);
  TensorId skip = b.tensor("skip", 256);
  TensorId expanded = b.tensor("expanded", 512);
  TensorId dw = b.tensor("dw", 512);
  TensorId projected = b.tensor("projected", 256);
  TensorId sum = b.tensor("sum", 256);
  TensorId head = b.tensor("head", 16);
  b.output(head);
  b.op("stem", {image}, {skip});
  b.op("expand", {skip}, {expanded});
  b.op("dw", {expanded}, {dw});
  b.op("project", {dw}, {projected});
  b.op("add", {skip, projected}, {sum});
  b.op("head", {sum}, {head});
  Result<PatchedGraph> patched =
      replaceStageWithPatches(b.graph, {0, 1, 2, 3, 4}, *plan);
  ASSERT_TRUE(patched.succeeded()) << patched.status().str();
  EXPECT_EQ(patched->graph.numOps(), 2u);
  // The skip tensor is read only inside the stage: it never exists whole.
  EXPECT_EQ(patched->tensorMap[skip], -1);
  EXPECT_GE(patched->tensorMap[sum], 0);
  ArenaPlan tiled = planOrFail(patched->graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(patched->graph, tiled);
  EXPECT_EQ(tiled.arenaBytes, plan->patchPeakBytes);
}

} // namespace
} // namespace kiln::memory::test
