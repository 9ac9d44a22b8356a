"""Learner copies from solved notebooks, and executing notebooks the way nbval will check them.

The solved notebooks in `notebooks/solutions/` are the source. Solution lines are fenced with
nbgrader's markers; in the learner copy each fenced block becomes

    raise NotImplementedError("Exercise 1.1")

Code cells that hold an exercise carry the tag `exercise:1.1`; the check cell after them carries
`check:1.1`. Both copies are executed and stored with their outputs, which nbval compares.

Both copies also carry nbgrader's cell metadata (schema 3), made from those tags, so that a
lecturer can give the solved notebooks to `nbgrader generate_assignment` and grade with
`nbgrader autograde`:
- `exercise:N.M` cells are answer cells (solution, grade id `exercise_N_M`);
- `check:N.M` cells are locked autograded test cells (grade id `check_N_M`), worth
  POINTS_PER_EXERCISE points: a check cell scores them when it runs without error;
- the setup cell (the first code cell: imports, `setup_notebook`) and the markdown cell with each
  exercise's heading are locked read-only cells (`setup`, `statement_N_M`): the answers and checks
  need the setup cell's names, and the feedback shows the task as it was set.
No other cell carries nbgrader metadata.

    python -m vae_course.exercises build [NAME ...]   # re-run solutions, rewrite learner copies
    python -m vae_course.exercises metadata [NAME ...]  # only (re)write the nbgrader metadata, no execution
    python -m vae_course.exercises check-sync         # fail if a learner copy or the metadata is out of date
"""

from __future__ import annotations

import argparse
import copy
import os
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
POINTS_PER_EXERCISE = 1  # every exercise is one function, checked all-or-nothing by one check cell
NBGRADER_SCHEMA = 3  # nbgrader's cell metadata schema (nbgrader 0.6 to 0.9)
_NBGRADER_ENV = ("NBGRADER_EXECUTION", "NBGRADER_VALIDATING")  # set by nbgrader while it runs a notebook


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


