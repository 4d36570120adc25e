"""Numbers as clinical texts write them: ``parse_number`` and ``find_numbers``.

Handles comparators ("<0.05", ">340", "≤ 2.6"), thousands separators ("1,250",
"13 600"), decimal commas ("1,8"), number words ("twelve"), scores out of
their maximum ("1.5/3" -> 1.5 with maximum 3) and unicode minus signs.
"""
from __future__ import annotations

from dataclasses import dataclass

import regex as re

COMPARATORS = {
    "<": "<", "≤": "<=", "<=": "<=", "=<": "<=", "⩽": "<=",
    ">": ">", "≥": ">=", ">=": ">=", "=>": ">=", "⩾": ">=",
    "~": "~", "≈": "~", "∼": "~", "approximately": "~", "approx.": "~", "about": "~",
}

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_COMP = r"(?:<=|=<|>=|=>|[<>≤≥⩽⩾~≈∼])"
# A numeral: thousands-grouped ("1,250", "13 600") or plain with an optional
# decimal point or decimal comma ("1.8", "1,8").
_NUM = (r"[-−–]?(?:\d{1,3}(?:,\d{3})+(?![\d,])(?:\.\d+)?|\d{1,3}(?:\u2009|\u202f)\d{3}(?!\d)"
        # "12 400 ng/mL", "250 000/µL": digit groups after a space or no-break space, a unit right after
        r"|(?<!\d[ \u00a0])\d{1,3}(?:[ \u00a0]\d{3})+(?![\d.,])(?=\s?(?!(?:and|or|to|in|at|on|of|vs|versus|patients?|cases?)\b)[^\W\d_]|\s?[/%µμ×])"
        r"|\d+(?:[.,]\d+)?|\.\d+)")
NUMBER_RE = re.compile(
    rf"(?<![\w.,])(?P<comp>{_COMP}\s*)?(?P<num>{_NUM})(?:\s*/\s*(?P<max>\d+(?:\.\d+)?)(?![\d.]))?(?![\d])"
)
_WORD_RE = re.compile(
    r"\b(?P<word>(?:" + "|".join(_TENS) + r")(?:[- ](?:" + "|".join(_UNITS) + r"))?|"
    + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_FULL_RE = re.compile(rf"^\s*(?P<comp>{_COMP}|approximately|approx\.|about)?\s*(?P<num>{_NUM})"
                      rf"(?:\s*/\s*(?P<max>\d+(?:\.\d+)?))?\s*$", re.IGNORECASE)


_GROUPED_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SPACED_RE = re.compile(r"-?\d{1,3}(?:[ \u00a0]\d{3})+")
_DECIMAL_COMMA_RE = re.compile(r"-?\d+,\d+")
_WORD_SPLIT_RE = re.compile(r"[- ]")


@dataclass(frozen=True)
class ParsedValue:
    """A parsed number: ``value`` (float), its comparator and, for "1.5/3", the scale maximum."""

    value: float
    comparator: str | None = None
    maximum: float | None = None
    text: str = ""


@dataclass(frozen=True)
class NumberMatch:
    """A number found in a text, with character offsets into that text."""

    start: int
    end: int
    parsed: ParsedValue
    is_word: bool = False


def numeral_value(text: str) -> float | None:
    """The float a numeral stands for: "1,250" -> 1250, "1,8" -> 1.8, "−2" -> -2."""
    s = text.strip().replace("−", "-").replace("–", "-").replace("\u2009", "").replace("\u202f", "")
    if _SPACED_RE.fullmatch(s):
        s = s.replace(" ", "").replace("\u00a0", "")
    if _GROUPED_RE.fullmatch(s):
        s = s.replace(",", "")
    elif _DECIMAL_COMMA_RE.fullmatch(s):
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return None


def word_value(text: str) -> float | None:
    """The value of an English number word ("twelve" -> 12, "twenty-one" -> 21)."""
    parts = _WORD_SPLIT_RE.split(text.strip().lower())
    if not parts or any(p not in NUMBER_WORDS for p in parts):
        return None
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _UNITS:
        return float(NUMBER_WORDS[parts[0]] + NUMBER_WORDS[parts[1]])
    if len(parts) == 1:
        return float(NUMBER_WORDS[parts[0]])
    return None


def parse_number(text: str) -> ParsedValue | None:
    """Parse one value ("1,250", "1,8", "<0.05", ">340", "twelve", "1.5/3"); None when it is not one."""
    if text is None:
        return None
    m = _FULL_RE.match(text)
    if m:
        value = numeral_value(m["num"])
        if value is None:
            return None
        comp = COMPARATORS.get(m["comp"].lower()) if m["comp"] else None
        maximum = float(m["max"]) if m["max"] else None
        return ParsedValue(value=value, comparator=comp, maximum=maximum, text=text.strip())
    value = word_value(text)
    if value is not None:
        return ParsedValue(value=value, text=text.strip())
    return None


def find_numbers(text: str, *, words: bool = True) -> list[NumberMatch]:
    """All numbers in ``text`` in order (numerals, and number words when ``words``)."""
    found: list[NumberMatch] = []
    for m in NUMBER_RE.finditer(text):
        value = numeral_value(m["num"])
        if value is None:
            continue
        comp = COMPARATORS.get(m["comp"].strip()) if m["comp"] else None
        maximum = float(m["max"]) if m["max"] else None
        found.append(NumberMatch(m.start(), m.end(), ParsedValue(value, comp, maximum, m.group(0))))
    if words:
        for m in _WORD_RE.finditer(text):
            value = word_value(m["word"])
            if value is not None:
                found.append(NumberMatch(m.start(), m.end(), ParsedValue(value, None, None, m.group(0)), True))
    found.sort(key=lambda n: n.start)
    return found
