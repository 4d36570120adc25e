"""Patterns shared by more than one step of measurement assembly.
"""
from __future__ import annotations

import regex as re

from pipeline.ruleset import word_alternation

BASELINE_RE = re.compile(
    rf"\b(?:at\s+)?(?:{word_alternation('vocabulary', 'baseline_phrase')}"
    r"|(?:prior\s+to|before)\s+(?:the\s+)?CAR[- ]T(?:[- ]cell)?(?:\s+(?:therapy|treatment|infusion))?)\b",
    re.IGNORECASE,
)
_LOST_SUPERSCRIPT = re.compile(r"10(?:3|4|6|9|12)")
