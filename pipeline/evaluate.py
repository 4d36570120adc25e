"""Score predicted records against gold records (corpus/GUIDELINES.md, section 6).

Entities are scored per label and micro-averaged under two schemes, as in
SemEval-2013 task 9 (Segura-Bedmar et al. 2013; the ``nervaluate`` package):
*strict* (same label, same offsets) and *partial* (same label, overlapping
offsets, a partial match counted as a full true positive). Matching is
one-to-one and deterministic: exact pairs first, then the remaining pairs
greedily by largest overlap, ties broken by gold start then prediction start.

Measurements are matched one-to-one on (patient, analyte, value); matched pairs
are then checked for unit, timepoint and comparator. Drugs are scored on the set
of normalized names per document.

0/0 convention: a metric whose numerator and denominator are both empty is
undefined (``None``); precision with no predictions and recall with no gold are 0.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipeline import error_classes
from pipeline.analyte_names import analyte_key
from pipeline.errors import GoldError
from pipeline.record import LABELS, validate_record
from pipeline.units import normalize_unit

log = logging.getLogger(__name__)

SCHEMES = ("strict", "partial")
VALUE_REL_TOL = 1e-3
VALUE_ABS_TOL = 1e-6
DAYS_ABS_TOL = 3.0
DAYS_REL_TOL = 0.10
HEADLINE = ("entities.strict", "measurements", "drugs")
_RESERVED = frozenset({"manifest", "errors", "measurements"})


# --------------------------------------------------------------------------- counts

def prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """Precision, recall and F1 with the module's 0/0 convention."""
    if tp + fp + fn == 0:
        return {"tp": 0, "fp": 0, "fn": 0, "precision": None, "recall": None, "f1": None}
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def _add(counts: dict[str, int], tp: int, fp: int, fn: int) -> None:
    counts["tp"] += tp
    counts["fp"] += fp
    counts["fn"] += fn


def _new_counts() -> dict[str, int]:
    return {"tp": 0, "fp": 0, "fn": 0}


