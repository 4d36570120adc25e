"""Tests of pipeline/ingest.py: inputs, ids, decoding, bad text files, sidecar metadata."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipeline.errors import EmptyDocumentError, InputError, UnsupportedFormatError
from pipeline.ingest import DEFAULT_PDF_ENGINE, decode_text, iter_inputs, looks_binary, make_doc_id, read_document

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def test_read_seed_letter() -> None:
    path = CORPUS / "li2025_cellres_cart_ra_letter.txt"
    doc = read_document(path)
    assert doc.id == "li2025_cellres_cart_ra_letter"
    assert doc.format == "txt"
    assert doc.encoding == "utf-8"
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc.title.startswith("Fourth-generation chimeric antigen receptor T-cell therapy")
    assert doc.meta["original_name"] == "004_c1600d66dd1c998b.txt"
    assert "Cell Research" in doc.meta["source"]
    assert doc.pages is None and doc.char_pages is None
    assert len(doc.offset_map) == len(doc.text) + 1
    i = doc.text.index("from 399 RU/mL")
    start, end = doc.raw_span(i, i + len("from 399 RU/mL"))
    assert doc.raw_text[start:end] == "from 399 RU/mL"


def test_sidecar_title_wins_and_unknown_file_gets_none(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("# Heading title\n\nBody text.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Heading title\n\nBody text.", encoding="utf-8")
    (tmp_path / "documents.jsonl").write_text(
        json.dumps({"file": "a.txt", "title": "Sidecar title", "source": "X"}) + "\nnot json\n", encoding="utf-8")
    a = read_document(tmp_path / "a.txt")
    assert a.title == "Sidecar title" and a.meta == {"title": "Sidecar title", "source": "X"}
    assert any("line 2" in w for w in a.warnings)
    b = read_document(tmp_path / "b.md")
    assert b.title == "Heading title" and b.meta == {} and b.format == "md"


@pytest.mark.parametrize(
    ("data", "text", "encoding", "warned"),
    [
        ("CD19⁺ B cells µ".encode("utf-8"), "CD19⁺ B cells µ", "utf-8", False),
        (b"\xef\xbb\xbfBOM text", "BOM text", "utf-8-sig", False),
        ("caf\u00e9 \u2013 5 \u00b5g".encode("cp1252"), "café – 5 µg", "cp1252", True),
        (b"\x81\x8d bytes", "\x81\x8d bytes", "latin-1", True),
        ("utf16 text".encode("utf-16"), "utf16 text", "utf-16", False),
    ],
)
def test_decode_text(data: bytes, text: str, encoding: str, warned: bool) -> None:
    got, enc, warnings = decode_text(data)
    assert (got, enc, bool(warnings)) == (text, encoding, warned)


def test_cp1252_file_reads_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("ESR 120 mm/h \u2013 CRP 5 mg/L, \u201cgood\u201d".encode("cp1252"))
    doc = read_document(path)
    assert doc.text == 'ESR 120 mm/h – CRP 5 mg/L, "good"'
    assert doc.warnings == ["decoded as cp1252: not valid UTF-8"]


@pytest.mark.parametrize(
    ("data", "binary"),
    [(b"plain text\n", False), (b"PK\x03\x04\x00\x00binary", True), (bytes(range(1, 32)) * 20, True), (b"", False)],
)
def test_looks_binary(data: bytes, binary: bool) -> None:
    assert looks_binary(data) is binary


@pytest.mark.parametrize(
    ("name", "data", "error", "reason"),
    [
        ("garbage.txt", b"\x00\x01\x02\xff\xfe\x00" * 100, InputError, "binary content, not text"),
        ("empty.txt", b"", EmptyDocumentError, "empty document"),
        ("blank.md", b"  \n\t\n  ", EmptyDocumentError, "empty document"),
        ("markup_only.md", b"<sup>1</sup> <sup>2</sup>\n\n&nbsp;<br>", EmptyDocumentError, "empty document"),
        ("report.docx", b"PK\x03\x04", UnsupportedFormatError, "unsupported format '.docx'"),
    ],
)
def test_bad_text_inputs(tmp_path: Path, name: str, data: bytes, error: type[Exception], reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(error) as info:
        read_document(path)
    assert reason in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_document(tmp_path / "nope.txt")
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        read_document(tmp_path / "dir.txt")


def test_unknown_pdf_engine(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown PDF engine"):
        read_document(tmp_path / "x.pdf", pdf_engine="tesseract")
    assert DEFAULT_PDF_ENGINE in ("pdfplumber", "pypdfium2")


def test_pipe_table_in_markdown(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text("Table 1 Baseline values\n\n| Patient | ESR (mm/h) |\n|---|---|\n| 1 | 120 |\n| 2 | 60 |\n\n"
                    "a ESR, erythrocyte sedimentation rate\n", encoding="utf-8")
    doc = read_document(path)
    [table] = doc.tables
    assert [c.text for c in table.header] == ["Patient", "ESR (mm/h)"]
    assert [[c.text for c in r] for r in table.rows] == [["1", "120"], ["2", "60"]]
    for cell in [*table.header, *(c for r in table.rows for c in r)]:
        assert doc.text[cell.start:cell.end] == cell.text
    assert table.caption == "Table 1 Baseline values"
    assert table.footnotes == ["a ESR, erythrocyte sedimentation rate"]


def test_iter_inputs(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "report.txt").write_text("x")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "report.txt").write_text("x")
    (tmp_path / "a" / "paper.PDF").write_bytes(b"%PDF")
    (tmp_path / "a" / "notes.docx").write_text("x")
    (tmp_path / "a" / "documents.jsonl").write_text("{}")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.md").write_text("x")
    (tmp_path / "c.md").write_text("x")
    explicit = tmp_path / "a" / "notes.docx"
    got = list(iter_inputs([str(tmp_path), str(explicit), str(tmp_path / "*.md"), str(tmp_path / "missing.txt")]))
    rel = [p.relative_to(tmp_path).as_posix() if p.is_absolute() else str(p) for p in got]
    assert rel == ["a/paper.PDF", "a/report.txt", "b/report.txt", "c.md", "a/notes.docx", "missing.txt"]


@pytest.mark.parametrize(
    ("paths", "ids"),
    [
        (["x/report.txt", "y/report.txt", "z/report.md"], ["report", "report-2", "report-3"]),
        (["Case Report (final).pdf"], ["Case_Report_final"]),
        (["ünïcode.txt", "___.txt"], ["unicode", "doc"]),
        (["a.b.txt"], ["a.b"]),
    ],
)
def test_make_doc_id(paths: list[str], ids: list[str]) -> None:
    taken: set[str] = set()
    assert [make_doc_id(p, taken) for p in paths] == ids


def test_tab_separated_tables_are_read_from_the_raw_text(tmp_path) -> None:
    path = tmp_path / "tabs.txt"
    path.write_text("A 40-year-old man.\nTest\tDay 1\tDay 3\nCRP (mg/L)\t45\t12\n", encoding="utf-8")
    source = read_document(path)
    assert "\t" not in source.text  # the normalized text keeps a space, the table its cells
    [table] = source.tables
    assert [c.text for c in table.header] == ["Test", "Day 1", "Day 3"]
    assert [[source.text[c.start:c.end] for c in row] for row in table.rows] == [["CRP (mg/L)", "45", "12"]]
