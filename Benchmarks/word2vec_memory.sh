#!/usr/bin/env bash
# word2vec memory with a 10 M-word vocabulary (issue 12): Recur, the word2vec C tool and gensim
# train on the same generated corpus with the same settings; prints peak RSS and wall time.
# Usage (from the project root): bash Benchmarks/word2vec_memory.sh [DIM]   (default 16)
# Needs ../shared/peers/setup.sh (the C tool and gensim). Takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
dim=${1:-16}
venv=${RECUR_PEERS_VENV:-$HOME/.cache/recur-peers/venv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release --product recur > /dev/null
recur=$(swift build -c release --show-bin-path)/recur
# 10,000,000 distinct words (each once) interleaved with 8 frequent ones: ~150 MB, 20 M tokens.
python3 - "$work/big.txt" <<'PY'
import sys
common = ['the', 'of', 'and', 'a', 'to', 'in', 'is', 'was']
with open(sys.argv[1], 'w') as f:
    line = []
    for i in range(10_000_000):
        line += ['w%x' % (i * 2654435761 % (1 << 40)), common[i % 8]]
        if len(line) >= 20000:
            f.write(' '.join(line) + '\n')
            line = []
    f.write(' '.join(line) + '\n')
PY
measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%M %e" -o "$work/time" "$@" > "$work/log" 2>&1 || { echo "$name failed: $(tail -1 "$work/log")"; return; }
  read -r rss wall < "$work/time"
  echo "$name: peak RSS $((rss / 1024)) MiB, wall ${wall} s"
}
measure recur "$recur" word2vec train --data "$work/big.txt" --out "$work/r.txt" --dim "$dim" --epochs 1 --min-count 1 \
  --threads 2 --quiet
measure word2vec-c "$venv/bin/word2vec" -train "$work/big.txt" -output "$work/c.txt" -size "$dim" -iter 1 -min-count 1 \
  -threads 2 -cbow 0 -negative 5 -hs 0 -binary 0
measure gensim "$venv/bin/python" -c "
import sys
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
m = Word2Vec(LineSentence(sys.argv[1], max_sentence_length=10000), sg=1, vector_size=$dim, window=5, negative=5, hs=0,
             sample=1e-3, min_count=1, epochs=1, workers=2)
m.wv.save_word2vec_format(sys.argv[2])" "$work/big.txt" "$work/g.txt"
