"""brat standoff import/export of records, and the gold authoring helper.

A record becomes ``<doc_id>.txt`` (the normalized text), ``<doc_id>.ann`` and
``<doc_id>.meta.json`` (document fields brat has no place for). In the ``.ann``:

* ``T`` lines for entities (labels DRUG/SCORE/LAB/TIMEPOINT), patients
  (``Patient``, over the phrase giving the age) and measurements
  (``Measurement``, over the evidence span);
* one ``#`` AnnotatorNotes line per ``T`` holding the rest of the item as JSON
  (entity id/norm/source, patient id/age/sex, the measurement tuple).

Spans crossing a newline are written as brat fragments (``s1 e1;s2 e2``) and
read back as the covering span. ``author_spec`` turns an authoring spec (see
corpus/GUIDELINES.md, section 7) into an ``.ann``: each surface string is
searched at or after the previous item, so offsets come from the text itself.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.errors import GoldError
from pipeline.record import LABELS, SCHEMA_VERSION, drugs_from_entities
from pipeline.units import normalize_unit
from pipeline.values import parse_number

PATIENT = "Patient"
MEASUREMENT = "Measurement"
ANNOTATION_CONF = """[entities]
DRUG
SCORE
LAB
TIMEPOINT
Patient
Measurement

[relations]

[events]

[attributes]
"""


# --------------------------------------------------------------------------- export

def _fragments(text: str, start: int, end: int) -> str:
    """brat offsets for ``text[start:end]``, split into fragments at newlines."""
    parts = []
    pos = start
    for m in re.finditer(r"\n+", text[start:end]):
        if start + m.start() > pos:
            parts.append((pos, start + m.start()))
        pos = start + m.end()
    if end > pos:
        parts.append((pos, end))
    return ";".join(f"{s} {e}" for s, e in parts or [(start, end)])


def _t_line(n: int, label: str, text: str, start: int, end: int) -> str:
    surface = re.sub(r"\n+", " ", text[start:end])
    return f"T{n}\t{label} {_fragments(text, start, end)}\t{surface}"


def _note_line(n: int, target: int, payload: dict[str, Any]) -> str:
    return f"#{n}\tAnnotatorNotes T{target}\t{json.dumps(payload, ensure_ascii=False, sort_keys=True)}"


def record_to_ann(record: dict[str, Any]) -> str:
    """The ``.ann`` text of a record (entities, patients, measurements)."""
    text = record["document"]["text"]
    lines: list[str] = []
    n = 0

    def add(label: str, start: int, end: int, payload: dict[str, Any]) -> None:
        nonlocal n
        n += 1
        lines.append(_t_line(n, label, text, start, end))
        lines.append(_note_line(n, n, payload))

    for ent in record.get("entities", []):
        add(ent["label"], ent["start"], ent["end"],
            {"id": ent["id"], "norm": ent.get("norm", {}), "source": ent.get("source", "gold")})
    for pat in record.get("patients", []):
        ev = pat.get("evidence")
        if not ev:
            raise GoldError(f"patient {pat['id']} has no evidence span; brat needs one",
                            path=record["document"]["id"])
        add(PATIENT, ev["start"], ev["end"], {k: v for k, v in pat.items() if k != "evidence"})
    for m in record.get("measurements", []):
        # the T line marks the value itself; a wider evidence (sentence, table row) rides in the note
        ev = m.get("value_span") or m["evidence"]
        note = {k: v for k, v in m.items() if k not in ("evidence", "value_span")}
        if (m["evidence"]["start"], m["evidence"]["end"]) != (ev["start"], ev["end"]):
            note["evidence"] = m["evidence"]
        add(MEASUREMENT, ev["start"], ev["end"], note)
    return "\n".join(lines) + ("\n" if lines else "")


_META_KEYS = ("id", "source_path", "sha256", "format", "pages", "title", "encoding", "pdf_engine", "meta", "annotated")


def export_brat(record: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``<doc_id>.txt``, ``<doc_id>.ann`` (and ``.meta.json``, ``annotation.conf``) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = record["document"]
    txt_path = out_dir / f"{doc['id']}.txt"
    ann_path = out_dir / f"{doc['id']}.ann"
    txt_path.write_text(doc["text"], encoding="utf-8", newline="")
    ann_path.write_text(record_to_ann(record), encoding="utf-8", newline="")
    meta = {k: doc.get(k) for k in _META_KEYS if k in doc}
    (out_dir / f"{doc['id']}.meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                                  encoding="utf-8")
    conf = out_dir / "annotation.conf"
    if not conf.exists():
        conf.write_text(ANNOTATION_CONF, encoding="utf-8")
    return txt_path, ann_path


# --------------------------------------------------------------------------- import

def parse_ann(ann: str, text: str, *, path: str | Path | None = None) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``T`` annotations keyed by id (label, start, end, text) and their notes (parsed JSON when it is JSON).

    Fragmented spans are read as their covering span. Raises ``GoldError`` naming
    the line when a span is out of range or its text differs from the document.
    """
    spans: dict[str, dict[str, Any]] = {}
    notes: dict[str, Any] = {}
    for lineno, line in enumerate(ann.splitlines(), 1):
        if not line.strip():
            continue
        kind = line[0]
        try:
            if kind == "T":
                tid, middle, surface = line.split("\t", 2)
                label, offsets = middle.split(" ", 1)
                frags = [tuple(int(x) for x in f.split()) for f in offsets.split(";")]
                start, end = min(f[0] for f in frags), max(f[1] for f in frags)
            elif kind == "#":
                _, middle, body = line.split("\t", 2)
                _, target = middle.split(" ", 1)
                try:
                    notes[target] = json.loads(body)
                except ValueError:
                    notes[target] = body
                continue
            else:  # R/E/A/N lines are not used by clinex; keep them out of the record
                continue
        except ValueError as e:
            raise GoldError(f"line {lineno}: malformed brat line: {line[:80]!r}", path=path) from e
        if not 0 <= start <= end <= len(text):
            raise GoldError(f"line {lineno}: span {start}-{end} outside the text ({len(text)} chars)", path=path)
        expected = re.sub(r"\n+", " ", text[start:end])
        if surface != expected:
            raise GoldError(f"line {lineno}: {tid} text {surface!r} != document text {expected!r} at {start}-{end}",
                            path=path)
        spans[tid] = {"label": label, "start": start, "end": end, "text": text[start:end], "line": lineno}
    return spans, notes


