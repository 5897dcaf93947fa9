#!/usr/bin/env python3
"""Prints the README's results rows from the JSON files that `ddpm fid --json` wrote into results/.

Usage: scripts/results_table.py [results/*.json]

One markdown row per file: the model and sampler as `ddpm fid` described them (its "source"), N,
FID and KID beside their real-data floors (FID also as a multiple of the floor), the share of samples
classified with confidence >= 0.9 beside the floor's, and the class accuracy of conditional samples.
Nothing is computed here beyond that ratio: every number is the evaluation command's own.
"""
import glob
import json
import re
import sys


def row(path):
    with open(path) as f:
        d = json.load(f)
    src = d["source"]
    m = re.match(r"model (\S+) \(([^)]*)\), (.*), seed (\d+), (\d+) samples in (\d+)s", src)
    if not m:
        raise SystemExit(f"{path}: unexpected source {src!r}")
    model, recipe, sampler, seed, _, secs = m.groups()
    out = []
    for r in d["rows"]:
        acc = r.get("class_accuracy")
        out.append("| `{}` | {} | {} | {} | {:.1f} ({:.1f} ± {:.1f}) = {:.2f}× | {:.0f} ± {:.0f} ({:.0f} ± {:.0f}) | {:.1f}% ({:.1f}%) | {} | [{}]({}) |".format(
            recipe, model.split("/checkpoints/")[0], sampler.replace("|", "\\|"), r["n"],
            r["fid"], r["fid_floor"], r["fid_floor_std"], r["fid"] / r["fid_floor"],
            r["kid_mean"], r["kid_std"], r["kid_floor_mean"], r["kid_floor_std"],
            100 * r.get("confident", float("nan")), 100 * r.get("confident_floor", float("nan")),
            "–" if acc is None else f"{100 * acc:.1f}%",
            d["date"][:10], path))
    return out


def main(paths):
    paths = paths or sorted(glob.glob("results/*.json"))
    print("| recipe | model | sampler | N | FID (floor) = ratio | KID (floor) | confident ≥ 0.9 (floor) | class acc. | file |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p in paths:
        for line in row(p):
            print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
