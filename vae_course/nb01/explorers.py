"""Notebook 01's explorer: choose a source and a map g, move a and b, match a target."""

from __future__ import annotations

import torch

from ..explorers import Explorer, dropdown, slider
from . import compute
from .figures import PushforwardFigure

#: Targets for the pushforward explorer: each is itself a pushforward, so each can be matched.
TARGETS = {
    "N(1, 0.5²)": compute.Pushforward("normal", "affine", 0.5, 1.0),
    "LogNormal(0, 0.5²)": compute.Pushforward("normal", "exp", 0.5, 0.0),
    "U(−1, 1)": compute.Pushforward("uniform", "affine", 2.0, -1.0),
    "LogitNormal(0, 1.5²)": compute.Pushforward("normal", "sigmoid", 1.5, 0.0),
}


class PushforwardExplorer(Explorer):
    """Notebook 01: choose a source and a map g, move a and b, compare g(Z) with a target.

    The same 2,000 source draws (one fixed generator per source) are pushed through every setting,
    so a learner watches the same samples move. The x-range follows the choice of source, map and
    target (`compute.view_range`) and stays put while a or b move, unless the samples leave it or
    shrink to a corner of it. `.state` is the last `PushforwardSummary`.
    """

    name = "pushforward explorer"

    def __init__(self, n: int = 2000, seed: int = 0, bins: int = 80):
        self.z = {s: compute.sample_source(s, n, torch.Generator().manual_seed(seed)) for s in compute.SOURCES}
        self.bins, self.range, self._choice = bins, None, None
        controls = {
            "source": dropdown("source Z", list(compute.SOURCES), "normal"),
            "map": dropdown("map g", list(compute.MAPS), "affine"),
            "a": slider("a", 1.0, 0.1, 3.0, 0.05),
            "b": slider("b", 0.0, -3.0, 3.0, 0.05),
            "target": dropdown("target", list(TARGETS), "N(1, 0.5²)"),
        }
        self.view: PushforwardFigure | None = None
        self.state: compute.PushforwardSummary | None = None
        super().__init__(controls, self._draw, caption="Push a simple distribution through g")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        p = compute.Pushforward(values["source"], values["map"], values["a"], values["b"])
        target = TARGETS[values["target"]]
        choice = (values["source"], values["map"], values["target"])
        # a new source, map or target gets its own x-range; moving a or b keeps it while it still fits
        new_range = compute.view_range(p, target, self.range if choice == self._choice else None)
        if new_range != self.range:
            self.range, self._choice = new_range, choice
            self.edges, self.grid = compute.histogram_view(*new_range, self.bins, 801)
        self._choice = choice
        s = self.state = compute.summarize_pushforward(p, target, self.z[p.source], self.edges, self.grid)
        title = f"X = {p.label()}"
        if self.view is None:
            self.view = PushforwardFigure(s, values["target"])
        self.view.draw(s, title, target_label=values["target"])
        match = " — a match!" if s.w1 < 0.02 else ""
        mean, sd = compute.sample_moments(s.samples)
        stats = f"sample mean {mean:.2f}, sd {sd:.2f}".replace("-", "−")
        readout = (f"<b>W₁(X, target) = {s.w1:.3f}</b>{match}<br>{stats}<br>"
                   f"{100 * s.share_in_view:.0f}% of the draws inside the plot")
        return self.view.png(), readout


__all__ = ["TARGETS", "PushforwardExplorer"]
