"""Notebook 00, Start here: what the notebook uses, as `vc.nb00.<name>`.

- `explorers.py`: The installation check: one slider σ, the picture of X = σ·Z must follow it.
"""

from .explorers import *  # noqa: F403
