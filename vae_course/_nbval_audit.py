"""A pytest plugin for the figure audit during an nbval run: each notebook's kernel records the
legibility problems of its figures in a file of its own, so tests/test_figures_legible.py can read
them instead of running the notebooks again.

Loaded with `-p vae_course._nbval_audit` (tools/other_cpus.py nbval --audit DIR does that); writes
DIR/<folder>-<notebook>.jsonl for every notebook it runs, DIR taken from $VC_FIGURE_AUDIT_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def audit_file(directory: str | Path, notebook: str | Path) -> Path:
    """Where the audit of `notebook` is written: one file per notebook, named after its folder too,
    as the learner copy and the solved copy share a name."""
    notebook = Path(notebook)
    return Path(directory) / f"{notebook.parent.name}-{notebook.stem}.jsonl"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before nbval starts a notebook's kernel (when its first cell is set up), point the kernel's
    VC_FIGURE_AUDIT at that notebook's file; the kernel inherits the environment as it starts."""
    directory = os.environ.get("VC_FIGURE_AUDIT_DIR")
    if directory and item.path.suffix == ".ipynb":
        Path(directory).mkdir(parents=True, exist_ok=True)
        os.environ["VC_FIGURE_AUDIT"] = str(audit_file(directory, item.path))
