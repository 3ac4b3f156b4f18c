"""Real English text for calibration and evaluation: the prose sentences of
CPython's reference topics (pydoc_data/topics.py, shipped with every CPython;
on Debian 12 in libpython3.11-stdlib), extracted deterministically.

Plain Python only (no numpy/onnx), so check_package.py can use it from the
environment that has torch and sentence-transformers.
"""

import hashlib
import re


def extract_sentences():
    """Prose sentences of the Python reference topics, in a fixed order."""
    import pydoc_data.topics as topics

    src = topics.__file__
    with open(src, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    sentences, seen = [], set()
    for key in sorted(topics.topics):
        lines = topics.topics[key].split("\n")
        paras, cur = [], []
        for i, line in enumerate(lines):
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            heading = bool(re.fullmatch(r"[*=\-~^]{3,}", nxt.strip()))
            if not line.strip() or line.startswith(" ") or heading \
                    or re.fullmatch(r"[*=\-~^]{3,}", line.strip()):
                if cur:
                    paras.append(" ".join(cur))
                cur = []
                continue
            cur.append(line.strip())
        if cur:
            paras.append(" ".join(cur))
        for p in paras:
            p = re.sub(r"\s+", " ", p)
            for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", p):
                s = s.strip()
                words = s.split()
                letters = sum(c.isalpha() for c in s)
                if not (40 <= len(s) <= 300 and len(words) >= 6 and s.endswith(".")
                        and (s[0].isupper() or s[0] == '"')):
                    continue
                if letters < 0.6 * len(s) or s.startswith(("*", "-", ">>>", "[")):
                    continue
                if s in seen:
                    continue
                seen.add(s)
                sentences.append(s)
    return sentences, src, digest



def topic_texts():
    """The full text of every topic (prose and code), for tokenizer checks."""
    import pydoc_data.topics as topics

    return [topics.topics[k] for k in sorted(topics.topics)]
