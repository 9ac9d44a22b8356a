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
    written at the middle of its points), the grid points of the last panel as black +. Bottom right: the
    mean images decoded from those grid points, laid out as on the map, its axes in z."""
    fig = plt.figure(figsize=(10.4, 8.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 3.0])
    ax_rec = top.subplots()
    n = len(s.originals)
    pairs = np.concatenate([as_numpy(s.originals), as_numpy(s.reconstructions)])
    image_grid(pairs, n, ax=ax_rec, title=f"1. encode, then decode: {n} test digits the model never saw (top) "
                                          f"and what it rebuilds from their 2 numbers z = μ(x) (below)")
    ax_rec.set_yticks([3.5, 12.5], ["original", "rebuilt"])
    ax_rec.set_xticks(np.arange(n) * 9 + 3.5, [str(int(c)) for c in as_numpy(s.shown_labels)])
    ax_rec.set_xlabel("class of the test digit")
    ax_rec.tick_params(length=0)

    ax_map, ax_new = bottom.subplots(1, 2, width_ratios=[1.0, 1.0])
    mu, labels, gz = as_numpy(s.mu), as_numpy(s.labels), as_numpy(s.grid_z)
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
    ax_map.scatter(gz[:, 0], gz[:, 1], marker="+", s=30, color="black", lw=1.0, label="grid of panel 3")
    ax_map.set(title=f"2. the map: {len(mu)} test digits as points z = μ(x)", xlabel="$z_1$", ylabel="$z_2$",
               xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax_map.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=9, ncols=4, columnspacing=0.8,
                  handletextpad=0.3)  # below the map, off the data

    cols = int(round(np.sqrt(len(gz))))
    image_grid(as_numpy(s.grid_images), cols, ax=ax_new,
               title="3. generate: the image decoded at each +\nof the map, laid out as on the map")
    ticks = np.arange(cols) * 9 + 3.5
    ax_new.set_xticks(ticks, [f"{t:g}" for t in np.round(gz[:cols, 0], 2) + 0.0])  # + 0.0: no "−0"
    ax_new.set_yticks(ticks, [f"{t:g}" for t in np.round(gz[::cols, 1], 2) + 0.0])
    ax_new.tick_params(length=0, labelsize=9)
    ax_new.set_xlabel("$z_1$\nmean images E[x | z]: the decoder's average guess")
    ax_new.set_ylabel("$z_2$")
    fig.suptitle("What the course builds: a VAE with 2 latent dimensions, trained on this page in seconds")
    return fig


__all__ = ["plot_preview"]
