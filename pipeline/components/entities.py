"""``clinex_entities``: resolve the candidate spans of the recognizers into the entity list.

Every recognizer adds candidates to ``doc.spans["clinex"]`` (through ``add_candidate``);
this last component keeps, per label, the longest of overlapping spans (ties by
source: rule > abbreviation > pattern > ner), sorts them by offset and numbers
them ``e1``, ``e2``, ... in text order.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from pipeline.components import register_extensions

SPANS_KEY = "clinex"
SOURCE_RANK = {"rule": 0, "abbreviation": 1, "pattern": 2, "ner": 3}
log = logging.getLogger(__name__)


def candidates(doc: Doc) -> SpanGroup:
    """The span group the recognizers write to (created on first use)."""
    if SPANS_KEY not in doc.spans:
        doc.spans[SPANS_KEY] = []
    return doc.spans[SPANS_KEY]


def add_candidate(doc: Doc, span: Span | None, label: str, source: str, norm: dict[str, Any]) -> Span | None:
    """Add ``span`` as a ``label`` candidate unless a candidate with the same offsets and label exists."""
    if span is None or len(span) == 0:
        return None
    group = candidates(doc)
    for other in group:
        if other.start == span.start and other.end == span.end and other.label_ == label:
            return None
    new = Span(doc, span.start, span.end, label=label)
    new._.clinex_source = source
    new._.clinex_norm = dict(norm)
    group.append(new)
    return new


def snap(doc: Doc, start: int, end: int, counter: list[int] | None = None) -> Span | None:
    """The token span covering characters ``[start, end)``; a misaligned hit is expanded and counted."""
    span = doc.char_span(start, end, alignment_mode="strict")
    if span is None:
        span = doc.char_span(start, end, alignment_mode="expand")
        if counter is not None:
            counter[0] += 1
    return span


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Per label: longest span first, then by source rank, then leftmost; drop what overlaps a kept one."""
    by_label: dict[str, list[Span]] = {}
    for span in spans:
        by_label.setdefault(span.label_, []).append(span)
    kept: list[Span] = []
    for group in by_label.values():
        group.sort(key=lambda s: (-(s.end_char - s.start_char), SOURCE_RANK.get(s._.clinex_source or "rule", 9), s.start))
        taken: list[tuple[int, int]] = []
        for span in group:
            if all(span.end <= a or span.start >= b for a, b in taken):
                kept.append(span)
                taken.append((span.start, span.end))
    kept.sort(key=lambda s: (s.start_char, s.end_char, s.label_))
    return kept


class EntityResolver:
    def __init__(self, nlp: Language, name: str = "clinex_entities") -> None:
        register_extensions()
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        kept = resolve_overlaps(list(candidates(doc)))
        for i, span in enumerate(kept, start=1):
            span._.clinex_id = f"e{i}"
        doc.spans[SPANS_KEY] = SpanGroup(doc, name=SPANS_KEY, spans=kept)
        return doc


@Language.factory("clinex_entities", assigns=["doc.spans"], default_config={})
def make_entities(nlp: Language, name: str) -> EntityResolver:
    return EntityResolver(nlp, name)
