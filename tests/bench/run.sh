#!/usr/bin/env bash
# run.sh -- `make bench`: performance figures, printed, never asserted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node bench/ingest.mjs "$@"
node bench/tiles.mjs
node bench/load.mjs
node bench/geofence.mjs
node bench/alerts.mjs
