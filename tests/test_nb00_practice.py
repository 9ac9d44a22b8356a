"""Notebook 00: the practice check of section 4 (the N(0, 1) density) against torch.distributions,
the classic mistakes it names, and the legend of the installation check."""

import math

import pytest
import torch

from vae_course import figures, nb00


def test_normal_density_is_torch_distributions_normal():
    x = torch.linspace(-6, 6, 101, dtype=torch.float64)
    ref = torch.distributions.Normal(0.0, 1.0).log_prob(x).exp()
    assert torch.allclose(nb00.normal_density(x), ref, rtol=1e-12, atol=0)


def test_normal_density_rejects_what_is_not_a_tensor():
    with pytest.raises((TypeError, ValueError), match="x"):
        nb00.normal_density("0.5")


def _verdict(fn, capsys):
    returned = nb00.exercise_0_1(fn)
    return returned, capsys.readouterr().out


@pytest.mark.parametrize("answer", [
    lambda x: torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi),
    lambda x: torch.distributions.Normal(0.0, 1.0).log_prob(x).exp(),
    lambda x: torch.exp(-0.5 * x.float() ** 2) / math.sqrt(2 * math.pi)])
def test_right_answers_pass(answer, capsys):
    returned, out = _verdict(answer, capsys)
    assert out.startswith("✓ Exercise 0.1 passed (4 checks)") and returned is answer


@pytest.mark.parametrize("answer, words", [
    (lambda x: torch.exp(-0.5 * x**2), "1/√(2π)"),
    (lambda x: torch.exp(-x**2) / math.sqrt(2 * math.pi), "½ in the exponent"),
    (lambda x: torch.exp(-0.5 * x**2) / (2 * math.pi), "square root of 2π"),
    (lambda x: torch.exp(0.5 * x**2) / math.sqrt(2 * math.pi), "minus sign"),
    (lambda x: -0.5 * x**2 - 0.5 * math.log(2 * math.pi), "log-density"),
    (lambda x: (torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)).sum(), "returned shape ()"),
    (lambda x: torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi) + 0.01, "the values differ"),
])
def test_wrong_answers_get_a_message_that_names_the_mistake(answer, words, capsys):
    returned, out = _verdict(answer, capsys)
    assert out.startswith("✗ Exercise 0.1") and words in out, out
    assert returned is nb00.normal_density


def test_a_stub_is_not_attempted(capsys):
    def stub(x):
        raise NotImplementedError("Exercise 0.1")
    _, out = _verdict(stub, capsys)
    assert out.startswith("… Exercise 0.1 not attempted yet")


def test_installation_check_names_what_it_draws():
    check = nb00.InstallationCheck(n=300)
    labels = [t.get_text() for t in check.view.ax.get_legend().get_texts()]
    assert labels == ["histogram of σ·Z: 300 fixed draws of Z, times σ", "density of σ·Z: N(0, σ²)",
                      "density of N(0, 1) (σ = 1), for comparison"]
    assert not any("g(Z)" in s or "target" in s for s in labels)
    assert figures.legibility_problems(check.view.fig, tight=False) == []


def test_nearest_code_same_label_is_the_share_a_loop_finds():
    gen = torch.Generator().manual_seed(4)
    mu, labels = torch.randn(60, 2, generator=gen), torch.randint(0, 3, (60,), generator=gen)
    hits = 0
    for i in range(60):  # by hand: the closest other point, one at a time
        best = min((j for j in range(60) if j != i), key=lambda j: float(((mu[i] - mu[j]) ** 2).sum()))
        hits += int(labels[best] == labels[i])
    assert nb00.nearest_code_same_label(mu, labels) == pytest.approx(hits / 60)
    separated = torch.cat([torch.zeros(5, 2), torch.full((5, 2), 10.0)]) + 0.1 * torch.randn(10, 2, generator=gen)
    assert nb00.nearest_code_same_label(separated, torch.tensor([0] * 5 + [1] * 5)) == 1.0


