"""``clinex_drugs``: DRUG candidates from the lexicon, rule regexes, INN stems and code names.

- lexicon (``pipeline.lexicon``: rules/drugs.jsonl over drug-named-entity-recognition), source "rule";
- ``regex`` rules of drugs.jsonl (CAR T-cell therapies named by target, anti-CD20 antibodies), source "rule";
- WHO INN stems from rules/inn_stems.jsonl (``-mab``, ``-cept``, ``-tinib``, ``-leucel``, ``xxx-cel``), source "pattern";
- development code names (``KYV-101``, ``XKT-4471``) in a treatment context, source "pattern".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.components import register_extensions
from pipeline.components.entities import add_candidate, snap
from pipeline.lexicon import DrugInfo, DrugLexicon, excluded_terms, load_lexicon, term_key
from pipeline.ruleset import load_rules

CODE_NAME = regex.compile(r"(?<![\w./-])(?P<code>[A-Z]{2,5}(?:-\d{2,6}|\d{3,6})[A-Za-z]?)(?![\w/]|-\w)")
NOT_CODE_PREFIXES = frozenset(
    "CD IL HLA COVID SARS DAS TJC SJC ACR MMT EQ SF HAQ NCT ISRCTN EUDRACT CTR CHICTR DRKS ORCID DOI PMID PMC FIG "
    "TABLE MG CCL CXCL CCR CXCR TNF IFN TLR GM ICD HIV HBV HCV EBV CMV HPV HHV JAK STAT IGH IGK FCGR KIR PD CTLA TIM "
    "LAG BCMA APRIL BAFF MHC TCR BCR CAR WHO USA ISO ATC CAS UNII".split())
TREATMENT_CUE = regex.compile(
    r"treat|receiv|infus|therap|administ|\bdos(?:e|ed|ing)\b|product|\bCAR\b|drug|agent|inhibitor|antibod|\bmg\b|"
    r"\bgiven\b|\bstarted\b|\binitiated\b|\bcandidate\b", regex.I)
FUNDING_CUE = regex.compile(r"grant|fund|foundation|supported by|award|project no|protocol|approval|ethic|registr", regex.I)
WORDISH = re.compile(r"^[a-z][a-z-]+$")
CD_NUMBER = regex.compile(r"(?:CD|BCMA)\d+[a-z]?")


@dataclass(frozen=True)
class Stem:
    suffix: str
    drug_class: str
    min_length: int
    hyphenated: bool
    exclude: frozenset[str]

    def matches(self, word: str) -> bool:
        """True when lowercase ``word`` is an INN built on this stem (``zorbilimab`` on ``-mab``)."""
        if len(word) < self.min_length or word in self.exclude or not WORDISH.match(word):
            return False
        if self.hyphenated:
            head, _, tail = word.rpartition("-")
            return tail == self.suffix and len(head) >= 3 and head.isalpha()
        return word.endswith(self.suffix) and "-" not in word and len(word) - len(self.suffix) >= 3


@lru_cache(maxsize=1)
def load_stems() -> tuple[Stem, ...]:
    stems = [Stem(r["pattern"].lower(), r["class"], r.get("min_length", 6), bool(r.get("hyphenated")),
                  frozenset(w.lower() for w in r.get("exclude", []))) for r in load_rules("inn_stems")]
    return tuple(sorted(stems, key=lambda s: len(s.suffix), reverse=True))


def stem_class(word: str, stems: tuple[Stem, ...] | None = None) -> str | None:
    """The class an INN stem implies for ``word`` (lowercase), or None."""
    for stem in stems if stems is not None else load_stems():
        if stem.matches(word.lower()):
            return stem.drug_class
    return None


def is_code_name(code: str, before: str, after: str) -> bool:
    """A development code (``KYV-101``) in a treatment context, not an antigen, gene, trial or grant id."""
    prefix = regex.match(r"[A-Z]+", code).group(0)
    if prefix in NOT_CODE_PREFIXES:
        return False
    context = before[-80:] + " " + after[:40]
    if FUNDING_CUE.search(before[-60:]):
        return False
    return bool(TREATMENT_CUE.search(context)) or before.rstrip().endswith("(")


def regex_norm(info: DrugInfo, match: regex.Match) -> dict[str, Any]:
    """Norm of a regex drug hit: a named ``target`` group (``CD19``) refines name and target."""
    norm = info.norm()
    raw = match.groupdict().get("target") or match.groupdict().get("target2")
    if raw:
        cd = CD_NUMBER.search(raw)
        target = cd.group(0) if cd else raw
        norm["target"] = target
        if info.drug_class == "CAR T-cell therapy":
            norm["name"] = f"{target} car t-cell therapy".lower()
            norm["is_class"] = False
    return norm


class DrugRecognizer:
    def __init__(self, nlp: Language, name: str = "clinex_drugs", *, use_library: bool = True,
                 stems: bool = True, code_names: bool = True) -> None:
        register_extensions()
        self.name = name
        self.lexicon: DrugLexicon = load_lexicon(library=use_library)
        self.regexes = [(regex.compile(p, regex.VERSION1), info) for p, info in self.lexicon.regexes]
        self.stems = load_stems() if stems else ()
        self.suffixes = tuple(s.suffix for s in self.stems)
        self.code_names = code_names
        self.not_drugs = excluded_terms()
        self.misaligned = 0

    def __call__(self, doc: Doc) -> Doc:
        for start, end, info in self.lexicon.index.matches(doc):
            add_candidate(doc, doc[start:end], "DRUG", "rule", info.norm())
        counter = [0]
        text = doc.text  # Doc.text is rebuilt from the tokens on every access
        for pattern, info in self.regexes:
            for m in pattern.finditer(text):
                add_candidate(doc, snap(doc, *m.span(), counter), "DRUG", "rule", regex_norm(info, m))
        if self.stems:
            self._stems(doc)
        if self.code_names:
            self._codes(doc, text, counter)
        self.misaligned += counter[0]
        return doc

    def _stems(self, doc: Doc) -> None:
        for tok in doc:
            word = tok.lower_
            if len(word) < 6 or not word[0].isalpha() or not word.endswith(self.suffixes):
                continue
            if term_key(word) in self.not_drugs:
                continue
            drug_class = stem_class(word, self.stems)
            if drug_class is None or self.lexicon.lookup(tok.text):
                continue
            start = tok.i
            # two-word CAR T INNs: "<xxx>cabtagene <yyy>leucel"
            if tok.i > 0 and doc[tok.i - 1].lower_.endswith("tagene"):
                start = tok.i - 1
            norm = {"name": doc[start:tok.i + 1].text.lower(), "class": drug_class, "target": None,
                    "drugbank_id": None, "is_class": False}
            add_candidate(doc, doc[start:tok.i + 1], "DRUG", "pattern", norm)

    def _codes(self, doc: Doc, text: str, counter: list[int]) -> None:
        for m in CODE_NAME.finditer(text):
            code = m.group("code")
            if term_key(code) in self.not_drugs or not is_code_name(code, text[:m.start()][-120:], text[m.end():m.end() + 60]):
                continue
            info = self.lexicon.lookup(code)
            if info is not None:
                norm = info.norm()
            else:
                window = text[max(0, m.start() - 80):m.end() + 40]
                norm = {"name": code.lower(), "class": "CAR T-cell therapy" if regex.search(r"\bCAR\b", window) else None,
                        "target": None, "drugbank_id": None, "is_class": False}
            add_candidate(doc, snap(doc, *m.span("code"), counter), "DRUG", "pattern" if info is None else "rule", norm)


@Language.factory("clinex_drugs", assigns=["doc.spans"],
                  default_config={"use_library": True, "stems": True, "code_names": True})
def make_drugs(nlp: Language, name: str, use_library: bool, stems: bool, code_names: bool) -> DrugRecognizer:
    return DrugRecognizer(nlp, name, use_library=use_library, stems=stems, code_names=code_names)
