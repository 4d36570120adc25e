"""Train clinex's statistical NER (CHEMICAL, DISEASE) on BC5CDR in IOB format.

The data are the BC5CDR chemical and disease IOB files of Crichton et al. 2017
(https://github.com/cambridgeltl/MTL-Bioinformatics-2016, CC BY 4.0; corpus:
Li et al., Database 2016, doi:10.1093/database/baw068). Their token columns are
identical, so the two files of a split merge into one two-label corpus.

Steps (each a small function, ``train_ner`` only coordinates):

1. ``read_iob`` / ``merge_iob``: sentences of (word, tag) with tags B-/I-CHEMICAL,
   B-/I-DISEASE, O.
2. ``augment``: mention replacement (Dai & Adel, COLING 2020, "An analysis of
   simple data augmentation for named entity recognition"): copies of training
   sentences in which each chemical mention is replaced by a random drug name
   from the drug-named-entity-recognition dictionary, never a name that occurs
   as a mention in the held-out splits.
3. Docs are built from the given words (``Doc(vocab, words=..., spaces=...)``)
   and trained with ``spacy train`` on the config shipped at
   ``pipeline/models/clinex_ner.cfg``.
4. The best model on dev gets scispaCy's ``combined_rule_tokenizer`` (the one
   the clinex pipeline tokenizes with), is scored on test (P/R/F1 per label
   and overall, on the IOB tokens and on the scispaCy tokens of the
   detokenized text), timed, and written atomically with the metrics in
   ``meta.json["performance"]``.
"""
from __future__ import annotations

import bz2
import json
import logging
import os
import pickle
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from pipeline.errors import InputError, ModelError, OutputError

log = logging.getLogger(__name__)

CONFIG_PATH = Path(__file__).parent / "models" / "clinex_ner.cfg"
SPLITS = ("train", "devel", "test")
LABEL_NAMES = {"chemical": "CHEMICAL", "disease": "DISEASE"}
CHEM_DIR = "BC5CDR-chem-IOB"
DISEASE_DIR = "BC5CDR-disease-IOB"
MODEL_NAME = "clinex_ner"
MODEL_VERSION = "0.1.0"

# Tokens that attach to the previous token / the next one when detokenizing.
_NO_SPACE_BEFORE = frozenset(".,;:!?)]}%'\"/-") | {"'s", "n't"}
_NO_SPACE_AFTER = frozenset("([{/-")
_DRUG_NAME_RE = re.compile(r"[a-z][a-z0-9]*(?:[ -][a-z0-9]+){0,2}")


@dataclass(frozen=True)
class Sentence:
    """One pre-tokenized sentence with BIO tags (labels upper case)."""

    words: tuple[str, ...]
    tags: tuple[str, ...]


# ---------------------------------------------------------------- reading IOB


def normalize_tag(tag: str) -> str:
    """``B-Chemical`` -> ``B-CHEMICAL``; ``O`` stays; unknown labels are upper-cased."""
    if tag == "O":
        return tag
    prefix, sep, label = tag.partition("-")
    if not sep or prefix not in ("B", "I"):
        raise ValueError(f"not an IOB tag: {tag!r}")
    return f"{prefix}-{LABEL_NAMES.get(label.lower(), label.upper())}"


def parse_iob(lines: Iterable[str], *, path: str | Path | None = None) -> list[Sentence]:
    """Sentences from ``token<TAB>tag`` lines with blank lines between sentences."""
    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    for lineno, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip():
            if words:
                sentences.append(Sentence(tuple(words), tuple(tags)))
                words, tags = [], []
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0]:
            raise InputError(f"line {lineno}: expected 'token<TAB>tag', got {line!r}", path=path)
        try:
            tags.append(normalize_tag(parts[1].strip()))
        except ValueError as e:
            raise InputError(f"line {lineno}: {e}", path=path) from e
        words.append(parts[0])
    if words:
        sentences.append(Sentence(tuple(words), tuple(tags)))
    return sentences


