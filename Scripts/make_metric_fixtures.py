#!/usr/bin/env python3
"""Writes Tests/RecurSeq2SeqTests/Fixtures/metrics.json: hypothesis/reference sets with the corpus
BLEU (tokenizers 13a and none) and chrF that sacreBLEU computes for them.

Run with the peers' virtualenv (sacrebleu):  ~/.cache/recur-peers/venv/bin/python Scripts/make_metric_fixtures.py
"""
import json
import os
import random

import sacrebleu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "RecurSeq2SeqTests", "Fixtures", "metrics.json")
WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ran", "a", "big", "house", "le", "chat", "noir", "é", "naïve",
         "3.5", "1,000", "co-op", "(yes)", "it's", "U.S.", "&", "2-3", "$5", "hello!", "why?", "<tag>", "x/y", "東京",
         "don't", "e-mail", "--", "...", "\"quoted\""]


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def perturb(rng, s):
    w = s.split()
    for _ in range(rng.randint(0, 3)):
        op = rng.random()
        if op < 0.3 and w:
            w.pop(rng.randrange(len(w)))
        elif op < 0.6:
            w.insert(rng.randrange(len(w) + 1), rng.choice(WORDS))
        elif w:
            w[rng.randrange(len(w))] = rng.choice(WORDS)
    return " ".join(w)


def main():
    rng = random.Random(7)
    cases = []
    for size in [1, 2, 5, 20, 100]:
        for _ in range(3):
            refs = [sentence(rng, rng.randint(1, 14)) for _ in range(size)]
            hyps = [perturb(rng, r) for r in refs]
            cases.append((hyps, refs))
    # Edge cases: exact match, no overlap, empty hypotheses, short sentences (smoothing), spacing.
    cases.append((["the cat sat on the mat"], ["the cat sat on the mat"]))
    cases.append((["alpha beta"], ["gamma delta epsilon"]))
    cases.append((["", "the cat"], ["the cat sat", "the cat"]))
    cases.append((["cat", "a b c"], ["cat", "a b d"]))
    cases.append((["  spaced   out  text ", "tab\tseparated"], ["spaced out text", "tab separated"]))
    fixtures = []
    for hyps, refs in cases:
        fixtures.append({
            "hypotheses": hyps, "references": refs,
            "bleu_13a": sacrebleu.corpus_bleu(hyps, [refs]).score,
            "bleu_none": sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score,
            "chrf": sacrebleu.corpus_chrf(hyps, [refs]).score,
            "tokenized_13a": [sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()(h) for h in hyps],
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"sacrebleu": sacrebleu.__version__, "cases": fixtures}, f, ensure_ascii=False, indent=1)
    print("wrote", OUT, len(fixtures), "cases")


if __name__ == "__main__":
    main()
