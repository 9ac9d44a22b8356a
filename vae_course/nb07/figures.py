"""Notebook 07's figures: codes over a learned prior's density, a connectivity matrix."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from ..figures import COLORS, as_numpy, ax_or_new


def plot_codes_over_prior(pooled, ticks, log_p, *, ax: Axes | None = None, title: str = "",
                          levels=(0.05, 0.3, 0.7)) -> Axes:
    """A 2-D histogram of pooled aggregate-posterior draws (M, 2) under contours of a prior's density
    given on a grid (ticks (n,), log_p (n, n) with [i, j] at (ticks[i], ticks[j])), at `levels` × its peak."""
    pooled, ticks, log_p = as_numpy(pooled), as_numpy(ticks), as_numpy(log_p)
    ax = ax_or_new(ax, figsize=(3.6, 3.6))
    lim = float(ticks[-1])
    ax.hist2d(pooled[:, 0], pooled[:, 1], bins=40, range=[[-lim, lim], [-lim, lim]], cmap="Blues", cmin=1, vmin=0)
    dens = np.exp(log_p - log_p.max())
    ax.contour(ticks, ticks, dens.T, levels=list(levels), colors=COLORS["target"], linewidths=1.2)
    ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$", xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    return ax


def _square_map(values, name: str, shape: str, ax: Axes | None, size: float, cmap: str) -> tuple[Axes, np.ndarray]:
    """Check that `values` is a square matrix of 0..1 and draw it as an image (no grid): (ax, values as floats)."""
    values = as_numpy(values).astype(float)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ValueError(f"{name} must be a square {shape} matrix, got shape {values.shape}.")
    ax = ax_or_new(ax, figsize=(size, size))
    ax.imshow(values, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.grid(False)
    return ax, values


def _mask_key(ax: Axes, on: str, off: str) -> None:
    """The key shared by the mask figures: black = 1, white = 0 (the "Greys" colour map)."""
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor="black", edgecolor="0.3", label=on),
                       Patch(facecolor="white", edgecolor="0.3", label=off)],
              loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=9, frameon=False)


def _outline(ax: Axes, k: int) -> None:
    ax.add_patch(Rectangle((-0.5, -0.5), k, k, fill=False, edgecolor="0.3", lw=1.2))


def plot_connectivity(sees, *, ax: Axes | None = None, title: str = "") -> Axes:
    """A (D, D) connectivity matrix: [j, d] black when output j may depend on input pixel d, with a key."""
    ax, values = _square_map(sees, "sees", "(D, D)", ax, 3.6, "Greys")
    _outline(ax, values.shape[0])
    ax.set(title=title, xlabel="input pixel d (raster order)", ylabel=r"output $j$: $p(x_j \mid x_{<j}, z)$")
    _mask_key(ax, "1: depends on", "0: cannot see")
    return ax


__all__ = ["plot_codes_over_prior", "plot_connectivity"]


def plot_kernel_mask(mask, *, ax: Axes | None = None, title: str = "") -> Axes:
    """A k×k convolution mask (1 = weight kept, black) with the kernel and its centre pixel outlined, and a key."""
    ax, mask = _square_map(mask, "mask", "(k, k)", ax, 3.0, "Greys")
    _outline(ax, mask.shape[0])
    _mask_key(ax, "1: weight kept", "0: weight cut")
    c = mask.shape[0] // 2
    ax.add_patch(Rectangle(
        (c - 0.5, c - 0.5), 1, 1, fill=False, edgecolor=COLORS["target"], lw=2.5))
    ax.set(title=title, xlabel="column offset", ylabel="row offset")
    ticks = np.arange(mask.shape[0])
    ax.set_xticks(ticks, ticks - c)
    ax.set_yticks(ticks, ticks - c)
    return ax


__all__ += ["plot_kernel_mask"]


def _sample_title(path, t: float) -> str:
    return f"samples x ~ p(x | z = μ(x) + t·e{path.dim + 1}), same pixel noise; t = {t:+.1f}"


def _draw_z_path(path, step: int, fig):
    """plot_z_path's drawing; returns (fig, the samples' image, their axes, the step's vertical line)."""
    from ..figures import image_grid

    samples = as_numpy(path.samples[step])
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1.5], width_ratios=[1.4, len(samples)])
    digit, top, bottom = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])
    t = float(path.ts[step])
    image_grid(as_numpy(path.x)[None], 1, ax=digit, title="test digit x")
    digit.add_patch(Rectangle((-0.5, -0.5), 8, 8, fill=False, edgecolor=COLORS["target"], lw=2.5))
    image_grid(samples, len(samples), ax=top, title=_sample_title(path, t))
    ts = as_numpy(path.ts)
    bottom.plot(ts, as_numpy(path.nll), "o-", color=COLORS["density"], label=r"$-\log p(x \mid z)$ of the digit x")
    bottom.plot(ts, -as_numpy(path.log_prior), "s--", color=COLORS["target"], label=r"$-\log p(z)$")
    line = bottom.axvline(t, color="0.4", ls=":")
    bottom.set(xlabel=f"step t along $z_{path.dim + 1}$", ylabel="nats", title="How well this z explains x, and its prior cost")
    bottom.legend(fontsize=10, loc="center")
    fig.set_layout_engine("constrained")
    return fig, top.images[0], top, line


