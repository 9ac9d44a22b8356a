"""Notebook 06's explorers: interpolate between two digits' codes; move through a 2-D latent space."""

from __future__ import annotations

import torch

from .. import _validate as v
from ..explorers import Explorer, dropdown, int_slider, slider
from . import compute
from .figures import InterpolationFigure, LatentGridFigure


class InterpolationExplorer(Explorer):
    """Notebook 06: pick two test digits A and B; slide t to decode z(t) = (1 − t)·μ(A) + t·μ(B).

    `model` is a trained `models.VAE`; `x` (N, 64) the digits to pick from, `labels` (N,) their classes:
    with labels, A and B are picked by class (a dropdown) and by which example of that class (a slider);
    without, by index. `a`, `b` are the first digits' indices. The codes μ(x) of all of them are
    computed once (`compute.posterior_means`); an update decodes one code (`compute.interpolate`).
    `.state` = dict(a, b, t, z, x_hat, path): path (11, 64), the decodings
    at t = 0, 0.1, …, 1. When the controls pick A = B the picture still updates (every step is μ(A)) and the
    readout says that A and B are the same digit.
    """

    name = "interpolation explorer"

    def __init__(self, model, x, labels=None, a: int = 0, b: int = 1):
        x = v.tensor(x, "x")
        if x.ndim != 2 or x.shape[1] != model.data_dim:
            raise ValueError(f"x must have shape (N, {model.data_dim}), got {tuple(x.shape)}.")
        for name, i in (("a", a), ("b", b)):
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(x):
                raise ValueError(f"{name} must be an index into x (0..{len(x) - 1}), got {i!r}.")
        if a == b:
            raise ValueError(f"a and b must be two different digits, got the same index {a}.")
        self.model, self.x = model, x
        self._ends, self._path = None, None
        self.codes = compute.posterior_means(model, x)
        self.view = InterpolationFigure()
        self.state: dict = {}
        if labels is None:
            self.by_class = None
            controls = {"a": int_slider("digit A", a, 0, len(x) - 1), "b": int_slider("digit B", b, 0, len(x) - 1)}
        else:
            self.by_class = compute.examples_by_class(labels)
            if sum(map(len, self.by_class.values())) != len(x):
                raise ValueError(f"labels must have shape ({len(x)},), one class per digit of x.")
            labels = {i: c for c, ix in self.by_class.items() for i in ix}
            most = min(len(ix) for ix in self.by_class.values()) - 1
            controls = {}
            for name, i in (("a", a), ("b", b)):
                cls = labels[i]
                controls[f"class_{name}"] = dropdown(f"digit {name.upper()}: a", list(self.by_class), cls)
                controls[f"example_{name}"] = int_slider("which one", min(self.by_class[cls].index(i), most), 0, most)
        controls["t"] = slider("t", 0.5, 0.0, 1.0, 0.05)
        super().__init__(controls, self._draw, caption="Slide between the codes of two test digits")

    def _index(self, values: dict, name: str) -> int:
        if self.by_class is None:
            return values[name]
        return self.by_class[values[f"class_{name}"]][values[f"example_{name}"]]

    def _draw(self, values: dict) -> tuple[bytes, str]:
        a, b, t = self._index(values, "a"), self._index(values, "b"), values["t"]
        path = compute.interpolate(self.model, self.codes, a, b, t)
        if self._ends != (a, b):
            self._ends, self._path = (a, b), compute.interpolation_path(self.model, self.codes, a, b, self.view.steps)
        self.state = {"a": a, "b": b, "t": t, "z": path.z, "x_hat": path.x_hat, "path": self._path}
        same = a == b
        self.view.draw(self.x[a], path.x_hat, self.x[b], self._path, t,
                       "A and B are the same digit: z(t) = μ(A) for every t" if same else
                       f"t = {t:.2f}: decoded from (1 − t)·μ(A) + t·μ(B)")
        if same:
            return self.view.png(), (f"⚠ digit A and digit B are the same test digit (#{a}): the path stays at one code "
                                     f"and every step decodes the same image.<br>Pick another example (or class) for B.")
        names = (f"a {values['class_a']} (#{a})", f"a {values['class_b']} (#{b})") if self.by_class else (f"#{a}", f"#{b}")
        return self.view.png(), (f"digit A {names[0]} → digit B {names[1]}, code distance ‖μ(B) − μ(A)‖ = "
                                 f"{path.distance:.2f}<br>t = {t:.2f}, ‖z(t)‖ = {path.norm:.2f}")


class LatentGridExplorer(Explorer):
    """Notebook 06: move z = (z₁, z₂) of a 2-latent VAE over its decoded grid; see the digit at z.

    The n×n grid on [−extent, extent]² is decoded once; an update decodes one code and reads its
    density under `model.prior` (`compute.decode_point`), so any prior works. `.state` = dict(z, x).
    """

    name = "latent-grid explorer"

    def __init__(self, model, extent: float = 3.5, n: int = 8):
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
        point = compute.decode_point(self.model, torch.tensor([values["z1"], values["z2"]], dtype=torch.float32),
                                     self.peak)
        self.state = {"z": point.z, "x": point.x}
        self.view.draw(point.z, point.x, f"z = ({values['z1']:.2f}, {values['z2']:.2f})")
        return self.view.png(), (f"log p(z) = {point.log_density:.2f} nats, so p(z) = {point.density:.2e} "
                                 f"(its peak is {self.peak:.3f})<br>p(z) / peak = {point.of_peak:.1e}: "
                                 f"the prior's draws land near this z {_times(point.of_peak)} as often "
                                 f"as near its peak")


def _times(share: float) -> str:
    """How a share of the peak reads in words: 'about' near 1, else '1/20', '1/310,000'."""
    return "about" if share > 2 / 3 else f"1/{1 / share:,.0f}"


__all__ = ["InterpolationExplorer", "LatentGridExplorer"]
