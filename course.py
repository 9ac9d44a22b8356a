#!/usr/bin/env python3
"""Set up the course in a local virtual environment and run it. Needs only Python 3.10+ and pip.

    python3 course.py lab                 # set up (first time: a few minutes), open JupyterLab
    python3 course.py test [PYTEST ARGS]  # set up, run the whole test suite (nbval included)
    python3 course.py check PATH ...      # grade learner notebooks against the solved ones
    python3 course.py build [NAME ...]    # re-run solved notebooks and rewrite learner copies

The environment lives in .venv/ beside this file and is reused; it is refreshed when
pyproject.toml changes. VAE_COURSE_TORCH overrides the torch requirement (default torch==2.13.0,
a CPU build where one is available).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
TORCH = os.environ.get("VAE_COURSE_TORCH", "torch==2.13.0")
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(*cmd, **kw) -> int:
    return subprocess.call([str(c) for c in cmd], **kw)


def _pip(*args) -> None:
    if _run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", *args) != 0:
        sys.exit(f"course.py: 'pip install {' '.join(args)}' failed; see the messages above.")


def ensure_env() -> None:
    """Create .venv if needed and install the course into it, unless it is already up to date."""
    if sys.version_info < (3, 10):
        sys.exit(f"course.py needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    stamp = VENV / ".vae-course-stamp"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + TORCH.encode()).hexdigest()
    if PYTHON.exists() and stamp.exists() and stamp.read_text() == want:
        return
    if not PYTHON.exists():
        print(f"course.py: creating the virtual environment {VENV}")
        venv.create(VENV, with_pip=True)
    print("course.py: installing the course and its packages (the first time takes a few minutes)")
    has_torch = _run(PYTHON, "-c", "import torch", stderr=subprocess.DEVNULL) == 0
    if not has_torch and _run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", TORCH) != 0:
        print(f"course.py: {TORCH} is not available here; pip will choose a torch build itself.")
    _pip("-e", f"{ROOT}[dev]")
    stamp.write_text(want)


def test(args: list[str]) -> int:
    """The whole suite, or (with arguments) pytest alone on what they name.

    The whole suite is three runs: pytest (unit tests, nbval on every notebook, browser tests);
    nbval again on another float path, as another CPU would round (tools/other_cpus.py); and the
    prose's claims about trained models on seeds 1 and 2 on a third float path.
    """
    pytest = [PYTHON, "-m", "pytest", "-n", "2", "--dist", "loadfile"]
    if args:
        return _run(*pytest, *args)
    stages = [
        ("pytest: unit tests, nbval (strict) on every notebook, browser tests", [*pytest]),
        ("nbval again, on another float path (as another CPU rounds)",
         [PYTHON, "tools/other_cpus.py", "nbval", "--path", "default", "-n", "2", "--dist", "loadfile", "notebooks"]),
        ("the claims of the prose on seeds 1 and 2, on a third float path",
         [PYTHON, "tools/other_cpus.py", "claims", "--seeds", "1", "2", "--paths", "avx2", "-j", "2"]),
    ]
    failed = []
    for k, (what, cmd) in enumerate(stages, 1):
        print(f"course.py test, {k} of {len(stages)}: {what}", flush=True)
        if _run(*cmd) != 0:
            failed.append(what)
    for what in failed:
        print(f"course.py test: FAILED: {what}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("help", [])
    if command not in {"lab", "test", "check", "build"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    ensure_env()
    os.chdir(ROOT)
    if command == "lab":
        return _run(PYTHON, "-m", "jupyterlab", "notebooks/00_start_here.ipynb", *args)
    if command == "test":
        return test(args)
    if command == "check":
        return _run(PYTHON, "-m", "vae_course.grade", *args)
    return _run(PYTHON, "-m", "vae_course.exercises", "build", *args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
