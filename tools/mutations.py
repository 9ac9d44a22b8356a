#!/usr/bin/env python3
"""Mutations of the package that the unit tests must catch: each is applied to a temporary copy of the
repository, only the tests meant to catch it are run there, and one line per mutation says which test
caught it, or SURVIVED.

    .venv/bin/python tools/mutations.py           # every mutation; exit status 1 if one survives
    .venv/bin/python tools/mutations.py --list    # the mutations and the tests that should catch them
    .venv/bin/python tools/mutations.py b e       # only mutations b and e
    .venv/bin/python tools/mutations.py -j 1      # one at a time (default: two side by side)

Each mutation is (file, exact old snippet, new snippet). A snippet that is not found exactly once (the
code was renamed or reformatted) stops the script with a message naming the mutation to update. The
working tree is never changed: each mutation gets its own copy in a temporary directory, deleted afterwards.
Before any mutation, the selected tests run once on the unmutated copy and must pass, so that a
failure under a mutation means the mutation was caught.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", "build", "*.egg-info",
                                ".ipynb_checkpoints")
PYTEST = ["-m", "pytest", "-q", "-p", "no:nbval", "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=",
          "-rf", "--tb=line"]


@dataclass(frozen=True)
class Mutation:
    key: str
    what: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]  # pytest node ids (a test function runs all its parameters)


MUTATIONS = [
    Mutation(
        "a", "IWAE training step replaced by the one-sample ELBO",
        "vae_course/training.py",
        "                t = _iw_step_terms(model, batch, iw_samples, generator)\n",
        "                t = model.elbo_terms(batch, generator=generator)\n",
        ("tests/test_mutations_caught.py::test_an_iwae_training_step_is_the_importance_weighted_bound",),
    ),
    Mutation(
        "b", "random pairings replaced by the identity pairing",
        "vae_course/nb01/compute.py",
        "d[k, torch.randperm(d.shape[0], generator=generator)].mean()",
        "d[k, k].mean()",
        ("tests/test_mutations_caught.py::test_random_pairing_costs_are_costs_of_uniformly_random_permutations",),
    ),
    Mutation(
        "c", "the unvisited share set to a constant",
        "vae_course/nb04/compute.py",
        "    return (torch.cdist(z, visited).min(1).values > radius).double().mean().item()\n",
        "    return 0.5\n",
        ("tests/test_mutations_caught.py::test_unvisited_share_is_a_brute_force_count",
         "tests/test_mutations_caught.py::test_unvisited_share_on_a_hand_made_case",
         "tests/test_nb04_prior_match.py::test_unvisited_share"),  # this one already caught it
    ),
    Mutation(
        "c2", "the unvisited share of notebook 04's summary set to a constant",
        "vae_course/nb04/compute.py",
        "unvisited_share(z_ref, z, radius), kl, rec,",
        "0.5, kl, rec,",
        ("tests/test_mutations_caught.py::test_a_summary_reports_the_unvisited_share_of_its_own_draws",),
    ),
    Mutation(
        "c3", "the class gap of notebook 04's generations without its ½ (not a total variation distance)",
        "vae_course/nb04/compute.py",
        "gap = 0.5 * (class_shares - data_shares).abs().sum().item()",
        "gap = (class_shares - data_shares).abs().sum().item()",
        ("tests/test_nb04_prior_match.py::test_summarize_generations_counts_classes_by_the_nearest_training_digit",),
    ),
    Mutation(
        "d", "the β path explorer always reporting 0 active dimensions",
        "vae_course/nb04/explorers.py",
        "active dimensions {count_active_units(s.mu)}",
        "active dimensions {0}",
        ("tests/test_mutations_caught.py::test_beta_path_explorer_reports_the_active_dimensions_of_the_summary_shown",),
    ),
    Mutation(
        "e", "share_in_view of the pushforward summary set to a constant",
        "vae_course/nb01/compute.py",
        "    inside = ((samples >= edges[0]) & (samples <= edges[-1])).double().mean().item()\n",
        "    inside = 1.0\n",
        ("tests/test_mutations_caught.py::test_share_in_view_is_the_brute_force_share_inside_the_edges",),
    ),
    # Bugs that the tests repaired in issue 12 catch; before, their assertions could not fail.
    Mutation(
        "f", "the importance-weighted bound L_K subtracting log(K + 1) instead of log K",
        "vae_course/models.py",
        "    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])\n",
        "    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0] + 1)\n",
        ("tests/test_nb06_evaluation.py::test_elbo_is_below_log_p_and_the_iw_bound_rises_toward_it",),
    ),
    Mutation(
        "g", "the posterior explorer drawing digit 0 as the original, whichever digit is chosen",
        "vae_course/nb03/figures.py",
        "np.concatenate([as_numpy(t.x[k])[None], as_numpy(t.x_hat[k])])",
        "np.concatenate([as_numpy(t.x[0])[None], as_numpy(t.x_hat[k])])",
        ("tests/test_nb03_posterior.py::test_moving_the_slider_looks_up_the_row_and_redraws",),
    ),
    Mutation(
        "g2", "the posterior explorer's digit panel left out of the redraw, so the PNG keeps the first digit",
        "vae_course/nb03/figures.py",
        "BlitFigure(fig, [self.ellipse, self.draws, self.centre, self.img])",
        "BlitFigure(fig, [self.ellipse, self.draws, self.centre])",
        ("tests/test_nb03_posterior.py::test_moving_the_slider_looks_up_the_row_and_redraws",),
    ),
    # A checker bug found by the contract tests of issue 12, fixed in vae_course/checking.py.
    Mutation(
        "h", "the checkers accepting float16 results again (with float16's tolerance, 5% errors passed 1.1 and 5.2)",
        "vae_course/checking.py",
        "    if torch.finfo(out.dtype).eps > torch.finfo(torch.float32).eps:",
        "    if False:",
        ("tests/test_checks.py::test_a_result_of_the_wrong_dtype_is_named",),
    ),
    # The prior object of issue 12: everything that needs p(z) must ask the model for it.
    Mutation(
        "i", "quadrature of log p(x) with N(0, I) written out instead of the model's prior",
        "vae_course/nb06/compute.py",
        "    log_prior = model.prior.log_prob(z)\n",
        "    log_prior = -0.5 * (z**2).sum(-1) - z.shape[-1] * 0.5 * math.log(2 * math.pi)\n",
        ("tests/test_probability.py::test_evaluation_uses_the_models_prior",),
    ),
    Mutation(
        "j", "the importance weights with N(0, I) written out instead of the model's prior",
        "vae_course/models.py",
        "    log_prior = model.prior.log_prob(z)\n",
        "    log_prior = probability.standard_normal_log_prob(z).sum(-1)\n",
        ("tests/test_probability.py::test_evaluation_uses_the_models_prior",),
    ),
    Mutation(
        "k", "the ELBO's KL in closed form against N(0, I) whatever the prior",
        "vae_course/models.py",
        "        kl = probability.kl_term(self.prior, z, mu, log_var)\n",
        "        kl = probability.gaussian_kl(mu, log_var)\n",
        ("tests/test_probability.py::test_the_elbos_kl_is_measured_against_the_models_prior",),
    ),
    # Notebook 05 (issue 15's reader): the step's pathwise dots fell off the ∂/∂μ axis; the chain rule into the encoder.
    Mutation(
        "n5a", "the explorer's estimate axes set by the exact gradient alone (the step's pathwise 0 off the axis)",
        "vae_course/nb05/compute.py",
        "    lo = torch.minimum(exact - half, expected.min(0).values - 0.15 * half)\n",
        "    lo = exact - half\n",
        ("tests/test_nb05_explorer.py::test_the_step_pathwise_estimates_lie_on_the_estimate_axes",),
    ),
    Mutation(
        "n5b", "the chain rule into the encoder with dz/dsigma = 1 instead of eps",
        "vae_course/nb05/compute.py",
        "    dz_dphi = 1.0 * dmu_dphi + eps[..., None] * dsigma_dphi\n",
        "    dz_dphi = dmu_dphi + dsigma_dphi\n",
        ("tests/test_nb05_gradients.py::test_the_chain_rule_into_the_encoder_is_autograd_and_finite_differences_on_a_tiny_encoder",),
    ),
    Mutation(
        "n5c", "the encoder's Jacobian of log sigma² in place of sigma's",
        "vae_course/nb05/compute.py",
        "    return jacobian(mu), jacobian(sigma)\n",
        "    return jacobian(mu), jacobian(log_var)\n",
        ("tests/test_nb05_gradients.py::test_the_chain_rule_into_the_encoder_is_autograd_and_finite_differences_on_a_tiny_encoder",),
    ),
    # A check cell run after its exercise cell failed must not test the definition left over from before.
    Mutation(
        "s1", "the checkers testing a stale definition when the exercise cell's last run stopped early",
        "vae_course/checking.py",
        "        return _stale(fn, names, reference)\n",
        "        return None\n",
        ("tests/test_checks_ipython.py::test_a_failed_exercise_cell_is_named_in_an_ipython_shell",),
    ),
    Mutation(
        "s2", "a later error inside a function of the exercise cell taken for the cell's own run failing",
        "vae_course/checking.py",
        '        if code.co_name == "<module>" and entry',
        "        if entry",
        ("tests/test_checks_ipython.py::test_a_failed_exercise_cell_is_named_in_an_ipython_shell",),
    ),
    # An answer right only where the checks compare numbers, or only at the checker's fixed inputs.
    Mutation(
        "s3", "the results of shape and property checks never compared with the reference's",
        "vae_course/checking.py",
        "    for k, (args, out) in enumerate(answer.calls):\n",
        "    for k, (args, out) in [c for c in enumerate(answer.calls) if c[0] == unseen]:\n",
        ("tests/test_checks.py::test_an_answer_wrong_at_any_one_call_fails",),
    ),
    Mutation(
        "s4", "the checkers calling the answer at their fixed inputs only",
        "vae_course/checking.py",
        "                unseen = _call_at_unseen_inputs(answer) if self.every_call else None\n",
        "                unseen = None\n",
        ("tests/test_checks.py::test_an_answer_that_recognises_the_checkers_inputs_fails",),
    ),
]


def fail(message: str) -> None:
    sys.exit(f"tools/mutations.py: {message}")


def check_snippets(mutations: list[Mutation]) -> None:
    """Every old snippet occurs exactly once in the working tree's file, else stop and say which mutation to update."""
    for m in mutations:
        path = ROOT / m.file
        if not path.exists():
            fail(f"mutation {m.key} ({m.what}): {m.file} does not exist. The code moved: update mutation {m.key} "
                 f"in tools/mutations.py.")
        count = path.read_text(encoding="utf-8").count(m.old)
        if count != 1:
            found = "was not found" if count == 0 else f"occurs {count} times"
            fail(f"mutation {m.key} ({m.what}): its snippet {m.old.strip()!r} {found} in {m.file}. The code was "
                 f"renamed or reformatted: update mutation {m.key} (its file, old and new snippets) in "
                 f"tools/mutations.py.")
        for node in m.tests:
            test_file = ROOT / node.split("::")[0]
            name = node.split("::")[1].split("[")[0]
            if not test_file.exists() or f"def {name}(" not in test_file.read_text(encoding="utf-8"):
                fail(f"mutation {m.key} ({m.what}): its test {node} does not exist; update mutation {m.key} in "
                     f"tools/mutations.py.")


