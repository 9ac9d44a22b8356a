"""Learner copies from solved notebooks, and executing notebooks the way nbval will check them.

The solved notebooks in `notebooks/solutions/` are the source. Solution lines are fenced with
nbgrader's markers; in the learner copy each fenced block becomes

    raise NotImplementedError("Exercise 1.1")

Code cells that hold an exercise carry the tag `exercise:1.1`; the check cell after them carries
`check:1.1`. Both copies are executed and stored with their outputs, which nbval compares.

    python -m vae_course.exercises build [NAME ...]   # re-run solutions, rewrite learner copies
    python -m vae_course.exercises check-sync         # fail if a learner copy is out of date
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ._extras import need

if TYPE_CHECKING:
    import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_PACKAGE = Path(__file__).resolve().parent
ROOT = _PACKAGE.parent
NOTEBOOKS = ROOT / "notebooks"
# An installed wheel carries the solved notebooks as package data (vae_course/solutions/, see
# pyproject.toml); in a clone of the repository, notebooks/solutions/ is the one source.
SOLUTIONS = _PACKAGE / "solutions" if (_PACKAGE / "solutions").is_dir() else NOTEBOOKS / "solutions"
_TAG = re.compile(r"^(exercise|check):(\d+\.\d+)$")


def tagged(cell, kind: str) -> str | None:
    """The exercise number in a cell's `exercise:N.M` (kind='exercise') or `check:N.M` tag."""
    for tag in cell.get("metadata", {}).get("tags", []):
        m = _TAG.match(tag)
        if m and m.group(1) == kind:
            return m.group(2)
    return None


def strip_solution(source: str, number: str) -> str:
    """Replace every BEGIN/END SOLUTION block of `source` by a stub raising NotImplementedError."""
    out, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"Exercise {number}: a second '{BEGIN}' before '{END}'.")
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("Exercise {number}")')
            inside = True
        elif stripped == END:
            if not inside:
                raise ValueError(f"Exercise {number}: '{END}' without '{BEGIN}'.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"Exercise {number}: '{BEGIN}' is never closed by '{END}'.")
    return "\n".join(out)


def learner_copy(solved: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The learner copy of a solved notebook: solutions stubbed out, outputs cleared."""
    nb = copy.deepcopy(solved)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        number = tagged(cell, "exercise")
        if BEGIN in cell.source and number is None:
            raise ValueError(f"cell {i} has a solution block but no 'exercise:N.M' tag.")
        if number is not None:
            cell.source = strip_solution(cell.source, number)
        cell.outputs, cell.execution_count = [], None
    return nb


def exercise_numbers(nb) -> list[str]:
    """The exercise numbers of a notebook, in order."""
    return [n for n in (tagged(c, "exercise") for c in nb.cells) if n is not None]


def _normalize(nb) -> None:
    nb.metadata.pop("widgets", None)  # widget state is per run; nbval ignores it
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    # language_info stays as the kernel reported it (version included): JupyterLab writes the kernel's
    # into the notebook on opening and marks it modified unless the stored one is the same.
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


def execute(nb, cwd: Path, timeout: int = 600, env: dict | None = None):
    """Run a notebook as nbval would: `nbval-skip` cells are skipped, `raises-exception` may fail.

    env: the kernel's environment (default: this process's), e.g. another float path."""
    NotebookClient = need("nbclient", "Executing notebooks").NotebookClient
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", skip_cells_with_tag="nbval-skip",
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(**({} if env is None else {"env": env}))
    _normalize(nb)
    return nb


def _in_a_clone(command: str):
    if SOLUTIONS != NOTEBOOKS / "solutions" or not SOLUTIONS.is_dir():
        raise SystemExit(f"vae_course.exercises {command} rewrites the notebooks of a clone of the repository "
                         f"(notebooks/ and notebooks/solutions/ beside vae_course/); {ROOT} has none.")
    return need("nbformat", f"vae_course.exercises {command}")


def build(names: list[str] | None = None, quiet: bool = False) -> None:
    """Execute every solved notebook in place, then write and execute its learner copy."""
    nbformat = _in_a_clone("build")
    paths = sorted(SOLUTIONS.glob("*.ipynb"))
    if names:
        paths = [p for p in paths if any(n in p.name for n in names)]
        if not paths:
            raise SystemExit(f"no solved notebook matches {names} in {SOLUTIONS}")
    for path in paths:
        start = time.perf_counter()
        solved = nbformat.read(path, as_version=4)
        execute(solved, SOLUTIONS)
        nbformat.write(solved, path)
        learner = execute(learner_copy(solved), NOTEBOOKS)
        nbformat.write(learner, NOTEBOOKS / path.name)
        if not quiet:
            print(f"built {path.name} (solved + learner copy) in {time.perf_counter() - start:.1f} s")


def out_of_sync() -> list[str]:
    """Learner copies whose code or text differs from what their solved notebook makes."""
    nbformat = _in_a_clone("check-sync")
    problems = []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        target = NOTEBOOKS / path.name
        if not target.exists():
            problems.append(f"{target.name}: learner copy missing")
            continue
        want = learner_copy(nbformat.read(path, as_version=4)).cells
        have = nbformat.read(target, as_version=4).cells
        if [(c.cell_type, c.source) for c in want] != [(c.cell_type, c.source) for c in have]:
            problems.append(f"{target.name}: out of date with solutions/{path.name}")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if not (SOLUTIONS / path.name).exists():
            problems.append(f"{path.name}: no solved notebook in solutions/")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae_course.exercises", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute solved notebooks and regenerate the learner copies")
    b.add_argument("names", nargs="*", help="part of a notebook's file name, e.g. 01 (default: all)")
    sub.add_parser("check-sync", help="fail if a learner copy is out of date with its solution")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.names)
        return 0
    problems = out_of_sync()
    print("\n".join(problems) if problems else "learner copies are in sync with their solutions")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
