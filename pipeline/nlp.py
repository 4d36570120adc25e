"""The spaCy pipeline of clinex.

``load_nlp(ner_model=...)`` builds (once per argument) a pipeline with the scispaCy
tokenizer (keeps ``DAS28-ESR``, ``CD19``, ``mm/h``, ``5.46``, ``3/3`` whole; we add a
suffix rule so "g/L." at a sentence end loses its period), a rule-based sentence
segmenter that does not split at "Fig.", "e.g.", "et al.", "vs." or decimals, the
optional statistical NER, and the ``clinex_*`` recognizers:

    clinex_sentences -> [clinex_ner] -> clinex_drugs -> clinex_analytes -> clinex_timepoints
    -> [clinex_ner_drugs] -> clinex_abbreviations -> clinex_entities -> clinex_measurements

``ner_model``: ``None`` for no statistical NER; ``"default"`` for the model shipped in
``pipeline/models/clinex_ner``; any other value is a spaCy package name or path
(e.g. ``en_ner_bc5cdr_md`` when installed) whose ``ner`` (and ``tok2vec``) ``clinex_ner`` runs
(see ``pipeline.components.ner`` for which sentences it tags).
"""
from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

import numpy
import spacy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

import pipeline.components.abbreviations  # noqa: F401  (registers the factories)
import pipeline.components.analytes  # noqa: F401
import pipeline.components.drugs  # noqa: F401
import pipeline.components.entities  # noqa: F401
import pipeline.components.ner  # noqa: F401
import pipeline.components.ner_drugs  # noqa: F401
import pipeline.components.timepoints  # noqa: F401
import pipeline.components.measurements  # noqa: F401 - registers clinex_measurements
from pipeline.components import register_extensions, token_texts

MAX_TEXT_CHARS = 100_000_000  # spaCy's 1M default guards the parser/NER; clinex_ner tags in chunks
_CACHE: dict[str | None, Language] = {}
_LOCK = threading.Lock()
TOKENIZER_CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "clinex_tokenizer.v1"}}}

# tokens after which a period does not end a sentence
NO_SPLIT_AFTER = frozenset(
    "fig figs fig. figs. e.g. i.e. e.g i.e al. al vs. vs cf. cf ca. approx. no. nos. dr. prof. ref. refs. suppl. "
    "eq. et etc. resp. mr. mrs. ms. st. jr. sr. inc. ltd. co. dept. univ. vol. p. pp. ed. eds.".split())
SENTENCE_END = frozenset({".", "!", "?"})
_INITIALS = re.compile(r"^(?:[A-Z]\.)+$|^(?:[a-z]\.){2,}$")


