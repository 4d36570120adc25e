"""Clinical checks and derived fields over a document's measurements (pure functions).

- Range checks: a value outside the valid range of its analyte (``range`` in
  ``rules/scores.jsonl`` / ``rules/labs.jsonl``) is flagged ``out_of_range``; it is
  never changed.
- Composite scores recomputed from their components measured in the same patient
  at the same timepoint, and the reported value flagged ``composite_consistent`` or
  ``composite_inconsistent:<expected>``:

  * CDAI = TJC28 + SJC28 + PtGA + PhGA (global assessments on 0-10 scales);
  * SDAI = CDAI + CRP (mg/dL);
  * DAS28-ESR = 0.56·√TJC28 + 0.28·√SJC28 + 0.70·ln(ESR) + 0.014·PtGA (0-100 mm);
  * DAS28-CRP = 0.56·√TJC28 + 0.28·√SJC28 + 0.36·ln(CRP mg/L + 1) + 0.014·PtGA + 0.96.

  (Prevoo et al., Arthritis Rheum 1995; Aletaha & Smolen, Clin Exp Rheumatol 2005.)
- Disease-activity categories from published cut-offs (DAS28: remission < 2.6, low
  <= 3.2, moderate <= 5.1, high > 5.1; CDAI: remission <= 2.8, low <= 10, moderate
  <= 22, high > 22; SDAI: remission <= 3.3, low <= 11, moderate <= 26, high > 26).
- EULAR response (van Gestel et al., Arthritis Rheum 1996) from a baseline and a
  follow-up DAS28 of the same patient: improvement > 1.2 and follow-up <= 3.2 is
  "good"; improvement > 1.2, or improvement > 0.6 with follow-up <= 5.1, is
  "moderate"; otherwise "none".

Derived entries are dicts with ``"derived": True`` and ``kind``, ``patient``,
``analyte``, ``timepoint``, ``value`` / ``category`` and ``source_ids`` (the ids of the
measurements they come from).
"""
from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from pipeline.errors import RuleError
from pipeline.record import Measurement, Timepoint

log = logging.getLogger(__name__)

Range = tuple[float, float]
DAS28_ANALYTES = ("DAS28-ESR", "DAS28-CRP", "DAS28")
TOLERANCE = {"CDAI": 0.5, "SDAI": 0.5, "DAS28-ESR": 0.1, "DAS28-CRP": 0.1}
CUTOFFS: dict[str, tuple[tuple[str, float, bool], ...]] = {
    # (category, upper bound, bound included)
    "DAS28": (("remission", 2.6, False), ("low", 3.2, True), ("moderate", 5.1, True), ("high", math.inf, True)),
    "CDAI": (("remission", 2.8, True), ("low", 10.0, True), ("moderate", 22.0, True), ("high", math.inf, True)),
    "SDAI": (("remission", 3.3, True), ("low", 11.0, True), ("moderate", 26.0, True), ("high", math.inf, True)),
}


# --------------------------------------------------------------------------- ranges


@lru_cache(maxsize=1)
def valid_ranges() -> dict[str, tuple[Range, str | None]]:
    """Valid range and its unit (the first listed) per analyte id, from the score and lab rules."""
    from pipeline.ruleset import load_rules

    ranges: dict[str, tuple[Range, str | None]] = {}
    for name in ("scores", "labs"):
        for rule in load_rules(name):
            if rule.get("range") and rule.get("id"):
                units = rule.get("units") or [None]
                ranges.setdefault(rule["id"], ((float(rule["range"][0]), float(rule["range"][1])), units[0]))
    return ranges


def out_of_range(value: float | None, unit: str | None, valid: tuple[Range, str | None] | None) -> bool:
    """True when ``value`` lies outside ``valid`` (checked only in the range's unit, or when no unit is known)."""
    if value is None or valid is None:
        return False
    (lo, hi), range_unit = valid
    if unit is not None and range_unit is not None and unit != range_unit and range_unit != "points":
        return False
    return value < lo or value > hi


def flag_ranges(measurements: Sequence[Measurement],
                ranges: dict[str, tuple[Range, str | None]]) -> list[Measurement]:
    """The measurements, each flagged ``out_of_range`` when its value breaks its analyte's range."""
    out = []
    for m in measurements:
        if out_of_range(m.value, m.unit, ranges.get(m.analyte)) and "out_of_range" not in m.flags:
            m = replace(m, flags=sorted([*m.flags, "out_of_range"]))
        out.append(m)
    return out


