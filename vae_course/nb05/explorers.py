"""Notebook 05's explorer: move μ and σ, pick f and n; watch samples and gradients."""

from __future__ import annotations

import math

import ipywidgets as widgets
import torch

from ..explorers import SLIDER_LAYOUT, SLIDER_STYLE, Explorer, dropdown, slider
from . import compute
from .figures import ReparamFigure


class ReparamExplorer(Explorer):
    """Notebook 05: move mu and sigma, pick f and the batch size n; watch samples and gradients.

    One fixed eps of shape (repeats, max n) is drawn once, so every setting moves the same samples:
    z = mu + sigma·eps. Each update computes, for `repeats` batches of n samples at once, the
    pathwise and the score-function estimates of d/d mu and d/d sigma of E[f(z)], and the exact
    gradient. `.state` is the last `compute.GradientSummary`, `.picture` what the figure drew of it
    (`compute.reparam_picture`).
    """

    name = "reparameterization explorer"
    SIZES = (10, 30, 100, 300, 1000, 3000)
    REFERENCE_N = 1000  # the readout compares each bar's width with the same setting's at n = 1,000

    def __init__(self, repeats: int = 100, seed: int = 0, t: float = 1.0, n_show: int = 24):

        for name, value, low in (("repeats", repeats, 2), ("n_show", n_show, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number ≥ {low}, got {value!r}.")
        self.t = t
        self.eps_all = compute.fixed_eps(repeats, max(self.SIZES), torch.Generator().manual_seed(seed))
        controls = {
            "mu": slider("μ", 0.0, -3.0, 3.0, 0.05),
            "sigma": slider("σ", 1.0, 0.1, 2.5, 0.05),
            "objective": dropdown("objective f", list(compute.OBJECTIVES), "(z − t)²"),
            "n": widgets.SelectionSlider(options=list(self.SIZES), value=1000, description="samples n",
                                         layout=SLIDER_LAYOUT, style=SLIDER_STYLE),
        }
        # a hover text for every control (without one, a slider's label carries the tooltip "null" in JupyterLab)
        tips = {"mu": "μ: the mean of N(μ, σ²); moves every z = μ + σε by the same amount",
                "sigma": "σ: the standard deviation of N(μ, σ²); stretches every z away from μ by its ε",
                "objective": "f, the function whose expectation E[f(z)] is differentiated",
                "n": "samples n per batch estimate (the same ε, its first n columns)"}
        for key, tip in tips.items():
            controls[key].tooltip = tip
        self.n_show = n_show
        self.view: ReparamFigure | None = None
        self.state: compute.GradientSummary | None = None
        self.picture: compute.ReparamPicture | None = None
        super().__init__(controls, self._draw,
                         caption=f"z = μ + σ·ε with fixed ε; gradients of E[f(z)], t = {t:g}")
        # about 800 × 700 px: the controls in two columns, the readout's two tables side by side under them
        caption = self.widget.children[0]
        self.widget.children = [caption, widgets.HBox([widgets.VBox([controls["mu"], controls["sigma"]]),
                                                       widgets.VBox([controls["objective"], controls["n"]])]),
                                self.readout, self.image]
        self.readout.layout.margin = "4px 0 6px 0"

    def _draw(self, values: dict) -> tuple[bytes, str]:
        s = self.state = compute.summarize_gradients(values["objective"], values["mu"], values["sigma"],
                                                   self.eps_all[:, :values["n"]], self.t)
        ref = s if values["n"] == self.REFERENCE_N else compute.summarize_gradients(
            values["objective"], values["mu"], values["sigma"], self.eps_all[:, :self.REFERENCE_N], self.t)
        p = self.picture = compute.reparam_picture(s, self.n_show, reference=ref)
        if self.view is None:
            self.view = ReparamFigure(p, reference_n=self.REFERENCE_N)
        self.view.draw(p)
        return self.view.png(), self._readout(p)

    def _readout(self, p) -> str:
        s = p.summary
        rows = "".join(f"<tr><td>{e:+.2f}</td><td>{z:+.2f}</td><td>1</td><td>{e:+.2f}</td><td>{d:+.2f}</td></tr>"
                       for e, z, d in zip(s.eps[0, :4].tolist(), s.z[0, :4].tolist(), s.df[0, :4].tolist()))
        n = s.eps.shape[1]

        def widening(w):
            return "—" if any(math.isnan(x) for x in w) else f"{w[0]:.2f}×, {w[1]:.2f}×"

        est = "".join(
            f"<tr><td>{label}</td><td>{m[0]:+.3f} ± {sd[0]:.3f}</td><td>{m[1]:+.3f} ± {sd[1]:.3f}</td>"
            f"<td>{widening(p.widening[key].tolist())}</td></tr>"
            for label, key, m, sd in (("pathwise", "pathwise", p.mean["pathwise"], p.sd["pathwise"]),
                                      ("score function", "score", p.mean["score"], p.sd["score"])))
        est += (f"<tr><td>exact</td><td>{s.exact[0]:+.3f}</td><td>{s.exact[1]:+.3f}</td>"
                f"<td>√({self.REFERENCE_N:,}/{n:,}) = {(self.REFERENCE_N / n) ** 0.5:.2f}</td></tr>")
        head = "<tr><th>ε</th><th>z</th><th>dz/dμ</th><th>dz/dσ</th><th>f′(z)</th></tr>"
        wide = f"bar width (∂/∂μ, ∂/∂σ)<br>÷ its width at n = {self.REFERENCE_N:,}"
        return (f"<div style='display:flex; gap:28px; align-items:flex-start; font-size:90%'>"
                f"<table>{head}{rows}</table>"
                f"<table><tr><th>gradient of E[f]</th><th>∂/∂μ</th><th>∂/∂σ</th><th>{wide}</th></tr>{est}"
                f"<tr><td colspan=4><small>mean ± sd over {len(s.eps)} batches of n = {n:,}</small></td></tr>"
                f"</table></div>")


__all__ = ["ReparamExplorer"]
