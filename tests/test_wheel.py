"""The course as a learner installs it: a built wheel in a fresh virtual environment, away from the repo.

Editable installs (what course.py makes) hide packaging mistakes: a subpackage left out of the
wheel, solved notebooks looked for beside the repo. So this builds the wheel from a copy of the
working tree, installs it with --no-deps into a new venv, and from an unrelated folder runs a
notebook under nbval and `vae-course-check` on a learner copy.

The new venv reaches the already-installed dependencies (torch, Jupyter, nbval, ...) through a
.pth line naming this interpreter's site-packages, rather than installing them again (minutes).
That directory holds the editable install of vae_course, but only as a .pth file and finder,
which a .pth-added directory does not run; the tests assert that `vae_course` comes from the new venv.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest
import tomllib
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUN_DEPENDENCIES = {"numpy", "torch", "matplotlib", "ipywidgets", "scikit-learn", "scipy", "tqdm"}
NOT_FOR_IMPORT = ["nbformat", "nbclient", "nbval", "pytest", "_pytest", "xdist", "jupyterlab", "notebook",
                  "jupyter_server", "jupyterlab_server", "nbconvert", "yaml", "playwright"]
IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "artifacts",
                                ".ipynb_checkpoints", ".pytest_cache")


def _bin(env: Path, name: str) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / (name + (".exe" if os.name == "nt" else ""))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """{'wheel': path, 'python': the fresh venv's interpreter, 'env': its environment, 'away': a folder}."""
    tmp = tmp_path_factory.mktemp("wheel")
    times = {}
    t0 = time.monotonic()
    source = tmp / "source"  # a copy: an in-tree build would reuse a stale build/ folder in the repo
    shutil.copytree(ROOT, source, ignore=IGNORE)
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(source)], check=True, cwd=tmp)
    (wheel,) = dist.glob("vae_course-*.whl")
    times["build"] = time.monotonic() - t0

    t0 = time.monotonic()
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    python = _bin(env_dir, "python")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    "--disable-pip-version-check", str(wheel)], check=True, cwd=tmp)
    purelib = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                           text=True).strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "_vae_course_test_deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    times["venv + install"] = time.monotonic() - t0

    away = tmp / "learner"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "MPLBACKEND", "JUPYTER_PATH"}}
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    env["JUPYTER_DATA_DIR"] = str(tmp / "jupyter-data")  # no stray user kernelspec
    yield {"wheel": wheel, "python": python, "env": env, "away": away, "venv": env_dir, "times": times}
    print("wheel test set-up: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))


def _run(installed, *args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=installed["away"], env=installed["env"],
                          capture_output=True, text=True, check=False, **kw)


def test_wheel_holds_every_module_and_the_solved_notebooks_and_nothing_else(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "vae_course").rglob("*.py") if "__pycache__" not in p.parts}
    solved = {f"vae_course/solutions/{p.name}" for p in (ROOT / "notebooks" / "solutions").glob("*.ipynb")}
    assert len(solved) >= 7
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "vae_course").rglob("*.json")}
    assert "vae_course/nb07/benchmark.json" in data
    assert modules - names == set(), "modules missing from the wheel (a subpackage not listed in pyproject.toml?)"
    assert solved - names == set(), "solved notebooks missing from the wheel"
    assert data - names == set(), "package data missing from the wheel (listed in pyproject's package-data?)"
    payload = {n for n in names if ".dist-info/" not in n}
    expected = modules | solved | data
    assert payload == expected, f"unexpected files in the wheel: {sorted(payload - expected)}"


