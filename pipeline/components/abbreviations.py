"""``clinex_abbreviations``: short forms the paper defines take their long form's entity.

scispaCy's ``AbbreviationDetector`` (Schwartz & Hearst 2003, "A simple algorithm
for identifying abbreviation definitions in biomedical text") finds definitions such
as "lactate dehydrogenase (LDH)" or "rituximab (RTX)". When a recognizer found an
entity matching the long form (Jaccard overlap of characters >= 0.7, one inside the
other), the short form at the definition and every later occurrence get that
entity's label and norm, with source "abbreviation".
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from scispacy.abbreviation import AbbreviationDetector, filter_matches, find_abbreviation
from spacy.attrs import ORTH
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.components import register_extensions, token_texts
from pipeline.components.entities import add_candidate, candidate_info, candidates, covering

log = logging.getLogger(__name__)


def overlap_score(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Jaccard overlap of two character ranges when one contains the other, else 0."""
    inside = (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])
    if not inside:
        return 0.0
    inter = min(a[1], b[1]) - max(a[0], b[0])
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0


def best_entity(long_form: tuple[int, int], spans: list[Span], *, threshold: float = 0.7) -> Span | None:
    """The candidate that best matches a long form, or None below ``threshold``."""
    best, score = None, threshold
    for span in spans:
        s = overlap_score(long_form, (span.start_char, span.end_char))
        if s > score or (s == score and best is None and s > 0):
            best, score = span, s
    return best


def parenthesized(doc: Doc, max_inside: int = 8) -> list[tuple[int, int, int]]:
    """``(0, start, end)`` for the tokens inside each ``( ... )`` of at most ``max_inside`` tokens.

    The same candidates as the detector's ``( + )`` Matcher pattern (which scispaCy then
    filters to 8 tokens), found in one pass instead of matching every open length.
    """
    out = []
    opens: list[int] = []
    for i, word in enumerate(token_texts(doc)):
        if word == "(":
            opens.append(i)
        elif word == ")" and opens:
            start = opens.pop()
            if 0 < i - start - 1 <= max_inside:
                out.append((0, start + 1, i))
        elif word == "\n\n" or (word.isspace() and "\n\n" in word):
            opens.clear()
    return out


def find_definitions(filtered: list[tuple[Span, Span]], doc: Doc) -> list[tuple[Span, set[Span]]]:
    """scispaCy's ``AbbreviationDetector.find_matches_for``: each definition's long form with every
    occurrence of its short form in ``doc``.

    The same algorithm and result; the later occurrences (the same token texts as the short
    form at its definition) are found over an array of the tokens' ORTH ids instead of with
    a ``Matcher`` built and run per document.
    """
    all_occurrences: dict[Span, set[Span]] = defaultdict(set)
    seen_long: set[str] = set()
    seen_short: set[str] = set()
    by_first: dict[int, list[tuple[Span, tuple[int, ...]]]] = {}  # first ORTH id -> (long form, short form ids)
    orths: list[int] | None = None
    for long_candidate, short_candidate in filtered:
        short, long = find_abbreviation(long_candidate, short_candidate)
        new_long = long.text not in seen_long if long else False
        new_short = short.text not in seen_short
        if long is not None and new_long and new_short:
            seen_long.add(long.text)
            seen_short.add(short.text)
            all_occurrences[long].add(short)
            if orths is None:
                orths = doc.to_array(ORTH).tolist()
            pattern = tuple(orths[short.start:short.end])
            by_first.setdefault(pattern[0], []).append((long, pattern))
    if by_first:
        n = len(orths)
        for start, orth in enumerate(orths):
            for long, pattern in by_first.get(orth, ()):
                size = len(pattern)
                if start + size <= n and tuple(orths[start:start + size]) == pattern:
                    all_occurrences[long].add(doc[start:start + size])
    return list(all_occurrences.items())


class AbbreviationPropagator:
    def __init__(self, nlp: Language, name: str = "clinex_abbreviations") -> None:
        register_extensions()
        self.name = name
        self.detector = AbbreviationDetector(nlp)  # registers doc._.abbreviations and span._.long_form

    def __call__(self, doc: Doc) -> Doc:
        doc._.abbreviations = []
        found = find_definitions(filter_matches(parenthesized(doc), doc), doc)
        for long_form, short_forms in found:
            for short in short_forms:
                short._.long_form = long_form
                doc._.abbreviations.append(short)
        existing = [s for s in candidates(doc) if s.label_ in ("DRUG", "SCORE", "LAB")]
        index = covering(existing)
        defined: dict[str, tuple[Span, dict[str, Any]]] = {}
        for short in sorted(doc._.abbreviations, key=lambda s: s.start):
            long = short._.long_form
            if long is None or short.text in defined:
                continue
            # only spans sharing a token with the long form can contain it or lie inside it
            near = sorted({n for i in range(long.start, long.end) for n in index.get(i, ())})
            ent = best_entity((long.start_char, long.end_char), [existing[n] for n in near])
            if ent is not None:
                defined[short.text] = (short, ent)
        for short in doc._.abbreviations:
            if short.text not in defined:
                continue
            first, ent = defined[short.text]
            if short.start < first.start:
                continue
            covered = any(s.label_ == ent.label_ and s.start <= short.start and short.end <= s.end
                          for s in (existing[n] for n in index.get(short.start, ())))
            if not covered:
                add_candidate(doc, short, ent.label_, "abbreviation", candidate_info(ent)[1])
        return doc


@Language.factory("clinex_abbreviations", assigns=["doc.spans"], default_config={})
def make_abbreviations(nlp: Language, name: str) -> AbbreviationPropagator:
    return AbbreviationPropagator(nlp, name)
