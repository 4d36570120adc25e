"""``clinex_timepoints``: TIMEPOINT candidates from ``pipeline.timepoints.find_timepoints``."""
from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.components import doc_text, register_extensions
from pipeline.components.entities import add_candidate, snap
from pipeline.timepoints import find_timepoints


class TimepointRecognizer:
    def __init__(self, nlp: Language, name: str = "clinex_timepoints", *, dates: bool = True) -> None:
        register_extensions()
        self.name = name
        self.dates = dates
        self.misaligned = 0

    def __call__(self, doc: Doc) -> Doc:
        counter = [0]
        for rt in find_timepoints(doc_text(doc)):
            if rt.kind == "date" and not self.dates:
                continue
            add_candidate(doc, snap(doc, rt.start, rt.end, counter), "TIMEPOINT", "rule", rt.norm())
        self.misaligned += counter[0]
        return doc


@Language.factory("clinex_timepoints", assigns=["doc.spans"], default_config={"dates": True})
def make_timepoints(nlp: Language, name: str, dates: bool) -> TimepointRecognizer:
    return TimepointRecognizer(nlp, name, dates=dates)
