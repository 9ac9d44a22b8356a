"""Figure parts that several notebooks share; each notebook's own figures are in nbNN/figures.py.

Functions take data (and an optional `ax`) and return the Axes or Figure; classes for explorers
(`BlitFigure`) keep their artists and redraw only what moves. Nothing here trains, samples or
computes a model; the style is set by `vae_course.setup_notebook`.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

IMAGE_KW = dict(cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")


COLORS = {"samples": "#9ecae1", "density": "#08519c", "target": "#d95f02", "data": "#1b9e77"}


def ax_or_new(ax: Axes | None, figsize=(5, 3.2)) -> Axes:
    return plt.subplots(figsize=figsize)[1] if ax is None else ax


def as_numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def image_grid(images, ncols: int | None = None, *, ax: Axes | None = None, title: str = "",
               pad: int = 1) -> Axes:
    """Tile 8×8 images (N, 64) or (N, 8, 8), values in [0, 1], into one picture on `ax`."""
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    canvas = tile_images(images, ncols, pad)
    ax = ax_or_new(ax, figsize=(ncols * 0.6 + 0.4, nrows * 0.6 + 0.6))
    cmap = plt.get_cmap("gray").with_extremes(bad="white")
    shown = ax.imshow(canvas, **{**IMAGE_KW, "cmap": cmap})
    shown.vc_tile_px = 8 + pad  # for `legibility_problems`: one digit is 8 of these source pixels
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return ax


class BlitFigure:
    """A figure for explorers: static parts drawn once, changing artists drawn on top of them.

    `dynamic` artists are marked animated; `png()` restores the cached background, draws only
    them and encodes the canvas (about 10 ms instead of 40–80 ms for a full redraw). Call
    `invalidate()` after changing anything static (limits, legend, labels).
    """

    def __init__(self, fig: Figure, dynamic: list):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig, self.canvas, self.dynamic = fig, FigureCanvasAgg(fig), dynamic
        for artist in dynamic:
            artist.set_animated(True)
        self._background = None

    def invalidate(self) -> None:
        self._background = None

    def png(self) -> bytes:
        from PIL import Image

        if self._background is None:
            if _AUDIT["path"] is not None:
                _record(self.fig, tight=False)
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        for artist in self.dynamic:
            self.fig.draw_artist(artist)
        buf = io.BytesIO()
        Image.frombuffer("RGBA", self.canvas.get_width_height(), self.canvas.buffer_rgba()).save(
            buf, format="png", compress_level=1)
        return buf.getvalue()


def png_of(fig: Figure, dpi: float | None = None, *, close: bool = True) -> bytes:
    """The PNG bytes of a whole figure, saved at `dpi` (the figure's own when None); closes it unless
    close=False. For pictures drawn once (the β-dial's); `BlitFigure.png` redraws only what moved."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    if close:
        plt.close(fig)
    return buf.getvalue()


def plot_bars(values: dict, *, ax: Axes | None = None, title: str = "", ylabel: str = "",
              fmt: str = "{:.3f}") -> Axes:
    """A labelled bar chart of named numbers {name: value}, each bar annotated with its value."""
    ax = ax_or_new(ax)
    names, heights = list(values), [float(v) for v in values.values()]
    bars = ax.bar(names, heights, color=[COLORS["density"], COLORS["target"], COLORS["data"], "0.5"][:len(names)])
    ax.bar_label(bars, labels=[fmt.format(h) for h in heights], fontsize="small")
    ax.set(title=title, ylabel=ylabel)
    ax.margins(y=0.15)
    return ax


#: Radii of circles holding 39%, 86% and 99% of N(0, I) in two dimensions (P(|z| < r) = 1 − e^(−r²/2)).
PRIOR_RADII = (1.0, 2.0, 3.0)


def draw_prior_circles(ax: Axes) -> None:
    t = np.linspace(0, 2 * np.pi, 200)
    for i, r in enumerate(PRIOR_RADII):
        ax.plot(r * np.cos(t), r * np.sin(t), color=COLORS["target"], lw=1.2, ls="--",
                label=r"$\mathcal{N}(0, I)$: 39 / 86 / 99% circles" if i == 0 else None)


def latent_limit(points) -> float:
    return float(max(4.0, np.ceil(np.quantile(np.abs(as_numpy(points)), 0.995))))


def plot_codes(mu, labels, *, ax: Axes | None = None, title: str = "", lim: float | None = None) -> Axes:
    """Posterior means mu (N, 2) coloured by digit label (N,), over the N(0, I) circles."""
    mu, labels = as_numpy(mu), as_numpy(labels)
    ax = ax_or_new(ax, figsize=(4, 4))
    lim = lim or latent_limit(mu)
    points = ax.scatter(mu[:, 0], mu[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=6)
    draw_prior_circles(ax)
    ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$", xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax.figure.colorbar(points, ax=ax, ticks=range(10), label="digit", shrink=0.8)
    return ax


def plot_curves(curves: dict, *, ax: Axes | None = None, title: str = "", xlabel: str = "epoch",
                ylabel: str = "", ylim=None) -> Axes:
    """Named curves {name: values} against their index (e.g. loss per epoch), one line each."""
    ax = ax_or_new(ax)
    for name, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), as_numpy(values), lw=1.8, label=name)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize="small")
    return ax


