"""Numbers that are not measurement values (ages, durations, dates, reference ranges, figure and
citation numbers, statistics, population figures) and back-matter sections that hold none.
"""
from __future__ import annotations

import regex as re

from pipeline.measurements.patterns import _LOST_SUPERSCRIPT
from pipeline.ruleset import word_alternation

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
    r"\b(?:days?|weeks?|months?|years?|D|W|M)\s*(?>\d+(?:\s*(?:,\s*(?:and\s+)?|and\s+|or\s+)\d+(?![.,]?\d))+)"
    r"(?!\s+(?:at|on|in|by|after)\s+(?:the\s+)?(?:days?|weeks?|months?|years?)\b)", re.IGNORECASE)
_FIG_BEFORE = re.compile(
    r"(?:\bFig(?:ure)?s?\.?|\bTables?|\bTab\.|\bSuppl\w*\.?|\bref(?:erence)?s?\.?|\bEq\.?|\bequation|"
    r"\bchapter|\bsection|\bp\.)\s*S?$", re.IGNORECASE)
_REFRANGE_BEFORE = re.compile(rf"\b{word_alternation('vocabulary', 'reference_cue')}(?![\w])[^;]{{0,18}}$", re.IGNORECASE)
_STATS_BEFORE = re.compile(r"\b(?:p|P)\s*(?:[<=>≤≥]|value)\s*$|\b(?:OR|HR|RR|CI|SD|IQR|SE)\s*[=:,]?\s*$")
_POPULATION_AFTER = re.compile(
    r"^\s*%?\s*(?:of\s+(?:the\s+|all\s+|our\s+)?(?:[\w-]+\s+){0,3}|\s*(?:(?!in\b|for\b|of\b|from\b|to\b|at\b|and\b|or\b)[\w-]+\s+)?)"
    rf"{word_alternation('vocabulary', 'population_noun')}\b", re.IGNORECASE)
_CI_AFTER = re.compile(r"^\s*%\s*(?:CI|confidence)", re.IGNORECASE)
_EXCLUDED_HEADINGS = re.compile(rf"^\W*{word_alternation('vocabulary', 'back_matter_heading')}\W*$", re.IGNORECASE)
_HEADING_LINE = re.compile(r"^[ \t]*(?P<h>[^\n]{1,60})[ \t]*$", re.MULTILINE)
# the patterns of ``excluded_number`` and the readers below, compiled once (they run per number)
_RANGE_BEFORE = re.compile(r"(?<![A-Za-z]-?)\b\d+(?:\.\d+)?\s*[-–—]\s*$")
_RANGE_AFTER = re.compile(r"^\s*[-–—]\s*\d")
_COMPARATOR_START = re.compile(r"[<>≤≥=~≈]")
_P_BEFORE = re.compile(r"\b[pP]\s*$")
_PER_VOLUME_AFTER = re.compile(r"^\s*/\s*(?:L|l|µL|μL|uL|mm3|mm\^3|mm³)\b")
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
_DIGITS = re.compile(r"\d+")


def excluded_number(text: str, start: int, end: int, *, maximum: float | None = None) -> str | None:
    """Why the number ``text[start:end]`` is not a measurement value, or None when it may be one."""
    before = text[max(0, start - 40):start]
    after = text[end:end + 60]
    num = text[start:end]
    if _LOST_SUPERSCRIPT.fullmatch(num) and _PER_VOLUME_AFTER.match(after):
        return "unit"  # "(109/L)", "× 103/µL": a power of ten whose superscript was lost in copying
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
