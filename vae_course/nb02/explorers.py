"""Notebook 02's explorer: move a data point x, see which prior draws explain it."""

from __future__ import annotations

import torch

from ..explorers import Explorer, slider
from . import compute
from .figures import LatentFigure

FEW_DRAWS = 10  # an effective sample size below this gets a warning in the readout


class LatentExplorer(Explorer):
    """Notebook 02: move a data point x of the 2-D curve toy; see p(z|x) ∝ p(x|z)p(z) beside the
    prior, which prior draws carry the weight, and the Monte Carlo estimate of log p(x) against the
    exact value by quadrature.

    The same K prior draws (and R × K draws for the repeated estimates) serve every x, from one
    fixed generator. `.state` is the last `compute.PointSummary`. When the effective sample size is below
    `FEW_DRAWS` the readout warns that the estimate rests on a handful of draws.
    """

    name = "latent explorer"

    def __init__(self, k: int = 200, repeats: int = 100, noise: float = compute.NOISE, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.noise = noise
        self.z_draws, self.z_repeats = compute.fixed_prior_draws(k, repeats, gen)
        self.draws_xy = compute.curve(self.z_draws)
        self.grid = compute.z_grid(1201)
        self.data = compute.sample(400, noise=noise, generator=gen)[0]
        controls = {"x1": slider("x₁", 0.45, -2.5, 2.5, 0.05), "x2": slider("x₂", 0.65, -1.5, 1.5, 0.05)}
        self.view: LatentFigure | None = None
        self.state: compute.PointSummary | None = None
        super().__init__(controls, self._draw, caption="Move x: which prior draws explain it?")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        x = torch.tensor([values["x1"], values["x2"]], dtype=torch.float64)
        s = self.state = compute.summarize_point(x, self.z_draws, self.z_repeats, self.noise, self.grid)
        if self.view is None:
            self.view = LatentFigure(s, self.draws_xy, compute.curve(self.grid), self.data)
        k = len(s.z_draws)
        self.view.draw(s, self.draws_xy, f"{s.n_90} of {k} prior draws carry 90% of the weight")
        mean, sd = compute.estimate_moments(s.estimates)
        readout = (f"<b>exact log p(x) = {s.exact:.3f}</b> (quadrature over z)<br>"
                   f"Monte Carlo from {k} prior draws: {mean:.3f} ± {sd:.3f} "
                   f"(mean ± sd of {len(s.estimates)} repeats)<br>"
                   f"effective sample size {s.ess:.1f} of {k}; "
                   f"{s.n_90} draw{'s' if s.n_90 != 1 else ''} carry 90% of the weight")
        if s.ess < FEW_DRAWS:
            readout += (f"<br><b>⚠ effective sample size below {FEW_DRAWS}:</b> the estimate rests on a handful "
                        f"of the {k} draws (the few that land where p(z|x) is), so another set of {k} "
                        f"draws can give a quite different number (the ± of the repeats shows how different).")
        return self.view.png(), readout


__all__ = ["LatentExplorer", "FEW_DRAWS"]
