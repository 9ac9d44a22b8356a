"""vae_course: the helper package of the VAE teaching notebooks.

    import vae_course as vc
    gen = vc.setup_notebook(seed=0)

Modules, one job each: `checks` (exercise checkers), `compare` (comparing samples, 01), `data`
(digits and toys), `distributions` (densities and maps, 01), `evaluation` (importance sampling and
baselines, 06), `gradients` (gradient estimators, 05), `latent` (the latent variable toy, 02),
`losses` (ELBO terms), `models` (generators and the VAE), `plotting` (figures), `posterior` (per-
sample posteriors, 03), `prior_match` (autoencoder limit, aggregate posterior, collapse, 04),
`training` (training and evaluation), `widgets` (explorers); and the tools `exercises` (learner
copies) and `grade` (checking notebooks).
"""

from . import checks, compare, data, distributions, evaluation, gradients, latent, losses, models, plotting, posterior, prior_match, training, widgets
from .notebook import claim, setup_notebook

__version__ = "0.1.0"
__all__ = ["checks", "compare", "data", "distributions", "evaluation", "gradients", "latent", "losses",
           "models", "plotting", "posterior", "prior_match", "training", "widgets",
           "claim", "setup_notebook"]
