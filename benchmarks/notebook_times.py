"""Wall time of "Restart and Run All" for every notebook (kernel start included).

    .venv/bin/python benchmarks/notebook_times.py [NAME ...]

Runs the solved notebooks (and learner copies with --learner) in a fresh kernel each, in memory:
nothing is written back.
"""

from __future__ import annotations

import argparse
import time

import nbformat

from vae_course.exercises import NOTEBOOKS, SOLUTIONS, execute


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", help="part of a notebook's file name (default: all)")
    parser.add_argument("--learner", action="store_true", help="also time the learner copies")
    args = parser.parse_args()
    folders = [SOLUTIONS] + ([NOTEBOOKS] if args.learner else [])
    print(f"{'notebook':45s} {'seconds':>8s}")
    for folder in folders:
        for path in sorted(folder.glob("*.ipynb")):
            if args.names and not any(n in path.name for n in args.names):
                continue
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            execute(nb, folder)
            label = ("solutions/" if folder == SOLUTIONS else "") + path.name
            print(f"{label:45s} {time.perf_counter() - start:8.1f}")


if __name__ == "__main__":
    main()
