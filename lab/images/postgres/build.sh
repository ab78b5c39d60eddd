#!/usr/bin/env bash
# Build the lab's PostgreSQL image FROM the node image; tagged by a hash of its recipe and base.
# Usage: lab/images/postgres/build.sh [--tag-only]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=$("$here/../build.sh" node --tag-only)
tag=$( { echo "$base"; cat "$here"/*; } | sha256sum | cut -c1-12)
ref="localhost/miniapp-postgres:$tag"
if [ "${1:-}" = "--tag-only" ]; then echo "$ref"; exit 0; fi
if podman image exists "$ref"; then echo "image $ref is up to date"; exit 0; fi
"$here/../build.sh" node >/dev/null
podman build --quiet --build-arg "BASE=$base" -t "$ref" -f "$here/Containerfile" "$here" >/dev/null
echo "built $ref"
