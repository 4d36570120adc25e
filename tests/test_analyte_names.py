import pytest

from pipeline.analyte_names import analyte_key, fold


@pytest.mark.parametrize("name,folded", [
    ("Haemoglobin", "hemoglobin"), ("anti-Ro/SSA", "antiro/ssa"), ("TNFα", "tnfa"), ("IFN-γ", "ifng"),
    ("Oesophageal", "esophageal"), ("C 3", "c3"), ("(CRP)", "crp"),
])
def test_fold(name, folded):
    assert fold(name) == folded


@pytest.mark.parametrize("a,b", [
    ("Hemoglobin", "haemoglobin"), ("CRP", "C-reactive protein"), ("ESR", "erythrocyte sedimentation rate"),
    ("DAS28-ESR", "das28 esr"), ("lipase", "Lipase"),
])
def test_analyte_key_equal(a, b):
    assert analyte_key(a) == analyte_key(b)


@pytest.mark.parametrize("a,b", [("C3", "C4"), ("IgG", "IgG4"), ("lipase", "amylase"), ("DAS28-ESR", "DAS28-CRP")])
def test_analyte_key_different(a, b):
    assert analyte_key(a) != analyte_key(b)


def test_analyte_key_empty():
    assert analyte_key(None) == analyte_key("") == ""
