"""A pytest plugin for `vae_course.grade`: records each nbval cell's outcome and printed text.

Loaded with `-p vae_course._nbval_report`; writes JSON lines to $VAE_COURSE_REPORT.
"""

from __future__ import annotations

import json
import os
import re

import pytest


def _text(outputs) -> str:
    parts = []
    for out in outputs or []:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return "".join(parts)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    path = os.environ.get("VAE_COURSE_REPORT")
    if not path or report.when != "call" or not hasattr(item, "cell_num"):
        return
    error = ""
    if report.failed and call.excinfo is not None:
        exc = call.excinfo.value
        error = re.sub(r"\x1b\[[0-9;]*m", "", getattr(exc, "inner_traceback", None) or str(exc))
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"notebook": os.path.basename(str(item.fspath)), "cell": item.cell_num,
                            "passed": report.passed, "got": _text(item.test_outputs),
                            "error": error}) + "\n")
