#!/usr/bin/env bash
# Rebuilds the real set of issue 16 (not committed: its data's licences vary) into OUT
# (default /tmp/forecast-real/real.json). Needs, once:
#   apt-get install -y r-base-core r-cran-pwt9 r-cran-aer r-cran-forecast r-cran-tseries
# Then: npm run bench:forecast -- --only none --file /tmp/forecast-real/real.json
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-/tmp/forecast-real/real.json}"
work="$(dirname "$out")"
mkdir -p "$work"
Rscript "$here/r-series.R" > "$work/r-series.jsonl"
if [ ! -d "$work/package/data" ]; then
  (cd "$work" && npm pack vega-datasets@2 --silent > /dev/null && tar xzf vega-datasets-2.*.tgz)
fi
node "$here/filter.mjs" "$work/r-series.jsonl" "$work/package" "$out"
