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
        # CSS classes let a browser test find every explorer, its class, its readout and its image.
        self.widget.add_class("vc-explorer").add_class(f"vc-{type(self).__name__}")
        self.readout.add_class("vc-readout")
        self.image.add_class("vc-image")
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
