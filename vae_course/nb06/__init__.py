"""Notebook 06, Training a VAE: what the notebook uses, as `vc.nb06.<name>`.

- `compute.py`: Honest numbers for a trained VAE: −log p(x) by importance sampling and (for 1–2
  latents) by quadrature, the pixel baselines, the grid of codes the latent-grid figure decodes.
- `figures.py`: Notebook 06's figures: the loss terms per epoch, the estimates against K beside the
  baselines, the interpolation and latent-grid explorers' pictures.
- `explorers.py`: Notebook 06's explorers: interpolate between two digits' codes; move through a 2-D
  latent space.
- `checks.py`: Checkers of notebook 06: Exercise 6.1 (the VAE loss, −ELBO, for categorical pixels).
"""

from .checks import *  # noqa: F403
from .compute import *  # noqa: F403
from .explorers import *  # noqa: F403
from .figures import *  # noqa: F403
