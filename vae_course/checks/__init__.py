"""Exercise checkers, one module per notebook; `vc.checks.exercise_N_M(fn)` in a check cell.

Each checker runs a few checks on fixed inputs, prints one line (✓ passed / … not attempted /
✗ what differs) and returns the learner's function if it passed, else the reference. The learner's
code runs on copies of the inputs, within a time limit (`exercise_N_M(fn, time_limit=5.0)`), and
nothing it raises (SystemExit included) stops the notebook; KeyboardInterrupt still interrupts.
The machinery is in `_core`, each notebook's inputs and table of known mistakes in `nbNN`.
"""

from ._core import CheckFailed, Exercise, matches, returns_tensor
from .nb01 import exercise_1_1, exercise_1_2
from .nb02 import exercise_2_1
from .nb03 import exercise_3_1, exercise_3_2
from .nb04 import exercise_4_1
from .nb05 import exercise_5_1, exercise_5_2
from .nb06 import exercise_6_1

__all__ = ["CheckFailed", "Exercise", "matches", "returns_tensor", "exercise_1_1", "exercise_1_2",
           "exercise_2_1", "exercise_3_1", "exercise_3_2", "exercise_4_1", "exercise_5_1",
           "exercise_5_2", "exercise_6_1"]