def test_wheel_requires_only_the_run_dependencies_and_names_the_extras(installed):
    with zipfile.ZipFile(installed["wheel"]) as z:
        (meta_name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.parser.Parser().parsestr(z.read(meta_name).decode())
    got = {str(Requirement(r)) for r in meta.get_all("Requires-Dist")}
    want = {str(Requirement(r)) for r in PROJECT["dependencies"]}
    for extra, reqs in PROJECT["optional-dependencies"].items():
        want |= {str(Requirement(f'{r}; extra == "{extra}"')) for r in reqs}
    assert got == want
    unconditional = {Requirement(r).name for r in meta.get_all("Requires-Dist") if not Requirement(r).marker}
    assert unconditional == RUN_DEPENDENCIES
    assert set(meta.get_all("Provides-Extra")) == {"check", "lab", "slides", "present", "dev"}
    assert meta["Version"] == _version_in_source()


def _version_in_source() -> str:
    for line in (ROOT / "vae_course" / "__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise AssertionError("no __version__ in vae_course/__init__.py")


def test_installed_package_comes_from_the_fresh_venv_and_finds_its_solved_notebooks(installed):
    out = _run(installed, installed["python"], "-c",
               "import vae_course, vae_course.exercises as ex; print(vae_course.__file__); print(ex.SOLUTIONS);"
               "print(len(list(ex.SOLUTIONS.glob('*.ipynb'))))")
    assert out.returncode == 0, out.stderr
    module, solutions, count = out.stdout.split("\n")[:3]
    venv_dir = installed["venv"].resolve()
    assert Path(module).resolve().is_relative_to(venv_dir), f"vae_course imported from {module}, not the fresh venv"
    assert Path(solutions).resolve().is_relative_to(venv_dir)
    assert int(count) == len(list((ROOT / "notebooks" / "solutions").glob("*.ipynb")))


def test_installed_package_reads_the_benchmarks_results(installed):
    out = _run(installed, installed["python"], "-c",
               "import vae_course as vc; print(vc.nb07.benchmark_results()['models']['ar']['median']['nll'])")
    assert out.returncode == 0, out.stderr
    import json
    want = json.loads((ROOT / "vae_course" / "nb07" / "benchmark.json").read_text())["models"]["ar"]["median"]["nll"]
    assert float(out.stdout) == want


BLOCK = """
import importlib.abc, sys
BLOCKED = set(%r)
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
sys.meta_path.insert(0, Block())
"""


def test_import_needs_only_the_run_dependencies(installed):
    code = BLOCK % NOT_FOR_IMPORT + """
import vae_course, vae_course.grade, vae_course.exercises
gen = vae_course.setup_notebook(seed=0, quiet=True)
loaded = sorted(m for m in sys.modules if m.split('.')[0] in BLOCKED)
assert not loaded, loaded
try:
    vae_course.grade.grade([])
except ImportError as err:
    print(err)
"""
    out = _run(installed, installed["python"], "-c", code)
    assert out.returncode == 0, out.stderr
    assert 'pip install "vae-course[check]"' in out.stdout and "nbformat" in out.stdout
    check = _run(installed, installed["python"], "-c", BLOCK % NOT_FOR_IMPORT +
                 "import sys; from vae_course.grade import main; sys.exit(main(['x.ipynb']))")
    assert check.returncode == 2
    assert "vae-course-check needs nbformat, nbval, pytest" in check.stderr and "[check]" in check.stderr


def test_a_notebook_runs_from_an_unrelated_folder(installed):
    nb = installed["away"] / "00_start_here.ipynb"
    shutil.copy(ROOT / "notebooks" / nb.name, nb)
    out = _run(installed, installed["python"], "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
               "-q", "--rootdir", installed["away"], nb.name)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout


def test_vae_course_check_grades_a_learner_copy_against_the_packaged_solutions(installed):
    name = "01_change_of_distribution.ipynb"
    learner = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    solved = nbformat.read(ROOT / "notebooks" / "solutions" / name, as_version=4)
    answer = {c.metadata["tags"][0]: c.source for c in solved.cells if "exercise:1.1" in c.metadata.get("tags", [])}
    for cell in learner.cells:  # the learner solved 1.1, not yet 1.2
        if "exercise:1.1" in cell.metadata.get("tags", []):
            cell.source = answer["exercise:1.1"]
    nbformat.write(learner, installed["away"] / f"alice_{name}")
    out = _run(installed, _bin(installed["venv"], "vae-course-check"), f"alice_{name}")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "✓ Exercise 1.1 passed" in out.stdout, out.stdout
    assert "✗ Exercise 1.2: not solved yet" in out.stdout, out.stdout


def test_sdist_carries_the_solved_notebooks_and_builds_the_same_wheel(installed, tmp_path):
    """The route through PyPI: an sdist, and a wheel built from it, hold the same files as `pip install .`."""
    import tarfile

    source = installed["wheel"].parent.parent / "source"
    out = subprocess.run([sys.executable, "-c", f"from setuptools import build_meta as b; print(b.build_sdist({str(tmp_path)!r}))"],
                         cwd=source, capture_output=True, text=True, check=True)
    sdist = tmp_path / out.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "unpacked", filter="data")
    assert sum("/notebooks/solutions/" in n and n.endswith(".ipynb") for n in names) == \
        len(list((ROOT / "notebooks" / "solutions").glob("*.ipynb")))
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist"), str(unpacked)], check=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("vae_course-*.whl")
    def payload(w):
        return {n for n in zipfile.ZipFile(w).namelist() if ".dist-info/" not in n}

    assert payload(wheel) == payload(installed["wheel"])
