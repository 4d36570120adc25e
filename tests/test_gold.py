"""The gold files: schema-valid, current with normalization, reproducible from their specs, consistent."""
from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from pipeline.brat import build_gold
from pipeline.evaluate import evaluate_records, load_gold
from pipeline.record import LABELS, validate_record

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "corpus" / "gold"
# in-sample gold (corpus/gold) and the dev and test splits (corpus/dev/gold, corpus/test/gold)
GOLD_FILES = sorted(GOLD.glob("*.json")) + sorted(ROOT.glob("corpus/*/gold/*.json"))


@pytest.fixture(scope="module", params=GOLD_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def gold_path(request) -> Path:
    return request.param


@pytest.fixture(scope="module")
def gold(gold_path) -> dict:
    return json.loads(gold_path.read_text(encoding="utf-8"))


def test_gold_is_schema_valid_and_matches_current_normalization(gold, gold_path):
    validate_record(gold)
    load_gold(gold_path, check_source=True)  # raises GoldError when normalization changed
    from pipeline.ingest import read_document

    assert read_document(ROOT / gold["document"]["source_path"]).text == gold["document"]["text"]


def test_gold_is_reproducible_from_its_spec(gold, gold_path, tmp_path):
    doc_id = gold["document"]["id"]
    brat = gold_path.parent / "brat"
    shutil.copy(brat / f"{doc_id}.spec", tmp_path / f"{doc_id}.spec")
    rebuilt = build_gold(tmp_path / f"{doc_id}.spec", repo_root=ROOT)
    assert rebuilt == gold
    assert (tmp_path / f"{doc_id}.ann").read_text(encoding="utf-8") == (brat / f"{doc_id}.ann").read_text(encoding="utf-8")


def test_gold_spans_are_consistent(gold):
    text = gold["document"]["text"]
    assert [e["id"] for e in gold["entities"]] == [f"e{i}" for i in range(1, len(gold["entities"]) + 1)]
    for ent in gold["entities"]:
        assert text[ent["start"]:ent["end"]] == ent["text"]
        assert ent["text"] == ent["text"].strip() and ent["source"] == "gold" and ent["label"] in LABELS
        if ent["label"] in ("SCORE", "LAB"):
            assert ent["norm"]["kind"] in ({"score"} if ent["label"] == "SCORE" else {"lab", "vital"})
            assert ent["norm"]["analyte"]
        if ent["label"] == "DRUG":
            assert ent["norm"]["name"] == ent["norm"]["name"].lower()
    for label in LABELS:
        spans = sorted((e["start"], e["end"]) for e in gold["entities"] if e["label"] == label)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), f"overlapping {label} spans"
    patients = {p["id"] for p in gold["patients"]} | {"cohort"}
    for m in gold["measurements"]:
        ev = m["evidence"]
        assert text[ev["start"]:ev["end"]] == ev["text"]
        assert m["value"] is not None or m["result"] is not None, f"{m['id']} has neither value nor result"
        assert m["patient"] in patients or not gold["patients"], f"patient {m['patient']} has no P line"


def test_gold_scores_perfectly_against_itself(gold):
    res = evaluate_records({"d": gold}, {"d": gold})
    assert res["entities"]["strict"]["micro"]["f1"] in (1.0, None)  # None: no entity annotated (0/0)
    assert res["measurements"]["micro"]["f1"] == 1.0
    assert res["measurements"]["micro"]["timepoint_accuracy"] == 1.0


def _pairs(gold: dict) -> Counter:
    return Counter((m["patient"], m["analyte"], "baseline" if m["timepoint"]["is_baseline"] else "follow-up")
                   for m in gold["measurements"])


def test_letter_has_every_patient_level_value():
    gold = json.loads((GOLD / "li2025_cellres_cart_ra_letter.json").read_text(encoding="utf-8"))
    pairs = _pairs(gold)
    for patient in ("1", "2", "3"):
        for analyte in ("TJC", "SJC", "ESR", "DAS28-CRP", "CDAI", "SDAI", "anti-CCP", "IgA", "IgG", "IgM"):
            assert pairs[(patient, analyte, "baseline")] == 1 and pairs[(patient, analyte, "follow-up")] == 1
        assert pairs[(patient, "DAS28-ESR", "baseline")] == 1
    assert len(gold["measurements"]) == 63
    assert [(p["id"], p["age"], p["sex"]) for p in gold["patients"]] == [("1", 49, "F"), ("2", 52, "F"), ("3", 56, "F")]
    ig_fu = {m["timepoint"]["days"] for m in gold["measurements"] if m["analyte"] in ("IgA", "IgG", "IgM")
             and not m["timepoint"]["is_baseline"]}
    assert ig_fu == {168}


def test_news_item_values():
    gold = json.loads((GOLD / "eular2025_cart_d2t_ra_case.json").read_text(encoding="utf-8"))
    got = sorted((m["analyte"], m["value"], m["timepoint"]["is_baseline"], m["timepoint"]["days"])
                 for m in gold["measurements"])
    assert got == [("DAS28-ESR", 1.74, False, 243.52), ("DAS28-ESR", 5.46, True, 0),
                   ("FACIT-F", 31.0, True, 0), ("FACIT-F", 46.0, False, 243.52)]
    assert [(p["id"], p["age"], p["sex"]) for p in gold["patients"]] == [("1", 70, "M")]
    assert "kyv-101" in {d["name"] for d in gold["drugs"]}
