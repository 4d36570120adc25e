"""Measurements: link every reported value to its analyte, unit, patient and timepoint.

The ``clinex_measurements`` component reads the entity spans (``doc.spans["clinex"]``),
the sentences and ``doc._.clinex_tables`` and sets ``doc._.clinex_measurements``,
``doc._.clinex_patients``, ``doc._.clinex_derived`` and ``doc._.clinex_doses``.

The work is done by pure functions over plain data (``Mention`` objects with
character offsets), one sentence at a time:

1. numbers are found (``pipeline.values.find_numbers``) and the ones that are not
   measurements are set aside (``excluded_number``: ages, durations, dates,
   reference ranges, figure/reference/grant numbers, population statistics,
   patient counts);
2. each remaining number belongs to the analyte (SCORE/LAB mention) before it, or
   to the one it directly precedes ("twelve tender joints"); numbers after a drug
   with a dose unit are doses;
3. inside an analyte's stretch of text a small grammar reads value lists, "from A
   to B" pairs, their timepoints, "in patient N" and "respectively";
4. patients come from the stretch, from the sentence ("respectively" over the
   patients named earlier), from the order a previous sentence established
   (lists as long as the cohort), or from a single-patient cohort;
5. timepoints come from the value itself ("5.46 at baseline"), the clause, the
   sentence, then a carry-over ("at the 24-week follow-up") for the rest of the
   paragraph. In "from A to B" with no stated baseline, A is baseline (day 0) and
   B a follow-up whose time is left null unless stated.
"""
from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import regex as re

from spacy.language import Language

from pipeline.components import doc_text, forget_text, register_extensions
from pipeline.document import Table
from pipeline.patients import PatientMention, find_patient_mentions, find_patients
from pipeline.record import Evidence, Measurement, Timepoint
from pipeline.values import NumberMatch, find_numbers, parse_number

log = logging.getLogger(__name__)

UnitNormalizer = Callable[[str], Any]

# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class Mention:
    """An entity mention (from a span) in plain form: offsets into the document text."""

    start: int
    end: int
    label: str
    text: str
    id: str | None = None
    norm: dict = field(default_factory=dict, hash=False, compare=False)
    ids: tuple[str, ...] = ()

    @property
    def analyte(self) -> str:
        return str(self.norm.get("analyte") or self.text)

    @property
    def kind(self) -> str:
        return str(self.norm.get("kind") or ("score" if self.label == "SCORE" else "lab"))

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return self.ids or ((self.id,) if self.id else ())


@dataclass(frozen=True)
class Value:
    """One number with the unit written after it."""

    start: int
    end: int  # end of the number, or of its unit when one follows
    value: float
    comparator: str | None = None
    maximum: float | None = None
    unit: str | None = None
    unit_ucum: str | None = None
    unit_text: str | None = None
    text: str = ""


@dataclass
class ValueList:
    values: list[Value]
    time: Mention | None = None
    times: list[Mention] | None = None  # one time per value: "1,130 and 212 U/L at month 3 and month 6"

    @property
    def start(self) -> int:
        return self.values[0].start

    @property
    def end(self) -> int:
        return max(self.values[-1].end, self.time.end if self.time else 0)


@dataclass
class Group:
    """Values read together: a single list, or a "from A to B" pair of lists."""

    first: ValueList
    second: ValueList | None = None
    patients: tuple[str, ...] | None = None
    by_position: bool = False
    respectively: bool = False

    @property
    def size(self) -> int:
        return len(self.first.values)

    @property
    def end(self) -> int:
        return (self.second or self.first).end


@dataclass
class Context:
    """What carries from sentence to sentence within a paragraph."""

    paragraph: int = -1
    carry_time: Mention | None = None
    focus: tuple[str, ...] | None = None  # the one patient the last sentences were about
    fronted: bool = False  # carry_time comes from a fronted frame ("At month 3, ...")
    order: tuple[str, ...] | None = None
    order_sentence: int = -10


# --------------------------------------------------------------------------- patterns

BASELINE_RE = re.compile(
    r"\b(?:at\s+)?(?:baseline|screening|(?:prior\s+to|before)\s+(?:the\s+)?(?:therapy|treatment|infusion|"
    r"CAR[- ]T(?:[- ]cell)?(?:\s+(?:therapy|treatment|infusion))?)|pre-?(?:treatment|therapy|infusion))\b",
    re.IGNORECASE,
)
FOLLOW_UP_RE = re.compile(r"follow[- ]?up|period|over\b|during|throughout", re.IGNORECASE)
_RESPECTIVELY_RE = re.compile(r"\brespectively\b", re.IGNORECASE)
_FROM_RE = re.compile(r"\bfrom\b", re.IGNORECASE)
_TO_RE = re.compile(r"\bto\b", re.IGNORECASE)
_LIST_GAP_RE = re.compile(r"^\s*(?:,\s*)?(?:(?:and|or|&)\s+)?$")
_TIME_GAP_RE = re.compile(r"^[\s,]*(?:(?:at|on|in|by|after|during|of|the|a|an|and)\s+)*$", re.IGNORECASE)
_PAT_TRAILING_GAP_RE = re.compile(r"^[\s,]*(?:(?:in|for|of|and)\s+)?(?:the\s+)?$", re.IGNORECASE)
_PAT_LEADING_GAP_RE = re.compile(
    r"^[\s,:]*(?:(?:was|were|had|has|is|are|showed|of|at|decreased|increased|dropped|declined|fell|rose|"
    r"improved|went|from)\s+)*$", re.IGNORECASE)
