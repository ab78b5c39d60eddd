#!/usr/bin/env bash
# Foundation figures: lab image build (time, size), `make lab` from no lab hosts and its rerun
# (ratio rerun/first), and the last `make test` duration recorded on this machine.
# Run through `make bench` (exports CONTAINERS_CONF and PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null; awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

ref=$(lab/images/build.sh node --tag-only)
make --no-print-directory lab-down >/dev/null
podman image rm -f "$ref" >/dev/null 2>&1 || true
# The first run is what an engineer sees after bootstrap: image build, bundle, lab hosts, site.yml.
first=$(seconds make --no-print-directory lab)
second=$(seconds make --no-print-directory lab)
build=$(awk -F'\t' -v ref="$ref" '$1 == ref { t = $2 } END { print t }' .cache/image-builds.tsv)
size_mib=$(( $(podman image inspect "$ref" --format '{{.Size}}') / 1048576 ))
ratio=$(awk -v a="$second" -v b="$first" 'BEGIN { printf "%.2f", a / b }')
last_test=$(awk -F'\t' '$1 == "test" { t = $2; d = $3 } END { if (t) printf "%ss (run %s)", t, d; else printf "not yet run here" }' .cache/times.tsv 2>/dev/null || echo "not yet run here")

python3 benchmarks/write_section.py foundation <<EOT
## Foundation: lab image and \`make lab\`

Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), podman $(podman --version | awk '{print $3}').
Date: $(date -u +%F). Command: \`make bench\` (benchmarks/foundation.sh).

| figure | value |
|---|---|
| \`make lab\`, first run (image build, lab bundle, lab hosts created, site.yml: preflight, etcd, the services and their mesh) | ${first}s |
| of which the node image build (debootstrap + apt in the root + podman import), $ref | ${build}s |
| node image size | ${size_mib} MiB |
| \`make lab\`, second run (changed=0) | ${second}s |
| second run / first run | ${ratio} |
| \`make test\`, last full run recorded on this machine | ${last_test} |

Ansible reaches the lab hosts over SSH carried by \`podman exec\` (inventories/lab/group_vars/lab.yml), with
multiplexing and pipelining; the second run's time is then mostly Ansible's own cost per task and host on $(nproc) cores.
EOT
echo "wrote docs/benchmarks.md (foundation)"