def _score(counts: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {**prf(counts["tp"], counts["fp"], counts["fn"]), **extra}


def _accuracy(right: int, total: int) -> float | None:
    return right / total if total else None


# --------------------------------------------------------------------------- entities

Span = tuple[int, int]


def overlap(a: Span, b: Span) -> int:
    """Number of characters two half-open spans share."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def match_spans(gold: Sequence[Span], pred: Sequence[Span], *, scheme: str = "strict") -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs for spans of one label.

    ``strict`` pairs identical spans only; ``partial`` also pairs overlapping
    spans: identical first, then the largest overlap, ties by gold then pred start.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {SCHEMES}")
    pairs: list[tuple[int, int]] = []
    used_g: set[int] = set()
    used_p: set[int] = set()
    by_span: dict[Span, list[int]] = defaultdict(list)
    for j, span in enumerate(pred):
        by_span[tuple(span)].append(j)
    for i, span in enumerate(gold):
        candidates = by_span.get(tuple(span))
        if candidates:
            j = candidates.pop(0)
            pairs.append((i, j))
            used_g.add(i)
            used_p.add(j)
    if scheme == "partial":
        scored = [(-overlap(g, p), g[0], p[0], i, j)
                  for i, g in enumerate(gold) if i not in used_g
                  for j, p in enumerate(pred) if j not in used_p and overlap(g, p) > 0]
        for _, _, _, i, j in sorted(scored):
            if i not in used_g and j not in used_p:
                pairs.append((i, j))
                used_g.add(i)
                used_p.add(j)
    return sorted(pairs)


def _entity_key(ent: dict[str, Any]) -> Span:
    return (int(ent["start"]), int(ent["end"]))


def evaluate_entities(gold: Iterable[dict[str, Any]], pred: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Per-label and micro counts for both schemes, and the unmatched entities.

    Returns ``{scheme: {"per_label": {label: counts}, "micro": counts, "fp": [...], "fn": [...]}}``
    where fp/fn list the unmatched entity dicts (strict ones carry ``partial_match``,
    the overlapping entity of the other side when there is one).
    """
    gold_by = defaultdict(list)
    pred_by = defaultdict(list)
    for ent in gold:
        gold_by[ent["label"]].append(ent)
    for ent in pred:
        pred_by[ent["label"]].append(ent)
    result: dict[str, Any] = {}
    for scheme in SCHEMES:
        per_label = {}
        micro = _new_counts()
        fps: list[dict[str, Any]] = []
        fns: list[dict[str, Any]] = []
        for label in sorted(set(LABELS) | set(gold_by) | set(pred_by)):
            g = sorted(gold_by.get(label, []), key=_entity_key)
            p = sorted(pred_by.get(label, []), key=_entity_key)
            pairs = match_spans([_entity_key(e) for e in g], [_entity_key(e) for e in p], scheme=scheme)
            mg = {i for i, _ in pairs}
            mp = {j for _, j in pairs}
            counts = {"tp": len(pairs), "fp": len(p) - len(mp), "fn": len(g) - len(mg)}
            per_label[label] = counts
            _add(micro, **counts)
            if scheme == "strict":
                partial = dict(match_spans([_entity_key(e) for e in g], [_entity_key(e) for e in p], scheme="partial"))
                partial_rev = {j: i for i, j in partial.items()}
                fns += [{**g[i], "partial_match": _brief(p[partial[i]]) if i in partial else None}
                        for i in range(len(g)) if i not in mg]
                fps += [{**p[j], "partial_match": _brief(g[partial_rev[j]]) if j in partial_rev else None}
                        for j in range(len(p)) if j not in mp]
            else:
                fns += [g[i] for i in range(len(g)) if i not in mg]
                fps += [p[j] for j in range(len(p)) if j not in mp]
        result[scheme] = {"per_label": per_label, "micro": micro, "fp": fps, "fn": fns}
    return result


def _brief(ent: dict[str, Any]) -> dict[str, Any]:
    return {"label": ent["label"], "text": ent.get("text"), "start": ent["start"], "end": ent["end"]}


# --------------------------------------------------------------------------- measurements

def patient_key(patient: Any) -> str:
    """Patient id compared case-insensitively without a ``patient``/``pt``/``case``/``p`` prefix."""
    text = str(patient if patient is not None else "").strip().lower()
    return re.sub(r"^(?:patient|pt|case|p)[\s._#-]*(?=\w)", "", text)


def values_equal(a: float | None, b: float | None) -> bool:
    """Equal within ``VALUE_ABS_TOL`` + ``VALUE_REL_TOL`` of the larger magnitude (None only equals None)."""
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= VALUE_ABS_TOL + VALUE_REL_TOL * max(abs(a), abs(b))


def unit_key(unit: str | None) -> str | None:
    """Units compared by equivalence: the canonical unit of ``rules/units.jsonl`` (``IU/L`` = ``U/L``,
    ``10^3/µL`` = ``×10^9/L``) when it knows the form, then case- and space-insensitively, micro signs unified."""
    if unit is None or not str(unit).strip():
        return None
    info = normalize_unit(str(unit))
    canonical = info.unit if info is not None and info.factor == 1.0 else str(unit)
    return re.sub(r"\s+", "", canonical).casefold()  # casefold maps the micro sign to Greek mu


def timepoints_agree(gold: dict[str, Any] | None, pred: dict[str, Any] | None) -> bool:
    """Baseline flags agree; follow-ups agree on unknown days or days within tolerance."""
    g = gold or {}
    p = pred or {}
    if bool(g.get("is_baseline")) != bool(p.get("is_baseline")):
        return False
    if g.get("is_baseline"):
        return True
    gd, pd = g.get("days"), p.get("days")
    if gd is None or pd is None:
        return gd is None and pd is None
    return abs(float(gd) - float(pd)) <= max(DAYS_ABS_TOL, DAYS_REL_TOL * abs(float(gd)))


def _m_key(m: dict[str, Any]) -> tuple[str, str]:
    return patient_key(m.get("patient")), analyte_key(m.get("analyte"))


def same_value(g: dict[str, Any], p: dict[str, Any]) -> bool:
    """Values agree (qualitative results, value null, agree on their ``result``)."""
    if g.get("value") is None and p.get("value") is None:
        return (g.get("result") or "").casefold() == (p.get("result") or "").casefold()
    return values_equal(g.get("value"), p.get("value"))


def _m_same(g: dict[str, Any], p: dict[str, Any]) -> bool:
    return _m_key(g) == _m_key(p) and same_value(g, p)


def match_measurements(gold: Sequence[dict[str, Any]], pred: Sequence[dict[str, Any]]) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs on (patient, analyte, value).

    Among the candidates of a gold tuple, pairs that also agree on timepoint and
    unit are taken first; remaining ties by gold then prediction order.
    """
    scored = []
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            if _m_same(g, p):
                agree = int(timepoints_agree(g.get("timepoint"), p.get("timepoint"))) * 2 + \
                    int(unit_key(g.get("unit")) == unit_key(p.get("unit")))
                scored.append((-agree, i, j))
    pairs = []
    used_g: set[int] = set()
    used_p: set[int] = set()
    for _, i, j in sorted(scored):
        if i not in used_g and j not in used_p:
            pairs.append((i, j))
            used_g.add(i)
            used_p.add(j)
    return sorted(pairs)


def attribute_checks(g: dict[str, Any], p: dict[str, Any]) -> dict[str, bool]:
    """Unit, timepoint and comparator agreement of a matched pair."""
    return {
        "unit_ok": unit_key(g.get("unit")) == unit_key(p.get("unit")),
        "timepoint_ok": timepoints_agree(g.get("timepoint"), p.get("timepoint")),
        "comparator_ok": (g.get("comparator") or None) == (p.get("comparator") or None),
    }


def evaluate_measurements(gold: Sequence[dict[str, Any]], pred: Sequence[dict[str, Any]], *,
                          text: str = "") -> dict[str, Any]:
    """Counts, attribute agreement, per-analyte counts and classified errors for one document."""
    pairs = match_measurements(gold, pred)
    mg = {i for i, _ in pairs}
    mp = {j for _, j in pairs}
    per_analyte: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "unit_ok": 0,
                                                                   "timepoint_ok": 0, "comparator_ok": 0})
    attribute_errors = []
    totals = {"unit_ok": 0, "timepoint_ok": 0, "comparator_ok": 0}
    for i, j in pairs:
        g, p = gold[i], pred[j]
        checks = attribute_checks(g, p)
        row = per_analyte[g["analyte"]]
        row["tp"] += 1
        for key, ok in checks.items():
            row[key] += int(ok)
            totals[key] += int(ok)
        wrong = [k.removesuffix("_ok") for k, ok in checks.items() if not ok]
        if wrong:
            attribute_errors.append({"gold": g, "pred": p, "wrong": wrong})
    for i, g in enumerate(gold):
        if i not in mg:
            per_analyte[g["analyte"]]["fn"] += 1
    for j, p in enumerate(pred):
        if j not in mp:
            per_analyte[p.get("analyte", "")]["fp"] += 1
    return {
        "tp": len(pairs), "fp": len(pred) - len(mp), "fn": len(gold) - len(mg), **totals,
        "per_analyte": {k: dict(v) for k, v in sorted(per_analyte.items())},
        "fp_items": [pred[j] for j in range(len(pred)) if j not in mp],
        "fn_items": [gold[i] for i in range(len(gold)) if i not in mg],
        "attribute_errors": attribute_errors,
        "classified": error_classes.classify(text, gold, pred, pairs, key=_m_key, same_value=same_value,
                                             checks=attribute_checks),
    }


def scored_predictions(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The measurements a record is scored on: not derived ones, and not changes (flag ``change``: a
    difference, not a level; corpus/GUIDELINES.md, section 5a)."""
    return [m for m in record.get("measurements", []) if not m.get("derived") and "change" not in m.get("flags", [])]


def _measurement_score(counts: dict[str, int]) -> dict[str, Any]:
    tp = counts["tp"]
    return {**prf(tp, counts["fp"], counts["fn"]),
            "unit_accuracy": _accuracy(counts["unit_ok"], tp),
            "timepoint_accuracy": _accuracy(counts["timepoint_ok"], tp),
            "comparator_accuracy": _accuracy(counts["comparator_ok"], tp)}


# --------------------------------------------------------------------------- drugs

def drug_names(record: dict[str, Any]) -> set[str]:
    """Lowercased normalized drug names of a record (its ``drugs`` list)."""
    return {str(d["name"]).strip().lower() for d in record.get("drugs", []) if d.get("name")}


# --------------------------------------------------------------------------- records

def sentence_at(text: str, start: int, end: int, *, max_chars: int = 400) -> str:
    """The sentence around ``text[start:end]`` with the span marked ``[[...]]``.

    Boundaries: blank lines, and ``.!?`` followed by space and an uppercase letter
    or digit, except after common abbreviations (Fig., e.g., et al., vs., Dr.).
    """
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    left = max(0, start - max_chars)
    right = min(len(text), end + max_chars)
    s = left
    for m in _BOUNDARY.finditer(text, left, min(len(text), start + 2)):  # +2: let the lookahead see the span
        if m.end() <= start and not _ABBREV.search(text, max(0, m.start() - 8), m.start() + 1):
            s = m.end()
    e = right
    for m in _BOUNDARY.finditer(text, end, right):
        if not _ABBREV.search(text, max(0, m.start() - 8), m.start() + 1):
            e = m.start() + (1 if text[m.start()] in ".!?" else 0)
            break
    snippet = text[s:start] + "[[" + text[start:end] + "]]" + text[end:e]
    return re.sub(r"\s+", " ", snippet).strip()


_BOUNDARY = re.compile(r"\n\s*\n|[.!?](?=\s+[\"“(]?[A-Z0-9])\s*")
_ABBREV = re.compile(r"(?:\b(?:Fig|Figs|e\.g|i\.e|al|vs|Dr|Drs|No|approx|ca|cf|Ref)|\b[A-Z])\.$")


def gold_text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def find_source(source_path: str, gold_path: Path) -> Path | None:
    """Locate a gold file's source document (absolute, or relative to cwd or an ancestor of the gold file)."""
    candidate = Path(source_path)
    if candidate.is_absolute():
        return candidate if candidate.exists() else None
    for base in (Path.cwd(), *gold_path.resolve().parents):
        if (base / candidate).is_file():
            return base / candidate
    return None


def load_gold(path: Path, *, check_source: bool = True) -> dict[str, Any]:
    """Read, validate and freshness-check one gold file; raise ``GoldError`` naming it.

    The stored ``text_sha256`` must match the stored text and, when the source
    document can be found, the text the current normalizer produces from it.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise GoldError(f"cannot read gold file: {e}", path=path) from e
    try:
        validate_record(record, name=str(path))
    except Exception as e:  # SchemaError
        raise GoldError(f"not a valid record: {getattr(e, 'reason', e)}", path=path) from e
    doc = record["document"]
    if gold_text_sha256(doc["text"]) != doc["text_sha256"]:
        raise GoldError("document.text does not hash to document.text_sha256", path=path)
    if check_source:
        source = find_source(doc["source_path"], path)
        if source is None:
            log.warning("gold %s: source %s not found; normalization freshness not checked", path, doc["source_path"])
        else:
            from pipeline.ingest import read_document

            current = gold_text_sha256(read_document(source).text)
            if current != doc["text_sha256"]:
                raise GoldError(
                    f"stale gold: text_sha256 {doc['text_sha256'][:12]} != current normalization of "
                    f"{doc['source_path']} ({current[:12]}); offsets no longer hold, re-annotate "
                    "(see corpus/GUIDELINES.md, section 7)", path=path)
    return record


def _read_pred(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise GoldError(f"cannot read prediction: {e}", path=path) from e
    return record if isinstance(record, dict) and "document" in record else None


def evaluate_records(gold: dict[str, dict[str, Any]], pred: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Score predicted records against gold records, both keyed by document id.

    Gold documents without a prediction are scored against an empty record (all
    false negatives); predictions without gold are skipped. Both are listed.
    """
    missing = sorted(set(gold) - set(pred))
    skipped = sorted(set(pred) - set(gold))
    ent_totals = {s: {"micro": _new_counts(), "per_label": defaultdict(_new_counts)} for s in SCHEMES}
    m_totals = {"tp": 0, "fp": 0, "fn": 0, "unit_ok": 0, "timepoint_ok": 0, "comparator_ok": 0}
    m_analyte: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(m_totals, 0))
    d_totals = _new_counts()
    class_totals: Counter[str] = Counter()
    per_document: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for doc_id in sorted(gold):
        g = gold[doc_id]
        p = pred.get(doc_id, {})
        text = g["document"]["text"]
        pred_sha = (p.get("document") or {}).get("text_sha256")
        if p and pred_sha and pred_sha != g["document"]["text_sha256"]:
            raise GoldError(f"prediction for {doc_id} was made from other normalized text than its gold "
                            "(text_sha256 differs): re-run extraction, or re-annotate if normalization changed",
                            path=doc_id)
        labels = set(g["document"].get("annotated") or LABELS)
        ents = evaluate_entities(g.get("entities", []), [e for e in p.get("entities", []) if e["label"] in labels])
        meas = evaluate_measurements(g.get("measurements", []), scored_predictions(p), text=text)
        classes = Counter(e["class"] for e in meas["classified"])
        class_totals.update(classes)
        gd, pd = drug_names(g), drug_names(p)
        drugs = {"tp": len(gd & pd), "fp": len(pd - gd), "fn": len(gd - pd)}
        for s in SCHEMES:
            _add(ent_totals[s]["micro"], **ents[s]["micro"])
            for label, c in ents[s]["per_label"].items():
                _add(ent_totals[s]["per_label"][label], **c)
        for key in m_totals:
            m_totals[key] += meas[key]
        for analyte, c in meas["per_analyte"].items():
            for key, v in c.items():
                m_analyte[analyte][key] += v
        _add(d_totals, **drugs)
        per_document[doc_id] = {
            "entities": {s: _score(ents[s]["micro"]) for s in SCHEMES},
            "measurements": _measurement_score(meas),
            "drugs": _score(drugs),
            "missing_prediction": doc_id in missing,
            "gold_measurements": len(g.get("measurements", [])),
            "error_classes": dict(sorted(classes.items())),
        }
        errors[doc_id] = {
            "entities": [_entity_error(text, e, "fp") for e in ents["strict"]["fp"]]
            + [_entity_error(text, e, "fn") for e in ents["strict"]["fn"]],
            "measurements": [_measurement_error(text, m, "fp") for m in meas["fp_items"]]
            + [_measurement_error(text, m, "fn") for m in meas["fn_items"]],
            "measurement_attributes": [_attribute_error(text, a) for a in meas["attribute_errors"]],
            "measurement_classes": [_classified_error(text, e) for e in meas["classified"]],
            "drugs": [{"kind": "fp", "name": n} for n in sorted(pd - gd)] + [{"kind": "fn", "name": n} for n in sorted(gd - pd)],
        }
    return {
        "documents": {"evaluated": sorted(gold), "missing_prediction": missing, "skipped_no_gold": skipped},
        "entities": {s: {"micro": _score(ent_totals[s]["micro"]),
                         "per_label": {k: _score(v) for k, v in sorted(ent_totals[s]["per_label"].items())}}
                     for s in SCHEMES},
        "measurements": {"micro": _measurement_score(m_totals),
                         "error_classes": {c: class_totals[c] for c in error_classes.ERROR_CLASSES if class_totals[c]},
                         "per_analyte": {k: _measurement_score(v) for k, v in sorted(m_analyte.items())}},
        "drugs": {"micro": _score(d_totals)},
        "per_document": per_document,
        "errors": errors,
        "settings": {"value_rel_tol": VALUE_REL_TOL, "value_abs_tol": VALUE_ABS_TOL,
                     "days_abs_tol": DAYS_ABS_TOL, "days_rel_tol": DAYS_REL_TOL},
    }


