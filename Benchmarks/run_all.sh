#!/usr/bin/env bash
# Runs every side-by-side benchmark of BENCHMARKS.md in one go and prints one line per result
# (B0 GEMM and activations, recurrent layers, B1/B1-G/B1-R/B1-L char-LMs, B2 TCN, B3 word2vec,
# B4 translation, B5 cold start). Needs ../shared/peers/setup.sh. Run it on an idle machine:
# nothing else should compile or train meanwhile. Takes about 30 minutes on 2 cores.
set -uo pipefail
cd "$(dirname "$0")/.."
shared=${RECUR_SHARED:-../shared}
echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs"
swift build -c release --product recur > /dev/null 2>&1 || { echo "release build failed"; exit 1; }
recur=$(swift build -c release --show-bin-path)/recur
echo "## B0"
"$recur" bench gemm
"$recur" bench activations
echo "## recurrent layers"
bash Benchmarks/rnn_layer.sh
echo "## B1 char-LMs"
for cell in lstm gru rnn; do bash "$shared/bench/charlm.sh" "$cell" 300 | tail -1; done
bash "$shared/bench/charlm.sh" lstm 100 large | tail -1
echo "## B2 TCN"
bash "$shared/bench/tcn.sh" 200 | tail -1
echo "## B3 word2vec"
bash "$shared/bench/word2vec.sh" | tail -4
echo "## B4 translation"
bash "$shared/bench/translate.sh" corpora/translation.tsv corpora/translation-test.tsv | tail -1
echo "## B5 cold start (ms, best of 20)"
sample=$(mktemp -d)
"$recur" charlm train --data corpora/prose.txt --out "$sample" --hidden 64 --layers 1 --steps 20 --quiet > /dev/null
python3 - "$recur" "$sample" <<'PY'
import subprocess, sys, time
recur, model = sys.argv[1], sys.argv[2]
for name, args in [("recur --help", [recur, "--help"]),
                   ("charlm sample", [recur, "charlm", "sample", "--model", model, "--length", "100", "--seed", "1"])]:
    best = float("inf")
    for _ in range(20):
        t = time.perf_counter(); subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); best = min(best, time.perf_counter() - t)
    print(f"{name}: {best * 1000:.1f} ms")
PY
