"""The committed ``outputs/`` must be what the current code extracts from the shipped corpus.

When this fails, the rules, the model or the code changed without re-running the README's
main command (``clinex run``); re-run it and commit ``outputs/``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.core import extract
from pipeline.export import write_exports
from pipeline.record import validate_record

ROOT = Path(__file__).resolve().parents[1]
LISTING = [json.loads(line) for line in (ROOT / "corpus" / "documents.jsonl").read_text().splitlines() if line.strip()]
STALE = "outputs/ is stale: re-run `clinex run` and commit outputs/"


def _without_timing(record: dict[str, Any]) -> dict[str, Any]:
    record = json.loads(json.dumps(record))
    record["provenance"].pop("elapsed_s", None)
    return record


@pytest.fixture(scope="module")
def fresh_records(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    monkeypatch_module.chdir(ROOT)  # source_path is recorded as given: the corpus run passes corpus/<file>
    records = {}
    for entry in LISTING:
        record = extract(Path("corpus") / entry["file"])
        records[record["document"]["id"]] = record
    return records


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_outputs_hold_one_valid_record_per_corpus_document(fresh_records: dict[str, dict[str, Any]]) -> None:
    committed = sorted(p.stem for p in (ROOT / "outputs").glob("*.json") if p.name != "manifest.json")
    assert committed == sorted(fresh_records), STALE
    for doc_id in committed:
        validate_record(json.loads((ROOT / "outputs" / f"{doc_id}.json").read_text()), name=doc_id)


@pytest.mark.parametrize("entry", LISTING, ids=[e["file"] for e in LISTING])
def test_committed_record_matches_a_fresh_extraction(entry: dict[str, Any], fresh_records: dict[str, dict[str, Any]]) -> None:
    fresh = next(r for r in fresh_records.values() if r["document"]["source_path"].endswith(entry["file"]))
    path = ROOT / "outputs" / f"{fresh['document']['id']}.json"
    assert path.is_file(), STALE
    assert _without_timing(json.loads(path.read_text())) == _without_timing(fresh), STALE


@pytest.mark.parametrize("name", ["measurements.csv", "measurements.jsonl"])
def test_committed_exports_match_the_fresh_records(
    name: str, fresh_records: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    write_exports(fresh_records.values(), tmp_path)
    assert (ROOT / "outputs" / name).read_bytes() == (tmp_path / name).read_bytes(), STALE
