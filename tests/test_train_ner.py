"""Tests of pipeline/train_ner.py and of the shipped NER at pipeline/models/clinex_ner/."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import train_ner as tn
from pipeline.errors import InputError

FIXTURE = Path(__file__).parent / "fixtures" / "ner"
SHIPPED = Path(tn.__file__).parent / "models" / "clinex_ner"


@pytest.fixture(scope="session")
def scispacy_nlp():
    return tn.make_nlp()


@pytest.fixture(scope="session")
def shipped_nlp():
    import spacy

    return spacy.load(SHIPPED)


# ------------------------------------------------------------- IOB conversion


@pytest.mark.parametrize("tag,expected", [
    ("O", "O"),
    ("B-Chemical", "B-CHEMICAL"),
    ("I-Disease", "I-DISEASE"),
    ("B-Gene", "B-GENE"),
])
def test_train_ner_normalize_tag(tag, expected):
    assert tn.normalize_tag(tag) == expected


@pytest.mark.parametrize("tag", ["X-Chemical", "Chemical", "B"])
def test_train_ner_normalize_tag_rejects(tag):
    with pytest.raises(ValueError):
        tn.normalize_tag(tag)


@pytest.mark.parametrize("tags,spans", [
    (["O", "O"], []),
    (["B-CHEMICAL", "O"], [(0, 1, "CHEMICAL")]),
    (["B-CHEMICAL", "I-CHEMICAL", "I-CHEMICAL"], [(0, 3, "CHEMICAL")]),
    (["B-CHEMICAL", "B-CHEMICAL"], [(0, 1, "CHEMICAL"), (1, 2, "CHEMICAL")]),
    (["O", "I-DISEASE", "I-DISEASE"], [(1, 3, "DISEASE")]),  # stray I- opens a span
    (["B-CHEMICAL", "I-DISEASE"], [(0, 1, "CHEMICAL"), (1, 2, "DISEASE")]),
])
def test_train_ner_iob_to_spans(tags, spans):
    assert tn.iob_to_spans(tags) == spans
    if all(not t.startswith("I-") or i and tags[i - 1][2:] == t[2:] for i, t in enumerate(tags)):
        assert tn.spans_to_iob(len(tags), spans) == tuple(tags)


@pytest.mark.parametrize("lines,n_sents,first", [
    (["a\tO", "b\tB-Chemical", "", "c\tO"], 2, (("a", "b"), ("O", "B-CHEMICAL"))),
    (["", "", "a\tB-Disease", "b\tI-Disease", "", ""], 1, (("a", "b"), ("B-DISEASE", "I-DISEASE"))),
    ([], 0, None),
])
def test_train_ner_parse_iob(lines, n_sents, first):
    sents = tn.parse_iob(lines)
    assert len(sents) == n_sents
    if first:
        assert (sents[0].words, sents[0].tags) == first


@pytest.mark.parametrize("line", ["a\tO\tO", "a\tX-Chemical", "\tO", "a"])
def test_train_ner_parse_iob_errors_name_line(line):
    with pytest.raises(InputError, match="line 2"):
        tn.parse_iob(["ok\tO", line], path="x.tsv")


def test_train_ner_merge_fixture_two_labels():
    corpus, dropped = tn.load_corpus(FIXTURE)
    assert {k: len(v) for k, v in corpus.items()} == {"train": 4, "devel": 2, "test": 2}
    assert dropped == {"train": 0, "devel": 0, "test": 0}
    spans = [tn.iob_to_spans(s.tags) for s in corpus["train"]]
    assert spans[0] == [(0, 1, "CHEMICAL"), (4, 6, "DISEASE")]
    assert spans[2] == [(3, 6, "CHEMICAL"), (8, 9, "DISEASE")]
    chem_only, _ = tn.load_corpus(FIXTURE, include_disease=False)
    assert tn.iob_to_spans(chem_only["train"][0].tags) == [(0, 1, "CHEMICAL")]


def test_train_ner_merge_drops_overlaps_and_checks_tokens():
    a = [tn.Sentence(("x", "y"), ("B-CHEMICAL", "O"))]
    b = [tn.Sentence(("x", "y"), ("B-DISEASE", "I-DISEASE"))]
    merged, dropped = tn.merge_iob(a, b)
    assert merged[0].tags == ("B-CHEMICAL", "O") and dropped == 1
    with pytest.raises(InputError):
        tn.merge_iob(a, [tn.Sentence(("x", "z"), ("O", "O"))])


# ---------------------------------------------------- detokenizing, tokenizer


@pytest.mark.parametrize("words,text", [
    (["Methotrexate", "-", "induced", "hepatotoxicity", "."], "Methotrexate-induced hepatotoxicity."),
    (["20", "U", "/", "mL", "(", "range", ")", ","], "20 U/mL (range),"),
    (["Parkinson", "'", "s", "disease"], "Parkinson's disease"),
    (["one"], "one"),
])
def test_train_ner_detokenize(words, text):
    assert tn.detokenize(words) == text


def test_train_ner_sentence_to_doc_keeps_words_and_spans(scispacy_nlp):
    sent = tn.load_corpus(FIXTURE)[0]["train"][2]
    doc = tn.sentence_to_doc(scispacy_nlp.vocab, sent)
    assert [t.text for t in doc] == list(sent.words)
    assert [(e.text, e.label_) for e in doc.ents] == [("5-FU", "CHEMICAL"), ("neutropenia", "DISEASE")]


def test_train_ner_retokenize_marks_unreachable_mentions_missing(scispacy_nlp):
    corpus = tn.load_corpus(FIXTURE)[0]["train"]
    doc, n_missing = tn.retokenize(scispacy_nlp.vocab, corpus[1], scispacy_nlp.tokenizer)
    # scispaCy keeps "Methotrexate-induced" as one token: the mention is unreachable
    assert doc[0].text == "Methotrexate-induced" and doc[0].ent_iob_ == "" and n_missing == 1
    assert [(e.text, e.label_) for e in doc.ents] == [("hepatotoxicity", "DISEASE"), ("folic acid", "CHEMICAL")]
    doc, n_missing = tn.retokenize(scispacy_nlp.vocab, corpus[2], scispacy_nlp.tokenizer)
    assert [(e.text, e.label_) for e in doc.ents] == [("5-FU", "CHEMICAL"), ("neutropenia", "DISEASE")]
    assert n_missing == 0 and all(t.ent_iob_ for t in doc)


def test_train_ner_tokenization_agreement_counts(scispacy_nlp):
    corpus = tn.load_corpus(FIXTURE)[0]["train"]
    agree = tn.tokenization_agreement(corpus, scispacy_nlp.tokenizer)
    assert agree["sentences"] == 4 and agree["mentions"] == 7
    assert agree["sentences_identical"] == 0.25  # only the tocilizumab sentence
    assert agree["mentions_misaligned"] == round(1 / 7, 4)


# -------------------------------------------------------------- augmentation


NAMES = ["iguratimod", "upadacitinib", "hydroxychloroquine sulfate", "anti-thymocyte globulin"]


@pytest.mark.parametrize("ratio,expected", [(0, 0), (1, 3), (2, 6)])
def test_train_ner_augment_copy_count(ratio, expected):
    corpus = tn.load_corpus(FIXTURE)[0]["train"]  # 3 of 4 sentences have a chemical
    assert len(tn.augment(corpus, NAMES, ratio=ratio, seed=1)) == expected


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_train_ner_augment_keeps_spans_aligned(seed):
    corpus = tn.load_corpus(FIXTURE)[0]["train"]
    split_names = {tuple(tn._split_name(n)) for n in NAMES}
    for orig, new in zip([s for s in corpus if "B-CHEMICAL" in s.tags], tn.augment(corpus, NAMES, seed=seed)):
        assert len(new.words) == len(new.tags)
        old_spans, new_spans = tn.iob_to_spans(orig.tags), tn.iob_to_spans(new.tags)
        assert [lab for *_, lab in old_spans] == [lab for *_, lab in new_spans]
        for (a, b, lab), (c, d, _) in zip(old_spans, new_spans):
            if lab == "CHEMICAL":
                assert tuple(w.lower() for w in new.words[c:d]) in split_names
            else:
                assert new.words[c:d] == orig.words[a:b]
        # text outside mentions is unchanged
        outside = [[w for w, t in zip(s.words, s.tags) if t == "O"] for s in (orig, new)]
        assert outside[0] == outside[1]


def test_train_ner_augment_never_uses_heldout_names():
    corpus = tn.load_corpus(FIXTURE)[0]
    names = NAMES + ["Methotrexate", "tocilizumab", "cyclophosphamide", "fludarabine", "leflunomide", "pred-nisone"]
    kept = tn.augmentation_names(names, corpus["devel"] + corpus["test"])
    assert kept == NAMES + ["Methotrexate"]  # in train only: allowed
    words = {w.lower() for s in tn.augment(corpus["train"], kept, ratio=5, seed=0) for w in s.words}
    assert not words & {"tocilizumab", "cyclophosphamide", "fludarabine", "leflunomide", "prednisone"}


@pytest.mark.parametrize("name,original,expected", [
    ("iguratimod", "Leflunomide", "Iguratimod"),
    ("iguratimod", "leflunomide", "iguratimod"),
    ("iguratimod", "MTX", "iguratimod"),
    ("iguratimod", "A", "iguratimod"),
    ("iguratimod", "5-FU", "iguratimod"),
])
def test_train_ner_match_case(name, original, expected):
    assert tn.match_case(name, original) == expected


def test_train_ner_drug_names_are_plain_drugs():
    names = tn.load_drug_names()
    assert len(names) > 10000 and names == sorted(names)
    assert {"methotrexate", "tocilizumab", "leflunomide"} <= set(names)
    assert all(n == n.lower() and len(n.split()) <= 3 for n in names)


# ------------------------------------------------------------------ training


def test_train_ner_smoke_train(tmp_path):
    out = tmp_path / "model"
    metrics = tn.train_ner(FIXTURE, out, max_steps=2, eval_frequency=1, patience=0, speed_words=50,
                           work_dir=tmp_path / "work")
    assert set(metrics["test"]) >= {"p", "r", "f", "per_type"}
    assert metrics["train"]["sentences"] == 4 and metrics["train"]["augmented_sentences"] == 3
    assert metrics["train"]["docs"] == 4 + 3 + 4  # IOB, augmented, run-time tokens
    meta = json.loads((out / "meta.json").read_text())
    assert meta["performance"]["size_mb"] == metrics["size_mb"] > 0
    assert (out / "training.cfg").is_file()
    assert not list(tmp_path.glob(".clinex-tmp-*"))
    # loads from another directory with scispaCy's tokenizer
    code = ("import spacy, sys; nlp = spacy.load(sys.argv[1]); "
            "print('|'.join(t.text for t in nlp.make_doc('5-FU 10 mg/kg, methotrexate-induced')))")
    res = subprocess.run([sys.executable, "-c", code, str(out)], cwd=tmp_path, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert res.stdout.strip() == "5-FU|10|mg/kg|,|methotrexate-induced"


# ------------------------------------------------------------- shipped model


def test_train_ner_shipped_model_meta():
    meta = json.loads((SHIPPED / "meta.json").read_text())
    perf = meta["performance"]
    assert meta["name"] == "clinex_ner" and meta["pipeline"] == ["tok2vec", "ner"]
    assert set(meta["labels"]["ner"]) == {"CHEMICAL", "DISEASE"}
    assert perf["test"]["per_type"]["CHEMICAL"]["f"] >= 0.8
    assert perf["size_mb"] <= 25


def test_train_ner_shipped_model_uses_scispacy_tokenizer(shipped_nlp, scispacy_nlp):
    text = "Anti-CCP fell to 20 U/mL after 5-FU (10 mg/kg) and IL-6R blockade; CD19+ B cells were 0.3%."
    assert [t.text for t in shipped_nlp.make_doc(text)] == [t.text for t in scispacy_nlp(text)]


@pytest.mark.parametrize("text,chemicals", [
    ("The patient received leflunomide and iguratimod.", {"leflunomide"}),
    ("She had been treated with methotrexate 15 mg weekly and prednisone.", {"methotrexate", "prednisone"}),
    ("Lymphodepletion with fludarabine and cyclophosphamide preceded the infusion.",
     {"fludarabine", "cyclophosphamide"}),
])
def test_train_ner_shipped_model_tags_chemicals(shipped_nlp, text, chemicals):
    doc = shipped_nlp(text)
    found = {e.text.lower() for e in doc.ents if e.label_ == "CHEMICAL"}
    assert chemicals <= found
    assert not {e.text.lower() for e in doc.ents} & {"the patient", "she", "infusion", "weekly"}


def test_train_ner_shipped_model_tags_disease(shipped_nlp):
    doc = shipped_nlp("Two patients with refractory rheumatoid arthritis developed cytokine release syndrome.")
    assert any(e.label_ == "DISEASE" and "arthritis" in e.text for e in doc.ents)
