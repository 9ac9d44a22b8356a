"""The checker machinery: test a learner's function against the package's reference.

Each `exercise_N_M(fn)` runs a few checks on fixed inputs (its own generator), prints one line,
and returns the function the notebook should go on with: the learner's when every check passes,
otherwise the reference, so that "Restart and Run All" still reaches the end.

    ✓ Exercise 1.1 passed (4 checks)
    … Exercise 1.1 not attempted yet: ...
    ✗ Exercise 1.1: <what differs, in words>

The rules every check follows, so that a verdict is never a misdiagnosis:
- under IPython it first makes sure the function is what the exercise cell last defined: when a cell
  defining that name ran later and stopped (a syntax error, an error before its `def`), the old
  definition is not checked, and the verdict names the error (`stale_definition`);
- it computes its expected values (and its table of known mistakes) before it calls the learner;
- it calls the learner's function through `Answer`, which hands it copies of the inputs, says so
  when the function changes an input in place, and tells the stub's own
  `NotImplementedError("Exercise N.M")` apart from any error an attempt raises;
- after its checks, every result it received is compared with the reference's at the same inputs (a
  check that looks only at a shape or a property cannot let wrong numbers through), and the answer is
  called once more at inputs moved afresh on every run, so that it cannot recognise the fixed ones;
- the whole run has a time limit, and `SystemExit` is reported like any other error;
- an error in the checker's own code is reported as the checker's fault, not the learner's.

Under nbgrader (`nbgrader autograde`, or `nbgrader validate` and its Validate button) a check that
does not pass also *raises* `ExerciseNotPassed` after its verdict, so that nbgrader scores the check
cell 0; the learner's name is still bound to the reference first, so the rest of the notebook runs
as in Jupyter. How such a run is recognised: nbgrader sets the environment variable
NBGRADER_EXECUTION to "autograde" (or "validate") in its own process around the execution of a
notebook, and the kernel it starts inherits that process's environment. Outside those runs (a
learner's Jupyter, nbval, the course's build and `vae-course-check`) the variable is unset.
"""

from __future__ import annotations

import contextlib
import inspect
import linecache
import math
import os
import re
import signal
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

FALLBACK = "  The rest of the notebook uses the reference solution until this check passes."  # kept for callers; see fallback_line


def fallback_line(function: str) -> str:
    """The line under every verdict but "passed": which function the cells below run on instead of the learner's."""
    return f"  The rest of the notebook uses the course's reference `{function}`, not yours, until yours passes."


def learner_name(fn, function: str, names: dict | None = None) -> str:
    """The name under which the learner wrote `fn`, else the exercise's `function`.

    That is `fn.__name__` when the cell's namespace `names` binds that name to `fn` (a `def not_yet(x):`
    checked as `exercise_0_1(not_yet)`); a lambda, a helper function or a name rebound since gets `function`.
    """
    name = getattr(fn, "__name__", "")
    if isinstance(name, str) and name.isidentifier() and (names or {}).get(name) is fn:
        return name
    return function


TIME_LIMIT = 15.0  # wall-clock seconds for all calls of one checker run together: an endless loop is
# stopped, while a correct answer on a slow or busy laptop (the checks take about a second of CPU at most) is not


_STUB = re.compile(r"Exercise \d+\.\d+")


_TORCH_DIR = os.path.dirname(torch.__file__)

NBGRADER_MODES = ("autograde", "validate")  # the values nbgrader gives NBGRADER_EXECUTION while it runs a notebook


def nbgrader_mode() -> str | None:
    """'autograde' or 'validate' while nbgrader executes the notebook, else None (Jupyter, nbval, the build)."""
    mode = os.environ.get("NBGRADER_EXECUTION", "").strip()
    return mode if mode in NBGRADER_MODES else None


class ExerciseNotPassed(Exception):
    """Raised by a check under nbgrader when the exercise does not pass, so that its check cell scores 0."""


class CheckFailed(Exception):
    """A check found a difference; the message says what, in plain words."""


class _NotAttempted(Exception):
    """The learner's function raised the stub's own NotImplementedError("Exercise N.M")."""


class _AnswerRaised(Exception):
    """The learner's code raised `error` (any Exception, or SystemExit)."""

    def __init__(self, error: BaseException):
        super().__init__(error)
        self.error = error


