#!/usr/bin/env python3
"""table.py - prints the Markdown results table of docs/BENCHMARKS.md from tools/bench/compare.mjs --out files."""
import json
import sys

rows = []
for path in sys.argv[1:]:
    r = json.load(open(path))
    name = r["model"].split("/")[-1].removesuffix(".gguf")
    rows.append((name, r))
print("| model | pairs (discarded) | prefill hearth tok/s | prefill llama.cpp tok/s | **prefill ratio** "
      "| decode hearth tok/s | decode llama.cpp tok/s | **decode ratio** | hearth load s / peak RSS MiB | llama.cpp load s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, r in rows:
    pr = [p["prefill_ratio"] for p in r["runs"]]
    dr = [p["decode_ratio"] for p in r["runs"]]
    print(f"| {name} | {r['pairs']} ({r.get('discarded', 0)}) | {r['prefill']['hearth']:.1f} | {r['prefill']['llama']:.1f} "
          f"| **{r['prefill']['ratio']:.2f}** ({min(pr):.2f}-{max(pr):.2f}) | {r['decode']['hearth']:.2f} | {r['decode']['llama']:.2f} "
          f"| **{r['decode']['ratio']:.2f}** ({min(dr):.2f}-{max(dr):.2f}) | {r['hearth_load_s']:.3f} / {r['hearth_peak_rss_mib']:.0f} "
          f"| {r['llama_load_s']:.2f} |")
