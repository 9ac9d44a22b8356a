"""Notebook 03, Each sample its own normal: what the notebook uses, as `vc.nb03.<name>`.

- `compute.py`: Per-sample posteriors q(z|x) = N(μ(x), σ²(x)): the ELBO estimate, a posterior fitted
  to one digit by gradient ascent, the table of posteriors the explorer shows, the nσ ellipse's
  mass.
- `figures.py`: Notebook 03's figures: posterior ellipses over the latent plane, the per-sample flow
  x → q(z|x) → z → x̂, the posterior explorer's picture.
- `explorers.py`: Notebook 03's explorer: pick a test digit, see its own normal and the decodings of
  its draws.
- `checks.py`: Checkers of notebook 03: Exercise 3.1 (z = mu + σ·eps, shared with 5.1), 3.2 (the
  diagonal Gaussian log-density).
"""

from .checks import *  # noqa: F403
from .compute import *  # noqa: F403
from .explorers import *  # noqa: F403
from .figures import *  # noqa: F403