_MERGE_GAP_RE = re.compile(r"^[\s()\[\],\-–]*$")
_FIRST_HOUR_RE = re.compile(r"\s*\((?:in\s+the\s+)?(?:1st|first)\s+h(?:ou)?r\)", re.IGNORECASE)
_PRONOUN_RE = re.compile(r"\b(?:he|she|his|her|him)\b", re.IGNORECASE)
# a number word in a value position ("had fallen to two and ..."), not a count of something ("two patients")
_WORD_VALUE_BEFORE = re.compile(r"\b(?:to|from|of|was|were|is|are)\s+$", re.IGNORECASE)
_WORD_VALUE_AFTER = re.compile(r"^\s*(?:[,.;:)]|(?:and|or|at|in|on|by|points?)\b|$)", re.IGNORECASE)
# a time fronted as the frame of a sentence ("At month 3, the SLEDAI-2K had decreased ...")
_FRONTED_GAP_RE = re.compile(r"^\s*(?:(?:at|on|by|after|in)\s+)?(?:the\s+)?$", re.IGNORECASE)
# a follow-up with no stated time: its values take no time from an earlier sentence
_UNSTATED_FOLLOW_UP_RE = re.compile(r"\b(?:throughout|during|over)\s+(?:the\s+)?(?:entire\s+|whole\s+)?follow[- ]?up\b"
                                    r"|\bat\s+(?:the\s+)?last\s+(?:follow[- ]?up|visit)\b", re.IGNORECASE)
_SCORE_NON_UNITS = {"unit", "units", "point", "points", "pts", "pt", "score", "scores"}
_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
           r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_TIME_UNIT_AFTER = re.compile(
    r"^(?:\s*-\s*|\s+)?(?:years?|yrs?|y/o|months?|mos?|weeks?|wks?|days?|d|hours?|hrs?|h|minutes?|mins?|"
    r"year-old|month-old|week-old|day-old)\b|^-(?:\s+(?:and|or|to)\s+\d)", re.IGNORECASE)
_TIME_WORD_BEFORE = re.compile(
    r"(?:\b(?:day|days|week|weeks|month|months|year|years|wk|wks|visit|cycle|cycles|grade|stage|type|class|"
    r"phase|version|aged?|age of|number|no\.|n\s*=|N\s*=)|\b[DWM])\s*$", re.IGNORECASE)
# "day 60, 90, and 60" is a list of times, but in "5 at week 12 and 1 at week 24" the 1 has a time of its own
_TIME_LIST_RE = re.compile(
    r"\b(?:days?|weeks?|months?|years?|D|W|M)\s*(?>\d+(?:\s*(?:,\s*(?:and\s+)?|and\s+|or\s+)\d+)+)"
    r"(?!\s+(?:at|on|in|by|after)\s+(?:the\s+)?(?:days?|weeks?|months?|years?)\b)", re.IGNORECASE)
_FIG_BEFORE = re.compile(
    r"(?:\bFig(?:ure)?s?\.?|\bTables?|\bTab\.|\bSuppl\w*\.?|\bref(?:erence)?s?\.?|\bEq\.?|\bequation|"
    r"\bchapter|\bsection|\bp\.)\s*S?$", re.IGNORECASE)
_REFRANGE_BEFORE = re.compile(
    r"\b(?:normal|reference|ref\.|range|ranges|cut[- ]?off|upper limit|lower limit|ULN|LLN|threshold|"
    r"normal value|target)\b[^;]{0,18}$", re.IGNORECASE)
_STATS_BEFORE = re.compile(r"\b(?:p|P)\s*(?:[<=>≤≥]|value)\s*$|\b(?:OR|HR|RR|CI|SD|IQR|SE)\s*[=:,]?\s*$")
_POPULATION_AFTER = re.compile(
    r"^\s*%?\s*(?:of\s+(?:the\s+|all\s+|our\s+)?(?:[\w-]+\s+){0,3}|\s*(?:(?!in\b|for\b|of\b|from\b|to\b|at\b|and\b|or\b)[\w-]+\s+)?)"
    r"(?:patients|subjects|participants|cases|individuals|people|persons|women|men|children|adults|"
    r"responders|study|studies|trials?)\b", re.IGNORECASE)
_CI_AFTER = re.compile(r"^\s*%\s*(?:CI|confidence)", re.IGNORECASE)
# the frequency after a dose, past a passive verb or a route ("300 mg was given every 4 weeks",
# "400 mg subcutaneously every 2 weeks", "10 mg/kg q4w")
_FREQ_RE = re.compile(
    r"^[\s,]*(?:(?:was|were|is|are|being)\s+(?:given|administered|infused|injected|continued|dosed|repeated)\s+)?"
    r"(?:(?:subcutaneously|intravenously|orally|s\.c\.|i\.v\.|p\.o\.|SC|IV)\s+)?"
    r"(?P<f>(?:(?:once|twice|thrice|\d+\s+times)\s+(?:a\s+|per\s+|every\s+)?(?:day|daily|week|weekly|month|"
    r"monthly)|daily|weekly|biweekly|monthly|every\s+(?:other\s+)?(?:(?:\d+|two|three|four|six|eight|twelve)\s+)?"
    r"(?:days?|weeks?|months?)|"
    r"q\.?\s?\d*\s?(?:d|w|wk|h)\b|b\.?i\.?d\.?|t\.?i\.?d\.?|q\.?d\.?|/\s*(?:day|week|d|wk)|"
    r"per\s+(?:day|week|month)))", re.IGNORECASE)
_EXCLUDED_HEADINGS = re.compile(
    r"^\W*(?:references?|bibliography|acknowledge?ments?|funding|author(?:s'?)?\s+contributions?|"
    r"competing\s+interests?|conflicts?\s+of\s+interests?|declarations?|additional\s+information|"
    r"data\s+availability|ethics(?:\s+declarations)?|supplementary\s+information)\W*$", re.IGNORECASE)