@pytest.mark.parametrize("call, words", [
    (lambda: nb00.nearest_code_same_label(torch.zeros(5), torch.zeros(5)), "mu must be (N, L)"),
    (lambda: nb00.nearest_code_same_label(torch.zeros(5, 2), torch.zeros(4)), "labels (N,)"),
    (lambda: nb00.preview_vae(torch.Generator(), epochs=0), "epochs"),
    (lambda: nb00.preview_vae(torch.Generator(), n_grid=1), "n_grid"),
    (lambda: nb00.latent_grid(5, 0.0), "lim must be > 0"),
])
def test_bad_input_to_the_preview_gets_a_clear_message(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)


def test_latent_grid_is_read_like_an_image_top_left_first():
    z = nb00.latent_grid(3, 2.0)
    # row by row from the top left: z2 = 2, 0, -2 down the rows, z1 = -2, 0, 2 along each
    want = torch.tensor([[z1, z2] for z2 in (2.0, 0.0, -2.0) for z1 in (-2.0, 0.0, 2.0)])
    assert torch.equal(z, want)
    big = nb00.latent_grid(7, 2.1)
    assert big.shape == (49, 2) and big.abs().max() == pytest.approx(2.1)
    assert torch.allclose(big[:, 0].reshape(7, 7).diff(dim=1), torch.tensor(0.7))  # even steps


def test_chance_same_label_is_the_share_of_random_labels_a_simulation_finds():
    labels = torch.tensor([0] * 30 + [1] * 60 + [2] * 10)
    assert nb00.chance_same_label(labels) == pytest.approx(0.3**2 + 0.6**2 + 0.1**2)
    assert nb00.chance_same_label(torch.arange(10).repeat(40)) == pytest.approx(0.1)
    # independently: points with no relation to their labels hit the same label at that rate
    gen = torch.Generator().manual_seed(5)
    hits = [nb00.nearest_code_same_label(torch.randn(300, 2, generator=gen), labels[torch.randint(0, 100, (300,), generator=gen)])
            for _ in range(60)]
    assert sum(hits) / len(hits) == pytest.approx(nb00.chance_same_label(labels), abs=0.02)
    with pytest.raises(ValueError, match="non-empty"):
        nb00.chance_same_label(torch.zeros(0))


def test_the_preview_returns_what_its_figure_draws_and_the_figure_is_legible():
    s = nb00.preview_vae(torch.Generator().manual_seed(0), epochs=2, n_grid=5)
    assert s.originals.shape == s.reconstructions.shape == (10, 64) and s.grid_images.shape == (25, 64)
    assert s.shown_labels.tolist() == list(range(10))  # one test digit per class, in order
    assert s.mu.shape == (447, 2) and s.labels.shape == (447,) and 0 <= s.same_class_share <= 1
    assert s.grid_z.shape == (25, 2) and 0.09 < s.chance_share < 0.11
    assert ((s.grid_images >= 0) & (s.grid_images <= 1)).all()
    fig = nb00.plot_preview(s)
    assert figures.legibility_problems(fig) == []
    ax_rec, ax_map = fig.subfigs[0].axes[0], fig.subfigs[1].axes[0]
    assert [t.get_text() for t in ax_rec.get_yticklabels()] == ["original", "rebuilt"]
    legend = [t.get_text() for t in ax_map.get_legend().get_texts()]
    assert [f"digit {c}" for c in range(10)] == [t for t in legend if t.startswith("digit")]
    assert "grid of panel 3" in legend
    ax_new = fig.subfigs[1].axes[1]  # the decoded grid: its ticks are the grid's z values, z2 falling down the rows
    assert [t.get_text() for t in ax_new.get_xticklabels()] == ["-2.1", "-1.05", "0", "1.05", "2.1"]
    assert [t.get_text() for t in ax_new.get_yticklabels()] == ["2.1", "1.05", "0", "-1.05", "-2.1"]
    with pytest.raises(ValueError, match="at most 10"):
        nb00.preview_vae(torch.Generator(), n_shown=11)
