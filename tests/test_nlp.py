import importlib.util
from pathlib import Path

import pytest

from pipeline.errors import ModelError
from pipeline.nlp import load_nlp, sentence_starts
from pipeline.normalize import normalize

CORPUS = Path(__file__).parent.parent / "corpus"
LABELS = {"DRUG", "SCORE", "LAB", "TIMEPOINT"}


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(ner_model=None)


def run(nlp, text):
    doc = nlp.make_doc(text)
    doc._.clinex_tables = []
    return nlp(doc)


_SEEDS: dict = {}


def seed(nlp, name):
    if name not in _SEEDS:
        _SEEDS[name] = run(nlp, normalize((CORPUS / name).read_text(encoding="utf-8"))[0])
    return _SEEDS[name]


def test_nlp_is_cached(nlp):
    assert load_nlp(ner_model=None) is nlp
    assert nlp.pipe_names[:6] == ["clinex_sentences", "clinex_drugs", "clinex_analytes", "clinex_timepoints",
                                  "clinex_abbreviations", "clinex_entities"]


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("DAS28-ESR was 5.46", ["DAS28-ESR", "was", "5.46"]),
        ("120 mm/h", ["120", "mm/h"]),
        ("methotrexate (3/3)", ["methotrexate", "(", "3/3", ")"]),
        ("peptide (CCP) antibodies", ["peptide", "(", "CCP", ")", "antibodies"]),
        ("to 0.80 g/L.", ["to", "0.80", "g/L", "."]),
        ("IgA was 3.1 mg/dL.", ["IgA", "was", "3.1", "mg/dL", "."]),
    ],
)
def test_nlp_tokenizer(nlp, text, tokens):
    assert [t.text for t in nlp.make_doc(text)] == tokens


@pytest.mark.parametrize(
    "text, n",
    [
        ("As shown in Fig. 1a, it fell. Then it rose.", 2),
        ("Biesemann et al. found that it works. Next.", 2),
        ("Drugs (e.g., rituximab) vs. placebo were given. It was 5.46 at baseline.", 2),
        ("First paragraph\n\nSecond paragraph", 2),
    ],
)
def test_nlp_sentences(nlp, text, n):
    assert len(list(nlp(text).sents)) == n


def test_nlp_sentence_starts_pure():
    assert sentence_starts(["It", "fell", ".", "Then", "rose", "."]) == [True, False, False, True, False, False]


@pytest.mark.parametrize("name", ["eular2025_cart_d2t_ra_case.txt", "li2025_cellres_cart_ra_letter.txt"])
def test_nlp_seed_documents_spans_are_well_formed(nlp, name):
    doc = seed(nlp, name)
    spans = list(doc.spans["clinex"])
    assert spans and {s.label_ for s in spans} == LABELS
    assert [s._.clinex_id for s in spans] == [f"e{i}" for i in range(1, len(spans) + 1)]
    assert [s.start_char for s in spans] == sorted(s.start_char for s in spans)
    for label in LABELS:
        same = [s for s in spans if s.label_ == label]
        assert all(a.end <= b.start for a, b in zip(same, same[1:])), label
    assert all(s._.clinex_source in {"rule", "pattern", "abbreviation", "ner"} for s in spans)


@pytest.mark.parametrize(
    "name, label, text, key, value",
    [
        ("eular2025_cart_d2t_ra_case.txt", "DRUG", "KYV-101", "class", "CAR T-cell therapy"),
        ("eular2025_cart_d2t_ra_case.txt", "DRUG", "CD19 CAR T cell therapy", "target", "CD19"),
        ("eular2025_cart_d2t_ra_case.txt", "SCORE", "DAS28-ESR", "analyte", "DAS28-ESR"),
        ("eular2025_cart_d2t_ra_case.txt", "SCORE", "disease activity score 28-erythrocyte sedimentation rate", "analyte", "DAS28-ESR"),
        ("eular2025_cart_d2t_ra_case.txt", "SCORE", "Functional Assessment of Chronic Illness Therapy – Fatigue Scale", "analyte", "FACIT-F"),
        ("eular2025_cart_d2t_ra_case.txt", "TIMEPOINT", "12- and 35-weeks post-treatment", "values", [12, 35]),
        ("eular2025_cart_d2t_ra_case.txt", "DRUG", "glucocorticoids", "is_class", True),
        ("li2025_cellres_cart_ra_letter.txt", "DRUG", "CD19/aIL-6/aTNFα CAR T-cells", "class", "CAR T-cell therapy"),
        ("li2025_cellres_cart_ra_letter.txt", "SCORE", "number of tender joints", "analyte", "TJC"),
        ("li2025_cellres_cart_ra_letter.txt", "SCORE", "DAS28 scores based on CRP", "analyte", "DAS28-CRP"),
        ("li2025_cellres_cart_ra_letter.txt", "LAB", "IgA", "analyte", "IgA"),
        ("li2025_cellres_cart_ra_letter.txt", "LAB", "anti-cyclic citrullinated peptide (CCP) antibodies", "analyte", "anti-CCP"),
        ("li2025_cellres_cart_ra_letter.txt", "LAB", "CD19+ B cells", "analyte", "CD19+ B cells"),
        ("li2025_cellres_cart_ra_letter.txt", "DRUG", "paxlovid", "name", "nirmatrelvir/ritonavir"),
        ("li2025_cellres_cart_ra_letter.txt", "DRUG", "biological DMARDs", "is_class", True),
        ("li2025_cellres_cart_ra_letter.txt", "TIMEPOINT", "day 60, 90, and 60", "days_list", [60, 90, 60]),
    ],
)
def test_nlp_seed_documents_examples(nlp, name, label, text, key, value):
    doc = seed(nlp, name)
    hits = [s for s in doc.spans["clinex"] if s.label_ == label and s.text == text]
    assert hits, f"{label} {text!r} not found"
    assert hits[0]._.clinex_norm[key] == value


