import spacy
import pytest

from pipeline.components.abbreviations import best_entity, overlap_score
from pipeline.components.entities import add_candidate, candidate_info, resolve_overlaps
from pipeline.nlp import load_nlp


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(ner_model=None)


def test_components_entities_longest_wins_then_source():
    nlp = spacy.blank("en")
    doc = nlp("CD19 CAR T cell therapy and ESR")
    add_candidate(doc, doc[1:4], "DRUG", "pattern", {"name": "short"})
    add_candidate(doc, doc[0:5], "DRUG", "ner", {"name": "long"})
    add_candidate(doc, doc[6:7], "LAB", "ner", {"analyte": "ESR"})
    add_candidate(doc, doc[6:7], "LAB", "rule", {"analyte": "dup"})  # same offsets+label: ignored
    kept = resolve_overlaps(doc.spans["clinex"])
    assert [(s.text, candidate_info(s)[1]) for s in kept] == [("CD19 CAR T cell therapy", {"name": "long"}),
                                                             ("ESR", {"analyte": "ESR"})]


def test_components_entities_same_length_rule_beats_ner():
    nlp = spacy.blank("en")
    doc = nlp("foo bar baz")
    add_candidate(doc, doc[0:2], "DRUG", "ner", {"name": "n"})
    add_candidate(doc, doc[1:3], "DRUG", "rule", {"name": "r"})
    assert [s.text for s in resolve_overlaps(doc.spans["clinex"])] == ["bar baz"]


def test_components_entities_ids_and_extensions(nlp):
    doc = nlp("Rituximab (RTX) lowered ESR at week 12; RTX was stopped.")
    spans = list(doc.spans["clinex"])
    assert [s._.clinex_id for s in spans] == [f"e{i}" for i in range(1, len(spans) + 1)]
    assert all(isinstance(s._.clinex_norm, dict) and s._.clinex_source for s in spans)


@pytest.mark.parametrize(
    "a, b, score",
    [((0, 10), (0, 10), 1.0), ((0, 10), (0, 5), 0.5), ((0, 10), (5, 15), 0.0)],
)
def test_components_abbreviations_overlap(a, b, score):
    assert overlap_score(a, b) == score


@pytest.mark.parametrize(
    "text, short, label, key, value",
    [
        ("Patients got rituximab (RTX). Later RTX was repeated.", "RTX", "DRUG", "name", "rituximab"),
        ("Serum lactate dehydrogenase (LDH) was high; LDH then fell.", "LDH", "LAB", "analyte", "LDH"),
        ("Robust decrease of anti-cyclic citrullinated peptide (CCP) antibodies; CCP fell further.", "CCP", "LAB", "analyte", "anti-CCP"),
        ("We used the zorbilimab (ZBM) regimen; ZBM was well tolerated.", "ZBM", "DRUG", "name", "zorbilimab"),
    ],
)
def test_components_abbreviations_propagate(nlp, text, short, label, key, value):
    doc = nlp(text)
    later = [s for s in doc.spans["clinex"] if s.text == short and s.start_char > text.index(")")]
    assert later and later[0].label_ == label and later[0]._.clinex_norm[key] == value
    assert later[0]._.clinex_source in ("abbreviation", "rule")


def test_components_abbreviations_do_not_spread_partial_matches(nlp):
    doc = nlp("CD19-targeted chimeric antigen receptor (CAR) T-cells. The CAR construct was new.")
    assert not [s for s in doc.spans["clinex"] if s.text == "CAR"]


def test_components_abbreviations_best_entity_threshold():
    nlp = spacy.blank("en")
    doc = nlp("chimeric antigen receptor (CAR) T-cells")
    assert best_entity((0, 25), [doc[:]]) is None
    assert best_entity((0, 25), [doc[0:3]]).text == "chimeric antigen receptor"
