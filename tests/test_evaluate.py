"""pipeline.evaluate on hand-made cases whose scores were computed by hand.

tests/fixtures/eval: gold/doc_a + pred/doc_a (overlapping spans, a duplicate value,
a wrong timepoint, a wrong drug), gold/doc_b with no prediction (all false
negatives), pred/extra with no gold (skipped).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from pipeline.errors import GoldError
from pipeline.evaluate import (
    evaluate_dirs,
    evaluate_entities,
    evaluate_measurements,
    evaluate_records,
    format_markdown,
    format_table,
    match_spans,
    passes_min_f1,
    patient_key,
    prf,
    sentence_at,
    summary_line,
    timepoints_agree,
    unit_key,
    values_equal,
)

FIX = Path(__file__).parent / "fixtures" / "eval"


@pytest.fixture(scope="module")
def result() -> dict:
    return evaluate_dirs(FIX / "gold", FIX / "pred", check_source=False)


@pytest.mark.parametrize("tp,fp,fn,expected", [
    (2, 3, 3, (0.4, 0.4, 0.4)),
    (4, 1, 2, (0.8, 4 / 6, 2 * 0.8 * (4 / 6) / (0.8 + 4 / 6))),
    (0, 0, 5, (0.0, 0.0, 0.0)),       # no predictions: precision 0 by convention
    (0, 3, 0, (0.0, 0.0, 0.0)),       # no gold: recall 0 by convention
    (0, 0, 0, (None, None, None)),    # both empty: undefined
    (3, 0, 0, (1.0, 1.0, 1.0)),
])
def test_prf_hand_computed_and_zero_division(tp, fp, fn, expected):
    got = prf(tp, fp, fn)
    for key, value in zip(("precision", "recall", "f1"), expected):
        assert got[key] == (None if value is None else pytest.approx(value))


@pytest.mark.parametrize("gold,pred,scheme,pairs", [
    ([(0, 5)], [(0, 5)], "strict", [(0, 0)]),
    ([(0, 5)], [(0, 6)], "strict", []),
    ([(0, 5)], [(0, 6)], "partial", [(0, 0)]),
    ([(0, 5)], [(5, 9)], "partial", []),                       # touching is not overlapping
    # one prediction overlapping two gold spans is used once: the larger overlap wins
    ([(0, 4), (5, 20)], [(2, 12)], "partial", [(1, 0)]),
    # exact matches are taken before overlaps, whatever the order
    ([(0, 10), (3, 8)], [(3, 8), (0, 9)], "partial", [(0, 1), (1, 0)]),
    # equal overlaps: ties broken by gold start, then prediction start
    ([(0, 4), (4, 8)], [(2, 6)], "partial", [(0, 0)]),
    # duplicates: two identical gold spans need two predictions
    ([(0, 3), (0, 3)], [(0, 3)], "strict", [(0, 0)]),
])
def test_match_spans_one_to_one_and_deterministic(gold, pred, scheme, pairs):
    assert match_spans(gold, pred, scheme=scheme) == pairs


def test_match_spans_rejects_unknown_scheme():
    with pytest.raises(ValueError):
        match_spans([], [], scheme="fuzzy")


def _e(label, start, end):
    return {"id": "x", "label": label, "text": "", "start": start, "end": end}


def test_entities_label_must_agree_even_when_offsets_do():
    res = evaluate_entities([_e("DRUG", 0, 5)], [_e("LAB", 0, 5)])
    assert res["strict"]["micro"] == {"tp": 0, "fp": 1, "fn": 1}
    assert res["partial"]["micro"] == {"tp": 0, "fp": 1, "fn": 1}


def test_strict_errors_name_their_partial_match():
    res = evaluate_entities([_e("DRUG", 0, 5)], [_e("DRUG", 0, 8)])
    (fn,) = res["strict"]["fn"]
    assert fn["partial_match"]["end"] == 8


@pytest.mark.parametrize("a,b,same", [
    ("1", "Patient 1", True), ("1", "P1", True), ("2", "case 2", True), ("1", "2", False), ("1", "pt. 1", True),
])
def test_patient_key(a, b, same):
    assert (patient_key(a) == patient_key(b)) is same


@pytest.mark.parametrize("a,b,same", [
    (5.1, 5.1, True), (5.1, 5.1000001, True), (1.5, 1.56, False), (1250, 1250.5, True), (0.0, 0.0, True),
    (0.0, 0.01, False), (None, None, True), (None, 0.0, False),
])
def test_values_equal(a, b, same):
    assert values_equal(a, b) is same


@pytest.mark.parametrize("a,b,same", [
    ("mg/L", "mg/l", True), ("µmol/L", "μmol/L", True), ("g/L", "g / L", True), ("mg/L", "mg/dL", False),
    (None, "", True), (None, "mg/L", False), ("IU/L", "U/L", True), ("10^9/L", "×10^3/µL", True),
    ("/mm3", "cells/µL", True), ("titer", "titer", True),
])
def test_unit_key(a, b, same):
    assert (unit_key(a) == unit_key(b)) is same


@pytest.mark.parametrize("gold,pred,agree", [
    ({"is_baseline": True, "days": 0}, {"is_baseline": True, "days": -3}, True),
    ({"is_baseline": True, "days": 0}, {"is_baseline": False, "days": 0}, False),
    ({"is_baseline": False, "days": 168}, {"is_baseline": False, "days": 180}, True),    # 10% of 168 = 16.8
    ({"is_baseline": False, "days": 168}, {"is_baseline": False, "days": 190}, False),
    ({"is_baseline": False, "days": 10}, {"is_baseline": False, "days": 13}, True),      # 3-day floor
    ({"is_baseline": False, "days": None}, {"is_baseline": False, "days": None}, True),  # both unknown
    ({"is_baseline": False, "days": None}, {"is_baseline": False, "days": 84}, False),
    ({"is_baseline": False, "days": None}, None, True),                                   # missing = unknown follow-up
    ({"is_baseline": True, "days": 0}, None, False),
])
def test_timepoints_agree(gold, pred, agree):
    assert timepoints_agree(gold, pred) is agree


def _m(patient, analyte, value, *, unit=None, baseline=False, days=None):
    return {"patient": patient, "analyte": analyte, "value": value, "unit": unit,
            "timepoint": {"is_baseline": baseline, "days": days}, "evidence": {"start": 0, "end": 1, "text": "x"}}


def test_duplicate_gold_values_need_two_predictions():
    gold = [_m("1", "TJC", 0.0, days=None), _m("2", "TJC", 0.0), _m("1", "TJC", 0.0, days=84)]
    pred = [_m("1", "TJC", 0.0, days=84)]
    res = evaluate_measurements(gold, pred)
    assert (res["tp"], res["fp"], res["fn"]) == (1, 0, 2)
    # among candidates with the same key, the one whose timepoint agrees is matched
    assert res["timepoint_ok"] == 1


def test_measurement_matching_ignores_unit_and_time_but_reports_them():
    gold = [_m("1", "CRP", 20, unit="mg/L", baseline=True)]
    pred = [_m("1", "crp", 20, unit="mg/dL", baseline=False, days=None)]
    res = evaluate_measurements(gold, pred)
    assert res["tp"] == 1 and res["unit_ok"] == 0 and res["timepoint_ok"] == 0
    assert res["attribute_errors"][0]["wrong"] == ["unit", "timepoint"]


def test_analytes_compare_by_vocabulary_and_spelling():
    gold = [_m("1", "haemoglobin", 10.2), _m("1", "C-reactive protein", 12)]
    pred = [_m("1", "hemoglobin", 10.2), _m("1", "CRP", 12)]
    assert evaluate_measurements(gold, pred)["tp"] == 2


def test_qualitative_results_match_on_result():
    gold = [dict(_m("1", "anti-Ro/SSA", None), result="negative")]
    assert evaluate_measurements(gold, [dict(_m("1", "anti-Ro/SSA", None), result="negative")])["tp"] == 1
    assert evaluate_measurements(gold, [dict(_m("1", "anti-Ro/SSA", None), result="positive")])["tp"] == 0


def _record(doc_id, text, entities, measurements, annotated=None):
    doc = {"id": doc_id, "text": text, "text_sha256": "0" * 64}
    if annotated:
        doc["annotated"] = annotated
    return {"document": doc, "entities": entities, "measurements": measurements, "drugs": [], "patients": []}


def test_only_annotated_labels_are_scored():
    text = "Rituximab lowered CRP."
    gold = _record("d", text, [_e("DRUG", 0, 9)], [], annotated=["DRUG"])
    pred = _record("d", text, [_e("DRUG", 0, 9), _e("LAB", 18, 21)], [])
    res = evaluate_records({"d": gold}, {"d": pred})
    assert res["entities"]["strict"]["micro"]["fp"] == 0
    assert res["entities"]["strict"]["per_label"]["LAB"]["fp"] == 0


def test_errors_are_classified_per_document_and_in_total():
    text = "Hematocrit 31%, age 49 years."
    g = dict(_m("1", "hematocrit", 31), value_span={"start": 11, "end": 13})
    p1 = dict(_m("1", "hemoglobin", 31), value_span={"start": 11, "end": 14})
    p2 = dict(_m("1", "hemoglobin", 49), value_span={"start": 20, "end": 22})
    res = evaluate_records({"d": _record("d", text, [], [g])}, {"d": _record("d", text, [], [p1, p2])})
    assert res["measurements"]["error_classes"] == {"wrong analyte": 1, "not a measurement: age": 1}
    assert res["per_document"]["d"]["error_classes"] == {"not a measurement: age": 1, "wrong analyte": 1}
    assert "wrong analyte" in format_markdown(res) and "wrong analyte: 1" in format_table(res)


def test_fixture_entities_hand_computed(result):
    strict = result["entities"]["strict"]
    # doc_a: Rituximab, CRP exact; "methotrexate were", "at week 12" overlap; "mg/L" spurious;
    # DAS28-ESR missed. doc_b (no prediction): Tocilizumab missed.
    assert {k: strict["micro"][k] for k in ("tp", "fp", "fn")} == {"tp": 2, "fp": 3, "fn": 4}
    assert strict["micro"]["precision"] == pytest.approx(0.4)
    assert strict["micro"]["recall"] == pytest.approx(1 / 3)
    assert strict["micro"]["f1"] == pytest.approx(2 * 0.4 * (1 / 3) / (0.4 + 1 / 3))
    assert {k: strict["per_label"]["DRUG"][k] for k in ("tp", "fp", "fn")} == {"tp": 1, "fp": 1, "fn": 2}
    assert {k: strict["per_label"]["SCORE"][k] for k in ("tp", "fp", "fn")} == {"tp": 0, "fp": 0, "fn": 1}
    partial = result["entities"]["partial"]["micro"]
    assert {k: partial[k] for k in ("tp", "fp", "fn")} == {"tp": 4, "fp": 1, "fn": 2}
    assert partial["f1"] == pytest.approx(2 * 0.8 * (4 / 6) / (0.8 + 4 / 6))


def test_fixture_measurements_hand_computed(result):
    m = result["measurements"]["micro"]
    # CRP 20 (mg/l ~ mg/L), CRP 5 (day 120 vs 84: wrong time), one of two DAS28-ESR 5.1 matched;
    # patient 2 CRP spurious; doc_b IL-6 missed.
    assert (m["tp"], m["fp"], m["fn"]) == (3, 1, 2)
    assert m["precision"] == pytest.approx(0.75)
    assert m["recall"] == pytest.approx(0.6)
    assert m["unit_accuracy"] == pytest.approx(1.0)
    assert m["timepoint_accuracy"] == pytest.approx(2 / 3)
    per = result["measurements"]["per_analyte"]
    assert (per["CRP"]["tp"], per["CRP"]["fp"], per["CRP"]["fn"]) == (2, 1, 0)
    assert (per["DAS28-ESR"]["tp"], per["DAS28-ESR"]["fn"]) == (1, 1)
    assert per["IL-6"]["recall"] == 0.0


def test_fixture_drugs_hand_computed(result):
    d = result["drugs"]["micro"]
    assert (d["tp"], d["fp"], d["fn"]) == (1, 1, 2)   # "Rituximab" is lowercased; "mtx" is not methotrexate
    assert d["f1"] == pytest.approx(0.4)


def test_missing_and_skipped_documents_are_listed(result):
    docs = result["documents"]
    assert docs["missing_prediction"] == ["doc_b"]
    assert docs["skipped_no_gold"] == ["extra"]
    assert result["per_document"]["doc_b"]["entities"]["strict"]["recall"] == 0.0


def test_doc_ids_restrict_both_sides():
    res = evaluate_dirs(FIX / "gold", FIX / "pred", doc_ids=["doc_a"], check_source=False)
    assert res["documents"]["evaluated"] == ["doc_a"] and res["documents"]["missing_prediction"] == []


def test_empty_gold_and_empty_prediction_are_undefined_and_fail_the_gate():
    res = evaluate_records({}, {})
    assert res["entities"]["strict"]["micro"]["f1"] is None
    assert passes_min_f1(res, 0.0) is False
    assert "-" in format_table(res)


def test_empty_prediction_scores_zero(result):
    gold = json.loads((FIX / "gold" / "doc_a.json").read_text(encoding="utf-8"))
    empty = copy.deepcopy(gold)
    empty.update(entities=[], measurements=[], drugs=[])
    res = evaluate_records({"doc_a": gold}, {"doc_a": empty})
    assert res["entities"]["strict"]["micro"]["precision"] == 0.0
    assert res["entities"]["strict"]["micro"]["recall"] == 0.0
    assert res["measurements"]["micro"]["unit_accuracy"] is None
    perfect = evaluate_records({"doc_a": gold}, {"doc_a": gold})
    assert passes_min_f1(perfect, 1.0) and not passes_min_f1(res, 0.1)


def test_passes_min_f1_uses_headline_metrics(result):
    assert passes_min_f1(result, 0.3)          # strict .364, measurements .667, drugs .4
    assert not passes_min_f1(result, 0.5)
    assert passes_min_f1(result, 0.6, metrics=("measurements",))


def test_table_markdown_and_summary_show_every_error(result):
    table = format_table(result)
    assert "entities/strict" in table and "micro" in table and "doc_b" in table
    md = format_markdown(result)
    assert "| FN | SCORE | DAS28-ESR |" in md
    assert "[[methotrexate were]]" in md                      # FP shown in its sentence
    assert "methotrexate (14-26)" in md                        # ... with its partial match
    assert "patient 2 CRP 20 mg/L @ baseline" in md           # spurious measurement
    assert "timepoint" in md and "- FP: mtx" in md
    assert "Predictions with no gold (skipped): extra" in md
    line = summary_line(result)
    assert "2 documents" in line and "1 missing" in line and "0.364" in line
    json.dumps(result)                                         # machine JSON


@pytest.mark.parametrize("text,start,end,expected", [
    ("First one. See Fig. 1 for CRP values. Next.", 26, 29, "See Fig. 1 for [[CRP]] values."),
    ("A B.\n\nTitle line\n\nBody e.g. CRP here. X", 28, 31, "Body e.g. [[CRP]] here."),
    ("no boundary at all CRP", 19, 22, "no boundary at all [[CRP]]"),
    ("CRP fell at week 12. DAS28-ESR was 5.1.", 21, 30, "[[DAS28-ESR]] was 5.1."),   # span opens the sentence
])
def test_sentence_at(text, start, end, expected):
    assert sentence_at(text, start, end) == expected


def _copy_fixture(tmp_path: Path) -> tuple[Path, Path]:
    gold, pred = tmp_path / "gold", tmp_path / "pred"
    gold.mkdir()
    pred.mkdir()
    for name in ("doc_a.json",):
        (gold / name).write_text((FIX / "gold" / name).read_text(encoding="utf-8"), encoding="utf-8")
        (pred / name).write_text((FIX / "pred" / name).read_text(encoding="utf-8"), encoding="utf-8")
    return gold, pred


def test_gold_whose_text_hash_is_stale_is_refused(tmp_path):
    gold, pred = _copy_fixture(tmp_path)
    record = json.loads((gold / "doc_a.json").read_text(encoding="utf-8"))
    record["document"]["text"] += " edited"
    (gold / "doc_a.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(GoldError, match="doc_a.json"):
        evaluate_dirs(gold, pred, check_source=False)


def test_gold_checked_against_current_normalization(tmp_path):
    gold, pred = _copy_fixture(tmp_path)
    record = json.loads((gold / "doc_a.json").read_text(encoding="utf-8"))
    source = tmp_path / "doc_a.txt"
    source.write_text(record["document"]["text"] + "\n\nA paragraph added since annotation.\n", encoding="utf-8")
    record["document"]["source_path"] = str(source)
    (gold / "doc_a.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(GoldError, match="stale gold"):
        evaluate_dirs(gold, pred)
    source.write_text(record["document"]["text"] + "\n", encoding="utf-8")
    assert evaluate_dirs(gold, pred)["documents"]["evaluated"] == ["doc_a"]


def test_prediction_from_other_text_is_refused(tmp_path):
    gold, pred = _copy_fixture(tmp_path)
    record = json.loads((pred / "doc_a.json").read_text(encoding="utf-8"))
    record["document"]["text_sha256"] = "0" * 64
    (pred / "doc_a.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(GoldError, match="other normalized text"):
        evaluate_dirs(gold, pred, check_source=False)


def test_malformed_gold_is_a_gold_error(tmp_path):
    gold, pred = _copy_fixture(tmp_path)
    (gold / "doc_a.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(GoldError, match="doc_a.json"):
        evaluate_dirs(gold, pred, check_source=False)
    with pytest.raises(GoldError, match="not found"):
        evaluate_dirs(tmp_path / "nope", pred)
