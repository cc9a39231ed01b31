#!/usr/bin/env python3
"""Interoperability of Recur's word2vec files with gensim (run by .ci/run with gensim installed).

1. Recur trains vectors and exports text and binary; gensim's load_word2vec_format reads both
   and gets Recur's numbers (to 1e-6), and Recur's binary file is byte-identical to what
   gensim's save_word2vec_format writes for the same vectors.
2. gensim writes text and binary files (Unicode words included); Recur reads them and
   re-exports, and the numbers match gensim's (to 1e-6).

Usage: check_gensim_interop.py PATH/TO/recur
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from gensim.models import KeyedVectors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    subprocess.run(list(args), check=True, stdout=subprocess.DEVNULL)


def parse_text(path):
    with open(path, encoding="utf-8") as f:
        count, dim = map(int, f.readline().split())
        words, rows = [], []
        for line in f:
            parts = line.rstrip("\n").split(" ")
            words.append(parts[0])
            rows.append([float(x) for x in parts[1:]])
    assert len(words) == count and all(len(r) == dim for r in rows)
    return words, np.array(rows, dtype=np.float64)


def main():
    recur = sys.argv[1]
    work = tempfile.mkdtemp(prefix="recur-gensim-")
    # 1. Recur → gensim
    text, binary = os.path.join(work, "recur.txt"), os.path.join(work, "recur.bin")
    run(recur, "word2vec", "train", "--data", os.path.join(ROOT, "corpora", "relations.txt"), "--out", text,
        "--min-count", "1", "--epochs", "1", "--dim", "32", "--quiet", "--seed", "3")
    run(recur, "word2vec", "convert", "--vectors", text, "--out", binary, "--format", "binary")
    words, reference = parse_text(text)
    for path, is_binary in [(text, False), (binary, True)]:
        kv = KeyedVectors.load_word2vec_format(path, binary=is_binary)
        assert list(kv.index_to_key) == words, "word order differs"
        diff = np.abs(kv.vectors.astype(np.float64) - reference).max()
        assert diff <= 1e-6, f"gensim reads {path} with max difference {diff}"
    resaved = os.path.join(work, "gensim-resaved.bin")
    KeyedVectors.load_word2vec_format(binary, binary=True).save_word2vec_format(resaved, binary=True)
    assert open(resaved, "rb").read() == open(binary, "rb").read(), "binary layout differs from gensim's"
    # 2. gensim → Recur
    rng = np.random.default_rng(1)
    names = ["king", "queen", "straße", "東京", "ümlaut_x", "città", "naïve", "word"]
    kv = KeyedVectors(vector_size=16)
    kv.add_vectors(names, rng.standard_normal((len(names), 16)).astype(np.float32))
    for is_binary in [False, True]:
        source = os.path.join(work, f"gensim{'.bin' if is_binary else '.txt'}")
        kv.save_word2vec_format(source, binary=is_binary)
        back = os.path.join(work, f"from-gensim-{is_binary}.txt")
        run(recur, "word2vec", "convert", "--vectors", source, "--out", back, "--format", "text")
        got_words, got = parse_text(back)
        assert got_words == names, f"Recur read words {got_words}"
        diff = np.abs(got - kv.vectors.astype(np.float64)).max()
        assert diff <= 1e-6, f"Recur reads gensim's {'binary' if is_binary else 'text'} file with max difference {diff}"
    print("gensim interop: Recur text/binary load in gensim, gensim text/binary load in Recur, max |Δ| ≤ 1e-6; binary byte-identical")


if __name__ == "__main__":
    main()
