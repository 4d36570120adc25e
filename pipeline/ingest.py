"""Read .txt / .md / .pdf files into ``SourceDoc`` (raw text, normalized text, offsets, tables, metadata).

``read_document`` never crashes on bytes: undecodable text falls back to
cp1252 then latin-1 with a warning; binary content, empty files and unreadable
paths raise ``pipeline.errors.InputError`` subclasses naming the file and the
reason. A ``documents.jsonl`` beside the input (one JSON object per line with a
``file`` key) is merged into ``SourceDoc.meta``; its ``title`` wins.
"""
from __future__ import annotations

import glob
import hashlib
import json
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import regex

from pipeline.document import SourceDoc, Table
from pipeline.errors import EmptyDocumentError, InputError, UnsupportedFormatError
from pipeline.normalize import find_title, normalize
from pipeline.tables import parse_pipe_tables, remap_table

log = logging.getLogger(__name__)

DEFAULT_PDF_ENGINE = "pdfplumber"
PDF_ENGINES = ("pdfplumber", "pypdfium2")
SUPPORTED_SUFFIXES = {".txt": "txt", ".md": "md", ".pdf": "pdf"}
SIDECAR_NAME = "documents.jsonl"
BINARY_CONTROL_RATIO = 0.05
_SAFE_ID_RE = regex.compile(r"[^A-Za-z0-9._-]+")


def iter_inputs(inputs: Iterable[str | Path]) -> Iterator[Path]:
    """Files named in ``inputs``: files as given, directories recursively (sorted), glob patterns.

    Directories and globs yield only .txt/.md/.pdf files (hidden files skipped);
    an explicitly named file is yielded whatever its suffix (reading it then
    raises ``UnsupportedFormatError``), and a name matching nothing is yielded
    as is, so reading it reports "file not found". Each file is yielded once.
    """
    seen: set[Path] = set()

    def once(p: Path) -> Iterator[Path]:
        key = p.resolve() if p.exists() else p.absolute()
        if key not in seen:
            seen.add(key)
            yield p

    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and _wanted(p, path):
                    yield from once(p)
        elif path.exists():
            yield from once(path)
        elif glob.has_magic(str(item)):
            for name in sorted(glob.glob(str(item), recursive=True)):
                p = Path(name)
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield from once(p)
                elif p.is_dir():
                    yield from iter_inputs([p])
        else:
            yield from once(path)


def _wanted(p: Path, root: Path) -> bool:
    rel = p.relative_to(root).parts
    return p.suffix.lower() in SUPPORTED_SUFFIXES and not any(part.startswith(".") for part in rel)


def safe_id(stem: str) -> str:
    """A file-name-safe identifier ([A-Za-z0-9._-]) from a file stem."""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    cleaned = _SAFE_ID_RE.sub("_", ascii_stem).strip("._-")
    return cleaned or "doc"


def make_doc_id(path: str | Path, taken: set[str]) -> str:
    """A unique, file-name-safe id from the file stem; ``report``, ``report-2``, ... (adds it to ``taken``)."""
    base = safe_id(Path(path).stem)
    doc_id, n = base, 1
    while doc_id in taken:
        n += 1
        doc_id = f"{base}-{n}"
    taken.add(doc_id)
    return doc_id


def looks_binary(data: bytes) -> bool:
    """True for NUL bytes or a high share of control characters (not text)."""
    sample = data[:65536]
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(sample) > BINARY_CONTROL_RATIO


