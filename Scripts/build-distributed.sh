#!/usr/bin/env bash
# Builds the recur that trains over several processes and machines with Open MPI
# (`mpirun -np 4 recur charlm train ...`): installs Open MPI's launcher and library (openmpi-bin)
# and the build's own packages when missing, builds recur in release mode and prints the binary's
# path as its last line.
#
# Recur loads libmpi at run time (see README, "Training on several processes"), so this is the
# same binary as a plain release build; what this script adds is Open MPI on the machine. Run it
# on every host of a job (or build once and copy the binary where the hosts have Open MPI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/system-packages.sh openmpi-bin
swift build -c release --product recur >&2
echo "$(swift build -c release --show-bin-path)/recur"
