"""Tests of pipeline/patients.py: the cohort and the patients a statement is about."""
from __future__ import annotations

import pytest

from pipeline.patients import find_patient_mentions, find_patients


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Briefly, patient 1 is a 49-year-old, patient 2 a 52-year-old, and patient 3 a 56-year-old woman, who had RA.",
         [("1", 49, "F"), ("2", 52, "F"), ("3", 56, "F")]),
        ("Case 1: a 58-year-old man. Case 2: a 44-year-old woman.", [("1", 58, "M"), ("2", 44, "F")]),
        ("The first patient was treated. The third patient relapsed.", [("1", None, None), ("3", None, None)]),
        ("A German man achieved remission. The patient, a 70-year-old man, had RA for 20 years.", [("1", 70, "M")]),
        ("A woman aged 63 presented with arthritis.", [("1", 63, "F")]),
        ("No demographic data were given.", [("1", None, None)]),
    ],
)
def test_find_patients(text: str, expected: list[tuple]) -> None:
    assert [(p.id, p.age, p.sex) for p in find_patients(text)] == expected


def test_patient_evidence_points_into_the_text() -> None:
    text = "Case 2: a 58-year-old man."
    (p,) = find_patients(text)
    ev = p.evidence
    assert text[ev["start"]:ev["end"]] == ev["text"] == "Case 2: a 58-year-old man"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("decreased from 8 to 0 in patient 1, from 6 to 0 in patient 2", [("1",), ("2",)]),
        ("tapered to half (patients 1 and 2) and discontinued in patient 3", [("1", "2"), ("3",)]),
        ("in patient 1, patient 2, and patient 3, respectively", [("1", "2", "3")]),
        ("patients 1, 2 and 3 responded", [("1", "2", "3")]),
        ("4.67 to 2.26 in patient 1, 4.04 to 2.67 in patient 2", [("1",), ("2",)]),
        ("after 3 days in patient 1 and 7 days in patient 2 and 3", [("1",), ("2", "3")]),
        ("the second patient and case 4", [("2",), ("4",)]),
        ("patients 18 years or older were eligible", []),
        ("patient 3 and a 56-year-old", [("3",)]),
        ("in patients 1, from 6 to 2 in patient 2", [("1",), ("2",)]),
    ],
)
def test_find_patient_mentions(text: str, expected: list[tuple]) -> None:
    assert [m.ids for m in find_patient_mentions(text)] == expected



def test_case_sections_give_the_text_under_each_case_heading():
    from pipeline.patients import case_sections

    text = ("Introduction\nWe report three cases.\n\nCase 1: a 58-year-old man\nHis CRP was 12.\n\n"
            "Case 2\nA woman of 40. Her CRP was 3.\n\nDiscussion\nCRP fell in all cases.\n")
    sections = case_sections(text)
    assert [(pid, text[a:b].split("\n")[0]) for a, b, pid in sections] == [("1", "Case 1: a 58-year-old man"), ("2", "Case 2")]
    assert "Discussion" not in text[sections[-1][0]:sections[-1][1]]
    assert case_sections("In case 2 of the series the CRP rose.") == []


def test_a_single_patient_numbered_only_in_the_title_is_patient_1():
    text = "Case 3: A 81-Year-Old Man With a Raised Creatinine\n\nPRESENTATION OF CASE 3\n\nA 81-year-old man was admitted."
    assert [(p.id, p.age, p.sex) for p in find_patients(text)] == [("1", 81.0, "M")]
    assert [p.id for p in find_patients("Her CRP fell in patient 2, a 40-year-old woman.")] == ["2"]
