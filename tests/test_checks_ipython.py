"""A check cell run after its exercise cell failed: in a real IPython shell and in a Jupyter kernel, the
check does not test the definition left over from before, and names the error that stopped the cell.

The shell runs in a subprocess (an InteractiveShell in pytest's own process would change what every
later test sees: get_ipython(), sys.displayhook)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]

SHELL = textwrap.dedent('''
    import contextlib, io, json, sys
    from IPython.core.interactiveshell import InteractiveShell
    ip = InteractiveShell.instance(colors="nocolor")
    outs = []
    for cell in json.load(sys.stdin):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
            ip.run_cell(cell, store_history=True)
        outs.append(buf.getvalue())
    print(json.dumps(outs))
''')

CHECK = "exponential_icdf = vc.nb01.exercise_1_1(exponential_icdf)"
RIGHT = "def exponential_icdf(u, rate):\n    return -torch.log1p(-u) / rate"
WRONG = "def exponential_icdf(u, rate):\n    return u * rate"
STUB = 'def exponential_icdf(u, rate):\n    raise NotImplementedError("Exercise 1.1")'

# (cell, words its output must contain or None for no output check, words it must not contain)
SESSION = [
    ("import math, torch\nimport vae_course as vc", None, None),
    (STUB, None, None),
    (CHECK, "… Exercise 1.1 not attempted yet", None),
    # a syntax error: the name still holds the reference the check above put in place
    ("def exponential_icdf(u, rate)\n    return -torch.log1p(-u) / rate", None, None),
    (CHECK, "✗ Exercise 1.1: your exercise cell did not run to the end (SyntaxError at line 1: expected ':', "
            "in `def exponential_icdf(u, rate)`); fix it and run it again, then this cell. Until then "
            "`exponential_icdf` is still the course's reference (an earlier run of this check put it in place), "
            "not your code.", "Run your exercise cell above again"),
    (CHECK, "did not run to the end (SyntaxError at line 1", "Run your exercise cell above again"),
    (RIGHT, None, None),
    (CHECK, "✓ Exercise 1.1 passed", None),
    # an error before the def: the right answer above must not pass in place of this one
    ("scale = 2 * undefined_name\n" + WRONG, None, None),
    (CHECK, "✗ Exercise 1.1: your exercise cell did not run to the end (NameError at line 1: name "
            "'undefined_name' is not defined); fix it and run it again, then this cell. Until then "
            "`exponential_icdf` is still your previous definition, and this check does not test it.", "✓"),
    # an error after the def: the function is the new one, and it is checked
    (RIGHT + "\n1 / 0", None, None),
    (CHECK, "✓ Exercise 1.1 passed", None),
    # a wrong answer that ran, then an error inside a function of that cell called from another cell
    ("def helper(u):\n    return 1 / 0\n" + WRONG, None, None),
    (CHECK, "✗ Exercise 1.1: for rate = 2.5 the values differ", "did not run to the end"),
    ("helper(1)", None, None),
    (CHECK, "still the reference solution that an earlier run of this check put in place", "did not run to the end"),
    # an indentation error in the stub's place, after a passing answer
    (RIGHT, None, None),
    ("def exponential_icdf(u, rate):\nreturn u", None, None),
    (CHECK, "(IndentationError at line 2: expected an indented block", "✓"),
]


def _assert_session(outs):
    assert len(outs) == len(SESSION)
    for k, ((cell, words, absent), out) in enumerate(zip(SESSION, outs)):
        if words is not None:
            assert words in out, (k, cell, out)
        if absent is not None:
            assert absent not in out, (k, cell, out)


def test_a_failed_exercise_cell_is_named_in_an_ipython_shell(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IPYTHONDIR": str(tmp_path)}  # no profile of the user's
    env.pop("NBGRADER_EXECUTION", None)
    done = subprocess.run([sys.executable, "-c", SHELL], input=json.dumps([c for c, _, _ in SESSION]),
                          capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    _assert_session(json.loads(done.stdout.splitlines()[-1]))


def test_a_failed_exercise_cell_is_named_in_a_jupyter_kernel(tmp_path):
    """As nbval and nbgrader run a notebook: ipykernel names a cell's code after a hash of its source."""
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c, _, _ in SESSION])
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    env["PYTHONPATH"] = str(ROOT)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    _assert_session(["".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
                     for cell in nb.cells])
