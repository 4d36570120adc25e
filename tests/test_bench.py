"""Tests of pipeline/bench.py: corpus generation and the table (never timings)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import bench
from pipeline.cli import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("i", "first_para"),
    [(0, "a"), (1, "b"), (2, "c"), (3, "a")],
)
def test_vary_rotates_paragraphs_behind_a_case_header(i: int, first_para: str) -> None:
    text = bench.vary("a\n\nb\n\nc", i)
    assert text.startswith(f"Case {i}\n\n{first_para}")
    assert sorted(p.strip() for p in text.split("\n\n")[1:]) == ["a", "b", "c"]


def test_text_corpus_has_n_distinct_documents(tmp_path: Path) -> None:
    paths = bench.make_text_corpus(tmp_path, 5, bench.seed_texts(ROOT))
    assert len(paths) == 5 and len({p.read_text() for p in paths}) == 5
    assert bench.count_words(paths) > 100


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [("text_words_per_s", 25_000.0, True), ("text_words_per_s", 5_000.0, False),
     ("peak_rss_mb_per_worker", 700.0, False), ("cold_start_s", 1.0, True), ("scaling_1x", 0.1, None)],
)
def test_row_checks_its_target(key: str, value: float, ok: bool | None) -> None:
    assert bench._row(key, key, value, "u")["ok"] is ok


def test_format_bench_prints_every_row_with_ratio() -> None:
    rows = [bench._row("text_words_per_s", "text: words/s (1 process)", 30_000.0, "word/s", 300_000.0),
            bench._row("cold_start_s", "cold start: import + pipeline load", 2.5, "s")]
    result = {"machine": {"python": "3.11", "platform": "x", "cpus": 2},
              "corpus": {"text_documents": 10, "words": 1234, "pdf_documents": 0}, "quick": True, "rows": rows}
    lines = bench.format_bench(result).splitlines()
    assert lines[0].startswith("clinex bench: 10 text docs (1,234 words)")
    assert lines[1].split()[:2] == ["metric", "value"]
    assert "30,000" in lines[2] and "300,000" in lines[2] and "0.10" in lines[2] and lines[2].endswith("yes")
    assert lines[3].startswith("cold start") and "<= 3" in lines[3]


@pytest.mark.slow
def test_bench_quick_prints_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["bench", "--quick", "--out", str(tmp_path / "bench.json")])
    assert result.exit_code == 0, result.output
    for metric in ("text: words/s", "pdf[pypdfium2]: pages/s", "pdf[pdfplumber]: pages/s", "peak RSS per worker",
                   "speedup: 2 workers vs 1", "scaling 4x", "cold start: import + pipeline load"):
        assert metric in result.output
    assert (tmp_path / "bench.json").exists()


def test_scaling_corpus_repeats_the_same_mix_of_documents(tmp_path: Path) -> None:
    seeds = bench.seed_texts(ROOT)
    small = bench.make_text_corpus(tmp_path / "1x", 2, seeds, variants=2)
    large = bench.make_text_corpus(tmp_path / "4x", 8, seeds, variants=2)

    def body(p: Path) -> str:
        return p.read_text().split("\n\n", 1)[1]

    assert [body(p) for p in large] == [body(p) for p in small] * 4
    assert len({p.read_text() for p in large}) == 8  # each file still has its own case header
    assert bench.count_words(large) == 4 * bench.count_words(small)


def test_format_bench_prints_notes() -> None:
    result = {"machine": {"python": "3.11", "platform": "x", "cpus": 2},
              "corpus": {"text_documents": 1, "words": 10, "pdf_documents": 0}, "quick": True,
              "rows": [bench._row("speedup_2_workers", "speedup: 2 workers vs 1", 1.5, "x", 1.8)],
              "notes": ["baseline of 'speedup': machine ceiling"]}
    text = bench.format_bench(result)
    assert text.splitlines()[-1] == "note: baseline of 'speedup': machine ceiling"
    assert "0.83" in text  # ratio to the measured ceiling
