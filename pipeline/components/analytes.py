"""``clinex_analytes``: SCORE and LAB candidates from rules/scores.jsonl and rules/labs.jsonl.

Terms (pattern, synonyms) match case-insensitively, abbreviations and short
upper-case terms (``RF``, ``C3``) by exact case, ``regex`` rules case-insensitively.
A LAB span takes a following "level(s)/concentration(s)/titer(s)/count(s)" ("IgA
levels"). Rules with ``requires_cue`` (cytokines such as IL-6 and TNFα, which are
also drug targets) count only near a measurement word ("IL-6 level", "serum TNFα
was normalized").
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.components import register_extensions
from pipeline.components.entities import add_candidate, snap
from pipeline.lexicon import TermIndex, term_key
from pipeline.ruleset import load_rules

LAB_TAIL = frozenset({"level", "levels", "concentration", "concentrations", "titer", "titers", "titre", "titres",
                      "count", "counts", "value", "values"})
MEASURE_CUE = regex.compile(
    r"level|concentration|titer|titre|serum|plasma|\bpg/m[lL]|measur|increas|decreas|normali[sz]|elevat|\brose\b|"
    r"\bfell\b|dropp|declin|peak|profile", regex.I)


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
            for pattern in rule.get("regex", []):
                regexes.append((pattern, info))
    return folded, exact, tuple(regexes)


def lookup_analyte(text: str) -> AnalyteInfo | None:
    """The analyte a surface form names ("C-reactive protein" -> CRP), or None."""
    folded, exact, _ = analyte_rules()
    return exact.get(text.strip()) or folded.get(term_key(text))


def has_cue(text: str, start: int, end: int, window: int = 40) -> bool:
    """A measurement word within ``window`` characters of ``text[start:end]`` (same paragraph)."""
    before = text[max(0, start - window):start].split("\n\n")[-1]
    after = text[end:end + window].split("\n\n")[0]
    return bool(MEASURE_CUE.search(before + " " + after))


class AnalyteRecognizer:
    def __init__(self, nlp: Language, name: str = "clinex_analytes") -> None:
        register_extensions()
        self.name = name
        folded, exact, regexes = analyte_rules()
        self.index = TermIndex(folded, exact)
        self.regexes = [(regex.compile(p, regex.IGNORECASE | regex.VERSION1), info) for p, info in regexes]
        self.misaligned = 0

    def _add(self, doc: Doc, text: str, span: Any, info: AnalyteInfo) -> None:
        if span is None:
            return
        if info.requires_cue and not has_cue(text, span.start_char, span.end_char):
            return
        if info.label == "LAB" and span.end < len(doc) and doc[span.end].lower_ in LAB_TAIL:
            span = doc[span.start:span.end + 1]
        add_candidate(doc, span, info.label, "rule", info.norm())

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text  # Doc.text is rebuilt from the tokens on every access
        for start, end, info in self.index.matches(doc):
            self._add(doc, text, doc[start:end], info)
        counter = [0]
        for pattern, info in self.regexes:
            for m in pattern.finditer(text):
                self._add(doc, text, snap(doc, *m.span(), counter), info)
        self.misaligned += counter[0]
        return doc


@Language.factory("clinex_analytes", assigns=["doc.spans"], default_config={})
def make_analytes(nlp: Language, name: str) -> AnalyteRecognizer:
    return AnalyteRecognizer(nlp, name)
