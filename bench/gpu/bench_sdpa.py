#!/usr/bin/env python3
# ===- bench_sdpa.py - PyTorch scaled_dot_product_attention timings ------=== #
# SPDX-License-Identifier: Apache-2.0
#
# Times torch.nn.functional.scaled_dot_product_attention (fp16, [B, H, S, D],
# causal and not) at the shapes of BenchAttention.cu and writes one line per
# shape, "B H S D causal seconds", to the file given as argv[1]; the C++
# benchmark reads it (KILN_SDPA_TIMES) to print Kiln / SDPA. Method: CUDA
# events around batches of launches after a warm-up, median of 7 batches,
# two input sets alternated. Prints the chosen backend once.
# ===---------------------------------------------------------------------=== #
import os
import sys

import torch
import torch.nn.functional as F


def time_sdpa(b, h, s, d, causal):
    sets = [
        [torch.rand(b, h, s, d, device="cuda", dtype=torch.float16) * 2 - 1 for _ in range(3)]
        for _ in range(2)
    ]
    per_batch = 5
    times = []
    for rep in range(10):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        for i in range(per_batch):
            q, k, v = sets[i % 2]
            F.scaled_dot_product_attention(q, k, v, is_causal=bool(causal))
        stop.record()
        torch.cuda.synchronize()
        if rep >= 3:
            times.append(start.elapsed_time(stop) * 1e-3 / per_batch)
    times.sort()
    return times[len(times) // 2]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "sdpa_times.txt"
    shapes = [(16, 16, 512), (8, 16, 1024), (4, 16, 2048), (2, 16, 4096), (1, 16, 8192)]
    if os.environ.get("KILN_BENCH_QUICK") == "1":
        shapes = [(4, 16, 2048)]
    print("torch", torch.__version__, "on", torch.cuda.get_device_name(0))
    print("flash SDPA enabled:", torch.backends.cuda.flash_sdp_enabled())
    with open(out, "w") as f:
        for b, h, s in shapes:
            for d in (64, 128):
                for causal in (0, 1):
                    t = time_sdpa(b, h, s, d, causal)
                    f.write(f"{b} {h} {s} {d} {causal} {t:.9e}\n")
                    flops = 4 * b * h * s * s * d * (0.5 if causal else 1.0)
                    print(f"sdpa B={b} H={h} S={s} D={d} causal={causal}: "
                          f"{t * 1e6:.1f} us, {flops / t * 1e-12:.0f} TFLOPS")


if __name__ == "__main__":
    main()
