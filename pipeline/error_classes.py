"""Why a measurement was wrong: each evaluation error gets one class a curator recognises.

Classes (corpus/GUIDELINES.md, section 6):

* ``missed value``: a gold tuple no prediction accounts for;
* ``wrong analyte`` / ``wrong patient``: a prediction over the same written value as an
  unmatched gold tuple (same patient, or same analyte), with the other attribute wrong; the
  pair counts once, under the prediction;
* ``duplicate``: a prediction whose (patient, analyte, value) another prediction already matched
  or already claimed;
* ``not a measurement: <what>``: a prediction over no gold value: a ``reference range``, a
  ``dose``, an ``age``, a ``cohort statistic``, a ``time or duration``, or ``other``;
* ``wrong timepoint``, ``missing timepoint``, ``wrong unit``, ``wrong comparator``: a matched pair
  whose attribute disagrees.

The sub-classes of *not a measurement* look at the few words around the value; they describe an
error, they never decide whether one is scored.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

ERROR_CLASSES = ("missed value", "wrong analyte", "wrong patient", "duplicate",
                 "not a measurement: reference range", "not a measurement: dose", "not a measurement: age",
                 "not a measurement: cohort statistic", "not a measurement: time or duration",
                 "not a measurement: other", "wrong timepoint", "missing timepoint", "wrong unit",
                 "wrong comparator")

_REFERENCE_BEFORE = re.compile(r"(?i)(?:normal|reference|ref\.?|range|upper limit|ULN|cut-?off|N\s*[:=<]|"
                               r"normal\s+value|<\s*$|\(\s*$)[^.;]{0,25}$")
_DOSE_UNITS = frozenset({"mg", "g", "µg", "mg/kg", "mg/kg/day", "g/kg", "mg/m²", "cells/kg", "mg/day", "mg/24 h"})
_DOSE_BEFORE = re.compile(r"(?i)\b(?:dose|doses|dosage|mg\s+of|received|given|infused|administered|"
                          r"treated with|started on|tapered|pulse)\b[^.;]{0,40}$")
_AGE_AFTER = re.compile(r"(?i)^\s*[-‐–]?\s*(?:years?|yrs?|y)[-\s]*old\b|^\s*(?:years?|yrs?)\s+of\s+age")
_AGE_BEFORE = re.compile(r"(?i)\b(?:aged?|age\s+of)\s*$")
_COHORT_AFTER = re.compile(r"(?i)^\s*(?:%|percent)?\s*(?:of\s+(?:the\s+)?)?(?:patients|cases|subjects|participants)\b")
_TIME_AFTER = re.compile(r"(?i)^\s*[-‐–]?\s*(?:days?|weeks?|months?|years?|hours?|h|wk|mo)\b")


def _span(m: dict[str, Any]) -> tuple[int, int] | None:
    span = m.get("value_span") or m.get("evidence")
    if not span or span.get("start") is None:
        return None
    return int(span["start"]), int(span["end"])


def same_place(g: dict[str, Any], p: dict[str, Any]) -> bool:
    """The prediction's value span overlaps the gold value span (the same written number)."""
    gs, ps = _span(g), _span(p)
    return gs is not None and ps is not None and gs[0] < ps[1] and ps[0] < gs[1]


def not_a_measurement(text: str, p: dict[str, Any]) -> str:
    """What a prediction over no gold value most likely is, from the words around it."""
    span = _span(p)
    before = text[max(0, span[0] - 60):span[0]] if span else ""
    after = text[span[1]:span[1] + 30] if span else ""
    if str(p.get("patient", "")).casefold() == "cohort" or _COHORT_AFTER.search(after):
        return "not a measurement: cohort statistic"
    if _AGE_AFTER.search(after) or _AGE_BEFORE.search(before):
        return "not a measurement: age"
    if p.get("unit") in _DOSE_UNITS or _DOSE_BEFORE.search(before):
        return "not a measurement: dose"
    if _REFERENCE_BEFORE.search(before):
        return "not a measurement: reference range"
    if _TIME_AFTER.search(after):
        return "not a measurement: time or duration"
    return "not a measurement: other"


def classify(text: str, gold: Sequence[dict[str, Any]], pred: Sequence[dict[str, Any]],
             pairs: Sequence[tuple[int, int]], *, key: Callable[[dict[str, Any]], tuple[str, str]],
             same_value: Callable[[dict[str, Any], dict[str, Any]], bool],
             checks: Callable[[dict[str, Any], dict[str, Any]], dict[str, bool]]) -> list[dict[str, Any]]:
    """One entry ``{"class", "gold", "pred"}`` per error of one document.

    ``key`` gives (patient, analyte) as the matcher compares them, ``same_value``
    compares values, ``checks`` the attribute agreements of a matched pair
    (``unit_ok``, ``timepoint_ok``, ``comparator_ok``).
    """
    matched_g = {i for i, _ in pairs}
    matched_p = {j for _, j in pairs}
    errors: list[dict[str, Any]] = []
    for i, j in pairs:
        g, p = gold[i], pred[j]
        ok = checks(g, p)
        if not ok["timepoint_ok"]:
            errors.append({"class": "missing timepoint" if not p.get("timepoint") and g.get("timepoint")
                           else "wrong timepoint", "gold": g, "pred": p})
        if not ok["unit_ok"]:
            errors.append({"class": "wrong unit", "gold": g, "pred": p})
        if not ok["comparator_ok"]:
            errors.append({"class": "wrong comparator", "gold": g, "pred": p})
    open_g = [i for i in range(len(gold)) if i not in matched_g]
    claimed: Counter[tuple[tuple[str, str], Any]] = Counter()
    for j in sorted(matched_p):
        claimed[(key(pred[j]), pred[j].get("value"))] += 1
    for j, p in enumerate(pred):
        if j in matched_p:
            continue
        pk = key(p)
        partner = next((i for i in open_g if same_value(gold[i], p) and same_place(gold[i], p)), None)
        if partner is None:
            partner = next((i for i in open_g if same_value(gold[i], p) and key(gold[i])[1] == pk[1]
                            and key(gold[i])[0] != pk[0]), None)
        if partner is not None:
            g = gold[partner]
            open_g.remove(partner)
            cls = "wrong patient" if key(g)[1] == pk[1] else "wrong analyte"
            errors.append({"class": cls, "gold": g, "pred": p})
            continue
        if claimed[(pk, p.get("value"))]:
            errors.append({"class": "duplicate", "gold": None, "pred": p})
            continue
        claimed[(pk, p.get("value"))] += 1
        errors.append({"class": not_a_measurement(text, p), "gold": None, "pred": p})
    errors += [{"class": "missed value", "gold": gold[i], "pred": None} for i in open_g]
    return errors
