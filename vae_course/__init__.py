"""vae_course: the helper package of the VAE teaching notebooks.

    import vae_course as vc
    gen = vc.setup_notebook(seed=0)

Modules, one job each: `data` (digits and toys), `distributions` (densities and maps),
`compare` (comparing samples), `losses` (ELBO terms), `evaluation` (importance-sampled log p(x), baselines), `models`, `training`, `plotting`, `widgets` (explorers), `checks` (exercise
checkers), `exercises` (learner copies and grading).
"""

from . import checks, compare, data, distributions, evaluation, losses, models, plotting, training, widgets
from .notebook import setup_notebook

__version__ = "0.1.0"
__all__ = ["checks", "compare", "data", "distributions", "evaluation", "losses", "models", "plotting", "training", "widgets",
           "setup_notebook"]