@pytest.mark.parametrize("text", ["ESR", "CRP", "IgG", "IL-6", "3/3", "CD19", "RA"])
def test_nlp_seed_documents_no_drug_false_positives(nlp, text):
    doc = seed(nlp, "li2025_cellres_cart_ra_letter.txt")
    assert not [s for s in doc.spans["clinex"] if s.label_ == "DRUG" and s.text == text]


def test_nlp_publication_dates_and_grants_are_not_entities(nlp):
    doc = seed(nlp, "li2025_cellres_cart_ra_letter.txt")
    texts = {s.text for s in doc.spans["clinex"]}
    assert not any("2024" in t or "AHWJ" in t or "2023KY" in t for t in texts)


def test_nlp_default_model_missing_raises_model_error(monkeypatch, tmp_path):
    import pipeline.components.ner
    import pipeline.nlp

    monkeypatch.setattr(pipeline.components.ner, "DEFAULT_MODEL_DIR", tmp_path / "clinex_ner")
    with pytest.raises(ModelError) as info:
        pipeline.nlp.build_nlp(ner_model="default")
    assert "clinex_ner" in str(info.value) and info.value.code == "E300"


def test_nlp_unknown_model_raises_model_error():
    with pytest.raises(ModelError):
        load_nlp(ner_model="no_such_model_package_xyz")


@pytest.mark.skipif(importlib.util.find_spec("en_ner_bc5cdr_md") is None, reason="en_ner_bc5cdr_md not installed")
def test_nlp_scispacy_model_when_installed():
    nlp = load_nlp(ner_model="en_ner_bc5cdr_md")
    assert "clinex_ner" in nlp.pipe_names and "clinex_ner_drugs" in nlp.pipe_names
    doc = nlp("The patient was treated with methotrexate and zorbilimab.")
    assert any(s.label_ == "DRUG" for s in doc.spans["clinex"])


def test_nlp_default_model_when_shipped():
    nlp = load_nlp(ner_model="default")
    assert nlp.pipe_names[:2] == ["clinex_sentences", "clinex_ner"] and "clinex_ner_drugs" in nlp.pipe_names


def _reference_tokenizer():
    """The tokenizer built the plain way: scispaCy's recipe on a blank pipeline, suffix and "=" infix rules added after."""
    import re
    import warnings

    import spacy
    from scispacy.custom_tokenizer import combined_rule_tokenizer
    from spacy.lang import char_classes

    blank = spacy.blank("en")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        tok = combined_rule_tokenizer(blank)
        extra = r"(?<=[/{al}][{au}])\.$".format(al=char_classes.ALPHA_LOWER, au=char_classes.ALPHA_UPPER)
        tok.suffix_search = re.compile(f"{extra}|{tok.suffix_search.__self__.pattern}").search
        infix = r"(?<=[A-Za-z0-9)\]])=(?=[0-9<>≤≥(.])"
        tok.infix_finditer = re.compile(f"{infix}|{tok.infix_finditer.__self__.pattern}").finditer
    return tok


def test_nlp_tokenizer_built_once_matches_scispacy_recipe(nlp):
    ref = _reference_tokenizer()
    assert nlp.tokenizer.rules == ref.rules
    assert nlp.tokenizer.suffix_search.__self__.pattern == ref.suffix_search.__self__.pattern
    assert nlp.tokenizer.prefix_search.__self__.pattern == ref.prefix_search.__self__.pattern
    assert nlp.tokenizer.infix_finditer.__self__.pattern == ref.infix_finditer.__self__.pattern
    assert nlp.tokenizer.token_match is ref.token_match and nlp.tokenizer.url_match is ref.url_match
    for path in sorted(CORPUS.glob("*.txt")):
        text = normalize(path.read_text(encoding="utf-8"))[0]
        assert [t.text for t in nlp.make_doc(text)] == [t.text for t in ref(text)]


def test_nlp_default_model_uses_clinex_tokenizer():
    nlp = load_nlp(ner_model="default")
    assert nlp.config["nlp"]["tokenizer"] == {"@tokenizers": "clinex_tokenizer.v1"}
    assert [t.text for t in nlp.make_doc("to 0.80 g/L.")] == ["to", "0.80", "g/L", "."]
    assert [t.text for t in nlp.make_doc("SDAI=12.3")] == ["SDAI", "=", "12.3"]
