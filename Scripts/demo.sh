#!/usr/bin/env bash
# The main job (README): installs what is missing, builds `recur` in release mode, trains a small
# character language model on the bundled corpus (about a minute on 2 cores) and prints a sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/system-packages.sh
swift build -c release --product recur
recur=$(swift build -c release --show-bin-path)/recur
out=${1:-runs/demo}
# --force: a second demo replaces the first demo's run (only its own files).
"$recur" charlm train --data corpora/prose.txt --out "$out" --force --hidden 256 --layers 2 --batch 32 --seq 64 \
  --steps 900 --eval-every 300 --checkpoint-every 300 --seed 1
echo
"$recur" charlm sample --model "$out" --length 600 --temperature 0.8 --prime "The " --seed 1
