"""Properties checked against an independent computation: brute-force counts, explicit permutations, an
importance-weighted bound written out with torch.distributions. Each test catches one mutation of
tools/mutations.py (run it to see them caught); keep the two in step when renaming.
"""

import copy
import itertools
import math
import re

import matplotlib
import numpy as np
import pytest
import torch

from vae_course import models, nb01, nb04, training

matplotlib.use("Agg")
D = torch.distributions


# ---------------------------------------------------------------- a. the IWAE training step

class RecordingVAE(models.VAE):
    """A VAE that keeps what it was asked to encode and decode, so a test can redo a training step by hand."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.encoded, self.decoded = [], []

    def encode(self, x):
        self.encoded.append(x.detach().clone())
        return super().encode(x)

    def decode(self, z):
        self.decoded.append(z.detach().clone())
        return super().decode(z)


def iw_bound_by_hand(model, x, z):
    """L_K = log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x) per example, for the draws z (K, B, L) that were made.

    The draws stay differentiable in mu and σ (z = mu + σ·eps with eps recovered from z), as in training.
    """
    mu, log_var = model.encode(x)
    sigma = torch.exp(0.5 * log_var)
    eps = ((z - mu) / sigma).detach()
    z = mu + sigma * eps
    logits = model.decoder(z).unflatten(-1, (64, 17))
    levels = torch.round(x * 16).long()
    log_lik = D.Categorical(logits=logits).log_prob(levels).sum(-1)       # (K, B)
    log_prior = D.Normal(0.0, 1.0).log_prob(z).sum(-1)
    log_q = D.Normal(mu, sigma).log_prob(z).sum(-1)
    log_w = log_lik + log_prior - log_q
    return torch.logsumexp(log_w, 0) - math.log(len(z))


def test_an_iwae_training_step_is_the_importance_weighted_bound():
    """One Adam step with iw_samples = K: the recorded loss is −L_K of the K draws per digit, and the step
    follows the gradient of −L_K (Adam's first step is −lr·g/(|g| + 1e-8) per parameter)."""
    k, lr = 6, 1e-3
    torch.manual_seed(0)
    model = RecordingVAE(latent_dim=2, hidden=8).double()
    x = torch.randint(0, 17, (5, 64), generator=torch.Generator().manual_seed(1)).double() / 16
    before = copy.deepcopy(model)
    hist = training.train(model, x, x, epochs=1, batch_size=len(x), iw_samples=k, lr=lr, progress=False,
                          generator=torch.Generator().manual_seed(2))
    batch, z = model.encoded[0], model.decoded[0]
    assert z.shape == (k, len(x), 2), f"the training step decoded z of shape {tuple(z.shape)}, not K = {k} per digit"
    assert sorted(map(tuple, batch.tolist())) == sorted(map(tuple, x.tolist())), "one batch of all digits"
    loss = -iw_bound_by_hand(before, batch, z).mean()
    assert hist.train_loss[0] == pytest.approx(loss.item(), rel=1e-6)  # the history sums in float32
    loss.backward()
    after = dict(model.named_parameters())
    for name, p in before.named_parameters():
        step = after[name].detach() - p.detach()
        assert torch.allclose(step, -lr * p.grad / (p.grad.abs() + 1e-8), rtol=1e-6, atol=1e-12), name
    # and the bound is not the ELBO of the same draws: with these weights they differ by far more than rounding
    assert (iw_bound_by_hand(before, batch, z) - iw_bound_by_hand(before, batch, z[:1])).abs().max() > 1e-3


# ---------------------------------------------------------------- b. random pairings

def test_random_pairing_costs_are_costs_of_uniformly_random_permutations(gen):
    """Four points: all 24 pairings, their costs by hand. Every random cost is one of them, and each appears."""
    x_hat, x = torch.rand(4, 3, generator=gen, dtype=torch.float64), torch.rand(4, 3, generator=gen, dtype=torch.float64)
    perms = list(itertools.permutations(range(4)))
    by_hand = torch.tensor([((x_hat - x[list(p)]) ** 2).sum(1).mean().item() for p in perms], dtype=torch.float64)
    assert (by_hand[:, None] - by_hand[None]).abs().add(torch.eye(24)).min() > 1e-6, "costs must be distinct"
    assert nb01.pairing_cost(x_hat, x, torch.tensor(perms[5])) == pytest.approx(by_hand[5].item(), rel=1e-12)
    costs = nb01.random_pairing_costs(x_hat, x, 2400, generator=gen)
    assert costs.shape == (2400,)
    which = (costs[:, None] - by_hand[None]).abs().argmin(1)
    assert torch.allclose(costs, by_hand[which], rtol=1e-12, atol=0), "a cost that is no pairing's cost"
    counts = torch.bincount(which, minlength=24)
    assert (counts >= 50).all(), f"expected about 100 of each of the 24 pairings, got {counts.tolist()}"


# ---------------------------------------------------------------- c. the unvisited share

def test_unvisited_share_on_a_hand_made_case():
    visited = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    near = [[0.1, 0.0], [1.0, -0.2], [0.0, 1.8], [0.6, 0.0]]     # within 0.45 of a visited point
    far = [[0.5, 1.0], [5.0, 5.0], [-1.0, -1.0]]                 # farther than 0.45 from all of them
    z = torch.tensor(near + far)
    assert nb04.unvisited_share(z, visited, radius=0.45) == pytest.approx(3 / 7)
    assert nb04.unvisited_share(torch.tensor(far), visited, radius=0.45) == 1.0
    assert nb04.unvisited_share(torch.tensor(near), visited, radius=0.45) == 0.0
    assert nb04.unvisited_share(z, visited, radius=100.0) == 0.0


def test_unvisited_share_is_a_brute_force_count(gen):
    z, visited = torch.randn(300, 3, generator=gen), torch.randn(40, 3, generator=gen)
    for radius in (0.3, 0.8, 1.5):
        count = sum(all(math.dist(a, b) > radius for b in visited.tolist()) for a in z.tolist())
        assert nb04.unvisited_share(z, visited, radius=radius) == pytest.approx(count / len(z), abs=1e-12)


def test_a_summary_reports_the_unvisited_share_of_its_own_draws(gen):
    """notebook 04's summary: the share of the N(0, I) draws z_ref farther than the radius from every
    posterior's first draw (one per digit, as many points as the autoencoder has codes)."""
    torch.manual_seed(0)
    x = torch.randint(0, 17, (30, 64), generator=gen).float() / 16
    z_ref = 2.5 * torch.randn(60, 2, generator=gen)  # wide, so that some land far from the codes and some near
    s = nb04.summarize_model("β = 1", models.VAE(hidden=8), x, torch.arange(30) % 10, x[:4], torch.randn(4, 2, generator=gen),
                       torch.randn(3, 30, 2, generator=gen), z_ref)
    count = sum(all(math.dist(a, b) > s.radius for b in s.pooled[:30].tolist()) for a in z_ref.tolist())
    assert 0 < count < len(z_ref)
    assert s.unvisited == pytest.approx(count / len(z_ref), abs=1e-12)


# ---------------------------------------------------------------- d. the β path explorer's active dimensions

def _summary(name: str, spread: list[float], gen) -> nb04.ModelSummary:
    """A hand-made summary whose codes μ have the given standard deviation per dimension."""
    mu = torch.randn(60, 2, generator=gen) * torch.tensor(spread)
    return nb04.ModelSummary(name=name, mu=mu, log_var=torch.full((60, 2), -1.0), labels=torch.arange(60) % 10,
                              pooled=mu.repeat(2, 1) + 0.1 * torch.randn(120, 2, generator=gen),
                              x_show=torch.rand(8, 64, generator=gen), x_hat=torch.rand(8, 64, generator=gen),
                              prior_samples=torch.rand(16, 64, generator=gen), mmd=0.1, unvisited=0.2, kl=3.0, rec=90.0)


def test_beta_path_explorer_reports_the_active_dimensions_of_the_summary_shown(gen):
    summaries = [_summary("none", [0.01, 0.02], gen), _summary("one", [1.0, 0.01], gen),
                 _summary("both", [0.8, 1.5], gen)]
    for b, s in zip([0.5, 1.0, 2.0], summaries):
        s.beta, s.z_prior, s.prior_unvisited = b, torch.randn(16, 2, generator=gen), torch.zeros(16, dtype=torch.bool)
    explorer = nb04.BetaPathExplorer(summaries)
    for s in summaries:
        explorer.controls["model"].value = s.name
        active = int((np.var(s.mu.numpy(), axis=0, ddof=1) > 0.01).sum())  # Var_x μ_j(x) > 0.01, by numpy
        assert active == {"none": 0, "one": 1, "both": 2}[s.name]
        text = re.sub(r"<[^>]+>", " ", explorer.readout.value)  # the readout is an HTML table: its text
        assert re.search(rf"active dimensions:\s+{active} of 2\b", text), text


# ---------------------------------------------------------------- e. the pushforward's share in view

@pytest.mark.parametrize("source, map_, a, b", [("normal", "affine", 2.0, 1.0), ("normal", "exp", 1.0, 0.5),
                                                ("uniform", "affine", 3.0, -2.0)])
def test_share_in_view_is_the_brute_force_share_inside_the_edges(source, map_, a, b):
    p = nb01.Pushforward(source, map_, a, b)
    z = nb01.sample_source(source, 1000, torch.Generator().manual_seed(4))
    edges = torch.linspace(-1.0, 2.0, 31, dtype=torch.float64)
    s = nb01.summarize_pushforward(p, nb01.Pushforward("normal", "affine", 1.0, 0.0), z, edges, edges)
    inside = sum(-1.0 <= x <= 2.0 for x in p.g.forward(z, a, b).tolist()) / len(z)
    assert 0.05 < inside < 0.95, "a setting with draws on both sides of the edges"
    assert s.share_in_view == pytest.approx(inside, abs=1e-12)
    assert (s.heights * edges.diff()).sum().item() == pytest.approx(inside, abs=1e-9)