def _entity_error(text: str, ent: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"kind": kind, "label": ent["label"], "text": ent.get("text", text[ent["start"]:ent["end"]]),
            "start": ent["start"], "end": ent["end"], "partial_match": ent.get("partial_match"),
            "sentence": sentence_at(text, ent["start"], ent["end"])}


def _tp_text(tp: dict[str, Any] | None) -> str:
    if not tp:
        return "no time"
    if tp.get("is_baseline"):
        return "baseline"
    days = tp.get("days")
    label = tp.get("text") or "follow-up"
    return f"{label} (day {days:g})" if isinstance(days, (int, float)) else f"{label} (days unknown)"


def _m_brief(m: dict[str, Any]) -> str:
    value = m.get("value")
    shown = f"{value:g}" if isinstance(value, (int, float)) else (m.get("result") or "?")
    comp = m.get("comparator") or ""
    unit = f" {m['unit']}" if m.get("unit") else ""
    return f"patient {m.get('patient')} {m.get('analyte')} {comp}{shown}{unit} @ {_tp_text(m.get('timepoint'))}"


def _sentence_of(text: str, span: dict[str, Any]) -> str:
    """The marked sentence around an evidence span ("" when the span is missing or outside the text)."""
    if "start" not in span or span["end"] > len(text):
        return ""
    return sentence_at(text, span["start"], span["end"])


