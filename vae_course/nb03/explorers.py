"""Notebook 03's explorer: pick a test digit, see its own normal and the decodings of its draws."""

from __future__ import annotations

import ipywidgets as widgets
import torch

from ..explorers import SLIDER_LAYOUT, SLIDER_STYLE, Explorer
from .compute import ellipse_mass
from .figures import PosteriorFigure


class PosteriorExplorer(Explorer):
    """Notebook 03: pick a test digit; its posterior ellipse among all the others, draws from it, and
    the decodings of those draws beside the original.

    Everything is precomputed in `table` (`vae_course.nb03.posterior_table`); a move only looks
    up row k and redraws. `.state` is that row (a dict: index, label, mu, sigma, z, x, x_hat).
    """

    name = "posterior explorer"

    def __init__(self, table, n_sigma: float = 1.0, index: int = 0):

        if table.mu.shape[1] != 2:
            raise ValueError(f"the explorer draws a 2-D latent space; this table has {table.mu.shape[1]} dimensions.")
        self.table = table
        self.view = PosteriorFigure(table, n_sigma)
        self.state: dict | None = None
        controls = {"index": widgets.IntSlider(value=index, min=0, max=len(table.mu) - 1, step=1,
                                               description="test digit #", continuous_update=True,
                                               layout=SLIDER_LAYOUT, style=SLIDER_STYLE)}
        super().__init__(controls, self._draw, caption="Pick a test digit: its own normal distribution in z")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        k, t = values["index"], self.table
        sigma = torch.exp(0.5 * t.log_var[k])
        inside = ((t.eps[k] ** 2).sum(-1) <= self.view.n_sigma ** 2).sum().item()
        self.state = {"index": k, "label": int(t.labels[k]), "mu": t.mu[k], "sigma": sigma, "z": t.z[k],
                      "x": t.x[k], "x_hat": t.x_hat[k]}
        self.view.show(k)
        readout = (f"<b>digit #{k}, label {int(t.labels[k])}</b><br>"
                   f"μ = ({t.mu[k, 0]:.2f}, {t.mu[k, 1]:.2f}), σ = ({sigma[0]:.3f}, {sigma[1]:.3f})<br>"
                   f"{inside} of {t.z.shape[1]} draws inside the {self.view.n_sigma:g}σ ellipse "
                   f"(expected share {100 * ellipse_mass(self.view.n_sigma):.0f}%)")
        return self.view.png(), readout

__all__ = ["PosteriorExplorer"]
