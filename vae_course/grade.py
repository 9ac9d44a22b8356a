"""Check a learner's notebooks with nbval against the *solved* notebooks' stored outputs.

    python -m vae_course.grade notebooks/01_change_of_distribution.ipynb
    python -m vae_course.grade submissions/            # every .ipynb below a folder

For each learner notebook, the solved notebook of the same course notebook is taken, its exercise
cells (tagged `exercise:N.M`) are replaced by the learner's, and nbval runs it: the learner's code
against the reference outputs. The report says, per exercise, "passed" or what still differs.
The exit status is 0 exactly when every exercise of every notebook passes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ._extras import need, require
from .exercises import SOLUTIONS, exercise_numbers, strip_solution, tagged

if TYPE_CHECKING:
    import nbformat

NEEDS = ["nbformat", "nbval", "pytest"]  # the `check` extra: nbval runs under pytest in a subprocess


@dataclass
class Result:
    """The verdict for one learner notebook: {exercise number: message or None if passed}."""

    path: Path
    solution: str
    exercises: dict[str, str | None] = field(default_factory=dict)
    other_cells: list[str] = field(default_factory=list)  # as the learner sees them: "[12] first line"
    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem and all(msg is None for msg in self.exercises.values())


def find_solution(nb, path: Path, solutions: Path) -> Path | None:
    """The solved notebook for a learner notebook: by its `vae_course.notebook` metadata, else by name."""
    name = nb.metadata.get("vae_course", {}).get("notebook")
    candidates = [solutions / f"{name}.ipynb"] if name else []
    candidates += [p for p in sorted(solutions.glob("*.ipynb")) if path.stem.endswith(p.stem)]
    return next((p for p in candidates if p.exists()), None)


def syntax_problem(source: str) -> str | None:
    """One line naming a syntax error in a code cell's `source` (as Jupyter would parse it), or None.

    IPython's cell transforms run first when IPython is there, so `%time …` or `!ls` lines are not errors."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        code = TransformerManager().transform_cell(source)
    except Exception:  # no IPython, or a cell its transforms cannot read: Python's own parser decides
        code = source
    try:
        compile(code, "<exercise cell>", "exec")
    except SyntaxError as err:
        lines = source.splitlines()
        line = lines[err.lineno - 1].strip() if err.lineno and 0 < err.lineno <= len(lines) else ""
        where = f" at line {err.lineno}" if err.lineno else ""
        return (f"your cell has a syntax error{where}: {err.msg}" + (f" (`{line}`)" if line else "")
                + "; it was not run (the cells after it use the course's reference).")
    return None


def merge(learner, solved) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    """The solved notebook with the learner's exercise cells; and the exercises already judged without running.

    Those are exercises whose cell is missing (the solved cell stays), and cells that do not parse: such a
    cell is replaced by the learner copy's stub, so that its check falls back to the reference and the
    exercises after it are graded normally instead of failing on names the broken cell never defined."""
    mine = {tagged(c, "exercise"): c for c in learner.cells if c.cell_type == "code" and tagged(c, "exercise")}
    judged = {}
    for cell in solved.cells:
        number = tagged(cell, "exercise")
        if number is None:
            continue
        if number not in mine:
            judged[number] = (f"no code cell tagged 'exercise:{number}' in your notebook "
                              f"(was it deleted, or its tag removed?)")
        elif (problem := syntax_problem(mine[number].source)) is not None:
            judged[number] = problem
            cell.source = strip_solution(cell.source, number)
        else:
            cell.source = mine[number].source
    return solved, judged


def _verdict(got: str, error: str) -> str:
    lines = [ln.strip() for ln in got.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if line.startswith("…"):
            return "not solved yet: " + line.split(":", 1)[1].strip()
        if line.startswith("✗"):
            detail = [ln for ln in lines[i + 1:] if not ln.startswith("The rest of the notebook")]
            return " ".join([line.split(":", 1)[1].strip()] + detail)
    if error:
        return "the check cell failed: " + error.strip().splitlines()[-1]
    return "the check printed something unexpected: " + (" ".join(lines) or "nothing")


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def grade(paths: list[Path], solutions: Path = SOLUTIONS, progress=lambda line: None) -> list[Result]:
    """Grade learner notebooks (files, or folders searched for .ipynb) against `solutions`.

    progress: called with a line of text as the notebooks run (the command line prints them)."""
    require(NEEDS, "Checking notebooks")
    nbformat = need("nbformat", "Checking notebooks")
    files = []
    for p in paths:
        files += sorted(p.rglob("*.ipynb")) if p.is_dir() else [p]
    files = [f for f in files if ".ipynb_checkpoints" not in f.parts]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="vae-course-grade-") as tmp:
        tmp = Path(tmp)
        runs = {}
        for i, path in enumerate(files):
            try:
                learner = nbformat.read(path, as_version=4)
            except Exception as err:  # not a notebook at all
                results.append(Result(path, "", problem=f"cannot be read as a notebook ({err})"))
                continue
            solution = find_solution(learner, path, solutions)
            if solution is None:
                results.append(Result(path, "", problem="matches no course notebook in " + str(solutions)))
                continue
            merged, judged = merge(learner, nbformat.read(solution, as_version=4))
            result = Result(path, solution.name, {n: None for n in exercise_numbers(merged)})
            result.exercises.update(judged)
            results.append(result)
            name = f"{i:03d}_{solution.name}"
            nbformat.write(merged, tmp / name)
            runs[name] = (result, merged, learner)
        if runs:
            _run_nbval(tmp, runs, progress)
    return results