_HEADING_LINE = re.compile(r"^[ \t]*(?P<h>[^\n]{1,60})[ \t]*$", re.MULTILINE)
# the patterns of ``excluded_number`` and the readers below, compiled once (they run per number)
_RANGE_BEFORE = re.compile(r"(?<![A-Za-z]-?)\b\d+(?:\.\d+)?\s*[-–—]\s*$")
_RANGE_AFTER = re.compile(r"^\s*[-–—]\s*\d")
_COMPARATOR_START = re.compile(r"[<>≤≥=~≈]")
_P_BEFORE = re.compile(r"\b[pP]\s*$")
_HYPHEN_WORD_AFTER = re.compile(r"^-\w")
_HYPHEN_TIME_AFTER = re.compile(r"^-(?:year|month|week|day)", re.IGNORECASE)
_DIGIT_AFTER = re.compile(r"^\d")
_LONG_NUMBER = re.compile(r"\d{7,}")
_MONTH_AFTER = re.compile(rf"^\s*{_MONTHS}\b")
_MONTH_BEFORE = re.compile(rf"\b{_MONTHS}\.?\s*$")
_YEAR = re.compile(r"(?:19|20)\d\d")
_UNIT_START_AFTER = re.compile(r"^\s*(?:[a-zµμ%/]|U\b)")
_BRACKET_BEFORE = re.compile(r"\[\s*$")
_CITATION_AFTER = re.compile(r"^\s*[,\]]\s*\d*\s*\]")
_OPTIONAL_BLANK = re.compile(r"[ \t]?")
_NON_SPACE = re.compile(r"[^\s]+")
_LETTER = re.compile(r"[A-Za-z]")
_DIGITS = re.compile(r"\d+")
_COMPOSITE_GAP = re.compile(r"[\s()\-–]*(?:scores?\s*)?(?:(?:based\s+on|using|with|calculated\s+with)\s+(?:the\s+)?)?",
                            re.IGNORECASE)
_BLANKS = re.compile(r"[ \t]+")
_COORD_GAP = re.compile(r"\s*(?:,\s*)?(?:and\s+|&\s+)?")
_DEMOGRAPHIC = re.compile(r"\b\d{1,3}[- ]year[- ]old\b|\baged\s+\d", re.IGNORECASE)
_FALLBACK_SENTENCE_END = re.compile(r"(?<!\b(?:Fig|Figs|al|vs|No|no|e\.g|i\.e|approx|ca))[.!?](?=\s+[A-Z(\[])|\n\s*\n")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_COMMA_AHEAD = re.compile(r"\s*,")
_UNIT_IN_PARENS = re.compile(r"\(([^()]+)\)\s*$")
_ROW_PATIENT = re.compile(r"\s*(?:P|Pt|#)?\s*(\d{1,3})\s*")

# --------------------------------------------------------------------------- units


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
        if k > 1 and cand.count("(") != cand.count(")"):
            continue
        probe = cand[1:-1] if cand.startswith("(") and cand.endswith(")") and cand.count("(") == 1 else cand
        if not probe or probe[0].isdigit() and "^" not in probe and "×" not in probe:
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


# --------------------------------------------------------------------------- exclusions


def excluded_number(text: str, start: int, end: int, *, maximum: float | None = None) -> str | None:
    """Why the number ``text[start:end]`` is not a measurement value, or None when it may be one."""
    before = text[max(0, start - 40):start]
    after = text[end:end + 60]
    num = text[start:end]
    if _RANGE_BEFORE.search(before) or _RANGE_AFTER.match(after):
        return "range"
    if _COMPARATOR_START.match(num) and _P_BEFORE.search(before):
        return "statistic"
    if before[-1:].isalpha() or (before[-1:] in "-_/" and before[-2:-1].isalnum()) or before.endswith(("^", "×")):
        return "identifier"
    if _HYPHEN_WORD_AFTER.match(after) and not _HYPHEN_TIME_AFTER.match(after):
        return "identifier"
    if _DIGIT_AFTER.match(after) or _LONG_NUMBER.fullmatch(num):
        return "identifier"
    if maximum is not None and before.rstrip().endswith("(") and after.lstrip().startswith(")"):
        return "count"
    if _REFRANGE_BEFORE.search(before):
        return "reference_range"
    if _TIME_UNIT_AFTER.match(after) or _TIME_WORD_BEFORE.search(before):
        return "time"
    if _MONTH_AFTER.match(after) or _MONTH_BEFORE.search(before) \
            or (_YEAR.fullmatch(num) and not _UNIT_START_AFTER.match(after)):
        return "date"
    if _FIG_BEFORE.search(before):
        return "figure"
    if _BRACKET_BEFORE.search(before) or _CITATION_AFTER.match(after):
        return "citation"
    if _STATS_BEFORE.search(before) or _CI_AFTER.match(after):
        return "statistic"
    if _POPULATION_AFTER.match(after):
        return "population"
    return None


def excluded_regions(text: str) -> list[tuple[int, int]]:
    """Back-matter sections (references, acknowledgements, funding, ...) from their heading to the next heading."""
    regions: list[tuple[int, int]] = []
    lines = [(m.start(), m.end(), m["h"]) for m in _HEADING_LINE.finditer(text)]
    current: int | None = None
    for start, end, line in lines:
        is_heading = len(line.strip()) <= 60 and not line.strip().endswith((".", ",")) and (
            line.strip().isupper() or line.lstrip().startswith("#") or _EXCLUDED_HEADINGS.match(line))
        if not is_heading:
            continue
        if _EXCLUDED_HEADINGS.match(line.strip().strip("#*_ ")):
            if current is None:
                current = start
        elif current is not None and line.strip().isupper() is False:
            regions.append((current, start))
            current = None
    if current is not None:
        regions.append((current, len(text)))
    return regions


