"""Every notebook keeps the course's shape: title, goals, setup, short cells, recap, next; plots labelled."""

import re

import nbformat
import pytest

from vae_course.exercises import NOTEBOOKS, SOLUTIONS

SOLVED = sorted(SOLUTIONS.glob("*.ipynb"))


@pytest.fixture(params=SOLVED, ids=lambda p: p.stem)
def nb(request):
    return nbformat.read(request.param, as_version=4)


def test_solutions_exist_for_00_and_01():
    assert [p.name[:2] for p in SOLVED][:2] == ["00", "01"]


def test_opening_recap_and_next(nb):
    first = nb.cells[0].source
    assert re.match(r"# \d\d · ", first), "a title '# NN · name'"
    assert "**You will**" in first and "**Needs**" in first and "**Time**" in first
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()]
    assert "## Recap" in headings and "## Next" in headings


def test_setup_cell_seeds_and_is_the_first_code_cell(nb):
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "vc.setup_notebook(seed=" in code[0].source
    assert "nbval-ignore-output" in code[0].metadata.get("tags", [])
    assert not any("setup_notebook" in c.source for c in code[1:])


def test_code_cells_are_short(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= 15, f"cell {i} is longer than 15 lines"


def test_every_run_of_code_cells_is_introduced_by_prose_and_is_short(nb):
    """A learner reads before running: every run of consecutive code cells follows a markdown cell with
    prose (not a bare heading) that leads into it, and no run is longer than 5 cells (a check cell, a
    claim or a plot may follow the cell the prose introduced, but not a page of code)."""
    i = 0
    while i < len(nb.cells):
        if nb.cells[i].cell_type != "code":
            i += 1
            continue
        start = i
        while i < len(nb.cells) and nb.cells[i].cell_type == "code":
            i += 1
        assert start > 0 and nb.cells[start - 1].cell_type == "markdown", f"code cell {start} opens the notebook"
        prose = [line.strip() for line in nb.cells[start - 1].source.splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
        assert prose, f"cell {start - 1}, before code cell {start}, is only a heading"
        if start > 1:  # the setup cell follows the title cell, whose last line is **Needs** · **Time**
            assert prose[-1].endswith((".", ":", "?", "$$", ")")), \
                f"cell {start - 1} does not end with a sentence leading into code cell {start}: {prose[-1]!r}"
        assert i - start <= 5, f"code cells {start}–{i - 1}: {i - start} in a row without prose between them"


def test_every_exercise_is_introduced_by_its_heading(nb):
    for i, cell in enumerate(nb.cells):
        for tag in cell.metadata.get("tags", []):
            if tag.startswith("exercise:"):
                number = tag.split(":")[1]
                assert nb.cells[i - 1].cell_type == "markdown", f"exercise {number} follows a code cell"
                assert f"### Exercise {number} — " in nb.cells[i - 1].source, \
                    f"the cell before exercise {number} does not carry its heading '### Exercise {number} — …'"


def test_plots_end_with_show_and_raw_matplotlib_is_labelled(nb):
    """Package plotting functions label their axes (tests/test_plotting.py); raw matplotlib in a cell must too."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "plt." in cell.source:
            assert cell.source.rstrip().endswith("plt.show()")
            raw = len(re.findall(r"\.(?:hist|plot|scatter|imshow|bar)\(", cell.source))
            assert cell.source.count("title=") >= raw and cell.source.count("xlabel=") >= raw


def test_random_draws_take_the_notebook_generator(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            for call in re.findall(r"torch\.(?:randn|rand|randint|randperm)\([^)]*\)", cell.source):
                assert "generator=" in call, f"unseeded draw: {call}"


def test_stored_outputs_hold_no_errors_and_every_plot_was_drawn():
    for path in SOLVED + sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            assert cell.execution_count is not None, f"{path.name}: a cell was not executed"
            for out in cell.outputs:
                assert out.output_type != "error", f"{path.name}: stored error {out.get('ename')}"
            if "plt.show()" in cell.source:
                assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"{path.name}: no figure"
