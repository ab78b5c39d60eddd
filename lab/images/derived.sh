#!/usr/bin/env bash
# Build a lab image FROM the node image with its Containerfile (lab/images/NAME); tagged by a hash of its
# recipe and base, so an unchanged one is never rebuilt. Usage: lab/images/derived.sh NAME [--tag-only]
set -euo pipefail
name=${1:?usage: derived.sh NAME [--tag-only]}
here=$(cd "$(dirname "$0")" && pwd)
recipe="$here/$name"
[ -f "$recipe/Containerfile" ] || { echo "derived.sh: no Containerfile at $recipe" >&2; exit 2; }
base=$("$here/build.sh" node --tag-only)
tag=$( { echo "$base"; cat "$here/derived.sh" "$recipe"/*; } | sha256sum | cut -c1-12)
ref="localhost/miniapp-$name:$tag"
if [ "${2:-}" = "--tag-only" ]; then echo "$ref"; exit 0; fi
if podman image exists "$ref"; then echo "image $ref is up to date"; exit 0; fi
"$here/build.sh" node >/dev/null
podman build --quiet --build-arg "BASE=$base" -t "$ref" -f "$recipe/Containerfile" "$recipe" >/dev/null
echo "built $ref"
