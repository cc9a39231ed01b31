#!/usr/bin/env bash
# Training across machines, not just processes (issue 15): builds two "hosts" on this machine as
# network namespaces joined by a veth pair (iproute2; the addresses exist only inside them), runs
# 2 ranks over TCP (Open MPI's tcp transport, started through an rsh agent that enters the other
# namespace), checks that they train the same model as 1 process, and removes everything again.
# Usage: bash Scripts/multihost-check.sh [BINARY]   (default: the release build's recur)
# Needs root (or CAP_NET_ADMIN) for `ip netns`; skips with a message where that does not work.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/system-packages.sh openmpi-bin iproute2
recur=${1:-$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/recur}
[ -x "$recur" ] || { echo "multihost-check: no binary at $recur (build first)" >&2; exit 1; }
tag="recur$$"
hosts=("$tag-a" "$tag-b")
addresses=(10.231.0.1 10.231.0.2)
work=$(mktemp -d)
cleanup() {
  for ns in "${hosts[@]}"; do ip netns delete "$ns" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
if ! ip netns add "${hosts[0]}" 2> /dev/null; then
  echo "multihost-check: skipped: 'ip netns add' is not permitted here (needs root / CAP_NET_ADMIN)" >&2
  exit 0
fi
ip netns add "${hosts[1]}"
ip link add "$tag-0" type veth peer name "$tag-1"
for i in 0 1; do
  ip link set "$tag-$i" netns "${hosts[$i]}"
  ip -n "${hosts[$i]}" addr add "${addresses[$i]}/24" dev "$tag-$i"
  ip -n "${hosts[$i]}" link set "$tag-$i" up
  ip -n "${hosts[$i]}" link set lo up
done

# mpirun starts the second host's daemon through this agent, as it would through ssh.
cat > "$work/agent.sh" << AGENT
#!/usr/bin/env bash
# Called by mpirun as: agent.sh [ssh options] HOST COMMAND...; runs COMMAND inside HOST's namespace.
while [[ "\$1" == -* ]]; do shift; done
host=\$1; shift
case "\$host" in
  ${addresses[0]}) ns=${hosts[0]} ;;
  ${addresses[1]}) ns=${hosts[1]} ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
echo "\$host" >> "$work/agent.log"
exec ip netns exec "\$ns" /bin/sh -c "\$*"
AGENT
chmod +x "$work/agent.sh"

head -c 200000 corpora/prose.txt > "$work/text.txt"
train=(charlm train --data "$work/text.txt" --embed 16 --hidden 48 --dropout 0 --batch 8 --seq 32
  --steps 20 --eval-every 10 --threads 1 --seed 3 --quiet --json)
one=$("$recur" "${train[@]}" --out "$work/one" | tail -1)
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
two=$(ip netns exec "${hosts[0]}" mpirun "${root[@]}" -np 2 \
  --host "${addresses[0]},${addresses[1]}" --bind-to none \
  --mca plm_rsh_agent "$work/agent.sh" --mca btl tcp,self \
  --mca btl_tcp_if_include 10.231.0.0/24 --mca oob_tcp_if_include 10.231.0.0/24 \
  "$recur" "${train[@]}" --out "$work/two" | tail -1)
grep -qx "${addresses[1]}" "$work/agent.log" \
  || { echo "multihost-check: mpirun did not start a rank on the second host" >&2; exit 1; }
python3 - "$one" "$two" <<'PY'
import json, sys
one, two = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert two["processes"] == 2, two
a, b = one["val_bpc"], two["val_bpc"]
if abs(a - b) > 1e-4 * a:
    sys.exit(f"multihost-check: 2 ranks over TCP end at val bpc {b}, 1 process at {a}")
print(f"multihost-check: 2 ranks on two hosts over TCP: val bpc {b}, 1 process {a}: equal", file=sys.stderr)
PY
