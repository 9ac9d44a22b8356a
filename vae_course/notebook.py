"""`setup_notebook`, the one setup call at the top of every notebook, and `claim`, the check of a
sentence of the prose against the learner's own run."""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from . import _validate as v

STYLE = {
    "figure.figsize": (6.0, 3.6),
    "figure.dpi": 90,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": "medium",
    "image.cmap": "viridis",
    "legend.frameon": False,
}


def setup_notebook(seed: int = 0, threads: int = 1, quiet: bool = False) -> torch.Generator:
    """Seed every generator, fix torch's thread count, set the plot style; return a torch.Generator.

    seed: seeds Python's `random`, NumPy and torch's global generator. The returned generator (also
    seeded with `seed`) is the one to pass to every random draw in the notebook, so a result never
    depends on how many numbers an earlier cell drew.
    threads: torch's intra-op threads; 1 keeps float sums identical on every machine (and small
    models are no slower with it).
    """
    import matplotlib.pyplot as plt

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be a whole number, got {type(seed).__name__}.")
    v.count(threads, "threads")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    plt.rcParams.update(STYLE)
    if os.environ.get("VC_FIGURE_AUDIT"):
        from .figures import audit_figures

        audit_figures(os.environ["VC_FIGURE_AUDIT"])
    if not quiet:
        from . import __version__

        print(f"vae_course {__version__} · Python {platform.python_version()} · torch {torch.__version__} · "
              f"numpy {np.__version__} · seed {seed} · {threads} thread(s)")
    return torch.Generator().manual_seed(seed)


def claim(holds, text: str, numbers: str = "") -> None:
    """Print `✓ text` when `holds` is true on this run; say so plainly when it is not.

    The prose quotes a trained model only through claims like this one, with margins that hold for
    every seed and CPU the course is tested on (`tools/other_cpus.py claims`): the digits of a trained
    model differ from machine to machine, what the text says about them must not. The numbers
    themselves are printed in a cell of their own; `numbers` repeats the ones a failed claim is
    about. A claim that fails does not stop the notebook: it prints a line starting with `✗`, which
    the course's tests treat as a failure. It returns nothing, so a cell that ends in a claim shows
    only its line, not a stray `True` under it.
    """
    if isinstance(holds, torch.Tensor):
        if holds.numel() != 1:
            raise ValueError(f"claim: expected one truth value, got a tensor of shape {tuple(holds.shape)}; "
                             "reduce it first, e.g. with .all().")
        holds = holds.item()
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"claim: expected a truth value (a comparison), got {type(holds).__name__}.")
    if not isinstance(text, str) or not text:
        raise TypeError("claim: expected the claim as a non-empty string.")
    if holds:
        print(f"✓ {text}")
    else:
        detail = f" ({numbers})" if numbers else ""
        print(f"✗ Not so in this run: {text}{detail}. The text expects it on every seed and CPU it was "
              "tested on; please report this, with your seed and machine.")
