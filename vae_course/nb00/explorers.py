"""The installation check: one slider σ, the picture of X = σ·Z must follow it."""

from __future__ import annotations

import torch

from ..explorers import Explorer, slider
from ..nb01 import compute
from ..nb01.figures import PushforwardFigure


class InstallationCheck(Explorer):
    """Notebook 00: one slider σ; the picture of X = σ·Z and the readout must follow it."""

    name = "installation check"

    def __init__(self, n: int = 2000, seed: int = 0):
        self.z = compute.sample_source("normal", n, torch.Generator().manual_seed(seed))
        self.edges, self.grid = compute.histogram_view(-5.0, 5.0, 60, 401)
        self.target = compute.Pushforward("normal", "affine", 1.0, 0.0)
        self.view: PushforwardFigure | None = None
        self.state: compute.PushforwardSummary | None = None
        controls = {"sigma": slider("σ", 1.0, 0.2, 2.0, 0.1)}
        super().__init__(controls, self._draw, caption="Move σ: the histogram and the curve widen and flatten")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        sigma = values["sigma"]
        p = compute.Pushforward("normal", "affine", sigma, 0.0)
        s = self.state = compute.summarize_pushforward(p, self.target, self.z, self.edges, self.grid)
        if self.view is None:
            self.view = PushforwardFigure(s, "density of N(0, 1) (σ = 1), for comparison", target_prefix="",
                                          xlabel="$x = \\sigma z$",
                                          hist_label=f"histogram of σ·Z: {len(s.samples):,} fixed draws of Z, times σ",
                                          density_label="density of σ·Z: N(0, σ²)")
        self.view.draw(s, f"X = σ·Z with σ = {sigma:.2f}")
        sd = compute.sample_moments(s.samples)[1]
        return self.view.png(), f"✓ widgets work: σ = {sigma:.2f}, sample sd {sd:.2f}"


__all__ = ["InstallationCheck"]
