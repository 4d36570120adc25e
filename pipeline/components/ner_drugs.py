"""``clinex_ner_drugs``: statistical CHEMICAL entities as DRUG candidates (source "ner").

An entity already covered by a DRUG candidate is skipped; what is not a drug is
filtered: analytes and reagents of the score/lab rules (ESR, CRP, IgG, IL-6),
stoplisted words, numbers and fractions ("3/3"), single characters and units.
Names the lexicon knows are normalized through it.
"""
from __future__ import annotations

import regex
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.components import register_extensions
from pipeline.components.analytes import lookup_analyte
from pipeline.components.entities import add_candidate, candidates
from pipeline.lexicon import excluded_terms, load_lexicon, term_key
from pipeline.units import normalize_unit

NUMERIC = regex.compile(r"^[\d\s.,:/%×x^+\-–()<>=±]+$")
CHEMICAL_LABELS = frozenset({"CHEMICAL", "Chemical", "DRUG", "Drug"})


def is_drug_candidate(text: str, not_drugs: set[str]) -> bool:
    """False for what a CHEMICAL tagger finds that is no drug (numbers, units, analytes, stopwords)."""
    t = text.strip()
    if len(t) < 3 or NUMERIC.match(t) or not any(c.isalpha() for c in t):
        return False
    if term_key(t) in not_drugs or lookup_analyte(t) is not None or normalize_unit(t) is not None:
        return False
    return True


class NerDrugRecognizer:
    def __init__(self, nlp: Language, name: str = "clinex_ner_drugs", *, use_library: bool = True) -> None:
        register_extensions()
        self.name = name
        self.lexicon = load_lexicon(library=use_library)
        self.not_drugs = excluded_terms()

    def __call__(self, doc: Doc) -> Doc:
        drugs = [s for s in candidates(doc) if s.label_ == "DRUG"]
        for ent in doc.ents:
            if ent.label_ not in CHEMICAL_LABELS:
                continue
            if any(s.start < ent.end and ent.start < s.end for s in drugs):
                continue
            if not is_drug_candidate(ent.text, self.not_drugs):
                continue
            info = self.lexicon.lookup(ent.text)
            norm = info.norm() if info else {"name": ent.text.lower(), "class": None, "target": None,
                                             "drugbank_id": None, "is_class": False}
            add_candidate(doc, Span(doc, ent.start, ent.end), "DRUG", "ner", norm)
        return doc


@Language.factory("clinex_ner_drugs", assigns=["doc.spans"], default_config={"use_library": True})
def make_ner_drugs(nlp: Language, name: str, use_library: bool) -> NerDrugRecognizer:
    return NerDrugRecognizer(nlp, name, use_library=use_library)
