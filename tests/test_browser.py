"""Every notebook, learner copy and solved copy, run by a real browser: JupyterLab in headless Chromium.

What a learner does, done by a test: one JupyterLab server (127.0.0.1, a token, temporary config,
runtime, data and settings folders, serving a temporary copy of `notebooks/`), one headless
Chromium page driven by playwright; for each notebook found (nothing to edit when one is added):
open it, Run All, and assert

- every code cell ran and no cell shows an error; the check cells (tagged `check:N.M`) say
  "not attempted yet" in a learner copy and "passed" in a solved one;
- every explorer (a `vae_course.explorers.Explorer`; its root widget has the CSS class `vc-explorer`
  and `vc-<ClassName>`) is visible with its controls and its image; pressing ArrowRight on its
  first slider changes the picture (new PNG bytes, the kernel's exactly) and the readout to the
  text that the same settings give in Python (see `_expected_readouts`);
- the browser console logged no error.

A screenshot of each notebook's first explorer after the key press goes to artifacts/browser/.

Run alone with `pytest -m browser`. Needs Chromium (/usr/bin/chromium, or $VAE_COURSE_CHROMIUM)
and the `playwright` package (its own browsers are never downloaded). Without them the tests skip on
a developer machine and fail in CI (CI=true). Every process started here (server, kernels, browser)
is ended in the fixtures' `finally`, also when a test fails.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
LEARNER = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOTEBOOKS = LEARNER + sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("VAE_COURSE_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Another float path for the notebooks' kernels (tools/other_cpus.py: "avx2"), so that Run All in
# the browser, compared with the stored outputs as nbval compares them, is the learner copies'
# nbval pass "on another CPU"; the solved copies get theirs in stage 2 of `course.py test`.
FLOAT_PATH = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "COMPATIBLE"}
LAB_SETTINGS = {  # no news toast, never save into the served copy, every cell attached to the DOM
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
}
START_TIMEOUT = 90      # s: JupyterLab server up, Lab page restored
RUN_ALL_TIMEOUT = 600   # s: one notebook's Run All (later notebooks train small models)
UPDATE_TIMEOUT = 30     # s: one slider key press → kernel callback → new picture in the page
NOT_ATTEMPTED, PASSED = "not attempted yet", "passed"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _label(path: Path) -> str:
    return str(path.relative_to(ROOT / "notebooks").with_suffix(""))


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason}; CI=true, so the browser tests must run (.ci/run installs chromium)")
    pytest.skip(reason)


# ---------------------------------------------------------------- processes: server, kernels, browser

def _processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line mentions `marker` (our temporary folder): kernels, server, browser."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _end(proc: subprocess.Popen, marker: str) -> None:
    """Stop the Lab server's process group (SIGTERM shuts its kernels down), then anything left over
    that was started with our temporary folder on its command line (kernels run in sessions of
    their own, so the process group alone does not reach them)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = _processes_mentioning(marker)
        for pid in left:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if left:
            time.sleep(1.0)


