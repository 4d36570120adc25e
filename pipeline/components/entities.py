"""``clinex_entities``: resolve the candidate spans of the recognizers into the entity list.

Every recognizer adds candidates to ``doc.spans["clinex"]`` (through ``add_candidate``);
this last component keeps, per label, the longest of overlapping spans (ties by
source: rule > abbreviation > pattern > ner), sorts them by offset and numbers
them ``e1``, ``e2``, ... in text order. A DRUG mention that is negated or hypothetical
("did not receive rituximab", "belimumab was considered") gets ``norm.negated`` /
``norm.hypothetical`` (``pipeline.context``).
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from pipeline.components import doc_text, register_extensions
from pipeline.context import treatment_context

SPANS_KEY = "clinex"
_INFO_KEY = "clinex_candidate_info"
LABEL_RANK = {"DRUG": 0, "SCORE": 1, "LAB": 2, "TIMEPOINT": 3}
SOURCE_RANK = {"rule": 0, "abbreviation": 1, "pattern": 2, "ner": 3}
log = logging.getLogger(__name__)


def candidates(doc: Doc) -> SpanGroup:
    """The span group the recognizers write to (created on first use)."""
    if SPANS_KEY not in doc.spans:
        doc.spans[SPANS_KEY] = []
    return doc.spans[SPANS_KEY]


def candidate_info(span: Span) -> tuple[str, dict[str, Any]]:
    """``(source, norm)`` of a candidate span.

    Kept beside the span group, keyed by offsets and label, because spaCy keys span
    extension values by offsets only: a DRUG and a LAB candidate on the same characters
    would share one ``span._.clinex_norm``. ``clinex_entities`` sets the extensions on the
    spans it keeps.
    """
    info = span.doc.user_data.get(_INFO_KEY, {})
    return info.get((span.start_char, span.end_char, span.label_), ("rule", {}))


def add_candidate(doc: Doc, span: Span | None, label: str, source: str, norm: dict[str, Any]) -> Span | None:
    """Add ``span`` as a ``label`` candidate unless a candidate with the same offsets and label exists."""
    if span is None or len(span) == 0:
        return None
    info = doc.user_data.setdefault(_INFO_KEY, {})
    key = (span.start_char, span.end_char, label)
    if key in info:
        return None
    new = Span(doc, span.start, span.end, label=label)
    info[key] = (source, dict(norm))
    candidates(doc).append(new)
    return new


def snap(doc: Doc, start: int, end: int, counter: list[int] | None = None) -> Span | None:
    """The token span covering characters ``[start, end)``; a misaligned hit is expanded and counted."""
    span = doc.char_span(start, end, alignment_mode="strict")
    if span is None:
        span = doc.char_span(start, end, alignment_mode="expand")
        if counter is not None:
            counter[0] += 1
    return span


def covering(spans: list[Span]) -> dict[int, list[int]]:
    """Token index -> indices (in list order) of the spans that cover that token.

    Spans are a few tokens long, so this is linear in the doc where a pairwise test of
    every span against every other is quadratic.
    """
    index: dict[int, list[int]] = {}
    for n, span in enumerate(spans):
        for i in range(span.start, span.end):
            index.setdefault(i, []).append(n)
    return index


def _nested_analyte(span: Span, containers: list[Span], index: dict[int, list[int]]) -> bool:
    """A LAB inside a SCORE name ("ESR" in "DAS28-ESR") or an analyte inside a drug name is part of that name."""
    if span.label_ not in ("LAB", "SCORE"):
        return False
    outer = ("SCORE", "DRUG") if span.label_ == "LAB" else ("DRUG",)
    return any(c.label_ in outer and c.start <= span.start and span.end <= c.end and len(c) > len(span)
               for c in (containers[n] for n in index.get(span.start, ())))


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Per label: longest span first, then by source rank, then leftmost; drop what overlaps a kept one.

    Across labels: analytes nested in a score or drug name are dropped, and of spans on
    the very same characters only the first label in DRUG, SCORE, LAB, TIMEPOINT order stays.
    """
    spans = list(spans)
    by_label: dict[str, list[Span]] = {}
    for span in spans:
        by_label.setdefault(span.label_, []).append(span)
    kept: list[Span] = []
    for group in by_label.values():
        group.sort(key=lambda s: (-(s.end_char - s.start_char), SOURCE_RANK.get(candidate_info(s)[0], 9), s.start))
        taken: set[int] = set()  # tokens of this label's kept spans
        for span in group:
            tokens = range(span.start, span.end)
            if taken.isdisjoint(tokens):
                kept.append(span)
                taken.update(tokens)
    containers = [s for s in kept if s.label_ in ("SCORE", "DRUG")]
    index = covering(containers)
    kept = [s for s in kept if not _nested_analyte(s, containers, index)]
    kept.sort(key=lambda s: (s.start_char, s.end_char, LABEL_RANK.get(s.label_, 9)))
    unique: list[Span] = []
    for span in kept:
        if unique and unique[-1].start_char == span.start_char and unique[-1].end_char == span.end_char:
            continue
        unique.append(span)
    return unique


class EntityResolver:
    def __init__(self, nlp: Language, name: str = "clinex_entities") -> None:
        register_extensions()
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        kept = resolve_overlaps(list(candidates(doc)))
        drugs = [(s.start_char, s.end_char) for s in kept if s.label_ == "DRUG"]
        text = doc_text(doc)
        for i, span in enumerate(kept, start=1):
            source, norm = candidate_info(span)
            if span.label_ == "DRUG":
                state = treatment_context(text, span.start_char, span.end_char, drugs)
                if state is not None:
                    norm = {**norm, state: True}
            span._.clinex_id = f"e{i}"
            span._.clinex_source = source
            span._.clinex_norm = norm
        doc.spans[SPANS_KEY] = SpanGroup(doc, name=SPANS_KEY, spans=kept)
        doc.user_data.pop(_INFO_KEY, None)
        return doc


@Language.factory("clinex_entities", assigns=["doc.spans"], default_config={})
def make_entities(nlp: Language, name: str) -> EntityResolver:
    return EntityResolver(nlp, name)
