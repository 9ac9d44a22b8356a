"""vae_course: the helper package of the VAE teaching notebooks.

    import vae_course as vc
    gen = vc.setup_notebook(seed=0)
    vc.nb05.ReparamExplorer()        # what notebook 05 uses lives in vae_course/nb05/

The tree is the course. `nbNN/` holds what notebook NN adds, in up to four files, one layer each:
`compute.py` (tensors in, tensors out), `figures.py` (draw data they are given), `explorers.py`
(wire ipywidgets controls to compute and figures) and `checks.py` (the exercise checkers, which use
compute only). What several notebooks share sits at the top, in the same layers: `probability`
(log-densities, the KL, likelihoods, priors), `data`, `models`, `training`, `figures`, `explorers`,
`checking`; `notebook` sets a notebook up; `exercises` and `grade` are the tools that make learner
copies and check them. A notebook package is imported on first use (`vc.nb05`), so notebook 07
is new files only.
"""

import importlib
import re

from . import autoregressive, data, figures, models, probability, training
from .notebook import claim, setup_notebook

__version__ = "0.1.0"
__all__ = ["autoregressive", "data", "figures", "models", "probability", "training", "claim", "setup_notebook"]

_NOTEBOOK = re.compile(r"nb\d\d")


def __getattr__(name: str):
    """`vc.nb05` imports vae_course/nb05/ the first time it is asked for."""
    if _NOTEBOOK.fullmatch(name):
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"vae_course has no notebook package {name!r} (vae_course/{name}/).") from None
    raise AttributeError(f"module 'vae_course' has no attribute {name!r}")


def __dir__():
    from pathlib import Path

    here = Path(__file__).parent
    return sorted(set(globals()) | {p.name for p in here.glob("nb[0-9][0-9]") if (p / "__init__.py").exists()})
