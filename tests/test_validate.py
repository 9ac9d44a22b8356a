"""Package functions reject the inputs a learner will pass by mistake with a TypeError/ValueError that says
what was expected (never a deep torch error, never a silently wrong number), and accept float64 digits."""

import pytest
import torch

from vae_course import _validate as v
from vae_course import data, models, nb01, nb05, probability, training


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return models.VAE(2, 16)


@pytest.fixture(scope="module")
def digits():
    return data.load_digits("test")


def _batch(b=5, latent_dim=2):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(b, 64, 17, generator=g), torch.randint(0, 17, (b, 64), generator=g),
            torch.randn(b, latent_dim, generator=g), torch.randn(b, latent_dim, generator=g))


x6 = torch.rand(6, 4, generator=torch.Generator().manual_seed(1))
noncontiguous = torch.ones(3, 4, dtype=torch.float64)[:, ::2]

REJECTED = [
    ("a count of True", lambda vae: nb01.random_pairing_costs(x6, x6, True), ValueError,
     "n must be a positive whole number, got True"),
    ("a count of True", lambda vae: nb01.sample_source("normal", True), ValueError,
     "n must be a positive whole number of samples, got True"),
    ("a count of 2.0", lambda vae: vae.sample_means(2.0), ValueError, "n must be a positive whole number, got 2.0"),
    ("a count of True", lambda vae: vae.sample_means(True), ValueError, "got True"),
    ("a count of True", lambda vae: nb05.quadrature_grad(lambda z: z**2, 0.0, 1.0, n=True), ValueError,
     "n must be a whole number ≥ 3, got True"),
    ("a count of True", lambda vae: nb05.variance_table("(z − t)²", 0.0, 1.0, [4], True,
                                                             torch.Generator()), ValueError, "repeats must be"),
    ("a list of pairs", lambda vae: nb01.pairing_cost(x6, x6, [0, 0, 1, 2, 3, 4]), ValueError,
     "pairing must be a permutation of 0..5"),
    ("a list of logits", lambda vae: vae.mean_image([[0.0] * 17]), TypeError, "logits must be a torch.Tensor, got list"),
    ("a list of levels", lambda vae: probability.categorical_log_likelihood([[1, 2]], torch.zeros(1, 2, 17)), TypeError,
     "levels must be an integer tensor of grey levels 0..16"),
    ("a list of pixels", lambda vae: probability.bernoulli_log_likelihood([[1.0]], torch.zeros(1, 1)), TypeError,
     "x must be a torch.Tensor, got list"),
    ("float levels", lambda vae: training.vae_loss(_batch()[0], _batch()[1].float(), *_batch()[2:]), TypeError,
     "levels must be an integer tensor"),
    ("levels out of range", lambda vae: training.vae_loss(_batch()[0], _batch()[1] + 17, *_batch()[2:]),
     ValueError, "levels must lie in 0..16; got values in 17..33"),
    ("mu of batch 1 for 5 digits", lambda vae: training.vae_loss(*_batch()[:2], torch.zeros(1, 2), torch.zeros(1, 2)),
     ValueError, "mu and log_var must have shape (B, L) with the batch size B = 5 of levels"),
    ("mu without a batch axis", lambda vae: training.vae_loss(*_batch()[:2], torch.zeros(2), torch.zeros(2)),
     ValueError, "got (2,)"),
    ("a non-contiguous parameter", lambda vae: nb05.central_difference(lambda: noncontiguous.sum(), noncontiguous),
     ValueError, "param must be a contiguous tensor"),
    ("a float32 parameter", lambda vae: nb05.central_difference(lambda: torch.zeros(()), torch.zeros(3)),
     ValueError, "param must be float64"),
]


@pytest.mark.parametrize("k", range(len(REJECTED)), ids=[r[0] for r in REJECTED])
def test_bad_input_is_rejected_with_a_message_that_says_what_was_expected(k, vae):
    _, call, error, words = REJECTED[k]
    with pytest.raises(error) as info:
        call(vae)
    assert words in str(info.value)


