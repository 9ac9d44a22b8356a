"""A real nbgrader round trip: the solved notebooks are an nbgrader source, the checks grade them.

nbgrader (NBGRADER, from PyPI) goes into a virtual environment of its own, cached in
.venv/nbgrader-<version>/ across runs (the first run installs it, about half a minute; later runs
reuse it). That venv sees the course's packages (torch, Jupyter, vae_course) through a .pth line,
so pip adds only what nbgrader needs beyond them (SQLAlchemy, alembic, rapidfuzz) and the course's
own environment never sees nbgrader. In a temporary course directory the tests run, as a lecturer
would:

- `nbgrader generate_assignment` on every solved notebook (cheap: nothing is executed), and check
  what the release holds;
- `nbgrader autograde` on three submissions of notebook 03, which has two exercises and is among
  the fastest to run: all solved (full marks), none solved (the course's own learner copy: zero),
  one exercise wrong (exactly that exercise's points lost), then `nbgrader export`.

Checker behaviour under nbgrader without nbgrader itself (NBGRADER_EXECUTION set by hand) is
tested at the end, per exercise.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import nbformat
import pytest

import vae_course
from vae_course import checking, exercises
from vae_course.exercises import NOTEBOOKS, POINTS_PER_EXERCISE, SOLUTIONS

ROOT = Path(__file__).resolve().parent.parent
NBGRADER = "nbgrader==0.9.6"  # works with the course's JupyterLab 4 / Notebook 7 / jupyter_client 8 stack
CACHE = ROOT / ".venv" / ("nbgrader-" + NBGRADER.split("==")[1])
GRADED = "02_latent_variable_models"  # two exercises (2.1, 2.2); the quickest notebook with two (about 10 s)
ASSIGNMENT = "ps02"


def _python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@contextlib.contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            import fcntl
        except ImportError:  # Windows: no second worker builds it at once there in practice
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def nbgrader_venv() -> Path:
    """The cached venv with nbgrader, made on first use; its python."""
    ours = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    # vae_course is an editable install: its finder .pth does not run from a .pth-added folder, so name ROOT
    key = "\n".join([NBGRADER, sys.executable, *ours, str(ROOT)])
    python, stamp = _python(CACHE), CACHE / ".vae-course-ready"
    with _lock(CACHE.parent / (CACHE.name + ".lock")):
        if python.exists() and stamp.exists() and stamp.read_text() == key:
            return python
        shutil.rmtree(CACHE, ignore_errors=True)
        venv.create(CACHE, with_pip=False)
        purelib = subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                          text=True).strip()
        (Path(purelib) / "_vae_course.pth").write_text("\n".join([*ours, str(ROOT)]) + "\n")
        subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                        "--disable-pip-version-check", NBGRADER], check=True)
        stamp.write_text(key)
    return python


@pytest.fixture(scope="module")
def nbgrader(tmp_path_factory):
    """run(*args): `nbgrader ARGS` in a fresh course directory; returns the CompletedProcess."""
    python = nbgrader_venv()
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'vae-course'\n"
        "c.Execute.timeout = 300  # seconds per cell; the default 30 is tight on a busy machine\n")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "JUPYTER_PATH", "NBGRADER_EXECUTION"}}
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    env["JUPYTER_DATA_DIR"] = str(course / ".jupyter-data")  # no stray user kernelspec
    env["JUPYTER_CONFIG_DIR"] = str(course / ".jupyter-config")

    def run(*args, check=True):
        out = subprocess.run([str(python), "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                             text=True, check=False)
        if check and out.returncode != 0:
            raise AssertionError(f"nbgrader {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        return out
    run.course, run.python, run.env = course, python, env
    return run


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def test_generate_assignment_accepts_every_solved_notebook(nbgrader):
    source = nbgrader.course / "source" / "all"
    source.mkdir(parents=True)
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        shutil.copy(path, source / path.name)
    nbgrader("generate_assignment", "all", "--force")
    release = nbgrader.course / "release" / "all"
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        solved, released = _read(path), _read(release / path.name)
        assert len(released.cells) == len(solved.cells), path.name
        for s, r in zip(solved.cells, released.cells):
            assert exercises.BEGIN not in r.source and "### END SOLUTION" not in r.source, path.name
            number, check = exercises.tagged(s, "exercise"), exercises.tagged(s, "check")
            if number:  # nbgrader's own stub replaces the fenced lines; the rest of the cell stays
                assert "raise NotImplementedError()" in r.source and r.metadata.nbgrader["solution"]
                assert r.source.splitlines()[0] == s.source.splitlines()[0]
            elif check:
                assert r.source == s.source and r.metadata.nbgrader["points"] == POINTS_PER_EXERCISE
                assert r.metadata.get("editable") is False and r.metadata.get("deletable") is False
            else:
                assert r.source == s.source
            if r.cell_type == "code":
                assert r.outputs == []


def _submit(nbgrader, student: str, nb) -> None:
    folder = nbgrader.course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{GRADED}.ipynb")


def _with_answer(nb, number: str, source: str):
    for cell in nb.cells:
        if exercises.tagged(cell, "exercise") == number:
            cell.source = source
    return nb


WRONG_2_2 = ("def is_log_px(log_lik, log_prior, log_q):\n"
             "    return torch.logsumexp(log_lik + log_prior, dim=-1) - math.log(log_lik.shape[-1])  # no − log q\n")


@pytest.fixture(scope="module")
def graded(nbgrader):
    """Three submissions autograded: {student: {grade id: score}}, the export's rows, and the autograded notebooks."""
    source = nbgrader.course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copy(SOLUTIONS / f"{GRADED}.ipynb", source)
    nbgrader("generate_assignment", ASSIGNMENT, "--force")
    released = _read(nbgrader.course / "release" / ASSIGNMENT / f"{GRADED}.ipynb")
    solved = _read(SOLUTIONS / f"{GRADED}.ipynb")
    answers = {exercises.tagged(c, "exercise"): c.source for c in solved.cells if exercises.tagged(c, "exercise")}
    assert list(answers) == ["2.1", "2.2"]
    all_solved = _read(nbgrader.course / "release" / ASSIGNMENT / f"{GRADED}.ipynb")
    for number, src in answers.items():
        _with_answer(all_solved, number, src)
    one_wrong = _with_answer(_with_answer(released, "2.1", answers["2.1"]), "2.2", WRONG_2_2)
    _submit(nbgrader, "all_solved", all_solved)
    _submit(nbgrader, "none_solved", _read(NOTEBOOKS / f"{GRADED}.ipynb"))  # the course's own learner copy
    _submit(nbgrader, "one_wrong", one_wrong)
    nbgrader("autograde", ASSIGNMENT, "--force")
    nbgrader("export", "--to", "grades.csv")
    rows = {r["student_id"]: r for r in csv.DictReader((nbgrader.course / "grades.csv").open())}
    script = ("import json, sys\nfrom nbgrader.api import Gradebook\n"
              "with Gradebook('sqlite:///gradebook.db') as gb:\n"
              f"    out = {{s: {{g.name: g.score for g in gb.find_submission_notebook({GRADED!r}, {ASSIGNMENT!r}, s).grades}}"
              " for s in sys.argv[1:]}\n"
              "print(json.dumps(out))\n")
    scores = json.loads(subprocess.run([str(nbgrader.python), "-c", script, "all_solved", "none_solved", "one_wrong"],
                                       cwd=nbgrader.course, env=nbgrader.env, capture_output=True, text=True,
                                       check=True).stdout)
    autograded = {s: _read(nbgrader.course / "autograded" / s / ASSIGNMENT / f"{GRADED}.ipynb") for s in scores}
    return scores, rows, autograded


