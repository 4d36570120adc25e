"""Timepoints on the clinical course: find and resolve them in text.

``find_timepoints(text)`` returns every time expression with its offsets;
``resolve_timepoint(text)`` resolves a short expression ("12- and 35-weeks
post-treatment") into one or more ``ResolvedTime``. Kinds:

- ``timepoint``: a point after the index treatment ("day 10", "24 weeks post-CAR T-cell
  infusion", "24-week follow-up", "after 3 days"); ``days`` counts from it.
- ``baseline``: "baseline", "prior to therapy", "before" in "before and 3 months after ..." (``days`` 0).
- ``duration``: a period of the treatment course ("over a 6-month period", "eight-month
  follow-up period"); it is annotated but never gives a value its time.
- ``date``: an absolute date in narrative ("In November 2018"); publication metadata
  ("Received: 7 August 2024") is skipped.

Span edges follow GUIDELINES section 4: a leading "at/on/in/during/throughout" and
determiner are dropped ("at the 24-week follow-up" -> "24-week follow-up"); direction
words stay ("after 3 days", "over the next three months", "within 4 weeks").
Not annotated: disease durations and history ("living with RA for 20 years", "over the
previous two decades", "for the first time in two decades"; cues in rules/timepoints.jsonl,
kind ``history_before``), bare activity durations ("three days of ... therapy"), time
expressions in population or literature statements ("only 30% of patients achieved ...
after 6 months"), and generic events ("before a CD19-targeted treatment is used").

Coordinated forms ("day 60, 90, and 60", "after 28 days and 90 days") carry
``values`` and ``days_list``; a conjunct across a patient phrase ("after 3 days in
patient 1 and 7 days in patient 2") is a span of its own. Unit lengths: day 1, week 7,
month 30.44, year 365.25 days. Number words, unit words, baseline phrases, publication
and history cues come from ``rules/timepoints.jsonl``.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any

import regex

from pipeline.ruleset import load_rules

UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.44, "year": 365.25}
MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
_ANCHOR_NOUNS = (r"therap(?:y|ies)|treatment|infusions?|administration|transplant(?:ation)?|injection|dosing|dose"
                 r"|diagnosis|onset|surgery|admission|discharge|enrol(?:l)?ment|randomi[sz]ation|leukapheresis"
                 r"|lymphodepletion|initiation|start|vaccination")


_PATIENT_PHRASE = r"(?:patients?|cases?|subjects?|participants?|pt\.?)\s+\d+(?:(?:\s*,\s*|\s+and\s+|\s*,\s*and\s+)\d+)*"
# a leading preposition or determiner that is not part of a time span ("at the 24-week follow-up")
_LEADING = regex.compile(r"^(?:(?:at|on|in|during|throughout)\s+)?(?:(?:the|a|an)\s+)?", regex.I)
_HISTORY_QUALIFIERS = frozenset({"previous", "past", "last", "preceding"})
# a population or literature statement ("only 30% of patients achieved ...") is not the report's course
_POPULATION = regex.compile(r"\b\d+(?:\.\d+)?\s?%\s+of\s+(?:(?:the|all|[A-Z]{2,5}|treated|our)\s+)?(?:patients|subjects|participants|cases)\b"
                            r"|\b(?:studies|trials|cohorts)\s+(?:have\s+)?(?:shown|reported|demonstrated)\b", regex.I)
_SENTENCE_END = regex.compile(r"[.!?]\s+(?=[A-Z(\[])|\n\s*\n")

_NUMBER_TOKEN = regex.compile(r"\d+(?:\.\d+)?|[A-Za-z]+(?:-[A-Za-z]+)?")
_NUM_UNIT_PAIR = regex.compile(r"(\S+)\s+(days?|weeks?|months?|years?)", regex.I)
_COUNTED_BEFORE = regex.compile(r"(?:patients?|cases?|subjects?|participants?|no\.?|groups?|and|,)\s+$", regex.I)


@dataclass(frozen=True)
class ResolvedTime:
    text: str
    start: int
    end: int
    kind: str
    value: float | None = None
    unit: str | None = None
    days: float | None = None
    is_baseline: bool = False
    relative_to: str | None = None
    values: list[float] | None = None
    days_list: list[float] | None = None
    date: str | None = None

    def norm(self) -> dict[str, Any]:
        """The ``span._.clinex_norm`` dict (coordinated keys and date only when set)."""
        data = asdict(self)
        for key in ("text", "start", "end"):
            data.pop(key)
        for key in ("values", "days_list", "date"):
            if data[key] is None:
                data.pop(key)
        return data


@dataclass(frozen=True)
class _Vocab:
    numbers: dict[str, float]
    units: dict[str, tuple[float, str]]
    baseline: tuple[str, ...]
    exclude_before: tuple[str, ...]
    history_before: tuple[str, ...]


@lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    numbers: dict[str, float] = {}
    units: dict[str, tuple[float, str]] = {}
    baseline: list[str] = []
    exclude: list[str] = []
    history: list[str] = []
    for rule in load_rules("timepoints"):
        kind, pattern = rule["kind"], rule["pattern"].lower()
        if kind == "number" and pattern not in ("a", "an", "a single"):
            numbers[pattern] = float(rule["value"])
        elif kind == "unit":
            units[pattern] = (float(rule.get("value") or 1), rule["unit"])
        elif kind == "baseline":
            baseline.append(pattern)
        elif kind == "exclude_before":
            exclude.append(rule["pattern"])
        elif kind == "history_before":
            history.append(rule["pattern"])
    return _Vocab(numbers, units, tuple(sorted(baseline, key=len, reverse=True)), tuple(exclude), tuple(history))


@lru_cache(maxsize=2)
def _cue_patterns(kind: str) -> tuple[regex.Pattern, ...]:
    """The ``exclude_before`` or ``history_before`` cues as whole-word, case-insensitive patterns."""
    return tuple(regex.compile(rf"(?<!\w){regex.escape(cue)}(?!\w)", regex.I) for cue in getattr(_vocab(), kind))


def _alt(words: list[str] | tuple[str, ...]) -> str:
    return "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, regex.Pattern]]:
    v = _vocab()
    tens = [w for w, n in v.numbers.items() if n >= 20 and n % 10 == 0]
    ones = [w for w, n in v.numbers.items() if 1 <= n <= 9]
    word = rf"(?:(?:{_alt(tens)})(?:-(?:{_alt(ones)}))?|{_alt(list(v.numbers))})"
    # the look-ahead lets the engine skip positions that cannot start a number cheaply
    initials = "".join(sorted({w[0] for w in v.numbers}))
    num = rf"(?=[\d{initials}])(?:\d+(?:\.\d+)?|{word})"
    unit = rf"(?:{_alt([u for u in v.units if len(u) > 1])})\b"
    point_unit = r"(?:days?|weeks?|months?|years?)\b"
    not_age = r"(?![- ]?(?:old|of\s+age)\b)"
    anchor = rf"(?:(?:the\s+)?(?:[\w/+α-]+[\s-]+){{0,3}}?(?:{_ANCHOR_NOUNS})\b)"
    conj = r"(?:\s*,\s*and\s+|\s*,\s*or\s+|\s*,\s*|\s+and\s+|\s+or\s+|\s*&\s*)"
    own_time = r"(?!\s+(?:at|on|in|by|after)\s+(?:the\s+)?(?:day|week|month|year)s?\b)"
    months = _alt(list(MONTHS) + [m[:3] for m in MONTHS])
    baseline = _alt(v.baseline)
    flags = regex.IGNORECASE | regex.VERSION1
    specs = [
        # "week 12 and 1 at week 24": a last conjunct with a time of its own is a value, not a time
        ("coord_unit_first", rf"\b(?P<unit>day|week|month)s?\s+(?P<nums>(?>\d+(?:{conj}\d+(?![.,]?\d))+))\b{own_time}"),
        ("coord_unit_after", rf"\b(?P<nums>{num}-?(?:{conj}{num}-?)+)[- ](?P<unit>{point_unit}){not_age}"
                             rf"(?:[- ](?P<rel>post|after|following|from)[- ]?(?P<anchor>{anchor})?)?"),
        ("unit_num", rf"\b(?P<unit>day|week|month|year)\s+(?P<num>\d+)\b(?!\s*(?:-|to)\s*\d)"
                     rf"(?:\s+(?P<rel>after|post|following)[- ]?(?P<anchor>{anchor})?)?"),
        ("num_unit_rel", rf"\b(?P<num>{num})[- ]?(?P<unit>{point_unit}){not_age}\s+(?P<rel>after|post|following|from|since|later)\b"
                         rf"(?:[- ]?(?P<anchor>{anchor}))?"),
        ("followup", rf"\b(?:(?P<cue>at|during|throughout|over|in|by)\s+)?(?:the\s+)?(?:a\s+)?(?P<num>{num})[- ](?P<unit>{point_unit})"
                     rf"[- ]follow[- ]?ups?(?:\s+(?P<period>period|visits?))?"),
        ("after", rf"\b(?P<cue>after|at|on|by|within|until|up\s+to)\s+(?P<num>{num})\s+(?P<unit>{point_unit}){not_age}"
                  rf"(?P<tail>(?:{conj}{num}\s+{point_unit})*)"),
        # "after 3 days in patient 1 and 7 days in patient 2": the conjunct after a patient phrase
        ("after_patient_conj", rf"\b(?P<cue>after|at|on|by|within)\s+{num}\s+{point_unit}\s+in\s+{_PATIENT_PHRASE}"
                               rf"(?:{conj})(?P<num>{num})\s+(?P<unit>{point_unit}){not_age}(?=\s+in\s+{_PATIENT_PHRASE})"),
        ("duration", rf"\b(?P<cue>for|over|during|throughout|in)\s+(?:(?:the|a|an)\s+)?"
                     rf"(?:(?P<qual>next|previous|past|last|first|following|preceding|subsequent)\s+)?(?P<num>{num})[- ](?P<unit>{unit})\b{not_age}"
                     rf"(?:[- ](?:period|course|interval|span))?"),
        ("baseline_generic", rf"\b(?:prior\s+to|before)\s+(?!an?\s)(?:the\s+)?(?:first\s+)?(?P<anchor>(?:[A-Za-z][\w/+α-]*[\s-]+){{0,4}}?"
                             rf"(?:therapy|treatment|infusion|administration|transplantation))\b"),
        ("baseline", rf"\b(?<![\w-])(?:{baseline})(?![\w-])"),
        # "before and 3 months after CAR T-cell therapy": the elided anchor of "before" is the later one's
        ("baseline_ellipsis", rf"\b(?:before|prior\s+to)(?=\s+and\s+{num}[- ]{point_unit}\s+(?:after|post|following)\b)"),
        ("date", rf"\b(?P<prep>in|on|since|from|until|by|during|of)\s+(?:(?:early|late|mid)[- ])?(?:(?P<day>\d{{1,2}})\s+)?"
                 rf"(?P<month>{months})\.?(?:\s+(?P<day2>\d{{1,2}}),)?\s+(?P<year>(?:19|20)\d\d)\b"),
        ("year", r"\b(?P<prep>in|since|until)\s+(?:(?:early|late|mid)[- ])?(?P<year>(?:19|20)\d\d)\b(?![-–)\]/]|\s*[-–]\s*\d)"),
    ]
    return [(name, regex.compile(p, flags)) for name, p in specs]


def parse_number_word(text: str) -> float | None:
    """``"12"`` -> 12.0, ``"three"`` -> 3.0, ``"twenty-four"`` -> 24.0; None if not a number."""
    t = text.strip().lower().rstrip("-")
    try:
        return float(t)
    except ValueError:
        pass
    numbers = _vocab().numbers
    if t in numbers:
        return numbers[t]
    if "-" in t:
        head, _, tail = t.partition("-")
        if head in numbers and tail in numbers:
            return numbers[head] + numbers[tail]
    return None


def _unit(text: str) -> tuple[float, str]:
    return _vocab().units.get(text.lower(), (1.0, text.lower().rstrip("s")))


def _clean(value: float) -> float:
    return int(value) if float(value).is_integer() else round(value, 4)


def _point(text: str, start: int, kind: str, num: str, unit_text: str, *, relative_to: str | None = None) -> ResolvedTime:
    n = parse_number_word(num)
    mult, unit = _unit(unit_text)
    value = None if n is None else _clean(n * mult)
    days = None if value is None else _clean(value * UNIT_DAYS[unit])
    return ResolvedTime(text, start, start + len(text), kind, value, unit, days, False, relative_to)


def _numbers(text: str) -> list[str]:
    return [m.group(0) for m in _NUMBER_TOKEN.finditer(text)
            if parse_number_word(m.group(0)) is not None]


def _build(name: str, m: regex.Match, text: str) -> ResolvedTime | None:
    s, e = m.span()
    surface = text[s:e]
    g = m.groupdict()
    anchor = g.get("anchor")
    relative_to = anchor.strip() if anchor else ("treatment" if g.get("rel") else None)
    if name == "coord_unit_after" and _COUNTED_BEFORE.search(text, max(0, s - 20), s):
        return None  # "patient 1 and 7 days": the first number counts patients
    if name in ("coord_unit_first", "coord_unit_after"):
        mult, unit = _unit(g["unit"])
        vals = [_clean(parse_number_word(x) * mult) for x in _numbers(g["nums"])]
        if len(vals) < 2:
            return None
        days = [_clean(x * UNIT_DAYS[unit]) for x in vals]
        return ResolvedTime(surface, s, e, "timepoint", vals[0], unit, days[0], False, relative_to, vals, days)
    if name in ("unit_num", "num_unit_rel"):
        return _point(surface, s, "timepoint", g["num"], g["unit"], relative_to=relative_to)
    if name == "followup":
        cue = (g.get("cue") or "").lower()
        kind = "duration" if cue in ("during", "throughout", "over") or g.get("period") else "timepoint"
        return _point(surface, s, kind, g["num"], g["unit"], relative_to=None if kind == "duration" else "treatment")
    if name == "after":
        cue = g["cue"].lower()
        rel = "treatment" if cue in ("after",) else None
        first = _point(surface, s, "timepoint", g["num"], g["unit"], relative_to=rel)
        if not g.get("tail"):
            return first
        pairs = _NUM_UNIT_PAIR.findall(surface[len(m.group("cue")):])
        vals, days = [], []
        for num, unit_text in pairs:
            n = parse_number_word(num)
            if n is None:
                continue
            mult, unit = _unit(unit_text)
            vals.append(_clean(n * mult))
            days.append(_clean(n * mult * UNIT_DAYS[unit]))
        return ResolvedTime(surface, s, e, "timepoint", first.value, first.unit, first.days, False, rel, vals, days)
    if name == "after_patient_conj":  # only the second conjunct: the first is the "after" pattern's
        rel = "treatment" if (g.get("cue") or "").lower() == "after" else None
        return _point(text[m.start("num"):e], m.start("num"), "timepoint", g["num"], g["unit"], relative_to=rel)
    if name == "duration":
        if (g.get("qual") or "").lower() in _HISTORY_QUALIFIERS or _history_context(text, m.start("num")):
            return None  # "over the previous two decades", "living with RA for 20 years"
        rt = _point(surface, s, "duration", g["num"], g["unit"])
        if _years_of_history(g, rt, text, e):
            return None  # "had dermatomyositis for 5 years"
        return rt
    if name in ("baseline", "baseline_generic", "baseline_ellipsis"):
        rel = anchor.strip() if anchor else None
        return ResolvedTime(surface, s, e, "baseline", None, None, 0, True, rel)
    if name in ("date", "year"):
        before = text[max(0, s - 40):s]
        if any(p.search(before) for p in _cue_patterns("exclude_before")):
            return None
        date = g["year"]
        if g.get("month"):
            date += f"-{MONTHS.get(g['month'].lower().rstrip('.'), 0) or _month3(g['month']):02d}"
            day = g.get("day") or g.get("day2")
            if day:
                date += f"-{int(day):02d}"
        prep_len = len(g["prep"]) + 1
        body = surface[prep_len:].lstrip()
        start = e - len(body)
        return ResolvedTime(body, start, e, "date", date=date)
    return None


_ANCHOR_AFTER = regex.compile(r"\s*(?:after|post|following|since|from)\b", regex.I)


def _years_of_history(g: dict, rt: ResolvedTime, text: str, end: int) -> bool:
    """"for N years" with no anchor after it: a disease or treatment history, not the treatment course.

    Case reports follow the course in days, weeks and months; a span of years "for" which the
    patient had a disease or took a drug is history (GUIDELINES section 4), unless it is anchored
    ("for 2 years after CAR T-cell therapy").
    """
    return (g.get("cue") or "").lower() == "for" and rt.unit == "year" and not _ANCHOR_AFTER.match(text, end)


def _history_context(text: str, start: int, window: int = 80) -> bool:
    """A disease-history cue ("living with", "diagnosed", "for the first time in") shortly before ``start``."""
    before = _SENTENCE_END.split(text[max(0, start - window):start])[-1]
    return any(p.search(before) for p in _cue_patterns("history_before"))


def _sentence(text: str, start: int, end: int, window: int = 400) -> str:
    """The sentence around ``text[start:end]`` (approximate: split on sentence ends within ``window``)."""
    before = _SENTENCE_END.split(text[max(0, start - window):start])[-1]
    after = _SENTENCE_END.split(text[end:end + window])[0]
    return before + text[start:end] + after


def _trim_leading(rt: ResolvedTime) -> ResolvedTime:
    """Drop a leading "at/on/in/during/throughout" and determiner; direction words (after, over) stay."""
    cut = _LEADING.match(rt.text).end()
    if cut == 0 or cut >= len(rt.text):
        return rt
    return replace(rt, text=rt.text[cut:], start=rt.start + cut)


def _month3(name: str) -> int:
    key = name.lower().rstrip(".")[:3]
    return next(i for m, i in MONTHS.items() if m.startswith(key))


def find_timepoints(text: str) -> list[ResolvedTime]:
    """Every time expression in ``text``, non-overlapping, in text order (longest wins)."""
    found: list[tuple[int, int, int, ResolvedTime]] = []
    for priority, (name, pattern) in enumerate(_patterns()):
        for m in pattern.finditer(text, overlapped=False):
            rt = _build(name, m, text)
            if rt is None:
                continue
            if rt.kind != "date":
                rt = _trim_leading(rt)
                if _POPULATION.search(_sentence(text, rt.start, rt.end)):
                    continue
            if rt.end > rt.start:
                found.append((rt.start, rt.end, priority, rt))
    found.sort(key=lambda x: (-(x[1] - x[0]), x[2], x[0]))
    chosen: list[ResolvedTime] = []
    starts: list[int] = []  # the chosen spans, disjoint and sorted: only the neighbours can overlap
    ends: list[int] = []
    for s, e, _, rt in found:
        i = bisect_right(starts, s)
        if (i == 0 or ends[i - 1] <= s) and (i == len(starts) or starts[i] >= e):
            chosen.append(rt)
            starts.insert(i, s)
            ends.insert(i, e)
    return sorted(chosen, key=lambda rt: rt.start)


def resolve_timepoint(text: str) -> list[ResolvedTime]:
    """Resolve a time expression ("day 60, 90, and 60", "baseline") into its readings."""
    return find_timepoints(text)
