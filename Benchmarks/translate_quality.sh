#!/usr/bin/env bash
# Translation quality on real sentence pairs, Recur against the PyTorch reference
# (seq2seq_torch.py from the peers folder), over several seeds on both sides, same split.
#
#   bash Benchmarks/translate_quality.sh [PAIRS.tsv] [TRAIN_PAIRS] [SEEDS] [EPOCHS] [-- extra recur train flags]
#   bash Benchmarks/translate_quality.sh ../shared/corpora/eng-deu.tsv 10000 "1 2 3" 10
#
# The split: lines with a tab, shuffled with a fixed seed (2026); the test set is 2,000 pairs
# whose sides both have 1–10 tokens under the peer's tokenizer (so both sides score the same
# sentences), the training set the next TRAIN_PAIRS lines (0: all the rest). Both sides train at
# the peer's configuration (GRU 256, general attention, batch 32, Adam 1e-3, clip 1, pairs of
# ≤ 10 tokens) for EPOCHS epochs; Recur with its own defaults otherwise, plus any extra flags.
# Greedy and beam BLEU are scored as the peer scores (sacreBLEU, tok none, on its lower-cased
# tokenization of both sides); Recur's readable output is also scored cased with 13a.
# RECUR_BIN names a recur binary to use instead of building one; RECUR_BENCH_DIR a work folder
# (the peer's results in it are reused); RECUR_NO_PEER=1 runs Recur only (for comparing Recur's
# variants when the peer has not run for a seed; its columns then read "-"). Needs the peers virtualenv (RECUR_PEERS_VENV, default ~/.cache/recur-peers/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=$(cd .. && pwd)/shared
pairs=${1:-$shared/corpora/eng-deu.tsv}
ntrain=${2:-10000}
seeds=${3:-1 2 3}
epochs=${4:-10}
shift $(($# < 4 ? $# : 4))
[ "${1:-}" = "--" ] && shift
extra=("$@")
py=${RECUR_PEERS_VENV:-$HOME/.cache/recur-peers/venv}/bin/python
[ -x "$py" ] || { echo "run $shared/peers/setup.sh first" >&2; exit 2; }
work=${RECUR_BENCH_DIR:-$(mktemp -d /tmp/recur-quality.XXXXXX)}
mkdir -p "$work"
if [ -n "${RECUR_BIN:-}" ]; then
  recur=$RECUR_BIN
else
  swift build -c release --product recur > "$work/build.log" 2>&1 || { tail -5 "$work/build.log"; exit 1; }
  recur=$(swift build -c release --show-bin-path)/recur
fi

"$py" - "$pairs" "$ntrain" "$work" <<'PY'
import random, re, sys
path, ntrain, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tok = lambda s: re.findall(r"\w+|[^\w\s]", s.lower())
lines = [l for l in open(path, encoding="utf-8-sig").read().splitlines() if "\t" in l]
random.Random(2026).shuffle(lines)
test, rest = [], []
for l in lines:
    s, t = l.split("\t")[:2]
    if len(test) < 2000 and 0 < len(tok(s)) <= 10 and 0 < len(tok(t)) <= 10:
        test.append(l)
    else:
        rest.append(l)
train = rest if ntrain == 0 else rest[:ntrain]
open(f"{work}/train.tsv", "w", encoding="utf-8").write("\n".join(train) + "\n")
open(f"{work}/test.tsv", "w", encoding="utf-8").write("\n".join(test) + "\n")
open(f"{work}/test.src", "w", encoding="utf-8").write("\n".join(l.split("\t")[0] for l in test) + "\n")
print(f"split: {len(train)} training lines, {len(test)} test pairs from {path}", file=sys.stderr)
PY

score() {  # hyps file → BLEU as the peer scores it
  "$py" - "$1" "$work/test.tsv" <<'PY'
import re, sys, sacrebleu
tok = lambda s: " ".join(re.findall(r"\w+|[^\w\s]", s.lower()))
hyp = [tok(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")]
ref = [tok(l.rstrip("\n").split("\t")[1]) for l in open(sys.argv[2], encoding="utf-8")]
print(f"{sacrebleu.corpus_bleu(hyp, [ref], tokenize='none').score:.2f}")
PY
}

results=$work/results.tsv
printf "seed\tpeer_greedy\trecur_greedy\trecur_beam5\trecur_beam5_13a_cased\trecur_pairs_per_s\tpeer_pairs_per_s\n" > "$results"
for seed in $seeds; do
  # The peer's result for a seed is kept in the work folder (RECUR_BENCH_DIR): variants of
  # Recur's flags rerun only Recur.
  if [ "${RECUR_NO_PEER:-0}" = 1 ] && [ ! -s "$work/peer-$seed.json" ]; then
    peer="- -"
  else
    [ -s "$work/peer-$seed.json" ] || env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$shared/peers/seq2seq_torch.py" \
      --pairs "$work/train.tsv" --test "$work/test.tsv" --epochs "$epochs" --seed "$seed" --threads 2 > "$work/peer-$seed.json"
    peer=$("$py" -c "import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(d['bleu_greedy'], d['pairs_per_s'])" "$work/peer-$seed.json")
  fi
  rm -rf "$work/m-$seed"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$recur" translate train --pairs "$work/train.tsv" --out "$work/m-$seed" --cell gru \
    --hidden 256 --embed 256 --attention general --batch 32 --lr 1e-3 --epochs "$epochs" --max-length 10 --seed "$seed" \
    --threads 2 --quiet --json ${extra[@]+"${extra[@]}"} > "$work/recur-$seed.json"
  rps=$("$py" -c "import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])['pairs_per_s'])" "$work/recur-$seed.json")
  "$recur" translate run --model "$work/m-$seed" --beam 1 --input "$work/test.src" --quiet > "$work/greedy-$seed.txt" 2> /dev/null
  "$recur" translate run --model "$work/m-$seed" --beam 5 --input "$work/test.src" --quiet > "$work/beam-$seed.txt" 2> /dev/null
  cased=$("$recur" translate eval --model "$work/m-$seed" --pairs "$work/test.tsv" --json 2> /dev/null \
    | "$py" -c "import json,sys; print(json.loads(sys.stdin.read())['bleu_beam'])")
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$seed" "${peer% *}" "$(score "$work/greedy-$seed.txt")" "$(score "$work/beam-$seed.txt")" \
    "$cased" "$rps" "${peer#* }" >> "$results"
  tail -1 "$results"
done
"$py" - "$results" <<'PY'
import statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
head, rows = rows[0], rows[1:]
for i, name in enumerate(head[1:], 1):
    v = [float(r[i]) for r in rows if r[i] != "-"]
    if not v:
        continue
    sd = st.stdev(v) if len(v) > 1 else 0.0
    print(f"{name:24s} mean {st.mean(v):8.2f}  sd {sd:5.2f}  ({', '.join(r[i] for r in rows)})")
PY
echo "results in $results"
