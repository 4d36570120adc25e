"""The helpers shared by the components: the per-Doc text cache and token texts."""
import pytest
import spacy

from pipeline.components import TEXT_KEY, VIEWS_KEY, doc_text, forget_text, token_texts
from pipeline.lexicon import text_views
from pipeline.nlp import load_nlp


@pytest.fixture(scope="module")
def blank():
    return spacy.blank("en")


@pytest.mark.parametrize("text", ["", "CRP 5 mg/L", "post-CAR T-cell infusion.\n\nDay 3:  IgG  fell", "ΑΣ ends İ"])
def test_doc_text_equals_doc_text_and_is_reused(blank, text):
    doc = blank(text)
    assert doc_text(doc) == doc.text
    assert doc_text(doc) is doc_text(doc)
    assert token_texts(doc) == [t.text for t in doc]


def test_doc_text_survives_retokenizing():
    doc = load_nlp(ner_model=None).make_doc("24 weeks post-CAR T-cell infusion")
    first = doc_text(doc)
    token = next(t for t in doc if t.text == "post-CAR")
    with doc.retokenize() as retokenizer:
        retokenizer.split(token, ["post-", "CAR"], heads=[(token, 1), (token, 1)])
    assert doc_text(doc) is first and first == doc.text
    assert token_texts(doc) == [t.text for t in doc]


def test_doc_text_is_not_trusted_on_another_doc(blank):
    doc = blank("IgG 6.1 g/L")
    doc_text(doc)
    other = blank("CRP fell to 3 mg/L at week 12")
    other.user_data[TEXT_KEY] = doc.user_data[TEXT_KEY]  # as Span.as_doc(copy_user_data=True) would
    assert doc_text(other) == other.text
    copy = doc.copy()
    assert doc_text(copy) == copy.text


def test_forget_text_drops_the_cached_views(blank):
    doc = blank("Day 3:  IgG fell")
    text, lower, odd = text_views(doc)
    assert (text, lower) == (doc.text, doc.text.lower()) and odd  # the double space needs term_key
    assert text_views(doc)[2] is odd
    forget_text(doc)
    assert TEXT_KEY not in doc.user_data and VIEWS_KEY not in doc.user_data
