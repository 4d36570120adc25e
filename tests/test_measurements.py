"""Tests of pipeline/measurements.py: values linked to analyte, unit, patient and timepoint.

Most tests run the assembler on Docs built here: ``spacy.blank("en")`` with a
sentencizer, SCORE/LAB/DRUG spans added by ``build_doc`` from a small lexicon
(standing in for the recognizers), and TIMEPOINT spans from
``pipeline.timepoints.find_timepoints``. End-to-end tests on the seed documents
run the real pipeline when ``pipeline.nlp`` is available.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import regex as re
import spacy
from spacy.tokens import Doc, Span

import pipeline.components.measurements  # noqa: F401 - registers the factory
from pipeline.components import register_extensions
from pipeline.document import Cell, Table
from pipeline.measurements import (
    Mention,
    excluded_number,
    merge_analyte_mentions,
    read_unit,
)
from pipeline.record import Measurement, validate_record
from pipeline.timepoints import find_timepoints
from pipeline.units import normalize_unit

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "measurements"

# surface form -> (label, analyte); stands in for the recognizers in unit tests.
LEXICON = {
    "DAS28-ESR": ("SCORE", "DAS28-ESR"), "DAS28-CRP": ("SCORE", "DAS28-CRP"), "DAS28": ("SCORE", "DAS28"),
    "disease activity score 28": ("SCORE", "DAS28"),
    "disease activity score 28-erythrocyte sedimentation rate": ("SCORE", "DAS28-ESR"),
    "CDAI": ("SCORE", "CDAI"), "Clinical disease activity index": ("SCORE", "CDAI"),
    "SDAI": ("SCORE", "SDAI"), "Simplified disease activity index": ("SCORE", "SDAI"),
    "HAQ-DI": ("SCORE", "HAQ-DI"), "tender joints": ("SCORE", "TJC"), "swollen joints": ("SCORE", "SJC"),
    "TJC28": ("SCORE", "TJC28"), "SJC28": ("SCORE", "SJC28"), "PtGA": ("SCORE", "PtGA"), "PhGA": ("SCORE", "PhGA"),
    "Functional Assessment of Chronic Illness Therapy – Fatigue Scale": ("SCORE", "FACIT-F"),
    "FACIT-F": ("SCORE", "FACIT-F"),
    "ESR": ("LAB", "ESR"), "erythrocyte sedimentation rate": ("LAB", "ESR"),
    "CRP": ("LAB", "CRP"), "C-reactive protein": ("LAB", "CRP"),
    "anti-CCP": ("LAB", "anti-CCP"), "anti-cyclic citrullinated peptide (CCP) antibodies": ("LAB", "anti-CCP"),
    "IgA": ("LAB", "IgA"), "IgG": ("LAB", "IgG"), "IgM": ("LAB", "IgM"), "ferritin": ("LAB", "ferritin"),
    "platelets": ("LAB", "platelets"), "IL-6": ("LAB", "IL-6"), "Rheumatoid factor": ("LAB", "RF"),
    "RF": ("LAB", "RF"), "ACR50": ("SCORE", "ACR50"), "hemoglobin": ("LAB", "hemoglobin"),
    "abatacept": ("DRUG", "abatacept"), "methotrexate": ("DRUG", "methotrexate"),
    "rituximab": ("DRUG", "rituximab"), "tocilizumab": ("DRUG", "tocilizumab"),
    "MG-ADL": ("SCORE", "MG-ADL"), "QMG": ("SCORE", "QMG"), "C3": ("LAB", "C3"), "C4": ("LAB", "C4"),
    "CK": ("LAB", "CK"), "anifrolumab": ("DRUG", "anifrolumab"), "prednisone": ("DRUG", "prednisone"),
    "tarvalimab": ("DRUG", "tarvalimab"),
}


@pytest.fixture(scope="session")
def blank_nlp() -> spacy.Language:
    register_extensions()
    nlp = spacy.blank("en")
    infixes = [*nlp.Defaults.infixes, r"="]
    nlp.tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
    nlp.add_pipe("sentencizer")
    return nlp


@pytest.fixture(scope="session")
def assembler(blank_nlp: spacy.Language):
    nlp = spacy.blank("en")
    return nlp.add_pipe("clinex_measurements")


def build_doc(nlp: spacy.Language, text: str, tables: list[Table] | None = None) -> Doc:
    """A Doc with sentences and clinex spans as the recognizers would set them."""
    doc = nlp(text)
    found: list[tuple[int, int, str, dict]] = []
    for surface, (label, name) in LEXICON.items():
        for m in re.finditer(rf"(?<!\w){re.escape(surface)}(?![\w-])", text, flags=re.IGNORECASE):
            norm = {"name": name} if label == "DRUG" else {"analyte": name, "kind": label.lower().replace("score", "score")}
            if label == "SCORE":
                norm["kind"] = "score"
            elif label == "LAB":
                norm["kind"] = "lab"
            found.append((m.start(), m.end(), label, norm))
    for rt in find_timepoints(text):
        found.append((rt.start, rt.end, "TIMEPOINT", rt.norm()))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    spans: list[Span] = []
    kept: list[tuple[int, int, str]] = []
    for start, end, label, norm in found:
        if any(label == l2 and start < e2 and s2 < end for s2, e2, l2 in kept):
            continue  # overlaps resolved within a label, longest first
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is None:
            continue
        kept.append((start, end, label))
        span._.clinex_norm = norm
        span._.clinex_source = "rule"
        spans.append(span)
    spans.sort(key=lambda s: (s.start_char, s.end_char))
    for i, span in enumerate(spans, start=1):
        span._.clinex_id = f"e{i}"
    doc.spans["clinex"] = spans
    doc._.clinex_tables = tables or []
    return doc


def run(blank_nlp, assembler, text: str, tables: list[Table] | None = None) -> Doc:
    return assembler(build_doc(blank_nlp, text, tables))


def rows(doc: Doc) -> list[tuple]:
    """(patient, analyte, value, unit, is_baseline, days) of each measurement, in order."""
    return [(m.patient, m.analyte, m.value, m.unit,
             m.timepoint.is_baseline if m.timepoint else None,
             m.timepoint.days if m.timepoint else None) for m in doc._.clinex_measurements]


# --------------------------------------------------------------------------- constructions

B0 = (True, 0.0)  # baseline, day 0
FU = (False, None)  # follow-up with no stated time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "The DAS28-ESR decreased from 5.46 at baseline to 1.74 at month 8.",
            [("1", "DAS28-ESR", 5.46, None, True, 0.0), ("1", "DAS28-ESR", 1.74, None, False, 243.52)],
            id="from-A-at-baseline-to-B-at-month",
        ),
        pytest.param(
            "The CRP fell from 14 to 3 mg/L.",
            [("1", "CRP", 14.0, "mg/L", *B0), ("1", "CRP", 3.0, "mg/L", *FU)],
            id="from-A-to-B-baseline-implied-unit-shared",
        ),
        pytest.param(
            "HAQ-DI improved from 1.5 prior to therapy to 0.25 at month 8.",
            [("1", "HAQ-DI", 1.5, None, True, 0.0), ("1", "HAQ-DI", 0.25, None, False, 243.52)],
            id="from-A-prior-to-therapy",
        ),
        pytest.param(
            "An increase in FACIT-F scores: 31 prior to therapy to 46 at month 8 (range 0-52).",
            [("1", "FACIT-F", 31.0, None, True, 0.0), ("1", "FACIT-F", 46.0, None, False, 243.52)],
            id="A-prior-to-therapy-to-B-no-from-range-ignored",
        ),
        pytest.param(
            "Patient 1 and patient 2 were treated. ESR declined from 120 mm/h to 78 mm/h in patient 1 and "
            "from 60 mm/h to 16 mm/h in patient 2.",
            [("1", "ESR", 120.0, "mm/h", *B0), ("1", "ESR", 78.0, "mm/h", *FU),
             ("2", "ESR", 60.0, "mm/h", *B0), ("2", "ESR", 16.0, "mm/h", *FU)],
            id="distributed-over-patients",
        ),
        pytest.param(
            "Patients 1 to 3 were treated. The number of tender joints decreased from 8 to 0 in patient 1, "
            "from 6 to 0 in patient 2 and from 7 to 0 in patient 3.",
            [("1", "TJC", 8.0, None, *B0), ("1", "TJC", 0.0, None, *FU), ("2", "TJC", 6.0, None, *B0),
             ("2", "TJC", 0.0, None, *FU), ("3", "TJC", 7.0, None, *B0), ("3", "TJC", 0.0, None, *FU)],
            id="unitless-counts-over-patients",
        ),
        pytest.param(
            "Patient 1 and patient 2 were treated. DAS28-CRP decreased from 4.67 to 2.26 in patient 1 and "
            "4.04 to 2.67 in patient 2 at 24 weeks post-CAR T-cell infusion.",
            [("1", "DAS28-CRP", 4.67, None, *B0), ("1", "DAS28-CRP", 2.26, None, False, 168.0),
             ("2", "DAS28-CRP", 4.04, None, *B0), ("2", "DAS28-CRP", 2.67, None, False, 168.0)],
            id="trailing-timepoint-governs-the-list",
        ),
        pytest.param(
            "Patient 1 and patient 2 were treated. CDAI decreased from 23 to 1.5 points in patient 1 and "
            "18 to 2 points in patient 2.",
            [("1", "CDAI", 23.0, None, *B0), ("1", "CDAI", 1.5, None, *FU),
             ("2", "CDAI", 18.0, None, *B0), ("2", "CDAI", 2.0, None, *FU)],
            id="points-are-no-unit",
        ),
        pytest.param(
            "IgA levels dropped from 3.06, 5.48, and 3.12 g/L at baseline to 0.58, 0.82 and 0.80 g/L at the "
            "24-week follow-up in patient 1, patient 2, and patient 3, respectively. IgG levels decreased from "
            "10.40, 15.68, and 9.72 g/L to 8.74, 8.84, and 6.72 g/L.",
            [("1", "IgA", 3.06, "g/L", *B0), ("2", "IgA", 5.48, "g/L", *B0), ("3", "IgA", 3.12, "g/L", *B0),
             ("1", "IgA", 0.58, "g/L", False, 168.0), ("2", "IgA", 0.82, "g/L", False, 168.0),
             ("3", "IgA", 0.80, "g/L", False, 168.0),
             ("1", "IgG", 10.40, "g/L", *B0), ("2", "IgG", 15.68, "g/L", *B0), ("3", "IgG", 9.72, "g/L", *B0),
             ("1", "IgG", 8.74, "g/L", False, 168.0), ("2", "IgG", 8.84, "g/L", False, 168.0),
             ("3", "IgG", 6.72, "g/L", False, 168.0)],
            id="respectively-lists-then-positional-list-with-carry-over",
        ),
        pytest.param(
            "Briefly, patient 1 is a 49-year-old, patient 2 a 52-year-old, and patient 3 a 56-year-old woman "
            "with DAS28-ESR scores at 5.57, 5.34, and 5.90 units, respectively.",
            [("1", "DAS28-ESR", 5.57, None, *B0), ("2", "DAS28-ESR", 5.34, None, *B0),
             ("3", "DAS28-ESR", 5.90, None, *B0)],
            id="respectively-over-patients-named-earlier",
        ),
        pytest.param(
            "At week 12, HAQ-DI and SDAI were 1.25 and 22.4, respectively.",
            [("1", "HAQ-DI", 1.25, None, False, 84.0), ("1", "SDAI", 22.4, None, False, 84.0)],
            id="respectively-over-analytes",
        ),
        pytest.param("CRP 14 mg/L on admission.", [("1", "CRP", 14.0, "mg/L", True, 0.0)], id="simple"),
        pytest.param("ESR 52 mm (1st hour).", [("1", "ESR", 52.0, "mm/h", None, None)], id="mm-first-hour"),
        pytest.param("SDAI=11.4.", [("1", "SDAI", 11.4, None, None, None)], id="equals"),
        pytest.param("Ferritin 1,250 ng/mL.", [("1", "ferritin", 1250.0, "ng/mL", None, None)], id="thousands"),
        pytest.param("Platelets 1,8 (×10^9/L).", [("1", "platelets", 1.8, "×10^9/L", None, None)],
                     id="decimal-comma-parenthesized-unit"),
        pytest.param("Platelets 1,8 (×10^11/L).", [("1", "platelets", 1.8, "×10^11/L", None, None)],
                     id="unit-missing-from-units-table"),
        pytest.param("Platelets were 98 ×10^9/L on day 9.", [("1", "platelets", 98.0, "×10^9/L", False, 9.0)],
                     id="platelets-giga-per-litre"),
        pytest.param("CK fell to 1,130 U/L and 212 U/L at month 3 and month 6, respectively.",
                     [("1", "CK", 1130.0, "U/L", False, 91.32), ("1", "CK", 212.0, "U/L", False, 182.64)],
                     id="respectively-over-coordinated-times"),
        pytest.param("At month 3, CK had fallen from 900 to 300. C3 and C4 rose to 0.92 and 0.19, respectively.",
                     [("1", "CK", 900.0, None, *B0), ("1", "CK", 300.0, None, False, 91.32),
                      ("1", "C3", 0.92, None, False, 91.32), ("1", "C4", 0.19, None, False, 91.32)],
                     id="fronted-time-frames-the-next-sentence"),
        pytest.param("At month 3, CK was 300. CK was 120 at month 6. CRP remained 2 throughout follow-up.",
                     [("1", "CK", 300.0, None, False, 91.32), ("1", "CK", 120.0, None, False, 182.64),
                      ("1", "CRP", 2.0, None, *FU)],
                     id="fronted-frame-ends-at-an-own-time-and-unstated-follow-up"),
        pytest.param("Patient 1, a 41-year-old woman, had MG for twelve years. Her MG-ADL score was 11. "
                     "Patient 2 was a 63-year-old man whose MG-ADL and QMG scores were 9 and 16 at baseline, "
                     "respectively. His CRP was 3 at week 4.",
                     [("1", "MG-ADL", 11.0, None, None, None), ("2", "MG-ADL", 9.0, None, *B0),
                      ("2", "QMG", 16.0, None, *B0), ("2", "CRP", 3.0, None, False, 28.0)],
                     id="pronoun-refers-to-the-patient-named-alone"),
        pytest.param("At week 12, the MG-ADL of patient 1 had fallen to two and her QMG was 6. Two patients had no flare.",
                     [("1", "MG-ADL", 2.0, None, False, 84.0), ("1", "QMG", 6.0, None, False, 84.0)],
                     id="number-word-value"),
        pytest.param("Patient 2 had an MG-ADL score of 5 at week 12 and 1 at week 24.",
                     [("2", "MG-ADL", 5.0, None, False, 84.0), ("2", "MG-ADL", 1.0, None, False, 168.0)],
                     id="last-conjunct-with-its-own-time-is-a-value"),
        pytest.param("The HAQ-DI of 1.5/3 was high.", [("1", "HAQ-DI", 1.5, None, None, None)], id="out-of-max"),
        pytest.param("She had twelve tender joints.", [("1", "TJC", 12.0, None, None, None)], id="number-word"),
        pytest.param("IgG 6.1 and IgM 0.4 g/l.", [("1", "IgG", 6.1, "g/L", None, None),
                                                  ("1", "IgM", 0.4, "g/L", None, None)], id="shared-unit"),
        pytest.param("In November 2018, CRP was 5 mg/L.", [("1", "CRP", 5.0, "mg/L", False, None)], id="date"),
    ],
)
def test_measurement_constructions(blank_nlp, assembler, text: str, expected: list[tuple]) -> None:
    got = rows(run(blank_nlp, assembler, text))
    assert [(p, a, pytest.approx(v), u, b, pytest.approx(d) if d else d) for p, a, v, u, b, d in expected] == got


def test_comparator_and_date_timepoint(blank_nlp, assembler) -> None:
    doc = run(blank_nlp, assembler, "In November 2018, anti-CCP >340 U/mL and CRP <0.5 mg/dL were found.")
    ccp, crp = doc._.clinex_measurements
    assert (ccp.comparator, ccp.value, ccp.unit) == (">", 340.0, "U/mL")
    assert (crp.comparator, crp.value, crp.unit_ucum) == ("<", 0.5, "mg/dL")
    assert ccp.timepoint.date == "2018-11" and ccp.timepoint.days is None


def test_measurement_links_entities_and_evidence(blank_nlp, assembler) -> None:
    text = "A 60-year-old woman was treated. The DAS28-ESR decreased from 5.46 at baseline to 1.74 at month 8."
    doc = run(blank_nlp, assembler, text)
    first = doc._.clinex_measurements[0]
    ids = {s._.clinex_id: s.text for s in doc.spans["clinex"]}
    assert [ids[i] for i in first.entity_ids] == ["DAS28-ESR", "baseline"]
    assert first.evidence.text == "The DAS28-ESR decreased from 5.46 at baseline to 1.74 at month 8."
    assert text[first.evidence.start:first.evidence.end] == first.evidence.text
    values = [(m.value_span.text, text[m.value_span.start:m.value_span.end]) for m in doc._.clinex_measurements]
    assert values == [("5.46", "5.46"), ("1.74", "1.74")]
    tp = first.timepoint
    assert text[tp.start:tp.end] == "baseline"
    assert doc._.clinex_patients == [{"id": "1", "age": 60.0, "sex": "F", "evidence": {
        "start": 2, "end": 19, "text": "60-year-old woman"}}]


@pytest.mark.parametrize(
    "text, follow_days",
    [
        # GUIDELINES section 5: a period stated for the paragraph is not a time point
        ("Autoantibodies decreased over a 12-month period. Ferritin fell from 320 ng/mL to 40 ng/mL in patient 1.",
         None),
        ("IgG rose during the 6-month follow-up period, from 5.2 g/L to 9.1 g/L.", None),
        # a stated time point still governs
        ("Ferritin fell from 320 ng/mL to 40 ng/mL at week 24.", 168.0),
    ],
)
def test_measurement_duration_never_governs(blank_nlp, assembler, text, follow_days) -> None:
    doc = run(blank_nlp, assembler, text)
    follow = [m for m in doc._.clinex_measurements if not m.timepoint.is_baseline]
    assert follow and all(m.timepoint.days == follow_days for m in follow)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("The CRP was raised (normal < 20 U/ml).", id="normal-value"),
        pytest.param("Albumin CRP (3.5-5.0) was reported.", id="reference-range"),
        pytest.param("FACIT-F (range 0-52, higher is better) is a scale.", id="scale-range"),
        pytest.param("A 49-year-old woman had a high ESR.", id="age"),
        pytest.param("RA was diagnosed 20 years ago; CRP was measured for 3 days.", id="durations"),
        pytest.param("CRP was measured in November 2018 and on 9 January 2025.", id="dates"),
        pytest.param("The ethics committee (2023KY-379) approved the CRP protocol.", id="ethics-number"),
        pytest.param("ESR and CRP are shown (Fig. 1e) and in Table 2.", id="figure-numbers"),
        pytest.param("Up to 30% of RA patients escape therapy despite low CRP.", id="population-percent"),
        pytest.param("Only 30% of patients achieved ACR50 after 6 months of rituximab.", id="literature-statistic"),
        pytest.param("CRP testing included methotrexate (3/3) users.", id="patient-count"),
        pytest.param("IL-6 increased in patient 2.", id="analyte-name-digits"),
        pytest.param("CRP was checked in all three patients.", id="cohort-count"),
        pytest.param("CRP was low (p < 0.05).", id="p-value"),
    ],
)
def test_not_measurements(blank_nlp, assembler, text: str) -> None:
    assert rows(run(blank_nlp, assembler, text)) == []


def test_car_copies_peak_day_is_a_timepoint(blank_nlp, assembler) -> None:
    text = "CAR copies peaking on day 9 in patient 1 and on day 21 in patient 2. CRP 4 mg/L in patient 2."
    assert rows(run(blank_nlp, assembler, text)) == [("2", "CRP", 4.0, "mg/L", None, None)]


@pytest.mark.parametrize(
    ("text", "dose"),
    [
        ("She received abatacept 125 mg weekly; CRP was 3 mg/L.",
         {"text": "125 mg weekly", "value": 125.0, "unit": "mg", "frequency": "weekly"}),
        ("Tocilizumab 8 mg/kg every 4 weeks was given.",
         {"text": "8 mg/kg every 4 weeks", "value": 8.0, "unit": "mg/kg", "frequency": "every 4 weeks"}),
        ("Anifrolumab 300 mg was given every 4 weeks for 6 months.",
         {"text": "300 mg was given every 4 weeks", "value": 300.0, "unit": "mg", "frequency": "every 4 weeks"}),
        ("He started tarvalimab at 400 mg subcutaneously every 2 weeks.",
         {"text": "400 mg subcutaneously every 2 weeks", "value": 400.0, "unit": "mg", "frequency": "every 2 weeks"}),
        ("Tocilizumab 8 mg/kg q4w.", {"text": "8 mg/kg q4w", "value": 8.0, "unit": "mg/kg", "frequency": "q4w"}),
        ("Initial treatment was prednisone 1 mg/kg/day.",
         {"text": "1 mg/kg/day", "value": 1.0, "unit": "mg/kg/day", "frequency": None}),
    ],
)
def test_doses_are_not_measurements(blank_nlp, assembler, text: str, dose: dict) -> None:
    doc = run(blank_nlp, assembler, text)
    drug = next(s for s in doc.spans["clinex"] if s.label_ == "DRUG")
    assert doc._.clinex_doses == [{"entity_id": drug._.clinex_id, **dose}]
    assert all(m.unit not in ("mg", "mg/kg") for m in doc._.clinex_measurements)


def _table(text: str, header: list[str], body: list[list[str]], caption: str) -> Table:
    def cells(values: list[str], line: str, line_start: int) -> list[Cell]:
        out, pos = [], 0
        for v in values:
            i = line.index(v, pos)
            out.append(Cell(v, line_start + i, line_start + i + len(v)))
            pos = i + len(v)
        return out

    lines = text.split("\n")
    starts = [sum(len(x) + 1 for x in lines[:k]) for k in range(len(lines))]
    header_line = next(k for k, line in enumerate(lines) if line.startswith("|") and header[0] in line)
    head = cells(header, lines[header_line], starts[header_line])
    rows_ = [cells(vals, lines[header_line + 2 + r], starts[header_line + 2 + r]) for r, vals in enumerate(body)]
    return Table("t1", head, rows_, start=starts[header_line], end=rows_[-1][-1].end + 2, caption=caption)


def test_per_patient_table(blank_nlp, assembler) -> None:
    text = ("Table 1 Laboratory values after 12 weeks of treatment\n"
            "| Patient | CRP (mg/L) | anti-CCP (U/mL) | RF |\n"
            "|---|---|---|---|\n"
            "| 1 | 2.5 | <0.05 | Negative |\n"
            "| 2 | 14 | 340 | Positive |\n")
    table = _table(text, ["Patient", "CRP (mg/L)", "anti-CCP (U/mL)", "RF"],
                   [["1", "2.5", "<0.05", "Negative"], ["2", "14", "340", "Positive"]],
                   "Table 1 Laboratory values after 12 weeks of treatment")
    doc = run(blank_nlp, assembler, text, [table])
    got = [(m.patient, m.analyte, m.comparator, m.value, m.unit, m.result, m.timepoint.days, m.table)
           for m in doc._.clinex_measurements]
    assert got == [
        ("1", "CRP", None, 2.5, "mg/L", None, 84.0, "t1"), ("1", "anti-CCP", "<", 0.05, "U/mL", None, 84.0, "t1"),
        ("1", "RF", None, None, None, "negative", 84.0, "t1"),
        ("2", "CRP", None, 14.0, "mg/L", None, 84.0, "t1"), ("2", "anti-CCP", None, 340.0, "U/mL", None, 84.0, "t1"),
        ("2", "RF", None, None, None, "positive", 84.0, "t1"),
    ]
    assert [m.value_span.text for m in doc._.clinex_measurements] == ["2.5", "<0.05", "Negative", "14", "340", "Positive"]


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        (" mm/h to 78", "lab", ("mm/h", "mm/h", "mm/h")),
        (" g/L at baseline", "lab", ("g/L", "g/L", "g/L")),
        (" (×10^9/L).", "lab", ("×10^9/L", "10*9/L", "(×10^9/L)")),
        (" units, respectively", "score", (None, None, "units")),
        (" points in patient 1", "score", (None, None, "points")),
        (" to 0 in patient 1", "lab", None),
        ("% of patients", "lab", ("%", "%", "%")),
    ],
)
def test_read_unit(text: str, kind: str, expected: tuple | None) -> None:
    got = read_unit(text, 0, kind=kind, normalizer=normalize_unit)
    assert (got[:3] if got else None) == expected


@pytest.mark.parametrize(
    ("text", "number", "reason"),
    [
        ("a 49-year-old woman", "49", "time"),
        ("for 20 years", "20", "time"),
        ("normal < 20 U/ml", "20", "reference_range"),
        ("(3.5-5.0)", "3.5", "range"),
        ("(3.5-5.0)", "5.0", "range"),
        ("approved (2023KY-379)", "379", "identifier"),
        ("IL-6 rose", "6", "identifier"),
        ("(Fig. 1e)", "1", "figure"),
        ("up to 30% of RA patients", "30", "population"),
        ("on 9 January 2025", "9", "date"),
        ("on 9 January 2025", "2025", "date"),
        ("p < 0.05", "0.05", "statistic"),
        ("CRP 14 mg/L", "14", None),
        ("from 4 to 1 in patients 1", "1", None),
    ],
)
def test_excluded_number(text: str, number: str, reason: str | None) -> None:
    start = text.index(number) if number != "1" or "Fig" in text else text.index(" 1 ") + 1
    assert excluded_number(text, start, start + len(number)) == reason


def test_merge_long_form_abbreviation_and_das28_composite() -> None:
    text = "disease activity score 28 (DAS28)-erythrocyte sedimentation rate (ESR) and C-reactive protein (CRP)"

    def mention(surface: str, analyte: str, label: str = "LAB", nth: int = 0) -> Mention:
        start = [m.start() for m in re.finditer(re.escape(surface), text)][nth]
        return Mention(start, start + len(surface), label, surface, f"e{start}", {"analyte": analyte})

    merged = merge_analyte_mentions([
        mention("disease activity score 28", "DAS28", "SCORE"), mention("DAS28", "DAS28", "SCORE"),
        mention("erythrocyte sedimentation rate", "ESR"), mention("ESR", "ESR"),
        mention("C-reactive protein", "CRP"), mention("CRP", "CRP"),
    ], text)
    assert [(m.analyte, len(m.entity_ids)) for m in merged] == [("DAS28-ESR", 4), ("CRP", 2)]


def test_measurements_validate_against_the_schema(blank_nlp, assembler) -> None:
    doc = run(blank_nlp, assembler, "IgA dropped from 3.06 g/L at baseline to 0.58 g/L at week 24.")
    record = _record(doc)
    validate_record(record)
    assert all(isinstance(m, Measurement) for m in doc._.clinex_measurements)


def _record(doc: Doc) -> dict:
    import hashlib

    sha = hashlib.sha256(doc.text.encode()).hexdigest()
    return {
        "schema_version": "1.0",
        "document": {"id": "t", "source_path": "t.txt", "sha256": sha, "format": "txt", "pages": None,
                     "title": None, "text": doc.text, "text_sha256": sha},
        "patients": doc._.clinex_patients, "entities": [], "drugs": [], "warnings": [],
        "measurements": [m.to_dict() for m in doc._.clinex_measurements], "derived": doc._.clinex_derived,
        "provenance": {"clinex_version": "0", "rules_sha256": "x", "ner_model": None, "elapsed_s": 0},
    }


# --------------------------------------------------------------------------- end to end

@pytest.fixture(scope="session")
def full_nlp():
    from pipeline.nlp import load_nlp

    return load_nlp(ner_model=None)


def _extract(full_nlp, path: Path) -> dict:
    from pipeline.core import extract

    return extract(path, nlp=full_nlp, ner_model=None)


def _key(m: dict) -> tuple:
    tp = m["timepoint"] or {}
    return (m["patient"], m["analyte"], m["value"], m["unit"], tp.get("is_baseline"),
            round(tp["days"], 2) if tp.get("days") is not None else None)


def test_end_to_end_cell_research_letter(full_nlp) -> None:
    record = _extract(full_nlp, ROOT / "corpus" / "li2025_cellres_cart_ra_letter.txt")
    got = {_key(m) for m in record["measurements"]}
    expected = set()
    pairs = {  # analyte: (unit, follow-up days, [(baseline, follow-up) per patient 1..3])
        "TJC": (None, None, [(8, 0), (6, 0), (7, 0)]), "SJC": (None, None, [(4, 1), (6, 2), (7, 1)]),
        "ESR": ("mm/h", None, [(120, 78), (120, 34), (60, 16)]),
        "DAS28-CRP": (None, 168.0, [(4.67, 2.26), (4.04, 2.67), (4.61, 1.56)]),
        "CDAI": (None, None, [(23, 1.5), (18, 2), (28, 2)]), "SDAI": (None, None, [(32.4, 3.7), (24.1, 6.3), (29.4, 2.1)]),
        # "over a 6-month period" is a duration: it gives the follow-up values no time (GUIDELINES section 5)
        "anti-CCP": ("RU/mL", None, [(399, 1), (865, 1), (1604, 45)]),
        "IgA": ("g/L", 168.0, [(3.06, 0.58), (5.48, 0.82), (3.12, 0.80)]),
        "IgG": ("g/L", 168.0, [(10.40, 8.74), (15.68, 8.84), (9.72, 6.72)]),
        "IgM": ("g/L", 168.0, [(2.42, 0.92), (4.55, 0.91), (1.39, 0.50)]),
    }
    for analyte, (unit, days, values) in pairs.items():
        for pid, (before, after) in enumerate(values, start=1):
            expected.add((str(pid), analyte, float(before), unit, True, 0.0))
            expected.add((str(pid), analyte, float(after), unit, False, days))
    for pid, value in enumerate((5.57, 5.34, 5.90), start=1):
        expected.add((str(pid), "DAS28-ESR", value, None, True, 0.0))
    assert expected <= got
    assert len(record["measurements"]) == len(expected) == 63
    assert [(p["id"], p["age"], p["sex"]) for p in record["patients"]] == [("1", 49, "F"), ("2", 52, "F"), ("3", 56, "F")]


def test_end_to_end_news_item(full_nlp) -> None:
    record = _extract(full_nlp, ROOT / "corpus" / "eular2025_cart_d2t_ra_case.txt")
    assert [_key(m) for m in record["measurements"]] == [
        ("1", "DAS28-ESR", 5.46, None, True, 0.0), ("1", "DAS28-ESR", 1.74, None, False, 243.52),
        ("1", "FACIT-F", 31.0, None, True, 0.0), ("1", "FACIT-F", 46.0, None, False, 243.52),
    ]
    assert [(p["id"], p["age"], p["sex"]) for p in record["patients"]] == [("1", 70, "M")]
    eular = [d for d in record["derived"] if d["kind"] == "eular_response"]
    assert [(d["patient"], d["category"], d["value"]) for d in eular] == [("1", "good", 3.72)]


def test_end_to_end_case_series_fixture(full_nlp) -> None:
    record = _extract(full_nlp, FIXTURES / "multi_patient_case.txt")
    got = [(_key(m), m["comparator"]) for m in record["measurements"]]
    assert got == [
        (("1", "SDAI", 31.2, None, True, 0.0), None), (("2", "SDAI", 26.0, None, True, 0.0), None),
        (("1", "CRP", 24.0, "mg/L", True, 0.0), None), (("1", "CRP", 3.0, "mg/L", False, 84.0), None),
        (("2", "CRP", 12.0, "mg/L", True, 0.0), None), (("2", "CRP", 1.0, "mg/L", False, 84.0), "<"),
    ]
    assert [(p["id"], p["age"], p["sex"]) for p in record["patients"]] == [("1", 58, "M"), ("2", 44, "F")]
    assert [(d["value"], d["unit"], d["frequency"]) for d in record["drugs"][0]["dose"]] == [(125, "mg", "weekly")]


def test_qualitative_result_is_a_measurement_with_no_value(blank_nlp, assembler) -> None:
    doc = run(blank_nlp, assembler, "The CRP was normal (normal < 20 U/ml). RF was negative.")
    got = [(m.analyte, m.value, m.result) for m in doc._.clinex_measurements]
    assert got == [("CRP", None, "normal"), ("RF", None, "negative")]