def read_iob(path: Path) -> list[Sentence]:
    """Read one IOB file (see ``parse_iob``)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_iob(fh, path=path)
    except OSError as e:
        raise InputError(f"cannot read IOB file: {e.strerror}", path=path) from e


def merge_iob(first: Sequence[Sentence], second: Sequence[Sentence]) -> tuple[list[Sentence], int]:
    """Merge two tag layers over the same tokens; ``first`` wins where both tag a token.

    Returns the merged sentences and the number of mentions of ``second`` dropped
    because they overlap a mention of ``first``.
    """
    if len(first) != len(second):
        raise InputError(f"the IOB files differ in sentence count ({len(first)} vs {len(second)})")
    merged: list[Sentence] = []
    dropped = 0
    for i, (a, b) in enumerate(zip(first, second)):
        if a.words != b.words:
            raise InputError(f"sentence {i + 1}: the IOB files differ in tokens")
        tags = list(a.tags)
        for start, end, label in iob_to_spans(b.tags):
            if any(t != "O" for t in tags[start:end]):
                dropped += 1
                continue
            tags[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
        merged.append(Sentence(a.words, tuple(tags)))
    return merged, dropped


def iob_to_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Token spans ``(start, end, label)`` from BIO tags; a stray ``I-`` opens a span."""
    spans: list[tuple[int, int, str]] = []
    start, label = None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, lab = tag.partition("-")
        if start is not None and (prefix != "I" or lab != label):
            spans.append((start, i, label))
            start, label = None, None
        if prefix == "B" or (prefix == "I" and start is None):
            start, label = i, lab
    return spans


