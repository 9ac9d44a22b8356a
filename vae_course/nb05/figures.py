"""Notebook 05's figures: the reparameterization explorer's four panels, the estimators' sd
against n, one eps moved by different (μ, σ)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..figures import COLORS, BlitFigure, as_numpy, ax_or_new

if TYPE_CHECKING:  # for the annotations only: the figure draws a picture computed in compute.py
    from .compute import ReparamPicture

#: y-limits of the objective panel, per objective of `vae_course.nb05.OBJECTIVES`.
OBJECTIVE_YLIM = {"(z − t)²": (-1.5, 30.0), "|z − t|": (-0.3, 7.5), "step 1[z > t]": (-0.15, 1.2)}


class ReparamFigure:
    """The reparameterization explorer's picture, four panels updated in place (`BlitFigure`), about
    800 × 500 px.

    Top left: the fixed eps_i (bottom row) and z_i = mu + sigma·eps_i (top row), one colour per
    sample, joined by a segment, under the density of N(mu, sigma²). Top right: f(z) (grey) with the
    same samples on it and their tangents (the pathwise estimator averages the slopes, the
    score-function estimator uses the heights), and the curve E[f(z)] against the mean mu (black) with
    its tangent at the current mu: the exact ∂E[f]/∂mu as a slope. Bottom: the R batch estimates of
    d/d mu and d/d sigma of E[f(z)] from both estimators (dots), above each cloud its mean ± sd as a bar
    with caps, in grey the bar of the same setting at the reference n, and the exact value (dashed).
    The bottom x-axes depend on (f, mu, sigma) only, so changing n changes the bars, not the axes.
    draw(picture) updates the artists from a `compute.reparam_picture(summary)`; png() returns PNG bytes.
    """

    ROWS = {"pathwise": 1.0, "score": 0.0}
    NAMES = {"pathwise": "pathwise", "score": "score function"}
    BAR, REFERENCE_BAR = 0.34, 0.48  # heights of the bars above their cloud's row (the cloud spans ± jitter)

    def __init__(self, picture: ReparamPicture, figsize=(8.0, 5.0), dpi=100, reference_n: int = 1000):
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D

        s = picture.summary
        self.n_show, self.reference_n = len(picture.eps), reference_n
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.12, right=0.98, top=0.9, bottom=0.165, hspace=0.7, wspace=0.25)
        ax_move, ax_f, ax_mu, ax_sigma = (fig.add_subplot(2, 2, k) for k in (1, 2, 3, 4))
        self.axes = {"move": ax_move, "f": ax_f, "mu": ax_mu, "sigma": ax_sigma}
        eps = as_numpy(picture.eps)
        colors = plt.get_cmap("viridis")((np.clip(eps, -2.5, 2.5) + 2.5) / 5)
        self.grid = as_numpy(picture.grid)
        lim = (self.grid[0], self.grid[-1])
        ax_move.scatter(eps, np.zeros_like(eps), c=colors, s=28, zorder=3)
        self.segments = LineCollection([], colors=colors, lw=1, alpha=0.6)
        ax_move.add_collection(self.segments)
        self.z_dots = ax_move.scatter(eps, np.ones_like(eps), c=colors, s=28, zorder=3)
        (self.density,) = ax_move.plot(self.grid, np.full_like(self.grid, 1.05), color=COLORS["density"], lw=1.5)
        (self.mu_line,) = ax_move.plot([0, 0], [0.95, 1.8], color=COLORS["density"], ls=":", lw=1)
        ax_move.set(xlim=lim, ylim=(-0.3, 1.85), xlabel="value", yticks=[0, 1],
                    yticklabels=["ε ~ N(0, 1)\n(fixed)", "z = μ + σε"])
        ax_move.grid(False)
        ax_move.set_title("The same ε, shifted by μ, stretched by σ", fontsize=10)
        (self.f_line,) = ax_f.plot(self.grid, np.zeros_like(self.grid), color="0.55", lw=2.5, alpha=0.5,
                                   label="f(z)")
        # the tangents lie on a smooth f near their sample: long, thick, drawn over a thin, pale f
        self.tangents = LineCollection([], colors=colors, lw=1.8, zorder=4)
        self.f_dots = ax_f.scatter(eps, np.zeros_like(eps), c=colors, s=30, zorder=5, edgecolors="black",
                                   linewidths=0.5)
        ax_f.add_collection(self.tangents)
        (self.mean_curve,) = ax_f.plot(self.grid, np.zeros_like(self.grid), color="black", lw=1.4, zorder=6,
                                       label="E[f(z)] against μ")
        (self.mean_tangent,) = ax_f.plot([0, 0], [0, 0], color="#c0392b", lw=2.6, zorder=7,
                                         label="its slope at μ: ∂E[f]/∂μ")
        (self.mean_dot,) = ax_f.plot([0], [0], "o", color="#c0392b", ms=6, mec="black", mew=0.8, zorder=8)
        ax_f.axvline(s.t, color="0.5", lw=1, ls="--")
        ax_f.set(xlim=lim, xlabel="$z$ (black curve: the mean μ)", ylabel="$f(z)$, $E[f]$")
        # no legend: blitting draws the moving curves over it; the title names the colours instead
        self.spread = {}
        jitter = as_numpy(picture.jitter)
        for p, ax in (("mu", ax_mu), ("sigma", ax_sigma)):
            art = {"jitter": jitter}
            for which, y in self.ROWS.items():
                color = COLORS["density"] if which == "pathwise" else COLORS["target"]
                art[which] = ax.scatter(np.zeros_like(jitter), y + jitter, s=6, color=color, alpha=0.3, zorder=2)
                # the bar sits above its cloud, with caps at mean ± sd and a tick at the mean
                (art[which + "_bar"],) = ax.plot([0, 0], [y + self.BAR] * 2, color=color, lw=3, zorder=4,
                                                 solid_capstyle="butt")
                (art[which + "_caps"],) = ax.plot([0, 0], [y + self.BAR] * 2, ls="none", marker="|", ms=13, mew=2.2,
                                                  color=color, zorder=4)
                (art[which + "_mean"],) = ax.plot([0], [y + self.BAR], "|", color="black", ms=9, mew=1.6, zorder=5)
                (art[which + "_ref"],) = ax.plot([0, 0], [y + self.REFERENCE_BAR] * 2, color="0.45", lw=1.6,
                                                 marker="|", ms=8, mew=1.6, zorder=3)
            (art["exact"],) = ax.plot([0, 0], [-0.5, 1.75], color="black", ls="--", lw=1.5, zorder=3)
            ax.set(ylim=(-0.35, 1.7), yticks=[0, 1], yticklabels=["score\nfunction", "pathwise"], xlim=(-1, 1),
                   xlabel=r"estimate of $\partial E[f(z)]/\partial\mu$" if p == "mu"
                   else r"estimate of $\partial E[f(z)]/\partial\sigma$")
            self.spread[p] = art
        handles = [Line2D([], [], ls="none", marker="o", ms=4, color="0.4", alpha=0.6, label="a batch's estimate"),
                   Line2D([], [], color="0.2", lw=3, marker="|", ms=11, mew=2, label="mean ± sd"),
                   Line2D([], [], color="0.45", lw=1.6, marker="|", ms=8, mew=1.6,
                          label=f"mean ± sd at n = {reference_n:,}"),
                   Line2D([], [], color="black", ls="--", lw=1.5, label="exact")]
        fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, frameon=False, handlelength=1.8,
                   columnspacing=1.6, bbox_to_anchor=(0.55, 0.0))
        dynamic = [self.segments, self.z_dots, self.density, self.mu_line, self.f_line, self.f_dots, self.tangents,
                   self.mean_curve, self.mean_tangent, self.mean_dot]
        dynamic += [a for art in self.spread.values() for k, a in art.items() if k != "jitter"]
        self.blit = BlitFigure(fig, dynamic)
        self.fig, self._objective, self._static = fig, None, None
        self.draw(picture)

    def draw(self, picture: ReparamPicture) -> None:
        s = picture.summary
        eps, z, f = as_numpy(picture.eps), as_numpy(picture.z), as_numpy(picture.f)
        ax = self.axes
        self.segments.set_segments([[(e, 0.04), (zz, 0.96)] for e, zz in zip(eps, z)])
        self.z_dots.set_offsets(np.c_[z, np.ones_like(z)])
        self.density.set_ydata(1.05 + 0.75 * as_numpy(picture.bell))
        self.mu_line.set_xdata([s.mu, s.mu])
        if s.objective != self._objective:
            self._objective = s.objective
            self.f_line.set_ydata(as_numpy(picture.f_curve))
            ax["f"].set_ylim(*OBJECTIVE_YLIM.get(s.objective, (-1, 10)))
            self.blit.invalidate()
        self.f_dots.set_offsets(np.c_[z, f])
        self.tangents.set_segments(as_numpy(picture.tangents))
        self.mean_curve.set_ydata(as_numpy(picture.mean_curve))
        tangent = as_numpy(picture.mean_tangent)
        self.mean_tangent.set_data(tangent[:, 0], tangent[:, 1])
        self.mean_dot.set_data([tangent[:, 0].mean()], [tangent[:, 1].mean()])
        n, r = s.eps.shape[1], s.eps.shape[0]
        if (s.objective, n) != self._static:
            self._static = (s.objective, n)
            ax["f"].set_title(f"f(z) = {s.objective} (grey), slopes at the samples;\n"
                              f"E[f] against μ (black), its slope at μ (red)", fontsize=9.5)
            for p, sym in (("mu", "μ"), ("sigma", "σ")):
                ax[p].set_title(f"∂E[f]/∂{sym}: {r} batches of n = {n:,}\n"
                                f"(x-axis fixed while n changes)", fontsize=9.5)
            self.blit.invalidate()
        xlim = as_numpy(picture.xlim)
        show_reference = n != self.reference_n
        for i, p in enumerate(("mu", "sigma")):
            art, axp = self.spread[p], ax[p]
            for which, y in self.ROWS.items():
                est = as_numpy(getattr(s, which)[:, i])
                mean, sd = float(picture.mean[which][i]), float(picture.sd[which][i])
                art[which].set_offsets(np.c_[est, y + art["jitter"]])
                art[which + "_bar"].set_xdata([mean - sd, mean + sd])
                art[which + "_caps"].set_xdata([mean - sd, mean + sd])
                art[which + "_mean"].set_data([mean], [y + self.BAR])
                ref_mean, ref_sd = float(picture.reference_mean[which][i]), float(picture.reference_sd[which][i])
                art[which + "_ref"].set_xdata([ref_mean - ref_sd, ref_mean + ref_sd])
                art[which + "_ref"].set_visible(show_reference)
            exact = float(s.exact[i])
            art["exact"].set_xdata([exact, exact])
            if tuple(axp.get_xlim()) != tuple(xlim[i]):
                # fixed per (objective, mu, sigma): changing n leaves the axis alone, so the bars visibly widen
                lo, hi = xlim[i]
                ticks = MaxNLocator(6).tick_values(lo, hi)
                axp.set_xticks(ticks[(ticks >= lo) & (ticks <= hi)])  # no tick labels beyond the canvas
                axp.set_xlim(lo, hi)
                self.blit.invalidate()

    def png(self) -> bytes:
        return self.blit.png()


def plot_estimator_sd(rows: list[dict], *, ax: Axes | None = None, title: str = "") -> Axes:
    """Log-log plot of each estimator's sd over batches against the batch size n (rows of
    `compute.variance_table`), for d/d mu (solid) and d/d sigma (dashed), with a 1/√n guide."""
    ax = ax_or_new(ax)
    n = np.array([r["n"] for r in rows], dtype=float)
    for key, name, color in (("path", "pathwise", COLORS["density"]), ("score", "score function", COLORS["target"])):
        for p, ls, sym in (("mu", "-", "μ"), ("sigma", "--", "σ")):
            sd = np.array([r[f"{key}_{p}_sd"] for r in rows])
            if np.all(sd > 0):
                ax.plot(n, sd, ls=ls, marker="o", color=color, label=f"{name}, ∂/∂{sym}")
    # the guide runs parallel to the lines, twice as high as the highest, so that no curve hides it
    ref = 2.0 * max(max(r[f"{k}_{p}_sd"] for k in ("path", "score") for p in ("mu", "sigma")) for r in rows[:1])
    ax.plot(n, ref * np.sqrt(n[0] / n), color="black", lw=1.2, ls=":", zorder=5, label=r"guide $\propto 1/\sqrt{n}$")
    ax.set(xscale="log", yscale="log", xlabel="samples per estimate $n$", ylabel="sd of the estimate",
           title=title or "Both spreads shrink like 1/√n; the gap between them stays")
    ax.legend(fontsize="small", loc="lower left")
    return ax


def plot_same_eps(eps, settings, *, ax: Axes | None = None, title: str = "") -> Axes:
    """The same draws eps (n,) mapped to z = mu + sigma·eps for each (mu, sigma) in `settings`, one row each,
    a colour per draw; segments join each draw's position in one row to the next: the samples slide and stretch."""
    eps = as_numpy(eps)
    ax = ax_or_new(ax, figsize=(7, 1.0 + 0.7 * len(settings)))
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


