# SPDX-License-Identifier: Apache-2.0
"""Shared by the end-to-end scripts: running commands, and comparing what a
generated harness printed ("<output>: v0 v1 ..." per sample) with the
reference evaluator's raw int8 outputs, bit for bit."""
import subprocess
import sys

import numpy as np


def run(cmd, env=None, cwd=None, timeout=900, ok_codes=(0,)):
    """Runs |cmd|; on an unexpected exit status prints its output and exits
    1. Returns (returncode, stdout)."""
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode not in ok_codes:
        sys.stderr.write(f"FAILED ({result.returncode}): {' '.join(cmd)}\n")
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        sys.exit(1)
    return result.returncode, result.stdout


def parse_harness(stdout):
    """Returns {output name: [np.int64 array per sample]}."""
    got = {}
    for line in stdout.splitlines():
        if ":" not in line:
            continue
        name, values = line.split(":", 1)
        try:
            row = np.array([int(v) for v in values.split()], np.int64)
        except ValueError:
            continue
        got.setdefault(name.strip(), []).append(row)
    return got


def compare(expected, got):
    """|expected|: {name: array [samples, ...]}. Prints one line per output;
    returns True when every output is bit-identical."""
    ok = True
    for name, values in expected.items():
        rows = got.get(name)
        if rows is None:
            print(f"MISMATCH: the program printed no output '{name}'")
            ok = False
            continue
        have = np.stack(rows)
        want = np.asarray(values, np.int64).reshape(len(rows), -1)
        if have.shape != want.shape or not np.array_equal(have, want):
            diff = np.argwhere(have != want) if have.shape == want.shape else []
            print(f"MISMATCH in '{name}': program {have.shape} vs evaluator "
                  f"{want.shape}; first differences at {diff[:5].tolist()}")
            ok = False
        else:
            print(f"{name}: {have.size} int8 values bit-identical to the "
                  f"evaluator over {have.shape[0]} sample(s)")
    return ok


def format_expected(expected):
    """Returns |expected| in the harness's own line format."""
    lines = []
    samples = len(next(iter(expected.values()))) if expected else 0
    for s in range(samples):
        for name, values in expected.items():
            flat = np.asarray(values[s]).reshape(-1)
            lines.append(f"{name}: " + " ".join(str(int(v)) for v in flat))
    return "\n".join(lines) + "\n"
