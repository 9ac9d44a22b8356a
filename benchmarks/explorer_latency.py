"""Explorer latency: time from a control change to the redrawn PNG in the widget.

    .venv/bin/python benchmarks/explorer_latency.py [--repeats 60]

Prints the median and 90th percentile per explorer. Setting `.value` from Python fires the same
observers a browser does, synchronously, so the time covers compute + redraw + PNG encoding.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from vae_course import models, nb00, nb01, nb02, nb03, nb04, nb05, nb06


def measure(explorer, control: str, values: list, repeats: int) -> list[float]:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        explorer.controls[control].value = values[i % len(values)]
        times.append(time.perf_counter() - start)
    return times


def _beta_path():
    """The 04 β path over three small untrained models: a move's cost does not depend on training."""


    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 17, (1000, 64), generator=gen).float() / 16
    labels, eps = torch.arange(1000) % 10, torch.randn(5, 1000, 2, generator=gen)
    z_prior, z_ref = torch.randn(16, 2, generator=gen), torch.randn(2000, 2, generator=gen)
    family = [("autoencoder", models.Autoencoder(), 0.0), ("β = 1", models.VAE(), 1.0), ("β = 4", models.VAE(), 4.0)]
    return nb04.BetaPathExplorer([nb04.summarize_model(name, m, x, labels, x[:8], z_prior, eps, z_ref, beta=b)
                                  for name, m, b in family])
def _posterior_table():
    """Notebook 03's lookup table from an untrained 2-D VAE: the redraw cost does not depend on training."""
    from vae_course import data

    torch.manual_seed(0)
    test = data.load_digits("test")
    return nb03.posterior_table(models.VAE(latent_dim=2).eval(), test.x, test.labels, n_draws=9,
                                     generator=torch.Generator().manual_seed(0))
def _interpolation():
    from vae_course import data

    torch.manual_seed(0)  # untrained weights decode as fast as trained ones
    return nb06.InterpolationExplorer(models.VAE(8, 128).eval(), data.load_digits("test").x)


def _latent_grid():

    torch.manual_seed(0)
    return nb06.LatentGridExplorer(models.VAE(2, 128).eval())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = [
        ("β path (04), model", _beta_path(), "model", ["β = 1", "autoencoder", "β = 4"]),
        ("pushforward (01), slider a", nb01.PushforwardExplorer(), "a", [0.5 + 0.05 * k for k in range(20)]),
        ("pushforward (01), map", nb01.PushforwardExplorer(), "map", ["exp", "sigmoid", "affine"]),
        ("installation check (00), σ", nb00.InstallationCheck(), "sigma", [0.3 + 0.1 * k for k in range(15)]),
        ("latent (02), slider x1", nb02.LatentExplorer(), "x1", [-2.0 + 0.2 * k for k in range(21)]),
        ("reparameterization (05), μ, n=1000", nb05.ReparamExplorer(), "mu", [-1.5 + 0.05 * k for k in range(60)]),
        ("reparameterization (05), σ, n=1000", nb05.ReparamExplorer(), "sigma", [0.4 + 0.05 * k for k in range(30)]),
        ("posterior (03), test digit", nb03.PosteriorExplorer(_posterior_table()), "index",
         [7 * k for k in range(60)]),
        ("interpolation (06), t", _interpolation(), "t", [0.05 * k for k in range(21)]),
        ("interpolation (06), digit B", _interpolation(), "b", list(range(1, 30))),
        ("latent grid (06), z₁", _latent_grid(), "z1", [-2.0 + 0.2 * k for k in range(21)]),
    ]
    print(f"{'explorer':34s} {'median':>8s} {'p90':>8s}   ({args.repeats} updates each)")
    for name, explorer, control, values in cases:
        t = sorted(measure(explorer, control, values, args.repeats))
        print(f"{name:34s} {1000 * statistics.median(t):6.1f} ms {1000 * t[int(0.9 * len(t))]:6.1f} ms")


if __name__ == "__main__":
    main()
