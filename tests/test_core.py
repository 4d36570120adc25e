"""Tests of pipeline/core.py: record assembly helpers."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.core import extract, offset_segments
from pipeline.record import validate_record

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("offset_map", "expected"),
    [
        ([0, 1, 2, 3], [[0, 0, 3]]),
        ([0, 1, 5, 6, 7], [[0, 0, 2], [2, 5, 2]]),
        ([3, 3, 4, 9], [[0, 3, 1], [1, 3, 2]]),
        ([0], []),
        ([], []),
        ([5, 9], [[0, 5, 1]]),
        ([2, 1, 0, 7], [[0, 2, 1], [1, 1, 1], [2, 0, 1]]),
        ([0, 1, 2, 2, 3, 4, 10, 11, 12], [[0, 0, 3], [3, 2, 3], [6, 10, 2]]),
    ],
)
def test_offset_segments(offset_map: list[int], expected: list[list[int]]) -> None:
    assert offset_segments(offset_map) == expected


@pytest.mark.parametrize("seed", range(5))
def test_offset_segments_expand_back_to_the_map(seed: int) -> None:
    import random

    rng = random.Random(seed)
    raw, offset_map = 0, []
    for _ in range(300):
        raw += rng.choice([1, 1, 1, 1, 0, 2, 7])
        offset_map.append(raw)
    expanded = [raw_start + k for _, raw_start, length in offset_segments(offset_map) for k in range(length)]
    assert expanded == offset_map[:-1]


def test_long_text_runs_in_linear_time(tmp_path: Path) -> None:
    """4x the text must cost about 4x the CPU time, not 16x (issue #2: a 10 MB file finishes in
    linear time); beyond spaCy's 1M-character default, and with the NER run chunk-wise."""
    from pipeline.nlp import load_nlp

    nlp = load_nlp(ner_model="default")
    letter = (ROOT / "corpus" / "li2025_cellres_cart_ra_letter.txt").read_text(encoding="utf-8")
    seconds = {}
    for copies in (2, 8):
        path = tmp_path / f"long{copies}.txt"
        path.write_text("\n\n".join([letter] * copies), encoding="utf-8")
        started = time.process_time()
        record = extract(path, nlp=nlp)
        seconds[copies] = time.process_time() - started
        assert len(record["entities"]) > 100 * copies
    assert seconds[8] < 8 * seconds[2], seconds  # quadratic work would be ~16x


def test_text_over_a_million_characters_is_processed(tmp_path: Path) -> None:
    from pipeline.nlp import load_nlp

    nlp = load_nlp(ner_model=None)
    path = tmp_path / "long.txt"
    # ~1.02M characters in few tokens (long filler words keep the test fast)
    path.write_text(("The ESR was 52 mm/h at baseline. " + "w" * 980 + ".\n\n") * 1_000, encoding="utf-8")
    record = extract(path, nlp=nlp)
    assert len(record["document"]["text"]) > 1_000_000 and record["measurements"]


@pytest.mark.parametrize("engine", ["pdfplumber", "pypdfium2"])
def test_pdf_case_series_end_to_end(engine: str) -> None:
    """An invented two-patient PDF (tests/fixtures/measurements/make_case_series_pdf.py): prose values
    and a ruled per-patient table whose caption gives the time, each value located on its page (both engines)."""
    record = extract(ROOT / "tests" / "fixtures" / "measurements" / "lupus_case_series.pdf", pdf_engine=engine)
    validate_record(record)
    got = [(m["patient"], m["analyte"], m["comparator"], m["value"], m["unit"], m["timepoint"]["days"],
            m["value_span"]["text"]) for m in record["measurements"]]
    assert got == [
        ("1", "SLEDAI-2K", None, 14.0, None, 0.0, "14"), ("1", "SLEDAI-2K", None, 4.0, None, 168.0, "4"),
        ("2", "SLEDAI-2K", None, 12.0, None, 0.0, "12"), ("2", "SLEDAI-2K", None, 6.0, None, None, "6"),
        ("1", "C3", None, 0.62, "g/L", 84.0, "0.62"), ("1", "C4", None, 0.08, "g/L", 84.0, "0.08"),
        ("1", "anti-dsDNA", None, 210.0, "IU/mL", 84.0, "210"),
        ("2", "C3", None, 0.91, "g/L", 84.0, "0.91"), ("2", "C4", None, 0.15, "g/L", 84.0, "0.15"),
        ("2", "anti-dsDNA", "<", 10.0, "IU/mL", 84.0, "<10"),
    ]  # the reference ranges under the table are not measurements
    width, height = 595.28, 841.89  # A4 in points
    for m in record["measurements"]:
        x0, top, x1, bottom = m["value_span"]["bbox"]
        assert m["value_span"]["page"] == 1 and 0 <= x0 < x1 <= width and 0 <= top < bottom <= height
    table = record["document"]["tables"][0]
    assert table["caption"] == "Table 1 Laboratory values after 12 weeks of treatment"
    assert [(p["id"], p["age"], p["sex"]) for p in record["patients"]] == [("1", 34, "F"), ("2", 41, "M")]
    dose = record["drugs"][0]["dose"][0]
    assert (record["drugs"][0]["name"], dose["value"], dose["unit"], dose["frequency"]) == (
        "anifrolumab", 300, "mg", "every 4 weeks")
