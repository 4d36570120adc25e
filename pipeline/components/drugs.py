"""``clinex_drugs``: DRUG candidates from the lexicon, rule regexes, INN stems and code names.

- lexicon (``pipeline.lexicon``: rules/drugs.jsonl over drug-named-entity-recognition), source "rule";
- ``regex`` rules of drugs.jsonl (CAR T-cell therapies named by target, anti-CD20 antibodies), source "rule";
- WHO INN stems from rules/inn_stems.jsonl (``-mab``, ``-cept``, ``-tinib``, ``-leucel``, ``xxx-cel``), source "pattern";
- development code names (``KYV-101``, ``XKT-4471``) in a treatment context, source "pattern".
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.components import doc_text, register_extensions, token_texts
from pipeline.components.entities import SPANS_KEY, add_candidate, candidate_info, candidates, snap
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
# "post-CAR T-cell infusion", "pre-rituximab": a relational prefix glued to an agent's name
PREFIXED = regex.compile(r"(?<![\w-])(?P<prefix>(?:post|pre)-)(?P<rest>[A-Za-z][\w-]*)")
CAR_HEAD = regex.compile(r"CAR(?:[- ]?T)?$")
_CAPITALS = regex.compile(r"[A-Z]+")
_ANTI_PREFIX = regex.compile(r"^(?:anti-?|a(?=[A-Z]))")
_SPACED_CD = regex.compile(r"^(CD|BCMA)\s+(?=\d)")
_CAR_WORD = regex.compile(r"\bCAR\b")


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
    prefix = _CAPITALS.match(code).group(0)
    if prefix in NOT_CODE_PREFIXES:
        return False
    context = before[-80:] + " " + after[:40]
    if FUNDING_CUE.search(before[-60:]):
        return False
    return bool(TREATMENT_CUE.search(context)) or before.rstrip().endswith("(")


def construct_target(raw: str) -> str:
    """The target of a construct as written, canonical: ``CD19/aIL-6/aTNFα`` -> ``CD19/IL-6/TNFα``, ``CD 19`` -> ``CD19``."""
    parts = [p.strip(" -") for p in raw.split("/") if p.strip(" -")]
    out = []
    for part in parts:
        part = _ANTI_PREFIX.sub("", part)
        out.append(_SPACED_CD.sub(r"\1", part))
    return "/".join(out) or raw


def regex_norm(info: DrugInfo, match: regex.Match) -> dict[str, Any]:
    """Norm of a regex drug hit: a named ``target`` group (``CD19``) fills ``target``; the name stays the rule's id."""
    norm = info.norm()
    raw = match.groupdict().get("target") or match.groupdict().get("target2")
    if raw:
        norm["target"] = construct_target(raw)
    return norm


def construct_short_forms(text: str, constructs: dict[str, dict[str, Any]]) -> list[tuple[int, int, Any]]:
    """A multi-target construct name used alone in parentheses is the product's short form.

    "CAR T-cells that secrete antibodies against IL-6 and TNFα (CD19/aIL-6/aTNFα)", where the
    document elsewhere names the product "CD19/aIL-6/aTNFα CAR T-cells": the parenthesized
    name is a DRUG with the product's norm (GUIDELINES section 0: long form + short form).
    """
    out = []
    for raw, norm in constructs.items():
        for m in regex.finditer(rf"\(\s*({regex.escape(raw)})\s*\)", text):
            out.append((m.start(1), m.end(1), norm))
    return out


def split_prefixed_agents(doc: Doc, text: str, is_agent: Any) -> int:
    """Split tokens such as ``post-CAR`` into ``post-`` + ``CAR`` when the rest names an agent.

    The tokenizer keeps hyphenated words whole, so the agent inside "24 weeks post-CAR T-cell
    infusion" could not be a span of its own (GUIDELINES section 4: a DRUG inside a TIMEPOINT is
    still annotated). ``text`` is ``doc.text`` (splitting keeps it); ``is_agent(word)`` decides;
    returns the number of tokens split.
    """
    hits = []
    for m in PREFIXED.finditer(text):
        token = doc.char_span(m.start(), m.end("rest"), alignment_mode="strict")
        if token is None or len(token) != 1 or not is_agent(m.group("rest")):
            continue
        hits.append((token[0], m.group("prefix"), m.group("rest")))
    if hits:
        with doc.retokenize() as retokenizer:
            for token, prefix, rest in hits:
                retokenizer.split(token, [prefix, rest], heads=[(token, 1), (token, 1)])
    return len(hits)


