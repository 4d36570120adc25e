"""Which values an analyte owns: only those it reaches through linking words.

A value belongs to the analyte before it when nothing but linking words stands
between them ("CRP level was elevated at 45 mg/L"), or between it and the
previous value the analyte owns ("from 3.06, 5.48 and 3.12 g/L at baseline to
0.58"). Time expressions, patient mentions and parenthetical asides ("(normal
range 30-200)", "(ESR)") are skipped over. Any other word ends the reach: in
"hemoglobin 10.2 g/dl, hematocrit 31%", 31 is hematocrit's even when the
vocabulary does not know hematocrit, so hemoglobin does not get it.
The linking words are data (``rules/linking.jsonl``).
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import regex as re

from pipeline.ruleset import load_rules

_PARENTHETICAL = re.compile(r"\((?:[^()]|\((?:[^()])*\))*\)|\[[^\[\]]*\]")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d|[^\w\s]")
_PUNCTUATION = frozenset(",;:=-–—/.'’\"()[]")
MAX_GAP_WORDS = 8


@lru_cache(maxsize=1)
def linking_words() -> frozenset[str]:
    """The words of ``rules/linking.jsonl``, lower-cased."""
    return frozenset(rule["pattern"].lower() for rule in load_rules("linking"))


def masked_gap(text: str, start: int, end: int, masks: Sequence[tuple[int, int]]) -> str:
    """``text[start:end]`` with the masked spans and parenthetical asides blanked out."""
    chars = list(text[start:end])
    for a, b in masks:
        for i in range(max(a, start), min(b, end)):
            chars[i - start] = " "
    gap = "".join(chars)
    previous = None
    while previous != gap:  # nested or adjacent asides
        previous = gap
        gap = _PARENTHETICAL.sub(lambda m: " " * len(m.group(0)), gap)
    return gap


def is_link_gap(gap: str, words: frozenset[str] | None = None) -> bool:
    """True when ``gap`` holds only linking words and punctuation (and at most ``MAX_GAP_WORDS`` words)."""
    words = linking_words() if words is None else words
    n = 0
    for tok in _TOKEN.findall(gap):
        if tok[0].isdigit():
            return False
        if tok[0].isalpha():
            n += 1
            if tok.lower() not in words or n > MAX_GAP_WORDS:
                return False
        elif tok not in _PUNCTUATION:
            return False
    return True


def reachable(text: str, owner_end: int, spans: Sequence[tuple[int, int]],
              masks: Sequence[tuple[int, int]]) -> int:
    """How many of ``spans`` (value spans after the owner, in order) the owner reaches."""
    pos = owner_end
    for k, (start, end) in enumerate(spans):
        if not is_link_gap(masked_gap(text, pos, start, masks)):
            return k
        pos = end
    return len(spans)
