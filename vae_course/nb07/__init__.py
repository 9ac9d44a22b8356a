"""Notebook 07, Beyond N(0, I) and independent pixels: what the notebook uses, as `vc.nb07.<name>`.

- `compute.py`: the VampPrior and a VAE with any of three priors, a mixture prior's log-density,
  how a prior covers the aggregate posterior, MADE's masks and the connectivity they give.
- `figures.py`: Notebook 07's figures: codes over a learned prior's density, a connectivity matrix.
- `explorers.py`: Notebook 07's explorer: move the code of one digit along z; samples and nats respond.
- `checks.py`: Checkers of notebook 07: Exercise 7.1 (MADE's mask, tested by its connectivity),
  7.2 (a mixture prior's log-density with logsumexp).
"""

from .checks import *  # noqa: F403
from .compute import *  # noqa: F403
from .explorers import *  # noqa: F403
from .figures import *  # noqa: F403