def time_list_positions(text: str) -> set[int]:
    """Start offsets of numbers in time lists ("day 60, 90, and 60"): times, not values."""
    positions: set[int] = set()
    for m in _TIME_LIST_RE.finditer(text):
        for n in _DIGITS.finditer(m.group(0)):
            positions.add(m.start() + n.start())
    return positions


# --------------------------------------------------------------------------- mentions


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

# --------------------------------------------------------------------------- reading one stretch


def read_values(text: str, numbers: Sequence[NumberMatch], *, kind: str, limit: int,
                normalizer: UnitNormalizer) -> list[Value]:
    """Numbers of one stretch as ``Value``s with their units; a number inside another's unit is dropped."""
    values: list[Value] = []
    taken_until = -1
    for n in numbers:
        if n.start < taken_until:
            continue
        unit = read_unit(text, n.end, kind=kind, limit=limit, normalizer=normalizer)
        end = n.end
        u = ucum = utext = None
        if unit is not None:
            u, ucum, utext, end = unit
        elif _LETTER.match(text[n.end:n.end + 1]):
            continue  # glued letters that are no unit: "1e", "2nd", "5th"
        taken_until = end
        values.append(Value(n.start, end, n.parsed.value, n.parsed.comparator, n.parsed.maximum, u, ucum, utext,
                            text[n.start:end]))
    return values


def value_lists(text: str, values: Sequence[Value]) -> list[ValueList]:
    """Group values separated only by ", ", "and", ", and" into lists; a unit written once applies to all."""
    lists: list[ValueList] = []
    for v in values:
        if lists and _LIST_GAP_RE.match(text[lists[-1].values[-1].end:v.start]):
            lists[-1].values.append(v)
        else:
            lists.append(ValueList([v]))
    for lst in lists:
        share_unit(lst.values)
    return lists


def share_unit(values: list[Value]) -> None:
    """Give unit-less values of a list the unit stated once (after a later value, else an earlier one)."""
    for i, v in enumerate(values):
        if v.unit is None and v.unit_text is None:
            donor = next((w for w in values[i + 1:] if w.unit), None) or next(
                (w for w in reversed(values[:i]) if w.unit), None)
            if donor:
                values[i] = replace(v, unit=donor.unit, unit_ucum=donor.unit_ucum)


def parse_stretch(text: str, lists: Sequence[ValueList], times: Sequence[Mention],
                  patients: Sequence[PatientMention], start: int, end: int) -> tuple[list[Group], list[Mention], PatientMention | None]:
    """Read value lists, pairs, attached times, patients and "respectively" in ``text[start:end]``.

    Returns the groups, the free times (not attached to one list) and a leading
    patient mention (one standing before the values it governs).
    """
    events: list[tuple[int, int, str, Any]] = []
    for lst in lists:
        events.append((lst.start, lst.values[-1].end, "list", lst))
    occupied = [(lst.start, lst.values[-1].end) for lst in lists]
    for t in times:
        events.append((t.start, t.end, "time", t))
        occupied.append((t.start, t.end))
    for p in patients:
        events.append((p.start, p.end, "patient", p))
        occupied.append((p.start, p.end))

    def free(a: int, b: int) -> bool:
        return not any(s < b and a < e for s, e in occupied)

    for rx, kind in ((_TO_RE, "to"), (_FROM_RE, "from"), (_RESPECTIVELY_RE, "respectively")):
        for m in rx.finditer(text, start, end):
            if free(m.start(), m.end()):
                events.append((m.start(), m.end(), kind, None))
    events.sort(key=lambda e: e[0])

    groups: list[Group] = []
    free_times: list[Mention] = []
    leading: PatientMention | None = None
    pending_from = 0  # groups[pending_from:] have no patient yet
    i = 0
    while i < len(events):
        s, e, kind, obj = events[i]
        if kind == "list":
            lst: ValueList = obj
            i = _attach_time(text, events, i, lst)
            group = Group(lst)
            if i + 1 < len(events) and events[i + 1][2] == "to" and i + 2 < len(events) and events[i + 2][2] == "list" \
                    and ";" not in text[lst.end:events[i + 2][0]]:
                second: ValueList = events[i + 2][3]
                i = _attach_time(text, events, i + 2, second)
                group.second = second
                _share_pair_units(group)
            groups.append(group)
        elif kind == "patient":
            pm: PatientMention = obj
            pending = groups[pending_from:]
            nxt = events[i + 1] if i + 1 < len(events) else None
            trailing_gap = text[pending[-1].end:s] if pending else None
            followed = nxt is not None and nxt[2] in ("list", "from") and _PAT_LEADING_GAP_RE.match(text[e:nxt[0]])
            if pending and _PAT_TRAILING_GAP_RE.match(trailing_gap or "x"):
                _assign(pending, pm.ids)
                pending_from = len(groups)
            elif followed or not pending:
                leading = pm
                pending_from = len(groups)
            else:
                _assign(pending, pm.ids)
                pending_from = len(groups)
        elif kind == "time":
            free_times.append(obj)
        elif kind == "respectively":
            for g in groups[-1:]:
                g.respectively = True
        i += 1
    if leading is not None:
        for g in groups:
            if g.patients is None:
                g.patients = leading.ids
                g.by_position = len(leading.ids) > 1 and g.size == len(leading.ids)
    return groups, free_times, leading