def _check_cell(nb, number):
    return next(c for c in nb.cells if exercises.tagged(c, "check") == number)


def test_all_solved_gets_full_marks(graded):
    scores, rows, autograded = graded
    assert scores["all_solved"] == {"check_2_1": POINTS_PER_EXERCISE, "check_2_2": POINTS_PER_EXERCISE}
    assert float(rows["all_solved"]["score"]) == float(rows["all_solved"]["max_score"]) == 2 * POINTS_PER_EXERCISE
    out = "".join(o.get("text", "") for o in _check_cell(autograded["all_solved"], "2.2").outputs)
    assert out.startswith("✓ Exercise 2.2 passed")


def test_none_solved_gets_zero_and_says_not_attempted(graded):
    scores, rows, autograded = graded
    assert scores["none_solved"] == {"check_2_1": 0, "check_2_2": 0}
    assert float(rows["none_solved"]["score"]) == 0
    cell = _check_cell(autograded["none_solved"], "2.1")
    assert "not attempted yet" in "".join(o.get("text", "") for o in cell.outputs)
    assert [o.ename for o in cell.outputs if o.output_type == "error"] == ["ExerciseNotPassed"]


def test_one_wrong_exercise_loses_exactly_its_points(graded):
    scores, rows, autograded = graded
    assert scores["one_wrong"] == {"check_2_1": POINTS_PER_EXERCISE, "check_2_2": 0}
    assert float(rows["one_wrong"]["score"]) == float(rows["one_wrong"]["max_score"]) - POINTS_PER_EXERCISE
    nb = autograded["one_wrong"]
    text = "".join(o.get("text", "") for o in _check_cell(nb, "2.2").outputs)
    assert text.startswith("✗ Exercise 2.2") and "without − log q(z_k)" in text
    # the rest of the notebook ran on with the reference: no error after the failed check
    after = nb.cells[nb.cells.index(_check_cell(nb, "2.2")) + 1:]
    assert not [c for c in after if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)]


def test_readme_shows_the_pinned_nbgrader_and_the_commands():
    readme = (ROOT / "README.md").read_text()
    for text in (NBGRADER, "nbgrader generate_assignment", "nbgrader autograde", "nbgrader export"):
        assert text in readme, text


