#!/usr/bin/env python3
"""Writes Tests/RecurTextTests/Fixtures/bpe.json: byte-pair-encoding merges learned by
subword-nmt (Sennrich et al.'s reference implementation) from word counts, and its splits of
words with and without a vocabulary filter, for RecurText's BytePairEncoding tests.

    pip install subword-nmt && python3 Scripts/make_bpe_fixtures.py
"""
import collections, io, json, os, re
from subword_nmt.learn_bpe import learn_bpe
from subword_nmt.apply_bpe import BPE

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tok = lambda s: re.findall(r"\w+|[^\w\s]", s.lower())
counts = collections.Counter()
for line in open(os.path.join(root, "corpora", "translation.tsv"), encoding="utf-8"):
    for side in line.rstrip("\n").split("\t")[:2]:
        counts.update(tok(side))
# Compounds, accents, non-Latin scripts and words seen once.
extra = ("zusammenarbeit arbeit arbeitszeit zusammen zeit zeitung zeitungen haustür haus tür türen "
         "häuser hausaufgaben aufgaben école écoles élève élèves школа школы дом дома 学生 学校 "
         "unbelievable believable believe unbelievably lower lowest newest widest low new wider")
counts.update(extra.split() * 40)
counts.update("once-only xylophone".split())
merges_count = 1000
out = io.StringIO()
learn_bpe(io.StringIO("".join(f"{w} {c}\n" for w, c in sorted(counts.items()))), out, merges_count, min_frequency=2, is_dict=True)
codes = out.getvalue()
merges = [line.split(" ") for line in codes.splitlines() if line and not line.startswith("#version")]
words = sorted(counts) + ["zusammenarbeitszeit", "unwiderstehlich", "schulhaus", "домашний", "a", "ab", "é"]
bpe = BPE(io.StringIO(codes), separator="@@")
splits = {w: bpe.segment_tokens([w]) for w in words}
# A vocabulary that lacks some units: apply_bpe splits those back into known ones.
units = collections.Counter(u for w in counts for u in bpe.segment_tokens([w]))
vocab = sorted(u for u in units if not (u.startswith("zusammen") or u.startswith("ar") or u == "haus"))
filtered = BPE(io.StringIO(codes), separator="@@", vocab=set(vocab))
filtered_splits = {w: filtered.segment_tokens([w]) for w in words}
json.dump({"generator": "subword-nmt", "counts": dict(sorted(counts.items())), "merges_count": merges_count, "merges": merges,
           "splits": splits, "vocabulary": vocab, "filtered_splits": filtered_splits},
          open(os.path.join(root, "Tests", "RecurTextTests", "Fixtures", "bpe.json"), "w", encoding="utf-8"), ensure_ascii=False, indent=0)
print(f"{len(merges)} merges, {len(words)} words")
