import pytest

from pipeline.context import treatment_context


@pytest.mark.parametrize("text,drug,expected", [
    ("He did not receive rituximab.", "rituximab", "negated"),
    ("Rituximab was withheld because of infection.", "Rituximab", "negated"),
    ("The patient refused cyclophosphamide.", "cyclophosphamide", "negated"),
    ("no rituximab was given", "rituximab", "negated"),
    ("treated with steroids without rituximab", "rituximab", "negated"),
    ("If a flare occurs, belimumab would be given.", "belimumab", "hypothetical"),
    ("Belimumab was considered but not started.", "Belimumab", "hypothetical"),
    ("She is a candidate for CAR T-cell therapy.", "CAR T-cell therapy", "hypothetical"),
    ("She was treated with rituximab.", "rituximab", None),
    ("There was no response to methotrexate.", "methotrexate", None),
    ("Methotrexate was stopped after two weeks.", "Methotrexate", None),
    ("She did not improve. Rituximab was started.", "Rituximab", None),
    ("He did not respond; tocilizumab was added.", "tocilizumab", None),
])
def test_treatment_context(text, drug, expected):
    i = text.index(drug)
    assert treatment_context(text, i, i + len(drug)) == expected


def test_coordinated_drugs_share_the_cue():
    text = "She did not receive methotrexate or rituximab."
    mtx = (text.index("methotrexate"), text.index("methotrexate") + 12)
    i = text.index("rituximab")
    assert treatment_context(text, i, i + 9, [mtx]) == "negated"
    assert treatment_context(text, i, i + 9) is None  # the other drug is no filler word
