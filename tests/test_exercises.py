"""Learner copies stay in sync with the solved notebooks, and grading works both ways."""

import importlib.util
import re
import subprocess
import sys

import nbformat
import pytest

from vae_course import exercises, grade
from vae_course.exercises import NOTEBOOKS, SOLUTIONS

NB01 = "01_change_of_distribution.ipynb"


def test_learner_copies_are_in_sync_with_their_solutions():
    assert exercises.out_of_sync() == []


def test_every_exercise_has_a_stub_and_a_check_cell_right_after_it():
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        for i, cell in enumerate(code):
            number = exercises.tagged(cell, "exercise")
            if number:
                assert exercises.BEGIN in cell.source, f"{path.name}: exercise {number} has no solution block"
                assert exercises.tagged(code[i + 1], "check") == number, f"{path.name}: no check after {number}"
                assert f"exercise_{number.replace('.', '_')}" in code[i + 1].source
        learner = nbformat.read(NOTEBOOKS / path.name, as_version=4)
        for cell in learner.cells:
            assert exercises.BEGIN not in cell.source, f"{path.name}: a solution leaked into the learner copy"


def test_strip_solution_keeps_indentation_and_surrounding_lines():
    src = "def f(x):\n    # compute it\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION\n"
    assert exercises.strip_solution(src, "9.9") == \
        'def f(x):\n    # compute it\n    raise NotImplementedError("Exercise 9.9")'
    with pytest.raises(ValueError, match="never closed"):
        exercises.strip_solution("### BEGIN SOLUTION\nx = 1", "9.9")
    with pytest.raises(ValueError, match="without"):
        exercises.strip_solution("x = 1\n### END SOLUTION", "9.9")


def test_learner_copy_requires_tags_on_solution_cells():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")])
    with pytest.raises(ValueError, match="no 'exercise:N.M' tag"):
        exercises.learner_copy(nb)


def _with_exercise_source(nb, number, source):
    for cell in nb.cells:
        if exercises.tagged(cell, "exercise") == number:
            cell.source = source
    return nb


