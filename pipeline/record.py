"""The record: one JSON document per input file, and its JSON Schema.

Records are frozen dataclasses with ``to_dict``/``from_dict``; ``validate_record``
checks a dict against the schema shipped in ``pipeline/schema/record.schema.json``.
All ``start``/``end`` offsets index ``document.text`` (the normalized text).
"""
from __future__ import annotations

import json
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
    qualitative: str | None = None
    entity_ids: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    derived: bool = False
    table: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Measurement":
        data = dict(data)
        data["evidence"] = Evidence.from_dict(data["evidence"])
        if data.get("timepoint") is not None:
            data["timepoint"] = Timepoint.from_dict(data["timepoint"])
        return _from_dict(cls, data)


def validate_record(record: dict[str, Any], *, name: str | None = None) -> None:
    """Raise ``SchemaError`` (naming ``name``) when ``record`` breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(record_schema())
    errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise SchemaError(f"{len(errors)} schema error(s); first at {where}: {first.message}", path=name)


@lru_cache(maxsize=1)
def record_schema() -> dict[str, Any]:
    """The JSON Schema shipped with the package."""
    text = resources.files("pipeline.schema").joinpath("record.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def dumps_record(record: dict[str, Any]) -> str:
    """Serialize deterministically (sorted keys, fixed separators, trailing newline)."""
    return json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
