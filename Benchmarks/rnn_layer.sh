#!/usr/bin/env bash
# Recurrent-layer benchmark side by side (issue: RecurNN): forward+backward of a 2-layer
# LSTM/GRU/RNN at the B1 and B1-L shapes, Recur vs PyTorch in the same run.
# Usage (from the project root): Benchmarks/rnn_layer.sh [lstm gru rnn] ; needs ../shared/peers/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${RECUR_PEERS_VENV:-$HOME/.cache/recur-peers/venv}/bin/python
swift build -c release --product RecurBenchmarks > /dev/null
bench=$(swift build -c release --show-bin-path)/RecurBenchmarks
cells=${*:-lstm gru rnn}
for size in b1 b1l; do
  for cell in $cells; do
    iterations=30; [ "$size" = b1l ] && iterations=8
    r=$("$bench" rnn --cell "$cell" --size "$size" --iterations $iterations)
    t=$("$py" Benchmarks/rnn_layer_torch.py --cell "$cell" --size "$size" --iterations $iterations)
    "$py" - "$r" "$t" <<'PY'
import json, sys
r, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{r['cell']:4s} {r['size']:3s}: recur {r['ms_per_iteration']:8.2f} ms  pytorch {t['ms_per_iteration']:8.2f} ms"
      f"  ratio {t['ms_per_iteration'] / r['ms_per_iteration']:.2f}x  allocations/iter {r['allocations_per_iteration']}")
PY
  done
done
