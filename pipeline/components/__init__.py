"""spaCy components of clinex (factories named ``clinex_*``) and the extensions they share."""
from __future__ import annotations

from spacy.tokens import Doc, Span

DOC_EXTENSIONS = ("clinex_tables", "clinex_measurements", "clinex_patients", "clinex_derived", "clinex_doses")
SPAN_EXTENSIONS = ("clinex_id", "clinex_source", "clinex_norm")


def register_extensions() -> None:
    """Register the ``doc._.clinex_*`` and ``span._.clinex_*`` attributes (idempotent)."""
    for name in DOC_EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    for name in SPAN_EXTENSIONS:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


register_extensions()
