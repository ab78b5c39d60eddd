#!/usr/bin/env bash
# The collection as a site gets it: built with ansible-galaxy, installed from its tarball into a scratch
# collections path, then site.yml's syntax check and the offline_bundle scenario's converge run against that
# copy alone (no checkout link, no ansible.cfg). Run by `make collection-test` with make's environment.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$repo/.cache/collection
rm -rf "$work" && mkdir -p "$work/collections"

ansible-galaxy collection build --force --output-path "$work" "$repo"
tarball=$(ls "$work"/miniapp-mesh-*.tar.gz)
# From here Ansible sees the scratch path alone. The checkout reaches Ansible twice otherwise: its ansible.cfg,
# and the import path (the editable install puts collections/ there for pytest), so that is not scanned and the
# collections the ansible package bundles are linked into the scratch path instead.
printf '[defaults]\ncollections_path = %s\n' "$work/collections" > "$work/ansible.cfg"
export ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$work/collections ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
ansible-galaxy collection install --offline -p "$work/collections" "$tarball"
bundled=$(python3 -c 'import ansible, pathlib; print(pathlib.Path(ansible.__file__).parents[1] / "ansible_collections")')
for namespace in "$bundled"/*/; do
  name=$(basename "$namespace")
  [[ -e $work/collections/ansible_collections/$name ]] || ln -s "$namespace" "$work/collections/ansible_collections/$name"
done

# Nothing of the checkout may leak in: what the tarball must leave out, and where Ansible finds the collection.
leaked=$(tar tzf "$tarball" | grep -E '^(lab|load|services|tools|tests|extensions|benchmarks|scripts)/' || true)
[[ -z $leaked ]] || { echo "collection tarball carries repository files: $leaked" >&2; exit 1; }
installed=$work/collections/ansible_collections/miniapp/mesh
found=$(cd "$work" && ansible-galaxy collection list miniapp.mesh --format json)
python3 -c 'import json, sys; paths = list(json.loads(sys.argv[1])); assert paths == [sys.argv[2]], paths' \
  "$found" "$work/collections/ansible_collections"

cd "$work"
ansible-playbook --syntax-check -i "$installed/inventories/production-sample/hosts.yml" miniapp.mesh.site

# molecule takes the collections path from MINIAPP_COLLECTIONS_ROOT (extensions/molecule/config.yml).
cd "$repo"
export ANSIBLE_CONFIG=$repo/ansible.cfg
unset ANSIBLE_COLLECTIONS_PATH
trap 'MINIAPP_COLLECTIONS_ROOT=$work molecule destroy -s offline_bundle_default' EXIT
MINIAPP_COLLECTIONS_ROOT=$work molecule converge -s offline_bundle_default 2>&1 | tee "$work/converge.log"
grep -q "included: $installed/roles/offline_bundle/tasks/" "$work/converge.log" \
  || { echo "the converge did not run the role of the collection installed at $installed" >&2; exit 1; }
echo "collection-test: $(basename "$tarball") installed at $installed passed its syntax check and a converge"
