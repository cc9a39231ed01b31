#!/usr/bin/env bash
# Multi-process checks under `mpirun -np 2` (issue 15), run by .ci/run after Scripts/test.sh
# (which builds .build/release in release mode with testability). Installs Open MPI when missing.
#  1. The RecurDistributedTests suite on 2 ranks: gradients of 2 ranks x B/2 = 1 process x B
#     (LSTM, GRU, RNN, TCN, seq2seq with unequal token shares), replicas identical, 20 steps =
#     1 process's validation bpc, resume 10 + 10 = 20 and a 2-rank checkpoint in 1 process.
#  2. The CLI: char-LM, translation and word2vec on 2 ranks against 1 process; one metrics file
#     with each step once; --batch not divisible by the ranks is one line; Ctrl-C to mpirun
#     leaves one good checkpoint that resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/system-packages.sh openmpi-bin
bin=$(swift build -c release -Xswiftc -enable-testing --show-bin-path)
recur="$bin/recur"
launcher=(mpirun --oversubscribe --bind-to none)
[ "$(id -u)" -eq 0 ] && launcher+=(--allow-run-as-root)
mpirun=("${launcher[@]}" -np 2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "mpi-check: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
close() { python3 -c "import sys; a,b,r=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<=r*max(abs(b),1e-12) else 1)" "$@"; }

echo "mpi-check: RecurDistributedTests on 2 ranks" >&2
"${mpirun[@]}" "$bin/RecurPackageTests.xctest" --testing-library swift-testing \
  --filter RecurDistributedTests > "$work/tests.log" 2>&1 || { cat "$work/tests.log"; fail "the 2-rank tests failed"; }
grep -q "Test run with 7 tests in 1 suite passed" "$work/tests.log" || { cat "$work/tests.log"; fail "the 2-rank tests did not run"; }

head -c 200000 corpora/prose.txt > "$work/text.txt"
charlm=(charlm train --data "$work/text.txt" --embed 16 --hidden 48 --dropout 0 --batch 8 --seq 32 --steps 20
  --eval-every 10 --threads 1 --seed 3 --quiet --json)
for cell in lstm gru rnn tcn; do
  one=$("$recur" "${charlm[@]}" --cell "$cell" --out "$work/one-$cell" | json val_bpc)
  two=$("${mpirun[@]}" "$recur" "${charlm[@]}" --cell "$cell" --out "$work/two-$cell" | json val_bpc)
  close "$two" "$one" 1e-4 || fail "charlm $cell: 2 ranks val bpc $two, 1 process $one"
  echo "mpi-check: charlm $cell: 1 process $one, 2 ranks $two" >&2
done
python3 - "$work/two-lstm/metrics.jsonl" <<'PY' || fail "the 2-rank metrics log repeats or misses steps"
import json, sys
steps = [json.loads(l)["step"] for l in open(sys.argv[1]) if '"loss"' in l]
sys.exit(0 if steps == sorted(set(steps)) and steps[-1] == 20 else 1)
PY

head -n 1500 corpora/translation.tsv > "$work/pairs.tsv"
translate=(translate train --pairs "$work/pairs.tsv" --hidden 32 --embed 32 --dropout 0 --batch 16
  --epochs 1 --threads 1 --seed 2 --quiet --json)
"$recur" "${translate[@]}" --out "$work/t1" > /dev/null
"${mpirun[@]}" "$recur" "${translate[@]}" --out "$work/t2" > /dev/null
one=$(grep val_loss "$work/t1/metrics.jsonl" | json val_loss)
two=$(grep val_loss "$work/t2/metrics.jsonl" | json val_loss)
close "$two" "$one" 1e-4 || fail "translate: 2 ranks validation loss $two, 1 process $one"
echo "mpi-check: translate: 1 process $one, 2 ranks $two" >&2

w2v=(word2vec train --data corpora/relations.txt --min-count 1 --seed 1 --quiet)
"$recur" "${w2v[@]}" --threads 2 --out "$work/w1.txt"
"${mpirun[@]}" "$recur" "${w2v[@]}" --threads 1 --out "$work/w2.txt"
accuracy() { "$recur" word2vec eval --vectors "$1" --analogies corpora/relations-analogies.txt --json | json accuracy; }
one=$(accuracy "$work/w1.txt")
two=$(accuracy "$work/w2.txt")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) - 1 else 1)" "$two" "$one" \
  || fail "word2vec: 2 ranks analogy accuracy $two, 1 process $one"
echo "mpi-check: word2vec analogies: 1 process × 2 threads $one, 2 ranks × 1 thread $two" >&2

