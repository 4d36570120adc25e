import re
from pathlib import Path

import pytest
import spacy

from pipeline.components.ner import NerTagger, batches, cue_sentences
from pipeline.errors import ModelError
from pipeline.nlp import MAX_TEXT_CHARS, build_nlp, load_nlp
from pipeline.normalize import normalize

CORPUS = Path(__file__).parent.parent / "corpus"


def _sentences(text: str) -> tuple[list[int], list[int]]:
    """Sentence bounds of a text whose sentences end with ". " or a line break."""
    starts, ends = [0], []
    for m in re.finditer(r"\. |\n", text):
        ends.append(m.start() + (m.group() != "\n"))
        starts.append(m.end())
    ends.append(len(text))
    return starts, ends


@pytest.mark.parametrize(
    "text, chosen",
    [
        ("ESR was 52 mm/h. She was treated with Zemblix. CRP fell. It rose", [1]),
        ("Zemblix was added at week 4. CRP fell. It rose", [0]),
        ("No cue here. Nor here. The patient was seen weekly", []),
        ("A dose of Zemblix. Two infusions of Vexorin. It rose", [0, 1]),
        ("Therapy was paused. The drug was stopped. It rose", [1]),
        ("She was treated with\nZemblix and more. It rose", [0, 1]),  # a line break splits the cue from its drug
        ("She was treated with the new\nZemblix. It rose", [0, 1]),
        ("He was seen. Zemblix\nwas added. It rose", [1, 2]),
        ("She received it. Zemblix then. It rose", [0]),  # a sentence end stops the cue's reach
    ],
)
def test_components_ner_cue_sentences(text, chosen):
    starts, ends = _sentences(text)
    assert cue_sentences(text, starts, ends) == chosen


@pytest.mark.parametrize(
    "lengths, max_tokens, groups",
    [
        ([3, 3, 3], 6, [[3, 3], [3]]),
        ([10, 2], 5, [[10], [2]]),
        ([1, 1, 1], 100, [[1, 1, 1]]),
        ([], 5, []),
    ],
)
def test_components_ner_batches(lengths, max_tokens, groups):
    sents, pos = [], 0
    for n in lengths:
        sents.append((pos, pos + n))
        pos += n
    assert [[end - start for start, end in g] for g in batches(sents, max_tokens)] == groups


@pytest.fixture(scope="module")
def tagger_nlp():
    return load_nlp(ner_model="default")


def test_components_ner_tags_only_treatment_sentences(tagger_nlp):
    doc = tagger_nlp("Aspirin is cheap. The patient was treated with tralfenovir and later given Zemblix.")
    assert {e.text for e in doc.ents} >= {"Zemblix"}
    assert all(e.start_char > 18 for e in doc.ents)  # the first sentence has no treatment cue


def test_components_ner_scope_all_tags_every_sentence():
    nlp = spacy.blank("en")
    nlp.add_pipe("clinex_sentences")
    nlp.add_pipe("clinex_ner", config={"scope": "all"})
    doc = nlp("Aspirin and ibuprofen are cheap. The patient was treated with Zemblix.")
    assert "Aspirin" in {e.text for e in doc.ents}


def test_components_ner_rejects_unknown_scope():
    with pytest.raises(ModelError, match="scope"):
        NerTagger(spacy.blank("en"), scope="some")


def test_components_ner_chunked_equals_whole():
    """Tagging a seed in batches of 300 tokens gives the spans and measurements one batch gives; the raw
    entities may differ only where a batch boundary cuts the NER's context."""
    assert load_nlp(ner_model="default").max_length == MAX_TEXT_CHARS
    text = normalize((CORPUS / "li2025_cellres_cart_ra_letter.txt").read_text(encoding="utf-8"))[0]
    ents, results = [], []
    for chunk_tokens in (300, 1_000_000):
        nlp = build_nlp(ner_model="default")
        nlp.get_pipe("clinex_ner").scope = "all"
        nlp.get_pipe("clinex_ner").chunk_tokens = chunk_tokens
        doc = nlp(text)
        ents.append({(e.start_char, e.end_char, e.label_) for e in doc.ents})
        results.append(([(s.start_char, s.end_char, s.label_) for s in doc.spans["clinex"]],
                        len(doc._.clinex_measurements)))
    assert len(ents[1]) > 20 and len(ents[0] ^ ents[1]) <= len(ents[1]) // 50
    assert results[0] == results[1]


# invented agents the drug lexicon and the INN stems do not know: only the NER finds them
UNLISTED = ("A 41-year-old woman with refractory lupus nephritis was treated with Zemblix 200 mg daily. After 2 weeks, "
            "Vexorin was added. Her ESR fell from 60 to 20 mm/h at week 12. Pretreatment with Korvanta had failed, and "
            "an earlier overdose of Plimorex was reported. She later received\nTaldrix infusions.")


def test_components_ner_treatment_scope_finds_the_drugs_full_tagging_finds():
    """Tagging only the sentences near a treatment cue loses no DRUG span that tagging every sentence
    finds (clinex_ner_drugs keeps no NER entity elsewhere), on the shipped documents and fixtures and on
    a paragraph whose agents only the NER knows."""
    from pipeline.bench import ner_scope_agreement

    root = Path(__file__).parent
    paths = (sorted(CORPUS.glob("*.txt")) + sorted((root / "fixtures" / "generalization").glob("*.txt"))
             + sorted((root / "fixtures" / "generalization").glob("*.md")) + sorted((root / "fixtures" / "text").glob("*.txt")))
    texts = [normalize(p.read_text(encoding="utf-8"))[0] for p in paths] + [UNLISTED]
    counts = ner_scope_agreement(texts)
    assert counts["documents"] == len(paths) + 1 >= 8 and counts["drug_spans_all"] > 50
    assert counts["only_all"] == 0
    assert ner_scope_agreement([UNLISTED])["drug_spans_treatment"] == 5


def test_components_ner_without_cues_tags_nothing(monkeypatch):
    """The check above can fail: with no sentence chosen, the NER's drugs are lost."""
    import regex

    import pipeline.components.ner
    from pipeline.bench import ner_scope_agreement

    monkeypatch.setattr(pipeline.components.ner, "TREATMENT_CUE", regex.compile(r"(?!x)x"))
    assert ner_scope_agreement([UNLISTED])["only_all"] == 5
