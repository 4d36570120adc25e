"""Measurements from tables: patients as rows and analytes as columns, or analytes as rows with
times, patients, a reference range or a unit as columns.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import regex as re

from pipeline.document import Cell, Table
from pipeline.measurements.mentions import BASELINE_DEFAULT, _resolve_in, timepoint_of
from pipeline.measurements.model import Mention, UnitNormalizer
from pipeline.measurements.patterns import BASELINE_RE
from pipeline.measurements.units import unit_fields
from pipeline.patients import (
    find_patient_mentions,
)
from pipeline.record import Evidence, Measurement, Timepoint
from pipeline.ruleset import word_alternation
from pipeline.values import parse_number

_UNIT_IN_PARENS = re.compile(r"\(([^()]+)\)\s*$")
_ROW_PATIENT = re.compile(r"\s*(?:[A-Za-z]{1,3}\.?|#)?\s*(\d{1,3})\s*")  # "3", "P3", "Pt. 3", "PV3", "#3"
_PATIENT_HEADER_RE = re.compile(r"^(?:patients?|pts?|case|cases|no\.?|#|id|subject)\b", re.IGNORECASE)
_QUALITATIVE_RE = re.compile(rf"^(?:{word_alternation('value_forms', 'result')}|"
                             rf"{word_alternation('vocabulary', 'table_result_cell')})$", re.IGNORECASE)


def table_measurements(text: str, table: Table, analytes: Sequence[Mention], times: Sequence[Mention],
                       cohort: tuple[str, ...], *, normalizer: UnitNormalizer) -> list[Measurement]:
    """Per-patient table: rows are patients, columns analytes (unit in the header), time in caption/footnote."""
    if not table.header or not table.rows:
        return []
    pcol = next((i for i, c in enumerate(table.header) if _PATIENT_HEADER_RE.match(c.text)), 0)
    # a second header line ("| | Mucosa | BSA (%) | Anti-Dsg1"): no value in it, names under a spanning header
    sub = table.rows[0] if len(table.rows) > 1 and not any(parse_number(c.text) for c in table.rows[0]) else None
    headers = list(table.header)
    if sub is not None:
        headers = [sub[i] if i < len(sub) and sub[i].text else (headers[i] if i < len(headers) else sub[i])
                   for i in range(max(len(headers), len(sub)))]
    body = table.rows[1:] if sub is not None else table.rows
    columns: dict[int, tuple[Mention, str | None, str | None, Mention | None]] = {}
    for i, cell in enumerate(headers):
        if i == pcol:
            continue
        inside = [a for a in analytes if cell.start <= a.start and a.end <= cell.end]
        if not inside:
            continue
        unit = ucum = None
        unit, ucum = _cell_unit(cell.text, _UNIT_IN_PARENS, normalizer)
        col_time = next((t for t in times if cell.start <= t.start and t.end <= cell.end), None)
        columns[i] = (inside[0], unit, ucum, col_time)
    if len(columns) < 2:
        by_row = row_table_measurements(text, table, analytes, times, cohort, normalizer=normalizer)
        if by_row or not columns:
            return by_row
    table_time = _table_time(text, table, times)
    out = []
    for r, row in enumerate(body):
        if pcol >= len(row):
            continue
        pid = _row_patient(row[pcol].text, r, cohort)
        r_start, r_end = row[0].start, row[-1].end
        evidence = Evidence(start=r_start, end=r_end, text=text[r_start:r_end])
        for i, (analyte, unit, ucum, col_time) in columns.items():
            if i >= len(row):
                continue
            cell = row[i]
            raw = cell.text.strip()
            if not raw or raw in {"-", "–", "—", "NA", "n/a", "N/A", "/"}:
                continue
            parsed = parse_number(raw)
            qualitative = None
            if parsed is None:
                if not _QUALITATIVE_RE.match(raw):
                    continue
                qualitative = raw.lower()
            tmention = col_time or table_time
            ids = list(analyte.entity_ids) + ([tmention.id] if tmention is not None and tmention.id else [])
            out.append(Measurement(
                id="", patient=pid, analyte=analyte.analyte, kind=analyte.kind,
                value=parsed.value if parsed else None, evidence=evidence,
                comparator=parsed.comparator if parsed else None, unit=unit if parsed else None,
                unit_ucum=ucum if parsed else None, timepoint=timepoint_of(tmention), result=qualitative,
                entity_ids=ids, flags=[], table=table.id,
                value_span=Evidence(start=cell.start, end=cell.end, text=cell.text),
            ))
    return out


_UNIT_AFTER_COMMA = re.compile(r",\s*([^,()]{1,15})\s*$")
_REFERENCE_HEADER_RE = re.compile(r"^\W*(?:reference|normal|ref\b|ref\.|range|cut-?off|laboratory\s+(?:normal|reference))",
                                  re.IGNORECASE)
_UNIT_HEADER_RE = re.compile(r"^\W*units?\W*$", re.IGNORECASE)
_ADMISSION_RE = re.compile(r"\b(?:on\s+|at\s+)?(?:admission|presentation|initial|first\s+visit|diagnosis)\b", re.IGNORECASE)
_REF_RANGE_CELL = re.compile(r"^\s*(?P<lo>\d+(?:[.,]\d+)?)\s*[-–—~]\s*(?P<hi>\d+(?:[.,]\d+)?)\s*(?:\((?P<u1>[^()]+)\))?\s*$|"
                             r"^\s*(?P<cmp>[<>≤≥])\s*(?P<lim>\d+(?:[.,]\d+)?)\s*(?:\((?P<u2>[^()]+)\))?\s*$")


def _cell_unit(cell: str, pattern: re.Pattern[str], normalizer: UnitNormalizer) -> tuple[str | None, str | None]:
    """(unit, UCUM code) named in a cell by ``pattern``'s first group ("Hemoglobin (g/dL)", "ESR, mm/h")."""
    m = pattern.search(cell)
    return unit_fields(normalizer(m.group(1).strip()))[:2] if m else (None, None)


