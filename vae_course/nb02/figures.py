"""Notebook 02's figures: densities over the plane, prior beside posterior, the spread of estimates,
error against prior mass, ESS against D, Gaussian fits, the latent explorer's picture."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..figures import COLORS, BlitFigure, as_numpy, ax_or_new


def plot_density_2d(x1, x2, density, *, ax: Axes | None = None, points=None, title: str = "",
                    label: str = "$p(x)$") -> Axes:
    """A density on the grid x1 (W,) × x2 (H,), `density` (H, W), as an image; optional points (N, 2) on top."""
    ax = ax_or_new(ax, figsize=(6.4, 3.6))
    x1, x2, density = as_numpy(x1), as_numpy(x2), as_numpy(density)
    mesh = ax.pcolormesh(x1, x2, density, shading="nearest", cmap="viridis")
    ax.figure.colorbar(mesh, ax=ax, label=label)
    if points is not None:
        points = as_numpy(points)
        ax.scatter(points[:, 0], points[:, 1], s=4, color="white", alpha=0.6, label=f"{len(points):,} samples")
        ax.legend(loc="lower right", fontsize="small", labelcolor="white")
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    return ax


def plot_prior_posterior(z, prior, post, *, ax: Axes | None = None, z_draws=None, w=None, title: str = "") -> Axes:
    """The prior p(z) and the posterior p(z|x) over the grid z; optional prior draws (K,) as a rug,
    drawn taller and darker the more normalised weight w (K,) they carry."""
    ax = ax_or_new(ax)
    z = as_numpy(z)
    ax.plot(z, as_numpy(prior), color=COLORS["target"], lw=2, ls="--", label="prior $p(z)$")
    ax.plot(z, as_numpy(post), color=COLORS["density"], lw=2, label=r"posterior $p(z \mid x) \propto p(x \mid z)\,p(z)$")
    if z_draws is not None:
        top = float(np.max(as_numpy(post)))
        heights = 0.04 * top + (0.0 if w is None else 0.5 * top * as_numpy(w) / max(float(np.max(as_numpy(w))), 1e-300))
        ax.vlines(as_numpy(z_draws), 0, heights, color="0.3", lw=0.8,
                  label=f"{len(z_draws)} draws from the prior (height = weight)")
    ax.set(title=title, xlabel="$z$", ylabel="density")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="medium")  # beside the axes, off the data
    return ax


def plot_estimate_spread(estimates: dict, exact: dict, *, ax: Axes | None = None, title: str = "",
                         xlabel: str = "data dimension $D$") -> Axes:
    """Box plots of repeated estimates minus the exact value, one box per setting {name: (R,)}."""
    ax = ax_or_new(ax)
    names = list(estimates)
    errors = [as_numpy(estimates[n]) - float(exact[n]) for n in names]
    ax.boxplot(errors, tick_labels=[str(n) for n in names], showfliers=True)
    ax.axhline(0.0, color=COLORS["target"], lw=1.5, ls="--", label="exact (quadrature)")
    ax.set(title=title, xlabel=xlabel, ylabel=r"estimate $-$ exact $\log p(x)$")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="medium")  # beside the axes, off the data
    return ax


def plot_error_vs_prior_mass(n_expected, error, log_px, *, ax: Axes | None = None, marked: dict | None = None,
                             title: str = "") -> Axes:
    """Mean estimate − exact log p(x) (N,) against the number of prior draws expected in the posterior's
    region (N,), log scale, coloured by the exact log p(x) (N,); `marked` {label: (n, error)} are labelled."""
    ax = ax_or_new(ax, figsize=(6.4, 3.8))
    n, err = as_numpy(n_expected), as_numpy(error)
    dots = ax.scatter(n, err, c=as_numpy(log_px), cmap="viridis", s=28, edgecolor="0.3", lw=0.4)
    ax.figure.colorbar(dots, ax=ax, label=r"exact $\log p(x)$ (low = far off the curve)")
    ax.axhline(0.0, color=COLORS["target"], lw=1.5, ls="--")
    for label, (a, b) in (marked or {}).items():
        ax.annotate(label, (a, b), xytext=(12, -14 if b > -1 else 10), textcoords="offset points",
                    arrowprops=dict(arrowstyle="-", color="0.3"), fontsize="small")
    ax.set_xscale("log")
    ax.set(title=title, xlabel="prior draws expected in the posterior's 95% region",
           ylabel=r"mean estimate $-$ exact $\log p(x)$")
    return ax


def plot_gaussian_fits(z, post, fits: dict, *, ax: Axes | None = None, title: str = "") -> Axes:
    """The exact posterior p(z|x) on the grid z (filled) beside Gaussian densities {label: (G,)} on it."""
    ax = ax_or_new(ax)
    z = as_numpy(z)
    ax.fill_between(z, as_numpy(post), color=COLORS["samples"], label=r"exact $p(z \mid x)$")
    styles = [dict(color=COLORS["density"], lw=2), dict(color=COLORS["target"], lw=2, ls="--"),
              dict(color=COLORS["data"], lw=2, ls=":")]
    for (label, density), style in zip(fits.items(), styles * 3):
        ax.plot(z, as_numpy(density), label=label, **style)
    top = max([float(np.max(as_numpy(post)))] + [float(np.max(as_numpy(d))) for d in fits.values()])
    ax.set_ylim(0, 1.08 * top)
    ax.set(title=title, xlabel="$z$", ylabel="density")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize="medium", ncols=2)  # below, off the data
    return ax


def plot_ess_by_dim(ess: dict, k: int, *, ax: Axes | None = None, title: str = "") -> Axes:
    """Effective sample sizes {D: (n_x,)} of K prior draws, one dot per data point, the median per D joined,
    on log–log axes, with a D^(−1/2) guide through the first median."""
    ax = ax_or_new(ax, figsize=(6.0, 3.6))
    dims = np.array(list(ess), dtype=float)
    values = [as_numpy(ess[d]) for d in ess]
    for d, val in zip(dims, values):
        ax.scatter(np.full(len(val), d), val, s=10, color=COLORS["samples"], alpha=0.7)
    medians = np.array([np.median(val) for val in values])
    ax.plot(dims, medians, "o-", color=COLORS["density"], lw=2, label="median over the data points")
    ax.plot(dims, medians[0] * (dims / dims[0]) ** -0.5, color=COLORS["target"], ls="--", lw=1.5,
            label=r"$\propto D^{-1/2}$, as the posterior's width")
    ax.scatter([], [], s=10, color=COLORS["samples"], label="one data point $x$")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(dims, [str(int(d)) for d in dims])
    ax.set(title=title, xlabel="data dimension $D$", ylabel=f"effective sample size of $K$ = {k:,}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="medium")  # beside the axes, off the data
    return ax


def plot_elbo_profiles(mus, elbo_mu, sigmas, elbo_sigma, log_px: float, mu_best: float, sigma_best: float,
                       *, title: str = "") -> Figure:
    """Two panels sharing the y-axis: the ELBO of q = N(mu, sigma_best²) against mu (mus, elbo_mu (G,)),
    and of q = N(mu_best, sigma²) against sigma on a log axis (sigmas, elbo_sigma (G,)), with
    log p(x) as a horizontal line and the best (mu, sigma) marked."""
    import matplotlib.pyplot as plt

    fig, (ax_m, ax_s) = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True, layout="constrained")
    for ax, t, e, best, name in ((ax_m, mus, elbo_mu, mu_best, r"mean $\mu$ of $q$ (width fixed at the best $\sigma$)"),
                                 (ax_s, sigmas, elbo_sigma, sigma_best, r"width $\sigma$ of $q$ (mean fixed at the best $\mu$)")):
        ax.plot(as_numpy(t), as_numpy(e), color=COLORS["density"], lw=2, label="ELBO($q$)")
        ax.fill_between(as_numpy(t), as_numpy(e), log_px, color=COLORS["samples"], alpha=0.5,
                        label=r"gap = KL($q \Vert p(z \mid x)$)")
        ax.axhline(log_px, color=COLORS["target"], ls="--", lw=1.5, label=r"$\log p(x)$ (quadrature)")
        ax.axvline(best, color="0.4", ls=":", lw=1.2, label="the best Gaussian $q$")
        ax.set(xlabel=name)
    fig.legend(*ax_m.get_legend_handles_labels(), loc="outside lower center", ncols=4)  # below both panels, off the data
    ax_s.set_xscale("log")
    from matplotlib.ticker import FixedLocator, NullLocator

    lo, hi = float(np.min(as_numpy(sigmas))), float(np.max(as_numpy(sigmas)))
    ticks = [t for t in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10) if lo <= t <= hi]
    ax_s.xaxis.set_major_locator(FixedLocator(ticks))
    ax_s.xaxis.set_minor_locator(NullLocator())
    ax_s.set_xticklabels([f"{t:g}" for t in ticks])
    ax_m.set_ylabel("nats")
    fig.suptitle(title)
    return fig


class LatentFigure:
    """The latent explorer's picture: left, the data plane with the curve, the chosen x and where
    the prior draws land, g(z_k), sized by weight; right, p(z) and p(z|x) over z with the draws.

    draw(summary, draws_xy, title) updates in place (draws_xy (K, 2) = g(z_k)); png() returns PNG bytes.
    The density axis stays at 0–YMAX for every x, so a change of the posterior's height is seen as one.
    """

    YMAX = 10.0

    def __init__(self, summary, draws_xy, curve_xy, data, figsize=(10.0, 4.3), dpi=80):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.075, right=0.98, top=0.9, bottom=0.27, wspace=0.22)
        self.ax_x, self.ax_z = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        data = as_numpy(data)
        self.ax_x.scatter(data[:, 0], data[:, 1], s=3, color=COLORS["samples"], label="data")
        z = as_numpy(summary.z)
        self.ax_x.plot(*as_numpy(curve_xy).T, color="0.6", lw=1, label="curve $g(z)$")
        self.draws = self.ax_x.scatter(*np.zeros((2, len(summary.z_draws))), s=4, color="0.3",
                                       label="$g(z_k)$, size = weight")
        (self.point,) = self.ax_x.plot([], [], "*", ms=14, color=COLORS["target"], mec="k", label="$x$")
        self.ax_x.set(xlim=(-3.2, 3.2), ylim=(-1.9, 1.9), xlabel="$x_1$", ylabel="$x_2$",
                      title="data plane: where the prior draws land")
        self.ax_x.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), fontsize="small", ncols=2)  # off the data
        self.ax_z.plot(z, as_numpy(summary.prior), color=COLORS["target"], lw=2, ls="--", label="prior $p(z)$")
        (self.post,) = self.ax_z.plot(z, as_numpy(summary.post), color=COLORS["density"], lw=2,
                                      label=r"$p(z \mid x) \propto p(x \mid z)\,p(z)$")
        self.rug = self.ax_z.vlines(np.zeros(len(summary.z_draws)), 0, 0, color="0.3", lw=0.8,
                                    label="prior draws $z_k$ (height = weight)")
        self.ax_z.set(xlim=(z[0] / 1.5, z[-1] / 1.5), ylim=(0, self.YMAX), xlabel="$z$", ylabel="density")
        self.ax_z.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), fontsize="small", ncols=2)
        self.blit = BlitFigure(fig, [self.draws, self.point, self.post, self.rug, self.ax_z.title])
        self.fig = fig
        self.draw(summary, draws_xy)

    def draw(self, s, draws_xy, title: str = "") -> None:
        x, w = as_numpy(s.x), as_numpy(s.w)
        self.point.set_data([x[0]], [x[1]])
        self.draws.set_offsets(as_numpy(draws_xy))
        self.draws.set_sizes(2 + 120 * w / max(w.max(), 1e-300))
        self.post.set_ydata(as_numpy(s.post))
        top = self.ax_z.get_ylim()[1]  # fixed: over the sliders' range every peak of p(z|x) is below 9.1
        zd = as_numpy(s.z_draws)
        self.rug.set_segments([[(a, 0), (a, 0.02 * top + 0.6 * top * b / max(w.max(), 1e-300))] for a, b in zip(zd, w)])
        self.ax_z.set_title(title)

    def png(self) -> bytes:
        return self.blit.png()


__all__ = ["plot_density_2d", "plot_prior_posterior", "plot_estimate_spread", "plot_error_vs_prior_mass",
           "plot_gaussian_fits", "plot_ess_by_dim", "plot_elbo_profiles", "LatentFigure"]
