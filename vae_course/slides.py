"""Slides: which cells of a notebook are slides, and a reveal.js deck per notebook that works offline.

    python -m vae_course.slides mark           # write each cell's slideshow metadata (both copies)
    python -m vae_course.slides build [NN ...] # decks in build/slides/, then serve them on 127.0.0.1

Which cell is a slide, a fragment or skipped follows rules (`slide_type`), so that a rewritten
notebook is marked again by running `mark`; a tag `slide:TYPE` on a cell overrides them:

- a markdown cell that starts with a `#` or `##` heading starts a slide; `### Exercise ...` is
  skipped; any other `###` heading starts a subslide (a slide below, in reveal.js);
- the setup cell (`setup_notebook(`), exercise and check cells (tags `exercise:N.M`, `check:N.M`)
  and code cells that show nothing (no output, or only progress bars and warnings) are skipped;
- a code cell that shows an explorer or a figure gets a subslide of its own, or is a fragment (it
  appears on the next key press) when the markdown before it asks to predict first;
- any other cell continues the slide before it (`-`).

A deck shows the outputs without the code. Inside a markdown cell, each further `##` or `###`
heading starts a slide or subslide of its own in the deck. Each explorer is shown as its own frames:
the pictures and readouts it draws at a few positions of one of its sliders (`frames`), stepped
through with a slider (or the arrow keys once the slider has focus) without a kernel. Every script
and font comes from Python packages installed with the course's `slides` extra (reveal.js from
sphinx-revealjs, MathJax 2 from jupyter-server-mathjax, require.js and jQuery from XStatic), copied
beside the decks: nothing is fetched when the deck is shown.
"""

from __future__ import annotations

import argparse
import base64
import copy
import html
import json
import re
import shutil
import sys
import time
from pathlib import Path

from ._extras import need

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
TAG = "slide:"  # a tag slide:TYPE overrides the rules for its cell
FRAMES_MIME = "application/vnd.vae-course.frames+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
EXPLORER_TEXT = "an interactive widget; run this cell"  # the text/plain of an explorer's output
# The slider whose positions become an explorer's frames, where the first slider is not the telling one.
FRAME_CONTROL = {"InterpolationExplorer": "t"}
N_FRAMES = 9
_HEADING = re.compile(r"^(#{1,6})\s+(.*)")


# ---------------------------------------------------------------- the rules


def _first_line(source: str) -> str:
    return next((line.strip() for line in source.splitlines() if line.strip()), "")


def heading_type(line: str) -> str | None:
    """The slide type a markdown heading line starts, or None if the line is no heading."""
    m = _HEADING.match(line.strip())
    if not m:
        return None
    level, text = len(m.group(1)), m.group(2)
    if level <= 2:
        return "slide"
    if level == 3 and text.lower().startswith("exercise"):
        return "skip"
    return "subslide" if level == 3 else None


def _override(cell, index: int) -> str | None:
    found = [t[len(TAG):] for t in cell.get("metadata", {}).get("tags", []) if t.startswith(TAG)]
    if not found:
        return None
    if len(found) > 1 or found[0] not in SLIDE_TYPES:
        raise ValueError(f"cell {index}: tags {[TAG + f for f in found]}; a cell takes one tag slide:TYPE "
                         f"with TYPE one of {', '.join(SLIDE_TYPES)}.")
    return found[0]


def _is_explorer(output) -> bool:
    return WIDGET_MIME in output.get("data", {}) and EXPLORER_TEXT in "".join(output["data"].get("text/plain", ""))


def shown_outputs(cell) -> list:
    """The outputs a deck shows: no progress bars (widgets that are not explorers), no stderr."""
    kept = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream" and out["name"] == "stderr":
            continue
        if WIDGET_MIME in out.get("data", {}) and not _is_explorer(out):
            continue
        kept.append(out)
    return kept


def _code_type(cell, previous_markdown: str) -> str:
    tags = cell.get("metadata", {}).get("tags", [])
    if "setup_notebook(" in cell["source"] or any(t.startswith(("exercise:", "check:")) for t in tags):
        return "skip"
    outputs = shown_outputs(cell)
    if not outputs:
        return "skip"
    if any(_is_explorer(o) or "image/png" in o.get("data", {}) for o in outputs):
        return "fragment" if "predict first" in previous_markdown.lower() else "subslide"
    return "-"