def _nbgrader(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": NBGRADER_SCHEMA,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def nbgrader_metadata(nb) -> list[dict | None]:
    """The nbgrader metadata each cell of `nb` should carry (None: none), made from its tags alone.

    Raises ValueError, naming the cell, when the tags do not describe a gradable notebook: an
    exercise without its check cell right after it (or the reverse), a number used twice, a
    solution block outside an exercise cell, no heading for an exercise, no setup cell first.
    """
    cells = nb.cells
    want: list[dict | None] = [None] * len(cells)
    code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
    if code:
        first = code[0]
        if "setup_notebook(" not in cells[first].source:
            raise ValueError(f"cell {first}: the first code cell should be the setup cell (it calls "
                             f"vc.setup_notebook); nbgrader locks it because every answer and check needs it.")
        want[first] = _nbgrader("setup", locked=True)
    seen: set[str] = set()
    for k, i in enumerate(code):
        cell = cells[i]
        number, check = tagged(cell, "exercise"), tagged(cell, "check")
        if number and check:
            raise ValueError(f"cell {i} is tagged both 'exercise:{number}' and 'check:{check}'.")
        if BEGIN in cell.source and number is None:
            raise ValueError(f"cell {i} has a solution block but no 'exercise:N.M' tag.")
        if check is not None:
            prev = tagged(cells[code[k - 1]], "exercise") if k else None
            if prev != check:
                raise ValueError(f"cell {i}: the check cell 'check:{check}' does not follow the code cell tagged "
                                 f"'exercise:{check}'.")
            want[i] = _nbgrader(f"check_{_id(check)}", grade=True, locked=True, points=POINTS_PER_EXERCISE)
        if number is None:
            continue
        if number in seen:
            raise ValueError(f"cell {i}: exercise {number} appears twice.")
        seen.add(number)
        following = cells[code[k + 1]] if k + 1 < len(code) else None
        if following is None or tagged(following, "check") != number:
            raise ValueError(f"cell {i}: exercise {number} is not followed by its check cell, tagged 'check:{number}'.")
        if i == first:
            raise ValueError(f"cell {i}: exercise {number} cannot be the setup cell.")
        want[i] = _nbgrader(f"exercise_{_id(number)}", solution=True)
        heading = re.compile(rf"^#+\s*Exercise {re.escape(number)}\b", re.M)
        above = [j for j in range(i - 1, -1, -1) if cells[j].cell_type == "markdown" and heading.search(cells[j].source)]
        if not above:
            raise ValueError(f"cell {i}: exercise {number} has no markdown heading '### Exercise {number} — …' above it.")
        want[above[0]] = _nbgrader(f"statement_{_id(number)}", locked=True)
    return want


def _id(number: str) -> str:
    return number.replace(".", "_")


def add_nbgrader_metadata(nb) -> bool:
    """Give every cell of `nb` the nbgrader metadata of `nbgrader_metadata` (removing stale ones). Changed?"""
    changed = False
    for cell, meta in zip(nb.cells, nbgrader_metadata(nb)):
        if cell.metadata.get("nbgrader") != meta:
            changed = True
            if meta is None:
                del cell.metadata["nbgrader"]
            else:
                cell.metadata["nbgrader"] = copy.deepcopy(meta)
    return changed


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
    if env is None and any(k in os.environ for k in _NBGRADER_ENV):
        env = dict(os.environ)  # a shell left over from nbgrader: the checks must not raise while building
    if env is not None:
        env = {k: v for k, v in env.items() if k not in _NBGRADER_ENV}
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
    for path in _solved_paths(names):
        start = time.perf_counter()
        solved = nbformat.read(path, as_version=4)
        add_nbgrader_metadata(solved)
        execute(solved, SOLUTIONS)
        nbformat.write(solved, path)
        learner = execute(learner_copy(solved), NOTEBOOKS)
        nbformat.write(learner, NOTEBOOKS / path.name)
        if not quiet:
            print(f"built {path.name} (solved + learner copy) in {time.perf_counter() - start:.1f} s")


def _solved_paths(names: list[str] | None) -> list[Path]:
    paths = sorted(SOLUTIONS.glob("*.ipynb"))
    if names:
        paths = [p for p in paths if any(n in p.name for n in names)]
        if not paths:
            raise SystemExit(f"no solved notebook matches {names} in {SOLUTIONS}")
    return paths


def write_metadata(names: list[str] | None = None, quiet: bool = False) -> list[Path]:
    """Write the nbgrader metadata into solved notebooks and their learner copies, without executing them.

    Only metadata changes: sources and outputs are kept as they are. Deterministic and idempotent
    (a second run changes nothing). Returns the files it rewrote."""
    nbformat = _in_a_clone("metadata")
    written = []
    for path in _solved_paths(names):
        for target in (path, NOTEBOOKS / path.name):
            if not target.exists():
                continue
            nb = nbformat.read(target, as_version=4)
            try:
                changed = add_nbgrader_metadata(nb)
            except ValueError as err:
                raise SystemExit(f"{target}: {err}") from None
            if changed:
                nbformat.write(nb, target)
                written.append(target)
        if not quiet:
            nb = nbformat.read(path, as_version=4)
            marks = [m for m in nbgrader_metadata(nb) if m]
            points = sum(m.get("points", 0) for m in marks)
            print(f"nbgrader metadata: {path.name}: {sum(m['solution'] for m in marks)} answer cell(s), "
                  f"{sum(m['grade'] for m in marks)} check cell(s), {points:g} point(s)")
    if not quiet:
        print(f"rewrote {len(written)} file(s)" if written else "every notebook already had it; nothing rewritten")
    return written


def out_of_sync() -> list[str]:
    """Learner copies whose code or text differs from what their solved notebook makes."""
    nbformat = _in_a_clone("check-sync")
    problems = []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        target = NOTEBOOKS / path.name
        if not target.exists():
            problems.append(f"{target.name}: learner copy missing")
            continue
        solved = nbformat.read(path, as_version=4)
        want = learner_copy(solved).cells
        learner = nbformat.read(target, as_version=4)
        have = learner.cells
        if [(c.cell_type, c.source) for c in want] != [(c.cell_type, c.source) for c in have]:
            problems.append(f"{target.name}: out of date with solutions/{path.name}")
        for nb, name in ((solved, f"solutions/{path.name}"), (learner, target.name)):
            problems += [f"{name}: {p}" for p in metadata_problems(nb)]
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if not (SOLUTIONS / path.name).exists():
            problems.append(f"{path.name}: no solved notebook in solutions/")
    return problems


def metadata_problems(nb) -> list[str]:
    """What is wrong with a notebook's nbgrader metadata (empty: it is what `nbgrader_metadata` makes)."""
    try:
        want = nbgrader_metadata(nb)
    except ValueError as err:
        return [f"cannot be marked for nbgrader: {err}"]
    have = [c.metadata.get("nbgrader") for c in nb.cells]
    bad = [i for i, (w, h) in enumerate(zip(want, have)) if w != h]
    if not bad:
        return []
    return [f"nbgrader metadata missing or out of date in cell(s) {', '.join(map(str, bad[:8]))}"
            f"{' …' if len(bad) > 8 else ''} (run: python -m vae_course.exercises metadata)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae_course.exercises", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute solved notebooks and regenerate the learner copies")
    b.add_argument("names", nargs="*", help="part of a notebook's file name, e.g. 01 (default: all)")
    m = sub.add_parser("metadata", help="write only the nbgrader cell metadata (no execution; outputs kept)")
    m.add_argument("names", nargs="*", help="part of a notebook's file name, e.g. 01 (default: all)")
    sub.add_parser("check-sync", help="fail if a learner copy or the nbgrader metadata is out of date")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.names)
        return 0
    if args.command == "metadata":
        write_metadata(args.names)
        return 0
    problems = out_of_sync()
    print("\n".join(problems) if problems else "learner copies are in sync with their solutions; nbgrader metadata "
          "is up to date")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