# --------------------------------------------------------------------------- formulas


def cdai(tjc28: float, sjc28: float, ptga: float, phga: float) -> float:
    """CDAI = TJC28 + SJC28 + PtGA + PhGA (global assessments 0-10)."""
    return tjc28 + sjc28 + ptga + phga


def sdai(tjc28: float, sjc28: float, ptga: float, phga: float, crp_mg_dl: float) -> float:
    """SDAI = CDAI + CRP in mg/dL."""
    return cdai(tjc28, sjc28, ptga, phga) + crp_mg_dl


def das28_esr(tjc28: float, sjc28: float, esr: float, ptga_100: float) -> float:
    """DAS28-ESR = 0.56·√TJC28 + 0.28·√SJC28 + 0.70·ln(ESR mm/h) + 0.014·PtGA (0-100)."""
    return 0.56 * math.sqrt(tjc28) + 0.28 * math.sqrt(sjc28) + 0.70 * math.log(esr) + 0.014 * ptga_100


def das28_crp(tjc28: float, sjc28: float, crp_mg_l: float, ptga_100: float) -> float:
    """DAS28-CRP = 0.56·√TJC28 + 0.28·√SJC28 + 0.36·ln(CRP mg/L + 1) + 0.014·PtGA (0-100) + 0.96."""
    return (0.56 * math.sqrt(tjc28) + 0.28 * math.sqrt(sjc28) + 0.36 * math.log(crp_mg_l + 1)
            + 0.014 * ptga_100 + 0.96)


def activity_category(analyte: str, value: float) -> str | None:
    """Disease-activity category of a DAS28 (any variant), CDAI or SDAI value; None for other analytes."""
    family = "DAS28" if analyte in DAS28_ANALYTES else analyte
    for category, bound, inclusive in CUTOFFS.get(family, ()):
        if value < bound or (inclusive and value == bound):
            return category
    return None


def eular_response(baseline: float, follow_up: float) -> str:
    """EULAR response from baseline and follow-up DAS28: "good", "moderate" or "none"."""
    improvement = baseline - follow_up
    if improvement > 1.2:
        return "good" if follow_up <= 3.2 else "moderate"
    if improvement > 0.6:
        return "moderate" if follow_up <= 5.1 else "none"
    return "none"


# --------------------------------------------------------------------------- component values


def _time_key(tp: Timepoint | None) -> tuple | None:
    """Measurements share a timepoint when days (or baseline) agree, else the same stated text."""
    if tp is None:
        return None
    if tp.is_baseline:
        return ("baseline",)
    if tp.days is not None:
        return ("days", round(tp.days, 1))
    if tp.start is not None:
        return ("span", tp.start, tp.end)
    return None


def _global_0_10(m: Measurement) -> float | None:
    """A global assessment on the 0-10 scale (a 0-100 mm VAS is divided by 10)."""
    if m.value is None:
        return None
    return m.value / 10 if (m.unit == "mm" or m.value > 10) else m.value


def _crp(m: Measurement, unit: str) -> float | None:
    if m.value is None or m.unit is None:
        return None
    factors = {("mg/L", "mg/L"): 1.0, ("mg/dL", "mg/dL"): 1.0, ("mg/L", "mg/dL"): 0.1, ("mg/dL", "mg/L"): 10.0}
    factor = factors.get((m.unit, unit))
    return None if factor is None else m.value * factor


def _component(items: dict[str, Measurement], *names: str) -> Measurement | None:
    return next((items[n] for n in names if n in items and items[n].value is not None), None)


def expected_composites(items: dict[str, Measurement]) -> dict[str, tuple[float, list[str]]]:
    """Composite values computable from the components in ``items`` (analyte -> (value, source ids))."""
    tjc, sjc = _component(items, "TJC28", "TJC"), _component(items, "SJC28", "SJC")
    ptga, phga = _component(items, "PtGA"), _component(items, "PhGA")
    esr, crp = _component(items, "ESR"), _component(items, "CRP")
    out: dict[str, tuple[float, list[str]]] = {}
    if tjc is None or sjc is None:
        return out
    base = [tjc.id, sjc.id]
    if ptga is not None and phga is not None:
        pt, ph = _global_0_10(ptga), _global_0_10(phga)
        if pt is not None and ph is not None:
            out["CDAI"] = (cdai(tjc.value, sjc.value, pt, ph), base + [ptga.id, phga.id])
            crp_dl = _crp(crp, "mg/dL") if crp is not None else None
            if crp_dl is not None:
                out["SDAI"] = (sdai(tjc.value, sjc.value, pt, ph, crp_dl), base + [ptga.id, phga.id, crp.id])
    if ptga is not None:
        pt100 = _global_0_10(ptga)
        if pt100 is not None:
            pt100 *= 10
            if esr is not None and esr.value and esr.value > 0:
                out["DAS28-ESR"] = (das28_esr(tjc.value, sjc.value, esr.value, pt100), base + [esr.id, ptga.id])
            crp_l = _crp(crp, "mg/L") if crp is not None else None
            if crp_l is not None:
                out["DAS28-CRP"] = (das28_crp(tjc.value, sjc.value, crp_l, pt100), base + [crp.id, ptga.id])
    return out


