"""Plotting: functions take data (and an optional `ax`) and return the Axes (or Figure).

Nothing here trains, samples or computes a model; style is set by `vae_course.setup_notebook`.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .distributions import PushforwardSummary

IMAGE_KW = dict(cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
COLORS = {"samples": "#9ecae1", "density": "#08519c", "target": "#d95f02", "data": "#1b9e77"}


def _ax(ax: Axes | None, figsize=(5, 3.2)) -> Axes:
    return plt.subplots(figsize=figsize)[1] if ax is None else ax


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def image_grid(images, ncols: int | None = None, *, ax: Axes | None = None, title: str = "",
               pad: int = 1) -> Axes:
    """Tile 8×8 images (N, 64) or (N, 8, 8), values in [0, 1], into one picture on `ax`."""
    imgs = _np(images).reshape(len(images), 8, 8)
    n = len(imgs)
    ncols = ncols or n
    nrows = -(-n // ncols)
    canvas = np.full((nrows * (8 + pad) - pad, ncols * (8 + pad) - pad), np.nan)
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncols)
        canvas[r * (8 + pad):r * (8 + pad) + 8, c * (8 + pad):c * (8 + pad) + 8] = img
    ax = _ax(ax, figsize=(ncols * 0.6 + 0.4, nrows * 0.6 + 0.6))
    cmap = plt.get_cmap("gray").with_extremes(bad="white")
    ax.imshow(canvas, **{**IMAGE_KW, "cmap": cmap})
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return ax


def plot_density_check(samples, grid, density, edges, *, ax: Axes | None = None, title: str = "",
                       xlabel: str = "$x$", label: str = "change-of-variables density") -> Axes:
    """A histogram of `samples` (as a density on `edges`) under the curve `density` over `grid`."""
    ax = _ax(ax)
    ax.hist(_np(samples), bins=_np(edges), density=False,
            weights=np.full(len(samples), 1.0 / len(samples)) / np.diff(_np(edges)).mean(),
            color=COLORS["samples"], label=f"histogram of {len(samples):,} samples")
    ax.plot(_np(grid), _np(density), color=COLORS["density"], lw=2, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel="density")
    ax.legend(loc="best", fontsize="small")
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


def _nice_top(value: float) -> float:
    """Round an axis limit up to 1, 1.5, 2, 3, 5 or 7 times a power of ten."""
    exp = 10 ** np.floor(np.log10(value))
    return float(next(m * exp for m in (1, 1.5, 2, 3, 5, 7, 10) if m * exp >= value))


class PushforwardFigure:
    """The pushforward explorer's picture: the histogram of g(Z), its density, a target.

    draw(summary, title) updates the artists in place; png() returns PNG bytes. The y-range only
    changes when the curves outgrow it or shrink below half of it, so most moves are cheap.
    """

    def __init__(self, summary: PushforwardSummary, target_label: str, figsize=(7.2, 3.6), dpi=90):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.14)
        ax = self.ax = fig.add_subplot()
        edges, grid = _np(summary.edges), _np(summary.grid)
        self.hist = ax.stairs(_np(summary.heights), edges, fill=True, color=COLORS["samples"],
                              label=f"histogram of g(Z), {len(summary.samples):,} draws")
        (self.line,) = ax.plot(grid, _np(summary.density), color=COLORS["density"], lw=2,
                               label="change-of-variables density $p_X$")
        (self.target,) = ax.plot(grid, _np(summary.target_density), color=COLORS["target"], lw=2,
                                 ls="--", label=f"target: {target_label}")
        ax.set(xlim=(edges[0], edges[-1]), ylim=(0, 1), xlabel="$x = g(z)$", ylabel="density")
        ax.legend(loc="upper right", fontsize="small")
        self.blit = BlitFigure(fig, [self.hist, self.line, self.target, ax.title])
        self.fig = fig
        self.draw(summary, "")

    def draw(self, s: PushforwardSummary, title: str, target_label: str | None = None) -> None:
        self.hist.set_data(_np(s.heights))
        self.line.set_ydata(_np(s.density))
        self.target.set_ydata(_np(s.target_density))
        if target_label is not None and self.target.get_label() != f"target: {target_label}":
            self.target.set_label(f"target: {target_label}")
            self.ax.legend(loc="upper right", fontsize="small")
            self.blit.invalidate()
        need = min(1.15 * max(np.nanmax(_np(s.heights)), np.nanmax(_np(s.target_density)), 0.1), 6.0)
        top = self.ax.get_ylim()[1]
        if need > top or need < 0.5 * top:
            self.ax.set_ylim(0, _nice_top(need))
            self.blit.invalidate()
        self.ax.set_title(title)

    def png(self) -> bytes:
        return self.blit.png()


def plot_generation_flow(z, x_hat, x) -> Figure:
    """The six-sample picture: Z_k → g → X̂_k, and the data X_k in a row of their own.

    z: (K, 2) latent draws; x_hat: (K, 64) generated images; x: (K, 64) data images.
    """
    z, x_hat, x = _np(z), _np(x_hat), _np(x)
    k = len(z)
    fig = plt.figure(figsize=(1.3 * k + 1.0, 6.4), layout="constrained")
    grid = fig.add_gridspec(3, k, height_ratios=[1.8, 1, 1])
    ax_z = fig.add_subplot(grid[0, 1:k - 1])
    ax_z.scatter(z[:, 0], z[:, 1], color=COLORS["density"])
    for i, (a, b) in enumerate(z):
        ax_z.annotate(f"$Z_{i + 1}$", (a, b), textcoords="offset points", xytext=(6, 5 if i % 2 == 0 else -13))
    ax_z.set(title=r"Draw $Z_1,\dots,Z_6 \sim \mathcal{N}(0, I)$ and compute $\hat X_k = g(Z_k)$",
             xlabel="$z_1$", ylabel="$z_2$", xlim=(-3, 3), ylim=(-3, 3))
    for row, imgs, name in ((1, x_hat, r"$\hat X_{%d} = g(Z_{%d})$"), (2, x, "data $X_{%d}$")):
        for i in range(k):
            ax = fig.add_subplot(grid[row, i])
            ax.imshow(imgs[i].reshape(8, 8), **IMAGE_KW)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(name % ((i + 1, i + 1) if row == 1 else (i + 1)), fontsize="small")
    fig.suptitle("Generated (middle row) and training data (bottom row): which goes with which?")
    return fig


def plot_pairing_costs(random_costs, identity_cost: float, best_cost: float, *,
                       ax: Axes | None = None) -> Axes:
    """Histogram of pairing costs over random pairings, with the k-with-k and the best pairing."""
    ax = _ax(ax)
    ax.hist(_np(random_costs), bins=30, color=COLORS["samples"], label="random pairings")
    ax.axvline(identity_cost, color=COLORS["density"], lw=2, label=r"$\hat X_k$ with $X_k$")
    ax.axvline(best_cost, color=COLORS["target"], lw=2, ls="--", label="best pairing")
    ax.set(title="The 'error' depends on a pairing that nothing fixes",
           xlabel=r"mean $\|\hat X_k - X_{\pi(k)}\|^2$ over the six pairs", ylabel="number of pairings")
    ax.legend(fontsize="small")
    return ax


def plot_bars(values: dict, *, ax: Axes | None = None, title: str = "", ylabel: str = "",
              fmt: str = "{:.3f}") -> Axes:
    """A labelled bar chart of named numbers {name: value}, each bar annotated with its value."""
    ax = _ax(ax)
    names, heights = list(values), [float(v) for v in values.values()]
    bars = ax.bar(names, heights, color=[COLORS["density"], COLORS["target"], COLORS["data"], "0.5"][:len(names)])
    ax.bar_label(bars, labels=[fmt.format(h) for h in heights], fontsize="small")
    ax.set(title=title, ylabel=ylabel)
    ax.margins(y=0.15)
    return ax


# ---------------------------------------------------------------- notebook 05: the reparameterization trick

#: y-limits of the objective panel, per objective of `vae_course.gradients.OBJECTIVES`.
OBJECTIVE_YLIM = {"(z − t)²": (-2.0, 50.0), "|z − t|": (-0.3, 7.5), "step 1[z > t]": (-0.15, 1.2)}


class ReparamFigure:
    """The reparameterization explorer's picture, four panels updated in place (`BlitFigure`).

    Top left: the fixed eps_i (bottom row) and z_i = mu + sigma·eps_i (top row), one colour per
    sample, joined by a segment, under the density of N(mu, sigma²). Top right: f(z) with the same
    samples on it and their tangents (the pathwise estimator uses the slopes, the score-function
    estimator the heights). Bottom: the R batch estimates of d/d mu and d/d sigma of E[f(z)] from
    both estimators, their mean ± sd, and the exact value.
    draw(summary) updates the artists; png() returns PNG bytes.
    """

    ROWS = {"pathwise": 1.0, "score": 0.0}
    NAMES = {"pathwise": "pathwise", "score": "score function"}

    def __init__(self, summary, n_show: int = 24, figsize=(8.6, 5.5), dpi=72):
        from matplotlib.collections import LineCollection

        self.n_show = n_show
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.11, right=0.98, top=0.93, bottom=0.1, hspace=0.45, wspace=0.24)
        ax_move, ax_f, ax_mu, ax_sigma = (fig.add_subplot(2, 2, k) for k in (1, 2, 3, 4))
        self.axes = {"move": ax_move, "f": ax_f, "mu": ax_mu, "sigma": ax_sigma}
        eps = _np(summary.eps[0, :n_show])
        colors = plt.get_cmap("viridis")((np.clip(eps, -2.5, 2.5) + 2.5) / 5)
        self.grid = np.linspace(-6, 6, 481)
        ax_move.scatter(eps, np.zeros_like(eps), c=colors, s=28, zorder=3)
        self.segments = LineCollection([], colors=colors, lw=1, alpha=0.6)
        ax_move.add_collection(self.segments)
        self.z_dots = ax_move.scatter(eps, np.ones_like(eps), c=colors, s=28, zorder=3)
        (self.density,) = ax_move.plot(self.grid, self.grid * 0 + 1.05, color=COLORS["density"], lw=1.5)
        (self.mu_line,) = ax_move.plot([0, 0], [0.95, 1.8], color=COLORS["density"], ls=":", lw=1)
        ax_move.set(xlim=(-6, 6), ylim=(-0.3, 1.85), xlabel="value", yticks=[0, 1],
                    yticklabels=["ε ~ N(0, 1)\n(fixed)", "z = μ + σε"])
        ax_move.grid(False)
        ax_move.set_title("The same ε, shifted by μ, stretched by σ", fontsize=10)
        (self.f_line,) = ax_f.plot(self.grid, self.grid * 0, color=COLORS["target"], lw=2, label="f(z)")
        self.f_dots = ax_f.scatter(eps, eps * 0, c=colors, s=24, zorder=3)
        self.tangents = LineCollection([], colors=colors, lw=2)
        ax_f.add_collection(self.tangents)
        ax_f.axvline(summary.t, color="0.5", lw=1, ls="--")
        ax_f.set(xlim=(-6, 6), xlabel="$z$", ylabel="$f(z)$")
        self.spread = {}
        jitter = np.random.default_rng(0).uniform(-0.18, 0.18, len(summary.pathwise))
        for p, ax in (("mu", ax_mu), ("sigma", ax_sigma)):
            art = {"jitter": jitter}
            for which, y in self.ROWS.items():
                color = COLORS["density"] if which == "pathwise" else COLORS["target"]
                art[which] = ax.scatter(jitter * 0, y + jitter, s=6, color=color, alpha=0.35)
                (art[which + "_bar"],) = ax.plot([0, 0], [y, y], color=color, lw=4, solid_capstyle="butt")
                (art[which + "_mean"],) = ax.plot([0], [y], "|", color="black", ms=18, mew=2)
            (art["exact"],) = ax.plot([0, 0], [-0.5, 1.5], color="black", ls="--", lw=1.5, label="exact")
            ax.set(ylim=(-0.5, 1.5), yticks=[0, 1], yticklabels=["score\nfunction", "pathwise"], xlim=(-1, 1),
                   xlabel=r"estimate of $\partial E[f(z)]/\partial\mu$" if p == "mu"
                   else r"estimate of $\partial E[f(z)]/\partial\sigma$")
            ax.legend(loc="upper right", fontsize="small")
            self.spread[p] = art
        dynamic = [self.segments, self.z_dots, self.density, self.mu_line, self.f_line, self.f_dots, self.tangents]
        dynamic += [a for art in self.spread.values() for k, a in art.items() if k != "jitter"]
        self.blit = BlitFigure(fig, dynamic)
        self.fig, self._objective, self._static = fig, None, None
        self.draw(summary)

    def draw(self, s) -> None:
        k = self.n_show
        eps, z = _np(s.eps[0, :k]), _np(s.z[0, :k])
        f, df = _np(s.f[0, :k]), _np(s.df[0, :k])
        ax = self.axes
        self.segments.set_segments([[(e, 0.04), (zz, 0.96)] for e, zz in zip(eps, z)])
        self.z_dots.set_offsets(np.c_[z, np.ones_like(z)])
        u = (self.grid - s.mu) / s.sigma
        self.density.set_ydata(1.05 + 0.75 * np.exp(-0.5 * u**2))
        self.mu_line.set_xdata([s.mu, s.mu])
        if s.objective != self._objective:
            import torch

            from .gradients import objective

            self._objective = s.objective
            self.f_line.set_ydata(_np(objective(s.objective, torch.as_tensor(self.grid), s.t)[0]))
            ax["f"].set_ylim(*OBJECTIVE_YLIM.get(s.objective, (-1, 10)))
            self.blit.invalidate()
        self.f_dots.set_offsets(np.c_[z, f])
        half = 0.45
        self.tangents.set_segments([[(zz - half, ff - half * d), (zz + half, ff + half * d)]
                                    for zz, ff, d in zip(z, f, df)])
        n, r = s.eps.shape[1], s.eps.shape[0]
        if (s.objective, n) != self._static:
            self._static = (s.objective, n)
            ax["f"].set_title(f"f(z) = {s.objective} and its slopes at the samples", fontsize=10)
            for p, sym in (("mu", "μ"), ("sigma", "σ")):
                ax[p].set_title(f"∂E[f]/∂{sym}: {r} batches of n = {n:,}; bar = mean ± sd", fontsize=9)
            self.blit.invalidate()
        for i, p in enumerate(("mu", "sigma")):
            art, axp = self.spread[p], ax[p]
            values = []
            for which, y in self.ROWS.items():
                est = _np(getattr(s, which)[:, i])
                mean, sd = est.mean(), est.std(ddof=1)
                art[which].set_offsets(np.c_[est, y + art["jitter"]])
                art[which + "_bar"].set_data([mean - sd, mean + sd], [y, y])
                art[which + "_mean"].set_data([mean], [y])
                values += [est.min(), est.max()]
            exact = float(s.exact[i])
            art["exact"].set_xdata([exact, exact])
            lo, hi = min(values + [exact]), max(values + [exact])
            left, right = axp.get_xlim()
            inner = 0.02 * (right - left)
            if lo < left + inner or hi > right - inner or (hi - lo) < (right - left) / 6:
                # generous margins, so that moving a slider rarely changes the axis (a full redraw)
                width = max(hi - lo, 0.02 * max(abs(lo), abs(hi)), 0.05)
                axp.set_xlim(lo - 0.75 * width, hi + 0.75 * width)
                self.blit.invalidate()

    def png(self) -> bytes:
        return self.blit.png()


def plot_estimator_sd(rows: list[dict], *, ax: Axes | None = None, title: str = "") -> Axes:
    """Log-log plot of each estimator's sd over batches against the batch size n (rows of
    `gradients.variance_table`), for d/d mu (solid) and d/d sigma (dashed), with a 1/√n guide."""
    ax = _ax(ax)
    n = np.array([r["n"] for r in rows], dtype=float)
    for key, name, color in (("path", "pathwise", COLORS["density"]), ("score", "score function", COLORS["target"])):
        for p, ls, sym in (("mu", "-", "μ"), ("sigma", "--", "σ")):
            sd = np.array([r[f"{key}_{p}_sd"] for r in rows])
            if np.all(sd > 0):
                ax.plot(n, sd, ls=ls, marker="o", color=color, label=f"{name}, ∂/∂{sym}")
    ref = max(r["score_mu_sd"] for r in rows[:1])
    ax.plot(n, ref * np.sqrt(n[0] / n), color="0.6", lw=1, ls=":", label=r"$\propto 1/\sqrt{n}$")
    ax.set(xscale="log", yscale="log", xlabel="samples per estimate $n$", ylabel="sd of the estimate",
           title=title or "Both spreads shrink like 1/√n; the gap between them stays")
    ax.legend(fontsize="small")
    return ax


def plot_same_eps(eps, settings, *, ax: Axes | None = None, title: str = "") -> Axes:
    """The same draws eps (n,) mapped to z = mu + sigma·eps for each (mu, sigma) in `settings`, one row each,
    a colour per draw; segments join each draw's position in one row to the next: the samples slide and stretch."""
    eps = _np(eps)
    ax = _ax(ax, figsize=(7, 1.0 + 0.7 * len(settings)))
    colors = plt.get_cmap("viridis")((np.clip(eps, -2.5, 2.5) + 2.5) / 5)
    ax.scatter(eps, np.zeros_like(eps), c=colors, zorder=3)
    previous = eps
    for row, (mu, sigma) in enumerate(settings, start=1):
        z = mu + sigma * eps
        for a, b, c in zip(previous, z, colors):
            ax.plot([a, b], [row - 0.94, row - 0.06], color=c, lw=0.8, alpha=0.6)
        ax.scatter(z, np.full_like(z, row), c=colors, zorder=3)
        previous = z
        ax.plot([mu], [row + 0.25], "v", color="black", ms=6)
    labels = ["ε ~ N(0, 1)"] + [f"μ = {m:g}, σ = {s:g}" for m, s in settings]
    ax.set_yticks(range(len(labels)), labels)
    ax.set(title=title or "The same ε, shifted by μ (▼) and stretched by σ", xlabel="value",
           ylim=(-0.4, len(settings) + 0.5))
    ax.grid(False, axis="y")
    return ax