class _TimeUp(BaseException):
    """The time limit ran out (BaseException, so that a learner's `except Exception` does not hide it)."""


class Answer:
    """The learner's function as the checks call it.

    `answer(*args)` calls it on clones of the tensor arguments (a clone of a tensor that requires
    grad stays connected to it, so gradients reach the checker's own leaf), checks that no input
    was changed in place, and wraps every error of the learner's code.
    """

    def __init__(self, fn: Callable, function: str, params: list[str], clock: "_Clock"):
        self.fn, self.function, self.params, self.clock = fn, function, params, clock
        self.calls: list[tuple[tuple, object]] = []  # (the checker's arguments, the answer's result) of every call

    def run(self, f: Callable, *args, **kwargs):
        """Run learner code `f` (the function, or autograd calling its backward) under the time limit."""
        try:
            return self.clock.run(f, *args, **kwargs)
        except (_TimeUp, KeyboardInterrupt):
            raise
        except NotImplementedError as err:
            if f is self.fn and (_STUB.fullmatch(str(err).strip()) or _bare_stub(err, f)):
                raise _NotAttempted(str(err).strip()) from None
            raise _AnswerRaised(err) from None
        except BaseException as err:  # SystemExit too: the notebook must go on
            raise _AnswerRaised(err) from None

    def __call__(self, *args):
        copies = [a.clone() if isinstance(a, Tensor) else a for a in args]
        versions = [c._version if isinstance(c, Tensor) else None for c in copies]
        out = self.run(self.fn, *copies)
        self.calls.append((args, out))
        for i, (a, c, v) in enumerate(zip(args, copies, versions)):
            if isinstance(c, Tensor) and (c._version != v or not _same(a, c)):
                name = self.params[i] if i < len(self.params) else f"argument {i + 1}"
                raise CheckFailed(
                    f"`{self.function}` changes its input `{name}` in place (an operation such as "
                    f"`{name} *= …`, `{name} -= …`, `{name}[…] = …` or a method ending in `_` like "
                    f"`{name}.pow_(2)`). The caller still needs `{name}` afterwards, and autograd may need it "
                    f"for the gradient: compute a new tensor instead (`y = {name} * …`).")
        return out

    def tensor(self, *args, shape=None) -> Tensor:
        """Call with `args`; fail unless the result is a floating tensor without NaN (of `shape`, when given)."""
        return returns_tensor(self(*args), self.function, args, self.params, shape)

    def draws_noise(self, *args, shape=None) -> tuple[Tensor, bool]:
        """`tensor(*args)`, and whether the call drew from torch's global random generator.

        The generator starts from a fixed seed of the checker's and is put back afterwards, so the
        check neither depends on nor changes the learner's random state.
        """
        saved = torch.random.get_rng_state()
        try:
            torch.manual_seed(0x5EED1357)
            marker = torch.random.get_rng_state()
            out = self.tensor(*args, shape=shape)
            return out, not torch.equal(marker, torch.random.get_rng_state())
        finally:
            torch.random.set_rng_state(saved)

    def gradients(self, out: Tensor, wrt: dict[str, Tensor], why: str) -> dict[str, Tensor]:
        """d out.sum() / d each tensor of `wrt` (leaves that require grad), or CheckFailed naming the missing ones."""
        names = ", ".join(f"`{n}`" for n in wrt)
        if not out.requires_grad:
            raise CheckFailed(
                f"no gradient reaches {names}: your result is not connected to them through autograd (computed "
                f"under torch.no_grad(), cut off with .detach(), turned into numbers with .item(), .tolist() or "
                f"NumPy, or rebuilt with torch.tensor(...)). {why}")
        grads = self.run(torch.autograd.grad, out.sum(), list(wrt.values()), allow_unused=True)
        missing = [n for n, g in zip(wrt, grads) if g is None]
        if missing:
            raise CheckFailed(f"no gradient reaches {', '.join(f'`{n}`' for n in missing)}: your result does not "
                              f"depend on {'it' if len(missing) == 1 else 'them'} through autograd. {why}")
        return dict(zip(wrt, grads))


