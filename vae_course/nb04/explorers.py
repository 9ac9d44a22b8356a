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
        held = "—" if s.val_neg_elbo is None else f"{s.val_neg_elbo:.1f} nats"
        cells = [("mean σ", f"{s.mean_sigma:.3g}"), ("KL", f"{s.kl:.2f} nats"),
                 ("−log p(x|z)", f"{s.rec:.1f} nats"), ("−ELBO, training", f"{-s.elbo:.1f} nats"),
                 ("−ELBO, validation", held), ("MMD² to N(0, I)", f"{s.mmd:.3f}"),
                 (f"N(0, I) draws with no code within {s.radius:.2f}", f"{s.unvisited:.0%} ({far} of {shown} crosses)"),
                 ("active dimensions", f"{count_active_units(s.mu)} of {s.mu.shape[1]}")]
        td = [f"<td>{html.escape(a)}:</td><td style='padding-right:18px'><b>{html.escape(b)}</b></td>" for a, b in cells]
        rows = "".join(f"<tr>{left}{right}</tr>" for left, right in zip(td[0::2], td[1::2]))
        return self.figure.png(), f"<b>{html.escape(s.name)}</b><table style='font-size:90%'>{rows}</table>"


__all__ = ["BetaPathExplorer"]