def _as_seen(cell, learner, k: int) -> str:
    """A code cell named as the learner sees it: its `[n]` prompt in their notebook and first line."""
    mine = next((c for c in learner.cells if c.get("id") and c.get("id") == cell.get("id")), None)
    count = mine.get("execution_count") if mine is not None else None
    first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    first = first if len(first) <= 60 else first[:59] + "…"
    return f"[{count}] {first}" if count else f"code cell {k + 1} (not run in your copy): {first}"


def _run_nbval(tmp: Path, runs: dict, progress=print) -> None:
    report = tmp / "report.jsonl"
    # the check cells print their verdicts here, as in Jupyter; under nbgrader's variable they would raise instead
    env = {**{k: v for k, v in os.environ.items() if k not in ("NBGRADER_EXECUTION", "NBGRADER_VALIDATING")},
           "VAE_COURSE_REPORT": str(report)}
    cmd = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "vae_course._nbval_report",
           "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp), *sorted(runs)]
    if len(runs) > 2 and importlib.util.find_spec("xdist") is not None:
        cmd += ["-n", str(min(len(runs), os.cpu_count() or 1)), "--dist", "loadfile"]
    progress(f"checking {len(runs)} notebook(s): each runs top to bottom, about 5–30 s apiece …")
    start, done = time.monotonic(), set()
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        finished = proc.poll() is not None
        seen = {}
        if report.exists():
            for line in report.read_text(encoding="utf-8").splitlines():
                name = json.loads(line)["notebook"]
                seen[name] = seen.get(name, 0) + 1
        for name, (result, merged, _) in sorted(runs.items()):
            if name not in done and (seen.get(name, 0) >= len(_code_cells(merged)) or finished):
                done.add(name)
                progress(f"  ran {result.path.name} ({len(done)} of {len(runs)}, {time.monotonic() - start:.0f} s)")
        if finished:
            break
        time.sleep(0.5)
    cells = {}
    if report.exists():
        for line in report.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            cells[(row["notebook"], row["cell"])] = row
    for name, (result, merged, learner) in runs.items():
        for k, cell in enumerate(_code_cells(merged)):
            row = cells.get((name, k))
            ex, chk = tagged(cell, "exercise"), tagged(cell, "check")
            if row is None:
                if ex or chk:
                    result.exercises[ex or chk] = result.exercises.get(ex or chk) or "the notebook stopped before this exercise ran"
                continue
            if row["passed"]:
                continue
            if ex and result.exercises.get(ex) is None:
                result.exercises[ex] = "your code cell failed: " + (row["error"].strip().splitlines() or ["?"])[-1]
            elif chk and result.exercises.get(chk) is None:
                result.exercises[chk] = _verdict(row["got"], row["error"])
            elif not (ex or chk):
                result.other_cells.append(_as_seen(cell, learner, k))


def report(results: list[Result]) -> str:
    """The plain-words report of `grade`."""
    lines = []
    for r in results:
        lines.append(f"{r.path}" + (f"  (checked against solutions/{r.solution})" if r.solution else ""))
        if r.problem:
            lines.append(f"  ✗ {r.problem}")
            continue
        if not r.exercises:
            lines.append("  (no exercises in this notebook)")
        for number, msg in r.exercises.items():
            lines.append(f"  ✓ Exercise {number} passed" if msg is None else f"  ✗ Exercise {number}: {msg}")
        if r.other_cells:
            lines.append(f"  note: {len(r.other_cells)} other code cell(s) print something different from the "
                         f"solved notebook; they are not graded:")
            lines += [f"    {cell}" for cell in r.other_cells]
        done = sum(m is None for m in r.exercises.values())
        if r.exercises:
            lines.append(f"  {done} of {len(r.exercises)} exercises passed.")
    ok = sum(r.passed for r in results)
    lines.append(f"\n{ok} of {len(results)} notebook(s) fully solved.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae_course.grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="learner notebooks, or folders of them")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS, help="folder of solved notebooks")
    args = parser.parse_args(argv)
    try:
        require(NEEDS, "vae-course-check")
    except ImportError as err:
        parser.exit(2, f"{parser.prog}: {err}\n")
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        parser.error("no such file or folder: " + ", ".join(map(str, missing)))
    results = grade(args.paths, args.solutions, progress=lambda line: print(line, flush=True))
    if not results:
        parser.error("no .ipynb files found in " + ", ".join(map(str, args.paths)))
    print(report(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
