#!/usr/bin/env bash
# The main job (README): installs what is missing, builds `recur` in release mode and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/system-packages.sh
swift build -c release --product recur
recur=$(swift build -c release --show-bin-path)/recur
"$recur" bench gemm --quick
