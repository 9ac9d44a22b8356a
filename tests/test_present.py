"""Present (vae_course.present): every notebook's explorers in Voila, in headless Chromium.

The pages are built as a lecturer's `python3 course.py present` builds them (each notebook runs once
to cache its explorers in build/present/; later runs reuse the cache). One Voila server on 127.0.0.1
serves them; each page is opened with every request that leaves 127.0.0.1 blocked and recorded, and
must show its explorers and nothing of the notebook's exercises, code or progress bars; an arrow key
on each explorer's first slider changes its picture. Closing the pages ends their kernels. Screenshots
go to artifacts/present/. Needs Chromium and playwright, as tests/test_browser.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from vae_course import present, slides

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "present"
READY_WITHIN = 5.0  # s: from opening a page to its explorers drawn (06 included: no training on the page)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kernels(marker: str) -> list[int]:
    """Kernels started by our Voila: their environment carries VC_PRESENT_TEST=marker."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd, environ = (entry / "cmdline").read_bytes(), (entry / "environ").read_bytes()
            except OSError:
                continue
            if b"ipykernel" in cmd and f"VC_PRESENT_TEST={marker}".encode() in environ.split(b"\0"):
                pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def voila():
    from tests.test_browser import CHROMIUM, _unavailable

    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    pages = present.build()
    tmp = Path(tempfile.mkdtemp(prefix="vae-course-present-"))
    env = present.voila_env(present.TARGET)
    env.update(JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTER_CONFIG_DIR=str(tmp / "config"),
               IPYTHONDIR=str(tmp / "ipython"), VC_PRESENT_TEST=str(tmp))
    port = _free_port()
    # culled 20 s after its page closed: with 4 s, a kernel still starting (no page connected yet, on a busy
    # machine) was culled before its page connected, and the page never drew (CI on 8871a97)
    cmd = present.voila_command(present.TARGET, port, cull_idle=20, cull_interval=2)
    log = open(tmp / "voila.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, cwd=present.TARGET, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Voila did not start:\n{(tmp / 'voila.log').read_text()[-3000:]}") from None
                time.sleep(0.3)
        yield {"url": url, "pages": pages, "marker": str(tmp), "log": tmp / "voila.log"}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for pid in _kernels(str(tmp)):
            os.kill(pid, signal.SIGKILL)
        log.close()


def test_a_page_per_notebook_with_explorers():
    names = {p.stem for p, _ in slides._paths(None)}
    built = {p.stem for p in present.build()}
    assert built and built <= names
    assert {"00_start_here", "06_training_a_vae"} <= built


def test_load_refuses_what_save_did_not_write(tmp_path):
    import torch

    torch.save({"not": "explorers"}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="does not hold explorers"):
        present.load(tmp_path / "x.pt")
    with pytest.raises(FileNotFoundError, match="course.py present"):
        present.load(tmp_path / "missing.pt")


SLIDER_PICTURE = """(el) => el.querySelector('img.vc-image')?.src"""


