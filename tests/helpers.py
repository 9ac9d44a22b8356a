"""Helpers shared by the tests, imported as `from helpers import pixels`.

tests/ has no __init__.py, so pytest's default import mode ("prepend") puts tests/ on sys.path before it
imports conftest.py and the test modules, in every xdist worker as in a plain run. Fixtures live in
conftest.py; plain functions that tests call at module level or inside helpers live here.
"""

import io

import matplotlib.image as mpimg
import numpy as np


def pixels(png: bytes) -> np.ndarray:
    """A PNG (bytes or a widget's memoryview) as an (H, W, 4) float array in [0, 1]."""
    return mpimg.imread(io.BytesIO(bytes(png)), format="png")
