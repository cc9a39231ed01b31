#!/usr/bin/env bash
# Interoperability checks that need Python (run by CI after the Swift tests): Recur's word2vec
# files against gensim, and Recur's checkpoints read with safetensors (and PyTorch when the
# environment has it). Installs gensim, safetensors and numpy into .build/interop-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/interop-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import gensim, safetensors, numpy" 2>/dev/null \
  || "$venv/bin/pip" install -q --disable-pip-version-check gensim safetensors numpy
swift build -c release --product recur > /dev/null
recur=$(swift build -c release --show-bin-path)/recur
"$venv/bin/python" Scripts/check_gensim_interop.py "$recur"
"$venv/bin/python" Scripts/check_checkpoint_interop.py "$recur"
