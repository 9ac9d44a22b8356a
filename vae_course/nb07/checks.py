"""Checkers of notebook 07: Exercise 7.1 (MADE's mask: the connectivity it gives is tested, pixel by
pixel), 7.2 (a mixture prior's log-density with logsumexp)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..autoregressive import made_mask
from ..checking import CheckFailed, Exercise, in_dtype, matches, returns_tensor, same_gradients, seeded
from .compute import made_connectivity, mixture_log_prob

# ---------------------------------------------------------------- 7.1 MADE's mask


def _mask_mistakes(in_degrees: Tensor, out_degrees: Tensor, strict: bool) -> dict[str, Tensor]:
    o, i = out_degrees[:, None].double(), in_degrees[None, :].double()
    other = "≥ (a hidden unit of degree m must see pixel m itself, or pixel m + 1 loses its nearest neighbour)" \
        if not strict else "> (an output of degree j must not see pixel j)"
    wrong = {
        f"the other comparison: here (strict={strict}) the rule is {other}.": (o > i if not strict else o >= i),
        "the comparison turned round (in_degrees against out_degrees): a unit would see later pixels, not earlier "
        "ones.": (i >= o if not strict else i > o),
        "a mask of ones: every unit sees every pixel, so each pixel is predicted from itself.": torch.ones_like(o * i),
        "1 where the degrees are equal only: a unit must see every pixel up to its degree, not only one.":
            (o == i).expand(len(out_degrees), len(in_degrees)),
    }
    return {k: t.double() for k, t in wrong.items()}


def _mask_call(answer, in_degrees, out_degrees, strict) -> Tensor:
    out = answer(in_degrees, out_degrees, strict)
    if isinstance(out, Tensor) and out.is_floating_point() and out.ndim == 2 and torch.isnan(out).any():
        k, d = (int(i) for i in torch.isnan(out.detach()).nonzero()[0])  # named here: checking's _index is slow in 2-D
        raise CheckFailed(f"`made_mask` returned NaN at index ({k}, {d}); a mask holds only 0 and 1.")
    if isinstance(out, Tensor) and not out.is_floating_point() and not out.is_complex():
        raise CheckFailed(f"`made_mask` returned a tensor of dtype {out.dtype}; the mask multiplies nn.Linear's "
                          f"weight (`weight * mask`), whose dtype is floating-point, so return floats 0. and 1.: "
                          f"a comparison such as `out_degrees[:, None] >= in_degrees[None, :]` gives torch.bool, "
                          f"and `.float()` turns it into the mask.")
    out = returns_tensor(out, "made_mask")
    want = (len(out_degrees), len(in_degrees))
    if tuple(out.shape) == want[::-1] and want[0] != want[1]:
        raise CheckFailed(f"`made_mask` returned shape {tuple(out.shape)} = (len(in_degrees), len(out_degrees)) for "
                          f"{len(in_degrees)} inputs and {len(out_degrees)} outputs: the mask is transposed. It "
                          f"multiplies nn.Linear's weight, whose shape is (out, in) = {want}.")
    if tuple(out.shape) != want:
        raise CheckFailed(f"`made_mask` returned shape {tuple(out.shape)} for {len(in_degrees)} inputs and "
                          f"{len(out_degrees)} outputs; it should return (len(out_degrees), len(in_degrees)) = {want}.")
    if not ((out == 0) | (out == 1)).all():
        raise CheckFailed("`made_mask` returned values other than 0 and 1; a mask keeps a weight (1) or cuts it (0).")
    return out


def _connectivity(answer):
    """A MADE over D = 5 pixels with two hidden layers: which pixel may each output depend on?"""
    g = seeded(71)
    pixels = torch.arange(1, 6)
    h1, h2 = torch.randint(1, 5, (7,), generator=g), torch.randint(1, 5, (6,), generator=g)
    h1[:4], h2[:4] = torch.arange(1, 5), torch.arange(1, 5)  # every degree present: the full triangle is reachable
    masks = [_mask_call(answer, pixels, h1, False), _mask_call(answer, h1, h2, False),
             _mask_call(answer, h2, pixels, True)]
    sees = made_connectivity(masks)
    for j in range(5):
        for d in range(j, 5):
            if sees[j, d]:
                what = "itself" if d == j else f"pixel {d + 1}, which comes later in the raster order"
                raise CheckFailed(
                    f"in a MADE over 5 pixels built from your masks (hidden degrees {h1.tolist()} and {h2.tolist()}), "
                    f"the output for pixel {j + 1}, p(x_{j + 1} | x_<{j + 1}, z), depends on {what}. Training "
                    f"would then copy the pixel instead of predicting it. Hidden layers: out_degree ≥ in_degree; "
                    f"output layer (strict=True): out_degree > in_degree.")
    for j in range(5):
        for d in range(j):
            if not sees[j, d]:
                raise CheckFailed(
                    f"in a MADE over 5 pixels built from your masks, the output for pixel {j + 1} cannot see pixel "
                    f"{d + 1}, which comes before it and which it may see: the masks cut more than they must (a hidden "
                    f"unit of degree m should see pixels 1..m, so use ≥ between hidden layers).")


def _mask_values(d: int, h: int, strict: bool, seed: int, dtype=torch.float64):
    def check(answer):
        g = seeded(seed)
        pixels, hidden = torch.arange(1, d + 1), torch.randint(1, d, (h,), generator=g)
        args = (hidden, pixels, True) if strict else (pixels, hidden, False)
        expected, wrong = made_mask(*args).double(), _mask_mistakes(*args)
        got = _mask_call(answer, *args)
        matches(got, expected, f"in_degrees {args[0].tolist()}, out_degrees {args[1].tolist()}, strict={strict}"
                f"{in_dtype(dtype)}", wrong)
    check.__name__ = f"values ({'output' if strict else 'hidden'} layer)"
    return check


exercise_7_1 = Exercise("7.1", "made_mask", made_mask,
                        [_connectivity, _mask_values(6, 8, False, 1), _mask_values(9, 4, True, 2)])


# ---------------------------------------------------------------- 7.2 a mixture prior's log-density

_LOG_2PI = math.log(2 * math.pi)


def _mix_inputs(seed: int, n: int, c: int, dim: int, dtype=torch.float64, far: bool = False):
    g = seeded(seed)
    z = 2 * torch.randn(n, dim, generator=g, dtype=torch.float64)
    means = 2 * torch.randn(c, dim, generator=g, dtype=torch.float64)
    log_vars = torch.rand(c, dim, generator=g, dtype=torch.float64) - 1.0
    logits = torch.randn(c, generator=g, dtype=torch.float64)
    if far:
        z[: n // 2] += 60.0  # a code far from every component: each w_c N(z; m_c, ·) underflows to 0 in float64
    return tuple(t.to(dtype) for t in (z, means, log_vars, logits))


def _mix_mistakes(z, means, log_vars, logits) -> dict[str, Tensor]:
    diff2 = (z[:, None, :] - means) ** 2 / log_vars.exp()  # (N, C, L)
    dim = z.shape[1]
    log_w = torch.log_softmax(logits, 0)
    per = -0.5 * (diff2 + log_vars + _LOG_2PI).sum(-1)  # (N, C)
    return {
        "a mixture with equal weights: the weights w = softmax(logits) are left out; add log_softmax(logits) to "
        "each component's log-density before the logsumexp.": torch.logsumexp(per, -1) - math.log(len(means)),
        "a mixture with equal weights and no −log C: the weights w = softmax(logits) are missing (add "
        "log_softmax(logits) to each component).": torch.logsumexp(per, -1),
        "the raw logits added as log-weights: turn them into log-probabilities with torch.log_softmax(logits, 0) "
        "(they do not sum to 1 after exp).": torch.logsumexp(per + logits, -1),
        "the weights multiplied in after the log (log N + w): the weight enters inside, log(w·N) = log w + log N.":
            torch.logsumexp(per + log_w.exp(), -1),
        "a Gaussian without its normaliser −½·L·log 2π (L latent dimensions).":
            torch.logsumexp(per + 0.5 * dim * _LOG_2PI + log_w, -1),
        "a Gaussian without the −½·Σ log σ² term of its normaliser.":
            torch.logsumexp(per + 0.5 * log_vars.sum(-1) + log_w, -1),
        "log_var used as the variance σ² (divide (z − m)² by exp(log_var)).":
            torch.logsumexp(-0.5 * ((z[:, None, :] - means) ** 2 / log_vars + log_vars + _LOG_2PI).sum(-1) + log_w,
                            -1),
        "the log-density of the heaviest component only (a max over components, not a logsumexp).":
            (per + log_w).max(-1).values,
        "the weighted mean of the components' log-densities, Σ w_c log N_c: that is a lower bound (Jensen), not "
        "log Σ w_c N_c.": (log_w.exp() * per).sum(-1),
        "a mean over components of the log-densities (logsumexp over components is what the mixture needs).":
            (per + log_w).mean(-1),
        "without the factor −½ in the exponent.": torch.logsumexp(-(diff2 + log_vars + _LOG_2PI).sum(-1) + log_w, -1),
    }


def _result(answer, args, n: int) -> Tensor:
    out = answer.tensor(*args, shape=(n,))
    if torch.isinf(out).any():
        i = int(torch.isinf(out).nonzero()[0])
        raise CheckFailed(
            f"`mixture_log_prob` returned {out[i].item()} for code {i}, which lies about 60 away from every "
            f"component. log Σ_c w_c N(z; m_c, ·) written as log(sum(exp(…))) underflows there: each exp(…) is "
            f"about e^(−1000), which is 0 even in float64, and log 0 = −inf. Use torch.logsumexp over the "
            f"components, which subtracts the largest term before exponentiating.")
    return out


def _mix_values(seed, n, c, dim, dtype=torch.float64, far=False):
    def check(answer):
        args = _mix_inputs(seed, n, c, dim, dtype, far)
        args64 = tuple(a.double() for a in args)
        expected, wrong = mixture_log_prob(*args64), _mix_mistakes(*args64)
        where = " (half of the codes far from every component)" if far else ""
        matches(_result(answer, args, n), expected, f"{n} codes, {c} components in {dim} dimensions{where}"
                f"{in_dtype(dtype)}", wrong, dtype=dtype)
    check.__name__ = f"values (inputs {seed})"
    return check


def _mix_gradient(answer):
    args = _mix_inputs(4, 5, 3, 2)
    same_gradients(answer, mixture_log_prob, args, ("z", "means", "log_vars", "logits"),
                   "Training the prior needs the gradient to reach its means, log-variances and logits (and the "
                   "encoder needs it through z): compute with torch operations, outside torch.no_grad().")


exercise_7_2 = Exercise("7.2", "mixture_log_prob", mixture_log_prob,
                        [_mix_values(1, 6, 4, 3), _mix_values(2, 4, 3, 2, torch.float32), _mix_values(3, 8, 5, 2, far=True),
                         _mix_gradient])


__all__ = ["exercise_7_1", "exercise_7_2"]
