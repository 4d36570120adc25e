"""Doses written after a drug ("abatacept 125 mg weekly").
"""
from __future__ import annotations

import regex as re

from pipeline.measurements.model import Mention, UnitNormalizer
from pipeline.measurements.units import read_unit
from pipeline.values import NumberMatch

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