def slide_types(nb) -> list[str]:
    """The slide type of every cell of a notebook (with outputs: the solved copy), by the rules above."""
    types, previous_markdown = [], ""
    for i, cell in enumerate(nb["cells"]):
        rule = None
        if cell["cell_type"] == "markdown":
            rule = heading_type(_first_line(cell["source"])) or "-"
            previous_markdown = cell["source"]
        elif cell["cell_type"] == "code":
            rule = _code_type(cell, previous_markdown)
            if rule != "skip":
                previous_markdown = ""
        else:
            rule = "skip"
        types.append(_override(cell, i) or rule)
    if types and types[0] == "-":
        types[0] = "slide"  # a deck starts with a slide
    return types


# ---------------------------------------------------------------- the metadata pass


def _paths(names: list[str] | None):
    from .exercises import NOTEBOOKS, SOLUTIONS

    paths = sorted(SOLUTIONS.glob("*.ipynb"))
    if names:
        paths = [p for p in paths if any(n in p.name for n in names)]
        if not paths:
            raise SystemExit(f"no solved notebook matches {names} in {SOLUTIONS}")
    return [(p, NOTEBOOKS / p.name) for p in paths]


def _apply(nb, types: list[str]) -> bool:
    changed = False
    for cell, t in zip(nb.cells, types):
        if cell.metadata.get("slideshow") != {"slide_type": t}:
            cell.metadata["slideshow"] = {"slide_type": t}
            changed = True
    return changed


def mark(names: list[str] | None = None) -> list[str]:
    """Write each cell's `slideshow.slide_type` into the solved notebooks and their learner copies.

    The types come from the solved copy (its outputs say which cells show a figure); the learner
    copy, made from it cell by cell, gets the same. Only metadata changes; a file whose metadata is
    already right is not rewritten. Returns the files written."""
    nbformat = need("nbformat", "vae_course.slides mark")
    written = []
    for solved_path, learner_path in _paths(names):
        solved = nbformat.read(solved_path, as_version=4)
        types = slide_types(solved)
        targets = [(solved_path, solved)]
        if learner_path.exists():
            learner = nbformat.read(learner_path, as_version=4)
            if [c.get("id") for c in learner.cells] != [c.get("id") for c in solved.cells]:
                raise SystemExit(f"{learner_path.name} does not have the cells of solutions/{solved_path.name}; "
                                 "run `python3 course.py build` first.")
            targets.append((learner_path, learner))
        for path, nb in targets:
            if _apply(nb, types):
                nbformat.write(nb, path)
                written.append(str(path))
    return written


def unmarked(names: list[str] | None = None) -> list[str]:
    """Notebooks whose stored slide metadata differs from what the rules give (for a test)."""
    nbformat = need("nbformat", "vae_course.slides")
    problems = []
    for solved_path, learner_path in _paths(names):
        types = slide_types(nbformat.read(solved_path, as_version=4))
        for path in (solved_path, learner_path):
            if not path.exists():
                continue
            stored = [c.metadata.get("slideshow", {}).get("slide_type") for c in nbformat.read(path, as_version=4).cells]
            if stored != types:
                problems.append(f"{path.name}: slide metadata out of date (python -m vae_course.slides mark)")
    return problems


# ---------------------------------------------------------------- an explorer's frames

_SLIDERS = ("FloatSlider", "IntSlider", "FloatLogSlider", "SelectionSlider")


def _sliders(explorer) -> list[str]:
    return [name for name, c in explorer.controls.items() if type(c).__name__ in _SLIDERS]


