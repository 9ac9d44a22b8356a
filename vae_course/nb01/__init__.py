"""Notebook 01, Generation is a change of distribution: what the notebook uses, as `vc.nb01.<name>`.

- `compute.py`: Pushforwards g(Z) of a simple source and their densities by change of variables, and
  the ways to compare generated samples with data (pairings, marginals, nearest neighbours).
- `figures.py`: Notebook 01's figures: a histogram against its density, the generation flow z → x̂
  beside x, the costs of random pairings, the pushforward explorer's picture, a grid warped by a
  2-D map.
- `explorers.py`: Notebook 01's explorer: choose a source and a map g, move a and b, match a target.
- `checks.py`: Checkers of notebook 01: Exercise 1.1 (exponential inverse CDF), 1.2 (affine
  pushforward density), 1.3 (the log-normal density by change of variables).
"""

from .checks import *  # noqa: F403
from .compute import *  # noqa: F403
from .explorers import *  # noqa: F403
from .figures import *  # noqa: F403
