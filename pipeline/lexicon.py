"""The drug lexicon: ``rules/drugs.jsonl`` over the DrugBank-linked dictionary of
``drug-named-entity-recognition``.

The library is the broad lexicon and normalizer (names, synonyms, brands ->
canonical name and DrugBank id); ``rules/drugs.jsonl`` adds what it lacks (class,
target, abbreviations, old and salt names, CAR T products and code names, drug
classes). Library entries that are no drug are left out: MeSH-only headings without
a drug page (proteins such as "C-reactive protein", "immunoglobulins", cytokines
such as "IL-6"), names in ``rules/drug_stoplist.jsonl``, analyte names from the
score and lab rules, and terms shorter than four characters.

Importing the library unpickles its whole dictionary (~4 s), so the filtered map is
cached on disk (``$CLINEX_CACHE_DIR`` or ``~/.cache/clinex``) keyed by the library
version and the rules, and rebuilt when either changes. The finished ``DrugLexicon``
(terms, abbreviations, the term index) is cached beside it, keyed also by this module's
source, so a pipeline load unpickles it instead of rebuilding it (~0.4 s). Both caches
are written atomically; an unwritable directory or a corrupt file only costs a rebuild.
"""
from __future__ import annotations

import bz2
import gc
import hashlib
from bisect import bisect_left
import logging
import os
import pickle
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from spacy.attrs import IDX, LENGTH

from pipeline.components import VIEWS_KEY, doc_text
from pipeline.ruleset import load_rules, rules_sha256

log = logging.getLogger(__name__)

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SPACE_AROUND = re.compile(r"\s*([-/])\s*")
_SPACES = re.compile(r"\s+")


def term_key(text: str) -> str:
    """Lookup key for a term: lowercase, one dash, single spaces, no spaces around ``-`` and ``/``.

    ``"Functional Assessment of Chronic Illness Therapy – Fatigue"`` and
    ``"functional assessment of chronic illness therapy-fatigue"`` share a key.
    """
    s = _DASHES.sub("-", text.lower().replace("μ", "µ"))
    s = _SPACES.sub(" ", s).strip()
    return _SPACE_AROUND.sub(r"\1", s)


@dataclass(frozen=True)
class DrugInfo:
    """What a surface form normalizes to (``norm`` of a DRUG span)."""

    name: str
    drug_class: str | None = None
    target: str | None = None
    drugbank_id: str | None = None
    is_class: bool = False
    rule: bool = False

    def norm(self) -> dict[str, Any]:
        return {"name": self.name, "class": self.drug_class, "target": self.target,
                "drugbank_id": self.drugbank_id, "is_class": self.is_class}


def _library_version() -> str:
    try:
        return metadata.version("drug-named-entity-recognition")
    except metadata.PackageNotFoundError:
        return "absent"


def _cache_dir() -> Path:
    return Path(os.environ.get("CLINEX_CACHE_DIR") or Path.home() / ".cache" / "clinex")


def _read_library() -> dict[str, Any] | None:
    try:
        path = resources.files("drug_named_entity_recognition").joinpath("drug_ner_dictionary.pkl.bz2")
        with path.open("rb") as raw, bz2.open(raw, "rb") as f:
            return pickle.load(f)
    except (ModuleNotFoundError, OSError, pickle.UnpicklingError, EOFError) as e:
        log.warning("drug-named-entity-recognition dictionary unavailable (%s); using rules/drugs.jsonl only", e)
        return None


def excluded_terms() -> set[str]:
    """Keys that are never drugs: the stoplist and every analyte name of the score/lab rules (a fresh set)."""
    return set(_excluded_terms())


@lru_cache(maxsize=1)
def _excluded_terms() -> frozenset[str]:
    keys = {term_key(r["pattern"]) for r in load_rules("drug_stoplist")}
    for name in ("scores", "labs"):
        for rule in load_rules(name):
            for term in [rule["id"], rule.get("pattern", "")] + rule.get("synonyms", []) + rule.get("abbreviations", []):
                if term:
                    keys.add(term_key(term))
    return frozenset(keys)


def _is_drug_entry(data: dict[str, Any]) -> bool:
    return bool(data.get("drugbank_id") or data.get("medline_plus_id") or data.get("nhs_url"))


def build_library_map(raw: dict[str, Any], exclude: set[str]) -> dict[str, tuple[str, str | None]]:
    """Filtered ``variant key -> (canonical name, DrugBank id)`` from the library's dictionary."""
    canon_data = raw["drug_canonical_to_data"]
    out: dict[str, tuple[str, str | None]] = {}
    for variant, canonicals in raw["drug_variant_to_canonical"].items():
        if not canonicals:
            continue
        key = term_key(variant)
        if len(key) < 4 or key in exclude or key.replace(".", "").isdigit():
            continue
        canonical = canonicals[0]
        data = canon_data.get(canonical, {})
        if not _is_drug_entry(data):
            continue
        out[key] = (canonical.lower(), data.get("drugbank_id"))
    return out


