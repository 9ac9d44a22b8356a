"""Explorers: thin glue between ipywidgets controls, a compute function and a plotting view.

Callbacks only set widget state (the PNG bytes of an `Image`, the HTML of a readout) and never
print or display, so nbval stays strict and the explorers work alike in JupyterLab, Notebook 7,
VS Code and Voila. Every explorer keeps what it last computed in `.state`, for tests and for
curious learners.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets
import torch

from . import _validate as v
from . import distributions as dist
from . import evaluation
from .plotting import InterpolationFigure, LatentGridFigure, PushforwardFigure

SLIDER_LAYOUT = widgets.Layout(width="340px")
SLIDER_STYLE = {"description_width": "90px"}


def slider(description: str, value: float, lo: float, hi: float, step: float) -> widgets.FloatSlider:
    """A float slider with the course's look (live updates, 2-decimal readout)."""
    return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                               continuous_update=True, readout_format=".2f",
                               layout=SLIDER_LAYOUT, style=SLIDER_STYLE)


def dropdown(description: str, options, value) -> widgets.Dropdown:
    """A dropdown with the course's look."""
    return widgets.Dropdown(options=options, value=value, description=description,
                            layout=SLIDER_LAYOUT, style=SLIDER_STYLE)


class Explorer:
    """Controls → `render(values) -> (png_bytes, readout_html)` → an Image and an HTML readout.

    `controls` maps a name to a widget with a `.value`; moving any of them calls `refresh()`.
    An exception in `render` becomes a readable message in the readout instead of a traceback.
    """

    name = "explorer"

    def __init__(self, controls: dict[str, widgets.ValueWidget], render: Callable[[dict], tuple[bytes, str]],
                 caption: str = ""):
        self.controls = controls
        self._render = render
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.readout = widgets.HTML(layout=widgets.Layout(min_height="3em"))
        self.updates = 0
        for control in controls.values():
            control.observe(self._on_change, names="value")
        rows = [widgets.HTML(f"<b>{html.escape(caption)}</b>")] if caption else []
        self.widget = widgets.VBox(rows + [widgets.HBox([widgets.VBox(list(controls.values())), self.readout]),
                                           self.image])
        self.refresh()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute and redraw for the current control values."""
        try:
            png, readout = self._render(self.values())
        except (ValueError, TypeError) as err:
            self.readout.value = f"<span style='color:#b30000'>⚠ {html.escape(str(err))}</span>"
            return
        self.image.value = png
        self.readout.value = readout
        self.updates += 1

    def _repr_mimebundle_(self, **kwargs):
        data = self.widget._repr_mimebundle_(**kwargs)
        data["text/plain"] = f"<{self.name}: move the controls above the picture>"
        return data


#: Targets for the pushforward explorer: each is itself a pushforward, so each can be matched.
TARGETS = {
    "N(1, 0.5²)": dist.Pushforward("normal", "affine", 0.5, 1.0),
    "LogNormal(0, 0.5²)": dist.Pushforward("normal", "exp", 0.5, 0.0),
    "U(−1, 1)": dist.Pushforward("uniform", "affine", 2.0, -1.0),
    "LogitNormal(0, 1.5²)": dist.Pushforward("normal", "sigmoid", 1.5, 0.0),
}


class PushforwardExplorer(Explorer):
    """Notebook 01: choose a source and a map g, move a and b, compare g(Z) with a target.

    The same 2,000 source draws (one fixed generator per source) are pushed through every setting,
    so a learner watches the same samples move. `.state` is the last `PushforwardSummary`.
    """

    name = "pushforward explorer"

    def __init__(self, n: int = 2000, seed: int = 0, lo: float = -3.0, hi: float = 5.0, bins: int = 80):
        self.z = {s: dist.sample_source(s, n, torch.Generator().manual_seed(seed)) for s in dist.SOURCES}
        self.edges = torch.linspace(lo, hi, bins + 1, dtype=torch.float64)
        self.grid = torch.linspace(lo, hi, 801, dtype=torch.float64)
        controls = {
            "source": dropdown("source Z", list(dist.SOURCES), "normal"),
            "map": dropdown("map g", list(dist.MAPS), "affine"),
            "a": slider("a", 1.0, 0.1, 3.0, 0.05),
            "b": slider("b", 0.0, -3.0, 3.0, 0.05),
            "target": dropdown("target", list(TARGETS), "N(1, 0.5²)"),
        }
        self.view: PushforwardFigure | None = None
        self.state: dist.PushforwardSummary | None = None
        super().__init__(controls, self._draw, caption="Push a simple distribution through g")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        p = dist.Pushforward(values["source"], values["map"], values["a"], values["b"])
        target = TARGETS[values["target"]]
        s = self.state = dist.summarize_pushforward(p, target, self.z[p.source], self.edges, self.grid)
        title = f"X = {p.label()}"
        if self.view is None:
            self.view = PushforwardFigure(s, values["target"])
        self.view.draw(s, title, target_label=values["target"])
        match = " — a match!" if s.w1 < 0.02 else ""
        readout = (f"<b>W₁(X, target) = {s.w1:.3f}</b>{match}<br>"
                   f"sample mean {s.samples.mean():.2f}, sd {s.samples.std():.2f}<br>"
                   f"{100 * s.share_in_view:.0f}% of the draws inside the plot")
        return self.view.png(), readout


class InstallationCheck(Explorer):
    """Notebook 00: one slider σ; the picture of X = σ·Z and the readout must follow it."""

    name = "installation check"

    def __init__(self, n: int = 2000, seed: int = 0):
        self.z = dist.sample_source("normal", n, torch.Generator().manual_seed(seed))
        self.edges = torch.linspace(-5, 5, 61, dtype=torch.float64)
        self.grid = torch.linspace(-5, 5, 401, dtype=torch.float64)
        self.target = dist.Pushforward("normal", "affine", 1.0, 0.0)
        self.view: PushforwardFigure | None = None
        self.state: dist.PushforwardSummary | None = None
        controls = {"sigma": slider("σ", 1.0, 0.2, 2.0, 0.1)}
        super().__init__(controls, self._draw, caption="Move σ: the histogram and the curve widen and flatten")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        sigma = values["sigma"]
        p = dist.Pushforward("normal", "affine", sigma, 0.0)
        s = self.state = dist.summarize_pushforward(p, self.target, self.z, self.edges, self.grid)
        if self.view is None:
            self.view = PushforwardFigure(s, "N(0, 1)")
        self.view.draw(s, f"X = σ·Z with σ = {sigma:.2f}")
        return self.view.png(), (f"✓ widgets work: σ = {sigma:.2f}, "
                                 f"sample sd {s.samples.std():.2f} (redraw #{self.updates + 1})")


def int_slider(description: str, value: int, lo: int, hi: int) -> widgets.IntSlider:
    """A whole-number slider with the course's look."""
    return widgets.IntSlider(value=value, min=lo, max=hi, description=description, continuous_update=True,
                             layout=SLIDER_LAYOUT, style=SLIDER_STYLE)