def spans_to_iob(n_words: int, spans: Iterable[tuple[int, int, str]]) -> tuple[str, ...]:
    """BIO tags for ``n_words`` tokens from non-overlapping token spans."""
    tags = ["O"] * n_words
    for start, end, label in spans:
        tags[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
    return tuple(tags)


def load_corpus(data_dir: Path, *, include_disease: bool = True) -> tuple[dict[str, list[Sentence]], dict[str, int]]:
    """``{"train"|"devel"|"test": sentences}`` from the BC5CDR folders under ``data_dir``."""
    corpus: dict[str, list[Sentence]] = {}
    dropped: dict[str, int] = {}
    for split in SPLITS:
        chem = read_iob(data_dir / CHEM_DIR / f"{split}.tsv")
        if include_disease:
            dis = read_iob(data_dir / DISEASE_DIR / f"{split}.tsv")
            chem, dropped[split] = merge_iob(chem, dis)
        corpus[split] = chem
    return corpus, dropped


# ------------------------------------------------------------ detokenization


def guess_spaces(words: Sequence[str]) -> list[bool]:
    """Whether each word is followed by a space, guessed for text built from IOB tokens."""
    spaces = []
    for i, word in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else None
        possessive = word == "'" and nxt in ("s", "t")
        glued = word in _NO_SPACE_AFTER or nxt in _NO_SPACE_BEFORE or possessive
        spaces.append(nxt is not None and not glued)
    return spaces


def detokenize(words: Sequence[str]) -> str:
    """Plain text from IOB tokens (``guess_spaces``)."""
    return "".join(w + (" " if s else "") for w, s in zip(words, guess_spaces(words)))


def sentence_to_doc(vocab: Any, sentence: Sentence) -> Any:
    """A Doc over the given words with the sentence's entities in ``doc.ents``."""
    from spacy.tokens import Doc, Span

    doc = Doc(vocab, words=list(sentence.words), spaces=guess_spaces(sentence.words))
    doc.ents = [Span(doc, s, e, label=lab) for s, e, lab in iob_to_spans(sentence.tags)]
    return doc


def retokenize(vocab: Any, sentence: Sentence, tokenizer: Callable[[str], Any]) -> tuple[Any, int]:
    """The sentence's detokenized text as ``tokenizer`` splits it, with the mentions carried over.

    A mention whose boundaries are not token boundaries of ``tokenizer`` (e.g.
    "morphine" inside "morphine-induced") cannot be predicted at run time; its
    tokens are marked missing (neither entity nor O) so the model is not taught
    either answer. Returns the Doc and the number of such mentions.
    """
    from spacy.tokens import Doc

    text = detokenize(sentence.words)
    tokens = tokenizer(text)
    doc = Doc(vocab, words=[t.text for t in tokens], spaces=[bool(t.whitespace_) for t in tokens])
    starts = _starts(text, sentence.words)
    ents, missing = [], []
    for s, e, label in iob_to_spans(sentence.tags):
        start, end = starts[s], starts[e - 1] + len(sentence.words[e - 1])
        span = doc.char_span(start, end, label=label)
        if span is not None:
            ents.append(span)
        else:
            missing.append(doc.char_span(start, end, alignment_mode="expand"))
    missing = [m for m in missing if m is not None and not any(m.start < x.end and x.start < m.end for x in ents)]
    doc.set_ents(ents, missing=_disjoint(missing), default="outside")
    return doc, len(missing)


def _disjoint(spans: list[Any]) -> list[Any]:
    out: list[Any] = []
    for span in sorted(spans, key=lambda x: (x.start, -x.end)):
        if not out or span.start >= out[-1].end:
            out.append(span)
    return out


def tokenization_agreement(sentences: Sequence[Sentence], tokenizer: Callable[[str], Any]) -> dict[str, float]:
    """How far ``tokenizer`` on detokenized text agrees with the IOB tokens.

    Compares token boundaries (character offsets ignoring whitespace) and counts
    gold mentions whose boundaries are not token boundaries of ``tokenizer``.
    """
    n_same_sent = n_iob = n_tok = n_common = n_ents = n_ents_misaligned = 0
    for sent in sentences:
        text = detokenize(sent.words)
        iob_bounds = _boundaries(text, sent.words)
        toks = [t.text for t in tokenizer(text)]
        tok_bounds = _boundaries(text, toks)
        n_iob += len(iob_bounds)
        n_tok += len(tok_bounds)
        n_common += len(iob_bounds & tok_bounds)
        n_same_sent += iob_bounds == tok_bounds
        starts = _starts(text, sent.words)
        for s, e, _ in iob_to_spans(sent.tags):
            n_ents += 1
            span = (starts[s], starts[e - 1] + len(sent.words[e - 1]))
            tok_starts = {b[0] for b in tok_bounds}
            tok_ends = {b[1] for b in tok_bounds}
            n_ents_misaligned += not (span[0] in tok_starts and span[1] in tok_ends)
    return {
        "sentences": len(sentences),
        "sentences_identical": round(n_same_sent / max(len(sentences), 1), 4),
        "token_precision": round(n_common / max(n_tok, 1), 4),
        "token_recall": round(n_common / max(n_iob, 1), 4),
        "iob_tokens": n_iob,
        "tokenizer_tokens": n_tok,
        "mentions": n_ents,
        "mentions_misaligned": round(n_ents_misaligned / max(n_ents, 1), 4),
    }


def _starts(text: str, tokens: Sequence[str]) -> list[int]:
    starts, pos = [], 0
    for tok in tokens:
        pos = text.index(tok, pos)
        starts.append(pos)
        pos += len(tok)
    return starts


def _boundaries(text: str, tokens: Sequence[str]) -> set[tuple[int, int]]:
    return {(s, s + len(t)) for s, t in zip(_starts(text, tokens), tokens)}


# -------------------------------------------------------------- augmentation


def name_key(name: str) -> str:
    """Comparison key for held-out names: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def mention_names(sentences: Iterable[Sentence], label: str = "CHEMICAL") -> set[str]:
    """Keys (``name_key``) of every ``label`` mention in ``sentences``."""
    return {name_key("".join(s.words[a:b])) for s in sentences for a, b, lab in iob_to_spans(s.tags) if lab == label}


def load_drug_names() -> list[str]:
    """Lower-case names of drugs (generic and brand) from drug-named-entity-recognition's dictionary.

    Only drugs with a DrugBank or MedlinePlus identifier (the dictionary also
    holds MeSH proteins and genes, which BC5CDR does not tag as chemicals), and
    only plain names of one to three words (letters, digits, hyphens); sorted,
    so that a seed reproduces the same augmentation.
    """
    source = files("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2"
    try:
        with bz2.open(source.open("rb")) as fh:
            data = pickle.load(fh)
        drugs = {k for k, v in data["drug_canonical_to_data"].items() if "drugbank_id" in v or "medline_plus_id" in v}
        variants = [v for v, canon in data["drug_variant_to_canonical"].items() if drugs.intersection(canon)]
    except (OSError, KeyError, pickle.UnpicklingError) as e:
        raise ModelError(f"cannot read the drug name dictionary: {e}", path=str(source)) from e
    return sorted({v for v in variants if 4 <= len(v) <= 40 and _DRUG_NAME_RE.fullmatch(v)})


def augmentation_names(names: Iterable[str], heldout: Iterable[Sentence], label: str = "CHEMICAL") -> list[str]:
    """``names`` minus every name that occurs as a ``label`` mention in the held-out sentences."""
    keys = mention_names(heldout, label)
    return [n for n in names if name_key(n) not in keys]


def match_case(name: str, original: str) -> str:
    """Capitalize ``name`` where ``original`` is Capitalized (sentence starts); acronyms give lower case."""
    if original[:1].isupper() and not original.isupper():
        return name[:1].upper() + name[1:]
    return name


def augment(sentences: Sequence[Sentence], names: Sequence[str], *, ratio: float = 1.0, seed: int = 0,
            label: str = "CHEMICAL", tokenize: Callable[[str], list[str]] | None = None) -> list[Sentence]:
    """Mention-replacement copies of the sentences that contain a ``label`` mention.

    ``ratio`` copies per such sentence on average (1.5 = one copy each, a second
    one for half of them). Every ``label`` mention of a copy is replaced by a
    random name from ``names`` (tokenized with ``tokenize``, default: split on
    spaces and hyphens as the IOB files do); other mentions keep their tags.
    """
    if not names or ratio <= 0:
        return []
    rng = random.Random(seed)
    tokenize = tokenize or _split_name
    candidates = [s for s in sentences if any(lab == label for _, _, lab in iob_to_spans(s.tags))]
    out: list[Sentence] = []
    for sent in candidates:
        n_copies = int(ratio) + (rng.random() < ratio - int(ratio))
        for _ in range(n_copies):
            out.append(_replace_mentions(sent, names, rng, label, tokenize))
    return out


def _split_name(name: str) -> list[str]:
    return [t for t in re.split(r"(\s+|-)", name) if t.strip()]


def _replace_mentions(sent: Sentence, names: Sequence[str], rng: random.Random, label: str,
                      tokenize: Callable[[str], list[str]]) -> Sentence:
    words: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for start, end, lab in iob_to_spans(sent.tags):
        words.extend(sent.words[pos:start])
        if lab == label:
            new = tokenize(match_case(rng.choice(names), sent.words[start]))
        else:
            new = list(sent.words[start:end])
        spans.append((len(words), len(words) + len(new), lab))
        words.extend(new)
        pos = end
    words.extend(sent.words[pos:])
    return Sentence(tuple(words), spans_to_iob(len(words), spans))


# ------------------------------------------------------------------ training


def make_nlp(nlp: Any = None) -> Any:
    """``nlp`` (default: a blank English pipeline) with scispaCy's tokenizer, as the clinex pipeline uses."""
    import spacy
    from scispacy.custom_tokenizer import combined_rule_tokenizer

    nlp = nlp if nlp is not None else spacy.blank("en")
    nlp.tokenizer = combined_rule_tokenizer(nlp)
    return nlp


def write_docbin(sentences: Iterable[Sentence], path: Path, vocab: Any, *, extra_docs: Iterable[Any] = ()) -> int:
    """Save sentences (one Doc each) and ``extra_docs`` as a DocBin; returns the number of docs."""
    from spacy.tokens import DocBin

    db = DocBin(store_user_data=False)
    n = 0
    for sent in sentences:
        db.add(sentence_to_doc(vocab, sent))
        n += 1
    for doc in extra_docs:
        db.add(doc)
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(path)
    return n


def score_examples(nlp: Any, sentences: Sequence[Sentence], *, runtime_tokenizer: bool = False) -> dict[str, Any]:
    """Entity P/R/F1 per label and overall on ``sentences``.

    With ``runtime_tokenizer`` the model reads the detokenized text through its
    own tokenizer and predictions are aligned to the IOB tokens (a mention whose
    boundaries the tokenizer cannot reproduce counts as an error).
    """
    from spacy.training import Example

    examples = []
    for sent in sentences:
        ref = sentence_to_doc(nlp.vocab, sent)
        if runtime_tokenizer:
            pred = nlp.make_doc(ref.text)
        else:
            pred = sentence_to_doc(nlp.vocab, Sentence(sent.words, ("O",) * len(sent.words)))
        examples.append(Example(pred, ref))
    scores = nlp.evaluate(examples)
    out: dict[str, Any] = {k: round(scores[f"ents_{k}"], 4) for k in ("p", "r", "f")}
    per_type = scores["ents_per_type"] or {}
    out["per_type"] = {lab: {k: round(v, 4) for k, v in prf.items()} for lab, prf in per_type.items()}
    return out


def words_per_second(nlp: Any, texts: Sequence[str], *, batch_size: int = 256, repeats: int = 2) -> float:
    """Throughput of ``nlp.pipe`` (one process, tokenizer included): best of ``repeats`` passes."""
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        n_words = sum(len(doc) for doc in nlp.pipe(texts, batch_size=batch_size))
        best = max(best, n_words / max(time.perf_counter() - started, 1e-9))
    return round(best, 1)


def dir_size_mb(path: Path) -> float:
    """Total size of the files under ``path`` in MB (10^6 bytes)."""
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 2)