def _document(txt_path: Path, text: str, doc_id: str) -> dict[str, Any]:
    meta_path = txt_path.with_name(f"{txt_path.stem}.meta.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    doc = {"id": doc_id, "source_path": str(txt_path), "sha256": hashlib.sha256(txt_path.read_bytes()).hexdigest(),
           "format": "txt", "pages": None, "title": None}
    doc.update({k: v for k, v in meta.items() if k != "id"})
    doc["text"] = text
    doc["text_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return doc


def import_brat(ann_path: Path, txt_path: Path | None = None, *, doc_id: str | None = None) -> dict[str, Any]:
    """Read a brat ``.ann`` (and its ``.txt``, by default beside it) into a record dict.

    Document fields come from ``<stem>.meta.json`` when present (written by
    ``export_brat`` and by the gold authoring step); otherwise the ``.txt`` stands
    in for the source. Items without a note get ids in text order and empty norms.
    """
    from pipeline import __version__

    ann_path = Path(ann_path)
    txt_path = Path(txt_path) if txt_path is not None else ann_path.with_suffix(".txt")
    try:
        text = txt_path.read_text(encoding="utf-8")
        ann = ann_path.read_text(encoding="utf-8")
    except OSError as e:
        raise GoldError(f"cannot read brat files: {e}", path=ann_path) from e
    spans, notes = parse_ann(ann, text, path=ann_path)
    doc = _document(txt_path, text, doc_id or ann_path.stem)
    entities, patients, measurements = [], [], []
    for tid, span in spans.items():
        note = notes.get(tid)
        note = note if isinstance(note, dict) else {}
        evidence = {"start": span["start"], "end": span["end"], "text": span["text"], "page": None, "bbox": None}
        if span["label"] in LABELS:
            entities.append({"id": note.get("id"), "label": span["label"], "text": span["text"],
                             "start": span["start"], "end": span["end"], "page": None, "bbox": None,
                             "source": note.get("source", "gold"), "norm": note.get("norm", {})})
        elif span["label"] == PATIENT:
            patients.append({"id": str(note.get("id", len(patients) + 1)), "age": note.get("age"),
                             "sex": note.get("sex"), "evidence": evidence})
        elif span["label"] == MEASUREMENT:
            missing = [k for k in ("patient", "analyte", "kind", "value") if k not in note]
            if missing:
                raise GoldError(f"line {span['line']}: measurement {tid} note lacks {', '.join(missing)}", path=ann_path)
            m = {"id": None, "comparator": None, "unit": None, "unit_ucum": None, "timepoint": None,
                 "result": None, "entity_ids": [], "flags": [], "derived": False, "table": None, **note}
            m["value_span"] = evidence
            m.setdefault("evidence", evidence)
            measurements.append(m)
        else:
            raise GoldError(f"line {span['line']}: unknown label {span['label']!r}", path=ann_path)
    _fill_ids(entities, "e")
    _fill_ids(measurements, "m")
    return {
        "schema_version": SCHEMA_VERSION,
        "document": doc,
        "patients": patients,
        "entities": entities,
        "measurements": measurements,
        "drugs": drugs_from_entities(entities),
        "warnings": [],
        "provenance": {"clinex_version": __version__, "rules_sha256": "", "ner_model": None, "elapsed_s": 0},
    }


def _fill_ids(items: list[dict[str, Any]], prefix: str) -> None:
    if all(item.get("id") for item in items):
        return
    order = sorted(range(len(items)), key=lambda i: (items[i].get("start", items[i].get("evidence", {}).get("start", 0)), i))
    for n, i in enumerate(order, 1):
        items[i]["id"] = f"{prefix}{n}"


# --------------------------------------------------------------------------- authoring

_NUMBER = re.compile(r"^\s*(<=|>=|<|>|~|≤|≥)?\s*([-+]?\d[\d,]*(?:\.\d+)?)\s*$")


def find_surface(text: str, surface: str, cursor: int) -> int:
    """Start of the first whole-word occurrence of ``surface`` at or after ``cursor`` (-1 if none).

    Whole word: no letter/digit right before a surface starting with one, none right
    after a surface ending with one; a number must not continue a longer number.
    """
    numeric = bool(_NUMBER.match(surface))
    pos = cursor
    while True:
        i = text.find(surface, pos)
        if i < 0:
            return -1
        j = i + len(surface)
        before = text[i - 1] if i > 0 else ""
        after = text[j] if j < len(text) else ""
        after2 = text[j + 1] if j + 1 < len(text) else ""
        ok = not (surface[0].isalnum() and before.isalnum()) and not (surface[-1].isalnum() and after.isalnum())
        if numeric and ok:
            ok = not (before and before in ".,-" and i >= 2 and text[i - 2].isalnum())
            ok = ok and not (after and after in ".," and after2.isdigit())
        if ok:
            return i
        pos = i + 1


MEASUREMENT_KINDS = ("lab", "score", "vital")
DRUG_FLAGS = frozenset({"class", "negated", "hypothetical"})
MEASUREMENT_EXTRAS = frozenset({"value", "comparator", "result", "maximum", "stat", "sd", "range", "n", "group",
                                "reference_range"})
RESULTS = frozenset({"positive", "negative", "normal", "elevated", "low", "detected", "not detected", "equivocal",
                     "weakly positive", "strongly positive", "abnormal"})
_TIMEPOINT_KEYS = frozenset({"text", "value", "unit", "days", "is_baseline", "relative_to", "date"})
_TITER = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*1\s*[:/]\s*(\d[\d,]*)\s*$")
_SPACED_THOUSANDS = re.compile(r"(?<=\d)[ \u00a0\u2009\u202f](?=\d{3}(?!\d))")


def _timepoint_payload(tp: dict[str, Any], lineno: int, path: Any) -> dict[str, Any]:
    unknown = set(tp) - _TIMEPOINT_KEYS
    if unknown:
        raise GoldError(f"line {lineno}: unknown timepoint key(s) {', '.join(sorted(unknown))}", path=path)
    return {"text": None, "value": None, "unit": None, "days": None, "is_baseline": False, "relative_to": None,
            "date": None, **tp}


def canonical_unit(unit: str) -> tuple[str, str | None]:
    """A gold unit in its canonical spelling with its UCUM code, when ``rules/units.jsonl`` knows it as
    the same unit (factor 1); otherwise as the annotator wrote it, with no code."""
    if unit == "titer":
        return unit, None
    info = normalize_unit(unit)
    if info is None or info.factor != 1.0:
        return unit, None
    return info.unit, info.ucum


def measurement_fields(surface: str, unit: str | None, extras: dict[str, Any], *, lineno: int = 0,
                       path: Any = None) -> dict[str, Any]:
    """Value fields of a gold measurement from its surface as written and the spec's JSON extras.

    A number ("1,250", "12 400", "1,8", "<0.05", ">= 2"), a titer when the unit is
    ``titer`` ("1:640", "1/2560" -> 640, 2560) or, with ``{"result": ...}``, a
    qualitative word (value null). Extras override what the surface gives.
    """
    unknown = set(extras) - MEASUREMENT_EXTRAS
    if unknown:
        raise GoldError(f"line {lineno}: unknown measurement key(s) {', '.join(sorted(unknown))}", path=path)
    fields: dict[str, Any] = {"value": None, "comparator": None, "result": None, "maximum": None, "stat": None,
                              "sd": None, "range": None, "n": None, "group": None, "reference_range": None}
    titer = _TITER.match(surface) if unit == "titer" else None
    parsed = None if titer else parse_number(_SPACED_THOUSANDS.sub("", surface.strip()))
    if titer:
        fields["value"] = float(titer.group(2).replace(",", ""))
        fields["comparator"] = {"≤": "<=", "≥": ">="}.get(titer.group(1) or "", titer.group(1))
    elif parsed is not None:
        fields.update(value=parsed.value, comparator=parsed.comparator, maximum=parsed.maximum)
    elif "result" not in extras and "value" not in extras:
        raise GoldError(f"line {lineno}: {surface!r} is not a number; a qualitative result needs "
                        '{"result": ...}', path=path)
    fields.update(extras)
    if fields["result"] is not None and fields["result"] not in RESULTS:
        raise GoldError(f"line {lineno}: result {fields['result']!r} is not one of {', '.join(sorted(RESULTS))}",
                        path=path)
    return fields


def author_spec(spec: str, text: str, *, path: str | Path | None = None) -> tuple[str, dict[str, str]]:
    """Turn an authoring spec into ``.ann`` text; also return the spec's header fields.

    Spec lines are tab-separated (``#`` starts a comment line); corpus/GUIDELINES.md,
    section 7, documents each tag with examples:

    * ``source PATH`` / ``doc_id ID`` / ``annotated LABEL,...``: header fields;
    * ``norm KEY LABEL {json}``: a normalization entities refer to by KEY;
    * ``A ANALYTE KIND``: an analyte measurements may name (KIND ``lab``, ``score`` or ``vital``);
    * ``tp KEY {json}``: a timepoint measurements refer to by KEY;
    * ``unit UNIT UCUM``: the UCUM code of a unit (optional: ``rules/units.jsonl`` knows most);
    * ``@ ANCHOR``: move the cursor to the next occurrence of ANCHOR;
    * ``E SURFACE [KEY]``: an entity (KEY defaults to SURFACE);
    * ``D SURFACE NAME [FLAGS]``: a DRUG mention normalized to NAME (FLAGS: ``class``, ``negated``,
      ``hypothetical``, comma-separated);
    * ``P SURFACE ID AGE SEX``: a patient, over the phrase giving the age;
    * ``M SURFACE PATIENT ANALYTE UNIT|- TPKEY|- [{json}]``: a measurement over its value as
      written (``^`` as SURFACE: over the same words as the previous measurement); the optional JSON sets ``result``, ``maximum``, ``stat``, ``sd``, ``range``, ``n``,
      ``group``, ``reference_range``, ``comparator`` or (rarely) ``value``.

    Items are found in text order: each search starts one character after the
    previous item's start (``@`` moves the cursor to the anchor's own start), and
    an entity skips occurrences inside a span of its own label already placed.
    """
    norms: dict[str, tuple[str, dict[str, Any]]] = {}
    tps: dict[str, dict[str, Any]] = {}
    ucum: dict[str, str] = {}
    header: dict[str, str] = {}
    kinds: dict[str, str] = {}
    items: list[tuple[str, int, int, dict[str, Any]]] = []
    cursor = 0

    def locate(surface: str, lineno: int, label: str | None = None) -> int:
        taken = [(s, e) for lab, s, e, _ in items if lab == label] if label in LABELS else []
        i = find_surface(text, surface, cursor)
        while i >= 0 and any(s < i + len(surface) and i < e for s, e in taken):
            i = find_surface(text, surface, i + 1)
        if i < 0:
            raise GoldError(f"line {lineno}: {surface!r} not found after offset {cursor} "
                            f"(...{text[max(0, cursor - 30):cursor + 30]!r}...)", path=path)
        return i

    for lineno, raw in enumerate(spec.splitlines(), 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        tag = cols[0]
        try:
            if tag in ("source", "doc_id"):
                header[tag] = cols[1]
            elif tag == "norm":
                key, label, payload = cols[1], cols[2], json.loads(cols[3])
                if label not in LABELS:
                    raise GoldError(f"line {lineno}: unknown label {label!r}", path=path)
                norms[key] = (label, payload)
                if label in ("SCORE", "LAB"):
                    kinds[payload["analyte"]] = payload["kind"]
            elif tag == "annotated":
                header[tag] = cols[1]
            elif tag == "A":
                if cols[2] not in MEASUREMENT_KINDS:
                    raise GoldError(f"line {lineno}: kind {cols[2]!r} is not one of {', '.join(MEASUREMENT_KINDS)}",
                                    path=path)
                kinds[cols[1]] = cols[2]
            elif tag == "tp":
                tps[cols[1]] = _timepoint_payload(json.loads(cols[2]), lineno, path)
            elif tag == "unit":
                ucum[cols[1]] = cols[2]
            elif tag == "@":
                cursor = locate(cols[1], lineno)
            elif tag == "E":
                surface = cols[1]
                key = cols[2] if len(cols) > 2 and cols[2] else surface
                if key not in norms:
                    raise GoldError(f"line {lineno}: no norm {key!r} defined before use", path=path)
                label, norm = norms[key]
                start = locate(surface, lineno, label)
                items.append((label, start, start + len(surface), {"norm": norm, "source": "gold"}))
                cursor = start + 1
            elif tag == "D":
                surface, name = cols[1], cols[2].strip().lower()
                flags = {f.strip() for f in cols[3].split(",") if f.strip()} if len(cols) > 3 else set()
                unknown = flags - DRUG_FLAGS
                if unknown:
                    raise GoldError(f"line {lineno}: unknown drug flag(s) {', '.join(sorted(unknown))}", path=path)
                norm = {"name": name, "class": None, "target": None, "drugbank_id": None, "is_class": "class" in flags}
                norm.update({f: True for f in sorted(flags & {"negated", "hypothetical"})})
                start = locate(surface, lineno, "DRUG")
                items.append(("DRUG", start, start + len(surface), {"norm": norm, "source": "gold"}))
                cursor = start + 1
            elif tag == "P":
                surface, pid, age, sex = cols[1:5]
                start = locate(surface, lineno)
                items.append((PATIENT, start, start + len(surface),
                              {"id": pid, "age": float(age) if age != "-" else None, "sex": None if sex == "-" else sex}))
                cursor = start + 1
            elif tag == "M":
                surface, patient, analyte, unit, tpkey = cols[1:6]
                extras = json.loads(cols[6]) if len(cols) > 6 and cols[6].strip() else {}
                if analyte not in kinds:
                    raise GoldError(f"line {lineno}: analyte {analyte!r} has no A line or SCORE/LAB norm", path=path)
                unit = None if unit == "-" else unit
                if tpkey != "-" and tpkey not in tps:
                    raise GoldError(f"line {lineno}: no timepoint {tpkey!r} defined", path=path)
                previous = next((it for it in reversed(items) if it[0] == MEASUREMENT), None)
                if surface == "^":  # the same written value as the previous M line ("C3 and C4 were low")
                    if previous is None:
                        raise GoldError(f"line {lineno}: '^' needs a measurement before it", path=path)
                    start, end = previous[1], previous[2]
                    surface = text[start:end]
                else:
                    start = locate(surface.strip(), lineno)
                    end = start + len(surface.strip())
                fields = measurement_fields(surface, unit, extras, lineno=lineno, path=path)
                code = ucum.get(unit) if unit else None
                if unit is not None and code is None:
                    unit, code = canonical_unit(unit)
                fields = {k: v for k, v in fields.items() if v is not None or k in ("value", "comparator", "result")}
                items.append((MEASUREMENT, start, end, {
                    "patient": patient, "analyte": analyte, "kind": kinds[analyte], **fields,
                    "unit": unit, "unit_ucum": code,
                    "timepoint": dict(tps[tpkey]) if tpkey != "-" else None,
                    "entity_ids": [], "flags": [], "derived": False, "table": None}))
                cursor = start + 1
            else:
                raise GoldError(f"line {lineno}: unknown tag {tag!r}", path=path)
        except (IndexError, ValueError, KeyError) as e:
            raise GoldError(f"line {lineno}: malformed spec line {line[:80]!r}: {e}", path=path) from e
    return _items_to_ann(items, text, path=path), header


def _items_to_ann(items: list[tuple[str, int, int, dict[str, Any]]], text: str, *, path: Any) -> str:
    """Number entities (e1...) and measurements (m1...) in text order and write ``T``/``#`` lines."""
    order = sorted(range(len(items)), key=lambda i: (items[i][1], -items[i][2], i))
    ent_n = meas_n = 0
    lines = []
    seen: dict[tuple[str, int, int], int] = {}
    for n, i in enumerate(order, 1):
        label, start, end, payload = items[i]
        if (label, start, end) in seen and label != MEASUREMENT:
            raise GoldError(f"duplicate {label} span {start}-{end} {text[start:end]!r}", path=path)
        seen[(label, start, end)] = n
        if label in LABELS:
            ent_n += 1
            payload = {"id": f"e{ent_n}", **payload}
        elif label == MEASUREMENT:
            meas_n += 1
            payload = {"id": f"m{meas_n}", **payload}
        lines.append(_t_line(n, label, text, start, end))
        lines.append(_note_line(n, n, payload))
    _check_label_overlaps(items, text, path=path)
    return "\n".join(lines) + "\n"


def _check_label_overlaps(items: list[tuple[str, int, int, dict[str, Any]]], text: str, *, path: Any) -> None:
    """Spans of one entity label must not overlap (GUIDELINES section 0)."""
    by_label: dict[str, list[tuple[int, int]]] = {}
    for label, start, end, _ in items:
        if label in LABELS:
            by_label.setdefault(label, []).append((start, end))
    for label, spans in by_label.items():
        spans.sort()
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            if s2 < e1:
                raise GoldError(f"overlapping {label} spans {text[s1:e1]!r} and {text[s2:e2]!r}", path=path)


def build_gold(spec_path: Path, *, repo_root: Path | None = None) -> dict[str, Any]:
    """Author ``<stem>.txt``/``.ann``/``.meta.json`` beside the spec from the current normalization, then import.

    The ``.txt`` is rewritten from ``read_document(source).text``; the returned
    record is the gold record (write it with ``pipeline.record.dumps_record``).
    """
    from pipeline.ingest import read_document

    spec_path = Path(spec_path)
    spec = spec_path.read_text(encoding="utf-8")
    header = dict(line.split("\t", 1) for line in spec.splitlines() if line.startswith(("source\t", "doc_id\t")))
    if "source" not in header:
        raise GoldError("spec has no 'source' line", path=spec_path)
    root = Path(repo_root) if repo_root is not None else Path.cwd()
    source = read_document(root / header["source"], doc_id=header.get("doc_id"))
    ann, fields = author_spec(spec, source.text, path=spec_path)
    stem = spec_path.with_suffix("")
    txt_path, ann_path = stem.with_suffix(".txt"), stem.with_suffix(".ann")
    txt_path.write_text(source.text, encoding="utf-8", newline="")
    ann_path.write_text(ann, encoding="utf-8", newline="")
    meta = {"id": source.id, "source_path": header["source"], "sha256": source.sha256, "format": source.format,
            "pages": source.pages, "title": source.title}
    if "annotated" in fields:
        labels = [x.strip() for x in fields["annotated"].split(",") if x.strip()]
        bad = [x for x in labels if x not in LABELS]
        if bad:
            raise GoldError(f"'annotated' names unknown label(s) {', '.join(bad)}", path=spec_path)
        meta["annotated"] = labels
    stem.with_suffix(".meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                              encoding="utf-8")
    return import_brat(ann_path, txt_path, doc_id=source.id)


def main(argv: list[str] | None = None) -> int:
    """``python -m pipeline.brat author SPEC... [--out DIR]``: rebuild gold JSON from authoring specs."""
    from pipeline.record import dumps_record, validate_record

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "author":
        sys.stderr.write("usage: python -m pipeline.brat author SPEC... [--out DIR]\n")
        return 2
    args = args[1:]
    out_dir = None
    if "--out" in args:
        i = args.index("--out")
        out_dir = Path(args[i + 1])
        del args[i:i + 2]
    for spec in args:
        spec_path = Path(spec)
        record = build_gold(spec_path)
        validate_record(record, name=str(spec_path))
        target = (out_dir or spec_path.parent.parent) / f"{record['document']['id']}.json"
        target.write_text(dumps_record(record), encoding="utf-8")
        sys.stdout.write(f"{target}: {len(record['entities'])} entities, {len(record['measurements'])} measurements, "
                         f"{len(record['patients'])} patients\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
