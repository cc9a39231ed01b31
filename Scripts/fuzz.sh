#!/usr/bin/env bash
# Runs the mutation fuzzer over every file loader (safetensors, checkpoints, word2vec text and
# binary, pairs TSV, manifest, analogy/pair files, vocabularies, text) for SECONDS in total,
# built in debug mode with AddressSanitizer, so a memory error stops it with a report.
# Usage: bash Scripts/fuzz.sh [SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/system-packages.sh
swift build -c debug --sanitize=address --build-path .build/asan --product recur-fuzz
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 .build/asan/debug/recur-fuzz --seconds "${1:-60}"
