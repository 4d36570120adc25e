"""Tests of pipeline/cli.py: commands, exit statuses and error lines.

``clinex run`` is exercised with the batch tests' injected per-document
function (``tests.test_batch.fake_extract``) so these tests are about the CLI;
the real pipeline is covered by tests/test_batch.py.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipeline import batch
from pipeline.cli import app, find_gold_dir, parse_overrides
from tests.test_batch import BAD, FIXTURES, GOOD, fake_extract, fake_is_current

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> list[list[dict[str, Any]]]:
    """The fake per-document function in place of the real one; exports captured."""
    monkeypatch.setattr(batch, "process_document", fake_extract)
    monkeypatch.setattr(batch, "init_pipeline", lambda options: None)
    monkeypatch.setattr(batch, "_default_is_current", fake_is_current)
    monkeypatch.setattr(batch, "_rules_hash", lambda: "0" * 64)
    monkeypatch.setattr(batch, "_model_name", lambda ner_model: None)
    exported: list[list[dict[str, Any]]] = []
    export = types.ModuleType("pipeline.export")
    export.write_exports = lambda records, out_dir: exported.append(list(records))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pipeline.export", export)
    return exported


def test_module_help_runs_without_importing_spacy() -> None:
    code = ("import sys\nfrom pipeline.cli import main\nsys.argv = ['clinex', '--help']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0\n"
            "assert 'spacy' not in sys.modules, 'spacy imported by --help'\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for command in ("run", "evaluate", "train-ner", "validate-rules", "bench", "brat-export", "schema"):
        assert command in result.stdout
    module = subprocess.run([sys.executable, "-m", "pipeline", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert module.returncode == 0 and "Usage" in module.stdout


def test_version_and_schema(runner: CliRunner) -> None:
    from pipeline import __version__

    assert runner.invoke(app, ["--version"]).stdout.strip() == f"clinex {__version__}"
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0 and json.loads(result.stdout)["title"] == "clinex record"


def test_run_writes_records_and_prints_a_summary(runner: CliRunner, fake_pipeline: list, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in GOOD:
        shutil.copy(FIXTURES / name, src / name)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(src), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("2 documents (2 processed, 0 skipped, 0 failed)")
    assert {p.name for p in out.iterdir()} == {"case_report.json", "letter.json", "manifest.json", "errors.jsonl"}
    assert [len(records) for records in fake_pipeline] == [2]
    again = runner.invoke(app, ["run", str(src), "--out", str(out), "--workers", "1"])
    assert "(0 processed, 2 skipped, 0 failed)" in again.stdout


def test_run_reports_each_bad_file_once_and_exits_1(runner: CliRunner, fake_pipeline: list, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in GOOD + BAD:
        shutil.copy(FIXTURES / name, src / name)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(src), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(BAD)
    for name in BAD:
        (line,) = [e for e in errors if f"{name}: " in e]
        assert line.startswith(f"error: {src / name}: ") and "[E1" in line
    assert "2 processed, 0 skipped, 4 failed" in result.stdout
    assert len((out / "errors.jsonl").read_text().splitlines()) == len(BAD)
    assert sorted(p.name for p in out.glob("*.json")) == ["case_report.json", "letter.json", "manifest.json"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "{src}"], "--out DIR is required"),
        (["run", "{src}", "--out", "{file}"], "not writable"),
        (["run", "{src}", "--out", "{file}/sub"], "not writable"),
        (["run", "{src}", "--out", "{tmp}/o", "--scheduler", "tcp://x:8786"], "--scheduler needs --executor dask"),
        (["evaluate", "--gold", "{tmp}/nogold", "--pred", "{tmp}"], "--gold is not a directory"),
    ],
)
def test_usage_errors_exit_2_with_one_line(runner: CliRunner, fake_pipeline: list, tmp_path: Path,
                                           args: list[str], message: str) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(FIXTURES / GOOD[0], src / GOOD[0])
    (tmp_path / "file").write_text("x")
    filled = [a.format(src=src, file=tmp_path / "file", tmp=tmp_path) for a in args]
    result = runner.invoke(app, filled)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_run_without_inputs_needs_a_corpus(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and "no corpus/documents.jsonl" in result.stderr


def test_run_without_inputs_runs_the_corpus_into_outputs_and_evaluates(
        runner: CliRunner, fake_pipeline: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "corpus" / "gold").mkdir(parents=True)
    for name in GOOD:
        shutil.copy(FIXTURES / name, tmp_path / "corpus" / name)
    listing = "".join(json.dumps({"file": name}) + "\n" for name in GOOD)
    (tmp_path / "corpus" / "documents.jsonl").write_text(listing)
    (tmp_path / "corpus" / "GUIDELINES.md").write_text("# not a document\n")
    (tmp_path / "corpus" / "gold" / "letter.json").write_text("{}")
    calls: list[tuple[Path, Path, list[str]]] = []
    evaluate = types.ModuleType("pipeline.evaluate")
    evaluate.evaluate_dirs = lambda g, p, doc_ids=None: calls.append((g, p, list(doc_ids))) or {}  # type: ignore
    evaluate.format_table = lambda result: "EVALUATION TABLE"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pipeline.evaluate", evaluate)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "outputs").glob("*.json")) == [
        "case_report.json", "letter.json", "manifest.json"]
    assert calls == [(Path("corpus/gold"), Path("outputs"), ["letter"])]
    assert "EVALUATION TABLE" in result.stdout


def test_evaluate_writes_json_and_report_and_checks_min_f1(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "gold").mkdir()
    (tmp_path / "pred").mkdir()
    args = ["evaluate", "--gold", str(tmp_path / "gold"), "--pred", str(tmp_path / "pred"),
            "--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.md")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text()) and (tmp_path / "r.md").read_text().strip()
    failing = runner.invoke(app, args + ["--min-f1", "0.5"])  # nothing scored: cannot pass a threshold
    assert failing.exit_code == 1 and failing.stderr.startswith(f"error: {tmp_path / 'pred'}: F1 below")


def test_clinex_errors_become_one_line_and_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["brat-export", str(tmp_path / "missing.json"), "--out", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'missing.json'}: cannot read: No such file or directory"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], {}),
        (["--n-iter", "10"], {"n_iter": 10}),
        (["--seed=3", "--verbose"], {"seed": 3, "verbose": True}),
        (["--lang", "en", "--dropout", "0.2"], {"lang": "en", "dropout": 0.2}),
    ],
)
def test_parse_overrides(args: list[str], expected: dict[str, Any]) -> None:
    assert parse_overrides(args) == expected


def test_find_gold_dir_prefers_explicit_then_beside_inputs(tmp_path: Path) -> None:
    (tmp_path / "c" / "gold").mkdir(parents=True)
    (tmp_path / "c" / "a.txt").write_text("x")
    assert find_gold_dir([str(tmp_path / "c")], None) == tmp_path / "c" / "gold"
    assert find_gold_dir([str(tmp_path / "c" / "a.txt")], None) == tmp_path / "c" / "gold"
    assert find_gold_dir([str(tmp_path)], None) is None
    assert find_gold_dir([str(tmp_path)], Path("g")) == Path("g")
