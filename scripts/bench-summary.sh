#!/usr/bin/env bash
# Prints criterion's median (ns per call) and the median's 95 % CI for every benchmark under a
# criterion output directory, as a Markdown table (used to write BENCHMARKS.md).
#
#   scripts/bench-summary.sh [target/criterion] [regex]
set -euo pipefail
dir="${1:-target/criterion}"
filter="${2:-.}"
python3 - "$dir" "$filter" <<'PY'
import json, os, re, sys
root, pat = sys.argv[1], re.compile(sys.argv[2])
rows = []
for base, _, files in os.walk(root):
    if os.path.basename(base) != "new" or "estimates.json" not in files:
        continue
    with open(os.path.join(base, "benchmark.json")) as f:
        full_id = json.load(f)["full_id"]
    if not pat.search(full_id):
        continue
    with open(os.path.join(base, "estimates.json")) as f:
        est = json.load(f)
    m = est["median"]
    ci = m["confidence_interval"]
    mad = est.get("median_abs_dev", {}).get("point_estimate", float("nan"))
    rows.append((full_id, m["point_estimate"], ci["lower_bound"], ci["upper_bound"], mad))
rows.sort()
print("| benchmark | median ns | 95% CI of median | MAD ns |")
print("|---|---:|---|---:|")
for r in rows:
    print(f"| {r[0]} | {r[1]:.1f} | {r[2]:.1f}–{r[3]:.1f} | {r[4]:.1f} |")
PY
