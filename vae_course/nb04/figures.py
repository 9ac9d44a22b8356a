"""Notebook 04's figures: the KL landscape, the aggregate posterior over the prior's circles, one
model in four panels, models as generators on shared axes, mean σ and the ELBO's terms per β, the
KL per latent dimension, and the β explorer's picture."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..figures import (
    COLORS,
    IMAGE_KW,
    BlitFigure,
    as_numpy,
    ax_or_new,
    draw_prior_circles,
    image_grid,
    latent_limit,
    plot_codes,
    tile_images,
)


def plot_kl_landscape(mu, log_var, kl, *, ax: Axes | None = None,
                      title: str = "KL to N(0, 1) grows as μ leaves 0 and as log σ² leaves 0") -> Axes:
    """Contours of kl (n_lv, n_mu) over the grid mu (n_mu,) × log_var (n_lv,), with its minimum marked."""
    ax = ax_or_new(ax, figsize=(5.5, 4))
    filled = ax.contourf(as_numpy(mu), as_numpy(log_var), as_numpy(kl), levels=np.arange(0, float(np.max(as_numpy(kl))) + 0.5, 0.5),
                         cmap="viridis")
    lines = ax.contour(as_numpy(mu), as_numpy(log_var), as_numpy(kl), levels=[0.5, 1, 2, 4, 8], colors="white", linewidths=0.8)
    ax.clabel(lines, fmt="%g", fontsize="small")
    ax.plot([0], [0], marker="o", color=COLORS["target"], ms=7, ls="")
    ax.annotate("KL = 0 only here:\nμ = 0, σ² = 1 (the prior)", (0, 0), xytext=(-2.8, -6.5), color="white",
                arrowprops=dict(arrowstyle="->", color="white"))
    ax.figure.colorbar(filled, ax=ax, label="KL (nats)")
    ax.set(title=title, xlabel=r"$\mu$", ylabel=r"$\log \sigma^2$")
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


def plot_posterior_decodings(x, decodings: dict, *, lim: float = 0.2) -> Figure:
    """Decodings of draws from one digit's posterior, one column per model ({name: (K, 64)}): on top the digit
    x (64,) and its K decodings; below, each decoding minus the mean of the K, on a diverging scale ±lim
    shared by every model (so a model whose draws all decode alike shows a blank row)."""
    if not decodings:
        raise ValueError("plot_posterior_decodings needs at least one model's decodings.")
    x = as_numpy(x).reshape(1, -1)
    fig = plt.figure(figsize=(10.8, 2.9), layout="constrained")  # 972 px: JupyterLab's column
    axes = fig.subplots(2, len(decodings), squeeze=False)
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="white")
    for (name, x_hat), (top, bottom) in zip(decodings.items(), axes.T):
        x_hat = as_numpy(x_hat)
        image_grid(np.concatenate([x, x_hat]), len(x_hat) + 1, ax=top, title=f"{name}: the digit | {len(x_hat)} decodings")
        canvas = tile_images(np.concatenate([np.full_like(x, np.nan), x_hat - x_hat.mean(0)]), len(x_hat) + 1)
        shown = bottom.imshow(canvas, cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest")
        shown.vc_tile_px = 9
        bottom.set(xticks=[], yticks=[], title="each decoding minus their mean")
    fig.colorbar(shown, ax=axes[1, :].tolist(), label="pixel difference", shrink=0.9, ticks=[-lim, 0, lim])
    return fig


def plot_kl_per_dimension(kl_dims: dict, *, ax: Axes | None = None, thresholds=(0.05, 0.5),
                          title: str = "Collapsed dimensions carry (almost) 0 nats") -> Axes:
    """Grouped bars of the mean KL per latent dimension, {model name: (L,) tensor}, log scale, with a
    dotted line at each of `thresholds` (nats; notebook 04 calls under 0.05 off and over 0.5 used)."""
    ax = ax_or_new(ax, figsize=(7, 3.4))
    width = 0.8 / len(kl_dims)
    for i, (name, kl) in enumerate(kl_dims.items()):
        kl = np.maximum(as_numpy(kl), 1e-5)
        ax.bar(np.arange(len(kl)) + (i - (len(kl_dims) - 1) / 2) * width, kl, width, label=name)
    for threshold, ls in zip(thresholds, [":", "--", "-."]):
        ax.axhline(threshold, color="0.3", ls=ls, lw=1, label=f"{threshold:g} nats")
    ax.set(yscale="log", title=title, xlabel="latent dimension $j$", ylabel="mean KL of dimension $j$ (nats)",
           xticks=range(max(len(k) for k in kl_dims.values())))
    ax.legend(fontsize="small")
    return ax


def _frame_tiles(ax: Axes, mask, ncols: int, pad: int = 1, color: str = "#d62728") -> None:
    """Red frames around the tiles of an `image_grid` (in its order) where mask is True."""
    for i in np.flatnonzero(as_numpy(mask)):
        r, c = divmod(int(i), ncols)
        ax.add_patch(Rectangle((c * (8 + pad) - 0.5, r * (8 + pad) - 0.5), 8, 8, fill=False, ec=color, lw=2.5))


def plot_prior_draws(s, *, axes, lim: float, ncols: int = 6, legend: bool = True) -> None:
    """One model as a generator, on three given axes: its codes μ(x) with the fixed prior draws on top
    (red crosses where no posterior draw lies within the radius), the aggregate posterior, and the
    decodings of those prior draws (the same ones framed in red). `s` is a `ModelSummary` (2-D latent)."""
    z, far = as_numpy(s.z_prior), as_numpy(s.prior_unvisited).astype(bool)
    plot_codes(s.mu, s.labels, ax=axes[0], lim=lim, title=f"{s.name}:\ncodes μ(x), draws z ~ p(z)")
    axes[0].scatter(z[~far, 0], z[~far, 1], marker="o", s=26, facecolor="none", ec="black", lw=1,
                    label=f"z near a code (< {s.radius:.2f})")
    axes[0].scatter(z[far, 0], z[far, 1], marker="x", s=34, color="#d62728", lw=1.8, label="z where no code is")
    if legend:
        axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small", frameon=False)
    plot_aggregate_posterior(s.pooled, ax=axes[1], lim=lim,
                             title=f"aggregate posterior q(z)\nMMD² to N(0, I) = {s.mmd:.3f}")
    image_grid(s.prior_samples, ncols, ax=axes[2],
               title=f"decoded z ~ p(z): {far.sum()} of {len(far)} framed\n(no code within {s.radius:.2f})")
    _frame_tiles(axes[2], far, ncols)


def plot_generators(summaries, *, lim: float = 5.0, ncols: int = 6) -> Figure:
    """Rows of `plot_prior_draws`, one per `ModelSummary`, on shared latent axes (±lim in every row)."""
    summaries = list(summaries)
    fig = plt.figure(figsize=(10.8, 4.5 * len(summaries) + 0.5), layout="constrained")  # 972 px: JupyterLab's column
    rows = fig.subplots(len(summaries), 3, squeeze=False, gridspec_kw={"width_ratios": [1.1, 0.9, 1.45]})
    for s, axes in zip(summaries, rows):
        plot_prior_draws(s, axes=axes, lim=lim, ncols=ncols, legend=False)
    fig.legend(*rows[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False)
    return fig


def plot_generations(summaries, *, n_show: int = 36, ncols: int = 6) -> Figure:
    """Models as generators, side by side: the first `n_show` decoded prior draws of each `GenerationSummary`
    (top row, one panel per model), and below, which class of training digit the decodings of all the
    draws resemble (nearest training digit), beside the training digits' own mix."""
    summaries = list(summaries)
    if not summaries:
        raise ValueError("plot_generations needs at least one GenerationSummary.")
    fig = plt.figure(figsize=(10.8, 8.8), layout="constrained")  # 972 px: JupyterLab's column
    grid = fig.add_gridspec(2, 1, height_ratios=[5.2, 3.0])
    tops = grid[0].subgridspec(1, len(summaries)).subplots(squeeze=False)[0]
    for s, ax in zip(summaries, tops):
        image_grid(as_numpy(s.samples)[:n_show], ncols, ax=ax,
                   title=f"{s.name}: {min(n_show, len(s.samples))} decoded z ~ N(0, I)\n"
                         f"{s.unvisited:.0%} of {len(s.samples):,} draws: no code within {s.radius:.2f}")
    ax = fig.add_subplot(grid[1])
    n_classes = len(summaries[0].data_shares)
    width = 0.8 / (len(summaries) + 1)
    classes = np.arange(n_classes)
    colors = [COLORS["data"], COLORS["target"], COLORS["density"]]
    for i, s in enumerate(summaries):
        ax.bar(classes + (i - len(summaries) / 2) * width, as_numpy(s.class_shares), width,
               color=colors[i % len(colors)], label=f"{s.name} (gap {s.class_gap:.2f})")
    ax.bar(classes + len(summaries) / 2 * width, as_numpy(summaries[0].data_shares), width, color="0.6",
           label="the training digits themselves")
    ax.set(xticks=classes, xlabel="class of the nearest training digit",
           ylabel="share of the decoded draws",
           title=f"Which digit does each of the {len(summaries[0].samples):,} decoded draws resemble most?\n"
                 "(gap: how far a model's mix of classes is from the training digits' mix)")
    ax.legend(ncol=len(summaries) + 1, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    return fig


def plot_beta_path(summaries, *, fig: Figure | None = None) -> Figure:
    """Mean σ, the KL, and the reconstruction term with the β = 1 −ELBO (on the training digits, and on
    held-out digits where the summaries have `val_neg_elbo`), against the β each model trained with (log
    axis); `summaries` are `ModelSummary`s with beta > 0, in order of β."""
    summaries = list(summaries)
    beta = np.array([s.beta for s in summaries])
    fig = fig or plt.figure(figsize=(10.8, 3.9), layout="constrained")  # 972 px: JupyterLab's column
    axes = fig.subplots(1, 3)
    xlabel = r"$\beta$ (weight of the KL)"
    axes[0].plot(beta, [s.mean_sigma for s in summaries], "o-", color=COLORS["density"])
    axes[0].set(yscale="log", ylabel=r"mean $\sigma$ of the posteriors", title=r"σ shrinks toward 0 as $\beta \to 0$")
    axes[1].plot(beta, [s.kl for s in summaries], "o-", color=COLORS["target"])
    axes[1].set(ylabel="KL (nats per digit)", title="the KL falls as β grows", ylim=(0, None))
    axes[2].plot(beta, [s.rec for s in summaries], "o-", color=COLORS["data"],
                 label=r"reconstruction $-\log p(x|z)$, training")
    axes[2].plot(beta, [-s.elbo for s in summaries], "o-", color="black", label=r"$-$ELBO = rec + KL, training")
    held = [s.val_neg_elbo for s in summaries]
    if all(h is not None for h in held):
        best = int(np.argmin(held))
        axes[2].plot(beta, held, "s--", color="black", mfc="white", label=r"$-$ELBO, validation digits")
        axes[2].plot([beta[best]], [held[best]], "o", ms=13, mfc="none", mec=COLORS["target"], mew=2,
                     label=f"lowest validation −ELBO (β = {beta[best]:g})")
    has_held = all(h is not None for h in held)
    axes[2].set(ylabel="nats per digit (β = 1 bound)" if has_held else "nats per digit (training set)",
                title="the β = 1 bound on held-out digits" if has_held else "reconstruction pays for a large β")
    axes[2].legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    for ax in axes:
        ax.axvline(1.0, color="0.5", ls=":", lw=1)
        ax.set(xscale="log", xlabel=xlabel)
    return fig


class BetaPathFigure:
    """The explorer's picture of one model on the β path, 990 px wide at 90 dpi (JupyterLab's column
    holds about 1000 px, so it is shown at full size): codes with prior draws, the aggregate posterior
    q(z) and the decoded prior draws (framed in red where no code is near) on top; below, where the
    model sits on the mean-σ curve and on the held-out −ELBO curve. Only the data artists change between
    models (`BlitFigure`); axes are fixed at ±lim."""

    def __init__(self, summaries, *, lim: float = 5.0, ncols: int = 5, bins: int = 40, dpi: float = 90):
        summaries = list(summaries)
        self.lim, self.ncols, self.bins = lim, ncols, bins
        fig = Figure(figsize=(11, 7.4), dpi=dpi, layout="constrained")  # not pyplot: an explorer draws its own PNGs
        grid = fig.add_gridspec(2, 1, height_ratios=[3.2, 1.7])
        ax_codes, ax_agg, ax_img = grid[0].subgridspec(1, 3, width_ratios=[1, 0.9, 1.2]).subplots()
        ax_curve, ax_held = grid[1].subgridspec(1, 2).subplots()
        first = summaries[0]
        mu = as_numpy(first.mu)
        self.codes = ax_codes.scatter(mu[:, 0], mu[:, 1], c=as_numpy(first.labels), cmap="tab10", vmin=-0.5,
                                      vmax=9.5, s=5)
        self.draws = ax_codes.scatter([], [], marker="x", s=30, color="#d62728", lw=1.6,
                                      label=f"z ~ p(z), no code within {first.radius:.2f}")
        draw_prior_circles(ax_codes)
        ax_codes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small", frameon=False)
        ax_codes.set(title="codes μ(x), coloured by digit", xlabel="$z_1$", ylabel="$z_2$", xlim=(-lim, lim),
                     ylim=(-lim, lim), aspect="equal")
        self.density = ax_agg.imshow(np.zeros((bins, bins)), origin="lower", extent=(-lim, lim, -lim, lim),
                                     cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
        draw_prior_circles(ax_agg)
        ax_agg.set(title="aggregate posterior q(z)", xlabel="$z_1$", ylabel="$z_2$", aspect="equal")
        self.n_show = ncols * ncols
        canvas = tile_images(as_numpy(first.prior_samples)[:self.n_show], ncols)
        self.samples = ax_img.imshow(canvas, **{**IMAGE_KW, "cmap": plt.get_cmap("gray").with_extremes(bad="white")})
        self.samples.vc_tile_px = 9
        self.frames = []
        for i in range(min(self.n_show, len(first.prior_samples))):
            r, c = divmod(i, ncols)
            self.frames.append(ax_img.add_patch(Rectangle((c * 9 - 0.5, r * 9 - 0.5), 8, 8, fill=False,
                                                          ec="#d62728", lw=2.5, visible=False)))
        ax_img.set(xticks=[], yticks=[],
                   title=f"{len(self.frames)} decoded draws z ~ p(z)\n(red frame: no code near)")
        betas = [s.beta for s in summaries if s.beta > 0]
        self.ae_x = min(betas) / 4  # where a model trained with β = 0 sits on the log axis
        xlim, xlabel = (self.ae_x / 2, max(betas) * 2), r"$\beta$ (autoencoder, β = 0, at the left end)"
        path = [s for s in summaries if s.beta > 0]
        ax_curve.plot(betas, [s.mean_sigma for s in path], "o-", color="0.6", ms=3)
        held = [s.val_neg_elbo for s in path]
        self.has_held = all(h is not None for h in held)
        if self.has_held:
            ax_held.plot(betas, held, "s--", color="0.6", mfc="white", ms=4)
        for s in summaries:
            if s.beta == 0:
                ax_curve.plot([self.ae_x], [s.mean_sigma], "s", color="0.6", ms=6)
                ax_curve.annotate("autoencoder", (self.ae_x, s.mean_sigma), xytext=(8, 0), va="center",
                                  textcoords="offset points", fontsize="small")
                if self.has_held and s.val_neg_elbo is not None:
                    ax_held.plot([self.ae_x], [s.val_neg_elbo], "s", color="0.6", ms=6)
        self.marker, = ax_curve.plot([self._x(first)], [first.mean_sigma], "o", color=COLORS["target"], ms=9)
        self.held_marker, = ax_held.plot([self._x(first)], [first.val_neg_elbo or np.nan], "o",
                                         color=COLORS["target"], ms=9)
        ax_curve.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=r"mean $\sigma$", title="mean σ along the β path",
                     ylim=(1e-5, 2), xlim=xlim)
        ax_held.set(xscale="log", xlabel=xlabel, ylabel="nats per digit", xlim=xlim,
                    title="−ELBO (β = 1 bound) on validation digits" if self.has_held else "no validation digits given")
        for ax in (ax_curve, ax_held):
            ax.axvline(1.0, color="0.5", ls=":", lw=1)
        self.label = fig.text(0.01, 0.995, "", va="top", ha="left", fontsize="large", fontweight="bold")
        self.blit = BlitFigure(fig, [self.codes, self.draws, self.density, self.samples, *self.frames, self.marker,
                                     self.held_marker, self.label])
        self.fig = fig

    def update(self, s) -> tuple[int, int]:
        """Show summary `s`; returns (red crosses drawn, prior draws shown)."""
        mu = as_numpy(s.mu)
        self.codes.set_offsets(mu)
        z, far = as_numpy(s.z_prior)[:self.n_show], as_numpy(s.prior_unvisited).astype(bool)[:self.n_show]
        self.draws.set_offsets(z[far] if far.any() else np.empty((0, 2)))
        for frame, is_far in zip(self.frames, far):
            frame.set_visible(bool(is_far))
        pooled = as_numpy(s.pooled)
        counts, _, _ = np.histogram2d(pooled[:, 1], pooled[:, 0], bins=self.bins,
                                      range=[[-self.lim, self.lim], [-self.lim, self.lim]])
        self.density.set_data(np.where(counts > 0, np.minimum(counts / max(counts.max(), 1.0) * 3, 1.0), np.nan))
        self.samples.set_data(tile_images(as_numpy(s.prior_samples)[:self.n_show], self.ncols))
        self.marker.set_data([self._x(s)], [max(s.mean_sigma, 1e-5)])
        held = s.val_neg_elbo if self.has_held and s.val_neg_elbo is not None else np.nan
        self.held_marker.set_data([self._x(s)], [held])
        self.label.set_text(s.name)
        return int(far.sum()), len(far)

    def _x(self, s) -> float:
        return s.beta if s.beta > 0 else self.ae_x

    def png(self) -> bytes:
        return self.blit.png()


__all__ = ["plot_kl_landscape", "plot_aggregate_posterior", "plot_latent_summary",
           "plot_kl_per_dimension", "plot_prior_draws", "plot_generators", "plot_generations", "plot_posterior_decodings", "plot_beta_path",
           "BetaPathFigure"]