def atomic_replace_dir(src: Path, dest: Path) -> None:
    """Move directory ``src`` to ``dest``, replacing an existing ``dest`` with two renames."""
    dest = dest.resolve()
    old = dest.with_name(f".clinex-tmp-old-{dest.name}-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(src, dest)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def train_ner(data_dir: Path, output_dir: Path, *, seed: int = 0, max_steps: int = 4000, max_epochs: int = 0,
              patience: int = 2000, eval_frequency: int = 500, augment_ratio: float = 1.0,
              include_disease: bool = True, runtime_tokens: bool = True, train_on_dev: bool = False,
              config: Path | None = None, work_dir: Path | None = None, limit: int = 0,
              speed_words: int = 60000) -> dict[str, Any]:
    """Train the NER from the BC5CDR IOB folders under ``data_dir``; save the pipeline at ``output_dir``.

    Keyword options:
        seed: random seed of augmentation and of spaCy training.
        max_steps / max_epochs: training limits (0 = no limit for ``max_epochs``).
        patience: stop after this many steps without a better dev score
            (``spacy train``'s patience; 0 = off).
        eval_frequency: steps between dev evaluations.
        augment_ratio: mention-replacement copies per training sentence with a
            chemical (0 = no augmentation). Names that occur as chemical mentions
            in the held-out splits (devel and test; test only with
            ``train_on_dev``) are never used.
        include_disease: train DISEASE alongside CHEMICAL.
        runtime_tokens: also train on each training sentence as scispaCy's
            tokenizer splits its text (the IOB files split every hyphen and
            slash, the run-time tokenizer keeps "5-FU" and "mg/kg" whole), with
            mentions it cannot reproduce marked missing (see ``retokenize``).
        train_on_dev: train on train + devel (for a final model: the run still
            "evaluates" on devel, so use a fixed ``max_steps`` and ``patience=0``);
            the last model is kept instead of the best one.
        config: spaCy training config (default: the shipped ``clinex_ner.cfg``).
        work_dir: where converted data, checkpoints and logs go (default:
            ``<output_dir>.work``).
        limit: use only the first ``limit`` sentences of each split (smoke tests).
        speed_words: about how many test words to time ``nlp.pipe`` on.

    Returns the metrics also written to ``meta.json["performance"]``.
    """
    import spacy
    from spacy.cli.train import train as spacy_train

    data_dir, output_dir = Path(data_dir), Path(output_dir)
    work_dir = Path(work_dir) if work_dir else output_dir.with_name(output_dir.name + ".work")
    config = Path(config) if config else CONFIG_PATH
    if not config.is_file():
        raise ModelError("training config not found", path=config)
    corpus, dropped = load_corpus(data_dir, include_disease=include_disease)
    if limit:
        corpus = {k: v[:limit] for k, v in corpus.items()}
    if sum(dropped.values()):
        log.warning("%d disease mentions overlapping a chemical mention were dropped", sum(dropped.values()))

    train = list(corpus["train"]) + (list(corpus["devel"]) if train_on_dev else [])
    heldout = corpus["test"] + ([] if train_on_dev else corpus["devel"])
    names = augmentation_names(load_drug_names(), heldout)
    tok = make_nlp().tokenizer
    extra = augment(train, names, ratio=augment_ratio, seed=seed, tokenize=lambda s: [t.text for t in tok(s)])
    random.Random(seed).shuffle(extra)

    vocab = spacy.blank("en").vocab
    retok = [retokenize(vocab, s, tok) for s in train] if runtime_tokens else []
    work_dir.mkdir(parents=True, exist_ok=True)
    n_train = write_docbin(train + extra, work_dir / "train.spacy", vocab, extra_docs=[d for d, _ in retok])
    write_docbin(corpus["devel"], work_dir / "dev.spacy", vocab)
    overrides = {"paths.train": str(work_dir / "train.spacy"), "paths.dev": str(work_dir / "dev.spacy"),
                 "system.seed": seed, "training.max_steps": max_steps, "training.max_epochs": max_epochs,
                 "training.patience": patience, "training.eval_frequency": eval_frequency}
    started = time.perf_counter()
    try:
        spacy_train(config, work_dir / "model", overrides=overrides)
    except Exception as e:  # spaCy raises many types; the user needs to know training failed
        raise ModelError(f"training failed: {e}", path=config) from e
    train_seconds = time.perf_counter() - started

    train_info = {"sentences": len(train), "augmented_sentences": len(extra), "docs": n_train,
                  "seconds": round(train_seconds, 1), "seed": seed, "max_steps": max_steps,
                  "max_epochs": max_epochs, "patience": patience, "augment_ratio": augment_ratio,
                  "include_disease": include_disease, "runtime_tokens": runtime_tokens,
                  "runtime_token_mentions_missing": sum(n for _, n in retok), "train_on_dev": train_on_dev,
                  "drug_names": len(names), "heldout_names": len(mention_names(heldout)),
                  "dropped_overlaps": dropped, "config": config.name}
    best = work_dir / "model" / ("model-last" if train_on_dev else "model-best")
    return finalize_model(best, output_dir, corpus, config=config, train_info=train_info, speed_words=speed_words)