def reference_range(cell: str) -> dict[str, Any] | None:
    """``{"low", "high", "text"}`` of a reference-range cell ("13.0–18.0", "< 5"), None when it is none."""
    m = _REF_RANGE_CELL.match(cell)
    if m is None:
        return None
    if m["lo"] is not None:
        return {"low": float(m["lo"].replace(",", ".")), "high": float(m["hi"].replace(",", ".")), "text": cell.strip()}
    limit = float(m["lim"].replace(",", "."))
    return {"low": limit if m["cmp"] in ">≥" else None, "high": limit if m["cmp"] in "<≤" else None, "text": cell.strip()}


def reference_flags(value: float | None, ref: dict[str, Any] | None) -> list[str]:
    """``above_reference`` / ``below_reference`` for a value outside its reference range."""
    if value is None or ref is None:
        return []
    if ref.get("high") is not None and value > ref["high"]:
        return ["above_reference"]
    if ref.get("low") is not None and value < ref["low"]:
        return ["below_reference"]
    return []


def _column_roles(text: str, header: Sequence[Cell], times: Sequence[Mention]) -> dict[int, tuple[str, Any]]:
    """What each header cell after the first names: ``("ref", None)``, ``("unit", None)``,
    ``("patient", id)``, ``("time", Mention | Timepoint | None)``."""
    roles: dict[int, tuple[str, Any]] = {}
    for j, cell in enumerate(header):
        if j == 0:
            continue
        h = cell.text
        if _REFERENCE_HEADER_RE.match(h):
            roles[j] = ("ref", None)
        elif _UNIT_HEADER_RE.match(h):
            roles[j] = ("unit", None)
        elif (pm := find_patient_mentions(h)) and len(pm[0].ids) == 1 and pm[0].start <= 2:
            roles[j] = ("patient", pm[0].ids[0])
        else:
            t = next((t for t in times if cell.start <= t.start and t.end <= cell.end), None)
            if t is None and (BASELINE_RE.search(h) or _ADMISSION_RE.search(h)):
                roles[j] = ("time", BASELINE_DEFAULT)
            else:
                roles[j] = ("time", t or _resolve_in(h))
    return roles