def _bare_stub(err: NotImplementedError, fn: Callable) -> bool:
    """`raise NotImplementedError()` (no message) in the body of `fn` itself: nbgrader's stub of an answer."""
    if str(err).strip():
        return False
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code is getattr(fn, "__code__", None)


def _same(a: Tensor, b: Tensor) -> bool:
    a, b = a.detach(), b.detach()
    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(torch.nan_to_num(a), torch.nan_to_num(b))


class _Clock:
    """One time budget for a whole checker run.

    In the main thread of a Unix process (the Jupyter kernel) a SIGALRM timer interrupts the
    learner's code when the budget is spent. Elsewhere (Windows, another thread) each call runs
    in a helper thread that is abandoned when the budget is spent: the check stops waiting, but
    Python cannot stop that thread, so it finishes in the background.
    """

    def __init__(self, limit: float):
        self.limit, self.start = limit, time.monotonic()
        self.signals = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def __enter__(self):
        self.expired = False
        if self.signals:
            def alarm(signum, frame):
                self.expired = True
                raise _TimeUp()
            self._old_handler = signal.signal(signal.SIGALRM, alarm)
            # repeat every 50 ms after the limit, in case the learner's code catches the first one
            self._old_timer = signal.setitimer(signal.ITIMER_REAL, self.limit, 0.05)
        return self

    def __exit__(self, *exc):
        if self.signals:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_handler)
            delay, interval = self._old_timer
            if delay > 0:  # somebody else's timer (pytest-timeout, say) was running: re-arm what is left
                signal.setitimer(signal.ITIMER_REAL, max(delay - self.elapsed(), 1e-3), interval)
        return False

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def run(self, f: Callable, *args, **kwargs):
        if self.signals:
            out = f(*args, **kwargs)
            if self.expired:  # the learner's code caught the alarm and went on
                raise _TimeUp()
            return out
        left = self.limit - self.elapsed()
        if left <= 0:
            raise _TimeUp()
        box: dict = {}

        def target():
            try:
                box["out"] = f(*args, **kwargs)
            except BaseException as err:  # handed to the checking thread below
                box["err"] = err
        worker = threading.Thread(target=target, daemon=True)
        worker.start()
        worker.join(left)
        if worker.is_alive():
            raise _TimeUp()
        if "err" in box:
            raise box["err"]
        return box["out"]


def _describe_error(err: BaseException) -> str:
    """`NotImplementedError: … (inside torch: distributions/gamma.py, in icdf; your line: `…`)`."""
    if isinstance(err, SystemExit):
        return (f"called sys.exit() or exit() (SystemExit: {err.code!r}). A function should return its result; "
                f"the checker caught the exit so that the notebook goes on")
    frames = traceback.extract_tb(err.__traceback__)
    text = f"raised {type(err).__name__}" + (f": {err}" if str(err) else " (with no message)")
    inside = [f for f in frames if f.filename.startswith(_TORCH_DIR)]
    mine = [f for f in frames if not f.filename.startswith(_TORCH_DIR)
            and os.sep + "vae_course" + os.sep not in f.filename]
    where = []
    if inside and frames[-1].filename.startswith(_TORCH_DIR):
        last = inside[-1]
        where.append(f"inside torch: {os.path.relpath(last.filename, _TORCH_DIR)}, in {last.name}")
    if mine:
        line = (mine[-1].line or linecache.getline(mine[-1].filename, mine[-1].lineno)).strip()
        if line:
            where.append(f"your line: `{line}`")
    hint = _MATH_ON_TENSOR if _is_math_on_tensor(err, frames) else ""
    return text + (f" ({'; '.join(where)})" if where else "") + hint


_MATH_ON_TENSOR = (". Python's `math` functions (math.log, math.exp, math.sqrt …) take one number; on a tensor "
                   "use torch's (torch.log, torch.exp, torch.sqrt …), which work on every entry")


def _is_math_on_tensor(err: BaseException, frames) -> bool:
    """The error a `math` function raises when it is given a tensor of more than one number."""
    if not isinstance(err, (TypeError, ValueError)) or "converted to Python scalars" not in str(err):
        return False
    line = next((f.line or "" for f in reversed(frames) if os.sep + "vae_course" + os.sep not in f.filename), "")
    return "math." in line


