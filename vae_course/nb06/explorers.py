"""Notebook 06's explorers: interpolate between two digits' codes; move through a 2-D latent space."""

from __future__ import annotations

import torch

from .. import _validate as v
from ..explorers import Explorer, int_slider, slider
from . import compute
from .figures import InterpolationFigure, LatentGridFigure


class InterpolationExplorer(Explorer):
    """Notebook 06: pick two test digits A and B; slide t to decode z(t) = (1 − t)·μ(A) + t·μ(B).

    `model` is a trained `models.VAE`; `x` (N, 64) the digits to pick from. The codes μ(x) of all of
    them are computed once (`compute.posterior_means`); an update decodes one code
    (`compute.interpolate`). `.state` = dict(t, z, x_hat).
    """

    name = "interpolation explorer"

    def __init__(self, model, x, a: int = 0, b: int = 1):
        x = v.tensor(x, "x")
        if x.ndim != 2 or x.shape[1] != model.data_dim:
            raise ValueError(f"x must have shape (N, {model.data_dim}), got {tuple(x.shape)}.")
        for name, i in (("a", a), ("b", b)):
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(x):
                raise ValueError(f"{name} must be an index into x (0..{len(x) - 1}), got {i!r}.")
        self.model, self.x = model, x
        self.codes = compute.posterior_means(model, x)
        self.view = InterpolationFigure()
        self.state: dict = {}
        controls = {"a": int_slider("digit A", a, 0, len(x) - 1), "b": int_slider("digit B", b, 0, len(x) - 1),
                    "t": slider("t", 0.5, 0.0, 1.0, 0.05)}
        super().__init__(controls, self._draw, caption="Slide between the codes of two test digits")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        a, b, t = values["a"], values["b"], values["t"]
        path = compute.interpolate(self.model, self.codes, a, b, t)
        self.state = {"t": t, "z": path.z, "x_hat": path.x_hat}
        self.view.draw(self.x[a], path.x_hat, self.x[b], t, f"t = {t:.2f}: decoded from (1 − t)·μ(A) + t·μ(B)")
        return self.view.png(), (f"digits #{a} → #{b}, code distance ‖μ(B) − μ(A)‖ = {path.distance:.2f}<br>"
                                 f"t = {t:.2f}, ‖z(t)‖ = {path.norm:.2f}")


class LatentGridExplorer(Explorer):
    """Notebook 06: move z = (z₁, z₂) of a 2-latent VAE over its decoded grid; see the digit at z.

    The n×n grid on [−extent, extent]² is decoded once; an update decodes one code and reads its
    density under `model.prior` (`compute.decode_point`), so any prior works. `.state` = dict(z, x).
    """

    name = "latent-grid explorer"

    def __init__(self, model, extent: float = 2.5, n: int = 12):
        if model.latent_dim != 2:
            raise ValueError(f"the latent-grid explorer needs a model with latent_dim = 2, got {model.latent_dim}.")
        extent = v.scalar(extent, "extent", positive=True)
        self.model, self.extent = model, extent
        self.grid_z = compute.latent_grid_codes(n, extent)
        self.grid_images = compute.decode_means(model, self.grid_z)
        self.peak = compute.prior_peak(model.prior, extent)
        self.view = LatentGridFigure(self.grid_images, extent)
        self.state: dict = {}
        controls = {"z1": slider("z₁", 0.0, -extent, extent, 0.05), "z2": slider("z₂", 0.0, -extent, extent, 0.05)}
        super().__init__(controls, self._draw, caption="Move through the 2-D latent space")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        point = compute.decode_point(self.model, torch.tensor([values["z1"], values["z2"]], dtype=torch.float32))
        self.state = {"z": point.z, "x": point.x}
        self.view.draw(point.z, point.x, f"z = ({values['z1']:.2f}, {values['z2']:.2f})")
        return self.view.png(), f"prior density p(z) = {point.density:.3f} (its peak is {self.peak:.3f})"


__all__ = ["InterpolationExplorer", "LatentGridExplorer"]
