import pytest

from pipeline.error_classes import classify, not_a_measurement, same_place
from pipeline.evaluate import _m_key, attribute_checks, match_measurements, same_value


def m(patient, analyte, value, start, end, *, unit=None, tp=None, result=None):
    return {"patient": patient, "analyte": analyte, "value": value, "unit": unit, "timepoint": tp, "result": result,
            "comparator": None, "value_span": {"start": start, "end": end}, "evidence": {"start": start, "end": end}}


def classes(text, gold, pred):
    pairs = match_measurements(gold, pred)
    return sorted(e["class"] for e in classify(text, gold, pred, pairs, key=_m_key, same_value=same_value,
                                                checks=attribute_checks))


TEXT = "Hematocrit was 31% and hemoglobin 10.2 g/dL; she was 49 years old and received 500 mg."


def test_wrong_analyte_is_one_error_not_two():
    gold = [m("1", "hematocrit", 31, 15, 17)]
    pred = [m("1", "hemoglobin", 31, 15, 18)]
    assert classes(TEXT, gold, pred) == ["wrong analyte"]


def test_wrong_patient():
    gold = [m("2", "hemoglobin", 10.2, 34, 38)]
    pred = [m("1", "hemoglobin", 10.2, 34, 38)]
    assert classes(TEXT, gold, pred) == ["wrong patient"]


def test_missed_and_duplicate():
    gold = [m("1", "hemoglobin", 10.2, 34, 38), m("1", "hematocrit", 31, 15, 17)]
    pred = [m("1", "hemoglobin", 10.2, 34, 38), m("1", "hemoglobin", 10.2, 34, 38)]
    assert classes(TEXT, gold, pred) == ["duplicate", "missed value"]


def test_attribute_errors():
    gold = [m("1", "hemoglobin", 10.2, 34, 38, unit="g/dL", tp={"is_baseline": True})]
    pred = [m("1", "hemoglobin", 10.2, 34, 38, unit="g/L")]
    assert classes(TEXT, gold, pred) == ["missing timepoint", "wrong unit"]


@pytest.mark.parametrize("text,start,end,expected", [
    ("she was 49 years old", 8, 10, "age"),
    ("received 500 mg of rituximab", 9, 12, "dose"),
    ("CRP 12 mg/L (normal < 5 mg/L)", 21, 22, "reference range"),
    ("30% of patients responded", 0, 2, "cohort statistic"),
    ("after 6 weeks", 6, 7, "time or duration"),
    ("grade 3 toxicity", 6, 7, "other"),
])
def test_not_a_measurement(text, start, end, expected):
    assert not_a_measurement(text, m("1", "x", 1, start, end)) == f"not a measurement: {expected}"


def test_same_place():
    assert same_place(m("1", "a", 1, 10, 14), m("1", "b", 1, 12, 20))
    assert not same_place(m("1", "a", 1, 10, 14), m("1", "b", 1, 14, 20))
