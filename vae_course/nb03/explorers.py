"""Notebook 03's explorer: pick a test digit, see its own normal and the decodings of its draws."""

from __future__ import annotations

import ipywidgets as widgets

from ..explorers import SLIDER_LAYOUT, SLIDER_STYLE, Explorer
from .compute import posterior_row
from .figures import PosteriorFigure


class PosteriorExplorer(Explorer):
    """Notebook 03: pick a test digit; its posterior ellipse among all the others, draws from it, and
    the decodings of those draws beside the original.

    Everything is precomputed in `table` (`vae_course.nb03.posterior_table`); a move only looks
    up row k and redraws. `.state` is that row, `compute.posterior_row` (a dict: index, label, mu,
    sigma, z, x, x_hat, inside, expected_share).
    """

    name = "posterior explorer"

    def __init__(self, table, n_sigma: float = 1.0, index: int = 0):

        if table.mu.shape[1] != 2:
            raise ValueError(f"the explorer draws a 2-D latent space; this table has {table.mu.shape[1]} dimensions.")
        self.table, self.n_sigma = table, n_sigma
        self.view = PosteriorFigure(table, n_sigma)
        self.state: dict | None = None
        controls = {"index": widgets.IntSlider(value=index, min=0, max=len(table.mu) - 1, step=1,
                                               description="test digit #", continuous_update=True,
                                               layout=SLIDER_LAYOUT, style=SLIDER_STYLE)}
        super().__init__(controls, self._draw, caption="Pick a test digit: its own normal distribution in z")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        k = values["index"]
        row = self.state = posterior_row(self.table, k, self.n_sigma)
        self.view.show(k)
        mu, sigma = row["mu"].tolist(), row["sigma"].tolist()
        readout = (f"<b>digit #{k}, label {row['label']}</b><br>"
                   f"μ = ({mu[0]:.2f}, {mu[1]:.2f}), σ = ({sigma[0]:.3f}, {sigma[1]:.3f})<br>"
                   f"{row['inside']} of {len(row['z'])} draws inside the {self.n_sigma:g}σ ellipse "
                   f"(expected share {100 * row['expected_share']:.0f}%)")
        return self.view.png(), readout


__all__ = ["PosteriorExplorer"]
