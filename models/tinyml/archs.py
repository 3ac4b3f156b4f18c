# SPDX-License-Identifier: Apache-2.0
"""The standard tiny-ML architectures, written against modelgen.NetBuilder.

Each function takes a builder whose input is already set and returns the
output tensor. Layer names follow the architecture (stem, block3/expand, ...).
Where the reference definition is Keras (MLPerf Tiny), its conventions are
kept: convs with biases, TensorFlow SAME padding (the odd padding row/column
at the bottom/right); where it is PyTorch (torchvision MobileNetV2, MCUNet),
convs without biases and symmetric k//2 padding.
"""

from __future__ import annotations

from modelgen.determinism import round_sig
from modelgen.netbuilder import STAT_BITS, NetBuilder, T

# Spread of every class logit over the inputs (see NetBuilder.gemm).
LOGIT_STD = 2.0
# Mean of beta for a BatchNorm that feeds a ReLU/ReLU6: about 70 % of the
# units are active, as in trained networks. With beta centred on 0 a deep
# random BN network is chaotic: it amplifies input differences (and
# quantization noise) 20-100x from input to output; trained networks do not.
ACT_BETA_MEAN = 0.5
# Gamma scale of the BatchNorm that ends a residual branch added to an
# identity shortcut: trained residual networks keep these small, so each
# block perturbs the residual stream instead of replacing it.
RESIDUAL_GAMMA = 0.3


def bn_act(b: NetBuilder, h: T, act: str) -> T:
    """Returns BatchNorm + activation ("relu" or "relu6") of h."""
    h = b.bn(h, beta_mean=ACT_BETA_MEAN)
    return b.relu(h) if act == "relu" else b.relu6(h)


def make_divisible(v: float, divisor: int = 8) -> int:
    """Returns v rounded to a multiple of divisor, never 10 % below v.

    The channel rounding of torchvision's and Keras' MobileNetV2.
    """
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def inverted_residual(
    b: NetBuilder, x: T, cout: int, stride: int, expand: int, kernel: int = 3
) -> T:
    """MobileNetV2 block: 1x1 expand + ReLU6, kxk depthwise + ReLU6, 1x1
    linear projection, residual Add when shape allows."""
    cin = x.channels
    residual = stride == 1 and cin == cout
    h = x
    if expand != 1:
        with b.scope("expand"):
            h = bn_act(b, b.conv(h, int(round(cin * expand)), 1), "relu6")
    with b.scope("dw"):
        h = bn_act(b, b.dwconv(h, kernel, stride), "relu6")
    with b.scope("project"):
        h = b.bn(b.conv(h, cout, 1), gamma_mean=RESIDUAL_GAMMA if residual else 1.0)
    if residual:
        h = b.add(x, h)
    return h


def mobilenet_v2(b: NetBuilder, width: float = 0.35, classes: int = 2) -> T:
    """torchvision MobileNetV2 (stem 32, last conv 1280, both scaled/rounded)."""
    settings = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]
    with b.scope("stem"):
        h = bn_act(b, b.conv(b.input, make_divisible(32 * width), 3, 2), "relu6")
    i = 0
    for t, c, n, s in settings:
        for j in range(n):
            with b.scope(f"block{i}"):
                h = inverted_residual(b, h, make_divisible(c * width), s if j == 0 else 1, t)
            i += 1
    with b.scope("head"):
        h = bn_act(b, b.conv(h, make_divisible(1280 * max(1.0, width)), 1), "relu6")
        h = b.flatten(b.gap(h))
        return b.gemm(h, classes, center=True, logit_std=LOGIT_STD)


