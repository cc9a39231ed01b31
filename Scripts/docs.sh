#!/usr/bin/env bash
# Builds the DocC documentation of every library (catalogs in Sources/<Target>/<Target>.docc) with
# the swift-docc-plugin. Fails on any DocC warning: an unresolved symbol link, a broken article,
# a parameter missing from a `- Parameters:` list or one that does not exist. (SwiftPM's own
# "prohibited flag" warning about utf8proc's pkg-config file is not DocC's and is ignored.) The
# archives land in .build/plugins/Swift-DocC/outputs/ (open one with `docc preview`, or pass
# --transform-for-static-hosting for a web server).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(RecurBase RecurTensor RecurText RecurNN RecurCharLM RecurWord2Vec RecurSeq2Seq RecurDistributed)
args=()
for t in "${targets[@]}"; do args+=(--target "$t"); done
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! swift package generate-documentation "${args[@]}" "$@" >"$log" 2>&1; then
    tail -30 "$log"
    echo "docs: generate-documentation failed" >&2
    exit 1
fi
problems="$(grep -E '^(warning|error): ' "$log" | grep -v 'prohibited flag' || true)"
if [[ -n "$problems" ]]; then
    printf '%s\n' "$problems"
    echo "docs: DocC reported the problems above" >&2
    exit 1
fi
echo "docs: built ${#targets[@]} archives in .build/plugins/Swift-DocC/outputs/, no warnings"