# "tarvalimab, an investigational anti-CD38 monoclonal antibody": a determiner and at most three
# modifiers between the name's comma and the class phrase (no conjunction, no other clause)
_APPOSITION_MAX_CHARS = 120  # a comma, a determiner and three modifiers fit well inside this
_POST_APPOSITION = regex.compile(
    r"\s*,\s*(?:a|an|the)\s+(?:(?!(?:and|or|with|plus|then|followed|but|after|before)\b)[\w-]+\s+){0,3}", regex.I)


def drop_appositive_descriptors(doc: Doc, text: str) -> int:
    """Drop class descriptors in apposition to a proper name ("anti-CD20 monoclonal antibody rituximab").

    GUIDELINES section 1: the proper name wins; a class candidate followed, across white space
    only, by a named (non-class) DRUG candidate is a descriptor of it, not a mention of its own;
    so is a class phrase set off after the name ("tarvalimab, an anti-CD38 monoclonal antibody").
    Returns the number dropped.
    """
    group = candidates(doc)
    drugs = sorted((s for s in group if s.label_ == "DRUG"), key=lambda s: s.start_char)
    named = sorted((s for s in drugs if not candidate_info(s)[1].get("is_class")), key=lambda s: s.end_char)
    named_starts = {s.start_char for s in named}
    named_ends = [s.end_char for s in named]
    drop = set()
    for span in drugs:
        if not candidate_info(span)[1].get("is_class"):
            continue
        end = span.end_char
        gap_end = end + len(text[end:end + 4]) - len(text[end:end + 4].lstrip(" \t"))
        if gap_end > end and gap_end in named_starts:
            drop.add((span.start_char, span.end_char))
        elif any(_POST_APPOSITION.fullmatch(text, n.end_char, span.start_char)
                 for n in named[bisect_left(named_ends, span.start_char - _APPOSITION_MAX_CHARS):
                                bisect_right(named_ends, span.start_char)]):
            drop.add((span.start_char, span.end_char))
    if drop:
        doc.spans[SPANS_KEY] = [s for s in group if not (s.label_ == "DRUG" and (s.start_char, s.end_char) in drop)]
    return len(drop)


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

    def _is_agent(self, word: str) -> bool:
        return bool(CAR_HEAD.match(word)) or self.lexicon.lookup(word) is not None or \
            (bool(self.stems) and stem_class(word, self.stems) is not None)

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        split_prefixed_agents(doc, text, self._is_agent)
        for start, end, info in self.lexicon.index.matches(doc):
            add_candidate(doc, doc[start:end], "DRUG", "rule", info.norm())
        counter = [0]
        constructs: dict[str, dict[str, Any]] = {}
        for pattern, info in self.regexes:
            for m in pattern.finditer(text):
                norm = regex_norm(info, m)
                add_candidate(doc, snap(doc, *m.span(), counter), "DRUG", "rule", norm)
                raw = m.groupdict().get("target")
                if raw and "/" in raw and not norm["is_class"]:
                    constructs.setdefault(raw.strip(" -"), norm)
        for start, end, norm in construct_short_forms(text, constructs):
            add_candidate(doc, snap(doc, start, end, counter), "DRUG", "abbreviation", norm)
        if self.stems:
            self._stems(doc)
        if self.code_names:
            self._codes(doc, text, counter)
        drop_appositive_descriptors(doc, text)
        self.misaligned += counter[0]
        return doc

    def _stems(self, doc: Doc) -> None:
        words = token_texts(doc)  # token texts without Token objects; lower() is what Token.lower_ gives
        for i, text in enumerate(words):
            word = text.lower()
            if len(word) < 6 or not word[0].isalpha() or not word.endswith(self.suffixes):
                continue
            if term_key(word) in self.not_drugs:
                continue
            drug_class = stem_class(word, self.stems)
            if drug_class is None or self.lexicon.lookup(text):
                continue
            start = i
            # two-word CAR T INNs: "<xxx>cabtagene <yyy>leucel"
            if i > 0 and words[i - 1].lower().endswith("tagene"):
                start = i - 1
            norm = {"name": doc[start:i + 1].text.lower(), "class": drug_class, "target": None,
                    "drugbank_id": None, "is_class": False}
            add_candidate(doc, doc[start:i + 1], "DRUG", "pattern", norm)

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
                norm = {"name": code.lower(), "class": "CAR T-cell therapy" if _CAR_WORD.search(window) else None,
                        "target": None, "drugbank_id": None, "is_class": False}
            add_candidate(doc, snap(doc, *m.span("code"), counter), "DRUG", "pattern" if info is None else "rule", norm)


@Language.factory("clinex_drugs", assigns=["doc.spans"],
                  default_config={"use_library": True, "stems": True, "code_names": True})
def make_drugs(nlp: Language, name: str, use_library: bool, stems: bool, code_names: bool) -> DrugRecognizer:
    return DrugRecognizer(nlp, name, use_library=use_library, stems=stems, code_names=code_names)