def plot_z_path(path, step: int, fig=None):
    """The explorer's picture for step `step` of a `ZPath`: the test digit the path starts from (top left, framed,
    in its own panel) and the n samples x ~ p(x|z) at that step (top right), −log p(x|z) and −log p(z) along the
    path with the step marked (bottom)."""
    import matplotlib.pyplot as plt

    return _draw_z_path(path, step, fig or plt.figure(figsize=(8.4, 4.4)))[0]


def z_path_pngs(path, dpi: int = 72) -> list[bytes]:
    """One PNG per step of a `ZPath` (the picture of `plot_z_path`): one figure, laid out once; each step swaps
    the samples' pixels, the title and the step's line, and saves."""
    import matplotlib.pyplot as plt

    from ..figures import png_of, tile_images

    fig, image, top, line = _draw_z_path(path, 0, plt.figure(figsize=(8.4, 4.4)))
    pngs = []
    for i in range(len(path.ts)):
        samples, t = as_numpy(path.samples[i]), float(path.ts[i])
        image.set_data(tile_images(samples, len(samples), 1))
        top.set_title(_sample_title(path, t))
        line.set_xdata([t, t])
        pngs.append(png_of(fig, dpi, close=False))
        fig.set_layout_engine("none")  # keep the first step's layout: every step the same frame, and no re-layout
    plt.close(fig)
    return pngs


__all__ += ["plot_z_path", "z_path_pngs"]


def plot_kl_by_dimension(kl_dims: dict, *, floors: dict | None = None, axes=None, title: str = ""):
    """Per run {name: per-epoch lists of the validation KL of each latent dimension, (E, L)}: one panel per run,
    one thin line per dimension and the total KL (thick, black), epochs on x; panels share both axes.
    `floors` {name: λ}: a dashed line at that run's free-bits floor λ per dimension. One legend below the panels. Returns the figure."""
    import matplotlib.pyplot as plt

    runs = {name: np.asarray(as_numpy(np.asarray(v, dtype=float)), dtype=float) for name, v in kl_dims.items()}
    if not runs or any(a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1 for a in runs.values()):
        raise ValueError("kl_dims must map each run's name to per-epoch KL per dimension, shape (epochs, L) with "
                         "epochs, L ≥ 1.")
    floors = dict(floors or {})
    if set(floors) - set(runs) or any(not lam > 0 for lam in floors.values()):
        raise ValueError(f"floors must map names of runs in kl_dims ({list(runs)}) to a λ > 0, got {floors}.")
    if axes is None:
        fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.9), sharex=True, sharey=True,
                                 layout="constrained", squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    for ax, (name, kl) in zip(axes, runs.items()):
        epochs = np.arange(1, len(kl) + 1)
        for j in range(kl.shape[1]):
            ax.plot(epochs, kl[:, j], lw=1.2, marker=".", label=f"dimension {j + 1}")
        ax.plot(epochs, kl.sum(1), lw=2.4, color="black", label="total")
        if name in floors:
            ax.axhline(floors[name], ls="--", lw=1.2, color="grey")
            ax.annotate(f"floor λ = {floors[name]:g}", (epochs[-1], floors[name]), xytext=(0, -4),
                        textcoords="offset points", ha="right", va="top", color="dimgrey")
        ax.set(title=name, xlabel="epoch")
    top = max(float(kl.sum(1).max()) for kl in runs.values())
    axes[0].set_ylim(0, 1.1 * top if top > 0 else 1.0)
    axes[0].set_ylabel("validation KL (nats per digit)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    if title:
        fig.suptitle(title)
    return fig


__all__ += ["plot_kl_by_dimension"]
