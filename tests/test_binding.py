import pytest

from pipeline.binding import is_link_gap, masked_gap, reachable


@pytest.mark.parametrize("gap,ok", [
    (" ", True), (" level was elevated at ", True), (" levels dropped from ", True), (": ", True), (" = ", True),
    (", and ", True), (" (normal range 30-200) and ", False), (", hematocrit ", False), (" fell by ", False),
    (" in 12 patients ", False), ("; later it was ", True), (" follow-up ", False),
])
def test_is_link_gap(gap, ok):
    assert is_link_gap(gap) is ok


def test_parenthetical_asides_and_masks_are_skipped():
    text = "ferritin 1,250 ng/mL (normal range 30-200) and 3,000 ng/mL on day 7"
    assert is_link_gap(masked_gap(text, 20, 47, []))
    text = "CRP 45 mg/L in patient 1 and 12 mg/L in patient 2"
    i = text.index(" in patient 1")
    assert not is_link_gap(text[11:text.index("12")])
    assert is_link_gap(masked_gap(text, 11, text.index("12"), [(i + 1, i + 13)]))


@pytest.mark.parametrize("text,values,reach", [
    # the unknown analyte ends hemoglobin's reach: 31 is not a second hemoglobin
    ("hemoglobin 10.2 g/dl, hematocrit 31%, urea 40 mg/dl", ["10.2 g/dl", "31%"], 1),
    ("IgA levels dropped from 3.06, 5.48, and 3.12 g/L", ["3.06", "5.48", "3.12 g/L"], 3),
    ("Anti-Scl-70 was 25 U/ml", ["25 U/ml"], 1),
])
def test_reachable(text, values, reach):
    owner_end = text.index(" ")
    spans = [(text.index(v), text.index(v) + len(v)) for v in values]
    assert reachable(text, owner_end, spans, []) == reach
