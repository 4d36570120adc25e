import pytest

from pipeline.measurements import Value
from pipeline.value_forms import qualitative_result, read_companions
from pipeline.values import find_numbers, parse_number


def values_of(text):
    return [Value(n.start, n.end, n.parsed.value, n.parsed.comparator, n.parsed.maximum, text=n.parsed.text)
            for n in find_numbers(text, words=False)]


@pytest.mark.parametrize("text,expected", [
    ("DAS28 4.2 ± 1.1", [(4.2, "mean", 1.1, None)]),
    ("CRP (mean (SD)) 12.1 (3.4)", [(12.1, "mean", 3.4, None)]),
    ("median CRP 12 (8-20)", [(12.0, "median", None, None)]),
    ("PaCO2 was 107 (14.3 kPa)", [(107.0, None, None, None)]),   # the same reading restated: one value
    ("ANA titer 1:640", [(640.0, None, None, "titer")]),
    ("anti-dsDNA antibody 1/320", [(320.0, None, None, "titer")]),
    ("ANA was 1280× (speckled)", [(1280.0, None, None, "titer")]),
    ("VAS 1/10", [(1.0, None, None, None)]),                       # a scale maximum, not a titer
])
def test_read_companions(text, expected):
    got = read_companions(text, values_of(text), text)
    assert [(v.value, v.stat, v.sd, v.unit) for v in got] == expected


@pytest.mark.parametrize("text,result", [
    ("anti-Ro was negative", "negative"), ("ANA positive", "positive"), ("CRP was within normal limits", "normal"),
    ("HBV-DNA undetectable", "not detected"), ("anti-Ro and a history of negative tests", None),
])
def test_qualitative_result(text, result):
    from pipeline.binding import is_link_gap

    end = text.index(" ")
    found = qualitative_result(text, end, len(text), lambda pos: is_link_gap(text[end:pos]))
    assert (found[2] if found else None) == result


@pytest.mark.parametrize("text,value", [
    ("13\u2009600", 13600.0), ("1,8", 1.8), ("1,250", 1250.0),
])
def test_spaced_thousands_and_decimal_commas(text, value):
    assert parse_number(text).value == value


@pytest.mark.parametrize("text,values", [
    ("platelets 12 400 /µL", [12400.0]), ("250\u00a0000/µL", [250000.0]), ("CK 13 600 U/L", [13600.0]), ("2 3 2 1 43 15", [2, 3, 2, 1, 43, 15]),
    ("of 12 300 patients", [12, 300]), ("12 400 and 3", [12, 400, 3]),
])
def test_spaced_thousands_need_a_unit_after(text, values):
    assert [n.parsed.value for n in find_numbers(text, words=False)] == values
