#!/usr/bin/env python3
"""Set up the course in a local virtual environment and run it. Needs only Python 3.10+ and pip.

    python3 course.py lab [JUPYTERLAB ARGS]    # set up (first time: a few minutes), open JupyterLab
    python3 course.py notebook [NOTEBOOK ARGS] # the same in Jupyter Notebook 7
    python3 course.py test                     # set up, run the whole suite: ruff, pytest (nbval included),
                                               #   nbval on another float path, the prose's claims
    python3 course.py test [PYTEST ARGS]       # pytest alone, on what the arguments name
    python3 course.py check PATH ...           # grade learner notebooks against the solved ones
    python3 course.py build [NAME ...]         # re-run solved notebooks and rewrite learner copies
    python3 course.py slides [NN ...]          # lecturers: offline reveal.js decks, served on 127.0.0.1
    python3 course.py present [NN ...]         # lecturers: the explorers full-screen in Voila

Arguments after the command go to JupyterLab, Notebook, pytest or the checker; a `--` before them
is optional. For example `python3 course.py lab -- --port 8899 --no-browser`. As root (a container,
a cloud machine) JupyterLab refuses to start without `--allow-root`; course.py notices and adds it.

The environment lives in .venv/ beside this file and is reused; it is refreshed when
pyproject.toml changes. Each command installs what it needs: lab and notebook the course with its
`lab` extra (JupyterLab, Notebook 7), check the `check` extra (nbval, pytest), test and build
the `dev` extra (everything). torch comes first, on its own: torch==2.13.0 as a CPU-only build
(about 190 MB to download, 750 MB installed) -- from a local wheel or cache if pip has one, else
from PyTorch's CPU index (https://download.pytorch.org/whl/cpu) on Linux and Windows x86-64,
and from PyPI elsewhere (its macOS and ARM wheels are CPU builds). VAE_COURSE_TORCH replaces
that step by `pip install $VAE_COURSE_TORCH`, e.g. VAE_COURSE_TORCH="torch" (any torch >= 2.1).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
TORCH = "torch==2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_SIZE = "about 190 MB to download, 750 MB installed"
EXTRA = {"lab": "lab", "notebook": "lab", "check": "check", "test": "dev", "build": "dev",
         "slides": "slides", "present": "present"}
INCLUDES = {"dev": {"dev", "lab", "check", "slides", "present"}, "lab": {"lab"}, "check": {"check"},
            "slides": {"slides", "check"}, "present": {"present", "check"}}  # what each extra brings
WHAT = {"lab": "JupyterLab and Notebook 7", "check": "nbval, nbclient, nbformat, pytest",
        "slides": "nbconvert, reveal.js (sphinx-revealjs), MathJax (jupyter-server-mathjax)",
        "present": "Voila, Font Awesome (XStatic)",
        "dev": "JupyterLab, Notebook 7, nbval, nbconvert, Voila, pytest, pytest-xdist, playwright, ruff, PyYAML"}


def _run(*cmd, **kw) -> int:
    return subprocess.call([str(c) for c in cmd], **kw)


def _pip(*args) -> None:
    if _run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", *args) != 0:
        sys.exit(f"course.py: 'pip install {' '.join(args)}' failed; see the messages above.")


def torch_steps(system: str, machine: str, override: str | None) -> list[tuple[list[str], str]]:
    """The pip install attempts for torch, tried in order until one succeeds: (arguments, what it is).

    First without any index (a wheel in pip's find-links: nothing downloaded; its dependencies, small,
    come with the course in the next step, which resolves the installed torch's requirements), then the
    CPU-only build: from PyTorch's CPU index where PyPI's default would be the multi-GB CUDA build
    (Linux x86-64; Windows x86-64 too, as PyTorch documents it), from PyPI elsewhere. torch is
    installed alone, so the course's other packages still resolve from PyPI afterwards.
    """
    if override:
        return [(shlex.split(override), f"VAE_COURSE_TORCH={override}")]
    steps = [(["--no-index", "--no-deps", TORCH], f"{TORCH} from a local wheel, if pip has one")]
    x86 = machine.lower() in {"x86_64", "amd64", "x64"}
    if system in {"Linux", "Windows"} and x86:
        # a short timeout: an unreachable index otherwise stalls pip for minutes before it gives up
        steps.append((["--index-url", CPU_INDEX, "--timeout", "30", "--retries", "1", TORCH],
                      f"{TORCH}, CPU-only build, from {CPU_INDEX} ({TORCH_SIZE})"))
    else:
        steps.append(([TORCH], f"{TORCH} from PyPI (on {system} {machine} a CPU build; {TORCH_SIZE})"))
    return steps


def install_torch() -> None:
    if _run(PYTHON, "-c", "import torch", stderr=subprocess.DEVNULL) == 0:
        return
    steps = torch_steps(platform.system(), platform.machine(), os.environ.get("VAE_COURSE_TORCH"))
    for args, what in steps:
        print(f"course.py: installing {what}")
        quiet = ["-q"] if args[0] == "--no-index" else []
        if _run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", *quiet, *args,
                stderr=subprocess.DEVNULL if quiet else None) == 0:
            return
    print(f"course.py: could not install {steps[-1][1]}. pip will now choose a torch build itself; on Linux "
          "x86-64 PyPI's is the CUDA build, several GB. Stop here (Ctrl-C) and set VAE_COURSE_TORCH to choose one, "
          "e.g. VAE_COURSE_TORCH='torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu'.")


def ensure_env(extra: str) -> None:
    """Create .venv if needed and install the course with `extra` into it, unless already up to date."""
    if sys.version_info < (3, 10):  # noqa: UP036 (course.py may be started by an older python3)
        sys.exit(f"course.py needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    stamp = VENV / ".vae-course-stamp"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()
                          + os.environ.get("VAE_COURSE_TORCH", TORCH).encode()).hexdigest()
    have = stamp.read_text().split() if PYTHON.exists() and stamp.exists() else []
    if have[:1] == [want] and extra in have[1:]:
        return
    if not PYTHON.exists():
        print(f"course.py: creating the virtual environment {VENV}")
        venv.create(VENV, with_pip=True)
    install_torch()
    extras = sorted(set(have[1:] if have[:1] == [want] else []) | {extra})
    print(f"course.py: installing the course with {', '.join(WHAT[e] for e in extras)} "
          f"(pip install -e .[{','.join(extras)}]; the first time takes a few minutes)")
    _pip("-e", f"{ROOT}[{','.join(extras)}]")
    stamp.write_text(" ".join([want, *sorted(set().union(*(INCLUDES[e] for e in extras)))]))


def frontend_args(args: list[str], is_root: bool) -> list[str]:
    """JupyterLab / Notebook arguments: as given, plus --allow-root when running as root."""
    if is_root and not any(a.startswith(("--allow-root", "--ServerApp.allow_root")) for a in args):
        print("course.py: running as root, so adding --allow-root (Jupyter refuses to start as root without it)")
        args = [*args, "--allow-root"]
    return args


def test(args: list[str]) -> int:
    """The whole suite, or (with arguments) pytest alone on what they name.

    The whole suite is ruff (the lint rules in pyproject.toml) and three runs: nbval on the solved
    notebooks on another float path, as another CPU would round (tools/other_cpus.py), recording
    every figure's legibility and caching the explorers of the lecturer's pages as it goes; pytest
    (unit tests, nbval on the learner notebooks, browser tests, and the figure and present checks, which read
    that record and cache instead of running the notebooks again); and the
    prose's claims about trained models on seeds 1 and 2 (seed 0 is the nbval runs).
    """
    import tempfile

    pytest = [PYTHON, "-m", "pytest", "-n", "2", "--dist", "loadfile"]
    if args:
        return _run(*pytest, *args)
    audit = tempfile.mkdtemp(prefix="vae-course-figure-audit-")
    stages = [
        ("ruff: the lint rules of pyproject.toml, on the whole repository", [PYTHON, "-m", "ruff", "check", "."], {}),
        ("nbval on the solved notebooks on another float path (as another CPU rounds; the learner copies "
         "have theirs in the browser tests), recording every figure's legibility and the present cache",
         [PYTHON, "tools/other_cpus.py", "nbval", "--path", "avx2", "--audit", audit, "--present", "build/present",
          "-n", "2", "--dist", "loadfile",
          "notebooks/solutions"], {}),
        # The solved copies had their nbval run in stage 2; outside the exercise cells they print what the
        # learner copies print (tests/test_other_cpus.py), so stage 3 runs nbval on the learner copies only.
        ("pytest: unit tests, nbval (strict) on the learner notebooks, browser tests, the figure record",
         [*pytest, "--ignore=notebooks/solutions"], {"VC_FIGURE_AUDIT_DIR": audit}),
        ("the claims of the prose on seeds 1 and 2",
         [PYTHON, "tools/other_cpus.py", "claims", "--seeds", "1", "2", "--paths", "native", "-j", "2"], {}),
    ]
    failed = []
    for k, (what, cmd, env) in enumerate(stages, 1):
        print(f"course.py test, {k} of {len(stages)}: {what}", flush=True)
        if _run(*cmd, env={**os.environ, **env}) != 0:
            failed.append(what)
    for what in failed:
        print(f"course.py test: FAILED: {what}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("help", [])
    if command not in EXTRA:
        print(__doc__)
        if command not in {"help", "-h", "--help"}:
            print(f"course.py: unknown command {command!r}; expected one of: {', '.join(EXTRA)}.")
            return 2
        return 0
    if args[:1] == ["--"]:
        args = args[1:]
    ensure_env(EXTRA[command])
    os.chdir(ROOT)
    if command in {"lab", "notebook"}:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
        app = "jupyterlab" if command == "lab" else "notebook"
        return _run(PYTHON, "-m", app, "notebooks/00_start_here.ipynb", *frontend_args(args, is_root))
    if command == "test":
        return test(args)
    if command == "check":
        return _run(PYTHON, "-m", "vae_course.grade", *args)
    if command == "slides":
        return _run(PYTHON, "-m", "vae_course.slides", *(args if args[:1] == ["mark"] else ["build", *args]))
    if command == "present":
        return _run(PYTHON, "-m", "vae_course.present", *args)
    return _run(PYTHON, "-m", "vae_course.exercises", "build", *args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