def row_table_measurements(text: str, table: Table, analytes: Sequence[Mention], times: Sequence[Mention],
                           cohort: tuple[str, ...], *, normalizer: UnitNormalizer) -> list[Measurement]:
    """A table with analytes as rows ("Hemoglobin (g/dL) | 13.0-18.0 | 13.7 | 11.7"): columns are times
    ("On admission | Day 7"), patients ("Case 1 | Case 2"), a reference range or a unit column.

    A cell is read only when it is one value (a number with its comparator, or a qualitative word);
    "12 (3.4)" and other compound cells are left out rather than guessed.
    """
    roles = _column_roles(text, table.header, times)
    table_time = _table_time(text, table, times)
    single = cohort[0] if len(cohort) == 1 else None
    out = []
    group_unit: tuple[str | None, str | None] = (None, None)
    for row in table.rows:
        if len(row) < 2 or all(not c.text for c in row[1:]):
            # a row-group label ("Differential count (%)") states the unit of the rows under it
            group_unit = _cell_unit(row[0].text, _UNIT_IN_PARENS, normalizer) if row else (None, None)
            continue
        label = row[0]
        inside = [a for a in analytes if label.start <= a.start and a.end <= label.end]
        if not inside:
            continue
        analyte = inside[0]
        unit, ucum = _cell_unit(label.text, _UNIT_IN_PARENS, normalizer)
        if unit is None:  # "ESR, mm/h"
            unit, ucum = _cell_unit(label.text, _UNIT_AFTER_COMMA, normalizer)
        unit_col = next((j for j, (role, _) in roles.items() if role == "unit" and j < len(row)), None)
        if unit is None and unit_col is not None:
            unit, ucum, _, _ = unit_fields(normalizer(row[unit_col].text))
        ref_col = next((j for j, (role, _) in roles.items() if role == "ref" and j < len(row)), None)
        if unit is None:
            unit, ucum = group_unit
        ref = reference_range(row[ref_col].text) if ref_col is not None else None
        if ref_col is not None and unit is None:  # "11-15 (g/dL)": the unit stated with the reference range
            unit, ucum = _cell_unit(row[ref_col].text, _UNIT_IN_PARENS, normalizer)
        evidence = Evidence(start=row[0].start, end=row[-1].end, text=text[row[0].start:row[-1].end])
        for j, cell in enumerate(row[1:], start=1):
            role, what = roles.get(j, ("time", None))
            if role in ("ref", "unit"):
                continue
            raw = cell.text.strip()
            parsed = parse_number(raw)
            result = raw.lower() if parsed is None and _QUALITATIVE_RE.match(raw) else None
            if parsed is None and result is None:
                continue
            pid = what if role == "patient" else single
            if pid is None:
                continue
            when = what if role == "time" else None
            tp = when if isinstance(when, Timepoint) else timepoint_of(when or table_time)
            value = parsed.value if parsed else None
            out.append(Measurement(
                id="", patient=pid, analyte=analyte.analyte, kind=analyte.kind, value=value, evidence=evidence,
                comparator=parsed.comparator if parsed else None, unit=unit if parsed else None,
                unit_ucum=ucum if parsed else None, timepoint=tp, result=result, entity_ids=list(analyte.entity_ids),
                flags=reference_flags(value, ref), table=table.id, reference_range=ref,
                value_span=Evidence(start=cell.start, end=cell.end, text=cell.text),
            ))
    return out


def _row_patient(cell: str, row_index: int, cohort: tuple[str, ...]) -> str:
    mentions = find_patient_mentions(cell)
    if mentions and len(mentions[0].ids) == 1:
        return mentions[0].ids[0]
    m = _ROW_PATIENT.fullmatch(cell)
    if m:
        return str(int(m.group(1)))
    return cohort[row_index] if row_index < len(cohort) else str(row_index + 1)


def _table_time(text: str, table: Table, times: Sequence[Mention]) -> Mention | None:
    """The table's timepoint: a TIMEPOINT span in its caption or footnotes (located in the text), else resolved."""
    for note in [table.caption or ""] + list(table.footnotes):
        if not note:
            continue
        pos = text.find(note, max(0, table.start - len(note) - 200))
        if pos >= 0:
            span = next((t for t in times if pos <= t.start and t.end <= pos + len(note)), None)
            if span is not None:
                return span
        resolved = _resolve_in(note)
        if resolved is not None:
            return resolved
    return None
