"""`setup_notebook`: the one setup call at the top of every notebook."""

from __future__ import annotations

import platform
import random

import numpy as np
import torch

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
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive whole number, got {threads!r}.")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    plt.rcParams.update(STYLE)
    if not quiet:
        from . import __version__

        print(f"vae_course {__version__} · Python {platform.python_version()} · torch {torch.__version__} · "
              f"numpy {np.__version__} · seed {seed} · {threads} thread(s)")
    return torch.Generator().manual_seed(seed)
