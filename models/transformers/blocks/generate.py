#!/usr/bin/env python3
"""Synthetic transformer blocks with the activation-outlier structure of real
LLMs and diffusion transformers, for the smoothing / SVDQuant / QoQ / NVFP4
passes: fixed seeds, fp32 weights, standard opset-17 ops.

    .venv/bin/python models/transformers/blocks/generate.py            # small preset, committed here
    .venv/bin/python models/transformers/blocks/generate.py --preset large   # bigger, into build/

decoder_block.onnx          LLaMA-style decoder block: RMSNorm (plain ops) ->
                            causal MHA with RoPE -> residual -> RMSNorm ->
                            SwiGLU MLP (SiLU = x*Sigmoid(x)) -> residual.
                            x float32 [1, 64, 256] -> y float32 [1, 64, 256]
diffusion_linear_stack.onnx DiT-style stack: per block LayerNorm with adaLN-like
                            per-channel scale/shift -> Linear -> GELU (tanh form,
                            as DiT) -> Linear -> per-channel gate -> residual.
                            x float32 [1, 256, 128] -> y float32 [1, 256, 128]

Outliers (fixed channels, as in real models): the block inputs carry a few
"massive" residual channels, the norm gains are large in a few channels, and
a few output columns of V / of the gate+up / fc1 projections are scaled so the
inputs of o_proj, down_proj and fc2 have outlier channels too. Keys have
outlier channels with the matching query channels scaled down (q.k unchanged),
the case SmoothAttention handles. Every weight is random + a low-rank part
with a decaying spectrum, so its singular values are not flat.

Also written: <model>_calib.npz and <model>_test.npz with input `x`, float32
[n, ...] (sample i is x[i:i+1]), drawn with the same outlier channels from
different seeds. The script checks each model with onnx.checker, compares
onnxruntime with a float64 numpy forward pass, prints per-channel activation
statistics of every linear layer's input and a small W4A4 study (RTN vs
smoothing vs smoothing + low-rank) showing the outliers matter.
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import onnx  # noqa: E402
from onnx import TensorProto  # noqa: E402

from common import (GraphBuilder, channel_stats, format_stats, ort_session,  # noqa: E402
                    spectrum_stats, w4a4_study)

PRESETS = {
    # committed: each .onnx under 2 MB with fp32 weights
    "small": dict(dec_hidden=256, dec_heads=8, dec_ffn=256, dec_seq=64,
                  dit_hidden=128, dit_ffn=512, dit_blocks=3, dit_tokens=256,
                  n_calib=8, n_test=8, dit_n_calib=4, dit_n_test=4),
    # the sizes of the issue text (DiT 512->2048 x4; LLaMA-ratio MLP), build/ only
    "large": dict(dec_hidden=512, dec_heads=8, dec_ffn=1408, dec_seq=64,
                  dit_hidden=512, dit_ffn=2048, dit_blocks=4, dit_tokens=256,
                  n_calib=8, n_test=8, dit_n_calib=4, dit_n_test=4),
}
MODEL_SEED = {"decoder_block": 1001, "diffusion_linear_stack": 2002}
DATA_SEED = {"calib": 11, "test": 22}
MASK_NEG = -10000.0
RMS_EPS = 1e-5
LN_EPS = 1e-6


# ---------------------------------------------------------------------------
# Weights with non-flat spectra
# ---------------------------------------------------------------------------
def structured_weight(rng, n_in, n_out, rank=32, lowrank_share=0.4, decay=1.0):
    """[n_in, n_out] weight = Gaussian bulk + rank-`rank` part with singular
    values ~ k^-decay holding `lowrank_share` of the squared Frobenius norm;
    overall element variance 1/n_in."""
    bulk = rng.standard_normal((n_in, n_out))
    # Gaussian factors are near-orthogonal at these sizes; no LAPACK/BLAS call
    # (einsum without optimize is plain C loops), so the bits do not depend on
    # the BLAS build.
    u = rng.standard_normal((n_in, rank))
    v = rng.standard_normal((n_out, rank))
    s = np.arange(1, rank + 1, dtype=np.float64) ** -decay
    low = np.einsum("ik,jk->ij", u * s, v, optimize=False)
    target = n_in * n_out  # squared norm of the unit-variance bulk, in expectation
    bulk *= np.sqrt((1 - lowrank_share) * target) / np.linalg.norm(bulk)
    low *= np.sqrt(lowrank_share * target) / np.linalg.norm(low)
    return (bulk + low) / np.sqrt(n_in)


def pick_channels(rng, n, k, exclude=()):
    pool = np.setdiff1d(np.arange(n), np.asarray(exclude, dtype=np.int64))
    return np.sort(rng.choice(pool, size=k, replace=False))


# ---------------------------------------------------------------------------
# LLaMA-style decoder block
# ---------------------------------------------------------------------------
def decoder_params(p):
    rng = np.random.default_rng(MODEL_SEED["decoder_block"])
    D, F, NH = p["dec_hidden"], p["dec_ffn"], p["dec_heads"]
    HD = D // NH
    w = {}
    # Residual-stream channels that carry "massive" values in every token.
    massive = pick_channels(rng, D, 3)
    massive_val = np.array([48.0, -36.0, 30.0])
    # RMSNorm gains: ~1, with a few large channels (distinct from the massive ones).
    gain_ch = pick_channels(rng, D, 4, exclude=massive)
    for name in ("attn_norm", "mlp_norm"):
        g = 1.0 + 0.1 * rng.standard_normal(D)
        g[gain_ch] = rng.uniform(14.0, 24.0, size=gain_ch.size)
        g[massive] = rng.uniform(1.0, 2.0, size=massive.size)
        w[name] = g
    for name in ("q", "k", "v", "o"):
        w[name] = structured_weight(rng, D, D, rank=min(32, D // 4))
    # Key outliers: in 2 heads scale one RoPE pair (i, i+HD/2) of K by 12 and the
    # same Q channels by 1/12, so q.k is unchanged but K has outlier channels.
    k_ch = []
    for h in rng.choice(NH, size=2, replace=False):
        i = int(rng.integers(0, HD // 2))
        k_ch += [h * HD + i, h * HD + i + HD // 2]
    w["k"][:, k_ch] *= 12.0
    w["q"][:, k_ch] /= 12.0
    # o_proj input outliers: a few V output channels scaled up.
    v_ch = pick_channels(rng, D, 3)
    w["v"][:, v_ch] *= 25.0
    w["o"][v_ch, :] /= 5.0
    for name in ("gate", "up"):
        w[name] = structured_weight(rng, D, F, rank=min(32, D // 4))
    w["down"] = structured_weight(rng, F, D, rank=min(32, D // 4))
    # down_proj input outliers: a few intermediate channels whose gate and up
    # columns read the massive residual channels, so SiLU(gate)*up is large and
    # of fixed sign there in every token (how real LLMs form massive activations).
    f_ch = pick_channels(rng, F, 3)
    for c in f_ch:
        w["gate"][:, c] *= 0.3
        w["up"][:, c] *= 0.3
        w["gate"][massive, c] += np.sign(massive_val) * 0.18
        w["up"][massive, c] += np.sign(massive_val) * rng.uniform(0.10, 0.16)
    w["down"][f_ch, :] /= 6.0
    meta = dict(massive=massive, massive_val=massive_val, gain_ch=gain_ch, k_ch=np.array(k_ch),
                v_ch=v_ch, f_ch=f_ch)
    return w, meta


def decoder_inputs(p, meta, n, seed):
    rng = np.random.default_rng(seed)
    D, S = p["dec_hidden"], p["dec_seq"]
    ch_scale = np.exp(0.3 * np.random.default_rng(MODEL_SEED["decoder_block"] + 1)
                      .standard_normal(D))  # fixed per-channel spread of the stream
    x = rng.standard_normal((n, S, D)) * ch_scale
    amp = 1.0 + 0.1 * rng.standard_normal((n, S, meta["massive"].size))
    x[:, :, meta["massive"]] = meta["massive_val"] * amp
    return x.astype(np.float32)


def rope_tables(S, HD, theta=10000.0):
    inv = theta ** (-np.arange(0, HD, 2, dtype=np.float64) / HD)
    ang = np.arange(S, dtype=np.float64)[:, None] * inv[None, :]
    ang = np.concatenate([ang, ang], axis=1)  # [S, HD], HF rotate_half layout
    return np.cos(ang), np.sin(ang)


def build_decoder(p, w):
    D, F, NH, S = p["dec_hidden"], p["dec_ffn"], p["dec_heads"], p["dec_seq"]
    HD = D // NH
    g = GraphBuilder("llama_decoder_block")
    x = g.input("x", TensorProto.FLOAT, [1, S, D])
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731

    def rmsnorm(t, gain, n):
        ms = g.reduce_mean(g.node("Pow", [t, g.const(2.0)], name=n + "/Pow"), [-1], 1,
                           name=n + "/ReduceMean")
        r = g.node("Sqrt", [g.add(ms, g.const(RMS_EPS), name=n + "/AddEps")], name=n + "/Sqrt")
        return g.mul(g.div(t, r, name=n + "/Div"), g.init(n + ".weight", f32(gain)),
                     hint=n + ".out", name=n + "/Mul")

    cos, sin = rope_tables(S, HD)
    cos_t = g.init("rope.cos", f32(cos)[None, None])
    sin_t = g.init("rope.sin", f32(sin)[None, None])

    def rope(t, n):  # t: [1, NH, S, HD]
        lo = g.node("Slice", [t, g.const([0], np.int64), g.const([HD // 2], np.int64),
                              g.const([3], np.int64)], name=n + "/slice_lo")
        hi = g.node("Slice", [t, g.const([HD // 2], np.int64), g.const([HD], np.int64),
                              g.const([3], np.int64)], name=n + "/slice_hi")
        rot = g.node("Concat", [g.node("Neg", [hi], name=n + "/neg"), lo], name=n + "/concat",
                     axis=3)
        return g.add(g.mul(t, cos_t, name=n + "/mul_cos"), g.mul(rot, sin_t, name=n + "/mul_sin"),
                     hint=n + ".out", name=n + "/add")

    h = rmsnorm(x, w["attn_norm"], "attn_norm")
    heads = {}
    for name in ("q", "k", "v"):
        t = g.linear(h, g.init(f"attn.{name}_proj.weight", f32(w[name])), None,
                     f"attn/{name}_proj")
        t = g.reshape(t, [1, S, NH, HD], name=f"attn/{name}_reshape")
        heads[name] = g.transpose(t, [0, 2, 1, 3], name=f"attn/{name}_transpose")
    q = rope(heads["q"], "attn/q_rope")
    k = rope(heads["k"], "attn/k_rope")
    kt = g.transpose(k, [0, 1, 3, 2], name="attn/k_t")
    s = g.div(g.matmul(q, kt, name="attn/QK"), g.const(np.sqrt(HD)), name="attn/scale")
    causal = np.triu(np.full((S, S), MASK_NEG, dtype=np.float32), k=1)[None, None]
    s = g.add(s, g.init("attn.causal_mask", causal), name="attn/mask")
    pr = g.node("Softmax", [s], name="attn/Softmax", axis=-1)
    c = g.matmul(pr, heads["v"], name="attn/PV")
    c = g.reshape(g.transpose(c, [0, 2, 1, 3], name="attn/ctx_transpose"), [1, S, D],
                  hint="attn.context", name="attn/ctx_reshape")
    a = g.linear(c, g.init("attn.o_proj.weight", f32(w["o"])), None, "attn/o_proj")
    x1 = g.add(x, a, hint="residual1", name="attn/residual")
    h2 = rmsnorm(x1, w["mlp_norm"], "mlp_norm")
    gate = g.linear(h2, g.init("mlp.gate_proj.weight", f32(w["gate"])), None, "mlp/gate_proj")
    up = g.linear(h2, g.init("mlp.up_proj.weight", f32(w["up"])), None, "mlp/up_proj")
    silu = g.mul(gate, g.node("Sigmoid", [gate], name="mlp/Sigmoid"), name="mlp/silu")
    act = g.mul(silu, up, hint="mlp.act", name="mlp/act")
    dn = g.linear(act, g.init("mlp.down_proj.weight", f32(w["down"])), None, "mlp/down_proj")
    g.node("Add", [x1, dn], outputs=["y"], name="mlp/residual")
    g.output("y", TensorProto.FLOAT, [1, S, D])
    return g.model(doc=f"Synthetic LLaMA-style decoder block with outlier channels "
                       f"(hidden {D}, {NH} heads, SwiGLU {F}, seq {S}); "
                       f"models/transformers/blocks/generate.py, seed "
                       f"{MODEL_SEED['decoder_block']}.")


def decoder_reference(p, w, x):
    D, NH, S = p["dec_hidden"], p["dec_heads"], p["dec_seq"]
    HD = D // NH
    W = {k: np.asarray(v, np.float32).astype(np.float64) for k, v in w.items()}
    cos, sin = rope_tables(S, HD)

    def rms(t, gname):
        return t / np.sqrt((t ** 2).mean(-1, keepdims=True) + RMS_EPS) * W[gname]

    def rope(t):
        rot = np.concatenate([-t[..., HD // 2:], t[..., :HD // 2]], -1)
        return t * cos + rot * sin

    out = []
    for xb in x.astype(np.float64):
        h = rms(xb, "attn_norm")
        q, k, v = ((h @ W[n]).reshape(S, NH, HD).transpose(1, 0, 2) for n in ("q", "k", "v"))
        sc = rope(q) @ rope(k).transpose(0, 2, 1) / np.sqrt(HD)
        sc = np.where(np.tril(np.ones((S, S), bool)), sc, -np.inf)
        pr = np.exp(sc - sc.max(-1, keepdims=True))
        pr /= pr.sum(-1, keepdims=True)
        x1 = xb + (pr @ v).transpose(1, 0, 2).reshape(S, D) @ W["o"]
        h2 = rms(x1, "mlp_norm")
        gt = h2 @ W["gate"]
        out.append(x1 + (gt / (1 + np.exp(-gt)) * (h2 @ W["up"])) @ W["down"])
    return np.stack(out)


# ---------------------------------------------------------------------------
# DiT-style linear stack
# ---------------------------------------------------------------------------
def dit_params(p):
    rng = np.random.default_rng(MODEL_SEED["diffusion_linear_stack"])
    D, F, B = p["dit_hidden"], p["dit_ffn"], p["dit_blocks"]
    massive = pick_channels(rng, D, 2)
    massive_val = np.array([56.0, -40.0])
    blocks = []
    for _ in range(B):
        b = {}
        # adaLN modulation folded to constants: (1 + scale) and shift per channel,
        # with a few channels strongly amplified (as timestep modulation does).
        scale_ch = pick_channels(rng, D, 3, exclude=massive)
        b["ln_gamma"] = 1.0 + 0.2 * rng.standard_normal(D)
        b["ln_gamma"][scale_ch] = rng.uniform(14.0, 30.0, size=scale_ch.size)
        b["ln_beta"] = 0.1 * rng.standard_normal(D)
        b["w1"] = structured_weight(rng, D, F, rank=min(32, D // 4))
        b["b1"] = 0.05 * rng.standard_normal(F)
        # fc2 input outliers: a few hidden units with large, mostly positive
        # pre-activations (GELU passes them through).
        f_ch = pick_channels(rng, F, 4)
        b["w1"][:, f_ch] *= 6.0
        b["b1"][f_ch] = rng.uniform(30.0, 50.0, size=f_ch.size)
        b["w2"] = structured_weight(rng, F, D, rank=min(32, D // 4))
        b["w2"][f_ch, :] /= 25.0
        b["b2"] = 0.05 * rng.standard_normal(D)
        b["gate"] = 0.4 + 0.1 * rng.standard_normal(D)  # adaLN-Zero gate on the branch
        b["meta"] = dict(scale_ch=scale_ch, f_ch=f_ch)
        blocks.append(b)
    return blocks, dict(massive=massive, massive_val=massive_val)


def dit_inputs(p, meta, n, seed):
    rng = np.random.default_rng(seed)
    D, T = p["dit_hidden"], p["dit_tokens"]
    ch_scale = np.exp(0.3 * np.random.default_rng(MODEL_SEED["diffusion_linear_stack"] + 1)
                      .standard_normal(D))
    # Smooth spatial structure (image-like tokens) plus noise.
    side = int(np.sqrt(T))
    base = rng.standard_normal((n, 4, 4, D))
    up = np.repeat(np.repeat(base, side // 4, axis=1), side // 4, axis=2).reshape(n, T, D)
    x = (0.7 * up + 0.7 * rng.standard_normal((n, T, D))) * ch_scale
    amp = rng.uniform(0.7, 1.3, size=(n, 1, 1)) * (1.0 + 0.1 * rng.standard_normal(
        (n, T, meta["massive"].size)))  # per-sample (timestep-like) amplitude
    x[:, :, meta["massive"]] = meta["massive_val"] * amp
    return x.astype(np.float32)


def gelu_tanh(g, x, n):
    # 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
    x3 = g.node("Pow", [x, g.const(3.0)], name=n + "/pow3")
    inner = g.mul(g.add(x, g.mul(x3, g.const(0.044715), name=n + "/mul_c"), name=n + "/add_x"),
                  g.const(np.sqrt(2.0 / np.pi)), name=n + "/mul_k")
    t = g.node("Tanh", [inner], name=n + "/tanh")
    return g.mul(g.mul(x, g.const(0.5), name=n + "/half"), g.add(t, g.const(1.0), name=n + "/one"),
                 hint=n + ".out", name=n + "/mul")


def build_dit(p, blocks):
    D, F, T = p["dit_hidden"], p["dit_ffn"], p["dit_tokens"]
    g = GraphBuilder("dit_linear_stack")
    x = g.input("x", TensorProto.FLOAT, [1, T, D])
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    for i, b in enumerate(blocks):
        n = f"block{i}"
        h = g.node("LayerNormalization", [x, g.init(f"{n}.norm.weight", f32(b["ln_gamma"])),
                                          g.init(f"{n}.norm.bias", f32(b["ln_beta"]))],
                   hint=n + ".norm", name=n + "/LayerNorm", axis=-1, epsilon=LN_EPS)
        f = g.linear(h, g.init(f"{n}.fc1.weight", f32(b["w1"])),
                     g.init(f"{n}.fc1.bias", f32(b["b1"])), n + "/fc1")
        f = gelu_tanh(g, f, n + "/gelu")
        o = g.linear(f, g.init(f"{n}.fc2.weight", f32(b["w2"])),
                     g.init(f"{n}.fc2.bias", f32(b["b2"])), n + "/fc2")
        o = g.mul(o, g.init(f"{n}.gate", f32(b["gate"])), name=n + "/gate")
        last = i == len(blocks) - 1
        x = g.node("Add", [x, o], outputs=["y"] if last else None, hint=n + ".out",
                   name=n + "/residual")
    g.output("y", TensorProto.FLOAT, [1, T, D])
    return g.model(doc=f"Synthetic DiT-style linear stack with outlier channels "
                       f"({len(blocks)} blocks, {D}->{F}->{D}, {T} tokens); "
                       f"models/transformers/blocks/generate.py, seed "
                       f"{MODEL_SEED['diffusion_linear_stack']}.")


def dit_reference(blocks, x):
    x = x.astype(np.float64)
    for b in blocks:
        B = {k: np.asarray(v, np.float32).astype(np.float64) for k, v in b.items() if k != "meta"}
        mu = x.mean(-1, keepdims=True)
        h = (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + LN_EPS)
        h = h * B["ln_gamma"] + B["ln_beta"]
        f = h @ B["w1"] + B["b1"]
        f = 0.5 * f * (1 + np.tanh(np.sqrt(2 / np.pi) * (f + 0.044715 * f ** 3)))
        x = x + (f @ B["w2"] + B["b2"]) * B["gate"]
    return x


# ---------------------------------------------------------------------------
# Checks: activation statistics and a small W4A4 study
# ---------------------------------------------------------------------------
def linear_layers(model):
    """(node name, activation input, weight initializer) of every MatMul with a
    constant right operand."""
    inits = {t.name: t for t in model.graph.initializer}
    return [(n.name, n.input[0], onnx.numpy_helper.to_array(inits[n.input[1]]))
            for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in inits]


def check_model(name, model, path, ref_fn, calib, test, heads=()):
    """heads: (label, node name) of [1, NH, S, HD] tensors whose per-channel
    statistics (channel = head * HD + d) are printed too (keys, queries)."""
    onnx.checker.check_model(path, full_check=True)
    layers = linear_layers(model)
    node_out = {n.name: n.output[0] for n in model.graph.node}
    outs = [a for _, a, _ in layers] + [node_out[n] for _, n in heads]
    sess = ort_session(model, extra_outputs=outs)
    acts = {a: [] for a in outs}
    ys = []
    t0 = time.time()
    for i in range(len(calib)):
        r = sess.run(["y"] + outs, {"x": calib[i:i + 1]})
        ys.append(r[0][0])
        for a, v in zip(outs, r[1:]):
            acts[a].append(v[0])
    t_run = (time.time() - t0) / len(calib)
    ys = np.stack(ys)
    ref = ref_fn(calib)
    rel = np.abs(ys - ref).max() / np.abs(ref).max()
    yt = np.stack([sess.run(["y"], {"x": test[i:i + 1]})[0][0] for i in range(len(test))])
    rel_t = np.abs(yt - ref_fn(test)).max() / np.abs(ref_fn(test)).max()
    print(f"{name}: onnx.checker ok; {len(model.graph.node)} nodes; onnxruntime vs float64 numpy "
          f"reference: max|diff|/max|y| calib {rel:.1e}, test {rel_t:.1e}; "
          f"{1e3 * t_run:.1f} ms/sample")
    print(f"  output: mean|y| {np.abs(ys).mean():.3f}, max|y| {np.abs(ys).max():.2f}; "
          f"input: mean|x| {np.abs(calib).mean():.3f}, max|x| {np.abs(calib).max():.2f}")
    print("  input channels of each linear layer on the calibration set "
          "(per-channel max|x|; ratio = largest / median):")
    print(format_stats("x (model input)", channel_stats(calib)))
    for lname, a, _ in layers:
        print(format_stats(lname + " input", channel_stats(np.stack(acts[a]))))
    for label, n in heads:
        t = np.stack(acts[node_out[n]])  # [samples, NH, S, HD]
        t = t.transpose(0, 2, 1, 3).reshape(t.shape[0], t.shape[2], -1)
        print(format_stats(label, channel_stats(t)))
    print("  weights (top-r share of squared Frobenius norm; a Gaussian matrix of the same "
          "shape for comparison):")
    rng = np.random.default_rng(0)
    for lname, _, wt in layers:
        sh, s0 = spectrum_stats(wt)
        gs, g0 = spectrum_stats(rng.standard_normal(wt.shape))
        print(f"  {lname:<34} {str(list(wt.shape)):<12} top16 {sh[16]:.2f} top32 {sh[32]:.2f} "
              f"top64 {sh[64]:.2f}  s1/median {s0:5.1f}   (gaussian: {gs[16]:.2f} {gs[32]:.2f} "
              f"{gs[64]:.2f}, {g0:.1f})")
    print("  W4A4 layer-output SQNR in dB (per-group 64 RTN; smoothing alpha 0.5; + rank-16 "
          "fp branch):")
    for lname, a, wt in layers:
        X = np.stack(acts[a]).reshape(-1, wt.shape[0])
        p, s, v = w4a4_study(X, wt)
        print(f"  {lname:<34} RTN {p:5.1f}   smooth {s:5.1f}   smooth+lowrank {v:5.1f}")
    return bool(rel < 1e-5 and rel_t < 1e-5)


def save_npz(path, **arrays):
    np.savez_compressed(path, **arrays)
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="small")
    ap.add_argument("--out-dir", help="default: this folder for 'small', build/<preset> otherwise")
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--verify", action="store_true",
                    help="regenerate the small preset into a temporary folder, require it to "
                         "be byte-identical to the committed files, and run the checks; "
                         "exit status 1 otherwise")
    args = ap.parse_args()
    p = PRESETS[args.preset]
    tmp = None
    if args.verify:
        import tempfile
        tmp = tempfile.TemporaryDirectory()
        p = PRESETS["small"]
    out = tmp.name if tmp else (args.out_dir or (HERE if args.preset == "small" else
                                                 os.path.join(HERE, "build", args.preset)))
    os.makedirs(out, exist_ok=True)

    t0 = time.time()
    w, dmeta = decoder_params(p)
    dec = build_decoder(p, w)
    blocks, tmeta = dit_params(p)
    dit = build_dit(p, blocks)
    data = {
        "decoder_block": {k: decoder_inputs(p, dmeta, p[f"n_{k}"], DATA_SEED[k] + 0)
                          for k in ("calib", "test")},
        "diffusion_linear_stack": {k: dit_inputs(p, tmeta, p[f"dit_n_{k}"], DATA_SEED[k] + 100)
                                   for k in ("calib", "test")},
    }
    for name, model in (("decoder_block", dec), ("diffusion_linear_stack", dit)):
        path = os.path.join(out, name + ".onnx")
        onnx.save(model, path)
        sizes = [save_npz(os.path.join(out, f"{name}_{k}.npz"), x=v)
                 for k, v in data[name].items()]
        n_par = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
        print(f"wrote {path}: {os.path.getsize(path) / 1e6:.2f} MB ({n_par} fp32 values); "
              f"{name}_calib.npz x {list(data[name]['calib'].shape)} {sizes[0] / 1e6:.2f} MB, "
              f"{name}_test.npz x {list(data[name]['test'].shape)} {sizes[1] / 1e6:.2f} MB")
    print(f"decoder outlier channels: massive residual {dmeta['massive'].tolist()}, norm gains "
          f"{dmeta['gain_ch'].tolist()}, keys {dmeta['k_ch'].tolist()}, V/o_proj "
          f"{dmeta['v_ch'].tolist()}, SwiGLU/down_proj {dmeta['f_ch'].tolist()}")
    print(f"diffusion outlier channels: massive residual {tmeta['massive'].tolist()}; per block "
          + "; ".join(f"norm scale {b['meta']['scale_ch'].tolist()} fc2-in {b['meta']['f_ch'].tolist()}"
                      for b in blocks))
    print(f"generation {time.time() - t0:.1f} s")
    ok = True
    if tmp:
        for f in sorted(os.listdir(out)):
            with open(os.path.join(out, f), "rb") as a, open(os.path.join(HERE, f), "rb") as b:
                same = a.read() == b.read()
            print(f"verify: {f} byte-identical to the committed file: {same}")
            ok &= same
    if args.skip_check:
        return 0 if ok else 1
    ok &= check_model("decoder_block", dec, os.path.join(out, "decoder_block.onnx"),
                      lambda x: decoder_reference(p, w, x), **data["decoder_block"],
                      heads=[("keys after RoPE (KV cache)", "attn/k_rope/add"),
                             ("queries after RoPE", "attn/q_rope/add")])
    ok &= check_model("diffusion_linear_stack", dit,
                      os.path.join(out, "diffusion_linear_stack.onnx"),
                      lambda x: dit_reference(blocks, x), **data["diffusion_linear_stack"])
    print(f"total {time.time() - t0:.1f} s; checks", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
