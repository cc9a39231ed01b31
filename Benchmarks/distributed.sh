#!/usr/bin/env bash
# B6 side by side (issue 15): multi-process B1-L char-LM, Recur over Open MPI vs PyTorch
# DistributedDataParallel (gloo), 2 ranks x 1 thread, global batch 64, in one run; Recur's
# scaling efficiency against 1 process x 1 thread; Recur's time in gradient averaging per step;
# word2vec 2 ranks x 1 thread against 1 process x 2 threads (words/s and analogy accuracy).
# Usage (from the project root): Benchmarks/distributed.sh [STEPS] ; needs ../shared/peers/setup.sh
# and Open MPI (bash Scripts/build-distributed.sh installs it). Run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${RECUR_SHARED:-../shared}
steps=${1:-40}
py=${RECUR_PEERS_VENV:-$HOME/.cache/recur-peers/venv}/bin/python
recur=$(bash Scripts/build-distributed.sh 2> /dev/null | tail -1)
swift build -c release --product RecurBenchmarks > /dev/null 2>&1
bench=$(swift build -c release --show-bin-path)/RecurBenchmarks
text=$shared/corpora/tinyshakespeare.txt
# What a user's machine runs: no OpenBLAS overrides, on either side.
clean=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
mpirun=(mpirun -np 2 --bind-to core)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs"
model=(--hidden 512 --embed 64 --layers 2 --batch 64 --seq 100 --steps "$steps" --lr 2e-3 --clip 5 --seed 1)
peer=$("${clean[@]}" "$py" -m torch.distributed.run --standalone --nproc_per_node 2 \
  "$shared/peers/charlm_ddp_torch.py" --corpus "$text" --hidden 512 --batch 64 --seq 100 \
  --steps "$steps" --threads 1 2> /dev/null | tail -1)
two=$("${clean[@]}" "${mpirun[@]}" "$recur" charlm train --data "$text" "${model[@]}" --threads 1 \
  --eval-every 0 --quiet --json --out "$work/two" | tail -1)
one=$("${clean[@]}" "$recur" charlm train --data "$text" "${model[@]}" --threads 1 \
  --eval-every 0 --quiet --json --out "$work/one" | tail -1)
"$py" - "$peer" "$two" "$one" "$steps" <<'PY'
import json, sys
peer, two, one = (json.loads(a) for a in sys.argv[1:4])
steps = int(sys.argv[4])
timed = steps - min(10, steps // 10)
print(f"B6 charlm B1-L 2x1: recur {two['chars_per_s']:.0f} chars/s, pytorch-ddp {peer['chars_per_s']:.0f} chars/s,"
      f" ratio {two['chars_per_s'] / peer['chars_per_s']:.2f}x")
print(f"B6 scaling: 1 process x 1 thread {one['chars_per_s']:.0f} chars/s; 2 ranks x 1 thread"
      f" {two['chars_per_s']:.0f}; efficiency {two['chars_per_s'] / (2 * one['chars_per_s']):.2f}")
print(f"B6 gradient averaging: {1000 * two['comm_seconds'] / timed:.1f} ms per step of"
      f" {1000 * two['seconds'] / timed:.0f} ms ({100 * two['comm_seconds'] / two['seconds']:.1f}%)")
print(f"B6 val bpc after {steps} steps: recur 2x1 {two['val_bpc']}, recur 1x1 {one['val_bpc']},"
      f" pytorch-ddp {peer['val_bpc']} (its first 20k validation chars)")
PY
# B1 on 2 ranks (a small model: communication weighs more), and the bare gradient averaging of
# the B1 (244,162 parameters) and B1-L (3,323,074) models, every rank starting together.
b1=$("${clean[@]}" "${mpirun[@]}" "$recur" charlm train --data "$text" --hidden 128 --embed 64 \
  --layers 2 --batch 50 --seq 50 --steps 300 --lr 2e-3 --clip 5 --seed 1 --threads 1 \
  --eval-every 0 --quiet --json --out "$work/b1" | tail -1)
"$py" - "$b1" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
timed = 300 - 10
print(f"B6 B1 2x1: {r['chars_per_s']:.0f} chars/s, {1000 * r['seconds'] / timed:.1f} ms per step,"
      f" {1000 * r['comm_seconds'] / timed:.2f} ms in gradient averaging (waits for the slower rank included)")
PY
for floats in 244162 3323074; do
  "${clean[@]}" "${mpirun[@]}" "$bench" allreduce --floats $floats --iterations 30
done
w2v=(word2vec train --data "$shared/corpora/gcide8.txt" --dim 100 --window 5 --negative 5 --sample 1e-3
  --min-count 5 --epochs ${W2V_EPOCHS:-5} --lr 0.025 --seed 1 --quiet --json)
a=$("${clean[@]}" "$recur" "${w2v[@]}" --threads 2 --out "$work/w1.txt" | tail -1)
b=$("${clean[@]}" "${mpirun[@]}" "$recur" "${w2v[@]}" --threads 1 --out "$work/w2.txt" | tail -1)
qa=$("$py" "$shared/peers/eval_embeddings.py" "$work/w1.txt" --name one 2> /dev/null | tail -1)
qb=$("$py" "$shared/peers/eval_embeddings.py" "$work/w2.txt" --name two 2> /dev/null | tail -1)
"$py" - "$a" "$b" "$qa" "$qb" <<'PY'
import json, sys
a, b, qa, qb = (json.loads(x) for x in sys.argv[1:5])
print(f"B6 word2vec: 1 process x 2 threads {a['words_per_s']:.0f} words/s, 2 ranks x 1 thread"
      f" {b['words_per_s']:.0f} words/s, efficiency {b['words_per_s'] / a['words_per_s']:.2f}")
print(f"B6 word2vec quality: 1x2 {json.dumps({k: v for k, v in qa.items() if k not in ('name',)})}")
print(f"B6 word2vec quality: 2x1 {json.dumps({k: v for k, v in qb.items() if k not in ('name',)})}")
PY
