"""Tests of pipeline/export.py: tidy CSV/JSONL rows, atomic and deterministic."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline.errors import OutputError
from pipeline.export import COLUMNS, measurement_rows, write_exports


def record(doc_id: str, measurements: list[dict]) -> dict:
    return {"document": {"id": doc_id}, "measurements": measurements}


def meas(mid: str, value: float | None, *, tp: dict | None = None, flags: list[str] | None = None,
         result: str | None = None) -> dict:
    return {
        "id": mid, "patient": "2", "analyte": "IgA", "kind": "lab", "value": value, "comparator": None,
        "unit": "g/L", "unit_ucum": "g/L", "result": result, "timepoint": tp,
        "evidence": {"start": 5, "end": 40, "text": "IgA levels dropped, to 0.82 g/L", "page": 3, "bbox": None},
        "entity_ids": ["e1"], "flags": flags or [], "derived": False, "table": None,
    }


WEEK24 = {"text": "at the 24-week follow-up", "value": 24, "unit": "week", "days": 168, "is_baseline": False}


def test_measurement_rows_flatten_one_record() -> None:
    (row,) = measurement_rows(record("doc-a", [meas("m1", 0.82, tp=WEEK24, flags=["a", "b"])]))
    assert list(row) == list(COLUMNS)
    assert (row["doc_id"], row["patient"], row["analyte"], row["value"], row["unit"], row["unit_ucum"]) == (
        "doc-a", "2", "IgA", 0.82, "g/L", "g/L")
    assert (row["timepoint_text"], row["timepoint_value"], row["timepoint_unit"], row["days"], row["is_baseline"]) == (
        "at the 24-week follow-up", 24, "week", 168, False)
    assert (row["evidence"], row["page"], row["flags"]) == ("IgA levels dropped, to 0.82 g/L", 3, ["a", "b"])


def test_rows_without_timepoint_keep_empty_time_fields() -> None:
    (row,) = measurement_rows(record("d", [meas("m1", None, result="negative")]))
    assert row["timepoint_text"] is None and row["is_baseline"] is None and row["result"] == "negative"


def test_write_exports_csv_and_jsonl(tmp_path: Path) -> None:
    records = [record("doc-b", [meas("m2", 3.06), meas("m10", 5.48), meas("m1", 0.5, tp=WEEK24, flags=["x", "y"])]),
               record("doc-a", [meas("m1", 1.0)])]
    write_exports(records, tmp_path / "out")
    with open(tmp_path / "out" / "measurements.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["doc_id"], r["measurement_id"]) for r in rows] == [
        ("doc-a", "m1"), ("doc-b", "m1"), ("doc-b", "m2"), ("doc-b", "m10")]
    assert rows[1]["flags"] == "x;y" and rows[1]["is_baseline"] == "false" and rows[0]["timepoint_text"] == ""
    assert rows[2]["evidence"] == "IgA levels dropped, to 0.82 g/L"  # the comma is quoted, not a new column
    lines = (tmp_path / "out" / "measurements.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["value"] for x in lines] == [1.0, 0.5, 3.06, 5.48]
    assert json.loads(lines[1])["flags"] == ["x", "y"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["measurements.csv", "measurements.jsonl"]


def test_write_exports_is_deterministic(tmp_path: Path) -> None:
    records = [record("b", [meas("m1", 1.0)]), record("a", [meas("m1", 2.0)])]
    write_exports(records, tmp_path / "one")
    write_exports(list(reversed(records)), tmp_path / "two")
    for name in ("measurements.csv", "measurements.jsonl"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_write_exports_into_a_file_path_raises_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        write_exports([record("a", [meas("m1", 1.0)])], blocker)


def test_write_exports_keeps_old_file_when_writing_fails(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    write_exports([record("a", [meas("m1", 1.0)])], out)
    before = (out / "measurements.csv").read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("pipeline.batch.os.replace", boom)
    with pytest.raises(OutputError):
        write_exports([record("a", [meas("m1", 9.0)])], out)
    assert (out / "measurements.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["measurements.csv", "measurements.jsonl"]