def mobilenet_v1(b: NetBuilder, width: float = 0.25, classes: int = 2) -> T:
    """Keras MobileNet (v1): no conv biases, ReLU6, SAME padding; head as in
    the MLPerf Tiny visual-wake-words reference (AveragePool over the final
    map, Dense, Softmax)."""
    plan = (
        [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
        + [(512, 1)] * 5
        + [(1024, 2), (1024, 1)]
    )
    with b.scope("stem"):
        h = bn_act(b, b.conv(b.input, int(32 * width), 3, 2, pads="same"), "relu6")
    for i, (c, s) in enumerate(plan):
        with b.scope(f"block{i}"):
            with b.scope("dw"):
                h = bn_act(b, b.dwconv(h, 3, s, pads="same"), "relu6")
            with b.scope("pw"):
                h = bn_act(b, b.conv(h, int(c * width), 1), "relu6")
    with b.scope("head"):
        h = b.flatten(b.avgpool(h, h.value.shape[2:]))
        return b.softmax(b.gemm(h, classes, center=True, logit_std=LOGIT_STD))


def ds_cnn(b: NetBuilder, filters: int = 64, classes: int = 12, blocks: int = 4) -> T:
    """MLPerf Tiny keyword-spotting DS-CNN (Keras): conv 10x4 stride 2 SAME,
    four depthwise-separable blocks, AveragePool (24, 5) over the 25x5 map
    (the reference's int(49/2) x int(10/2)), Dense, Softmax. Every conv has
    a bias, as in Keras."""
    with b.scope("stem"):
        h = bn_act(b, b.conv(b.input, filters, (10, 4), 2, pads="same", bias=True), "relu")
    for i in range(blocks):
        with b.scope(f"block{i}"):
            with b.scope("dw"):
                h = bn_act(b, b.dwconv(h, 3, 1, pads="same", bias=True), "relu")
            with b.scope("pw"):
                h = bn_act(b, b.conv(h, filters, 1, bias=True), "relu")
    with b.scope("head"):
        h = b.flatten(b.avgpool(h, (49 // 2, 10 // 2)))
        return b.softmax(b.gemm(h, classes, center=True, logit_std=LOGIT_STD))


def resnet8(b: NetBuilder, classes: int = 10) -> T:
    """MLPerf Tiny image-classification ResNet-8 (Keras, 'resnet_v1_eembc'):
    16/32/64 channels, two-conv residual stacks, a 1x1 stride-2 conv (no BN)
    on the shortcut when the shape changes, AveragePool 8, Dense, Softmax."""
    with b.scope("stem"):
        x = bn_act(b, b.conv(b.input, 16, 3, 1, pads="same", bias=True), "relu")
    for i, (c, s) in enumerate(((16, 1), (32, 2), (64, 2))):
        with b.scope(f"stack{i}"):
            with b.scope("conv1"):
                y = bn_act(b, b.conv(x, c, 3, s, pads="same", bias=True), "relu")
            with b.scope("conv2"):
                y = b.bn(
                    b.conv(y, c, 3, 1, pads="same", bias=True),
                    gamma_mean=RESIDUAL_GAMMA if s == 1 else 1.0,
                )
            if s != 1:
                with b.scope("shortcut"):
                    x = b.conv(x, c, 1, s, pads="same", bias=True)
            x = b.relu(b.add(x, y))
    with b.scope("head"):
        h = b.flatten(b.avgpool(x, 8))
        return b.softmax(b.gemm(h, classes, center=True, logit_std=LOGIT_STD))


# (kernel, expansion, out channels, stride) of the MCUNet-style stack. The
# mix of 3/5/7 kernels and 3/4/6 expansions is the kind TinyNAS picks for a
# 128x128 input; the first stages run at 64x64 and 32x32, where the
# activations are largest.
MCUNET_BLOCKS = [
    (7, 3, 16, 2),
    (3, 4, 16, 1),
    (5, 6, 24, 2),
    (5, 3, 24, 1),
    (3, 4, 24, 1),
    (7, 6, 40, 2),
    (3, 3, 40, 1),
    (5, 4, 40, 1),
    (5, 6, 48, 1),
    (3, 4, 48, 1),
    (7, 6, 64, 2),
    (5, 3, 64, 1),
    (3, 4, 64, 1),
    (3, 6, 96, 1),
]


def mcunet(b: NetBuilder, classes: int = 10) -> T:
    """MCUNet-style network: stem conv 3x3 stride 2 (16), a t=1 block (8),
    then MCUNET_BLOCKS of inverted residuals, GlobalAveragePool, Gemm."""
    with b.scope("stem"):
        h = bn_act(b, b.conv(b.input, 16, 3, 2), "relu6")
    with b.scope("block0"):
        h = inverted_residual(b, h, 8, 1, 1)
    for i, (k, t, c, s) in enumerate(MCUNET_BLOCKS, 1):
        with b.scope(f"block{i}"):
            h = inverted_residual(b, h, c, s, t, kernel=k)
    with b.scope("head"):
        h = b.flatten(b.gap(h))
        return b.gemm(h, classes, center=True, logit_std=LOGIT_STD)


def fc_autoencoder(b: NetBuilder, hidden: int = 128, bottleneck: int = 8, depth: int = 4) -> T:
    """MLPerf Tiny anomaly-detection autoencoder (Keras): Dense+BN+ReLU x4
    (128), Dense+BN+ReLU (8), Dense+BN+ReLU x4 (128), Dense (640).

    The output layer's bias is the mean input vector, which is where a
    trained autoencoder's reconstruction starts from; its output then lives
    in the input's dB range."""
    h = b.input
    widths = [hidden] * depth + [bottleneck] + [hidden] * depth
    for i, w in enumerate(widths):
        with b.scope(f"dense{i}"):
            h = bn_act(b, b.gemm(h, w), "relu")
    with b.scope(f"dense{len(widths)}"):
        mean = b.input.value.mean(axis=0)
        return b.gemm(h, b.input.value.shape[1], bias_value=round_sig(mean, STAT_BITS))
