#!/usr/bin/env bash
# Append "<what> <seconds> <utc time>" to .cache/times.tsv and print the duration.
set -euo pipefail
what=$1 start=$2
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
mkdir -p "$(dirname "$0")/../.cache"
printf '%s\t%s\t%s\n' "$what" "$secs" "$(date -u +%FT%TZ)" >>"$(dirname "$0")/../.cache/times.tsv"
echo "$what took ${secs}s"
