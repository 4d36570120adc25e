"""``clinex_abbreviations``: candidate parentheses and definitions, as scispaCy finds them."""
import pytest
from scispacy.abbreviation import filter_matches

from pipeline.components.abbreviations import find_definitions, parenthesized
from pipeline.nlp import load_nlp

TEXTS = [
    "Lactate dehydrogenase (LDH) rose. LDH then fell; the LDH peak (day 7) was 480 U/L.",
    "Rituximab (RTX) and methotrexate (MTX) were stopped; RTX was restarted (after MTX).",
    "Tender joint count (TJC) and swollen joint count (SJC) improved. TJC 0, SJC 0 (TJC) at week 12.",
    "No definitions here (none at all).",
    "Erythrocyte sedimentation rate (ESR) ((nested)) and ESR again.\n\n(An open paren ESR",
]


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(ner_model=None)


def _plain(found):
    return {(long.start, long.end): sorted((s.start, s.end) for s in shorts) for long, shorts in found}


@pytest.mark.filterwarnings("ignore:.*W036")  # scispaCy's matcher, empty when a text defines nothing
@pytest.mark.parametrize("text", TEXTS)
def test_find_definitions_equals_scispacy(nlp, text):
    doc = nlp(text)
    filtered = filter_matches(parenthesized(doc), doc)
    detector = nlp.get_pipe("clinex_abbreviations").detector
    assert _plain(find_definitions(filtered, doc)) == _plain(detector.find_matches_for(filtered, doc))


def test_find_definitions_finds_later_short_forms(nlp):
    doc = nlp(TEXTS[0])
    found = _plain(find_definitions(filter_matches(parenthesized(doc), doc), doc))
    (long, shorts), = found.items()
    assert doc[long[0]:long[1]].text == "Lactate dehydrogenase"
    assert [doc[a:b].text for a, b in shorts] == ["LDH", "LDH", "LDH"]


def test_parenthesized_stops_at_paragraph_breaks(nlp):
    doc = nlp.make_doc("Alpha (beta\n\ngamma) delta (CRP)")
    assert [doc[s:e].text for _, s, e in parenthesized(doc)] == ["CRP"]
