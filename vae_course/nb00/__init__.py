"""Notebook 00: Start here. TODO
"""

from .explorers import *  # noqa: F403
