"""The benchmark's results as package data (vae_course/nb07/benchmark.json): README's table says the same,
benchmarks/train_vae.py's write_results writes a file that reads back, and notebook 07 prints them from the
file instead of quoting them in its markdown."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

from vae_course import nb07

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "vae_course" / "nb07" / "benchmark.json"
HEADER = "| model | seed 0 | seed 1 | seed 2 | median −log p(x) | median −ELBO | KL | training CPU, median (wall) |"


def _number(cell: str) -> float:
    m = re.search(r"-?\d+(?:\.\d+)?", cell.replace("**", ""))
    assert m, f"no number in README cell {cell!r}"
    return float(m.group())


def readme_table(text: str) -> tuple[dict, dict]:
    """README's benchmark table → ({model: {nll_by_seed, median}}, {reference: nll}): the first row whose first
    word is a model's name is that model (later rows are earlier sessions); 'intro_dgm X' rows are references."""
    lines = text.splitlines()
    start = lines.index(HEADER) + 2  # the header and its |---| line
    models, refs = {}, {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        words = cells[0].split()
        if words[0] == "intro_dgm":
            refs[f"intro_dgm {words[1].lower().rstrip(',')}"] = _number(cells[4])
            continue
        name = words[0]
        if name in models:
            continue
        wall = re.search(r"\((\d+(?:\.\d+)?) s\)", cells[7])
        nll = _number(cells[4])
        models[name] = {"nll_by_seed": [_number(c) for c in cells[1:4]],
                        "median": {"nll": nll, "neg_elbo": nll if "exact" in cells[5] else _number(cells[5]),
                                   "kl": _number(cells[6]), "cpu": _number(cells[7]),
                                   "seconds": float(wall.group(1)) if wall else None}}
    return models, refs


def test_readme_benchmark_table_and_the_packaged_results_agree():
    results = nb07.benchmark_results()
    models, refs = readme_table((ROOT / "README.md").read_text())
    assert set(results["models"]) <= set(models), f"README's table lacks {set(results['models']) - set(models)}"
    for name, row in results["models"].items():
        assert models[name]["nll_by_seed"] == row["nll_by_seed"], name
        for key, value in row["median"].items():
            assert models[name]["median"][key] == pytest.approx(value, abs=0.005), (name, key)
    assert refs == {name: r["nll"] for name, r in results["references"].items()}
    assert len(results["seeds"]) == len(next(iter(results["models"].values()))["nll_by_seed"])


def test_the_readme_parser_sees_a_changed_number():
    text = (ROOT / "README.md").read_text()
    models, _ = readme_table(text)
    changed, _ = readme_table(text.replace("| **81.52** |", "| **81.53** |", 1))
    assert models["ar"]["median"]["nll"] == 81.52 and changed["ar"]["median"]["nll"] == 81.53


def test_benchmark_results_rejects_a_file_without_models(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"models": {"ar": {"nll_by_seed": [1.0]}}}))
    with pytest.raises(ValueError, match="median"):
        nb07.benchmark_results(bad)
    bad.write_text(json.dumps({"k": 1000}))
    with pytest.raises(ValueError, match="no models"):
        nb07.benchmark_results(bad)
    with pytest.raises(ValueError, match="no benchmark model"):
        nb07.benchmark_summary(["gan"])


def test_write_results_writes_what_benchmark_results_reads(tmp_path):
    spec = importlib.util.spec_from_file_location("train_vae", ROOT / "benchmarks" / "train_vae.py")
    train_vae = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_vae)
    runs = [{"nll": 81.494, "neg_elbo": 84.7, "kl": 5.9, "cpu": 25.4, "seconds": 400.0, "epochs": 56},
            {"nll": 81.606, "neg_elbo": 84.8, "kl": 6.0, "cpu": 25.6, "seconds": 410.0, "epochs": 56}]
    medians = {"ar": {key: (runs[0][key] + runs[1][key]) / 2 for key in runs[0]}}
    path = tmp_path / "benchmark.json"
    train_vae.write_results(path, {"ar": runs}, medians, k=1000, seeds=[0, 1], threads=1)
    back = nb07.benchmark_results(path)
    assert back["models"]["ar"]["nll_by_seed"] == [81.49, 81.61]
    assert back["models"]["ar"]["median"]["nll"] == 81.55
    assert back["references"]["intro_dgm vae"]["nll"] == train_vae.INTRO_DGM["vae"][0]
    assert "81.55" in nb07.benchmark_summary(results=back)


def test_notebook_07_prints_the_benchmark_and_quotes_none_of_its_numbers():
    results = nb07.benchmark_results()
    numbers = {f"{r['median'][k]:.2f}" for r in results["models"].values() for k in ("nll", "neg_elbo", "kl")}
    numbers |= {f"{r['median'][k]:.1f}" for r in results["models"].values() for k in ("nll", "kl")}
    numbers |= {f"{r['nll']:.2f}" for r in results["references"].values()}
    numbers |= {f"{r['nll']:.1f}" for r in results["references"].values()}
    numbers -= {"0.00", "0.0"}
    for path in (ROOT / "notebooks" / "solutions").glob("07_*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        quoted = sorted(n for n in numbers if re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", markdown))
        assert not quoted, f"{path.name}'s markdown quotes benchmark numbers {quoted}: print them from the file"
        assert any("benchmark_summary(" in c.source for c in nb.cells if c.cell_type == "code")