def test_each_explorer_page_responds_offline_and_its_kernel_ends(voila, tmp_path):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    external, times = [], {}
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                        headless=True, args=CHROMIUM_ARGS,
                                                        viewport={"width": 1280, "height": 1000})

        def route(r):
            host = urllib.parse.urlsplit(r.request.url)
            if host.scheme in {"data", "blob"} or host.hostname == "127.0.0.1":
                r.continue_()
            else:
                external.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        try:
            for page_path in voila["pages"]:
                page = context.new_page()
                errors = []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                start = time.monotonic()
                page.goto(f"{voila['url']}voila/render/{page_path.name}", wait_until="commit", timeout=120_000)
                page.wait_for_selector(".vc-explorer img.vc-image", state="visible", timeout=180_000)
                times[page_path.stem] = time.monotonic() - start
                explorers = page.locator(".vc-explorer")
                text = page.inner_text("body")
                for word in ("Exercise", "passed", "Traceback", "import vae_course"):
                    assert word not in text, f"{page_path.name} shows {word!r}"
                assert page.locator(".jp-CodeCell .jp-InputArea:visible, .jp-Editor:visible, progress, .widget-progress").count() == 0
                for k in range(explorers.count()):
                    el = explorers.nth(k)
                    el.scroll_into_view_if_needed()
                    before = el.evaluate(SLIDER_PICTURE)
                    handle = el.locator(".widget-slider .noUi-handle").first
                    handle.focus()
                    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
                    page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
                    page.wait_for_function(f"(before) => document.querySelectorAll('.vc-explorer')[{k}]"
                                           ".querySelector('img.vc-image').src !== before", arg=before, timeout=30_000)
                    if k == 0:
                        el.screenshot(path=str(ARTIFACTS / f"{page_path.stem}.png"))
                assert errors == [], f"{page_path.name}: {errors}"
                page.close()
        finally:
            context.close()
    print("first explorer drawn after (s):", {k: round(v, 1) for k, v in times.items()})
    assert external == [], f"requests left the page: {external}"
    deadline = time.monotonic() + 45  # the cull time above, its interval and a shutdown
    while _kernels(voila["marker"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _kernels(voila["marker"]) == [], "kernels outlived their closed pages"
    # 06 trains nothing on its page: it shows as fast as 00, whose explorer needs no model at all (the
    # time of a page itself, JavaScript included, depends on the machine's load)
    assert times["06_training_a_vae"] < times["00_start_here"] + READY_WITHIN, times


def test_06s_models_are_ready_within_5_s():
    """What a page's kernel does: load the cached models and make the explorers again."""
    cache = next(p for p in present.build(["06"])).parent / "cache" / "06_training_a_vae.pt"
    start = time.perf_counter()
    explorers = present.load(cache)
    took = time.perf_counter() - start
    assert [type(e).__name__ for e in explorers] == ["InterpolationExplorer", "LatentGridExplorer"]
    assert took < READY_WITHIN, f"loading 06's explorers took {took:.1f} s"


def _same(a, b) -> bool:
    """Recipes equal: tensors bit for bit, modules by their state, containers item by item."""
    import torch

    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, torch.nn.Module):
        return type(a) is type(b) and _same(a.state_dict(), b.state_dict())
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return type(a) is type(b) and _same(vars(a), vars(b))
    return a == b


def test_an_nbval_run_with_the_record_hook_caches_what_build_page_caches(tmp_path):
    """Stage 2 of `course.py test` fills the present cache on its nbval run of the solved notebooks
    (vae_course/_nbval_audit.py, VC_PRESENT_CACHE_DIR), so that test_present's pages need no second
    run of every notebook: the cache and key it writes are the ones build_page writes by running the
    notebook itself; a notebook with a failing cell leaves no key (build_page then runs it again)."""
    import sys

    import nbformat
    import torch

    solved = ROOT / "notebooks" / "solutions" / "00_start_here.ipynb"
    folder = tmp_path / "solutions"  # the hook records solved notebooks only: a folder of that name
    folder.mkdir()
    good, broken = folder / solved.name, folder / "00_broken.ipynb"
    good.write_bytes(solved.read_bytes())
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(
        "raise ValueError('a cell that fails')")]), broken)
    by_nbval, by_build = tmp_path / "by_nbval", tmp_path / "by_build"
    stale = present.cache_files(broken, by_nbval)[1]
    stale.parent.mkdir(parents=True)
    stale.write_text(present.key_of(broken))  # a key left from an earlier run must not vouch for this one
    env = {k: v for k, v in os.environ.items() if k not in {"VC_FIGURE_AUDIT_DIR", "VC_FIGURE_AUDIT"}}
    env["VC_PRESENT_CACHE_DIR"] = str(by_nbval)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "vae_course._nbval_audit",
                          "-o", "addopts=", "--nbval", "--nbval-current-env", "--rootdir", str(tmp_path), str(good),
                          str(broken)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "1 failed" in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]
    cache, key = present.cache_files(good, by_nbval)
    assert key.read_text() == present.key_of(solved)
    assert not present.cache_files(broken, by_nbval)[1].exists()
    assert present.build_page(good, by_build, quiet=True) is not None  # no cache there: it runs the notebook
    recorded = torch.load(cache, weights_only=False)
    built = torch.load(present.cache_files(good, by_build)[0], weights_only=False)
    assert recorded and _same(recorded, built)
    assert [type(e).__name__ for e in present.load(cache)] == [type(e).__name__ for e in present.load(
        present.cache_files(good, by_build)[0])]