def _api(lab: dict, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{lab['url']}api/{path}", method=method,
                                     headers={"Authorization": f"token {lab['token']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def _exit_on_sigterm(signum, frame):
    raise SystemExit(f"terminated by signal {signum}")  # so that the fixtures' `finally` still run


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab server on 127.0.0.1 serving a temporary copy of notebooks/; ended afterwards."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set VAE_COURSE_CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright; no browser download needed)")
    try:
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    except ValueError:  # not the main thread
        previous = None
    tmp = Path(tempfile.mkdtemp(prefix="vae-course-browser-"))
    dirs = {name: tmp / name for name in ("config", "runtime", "data", "ipython", "settings", "user-settings",
                                          "workspaces", "root")}
    for d in dirs.values():
        d.mkdir()
    shutil.copytree(ROOT / "notebooks", dirs["root"] / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (dirs["settings"] / "overrides.json").write_text(json.dumps(LAB_SETTINGS))
    kernel = dirs["data"] / "kernels" / "python3"  # this interpreter, whatever else is installed
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))
    env = {k: v for k, v in os.environ.items() if k not in {"MPLBACKEND", "JUPYTER_PATH", "JUPYTER_TOKEN"}}
    env.update(FLOAT_PATH)  # the kernels round as another CPU would: Run All is also an nbval pass
    env.update(JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
               JUPYTER_DATA_DIR=str(dirs["data"]), IPYTHONDIR=str(dirs["ipython"]),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    token = secrets.token_hex(24)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", "--port=0",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={dirs['root']}", f"--LabApp.app_settings_dir={dirs['settings']}",
           f"--LabApp.user_settings_dir={dirs['user-settings']}", f"--LabApp.workspaces_dir={dirs['workspaces']}",
           "--LabApp.expose_app_in_browser=True"]
    log = open(tmp / "server.log", "wb")  # noqa: SIM115  the server writes to it until the finally below
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=dirs["root"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        info = None
        while info is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start:\n{(tmp / 'server.log').read_text()[-3000:]}")
            found = sorted(dirs["runtime"].glob("jpserver-*.json"))
            if found:
                try:
                    info = json.loads(found[0].read_text())
                except ValueError:  # being written
                    pass
            time.sleep(0.2)
        server = {"url": info["url"], "token": token, "tmp": tmp, "log": tmp / "server.log", "started": started}
        while True:
            try:
                _api(server, "status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        _end(proc, str(tmp))
        log.close()
        left = _processes_mentioning(str(tmp))
        shutil.rmtree(tmp, ignore_errors=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        assert not left, f"processes still running after the browser tests: {left}"


@pytest.fixture(scope="module")
def page(lab):
    """Headless Chromium showing JupyterLab; console errors are collected in `page.vc_errors`."""
    from playwright.sync_api import sync_playwright

    profile = lab["tmp"] / "chromium-profile"
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000})
        try:
            p = context.pages[0] if context.pages else context.new_page()
            p.vc_errors = []
            p.on("console", lambda m: p.vc_errors.append(f"console.{m.type}: {m.text} @ {m.location.get('url', '')}")
                 if m.type == "error" else None)
            p.on("pageerror", lambda e: p.vc_errors.append(f"uncaught: {e}"))
            p.set_default_timeout(START_TIMEOUT * 1000)
            p.goto(f"{lab['url']}lab?reset&token={lab['token']}")
            p.wait_for_function("() => window.jupyterapp !== undefined")
            p.evaluate("async () => { await window.jupyterapp.restored; }")
            print(f"JupyterLab server started and page restored in {time.monotonic() - lab['started']:.1f} s")
            yield p
        finally:
            context.close()


# ---------------------------------------------------------------- JupyterLab, driven from the page

OPEN = r"""async (path) => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  window.vcPanel = panel;
  window.vcRun = null;
  window.vcCallbackErrors = [];  // tracebacks of widget callbacks: they reach no cell, so catch them here
  window.vcBeforeRun = [];        // what the kernel said to comm messages sent before Run All
  // Only comm messages the page sends after Run All starts can reach a callback of the notebook's
  // widgets. Before that, at kernel start, the widget manager asks a kernel that has not imported
  // ipywidgets yet for its widgets, and the kernel answers 'No such comm'; on a busy machine that
  // answer can arrive after Run All has begun, so answers are told apart by the message they answer.
  window.vcSentDuringRun = new Set();
  window.vcRunning = false;
  panel.sessionContext.session.kernel.anyMessage.connect((_, args) => {
    if (window.vcRunning && args.direction === 'send' && args.msg.header.msg_type === 'comm_msg')
      window.vcSentDuringRun.add(args.msg.header.msg_id);
  });
  panel.sessionContext.iopubMessage.connect((_, msg) => {
    if (msg.parent_header?.msg_type !== 'comm_msg') return;
    const c = msg.content;
    let text = null;
    if (msg.header.msg_type === 'error') text = c.traceback.join('\n');
    if (msg.header.msg_type === 'stream' && c.name === 'stderr') text = c.text;
    if (text === null) return;
    (window.vcSentDuringRun.has(msg.parent_header.msg_id) ? window.vcCallbackErrors : window.vcBeforeRun).push(text);
  });
}"""
KERNEL_IDLE = """() => { const k = window.vcPanel.sessionContext.session?.kernel;
  return k && k.status === 'idle' && k.connectionStatus === 'connected'; }"""
RUN_ALL = """() => { window.vcRunning = true;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
  ok => { window.vcRun = {ok}; }, err => { window.vcRun = {error: String(err)}; }); }"""
RAN = """() => window.vcRun !== null && window.vcPanel.content.widgets.every(c => c.model.type !== 'code'
  || c.model.executionState !== 'running')"""  # Run All stops at a failing cell: the rest never runs
CELLS = """() => window.vcPanel.content.widgets.map((cell, index) => {
  const explorers = [...cell.node.querySelectorAll('.vc-explorer')];
  explorers.forEach((el, k) => { el.dataset.vcKey = `${index}-${k}`; });
  const code = cell.model.type === 'code';
  return {index, id: cell.model.id, type: cell.model.type, tags: cell.model.getMetadata('tags') || [],
          count: code ? cell.model.executionCount : null, outputs: code ? cell.model.outputs.toJSON() : [],
          shown: cell.node.querySelector('.jp-Cell-outputWrapper')?.textContent ?? '',
          explorers: explorers.map(el => ({key: el.dataset.vcKey,
            cls: [...el.classList].filter(c => c.startsWith('vc-') && c !== 'vc-explorer')}))};
})"""
# The kernel's shutdown promise can be left unreachable once the panel is disposed: Playwright then
# fails with "Resulting promise was garbage collected" (seen once in five runs). A timer keeps the
# promise alive and settles it within 10 s; the sessions are ended over the REST API afterwards anyway.
CLOSE = """async () => { const panel = window.vcPanel; if (!panel) return;
  window.vcPanel = null;
  try { await Promise.race([panel.sessionContext.shutdown(), new Promise(r => setTimeout(r, 10000))]); }
  finally { panel.context.model.dirty = false; panel.dispose(); } }"""
EVAL_IN_KERNEL = """async (expression) => {
  const kernel = window.vcPanel.sessionContext.session.kernel;
  const reply = await kernel.requestExecute({code: '', silent: true, store_history: false,
                                             user_expressions: {out: expression}}).done;
  const out = reply.content.user_expressions.out;
  return out.status === 'ok' ? {text: out.data['text/plain']} : {error: `${out.ename}: ${out.evalue}`};
}"""
TEXT = "const text = (node) => { const c = node.cloneNode(true); c.querySelectorAll('br').forEach(b => b.replaceWith('\\n')); return c.textContent; };"
TEXT_OF_HTML = "(h) => { " + TEXT + " const d = document.createElement('div'); d.innerHTML = h; return text(d); }"
SHOWN = """(el) => { """ + TEXT + """
  const img = el.querySelector('img.vc-image'), readout = el.querySelector('.vc-readout');
  return {readout: readout ? text(readout) : null, src: img ? img.src : null,
          complete: img ? img.complete && img.naturalWidth > 0 : false};
}"""
PNG_OF = """async (img) => { const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let s = ''; for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(s); }"""

# Evaluated in the notebook's kernel, in a namespace of its own (nothing is left in the learner's):
# the explorers reachable from the given root widget model ids, in display order, and their state.
PROBE = r'''
import gc, hashlib
import ipywidgets
from vae_course.explorers import Explorer

def _is(o, cls):
    try:  # dead weak proxies among gc's objects raise ReferenceError on any access
        return isinstance(o, cls)
    except ReferenceError:
        return False
objects = gc.get_objects()
explorers = {id(o.widget): o for o in objects if _is(o, Explorer)}
roots = {o.model_id: o for o in objects if _is(o, ipywidgets.Widget) and getattr(o, "comm", None) is not None
         and o.model_id in ROOTS}
found = []
def walk(w):
    if id(w) in explorers:
        found.append(explorers[id(w)])
    for child in getattr(w, "children", ()):
        walk(child)
for model_id in ROOTS:
    if model_id in roots:
        walk(roots[model_id])
def control(c):
    spec = {"view": c._view_name, "step": getattr(c, "step", None), "min": getattr(c, "min", None),
            "max": getattr(c, "max", None)}
    if c._view_name == "SelectionSliderView":  # moves by one option: index, not value
        spec.update(step=1, min=0, max=len(c.options) - 1, index=c.index)
    return spec
result = [{"cls": type(e).__name__, "values": e.values(), "readout": e.readout.value, "updates": e.updates,
           "png": hashlib.sha256(bytes(e.image.value)).hexdigest(),
           "controls": {name: control(c) for name, c in e.controls.items()}} for e in found]
'''


def _in_kernel(page, roots: list[str]) -> list[dict]:
    expression = (f"(lambda ns: (exec({PROBE!r}, ns), __import__('json').dumps(ns['result'], default=str))[1])"
                  f"({{'ROOTS': {roots!r}}})")
    out = page.evaluate(EVAL_IN_KERNEL, expression)
    assert "error" not in out, f"probing the explorers in the kernel failed: {out['error']}"
    return json.loads(ast.literal_eval(out["text"]))


def _wait_idle(page, timeout: float) -> None:
    page.wait_for_function(KERNEL_IDLE, timeout=timeout * 1000, polling=100)


def _shown(page, key: str) -> dict:
    el = page.locator(f'[data-vc-key="{key}"]')
    state = el.evaluate(SHOWN)
    state["png"] = hashlib.sha256(base64.b64decode(el.locator("img.vc-image").evaluate(PNG_OF))).hexdigest()
    return state



def _explorer_class(name: str):
    """The Explorer class called `name`: the base class, or a subclass from the notebook package that defines it."""
    import importlib

    import vae_course
    from vae_course.explorers import Explorer

    modules = ["vae_course.explorers"] + [f"vae_course.{package.name}" for package in
                                          sorted(Path(vae_course.__file__).parent.glob("nb[0-9][0-9]"))]
    for module in modules:
        kind = getattr(importlib.import_module(module), name, None)
        if isinstance(kind, type) and issubclass(kind, Explorer):
            return kind
    return None


def _callback_errors(page) -> str:
    errors = page.evaluate("() => window.vcCallbackErrors")
    return "\nthe kernel reported, from a widget callback:\n" + ANSI.sub("", "\n".join(errors)) if errors else ""


def _text(page, html_value: str) -> str:
    return page.evaluate(TEXT_OF_HTML, html_value)


# ---------------------------------------------------------------- what the same settings give in Python

def _expected_readouts(page, cls: str, before: dict, after: dict) -> tuple[str, str, str]:
    """(readout text before, after, how) that Python gives for the browser's control values.

    A replica: the same class from its `vae_course/nbNN/explorers.py`, built with default arguments in this test
    process, its controls set to the kernel's values before the key press (reproducing what the
    notebook's cells did to them) and then to the values after it. Readouts that count redraws
    stay in step, because the replica also redraws once per changed value.
    Fallback, with a warning that says why: the kernel's own readout, when the class cannot be built
    without arguments (it needs, say, a model trained in the notebook) or when the replica's readout
    before the key press differs from the notebook's (the notebook built it with other arguments).
    The fallback still proves that the browser shows what the kernel computed for the new value;
    the computation itself is tested without a browser in tests/test_widgets.py and test_nbNN_*.py.
    """
    kind = _explorer_class(cls)
    reason = None
    if kind is None:
        reason = f"{cls} is not an Explorer of vae_course/explorers.py or any vae_course/nbNN/explorers.py"
    else:
        try:
            replica = kind()
        except TypeError as err:
            reason = f"{cls}() needs arguments ({err})"
    if reason is None:
        texts = []
        for values in (before["values"], after["values"]):
            for name, value in values.items():
                if replica.controls[name].value != value:
                    replica.controls[name].value = value
            texts.append(_text(page, replica.readout.value))
        if texts[0] == _text(page, before["readout"]):
            return texts[0], texts[1], "replica"
        reason = f"a default {cls}() reads {texts[0]!r} where the notebook's reads {_text(page, before['readout'])!r}"
    warnings.warn(f"browser test: {reason}; comparing with the kernel's own readout instead", stacklevel=2)
    return _text(page, before["readout"]), _text(page, after["readout"]), "kernel"


# ---------------------------------------------------------------- the tests

def test_jupyterlab_loads_without_console_errors(page):
    assert page.evaluate("() => window.jupyterapp.shell.node.isConnected")
    assert page.vc_errors == [], "\n".join(page.vc_errors)


# Run All on the learner copies, which learners open. A solved copy differs from its learner copy
# only in its exercise cells, and nbval runs both copies (on two float paths); opening every copy is
# tested below. Running the solved copies here too doubled the browser tests' time for no new cell.
@pytest.mark.parametrize("path", LEARNER, ids=_label)
def test_notebook_runs_in_jupyterlab(lab, page, path):
    label = _label(path)
    solved = path.parent.name == "solutions"
    errors_before = len(page.vc_errors)
    t0 = time.monotonic()
    page.evaluate(OPEN, f"notebooks/{path.relative_to(ROOT / 'notebooks')}")
    try:
        _wait_idle(page, START_TIMEOUT)
        t1 = time.monotonic()
        page.evaluate(RUN_ALL)
        page.wait_for_function(RAN, timeout=RUN_ALL_TIMEOUT * 1000, polling=250)
        _wait_idle(page, RUN_ALL_TIMEOUT)
        t2 = time.monotonic()
        cells = page.evaluate(CELLS)
        _check_cells(path, cells, solved)
        _check_explorers(page, path, cells, label)
        print(f"{label}: open + kernel {t1 - t0:.1f} s, Run All {t2 - t1:.1f} s, "
              f"cells + explorers checked in {time.monotonic() - t2:.1f} s")
        for text in page.evaluate("() => window.vcBeforeRun"):  # the widget manager's handshake
            print(f"  (before Run All, the kernel said: {ANSI.sub('', text).strip()[:200]})")
        assert page.evaluate("() => window.vcRun") == {"ok": True}, "Run All reported a failure"
        assert not _callback_errors(page), _callback_errors(page)
        errors = page.vc_errors[errors_before:]
        assert errors == [], f"browser console errors while running {label}:\n" + "\n".join(errors)
    finally:
        _close(lab, page)
    assert _api(lab, "kernels") == [], "a kernel outlived its notebook"


def _close(lab, page) -> None:
    """Close the open notebook (unsaved) and end every session, also when closing fails."""
    try:
        page.evaluate(CLOSE)
    finally:
        for session in _api(lab, "sessions"):
            _api(lab, f"sessions/{session['id']}", method="DELETE")


def _compared(outputs: list[dict]) -> dict:
    """What nbval compares of a cell's outputs: the text of each stream, the text/plain of each result
    and display, in order (a front-end may split or merge a stream's chunks, so streams are joined)."""
    streams, shown = {}, []
    for out in outputs:
        if out["output_type"] == "stream":
            streams[out["name"]] = streams.get(out["name"], "") + "".join(out["text"])
        elif out["output_type"] in {"execute_result", "display_data"}:
            shown.append("".join(out.get("data", {}).get("text/plain", "")))
        elif out["output_type"] == "error":
            shown.append(f"{out['ename']}: {out['evalue']}")
    return {"streams": streams, "shown": shown}


def _ignored(cell) -> bool:
    tags = cell.metadata.get("tags", [])
    return any(t in tags for t in ("nbval-ignore-output", "nbval-skip")) or "NBVAL_IGNORE_OUTPUT" in cell.source


def _check_cells(path: Path, cells: list[dict], solved: bool) -> None:
    stored = [c for c in nbformat.read(path, as_version=4).cells]
    assert [c["id"] for c in cells] == [c.id for c in stored], "the page does not show the notebook's cells"
    problems = []
    for cell, mine in zip(cells, stored):
        if cell["type"] == "code" and not _ignored(mine):
            got, want = _compared(cell["outputs"]), _compared(mine.outputs)
            if got != want:
                problems.append(f"cell {cell['index']} printed other output than the stored one "
                                f"(kernels on {FLOAT_PATH}):\n  got    {got}\n  stored {want}")
    for cell in (c for c in cells if c["type"] == "code"):
        where = f"cell {cell['index']} (id {cell['id']})"
        if cell["count"] is None:
            problems.append(f"{where} did not run")
        for out in cell["outputs"]:
            if out["output_type"] == "error":
                problems.append(f"{where} raised {out['ename']}: {out['evalue']}")
            elif out["output_type"] == "stream" and out["name"] == "stderr" and \
                    any(word in "".join(out["text"]) for word in ("Traceback", "Error", "Warning")):
                problems.append(f"{where} printed to stderr:\n{''.join(out['text'])[-800:]}")
        if "Traceback" in cell["shown"] or "Error displaying widget" in cell["shown"]:
            problems.append(f"{where} shows an error: {cell['shown'][-800:]}")
        if any(t.startswith("check:") for t in cell["tags"]):
            printed = "".join("".join(o.get("text", "")) for o in cell["outputs"] if o["output_type"] == "stream")
            want = PASSED if solved else NOT_ATTEMPTED
            if want not in printed or "✗" in printed:
                problems.append(f"check {where} should print '{want}', printed: {printed!r}")
    assert not problems, "\n".join(problems)


SLIDER_VIEWS = {"FloatSliderView", "IntSliderView", "FloatLogSliderView", "SelectionSliderView"}


def _check_explorers(page, path: Path, cells: list[dict], label: str) -> None:
    stored = sum("an interactive widget; run this cell" in "".join(o.get("data", {}).get("text/plain", ""))
                 for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" for o in c.outputs)
    shown = [(cell, e) for cell in cells for e in cell["explorers"]]
    assert len(shown) >= stored, f"{stored} explorers in the stored notebook, {len(shown)} rendered in the browser"
    for n, (cell, explorer) in enumerate(shown):
        roots = [o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] for o in cell["outputs"]
                 if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        k = int(explorer["key"].split("-")[1])
        kernel_side = _in_kernel(page, roots)
        assert len(kernel_side) > k, f"explorer {explorer['key']} not found in the kernel"
        cls = kernel_side[k]["cls"]
        assert f"vc-{cls}" in explorer["cls"]
        shot = ARTIFACTS / f"{label.replace('/', '-')}.png" if n == 0 else None
        _move_a_slider(page, explorer["key"], roots, k, cls, shot)


def _move_a_slider(page, key: str, roots: list[str], k: int, cls: str, shot: Path | None) -> None:
    el = page.locator(f'[data-vc-key="{key}"]')
    el.scroll_into_view_if_needed()
    controls = el.locator(".widget-slider, .widget-dropdown, .widget-checkbox, .widget-toggle-buttons")
    assert controls.count() > 0, f"{cls}: no controls rendered"
    for i in range(controls.count()):
        assert controls.nth(i).is_visible(), f"{cls}: control {i} is not visible"
    image = el.locator("img.vc-image")
    assert image.is_visible(), f"{cls}: its image is not visible"
    box = image.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, f"{cls}: its image is {box}"

    before = _in_kernel(page, roots)[k]
    shown_before = _shown(page, key)
    assert shown_before["complete"], f"{cls}: the image did not load"
    assert shown_before["png"] == before["png"], f"{cls}: the page shows another picture than the kernel's"
    assert shown_before["readout"] == _text(page, before["readout"]), f"{cls}: the page shows another readout"

    sliders = [name for name, c in before["controls"].items() if c["view"] in SLIDER_VIEWS]
    assert sliders, f"{cls} has no slider to move"
    name, spec = sliders[0], before["controls"][sliders[0]]
    position = spec.get("index", before["values"][name])
    key_name, sign = ("ArrowRight", 1) if position + spec["step"] <= spec["max"] else ("ArrowLeft", -1)
    handle = el.locator(".widget-slider .noUi-handle").first
    handle.focus()
    page.keyboard.press(key_name)
    try:
        page.wait_for_function("([key, src]) => document.querySelector(`[data-vc-key=\"${key}\"] img.vc-image`).src !== src",
                               arg=[key, shown_before["src"]], timeout=UPDATE_TIMEOUT * 1000, polling=50)
    except Exception as err:
        raise AssertionError(f"{cls}: the picture did not change within {UPDATE_TIMEOUT} s of pressing {key_name} "
                             f"on the slider {name!r} (readout now {_shown(page, key)['readout']!r})"
                             f"{_callback_errors(page)}") from err
    _wait_idle(page, UPDATE_TIMEOUT)

    deadline = time.monotonic() + UPDATE_TIMEOUT
    while True:  # the last comm messages may still be on their way to the page
        after, shown_after = _in_kernel(page, roots)[k], _shown(page, key)
        if (shown_after["png"], shown_after["readout"]) == (after["png"], _text(page, after["readout"])) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert shown_after["png"] == after["png"], f"{cls}: the page does not show the kernel's new picture"
    assert shown_after["png"] != shown_before["png"], f"{cls}: the picture's bytes did not change"
    moved = {n: v for n, v in after["values"].items() if v != before["values"][n]}
    assert list(moved) == [name], f"{cls}: {key_name} on {name!r} changed {moved}"
    now = after["controls"][name].get("index", moved[name])
    assert now == pytest.approx(position + sign * spec["step"], abs=1e-9)
    assert after["updates"] == before["updates"] + 1, f"{cls}: {after['updates'] - before['updates']} redraws for one key"

    want_before, want_after, how = _expected_readouts(page, cls, before, after)
    assert shown_before["readout"] == want_before, f"{cls} ({how}): readout before the key press"
    assert shown_after["readout"] == want_after, f"{cls} ({how}): readout after {key_name} on {name!r}"
    print(f"  {cls}: {name} {before['values'][name]} → {moved[name]}; readout {shown_after['readout']!r} ({how})")
    if shot is not None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        el.screenshot(path=str(shot))


def test_readouts_come_from_a_replica_or_else_from_the_kernel(page):
    from vae_course import nb00

    e = nb00.InstallationCheck()
    before = {"values": e.values(), "readout": e.readout.value}
    e.controls["sigma"].value = 1.1
    after = {"values": e.values(), "readout": e.readout.value}
    texts = (_text(page, before["readout"]), _text(page, after["readout"]))
    assert _expected_readouts(page, "InstallationCheck", before, after) == (*texts, "replica")
    with pytest.warns(UserWarning, match="where the notebook's reads"):  # built with other arguments
        assert _expected_readouts(page, "InstallationCheck", {**before, "readout": "<b>σ</b><br>?"},
                                  after)[2] == "kernel"
    with pytest.warns(UserWarning, match=r"Explorer\(\) needs arguments"):  # e.g. a model trained in the notebook
        assert _expected_readouts(page, "Explorer", {"values": {}, "readout": "<b>a</b><br>b"},
                                  {"values": {}, "readout": "c"}) == ("a\nb", "c", "kernel")



# ---------------------------------------------------------------- opening a notebook leaves it unmodified

OPEN_AND_WAIT = r"""async (path) => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  window.vcPanel = panel;
  const kernel = panel.sessionContext.session.kernel;
  const info = await kernel.info;
  const model = panel.context.model;
  // Lab copies the kernel's language_info (and its kernelspec) into the notebook after the info reply
  for (let i = 0; i < 200 && model.getMetadata('language_info')?.version !== info.language_info.version; i++)
    await new Promise(r => setTimeout(r, 50));
  for (let i = 0; i < 100 && !(kernel.status === 'idle' && kernel.connectionStatus === 'connected'); i++)
    await new Promise(r => setTimeout(r, 100));
  await new Promise(r => setTimeout(r, 500));
  return {dirty: model.dirty, metadata: model.toJSON().metadata, kernel: info.language_info};
}"""


def _open_and_wait(lab, page, path: str) -> dict:
    try:
        return page.evaluate(OPEN_AND_WAIT, path)
    finally:
        _close(lab, page)


def test_solved_copies_carry_their_learner_copys_metadata():
    """So that opening a solved copy leaves it unmodified exactly when its learner copy stays so."""
    for path in LEARNER:
        solved = nbformat.read(ROOT / "notebooks" / "solutions" / path.name, as_version=4)
        assert solved.metadata == nbformat.read(path, as_version=4).metadata, path.name


@pytest.mark.parametrize("path", LEARNER, ids=_label)
def test_opening_a_notebook_leaves_it_unmodified(lab, page, path):
    """No "Save your work?" for a notebook the learner only opened (its kernel started and idle)."""
    stored = nbformat.read(path, as_version=4).metadata
    here = sys.version.split()[0]
    if stored.get("language_info", {}).get("version") != here:
        pytest.skip(f"the notebooks were built with Python {stored.get('language_info', {}).get('version')}, "
                    f"this is {here}: JupyterLab marks them modified on any other version "
                    "(see test_jupyterlab_rewrites_language_info_unless_it_is_the_kernels)")
    got = _open_and_wait(lab, page, f"notebooks/{path.relative_to(ROOT / 'notebooks')}")
    assert got["metadata"] == dict(stored), "JupyterLab changed the notebook's metadata on opening it"
    assert got["dirty"] is False, "JupyterLab marks the notebook modified as soon as it opens"


def test_jupyterlab_rewrites_language_info_unless_it_is_the_kernels(lab, page):
    """Why the notebooks store the kernel's whole language_info, Python version included: JupyterLab
    writes the kernel's language_info into the notebook on opening and marks it modified unless the
    stored one is deep-equal (key order aside). Trimmed, missing, another version or no version: modified."""
    base = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4)
    folder = lab["tmp"] / "root" / "variants"
    folder.mkdir(exist_ok=True)

    def opened(name: str, language_info: dict | None) -> dict:
        nb = nbformat.from_dict(json.loads(json.dumps(base)))
        nb.metadata.pop("language_info", None)
        if language_info is not None:
            nb.metadata["language_info"] = language_info
        nbformat.write(nb, folder / f"{name}.ipynb")
        return _open_and_wait(lab, page, f"variants/{name}.ipynb")

    first = opened("trimmed", {"name": "python"})
    kernel = first["kernel"]  # what this kernel reports
    outcomes = {"trimmed": first["dirty"],
                "missing": opened("missing", None)["dirty"],
                "other version": opened("other-version", {**kernel, "version": "3.0.0"})["dirty"],
                "no version": opened("no-version", {k: v for k, v in kernel.items() if k != "version"})["dirty"],
                "kernel's own": opened("own", dict(reversed(list(kernel.items()))))["dirty"]}
    assert outcomes == {"trimmed": True, "missing": True, "other version": True, "no version": True,
                        "kernel's own": False}
