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
        ("after receiving CD19 CAR T cell therapy.", "CD19 CAR T cell therapy", "car t-cell therapy", "CD19"),
        ("with CD19/aIL-6/aTNFα CAR T-cells in RA", "CD19/aIL-6/aTNFα CAR T-cells", "car t-cell therapy", "CD19/IL-6/TNFα"),
        ("a BCMA CAR-T product", "BCMA CAR-T", "car t-cell therapy", "BCMA"),
        ("she was given an anti-CD20 monoclonal antibody.", "anti-CD20 monoclonal antibody", "monoclonal antibodies", "CD20"),
        ("CD19-targeting bispecific T cell engagers such as", "CD19-targeting bispecific T cell engagers",
         "bispecific t-cell engagers", "CD19"),
    ],
)
def test_components_drugs_regex_rules(nlp, text, span, name, target):
    found = drugs(nlp, text)
    assert found[span][1]["name"] == name and found[span][1]["target"] == target


@pytest.mark.parametrize(
    "text, spans",
    [
        # other heads than "therapy" are outside a CAR T span (GUIDELINES section 1)
        ("After CD19 CAR T-cell treatment, SLEDAI-2K fell.", ["CD19 CAR T-cell"]),
        ("a BCMA CAR-T cell infusion", ["BCMA CAR-T cell"]),
        ("explained by CAR T-cell expansion", ["CAR T-cell"]),
        ("CD19 CAR T cell levels peaked", ["CD19 CAR T cell"]),
        ("at 12 weeks post-CAR T-cell infusion", ["CAR T-cell"]),
        ("values pre-rituximab and post-treatment", ["rituximab"]),
        # descriptors in apposition to a proper name are excluded
        ("inhibition by anti-CD20 monoclonal antibody rituximab", ["rituximab"]),
        ("the CD20-targeted antibody obinutuzumab was given", ["obinutuzumab"]),
        ("He started tarvalimab, an investigational anti-CD38 monoclonal antibody, at 400 mg.", ["tarvalimab"]),
        ("rituximab, and anti-CD20 monoclonal antibodies in general", ["rituximab", "anti-CD20 monoclonal antibodies"]),
        # vague words are not classes; procedures without an agent are not drugs
        ("refractory to targeted therapies and immunomodulatory drugs", []),
        ("monoclonal antibodies against cytokines", []),
        ("conventional and biological agents", []),
        ("After immunosuppressive treatment and lymphodepletion", []),
        # recognised classes stay
        ("despite glucocorticoids, DMARDs and immunosuppressants", ["glucocorticoids", "DMARDs", "immunosuppressants"]),
    ],
)
def test_components_drugs_span_edges(nlp, text, spans):
    assert sorted(drugs(nlp, text)) == sorted(spans)


def test_components_drugs_construct_short_form(nlp):
    text = ("CD19-targeted CAR T-cells that secrete anti-IFNα (CD19/aIFNα) were given. "
            "After CD19/aIFNα CAR T-cell infusion, C3 rose. The antigen (CD19) is expressed.")
    found = drugs(nlp, text)
    assert found["CD19/aIFNα"][1]["name"] == "car t-cell therapy"
    assert "CD19" not in found

@pytest.mark.parametrize(
    "text",
    ["ESR and CRP fell; IgG was 8.74 g/L and IL-6 rose.", "methotrexate (3/3) was given",
     "T cells were transduced with CD19 CARs.", "the CAR construct and CAR copies",
     "Funded by grant ABC-123 of the Foundation.", "CD19 and CD20 antigens; COVID-19 infection"],
)
def test_components_drugs_false_positives(nlp, text):
    found = drugs(nlp, text)
    assert not (set(found) & {"ESR", "CRP", "IgG", "IL-6", "3/3", "CD19 CARs", "CARs", "CAR", "ABC-123", "CD19", "CD20", "COVID-19"})


def test_components_drugs_library_names_beyond_rules(nlp):
    found = drugs(nlp, "She was given standard dose of Paxlovid and later azacitidine.")
    assert found["Paxlovid"][1]["name"] == "nirmatrelvir/ritonavir"
    assert found["azacitidine"][1]["drugbank_id"]
