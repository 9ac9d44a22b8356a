#!/usr/bin/env python3
"""Run the course as other learners' machines would: other float paths, other seeds.

Another CPU rounds floats differently, and training amplifies the difference: a trained model's
digits change from machine to machine (the same machine always gives the same digits). Two checks
keep the course honest about it; `python3 course.py test` runs both, briefly:

    python tools/other_cpus.py nbval [--path avx2] [PYTEST ARGS]
        nbval in strict mode with torch's CPU kernels switched to another float path: every output
        that nbval compares must be the same on every machine.

    python tools/other_cpus.py claims [--seeds 0 1 2 3 4] [--paths native default avx2] [-j 2]
        run the solved notebooks with other seeds (the `SEED = 0` line of the setup cell) on each
        float path; every `vc.claim` line must print ✓ and no cell may fail. The claims are the
        sentences of the prose about trained models, each with its margin.

Float paths (set before torch starts, in the notebook's kernel): `native` (this CPU as it is);
`default` (ATEN_CPU_CAPABILITY=default: no SIMD kernels, and MKL_CBWR=COMPATIBLE: MKL's
reproducible kernels; about 1.5× slower); `avx2` (ATEN_CPU_CAPABILITY=avx2, another vector width
on an AVX-512 machine, and MKL_CBWR=COMPATIBLE, which changes the matrix products on any x86
machine; as fast as native). Run from the repository, in the course's environment (.venv/bin/python).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "notebooks" / "solutions"
PATHS = {
    "native": {},
    "default": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "COMPATIBLE"},
}
SEED_LINE = re.compile(r"^SEED = 0\b", re.MULTILINE)


def with_seed(nb, seed: int):
    """The notebook with its setup cell's `SEED = 0` set to `seed` (exactly one such line)."""
    cells = [c for c in nb.cells if c.cell_type == "code" and SEED_LINE.search(c.source)]
    if len(cells) != 1 or len(SEED_LINE.findall(cells[0].source)) != 1:
        raise ValueError(f"expected exactly one line 'SEED = 0' in the notebook, found {len(cells)} cell(s) with it")
    cells[0].source = SEED_LINE.sub(f"SEED = {seed}", cells[0].source)
    return nb


def run_one(path: Path, seed: int, float_path: str) -> dict:
    """Execute one solved notebook with `seed` on `float_path`; its claim lines and any failure."""
    import nbformat
    from nbclient.exceptions import CellExecutionError

    from vae_course.exercises import execute

    nb = with_seed(nbformat.read(path, as_version=4), seed)
    start, error = time.perf_counter(), ""
    try:
        execute(nb, SOLUTIONS, env={**os.environ, **PATHS[float_path]})
    except CellExecutionError as err:
        error = str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
    claims, printed = [], {}
    for k, cell in enumerate(nb.cells):
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        if text:
            printed[k] = text
        for line in text.splitlines():
            if line.startswith(("✓ ", "✗ ")) and not line.startswith(("✓ Exercise", "✗ Exercise")):
                claims.append({"cell": k, "ok": line.startswith("✓"), "text": line[2:]})
    return {"notebook": path.name, "seed": seed, "path": float_path, "claims": claims, "error": error, "printed": printed,
            "seconds": round(time.perf_counter() - start, 1)}


def claims(args) -> int:
    paths = sorted(SOLUTIONS.glob("*.ipynb"))
    if args.notebooks:
        paths = [p for p in paths if any(p.name.startswith(n) for n in args.notebooks)]
    else:  # the notebooks that make claims
        paths = [p for p in paths if "vc.claim(" in p.read_text(encoding="utf-8")]
    jobs = [(p, s, f) for p in paths for s in args.seeds for f in args.paths]
    print(f"other_cpus claims: {len(jobs)} runs ({len(paths)} notebook(s) × seeds {args.seeds} × paths "
          f"{args.paths}) on {args.jobs} worker(s)", flush=True)
    results, start = [], time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_one, *job): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            results.append(r)
            bad = [c for c in r["claims"] if not c["ok"]]
            mark = "✗" if bad or r["error"] else "✓"
            print(f"  {mark} {r['notebook']} seed {r['seed']} {r['path']}: {len(r['claims']) - len(bad)} of "
                  f"{len(r['claims'])} claims hold ({r['seconds']} s)" + (f"; failed: {r['error']}" if r["error"] else ""),
                  flush=True)
            for c in bad:
                print(f"      ✗ {c['text']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    failed = [r for r in results if r["error"] or not all(c["ok"] for c in r["claims"])]
    n_claims = sum(len(r["claims"]) for r in results)
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed: {n_claims} claim checks in "
          f"{len(results)} runs, {time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


def nbval(args, pytest_args: list[str]) -> int:
    env = {**os.environ, **PATHS[args.path]}
    targets = pytest_args or ["notebooks"]
    cmd = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-q", *targets]
    if args.audit:  # the figure audit on the same run (vae_course/_nbval_audit.py): no second execution
        Path(args.audit).mkdir(parents=True, exist_ok=True)
        env["VC_FIGURE_AUDIT_DIR"] = str(Path(args.audit).resolve())
    if args.present:  # and the explorers of the lecturer's pages (vae_course.present's cache) on the same run
        env["VC_PRESENT_CACHE_DIR"] = str(Path(args.present).resolve())
    if args.audit or args.present:
        cmd[3:3] = ["-p", "vae_course._nbval_audit"]
    print(f"other_cpus nbval on float path '{args.path}' {PATHS[args.path]}: {' '.join(targets)}", flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/other_cpus.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    n = sub.add_parser("nbval", help="nbval (strict) on another float path; extra arguments go to pytest")
    n.add_argument("--path", choices=PATHS, default="avx2")
    n.add_argument("--audit", metavar="DIR", help="also record every figure's legibility problems, one file "
                   "per notebook in DIR (tests/test_figures_legible.py reads them when VC_FIGURE_AUDIT_DIR=DIR)")
    n.add_argument("--present", metavar="DIR", help="also cache the explorers of every solved notebook that "
                   "passes for vae_course.present's pages in DIR (its target, build/present), as `course.py present` "
                   "would by running the notebook again")
    c = sub.add_parser("claims", help="every claim of the prose over other seeds and float paths")
    c.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    c.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    c.add_argument("--notebooks", nargs="*", help="notebook numbers, e.g. 03 06 (default: those with claims)")
    c.add_argument("-j", "--jobs", type=int, default=2)
    c.add_argument("--json", help="also write every run's claims to this file")
    args, rest = parser.parse_known_args(argv)
    if args.command == "nbval":
        return nbval(args, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return claims(args)


if __name__ == "__main__":
    sys.exit(main())
