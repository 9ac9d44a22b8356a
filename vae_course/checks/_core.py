"""The checker machinery: test a learner's function against the package's reference.

Each `exercise_N_M(fn)` runs a few checks on fixed inputs (its own generator), prints one line,
and returns the function the notebook should go on with: the learner's when every check passes,
otherwise the reference, so that "Restart and Run All" still reaches the end.

    ✓ Exercise 1.1 passed (4 checks)
    … Exercise 1.1 not attempted yet: ...
    ✗ Exercise 1.1: <what differs, in words>
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor


FALLBACK = "  The rest of the notebook uses the reference solution until this check passes."


class CheckFailed(Exception):
    """A check found a difference; the message says what, in plain words."""


@dataclass
class Exercise:
    """An exercise: its number, the learner's function name, the reference and the checks."""

    number: str
    function: str
    reference: Callable
    checks: list[Callable[[Callable], None]]

    def __post_init__(self):
        # Mark the reference, so that re-running a check cell after a fallback is recognised
        # (the cell `fn = vc.checks.exercise_N_M(fn)` has replaced the learner's function by it).
        marks = getattr(self.reference, "__vc_reference_for__", set())
        marks.add(self.number)
        self.reference.__vc_reference_for__ = marks

    def __call__(self, fn) -> Callable:
        """Run every check on `fn`, print one verdict, return `fn` if all pass, else the reference."""
        head = f"Exercise {self.number}"
        if self.number in getattr(fn, "__vc_reference_for__", ()):
            print(f"… {head}: `{self.function}` is still the reference solution that an earlier run of this "
                  f"check put in place.\n  Run your exercise cell above again (it defines your `{self.function}`), "
                  f"then this cell.")
            return fn
        if not callable(fn):
            print(f"✗ {head}: expected the function `{self.function}`, got {type(fn).__name__}.\n{FALLBACK}")
            return self.reference
        try:
            for check in self.checks:
                check(fn)
        except NotImplementedError:
            print(f"… {head} not attempted yet: `{self.function}` still raises NotImplementedError.\n"
                  f"  Replace the `raise NotImplementedError` line with your code, run that cell, then this one.\n"
                  f"{FALLBACK}")
        except CheckFailed as failure:
            print(f"✗ {head}: {failure}\n{FALLBACK}")
        except Exception as err:  # the learner's code crashed: say where, not a traceback
            print(f"✗ {head}: `{self.function}` raised {type(err).__name__}: {err}\n{FALLBACK}")
        else:
            print(f"✓ {head} passed ({len(self.checks)} checks)")
            return fn
        return self.reference


# ---------------------------------------------------------------- helpers shared by the checks

def _fmt(t: Tensor) -> str:
    return "[" + ", ".join(f"{x:.4g}" for x in t.flatten()[:6].tolist()) + (", …]" if t.numel() > 6 else "]")


def returns_tensor(fn, *args, shape=None, name: str = "") -> Tensor:
    """Call fn(*args); fail unless it returns a finite tensor (of `shape`, when given)."""
    out = fn(*args)
    if not isinstance(out, Tensor):
        raise CheckFailed(f"`{name}` returned {type(out).__name__}; it should return a torch.Tensor.")
    if shape is not None and tuple(out.shape) != tuple(shape):
        raise CheckFailed(f"`{name}` returned shape {tuple(out.shape)} for an input of shape {tuple(shape)}; "
                          f"it should work elementwise and keep the shape.")
    if torch.isnan(out).any():
        raise CheckFailed(f"`{name}` returned NaN for {_where(args)}.")
    return out


def _where(args) -> str:
    parts = [f"{_fmt(a)}" if isinstance(a, Tensor) else f"{a:g}" for a in args]
    return "inputs " + ", ".join(parts)


def matches(got: Tensor, expected: Tensor, what: str, mistakes: dict[str, Tensor] | None = None,
            rtol: float = 1e-5, atol: float = 1e-7, inputs: dict[str, Tensor] | None = None) -> None:
    """Fail unless got ≈ expected; name a known mistake when `got` matches one of `mistakes`.

    `inputs` (name → tensor of got's shape) lets the message show the input where the values differ.
    """
    got, expected = got.double(), expected.double()
    if torch.allclose(got, expected, rtol=rtol, atol=atol):
        return
    for explanation, wrong in (mistakes or {}).items():
        if torch.allclose(got, wrong.double(), rtol=rtol, atol=atol):
            raise CheckFailed(f"for {what} your values match {explanation}")
    i = int((got - expected).abs().flatten().argmax())
    where = "".join(f"{name} = {t.flatten()[i]:.4g}, " for name, t in (inputs or {}).items())
    raise CheckFailed(f"for {what} the values differ: at {where}index {i} you return {got.flatten()[i]:.6g}, "
                      f"expected {expected.flatten()[i]:.6g}.\n  yours:    {_fmt(got)}\n  expected: {_fmt(expected)}")


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)
