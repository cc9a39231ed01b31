#!/usr/bin/env bash
# Builds the DocC documentation of every library (catalogs in Sources/<Target>/<Target>.docc) with
# the swift-docc-plugin. Fails on any DocC problem (an unresolved symbol link, a broken article,
# a documented parameter that does not exist) except parameters left out of a `- Parameters:`
# list, which it counts. The archives land in .build/plugins/Swift-DocC/outputs/ (open one with
# `docc preview`, or pass --transform-for-static-hosting for a web server).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(RecurBase RecurTensor RecurText RecurNN RecurCharLM RecurWord2Vec RecurSeq2Seq)
args=()
for t in "${targets[@]}"; do args+=(--target "$t"); done
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! swift package generate-documentation "${args[@]}" "$@" >"$log" 2>&1; then
    tail -30 "$log"
    echo "docs: generate-documentation failed" >&2
    exit 1
fi
problems="$(grep -E '^(warning|error): ' "$log" | grep -v 'prohibited flag' | grep -v 'is missing documentation$' || true)"
if [[ -n "$problems" ]]; then
    printf '%s\n' "$problems"
    echo "docs: DocC reported the problems above" >&2
    exit 1
fi
missing="$(grep -c 'is missing documentation$' "$log" || true)"
echo "docs: built ${#targets[@]} archives in .build/plugins/Swift-DocC/outputs/ ($missing parameters not yet in a '- Parameters:' list)"