def tile_images(images, ncols: int, pad: int = 1) -> np.ndarray:
    """8×8 images (N, 64) tiled row by row into one array, NaN (drawn white) between and after them."""
    imgs = as_numpy(images).reshape(len(images), 8, 8)
    nrows = -(-len(imgs) // ncols)
    canvas = np.full((nrows * (8 + pad) - pad, ncols * (8 + pad) - pad), np.nan)
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncols)
        canvas[r * (8 + pad):r * (8 + pad) + 8, c * (8 + pad):c * (8 + pad) + 8] = img
    return canvas


def nice_top(value: float) -> float:
    """Round an axis limit up to 1, 1.5, 2, 3, 5 or 7 times a power of ten."""
    exp = 10 ** np.floor(np.log10(value))
    return float(next(m * exp for m in (1, 1.5, 2, 3, 5, 7, 10) if m * exp >= value))


# ---------------------------------------------------------------- legibility at 100% zoom

MIN_TEXT_PX = 9.0    # the smallest text a learner can read at 100% zoom
MIN_DIGIT_PX = 48.0  # the smallest 8×8 digit a learner can read at 100% zoom


def legibility_problems(fig: Figure, *, tight: bool = True, dpi: float | None = None,
                        min_text_px: float = MIN_TEXT_PX, min_digit_px: float = MIN_DIGIT_PX) -> list[str]:
    """What a learner could not read in `fig` as it is shown (saved at `dpi`, by default the figure's
    own), one line per problem.

    - text smaller than `min_text_px` pixels (font size in points × dpi / 72);
    - texts that overlap: a title, axis label or tick label over another one;
    - with tight=False (a fixed canvas, as an explorer's PNG): text that leaves the canvas.
      Inline figures are saved with a tight bounding box, which grows to hold every text;
    - 8×8 digits drawn by `image_grid` narrower than `min_digit_px` pixels.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    scale = (dpi or fig.dpi) / fig.dpi  # sizes on screen: the saved dpi over the drawn one
    problems, boxes = [], []
    undrawn = set()  # tick labels of ticks outside the axis range: matplotlib never draws them
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            slack = 1e-9 * max(1.0, abs(lo), abs(hi))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not lo - slack <= loc <= hi + slack:
                    undrawn.update((id(tick.label1), id(tick.label2)))
    for t in fig.findobj(Text):
        text = t.get_text().strip()
        if (not text or not t.get_visible() or t.get_alpha() == 0 or t.figure is None
                or id(t) in undrawn):
            continue
        px = t.get_fontsize() * (dpi or fig.dpi) / 72
        if px < min_text_px - 1e-9:
            problems.append(f"text {text[:40]!r} is {px:.1f} px high, below {min_text_px:g} px")
        box = t.get_window_extent(renderer)
        if not tight and (box.x0 < -1 or box.y0 < -1 or box.x1 > fig.bbox.width + 1 or box.y1 > fig.bbox.height + 1):
            problems.append(f"text {text[:40]!r} leaves the canvas")
        axes = getattr(t, "axes", None)
        boxes.append((text, box, axes, t))
    for i, (a_text, a, a_ax, a_t) in enumerate(boxes):
        for b_text, b, b_ax, b_t in boxes[i + 1:]:
            if a_ax is b_ax and not (a_t is getattr(a_ax, "title", None) or b_t is getattr(b_ax, "title", None)):
                continue  # within one axes only a title clash is counted (legends and annotations sit on data)
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w > 2 and h > 2:
                problems.append(f"texts {a_text[:30]!r} and {b_text[:30]!r} overlap")
    for ax in fig.axes:
        for im in ax.get_images():
            tile = getattr(im, "vc_tile_px", None)
            if tile is None:
                continue
            shown = im.get_window_extent(renderer).width / im.get_array().shape[1] * 8 * scale
            if shown < min_digit_px - 1e-9:
                problems.append(f"digits in {ax.get_title()[:40]!r} are {shown:.0f} px wide, below {min_digit_px:g} px")
    return problems


_AUDIT = {"path": None}


def _record(fig: Figure, tight: bool, dpi: float | None = None) -> None:
    """Append the figure's legibility problems to the audit file as one JSON line (if any)."""
    import json

    try:
        from IPython import get_ipython

        shell = get_ipython()
        count = shell.execution_count if shell is not None else None
    except ImportError:
        count = None
    problems = legibility_problems(fig, tight=tight, dpi=dpi)
    if problems:
        title = fig.get_suptitle() or next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
        with open(_AUDIT["path"], "a", encoding="utf-8") as out:
            out.write(json.dumps({"execution_count": count, "figure": title, "problems": problems},
                                 ensure_ascii=False) + "\n")


