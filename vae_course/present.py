"""Present: each notebook's explorers full-screen in Voila, with nothing else on the page.

    python -m vae_course.present [NN ...] [--port 8866]   # build what is missing, then serve on 127.0.0.1

For each solved notebook, `build` runs it once in a kernel that records how each explorer it shows
was made (its class and arguments: trained models, tables, summaries) and saves that with
torch.save into build/present/cache/ (`record`, `save`); it runs again only when the notebook or the
package changed. The page Voila serves (build/present/NN_*.ipynb) only loads that file and makes
the explorers again (`load`): no training, no exercises, no progress bars, no code; each explorer
shows its own one-line caption. Voila's template here is its `lab` template with Font Awesome
served from XStatic's copy instead of a CDN, and the server culls a kernel once its page has closed
(idle and without a connection for CULL_IDLE s).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from ._extras import need

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "build" / "present"
TEMPLATE = "vc-present"
CULL_IDLE, CULL_INTERVAL = 30, 10  # s: a kernel idle and without a page this long is shut down

_RECORDED: list = []  # (explorer, class, args, kwargs), in the order they were made
_SHOWN: list = []     # explorers displayed, in display order


def record() -> None:
    """In a kernel: remember how every explorer is made and which are displayed (for `save`)."""
    from .explorers import Explorer

    if getattr(Explorer, "_vc_recorded", False):
        return
    shown = Explorer._repr_mimebundle_

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        _RECORDED.append((obj, cls, args, kwargs))
        return obj

    def _repr_mimebundle_(self, **kwargs):
        if not any(e is self for e in _SHOWN):
            _SHOWN.append(self)
        return shown(self, **kwargs)

    Explorer.__new__ = staticmethod(__new__)
    Explorer._repr_mimebundle_ = _repr_mimebundle_
    Explorer._vc_recorded = True


def save(path) -> int:
    """In a kernel, after the notebook ran: save how each displayed explorer was made; return how many."""
    import torch

    made = {id(obj): (cls, args, kwargs) for obj, cls, args, kwargs in _RECORDED}
    recipes = [{"cls": made[id(e)][0], "args": made[id(e)][1], "kwargs": made[id(e)][2]} for e in _SHOWN]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(recipes, path)
    return len(recipes)


def load(path) -> list:
    """The explorers saved in `path`, made again (the notebook's plot style set first)."""
    import torch

    from .explorers import Explorer
    from .notebook import setup_notebook

    setup_notebook(seed=0, quiet=True)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python3 course.py present` to build it.")
    recipes = torch.load(path, weights_only=False)  # written by save() in this course's own build
    if not isinstance(recipes, list) or not all(isinstance(r, dict) and issubclass(r["cls"], Explorer)
                                                for r in recipes):
        raise ValueError(f"{path} does not hold explorers saved by vae_course.present.save.")
    return [r["cls"](*r["args"], **r["kwargs"]) for r in recipes]


# ---------------------------------------------------------------- building the pages


def _key(nb) -> str:
    """What a cache depends on: the notebook's code and the package's source."""
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(cell.source.encode())
    for path in sorted((ROOT / "vae_course").rglob("*.py")):
        if path.name not in {"present.py", "slides.py"}:  # the lecturer's tools make no explorer
            h.update(path.read_bytes())
    return h.hexdigest()


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


RECORD_CODE = "import vae_course.present\nvae_course.present.record()"  # run first, before the notebook's cells


def save_code(cache: Path) -> str:
    """The code run last, after the notebook's cells: save the recipes of its displayed explorers."""
    return f"vae_course.present.save({str(cache)!r})"


def cache_files(solved: Path, target: Path = TARGET) -> tuple[Path, Path]:
    """Where the explorers of a solved notebook are cached, and the file with the cache's key (`_key`).

    `build_page` fills them by running the notebook with RECORD_CODE first and save_code last; an nbval
    run of the solved notebooks may fill them on the way (vae_course/_nbval_audit.py), as the same code
    run in the same order, so that the pages are not built by running every notebook once more."""
    return target / "cache" / f"{Path(solved).stem}.pt", target / "cache" / f"{Path(solved).stem}.key"


def key_of(solved: Path) -> str:
    """The cache key of a solved notebook file, as `build_page` computes it."""
    nbformat = need("nbformat", "vae_course.present")
    return _key(nbformat.read(solved, as_version=4))


def build_page(solved: Path, target: Path = TARGET, quiet: bool = False) -> Path | None:
    """Cache the explorers of one solved notebook (if out of date) and write its Voila page.

    Returns the page, or None when the notebook shows no explorer."""
    nbformat = need("nbformat", "vae_course.present")
    from .exercises import execute

    nb = nbformat.read(solved, as_version=4)
    cache, key_file = cache_files(solved, target)
    key = _key(nb)
    if not (cache.exists() and key_file.exists() and key_file.read_text() == key):
        start = time.perf_counter()
        run = nbformat.from_dict(json.loads(json.dumps(nb)))
        run.cells.insert(0, nbformat.v4.new_code_cell(RECORD_CODE))
        run.cells.append(nbformat.v4.new_code_cell(save_code(cache)))
        execute(run, solved.parent)
        key_file.write_text(key)
        if not quiet:
            print(f"present: ran {solved.name} once to cache its explorers ({time.perf_counter() - start:.1f} s)",
                  flush=True)
    import torch

    n = len(torch.load(cache, weights_only=False))
    if n == 0:
        return None
    page = nbformat.v4.new_notebook()
    page.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}}
    page.cells = [nbformat.v4.new_markdown_cell(f"# {_title(nb, solved.stem)}"),
                  nbformat.v4.new_code_cell(f"import vae_course.present\nexplorers = "
                                            f"vae_course.present.load('cache/{solved.stem}.pt')")]
    page.cells += [nbformat.v4.new_code_cell(f"explorers[{k}]") for k in range(n)]
    out = target / f"{solved.stem}.ipynb"
    nbformat.write(page, out)
    return out


LAB_CSS = """{%- extends 'lab/index.html.j2' -%}
{#- Voila's lab template, with Font Awesome from this template's static/ folder instead of a CDN -#}
{%- block notebook_css -%}
  {%- set CDN = 'https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@^5/css/' -%}
  <style> body { padding: 0 2em; } </style>
  {{ super() | replace(CDN, resources.base_url ~ 'voila/templates/vc-present/static/fontawesome/css/') }}
{%- endblock notebook_css -%}
"""


def write_template(target: Path = TARGET) -> Path:
    """Voila's `vc-present` template under target/share/jupyter (put on JUPYTER_PATH when serving)."""
    fa = need("xstatic.pkg.font_awesome", "Presenting the explorers (Font Awesome)")
    folder = target / "share" / "jupyter" / "voila" / "templates" / TEMPLATE
    (folder / "static").mkdir(parents=True, exist_ok=True)
    (folder / "conf.json").write_text(json.dumps({"base_template": "lab"}))
    (folder / "index.html.j2").write_text(LAB_CSS)
    icons = folder / "static" / "fontawesome"
    if not icons.is_dir():
        shutil.copytree(Path(fa.BASE_DIR), icons)
    return folder


def voila_command(target: Path, port: int, python: str = sys.executable, cull_idle: int = CULL_IDLE,
                  cull_interval: int = CULL_INTERVAL) -> list[str]:
    """The Voila server: 127.0.0.1, our template, no code shown, kernels of closed pages culled."""
    return [python, "-m", "voila", str(target), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
            f"--template={TEMPLATE}", "--strip_sources=True", "--show_tracebacks=True",
            f"--MappingKernelManager.cull_idle_timeout={cull_idle}",
            f"--MappingKernelManager.cull_interval={cull_interval}",
            "--MappingKernelManager.cull_connected=False"]


def voila_env(target: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(target / "share" / "jupyter"), env.get("JUPYTER_PATH")]))
    return env


def build(names: list[str] | None = None, target: Path = TARGET) -> list[Path]:
    from .slides import _paths

    target.mkdir(parents=True, exist_ok=True)
    write_template(target)
    pages = [build_page(solved, target) for solved, _ in _paths(names)]
    return [p for p in pages if p is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae_course.present", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="part of a notebook's file name, e.g. 06 (default: all)")
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--build-only", action="store_true", help="build the pages and caches, do not serve")
    args = parser.parse_args(argv)
    need("voila", "Presenting the explorers")
    pages = build(args.names)
    if args.build_only:
        return 0
    base = f"http://127.0.0.1:{args.port}/voila/render/"
    print("present: " + "  ".join(base + p.name for p in pages) + "  (Ctrl-C stops)", flush=True)
    import subprocess

    try:
        return subprocess.call(voila_command(TARGET, args.port), env=voila_env(TARGET), cwd=TARGET)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
