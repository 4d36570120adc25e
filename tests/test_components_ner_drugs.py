from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span

from pipeline.components.entities import candidate_info
from pipeline.components.ner_drugs import is_drug_candidate
from pipeline.lexicon import excluded_terms
from pipeline.nlp import load_nlp
from pipeline.normalize import normalize

CORPUS = Path(__file__).parent.parent / "corpus"


@pytest.mark.parametrize(
    "text, ok",
    [("zorbilimab", True), ("ESR", False), ("CRP", False), ("IgG", False), ("IL-6", False), ("3/3", False),
     ("x", False), ("mg/dL", False), ("antibodies", False), ("12.5", False), ("Paxlovid", True)],
)
def test_components_ner_drugs_filter(text, ok):
    assert is_drug_candidate(text, excluded_terms()) is ok


def test_components_ner_drugs_component_with_stub_ner():
    """A stub NER (an entity ruler tagging CHEMICAL) stands in for the trained model."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "CHEMICAL", "pattern": p} for p in ["zorbilimab", "ESR", "methotrexate", "Paxlovid"]])
    nlp.add_pipe("clinex_drugs", config={"stems": False})
    nlp.add_pipe("clinex_ner_drugs")
    doc = nlp("methotrexate, zorbilimab and Paxlovid; ESR fell.")
    by_text = {s.text: candidate_info(s) for s in doc.spans["clinex"] if s.label_ == "DRUG"}
    assert by_text["zorbilimab"][0] == "ner"
    assert by_text["methotrexate"][0] == "rule"  # covered by the lexicon, not duplicated
    assert "ESR" not in by_text
    assert isinstance(doc[0:1], Span)


@pytest.mark.parametrize(
    "text, name, ok",
    [
        ("The patient was treated with Zemblix daily.", "Zemblix", True),
        ("She received the standard dovamide regimen.", "dovamide", True),
        ("Vexorin was added at week 4.", "Vexorin", True),
        ("Pretreatment with Zemblix blunted the rise.", "Zemblix", True),
        ("She took an overdose of dovamide.", "dovamide", True),
        ("Vexorin was restarted later; she restarted Zemblix.", "Zemblix", True),
        ("The untreated Zemblix arm.", "Zemblix", False),
        ("University of Science and Technology of China (2023KY-379)", "China", False),
        ("packed in one therapeutic cellular machine", "machine", False),
    ],
)
def test_components_ner_drugs_treatment_context(text, name, ok):
    from pipeline.components.ner_drugs import in_treatment_context

    start = text.index(name)
    assert in_treatment_context(text, start, start + len(name)) is ok


def test_components_ner_drugs_with_shipped_model():
    nlp = load_nlp(ner_model="default")
    doc = nlp("The patient was treated with tralfenovir and later given Zemblix. Vexorin was added at week 4.")
    found = {s.text: s._.clinex_source for s in doc.spans["clinex"] if s.label_ == "DRUG"}
    assert found.get("Zemblix") == "ner" and found.get("Vexorin") == "ner"
    assert found.get("tralfenovir") in ("pattern", "ner")


@pytest.mark.parametrize("name", ["eular2025_cart_d2t_ra_case.txt", "li2025_cellres_cart_ra_letter.txt"])
def test_components_ner_drugs_no_false_positives_on_seeds(name):
    nlp = load_nlp(ner_model="default")
    text = normalize((CORPUS / name).read_text(encoding="utf-8"))[0]
    doc = nlp(text)
    assert [s.text for s in doc.spans["clinex"] if s._.clinex_source == "ner"] == []
