import pytest

from pipeline.components.analytes import has_cue, lookup_analyte
from pipeline.nlp import load_nlp


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(ner_model=None)


def analytes(nlp, text):
    doc = nlp(text)
    return {s.text: (s.label_, s._.clinex_norm["analyte"]) for s in doc.spans["clinex"] if s.label_ in ("SCORE", "LAB")}


@pytest.mark.parametrize(
    "text, label, analyte",
    [
        ("DAS28-CRP", "SCORE", "DAS28-CRP"),
        ("clinical disease activity index", "SCORE", "CDAI"),
        ("tender joint count", "SCORE", "TJC"),
        ("Health Assessment Questionnaire Disability Index", "SCORE", "HAQ-DI"),
        ("SLEDAI-2K", "SCORE", "SLEDAI-2K"),
        ("modified Rodnan skin score", "SCORE", "mRSS"),
        ("MG-ADL", "SCORE", "MG-ADL"),
        ("erythrocyte sedimentation rate", "LAB", "ESR"),
        ("C-reactive protein", "LAB", "CRP"),
        ("anti-dsDNA", "LAB", "anti-dsDNA"),
        ("lactate dehydrogenase", "LAB", "LDH"),
        ("creatine kinase", "LAB", "CK"),
        ("haemoglobin", "LAB", "hemoglobin"),
        ("C3", "LAB", "C3"),
    ],
)
def test_components_analytes_lookup(text, label, analyte):
    info = lookup_analyte(text)
    assert info is not None and (info.label, info.analyte) == (label, analyte)


@pytest.mark.parametrize(
    "text, span, label, analyte",
    [
        ("IgA levels dropped from 3.06 g/L", "IgA levels", "LAB", "IgA"),
        ("the 28-joint disease activity score with erythrocyte sedimentation rate was 5.1",
         "28-joint disease activity score with erythrocyte sedimentation rate", "SCORE", "DAS28-ESR"),
        ("serum levels of immunoglobulins G (IgG), A (IgA), and M (IgM).", "IgM", "LAB", "IgM"),
        ("The number of tender joints decreased", "number of tender joints", "SCORE", "TJC"),
        ("DAS28 scores based on CRP decreased", "DAS28 scores based on CRP", "SCORE", "DAS28-CRP"),
        ("SLEDAI-2K was 14, anti-dsDNA 320 IU/mL, C3 0.52 g/L and C4 0.06 g/L.", "C4", "LAB", "C4"),
        ("neutrophil count 0.4 ×10^9/L", "neutrophil count", "LAB", "neutrophils"),
        ("mild increase of IL-6 level", "IL-6 level", "LAB", "IL-6"),
    ],
)
def test_components_analytes_in_text(nlp, text, span, label, analyte):
    assert analytes(nlp, text)[span] == (label, analyte)


@pytest.mark.parametrize(
    "text, absent",
    [
        ("antibodies against IL-6 and TNFα were secreted", "IL-6"),
        ("inhibiting TNFα and IL-6 in combination", "TNFα"),
        ("disease activity score 28-erythrocyte sedimentation rate (DAS28-ESR)", "sedimentation rate"),
    ],
)
def test_components_analytes_cytokines_need_measure_cue(nlp, text, absent):
    assert absent not in analytes(nlp, text)


def test_components_analytes_cue_window():
    assert has_cue("serum IL-6 was high", 6, 10)
    assert not has_cue("antibodies against IL-6 and", 19, 23)
