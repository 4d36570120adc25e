"""``clinex_ner``: the statistical NER (tok2vec + ner of a trained spaCy pipeline) as one component.

clinex uses the NER for one thing: CHEMICAL entities become DRUG candidates in
``clinex_ner_drugs``, which keeps an entity the drug lexicon and the INN stems do not
already cover only in a treatment context ("treated with X", "X was added"). With
``scope="treatment"`` (the default) the NER therefore tags only the sentences near a
treatment cue, and the rest of the document is left untagged: in case reports that is
about a tenth of the tokens, and the NER is by far the costliest step of the pipeline.
``scope="all"`` tags every sentence (``doc.ents`` then holds every CHEMICAL and
DISEASE, for users of the Python API who want them).

Sentences are tagged in batches of at most ``chunk_tokens`` tokens, so memory stays
flat on long documents (spaCy's NER grows with the tokens it tags at once). The
model's own tokenizer is not used: the sentences come already tokenized by clinex's.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterator
from pathlib import Path

import numpy
import regex
import spacy
from spacy.attrs import IDX, LENGTH, SENT_START, SPACY
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.components import doc_text
from pipeline.components.ner_drugs import CONTEXT_BEFORE, TREATMENT_CUE
from pipeline.core import DEFAULT_MODEL_DIR
from pipeline.errors import ModelError

SCOPES = ("treatment", "all")
NER_PIPES = ("tok2vec", "ner")
CHUNK_TOKENS = 20_000
_WORDS_ONLY = regex.compile(r"[\w\s-]*")
# the model's saved tokenizer is replaced by spaCy's plain default: it is never called
_PLAIN_TOKENIZER = {"nlp": {"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}}}


def model_path(model: str) -> str | Path:
    """The shipped model's directory for ``"default"``; any other name or path as given."""
    if model != "default":
        return model
    if not (DEFAULT_MODEL_DIR / "config.cfg").exists():
        raise ModelError("the shipped NER model is missing; train it with `clinex train-ner` or run with --ner-model none",
                         path=DEFAULT_MODEL_DIR)
    return DEFAULT_MODEL_DIR


def load_ner(model: str, vocab: spacy.Vocab) -> list[tuple[str, object]]:
    """The ``tok2vec``/``ner`` components of ``model``, loaded onto ``vocab``."""
    target = model_path(model)
    try:
        ner_nlp = spacy.load(target, vocab=vocab, exclude=["tokenizer"], config=_PLAIN_TOKENIZER)
    except (OSError, ValueError, ImportError) as e:
        raise ModelError(f"cannot load NER model {model!r}: {e}", path=str(target)) from e
    if "ner" not in ner_nlp.pipe_names:
        raise ModelError(f"model {model!r} has no 'ner' component", path=str(target))
    return [(name, proc) for name, proc in ner_nlp.pipeline if name in NER_PIPES]


def cue_sentences(text: str, sent_starts: list[int], sent_ends: list[int]) -> list[int]:
    """Indexes of the sentences a treatment cue can reach (pure): the one holding the cue,
    a following one when only words and spaces lie between ("treated with\\nZemblix",
    where ``in_treatment_context`` would still see the cue), and a preceding one when
    only spaces lie between ("Zemblix\\nwas added")."""
    chosen: set[int] = set()
    for m in TREATMENT_CUE.finditer(text):
        first = max(0, bisect.bisect_right(sent_starts, m.start()) - 1)
        chosen.add(first)
        if first > 0 and not text[sent_ends[first - 1]:m.start()].strip():
            chosen.add(first - 1)
        for i in range(first + 1, bisect.bisect_left(sent_starts, m.end() + CONTEXT_BEFORE)):
            if not _WORDS_ONLY.fullmatch(text, m.end(), sent_starts[i]):
                break
            chosen.add(i)
    return sorted(chosen)


def batches(sents: list[tuple[int, int]], max_tokens: int) -> Iterator[list[tuple[int, int]]]:
    """Consecutive groups of ``(start, end)`` token ranges of at most ``max_tokens`` tokens in all
    (a longer sentence is its own group)."""
    group: list[tuple[int, int]] = []
    size = 0
    for start, end in sents:
        if group and size + end - start > max_tokens:
            yield group
            group, size = [], 0
        group.append((start, end))
        size += end - start
    if group:
        yield group


class NerTagger:
    """Tags CHEMICAL/DISEASE entities into ``doc.ents`` on the sentences ``scope`` selects."""

    def __init__(self, nlp: Language, name: str = "clinex_ner", *, model: str = "default",
                 scope: str = "treatment", chunk_tokens: int = CHUNK_TOKENS) -> None:
        if scope not in SCOPES:
            raise ModelError(f"clinex_ner: scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        self.name = name
        self.model = model
        self.scope = scope
        self.chunk_tokens = max(1, chunk_tokens)
        self.pipes = load_ner(model, nlp.vocab)

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        # token arrays instead of doc.sents and Token objects, which cost more than the tagging
        starts, idx, length, space = doc.to_array([SENT_START, IDX, LENGTH, SPACY]).astype("int64").T
        firsts = numpy.flatnonzero(starts == 1).tolist()
        if not firsts or firsts[0] != 0:
            firsts.insert(0, 0)
        sents = list(zip(firsts, firsts[1:] + [len(doc)]))
        text = doc_text(doc)
        offsets, lengths, spaces = idx.tolist(), length.tolist(), space.tolist()
        if self.scope == "treatment":
            chosen = cue_sentences(text, [offsets[start] for start, _ in sents],
                                   [offsets[end - 1] + lengths[end - 1] for _, end in sents])
            sents = [sents[i] for i in chosen]
        ents: list[Span] = []
        for group in batches(sents, self.chunk_tokens):
            index = [i for start, end in group for i in range(start, end)]
            words = [text[offsets[i]:offsets[i] + lengths[i]] for i in index]
            part = Doc(doc.vocab, words=words, spaces=[bool(spaces[i]) for i in index])
            for _, proc in self.pipes:
                part = proc(part)
            for e in part.ents:
                start, end = index[e.start], index[e.end - 1] + 1
                if end - start == len(e):  # an entity never spans two non-adjacent sentences
                    ents.append(Span(doc, start, end, label=e.label))
        doc.set_ents(ents)
        return doc


@Language.factory("clinex_ner", assigns=["doc.ents"],
                  default_config={"model": "default", "scope": "treatment", "chunk_tokens": CHUNK_TOKENS})
def make_ner(nlp: Language, name: str, model: str, scope: str, chunk_tokens: int) -> NerTagger:
    return NerTagger(nlp, name, model=model, scope=scope, chunk_tokens=chunk_tokens)
