#!/usr/bin/env bash
# Checks the house style (.swift-format: 100 columns, no force unwraps or force tries, one-line
# doc summaries, ordered imports, …) with the swift-format that ships with the toolchain; any
# finding fails. `bash Scripts/lint.sh --fix` reformats in place first (the rules that need a
# person, such as force unwraps and doc summaries, still have to be fixed by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Package.swift Sources Tests Examples Benchmarks Fuzz)
if [[ "${1:-}" == "--fix" ]]; then
    swift format format --in-place --recursive "${paths[@]}"
fi
swift format lint --strict --recursive "${paths[@]}"
echo "lint: clean"
