"""One document end to end: ingest -> spaCy pipeline -> schema-valid record.

``extract(path)`` is the Python API the CLI mirrors; the batch runner calls the
same pieces (``read_source`` in a worker, ``process_source`` with a per-worker
pipeline) so both paths give byte-identical records.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.record import SCHEMA_VERSION, drugs_from_entities, validate_record

if TYPE_CHECKING:
    import numpy
    from spacy.language import Language
    from spacy.tokens import Doc

    from pipeline.document import SourceDoc


def ner_model_name(ner_model: str | None) -> str | None:
    """The model identifier stored in provenance (None when no statistical NER ran)."""
    if ner_model in (None, "none", ""):
        return None
    if ner_model == "default":
        return default_model_id()
    return ner_model


DEFAULT_MODEL_DIR = Path(__file__).parent / "models" / "clinex_ner"


def default_model_id() -> str:
    """``name-version`` of the NER pipeline shipped inside the package."""
    import json

    try:
        meta = json.loads((DEFAULT_MODEL_DIR / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "clinex_ner (missing)"
    return f"{meta.get('name', 'clinex_ner')}-{meta.get('version', '0')}"


def read_source(path: str | Path, **opts: Any) -> "SourceDoc":
    """Ingest one file (see ``pipeline.ingest.read_document`` for options)."""
    from pipeline.ingest import read_document

    return read_document(path, **{k: v for k, v in opts.items() if v is not None})


def make_doc(nlp: "Language", source: "SourceDoc") -> "Doc":
    """A tokenized Doc carrying the document's tables, ready for ``nlp(doc)`` / ``nlp.pipe``."""
    from pipeline.components import remember_text

    doc = remember_text(nlp.make_doc(source.text), source.text)
    doc._.clinex_tables = list(source.tables)
    return doc


def process_source(source: "SourceDoc", nlp: "Language", *, ner_model: str | None = "default") -> dict[str, Any]:
    """Run the pipeline over an ingested document and assemble its record."""
    started = time.perf_counter()
    doc = nlp(make_doc(nlp, source))
    return build_record(source, doc, elapsed_s=time.perf_counter() - started, ner_model=ner_model)


def extract(path: str | Path, *, doc_id: str | None = None, nlp: "Language | None" = None,
            ner_model: str | None = "default", pdf_engine: str | None = None, password: str | None = None,
            max_pages: int | None = None) -> dict[str, Any]:
    """Extract one document into its record (a schema-valid dict)."""
    started = time.perf_counter()
    source = read_source(path, doc_id=doc_id, pdf_engine=pdf_engine, password=password, max_pages=max_pages)
    if nlp is None:
        from pipeline.nlp import load_nlp

        nlp = load_nlp(ner_model=None if ner_model in ("none", "") else ner_model)
    record = process_source(source, nlp, ner_model=ner_model)
    record["provenance"]["elapsed_s"] = round(time.perf_counter() - started, 3)
    return record


def record_is_current(record: dict[str, Any], source_sha256: str, *, ner_model: str | None) -> bool:
    """True when ``record`` was made from the same bytes by the same rules, model and version."""
    from pipeline.ruleset import rules_sha256

    try:
        prov = record["provenance"]
        return (record.get("schema_version") == SCHEMA_VERSION
                and record["document"]["sha256"] == source_sha256
                and prov["clinex_version"] == __version__
                and prov["rules_sha256"] == rules_sha256()
                and prov["ner_model"] == ner_model_name(ner_model))
    except (KeyError, TypeError):
        return False


def _runs(values: "numpy.ndarray", step: int) -> list[int]:
    """Bounds of the runs of ``values`` in which each value is the one before plus ``step``."""
    import numpy

    cuts = numpy.flatnonzero(numpy.diff(values) != step) + 1
    return [0, *cuts.tolist(), len(values)]


def offset_segments(offset_map: list[int]) -> list[list[int]]:
    """Compress a per-character offset map into ``[norm_start, raw_start, length]`` runs."""
    import numpy

    n = len(offset_map) - 1  # the last entry maps the end of the text
    if n <= 0:
        return []
    raw = numpy.asarray(offset_map[:n])  # vectorized: this runs over every character of every document
    bounds = _runs(raw, 1)
    return [[a, int(raw[a]), b - a] for a, b in zip(bounds, bounds[1:])]


def page_segments(source: "SourceDoc") -> list[list[int]]:
    """``[norm_start, norm_end, page]`` runs for PDF documents (empty for text)."""
    import numpy

    if source.char_pages is None or not source.text:
        return []
    raw = numpy.minimum(numpy.asarray(source.offset_map[:-1]), len(source.char_pages) - 1)
    pages = numpy.asarray(source.char_pages)[raw]
    bounds = _runs(pages, 0)
    return [[a, b, int(pages[a])] for a, b in zip(bounds, bounds[1:])]


def _entities(source: "SourceDoc", doc: "Doc") -> list[dict[str, Any]]:
    entities = []
    for span in doc.spans.get("clinex", []):
        page, bbox = source.locate(span.start_char, span.end_char)
        entities.append({
            "id": span._.clinex_id, "label": span.label_, "text": span.text,
            "start": span.start_char, "end": span.end_char, "page": page, "bbox": bbox,
            "source": span._.clinex_source or "rule", "norm": dict(span._.clinex_norm or {}),
        })
    return entities


def _located(source: "SourceDoc", item: dict[str, Any]) -> dict[str, Any]:
    """Fill page and bbox of an evidence dict from the source's layout."""
    if item and item.get("page") is None and item.get("start") is not None:
        item["page"], item["bbox"] = source.locate(item["start"], item["end"])
    return item


def build_record(source: "SourceDoc", doc: "Doc", *, elapsed_s: float, ner_model: str | None) -> dict[str, Any]:
    """Assemble and validate the record of one processed document."""
    from pipeline.ruleset import rules_sha256

    entities = _entities(source, doc)
    measurements = []
    for m in doc._.clinex_measurements or []:
        item = m.to_dict() if hasattr(m, "to_dict") else dict(m)
        _located(source, item["evidence"])
        if item.get("value_span"):
            _located(source, item["value_span"])
        measurements.append(item)
    patients = []
    for p in doc._.clinex_patients or []:
        p = dict(p)
        if p.get("evidence"):
            p["evidence"] = _located(source, dict(p["evidence"]))
        patients.append(p)
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "document": {
            "id": source.id, "source_path": source.source_path, "sha256": source.sha256,
            "text_sha256": hashlib.sha256(source.text.encode("utf-8")).hexdigest(),
            "format": source.format, "pages": source.pages, "title": source.title, "text": source.text,
            "encoding": source.encoding, "pdf_engine": source.pdf_engine, "meta": dict(source.meta),
            "offset_map": offset_segments(source.offset_map), "page_map": page_segments(source),
            "tables": [t.to_dict() for t in source.tables],
        },
        "patients": patients,
        "entities": entities,
        "measurements": measurements,
        "derived": list(doc._.clinex_derived or []),
        "drugs": drugs_from_entities(entities, list(doc._.clinex_doses or [])),
        "warnings": list(source.warnings),
        "provenance": {
            "clinex_version": __version__, "rules_sha256": rules_sha256(),
            "ner_model": ner_model_name(ner_model), "elapsed_s": round(elapsed_s, 3),
        },
    }
    validate_record(record, name=source.source_path)
    return record