def _write_cache(path: Path, obj: Any) -> None:
    """Pickle ``obj`` to ``path`` atomically (a temporary file, then a rename); log and go on when it fails."""
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except (OSError, pickle.PicklingError) as e:
        log.info("cannot write lexicon cache %s: %s", path, e)
        try:
            tmp.unlink()
        except OSError:
            pass


def _read_cache(path: Path) -> Any:
    """The object pickled at ``path``, or None when it is missing or unreadable.

    The collector is paused while the ~50k small objects are created (it would otherwise
    scan them several times over, tripling the load time).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as e:  # noqa: BLE001 - any corrupt or stale pickle means: rebuild
        log.info("ignoring unreadable lexicon cache %s: %s", path, e)
        return None
    finally:
        if enabled:
            gc.enable()


def _library_map() -> dict[str, tuple[str, str | None]]:
    stamp = f"{_library_version()}-{rules_sha256()[:16]}"
    cache = _cache_dir() / f"drug_lexicon-{stamp}.pkl"
    mapping = _read_cache(cache)
    if isinstance(mapping, dict):
        return mapping
    raw = _read_library()
    if raw is None:
        return {}
    mapping = build_library_map(raw, excluded_terms())
    _write_cache(cache, mapping)
    return mapping


HEAD_CHARS = 8
_NEEDS_KEY = re.compile(r"\s\s|\n|\s[-/]|[-/]\s|[\u2010-\u2015\u2212μ]")


def text_views(doc: Any) -> tuple[str, str, list[int]]:
    """``(text, text.lower(), odd)`` of a Doc, computed once per document (both term indexes use them).

    ``odd``: positions of ``text.lower()`` where a slice needs full ``term_key`` normalization
    (rare: double spaces, line breaks, spaced or unicode dashes).
    """
    text = doc_text(doc)
    cached = doc.user_data.get(VIEWS_KEY)
    if cached is not None and cached[0] is text:
        return cached
    lower = text.lower()
    views = (text, lower, [m.start() for m in _NEEDS_KEY.finditer(lower)])
    doc.user_data[VIEWS_KEY] = views
    return views


class TermIndex:
    """Longest-match lookup of terms over a Doc's tokens, without a PhraseMatcher.

    Keys are ``term_key``s (case-insensitive) or exact strings (case-sensitive
    abbreviations). A candidate is any run of up to ``max_tokens`` tokens whose
    text, normalized, is a key; an index of the keys' first four characters skips
    most tokens at once and bounds how far a match can reach, and one of their first
    ``HEAD_CHARS`` characters ends a scan no key can finish, so building is one pass and
    matching is a few lookups per token.
    """

    def __init__(self, folded: dict[str, Any], exact: dict[str, Any] | None = None, *, max_tokens: int = 12) -> None:
        self.folded = folded
        self.exact = exact or {}
        keys = list(folded) + [e.lower() for e in self.exact]
        # first four characters of every key -> the longest key starting so (bounds the n-gram scan)
        self.prefixes: dict[str, int] = {}
        for k in keys:
            head = k[:4]
            if len(k) > self.prefixes.get(head, 0):
                self.prefixes[head] = len(k)
        # first HEAD_CHARS characters of the keys at least that long: a second, finer filter
        self.long_heads = {k[:HEAD_CHARS] for k in keys if len(k) >= HEAD_CHARS}
        longest = max((len(k.split()) + k.count("-") + k.count("/") for k in list(folded) + list(self.exact)), default=1)
        self.max_tokens = min(max_tokens, longest + 3)

    def lookup(self, text: str) -> Any:
        hit = self.exact.get(text.strip())
        if hit is not None:
            return hit
        low = text.lower()
        return self.folded.get(low if not _NEEDS_KEY.search(low) else term_key(low))

    def matches(self, doc: Any) -> list[tuple[int, int, Any]]:
        """Non-overlapping longest ``(start_token, end_token, value)`` matches, left to right."""
        text, lower, odd = text_views(doc)
        if len(doc):
            arr = doc.to_array([IDX, LENGTH])
            starts = arr[:, 0].tolist()
            ends = (arr[:, 0] + arr[:, 1]).tolist()
        else:
            starts, ends = [], []
        folded, exact, prefixes, long_heads = self.folded, self.exact, self.prefixes, self.long_heads
        # tokens where a key may start: their first four characters (or the whole shorter token) head a key
        heads = [i for i, (start, end) in enumerate(zip(starts, ends))
                 if lower[start:start + 4] in prefixes or (end - start < 4 and lower[start:end] in prefixes)]
        out: list[tuple[int, int, Any]] = []
        n = len(starts)
        k_head = 0
        while k_head < len(heads):
            i = heads[k_head]
            k_head += 1
            start = starts[i]
            max_chars = prefixes.get(lower[start:start + 4])
            if max_chars is None:  # a token shorter than four characters
                max_chars = prefixes[lower[start:ends[i]]]
            max_chars += 4  # slack for spacing the key normalizes away
            if max_chars >= HEAD_CHARS and lower[start:start + HEAD_CHARS] not in long_heads:
                k = bisect_left(odd, start)
                if k == len(odd) or odd[k] >= start + HEAD_CHARS:  # the head needs no normalizing
                    max_chars = HEAD_CHARS - 1  # no key this long starts so: only shorter ones can match
            best: tuple[int, Any] | None = None
            for j in range(i, min(n, i + self.max_tokens)):
                end = ends[j]
                if end - start > max_chars:
                    break
                hit = exact.get(text[start:end])
                if hit is None:
                    low = lower[start:end]
                    k = bisect_left(odd, start)
                    if k < len(odd) and odd[k] < end:
                        if "\n\n" in low:
                            break
                        low = term_key(low)
                    hit = folded.get(low)
                if hit is not None:
                    best = (j + 1, hit)
            if best is None:
                continue
            out.append((i, best[0], best[1]))
            while k_head < len(heads) and heads[k_head] < best[0]:  # resume after the match
                k_head += 1
        return out


class DrugLexicon:
    """Case-insensitive term lookup plus case-sensitive abbreviations (``MTX``, ``RTX``)."""

    def __init__(self, rules: list[dict[str, Any]], library: dict[str, tuple[str, str | None]],
                 stop: set[str] | frozenset[str] = frozenset()) -> None:
        self.terms: dict[str, DrugInfo] = {}
        self.abbreviations: dict[str, DrugInfo] = {}
        self.regexes: list[tuple[str, DrugInfo]] = []
        for key, (name, dbid) in library.items():
            self.terms[key] = DrugInfo(name, drugbank_id=dbid)
        for rule in rules:
            name = rule["id"].lower()
            dbid = None
            for term in [rule["id"], rule.get("pattern", "")] + rule.get("synonyms", []):
                hit = library.get(term_key(term)) if term else None
                if hit and hit[1]:
                    dbid = hit[1]
                    break
            info = DrugInfo(name, rule.get("class"), rule.get("target"), dbid, bool(rule.get("is_class")), True)
            for term in [rule["id"], rule.get("pattern", "")] + rule.get("synonyms", []):
                if term and term_key(term) not in stop:  # the stoplist wins: a rule id may be a vague word
                    self.terms[term_key(term)] = info
            for abbr in rule.get("abbreviations", []):
                self.abbreviations[abbr] = info
            for pattern in rule.get("regex", []):
                self.regexes.append((pattern, info))
        # library synonyms (brands, salts) of a rule drug take the rule's class and target
        by_dbid = {i.drugbank_id: i for i in self.terms.values() if i.rule and i.drugbank_id}
        for key, info in list(self.terms.items()):
            if not info.rule and info.drugbank_id in by_dbid:
                self.terms[key] = by_dbid[info.drugbank_id]
        self.index = TermIndex(self.terms, self.abbreviations)

    def lookup(self, text: str) -> DrugInfo | None:
        """The drug a surface form names: abbreviations by exact case, terms by key."""
        return self.index.lookup(text)

    def __len__(self) -> int:
        return len(self.terms) + len(self.abbreviations)


def _build_lexicon(library: bool) -> DrugLexicon:
    stop = {term_key(r["pattern"]) for r in load_rules("drug_stoplist")}
    return DrugLexicon(load_rules("drugs"), _library_map() if library else {}, stop)


def _code_stamp() -> str:
    """A digest of this module's source: a cached ``DrugLexicon`` is only reused by the code that pickled it."""
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    except OSError:
        return "nocode"


