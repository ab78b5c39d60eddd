#!/usr/bin/env bash
# Build a lab image from its recipe with debootstrap + podman import (no registry can be reached).
# The tag is a hash of the recipe, so an unchanged recipe is never rebuilt.
# Usage: lab/images/build.sh NAME [--tag-only]
set -euo pipefail
name=${1:?usage: build.sh NAME [--tag-only]}
here=$(cd "$(dirname "$0")" && pwd)
recipe="$here/$name"
[ -d "$recipe" ] || { echo "build.sh: no recipe at $recipe" >&2; exit 2; }

tag=$(cat "$here/build.sh" "$recipe"/* | sha256sum | cut -c1-12)
ref="localhost/miniapp-$name:$tag"
if [ "${2:-}" = "--tag-only" ]; then echo "$ref"; exit 0; fi

if podman image exists "$ref"; then
  echo "image $ref is up to date"
  exit 0
fi

# shellcheck source=/dev/null
. "$recipe/image.env"
packages=$(grep -v '^#' "$recipe/packages.txt" | paste -sd, -)
rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/miniapp-$name.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT

start=$(date +%s)
echo "building $ref (debootstrap $SUITE, packages: $packages)"
debootstrap --variant=minbase --include="$packages" "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 \
  || { tail -20 "$rootfs.log" >&2; echo "build.sh: debootstrap failed, full log in $rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
# Containers have no console or hardware; these units only fail or wait there.
for unit in getty.target systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | podman import --quiet \
  --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV=container=podman' \
  --change 'CMD=["/sbin/init"]' \
  --change 'STOPSIGNAL=SIGRTMIN+3' \
  - "$ref" >/dev/null
secs=$(( $(date +%s) - start ))
size=$(podman image inspect "$ref" --format '{{.Size}}')
mkdir -p "$here/../../.cache"
printf '%s\t%s\t%s\t%s\n' "$ref" "$secs" "$size" "$(date -u +%FT%TZ)" >>"$here/../../.cache/image-builds.tsv"
echo "built $ref in ${secs}s, $((size / 1048576)) MiB"
