"""``clinex_measurements``: the spaCy component over ``pipeline.measurements.assemble``.

It reads the entity spans (``doc.spans["clinex"]``), the sentences and ``doc._.clinex_tables`` and
sets ``doc._.clinex_measurements``, ``doc._.clinex_patients``, ``doc._.clinex_derived`` and
``doc._.clinex_doses``.
"""
from __future__ import annotations

from typing import Any

from spacy.language import Language

from pipeline.components import doc_text, forget_text, register_extensions
from pipeline.measurements.assemble import assemble, sentence_bounds_fallback
from pipeline.measurements.model import Mention, UnitNormalizer
from pipeline.measurements.units import default_unit_normalizer


def mentions_from_doc(doc: Any, spans_key: str = "clinex") -> list[Mention]:
    """Plain ``Mention``s of the entity spans of ``doc``."""
    return [Mention(s.start_char, s.end_char, s.label_, s.text, s._.clinex_id, dict(s._.clinex_norm or {}))
            for s in doc.spans.get(spans_key, [])]


def doc_sentences(doc: Any) -> list[tuple[int, int]]:
    """Sentence offsets of ``doc`` (a fallback splitter when the pipeline sets none)."""
    if doc.has_annotation("SENT_START"):
        return [(s.start_char, s.end_char) for s in doc.sents]
    return sentence_bounds_fallback(doc_text(doc))


@Language.factory(
    "clinex_measurements",
    default_config={"spans_key": "clinex", "carry_over": True, "checks": True},
    assigns=["doc._.clinex_measurements", "doc._.clinex_patients", "doc._.clinex_derived", "doc._.clinex_doses"],
)
def make_measurements(nlp: Language, name: str, *, spans_key: str, carry_over: bool,
                      checks: bool) -> "MeasurementAssembler":
    """Factory of ``clinex_measurements`` (entry point ``pipeline.components.measurements:make_measurements``)."""
    return MeasurementAssembler(nlp, name, spans_key=spans_key, carry_over=carry_over, checks=checks)


class MeasurementAssembler:
    """The ``clinex_measurements`` component: coordinates ``assemble`` and the clinical checks."""

    def __init__(self, nlp: Any, name: str = "clinex_measurements", *, spans_key: str = "clinex",
                 carry_over: bool = True, checks: bool = True, normalizer: UnitNormalizer | None = None) -> None:
        self.name = name
        self.spans_key = spans_key
        self.carry_over = carry_over
        self.checks = checks
        self.normalizer = normalizer

    def __call__(self, doc: Any) -> Any:
        register_extensions()
        if self.normalizer is None:
            self.normalizer = default_unit_normalizer()
        result = assemble(doc_text(doc), doc_sentences(doc), mentions_from_doc(doc, self.spans_key),
                          list(doc._.clinex_tables or []), normalizer=self.normalizer, carry_over=self.carry_over)
        measurements, derived = result.measurements, []
        if self.checks:
            from pipeline.checks import run_checks

            measurements, derived = run_checks(measurements)
        doc._.clinex_measurements = measurements
        doc._.clinex_patients = result.patients
        doc._.clinex_derived = derived
        doc._.clinex_doses = result.doses
        forget_text(doc)
        return doc
