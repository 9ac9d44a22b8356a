"""Notebook 00's preview figure: what the course's VAE does, drawn from a `PreviewSummary`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..figures import as_numpy, draw_prior_circles, image_grid, latent_limit

if TYPE_CHECKING:  # for the annotation only: the figure draws what it is given
    from .compute import PreviewSummary

CLASS_COLORS = plt.get_cmap("tab10").colors  # digit c is drawn in CLASS_COLORS[c] throughout the preview


def plot_preview(s: PreviewSummary) -> Figure:
    """Three panels. Top: one test digit of each class above what the VAE rebuilds from its 2 numbers.
    Bottom left: the map, every test digit's code z = μ(x) coloured by its class (a legend, and the class
    written at the middle of its points), the draws z ~ N(0, I) of the last panel as numbered black
    crosses. Bottom right: the new digits decoded from those draws, numbered alike."""
    fig = plt.figure(figsize=(10.4, 7.6), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 2.1])
    ax_rec = top.subplots()
    n = len(s.originals)
    pairs = np.concatenate([as_numpy(s.originals), as_numpy(s.reconstructions)])
    image_grid(pairs, n, ax=ax_rec, title=f"1. encode, then decode: {n} test digits the model never saw (top) "
                                          f"and what it rebuilds from their 2 numbers z = μ(x) (below)")
    ax_rec.set_yticks([3.5, 12.5], ["original", "rebuilt"])
    ax_rec.set_xticks(np.arange(n) * 9 + 3.5, [str(int(c)) for c in as_numpy(s.shown_labels)])
    ax_rec.set_xlabel("class of the test digit")
    ax_rec.tick_params(length=0)

    ax_map, ax_new = bottom.subplots(1, 2, width_ratios=[1.6, 1.0])
    mu, labels, zs = as_numpy(s.mu), as_numpy(s.labels), as_numpy(s.sample_z)
    lim = latent_limit(mu)
    draw_prior_circles(ax_map)
    for c in range(10):
        pts = mu[labels == c]
        if len(pts):
            ax_map.scatter(pts[:, 0], pts[:, 1], s=9, color=CLASS_COLORS[c], label=f"digit {c}")
    for c in range(10):  # the class written at the middle of its points, on top of every class's points
        pts = mu[labels == c]
        if len(pts):
            mx, my = np.median(pts, axis=0)
            ax_map.text(mx, my, str(c), fontsize=15, weight="bold", color=CLASS_COLORS[c], ha="center", va="center",
                        bbox=dict(boxstyle="circle,pad=0.15", fc="white", ec=CLASS_COLORS[c], alpha=0.85))
    ax_map.scatter(zs[:, 0], zs[:, 1], marker="x", s=40, color="black", lw=1.6, label="z drawn for panel 3")
    for i, (zx, zy) in enumerate(zs):
        ax_map.annotate(str(i + 1), (zx, zy), xytext=(4, 3), textcoords="offset points", fontsize=9)
    ax_map.set(title=f"2. the map: {len(mu)} test digits as points z = μ(x)", xlabel="$z_1$", ylabel="$z_2$",
               xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax_map.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, framealpha=0.9, borderaxespad=0)

    cols = int(np.ceil(np.sqrt(len(s.samples))))
    image_grid(as_numpy(s.samples), cols, ax=ax_new,
               title="3. generate: new digits, decoded\nfrom the numbered × drawn from N(0, I)")
    for i in range(len(s.samples)):
        r, c = divmod(i, cols)
        ax_new.text(c * 9 + 0.1, r * 9 + 0.2, str(i + 1), fontsize=9, color="black", ha="left", va="top",
                    bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.8))
    ax_new.set_xlabel("mean images E[x | z]:\nthe decoder's average guess, hence the blur")
    fig.suptitle("What the course builds: a VAE with 2 latent dimensions, trained on this page in seconds")
    return fig


__all__ = ["plot_preview"]
