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

from . import distributions as dist
from .plotting import PushforwardFigure
from .posterior import ellipse_mass

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


class PosteriorExplorer(Explorer):
    """Notebook 03: pick a test digit; its posterior ellipse among all the others, draws from it, and
    the decodings of those draws beside the original.

    Everything is precomputed in `table` (`vae_course.posterior.posterior_table`); a move only looks
    up row k and redraws. `.state` is that row (a dict: index, label, mu, sigma, z, x, x_draws).
    """

    name = "posterior explorer"

    def __init__(self, table, n_sigma: float = 1.0, index: int = 0):
        from .plotting import PosteriorFigure

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
                      "x": t.x[k], "x_draws": t.x_draws[k]}
        self.view.show(k)
        readout = (f"<b>digit #{k}, label {int(t.labels[k])}</b><br>"
                   f"μ = ({t.mu[k, 0]:.2f}, {t.mu[k, 1]:.2f}), σ = ({sigma[0]:.3f}, {sigma[1]:.3f})<br>"
                   f"{inside} of {t.z.shape[1]} draws inside the {self.view.n_sigma:g}σ ellipse "
                   f"(expected share {100 * ellipse_mass(self.view.n_sigma):.0f}%)")
        return self.view.png(), readout