# The grading below runs on another float path (tools/other_cpus.py's "avx2"; the kernels that nbval
# starts inherit it), as another learner's CPU would round: the grader compares with outputs stored
# on this machine, so an untouched learner copy must report its exercises and no other cell there too.
# (Native grading end to end: tests/test_other_cpus.py and tests/test_wheel.py.)
_spec = importlib.util.spec_from_file_location("other_cpus", exercises.ROOT / "tools" / "other_cpus.py")
other_cpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(other_cpus)
FLOAT_PATH = other_cpus.PATHS["avx2"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One nbval run over a folder of typical submissions, on another float path; and its progress lines."""
    folder = tmp_path_factory.mktemp("submissions")
    solved = nbformat.read(SOLUTIONS / NB01, as_version=4)
    unsolved = nbformat.read(NOTEBOOKS / NB01, as_version=4)
    one_wrong = nbformat.read(NOTEBOOKS / NB01, as_version=4)
    for cell_s, cell_w in zip(solved.cells, one_wrong.cells):
        if exercises.tagged(cell_s, "exercise") == "1.1":
            cell_w.source = cell_s.source
    _with_exercise_source(one_wrong, "1.2", "def affine_pushforward_density(x, a, b):\n"
                                            "    return torch.exp(-0.5 * ((x - b) / a) ** 2) / (2 * torch.pi) ** 0.5\n")
    # every exercise solved but 1.2, whose cell does not parse (a missing colon on its line 2): the later
    # exercises use that cell's name only through the check's fallback, so they must still pass
    broken = nbformat.read(NOTEBOOKS / NB01, as_version=4)
    for cell_s, cell_b in zip(solved.cells, broken.cells):
        if exercises.tagged(cell_s, "exercise") in ("1.1", "1.3", "1.4"):
            cell_b.source = cell_s.source
    _with_exercise_source(broken, "1.2", "# my attempt\ndef affine_pushforward_density(x, a, b)\n"
                                         "    return torch.exp(-0.5 * ((x - b) / a) ** 2) / (2 * torch.pi) ** 0.5 / abs(a)\n")
    files = {"alice_" + NB01: solved, "bob_" + NB01: unsolved, "carol_" + NB01: one_wrong, "dan_" + NB01: broken,
             "00_start_here.ipynb": nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4)}
    for name, nb in files.items():
        nbformat.write(nb, folder / name)
    (folder / "notes.ipynb").write_text("not a notebook")
    lines = []
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FLOAT_PATH.items():
            mp.setenv(name, value)
        results = {r.path.name: r for r in grade.grade([folder], progress=lines.append)}
    return folder, results, lines


def test_solved_notebook_passes(graded):
    r = graded[1]["alice_" + NB01]
    assert r.passed and r.exercises == {"1.1": None, "1.2": None, "1.3": None, "1.4": None} and r.other_cells == []


def test_unsolved_learner_copy_fails_at_exactly_its_exercises(graded):
    r = graded[1]["bob_" + NB01]
    assert not r.passed
    assert set(r.exercises) == {"1.1", "1.2", "1.3", "1.4"}
    for msg in r.exercises.values():
        assert msg.startswith("not solved yet"), msg
    assert r.other_cells == []  # the fallback keeps every other output equal to the reference
    text = grade.report([r])
    assert "note:" not in text and "0 of 1 notebook(s) fully solved" in text


def test_one_wrong_answer_fails_at_exactly_that_exercise(graded):
    r = graded[1]["carol_" + NB01]
    assert r.exercises["1.1"] is None
    assert "1/|a|" in r.exercises["1.2"]
    assert not r.passed and r.other_cells == []


def test_a_syntax_error_is_one_clear_line_and_the_other_exercises_are_graded_normally(graded):
    r = graded[1]["dan_" + NB01]
    assert r.exercises["1.2"].startswith("your cell has a syntax error at line 2: expected ':'"), r.exercises["1.2"]
    assert "`def affine_pushforward_density(x, a, b)`" in r.exercises["1.2"]
    assert {n: m for n, m in r.exercises.items() if n != "1.2"} == {"1.1": None, "1.3": None, "1.4": None}
    assert r.other_cells == []  # no cascade of NameErrors in the cells after it
    text = grade.report([r])
    assert "✗ Exercise 1.2: your cell has a syntax error at line 2" in text and "NameError" not in text
    assert "3 of 4 exercises passed." in text


def test_syntax_problem_names_the_line_and_lets_ipython_syntax_through():
    assert grade.syntax_problem("x = 1\nif x\n    y = 2\n").startswith("your cell has a syntax error at line 2")
    assert grade.syntax_problem("%time x = 1\n!echo hi\ny = x + 1\n") is None  # magics are not errors
    assert grade.syntax_problem("def f(x):\n    return x\n") is None


def test_notebooks_without_exercises_and_non_notebooks(graded):
    results = graded[1]
    assert results["00_start_here.ipynb"].passed and results["00_start_here.ipynb"].exercises == {}
    assert "cannot be read" in results["notes.ipynb"].problem
    text = grade.report(list(results.values()))
    assert "✓ Exercise 1.1 passed" in text and "2 of 6 notebook(s) fully solved" in text


def test_progress_names_each_notebook_as_it_runs(graded):
    lines = graded[2]
    assert lines[0].startswith("checking 5 notebook(s)")  # the two that are no course notebook do not run
    assert sum(ln.startswith("  ran ") for ln in lines) == 5


def test_command_line_exit_status_and_report():
    """The command line's plumbing, on the quickest notebook (00, no exercises): it prints the report
    and exits 0 when everything passes (the report's wording per exercise: the tests above; exit 1
    on an unsolved exercise: tests/test_wheel.py's vae-course-check on a learner copy)."""
    solved = subprocess.run([sys.executable, "-m", "vae_course.grade", str(SOLUTIONS / "00_start_here.ipynb")],
                            capture_output=True, text=True, check=False)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "(no exercises in this notebook)" in solved.stdout and "1 of 1 notebook(s) fully solved" in solved.stdout
    missing = subprocess.run([sys.executable, "-m", "vae_course.grade", "no/such.ipynb"], capture_output=True, text=True,
                             check=False)
    assert missing.returncode == 2 and "no such file" in missing.stderr


# ---------------------------------------------------------------- nbgrader cell metadata

def _all_notebooks():
    return [p for s in sorted(SOLUTIONS.glob("*.ipynb")) for p in (s, NOTEBOOKS / s.name)]


@pytest.mark.parametrize("path", _all_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_committed_notebook_carries_the_nbgrader_metadata(path):
    nb = nbformat.read(path, as_version=4)
    assert exercises.metadata_problems(nb) == [], f"{path}: run python -m vae_course.exercises metadata"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata["nbgrader"] == {"grade": False, "grade_id": "setup", "locked": True, "schema_version": 3,
                                            "solution": False, "task": False}
    for cell in nb.cells:
        number, check = exercises.tagged(cell, "exercise"), exercises.tagged(cell, "check")
        meta = cell.metadata.get("nbgrader")
        if number:
            assert meta["solution"] and not meta["grade"] and not meta["locked"] and meta["grade_id"] == \
                "exercise_" + number.replace(".", "_")
        elif check:
            assert meta["grade"] and meta["locked"] and not meta["solution"]
            assert meta["points"] == exercises.POINTS_PER_EXERCISE and meta["grade_id"] == "check_" + check.replace(".", "_")
        elif meta is not None:
            assert meta["locked"] and not meta["grade"] and not meta["solution"], f"{path.name}: {meta}"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", _all_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_metadata_pass_is_deterministic_idempotent_and_touches_only_metadata(path):
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    bare = nbformat.writes(nb)
    assert exercises.add_nbgrader_metadata(nb) is True
    assert nbformat.writes(nb).rstrip("\n") == text.rstrip("\n")  # what the committed file holds, byte for byte
    assert exercises.add_nbgrader_metadata(nb) is False
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    assert nbformat.writes(nb) == bare  # sources and outputs untouched


def _gradable(*cells):
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_code_cell("import vae_course as vc\ngen = vc.setup_notebook(seed=0)")])
    for kind, source, tags in cells:
        cell = v4.new_markdown_cell(source) if kind == "md" else v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


GOOD = [("md", "### Exercise 9.1 — add one", []), ("code", f"def f(x):\n    {exercises.BEGIN}\n    return x + 1\n"
                                                          f"    {exercises.END}", ["exercise:9.1"]),
        ("code", "f = vc.nb09.exercise_9_1(f)", ["check:9.1"])]


def test_nbgrader_metadata_of_a_small_notebook():
    got = exercises.nbgrader_metadata(_gradable(*GOOD))
    assert [m and m["grade_id"] for m in got] == ["setup", "statement_9_1", "exercise_9_1", "check_9_1"]
    assert got[3]["points"] == exercises.POINTS_PER_EXERCISE and "points" not in got[2]
    nb = _gradable(*GOOD, ("code", "x = 1", []))
    nb.cells[-1].metadata["nbgrader"] = {"grade": False, "locked": True, "solution": False, "grade_id": "stale",
                                         "schema_version": 3}
    assert exercises.add_nbgrader_metadata(nb) and "nbgrader" not in nb.cells[-1].metadata  # stale marks go
    learner = exercises.learner_copy(nb)
    assert exercises.metadata_problems(learner) == []  # the learner copy inherits them
    del learner.cells[3].metadata["nbgrader"]
    assert "cell(s) 3" in exercises.metadata_problems(learner)[0]


@pytest.mark.parametrize("cells, words", [
    (GOOD[:2], "is not followed by its check cell"),
    ([GOOD[0], GOOD[2]], "does not follow the code cell tagged 'exercise:9.1'"),
    (GOOD[1:], "no markdown heading '### Exercise 9.1"),
    (GOOD + GOOD, "exercise 9.1 appears twice"),
    ([("code", f"{exercises.BEGIN}\nx = 1\n{exercises.END}", [])], "a solution block but no 'exercise:N.M' tag"),
    ([("code", "x", ["exercise:9.1", "check:9.1"])], "tagged both"),
])
def test_nbgrader_metadata_names_what_is_wrong(cells, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        exercises.nbgrader_metadata(_gradable(*cells))


def test_nbgrader_metadata_wants_the_setup_cell_first():
    nb = _gradable(*GOOD)
    nb.cells[0].source = "import torch"
    with pytest.raises(ValueError, match="the first code cell should be the setup cell"):
        exercises.nbgrader_metadata(nb)