def plot_estimator_runs(runs: dict, *, ax: Axes | None = None, title: str = "") -> Axes:
    """The validation −ELBO after each epoch of VAEs trained with different encoder gradient estimators
    (`compute.train_with_estimator`, name → EstimatorRun), one line each; epoch 0 is the untrained model."""
    ax = ax_or_new(ax, figsize=(6, 3.4))
    colors = {"pathwise": COLORS["density"], "score function": COLORS["target"]}
    top = 0.0
    for name, run in runs.items():
        val = as_numpy(run.val_loss)
        ax.plot(np.arange(len(val)), val, marker="o", color=colors.get(name), label=f"{name} (encoder gradient)")
        top = max(top, float(val[1:].max()))
    low = min(float(as_numpy(r.val_loss).min()) for r in runs.values())
    lo, hi = low - 0.1 * (top - low) - 0.5, top + 0.25 * (top - low) + 0.5  # epoch 0 (untrained) is off the top
    ticks = MaxNLocator(6).tick_values(lo, hi)
    ax.set_yticks(ticks[(ticks >= lo) & (ticks <= hi)])  # no tick label beyond the axis, under the title
    ax.set_ylim(lo, hi)
    first = max(float(as_numpy(r.val_loss)[0]) for r in runs.values())
    if first > hi:  # the untrained model is tens of nats worse: say so where its point would be
        ax.annotate(f"epoch 0:\nuntrained,\n{first:.0f} nats,\nabove the axis", xy=(0.02, hi),
                    xytext=(0.02, lo + 0.04 * (hi - lo)), fontsize=9, ha="left", va="bottom",
                    arrowprops={"arrowstyle": "-|>", "color": "0.3", "lw": 1, "shrinkA": 2, "shrinkB": 0,
                                              "relpos": (0.1, 1.0)})
    ax.set(xlabel="epoch", ylabel="validation −ELBO (nats)",
           title=title or "Same VAE, seeds and batches; only the encoder's gradient differs")
    ax.legend(fontsize="small")
    return ax


