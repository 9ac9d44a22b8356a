"""The layers of vae_course are one-way: compute → figures → explorers; checkers use compute only.

Read from the source (AST), without importing it:

- compute (`nbNN/compute.py`, and `probability`, `data`, `models`, `training`, `autoregressive` at the top) imports
  no matplotlib, ipywidgets or PIL and no figures, explorers, checks or checking module.
- figures (`nbNN/figures.py`, `figures.py`) draw the data they are given: at run time they import
  no torch, no ipywidgets and no vae_course module but the shared `figures` (a compute type may be
  imported under `if TYPE_CHECKING:` for annotations); they use no random numbers (np.random,
  torch.randn, a Generator, a seed) and call no model method (`.encode(`, `.decode(`, `.log_prob(`, …).
- explorers (`nbNN/explorers.py`, `explorers.py`) wire controls to compute and figures and compute
  nothing: no numpy, matplotlib or PIL; of torch only `torch.tensor(...)` (a control's value as a
  tensor), `torch.Generator` and `torch.no_grad` and dtypes; no tensor-maths or model methods
  (`.sum(`, `.norm(`, `.exp(`, `.decode_mean(`, `.savefig(`, …); no `**` or `@`, and no arithmetic on
  an indexed value (`codes[a] * t`). Readout formatting (`f"{100 * share:.0f}%"`) is fine.
- checks (`nbNN/checks.py`) import from vae_course only compute modules, `checking`, `_validate`
  and other notebooks' checks (shared lists of mistakes); never figures, explorers, a notebook
  package (`vae_course.nbNN`, which would import them all), matplotlib or ipywidgets.
- shared top-level modules never import a notebook package (`vae_course.nbNN`).

`violations(root)` returns every breach under a package directory, so the rules can be tried on
another copy of the tree (e.g. an older commit): `python tests/test_layers.py path/to/vae_course`.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "vae_course"
PKG = "vae_course"
NOTEBOOK = re.compile(r"nb\d\d")
NOTEBOOK_FILES = {"__init__", "compute", "figures", "explorers", "checks"}

SHARED_COMPUTE = {"probability", "data", "models", "training", "autoregressive"}
UI = ("matplotlib", "ipywidgets", "PIL")

MODEL_METHODS = {"encode", "decode", "decode_mean", "reconstruct", "sample_means", "elbo_terms", "log_likelihood",
                 "log_prob", "sample", "mean_image", "forward"}
RANDOM_NAMES = {"random", "randn", "rand", "randint", "randperm", "randn_like", "rand_like", "multinomial",
                "default_rng", "Generator", "manual_seed", "seed", "normal_", "uniform_"}
TENSOR_MATHS = {"sum", "mean", "std", "var", "norm", "exp", "log", "sqrt", "abs", "pow", "square", "matmul", "mm",
                "dot", "max", "min", "argmax", "argmin", "cumsum", "prod", "softmax", "log_softmax", "sigmoid",
                "clamp", "clip", "round", "logsumexp", "histogram", "quantile", "median", "diff", "cdist",
                "linspace", "randn", "rand", "savefig"}
EXPLORER_TORCH = {"tensor", "Generator", "no_grad", "float32", "float64", "Tensor"}


def layer(path: Path, root: Path) -> str:
    """compute, figures, explorers, checks, checking, package (an nbNN/__init__) or shared (another top module)."""
    rel = path.relative_to(root)
    if len(rel.parts) == 2 and NOTEBOOK.fullmatch(rel.parts[0]):
        return "package" if rel.stem == "__init__" else rel.stem
    if rel.stem in SHARED_COMPUTE:
        return "compute"
    return rel.stem if rel.stem in ("figures", "explorers", "checking") else "shared"


def module_layer(name: str) -> str:
    """The layer of an imported vae_course module by its dotted name."""
    parts = name.split(".")[1:]
    if not parts:
        return "package"
    if NOTEBOOK.fullmatch(parts[0]):
        return "package" if len(parts) == 1 else parts[1]
    if parts[0] in SHARED_COMPUTE:
        return "compute"
    return parts[0] if parts[0] in ("figures", "explorers", "checking", "_validate") else "shared"


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` blocks (imports there are for annotations only)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(id(n) for n in ast.walk(child))
    return skip


def imports(path: Path, root: Path, tree: ast.AST) -> list[tuple[int, str]]:
    """(line, absolute module name) of every run-time import in the file, relative ones resolved;
    `from pkg import mod` names the module pkg.mod when it is a file of the tree."""
    skip = _type_checking_nodes(tree)
    rel = path.relative_to(root).with_suffix("")
    package = [PKG, *rel.parts[:-1]]
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                as_file = root.joinpath(*sub.split(".")[1:])
                is_module = sub.startswith(PKG + ".") and (as_file.with_suffix(".py").exists() or as_file.is_dir())
                out.append((node.lineno, sub if is_module else module))
    return out


def _is_vc(name: str) -> bool:
    return name == PKG or name.startswith(PKG + ".")


def _top(name: str) -> str:
    return name.split(".")[0]


def _module_names(path: Path, root: Path, tree: ast.AST) -> set[str]:
    """The names bound to vae_course modules in the file (`from . import compute` binds compute)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if isinstance(node, ast.Import) and _is_vc(alias.name):
                    names.add(bound)
                elif isinstance(node, ast.ImportFrom) and node.level:
                    rel = path.relative_to(root).parent
                    base = root.joinpath(*rel.parts[:len(rel.parts) - node.level + 1])
                    target = base.joinpath(*(node.module or "").split("."), alias.name)
                    if target.with_suffix(".py").exists() or target.is_dir():
                        names.add(bound)
    return names


