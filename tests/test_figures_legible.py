"""Figures a learner can read at 100% zoom: text at least 9 px, no overlapping labels, no text off a
fixed canvas, digits at least 48 px wide (`vae_course.figures.legibility_problems`), first on small
figures made to fail, then on every figure and explorer picture of the notebooks in LEGIBLE, as
they run (VC_FIGURE_AUDIT makes `setup_notebook` record each figure's problems in a file)."""

import json
import os

import matplotlib.pyplot as plt
import nbformat
import pytest

from vae_course import data, figures
from vae_course._nbval_audit import audit_file
from vae_course.exercises import SOLUTIONS, execute

#: The notebooks whose every figure is checked as it runs. A notebook joins when its figures pass.
LEGIBLE: list[str] = ["00", "01", "02", "03", "04", "05", "06", "07"]


@pytest.fixture(autouse=True)
def _style():
    with plt.rc_context({"figure.dpi": 90}):
        yield
    plt.close("all")


def test_a_readable_figure_has_no_problems():
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set(title="A readable figure", xlabel="x", ylabel="y")
    ax.legend()
    assert figures.legibility_problems(fig) == []


def test_small_text_is_named_with_its_size_in_pixels():
    fig, ax = plt.subplots()
    ax.set_xlabel("tiny", fontsize=5)  # 5 pt at 90 dpi is 6.25 px
    assert figures.legibility_problems(fig) == ["text 'tiny' is 6.2 px high, below 9 px"]
    ax.set_xlabel("tiny", fontsize=7.2)  # 9 px exactly
    assert figures.legibility_problems(fig) == []


def test_sizes_are_judged_at_the_dpi_the_picture_is_saved_at():
    fig, ax = plt.subplots()
    ax.set_xlabel("label", fontsize=8)  # 10 px at the figure's 90 dpi, 8 px in a PNG saved at 72 dpi
    assert figures.legibility_problems(fig) == []
    assert figures.legibility_problems(fig, dpi=72) == ["text 'label' is 8.0 px high, below 9 px"]


def test_tick_labels_of_ticks_outside_the_range_are_not_counted():
    """matplotlib makes labels for ticks beyond the axis limits but never draws them."""
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.set_xticks([-6, 0, 6], labels=["left", "mid", "right"], fontsize=5)
    ax.set_xlim(-1, 1)
    assert [p.split("'")[1] for p in figures.legibility_problems(fig)] == ["mid"]
    ax.set_xlim(-7, 7)
    assert [p.split("'")[1] for p in figures.legibility_problems(fig)] == ["left", "mid", "right"]


def test_titles_that_run_into_each_other_are_found():
    fig, axes = plt.subplots(1, 2, figsize=(4, 2))
    axes[0].set_title("a long title that runs into its neighbour")
    axes[1].set_title("the neighbour")
    problems = figures.legibility_problems(fig)
    assert any("overlap" in p and "the neighbour" in p for p in problems), problems
    axes[0].set_title("short")
    assert figures.legibility_problems(fig) == []


def test_text_off_a_fixed_canvas_counts_only_where_the_canvas_is_fixed():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("a title far too long for this small canvas to hold in one line")
    assert any("leaves the canvas" in p for p in figures.legibility_problems(fig, tight=False))
    assert not any("leaves the canvas" in p for p in figures.legibility_problems(fig, tight=True))


def test_digits_narrower_than_48_px_are_found_and_wide_ones_pass():
    x = data.load_digits("val").x[:22]
    ax = figures.image_grid(x, 22, title="22 digits in a strip")  # the default size: about 39 px a digit
    assert any("px wide, below 48 px" in p for p in figures.legibility_problems(ax.figure))
    fig, ax = plt.subplots(figsize=(8, 2.4))
    figures.image_grid(x[:6], 6, ax=ax, title="six digits")
    assert figures.legibility_problems(fig) == []


def test_the_audit_records_an_unreadable_inline_figure_and_an_explorer_picture(tmp_path, monkeypatch):
    path = tmp_path / "audit.jsonl"
    monkeypatch.setattr(figures, "_AUDIT", {"path": None})
    from matplotlib.backend_bases import FigureCanvasBase

    monkeypatch.setattr(FigureCanvasBase, "print_figure", FigureCanvasBase.print_figure)  # undone after the test
    figures.audit_figures(str(path))
    fig, ax = plt.subplots()
    ax.set_title("small", fontsize=4)
    fig.savefig(tmp_path / "a.png", bbox_inches="tight")
    blit = figures.BlitFigure(fig, [])
    blit.png()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 2 and all("'small' is 5.0 px high" in r["problems"][0] for r in rows)
    assert rows[0]["figure"] == "small"


@pytest.mark.parametrize("number", LEGIBLE)
def test_every_figure_of_the_notebook_is_legible(number, tmp_path):
    """Read the audit of an earlier nbval run of the same notebook if there is one (`course.py test`
    runs nbval on another float path with the audit first and sets VC_FIGURE_AUDIT_DIR), else run
    the notebook with the audit."""
    (source,) = SOLUTIONS.glob(f"{number}_*.ipynb")
    earlier = os.environ.get("VC_FIGURE_AUDIT_DIR")
    audit = audit_file(earlier, source) if earlier else None
    if audit is None or not audit.exists():
        audit = tmp_path / "audit.jsonl"
        nb = nbformat.read(source, as_version=4)
        execute(nb, source.parent, env={**os.environ, "VC_FIGURE_AUDIT": str(audit)})
    rows = [json.loads(line) for line in audit.read_text().splitlines()]
    assert rows == [], f"{source.name}: " + "; ".join(
        f"cell [{r['execution_count']}] {r['figure']!r}: {', '.join(r['problems'])}" for r in rows)



def test_an_nbval_run_with_the_audit_plugin_writes_each_notebook_its_own_file(tmp_path):
    """`-p vae_course._nbval_audit` with VC_FIGURE_AUDIT_DIR: one file per notebook, named after its
    folder too; empty when every figure is readable, one line per unreadable one otherwise."""
    import subprocess
    import sys

    setup = "import matplotlib.pyplot as plt\nimport vae_course as vc\nvc.setup_notebook(quiet=True)"
    for folder, size in (("solutions", 4), ("notebooks", 12)):
        cells = [setup, f"fig, ax = plt.subplots()\nax.set_title('a title', fontsize={size})\nplt.show()"]
        (tmp_path / folder).mkdir()
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]),
                       tmp_path / folder / "07_x.ipynb")
    out = tmp_path / "audit"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "vae_course._nbval_audit",
                          "--nbval-lax", "--nbval-current-env", "solutions", "notebooks"], cwd=tmp_path,
                         env={**os.environ, "VC_FIGURE_AUDIT_DIR": str(out)}, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    small = [json.loads(line) for line in audit_file(out, "solutions/07_x.ipynb").read_text().splitlines()]
    assert len(small) == 1 and "'a title' is 5.0 px high" in small[0]["problems"][0]
    assert audit_file(out, "notebooks/07_x.ipynb").read_text() == ""
