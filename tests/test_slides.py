"""Slides (vae_course.slides): the marking rules, an explorer's frames, and a deck in headless Chromium.

The browser part builds the deck of notebook 00 (its explorer, its formulas), serves it on
127.0.0.1 and opens it with every request that leaves 127.0.0.1 blocked and recorded: formulas are
typeset (no raw `$` left in the text), the frame slider changes the picture, and no request left
the page. Screenshots go to artifacts/slides/. Needs Chromium and playwright, as tests/test_browser.py.
"""

from __future__ import annotations

import functools
import http.server
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from vae_course import nb00, slides

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "slides"


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, source, tags, outputs in cells:
        if kind == "md":
            c = nbformat.v4.new_markdown_cell(source)
        else:
            c = nbformat.v4.new_code_cell(source)
            c.outputs = outputs
        c.metadata["tags"] = tags
        nb.cells.append(c)
    return nb


PNG = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}
TEXT = {"output_type": "stream", "name": "stdout", "text": "✓ a claim\n"}
BAR = {"output_type": "display_data", "metadata": {},
       "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "HBox(...)"}}
EXPLORER = {"output_type": "display_data", "metadata": {},
            "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "y"},
                     "text/plain": "[x: an interactive widget; run this cell in Jupyter to use it]"}}


def test_rules_mark_slides_fragments_and_skips():
    nb = _nb(("md", "# 07 · Title", [], None),
             ("code", "gen = vc.setup_notebook(seed=SEED)", [], [TEXT]),
             ("md", "## 1. A section\ntext", [], None),
             ("code", "fig, ax = plt.subplots()", [], [PNG]),
             ("md", "What to notice.", [], None),
             ("md", "### Exercise 7.1 — do it", [], None),
             ("code", "def f(): ...", ["exercise:7.1"], []),
             ("code", "f = vc.nb07.exercise_7_1(f)", ["check:7.1"], [TEXT]),
             ("md", "### A subsection", [], None),
             ("code", "train()", [], [BAR, TEXT]),
             ("code", "model = train()", [], [BAR]),
             ("md", "**Predict first:** what happens?", [], None),
             ("code", "plot()", [], [PNG]),
             ("code", "explorer = X()", [], [EXPLORER]),
             ("md", "A footnote", ["slide:notes"], None))
    assert slides.slide_types(nb) == ["slide", "skip", "slide", "subslide", "-", "skip", "skip", "skip",
                                      "subslide", "-", "skip", "-", "fragment", "subslide", "notes"]


def test_a_bad_override_tag_is_named():
    nb = _nb(("md", "# T", ["slide:big"], None))
    with pytest.raises(ValueError, match=r"cell 0: .*slide:big.*one of slide, subslide"):
        slides.slide_types(nb)


def test_headings_inside_a_markdown_cell_start_their_own_slides():
    cell = nbformat.v4.new_markdown_cell("intro\n## 2. Next\nmore\n```\n## not a heading\n```\n"
                                         "<details>\n## inside details\n</details>\n### Exercise 2.1 — x\ntask")
    cell.metadata["slideshow"] = {"slide_type": "-"}
    parts = slides._split_markdown(cell)
    assert [p.metadata["slideshow"]["slide_type"] for p in parts] == ["-", "slide", "skip"]
    assert parts[1].source.startswith("## 2. Next") and "## inside details" in parts[1].source
    assert len({p.id for p in parts}) == 3


def test_the_notebooks_carry_the_rules_slide_metadata():
    assert slides.unmarked() == [], "run: python3 course.py slides mark"


def test_frames_are_the_explorers_own_pictures_and_restore_its_slider():
    e = nb00.InstallationCheck()
    f = slides.frames(e, n=5)
    assert f["control"] == "sigma" and e.controls["sigma"].value == 1.0
    assert f["labels"] == ["σ = 0.20", "σ = 0.50", "σ = 1.00", "σ = 1.50", "σ = 2.00"]
    assert f["labels"][f["start"]] == "σ = 1.00"
    fresh = nb00.InstallationCheck()  # what a learner sees after moving the slider along the same stops to 1.5
    for value in (0.2, 0.5, 1.0, 1.5):  # (the picture's x-range stays put while the samples fit it: history counts)
        fresh.controls["sigma"].value = value
    assert f["pngs"][3] == bytes(fresh.image.value) and f["readouts"][3] == fresh.readout.value
    assert len(set(f["pngs"])) == 5
    with pytest.raises(ValueError, match="not one of its sliders"):
        slides.frames(e, control="mu")
    with pytest.raises(ValueError, match="n must be a whole number ≥ 2"):
        slides.frames(e, n=1)
    with pytest.raises(TypeError, match="needs a vae_course Explorer"):
        slides.frames(e.widget)


