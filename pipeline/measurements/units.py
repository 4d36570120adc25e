"""Reading the unit written after a value (or named in parentheses after its analyte), via ``pipeline.units``.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import regex as re

log = logging.getLogger(__name__)
from pipeline.measurements.model import UnitNormalizer, Value
from pipeline.measurements.patterns import _LOST_SUPERSCRIPT

_FIRST_HOUR_RE = re.compile(r"\s*\((?:in\s+the\s+)?(?:1st|first)\s+h(?:ou)?r\)", re.IGNORECASE)
_SCORE_NON_UNITS = {"unit", "units", "point", "points", "pts", "pt", "score", "scores"}
_OPTIONAL_BLANK = re.compile(r"[ \t]?")
_NON_SPACE = re.compile(r"[^\s]+")


def unit_fields(info: Any) -> tuple[str | None, str | None, float | None, str | None]:
    """(canonical unit, UCUM code, factor, dimension) of a ``UnitInfo`` (or a dict of the same keys)."""
    if info is None:
        return None, None, None, None

    def get(*names: str) -> Any:
        for name in names:
            value = info.get(name) if isinstance(info, dict) else getattr(info, name, None)
            if value is not None:
                return value
        return None

    return (get("unit", "canonical", "name", "id"), get("ucum", "ucum_code", "code"), get("factor"),
            get("dimension"))


def default_unit_normalizer() -> UnitNormalizer:
    """``pipeline.units.normalize_unit``; a normalizer knowing no unit (warned once) if it is missing."""
    try:
        from pipeline.units import normalize_unit
    except ImportError:
        log.warning("pipeline.units is not available: measurements are read without units")
        return lambda text: None
    return normalize_unit


def read_unit(text: str, pos: int, *, kind: str = "lab", limit: int | None = None,
              normalizer: UnitNormalizer) -> tuple[str | None, str | None, str | None, int] | None:
    """The unit written at ``text[pos:]``: (unit, ucum, unit text, end) or None.

    Tries the longest of up to three whitespace-separated tokens first ("mm (1st
    hour)" before "mm"); a unit in parentheses ("(×10^11/L)") is read without
    them. "units"/"points" after a score are consumed but are no unit.
    """
    limit = len(text) if limit is None else limit
    m = _OPTIONAL_BLANK.match(text[pos:limit])
    start = pos + (m.end() if m else 0)
    tokens = list(_NON_SPACE.finditer(text[start:min(limit, start + 40)]))[:3]
    if not tokens or (tokens[0].start() > 0):
        return None
    first = tokens[0].group(0).rstrip(",;:.")
    if first.lower() in _SCORE_NON_UNITS and kind == "score":
        return None, None, first, start + len(first)
    for k in range(len(tokens), 0, -1):
        cand = text[start:start + tokens[k - 1].end()].rstrip(",;:.")
        while cand.endswith(")") and cand.count(")") > cand.count("("):  # "CRP (34 mg/l)": the aside closes
            cand = cand[:-1].rstrip(",;:.")
        if k > 1 and cand.count("(") != cand.count(")"):
            continue
        probe = cand[1:-1] if cand.startswith("(") and cand.endswith(")") and cand.count("(") == 1 else cand
        if not probe or probe[0].isdigit() and "^" not in probe and "×" not in probe \
                and not _LOST_SUPERSCRIPT.match(probe):
            continue
        unit, ucum, _, _ = unit_fields(normalizer(probe))
        if unit is not None:
            end = start + len(cand)
            # "52 mm (1st hour)": a length read in the first hour of sedimentation is a rate per hour.
            hour = _FIRST_HOUR_RE.match(text, end, limit)
            if hour:
                per_hour, per_hour_ucum, _, _ = unit_fields(normalizer(f"{probe}/h"))
                if per_hour is not None:
                    return per_hour, per_hour_ucum, text[start:hour.end()], hour.end()
            return unit, ucum, cand, end
    return None


_LABEL_UNIT = re.compile(r"\(\s*(?P<u>[^,;()]{1,20}?)\s*(?:[,;][^()]*)?\)")


def with_label_unit(text: str, owner_end: int, first: int, values: list[Value],
                    normalizer: UnitNormalizer) -> list[Value]:
    """"Serum creatinine (mg/dl, median) 0.70", "CRP (mg/L): 12": a unit named in parentheses between the
    analyte and its values applies to those of them that state none."""
    m = _LABEL_UNIT.search(text, owner_end, first)
    if m is None:
        return values
    unit, ucum, _, _ = unit_fields(normalizer(m["u"]))
    if unit is None:
        return values
    return [replace(v, unit=unit, unit_ucum=ucum) if v.unit is None and v.start > owner_end else v for v in values]
