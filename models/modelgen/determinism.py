# SPDX-License-Identifier: Apache-2.0
"""Byte-for-byte reproducible output of the model generators.

Three sources of run-to-run or machine-to-machine differences are closed here:

* Floating-point results that go through BLAS (matrix products in training and
  in the BatchNorm-statistics pass) can differ in the last bits between CPU
  kernels (AVX2 vs AVX-512) and thread counts. Every number that such a
  computation writes into a model is first rounded to a coarse grid with
  `round_sig` (a few significant bits fewer than float32 keeps), so a
  last-bit difference moves a stored value only if it lands within ~1e-12 of
  a rounding boundary, which in practice never happens.
* `np.savez` stamps the current time into the zip entries; `save_npz` writes
  fixed timestamps and permissions.
* Protobuf serialization is asked for its deterministic mode.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import numpy as np
import onnx

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def round_sig(x, bits: int) -> np.ndarray:
    """Returns `x` (float64) rounded to `bits` significant binary digits.

    frexp/ldexp are exact, so the result depends only on the input value.
    """
    x = np.asarray(x, dtype=np.float64)
    mant, expo = np.frexp(x)
    scale = float(2**bits)
    return np.ldexp(np.round(mant * scale) / scale, expo)


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Writes `arrays` as a compressed .npz whose bytes depend only on them.

    The file loads with `np.load`; entries appear in the order given.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, arr in arrays.items():
            arr = np.ascontiguousarray(arr)
            if arr.dtype == object:
                raise TypeError(f"array '{name}' has dtype object")
            payload = io.BytesIO()
            np.lib.format.write_array(payload, arr, allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, payload.getvalue(), compresslevel=9)
    Path(path).write_bytes(buf.getvalue())


def save_model(model: onnx.ModelProto, path: Path) -> int:
    """Serializes `model` deterministically to `path`; returns its size."""
    data = model.SerializeToString(deterministic=True)
    Path(path).write_bytes(data)
    return len(data)


def parse_out_dir(default: Path, description: str) -> Path:
    """Parses the generators' common command line (`--out DIR`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--out",
        type=Path,
        default=default,
        help=f"output folder (default: {default})",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return args.out