def audit_figures(path: str) -> None:
    """From now on, record the legibility problems of every figure shown (inline or as an explorer's
    PNG) in the file `path`, one JSON line per figure with problems. Nothing is printed, so nbval and
    the learner see no difference. `setup_notebook` calls it when VC_FIGURE_AUDIT names a file
    (tests/test_figures_legible.py does that)."""
    from matplotlib.backend_bases import FigureCanvasBase

    if _AUDIT["path"] is None:
        original = FigureCanvasBase.print_figure

        def print_figure(self, *args, **kwargs):
            dpi = kwargs.get("dpi")
            _record(self.figure, tight=kwargs.get("bbox_inches") == "tight",
                    dpi=None if dpi in (None, "figure") else float(dpi))
            return original(self, *args, **kwargs)

        FigureCanvasBase.print_figure = print_figure
    _AUDIT["path"] = path
    Path(path).touch()  # an empty file: audited, no problems (a missing one: never audited)


def mass_levels(density, masses, cell: float = 1.0) -> list[float]:
    """Density levels t whose regions {z : p(z) ≥ t} hold the given shares of the mass, for contours
    drawn at equal probability mass (for a normal in 2-D, 39% and 86% are its 1σ and 2σ ellipses).

    density: a density sampled on a regular grid (any shape; an array or a CPU tensor), cell: the area
    of one grid cell (mass = density · cell); masses: shares in (0, 1). Sorts the grid values from the
    highest down and finds, for each share, the value at which their accumulated mass first reaches it.
    Returns the levels in increasing order (the largest mass first), as matplotlib's contour wants them.
    """
    values = np.asarray(density, dtype=float).ravel()
    if values.size == 0 or not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("density must hold finite non-negative values on a grid.")
    if not isinstance(cell, (int, float)) or not np.isfinite(cell) or cell <= 0:
        raise ValueError(f"cell must be a positive number (the area of one grid cell), got {cell!r}.")
    masses = [float(m) for m in (masses if isinstance(masses, (list, tuple)) else [masses])]
    if not masses or any(not 0 < m < 1 for m in masses):
        raise ValueError(f"masses must be shares strictly between 0 and 1, got {masses}.")
    values = np.sort(values)[::-1]
    cumulative = np.cumsum(values) * cell
    if cumulative[-1] < max(masses):
        raise ValueError(f"the grid holds only {cumulative[-1]:.3f} of the mass, less than the share "
                         f"{max(masses)} asked for; widen the grid.")
    return sorted(float(values[np.searchsorted(cumulative, m)]) for m in masses)