# ---------------------------------------------------------------- a definition older than the exercise cell's last run
#
# When the exercise cell fails (a syntax error, or an error raised before its `def` line runs), the
# function's name still holds the previous definition (the stub, an earlier attempt, or the reference
# a check put in place). IPython keeps every cell it ran in its history (`In`), and the source of the
# cell a function was defined in (linecache); from these a check can tell that a cell defining the
# name ran after the function it was given, and why that run stopped. Outside IPython there is no
# history and nothing is reported.


def _shell():
    """The running IPython shell (a Jupyter kernel, nbval's or nbgrader's kernel), else None."""
    ipython = sys.modules.get("IPython")  # not imported: no shell is running, and importing it costs seconds
    try:
        return ipython.get_ipython() if ipython is not None else None
    except Exception:  # noqa: BLE001  an odd IPython: behave as outside it
        return None


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.splitlines()).strip()


def _defined_in(fn, parsed: list[str]) -> int | None:
    """The index in IPython's history of the last cell whose source is the one `fn` was compiled from."""
    code = getattr(inspect.unwrap(fn), "__code__", None) if callable(fn) else None
    entry = linecache.cache.get(code.co_filename) if code is not None else None
    if not entry or len(entry) < 3:
        return None
    source = _normal("".join(entry[2]))
    return next((k for k in range(len(parsed) - 1, 0, -1) if _normal(parsed[k]) == source), None)


def _why_stopped(shell, k: int, parsed: str) -> str | None:
    """Why history cell `k` (source `parsed`) stopped before its `def`, or None when it is not known to have failed."""
    try:
        compile(parsed, f"<cell {k}>", "exec")
    except SyntaxError as err:
        text = (err.text or "").strip()
        return (f"{type(err).__name__} at line {err.lineno}: {err.msg}" + (f", in `{text}`" if text else ""))
    except Exception:  # noqa: BLE001  (ValueError for a null byte, say): IPython's own compile decides below
        pass
    error = getattr(sys, "last_value", None)
    tb = getattr(error, "__traceback__", None)
    line = None
    while tb is not None:  # cell k's own top-level code in the traceback of the last error IPython showed
        code = tb.tb_frame.f_code  # (not a function defined in cell k and called later from another cell)
        entry = linecache.cache.get(code.co_filename)
        if code.co_name == "<module>" and entry and len(entry) >= 3 and _normal("".join(entry[2])) == _normal(parsed):
            line = tb.tb_lineno
            break
        tb = tb.tb_next
    recorded = getattr(getattr(shell, "history_manager", None), "exceptions", None)  # IPython ≥ 9 keeps each cell's
    recorded = recorded.get(k) if isinstance(recorded, dict) else None
    if line is not None:
        return f"{type(error).__name__} at line {line}" + (f": {error}" if str(error) else "")
    if recorded:
        return f"{recorded.get('ename', 'an error')}" + (f": {recorded['evalue']}" if recorded.get("evalue") else "")
    return None


def stale_definition(fn, names: list[str], reference: bool) -> str | None:
    """Why `fn` is not what the learner's exercise cell last defined, or None when it is (or nobody can tell).

    Under IPython: a cell that defines one of `names` (`def name(` at the start of a line) ran after the
    cell `fn` comes from (for the course's `reference`, at any time), and that run failed: a syntax
    error, or an error before its `def` line. The text names the error and its line.
    """
    try:
        return _stale(fn, names, reference)
    except Exception:  # noqa: BLE001  an IPython whose history looks different: report nothing rather than fail
        return None


def _stale(fn, names: list[str], reference: bool) -> str | None:
    shell = _shell()
    history = getattr(shell, "history_manager", None)
    parsed, raw = getattr(history, "input_hist_parsed", None), getattr(history, "input_hist_raw", None)
    if not parsed or not raw or len(parsed) != len(raw):
        return None
    since = 0 if reference else _defined_in(fn, parsed)
    if since is None:
        return None
    defines = re.compile(r"^(?:async[ \t]+)?def[ \t]+(?:" + "|".join(map(re.escape, names)) + r")[ \t]*\(", re.M)
    later = [k for k in range(since + 1, len(raw)) if defines.search(raw[k] or "")]
    if not later:
        return None
    return _why_stopped(shell, later[-1], parsed[later[-1]])