def pytest(copy: Path, nodes: list[str]) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, *PYTEST, *nodes], check=False, cwd=copy, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def failed_tests(output: str) -> list[str]:
    """The failed tests from pytest's '-rf' summary ('FAILED tests/x.py::test_y[param] - message'), one entry per
    test function, with the number of its failed parameter cases when it has several."""
    nodes = [m.group(1) for m in re.finditer(r"^FAILED (\S+)", output, re.MULTILINE)]
    functions = list(dict.fromkeys(node.split("[")[0] for node in nodes))
    counts = {f: sum(node.split("[")[0] == f for node in nodes) for f in functions}
    return [f if counts[f] == 1 else f"{f} ({counts[f]} cases)" for f in functions]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", help="only these mutations (a, b, ...)")
    parser.add_argument("--list", action="store_true", help="list the mutations and their tests, run nothing")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="mutations tested side by side (default 2)")
    args = parser.parse_args(argv)
    known = {m.key: m for m in MUTATIONS}
    unknown = [k for k in args.keys if k not in known]
    if unknown:
        fail(f"no mutation named {', '.join(unknown)}; there are {', '.join(known)}.")
    chosen = [known[k] for k in args.keys] or MUTATIONS
    check_snippets(chosen)
    if args.list:
        for m in chosen:
            print(f"{m.key}. {m.what}\n   {m.file}: {m.old.strip()!r} → {m.new.strip()!r}")
            for node in m.tests:
                print(f"   to be caught by {node}")
        return 0

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vae-course-mutations-") as tmp:
        def fresh_copy(name: str) -> Path:
            copy = Path(tmp) / name
            shutil.copytree(ROOT, copy, ignore=IGNORE)
            return copy

        clean = fresh_copy("unmutated")
        where = subprocess.run([sys.executable, "-c", "import vae_course; print(vae_course.__file__)"], check=False,
                               cwd=clean, capture_output=True, text=True).stdout.strip()
        if not where.startswith(str(clean)):
            fail(f"`import vae_course` in the copy imports {where or 'nothing'}, not the copy; mutations would "
                 f"not be seen.")
        code, out = pytest(clean, sorted({node for m in chosen for node in m.tests}))
        if code != 0:
            print(out)
            fail("the selected tests fail on the unmutated code (above); fix them before judging mutations.")

        def judge(m: Mutation) -> tuple[bool, str]:
            copy = fresh_copy(f"mutation-{m.key}")  # one copy per mutation: the jobs run side by side
            path = copy / m.file
            path.write_text(path.read_text(encoding="utf-8").replace(m.old, m.new, 1), encoding="utf-8")
            code, out = pytest(copy, list(m.tests))
            caught = failed_tests(out)
            if code == 0:
                return False, f"{m.key}. {m.what}: SURVIVED ({', '.join(m.tests)} passed)"
            if not caught:  # a collection or import error also stops the mutant, but no test caught it
                return False, f"{m.key}. {m.what}: SURVIVED (pytest exited {code} without a failing test):\n{out}"
            return True, f"{m.key}. {m.what}: caught by {', '.join(caught)}"

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(judge, chosen))  # printed in the table's order
    for _, line in results:
        print(line)
    survived = sum(not ok for ok, _ in results)
    print(f"{len(chosen) - survived} of {len(chosen)} mutations caught in {time.monotonic() - start:.0f} s")
    return 1 if survived else 0

if __name__ == "__main__":
    sys.exit(main())
