#!/usr/bin/env bash
# Build the services image FROM the lab node image, from a host-side wheelhouse whose every wheel is
# checked against uv.lock's hashes. The tag is a hash of everything that goes in, so an unchanged
# source is never rebuilt. Usage: services/image/build.sh [--tag-only]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
base=$(lab/images/build.sh node --tag-only)
tag=$( { echo "$base"; cat uv.lock services/pyproject.toml services/image/*;
         find services/miniapp_services -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs cat; } \
       | sha256sum | cut -c1-12)
ref="localhost/miniapp-services:$tag"
if [ "${1:-}" = "--tag-only" ]; then echo "$ref"; exit 0; fi
if podman image exists "$ref"; then echo "image $ref is up to date"; exit 0; fi

lab/images/build.sh node >/dev/null
start=$(date +%s)
ctx=.cache/services-image
rm -rf "$ctx" && mkdir -p "$ctx/wheelhouse"
uv=.cache/uv/bin/uv
export UV_NATIVE_TLS=1
"$uv" export --package miniapp-services --no-dev --no-emit-project --frozen --no-header --quiet \
  --format requirements-txt -o "$ctx/requirements.txt"
"$uv" build --package miniapp-services --wheel --quiet --out-dir "$ctx/wheelhouse"
wheel=$(cd "$ctx/wheelhouse" && ls miniapp_services-*.whl)
echo "miniapp-services @ file:///build/wheelhouse/$wheel --hash=sha256:$(sha256sum "$ctx/wheelhouse/$wheel" | cut -d' ' -f1)" \
  >>"$ctx/requirements.txt"
grep -v '^miniapp-services @' "$ctx/requirements.txt" >"$ctx/third-party.txt"
# The node image's Python (Debian 12's 3.11.2): markers such as python_full_version < '3.11.3' must be
# judged for it, not for the host's interpreter.
py=$(podman run --rm "$base" python3 -c 'import platform; print(platform.python_version())')
.venv/bin/python services/image/requirements_for.py "$ctx/third-party.txt" "$py" >"$ctx/download.txt"
PIP_CONFIG_FILE=/dev/null .venv/bin/pip download --quiet --disable-pip-version-check --require-hashes --only-binary=:all: \
  --python-version "$py" -r "$ctx/download.txt" -d "$ctx/wheelhouse"
cp -r "$(.venv/bin/python -c 'import os, pip; print(os.path.dirname(pip.__file__))')" "$ctx/pip"
find "$ctx/pip" -name __pycache__ -prune -exec rm -rf {} +
podman build --quiet --build-arg "BASE=$base" -t "$ref" -f services/image/Containerfile "$ctx" >/dev/null
secs=$(( $(date +%s) - start ))
size=$(podman image inspect "$ref" --format '{{.Size}}')
printf '%s\t%s\t%s\t%s\n' "$ref" "$secs" "$size" "$(date -u +%FT%TZ)" >>.cache/image-builds.tsv
echo "built $ref in ${secs}s, $((size / 1048576)) MiB"