# ---------------------------------------------------------------- the checks under nbgrader, without nbgrader

def _cases():
    from test_checks import CASES  # the checker table: valid answers and classic mistakes per exercise
    return CASES


NUMBERS = sorted(_cases())


@pytest.fixture
def autograde(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")


def _nbgrader_stub(*args):
    # YOUR CODE HERE
    raise NotImplementedError()


@pytest.mark.parametrize("mode", ["autograde", "validate", "", "other"])
def test_nbgrader_mode_reads_the_variable_nbgrader_sets(monkeypatch, mode):
    monkeypatch.setenv("NBGRADER_EXECUTION", mode)
    assert checking.nbgrader_mode() == (mode if mode in ("autograde", "validate") else None)
    monkeypatch.delenv("NBGRADER_EXECUTION")
    assert checking.nbgrader_mode() is None


@pytest.mark.parametrize("number", NUMBERS)
def test_under_nbgrader_a_right_answer_passes_and_is_kept(number, autograde, capsys):
    case = _cases()[number]
    answer = case.valid[0]
    assert case.checker(answer) is answer
    assert capsys.readouterr().out.startswith(f"✓ Exercise {number} passed")


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize("kind", ["course stub", "nbgrader stub", "wrong"])
def test_under_nbgrader_a_check_that_does_not_pass_raises_after_falling_back(number, kind, autograde, capsys):
    case = _cases()[number]
    name = case.checker.function
    answer = {"course stub": _course_stub(number), "nbgrader stub": _nbgrader_stub, "wrong": case.wrong[0][0]}[kind]
    names = {name: answer}
    with pytest.raises(checking.ExerciseNotPassed, match=f"Exercise {number} is not passed"):
        _run_cell(f"{name} = checker({name})", names, case.checker)
    out = capsys.readouterr().out
    if kind == "wrong":
        assert out.startswith(f"✗ Exercise {number}: ") and case.wrong[0][1] in out
    else:  # nbgrader's `raise NotImplementedError()` counts as not attempted, as the course's stub does
        assert out.startswith(f"… Exercise {number} not attempted yet: `{name}` still raises NotImplementedError.\n")
    assert names[name] is case.checker.reference, "the cells after the check go on with the reference"


def _course_stub(number):
    def stub(*args):
        raise NotImplementedError(f"Exercise {number}")
    return stub


def _run_cell(source: str, names: dict, checker) -> None:
    """Run `source` as a notebook cell does: module-level code whose globals are the namespace `names`."""
    names["checker"] = checker
    exec(compile(source, "<cell>", "exec"), names)


def test_without_nbgrader_nothing_raises_and_the_reference_is_returned(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    case = _cases()["1.1"]
    assert case.checker(_nbgrader_stub) is case.checker.reference
    assert "not attempted yet" in capsys.readouterr().out


def test_under_nbgrader_warnings_go_to_stdout_so_a_right_answer_keeps_its_points(autograde, capsys):
    import warnings
    case = _cases()["1.1"]
    right = case.valid[0]

    def noisy(*args):
        warnings.warn("this answer warns", UserWarning, stacklevel=1)
        return right(*args)
    assert case.checker(noisy) is noisy
    captured = capsys.readouterr()
    assert captured.out.startswith("✓ Exercise 1.1 passed")
    assert "(a warning while checking: UserWarning: this answer warns)" in captured.out
    assert captured.out.count("this answer warns") == 1 and captured.err == ""


def test_under_nbgrader_the_reference_itself_is_not_an_answer(autograde, capsys):
    case = _cases()["1.1"]
    names = {case.checker.function: case.checker.reference}
    with pytest.raises(checking.ExerciseNotPassed):
        _run_cell(f"{case.checker.function} = checker({case.checker.function})", names, case.checker)
    assert "is the course's reference solution itself" in capsys.readouterr().out


def test_every_check_cell_rebinds_the_name_of_its_exercise_function():
    """The fallback under nbgrader binds `name` in `name = vc.nbNN.exercise_N_M(name)`: every check cell has that form."""
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        nb = _read(path)
        for cell in nb.cells:
            number = exercises.tagged(cell, "check")
            if number:
                call = f"vc.nb{path.name[:2]}.exercise_{number.replace('.', '_')}"
                name = getattr(getattr(vae_course, f"nb{path.name[:2]}"), call.rsplit(".", 1)[1]).function
                assert cell.source.strip() == f"{name} = {call}({name})", f"{path.name}: check {number}"


def test_readme_states_each_notebooks_points_as_the_metadata_gives_them():
    import re
    readme = (ROOT / "README.md").read_text()
    stated = dict(re.findall(r"\b(0\d): (\d+)\b", readme.split("**Points: ", 1)[1].split("(00 has none)")[0]))
    want = {}
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        points = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in _read(path).cells)
        if points:
            want[path.name[:2]] = str(points)
    assert stated == want
