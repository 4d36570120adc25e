"""Tests of pipeline/checks.py against hand-computed examples."""
from __future__ import annotations

import pytest

from pipeline.checks import (
    activity_category,
    cdai,
    composite_flags,
    das28_crp,
    das28_esr,
    derived_fields,
    eular_response,
    flag_ranges,
    out_of_range,
    run_checks,
    sdai,
    valid_ranges,
)
from pipeline.record import Evidence, Measurement, Timepoint

EV = Evidence(0, 1, "x")
WEEK12 = Timepoint(text="week 12", value=12, unit="week", days=84.0)
BASE = Timepoint(text="at baseline", days=0.0, is_baseline=True)


def m(mid: str, analyte: str, value: float, unit: str | None = None, tp: Timepoint | None = WEEK12,
      patient: str = "1", kind: str = "score") -> Measurement:
    return Measurement(id=mid, patient=patient, analyte=analyte, kind=kind, value=value, evidence=EV, unit=unit,
                       timepoint=tp)


# Hand-computed: 0.56·√4 = 1.12; 0.28·√2 = 0.39598; 0.70·ln 25 = 2.25321; 0.36·ln 11 = 0.86324; 0.014·40 = 0.56.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (cdai(4, 2, 3, 2), 11.0),
        (sdai(4, 2, 3, 2, 1.5), 12.5),
        (das28_esr(4, 2, 25, 40), 4.32919),
        (das28_crp(4, 2, 10, 40), 3.89922),
        (das28_esr(0, 0, 1, 0), 0.0),
    ],
)
def test_composite_formulas(value: float, expected: float) -> None:
    assert value == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("analyte", "value", "category"),
    [
        ("DAS28-ESR", 2.59, "remission"), ("DAS28-ESR", 2.6, "low"), ("DAS28-CRP", 3.2, "low"),
        ("DAS28", 3.21, "moderate"), ("DAS28-CRP", 5.1, "moderate"), ("DAS28-ESR", 5.11, "high"),
        ("CDAI", 2.8, "remission"), ("CDAI", 10, "low"), ("CDAI", 22, "moderate"), ("CDAI", 22.1, "high"),
        ("SDAI", 3.3, "remission"), ("SDAI", 11, "low"), ("SDAI", 26, "moderate"), ("SDAI", 26.1, "high"),
        ("ESR", 20, None),
    ],
)
def test_activity_category(analyte: str, value: float, category: str | None) -> None:
    assert activity_category(analyte, value) == category


@pytest.mark.parametrize(
    ("baseline", "follow_up", "response"),
    [
        (5.46, 1.74, "good"), (5.0, 3.5, "moderate"), (5.5, 4.8, "moderate"), (6.0, 5.3, "none"),
        (4.0, 3.6, "none"), (3.5, 3.0, "none"), (4.0, 3.1, "moderate"), (7.0, 5.5, "moderate"),
    ],
)
def test_eular_response(baseline: float, follow_up: float, response: str) -> None:
    assert eular_response(baseline, follow_up) == response


def test_composite_flags_consistent_and_inconsistent() -> None:
    items = [m("m1", "TJC28", 4), m("m2", "SJC28", 2), m("m3", "PtGA", 3), m("m4", "PhGA", 2),
             m("m5", "CRP", 15, "mg/L", kind="lab"), m("m6", "CDAI", 11), m("m7", "SDAI", 14),
             m("m8", "CDAI", 30, tp=BASE)]  # another timepoint: not checked
    flags = {x.id: x.flags for x in composite_flags(items)}
    assert flags["m6"] == ["composite_consistent"]
    assert flags["m7"] == ["composite_inconsistent:12.50"]
    assert flags["m8"] == [] and flags["m1"] == []


def test_composite_with_vas_in_mm_and_das28() -> None:
    items = [m("m1", "TJC", 4), m("m2", "SJC", 2), m("m3", "PtGA", 40, "mm"), m("m4", "ESR", 25, "mm/h", kind="lab"),
             m("m5", "DAS28-ESR", 4.33)]
    flags = {x.id: x.flags for x in composite_flags(items)}
    assert flags["m5"] == ["composite_consistent"]


@pytest.mark.parametrize(
    ("value", "unit", "valid", "flagged"),
    [
        (12.0, None, ((0, 9.4), None), True),
        (5.0, None, ((0, 9.4), None), False),
        (120.0, "g/L", ((0, 100), "g/L"), True),
        (1000.0, "mg/dL", ((0, 100), "g/L"), False),  # another unit: not comparable
        (-1.0, "points", ((0, 76), "points"), True),
        (None, None, ((0, 1), None), False),
        (5.0, None, None, False),
    ],
)
def test_out_of_range(value, unit, valid, flagged: bool) -> None:
    assert out_of_range(value, unit, valid) is flagged


def test_flag_ranges_never_changes_the_value() -> None:
    (checked,) = flag_ranges([m("m1", "DAS28-ESR", 12.0)], {"DAS28-ESR": ((0, 9.4), None)})
    assert checked.value == 12.0 and checked.flags == ["out_of_range"]


def test_valid_ranges_come_from_the_rules() -> None:
    ranges = valid_ranges()
    assert ranges["DAS28-ESR"] == ((0.0, 9.4), None)
    assert ranges["ESR"] == ((0.0, 200.0), "mm/h")


def test_derived_fields() -> None:
    items = [m("m1", "DAS28-ESR", 5.46, tp=BASE), m("m2", "DAS28-ESR", 1.74, tp=Timepoint(text="month 8", days=243.52)),
             m("m3", "TJC28", 4), m("m4", "SJC28", 2), m("m5", "PtGA", 40, "mm"), m("m6", "ESR", 25, "mm/h", kind="lab")]
    derived = derived_fields(items)
    assert all(d["derived"] is True for d in derived)
    summary = [(d["kind"], d["analyte"], d["value"], d["category"], d["source_ids"]) for d in derived]
    assert summary == [
        ("disease_activity", "DAS28-ESR", 5.46, "high", ["m1"]),
        ("disease_activity", "DAS28-ESR", 1.74, "remission", ["m2"]),
        ("composite", "DAS28-ESR", 4.33, "moderate", ["m3", "m4", "m6", "m5"]),
        ("eular_response", "DAS28-ESR", 3.72, "good", ["m1", "m2"]),
    ]
    assert derived[-1]["timepoint"]["days"] == 243.52


def test_run_checks_with_explicit_ranges() -> None:
    checked, derived = run_checks([m("m1", "CDAI", 80)], ranges={"CDAI": ((0, 76), "points")})
    assert checked[0].flags == ["out_of_range"]
    assert derived[0]["category"] == "high"
