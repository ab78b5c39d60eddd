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
packages=$(grep -v '^#' "$recipe/packages.txt" | paste -sd' ' -)
rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/miniapp-$name.XXXXXX")
log="$rootfs.log"
cleanup() { umount "$rootfs/proc" 2>/dev/null || true; rm -rf "$rootfs"; }
trap cleanup EXIT
fail() { tail -20 "$log" >&2; echo "build.sh: $1 failed, full log in $log" >&2; exit 1; }

start=$(date +%s)
echo "building $ref (debootstrap $SUITE, then: $packages)"
debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$log" 2>&1 || fail debootstrap
# Packages go in through apt inside the root, which orders their configuration correctly
# (debootstrap --include does not, e.g. for python3-cryptography). No service may start here.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"
mount -t proc proc "$rootfs/proc"
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get install -y -q --no-install-recommends $packages >>"$log" 2>&1 \
  || fail "apt-get install"
umount "$rootfs/proc"
rm -f "$rootfs/usr/sbin/policy-rc.d" "$log"
# Containers have no console or hardware; these units only fail or wait there.
for unit in getty.target systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
# Ansible reaches lab hosts by sshd in inetd mode through `podman exec`, so no daemon listens;
# host keys are made per container when the lab starts, never shared through the image.
if [ -x "$rootfs/usr/sbin/sshd" ]; then
  ln -sf /dev/null "$rootfs/etc/systemd/system/ssh.service"
  rm -f "$rootfs"/etc/ssh/ssh_host_*
fi
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
