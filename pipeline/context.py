"""Is a treatment given? ConText-style cues for DRUG mentions (Harkema et al., J Biomed Inform 2009).

``treatment_context(text, start, end)`` says ``"negated"`` for "did not receive rituximab",
"rituximab was withheld", ``"hypothetical"`` for "would be treated with belimumab", "belimumab
was considered", and None otherwise. A cue before the drug governs it across at most
``MAX_FILLER`` filler words and other drug names ("did not receive methotrexate or rituximab"),
never across a clause break; a cue after it must follow it directly. The cues are data
(``rules/context.jsonl``).
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache

import regex as re

from pipeline.ruleset import load_rules

MAX_FILLER = 3
_FILLER = frozenset({"any", "further", "the", "a", "an", "prior", "previous", "concomitant", "additional", "other",
                     "or", "and", "nor", "with", "oral", "intravenous", "iv", "systemic", "high-dose", "low-dose", "dose",
                     "doses", "treatment", "therapy"})
_WORD = re.compile(r"[^\W\d_][\w-]*|\d+|[^\w\s]")
_CLAUSE_BREAK = frozenset({".", ";", ":", "!", "?"})


@lru_cache(maxsize=1)
def _cues() -> dict[str, re.Pattern[str]]:
    by_kind: dict[str, list[str]] = {}
    for rule in load_rules("context"):
        by_kind.setdefault(rule["id"], []).append(re.escape(rule["pattern"]).replace(r"\ ", r"\s+"))
    out = {}
    for kind, cues in by_kind.items():
        alt = "|".join(sorted(cues, key=len, reverse=True))
        out[kind] = re.compile(rf"(?<![\w-])(?:{alt})\s*$" if kind.endswith("_pre") else rf"^\s*,?\s*(?:{alt})(?![\w-])",
                               re.IGNORECASE)
    return out


def _strip_fillers(before: str) -> str | None:
    """``before`` without the filler words at its end (None when a clause break or too many words stand there)."""
    tokens = list(_WORD.finditer(before))
    cut = len(before)
    n = 0
    for tok in reversed(tokens):
        word = tok.group(0)
        if word in _CLAUSE_BREAK:
            return None
        if word.lower() in _FILLER or word == ",":
            n += 1
            if n > MAX_FILLER:
                return None
            cut = tok.start()
            continue
        break
    return before[:cut]


def treatment_context(text: str, start: int, end: int, others: Sequence[tuple[int, int]] = ()) -> str | None:
    """``"negated"``, ``"hypothetical"`` or None for the drug mention ``text[start:end]``.

    ``others`` are the spans of other drug mentions (sorted), skipped over like filler words.
    """
    cues = _cues()
    window = list(text[max(0, start - 120):start])
    offset = max(0, start - 120)
    k = bisect_left(others, (offset - 200, 0))  # ``others`` sorted: only the mentions near the window
    while k < len(others) and others[k][0] < start:
        a, b = others[k]
        for i in range(max(a, offset), min(b, start)):
            window[i - offset] = " "
        k += 1
    before = _strip_fillers("".join(window).rstrip())
    after = text[end:end + 60]
    for kind in ("negated", "hypothetical"):
        pre, post = cues.get(f"{kind}_pre"), cues.get(f"{kind}_post")
        if before is not None and pre is not None and pre.search(before.rstrip()):
            return kind
        if post is not None and post.match(after):
            return kind
    return None
