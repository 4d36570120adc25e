from pathlib import Path

import pytest

from pipeline.components.drugs import is_code_name, stem_class
from pipeline.nlp import load_nlp

FIXTURES = Path(__file__).parent / "fixtures" / "text"


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(ner_model=None)


def drugs(nlp, text):
    doc = nlp(text)
    return {s.text: (s._.clinex_source, s._.clinex_norm) for s in doc.spans["clinex"] if s.label_ == "DRUG"}


@pytest.mark.parametrize(
    "word, cls",
    [("zorbilimab", "monoclonal antibody"), ("plaxicitinib", "JAK inhibitor"), ("fooberleucel", "CAR T-cell therapy"),
     ("zevor-cel", "CAR T-cell therapy"), ("taltacept", "fusion protein"),
     ("concept", None), ("intercept", None), ("cancel", None), ("parcel", None), ("mab", None), ("hormone", None)],
)
def test_components_drugs_inn_stems(word, cls):
    assert stem_class(word) == cls


@pytest.mark.parametrize(
    "code, before, after, expected",
    [
        ("XKT-4471", "later received the cell therapy ", " after lymphodepletion", True),
        ("KYV-101", "CD19 CAR T cell therapy (", ", Kyverna)", True),
        ("ABC-123", "The patient was treated with ", ".", True),
        ("ABC-123", "The weather station ", " recorded", False),
        ("CD19-123", "treated with ", "", False),
        ("NCT04561234", "registered as ", " and treated", False),
        ("AHWJ2023", "supported by the Foundation (", " to Z.C.)", False),
    ],
)
def test_components_drugs_code_names(code, before, after, expected):
    assert is_code_name(code, before, after) is expected


def test_components_drugs_sle_fixture(nlp):
    found = drugs(nlp, (FIXTURES / "sle_course.txt").read_text(encoding="utf-8"))
    for name in ["hydroxychloroquine", "belimumab", "anifrolumab", "mycophenolate mofetil", "MMF", "Prednisone"]:
        assert name in found, name
    assert found["belimumab"][1]["target"] == "BLyS" and found["anifrolumab"][1]["target"] == "IFNAR"
    assert found["MMF"][1]["name"] == "mycophenolate mofetil"


def test_components_drugs_unlisted_drugs_by_pattern(nlp):
    found = drugs(nlp, (FIXTURES / "sle_course_unlisted_drugs.txt").read_text(encoding="utf-8"))
    assert found["zorbilimab"][0] == "pattern" and found["zorbilimab"][1]["class"] == "monoclonal antibody"
    assert found["XKT-4471"][0] == "pattern"
    assert found["Plaxicitinib"][1]["class"] == "JAK inhibitor"


@pytest.mark.parametrize(
    "text, span, name, target",
    [
        ("after receiving CD19 CAR T cell therapy.", "CD19 CAR T cell therapy", "cd19 car t-cell therapy", "CD19"),
        ("with CD19/aIL-6/aTNFα CAR T-cells in RA", "CD19/aIL-6/aTNFα CAR T-cells", "cd19 car t-cell therapy", "CD19"),
        ("a BCMA CAR-T product", "BCMA CAR-T product", "bcma car t-cell therapy", "BCMA"),
        ("by anti-CD20 monoclonal antibody rituximab", "anti-CD20 monoclonal antibody", "monoclonal antibodies", "CD20"),
    ],
)
def test_components_drugs_regex_rules(nlp, text, span, name, target):
    found = drugs(nlp, text)
    assert found[span][1]["name"] == name and found[span][1]["target"] == target


@pytest.mark.parametrize(
    "text",
    ["ESR and CRP fell; IgG was 8.74 g/L and IL-6 rose.", "methotrexate (3/3) was given",
     "There was an increase in CD19 CAR T cell levels.", "the CAR construct and CAR copies",
     "Funded by grant ABC-123 of the Foundation.", "CD19 and CD20 antigens; COVID-19 infection"],
)
def test_components_drugs_false_positives(nlp, text):
    found = drugs(nlp, text)
    assert not (set(found) & {"ESR", "CRP", "IgG", "IL-6", "3/3", "CD19 CAR T cell", "CAR", "ABC-123", "CD19", "CD20", "COVID-19"})


def test_components_drugs_library_names_beyond_rules(nlp):
    found = drugs(nlp, "She was given standard dose of Paxlovid and later azacitidine.")
    assert found["Paxlovid"][1]["name"] == "nirmatrelvir/ritonavir"
    assert found["azacitidine"][1]["drugbank_id"]