def _measurement_error(text: str, m: dict[str, Any], kind: str) -> dict[str, Any]:
    ev = m.get("evidence") or {}
    sentence = _sentence_of(text, ev) or ev.get("text", "")
    return {"kind": kind, "tuple": _m_brief(m), "patient": m.get("patient"), "analyte": m.get("analyte"),
            "value": m.get("value"), "sentence": sentence}


def _classified_error(text: str, e: dict[str, Any]) -> dict[str, Any]:
    g, p = e["gold"], e["pred"]
    ev = (p or {}).get("value_span") or (p or {}).get("evidence") or (g or {}).get("evidence") or {}
    return {"class": e["class"], "gold": _m_brief(g) if g else None, "pred": _m_brief(p) if p else None,
            "sentence": _sentence_of(text, ev)}


def _attribute_error(text: str, a: dict[str, Any]) -> dict[str, Any]:
    g, p = a["gold"], a["pred"]
    ev = p.get("evidence") or g.get("evidence") or {}
    return {"wrong": a["wrong"], "gold": _m_brief(g), "pred": _m_brief(p), "sentence": _sentence_of(text, ev)}


def evaluate_dirs(gold_dir: Path, pred_dir: Path, *, doc_ids: Iterable[str] | None = None,
                  check_source: bool = True) -> dict[str, Any]:
    """Evaluate ``pred_dir/<doc_id>.json`` against ``gold_dir/<doc_id>.json``.

    ``doc_ids`` restricts both sides (e.g. to the documents of a run). Raises
    ``GoldError`` for a missing gold directory, an unreadable or stale gold file,
    or a prediction made from different normalized text.
    """
    gold_dir, pred_dir = Path(gold_dir), Path(pred_dir)
    if not gold_dir.is_dir():
        raise GoldError("gold directory not found", path=gold_dir)
    if not pred_dir.is_dir():
        raise GoldError("prediction directory not found", path=pred_dir)
    wanted = set(doc_ids) if doc_ids is not None else None
    gold = {}
    for path in sorted(gold_dir.glob("*.json")):
        if wanted is None or path.stem in wanted:
            gold[path.stem] = load_gold(path, check_source=check_source)
    pred = {}
    for path in sorted(pred_dir.glob("*.json")):
        if path.stem in _RESERVED or (wanted is not None and path.stem not in wanted):
            continue
        record = _read_pred(path)
        if record is not None:
            pred[path.stem] = record
    result = evaluate_records(gold, pred)
    result["documents"]["gold_dir"] = str(gold_dir)
    result["documents"]["pred_dir"] = str(pred_dir)
    return result