def make_tokenizer(nlp: Language):
    """scispaCy's combined rule tokenizer plus a suffix rule splitting the period after
    ``g/L.``, ``mg/dL.``, ``IgA.`` (an upper-case letter after ``/`` or a lower-case one), and an
    infix rule splitting a glued equals sign (``SDAI=12.3``).

    Needs only ``nlp.vocab`` and ``nlp.Defaults``, so it can serve as the tokenizer factory
    while ``nlp`` is being built (see ``clinex_tokenizer``)."""
    from scispacy.consts import ABBREVIATIONS
    from scispacy.custom_tokenizer import combined_rule_tokenizer
    from spacy.attrs import ORTH
    from spacy.lang import char_classes

    # Built without special cases, which are then loaded once at the end: spaCy reloads
    # every special case each time suffix_search is assigned (~0.1 s a time). The shim
    # gives combined_rule_tokenizer what it reads of nlp; token_match is the language
    # default (None for English), as on a freshly built tokenizer.
    shim = SimpleNamespace(vocab=nlp.vocab, Defaults=SimpleNamespace(tokenizer_exceptions={}),
                           tokenizer=SimpleNamespace(token_match=nlp.Defaults.token_match))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        tokenizer = combined_rule_tokenizer(shim)
    extra = r"(?<=[/{al}][{au}])\.$".format(al=char_classes.ALPHA_LOWER, au=char_classes.ALPHA_UPPER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # spaCy's own suffix classes trip re's set-union warning
        tokenizer.suffix_search = re.compile(f"{extra}|{tokenizer.suffix_search.__self__.pattern}").search
        # "SDAI=12.3", "CRP=45": an equals sign glued between a name and its value is a token of its own
        infix = r"(?<=[A-Za-z0-9)\]])=(?=[0-9<>≤≥(.])"
        tokenizer.infix_finditer = re.compile(f"{infix}|{tokenizer.infix_finditer.__self__.pattern}").finditer
    tokenizer.rules = scispacy_exceptions(nlp.Defaults.tokenizer_exceptions, ABBREVIATIONS, ORTH)
    return tokenizer


def scispacy_exceptions(defaults: dict[str, Any], abbreviations: Iterable[str], orth: int) -> dict[str, Any]:
    """The special cases of scispaCy's ``combined_rule_tokenizer``: the language's exceptions,
    plus its abbreviations kept whole ("Fig.", "e.g.", "approx.")."""
    rules = dict(defaults)
    rules.update({abbreviation: [{orth: abbreviation}] for abbreviation in abbreviations})
    return rules


@spacy.registry.tokenizers("clinex_tokenizer.v1")
def clinex_tokenizer() -> Callable[[Language], Any]:
    """The tokenizer factory for configs (``[nlp.tokenizer] @tokenizers = "clinex_tokenizer.v1"``):
    building the pipeline with it makes the tokenizer once instead of three times
    (language default, the model's saved one, then ours)."""
    return make_tokenizer


def _ends_sentence(prev: str, before: str) -> bool:
    if prev in SENTENCE_END:
        return not (before.lower() in NO_SPLIT_AFTER or before.lower() + "." in NO_SPLIT_AFTER)
    return (len(prev) > 1 and prev.endswith(".") and prev.lower() not in NO_SPLIT_AFTER
            and not _INITIALS.match(prev))


def sentence_starts(words: list[str]) -> list[bool]:
    """Sentence starts for a token list (pure): after ``.``/``!``/``?`` unless an abbreviation
    ("Fig.", "et al.", "e.g.", "vs.") precedes or the next token starts in lower case, with a
    digit or with closing punctuation; and after a paragraph break."""
    starts = [bool(words) and not words[0].isspace()] + [False] * (len(words) - 1)
    prev_i = 0
    for i in range(1, len(words)):
        cur = words[i]
        if cur.isspace():
            continue
        prev = words[prev_i]
        if prev.isspace() or i > prev_i + 1 and "\n\n" in "".join(words[prev_i + 1:i]):
            starts[i] = True
        elif _ends_sentence(prev, words[prev_i - 1] if prev_i > 0 else ""):
            first = cur[:1]
            starts[i] = not (first.islower() or first.isdigit() or first in ",;:)]")
        prev_i = i
    return starts


@Language.component("clinex_sentences", assigns=["token.is_sent_start"])
def clinex_sentences(doc: Doc) -> Doc:
    """Rule-based sentence boundaries (see ``sentence_starts``)."""
    # one array write: setting token.is_sent_start per token re-checks the whole doc each time
    starts = sentence_starts(token_texts(doc))
    if starts:
        values = numpy.where(numpy.array(starts, dtype=bool), 1, -1).astype("int64").astype("uint64").reshape(-1, 1)
        doc.from_array([SENT_START], values)  # spaCy reads the uint64 back as the signed -1/1
    return doc


def build_nlp(*, ner_model: str | None = "default") -> Language:
    """A fresh pipeline (uncached); see ``load_nlp``."""
    register_extensions()
    nlp = spacy.blank("en", config=TOKENIZER_CONFIG)
    nlp.add_pipe("clinex_sentences")
    has_ner = ner_model not in (None, "", "none")
    if has_ner:
        nlp.add_pipe("clinex_ner", config={"model": ner_model})
    nlp.add_pipe("clinex_drugs")
    nlp.add_pipe("clinex_analytes")
    nlp.add_pipe("clinex_timepoints")
    if has_ner:
        nlp.add_pipe("clinex_ner_drugs")
    nlp.add_pipe("clinex_abbreviations")
    nlp.add_pipe("clinex_entities")
    nlp.add_pipe("clinex_measurements")
    nlp.max_length = MAX_TEXT_CHARS
    return nlp


def load_nlp(*, ner_model: str | None = "default") -> Language:
    """The clinex pipeline, cached per ``ner_model`` (None: no statistical NER).

    Raises ``ModelError`` when the requested NER model is missing or unloadable.
    """
    key = None if ner_model in (None, "", "none") else ner_model
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = build_nlp(ner_model=key)
        return _CACHE[key]
