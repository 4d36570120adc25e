"""Companions of a value as clinicians write them, read once the values of a stretch are known.

* ``4.2 ± 1.1`` (and ``+/-``): a mean with its SD; the SD is no value of its own;
* ``21.1 (9.0)`` under a "mean (SD)" cue, ``12 (8-20)`` under "median (IQR)" or "(range)": a group
  statistic; otherwise a number in parentheses right after a value (``107 mmHg (14.3 kPa)``,
  ``7.55 (87%)``) is the same reading restated, never another value of the analyte;
* ``1:640``, ``1/2560``, ``1280×``: a titer, the denominator being the value (unit ``titer``).

Pure functions over the ``Value`` objects of ``pipeline.measurements``; the cue words are data
(``rules/value_forms.jsonl``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any, Protocol

import regex as re

from pipeline.ruleset import load_rules
from pipeline.values import numeral_value

_NUM = r"\d+(?:[.,]\d+)?"
_PLUS_MINUS = re.compile(rf"^\s*(?:±|\+/-|\+-|\+/−)\s*(?P<sd>{_NUM})")
_IN_PARENS = re.compile(rf"^\s*\(\s*(?P<x>{_NUM})\s*(?:%|[^\W\d]{{0,6}}/?[^\W\d]{{0,4}})?\s*\)")
_RANGE_IN_PARENS = re.compile(rf"^\s*\(\s*(?:[^\W\d]+[\s:]*)?(?P<lo>{_NUM})\s*(?:[-–—]|to)\s*(?P<hi>{_NUM})\s*\)")
_TITER = re.compile(r"^\s*(?P<sep>[:/])\s*(?P<d>\d{1,3}(?:,\d{3})+|\d+)(?!\d|\.\d)")
_TIMES_TITER = re.compile(r"^[×x](?!\s*10\b|\s*10\s*\^|\s*\d)")  # "1280×" (a dilution written as a multiple)
TITER_MIN_DENOMINATOR = 20


class ValueLike(Protocol):
    start: int
    end: int
    value: float
    maximum: float | None


@lru_cache(maxsize=1)
def _cues() -> dict[str, re.Pattern[str]]:
    """Cue patterns by kind (``mean_sd``, ``median_range``, ``titer``) from ``rules/value_forms.jsonl``."""
    words: dict[str, list[str]] = {}
    for rule in load_rules("value_forms"):
        words.setdefault(rule["id"], []).append(re.escape(rule["pattern"]).replace(r"\ ", r"\s*"))
    return {k: re.compile(r"(?<![\w])(?:" + "|".join(sorted(v, key=len, reverse=True)) + r")(?![\w])", re.I)
            for k, v in words.items()}


@lru_cache(maxsize=1)
def _results() -> tuple[re.Pattern[str], dict[str, str]]:
    words = {rule["pattern"].lower(): rule["result"] for rule in load_rules("value_forms") if rule["id"] == "result"}
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?P<w>{alternatives})(?![\w-])", re.I), words


def qualitative_result(text: str, start: int, end: int,
                       reaches: Callable[[int], bool]) -> tuple[int, int, str] | None:
    """The first result word in ``text[start:end]`` ("anti-Ro was negative", "ANA positive") that the
    analyte reaches (``reaches(offset)``: only linking words between), as (start, end, result)."""
    pattern, words = _results()
    m = pattern.search(text, start, end)
    if m is None or text.count("(", start, m.start()) > text.count(")", start, m.start()) or not reaches(m.start()):
        return None  # a result word inside an aside ("CRP 30 (normal < 5)") qualifies no analyte of its own
    return m.start(), m.end(), words[re.sub(r"\s+", " ", m["w"].lower())]


def cue(kind: str, text: str) -> bool:
    """True when ``text`` holds a cue of ``kind``."""
    pattern = _cues().get(kind)
    return bool(pattern and pattern.search(text))


def read_companions(text: str, values: Sequence[Any], context: str) -> list[Any]:
    """``values`` with SDs, group ranges and titers folded into the value they belong to.

    ``context`` is the text that may state the statistic ("mean (SD)" in the sentence, the row
    label or the table header). A number that is a companion (the SD, a restated reading, the
    titer's denominator) is removed from the list.
    """
    out: list[Any] = []
    drop_until = -1
    mean_cue, median_cue = cue("mean_sd", context), cue("median_range", context)
    for v in values:
        if v.start < drop_until:
            continue
        after = text[v.end:v.end + 40]
        pm = _PLUS_MINUS.match(after)
        titer = _TITER.match(after) if v.value == 1 and v.maximum is None and v.comparator is None else None
        denominator = numeral_value(titer["d"]) if titer else v.maximum if v.value == 1 and v.unit is None else None
        times = _TIMES_TITER.match(after) if v.unit is None and v.value >= TITER_MIN_DENOMINATOR else None
        if times and cue("titer", context):
            v = replace(v, unit="titer", unit_ucum=None, end=v.end + times.end(), text=text[v.start:v.end + times.end()])
        elif pm:
            v = replace(v, stat="mean", sd=numeral_value(pm["sd"]))
            drop_until = v.end + pm.end()
        elif denominator is not None and denominator >= TITER_MIN_DENOMINATOR and (
                (titer and titer["sep"] == ":") or cue("titer", context)):
            end = v.end + titer.end() if titer else v.end
            v = replace(v, value=denominator, maximum=None, unit="titer", unit_ucum=None, end=end,
                        text=text[v.start:end])
            drop_until = end
        else:
            rng = _RANGE_IN_PARENS.match(after)
            paren = _IN_PARENS.match(after)
            if rng and median_cue:
                v = replace(v, stat="median", range=(numeral_value(rng["lo"]), numeral_value(rng["hi"])))
                drop_until = v.end + rng.end()
            elif paren:
                if mean_cue:
                    v = replace(v, stat="mean", sd=numeral_value(paren["x"]))
                drop_until = v.end + paren.end()
        out.append(v)
    return out
