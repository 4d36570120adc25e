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
        ("IgA levels dropped from 3.06 g/L", "IgA", "LAB", "IgA"),
        ("the 28-joint disease activity score with erythrocyte sedimentation rate was 5.1",
         "28-joint disease activity score with erythrocyte sedimentation rate", "SCORE", "DAS28-ESR"),
        ("serum levels of immunoglobulins G (IgG), A (IgA), and M (IgM).", "IgM", "LAB", "IgM"),
        ("The number of tender joints decreased", "number of tender joints", "SCORE", "TJC"),
        ("DAS28 scores based on CRP decreased", "DAS28 scores based on CRP", "SCORE", "DAS28-CRP"),
        ("SLEDAI-2K was 14, anti-dsDNA 320 IU/mL, C3 0.52 g/L and C4 0.06 g/L.", "C4", "LAB", "C4"),
        ("neutrophil count 0.4 ×10^9/L", "neutrophil count", "LAB", "neutrophils"),
        ("mild increase of IL-6 level", "IL-6", "LAB", "IL-6"),
        ("with B cell depletion and reconstitution demonstrated at 12 weeks", "B cell", "LAB", "B cells"),
        ("dermatomyositis with anti-Mi-2 antibodies", "anti-Mi-2 antibodies", "LAB", "anti-Mi-2"),
        ("anti-TIF1γ antibodies were positive", "anti-TIF1γ antibodies", "LAB", "anti-TIF1γ"),
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


@pytest.mark.parametrize(
    "text, span, analyte",
    [
        # generic heads and descriptive modifiers are outside the span (GUIDELINES section 0)
        ("C3 levels rose to 0.9 g/L", "C3", "C3"),
        ("anti-dsDNA titers fell", "anti-dsDNA", "anti-dsDNA"),
        ("serum creatinine was 88 µmol/L", "creatinine", "creatinine"),
        ("CK concentrations normalized", "CK", "CK"),
        ("platelet count 95 ×10^9/L", "platelet count", "platelets"),
        # cell types in measured contexts
        ("B cell reconstitution occurred at month 7", "B cell", "B cells"),
        ("after the reappearance of B cells in blood", "B cells", "B cells"),
        ("circulating CD19+ B cells were undetectable", "CD19+ B cells", "CD19+ B cells"),
        ("complete elimination of CD19 B-cells from blood", "CD19 B-cells", "CD19+ B cells"),
    ],
)
def test_components_analytes_span_edges(nlp, text, span, analyte):
    found = analytes(nlp, text)
    assert found.get(span, (None, None))[1] == analyte, found


@pytest.mark.parametrize(
    "text, absent",
    [
        ("B cells play a central role in lupus", "B cells"),
        ("CAR T cells kill B-cells that express CD19", "B-cells"),
        ("CAR T-cells depleting CD19 B cells and secreting antibodies", "CD19 B cells"),
        ("combining cytokine inhibition and B-cell depletion in one product", "B-cell"),
        ("plasma cells may survive despite B-cell depletion with rituximab", "B-cell"),
        ("CD19 CAR T-cells induce deep B-cell depletion and may reset autoimmunity", "B-cell"),
        ("whereby IL-6 inhibition is added", "IL-6"),
        ("incomplete depletion of B cells in the tissues such as bone marrow", "B cells"),
        ("not expressed on early B-cells and plasma cells", "B-cells"),
        ("the CAR construct secretes immunoglobulins against TNFα", "immunoglobulins"),
        ("CAR copies peaked on day 9", "CAR copies"),
        ("CD19 CAR T cell levels peaked at day 10", "CAR T cell levels"),
        ("CAR T-cell expansion was robust", "CAR T-cell expansion"),
    ],
)
def test_components_analytes_not_measured(nlp, text, absent):
    assert absent not in analytes(nlp, text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Effects on tender and swollen joint counts (TJC, SJC).",
         {"tender": ("SCORE", "TJC"), "swollen joint counts": ("SCORE", "SJC")}),
        ("serum levels of immunoglobulins G (IgG), A (IgA), and M (IgM).",
         {"immunoglobulins G": ("LAB", "IgG"), "A": ("LAB", "IgA"), "M": ("LAB", "IgM")}),
        ("complement C3 and C4 were low", {"complement C3": ("LAB", "C3"), "C4": ("LAB", "C4")}),
        ("swollen and tender joint counts decreased", {"swollen": ("SCORE", "SJC"), "tender joint counts": ("SCORE", "TJC")}),
    ],
)
def test_components_analytes_coordinated_ellipsis(nlp, text, expected):
    found = analytes(nlp, text)
    for span, value in expected.items():
        assert found.get(span) == value, found


@pytest.mark.parametrize("text", ["Sex and C-reactive protein were recorded", "A and B cohorts; IgG was 9 g/L"])
def test_components_analytes_no_false_ellipsis(nlp, text):
    found = analytes(nlp, text)
    assert "Sex" not in found and "A" not in found


@pytest.mark.parametrize(("factory", "labels"), [("clinex_scores", {"SCORE"}), ("clinex_labs", {"LAB"}),
                                                 ("clinex_analytes", {"SCORE", "LAB"})])
def test_components_analytes_factories_by_label(factory, labels):
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe(factory)  # through the spacy_factories entry point
    doc = nlp("The DAS28-ESR was 5.1 and the CRP was 12 mg/L.")
    assert {s.label_ for s in doc.spans["clinex"]} == labels