def finalize_model(model_path: Path, output_dir: Path, corpus: dict[str, list[Sentence]], *, config: Path,
                   train_info: dict[str, Any], speed_words: int = 60000) -> dict[str, Any]:
    """Give a trained pipeline scispaCy's tokenizer, score it, save it at ``output_dir``, time it.

    Returns the metrics, also written to ``meta.json["performance"]``.
    """
    import spacy

    nlp = make_nlp(spacy.load(model_path))
    metrics: dict[str, Any] = {
        "test": score_examples(nlp, corpus["test"]),
        "test_runtime_tokenizer": score_examples(nlp, corpus["test"], runtime_tokenizer=True),
        "dev": score_examples(nlp, corpus["devel"]),
        "tokenization_agreement_test": tokenization_agreement(corpus["test"], nlp.tokenizer),
        "train": train_info,
    }
    save_model(nlp, output_dir, metrics, config=config)
    texts = _speed_texts(corpus["test"], speed_words)
    metrics["words_per_second"] = words_per_second(spacy.load(output_dir), texts)
    metrics["speed_words"] = sum(len(t.split()) for t in texts)
    metrics["size_mb"] = dir_size_mb(output_dir)
    _update_meta(output_dir, {"performance": metrics})
    return metrics


def _speed_texts(sentences: Sequence[Sentence], n_words: int) -> list[str]:
    texts, total = [], 0
    for sent in sentences:
        if total >= n_words:
            break
        texts.append(detokenize(sent.words))
        total += len(sent.words)
    return texts


