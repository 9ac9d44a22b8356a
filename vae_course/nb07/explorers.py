"""Notebook 07's explorer: move the code z of one digit along a latent dimension; watch pixel samples,
−log p(x|z) and −log p(z) respond (everything precomputed: a move swaps pictures)."""

from __future__ import annotations

import ipywidgets as widgets

from ..explorers import SLIDER_STYLE, Explorer
from .compute import ZPath
from .figures import z_path_pngs


class ZPathExplorer(Explorer):
    """Notebook 07, "move along z": a slider over the steps of a `vae_course.nb07.z_path(...)`.

    Every picture is drawn once here (`z_path_pngs`), so a move of the slider only swaps PNG bytes.
    `.step` is the index shown; `.pngs` the pictures.
    """

    name = "move along z"

    def __init__(self, path: ZPath, dpi: int = 72):
        if not isinstance(path, ZPath):
            raise TypeError(f"path must be a `vae_course.nb07.z_path(...)` result, got {type(path).__name__}.")
        self.path, self.pngs, self.step = path, z_path_pngs(path, dpi), None
        options = [(f"{float(t):+.1f}", i) for i, t in enumerate(path.ts)]
        middle = min(range(len(path.ts)), key=lambda i: abs(float(path.ts[i])))
        controls = {"t": widgets.SelectionSlider(options=options, value=middle, description=f"t along z{path.dim + 1}",
                                                 continuous_update=True, layout=widgets.Layout(width="520px"),
                                                 style=SLIDER_STYLE)}
        super().__init__(controls, self._draw, caption="Move the code of one digit along a latent dimension")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        i = self.step = values["t"]
        p = self.path
        readout = (f"z = μ(x) {float(p.ts[i]):+.1f}·e{p.dim + 1}<br>"
                   f"−log p(x | z), how well this one z explains the test digit x: {float(p.nll[i]):.1f} nats<br>"
                   f"−log p(z), the prior's cost of this one z: {-float(p.log_prior[i]):.1f} nats<br>"
                   f"KL(q(z | x) ‖ p(z)), what the ELBO charges for the digit's whole posterior "
                   f"(the same at every step): {p.kl:.1f} nats")
        return self.pngs[i], readout


__all__ = ["ZPathExplorer"]
