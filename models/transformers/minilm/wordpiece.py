"""BERT uncased WordPiece tokenizer over a vocab.txt, in plain Python.

Implements what the tokenizer of all-MiniLM-L6-v2 does (its tokenizer.json:
BertNormalizer(clean_text, handle_chinese_chars, lowercase, strip_accents
follows lowercase), BertPreTokenizer (whitespace + punctuation split),
WordPiece(unk "[UNK]", prefix "##", max_input_chars_per_word 100) and the
template "[CLS] A [SEP]"), so the model generator needs neither torch nor the
Rust `tokenizers` package. `check_package.py` verifies it token by token
against the package's own tokenizer.
"""

import unicodedata


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch):
    cp = ord(ch)
    # All non-letter/number ASCII counts as punctuation, as in BERT.
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF
            or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPieceTokenizer:
    def __init__(self, vocab_path, max_input_chars_per_word=100):
        with open(vocab_path, encoding="utf-8") as f:
            tokens = [line.rstrip("\n") for line in f]
        self.vocab = {t: i for i, t in enumerate(tokens)}
        self.inv_vocab = tokens
        self.max_chars = max_input_chars_per_word
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]
        self.unk_id = self.vocab["[UNK]"]

    # -- normalizer + pre-tokenizer ------------------------------------
    def _normalize(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(" " + ch + " ")
            else:
                out.append(ch)
        text = "".join(out).lower()
        # strip_accents=None with lowercase=True strips accents.
        text = unicodedata.normalize("NFD", text)
        return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")

    def _pre_tokenize(self, text):
        words = []
        for tok in text.split():
            cur = []
            for ch in tok:
                if _is_punctuation(ch):
                    if cur:
                        words.append("".join(cur))
                        cur = []
                    words.append(ch)
                else:
                    cur.append(ch)
            if cur:
                words.append("".join(cur))
        return words

    # -- WordPiece -----------------------------------------------------
    def _wordpiece(self, word):
        if len(word) > self.max_chars:
            return [self.unk_id]
        ids = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end]
                if start > 0:
                    piece = "##" + piece
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            ids.append(found)
            start = end
        return ids

    def tokenize_ids(self, text):
        """Word-piece ids of `text`, without special tokens."""
        ids = []
        for w in self._pre_tokenize(self._normalize(text)):
            ids.extend(self._wordpiece(w))
        return ids

    def encode(self, text, seq_len):
        """[CLS] ids [SEP], truncated to and right-padded with [PAD] to seq_len.

        Returns (input_ids, attention_mask, n_pieces_before_truncation)."""
        pieces = self.tokenize_ids(text)
        n = len(pieces)
        pieces = pieces[: seq_len - 2]
        ids = [self.cls_id] + pieces + [self.sep_id]
        mask = [1] * len(ids)
        ids += [self.pad_id] * (seq_len - len(ids))
        mask += [0] * (seq_len - len(mask))
        return ids, mask, n
