#!/usr/bin/env python3
"""Exact-match accuracy of recorded model outputs on the held-out problems (stdlib only).

usage: score.py HELDOUT.jsonl OUTPUTS.jsonl [--json RESULT.json]

HELDOUT.jsonl  rows {"id", "task", "mode", "prompt", "expected"} written by gen_data.py
OUTPUTS.jsonl  rows {"id", "output"}: the text the model generated after "prompt", decoded
               with special tokens kept (so "</think>" and "<|im_end|>" are visible; a
               missing "<|im_end|>" is fine). Any engine can write this file: transformers
               (train.py does), or hearth.
The final answer is the text after the last "</think>" (all of the output when reasoning
was off), cut at "<|im_end|>", stripped of surrounding whitespace; it must equal
"expected" exactly. Problems without an output count as wrong.
"""
import argparse
import json
import sys

from gen_data import TASKS, extract_answer


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(heldout, outputs):
    """heldout: list of rows; outputs: {id: output text}. Returns a result dict."""
    per = {}
    for r in heldout:
        out = outputs.get(r["id"])
        ok = out is not None and extract_answer(out) == r["expected"]
        s = per.setdefault((r["task"], r["mode"]), [0, 0, 0])
        s[0] += ok
        s[1] += 1
        s[2] += out is None
    result = {"accuracy": {}, "correct": {}, "total": {}, "missing": 0}
    for (task, mode), (c, n, miss) in sorted(per.items(), key=lambda kv: (TASKS.index(kv[0][0]), kv[0][1] != "think")):
        k = f"{task}/{mode}"
        result["accuracy"][k] = round(c / n, 4)
        result["correct"][k] = c
        result["total"][k] = n
        result["missing"] += miss
    for mode in ("think", "nothink"):
        cs = [v for k, v in per.items() if k[1] == mode]
        if cs:
            result["accuracy"][f"all/{mode}"] = round(sum(c for c, _, _ in cs) / sum(n for _, n, _ in cs), 4)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("heldout")
    ap.add_argument("outputs")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    held = load_jsonl(a.heldout)
    outs = {r["id"]: r["output"] for r in load_jsonl(a.outputs)}
    res = score(held, outs)
    for k, v in res["accuracy"].items():
        extra = f"  ({res['correct'][k]}/{res['total'][k]})" if k in res["correct"] else ""
        print(f"{k:18s} {v * 100:6.1f}%{extra}")
    if res["missing"]:
        print(f"warning: {res['missing']} problems have no output", file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