# ---------------------------------------------------------------- the deck in a browser

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    path = slides.build_deck(next(p for p, _ in slides._paths(["00"])), out)
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{path.name}"
    finally:
        server.shutdown()
        server.server_close()


def _browser_page(pw, tmp_path):
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _unavailable

    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    context = pw.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                    headless=True, args=CHROMIUM_ARGS,
                                                    viewport={"width": 1280, "height": 900})
    page = context.pages[0] if context.pages else context.new_page()
    page.vc_external, page.vc_errors = [], []

    def route(r):
        url = urllib.parse.urlsplit(r.request.url)
        if url.scheme in {"data", "file", "blob"} or url.hostname == "127.0.0.1":
            r.continue_()
        else:
            page.vc_external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("pageerror", lambda e: page.vc_errors.append(str(e)))
    page.on("requestfailed", lambda r: None if _mathjax_probe(r.url) else page.vc_errors.append(f"failed: {r.url}"))
    page.on("response", lambda r: page.vc_errors.append(f"{r.status}: {r.url}")
            if r.status >= 400 and not _mathjax_probe(r.url) else None)
    return context, page


def _mathjax_probe(url: str) -> bool:
    """MathJax 2 tries its TeX web font first (not shipped by jupyter-server-mathjax), then uses STIX-Web;
    it also probes font loading with about:blank. Both are local and harmless."""
    return url == "about:blank" or "/assets/mathjax/fonts/HTML-CSS/TeX/" in url


MATH_DONE = """() => new Promise(done => MathJax.Hub.Queue(() => done(true)))"""
RAW_MATH = """() => [...document.querySelectorAll('.reveal .jp-MarkdownOutput')]
  .map(el => { const c = el.cloneNode(true); c.querySelectorAll('script, code, pre').forEach(s => s.remove());
               return c.textContent; })
  .filter(t => t.includes('$'))"""


@pytest.mark.browser
def test_deck_renders_offline_and_its_frames_step(deck, tmp_path):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context, page = _browser_page(pw, tmp_path)
        try:
            page.goto(deck)
            page.wait_for_function("() => window.Reveal && Reveal.isReady()")
            page.evaluate(MATH_DONE)
            assert page.evaluate("() => Reveal.getTotalSlides()") >= 8, "the deck fell back to one long page"
            assert page.evaluate(RAW_MATH) == [], "formulas left as raw $…$"
            assert page.locator(".reveal .MathJax").count() > 10, "MathJax typeset nothing"
            assert "Math Processing Error" not in page.inner_text(".reveal .slides")
            widths = page.evaluate("""() => [...document.querySelectorAll('.reveal .MathJax')]
                                          .map(m => m.getBoundingClientRect().width)""")
            assert min(widths) > 0, f"{widths.count(0)} of {len(widths)} formulas have no width (not drawn)"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "00-title.png"))

            player = page.locator(".vc-frames").first
            h, v = page.evaluate("(el) => { const s = Reveal.getIndices(el.closest('section')); return [s.h, s.v]; }",
                                 player.element_handle())
            page.evaluate(f"() => Reveal.slide({h}, {v})")
            page.wait_for_timeout(300)
            img, label = player.locator("img.vc-frame"), player.locator(".vc-frames-label")
            before = (img.get_attribute("src"), label.inner_text())
            assert before[1] == "σ = 1.00"
            player.locator("input.vc-frames-slider").focus()
            page.keyboard.press("ArrowRight")
            after = (img.get_attribute("src"), label.inner_text())
            assert after[0] != before[0] and after[1] == "σ = 1.30", "the arrow key did not step the frames"
            assert page.evaluate("() => [Reveal.getIndices().h, Reveal.getIndices().v]") == [h, v], \
                "the arrow key moved the deck instead of the frames"
            assert img.evaluate("(i) => i.complete && i.naturalWidth > 100")
            page.screenshot(path=str(ARTIFACTS / "00-explorer-frames.png"))
            fonts = page.evaluate("() => document.fonts.check('16px \"Source Sans Pro\"')")
            assert fonts, "the theme's font did not load"
            assert page.vc_external == [], f"requests left the page: {page.vc_external}"
            assert page.vc_errors == [], page.vc_errors  # console errors are MathJax's probes; failures are caught above
        finally:
            context.close()
