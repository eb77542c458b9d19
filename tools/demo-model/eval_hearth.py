#!/usr/bin/env python3
"""Greedy answers of a hearth GGUF on the held-out problems, written as score.py's OUTPUTS.jsonl (stdlib only).

usage: eval_hearth.py MODEL.gguf OUT.jsonl [--per-task N] [--jobs J] [--hearth PATH]

Runs `hearth run --raw` on the first N problems of every task and mode (default 200), J processes
at a time (default: all cores), with the max_new_tokens train.py used (think 215, nothink 39).
Also writes OUT.heldout.jsonl, the problems it ran, so that
    python3 tools/demo-model/score.py OUT.heldout.jsonl OUT.jsonl
scores exactly those.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_NEW = {"think": 215, "nothink": 39}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--per-task", type=int, default=200)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--hearth", default=os.environ.get("HEARTH_BIN", "build/hearth"))
    a = p.parse_args()
    rows = [json.loads(l) for l in open(os.path.join(HERE, "checkpoint", "heldout.jsonl"), encoding="utf-8") if l.strip()]
    seen, todo = {}, []
    for r in rows:
        k = (r["task"], r["mode"])
        seen[k] = seen.get(k, 0) + 1
        if seen[k] <= a.per_task:
            todo.append(r)

    def run(r):
        cmd = [a.hearth, "run", "-m", a.model, "--raw", "-p", r["prompt"], "--temp", "0", "-n", str(MAX_NEW[r["mode"]]), "-t", "1"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"{r['id']}: {res.stderr}")
        out = res.stdout[:-1] if res.stdout.endswith("\n") else res.stdout
        return {"id": r["id"], "output": out}

    t0 = time.time()
    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        results = list(ex.map(run, todo))
    with open(a.out, "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    base = a.out[:-6] if a.out.endswith(".jsonl") else a.out
    with open(base + ".heldout.jsonl", "w", encoding="utf-8") as f:
        for r in todo:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {a.out}: {len(results)} outputs in {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
