"""Analyte and time mentions prepared for assembly: composite names merged, baseline phrases,
periods that govern no value, and a time mention resolved to a ``Timepoint``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

import regex as re

from pipeline.measurements.model import Mention
from pipeline.measurements.patterns import BASELINE_RE
from pipeline.record import Timepoint
from pipeline.ruleset import load_rules

_MERGE_GAP_RE = re.compile(r"^[\s()\[\],\-–]*$")
_COMPOSITE_GAP = re.compile(r"[\s()\-–]*(?:scores?\s*)?(?:(?:based\s+on|using|with|calculated\s+with)\s+(?:the\s+)?)?",
                            re.IGNORECASE)


def merge_analyte_mentions(mentions: Sequence[Mention], text: str) -> list[Mention]:
    """Merge a long form and its abbreviation ("C-reactive protein (CRP)") and a DAS28 mention
    followed by its acute-phase reactant ("DAS28 ... based on CRP" -> DAS28-CRP) into one mention."""
    merged: list[Mention] = []
    for m in sorted(mentions, key=lambda x: (x.start, -x.end)):
        if merged:
            prev = merged[-1]
            composite = _composite(prev, m, text[prev.end:m.start] if m.start >= prev.end else "")
            if composite:
                norm = {**prev.norm, "analyte": composite}
                merged[-1] = replace(prev, end=max(prev.end, m.end), text=text[prev.start:max(prev.end, m.end)],
                                     norm=norm, ids=prev.entity_ids + m.entity_ids)
                continue
            if m.start < prev.end:  # overlapping spans of two recognizers: keep the outer one
                if m.end > prev.end and m.analyte == prev.analyte:
                    merged[-1] = replace(prev, end=m.end, text=text[prev.start:m.end],
                                         ids=prev.entity_ids + m.entity_ids)
                continue
            gap = text[prev.end:m.start]
            same = m.analyte == prev.analyte or prev.analyte.endswith("-" + m.analyte)
            if same and _MERGE_GAP_RE.match(gap):
                merged[-1] = replace(prev, end=m.end, text=text[prev.start:m.end], ids=prev.entity_ids + m.entity_ids)
                continue
        merged.append(m)
    return merged


def _composite(prev: Mention, m: Mention, gap: str) -> str | None:
    if prev.analyte.upper().replace("-", "") not in ("DAS28", "DAS"):
        return None
    if m.analyte not in ("ESR", "CRP"):
        return None
    if _COMPOSITE_GAP.fullmatch(gap):
        return f"DAS28-{m.analyte}"
    return None


def baseline_phrases(text: str, start: int, end: int, taken: Sequence[Mention]) -> list[Mention]:
    """Baseline phrases ("at baseline", "prior to therapy") not already covered by a TIMEPOINT span."""
    found = []
    for m in BASELINE_RE.finditer(text, start, end):
        if any(t.start < m.end() and m.start() < t.end for t in taken):
            continue
        found.append(Mention(m.start(), m.end(), "TIMEPOINT", m.group(0),
                             norm={"kind": "baseline", "is_baseline": True, "days": 0, "value": None, "unit": None}))
    return found


def governing_times(times: Sequence[Mention]) -> list[Mention]:
    """The TIMEPOINT mentions that may give a value its time: every kind but ``duration`` (GUIDELINES section 5)."""
    return [t for t in times if (t.norm or {}).get("kind") != "duration"]


def timepoint_of(m: Mention | None, index: int | None = None) -> Timepoint | None:
    """The record ``Timepoint`` of a TIMEPOINT mention (entry ``index`` of a coordinated list)."""
    if m is None:
        return None
    norm = m.norm or {}
    kind = norm.get("kind")
    value, days, unit = norm.get("value"), norm.get("days"), norm.get("unit")
    if index is not None and norm.get("days_list") and index < len(norm["days_list"]):
        days = norm["days_list"][index]
        if norm.get("values") and index < len(norm["values"]):
            value = norm["values"][index]
    is_baseline = bool(norm.get("is_baseline") or kind == "baseline")
    date = norm.get("date")
    if kind == "date":
        date = date or (str(value) if value is not None else m.text)
        value = None
    if is_baseline and days is None:
        days = 0.0
    return Timepoint(
        text=m.text, value=float(value) if isinstance(value, (int, float)) else None, unit=unit,
        days=float(days) if isinstance(days, (int, float)) else None, is_baseline=is_baseline,
        relative_to=norm.get("relative_to"), date=date,
        start=m.start if m.start >= 0 else None, end=m.end if m.end >= 0 else None,
    )


BASELINE_DEFAULT = Timepoint(text=None, value=None, unit=None, days=0.0, is_baseline=True)
FOLLOW_UP_UNSTATED = Timepoint(text=None, value=None, unit=None, days=None, is_baseline=False)


def _resolve_in(note: str) -> Mention | None:
    """The time of a caption or footnote ("after 12 weeks of treatment") by ``pipeline.timepoints``."""
    try:
        from pipeline.timepoints import resolve_timepoint
    except ImportError:
        return None
    found = [rt for rt in resolve_timepoint(note) if rt.kind in ("timepoint", "baseline")]
    if len(found) != 1:
        return None
    rt = found[0]
    return Mention(-1, -1, "TIMEPOINT", rt.text, None, rt.norm())


@lru_cache(maxsize=1)
def _findings() -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    rules = {r["pattern"].lower(): (r["id"], r["kind"]) for r in load_rules("findings")}
    alt = "|".join(re.escape(w) for w in sorted(rules, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alt})(?![\w-])(?=\s*\()", re.IGNORECASE), rules


def finding_mentions(text: str, start: int, end: int, taken: Sequence[Mention]) -> list[Mention]:
    """Findings followed by a parenthesis ("hyperkalemia (8.61 mmol/L)") in ``text[start:end]``, as analyte
    mentions marked ``norm.finding`` (the assembler lets them own only the value in that parenthesis)."""
    pattern, rules = _findings()
    out = []
    for m in pattern.finditer(text, start, end):
        if any(t.start < m.end() and m.start() < t.end for t in taken):
            continue
        analyte, kind = rules[m.group(0).lower()]
        out.append(Mention(m.start(), m.end(), "LAB", m.group(0), None,
                           {"analyte": analyte, "kind": kind, "finding": True}))
    return out


@lru_cache(maxsize=1)
def _specimens() -> tuple[re.Pattern[str], dict[str, str]]:
    rules = {r["pattern"].lower(): r["prefix"] for r in load_rules("vocabulary") if r["id"] == "specimen"}
    alt = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(rules, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?P<s>{alt})\s+$", re.IGNORECASE), rules


def with_specimen(text: str, mention: Mention) -> Mention:
    """"CSF glucose", "urine leukocytes": a specimen written right before a blood analyte makes it that
    specimen's analyte (an analyte whose name already names a specimen is kept)."""
    pattern, prefixes = _specimens()
    m = pattern.search(text, max(0, mention.start - 30), mention.start)
    analyte = mention.analyte
    if m is None or mention.kind != "lab" or any(p.lower() in analyte.lower() for p in prefixes.values()):
        return mention
    prefix = prefixes[re.sub(r"\s+", " ", m["s"].lower())]
    return replace(mention, norm={**mention.norm, "analyte": f"{prefix} {analyte}"})
