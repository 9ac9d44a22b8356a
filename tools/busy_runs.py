#!/usr/bin/env python3
"""Run a command several times in a row while another process keeps one core busy (a flakiness check).

    python3 tools/busy_runs.py [--runs 3] [--] COMMAND ...     # default: python3 course.py test

The busy loop is a plain Python process spinning at 100% of one core; it is stopped at the end.
Prints each run's exit status and wall time; exits 0 only if every run passed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/busy_runs.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] or [sys.executable, "course.py", "test"]
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    results = []
    try:
        for k in range(1, args.runs + 1):
            start = time.monotonic()
            print(f"busy_runs: run {k} of {args.runs}: {' '.join(command)} (one core kept busy)", flush=True)
            code = subprocess.call(command)
            results.append((code, time.monotonic() - start))
            print(f"busy_runs: run {k}: exit {code} in {results[-1][1]:.0f} s", flush=True)
    finally:
        busy.kill()
    for k, (code, seconds) in enumerate(results, 1):
        print(f"run {k}: {'passed' if code == 0 else f'FAILED (exit {code})'}, {seconds:.0f} s")
    return 0 if all(code == 0 for code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
