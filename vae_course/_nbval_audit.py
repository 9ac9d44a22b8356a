"""A pytest plugin that records, during an nbval run, what later tests would otherwise run the
notebooks again for:

- the figure audit: each notebook's kernel records the legibility problems of its figures in a file
  of its own, DIR/<folder>-<notebook>.jsonl, DIR taken from $VC_FIGURE_AUDIT_DIR
  (tests/test_figures_legible.py reads them);
- the explorers of the lecturer's pages: with $VC_PRESENT_CACHE_DIR set (vae_course.present's
  target, build/present), each solved notebook's kernel also runs `vae_course.present.RECORD_CODE`
  before its first cell and `present.save_code(...)` after its last, as `present.build_page` runs
  them, and the cache's key is written only when every cell passed and the save succeeded; then
  `present.build` (tests/test_present.py) finds the cache up to date instead of running the
  notebook once more.

Loaded with `-p vae_course._nbval_audit` (tools/other_cpus.py nbval --audit DIR [--present DIR]).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PRESENT = "VC_PRESENT_CACHE_DIR"
TIMEOUT = 600  # s, for the present cache's save


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


# ---------------------------------------------------------------- the present cache

_recording: dict[str, dict] = {}  # notebook node id → {"key": ..., "failed": bool}


def in_kernel(kernel, code: str, timeout: float = TIMEOUT) -> str:
    """Run `code` in nbval's kernel for this notebook, outside nbval's cells (no history, no outputs
    compared: nbval reads only the messages of its own cells); '' if it ran, else the error."""
    msg_id = kernel.kc.execute(code, store_history=False, allow_stdin=False)
    while True:
        reply = kernel.kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    kernel.await_idle(msg_id, timeout)
    content = reply["content"]
    return "" if content.get("status") == "ok" else f"{content.get('ename')}: {content.get('evalue')}"


def _present_target(item) -> Path | None:
    target = os.environ.get(PRESENT)
    notebook = getattr(item, "parent", None)
    if not target or item.path.suffix != ".ipynb" or item.path.parent.name != "solutions" or \
            getattr(notebook, "kernel", None) is None:
        return None
    return Path(target)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    target = _present_target(item)
    notebook = item.parent.nodeid if target else None
    if target and notebook not in _recording:
        from vae_course import present

        cache, key_file = present.cache_files(item.path, target)
        key_file.unlink(missing_ok=True)  # a key only for a cache this run completes
        cache.parent.mkdir(parents=True, exist_ok=True)
        error = in_kernel(item.parent.kernel, present.RECORD_CODE)
        _recording[notebook] = {"key": present.key_of(item.path), "failed": bool(error)}
    outcome = yield
    if target and outcome.excinfo is not None:
        _recording[notebook]["failed"] = True


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """After a solved notebook's last cell, before nbval stops its kernel: save its explorers."""
    target = _present_target(item)
    notebook = item.parent.nodeid if target else None
    last = nextitem is None or getattr(nextitem, "parent", None) is not item.parent
    if target and last and notebook in _recording:
        state = _recording[notebook]
        if not state["failed"] and item.parent.kernel.is_alive():
            from vae_course import present

            cache, key_file = present.cache_files(item.path, target)
            cache.unlink(missing_ok=True)
            if not in_kernel(item.parent.kernel, present.save_code(cache)) and cache.exists():
                key_file.write_text(state["key"])
    yield
