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


def test_code_cells_are_short_and_every_code_cell_is_introduced(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= 15, f"cell {i} is longer than 15 lines"


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
