"""Notebook 02, Latent variable models: what the notebook uses, as `vc.nb02.<name>`.

- `compute.py`: The latent variable toy: z ~ N(0, 1), x = curve(z) + noise. Its exact log p(x) and
  posterior p(z|x) by quadrature, Monte Carlo and importance-sampling estimates, effective sample
  sizes, the prior mass under the posterior, and a Gaussian q fitted by the ELBO.
- `figures.py`: Notebook 02's figures: densities over the plane, prior beside posterior, the spread
  of estimates, error against prior mass, ESS against D, Gaussian fits, the latent explorer's picture.
- `explorers.py`: Notebook 02's explorer: move a data point x, see which prior draws explain it.
- `checks.py`: Checkers of notebook 02: Exercise 2.1 (the Monte Carlo estimate of log p(x), by logsumexp) and
  Exercise 2.2 (importance sampling).
"""

from .checks import *  # noqa: F403
from .compute import *  # noqa: F403
from .explorers import *  # noqa: F403
from .figures import *  # noqa: F403
