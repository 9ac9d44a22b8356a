"""What another learner's machine sees: other float paths and other seeds (tools/other_cpus.py).

The notebooks' own nbval run on another float path is a stage of `python3 course.py test`; here,
the learner's side of it: an untouched learner copy prints what its solved copy printed outside the
exercises (so `course.py check` reports unsolved exercises and nothing about other cells; the grading
itself on another float path is in tests/test_exercises.py), other cells are named as the learner
sees them, and the machinery of the claims check.
"""

import importlib.util
import re

import nbformat
import pytest

from vae_course import grade
from vae_course.exercises import NOTEBOOKS, ROOT
from vae_course.notebook import claim

spec = importlib.util.spec_from_file_location("other_cpus", ROOT / "tools" / "other_cpus.py")
other_cpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(other_cpus)

LEARNER = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def _compared(cell) -> list:
    """What nbval compares of a code cell: its text outputs, in order (streams joined per name)."""
    out, streams = [], {}
    for o in cell.outputs:
        if o.output_type == "stream":
            streams[o.name] = streams.get(o.name, "") + o.text
        elif o.output_type in {"execute_result", "display_data"}:
            out.append(o.get("data", {}).get("text/plain", ""))
        elif o.output_type == "error":
            out.append(f"{o.ename}: {o.evalue}")
    return [streams, out]


@pytest.mark.parametrize("name", LEARNER)
def test_learner_and_solved_copies_print_the_same_outside_the_exercises(name):
    """The grader runs a learner's exercise cells inside the solved notebook and compares every other
    cell with the solved copy's outputs. An untouched learner copy, its check cells falling back to
    the reference, must print what the solved copy printed everywhere else (both were run by the
    build; the browser tests re-run the learner copies on another float path and compare them too)."""
    solved = nbformat.read(ROOT / "notebooks" / "solutions" / name, as_version=4).cells
    learner = nbformat.read(NOTEBOOKS / name, as_version=4).cells
    assert [c.id for c in solved] == [c.id for c in learner]
    for i, (s, mine) in enumerate(zip(solved, learner)):
        tags = s.metadata.get("tags", [])
        if s.cell_type != "code" or any(t.startswith(("exercise:", "check:", "nbval-")) for t in tags):
            continue
        assert _compared(mine) == _compared(s), f"{name} cell {i}: the learner copy printed other output"


# The grader on another float path, end to end (untouched learner copies report their exercises and
# no other cell): tests/test_exercises.py grades its submissions of 01 on the avx2 path. That every
# untouched learner copy prints, on another float path, what its solved copy printed outside the
# exercises is shown for all of them without grading them again: the browser tests run every learner
# copy on that float path and compare each cell that nbval compares with the stored outputs
# (tests/test_browser.py::_check_cells), and the test above shows those stored outputs equal the
# solved copy's; the grader runs the solved notebook with the learner's exercise cells, which are the
# learner copy's cells (tests/test_exercises.py's sync test).


def test_other_cells_are_named_as_the_learner_sees_them(tmp_path):
    learner = nbformat.read(NOTEBOOKS / "01_change_of_distribution.ipynb", as_version=4)
    target = next(c for c in learner.cells if c.cell_type == "code" and "x = torch.exp(0.5 * z)" in c.source)
    target.source = target.source.replace("x = torch.exp(0.5 * z)", "x = torch.exp(0.25 * z)")
    target.execution_count = 7
    nbformat.write(learner, tmp_path / "01_change_of_distribution.ipynb")
    # the grader takes non-exercise cells from the solved notebook: change the solved copy it reads
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    solved = nbformat.read(ROOT / "notebooks" / "solutions" / "01_change_of_distribution.ipynb", as_version=4)
    cell = next(c for c in solved.cells if c.get("id") == target.get("id"))
    cell.source = target.source
    nbformat.write(solved, solutions / "01_change_of_distribution.ipynb")
    (r,) = grade.grade([tmp_path / "01_change_of_distribution.ipynb"], solutions)
    first = next(ln.strip() for ln in target.source.splitlines() if ln.strip())
    assert r.other_cells[0] == f"[7] {first}"  # later cells that use its x differ too
    assert all(re.fullmatch(r"\[\d+\] \S.*", c) for c in r.other_cells), r.other_cells
    assert f"    [7] {first}" in grade.report([r])


def test_with_seed_sets_the_one_seed_line_and_refuses_others():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("SEED = 0  # any seed\ngen = f(SEED)")])
    assert other_cpus.with_seed(nb, 3).cells[0].source == "SEED = 3  # any seed\ngen = f(SEED)"
    for source in ["gen = f(0)", "SEED = 0\nSEED = 0"]:
        with pytest.raises(ValueError, match="exactly one line 'SEED = 0'"):
            other_cpus.with_seed(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), 1)


def test_every_solved_notebook_has_one_seed_line():
    for path in sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb")):
        other_cpus.with_seed(nbformat.read(path, as_version=4), 1)


def test_claim_prints_a_check_mark_or_says_plainly_what_failed(capsys):
    import torch

    assert claim(torch.tensor(2.0) > 1, "two exceeds one") is None  # no stray `True` under a notebook cell
    assert claim(False, "pigs fly", numbers="0 of 3 pigs") is None
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✓ two exceeds one"
    assert out[1].startswith("✗ Not so in this run: pigs fly (0 of 3 pigs).")
    with pytest.raises(ValueError, match="one truth value"):
        claim(torch.tensor([True, False]), "a tensor")
    with pytest.raises(TypeError, match="truth value"):
        claim(0.5, "a float")