def test_count_accepts_whole_numbers_only():
    assert v.count(3, "n") == 3
    for bad in (True, 0, 2.0, "3", None):
        with pytest.raises(ValueError, match="n must be a positive whole number"):
            v.count(bad, "n")
    with pytest.raises(ValueError, match="k must be a whole number of samples ≥ 2, got 1"):
        v.count(1, "k", minimum=2, of="samples")


def test_float64_digits_go_through_a_float32_vae(vae, digits):
    x = digits.x[:5]
    for a, b in zip(vae.encode(x.double()), vae.encode(x)):
        assert a.dtype == torch.float32 and torch.equal(a, b)
    assert torch.equal(vae.decode(torch.zeros(3, 2, dtype=torch.float64)), vae.decode(torch.zeros(3, 2)))
    assert torch.equal(vae.reconstruct(x.double()), vae.reconstruct(x))
    g = lambda: torch.Generator().manual_seed(3)
    assert torch.equal(models.log_weights(vae, x.double(), 2, g()), models.log_weights(vae, x, 2, g()))
    assert torch.equal(vae.elbo_terms(x.double(), g())["elbo"], vae.elbo_terms(x, g())["elbo"])


def test_a_float64_vae_keeps_float64(digits):
    model = models.VAE(2, 8).double()
    mu, _ = model.encode(digits.x[:3])
    assert mu.dtype == torch.float64 and model.sample_means(2).dtype == torch.float64


def test_training_accepts_float64_digits(digits):
    torch.manual_seed(0)
    history = training.train(models.VAE(2, 8), digits.x[:20].double(), digits.x[20:30].double(), epochs=1,
                             batch_size=10, progress=False)
    assert history is not None


def test_a_permutation_is_found_for_tensors_that_require_grad():
    x_hat = x6.clone().requires_grad_(True)
    pairing, cost = nb01.best_pairing(x_hat, x6.flip(0))
    assert torch.equal(pairing, nb01.best_pairing(x6, x6.flip(0))[0]) and cost == pytest.approx(0.0)
    assert nb01.pairing_cost(x6, x6, [5, 4, 3, 2, 1, 0]) == nb01.pairing_cost(x6, x6, torch.arange(6).flip(0))


def test_central_difference_still_agrees_with_autograd_on_a_parameter():
    w = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
    auto, = torch.autograd.grad((w**3).sum(), w)
    assert torch.allclose(nb05.central_difference(lambda: (w**3).sum(), w), auto, atol=1e-6)


def test_the_vae_loss_of_a_right_batch_is_unchanged():
    x_logits, levels, mu, log_var = _batch()
    rec = torch.nn.functional.cross_entropy(x_logits.transpose(1, 2), levels, reduction="none").sum(-1)
    assert torch.allclose(training.vae_loss(x_logits, levels, mu, log_var), (rec + probability.gaussian_kl(mu, log_var)).mean())


@pytest.mark.parametrize("bad, count", [
    (torch.tensor([1.0, float("nan"), 2.0]), 1),
    (torch.tensor([float("inf"), 0.0]), 1),
    (torch.tensor([float("inf"), float("-inf"), 3.0]), 2),  # their sum is NaN, not ±inf
    (torch.tensor([[0.0, float("nan")], [float("-inf"), 1.0]], dtype=torch.float64), 2),
])
def test_tensor_finds_every_nan_and_infinity(bad, count):
    with pytest.raises(ValueError, match=f"contains {count} NaN or infinite"):
        v.tensor(bad, "x")


def test_tensor_accepts_finite_values_whose_sum_overflows():
    """The quick check sums the tensor; a sum that overflows must fall back to the exact test, not raise."""
    big = torch.full((4,), 3e38)  # finite in float32, their sum is inf
    assert not torch.isfinite(big.sum())
    assert torch.equal(v.tensor(big, "x"), big)
