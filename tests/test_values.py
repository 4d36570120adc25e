"""Tests of pipeline/values.py: numbers as clinical texts write them."""
from __future__ import annotations

import pytest

from pipeline.values import find_numbers, parse_number


@pytest.mark.parametrize(
    ("text", "value", "comparator", "maximum"),
    [
        ("14", 14.0, None, None),
        ("5.46", 5.46, None, None),
        ("1,250", 1250.0, None, None),
        ("13,600,000", 13600000.0, None, None),
        ("1,8", 1.8, None, None),
        ("10,40", 10.4, None, None),
        ("<0.05", 0.05, "<", None),
        (">340", 340.0, ">", None),
        ("≤ 2.6", 2.6, "<=", None),
        (">=3", 3.0, ">=", None),
        ("~40", 40.0, "~", None),
        ("−2.5", -2.5, None, None),
        ("1.5/3", 1.5, None, 3.0),
        ("twelve", 12.0, None, None),
        ("Twenty-one", 21.0, None, None),
        (".5", 0.5, None, None),
    ],
)
def test_parse_number(text: str, value: float, comparator: str | None, maximum: float | None) -> None:
    parsed = parse_number(text)
    assert parsed is not None
    assert (parsed.value, parsed.comparator, parsed.maximum) == (pytest.approx(value), comparator, maximum)


@pytest.mark.parametrize("text", ["", "mg/L", "patient", "n.d.", "1.2.3", "twelve apples"])
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from 3.06, 5.48, and 3.12 g/L", [3.06, 5.48, 3.12]),
        ("ferritin 1,250 ng/mL and platelets 1,8", [1250.0, 1.8]),
        ("SDAI=11.4", [11.4]),
        ("anti-CCP >340 U/mL", [340.0]),
        ("range 0-52", [0.0, 52.0]),
        ("twelve tender joints", [12.0]),
    ],
)
def test_find_numbers(text: str, expected: list[float]) -> None:
    assert [n.parsed.value for n in find_numbers(text)] == pytest.approx(expected)


def test_find_numbers_offsets_and_comparator() -> None:
    text = "anti-CCP >340 U/mL"
    (n,) = find_numbers(text)
    assert text[n.start:n.end] == ">340" and n.parsed.comparator == ">"