@dataclass
class Exercise:
    """An exercise: its number, the learner's function name, the reference and the checks.

    Every check is called as check(answer) with an `Answer` wrapping the learner's function.
    """

    number: str
    function: str
    reference: Callable
    checks: list[Callable[[Answer], None]]
    time_limit: float = TIME_LIMIT
    every_call: bool = True  # after the checks, compare the result of every call with the reference's

    def __post_init__(self):
        # Mark the reference, so that re-running a check cell after a fallback is recognised
        # (the cell `fn = vc.checks.exercise_N_M(fn)` has replaced the learner's function by it).
        marks = getattr(self.reference, "__vc_reference_for__", set())
        marks.add(self.number)
        self.reference.__vc_reference_for__ = marks
        self.params = list(inspect.signature(self.reference).parameters)

    def __call__(self, fn, *, time_limit: float | None = None) -> Callable:
        """Run every check on `fn`, print one verdict, return `fn` if all pass, else the reference.

        A KeyboardInterrupt (the learner pressing "interrupt") is not caught: it stops the cell and
        "Run All", as the learner asked. Everything else the answer does ends in a printed verdict.
        Under nbgrader (`nbgrader_mode()`) a verdict other than "passed" is followed by
        `ExerciseNotPassed`, after the caller's name for the function has been bound to the reference.
        """
        mode = nbgrader_mode()
        names = sys._getframe(1).f_globals  # the notebook's namespace, when a check cell calls this
        with warnings.catch_warnings(record=True) if mode else contextlib.nullcontext() as caught:
            verdict, keep = self._verdict(fn, time_limit, mode, names)
        print(verdict)
        # nbgrader scores a check cell 0 when it writes to stderr, as warnings do: show them on stdout
        for text in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught or ()):
            print(f"  (a warning while checking: {text})")
        if keep:
            return fn
        if mode:
            self._fall_back_and_raise(fn, names, mode)
        return self.reference

    def _verdict(self, fn, time_limit: float | None, mode: str | None, names: dict | None = None) -> tuple[str, bool]:
        """The line to print, and whether the notebook goes on with `fn` (else with the reference)."""
        head, fallback = f"Exercise {self.number}", fallback_line(self.function)
        is_reference = self.number in getattr(fn, "__vc_reference_for__", ())
        name = self.function if is_reference else learner_name(fn, self.function, names)
        stopped = stale_definition(fn, list(dict.fromkeys([self.function, name])), is_reference)
        if stopped:
            held = ("still the course's reference (an earlier run of this check put it in place), not your code"
                    if is_reference else "still your previous definition, and this check does not test it")
            return (f"✗ {head}: your exercise cell did not run to the end ({stopped}); fix it and run it "
                    f"again, then this cell. Until then `{name}` is {held}.\n{fallback}"), False
        if is_reference:
            if mode:  # a fresh top-to-bottom run: the answer cell handed over the package's reference itself
                return (f"✗ {head}: `{self.function}` is the course's reference solution itself, not a function "
                        f"written in the exercise cell.\n{fallback}"), False
            return (f"… {head}: `{self.function}` is still the reference solution that an earlier run of this "
                    f"check put in place.\n  Run your exercise cell above again (it defines your `{self.function}`), "
                    f"then this cell."), True
        if not callable(fn):
            return f"✗ {head}: expected the function `{self.function}`, got {type(fn).__name__}.\n{fallback}", False
        limit = self.time_limit if time_limit is None else time_limit
        clock = _Clock(limit)
        answer = Answer(fn, name, self.params, clock)
        try:
            with clock:
                for check in self.checks:
                    check(answer)
                unseen = _call_at_unseen_inputs(answer) if self.every_call else None
            if self.every_call:  # the reference's own computations, outside the answer's time limit
                _every_call_matches(answer, self.reference, unseen)
        except _NotAttempted as stub:
            said = "" if str(stub) in ("", head) else f"({str(stub)!r})"
            return (f"… {head} not attempted yet: `{name}` still raises NotImplementedError{said}.\n"
                    f"  Replace the `raise NotImplementedError` line with your code, run that cell, then this one.\n"
                    f"{fallback}"), False
        except CheckFailed as failure:
            return f"✗ {head}: {failure}\n{fallback}", False
        except _AnswerRaised as raised:
            return f"✗ {head}: `{name}` {_describe_error(raised.error)}.\n{fallback}", False
        except _TimeUp:
            return (f"✗ {head}: `{name}` took longer than {limit:g} s in total and was stopped (an endless "
                    f"loop, time.sleep, or far more work than needed?). The checks take milliseconds with a "
                    f"direct formula.\n{fallback}"), False
        except KeyboardInterrupt:
            raise
        except Exception as err:  # noqa: BLE001  the checker's own code failed
            return (f"✗ {head}: the checker itself failed ({type(err).__name__}: {err}). This is a fault of the "
                    f"checker, not of your answer; please report it.\n{fallback}"), False
        return f"✓ {head} passed ({len(self.checks)} checks)", True

    def _fall_back_and_raise(self, fn, names: dict, mode: str):
        """Bind the caller's name for `fn` (the check cell's `name = check(name)`) to the reference, then raise."""
        __tracebackhide__ = True  # IPython leaves this frame out of the traceback it shows
        if names.get(self.function) is fn:
            names[self.function] = self.reference
        raise ExerciseNotPassed(
            f"Exercise {self.number} is not passed (the line above says why), so under nbgrader ({mode}) this "
            f"check cell fails and scores 0 points. The cells after it use the reference solution.") from None


