"""Summarize py-spy collapsed stacks (``--format raw``): top functions by own and total samples.

    .venv/bin/python bench/http/top_frames.py bench/results/http-*/submit-*.txt [--top 30] [--match src/kefu]
"""

from __future__ import annotations

import argparse
from collections import Counter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--match", default="", help="only count frames whose text contains this")
    a = ap.parse_args()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for path in a.files:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.readlines()
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            samples += n
            frames = stack.split(";")
            own[frames[-1]] += n
            for f in set(frames):
                if a.match in f:
                    total[f] += n
    print(f"{samples} samples")
    print("-- own time")
    for f, n in own.most_common(a.top):
        print(f"{100 * n / samples:5.1f}%  {f}")
    print("-- total (inclusive) time" + (f", frames matching {a.match!r}" if a.match else ""))
    for f, n in total.most_common(a.top):
        print(f"{100 * n / samples:5.1f}%  {f}")


if __name__ == "__main__":
    main()
