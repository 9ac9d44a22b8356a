"""Notebook 03's explorer: pick a test digit, see its own normal and the decodings of its draws."""

from __future__ import annotations

from ..explorers import Explorer, dropdown, int_slider
from .compute import class_rows, posterior_row
from .figures import PosteriorFigure


class PosteriorExplorer(Explorer):
    """Notebook 03: pick a test digit by class and example; its ellipse q(z|x) among all the others,
    draws from it, the original framed apart, and the draws decoded to mean images E[x|z] or to
    samples x ~ p(x|z).

    Everything is precomputed in `table` (`vae_course.nb03.posterior_table`); a move only looks
    up row k and redraws. `.state` is that row, `compute.posterior_row` (a dict: index, label, mu,
    sigma, z, x, x_hat, show, decoded, inside, expected_share).
    """

    name = "posterior explorer"

    def __init__(self, table, n_sigma: float = 1.0, digit: int = 0, example: int = 0):

        if table.mu.shape[1] != 2:
            raise ValueError(f"the explorer draws a 2-D latent space; this table has {table.mu.shape[1]} dimensions.")
        self.table, self.n_sigma = table, n_sigma
        self.rows = {d: class_rows(table.labels, d) for d in range(10)}
        self.rows = {d: r for d, r in self.rows.items() if r}
        self._adjusting = False
        self.view = PosteriorFigure(table, n_sigma)
        self.state: dict | None = None
        controls = {"digit": dropdown("digit class", list(self.rows), digit if digit in self.rows else min(self.rows)),
                    "example": int_slider("example #", 0, 0, max(len(r) for r in self.rows.values()) - 1),
                    "show": dropdown("decode to", [("mean images E[x|z]", "means"), ("samples x ~ p(x|z)", "samples")],
                                     "means")}
        self._fit_examples(controls["digit"].value, controls["example"], example)
        super().__init__(controls, self._draw, caption="Pick a test digit: its own normal q(z|x) and what its draws decode to")

    def _fit_examples(self, digit: int, slider, value: int) -> None:
        """The example slider runs over the test digits of this class only."""
        slider.max = len(self.rows[digit]) - 1
        slider.value = min(max(value, 0), slider.max)

    def _on_change(self, change) -> None:
        if self._adjusting:
            return
        if change is not None and change.owner is self.controls["digit"]:
            self._adjusting = True
            try:
                self._fit_examples(change.new, self.controls["example"], self.controls["example"].value)
            finally:
                self._adjusting = False
        self.refresh()

    def _draw(self, values: dict) -> tuple[bytes, str]:
        k = self.rows[values["digit"]][values["example"]]
        row = self.state = posterior_row(self.table, k, self.n_sigma, values["show"])
        self.view.show(k, values["show"])
        mu, sigma = row["mu"].tolist(), row["sigma"].tolist()
        readout = (f"<b>a {row['label']}: test digit #{k}</b><br>"
                   f"μ = ({mu[0]:.2f}, {mu[1]:.2f}), σ = ({sigma[0]:.3f}, {sigma[1]:.3f})<br>"
                   f"{row['inside']} of {len(row['z'])} draws inside the {self.n_sigma:g}σ ellipse "
                   f"(expected share {100 * row['expected_share']:.0f}%)")
        return self.view.png(), readout


__all__ = ["PosteriorExplorer"]
