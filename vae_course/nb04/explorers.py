"""Notebook 04's explorer: the dial from the autoencoder to the VAE and beyond."""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..explorers import SLIDER_STYLE, Explorer
from .compute import ModelSummary, count_active_units
from .figures import latent_summary_png


class BetaDialExplorer(Explorer):
    """Notebook 04, the "autoencoder ↔ VAE dial": step through models trained with different β.

    `summaries` maps a name (e.g. "autoencoder (σ → 0)", "β = 1") to a
    `vae_course.nb04.ModelSummary`, in dial order. Every picture is drawn once here, so a
    move of the dial only swaps PNG bytes (no retraining, no redrawing). `.state` is the summary
    shown; `.pngs` the pictures per name.
    """

    name = "autoencoder ↔ VAE dial"

    def __init__(self, summaries: dict, dpi: int = 72):
        if not summaries:
            raise ValueError("summaries must name at least one trained model.")

        if not all(isinstance(s, ModelSummary) for s in summaries.values()):
            raise TypeError("summaries must map names to `vae_course.nb04.summarize_model(...)` results.")
        self.summaries = dict(summaries)
        self.pngs = {key: latent_summary_png(summary, dpi) for key, summary in self.summaries.items()}
        self.state = None
        options = list(self.summaries)
        controls = {"model": widgets.SelectionSlider(options=options, value=options[0], description="model",
                                                     continuous_update=True, layout=widgets.Layout(width="520px"),
                                                     style=SLIDER_STYLE)}
        super().__init__(controls, self._draw, caption="Move the dial from the autoencoder to the VAE and beyond")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        s = self.state = self.summaries[values["model"]]
        active = count_active_units(s.mu)
        readout = (f"<b>{html.escape(s.name)}</b><br>MMD²(aggregate posterior, N(0, I)) = {s.mmd:.3f}<br>"
                   f"share of N(0, I) draws where the decoder never was: {s.unvisited:.0%}<br>"
                   f"KL {s.kl:.2f} nats · −log p(x|z) {s.rec:.1f} nats · active dimensions {active}/{s.mu.shape[1]}")
        return self.pngs[values["model"]], readout


__all__ = ["BetaDialExplorer"]