def _attach_time(text: str, events: list[tuple[int, int, str, Any]], i: int, lst: ValueList) -> int:
    """Attach a time right after list ``events[i]`` ("5.46 at baseline"); return the index of the last event used.

    A list of n values followed by n coordinated times ("1,130 and 212 U/L at month 3 and month 6,
    respectively") pairs them by position.
    """
    if i + 1 < len(events) and events[i + 1][2] == "time" and _TIME_GAP_RE.match(text[lst.values[-1].end:events[i + 1][0]]):
        lst.time = events[i + 1][3]
        events.pop(i + 1)
        chain = [lst.time]
        k = i + 1
        while k < len(events) and events[k][2] == "time" and _LIST_GAP_RE.match(text[chain[-1].end:events[k][0]]):
            chain.append(events[k][3])
            k += 1
        if len(lst.values) > 1 and len(chain) == len(lst.values):
            lst.times = chain
            del events[i + 1:k]
    return i


def _share_pair_units(group: Group) -> None:
    a, b = group.first.values, group.second.values if group.second else []
    donor = next((v for v in b + a if v.unit), None)
    if donor is None:
        return
    for lst in (a, b):
        for k, v in enumerate(lst):
            if v.unit is None and v.unit_text is None:
                lst[k] = replace(v, unit=donor.unit, unit_ucum=donor.unit_ucum)


def _assign(groups: list[Group], ids: tuple[str, ...]) -> None:
    """Patients of a trailing mention: by position over one list as long as the mention, else to every group."""
    if len(groups) == 1 and len(ids) > 1 and groups[0].size == len(ids):
        groups[0].patients, groups[0].by_position = ids, True
    elif len(groups) == len(ids) and len(ids) > 1 and all(g.size == 1 for g in groups):
        for g, pid in zip(groups, ids):
            g.patients = (pid,)
    else:
        for g in groups:
            g.patients = ids
            g.by_position = False


# --------------------------------------------------------------------------- the assembler


@dataclass
class Assembly:
    measurements: list[Measurement]
    patients: list[dict]
    doses: list[dict]


def sentence_bounds_fallback(text: str) -> list[tuple[int, int]]:
    """Sentences when the Doc has none: split after ``.!?`` before a capital or a blank line."""
    bounds, start = [], 0
    for m in _FALLBACK_SENTENCE_END.finditer(text):
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, len(text)))
    return [(a, b) for a, b in bounds if text[a:b].strip()]


def paragraph_starts(text: str) -> list[int]:
    """Offsets where paragraphs (blocks separated by a blank line) start."""
    return [0] + [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]


def _within(mentions: list[Mention], starts: list[int], s0: int, s1: int) -> list[Mention]:
    """The mentions (sorted by start; ``starts`` their starts) lying inside ``[s0, s1)``."""
    return [m for m in mentions[bisect_left(starts, s0):bisect_left(starts, s1)] if m.end <= s1]


def assemble(text: str, sentences: Sequence[tuple[int, int]], entities: Sequence[Mention],
             tables: Sequence[Table] = (), *, normalizer: UnitNormalizer | None = None,
             carry_over: bool = True) -> Assembly:
    """All measurements, patients and doses of one document (pure: plain data in, plain data out)."""

    normalizer = normalizer or default_unit_normalizer()
    cohort = find_patients(text)
    cohort_ids = tuple(p.id for p in cohort)
    analytes_all = merge_analyte_mentions([e for e in entities if e.label in ("SCORE", "LAB")], text)
    drugs_all = [e for e in entities if e.label == "DRUG"]
    times_all = [e for e in entities if e.label == "TIMEPOINT"]
    skip = excluded_regions(text)
    time_positions = time_list_positions(text)
    paragraphs = paragraph_starts(text)
    measurements: list[tuple[int, Measurement]] = []
    doses: list[dict] = []
    ctx = Context()

    in_tables = [(t.start, t.end) for t in tables]
    # mentions sorted by start, so each sentence finds its own by bisection (linear overall)
    analytes_all.sort(key=lambda m: m.start)
    drugs_all.sort(key=lambda m: m.start)
    times_all.sort(key=lambda m: m.start)
    analyte_starts = [m.start for m in analytes_all]
    drug_starts = [m.start for m in drugs_all]
    time_starts = [m.start for m in times_all]
    for sent_index, (s0, s1) in enumerate(sentences):
        if any(a <= s0 < b for a, b in skip):
            continue
        lead = len(text[s0:s1]) - len(text[s0:s1].lstrip())
        paragraph = bisect_right(paragraphs, s0 + lead) - 1
        if paragraph != ctx.paragraph:
            ctx = Context(paragraph=paragraph)
        analytes = _within(analytes_all, analyte_starts, s0, s1)
        times = _within(times_all, time_starts, s0, s1)
        drugs = [d for d in _within(drugs_all, drug_starts, s0, s1)
                 if not any(t.start <= d.start and d.end <= t.end for t in times)]
        times = times + baseline_phrases(text, s0, s1, times)
        times.sort(key=lambda t: t.start)
        pmentions = [PatientMention(p.start + s0, p.end + s0, p.ids, p.text) for p in find_patient_mentions(text[s0:s1])]
        blocked = [(e.start, e.end) for e in analytes + drugs + times] + [(p.start, p.end) for p in pmentions]
        # a period ("over a 6-month period") is not a time point: it blocks its numbers but governs no value
        times = governing_times(times)
        blocked += in_tables  # table cells are read by table_measurements
        numbers = []
        for n in find_numbers(text[s0:s1]):
            n = NumberMatch(n.start + s0, n.end + s0, n.parsed, n.is_word)
            if any(a < n.end and n.start < b for a, b in blocked) or n.start in time_positions:
                continue
            if excluded_number(text, n.start, n.end, maximum=n.parsed.maximum):
                continue
            numbers.append(n)
        owners = sorted(analytes + drugs, key=lambda o: o.start)
        sentence_measurements: list[Measurement] = []
        demographic = bool(_DEMOGRAPHIC.search(text[s0:s1]))
        for k, owner in enumerate(owners):
            nxt = owners[k + 1].start if k + 1 < len(owners) else s1
            own = [n for n in numbers if owner.end <= n.start < nxt and (not n.is_word or _word_value(text, n))
                   and not _precedes(text, n, owners[k + 1:], normalizer)]
            pre = [n for n in numbers if n.end <= owner.start and _directly_before(text, n, owner, normalizer)]
            if owner.label == "DRUG":
                doses.extend(_doses(text, owner, own, nxt, normalizer))
                continue
            kind = owner.kind
            vals = read_values(text, pre + own, kind=kind, limit=nxt, normalizer=normalizer)
            if not vals:
                continue
            lists = value_lists(text, vals)
            seg_times = [t for t in times if owner.end <= t.start < nxt]
            seg_patients = [p for p in pmentions if owner.end <= p.start < nxt]
            groups, free_times, leading = parse_stretch(text, lists, seg_times, seg_patients, owner.end, nxt)
            coordinated = _coordinated_analytes(text, analytes, owner)
            sent_times = [t for t in times if t not in seg_times and not any(
                o.end <= t.start < (owners[j + 1].start if j + 1 < len(owners) else s1)
                for j, o in enumerate(owners) if o is not owner and o.start > owner.start)]
            before_patients = [p for p in pmentions if p.end <= owner.start]
            for group in groups:
                made = _emit(text, group, coordinated if len(coordinated) > 1 else [owner], ctx, sent_index,
                             free_times, sent_times, before_patients, cohort_ids, demographic, (s0, s1), carry_over)
                sentence_measurements.extend(made)
        _share_units_across_analytes(text, sentence_measurements)
        measurements.extend((m.evidence.start, m) for m in sentence_measurements)
        if carry_over:
            _update_carry(ctx, times, sentence_measurements)
            _update_fronted(ctx, text, s0, s1, times)
        _update_focus(ctx, pmentions)
    for table in tables:
        for m in table_measurements(text, table, analytes_all, governing_times(times_all), cohort_ids,
                                    normalizer=normalizer):
            measurements.append((table.start, m))
    ordered = [m for _, m in sorted(enumerate(measurements), key=lambda x: (x[1][0], x[0]))]
    final = [replace(m, id=f"m{i}") for i, (_, m) in enumerate(ordered, start=1)]
    return Assembly(final, [p.to_dict() for p in cohort], doses)