def save_model(nlp: Any, output_dir: Path, metrics: dict[str, Any], *, config: Path) -> None:
    """Write the pipeline (tokenizer included) to a temp dir next to ``output_dir``, then swap it in."""
    output_dir = Path(output_dir)
    nlp.meta.update({
        "name": MODEL_NAME, "version": MODEL_VERSION,
        "description": "clinex biomedical NER (CHEMICAL, DISEASE) trained on BC5CDR with scispaCy's tokenizer",
        "author": "clinex", "license": "CC BY 4.0 (training data); model: MIT",
        "sources": [
            {"name": "BC5CDR (BioCreative V CDR corpus), IOB version of Crichton et al. 2017",
             "url": "https://github.com/cambridgeltl/MTL-Bioinformatics-2016", "license": "CC BY 4.0",
             "author": "Li et al., Database 2016, doi:10.1093/database/baw068"},
            {"name": "drug-named-entity-recognition dictionary (augmentation names)",
             "url": "https://pypi.org/project/drug-named-entity-recognition/", "license": "MIT"},
        ],
        "performance": metrics,
    })
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".clinex-tmp-", dir=output_dir.parent))
    try:
        nlp.to_disk(tmp / "model")
        shutil.copyfile(config, tmp / "model" / "training.cfg")
        atomic_replace_dir(tmp / "model", output_dir)
    except OSError as e:
        raise OutputError(f"cannot write the model: {e}", path=output_dir) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _update_meta(model_dir: Path, updates: dict[str, Any]) -> None:
    path = model_dir / "meta.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta.update(updates)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