def lexicon_cache_path() -> Path:
    """Where the finished library lexicon is cached (library version, rules and code in the name)."""
    stamp = f"{_library_version()}-{rules_sha256()[:16]}-{_code_stamp()}"
    return _cache_dir() / f"drug_lexicon_index-{stamp}.pkl"


@lru_cache(maxsize=2)
def load_lexicon(*, library: bool = True) -> DrugLexicon:
    """The drug lexicon (cached); ``library=False`` uses only ``rules/drugs.jsonl``.

    With the library, the finished lexicon is also cached on disk (``lexicon_cache_path``)."""
    if not library:
        return _build_lexicon(False)
    cache = lexicon_cache_path()
    lexicon = _read_cache(cache)
    if isinstance(lexicon, DrugLexicon):
        return lexicon
    lexicon = _build_lexicon(True)
    if lexicon.terms:  # not when the library was unavailable: a later run may have it
        _write_cache(cache, lexicon)
        _prune_stale(cache)
    return lexicon


def _prune_stale(current: Path) -> None:
    """Delete lexicon caches of other rule, code or library versions (3-4 MB each)."""
    prefix = current.name.split("-", 1)[0]
    for old in current.parent.glob(f"{prefix}-*.pkl"):
        if old != current:
            try:
                old.unlink()
            except OSError:
                pass