def _precedes(text: str, n: NumberMatch, later: Sequence[Mention], normalizer: UnitNormalizer) -> bool:
    return bool(later) and _directly_before(text, n, later[0], normalizer)


def _directly_before(text: str, n: NumberMatch, owner: Mention, normalizer: UnitNormalizer) -> bool:
    """"twelve tender joints", "8 swollen joints": a count right before its analyte (a score)."""
    gap = text[n.end:owner.start]
    return owner.label != "DRUG" and owner.kind == "score" and bool(_BLANKS.fullmatch(gap))


def _coordinated_analytes(text: str, analytes: Sequence[Mention], owner: Mention) -> list[Mention]:
    """Analytes joined by ", "/"and" right before ``owner`` ("HAQ-DI and SDAI were ...")."""
    chain = [owner]
    before = [a for a in analytes if a.end <= owner.start]
    for a in reversed(before):
        if _COORD_GAP.fullmatch(text[a.end:chain[0].start]):
            chain.insert(0, a)
        else:
            break
    return chain


def _emit(text: str, group: Group, analytes: list[Mention], ctx: Context, sent_index: int,
          free_times: list[Mention], sent_times: list[Mention], before_patients: list[PatientMention],
          cohort: tuple[str, ...], demographic: bool, sentence: tuple[int, int], carry_over: bool) -> list[Measurement]:
    """The measurements of one group: patients, analytes and timepoints resolved."""
    n = group.size
    flags: list[str] = []
    # Over analytes: "HAQ-DI and SDAI were 1.25 and 22.4, respectively".
    if len(analytes) > 1:
        if n == len(analytes):
            per_analyte = analytes
        else:
            per_analyte = [analytes[-1]] * n
    else:
        per_analyte = analytes * n
    pronoun = bool(_PRONOUN_RE.search(text, sentence[0], sentence[1]))
    patients = _patients_for(group, per_analyte, ctx, sent_index, before_patients, cohort, flags, pronoun=pronoun)
    stated_free = [t for t in free_times if not t.norm.get("is_baseline")] or free_times
    follow_time = stated_free[0] if stated_free else None
    sent_time = _nearest_time(sent_times, analytes[0].start)
    unstated = bool(_UNSTATED_FOLLOW_UP_RE.search(text, sentence[0], sentence[1]))
    carry = ctx.carry_time if carry_over and not unstated else None

    def resolve(lst: ValueList, role: str, i: int) -> tuple[Timepoint | None, Mention | None, list[str]]:
        extra: list[str] = []
        if lst.times:
            t = lst.times[min(i, len(lst.times) - 1)]
            return timepoint_of(t), t, extra
        if lst.time is not None:
            return timepoint_of(lst.time, i if lst.time.norm.get("days_list") else None), lst.time, extra
        if role == "before":
            baseline = next((t for t in free_times + sent_times if t.norm.get("is_baseline")), None)
            return (timepoint_of(baseline), baseline, extra) if baseline else (BASELINE_DEFAULT, None, extra)
        for cand in (follow_time, sent_time, carry):
            if cand is not None and not (role == "after" and cand.norm.get("is_baseline")):
                if cand is carry:
                    extra.append("timepoint_carried")
                return timepoint_of(cand, i if cand.norm.get("days_list") else None), cand, extra
        if role == "after" or unstated:
            return FOLLOW_UP_UNSTATED, None, ["timepoint_unstated"]
        if demographic:
            return BASELINE_DEFAULT, None, ["baseline_inferred"]
        return None, None, extra

    out: list[Measurement] = []
    roles = [("before" if group.second else "single", group.first)]
    if group.second:
        roles.append(("after", group.second))
    s0, s1 = sentence
    evidence = Evidence(start=s0, end=s1, text=text[s0:s1].strip())
    lead = len(text[s0:s1]) - len(text[s0:s1].lstrip())
    evidence = replace(evidence, start=s0 + lead, end=s0 + lead + len(evidence.text))
    for role, lst in roles:
        if len(lst.values) != n:
            flags_len = ["list_length_mismatch"]
        else:
            flags_len = []
        for i, v in enumerate(lst.values):
            a = per_analyte[min(i, len(per_analyte) - 1)]
            tp, tmention, tflags = resolve(lst, role, i)
            pids = patients[min(i, len(patients) - 1)] if patients else ("unknown",)
            ids = list(a.entity_ids) + ([tmention.id] if tmention is not None and tmention.id else [])
            vflags = sorted(set(flags + tflags + flags_len + ([f"scale_max:{v.maximum:g}"] if v.maximum else [])))
            for pid in pids:
                out.append(Measurement(
                    id="", patient=pid, analyte=a.analyte, kind=a.kind, value=v.value, evidence=evidence,
                    comparator=v.comparator, unit=v.unit,
                    unit_ucum=v.unit_ucum, timepoint=tp, entity_ids=ids, flags=list(vflags),
                    value_span=Evidence(start=v.start, end=v.end, text=v.text),
                ))
    return out


