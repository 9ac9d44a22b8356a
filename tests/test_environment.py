"""environment.yml (conda, Binder) names conda-forge packages only: pyproject.toml's run dependencies
and its `lab` and `check` extras, with the same lower bounds. Checked offline (no conda channel is
reachable from the test machines) against a table of conda-forge package names."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent
# conda-forge package name → the PyPI name it installs (checked on anaconda.org/conda-forge/<name>).
# Where the names differ: pytorch is torch; matplotlib-base is matplotlib without the Qt backend;
# the playwright Python package is playwright-python on conda-forge ("playwright" lives on the
# microsoft channel, not conda-forge).
CONDA_FORGE = {
    "python": "python", "pip": "pip", "numpy": "numpy", "pytorch": "torch", "matplotlib": "matplotlib",
    "matplotlib-base": "matplotlib", "ipywidgets": "ipywidgets", "scikit-learn": "scikit-learn",
    "scipy": "scipy", "tqdm": "tqdm", "jupyterlab": "jupyterlab", "notebook": "notebook", "nbval": "nbval",
    "nbclient": "nbclient", "nbformat": "nbformat", "pytest": "pytest", "pytest-xdist": "pytest-xdist",
    "pyyaml": "pyyaml", "playwright-python": "playwright", "ruff": "ruff", "setuptools": "setuptools",
}


def _split(requirement: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _environment() -> tuple[dict, list]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda, pip_section = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section += dep["pip"]
        else:
            name, bound = _split(dep)
            conda[name] = bound
    return conda, pip_section


def test_environment_yml_names_conda_forge_packages_only():
    conda, _ = _environment()
    unknown = sorted(set(conda) - set(CONDA_FORGE))
    assert not unknown, f"not conda-forge package names (or missing from the table here): {unknown}"


def test_environment_yml_holds_what_learners_need_with_pyprojects_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    want = dict(_split(r) for r in project["dependencies"] + extras["lab"] + extras["check"])
    conda, pip_section = _environment()
    have = {CONDA_FORGE.get(name, name): bound for name, bound in conda.items()}
    assert have.pop("python") == project["requires-python"]
    assert have.pop("pip") == ""
    assert have == want
    dev_only = {_split(r)[0] for r in extras["dev"]} - set(want) - {"vae-course"}
    assert dev_only and not dev_only & set(have), "development tools do not belong in a learner's environment"
    assert pip_section == ["-e ."], "the course itself is installed from the repository"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 course.py test" in readme and "python3 course.py test" in ci
    assert "python3 course.py lab" in readme
