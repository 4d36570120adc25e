"""``clinex_analytes``: SCORE and LAB candidates from rules/scores.jsonl and rules/labs.jsonl.

Terms (pattern, synonyms) match case-insensitively, abbreviations and short
upper-case terms (``RF``, ``C3``) by exact case, ``regex`` rules case-insensitively.
Generic heads after a name ("IgA levels", "IL-6 level", "ESR values") stay outside the
span (GUIDELINES section 0); a LAB span takes a following "count(s)" only. Rules with
``requires_cue`` (cytokines such as IL-6 and TNFα, which are also drug targets; cell
types such as B cells, which are also biology) count only near a measurement word
("IL-6 level", "B cell reconstitution", "reappearance of B cells").
Coordinated ellipsis is annotated per conjunct on its visible words: "tender and swollen
joint counts" -> *tender* (TJC) + *swollen joint counts* (SJC); "immunoglobulins G (IgG),
A (IgA), and M (IgM)" -> *immunoglobulins G*, *A*, *M*.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.components import doc_text, register_extensions
from pipeline.components.entities import add_candidate, snap
from pipeline.lexicon import TermIndex, term_key
from pipeline.ruleset import load_rules

LAB_TAIL = frozenset({"count", "counts"})
MEASURE_CUE = regex.compile(
    r"level|concentration|titer|titre|serum|\bplasma\b(?![\s-]*cells?)|\bpg/m[lL]|measur|increas|decreas|normali[sz]|elevat|\brose\b|"
    r"\bfell\b|dropp|declin|peak|profile|"
    # cell types: counts and their course in blood ("B cell depletion", "reappearance of B cells")
    r"\bdepletion|\bdepleted\b|reconstitut|reappear|recover|repopulat|vanish|disappear|detectable|\belimination\b|\bcounts?\b|"
    r"\bnumbers?\b|frequenc|percentage|proportion|peripheral|circulating|aplasia|/µ[lL]|×\s?10", regex.I)
# "tender and swollen joint counts": a bare conjunct before a multi-word analyte name
_CONJ_BEFORE = regex.compile(r"(?<![\w-])(?P<x>[A-Za-z][\w+-]*)(?:\s*,\s*|\s+)(?:and|or)\s+$")
# "immunoglobulins G (IgG), A (IgA), and M (IgM)": bare conjuncts after an analyte ending in a letter or number
_CONJ_AFTER = regex.compile(r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)(?P<x>[A-Z0-9]{1,3})(?![\w-])(?:\s*\((?P<abbr>[^()]{1,15})\))?")
# mechanism, not a measured quantity: "IL-6 inhibition", "cytokine inhibition and B-cell depletion",
# depletion "in the tissues" (a measured LAB is in blood: GUIDELINES section 3)
# "B-cell depletion with rituximab" (what a drug does), "CAR T cells induce deep B-cell depletion" (generic
# present), "despite B-cell depletion": a mechanism, not a course measured in the patients
MECHANISM_AFTER = regex.compile(r"^[\s-]*(?:inhibition|inhibitors?|blockade|neutrali[sz]ation|targeting|signal(?:l)?ing|release|"
                                r"depletion\s+(?:with|by|using|via)\b|"
                                r"(?:depletion\s+)?in\s+(?:the\s+)?(?:tissues?|synovi|lymph|bone\s+marrow|spleen))", regex.I)
MECHANISM_NEAR = regex.compile(r"\b(?:inhibition|blockade|neutrali[sz]ation)\s+(?:and|or|,)\s+$"
                               r"|\b(?:induces?|causes?|mediates?|despite)\s+(?:(?:deep|profound|complete|rapid|sustained)\s+)?$",
                               regex.I)
_PAREN = regex.compile(r"\s*\([^()]{1,15}\)")


@dataclass(frozen=True)
class AnalyteInfo:
    label: str
    analyte: str
    kind: str
    requires_cue: bool = False
    units: tuple[str, ...] = ()
    range: tuple[float, float] | None = None

    def norm(self) -> dict[str, Any]:
        return {"analyte": self.analyte, "kind": self.kind}


def _is_exact_term(term: str) -> bool:
    return len(term) <= 5 and any(c.isupper() for c in term)


@lru_cache(maxsize=1)
def analyte_rules() -> tuple[dict[str, AnalyteInfo], dict[str, AnalyteInfo], tuple[tuple[str, AnalyteInfo], ...]]:
    """(folded terms, exact terms, regexes) over the score and lab rules."""
    folded: dict[str, AnalyteInfo] = {}
    exact: dict[str, AnalyteInfo] = {}
    regexes: list[tuple[str, AnalyteInfo]] = []
    for name in ("scores", "labs"):
        for rule in load_rules(name):
            rng = tuple(rule["range"]) if "range" in rule else None
            info = AnalyteInfo(rule["label"], rule["id"], rule["kind"], bool(rule.get("requires_cue")),
                               tuple(rule.get("units", [])), rng)
            for term in [rule.get("pattern")] + rule.get("synonyms", []):
                if not term:
                    continue
                if _is_exact_term(term):
                    exact.setdefault(term, info)
                else:
                    folded.setdefault(term_key(term), info)
            for abbr in rule.get("abbreviations", []):
                exact.setdefault(abbr, info)
                if abbr[:1].islower() and not abbr[1:2].isupper():  # "anti-Ro" opening a sentence: "Anti-Ro"
                    exact.setdefault(abbr[0].upper() + abbr[1:], info)
            for pattern in rule.get("regex", []):
                regexes.append((pattern, info))
    return folded, exact, tuple(regexes)


def lookup_analyte(text: str) -> AnalyteInfo | None:
    """The analyte a surface form names ("C-reactive protein" -> CRP), or None."""
    folded, exact, _ = analyte_rules()
    return exact.get(text.strip()) or folded.get(term_key(text))


def has_cue(text: str, start: int, end: int, window: int = 40) -> bool:
    """A measurement word in or within ``window`` characters of ``text[start:end]`` (same paragraph),
    unless the words around make it a mechanism ("IL-6 inhibition", "cytokine inhibition and B-cell
    depletion", "depletion of B cells in the tissues")."""
    before = text[max(0, start - window):start].split("\n\n")[-1]
    after = text[end:end + window].split("\n\n")[0]
    if MECHANISM_AFTER.match(after) or MECHANISM_NEAR.search(before):
        return False
    return bool(MEASURE_CUE.search(before + " " + text[start:end] + " " + after))


def ellipsis_conjuncts(text: str, start: int, end: int) -> list[tuple[int, int, AnalyteInfo]]:
    """Bare conjuncts sharing the words of the analyte name ``text[start:end]`` (coordinated ellipsis).

    Before: "tender and swollen joint counts" -> "tender" + "joint counts" names TJC. After:
    "immunoglobulins G (IgG), A (IgA), and M (IgM)" -> "immunoglobulins" + "A" names IgA (or the
    parenthesized abbreviation does). Only conjuncts whose completed name is a known analyte count.
    """
    name = text[start:end]
    out: list[tuple[int, int, AnalyteInfo]] = []
    first, sep, rest = name.partition(" ")
    if sep:
        m = _CONJ_BEFORE.search(text, max(0, start - 40), start)
        if m:
            info = lookup_analyte(f"{m.group('x')} {rest}")
            if info is not None and info != lookup_analyte(name):
                out.append((m.start("x"), m.end("x"), info))
    head, sep, last = name.rpartition(" ")
    if sep and len(last) <= 3:
        pos = end
        paren = _PAREN.match(text, pos)
        if paren:
            pos = paren.end()
        for _ in range(6):
            m = _CONJ_AFTER.match(text, pos)
            if m is None:
                break
            x = m.group("x")
            info = (lookup_analyte(f"{head} {x}") or lookup_analyte(f"{head.rstrip('s')} {x}")
                    or (lookup_analyte(m.group("abbr")) if m.group("abbr") else None))
            if info is None:
                break
            out.append((m.start("x"), m.end("x"), info))
            pos = m.end()
    return out


class AnalyteRecognizer:
    """SCORE and LAB mentions from rules/scores.jsonl and rules/labs.jsonl (``labels`` keeps a subset)."""

    def __init__(self, nlp: Language, name: str = "clinex_analytes", *,
                 labels: Sequence[str] = ("SCORE", "LAB")) -> None:
        register_extensions()
        self.name = name
        self.labels = frozenset(labels)
        folded, exact, regexes = analyte_rules()
        self.index = TermIndex(folded, exact)
        self.regexes = [(regex.compile(p, regex.IGNORECASE | regex.VERSION1), info) for p, info in regexes]
        self.misaligned = 0

    def _add(self, doc: Doc, text: str, span: Any, info: AnalyteInfo) -> None:
        if span is None or info.label not in self.labels:
            return
        if info.requires_cue and not has_cue(text, span.start_char, span.end_char):
            return
        if info.label == "LAB" and span.end < len(doc) and doc[span.end].lower_ in LAB_TAIL:
            span = doc[span.start:span.end + 1]
        add_candidate(doc, span, info.label, "rule", info.norm())
        if " " in span.text:
            for start, end, conj in ellipsis_conjuncts(text, span.start_char, span.end_char):
                if conj.label in self.labels:
                    add_candidate(doc, snap(doc, start, end), conj.label, "rule", conj.norm())

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        for start, end, info in self.index.matches(doc):
            self._add(doc, text, doc[start:end], info)
        counter = [0]
        for pattern, info in self.regexes:
            for m in pattern.finditer(text):
                self._add(doc, text, snap(doc, *m.span(), counter), info)
        self.misaligned += counter[0]
        return doc


@Language.factory("clinex_analytes", assigns=["doc.spans"], default_config={"labels": ["SCORE", "LAB"]})
def make_analytes(nlp: Language, name: str, labels: list[str]) -> AnalyteRecognizer:
    return AnalyteRecognizer(nlp, name, labels=labels)


@Language.factory("clinex_scores", assigns=["doc.spans"], default_config={})
def make_scores(nlp: Language, name: str) -> AnalyteRecognizer:
    """SCORE mentions only (clinex's own pipeline runs ``clinex_analytes``, which does both)."""
    return AnalyteRecognizer(nlp, name, labels=("SCORE",))


@Language.factory("clinex_labs", assigns=["doc.spans"], default_config={})
def make_labs(nlp: Language, name: str) -> AnalyteRecognizer:
    """LAB mentions only."""
    return AnalyteRecognizer(nlp, name, labels=("LAB",))