def _patients_for(group: Group, analytes: list[Mention], ctx: Context, sent_index: int,
                  before: list[PatientMention], cohort: tuple[str, ...], flags: list[str], *,
                  pronoun: bool = False) -> list[tuple[str, ...]]:
    """Patient ids per value position of ``group`` (one tuple per position).

    A sentence that names no patient but refers to one by a singular pronoun ("Her baseline
    MG-ADL score ...", "His CRP ...") is about the patient the previous sentence named alone.
    """
    n = group.size
    if group.patients is not None:
        if group.by_position:
            _remember_order(ctx, group.patients, sent_index)
            return [(p,) for p in group.patients]
        return [group.patients] * n
    if len(cohort) == 1:
        return [cohort] * n
    # "whose MG-ADL and QMG scores were 9 and 16": one value per analyte, all of one patient
    if n > 1 and len({(a.start, a.end) for a in analytes}) == n and before and len(before[-1].ids) == 1:
        return [before[-1].ids] * n
    named: list[str] = []
    for p in before:
        for pid in p.ids:
            if pid not in named:
                named.append(pid)
    if n > 1 and len(named) == n:
        _remember_order(ctx, tuple(named), sent_index)
        return [(p,) for p in named]
    if before and len(before[-1].ids) == 1 and n == 1:
        return [before[-1].ids]
    if n > 1 and n == len(cohort) and ctx.order is not None and sent_index - ctx.order_sentence <= 1 \
            and len(ctx.order) == n:
        _remember_order(ctx, ctx.order, sent_index)
        flags.append("patient_by_position")
        return [(p,) for p in ctx.order]
    if not before and pronoun and ctx.focus is not None:
        flags.append("patient_by_pronoun")
        return [ctx.focus] * n
    flags.append("patient_unresolved")
    return [("unknown",)] * n


def _remember_order(ctx: Context, order: tuple[str, ...], sent_index: int) -> None:
    ctx.order, ctx.order_sentence = order, sent_index


def _nearest_time(times: list[Mention], pos: int) -> Mention | None:
    before = [t for t in times if t.end <= pos]
    if before:
        return before[-1]
    after = [t for t in times if t.start >= pos]
    return after[0] if len(after) == 1 else None


def _update_carry(ctx: Context, times: list[Mention], made: list[Measurement]) -> None:
    """An explicit follow-up time ("at the 24-week follow-up", "over a 6-month period") carries on."""
    spans = [t for t in times if t.norm.get("kind") != "date" and not t.norm.get("is_baseline")]
    used = {(m.timepoint.start, m.timepoint.end) for m in made if m.timepoint and m.timepoint.start is not None}
    follow = [t for t in spans if FOLLOW_UP_RE.search(t.text) and ((t.start, t.end) in used or not made)]
    if follow:
        ctx.carry_time = follow[-1]


def _update_fronted(ctx: Context, text: str, s0: int, s1: int, times: list[Mention]) -> None:
    """A time fronted before a comma ("At month 3, ...") frames the following sentences of the paragraph,
    until a sentence states times of its own or an unquantified follow-up ("throughout follow-up")."""
    own = [t for t in times if t.norm.get("kind") not in ("date", "duration") and t.start >= s0]
    first = own[0] if own else None
    if first is not None and _FRONTED_GAP_RE.match(text[s0:first.start]) and _COMMA_AHEAD.match(text[first.end:first.end + 3]):
        ctx.carry_time, ctx.fronted = first, True
    elif ctx.fronted and (own or _UNSTATED_FOLLOW_UP_RE.search(text, s0, s1)):
        ctx.carry_time, ctx.fronted = None, False


def _update_focus(ctx: Context, mentions: Sequence[PatientMention]) -> None:
    """The patient a sentence is about when it names exactly one; none once several are named."""
    ids = {pid for p in mentions for pid in p.ids}
    if len(ids) == 1:
        ctx.focus = tuple(ids)
    elif ids:
        ctx.focus = None


def _word_value(text: str, n: NumberMatch) -> bool:
    """A number word standing as a value ("fell to two and ...")."""
    return bool(_WORD_VALUE_BEFORE.search(text[max(0, n.start - 12):n.start])
                and _WORD_VALUE_AFTER.match(text[n.end:n.end + 12]))