# one_error NAME PATTERN COMMAND...: COMMAND fails with exactly one error line, matching PATTERN,
# and writes nothing to $work/NAME.
one_error() {
  local name=$1 pattern=$2 status
  shift 2
  set +e
  "$@" > /dev/null 2> "$work/$name.err"
  status=$?
  set -e
  [ "$status" -ne 0 ] && grep -q "$pattern" "$work/$name.err" \
    && [ "$(grep -c Error "$work/$name.err")" -eq 1 ] && [ ! -e "$work/$name" ] \
    || { cat "$work/$name.err"; fail "$name: not one clear error line"; }
}
# The global batch must split evenly.
one_error odd "does not split evenly over 2 processes" \
  "${mpirun[@]}" "$recur" "${charlm[@]}" --batch 7 --out "$work/odd"
# Ranks that read different data refuse with one line (rank 0's), before anything is trained.
head -c 150000 corpora/prose.txt > "$work/other.txt"
one_error mixed "read different data or settings" \
  "${launcher[@]}" -np 1 "$recur" "${charlm[@]}" --out "$work/mixed" : \
  -np 1 "$recur" "${charlm[@]}" --data "$work/other.txt" --out "$work/mixed"
# A file missing on one rank's host: that rank says so (marked with its rank), once.
one_error missing "^Error (rank 1): .*not-here.txt" \
  "${launcher[@]}" -np 1 "$recur" "${charlm[@]}" --out "$work/missing" : \
  -np 1 "$recur" "${charlm[@]}" --data "$work/not-here.txt" --out "$work/missing"
# A bad option on every rank: rank 0 reports it, once.
one_error conflict "^Error: --resume continues the saved run" \
  "${mpirun[@]}" "$recur" "${charlm[@]}" --resume "$work/two-lstm" --out "$work/two-lstm" --batch 4

# One process under mpirun is the plain single-process run (word2vec, 1 thread: bit for bit).
"${launcher[@]}" -np 1 "$recur" "${w2v[@]}" --threads 1 --out "$work/w-mpi.txt"
"$recur" "${w2v[@]}" --threads 1 --out "$work/w-plain.txt"
cmp -s "$work/w-mpi.txt" "$work/w-plain.txt" || fail "word2vec under mpirun -np 1 differs from the plain run"

# A rank that dies: mpirun ends the job, and the last checkpoint is intact.
"${mpirun[@]}" "$recur" charlm train --data "$work/text.txt" --embed 16 --hidden 48 --batch 8 \
  --seq 32 --steps 1000000 --checkpoint-every 50 --threads 1 --out "$work/dies" > /dev/null 2>&1 &
job=$!
for _ in $(seq 1 100); do
  [ -e "$work/dies/checkpoint.json" ] && break
  sleep 0.2
done
sleep 0.5
victim=$(pgrep -P "$job" -f "recur charlm" | tail -1)
kill -KILL "$victim"
wait "$job" && fail "mpirun succeeded although a rank was killed"
"$recur" charlm eval --model "$work/dies" --data "$work/text.txt" > /dev/null \
  || fail "the checkpoint left by the killed job does not load"
echo "mpi-check: a killed rank ended the job; its last checkpoint loads" >&2

# Ctrl-C to mpirun: every rank stops after the same step and rank 0 saves one checkpoint.
"${mpirun[@]}" "$recur" charlm train --data "$work/text.txt" --embed 16 --hidden 48 --batch 8 \
  --seq 32 --steps 1000000 --threads 1 --out "$work/stop" > /dev/null 2> "$work/stop.err" &
job=$!
for _ in $(seq 1 100); do
  grep -q "^step " "$work/stop.err" 2> /dev/null && break
  sleep 0.2
done
sleep 1
kill -INT "$job"
wait "$job" || true
grep -q "interrupted at step" "$work/stop.err" || { cat "$work/stop.err"; fail "Ctrl-C did not stop the 2-rank run cleanly"; }
step=$(python3 -c "import json; print(json.load(open('$work/stop/checkpoint.json'))['step'])")
"${mpirun[@]}" "$recur" charlm train --data "$work/text.txt" --resume "$work/stop" --out "$work/stop" \
  --steps $((step + 5)) --threads 1 --quiet --json > "$work/resumed.json"
[ "$(json steps < "$work/resumed.json")" -eq $((step + 5)) ] || fail "the interrupted run did not resume"
echo "mpi-check: Ctrl-C at step $step left a checkpoint that resumed on 2 ranks" >&2
echo "mpi-check: passed" >&2