def composite_flags(measurements: Sequence[Measurement]) -> list[Measurement]:
    """Flag each reported composite whose components share its patient and timepoint."""
    groups: dict[tuple, dict[str, Measurement]] = defaultdict(dict)
    for m in measurements:
        key = _time_key(m.timepoint)
        if key is not None:
            groups[(m.patient, key)].setdefault(m.analyte, m)
    expected: dict[str, tuple[str, float]] = {}
    for items in groups.values():
        for analyte, (value, _) in expected_composites(items).items():
            if analyte in items:
                expected[items[analyte].id] = (analyte, value)
    out = []
    for m in measurements:
        if m.id in expected and m.value is not None:
            analyte, value = expected[m.id]
            ok = abs(m.value - value) <= TOLERANCE[analyte]
            flag = "composite_consistent" if ok else f"composite_inconsistent:{value:.2f}"
            m = replace(m, flags=sorted({*m.flags, flag}))
        out.append(m)
    return out


def derived_fields(measurements: Sequence[Measurement]) -> list[dict[str, Any]]:
    """Disease-activity categories, computed composites and EULAR responses as derived entries."""
    derived: list[dict[str, Any]] = []
    for m in measurements:
        if m.value is None or m.comparator not in (None, "~"):
            continue
        category = activity_category(m.analyte, m.value)
        if category is not None:
            derived.append(_entry("disease_activity", m.patient, m.analyte, m.timepoint, value=m.value,
                                  category=category, source_ids=[m.id]))
    groups: dict[tuple, dict[str, Measurement]] = defaultdict(dict)
    for m in measurements:
        key = _time_key(m.timepoint)
        if key is not None:
            groups[(m.patient, key)].setdefault(m.analyte, m)
    for (patient, _), items in groups.items():
        any_item = next(iter(items.values()))
        for analyte, (value, ids) in expected_composites(items).items():
            if analyte not in items:
                derived.append(_entry("composite", patient, analyte, any_item.timepoint, value=round(value, 2),
                                      category=activity_category(analyte, value), source_ids=ids))
    derived.extend(eular_responses(measurements))
    return derived


def eular_responses(measurements: Iterable[Measurement]) -> list[dict[str, Any]]:
    """EULAR response per patient and DAS28 variant, from its baseline and each later value."""
    by_key: dict[tuple[str, str], list[Measurement]] = defaultdict(list)
    for m in measurements:
        if m.analyte in DAS28_ANALYTES and m.value is not None and m.timepoint is not None:
            by_key[(m.patient, m.analyte)].append(m)
    out = []
    for (patient, analyte), items in by_key.items():
        baseline = next((m for m in items if m.timepoint.is_baseline), None)
        if baseline is None:
            continue
        for m in items:
            if m.timepoint.is_baseline:
                continue
            out.append(_entry("eular_response", patient, analyte, m.timepoint,
                              value=round(baseline.value - m.value, 2),
                              category=eular_response(baseline.value, m.value), source_ids=[baseline.id, m.id]))
    return out


def _entry(kind: str, patient: str, analyte: str, tp: Timepoint | None, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "derived": True, "patient": patient, "analyte": analyte,
            "timepoint": tp.to_dict() if tp is not None else None, **extra}


def run_checks(measurements: Sequence[Measurement], *,
               ranges: dict[str, tuple[Range, str | None]] | None = None) -> tuple[list[Measurement], list[dict]]:
    """Range and composite flags on the measurements, and the derived entries."""
    if ranges is None:
        try:
            ranges = valid_ranges()
        except RuleError as e:
            log.warning("range checks skipped: %s", e)
            ranges = {}
    checked = composite_flags(flag_ranges(measurements, ranges))
    return checked, derived_fields(checked)
