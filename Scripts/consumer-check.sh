#!/usr/bin/env bash
# Proves that Recur works as a versioned dependency, the way a user adds it: clones this
# repository's HEAD into a temporary directory, tags the clone, writes a throwaway package that
# names it by URL and version (`.package(url: …, from: "0.1.0")`) with the three programs of
# Examples/ copied unchanged, builds it in release mode and runs each of them on the bundled
# corpora. Commit first: uncommitted changes are not in the clone.
#
#   bash Scripts/consumer-check.sh            (the default build: baseline CPU, no unsafe flags)
#   RECUR_TARGET_CPU=haswell bash Scripts/consumer-check.sh   (also -Xswiftc -target-cpu haswell)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/recur-consumer.XXXXXX)"
trap 'rm -rf "$work"' EXIT

git clone -q "$root" "$work/recur"
git -C "$work/recur" tag 0.1.0 2>/dev/null || true
# A tag that already exists in the clone (a real release) must still be at or above 0.1.0.
git -C "$work/recur" tag --points-at HEAD | grep -q . || { echo "consumer-check: could not tag the clone" >&2; exit 1; }

package="$work/consumer"
for example in CharLM ToyTranslation WordEmbeddings; do
    mkdir -p "$package/Sources/$example"
    cp "$root/Examples/$example/main.swift" "$package/Sources/$example/main.swift"
done
cat > "$package/Package.swift" <<EOF
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "RecurConsumer",
    dependencies: [.package(url: "file://$work/recur", from: "0.1.0")],
    targets: [
        .executableTarget(name: "CharLM", dependencies: [.product(name: "RecurCharLM", package: "recur")]),
        .executableTarget(name: "ToyTranslation", dependencies: [.product(name: "RecurSeq2Seq", package: "recur")]),
        .executableTarget(name: "WordEmbeddings", dependencies: [.product(name: "RecurWord2Vec", package: "recur")]),
    ]
)
EOF

flags=()
if [[ -n "${RECUR_TARGET_CPU:-}" && "${RECUR_TARGET_CPU}" != generic ]]; then
    flags=(-Xswiftc -target-cpu -Xswiftc "$RECUR_TARGET_CPU")
fi
echo "consumer-check: building a package that depends on Recur 0.1.0 by URL (release${flags:+, ${flags[*]}})"
(cd "$package" && swift build -c release "${flags[@]}" 2>&1 | tail -3)
bin="$package/.build/release"

expect() {  # expect NAME PATTERN COMMAND...: runs the command, fails unless it exits 0 and prints PATTERN
    local name="$1" pattern="$2"
    shift 2
    local output
    if ! output="$(cd "$work" && "$@" 2>&1)"; then
        printf '%s\n' "$output" | tail -5
        echo "consumer-check: $name failed" >&2
        exit 1
    fi
    if ! grep -q -- "$pattern" <<<"$output"; then
        printf '%s\n' "$output" | tail -5
        echo "consumer-check: $name did not print '$pattern'" >&2
        exit 1
    fi
    echo "consumer-check: $name ok ($(grep -m1 -- "$pattern" <<<"$output"))"
}
corpora="$root/corpora"
expect CharLM "validation bpc" "$bin/CharLM" "$corpora/prose.txt" 100
expect ToyTranslation "chrF2 = " "$bin/ToyTranslation" "$corpora/translation.tsv" 1 "$work/toy-translation"
expect WordEmbeddings "vectors written to" "$bin/WordEmbeddings" "$corpora/relations.txt" "$work/vectors.txt"
echo "consumer-check: Recur builds and runs as a versioned dependency"
