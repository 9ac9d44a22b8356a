"""Notebook 04's explorer: move β along a path of trained models, from the autoencoder to the
collapse onto the prior, and watch codes, the aggregate posterior and prior samples respond."""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..explorers import SLIDER_STYLE, Explorer
from .compute import ModelSummary, count_active_units
from .figures import BetaPathFigure


class BetaPathExplorer(Explorer):
    """Notebook 04, "move β": step along models trained with a fine grid of KL weights β.

    `summaries` is a list of `vae_course.nb04.ModelSummary` in order of β (the first may be the
    autoencoder, β = 0). A move of the slider swaps the data of one `BetaPathFigure` (nothing is
    retrained or recomputed). `.state` is the summary shown.
    """

    name = "move β from the autoencoder to the prior"

    def __init__(self, summaries, lim: float = 5.0):
        summaries = list(summaries)
        if not summaries:
            raise ValueError("summaries must hold at least one trained model's summary.")
        if not all(isinstance(s, ModelSummary) for s in summaries):
            raise TypeError("summaries must be a list of `vae_course.nb04.summarize_model(...)` results.")
        if not any(s.beta > 0 for s in summaries):
            raise ValueError("summaries need at least one model trained with β > 0 for the σ curve.")
        self.summaries = {s.name: s for s in summaries}
        if len(self.summaries) < len(summaries):
            raise ValueError("every summary needs its own name (the slider shows the names).")
        self.figure = BetaPathFigure(summaries, lim=lim)
        self.state = None
        options = list(self.summaries)
        controls = {"model": widgets.SelectionSlider(options=options, value=options[0], description="β",
                                                     continuous_update=True, layout=widgets.Layout(width="640px"),
                                                     style=SLIDER_STYLE)}
        super().__init__(controls, self._draw, caption="Move β: from the autoencoder (left) to the collapse (right)")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        s = self.state = self.summaries[values["model"]]
        far, shown = self.figure.update(s)
        readout = (f"<b>{html.escape(s.name)}</b> · mean σ = {s.mean_sigma:.3g} · KL {s.kl:.2f} nats · "
                   f"−log p(x|z) {s.rec:.1f} nats · −ELBO {-s.elbo:.1f} nats<br>"
                   f"MMD²(aggregate posterior, N(0, I)) = {s.mmd:.3f} · N(0, I) draws with no code within "
                   f"{s.radius:.2f}: {s.unvisited:.0%} (crosses: {far} of the {shown} shown) · "
                   f"active dimensions {count_active_units(s.mu)}/{s.mu.shape[1]}")
        return self.figure.png(), readout


__all__ = ["BetaPathExplorer"]
