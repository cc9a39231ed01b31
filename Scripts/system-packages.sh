#!/usr/bin/env bash
# Installs the Debian packages Recur builds against, only when one is missing:
# OpenBLAS (GEMM), utf8proc (Unicode) and pkg-config (which SwiftPM uses to find them), plus any
# packages named as arguments (Scripts/build-distributed.sh adds Open MPI: openmpi-bin).
set -euo pipefail
needed=()
for package in libopenblas-dev libutf8proc-dev pkg-config "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || needed+=("$package")
done
if [ ${#needed[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${needed[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${needed[@]}" > /dev/null
fi
