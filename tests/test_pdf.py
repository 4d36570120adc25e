"""Tests of pipeline/pdf.py: reading order, de-hyphenation, headers, provenance and bad PDFs.

The references in tests/fixtures/pdf_reference/ were typed from page renderings
of the three journal PDFs in tests/fixtures/pdfs/ (see SOURCES.md there).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.document import SourceDoc
from pipeline.errors import EncryptedPDFError, NoTextLayerError, PDFError
from pipeline.ingest import DEFAULT_PDF_ENGINE, read_document
from pipeline.pdf import ENGINES, dehyphenate, extract_pdf

FIXTURES = Path(__file__).parent / "fixtures"
PDFS = FIXTURES / "pdfs"
REFERENCES = sorted((FIXTURES / "pdf_reference").glob("*.json"))
# Pages where the fast engine is known to differ from the reference (kept, not deleted).
PDFIUM_KNOWN_MISSES = {
    ("bmj2015_ussher_smoking_pregnancy_rct.pdf", "5"): "no table detection: the table is read as text, after the column",
    ("clinsci2014_douglas_ace_inhibitors.pdf", "1"): "loose PDFium boxes overlap: 'ofthe' glued",
}
GLUED_RE = re.compile(r"\b(?:ofthe|andthe|inthe|tothe|forthe|withthe|onthe|thatthe|fromthe|bythe)\b", re.IGNORECASE)


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_CACHE: dict[tuple[str, str], SourceDoc] = {}


def _doc(name: str, engine: str) -> SourceDoc:
    key = (name, engine)
    if key not in _CACHE:
        _CACHE[key] = read_document(PDFS / name, pdf_engine=engine)
    return _CACHE[key]


def _reference_cases() -> list:
    cases = []
    for ref in REFERENCES:
        spec = json.loads(ref.read_text(encoding="utf-8"))
        for page, checks in spec["pages"].items():
            for engine in ENGINES:
                marks = []
                if engine == "pypdfium2" and (spec["file"], page) in PDFIUM_KNOWN_MISSES:
                    marks = [pytest.mark.xfail(strict=True, reason=PDFIUM_KNOWN_MISSES[(spec["file"], page)])]
                cases.append(pytest.param(spec["file"], page, checks, engine, marks=marks,
                                          id=f"{ref.stem[:8]}-p{page}-{engine}"))
    return cases


def _failures(text: str, checks: dict) -> list[str]:
    text = _ws(text)
    bad = [f"missing: {e}" for e in checks["excerpts"] if _ws(e) not in text]
    for first, second in checks["order"]:
        i, j = text.find(_ws(first)), text.find(_ws(second))
        if not 0 <= i < j:
            bad.append(f"order: {first!r} ({i}) before {second!r} ({j})")
    bad += [f"present: {a}" for a in checks["absent"] if _ws(a) in text]
    return bad


@pytest.mark.slow
@pytest.mark.parametrize(("name", "page", "checks", "engine"), _reference_cases())
def test_reading_order_against_reference(name: str, page: str, checks: dict, engine: str) -> None:
    assert _failures(_doc(name, engine).text, checks) == []


def _fidelity(engine: str) -> float:
    passed = total = 0
    for ref in REFERENCES:
        spec = json.loads(ref.read_text(encoding="utf-8"))
        text = _doc(spec["file"], engine).text
        for checks in spec["pages"].values():
            n = len(checks["excerpts"]) + len(checks["order"]) + len(checks["absent"])
            total += n
            passed += n - len(_failures(text, checks))
    return passed / total


@pytest.mark.slow
def test_default_engine_is_the_more_faithful() -> None:
    scores = {engine: _fidelity(engine) for engine in ENGINES}
    assert scores["pdfplumber"] == 1.0
    assert scores["pypdfium2"] >= 0.9
    best = max(scores, key=lambda e: (scores[e], e == "pdfplumber"))
    assert DEFAULT_PDF_ENGINE == best, scores


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(p.name for p in PDFS.glob("*.pdf")))
def test_words_not_glued(name: str, engine: str) -> None:
    text = _doc(name, engine).text
    long_tokens = [t for t in text.split() if re.fullmatch(r"[A-Za-z]{26,}", t.strip(".,;:()[]"))]
    glued = GLUED_RE.findall(text)
    assert len(long_tokens) <= 1, long_tokens
    limit = 5 if (engine, name) == ("pypdfium2", "clinsci2014_douglas_ace_inhibitors.pdf") else 0
    assert len(glued) <= limit, glued


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_provenance_page_and_box(engine: str) -> None:
    doc = _doc("jtmo2010_datta_dvt_prophylaxis_trauma_review.pdf", engine)
    assert doc.pages == 4 and doc.format == "pdf" and doc.pdf_engine == engine
    assert len(doc.char_pages) == len(doc.raw_text) == len(doc.char_boxes)
    i = doc.text.index("Multisystem traumatic injury")
    page, box = doc.locate(i, i + len("Multisystem traumatic injury"))
    assert page == 1
    assert box is not None and box[2] < 300 and 400 < box[1] < 450  # left column, below the abstract
    j = doc.text.index("versatility of the retrievable filter")
    page, box = doc.locate(j, j + 10)
    assert page == 2 and box[0] > 297  # right column of the second page


def test_pdf_tables_have_cells_in_text() -> None:
    doc = _doc("bmj2015_ussher_smoking_pregnancy_rct.pdf", "pdfplumber")
    assert len(doc.tables) >= 5
    table = doc.tables[0]
    assert table.page == 5 and table.caption and table.caption.lower().startswith("table 1")
    assert [c.text for c in table.header][:3] == ["Characteristics", "Physical activity group (n=391)",
                                                  "Control group (n=393)"]
    for row in table.rows:
        for cell in row:
            assert doc.text[cell.start:cell.end] == cell.text
    assert ["Mean (SD) age (years)", "27.2 (6.1)", "27.8 (6.5)"] in [[c.text for c in r] for r in table.rows]


@pytest.mark.parametrize(
    ("prefix", "nxt", "vocabulary", "expected"),
    [
        ("treat-", "ment", set(), "join"),
        ("prophy-", "lactic", set(), "join"),
        ("follow-", "up", {"follow-up"}, "keep"),
        ("follow-", "up", {"follow-up", "followup"}, "join"),
        ("CD19-", "targeted", set(), "keep"),
        ("IL-", "6", set(), "keep"),
        ("anti-", "Inflammatory", set(), "keep"),
        ("life-threa-", "tening", set(), "join"),
        ("word", "next", set(), None),
    ],
)
def test_dehyphenate(prefix: str, nxt: str, vocabulary: set[str], expected: str | None) -> None:
    assert dehyphenate(prefix, nxt, vocabulary) == expected


# ---------------------------------------------------------------- bad PDFs


def _image_pdf(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (200, 100), "white").save(path, "PDF")
    return path


def _encrypted_pdf(path: Path, password: str) -> Path:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(str(PDFS / "jtmo2010_datta_dvt_prophylaxis_trauma_review.pdf"))
    writer = pypdf.PdfWriter()
    writer.add_page(reader.pages[0])
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_garbage_named_pdf(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "garbage.pdf"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(PDFError, match="not a PDF") as info:
        read_document(path, pdf_engine=engine)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_truncated_pdf(tmp_path: Path, engine: str) -> None:
    data = (PDFS / "jtmo2010_datta_dvt_prophylaxis_trauma_review.pdf").read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PDFError, match="truncated") as info:
        read_document(path, pdf_engine=engine)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_encrypted_pdf(tmp_path: Path, engine: str) -> None:
    path = _encrypted_pdf(tmp_path / "locked.pdf", "s3cret")
    with pytest.raises(EncryptedPDFError, match="encrypted: pass --password"):
        read_document(path, pdf_engine=engine)
    with pytest.raises(EncryptedPDFError, match="wrong password"):
        read_document(path, pdf_engine=engine, password="nope")
    doc = read_document(path, pdf_engine=engine, password="s3cret")
    assert "Multisystem traumatic injury" in doc.text and doc.pages == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_image_only_pdf(tmp_path: Path, engine: str) -> None:
    path = _image_pdf(tmp_path / "scan.pdf")
    with pytest.raises(NoTextLayerError, match=r"no text layer \(scanned\?\)") as info:
        read_document(path, pdf_engine=engine)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_max_pages_truncates_with_warning(engine: str) -> None:
    warnings: list[str] = []
    text, pages, boxes, n, _ = extract_pdf(PDFS / "jtmo2010_datta_dvt_prophylaxis_trauma_review.pdf",
                                           engine=engine, max_pages=1, warnings=warnings)
    assert n == 1 and set(pages) == {1} and len(boxes) == len(text)
    assert warnings == ["truncated to the first 1 of 4 pages (max_pages)"]
    doc = read_document(PDFS / "jtmo2010_datta_dvt_prophylaxis_trauma_review.pdf", pdf_engine=engine, max_pages=1)
    assert doc.pages == 1 and doc.warnings == warnings


def test_unknown_engine() -> None:
    with pytest.raises(PDFError, match="unknown PDF engine"):
        extract_pdf(PDFS / "jtmo2010_datta_dvt_prophylaxis_trauma_review.pdf", engine="ocr")