def _positions(control, n: int) -> list:
    if type(control).__name__ == "SelectionSlider":
        options = [value for _, value in control._options_full] if hasattr(control, "_options_full") \
            else list(control.options)
        if len(options) <= n:
            return options
        picks = sorted({round(k * (len(options) - 1) / (n - 1)) for k in range(n)} | {control.index})
        return [options[k] for k in picks]
    lo, hi, step = control.min, control.max, control.step
    steps, here = round((hi - lo) / step), round((control.value - lo) / step)
    stride = max(1, -(-steps // (n - 1)))  # a frame every `stride` steps, aligned on the current value
    picks = sorted({0, steps} | set(range(here % stride, steps + 1, stride)))
    values = [lo + k * step for k in picks]
    if type(control).__name__ == "IntSlider":
        return [int(v) for v in values]
    return [round(v, 10) for v in values]


def _label(control, value) -> str:
    name = control.description or "value"
    if type(control).__name__ == "SelectionSlider":
        shown = next((label for label, v in control._options_full if v == value), value) \
            if hasattr(control, "_options_full") else value
        return f"{name}: {shown}"
    if type(control).__name__ == "FloatSlider":
        fmt = control.readout_format or ".2f"
        return f"{name} = {format(value, fmt)}".replace("-", "−")
    return f"{name} = {value}"


def frames(explorer, control: str | None = None, n: int = N_FRAMES) -> dict:
    """The explorer's own pictures and readouts at up to `n` positions of one slider.

    control: the slider's name in `explorer.controls` (default: FRAME_CONTROL for its class, else its
    first slider). The positions span the slider's range and include its current value; the others
    stay where they are, and the slider is put back afterwards. Returns a dict: control, labels,
    pngs (bytes), readouts (HTML), start (the index of the current value), caption, cls.
    """
    from .explorers import Explorer

    if not isinstance(explorer, Explorer):
        raise TypeError(f"frames needs a vae_course Explorer, got {type(explorer).__name__}.")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be a whole number ≥ 2 (frames per explorer), got {n!r}.")
    sliders = _sliders(explorer)
    if control is None:
        control = FRAME_CONTROL.get(type(explorer).__name__)
        control = control if control in sliders else (sliders[0] if sliders else None)
    if control not in sliders:
        raise ValueError(f"{type(explorer).__name__}: {control!r} is not one of its sliders {sliders}.")
    widget = explorer.controls[control]
    start_value = widget.value
    out = {"control": control, "labels": [], "pngs": [], "readouts": [], "cls": type(explorer).__name__}
    positions = _positions(widget, n)
    try:
        for value in positions:
            widget.value = value
            out["labels"].append(_label(widget, widget.value))
            out["pngs"].append(bytes(explorer.image.value))
            out["readouts"].append(explorer.readout.value)
    finally:
        widget.value = start_value
    if type(widget).__name__ == "SelectionSlider":
        out["start"] = positions.index(start_value)
    else:
        out["start"] = min(range(len(positions)), key=lambda k: abs(positions[k] - start_value))
    caption = explorer.widget.children[0]
    out["caption"] = caption.value if type(caption).__name__ == "HTML" else ""
    return out


def _instrument() -> None:
    """In the kernel that builds a deck: an explorer's display also carries its frames (FRAMES_MIME)."""
    from .explorers import Explorer

    if getattr(Explorer, "_vc_frames", False):
        return
    shown = Explorer._repr_mimebundle_

    def _repr_mimebundle_(self, **kwargs):
        data = shown(self, **kwargs)
        f = frames(self)
        f["pngs"] = [base64.b64encode(p).decode() for p in f["pngs"]]
        data[FRAMES_MIME] = f
        return data

    Explorer._repr_mimebundle_ = _repr_mimebundle_
    Explorer._vc_frames = True


# ---------------------------------------------------------------- the deck

ASSETS = {  # where each asset comes from: (importable package, folder inside it), its folder in assets/
    "reveal.js": ("sphinx_revealjs", "_static/revealjs"),
    "mathjax": ("jupyter_server_mathjax", "static"),
}
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # what jupyter-server-mathjax ships (its one font: STIX-Web)

# Everything is loaded by plain script tags from assets/ (no require.js, jQuery or mermaid from a CDN,
# as nbconvert's reveal template would); scrolling of tall slides is reveal.js's own CSS.
TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
            processEscapes: true, processEnvironments: true},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null},
  SVG: {font: "STIX-Web"}, displayAlign: "center", messageStyle: "none", showMathMenu: false
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{%- block html_head_css -%}
<link rel="icon" href="data:,">
<style type="text/css">
.reveal .slides section { overflow-y: auto; max-height: 100%; }
.reveal .slides { text-align: left; }
.reveal .jp-RenderedImage img, .reveal img.vc-frame { max-height: 560px; margin: 0; }
.vc-frames { margin: 0.3em 0; }
.vc-frames-bar { display: flex; align-items: center; gap: 1em; font-size: 18px; }
.vc-frames-bar input[type=range] { width: 360px; }
.vc-frames-readout { font-size: 15px; margin: 0.3em 0; }
.vc-frames-readout table { font-size: 15px; margin: 0; }
.vc-frames-hint { font-size: 13px; color: #666; }
</style>
{%- endblock html_head_css -%}
{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({controls: true, progress: true, history: true, transition: "none",
                   slideNumber: "c/t", plugins: [RevealNotes], width: 1100, height: 760,
                   viewDistance: 1000, mobileViewDistance: 1000});  // every slide laid out: MathJax measures them
Reveal.on('slidechanged', function () {
  if (window.MathJax && MathJax.Hub) MathJax.Hub.Rerender(Reveal.getCurrentSlide());
});
</script>
{% endblock footer_js %}
"""

PLAYER_JS = r"""<script>(function () {
  var box = document.currentScript.parentElement;
  var data = JSON.parse(box.querySelector('script.vc-frames-data').textContent);
  var img = box.querySelector('img.vc-frame'), slider = box.querySelector('input.vc-frames-slider');
  var label = box.querySelector('.vc-frames-label'), readout = box.querySelector('.vc-frames-readout');
  function show(k) {
    img.src = 'data:image/png;base64,' + data.pngs[k];
    label.textContent = data.labels[k];
    readout.innerHTML = data.readouts[k];
  }
  slider.addEventListener('input', function () { show(+slider.value); });
  slider.addEventListener('keydown', function (e) { if (e.key === 'Escape') { slider.blur(); e.stopPropagation(); } });
  img.addEventListener('click', function () { slider.focus(); });
})();</script>"""


def player_html(f: dict) -> str:
    """The HTML of one explorer's frames: its caption, picture, readout and a slider over the frames."""
    k = f["start"]
    data = json.dumps({"pngs": f["pngs"], "labels": f["labels"], "readouts": f["readouts"]}).replace("</", "<\\/")
    return (f'<div class="vc-frames vc-{html.escape(f["cls"])}" data-control="{html.escape(f["control"])}">'
            f'<div>{f["caption"]}</div>'
            f'<div class="vc-frames-bar"><input class="vc-frames-slider" type="range" min="0" '
            f'max="{len(f["pngs"]) - 1}" step="1" value="{k}" aria-label="{html.escape(f["control"])}">'
            f'<span class="vc-frames-label">{html.escape(f["labels"][k])}</span>'
            f'<span class="vc-frames-hint">{len(f["pngs"])} frames · click the slider, then ← →; Esc to leave</span></div>'
            f'<div class="vc-frames-readout">{f["readouts"][k]}</div>'
            f'<img class="vc-frame" alt="{html.escape(f["cls"])}" src="data:image/png;base64,{f["pngs"][k]}">'
            f'<script type="application/json" class="vc-frames-data">{data}</script>{PLAYER_JS}</div>')


def _split_markdown(cell) -> list:
    """A markdown cell cut before each further `##` / `###` heading (outside code and <details>)."""
    chunks, lines, fence, depth = [], [], False, 0
    for line in cell.source.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        if lines and not fence and depth == 0 and heading_type(line) is not None:
            chunks.append("\n".join(lines))
            lines = []
        lines.append(line)
        depth += line.count("<details") - line.count("</details>")
    chunks.append("\n".join(lines))
    out = []
    for k, text in enumerate(chunks):
        part = copy.deepcopy(cell)
        part.source = text
        if k:
            part.id = f"{cell.id}-{k}"[:64]
            part.metadata["slideshow"] = {"slide_type": heading_type(_first_line(text))}
        out.append(part)
    return out


def deck_cells(nb) -> list:
    """The cells a deck shows, each with its slide type; explorers replaced by their frames."""
    types = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    rules = slide_types(nb)
    cells = []
    for cell, stored, rule in zip(nb.cells, types, rules):
        cell = copy.deepcopy(cell)
        cell.metadata["slideshow"] = {"slide_type": stored or rule}
        if cell.cell_type == "markdown":
            cells += _split_markdown(cell)
            continue
        outputs = []
        for out in shown_outputs(cell):
            if FRAMES_MIME in out.get("data", {}):
                out = {"output_type": "display_data", "metadata": {},
                       "data": {"text/html": player_html(out["data"][FRAMES_MIME])}}
            elif _is_explorer(out):
                continue  # an explorer without frames (not built by `build`): nothing to show offline
            outputs.append(out)
        cell.outputs = outputs
        cells.append(cell)
    return cells


def copy_assets(target: Path) -> Path:
    """Copy reveal.js and MathJax from their Python packages into target/assets (once); return it."""
    import importlib.util

    assets = target / "assets"
    for name, (package, folder) in ASSETS.items():
        if (assets / name).is_dir():
            continue
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            need(package, "Offline slides")  # raises, naming the extra to install
        source = Path(spec.origin).parent / folder
        if not source.is_dir():
            raise FileNotFoundError(f"{package} has no {folder}/ (installed: {source.parent}); "
                                    "reinstall the course's 'slides' extra.")
        shutil.copytree(source, assets / name)
    return assets


def build_deck(path: Path, target: Path, code: bool = False) -> Path:
    """Run a solved notebook (explorers record their frames), write its deck into target/; return it."""
    nbformat = need("nbformat", "vae_course.slides build")
    exporters = need("nbconvert", "vae_course.slides build")
    jinja2 = need("jinja2", "vae_course.slides build")
    from .exercises import execute

    nb = nbformat.read(path, as_version=4)
    setup = nbformat.v4.new_code_cell("import vae_course.slides\nvae_course.slides._instrument()")
    run = copy.deepcopy(nb)
    run.cells.insert(0, setup)
    execute(run, path.parent)
    run.cells.pop(0)
    run.cells = deck_cells(run)
    run.metadata.pop("widgets", None)
    exporter = exporters.SlidesExporter(
        extra_loaders=[jinja2.DictLoader({"vc_slides.html.j2": TEMPLATE})], template_file="vc_slides.html.j2",
        reveal_url_prefix="assets/reveal.js", reveal_theme="white", reveal_transition="none",
        mathjax_url=f"assets/mathjax/MathJax.js?config={MATHJAX_CONFIG}", exclude_input=not code,
        exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(run, resources={"metadata": {"name": path.stem}})
    copy_assets(target)
    out = target / f"{path.stem}.slides.html"
    out.write_text(body, encoding="utf-8")
    return out


def serve(folder: Path, port: int = 8000, open_browser: bool = True) -> None:
    """Serve `folder` on http://127.0.0.1:port/ until Ctrl-C (fonts load over http, not file://)."""
    import functools
    import http.server
    import webbrowser

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        decks = sorted(p.name for p in folder.glob("*.slides.html"))
        print("slides: serving " + ", ".join(url + d for d in decks) + "  (Ctrl-C stops)", flush=True)
        if open_browser and decks:
            webbrowser.open(url + decks[0])
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


DEFAULT_TARGET = Path(__file__).resolve().parent.parent / "build" / "slides"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae_course.slides", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("mark", help="write the slide metadata of every notebook (both copies), by the rules")
    b = sub.add_parser("build", help="build decks (default: every notebook) and serve them")
    b.add_argument("names", nargs="*", help="part of a notebook's file name, e.g. 04")
    b.add_argument("--out", type=Path, default=DEFAULT_TARGET, help="folder for the decks (default build/slides)")
    b.add_argument("--code", action="store_true", help="show the code cells' code too")
    b.add_argument("--no-serve", action="store_true", help="build only")
    b.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if args.command == "mark":
        written = mark()
        print("\n".join(f"marked {p}" for p in written) or "slide metadata already up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for solved, _ in _paths(args.names):
        start = time.perf_counter()
        deck = build_deck(solved, args.out, code=args.code)
        print(f"slides: {deck} in {time.perf_counter() - start:.1f} s", flush=True)
    if not args.no_serve:
        serve(args.out, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