def _share_units_across_analytes(text: str, made: list[Measurement]) -> None:
    """"IgG 6.1 and IgM 0.4 g/l": a unit after the last of coordinated lab values applies to the earlier ones."""
    for i in range(len(made) - 2, -1, -1):
        m, nxt = made[i], made[i + 1]
        if m.unit is None and nxt.unit is not None and m.kind == nxt.kind == "lab" and m.analyte != nxt.analyte \
                and m.evidence == nxt.evidence and "unit_shared" not in m.flags:
            made[i] = replace(m, unit=nxt.unit, unit_ucum=nxt.unit_ucum, flags=sorted(m.flags + ["unit_shared"]))


def _doses(text: str, drug: Mention, numbers: list[NumberMatch], limit: int,
           normalizer: UnitNormalizer) -> list[dict]:
    """Doses written after a drug ("abatacept 125 mg weekly")."""
    doses = []
    for n in numbers[:2]:
        unit = read_unit(text, n.end, kind="lab", limit=limit, normalizer=normalizer)
        if unit is None:
            continue
        u, _, _, end = unit
        freq = _FREQ_RE.match(text[end:limit])
        frequency = freq["f"] if freq else None
        dose_end = end + (freq.end() if freq else 0)
        doses.append({"entity_id": drug.id or "", "text": text[n.start:dose_end].strip(), "value": n.parsed.value,
                      "unit": u, "frequency": frequency})
    return doses


# --------------------------------------------------------------------------- tables

_PATIENT_HEADER_RE = re.compile(r"^(?:patients?|pts?|case|cases|no\.?|#|id|subject)\b", re.IGNORECASE)
_QUALITATIVE_RE = re.compile(r"^(?:negative|positive|neg\.?|pos\.?|normal|abnormal|detected|not detected|"
                             r"undetectable|nd|n\.d\.|absent|present|trace)$", re.IGNORECASE)


def table_measurements(text: str, table: Table, analytes: Sequence[Mention], times: Sequence[Mention],
                       cohort: tuple[str, ...], *, normalizer: UnitNormalizer) -> list[Measurement]:
    """Per-patient table: rows are patients, columns analytes (unit in the header), time in caption/footnote."""
    if not table.header or not table.rows:
        return []
    pcol = next((i for i, c in enumerate(table.header) if _PATIENT_HEADER_RE.match(c.text)), 0)
    columns: dict[int, tuple[Mention, str | None, str | None, Mention | None]] = {}
    for i, cell in enumerate(table.header):
        if i == pcol:
            continue
        inside = [a for a in analytes if cell.start <= a.start and a.end <= cell.end]
        if not inside:
            continue
        unit = ucum = None
        paren = _UNIT_IN_PARENS.search(cell.text)
        if paren:
            unit, ucum, _, _ = unit_fields(normalizer(paren.group(1).strip()))
        col_time = next((t for t in times if cell.start <= t.start and t.end <= cell.end), None)
        columns[i] = (inside[0], unit, ucum, col_time)
    if not columns:
        return []
    table_time = _table_time(text, table, times)
    out = []
    for r, row in enumerate(table.rows):
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


# --------------------------------------------------------------------------- the spaCy component


def mentions_from_doc(doc: Any, spans_key: str = "clinex") -> list[Mention]:
    """Plain ``Mention``s of the entity spans of ``doc``."""
    return [Mention(s.start_char, s.end_char, s.label_, s.text, s._.clinex_id, dict(s._.clinex_norm or {}))
            for s in doc.spans.get(spans_key, [])]


def doc_sentences(doc: Any) -> list[tuple[int, int]]:
    """Sentence offsets of ``doc`` (a fallback splitter when the pipeline sets none)."""
    if doc.has_annotation("SENT_START"):
        return [(s.start_char, s.end_char) for s in doc.sents]
    return sentence_bounds_fallback(doc_text(doc))


@Language.factory(
    "clinex_measurements",
    default_config={"spans_key": "clinex", "carry_over": True, "checks": True},
    assigns=["doc._.clinex_measurements", "doc._.clinex_patients", "doc._.clinex_derived", "doc._.clinex_doses"],
)
def make_measurements(nlp: Language, name: str, *, spans_key: str, carry_over: bool,
                      checks: bool) -> "MeasurementAssembler":
    """Factory of ``clinex_measurements`` (entry point ``pipeline.measurements:make_measurements``)."""
    return MeasurementAssembler(nlp, name, spans_key=spans_key, carry_over=carry_over, checks=checks)


class MeasurementAssembler:
    """The ``clinex_measurements`` component: coordinates ``assemble`` and the clinical checks."""

    def __init__(self, nlp: Any, name: str = "clinex_measurements", *, spans_key: str = "clinex",
                 carry_over: bool = True, checks: bool = True, normalizer: UnitNormalizer | None = None) -> None:
        self.name = name
        self.spans_key = spans_key
        self.carry_over = carry_over
        self.checks = checks
        self.normalizer = normalizer

    def __call__(self, doc: Any) -> Any:
        register_extensions()
        if self.normalizer is None:
            self.normalizer = default_unit_normalizer()
        result = assemble(doc_text(doc), doc_sentences(doc), mentions_from_doc(doc, self.spans_key),
                          list(doc._.clinex_tables or []), normalizer=self.normalizer, carry_over=self.carry_over)
        measurements, derived = result.measurements, []
        if self.checks:
            from pipeline.checks import run_checks

            measurements, derived = run_checks(measurements)
        doc._.clinex_measurements = measurements
        doc._.clinex_patients = result.patients
        doc._.clinex_derived = derived
        doc._.clinex_doses = result.doses
        forget_text(doc)
        return doc

