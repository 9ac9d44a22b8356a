"""Notebook 04's figures: the KL landscape, the aggregate posterior over the prior's circles, one
model in four panels, the KL per latent dimension."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..figures import (
    COLORS,
    as_numpy,
    ax_or_new,
    draw_prior_circles,
    image_grid,
    latent_limit,
    plot_codes,
    png_of,
)


def plot_kl_landscape(mu, log_var, kl, *, ax: Axes | None = None,
                      title: str = "KL to N(0, 1) grows as μ leaves 0 and as log σ² leaves 0") -> Axes:
    """Contours of kl (n_lv, n_mu) over the grid mu (n_mu,) × log_var (n_lv,), with its minimum marked."""
    ax = ax_or_new(ax, figsize=(5.5, 4))
    filled = ax.contourf(as_numpy(mu), as_numpy(log_var), as_numpy(kl), levels=np.arange(0, float(np.max(as_numpy(kl))) + 0.5, 0.5),
                         cmap="viridis")
    lines = ax.contour(as_numpy(mu), as_numpy(log_var), as_numpy(kl), levels=[0.5, 1, 2, 4, 8], colors="white", linewidths=0.8)
    ax.clabel(lines, fmt="%g", fontsize="x-small")
    ax.plot([0], [0], marker="*", color=COLORS["target"], ms=12, ls="", label="minimum: μ = 0, σ² = 1")
    ax.figure.colorbar(filled, ax=ax, label="KL (nats)")
    ax.set(title=title, xlabel=r"$\mu$", ylabel=r"$\log \sigma^2$")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_aggregate_posterior(pooled, *, ax: Axes | None = None, title: str = "", lim: float | None = None,
                             bins: int = 40) -> Axes:
    """A 2-D histogram of pooled draws (M, 2) of the aggregate posterior, under the N(0, I) circles."""
    pooled = as_numpy(pooled)
    ax = ax_or_new(ax, figsize=(4, 4))
    lim = lim or latent_limit(pooled)
    ax.hist2d(pooled[:, 0], pooled[:, 1], bins=bins, range=[[-lim, lim], [-lim, lim]], cmap="Blues", cmin=1,
              vmin=0)
    draw_prior_circles(ax)
    ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$", xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax.legend(loc="upper right", fontsize="x-small")
    return ax


def plot_latent_summary(s, fig: Figure | None = None) -> Figure:
    """One model of notebook 04 in four panels: codes μ(x), aggregate posterior beside N(0, I),
    reconstructions, decoded prior draws. `s` is a `vae_course.nb04.ModelSummary` (2-D latent)."""
    fig = fig or plt.figure(figsize=(13, 3.4), layout="constrained")
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1.2, 1, 1, 1]})
    lim = latent_limit(s.pooled)
    plot_codes(s.mu, s.labels, ax=axes[0], lim=lim, title=f"{s.name}: codes μ(x)")
    plot_aggregate_posterior(s.pooled, ax=axes[1], lim=lim, title=f"aggregate posterior, MMD² = {s.mmd:.3f}")
    pairs = np.stack([as_numpy(s.x_show), as_numpy(s.x_hat)], axis=1).reshape(-1, as_numpy(s.x_show).shape[1])
    image_grid(pairs, 4, ax=axes[2], title=f"pairs: data | reconstruction\n−log p(x|z) = {s.rec:.1f} nats")
    image_grid(s.prior_samples, int(np.ceil(np.sqrt(len(s.prior_samples)))), ax=axes[3],
               title=f"decoded z ~ N(0, I)\nKL = {s.kl:.2f} nats")
    return fig


def latent_summary_png(s, dpi: int = 72) -> bytes:
    """`plot_latent_summary(s)` as PNG bytes at `dpi`, the figure closed after: one picture of the β-dial."""
    return png_of(plot_latent_summary(s, fig=plt.figure(figsize=(13, 3.4), layout="constrained")), dpi)


def plot_kl_per_dimension(kl_dims: dict, *, ax: Axes | None = None, threshold: float = 0.01,
                          title: str = "Collapsed dimensions carry (almost) 0 nats") -> Axes:
    """Grouped bars of the mean KL per latent dimension, {model name: (L,) tensor}, log scale."""
    ax = ax_or_new(ax, figsize=(7, 3.4))
    width = 0.8 / len(kl_dims)
    for i, (name, kl) in enumerate(kl_dims.items()):
        kl = np.maximum(as_numpy(kl), 1e-5)
        ax.bar(np.arange(len(kl)) + (i - (len(kl_dims) - 1) / 2) * width, kl, width, label=name)
    ax.axhline(threshold, color="0.3", ls=":", lw=1, label=f"{threshold} nats")
    ax.set(yscale="log", title=title, xlabel="latent dimension $j$", ylabel="mean KL of dimension $j$ (nats)",
           xticks=range(max(len(k) for k in kl_dims.values())))
    ax.legend(fontsize="small")
    return ax


__all__ = ["plot_kl_landscape", "plot_aggregate_posterior", "plot_latent_summary", "latent_summary_png",
           "plot_kl_per_dimension"]
