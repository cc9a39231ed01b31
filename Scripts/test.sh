#!/usr/bin/env bash
# The test command (README): installs what is missing, then runs the whole suite in release mode
# (numeric code is 10-100x slower in debug builds) with testability enabled.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/system-packages.sh
swift test -c release -Xswiftc -enable-testing "$@"