#: colours of the computation-graph figure: the forward pass and the gradient flowing back.
GRAPH_COLORS = {"forward": "0.15", "gradient": "#c0392b", "noise": "#6a3d9a"}


def _box(ax, xy, text, *, width=1.5, height=0.62, face="white", edge="0.15", fontsize=11, style="round"):
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle=f"{style},pad=0.06",
                                facecolor=face, edgecolor=edge, lw=1.4, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)
    return (x - width / 2 - 0.06, x + width / 2 + 0.06, y - height / 2 - 0.06, y + height / 2 + 0.06)


def _arrow(ax, start, end, *, color, ls="-", rad=0.0, lw=1.6, label="", label_xy=None, fontsize=10):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color=color, lw=lw, ls=ls,
                                 connectionstyle=f"arc3,rad={rad}", zorder=4, shrinkA=0, shrinkB=0))
    if label:
        ax.text(*label_xy, label, ha="center", va="center", fontsize=fontsize, color=color, zorder=5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0, "alpha": 0.9})


def plot_computation_graph(*, axes=None, title: str = "") -> Figure:
    """The VAE's computation graph twice, as boxes and arrows: x → encoder φ → (μ, σ) → z → decoder θ → loss.

    Top: z is *sampled* from N(μ, σ²); the gradient (red, dashed) flows back from the loss through the
    decoder to z and stops there, so μ, σ and the encoder get none from the reconstruction term.
    Bottom: reparameterized, ε ~ N(0, 1) enters from the side and z = μ + σ·ε; the gradient flows on
    to μ (∂z/∂μ = 1) and σ (∂z/∂σ = ε) and into the encoder. `axes`: two Axes (top, bottom) or None
    for a new pyplot figure. Returns the figure.
    """
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(9.6, 5.6), gridspec_kw={"height_ratios": [2.4, 3.8]})
        fig.subplots_adjust(left=0.01, right=0.99, top=0.9 if title else 0.95, bottom=0.08, hspace=0.16)
    else:
        if len(axes) != 2 or not all(isinstance(a, Axes) for a in axes):
            raise TypeError("axes must be two matplotlib Axes (top, bottom), or None for a new figure.")
        fig = axes[0].figure
    fwd, grad, noise = GRAPH_COLORS["forward"], GRAPH_COLORS["gradient"], GRAPH_COLORS["noise"]
    y0 = 2.0
    for row, ax in enumerate(axes):
        reparam = row == 1
        ax.set(xlim=(-0.2, 11.2), ylim=(-0.35 if reparam else 1.05, 3.45))  # only the bottom row has ε below
        ax.set_axis_off()
        ax.set(xticks=[], yticks=[])  # no tick labels behind the hidden axes (the legibility audit counts them)
        bx = _box(ax, (0.55, y0), "digit\n$x$", width=0.9, face="#f2f2f2")
        be = _box(ax, (2.35, y0), "encoder\n(weights $\\phi$)", width=1.75, face="#dbe9f6")
        bm = _box(ax, (4.35, y0 + 0.62), "$\\mu$", width=0.7, height=0.5)
        bs = _box(ax, (4.35, y0 - 0.62), "$\\sigma$", width=0.7, height=0.5)
        if reparam:
            bz = _box(ax, (6.3, y0), "$z = \\mu + \\sigma\\,\\varepsilon$", width=1.9, face="#e3f2e1")
            bn = _box(ax, (6.3, 0.2), "$\\varepsilon \\sim \\mathcal{N}(0, 1)$\nno parameters", width=1.9,
                      height=0.62, face="#efe6f6", edge=noise, fontsize=10)
            _arrow(ax, (6.3, bn[3]), (6.3, bz[2]), color=noise, label="from the side", label_xy=(7.45, 0.98))
        else:
            bz = _box(ax, (6.3, y0), "sample\n$z \\sim \\mathcal{N}(\\mu, \\sigma^2)$", width=1.9,
                      face="#fbe3e1", style="sawtooth")
        bd = _box(ax, (8.45, y0), "decoder\n(weights $\\theta$)", width=1.75, face="#dbe9f6")
        bl = _box(ax, (10.4, y0), "loss\n$-\\log p(x \\mid z)$", width=1.35, face="#f2f2f2", fontsize=10)
        # the forward pass, left to right
        _arrow(ax, (bx[1], y0), (be[0], y0), color=fwd)
        _arrow(ax, (be[1], y0 + 0.15), (bm[0], y0 + 0.62), color=fwd)
        _arrow(ax, (be[1], y0 - 0.15), (bs[0], y0 - 0.62), color=fwd)
        _arrow(ax, (bm[1], y0 + 0.62), (bz[0], y0 + 0.12), color=fwd)
        _arrow(ax, (bs[1], y0 - 0.62), (bz[0], y0 - 0.12), color=fwd)
        _arrow(ax, (bz[1], y0), (bd[0], y0), color=fwd)
        _arrow(ax, (bd[1], y0), (bl[0], y0), color=fwd)
        # the gradient, right to left, above the boxes
        top = y0 + 0.95
        _arrow(ax, (10.4, bl[3]), (8.75, bd[3]), color=grad, ls="--", rad=0.45)
        _arrow(ax, (8.15, bd[3]), (6.6, bz[3]), color=grad, ls="--", rad=0.45,
               label="$\\partial\\,\\mathrm{loss}/\\partial z$", label_xy=(7.38, top + 0.2))
        if reparam:
            _arrow(ax, (6.0, bz[3]), (4.6, bm[3]), color=grad, ls="--", rad=0.35,
                   label="$\\partial z/\\partial\\mu = 1$", label_xy=(5.3, top + 0.22))
            _arrow(ax, (6.0, bz[2]), (4.6, bs[2]), color=grad, ls="--", rad=-0.35,
                   label="$\\partial z/\\partial\\sigma = \\varepsilon$", label_xy=(5.1, 0.7))
            _arrow(ax, (4.1, bm[3]), (2.6, be[3]), color=grad, ls="--", rad=0.35,
                   label="$\\partial\\mu/\\partial\\phi$", label_xy=(3.2, top + 0.12))
            _arrow(ax, (4.1, bs[2]), (2.6, be[2]), color=grad, ls="--", rad=-0.35,
                   label="$\\partial\\sigma/\\partial\\phi$", label_xy=(3.2, 0.62))
            heading = "Reparameterized: z = μ + σ·ε, and the gradient reaches μ, σ and the encoder"
        else:
            ax.text(5.3, top + 0.22, "✗", ha="center", va="center", fontsize=20, color=grad, fontweight="bold")
            ax.text(3.5, top + 0.3, "no gradient: a drawn number\ndoes not depend on μ or σ", ha="center",
                    va="center", fontsize=10, color=grad)
            heading = "Sampling: the gradient stops at the sample; μ, σ and the encoder get none"
        ax.set_title(heading, fontsize=11.5, loc="left")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=fwd, lw=1.6, label="forward pass (computes the loss)"),
               Line2D([], [], color=grad, lw=1.6, ls="--", label="gradient (backward pass)"),
               Line2D([], [], color=noise, lw=1.6, label="noise from outside the network")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=10, frameon=False)
    if title:
        fig.suptitle(title, fontsize=12.5)
    return fig


__all__ = ["GRAPH_COLORS", "plot_computation_graph", "OBJECTIVE_YLIM", "ReparamFigure", "plot_estimator_sd", "plot_same_eps", "plot_estimator_runs"]
