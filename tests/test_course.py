"""course.py's decisions, without installing anything: which torch build, which extra, which arguments."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
course = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(course)

CPU = "https://download.pytorch.org/whl/cpu"


def _indexes(steps):
    """Per attempt: the index it uses ('none' for --no-index, 'PyPI' for pip's default)."""
    out = []
    for args, _ in steps:
        if "--no-index" in args:
            out.append("none")
        elif "--index-url" in args:
            out.append(args[args.index("--index-url") + 1])
        else:
            out.append("PyPI")
    return out


@pytest.mark.parametrize("system, machine, indexes", [
    ("Linux", "x86_64", ["none", CPU]),       # PyPI's default here is the CUDA build, several GB
    ("Windows", "AMD64", ["none", CPU]),
    ("Darwin", "arm64", ["none", "PyPI"]),    # macOS wheels are CPU builds
    ("Darwin", "x86_64", ["none", "PyPI"]),
    ("Linux", "aarch64", ["none", "PyPI"]),
])
def test_torch_comes_from_local_wheels_first_then_the_cpu_build(system, machine, indexes):
    steps = course.torch_steps(system, machine, None)
    assert _indexes(steps) == indexes
    for args, what in steps:
        assert args[-1] == "torch==2.13.0"  # torch alone: the course's other packages resolve from PyPI later
        assert what
    assert "--no-deps" in steps[0][0]  # find-links may hold torch without its (small) dependencies
    if CPU in indexes:
        args = steps[1][0]
        assert "--timeout" in args and int(args[args.index("--timeout") + 1]) <= 60  # an unreachable index must not hang


def test_vae_course_torch_replaces_the_torch_step():
    steps = course.torch_steps("Linux", "x86_64", "torch==2.5.1 --index-url https://download.pytorch.org/whl/cu121")
    assert [args for args, _ in steps] == [["torch==2.5.1", "--index-url", "https://download.pytorch.org/whl/cu121"]]


def test_each_command_installs_its_extra():
    assert course.EXTRA == {"lab": "lab", "notebook": "lab", "check": "check", "test": "dev", "build": "dev",
                            "slides": "slides", "present": "present"}
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(course.INCLUDES) == set(extras)
    assert course.INCLUDES["dev"] == set(extras)  # dev brings check and lab too
    assert any(r.startswith("vae-course[") and set(r[11:-1].split(",")) == {"check", "lab", "slides", "present"}
               for r in extras["dev"])
    for extra in ("slides", "present"):  # the lecturer's commands run notebooks: nbclient and nbformat come along
        assert "vae-course[check]" in extras[extra] and course.INCLUDES[extra] == {extra, "check"}


def test_extra_arguments_go_to_jupyter_and_root_gets_allow_root(capsys):
    assert course.frontend_args(["--port", "9000"], is_root=False) == ["--port", "9000"]
    assert course.frontend_args(["--port", "9000"], is_root=True) == ["--port", "9000", "--allow-root"]
    assert "running as root" in capsys.readouterr().out
    assert course.frontend_args(["--allow-root"], is_root=True) == ["--allow-root"]


def test_help_and_unknown_commands(capsys):
    assert course.main(["help"]) == 0
    assert "--allow-root" in capsys.readouterr().out
    assert course.main(["labb"]) == 2
    assert "unknown command 'labb'" in capsys.readouterr().out
