"""Notebook 00, Start here: what the notebook uses, as `vc.nb00.<name>`.

- `compute.py`: Notebook 00's practice exercise (the N(0, 1) density, the reference the demo check
  compares with) and the preview of what the course builds: a small VAE trained on the digits in a
  few seconds.
- `figures.py`: Notebook 00's preview figure: what the course's VAE does, drawn from a `PreviewSummary`.
- `explorers.py`: The installation check: one slider σ, the picture of X = σ·Z must follow it.
- `checks.py`: Notebook 00's practice check (Exercise 0.1, the N(0, 1) density): how a check cell
  answers.
"""

from .checks import *  # noqa: F403
from .compute import *  # noqa: F403
from .explorers import *  # noqa: F403
from .figures import *  # noqa: F403
