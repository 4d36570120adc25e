"""Record dataclasses and schema validation (compiled fast path, jsonschema error report)."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import pipeline.record as record_mod
from pipeline.errors import SchemaError
from pipeline.record import drugs_from_entities, Evidence, Measurement, Timepoint, dumps_record, schema_errors, validate_record

SHA = "0" * 64


def minimal_record() -> dict[str, Any]:
    """A small schema-valid record (one entity, one measurement, one patient)."""
    evidence = {"start": 0, "end": 9, "text": "DAS28 5.4", "page": None, "bbox": None}
    return {
        "schema_version": "1.0",
        "document": {"id": "doc-1", "source_path": "doc-1.txt", "sha256": SHA, "text_sha256": SHA,
                     "format": "txt", "pages": None, "title": None, "text": "DAS28 5.4 at baseline",
                     "offset_map": [[0, 0, 21]], "page_map": [], "tables": [], "meta": {}},
        "patients": [{"id": "P1", "age": 45, "sex": "F", "evidence": None}],
        "entities": [{"id": "e1", "label": "SCORE", "text": "DAS28", "start": 0, "end": 5, "page": None,
                      "bbox": None, "source": "rule", "norm": {"analyte": "DAS28", "kind": "score"}}],
        "measurements": [Measurement(
            id="m1", patient="P1", analyte="DAS28", kind="score", value=5.4,
            evidence=Evidence(**evidence), timepoint=Timepoint(text="baseline", is_baseline=True, days=0),
            entity_ids=["e1"]).to_dict()],
        "derived": [],
        "drugs": [],
        "warnings": [],
        "provenance": {"clinex_version": "0.1.0", "rules_sha256": SHA, "ner_model": None, "elapsed_s": 0.1},
    }


def mutate(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``record`` with ``path`` ("a/0/b") set to ``value`` (``DELETE`` removes it)."""
    out = copy.deepcopy(record)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
    node: Any = out
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return out


DELETE = object()

INVALID = [
    ("schema_version", "2.0", "schema_version"),
    ("document/id", "has space", "document/id"),
    ("document/sha256", "xyz", "document/sha256"),
    ("document/format", "docx", "document/format"),
    ("document/pages", -1, "document/pages"),
    ("document/offset_map/0", [0, 0], "document/offset_map/0"),
    ("document/text", DELETE, "document"),
    ("entities/0/label", "GENE", "entities/0/label"),
    ("entities/0/start", -3, "entities/0/start"),
    ("entities/0/start", 1.5, "entities/0/start"),
    ("entities/0/start", True, "entities/0/start"),
    ("entities/0/source", "guess", "entities/0/source"),
    ("entities/0/bbox", [1, 2, 3], "entities/0/bbox"),
    ("measurements/0/kind", "organ", "measurements/0/kind"),
    ("measurements/0/value", "5.4", "measurements/0/value"),
    ("measurements/0/comparator", "=", "measurements/0/comparator"),
    ("measurements/0/evidence/page", 0, "measurements/0/evidence/page"),
    ("measurements/0/timepoint", "baseline", "measurements/0/timepoint"),
    ("measurements/0/flags", DELETE, "measurements/0"),
    ("patients/0/sex", "X", "patients/0/sex"),
    ("derived", [{"kind": "x", "derived": False}], "derived/0/derived"),
    ("provenance/elapsed_s", -1, "provenance/elapsed_s"),
    ("unexpected", 1, "(root)"),
]


def test_minimal_record_is_valid() -> None:
    validate_record(minimal_record())
    assert schema_errors(minimal_record()) is None


@pytest.mark.parametrize("path,value,where", INVALID)
def test_validate_record_names_path_of_failing_field(path: str, value: Any, where: str) -> None:
    bad = mutate(minimal_record(), path, value)
    with pytest.raises(SchemaError) as info:
        validate_record(bad, name="doc-1.txt")
    assert f"first at {where}:" in str(info.value)
    assert info.value.path == "doc-1.txt"