def _described_call(params: list[str], args: tuple) -> str:
    """'u of shape (2, 3), rate = 1': the arguments of one call, for a message."""
    parts = []
    for name, a in zip(params, args):
        if isinstance(a, Tensor):
            parts.append(f"{name} of shape {shape_text(a.shape)}" + in_dtype(a.dtype) if a.is_floating_point()
                         else f"{name} of shape {shape_text(a.shape)}")
        else:
            parts.append(f"{name} = {a!r}" if not isinstance(a, float) else f"{name} = {a:g}")
    return ", ".join(parts)


def _every_call_matches(answer: Answer, reference: Callable, unseen: int | None = None) -> None:
    """Fail unless every result the checks received matches the reference's on the same arguments.

    Some checks look at a result's shape or at a property (an area of 1, monotonicity, which pixel an
    output can see) without comparing its numbers; an answer must not be right only at the inputs whose
    numbers are compared. Results the checks accepted in another form (a (1,) tensor for a number, say)
    are compared in the reference's shape.
    """
    for k, (args, out) in enumerate(answer.calls):
        try:
            _matches_reference(answer, reference, args, out)
        except CheckFailed as failure:
            if k != unseen:
                raise
            how = "each number moved by less than 0.1%" + (", integers shuffled" if any(
                isinstance(a, Tensor) and not a.is_floating_point() and a.numel() > 1 for a in args) else "")
            raise CheckFailed(f"at inputs like those of the first check but not the same ({how}), your result is "
                              f"wrong: {failure} An answer must compute its result from its inputs; it cannot "
                              f"recognise the checker's inputs.") from None


def _matches_reference(answer: Answer, reference: Callable, args: tuple, out) -> None:
    """Fail unless `out` (one call's result, a tensor or a tuple of them) matches the reference's at `args`."""
    with torch.no_grad():
        expected = reference(*args)
    pairs = list(zip(out, expected)) if isinstance(expected, tuple) and isinstance(out, tuple) else [(out, expected)]
    floats = [a.dtype for a in args if isinstance(a, Tensor) and a.is_floating_point()]
    dtype = min(floats, key=lambda d: torch.finfo(d).bits) if floats else torch.float64
    for got, exp in pairs:
        if isinstance(got, Tensor) and isinstance(exp, Tensor) and got.numel() == exp.numel():
            matches(got.detach().reshape(exp.shape), exp, _described_call(answer.params, args), dtype=dtype)