class InterpolationExplorer(Explorer):
    """Notebook 06: pick two test digits A and B; slide t to decode z(t) = (1 − t)·μ(A) + t·μ(B).

    `model` is a trained `models.VAE`; `x` (N, 64) the digits to pick from. The codes μ(x) of all of
    them are computed once; an update decodes one code. `.state` = dict(t, z, x_t).
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
        with torch.no_grad():
            self.codes = model.encode(x)[0]
        self.view = InterpolationFigure()
        self.state: dict = {}
        controls = {"a": int_slider("digit A", a, 0, len(x) - 1), "b": int_slider("digit B", b, 0, len(x) - 1),
                    "t": slider("t", 0.5, 0.0, 1.0, 0.05)}
        super().__init__(controls, self._draw, caption="Slide between the codes of two test digits")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        a, b, t = values["a"], values["b"], values["t"]
        z = (1 - t) * self.codes[a] + t * self.codes[b]
        with torch.no_grad():
            x_t = self.model.mean_image(self.model.decode(z[None]))[0]
        self.state = {"t": t, "z": z, "x_t": x_t}
        self.view.draw(self.x[a], x_t, self.x[b], t, f"t = {t:.2f}: decoded from (1 − t)·μ(A) + t·μ(B)")
        dist_ab = (self.codes[b] - self.codes[a]).norm().item()
        return self.view.png(), (f"digits #{a} → #{b}, code distance ‖μ(B) − μ(A)‖ = {dist_ab:.2f}<br>"
                                 f"t = {t:.2f}, ‖z(t)‖ = {z.norm().item():.2f}")


class LatentGridExplorer(Explorer):
    """Notebook 06: move z = (z₁, z₂) of a 2-latent VAE over its decoded grid; see the digit at z.

    The n×n grid on [−extent, extent]² is decoded once; an update decodes one code. `.state` = dict(z, x).
    """

    name = "latent-grid explorer"

    def __init__(self, model, extent: float = 2.5, n: int = 12):
        if model.latent_dim != 2:
            raise ValueError(f"the latent-grid explorer needs a model with latent_dim = 2, got {model.latent_dim}.")
        extent = v.scalar(extent, "extent", positive=True)
        self.model, self.extent = model, extent
        self.grid_z = evaluation.latent_grid_codes(n, extent)
        with torch.no_grad():
            self.grid_images = model.mean_image(model.decode(self.grid_z))
        self.view = LatentGridFigure(self.grid_images, extent)
        self.state: dict = {}
        controls = {"z1": slider("z₁", 0.0, -extent, extent, 0.05), "z2": slider("z₂", 0.0, -extent, extent, 0.05)}
        super().__init__(controls, self._draw, caption="Move through the 2-D latent space")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        z = torch.tensor([[values["z1"], values["z2"]]], dtype=torch.float32)
        with torch.no_grad():
            x = self.model.mean_image(self.model.decode(z))[0]
        self.state = {"z": z[0], "x": x}
        self.view.draw(z, x, f"z = ({values['z1']:.2f}, {values['z2']:.2f})")
        prior = torch.exp(-0.5 * (z ** 2).sum()).item() / (2 * torch.pi)
        return self.view.png(), f"prior density p(z) = {prior:.3f} (its peak is {1 / (2 * torch.pi):.3f})"