@pytest.mark.parametrize("path,value,where", INVALID)
def test_compiled_validator_agrees_with_jsonschema(path: str, value: Any, where: str) -> None:
    check = record_mod._compiled_validator()
    if check is None:
        pytest.skip("fastjsonschema not installed")
    bad = mutate(minimal_record(), path, value)
    with pytest.raises(Exception):
        check(bad)
    assert schema_errors(bad) is not None
    check(minimal_record())


@pytest.mark.parametrize("path,value", [
    ("entities/0/start", 3.0),  # an integral float is an integer in JSON Schema
    ("patients/0/age", None),
    ("measurements/0/timepoint", None),
    ("document/meta", {"anything": [1, 2]}),
])
def test_validate_record_accepts_valid_variants(path: str, value: Any) -> None:
    validate_record(mutate(minimal_record(), path, value))


def test_validate_record_without_compiled_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_mod, "_compiled_validator", lambda: None)
    validate_record(minimal_record())
    with pytest.raises(SchemaError, match="first at entities/0/label"):
        validate_record(mutate(minimal_record(), "entities/0/label", "GENE"))


def test_validate_record_counts_errors_and_leaves_record_untouched() -> None:
    bad = mutate(mutate(minimal_record(), "entities/0/label", "GENE"), "patients/0/sex", "X")
    before = json.dumps(bad, sort_keys=True)
    with pytest.raises(SchemaError, match=r"^.*2 schema error\(s\); first at entities/0/label"):
        validate_record(bad)
    assert json.dumps(bad, sort_keys=True) == before


def test_dumps_record_is_deterministic() -> None:
    rec = minimal_record()
    text = dumps_record(rec)
    assert text.endswith("\n") and json.loads(text) == rec
    assert dumps_record(json.loads(text)) == text


def test_measurement_round_trip() -> None:
    m = Measurement.from_dict(minimal_record()["measurements"][0])
    assert m.timepoint is not None and m.timepoint.is_baseline
    assert m.to_dict() == minimal_record()["measurements"][0]


def test_drugs_group_mentions_by_normalized_name() -> None:
    ents = [
        {"id": "e1", "label": "DRUG", "text": "MTX", "norm": {"name": "methotrexate", "class": "csDMARD"}},
        {"id": "e2", "label": "LAB", "text": "ESR", "norm": {"analyte": "ESR"}},
        {"id": "e3", "label": "DRUG", "text": "Methotrexate", "norm": {"name": "methotrexate", "drugbank_id": "DB00563"}},
        {"id": "e4", "label": "DRUG", "text": "NSAIDs", "norm": {"name": "nsaid", "is_class": True}},
    ]
    doses = [{"entity_id": "e3", "text": "15 mg weekly", "value": 15, "unit": "mg", "frequency": "weekly"}]
    drugs = drugs_from_entities(ents, doses)
    assert [d["name"] for d in drugs] == ["methotrexate", "nsaid"]
    mtx = drugs[0]
    assert mtx["mentions"] == ["e1", "e3"]
    assert (mtx["class"], mtx["drugbank_id"]) == ("csDMARD", "DB00563")
    assert mtx["dose"] == doses
    assert drugs[1]["is_class"] is True and drugs[1]["dose"] is None


def test_drugs_mentioned_only_as_negated_or_hypothetical_are_not_given() -> None:
    ents = [
        {"id": "e1", "label": "DRUG", "text": "rituximab", "norm": {"name": "rituximab", "negated": True}},
        {"id": "e2", "label": "DRUG", "text": "belimumab", "norm": {"name": "belimumab", "hypothetical": True}},
        {"id": "e3", "label": "DRUG", "text": "MTX", "norm": {"name": "methotrexate", "negated": True}},
        {"id": "e4", "label": "DRUG", "text": "methotrexate", "norm": {"name": "methotrexate"}},
    ]
    assert [(d["name"], d["given"]) for d in drugs_from_entities(ents)] == [
        ("rituximab", False), ("belimumab", False), ("methotrexate", True)]