def _call_at_unseen_inputs(answer: Answer) -> int | None:
    """Call the answer once more, at inputs it has not seen: the first call's, each float moved by < 0.1% and the
    entries of each integer tensor shuffled; return the index of that call in `answer.calls` (None: no call).

    The moves are drawn afresh on every run, so an answer that recognises the checker's fixed inputs (a table
    of the expected numbers) cannot pass; an answer that computes its result passes whatever they are.
    """
    if not answer.calls:
        return None
    gen = torch.Generator().manual_seed(int.from_bytes(os.urandom(4), "little"))

    def moved(a):
        if not isinstance(a, Tensor) or a.numel() < 2 and not a.is_floating_point():
            return a
        if a.is_floating_point():
            return a.detach() * (1 + 1e-3 * torch.rand(a.shape, generator=gen, dtype=torch.float64)).to(a.dtype)
        return a.flatten()[torch.randperm(a.numel(), generator=gen)].reshape(a.shape)  # integers (levels, degrees): shuffled
    answer(*(moved(a) for a in answer.calls[0][0]))
    return len(answer.calls) - 1


def in_dtype(dtype: torch.dtype) -> str:
    """' in float32' for inputs that are not float64 (the default of the checks), else ''."""
    return "" if dtype == torch.float64 else f" in {str(dtype).replace('torch.', '')}"


def shape_text(shape) -> str:
    """(4, 5, 3) for a 3-D shape, (5,) for 1-D, () for a number."""
    return str(tuple(shape))


def _fmt(values) -> str:
    return "[" + ", ".join(f"{x:.6g}" for x in values) + "]"


