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
from . import evaluation, latent
from .plotting import InterpolationFigure, LatentFigure, LatentGridFigure, PushforwardFigure, ReparamFigure
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
        self.readout = widgets.HTML(layout=widgets.Layout(min_height="3em", margin="0 0 0 16px"))
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
        if self.updates == 0 and png[:8] == b"\x89PNG\r\n\x1a\n":
            width = int.from_bytes(png[16:20], "big")  # show the picture at its own size, never stretched
            self.image.layout.width = f"{width}px"
        self.image.value = png
        # an HTML widget keeps one line's height in some front-ends: reserve room for every line
        lines = readout.count("<br") + readout.count("<tr") + 1
        self.readout.layout.min_height = f"{1.5 * lines + 0.5:g}em"
        self.readout.value = readout
        self.updates += 1

    def _repr_mimebundle_(self, **kwargs):
        data = self.widget._repr_mimebundle_(**kwargs)
        data["text/plain"] = f"[{self.name}: an interactive widget; run this cell in Jupyter to use it]"
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
        stats = f"sample mean {s.samples.mean():.2f}, sd {s.samples.std():.2f}".replace("-", "−")
        readout = (f"<b>W₁(X, target) = {s.w1:.3f}</b>{match}<br>{stats}<br>"
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
            self.view = PushforwardFigure(s, "N(0, 1), for comparison", xlabel="$x = \\sigma z$",
                                          hist_label=f"histogram of σ·Z, {len(s.samples):,} draws",
                                          density_label="density of σ·Z")
        self.view.draw(s, f"X = σ·Z with σ = {sigma:.2f}")
        return self.view.png(), f"✓ widgets work: σ = {sigma:.2f}, sample sd {s.samples.std():.2f}"


class LatentExplorer(Explorer):
    """Notebook 02: move a data point x of the 2-D curve toy; see p(z|x) ∝ p(x|z)p(z) beside the
    prior, which prior draws carry the weight, and the Monte Carlo estimate of log p(x) against the
    exact value by quadrature.

    The same K prior draws (and R × K draws for the repeated estimates) serve every x, from one
    fixed generator. `.state` is the last `latent.LatentSummary`.
    """

    name = "latent explorer"

    def __init__(self, k: int = 200, repeats: int = 100, noise: float = latent.NOISE, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.noise = noise
        self.z_draws = torch.randn(k, generator=gen, dtype=torch.float64)
        self.z_repeats = torch.randn(repeats, k, generator=gen, dtype=torch.float64)
        self.draws_xy = latent.curve(self.z_draws)
        self.grid = latent.z_grid(1201)
        self.data = latent.sample(400, noise=noise, generator=gen)[0]
        controls = {"x1": slider("x₁", 0.45, -2.5, 2.5, 0.05), "x2": slider("x₂", 0.65, -1.5, 1.5, 0.05)}
        self.view: LatentFigure | None = None
        self.state: latent.LatentSummary | None = None
        super().__init__(controls, self._draw, caption="Move x: which prior draws explain it?")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        x = torch.tensor([values["x1"], values["x2"]], dtype=torch.float64)
        s = self.state = latent.summarize(x, self.z_draws, self.z_repeats, self.noise, self.grid)
        if self.view is None:
            self.view = LatentFigure(s, self.draws_xy, latent.curve(self.grid), self.data)
        k = len(s.z_draws)
        self.view.draw(s, self.draws_xy, f"{s.n_90} of {k} prior draws carry 90% of the weight")
        est = s.estimates
        readout = (f"<b>exact log p(x) = {s.exact:.3f}</b> (quadrature over z)<br>"
                   f"Monte Carlo from {k} prior draws: {est.mean():.3f} ± {est.std():.3f} "
                   f"(mean ± sd of {len(est)} repeats)<br>"
                   f"effective sample size {s.ess:.1f} of {k}; "
                   f"{s.n_90} draw{'s' if s.n_90 != 1 else ''} carry 90% of the weight")
        return self.view.png(), readout
        return self.view.png(), (f"✓ widgets work: σ = {sigma:.2f}, "
                                 f"sample sd {s.samples.std():.2f} (redraw #{self.updates + 1})")


class BetaDialExplorer(Explorer):
    """Notebook 04, the "autoencoder ↔ VAE dial": step through models trained with different β.

    `summaries` maps a name (e.g. "autoencoder (σ → 0)", "β = 1") to a
    `vae_course.prior_match.LatentSummary`, in dial order. Every picture is drawn once here, so a
    move of the dial only swaps PNG bytes (no retraining, no redrawing). `.state` is the summary
    shown; `.pngs` the pictures per name.
    """

    name = "autoencoder ↔ VAE dial"

    def __init__(self, summaries: dict, dpi: int = 72):
        import io

        import matplotlib.pyplot as plt

        from .plotting import plot_latent_summary

        if not summaries:
            raise ValueError("summaries must name at least one trained model.")
        from .prior_match import LatentSummary

        if not all(isinstance(s, LatentSummary) for s in summaries.values()):
            raise TypeError("summaries must map names to `vae_course.prior_match.summarize(...)` results.")
        self.summaries, self.pngs = dict(summaries), {}
        for key, summary in self.summaries.items():
            fig = plot_latent_summary(summary, fig=plt.figure(figsize=(13, 3.4), layout="constrained"))
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi)
            plt.close(fig)
            self.pngs[key] = buf.getvalue()
        self.state = None
        options = list(self.summaries)
        controls = {"model": widgets.SelectionSlider(options=options, value=options[0], description="model",
                                                     continuous_update=True, layout=widgets.Layout(width="520px"),
                                                     style=SLIDER_STYLE)}
        super().__init__(controls, self._draw, caption="Move the dial from the autoencoder to the VAE and beyond")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        from .prior_match import active_units

        s = self.state = self.summaries[values["model"]]
        active = int(active_units(s.mu).sum())
        readout = (f"<b>{html.escape(s.name)}</b><br>MMD²(aggregate posterior, N(0, I)) = {s.mmd:.3f}<br>"
                   f"share of N(0, I) draws where the decoder never was: {s.unvisited:.0%}<br>"
                   f"KL {s.kl:.2f} nats · −log p(x|z) {s.rec:.1f} nats · active dimensions {active}/{s.mu.shape[1]}")
        return self.pngs[values["model"]], readout
class ReparamExplorer(Explorer):
    """Notebook 05: move mu and sigma, pick f and the batch size n; watch samples and gradients.

    One fixed eps of shape (repeats, max n) is drawn once, so every setting moves the same samples:
    z = mu + sigma·eps. Each update computes, for `repeats` batches of n samples at once, the
    pathwise and the score-function estimates of d/d mu and d/d sigma of E[f(z)], and the exact
    gradient. `.state` is the last `gradients.GradientSummary`.
    """

    name = "reparameterization explorer"
    SIZES = (10, 30, 100, 300, 1000, 3000)

    def __init__(self, repeats: int = 100, seed: int = 0, t: float = 1.0, n_show: int = 24):
        from . import gradients

        for name, value, low in (("repeats", repeats, 2), ("n_show", n_show, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number ≥ {low}, got {value!r}.")
        self._gradients = gradients
        self.t = t
        self.eps_all = torch.randn(repeats, max(self.SIZES), generator=torch.Generator().manual_seed(seed),
                                   dtype=torch.float64)
        controls = {
            "mu": slider("μ", 0.0, -3.0, 3.0, 0.05),
            "sigma": slider("σ", 1.0, 0.1, 2.5, 0.05),
            "objective": dropdown("objective f", list(gradients.OBJECTIVES), "(z − t)²"),
            "n": widgets.SelectionSlider(options=list(self.SIZES), value=1000, description="samples n",
                                         layout=SLIDER_LAYOUT, style=SLIDER_STYLE),
        }
        self.n_show = n_show
        self.view: ReparamFigure | None = None
        self.state = None
        super().__init__(controls, self._draw,
                         caption=f"z = μ + σ·ε with fixed ε; gradients of E[f(z)], t = {t:g}")

    def _draw(self, values: dict) -> tuple[bytes, str]:
        s = self.state = self._gradients.summarize(values["objective"], values["mu"], values["sigma"],
                                                   self.eps_all[:, :values["n"]], self.t)
        if self.view is None:
            self.view = ReparamFigure(s, n_show=self.n_show)
        self.view.draw(s)
        return self.view.png(), self._readout(s)

    def _readout(self, s) -> str:
        rows = "".join(f"<tr><td>{e:+.2f}</td><td>{z:+.2f}</td><td>1</td><td>{e:+.2f}</td><td>{d:+.2f}</td></tr>"
                       for e, z, d in zip(s.eps[0, :4].tolist(), s.z[0, :4].tolist(), s.df[0, :4].tolist()))
        est = "".join(
            f"<tr><td>{label}</td><td>{m[0]:+.3f} ± {sd[0]:.3f}</td><td>{m[1]:+.3f} ± {sd[1]:.3f}</td></tr>"
            for label, m, sd in (("pathwise", s.mean("pathwise"), s.sd("pathwise")),
                                 ("score function", s.mean("score"), s.sd("score"))))
        est += f"<tr><td>exact</td><td>{s.exact[0]:+.3f}</td><td>{s.exact[1]:+.3f}</td></tr>"
        head = "<tr><th>ε</th><th>z</th><th>dz/dμ</th><th>dz/dσ</th><th>f′(z)</th></tr>"
        return (f"<table style='font-size:90%'>{head}"
                f"{rows}</table><table style='font-size:90%'><tr><th>gradient of E[f]</th><th>∂/∂μ</th>"
                f"<th>∂/∂σ</th></tr>{est}</table><small>mean ± sd over {len(s.eps)} batches</small>")
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
