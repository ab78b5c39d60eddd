#!/usr/bin/env bash
# The lab's postgres image, FROM the node image (lab/images/derived.sh). Usage: build.sh [--tag-only]
exec "$(dirname "$0")/../derived.sh" postgres "$@"