def _window(t: Tensor, i: int, width: int = 6) -> tuple[int, list[float]]:
    flat = t.flatten()
    start = max(0, min(i - width // 2, flat.numel() - width))
    return start, flat[start:start + width].tolist()


def _index(shape, i: int) -> str:
    if len(shape) <= 1:
        return f"index {i}"
    # by hand: torch.unravel_index imports sympy on first use, seconds on a slow machine, and a time limit
    # that fires during that import leaves a half-imported sympy behind for the rest of the session
    index = []
    for size in reversed(tuple(shape)):
        i, k = divmod(i, int(size))
        index.append(k)
    return "index " + str(tuple(reversed(index)))


def returns_tensor(out, function: str, args=(), params=(), shape=None) -> Tensor:
    """Fail unless `out` is a floating tensor without NaN (of `shape`, when given)."""
    if not isinstance(out, Tensor):
        raise CheckFailed(f"`{function}` returned {type(out).__name__}; it should return a torch.Tensor.")
    if not (out.is_floating_point()):
        raise CheckFailed(f"`{function}` returned a tensor of dtype {out.dtype}; it should return floating-point "
                          f"numbers (the dtype of its inputs).")
    if torch.finfo(out.dtype).eps > torch.finfo(torch.float32).eps:  # float16's tolerance would let 5% errors pass
        raise CheckFailed(f"`{function}` returned a tensor of dtype {out.dtype}, which keeps too few digits to be "
                          f"checked; compute in the dtype of the inputs (float64 or float32).")
    if shape is not None and tuple(out.shape) != tuple(shape):
        given = ", ".join(f"{n} of shape {shape_text(a.shape)}" for n, a in zip(params, args) if isinstance(a, Tensor))
        raise CheckFailed(f"`{function}` returned shape {shape_text(out.shape)} for {given}; "
                          f"it should return shape {shape_text(shape)}.")
    if torch.isnan(out).any():
        i = int(torch.isnan(out.detach()).flatten().nonzero()[0])
        raise CheckFailed(f"`{function}` returned NaN at {_index(out.shape, i)} (a log or square root of a negative "
                          f"number, or 0/0?).")
    return out


def tolerance(*dtypes: torch.dtype) -> float:
    """Relative tolerance for results computed in the least precise of `dtypes`."""
    eps = max(torch.finfo(d).eps for d in dtypes if d.is_floating_point)
    return max(1e-6, 400 * eps)  # float64: 1e-6, float32: 4.8e-5, float16: 0.4


def close(got: Tensor, expected: Tensor, rtol: float) -> bool:
    """|got − expected| ≤ rtol·(|expected| + max|expected|/100 + 1e-6), compared in float64."""
    got, expected = got.detach().double(), expected.detach().double()
    if got.shape != expected.shape:
        return False
    scale = expected.abs().max().item() if expected.numel() else 0.0
    bound = rtol * (expected.abs() + 0.01 * scale + 1e-6)
    return bool(((got - expected).abs() <= bound).all())  # NaN or inf anywhere compares False


def _entry(shape, i: int) -> str:
    """`result[12]`, `result[1, 0]`: entry i of a flattened result, as Python indexes the result itself."""
    return "result[" + _index(shape, i).removeprefix("index ").strip("()").rstrip(",") + "]"


def matches(got: Tensor, expected: Tensor, what: str, mistakes: dict[str, Tensor] | None = None,
            inputs: dict[str, Tensor] | None = None, dtype: torch.dtype = torch.float64) -> None:
    """Fail unless got ≈ expected; name a known mistake when `got` matches one of `mistakes`.

    The tolerance follows the least precise of `dtype` (the inputs') and got's dtype. `what` names
    the other arguments ("a = 2, b = 1"). `inputs` (name → tensor with as many entries as got, for
    an elementwise function) lets the message say at which input the values differ and show the
    inputs beside the values; without it the message names the entry as `result[i, j]`.
    Expected values and mistakes must be computed before the learner's code ran.
    """
    rtol = tolerance(dtype, got.dtype)
    if close(got, expected, rtol):
        return
    got_d, exp_d = got.detach().double(), expected.detach().double()
    diff = (got_d - exp_d).abs().nan_to_num(math.inf).flatten()
    i = int(diff.argmax())
    n = got_d.numel()
    shown = {name: t.detach().double() for name, t in (inputs or {}).items() if t.numel() == n}
    start, mine = _window(got_d, i)
    _, right = _window(exp_d, i)
    width = max([len("expected")] + [len(name) for name in shown]) + 2
    rows = [f"{name + ':':<{width}}{_fmt(_window(t, i)[1])}" for name, t in shown.items()]
    rows += [f"{'yours:':<{width}}{_fmt(mine)}", f"{'expected:':<{width}}{_fmt(right)}"]
    span = "" if n <= 6 else (f"  ({len(mine)} of the {n} entries, around the largest difference"
                              + ("" if shown else f": result.flatten()[{start}:{start + len(mine)}]") + ")")
    numbers = "".join(f"\n  {row}" for row in rows) + (f"\n{span}" if span else "")
    for explanation, wrong in (mistakes or {}).items():
        if close(got, wrong, rtol):
            raise CheckFailed(f"for {what} your values match {explanation}{numbers}")
    value, wanted = f"{got_d.flatten()[i]:.6g}", f"{exp_d.flatten()[i]:.6g}"
    if shown:
        at = ", ".join(f"{name} = {t.flatten()[i]:.6g}" for name, t in shown.items())
        line = f"at {at} you return {value}, expected {wanted}."
    elif n == 1:
        line = f"you return {value}, expected {wanted}."
    else:
        line = f"your {_entry(got.shape, i)} is {value}, expected {wanted}."
    raise CheckFailed(f"for {what} the values differ: {line}{numbers}")


def leaf(t: Tensor) -> Tensor:
    """A fresh leaf copy of `t` that requires grad (the checker's own; the learner gets clones of it)."""
    return t.detach().clone().requires_grad_(True)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def same_gradients(answer: Answer, reference: Callable, args: tuple, wrt: tuple[str, ...], why: str,
                   shape=None, dtype: torch.dtype = torch.float64) -> None:
    """Fail unless the answer's result carries the reference's gradient to every input named in `wrt`.

    Both are called on the same inputs, those in `wrt` as leaves that require grad; the gradients
    of the sum of the result are compared. The reference's gradients are computed first.
    """
    def leaves():
        return [leaf(a) if n in wrt else a for n, a in zip(answer.params, args)]
    ref_args = leaves()
    ref_out = reference(*ref_args)
    expected = torch.autograd.grad(ref_out.sum(), [a for n, a in zip(answer.params, ref_args) if n in wrt])
    my_args = leaves()
    out = answer.tensor(*my_args, shape=ref_out.shape if shape is None else shape)
    grads = answer.gradients(out, {n: a for n, a in zip(answer.params, my_args) if n in wrt}, why)
    for name, exp in zip(grads, expected):
        matches(grads[name], exp, f"the gradient of your result (summed) with respect to `{name}`", dtype=dtype)
