"""Analyte names compared as curators compare them: ``analyte_key("Haemoglobin") == analyte_key("Hb")``.

A name is folded (case, British spellings, Greek letters, hyphens, spaces and
brackets), then mapped through the vocabulary in ``rules/`` (canonical id, long
forms and abbreviations of every SCORE and LAB rule) to its canonical id. A
name the vocabulary does not know keeps its folded form, so open-vocabulary
analytes ("lipase") still compare equal to themselves.
"""
from __future__ import annotations

import re
from functools import lru_cache

from pipeline.ruleset import load_rules

ANALYTE_RULE_FILES = ("labs", "scores")
_GREEK = str.maketrans({"α": "a", "β": "b", "γ": "g", "κ": "k", "λ": "l", "µ": "u", "μ": "u"})
_DROP = re.compile(r"[\s\-‐‑–_.,'’()\[\]]+")
_BRITISH = ((r"haem", "hem"), (r"aem", "em"), (r"oes", "es"), (r"oed", "ed"), (r"aed", "ed"), (r"oea", "ea"))


def fold(name: str) -> str:
    """Case, spelling and punctuation folded: "Haemoglobin" -> "hemoglobin", "anti-Ro/SSA" -> "antiro/ssa"."""
    s = str(name).casefold().translate(_GREEK)
    for old, new in _BRITISH:
        s = s.replace(old, new)
    return _DROP.sub("", s)


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, str]:
    """Folded surface form -> canonical analyte id; an id wins over another rule's synonym."""
    table: dict[str, str] = {}
    synonyms: dict[str, str] = {}
    for name in ANALYTE_RULE_FILES:
        for rule in load_rules(name):
            canonical = rule["id"]
            table.setdefault(fold(canonical), canonical)
            for form in [rule.get("pattern")] + list(rule.get("synonyms", [])) + list(rule.get("abbreviations", [])):
                if isinstance(form, str) and form:
                    synonyms.setdefault(fold(form), canonical)
    for key, canonical in synonyms.items():
        table.setdefault(key, canonical)
    return table


def analyte_key(name: str | None) -> str:
    """The key two analyte names are compared by (folded canonical id, or the folded name)."""
    if not name:
        return ""
    folded = fold(name)
    canonical = _vocabulary().get(folded)
    return fold(canonical) if canonical is not None else folded
