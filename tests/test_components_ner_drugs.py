import pytest
import spacy
from spacy.tokens import Span

from pipeline.components.entities import candidate_info
from pipeline.components.ner_drugs import is_drug_candidate
from pipeline.lexicon import excluded_terms


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
