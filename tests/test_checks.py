"""Every exercise checker accepts right answers and rejects the typical wrong ones, in plain words."""

import math

import pytest
import torch

from vae_course import checks, distributions as dist


def run(checker, fn, capsys):
    returned = checker(fn)
    return returned, capsys.readouterr().out


def _stub(*args):
    raise NotImplementedError("Exercise")


# (checker, reference, a different but correct answer, [(wrong answer, words the message must contain)])
CASES = {
    "1.1": (checks.exercise_1_1, dist.exponential_icdf,
            lambda u, rate: -torch.log(1 - u) / rate,
            [(lambda u, rate: -torch.log(u) / rate, "F⁻¹(1 − u)"),
             (lambda u, rate: -torch.log1p(-u) * rate, "rate should divide"),
             (lambda u, rate: torch.log1p(-u) / rate, "minus sign"),
             (lambda u, rate: 1 - torch.exp(-rate * u), "CDF"),
             (lambda u, rate: (-torch.log1p(-u) / rate).sum(), "shape"),
             (lambda u, rate: (-torch.log1p(-u) / rate).tolist(), "torch.Tensor"),
             (lambda u, rate: -torch.log1p(-u), "without dividing"),
             (lambda u, rate: -torch.log1p(-u) / rate + 0.01, "values differ: at u = ")]),
    "1.2": (checks.exercise_1_2, dist.affine_pushforward_density,
            lambda x, a, b: torch.distributions.Normal(b, abs(a)).log_prob(x).exp(),
            [(lambda x, a, b: torch.exp(-0.5 * ((x - b) / a) ** 2) / math.sqrt(2 * math.pi), "1/|a|"),
             (lambda x, a, b: torch.exp(-0.5 * ((x - b) / a) ** 2) / math.sqrt(2 * math.pi) / a, "negative"),
             (lambda x, a, b: torch.exp(-0.5 * (a * x + b) ** 2) / math.sqrt(2 * math.pi) * abs(a), "g⁻¹(x)"),
             (lambda x, a, b: torch.exp(-0.5 * ((x - b) / a) ** 2) / math.sqrt(2 * math.pi) / a**2, "variance"),
             (lambda x, a, b: torch.exp(-0.5 * ((x - b) / a) ** 2) / abs(a), "√(2π)"),
             (lambda x, a, b: torch.exp(-0.5 * ((x - b) / a) ** 2) / math.sqrt(2 * math.pi) * abs(a), "multiplying"),
             (lambda x, a, b: torch.exp(-0.5 * ((x + b) / a) ** 2) / math.sqrt(2 * math.pi) / abs(a), "(x − b)/a"),
             (lambda x, a, b: torch.exp(-0.5 * ((x - b) / a) ** 2) / 2.5 / abs(a), "at x = ")]),
}


import test_nb03_checks  # noqa: E402  (tests/ is on sys.path under pytest)
import test_nb05_checks  # noqa: E402

CASES = {**CASES, **test_nb03_checks.CASES, **test_nb05_checks.CASES}


@pytest.mark.parametrize("number", CASES)
def test_correct_answers_pass(number, capsys):
    checker, reference, other, _ = CASES[number]
    for fn in (lambda *args: reference(*args), other):
        returned, out = run(checker, fn, capsys)
        assert returned is fn
        assert out == f"✓ Exercise {number} passed ({len(checker.checks)} checks)\n"


@pytest.mark.parametrize("number", CASES)
def test_not_attempted_says_so_and_falls_back(number, capsys):
    checker, reference, _, _ = CASES[number]
    returned, out = run(checker, _stub, capsys)
    assert returned is reference
    assert out.startswith(f"… Exercise {number} not attempted yet")
    assert "reference solution" in out


@pytest.mark.parametrize("number, k", [(n, k) for n, case in CASES.items() for k in range(len(case[3]))])
def test_typical_mistakes_are_rejected_with_an_explanation(number, k, capsys):
    checker, reference, _, mistakes = CASES[number]
    wrong, words = mistakes[k]
    returned, out = run(checker, wrong, capsys)
    assert returned is reference
    assert out.startswith(f"✗ Exercise {number}:")
    assert words in out
    assert "Traceback" not in out


@pytest.mark.parametrize("number", CASES)
def test_rerunning_a_check_after_a_fallback_does_not_pass_the_reference(number, capsys):
    """The check cell `fn = checker(fn)` swaps in the reference; running it again must not say ✓."""
    checker, reference, _, mistakes = CASES[number]
    fn, _ = run(checker, mistakes[0][0], capsys)
    again, out = run(checker, fn, capsys)
    assert again is reference and "✓" not in out
    assert "still the reference solution" in out and "Run your exercise cell above again" in out


def test_crashing_or_non_function_answers_get_a_message(capsys):
    returned, out = run(checks.exercise_1_1, lambda u, rate: u.nonexistent, capsys)
    assert returned is dist.exponential_icdf and "raised AttributeError" in out
    returned, out = run(checks.exercise_1_2, 3.0, capsys)
    assert returned is dist.affine_pushforward_density and "expected the function" in out


def test_nan_answers_are_named(capsys):
    _, out = run(checks.exercise_1_1, lambda u, rate: u * float("nan"), capsys)
    assert "returned NaN" in out
