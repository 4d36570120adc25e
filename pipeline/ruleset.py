"""Loading and validating the rule files in ``rules/`` (installed as ``pipeline.rules``).

Each file holds one JSON object per line in spaCy SpanRuler shape
(``{"label": ..., "pattern": ..., "id": ...}``) plus clinex keys. Every file has a
small rule class (a ``RuleSpec``) naming its required and allowed keys and their
types; unknown keys, missing keys, wrong types and bad JSON raise ``RuleError``
naming the file, the line and the key. Blank lines and lines starting with ``//``
are skipped.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from pipeline.errors import RuleError

STR = (str,)
NUM = (int, float)
STR_LIST = "list[str]"


@dataclass(frozen=True)
class RuleSpec:
    """What one rule file may hold: ``keys`` maps a key to its type(s); ``required`` must be present."""

    file: str
    labels: tuple[str, ...]
    required: tuple[str, ...]
    keys: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)


_COMMON = {"label": STR, "pattern": STR, "id": STR, "comment": STR}
_LEXICAL = {"synonyms": STR_LIST, "abbreviations": STR_LIST, "regex": STR_LIST}

SPECS: dict[str, RuleSpec] = {
    "drugs": RuleSpec(
        "drugs.jsonl", ("DRUG",), ("label", "id"),
        {**_COMMON, **_LEXICAL, "class": STR, "target": STR + (type(None),), "is_class": (bool,)},
    ),
    "inn_stems": RuleSpec(
        "inn_stems.jsonl", ("DRUG",), ("label", "pattern", "id", "class"),
        {**_COMMON, "class": STR, "min_length": (int,), "hyphenated": (bool,), "exclude": STR_LIST},
    ),
    "scores": RuleSpec(
        "scores.jsonl", ("SCORE",), ("label", "id", "kind"),
        {**_COMMON, **_LEXICAL, "kind": STR, "units": STR_LIST, "range": "range", "requires_cue": (bool,),
         "loinc": STR},
        {"kind": ("score",)},
    ),
    "labs": RuleSpec(
        "labs.jsonl", ("LAB",), ("label", "id", "kind"),
        {**_COMMON, **_LEXICAL, "kind": STR, "units": STR_LIST, "range": "range", "requires_cue": (bool,),
         "loinc": STR, "split": STR_LIST},
        {"kind": ("lab", "vital")},
    ),
    "units": RuleSpec(
        "units.jsonl", ("UNIT",), ("label", "pattern", "id", "ucum", "factor"),
        {**_COMMON, "ucum": STR, "factor": NUM, "dimension": STR},
    ),
    "timepoints": RuleSpec(
        "timepoints.jsonl", ("TIMEPOINT",), ("label", "pattern", "id", "kind"),
        {**_COMMON, "kind": STR, "days": NUM + (type(None),), "value": NUM + (type(None),),
         "unit": STR + (type(None),)},
        {"kind": ("baseline", "number", "unit", "exclude_before", "history_before")},
    ),
    "linking": RuleSpec(
        "linking.jsonl", ("LINK",), ("label", "pattern"),
        {**_COMMON},
    ),
    "value_forms": RuleSpec(
        "value_forms.jsonl", ("VALUE_FORM",), ("label", "pattern", "id"),
        {**_COMMON, "result": STR}, {"id": ("mean_sd", "median_range", "titer", "result")},
    ),
    "context": RuleSpec(
        "context.jsonl", ("CONTEXT",), ("label", "pattern", "id"),
        {**_COMMON}, {"id": ("negated_pre", "negated_post", "hypothetical_pre", "hypothetical_post")},
    ),
    "findings": RuleSpec(
        "findings.jsonl", ("FINDING",), ("label", "pattern", "id", "kind"),
        {**_COMMON, "kind": STR}, {"kind": ("lab", "vital")},
    ),
    "vocabulary": RuleSpec(
        "vocabulary.jsonl", ("WORD",), ("label", "pattern", "id"),
        {**_COMMON, "prefix": STR}, {"id": ("back_matter_heading", "reference_cue", "population_noun", "table_result_cell",
                                            "baseline_phrase", "specimen")},
    ),
    "drug_stoplist": RuleSpec(
        "drug_stoplist.jsonl", ("NOT_DRUG",), ("label", "pattern"),
        {**_COMMON},
    ),
}


def _check_type(value: Any, expected: Any) -> bool:
    if expected == STR_LIST:
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    if expected == "range":
        return (isinstance(value, list) and len(value) == 2
                and all(isinstance(v, NUM) and not isinstance(v, bool) for v in value) and value[0] <= value[1])
    if expected == NUM or expected == NUM + (type(None),):
        return isinstance(value, expected) and not isinstance(value, bool)
    return isinstance(value, expected)


def validate_rule(obj: Any, spec: RuleSpec, *, path: str, line: int) -> dict[str, Any]:
    """Check one parsed rule against its spec; return it or raise ``RuleError``."""
    if not isinstance(obj, dict):
        raise RuleError("a rule must be a JSON object", path=path, line=line)
    for key in obj:
        if key not in spec.keys:
            raise RuleError(f"unknown key (allowed: {', '.join(sorted(spec.keys))})", path=path, line=line, key=key)
    for key in spec.required:
        if key not in obj:
            raise RuleError("missing required key", path=path, line=line, key=key)
    for key, value in obj.items():
        expected = spec.keys[key]
        if not _check_type(value, expected):
            raise RuleError(f"bad value {value!r}", path=path, line=line, key=key)
        if isinstance(value, str) and not value.strip() and key != "comment":
            raise RuleError("empty string", path=path, line=line, key=key)
    if obj["label"] not in spec.labels:
        raise RuleError(f"label must be one of {spec.labels}", path=path, line=line, key="label")
    for key, allowed in spec.choices.items():
        if key in obj and obj[key] not in allowed:
            raise RuleError(f"must be one of {allowed}", path=path, line=line, key=key)
    if "regex" in obj:
        import regex

        for pattern in obj["regex"]:
            try:
                regex.compile(pattern)
            except regex.error as e:
                raise RuleError(f"bad regular expression: {e}", path=path, line=line, key="regex") from e
    return obj


def parse_rules(text: str, spec: RuleSpec, *, path: str | None = None) -> list[dict[str, Any]]:
    """Parse and validate the JSONL ``text`` of one rule file."""
    path = path or spec.file
    rules: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("//"):
            continue
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise RuleError(f"invalid JSON: {e.msg} (column {e.colno})", path=path, line=number) from e
        rules.append(validate_rule(obj, spec, path=path, line=number))
    return rules


def _read(file: str) -> str:
    try:
        return resources.files("pipeline.rules").joinpath(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RuleError(f"cannot read rule file: {e}", path=file) from e


@lru_cache(maxsize=None)
def _load(name: str) -> tuple[dict[str, Any], ...]:
    spec = SPECS[name]
    return tuple(parse_rules(_read(spec.file), spec, path=spec.file))


def load_rules(name: str) -> list[dict[str, Any]]:
    """The validated rules of ``rules/<name>.jsonl`` (cached; callers get a fresh list)."""
    if name not in SPECS:
        raise RuleError(f"no rule file named {name!r}", path=f"{name}.jsonl")
    return list(_load(name))


def word_alternation(file: str, list_id: str) -> str:
    """A regex alternation (longest first, spaces as ``\\s+``) of the ``pattern``s of ``rules/<file>.jsonl``
    whose ``id`` is ``list_id``: word lists kept as data, compiled by the module that reads them."""
    import regex

    words = sorted({r["pattern"] for r in load_rules(file) if r.get("id") == list_id}, key=len, reverse=True)
    if not words:
        raise RuleError(f"no word list {list_id!r}", path=SPECS[file].file)
    return "(?:" + "|".join(regex.escape(w).replace(r"\ ", r"\s+") for w in words) + ")"


def validate_rules() -> list[str]:
    """Validate every rule file; one summary line per file (raises ``RuleError`` on the first error)."""
    _load.cache_clear()
    lines = []
    for name, spec in SPECS.items():
        rules = load_rules(name)
        ids = {r.get("id") for r in rules if r.get("id")}
        lines.append(f"{spec.file}: {len(rules)} rules, {len(ids)} ids")
    return lines


def rules_sha256() -> str:
    """SHA-256 over all rule files (name and bytes, in name order): part of a record's provenance."""
    digest = hashlib.sha256()
    for name in sorted(SPECS):
        file = SPECS[name].file
        digest.update(file.encode())
        digest.update(b"\0")
        digest.update(_read(file).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()
