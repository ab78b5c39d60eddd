#!/usr/bin/env bash
# Foundation figures: the lab image build (time, size), `make lab` from no lab hosts, site.yml's first converge
# and its rerun with nothing to do (median of three, ratio to the first, time per role), and the last `make test`
# recorded on this machine. Run through `make bench-converge` or `make bench` (they export CONTAINERS_CONF, PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

# Runs a command with its output in the file LOG and prints how many seconds it took.
timed() { local log=$1 s; shift; s=$(date +%s.%N); "$@" > "$log"; awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
recorded() { awk -F'\t' -v what="$1" '$1 == what { t = $2 } END { print t }' .cache/times.tsv; }

ref=$(lab/images/build.sh node --tag-only)
make --no-print-directory lab-down >/dev/null
podman image rm -f "$ref" >/dev/null 2>&1 || true
# The first run is what an engineer sees after bootstrap: image build, bundle, lab hosts, site.yml, the smoke.
first_lab=$(timed /dev/null make --no-print-directory lab)
# The converge is site.yml and the lab's realization of what it rendered (lab/playbooks/mesh.yml), in both runs.
converge=(site.yml lab/playbooks/mesh.yml)
first=$(awk -v a="$(recorded "lab site.yml")" -v b="$(recorded "lab mesh")" 'BEGIN { printf "%.1f", a + b }')
hosts=$(recorded "lab hosts")
reruns=()
for _ in 1 2 3; do
  log=$(mktemp)
  reruns+=("$(timed "$log" ansible-playbook "${converge[@]}" --diff -v)")
  # A rerun that changed something, or whose recap is missing, is not the figure asked for: stop rather than report it.
  if ! grep -qE '^[a-z0-9-]+ +: ok=' "$log" || grep -E '^[a-z0-9-]+ +: ok=' "$log" | grep -vq 'changed=0 '; then
    echo "site.yml rerun changed something:" >&2; grep -E '^[a-z0-9-]+ +: ok=' "$log" >&2; exit 1
  fi
  rm -f "$log"
done
rerun=$(printf '%s\n' "${reruns[@]}" | sort -n | sed -n 2p)
# No figure, no verdict: a missing time must not read as a fast one.
[[ $rerun =~ ^[0-9.]+$ && $first =~ ^[0-9.]+$ ]] || { echo "no rerun or first-converge time (rerun '$rerun', first '$first')" >&2; exit 1; }
# Per role in site.yml (the lab's playbook has no roles; its share is the rerun less site.yml's).
roles=$(ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_roles ansible-playbook site.yml \
  | sed -n '/ROLES RECAP/,$p' | grep -E '^[a-z_.]+ -+ [0-9.]+s$' | grep -v '^total' \
  | awk '{ printf "| %s | %s |\n", $1, $NF }')
build=$(awk -F'\t' -v ref="$ref" '$1 == ref { t = $2 } END { print t }' .cache/image-builds.tsv)
size_mib=$(( $(podman image inspect "$ref" --format '{{.Size}}') / 1048576 ))
ratio=$(awk -v a="$rerun" -v b="$first" 'BEGIN { printf "%.2f", a / b }')
verdict=$(awk -v a="$rerun" -v r="$ratio" 'BEGIN { print (a <= 60 && r <= 0.25) ? "met" : "missed" }')
last_test=$(awk -F'\t' '$1 == "test" { t = $2; d = $3 } END { if (t) printf "%ss (run %s)", t, d; else printf "not yet run here" }' .cache/times.tsv 2>/dev/null || echo "not yet run here")

python3 benchmarks/write_section.py foundation <<EOT
## Foundation: lab image, \`make lab\`, and the converge's rerun

Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), podman $(podman --version | awk '{print $3}').
Date: $(date -u +%F). Command: \`make bench-converge\` (benchmarks/foundation.sh).

| figure | value |
|---|---|
| \`make lab\` from no lab hosts and no node image (image build, lab bundle, lab hosts, site.yml, the smoke) | ${first_lab}s |
| of which the node image build (debootstrap + apt in the root + podman import), $ref | ${build}s |
| of which the lab hosts (lab/playbooks/hosts.yml) | ${hosts}s |
| of which the first converge: site.yml (preflight, etcd, images, rendered services, Istio, ingress, observability) and lab/playbooks/mesh.yml (the pods, their sidecars, Prometheus) | **${first}s** |
| node image size | ${size_mib} MiB |
| the same rerun, changed=0 on every host (median of ${reruns[*]} s) | **${rerun}s** |
| rerun / first converge | **${ratio}** (target: rerun <= 60 s and <= 0.25 of the first: ${verdict}) |
| \`make test\`, last full run recorded on this machine | ${last_test} |

Time per role in one more rerun (ansible.posix.profile_roles):

| role | seconds |
|---|---|
${roles}

Ansible reaches the lab hosts over SSH carried by \`podman exec\` (inventories/lab/group_vars/lab.yml), with
multiplexing and pipelining: a task that runs a module on the hosts costs about 0.3 s, so the rerun is mostly
its count of such tasks. Each artifact of the bundle is one task (miniapp.mesh.bundle_artifact: table, signed
manifest and the host's copy checked in one call), every file a role renders is written by one controller-side
task (miniapp.mesh.rendered_files), and the etcd role judges every certificate of a member in one task.
EOT
echo "wrote docs/benchmarks.md (foundation)"
