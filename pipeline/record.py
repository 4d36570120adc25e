"""The record: one JSON document per input file, and its JSON Schema.

Records are frozen dataclasses with ``to_dict``/``from_dict``; ``validate_record``
checks a dict against the schema shipped in ``pipeline/schema/record.schema.json``.
All ``start``/``end`` offsets index ``document.text`` (the normalized text).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from importlib import resources
from typing import Any

from pipeline.errors import SchemaError

SCHEMA_VERSION = "1.0"
LABELS = ("DRUG", "SCORE", "LAB", "TIMEPOINT")
BBox = list[float]


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Evidence:
    """Where a statement stands in the text (and on the page, for PDFs)."""

    start: int
    end: int
    text: str
    page: int | None = None
    bbox: BBox | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Evidence":
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Entity:
    id: str
    label: str
    text: str
    start: int
    end: int
    source: str = "rule"
    norm: dict[str, Any] = field(default_factory=dict)
    page: int | None = None
    bbox: BBox | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Entity":
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Timepoint:
    """A resolved time on the clinical course; ``days`` counts from the index treatment."""

    text: str | None = None
    value: float | None = None
    unit: str | None = None
    days: float | None = None
    is_baseline: bool = False
    relative_to: str | None = None
    date: str | None = None
    start: int | None = None
    end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Timepoint":
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Measurement:
    id: str
    patient: str
    analyte: str
    kind: str
    value: float | None
    evidence: Evidence
    comparator: str | None = None
    unit: str | None = None
    unit_ucum: str | None = None
    timepoint: Timepoint | None = None
    result: str | None = None
    maximum: float | None = None
    stat: str | None = None
    sd: float | None = None
    range: list[float] | None = None
    n: int | None = None
    group: str | None = None
    reference_range: dict[str, Any] | None = None
    entity_ids: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    derived: bool = False
    table: str | None = None
    value_span: Evidence | None = None  # the value as written (with its unit when one follows)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Measurement":
        data = dict(data)
        data["evidence"] = Evidence.from_dict(data["evidence"])
        if data.get("value_span") is not None:
            data["value_span"] = Evidence.from_dict(data["value_span"])
        if data.get("timepoint") is not None:
            data["timepoint"] = Timepoint.from_dict(data["timepoint"])
        return _from_dict(cls, data)


def drugs_from_entities(entities: Iterable[dict[str, Any]],
                        doses: Iterable[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The record's ``drugs``: one entry per normalized name (lowercase), in order of first mention.

    ``given`` is False when every mention is negated or hypothetical (``norm.negated`` /
    ``norm.hypothetical``); doses attach to the mention they follow.
    """
    drugs: dict[str, dict[str, Any]] = {}
    dose_by_entity: dict[str, list[dict[str, Any]]] = {}
    for dose in doses:
        dose_by_entity.setdefault(dose.get("entity_id", ""), []).append(dose)
    for ent in entities:
        if ent["label"] != "DRUG":
            continue
        norm = ent.get("norm") or {}
        name = str(norm.get("name") or ent["text"]).lower()
        entry = drugs.setdefault(name, {
            "name": name, "class": norm.get("class"), "target": norm.get("target"),
            "drugbank_id": norm.get("drugbank_id"), "is_class": bool(norm.get("is_class", False)),
            "mentions": [], "given": False, "dose": None,
        })
        entry["mentions"].append(ent["id"])
        entry["given"] = entry["given"] or not (norm.get("negated") or norm.get("hypothetical"))
        for key in ("class", "target", "drugbank_id"):
            entry[key] = entry[key] or norm.get(key)
        if ent["id"] in dose_by_entity:
            entry["dose"] = (entry["dose"] or []) + dose_by_entity[ent["id"]]
    return list(drugs.values())


def validate_record(record: dict[str, Any], *, name: str | None = None) -> None:
    """Raise ``SchemaError`` (naming ``name``) when ``record`` breaks the schema.

    Valid records (the common case) are checked by a validator compiled once from the
    schema (fastjsonschema, about 20x faster than walking the schema per record); only
    a record that fails is walked again by ``jsonschema`` for a complete error report
    (count of errors, path of the first). Without fastjsonschema installed, a cached
    ``jsonschema`` validator does both.
    """
    check = _compiled_validator()
    if check is not None:
        try:
            check(record)
            return
        except Exception:  # noqa: BLE001 - any doubt goes to the reference validator below
            pass
    # jsonschema (Draft 2020-12, the schema's own draft) has the last word and the full report
    errors = schema_errors(record)
    if errors:
        count, where, message = errors
        raise SchemaError(f"{count} schema error(s); first at {where}: {message}", path=name)


def schema_errors(record: dict[str, Any]) -> tuple[int, str, str] | None:
    """``(count, path of the first error, its message)`` by ``jsonschema``, or None when valid."""
    errors = sorted(_full_validator().iter_errors(record),
                    key=lambda e: [(isinstance(p, str), p) for p in e.absolute_path])
    if not errors:
        return None
    first = errors[0]
    return len(errors), "/".join(str(p) for p in first.absolute_path) or "(root)", first.message


@lru_cache(maxsize=1)
def _full_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(record_schema())


@lru_cache(maxsize=1)
def _compiled_validator() -> Callable[[Any], Any] | None:
    """The schema compiled to Python by fastjsonschema (None when it is not installed)."""
    try:
        import fastjsonschema
    except ImportError:
        return None
    return fastjsonschema.compile(record_schema(), use_default=False)


@lru_cache(maxsize=1)
def record_schema() -> dict[str, Any]:
    """The JSON Schema shipped with the package."""
    text = resources.files("pipeline.schema").joinpath("record.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def dumps_record(record: dict[str, Any]) -> str:
    """Serialize deterministically (sorted keys, fixed separators, trailing newline)."""
    return json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