def _method_call(node: ast.AST, modules: set[str]) -> str | None:
    """The method name of a call `obj.name(...)`, unless obj is a module of the package (`compute.sample(...)`
    calls a compute function: that is wiring)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    if isinstance(node.func.value, ast.Name) and node.func.value.id in modules:
        return None
    return node.func.attr


def _in_fstring(tree: ast.AST) -> set[int]:
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside.update(id(n) for n in ast.walk(node))
    return inside


def file_violations(path: Path, root: Path = ROOT) -> list[str]:
    kind = layer(path, root)
    top_level = path.parent == root
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = _module_names(path, root, tree)
    where = path.relative_to(root.parent).as_posix()
    out = []

    def bad(line: int, why: str) -> None:
        out.append(f"{where}:{line}: {kind}: {why}")

    for line, name in imports(path, root, tree):
        other = module_layer(name) if _is_vc(name) else None
        if kind != "package" and _is_vc(name) and other == "package" and name != PKG:
            bad(line, f"imports the notebook package {name} (and with it every layer of that notebook)")
        if kind == "compute":
            if _top(name) in UI:
                bad(line, f"imports {name}: compute returns tensors, it draws nothing")
            elif other not in (None, "compute", "_validate"):
                bad(line, f"imports {name} ({other}): compute uses only compute")
        elif kind == "figures":
            if _top(name) in ("torch", "ipywidgets"):
                bad(line, f"imports {name}: a figure draws the arrays it is given")
            elif other is not None and name != f"{PKG}.figures":
                bad(line, f"imports {name} at run time: a figure draws the data it is given "
                          f"(import a type under `if TYPE_CHECKING:`)")
        elif kind == "explorers":
            if _top(name) in ("numpy", "matplotlib", "PIL"):
                bad(line, f"imports {name}: explorers wire controls to compute and figures")
            elif _top(name) == "torch" and name != "torch":
                bad(line, f"imports {name}: explorers do no tensor maths")
            elif other in ("checks", "checking"):
                bad(line, f"imports {name}: explorers do not use the checkers")
        elif kind in ("checks", "checking"):
            if _top(name) in UI:
                bad(line, f"imports {name}: checkers use compute only")
            elif other not in (None, "compute", "checking", "checks", "_validate"):
                bad(line, f"imports {name} ({other}): checkers use compute only")
        if top_level and _is_vc(name) and NOTEBOOK.fullmatch(name.split(".")[1] if "." in name else ""):
            bad(line, f"a shared top-level module imports {name} from a notebook package")

    if kind == "figures":
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in RANDOM_NAMES:
                bad(node.lineno, f"uses .{node.attr}: a figure draws no random numbers (compute them, from a fixed generator)")
            elif isinstance(node, ast.Name) and node.id in RANDOM_NAMES - {"random"}:
                bad(node.lineno, f"uses {node.id}: a figure draws no random numbers")
            elif _method_call(node, modules) in MODEL_METHODS:
                bad(node.lineno, f"calls .{node.func.attr}(: a figure calls no model (compute does)")
    if kind == "explorers":
        formatted = _in_fstring(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "torch":
                names = {a.name for a in node.names} - EXPLORER_TORCH
                if names:
                    bad(node.lineno, f"imports {sorted(names)} from torch: explorers do no tensor maths")
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch"
                    and node.attr not in EXPLORER_TORCH):
                bad(node.lineno, f"uses torch.{node.attr}: explorers do no tensor maths "
                                 f"(only torch.tensor, torch.Generator, torch.no_grad, dtypes)")
            elif _method_call(node, modules | {"torch"}) in TENSOR_MATHS | MODEL_METHODS:  # torch.x: above
                bad(node.lineno, f"calls .{node.func.attr}(: explorers compute nothing themselves (call compute)")
            elif isinstance(node, ast.BinOp) and id(node) not in formatted:
                if isinstance(node.op, (ast.Pow, ast.MatMult)):
                    bad(node.lineno, f"computes {ast.unparse(node)}: explorers do no maths")
                elif (isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div))
                      and any(isinstance(side, ast.Subscript) for side in (node.left, node.right))):
                    bad(node.lineno, f"computes {ast.unparse(node)}: explorers do no arithmetic on data")
    return out


def layered_files(root: Path = ROOT) -> list[Path]:
    top = [p for p in sorted(root.glob("*.py"))]
    notebooks = [p for d in sorted(root.glob("nb[0-9][0-9]")) for p in sorted(d.glob("*.py"))]
    return top + notebooks


def violations(root: Path = ROOT) -> list[str]:
    return [v for path in layered_files(root) for v in file_violations(path, root)]


@pytest.mark.parametrize("path", layered_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_layers_point_one_way(path):
    found = file_violations(path)
    assert not found, "\n".join(found)


def test_a_notebook_package_holds_only_the_four_layers():
    for folder in sorted(ROOT.glob("nb[0-9][0-9]")):
        stems = {p.stem for p in folder.glob("*.py")}
        assert "__init__" in stems and stems <= NOTEBOOK_FILES, (folder.name, sorted(stems - NOTEBOOK_FILES))


def test_every_layer_is_checked():
    kinds = {layer(p, ROOT) for p in layered_files()}
    assert {"compute", "figures", "explorers", "checks", "checking", "shared", "package"} <= kinds
    names = {p.relative_to(ROOT).as_posix() for p in layered_files()}
    assert {"nb05/figures.py", "nb06/explorers.py", "nb03/checks.py", "probability.py", "models.py"} <= names


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / PKG
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("rel, code, expect", [
    ("nb07/figures.py", "from .compute import objective\n", "imports vae_course.nb07.compute at run time"),
    ("nb07/figures.py", "import numpy as np\njitter = np.random.default_rng(0).uniform(-1, 1, 3)\n", "uses .random"),
    ("nb07/figures.py", "import torch\n", "imports torch"),
    ("nb07/figures.py", "def draw(model, z):\n    return model.decode(z)\n", "calls .decode("),
    ("nb07/explorers.py", "import torch\nsigma = torch.exp(0.5 * 1.0)\n", "uses torch.exp"),
    ("nb07/explorers.py", "def f(codes, a, t):\n    return (1 - t) * codes[a]\n", "arithmetic on data"),
    ("nb07/explorers.py", "def f(z):\n    return (z ** 2).sum()\n", "computes z ** 2"),
    ("nb07/explorers.py", "def f(model, x):\n    return model.encode(x)\n", "calls .encode("),
    ("nb07/explorers.py", "def f(fig, buf):\n    fig.savefig(buf)\n", "calls .savefig("),
    ("nb07/explorers.py", "import matplotlib.pyplot as plt\n", "imports matplotlib.pyplot"),
    ("nb07/compute.py", "from .figures import draw\n", "compute uses only compute"),
    ("nb07/compute.py", "import ipywidgets\n", "imports ipywidgets"),
    ("nb07/checks.py", "from .explorers import Explorer\n", "checkers use compute only"),
    ("nb07/checks.py", "from .. import nb05\n", "imports the notebook package vae_course.nb05"),
    ("models.py", "from .nb05 import compute\n", "a shared top-level module imports vae_course.nb05.compute"),
    ("notebook.py", "from . import nb05\n", "a shared top-level module imports vae_course.nb05"),
])
def test_the_rules_catch_each_kind_of_crossing(tmp_path, rel, code, expect):
    root = _write(tmp_path, {rel: code, "nb07/__init__.py": "", "nb05/__init__.py": "", "nb05/compute.py": "",
                             "nb07/compute.py": code if rel == "nb07/compute.py" else ""})
    found = file_violations(root / rel, root)
    assert any(expect in v for v in found), found


@pytest.mark.parametrize("rel, code", [
    ("nb07/figures.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .compute import Summary\n"),
    ("nb07/figures.py", "from ..figures import BlitFigure, as_numpy\n"),
    ("nb07/explorers.py", ("import torch\nfrom . import compute\n"
                           "def f(v):\n    z = torch.tensor([v['a']], dtype=torch.float64)\n"
                           "    g = torch.Generator().manual_seed(0)\n    return compute.run(z, g)\n")),
    ("nb07/explorers.py", "def f(s, n):\n    return f'{100 * s.share[0]:.0f}% of {n - 1}', len(n) - 1\n"),
    ("nb07/checks.py", "from .. import probability\nfrom ..checking import Exercise\nfrom . import compute\n"),
])
def test_the_rules_allow_the_wiring(tmp_path, rel, code):
    root = _write(tmp_path, {rel: code, "nb07/__init__.py": "", "nb07/compute.py": "", "probability.py": "",
                             "checking.py": "", "figures.py": ""})
    assert file_violations(root / rel, root) == []


# ---------------------------------------------------------------- the same for explorers, at run time

READS = {"__getitem__", "__format__", "__len__", "__iter__", "tolist", "item", "__int__", "__float__", "__index__",
         "__bool__", "tensor", "__get__", "_set_grad_enabled", "size", "dim"}


def test_explorers_do_no_tensor_maths_at_run_time():
    """Every torch function called straight from an explorers.py frame while explorers are built and
    moved is a read (indexing, formatting, len, tolist, item, shape) or torch.tensor: the maths runs in
    compute.py. Catches what the AST cannot see, such as `(1 - t) * codes[a]` on a name."""
    import os

    import torch
    from torch.overrides import TorchFunctionMode

    from vae_course import data, models, nb00, nb01, nb02, nb03, nb04, nb05, nb06

    torch_dir, pkg_dir = os.path.dirname(torch.__file__), str(ROOT)

    class Calls(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.seen = set()

        def __torch_function__(self, func, types, args=(), kwargs=None):
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_filename.startswith(torch_dir):
                frame = frame.f_back
            name = getattr(func, "__name__", repr(func))
            where = frame.f_code.co_filename if frame is not None else ""
            if where.startswith(pkg_dir) and where.endswith("explorers.py") and name not in READS:
                self.seen.add(f"{Path(where).relative_to(ROOT.parent).as_posix()}:{frame.f_lineno}: torch {name}")
            return func(*args, **(kwargs or {}))

    torch.manual_seed(0)
    model = models.VAE(2, 16).eval()
    test = data.load_digits("test")
    x, labels = test.x[:20], test.labels[:20]
    table = nb03.posterior_table(model, x, labels, n_draws=3, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(0)
    summaries = [nb04.summarize_model(name, m, x, labels, x[:4], torch.randn(4, 2, generator=gen),
                                      torch.randn(1, 20, 2, generator=gen), torch.randn(20, 2, generator=gen), beta=b)
                 for name, m, b in (("autoencoder", models.Autoencoder(hidden=8), 0.0), ("β = 1", models.VAE(hidden=8), 1.0))]
    builds = [(lambda: nb00.InstallationCheck(n=200), "sigma", 0.5),
              (lambda: nb01.PushforwardExplorer(n=200), "a", 0.5),
              (lambda: nb02.LatentExplorer(k=20, repeats=5), "x1", -1.0),
              (lambda: nb03.PosteriorExplorer(table), "show", "samples"),
              (lambda: nb04.BetaPathExplorer(summaries), "model", "β = 1"),
              (lambda: nb05.ReparamExplorer(repeats=5), "mu", 1.5),
              (lambda: nb06.InterpolationExplorer(model, x, a=0, b=5), "t", 0.3),
              (lambda: nb06.LatentGridExplorer(model, n=4), "z1", 1.5)]
    calls = Calls()
    with calls:
        for build, control, value in builds:
            explorer = build()
            explorer.controls[control].value = value
            assert explorer.updates == 2, explorer.readout.value
    assert not calls.seen, "\n".join(sorted(calls.seen))


if __name__ == "__main__":
    found = violations(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)
    print("\n".join(found) or "no crossings")
    sys.exit(1 if found else 0)
