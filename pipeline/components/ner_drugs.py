"""``clinex_ner_drugs``: statistical CHEMICAL entities as DRUG candidates (source "ner").

An entity already covered by a DRUG candidate is skipped; what is not a drug is
filtered: analytes and reagents of the score/lab rules (ESR, CRP, IgG, IL-6),
stoplisted words, numbers and fractions ("3/3"), single characters, units, figure
references. A small NER trained on BC5CDR also tags names, places and ordinary words
in affiliations and references ("China", "Fig. 1a", "arrowheads"), so an entity the
lexicon and the INN stems do not know is kept only in a treatment context ("treated
with X", "X was added", "received X") and only when it is not a capitalized
multi-word name.
"""
from __future__ import annotations

import regex
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.components import doc_text, register_extensions
from pipeline.components.analytes import lookup_analyte
from pipeline.components.drugs import stem_class
from pipeline.components.entities import add_candidate, candidates
from pipeline.lexicon import excluded_terms, load_lexicon, term_key
from pipeline.units import normalize_unit

NUMERIC = regex.compile(r"^[\d\s.,:/%×x^+\-–()<>=±]+$")
FIGURE = regex.compile(r"^(?:Fig|Figure|Table|Suppl)\b", regex.I)
# a cue starts a word, perhaps after a verbal prefix ("pretreatment with", "restarted", "an overdose of")
_CUE_BEFORE = (r"\b(?:pre|re|co|over)?-?(?:(?:treated|treatment|therapy|combined|switched|managed)\s+with"
               r"|received|receiving|given|administered|started|initiated|added|switched\s+to"
               r"|(?:dose|doses|course|courses|infusions?|injections?)\s+of)")
_CUE_AFTER = r"(?:was|were)\s+(?:added|given|started|administered|initiated|switched|tapered|stopped|discontinued)\b"
BEFORE_CUE = regex.compile(rf"{_CUE_BEFORE}\s+(?:[\w-]+\s+){{0,2}}$", regex.I)
AFTER_CUE = regex.compile(rf"^\s*{_CUE_AFTER}", regex.I)
# either cue anywhere: what clinex_ner looks for to choose the sentences it tags
TREATMENT_CUE = regex.compile(rf"{_CUE_BEFORE}|\b{_CUE_AFTER}", regex.I)
CONTEXT_BEFORE = 60  # characters before an entity searched for a cue
CONTEXT_AFTER = 40
CODE_LIKE = regex.compile(r"^(?:[A-Za-z]{1,2}\d{3,}|(?:CD|IL|HLA|TNF|IFN)[\W\d])", regex.I)
CHEMICAL_LABELS = frozenset({"CHEMICAL", "Chemical", "DRUG", "Drug"})


def is_drug_candidate(text: str, not_drugs: set[str]) -> bool:
    """False for what a CHEMICAL tagger finds that is no drug (numbers, units, analytes, stopwords)."""
    t = text.strip()
    if len(t) < 3 or NUMERIC.match(t) or not any(c.isalpha() for c in t):
        return False
    if FIGURE.match(t) or CODE_LIKE.match(t) or ("(" in t and ")" not in t):
        return False
    if sum(c.isalpha() for c in t) / len(t) < 0.6:
        return False
    if term_key(t) in not_drugs or lookup_analyte(t) is not None or normalize_unit(t) is not None:
        return False
    return True


def in_treatment_context(text: str, start: int, end: int) -> bool:
    """Right after "treated with", "received", "a dose of" (two words may intervene), or
    right before "was added/given/started/stopped"."""
    before = text[max(0, start - CONTEXT_BEFORE):start].split("\n\n")[-1]
    after = text[end:end + CONTEXT_AFTER].split("\n\n")[0]
    return bool(BEFORE_CUE.search(before) or AFTER_CUE.match(after))


class NerDrugRecognizer:
    def __init__(self, nlp: Language, name: str = "clinex_ner_drugs", *, use_library: bool = True) -> None:
        register_extensions()
        self.name = name
        self.lexicon = load_lexicon(library=use_library)
        self.not_drugs = excluded_terms()

    def __call__(self, doc: Doc) -> Doc:
        drug_tokens = {i for s in candidates(doc) if s.label_ == "DRUG" for i in range(s.start, s.end)}
        text = doc_text(doc)
        for ent in doc.ents:
            if ent.label_ not in CHEMICAL_LABELS:
                continue
            if not drug_tokens.isdisjoint(range(ent.start, ent.end)):  # a rule already found a drug here
                continue
            if not is_drug_candidate(ent.text, self.not_drugs):
                continue
            info = self.lexicon.lookup(ent.text)
            drug_class = stem_class(ent.text.lower()) if info is None else None
            if info is None and drug_class is None:
                proper_name = len(ent) > 1 and all(t.text[:1].isupper() for t in ent if t.is_alpha)
                if proper_name or not in_treatment_context(text, ent.start_char, ent.end_char):
                    continue
            norm = info.norm() if info else {"name": ent.text.lower(), "class": drug_class, "target": None,
                                             "drugbank_id": None, "is_class": False}
            add_candidate(doc, Span(doc, ent.start, ent.end), "DRUG", "ner", norm)
        return doc


@Language.factory("clinex_ner_drugs", assigns=["doc.spans"], default_config={"use_library": True})
def make_ner_drugs(nlp: Language, name: str, use_library: bool) -> NerDrugRecognizer:
    return NerDrugRecognizer(nlp, name, use_library=use_library)
