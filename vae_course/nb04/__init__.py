"""Notebook 04, The autoencoder limit and the pull toward N(0, I): what the notebook uses, as
`vc.nb04.<name>`.

- `compute.py`: The autoencoder limit and the pull toward the prior: the KL by Monte Carlo and per
  dimension, active units, the aggregate posterior, MMD to the prior, the unvisited share and its
  radius, one model's summary, a path of models over β.
- `figures.py`: Notebook 04's figures: the KL landscape, the aggregate posterior over the prior's
  circles, models as generators on shared axes, mean σ and the ELBO's terms per β, the KL per
  latent dimension, the explorer's picture.
- `explorers.py`: Notebook 04's explorer: move β from the autoencoder to the collapse onto the prior.
- `checks.py`: Checkers of notebook 04: Exercise 4.1 (the KL to N(0, I) in closed form).
"""

from .checks import *  # noqa: F403
from .compute import *  # noqa: F403
from .explorers import *  # noqa: F403
from .figures import *  # noqa: F403