# --------------------------------------------------------------------------- gates and output

def headline_f1(result: dict[str, Any]) -> dict[str, float | None]:
    """The F1 figures the ``--min-f1`` gate looks at."""
    return {
        "entities.strict": result["entities"]["strict"]["micro"]["f1"],
        "entities.partial": result["entities"]["partial"]["micro"]["f1"],
        "measurements": result["measurements"]["micro"]["f1"],
        "drugs": result["drugs"]["micro"]["f1"],
    }


def passes_min_f1(result: dict[str, Any], threshold: float, *, metrics: Sequence[str] = HEADLINE) -> bool:
    """True when every defined F1 among ``metrics`` is >= ``threshold`` (and at least one is defined)."""
    values = [v for k, v in headline_f1(result).items() if k in metrics and v is not None]
    return bool(values) and all(v + 1e-12 >= threshold for v in values)


def _fmt(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def summary_line(result: dict[str, Any]) -> str:
    """One line: documents and the headline F1 figures."""
    h = headline_f1(result)
    docs = result["documents"]
    extra = f", {len(docs['missing_prediction'])} missing" if docs["missing_prediction"] else ""
    return (f"{len(docs['evaluated'])} documents{extra}: entity F1 strict {_fmt(h['entities.strict'])} "
            f"partial {_fmt(h['entities.partial'])}, measurement F1 {_fmt(h['measurements'])}, "
            f"drug F1 {_fmt(h['drugs'])}")


def _rows(result: dict[str, Any]) -> list[list[str]]:
    rows = []
    for scheme in SCHEMES:
        block = result["entities"][scheme]
        for label, s in block["per_label"].items():
            rows.append([f"entities/{scheme}", label, str(s["tp"]), str(s["fp"]), str(s["fn"]),
                         _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"])])
        s = block["micro"]
        rows.append([f"entities/{scheme}", "micro", str(s["tp"]), str(s["fp"]), str(s["fn"]),
                     _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"])])
    for analyte, s in result["measurements"]["per_analyte"].items():
        rows.append(["measurements", analyte, str(s["tp"]), str(s["fp"]), str(s["fn"]),
                     _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"])])
    s = result["measurements"]["micro"]
    rows.append(["measurements", "micro", str(s["tp"]), str(s["fp"]), str(s["fn"]),
                 _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"])])
    s = result["drugs"]["micro"]
    rows.append(["drugs", "names", str(s["tp"]), str(s["fp"]), str(s["fn"]),
                 _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"])])
    return rows


_HEADER = ["task", "label", "tp", "fp", "fn", "P", "R", "F1"]


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table for the terminal (``-`` marks an undefined 0/0 metric)."""
    rows = [_HEADER] + _rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    m = result["measurements"]["micro"]
    lines.append("")
    lines.append(f"matched measurements: unit accuracy {_fmt(m['unit_accuracy'])}, "
                 f"timepoint accuracy {_fmt(m['timepoint_accuracy'])}, "
                 f"comparator accuracy {_fmt(m['comparator_accuracy'])}")
    lines += format_error_classes(result)
    lines += ["", "per document: gold tuples, measurement P/R/F1, drug F1, errors by class"]
    for doc_id, d in result["per_document"].items():
        m = d["measurements"]
        classes = ", ".join(f"{c} {n}" for c, n in d["error_classes"].items()) or "no errors"
        lines.append(f"  {doc_id}: {d['gold_measurements']} gold, P {_fmt(m['precision'])} R {_fmt(m['recall'])} "
                     f"F1 {_fmt(m['f1'])}, drugs {_fmt(d['drugs']['f1'])}; {classes}")
    docs = result["documents"]
    if docs["missing_prediction"]:
        lines.append("no prediction (counted as false negatives): " + ", ".join(docs["missing_prediction"]))
    if docs["skipped_no_gold"]:
        lines.append("no gold (skipped): " + ", ".join(docs["skipped_no_gold"]))
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def format_error_classes(result: dict[str, Any]) -> list[str]:
    """Lines counting the measurement errors by class (corpus/GUIDELINES.md, section 6)."""
    classes = result["measurements"].get("error_classes", {})
    if not classes:
        return ["measurement errors by class: none"]
    return ["measurement errors by class:"] + [f"  {c}: {n}" for c, n in classes.items()]


def _md_escape(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def format_markdown(result: dict[str, Any]) -> str:
    """A markdown error report: scores, then every false positive and negative with its sentence."""
    out = ["# clinex evaluation", "", summary_line(result), "", "## Scores", "",
           "| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    out += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in _rows(result)]
    m = result["measurements"]["micro"]
    out += ["", f"Matched measurements: unit accuracy {_fmt(m['unit_accuracy'])}, timepoint accuracy "
            f"{_fmt(m['timepoint_accuracy'])}, comparator accuracy {_fmt(m['comparator_accuracy'])}.", ""]
    docs = result["documents"]
    if docs["missing_prediction"]:
        out += ["Documents with no prediction (all false negatives): " + ", ".join(docs["missing_prediction"]), ""]
    if docs["skipped_no_gold"]:
        out += ["Predictions with no gold (skipped): " + ", ".join(docs["skipped_no_gold"]), ""]
    out += ["## Measurement errors by class", "", "| class | count |", "|---|---|"]
    out += [f"| {c} | {n} |" for c, n in result["measurements"].get("error_classes", {}).items()]
    out += ["", "## Per document", "",
            "| document | gold tuples | entity F1 strict | partial | measurement P | R | F1 | drug F1 | errors by class |",
            "|---|---|---|---|---|---|---|---|---|"]
    for doc_id, d in result["per_document"].items():
        m = d["measurements"]
        classes = ", ".join(f"{c} {n}" for c, n in d["error_classes"].items())
        out.append(f"| {_md_escape(doc_id)} | {d['gold_measurements']} | {_fmt(d['entities']['strict']['f1'])} | "
                   f"{_fmt(d['entities']['partial']['f1'])} | {_fmt(m['precision'])} | {_fmt(m['recall'])} | "
                   f"{_fmt(m['f1'])} | {_fmt(d['drugs']['f1'])} | {_md_escape(classes)} |")
    out.append("")
    for doc_id, errs in result["errors"].items():
        out += [f"## {doc_id}", ""]
        out += [f"### Entities (strict): {len(errs['entities'])} errors", ""]
        if errs["entities"]:
            out += ["| | label | text | offsets | partial match | sentence |", "|---|---|---|---|---|---|"]
            for e in errs["entities"]:
                pm = e["partial_match"]
                pm_text = f"{pm['text']} ({pm['start']}-{pm['end']})" if pm else ""
                out.append(f"| {e['kind'].upper()} | {e['label']} | {_md_escape(e['text'])} | {e['start']}-{e['end']} | "
                           f"{_md_escape(pm_text)} | {_md_escape(e['sentence'])} |")
            out.append("")
        out += [f"### Measurements: {len(errs['measurements'])} false positives and negatives, "
                f"{len(errs['measurement_classes'])} classified errors", ""]
        if errs["measurement_classes"]:
            out += ["| class | gold | predicted | sentence |", "|---|---|---|---|"]
            out += [f"| {e['class']} | {_md_escape(e['gold'] or '')} | {_md_escape(e['pred'] or '')} | "
                    f"{_md_escape(e['sentence'])} |" for e in errs["measurement_classes"]]
            out.append("")
        out += [f"### Drugs: {len(errs['drugs'])} errors", ""]
        out += [f"- {e['kind'].upper()}: {_md_escape(e['name'])}" for e in errs["drugs"]]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
