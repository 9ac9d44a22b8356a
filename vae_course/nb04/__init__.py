"""Notebook 04: The autoencoder limit and the pull toward N(0, I). TODO
"""

from .checks import *  # noqa: F403
from .compute import *  # noqa: F403
from .explorers import *  # noqa: F403
from .figures import *  # noqa: F403
