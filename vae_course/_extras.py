"""Optional dependencies: imported where they are needed, with a message naming the extra that brings them.

`import vae_course` needs only the run dependencies. Checking notebooks (`vae_course.grade`,
`vae_course.exercises`) needs the `check` extra: nbval, nbclient, nbformat, pytest.
"""

from __future__ import annotations

import importlib
import importlib.util

EXTRA_OF = {"nbformat": "check", "nbclient": "check", "nbval": "check", "pytest": "check"}


def _message(missing: list[str], what: str) -> str:
    extras = sorted({EXTRA_OF.get(m, "dev") for m in missing})
    spec = ",".join(extras)
    return (f"{what} needs {', '.join(missing)}, not installed in this Python ({_python()}). Install the "
            f"course's '{spec}' extra: pip install \"vae-course[{spec}]\" (from a clone of the repository: "
            f"pip install -e \".[{spec}]\"; python3 course.py check, test and build install it themselves).")


def _python() -> str:
    import sys

    return sys.executable


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken install, or an import hook refusing it
        return False


def need(module: str, what: str):
    """Import `module`, or raise ImportError saying which extra to install for `what`."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(_message([module], what)) from err


def require(modules: list[str], what: str) -> None:
    """Raise ImportError naming the extra if any of `modules` cannot be imported (without importing them)."""
    missing = [m for m in modules if not _found(m)]
    if missing:
        raise ImportError(_message(missing, what))
