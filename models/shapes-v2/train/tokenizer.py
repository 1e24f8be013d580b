"""Word-level tokenizer shared by training and export.

The runtime reads tokenizer.json with tokenizers.js, which has no "WordLevel" model, so the
file declares a "WordPiece" model whose vocabulary holds only whole words: every known word
maps to its id and anything else becomes [UNK] (no word in the vocab starts with "##", so
WordPiece can never split an unknown word into known pieces). encode() below reproduces
exactly that behaviour in Python.
"""
import numpy as np

from dataset import split_words, vocabulary_words

MAX_LEN = 16
PAD_ID = 0
UNK_ID = 1
TOKENS = ["[PAD]", "[UNK]"] + vocabulary_words()
TOKEN_TO_ID = {w: i for i, w in enumerate(TOKENS)}


def encode_one(text):
    ids = [TOKEN_TO_ID.get(w, UNK_ID) for w in split_words(text)][:MAX_LEN]
    return ids + [PAD_ID] * (MAX_LEN - len(ids))


def encode(texts):
    """list[str] -> int64 array [B, 16] (truncated, right-padded with [PAD]=0)."""
    return np.array([encode_one(t) for t in texts], dtype=np.int64)


def tokenizer_json():
    """The Hugging Face tokenizer.json document (see module docstring)."""
    special = [
        {"id": i, "content": w, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, w in enumerate(TOKENS[:2])
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {
            "type": "WordPiece",
            "unk_token": "[UNK]",
            "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100,
            "vocab": TOKEN_TO_ID,
        },
    }
