# SPDX-License-Identifier: Apache-2.0
"""Realistic synthetic inputs for the tiny-ML models (no data set needed).

The point is to exercise calibration and quantization with inputs whose
statistics look like the real thing (smooth regions, edges, sensor noise,
value ranges of the real preprocessing), not i.i.d. noise: a quantizer tuned
on white noise sees ranges and correlations that real inputs never have.

All functions use only the seeded Generator, exact elementwise arithmetic and
integer indexing, and round their result to the grid real data lives on
(8-bit pixels, fixed-point features), so the bytes are the same everywhere.
"""

from __future__ import annotations

import numpy as np


def _coords(size: int, gsize: int):
    """Returns bilinear source indices and weights (align_corners=False)."""
    pos = (np.arange(size) + 0.5) * (gsize / size) - 0.5
    pos = np.clip(pos, 0.0, gsize - 1.0)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, gsize - 1)
    return i0, i1, pos - i0


def upsample2d(grid: np.ndarray, h: int, w: int) -> np.ndarray:
    """Returns the bilinear upsampling of grid [..., gh, gw] to [..., h, w]."""
    y0, y1, ty = _coords(h, grid.shape[-2])
    x0, x1, tx = _coords(w, grid.shape[-1])
    rows = grid[..., y0, :] * (1.0 - ty)[:, None] + grid[..., y1, :] * ty[:, None]
    return rows[..., x0] * (1.0 - tx) + rows[..., x1] * tx


def upsample1d(grid: np.ndarray, n: int) -> np.ndarray:
    """Returns the linear upsampling of grid [..., g] to [..., n]."""
    i0, i1, t = _coords(n, grid.shape[-1])
    return grid[..., i0] * (1.0 - t) + grid[..., i1] * t


def natural_images(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
    """Returns n RGB images [n, 3, h, w] in [0, 1] on the 1/255 grid.

    Each image is a multi-octave smooth luminance field (amplitude falling
    with frequency, as in natural images), per-channel colour casts, zero to
    three flat-coloured ellipses or rectangles with hard edges (objects),
    a random brightness and contrast, and a little sensor noise.
    """
    out = np.empty((n, 3, h, w))
    yy = (np.arange(h)[:, None] + 0.5) / h
    xx = (np.arange(w)[None, :] + 0.5) / w
    for k in range(n):
        lum = np.zeros((h, w))
        for cells, amp in ((2, 0.55), (4, 0.3), (8, 0.16), (16, 0.08), (32, 0.04)):
            lum += amp * upsample2d(rng.uniform(-1.0, 1.0, (cells + 1, cells + 1)), h, w)
        img = lum[None] + 0.25 * upsample2d(rng.uniform(-1.0, 1.0, (3, 3, 3)), h, w)
        for _ in range(int(rng.integers(0, 4))):
            cy, cx = rng.uniform(0.1, 0.9, 2)
            ry, rx = rng.uniform(0.08, 0.35, 2)
            colour = rng.uniform(-0.8, 0.8, 3)
            dy, dx = (yy - cy) / ry, (xx - cx) / rx
            if rng.uniform() < 0.5:
                mask = dy * dy + dx * dx < 1.0
            else:
                mask = (np.abs(dy) < 1.0) & (np.abs(dx) < 1.0)
            shade = colour[:, None, None] + 0.15 * dy[None] * rng.uniform(-1.0, 1.0)
            img = np.where(mask[None], shade, img)
        brightness = rng.uniform(0.35, 0.65)
        contrast = rng.uniform(0.45, 0.9)
        img = brightness + contrast * img + rng.normal(0.0, 0.012, img.shape)
        out[k] = img
    return np.round(np.clip(out, 0.0, 1.0) * 255.0) / 255.0


def mfcc_features(
    rng: np.random.Generator, n: int, frames: int = 49, coeffs: int = 10
) -> np.ndarray:
    """Returns n MFCC-like feature maps [n, 1, frames, coeffs], 1/64 grid.

    Shaped after the MLPerf Tiny keyword-spotting front end (30 ms windows,
    20 ms hop, 10 MFCCs over 1 s): coefficient 0 is log energy, very
    negative in silence and rising during one or two syllables; higher
    coefficients have smaller spread, grow during speech and are smooth in
    time. The range is that of the reference int8 model's input,
    about [-123, 26].
    """
    t = np.arange(frames, dtype=np.float64)
    k = np.arange(1, coeffs, dtype=np.float64)
    sigma = 24.0 / (1.0 + 0.6 * k)
    out = np.empty((n, 1, frames, coeffs))
    for s in range(n):
        env = np.zeros(frames)
        for _ in range(int(rng.integers(1, 3))):
            c, wdt, amp = rng.uniform(10, 39), rng.uniform(4, 11), rng.uniform(0.6, 1.0)
            env = np.maximum(env, amp * np.maximum(0.0, 1.0 - ((t - c) / wdt) ** 2))
        c0 = -108.0 + 80.0 * env + rng.normal(0.0, 3.0, frames)
        noise = rng.normal(0.0, 1.0, (frames + 2, coeffs - 1))
        smooth = (noise[:-2] + noise[1:-1] + noise[2:]) / np.sqrt(3.0)
        offset = rng.normal(0.0, 1.0, coeffs - 1) * sigma * 0.6
        rest = (offset[None] + smooth * sigma[None]) * (0.3 + env[:, None])
        out[s, 0, :, 0] = c0
        out[s, 0, :, 1:] = rest
    return np.round(np.clip(out, -123.0, 26.0) * 64.0) / 64.0


def logmel_frames(rng: np.random.Generator, n: int, frames: int = 5, mels: int = 128) -> np.ndarray:
    """Returns n machine-sound log-mel vectors [n, frames * mels], 1/64 grid.

    Shaped after the MLPerf Tiny / DCASE 2020 anomaly-detection front end
    (5 consecutive frames of 128 log-mel bins in dB, concatenated frame by
    frame): a spectral envelope falling with frequency, a stationary
    harmonic series of a rotating machine, and frame-to-frame noise.
    """
    m = np.arange(mels, dtype=np.float64)
    out = np.empty((n, frames, mels))
    for s in range(n):
        top, slope = rng.uniform(-5.0, 10.0), rng.uniform(25.0, 45.0)
        env = top - slope * m / (mels - 1) + 6.0 * upsample1d(rng.uniform(-1.0, 1.0, 9), mels)
        f0 = rng.uniform(4.0, 20.0)
        height = rng.uniform(6.0, 16.0)
        tones = np.zeros(mels)
        h = 1
        while h * f0 < mels:
            tones = np.maximum(tones, height / h * np.maximum(0.0, 1.0 - np.abs(m - h * f0) / 1.5))
            h += 1
        gain = rng.normal(0.0, 1.0, (frames, 1))
        out[s] = env[None] + tones[None] + gain + rng.normal(0.0, 1.5, (frames, mels))
    return np.round(out.reshape(n, frames * mels) * 64.0) / 64.0
