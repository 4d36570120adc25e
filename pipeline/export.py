"""Tidy exports of the measurements: one row per measurement, as CSV and JSON Lines.

``measurement_rows(record)`` flattens one record; ``write_exports(records, out_dir)``
writes ``measurements.csv`` and ``measurements.jsonl`` atomically (a temporary file in
the same folder, then ``os.replace``), rows ordered by document id and measurement
order so that two runs give identical files.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.errors import OutputError

COLUMNS = (
    "doc_id", "measurement_id", "patient", "analyte", "kind", "value", "comparator", "unit", "unit_ucum",
    "result", "timepoint_text", "timepoint_value", "timepoint_unit", "days", "is_baseline", "date",
    "evidence", "evidence_start", "evidence_end", "page", "table", "derived", "flags",
)


def measurement_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat dict per measurement of ``record`` (keys ``COLUMNS``; flags kept as a list)."""
    doc_id = record.get("document", {}).get("id")
    rows = []
    for m in record.get("measurements", []):
        tp = m.get("timepoint") or {}
        ev = m.get("evidence") or {}
        rows.append({
            "doc_id": doc_id, "measurement_id": m.get("id"), "patient": m.get("patient"),
            "analyte": m.get("analyte"), "kind": m.get("kind"), "value": m.get("value"),
            "comparator": m.get("comparator"), "unit": m.get("unit"), "unit_ucum": m.get("unit_ucum"),
            "result": m.get("result"), "timepoint_text": tp.get("text"),
            "timepoint_value": tp.get("value"), "timepoint_unit": tp.get("unit"), "days": tp.get("days"),
            "is_baseline": bool(tp.get("is_baseline")) if tp else None, "date": tp.get("date"),
            "evidence": ev.get("text"), "evidence_start": ev.get("start"), "evidence_end": ev.get("end"),
            "page": ev.get("page"), "table": m.get("table"), "derived": bool(m.get("derived", False)),
            "flags": list(m.get("flags") or []),
        })
    return rows


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def _sort_key(row: dict[str, Any]) -> tuple:
    mid = str(row.get("measurement_id") or "")
    num = int(mid[1:]) if mid[1:].isdigit() else 0
    return (str(row.get("doc_id") or ""), num, mid)


def write_exports(records: Iterable[dict[str, Any]], out_dir: Path) -> None:
    """Write ``out_dir/measurements.csv`` and ``out_dir/measurements.jsonl`` (atomically, deterministic order)."""
    from pipeline.batch import atomic_write_text

    out_dir = Path(out_dir)
    rows = sorted((row for record in records for row in measurement_rows(record)), key=_sort_key)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(row[k]) for k in COLUMNS})
    jsonl = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out_dir / "measurements.csv", buf.getvalue(), newline="")
        atomic_write_text(out_dir / "measurements.jsonl", jsonl, newline="")
    except OSError as e:
        raise OutputError(f"cannot write exports: {e}", path=out_dir) from e