def decode_text(data: bytes) -> tuple[str, str, list[str]]:
    """Decode bytes as UTF-8 (BOM or not), UTF-16 with a BOM, else cp1252, else latin-1; (text, encoding, warnings)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", []
        except UnicodeDecodeError:
            data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252", ["decoded as cp1252: not valid UTF-8"]
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", ["decoded as latin-1: not valid UTF-8 or cp1252"]


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputError("file not found", path=path)
    if path.is_dir():
        raise InputError("is a directory, not a file", path=path)
    try:
        return path.read_bytes()
    except PermissionError as e:
        raise InputError("permission denied", path=path) from e
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=path) from e


@lru_cache(maxsize=64)
def _sidecar(folder: str, mtime_ns: int) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    """Entries of a documents.jsonl by file name, and warnings for lines that are not JSON objects."""
    entries: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    sidecar = Path(folder) / SIDECAR_NAME
    for n, line in enumerate(sidecar.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            problems.append(f"{sidecar}: line {n}: not valid JSON, ignored")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("file"), str):
            problems.append(f"{sidecar}: line {n}: no \"file\" key, ignored")
            continue
        entries[obj["file"]] = obj
    return entries, tuple(problems)


def sidecar_meta(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The documents.jsonl entry for ``path`` (without "file"), and warnings about the sidecar."""
    sidecar = path.parent / SIDECAR_NAME
    try:
        mtime = sidecar.stat().st_mtime_ns
    except OSError:
        return {}, []
    try:
        entries, problems = _sidecar(str(path.parent), mtime)
    except OSError as e:
        return {}, [f"{sidecar}: cannot read: {e}"]
    entry = entries.get(path.name, {})
    return {k: v for k, v in entry.items() if k != "file"}, list(problems)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_document(path: str | Path, *, doc_id: str | None = None, pdf_engine: str = DEFAULT_PDF_ENGINE,
                  password: str | None = None, max_pages: int | None = None) -> SourceDoc:
    """Ingest one .txt/.md/.pdf file into a ``SourceDoc`` whose ``text`` is normalized."""
    path = Path(path)
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        if not path.exists():
            raise InputError("file not found", path=path)
        raise UnsupportedFormatError(f"unsupported format {path.suffix or '(no suffix)'!r}: expected .txt, .md or .pdf",
                                     path=path)
    if pdf_engine not in PDF_ENGINES:
        raise InputError(f"unknown PDF engine {pdf_engine!r}: expected one of {', '.join(PDF_ENGINES)}", path=path)
    data = _read_bytes(path)
    doc_id = doc_id or safe_id(path.stem)
    if fmt == "pdf":
        source = _read_pdf(path, data, doc_id=doc_id, engine=pdf_engine, password=password, max_pages=max_pages)
    else:
        source = _read_text(path, data, doc_id=doc_id, fmt=fmt)
    meta, problems = sidecar_meta(path)
    source.warnings.extend(problems)
    if meta:
        source.meta.update(meta)
        if isinstance(meta.get("title"), str) and meta["title"].strip():
            source.title = meta["title"].strip()
    return source


def text_tables(raw: str, text: str, offset_map: list[int]) -> list[Table]:
    """Pipe tables of the normalized text, and tab-separated tables of the raw text (normalization turns a
    tab into a space) re-anchored on the normalized text."""
    tables = parse_pipe_tables(text, delimiters=("|",))
    if "\t" in raw:
        tables += [remap_table(t, offset_map, text)
                   for t in parse_pipe_tables(raw, first_id=len(tables) + 1, delimiters=("\t",))]
    return sorted(tables, key=lambda t: t.start)


def _read_text(path: Path, data: bytes, *, doc_id: str, fmt: str) -> SourceDoc:
    if not data.strip():
        raise EmptyDocumentError("empty document", path=path)
    if looks_binary(data) and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("binary content, not text", path=path)
    raw, encoding, warnings = decode_text(data)
    text, offset_map = normalize(raw)
    if not text:
        raise EmptyDocumentError("empty document after normalization", path=path)
    return SourceDoc(id=doc_id, source_path=str(path), sha256=sha256_bytes(data), format=fmt, raw_text=raw,
                     text=text, offset_map=offset_map, pages=None, title=find_title(raw, text, offset_map),
                     encoding=encoding, tables=text_tables(raw, text, offset_map), warnings=list(warnings))


def _read_pdf(path: Path, data: bytes, *, doc_id: str, engine: str, password: str | None,
              max_pages: int | None) -> SourceDoc:
    from pipeline.pdf import extract_pdf

    warnings: list[str] = []
    raw, char_pages, char_glyphs, pages, tables = extract_pdf(path, engine=engine, password=password,
                                                             max_pages=max_pages, warnings=warnings)
    text, offset_map = normalize(raw)
    if not text:
        raise EmptyDocumentError("no text in PDF", path=path)
    mapped = [remap_table(t, offset_map, text) for t in tables]
    return SourceDoc(id=doc_id, source_path=str(path), sha256=sha256_bytes(data), format="pdf", raw_text=raw,
                     text=text, offset_map=offset_map, pages=pages, title=find_title("", text, offset_map),
                     encoding=None, pdf_engine=engine, char_pages=char_pages, char_glyphs=char_glyphs,
                     tables=mapped, warnings=warnings)
