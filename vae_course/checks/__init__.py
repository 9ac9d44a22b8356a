"""Exercise checkers, one module per notebook; `vc.checks.exercise_N_M(fn)` in a check cell.

Each checker runs a few checks on fixed inputs, prints one line (✓ passed / … not attempted /
✗ what differs) and returns the learner's function if it passed, else the reference.
"""

from ._core import CheckFailed, Exercise, matches, returns_tensor
from .nb01 import exercise_1_1, exercise_1_2
from .nb06 import exercise_6_1

__all__ = ["CheckFailed", "Exercise", "matches", "returns_tensor", "exercise_1_1", "exercise_1_2",
           "exercise_6_1"]
