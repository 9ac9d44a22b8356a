"""Notebook 05, The reparameterization trick: what the notebook uses, as `vc.nb05.<name>`.

- `compute.py`: Gradient estimators of E[f(z)], z ~ N(μ, σ²): pathwise (the reparameterization
  trick) and score function, exact gradients and quadrature to check them, their variance, central
  differences.
- `figures.py`: Notebook 05's figures: the reparameterization explorer's four panels, the
  estimators' sd against n, one eps moved by different (μ, σ).
- `explorers.py`: Notebook 05's explorer: move μ and σ, pick f and n; watch samples and gradients.
- `checks.py`: Checkers of notebook 05: Exercise 5.1 (reparameterize, the checks of 3.1), 5.2 (the
  score-function gradient estimator).
"""

from .checks import *  # noqa: F403
from .compute import *  # noqa: F403
from .explorers import *  # noqa: F403
from .figures import *  # noqa: F403
