#!/usr/bin/env bash
# Refresh the committed reference results (reference/) from results folders: copies record.json files only,
# rebuilds reference/report (Markdown + PNG figures) and reference/PROVENANCE.md, prints the folder's size.
# Usage: scripts/collect-reference.sh [RESULTS_DIR ...]   (default: this checkout's results/)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || set -- results
existing=()
for d in "$@"; do
    if [ -d "$d" ]; then existing+=("$d"); else echo "collect-reference: skipping $d (no such folder)" >&2; fi
done
[ "${#existing[@]}" -gt 0 ] || { echo "collect-reference: no results folder to collect from" >&2; exit 2; }
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" python3 -m repro.cli reference collect "${existing[@]}"
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" python3 -m repro.cli claims --reference-only | sed -n '1,/^$/p;/^== /,+2p'
du -sh reference
