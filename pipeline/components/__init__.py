"""spaCy components of clinex (factories named ``clinex_*``) and the extensions they share."""
from __future__ import annotations

from spacy.attrs import IDX, LENGTH
from spacy.tokens import Doc, Span

DOC_EXTENSIONS = ("clinex_tables", "clinex_measurements", "clinex_patients", "clinex_derived", "clinex_doses")
SPAN_EXTENSIONS = ("clinex_id", "clinex_source", "clinex_norm")
# doc.user_data key of the cached document text (see ``doc_text``)
TEXT_KEY = "clinex_doc_text"
VIEWS_KEY = "clinex_doc_text_views"  # lower-cased text and the like (pipeline.lexicon.text_views)


def register_extensions() -> None:
    """Register the ``doc._.clinex_*`` and ``span._.clinex_*`` attributes (idempotent)."""
    for name in DOC_EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    for name in SPAN_EXTENSIONS:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


def _char_length(doc: Doc) -> int:
    if not len(doc):
        return 0
    last = doc[-1]
    return last.idx + len(last.text_with_ws)


def doc_text(doc: Doc) -> str:
    """``doc.text``, computed once per Doc and kept in ``doc.user_data``.

    spaCy rebuilds ``Doc.text`` token by token on every access (milliseconds on a long
    document, once per recognizer). Retokenizing (``clinex_drugs`` splits "post-CAR")
    never changes the text, so the cached string stays valid for the Doc's lifetime.
    The entry records the Doc's ``id`` and is checked against its length, so user data
    copied to another Doc (``Doc.copy``, ``Span.as_doc(copy_user_data=True)``) is recomputed
    rather than trusted.
    """
    cached = doc.user_data.get(TEXT_KEY)
    if cached is not None and cached[0] == id(doc) and len(cached[1]) == _char_length(doc):
        return cached[1]
    text = doc.text
    doc.user_data[TEXT_KEY] = (id(doc), text)
    return text


def remember_text(doc: Doc, text: str) -> Doc:
    """Seed ``doc_text``'s cache with the text ``doc`` was tokenized from (the same string:
    spaCy's tokenizer keeps every character), sparing the token-by-token rebuild."""
    doc.user_data[TEXT_KEY] = (id(doc), text)
    return doc


def token_texts(doc: Doc) -> list[str]:
    """``[t.text for t in doc]`` from the cached text and two arrays, without creating Token objects."""
    if not len(doc):
        return []
    text = doc_text(doc)
    # two flat arrays: ``tolist`` of one (n, 2) array builds n small lists and costs several times more
    return [text[idx:idx + length] for idx, length in zip(doc.to_array(IDX).tolist(), doc.to_array(LENGTH).tolist())]


def forget_text(doc: Doc) -> None:
    """Drop the cached text (the last component does, so it is not serialized with the Doc)."""
    doc.user_data.pop(TEXT_KEY, None)
    doc.user_data.pop(VIEWS_KEY, None)


register_extensions()
