"""PDF text with reading order and per-character provenance, from two engines behind one interface.

``extract_pdf(path, engine=..., password=..., max_pages=...)`` returns
``(raw_text, char_pages, char_glyphs, pages, tables)``: the text in reading
order, the page (1-based) and glyph of every character of it (a ``Char``
tuple whose fields 1-4 are its box ``(x0, top, x1, bottom)``, points, origin
at the top-left; synthetic spaces and newlines take the glyph before them),
the number of pages read, and the tables found (``pipeline.document.Table``
with offsets into ``raw_text``).

The engines only differ in how they get characters: ``pdfplumber`` (the
reference) reads ``page.chars`` once per page, ``pypdfium2`` (fast) reads
PDFium's per-character boxes. The layout is shared and works on characters:

1. lines: characters are grouped into bands by vertical position, split into
   words where the horizontal gap exceeds ``WORD_GAP`` x font size (the gap
   between glyphs in a word is under 0.08 em, between words over 0.17 em in the
   three fixture PDFs; pdfplumber's default ``x_tolerance=3`` glues words) and
   into segments where it exceeds ``SEGMENT_GAP`` x size (a column gutter);
2. running headers and footers: segments in the top/bottom margin whose text
   (digits masked) repeats on at least 40% of the recto or verso pages (20% of
   all pages), and bare page numbers; "Table N" captions are never running;
3. columns: per page, the x position in the middle of a region crossed by the
   fewest segments, with enough text on both sides, is a gutter; segments
   crossing it are full-width blocks (title, abstract, wide figures) that cut
   the page into bands, read top to bottom; inside a band the left side is
   read before the right, each side split again recursively (a narrow margin
   column); a side needs 60 ems of text (a table's label column is no column);
   a left-side block below all of the right side after a wide gap (a
   "Received ..." box, a caption's first line) is read after the right side;
4. paragraphs: a new block starts at a vertical gap, a font-size change, an
   indented first line, after a short line ending a sentence, and at a
   "Fig. N" / "Figure N" / "Table N" caption; lines of a block are joined with
   a space, blocks with a blank line; a sentence left open at the foot of a
   column runs on into the next column's first paragraph, and floats placed
   below it (figure text, captions, tables) follow that paragraph;
5. de-hyphenation: a line ending in a hyphen after a lowercase word part,
   followed by a line starting with a lowercase letter, is joined without the
   hyphen unless the hyphenated form occurs elsewhere in the document and the
   joined form does not (``follow-up``); a hyphen after a digit or capital
   (``CD19-``, ``IL-``) is always kept.

Engines' quirks handled: pdfplumber (pdfminer) trusts ToUnicode maps that
give the other letter case than the font encoding (the BMJ heading font);
such entries are repaired from the encoding, as PDFium does. The PDFium path
is tuned for speed (one ``get_text_range`` per page, per-character queries only
for boxes, spaces, hyphens and the angle at a baseline change).

Tables: pdfplumber's table finder on pages with ruling lines, fed with
pdfplumber's own edges or, for the PDFium engine, with the straight
horizontal and vertical segments of the page's path objects; a table's
characters are taken out of the flow and written as one line per row with
cells separated by `` | ``, so cell offsets index the text.
"""
from __future__ import annotations

import logging
import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from pipeline.document import Cell, Table
from pipeline.errors import EncryptedPDFError, NoTextLayerError, PDFError

log = logging.getLogger(__name__)

BBox = tuple[float, float, float, float]
# text, x0, top, x1, bottom, size
Char = tuple[str, float, float, float, float, float]
# C-level accessors of Char fields for map/sort over many characters
_TEXT, _X0, _TOP, _X1, _BOTTOM, _SIZE = (itemgetter(i) for i in range(6))

ENGINES = ("pdfplumber", "pypdfium2")
WORD_GAP = 0.12
SPACED_WORD_GAP = 0.5
BASELINE_TOL = 0.25
SEGMENT_GAP = 1.2
MARGIN_FRACTION = 0.08
REPEAT_FRACTION = 0.4
MIN_TABLE_ROWS = 3
MIN_TABLE_EDGES = 10
MIN_COLUMN_EMS = 60.0  # total line length of a text column, in ems (a table's label column is shorter)
MAX_SCRIPT_RUN = 8  # citation markers and signs are short; a longer small run is a footnote line

_CAPTION_RE = re.compile(r"^(?:Fig(?:ure)?s?\.?|Table|Supplementary (?:Fig(?:ure)?\.?|Table))\s+S?\d+[A-Za-z]?\b")
_PAGE_NUMBER_RE = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
_HYPHENS = "-\u00ad\u2010\u2011"
_CAPTION_INITIALS = frozenset("FTS")  # the letters _CAPTION_RE can start with


@dataclass
class Segment:
    """A run of words on one text line of one page (a line of one column)."""

    words: list[list[Char]]
    page: int
    x0: float = 0.0
    top: float = 0.0
    x1: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    table: "TableBlock | None" = None

    def __post_init__(self) -> None:
        if self.words and not self.size:
            chars = [c for w in self.words for c in w]
            self.x0, self.top, self.x1, self.bottom = _extent(chars)
            self.size = _mode_size(chars)

    @cached_property
    def text(self) -> str:
        return " ".join("".join(map(_TEXT, w)) for w in self.words)

    @cached_property
    def last_word(self) -> str:
        """The text of the last word (what ``text`` ends with)."""
        return "".join(map(_TEXT, self.words[-1])) if self.words else ""

    def is_caption(self) -> bool:
        """Whether the line starts like a caption ("Figure 2", "Table 1"); the first glyph is checked
        first, sparing the whole line's text for most lines."""
        return bool(self.words) and self.words[0][0][0][:1] in _CAPTION_INITIALS and bool(_CAPTION_RE.match(self.text))


@dataclass
class TableBlock:
    """A table found on a page: rows of cells, each cell a list of words."""

    rows: list[list[list[list[Char]]]]
    bbox: BBox
    caption: str | None = None
    footnotes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- engines


def _check_file(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 2048))
            tail = fh.read()
    except OSError as e:
        raise PDFError(f"cannot read: {e.strerror or e}", path=path) from e
    if b"%PDF-" not in head:
        raise PDFError("not a PDF (no %PDF- header)", path=path)
    if b"%%EOF" not in tail:
        raise PDFError("truncated or corrupt PDF (no %%EOF marker at the end)", path=path)
    return head


def _pages_to_read(total: int, max_pages: int | None, warnings: list[str]) -> int:
    if max_pages is not None and 0 < max_pages < total:
        warnings.append(f"truncated to the first {max_pages} of {total} pages (max_pages)")
        return max_pages
    return total


def _plumber_pages(path: Path, password: str | None, max_pages: int | None,
                   warnings: list[str]) -> tuple[list[list[Char]], list[tuple[float, float]], list[list[TableBlock]]]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    pages_chars: list[list[Char]] = []
    sizes: list[tuple[float, float]] = []
    tables: list[list[TableBlock]] = []
    try:
        with pdfplumber.open(path, password=password or "") as pdf:
            n = _pages_to_read(len(pdf.pages), max_pages, warnings)
            repaired = 0
            for page in pdf.pages[:n]:
                repaired += _repair_case_maps(pdf, page)
                # rotated text (margin watermarks, axis labels) is left out of the flow
                chars = [(c["text"], float(c["x0"]), float(c["top"]), float(c["x1"]), float(c["bottom"]),
                          float(c.get("size") or (c["bottom"] - c["top"]))) for c in page.chars if c.get("upright", True)]
                blocks: list[TableBlock] = []
                if len(page.edges) >= MIN_TABLE_EDGES:
                    blocks = _table_blocks(page.find_tables(), chars)
                pages_chars.append(chars)
                sizes.append((float(page.width), float(page.height)))
                tables.append(blocks)
                page.flush_cache()
            if repaired:
                log.debug("%s: %d ToUnicode entries contradicting the font encoding by letter case", path, repaired)
    except PDFPasswordIncorrect as e:
        msg = "encrypted: wrong password" if password else "encrypted: pass --password"
        raise EncryptedPDFError(msg, path=path) from e
    except (PDFError, MemoryError):
        raise
    except Exception as e:  # pdfminer raises many unrelated types on broken files
        if _is_password_error(e):
            msg = "encrypted: wrong password" if password else "encrypted: pass --password"
            raise EncryptedPDFError(msg, path=path) from e
        raise PDFError(f"cannot parse PDF: {type(e).__name__}: {e}", path=path) from e
    return pages_chars, sizes, tables


def _repair_case_maps(pdf: object, page: object) -> int:
    """Fix simple fonts whose ToUnicode map gives the other letter case than their encoding.

    Some producers (the BMJ heading font) map the codes of capitals to lower
    case letters ("MVPA" extracts as "mvpa", "Statistical" as "statistical")
    while the glyphs drawn are capitals; PDFium trusts the encoding there, and
    so do we: an entry is replaced only when it is the same letter with the
    other case. Fonts are repaired in pdfminer's font cache, so the page's
    interpreter uses them. Returns the number of entries replaced.
    """
    from pdfminer.pdftypes import PDFObjRef, resolve1

    try:
        fonts = resolve1(resolve1(page.page_obj.resources or {}).get("Font") or {})  # type: ignore[attr-defined]
    except Exception:  # a broken resource dictionary is pdfminer's to report
        return 0
    fixed = 0
    for ref in fonts.values() if isinstance(fonts, dict) else ():
        if not isinstance(ref, PDFObjRef):
            continue
        try:
            font = pdf.rsrcmgr.get_font(ref.objid, resolve1(ref))  # type: ignore[attr-defined]
        except Exception:
            continue
        umap = getattr(getattr(font, "unicode_map", None), "cid2unichr", None)
        encoding = getattr(font, "cid2unicode", None)
        if not umap or not encoding:
            continue
        for cid, text in list(umap.items()):
            glyph = encoding.get(cid)
            if glyph and len(text) == 1 and len(glyph) == 1 and text != glyph and text.swapcase() == glyph:
                umap[cid] = glyph
                fixed += 1
    return fixed


def _is_password_error(e: BaseException) -> bool:
    """pdfplumber wraps pdfminer's PDFPasswordIncorrect in PdfminerException (in args or as the cause)."""
    seen: list[object] = [e, e.__cause__, e.__context__, *getattr(e, "args", ())]
    return any(type(x).__name__ in ("PDFPasswordIncorrect", "PDFEncryptionError") for x in seen if x is not None)


def _table_blocks(found_tables: Iterable[Any], chars: list[Char]) -> list[TableBlock]:
    """pdfplumber ``Table``s (cell boxes) filled with the page's characters."""
    blocks: list[TableBlock] = []
    for found in found_tables:
        rows = [r.cells for r in found.rows]
        if len(rows) < MIN_TABLE_ROWS or max(len(r) for r in rows) < 2:
            continue
        bbox = tuple(float(v) for v in found.bbox)  # a property computed over all cells: read once
        # glyph centres, narrowed table -> row -> cell, so each cell looks only at its row's glyphs
        x0, top, x1, bottom = bbox
        in_table = [(cx, cy, c) for c in chars
                    if x0 <= (cx := (c[1] + c[3]) / 2) <= x1 and top <= (cy := (c[2] + c[4]) / 2) <= bottom
                    and c[0].strip()]
        cell_rows: list[list[list[list[Char]]]] = []
        for row in rows:
            boxes = [box for box in row if box is not None]
            if not boxes:
                continue
            row_top, row_bottom = min(b[1] for b in boxes), max(b[3] for b in boxes)
            in_row = [(cx, cy, c) for cx, cy, c in in_table if row_top <= cy <= row_bottom]
            cells = []
            for box in boxes:
                inside = [c for cx, cy, c in in_row if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]]
                cells.append([w for s in _segments(inside, 0) for w in s.words])
            if any(cells):
                cell_rows.append(cells)
        if len(cell_rows) >= MIN_TABLE_ROWS:
            blocks.append(TableBlock(rows=cell_rows, bbox=bbox))  # type: ignore[arg-type]
    return blocks


def _pdfium_pages(path: Path, password: str | None, max_pages: int | None,
                  warnings: list[str]) -> tuple[list[list[Char]], list[tuple[float, float]], list[list[TableBlock]]]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            msg = "encrypted: wrong password" if password else "encrypted: pass --password"
            raise EncryptedPDFError(msg, path=path) from e
        raise PDFError(f"cannot parse PDF: {e}", path=path) from e
    pages_chars: list[list[Char]] = []
    sizes: list[tuple[float, float]] = []
    tables: list[list[TableBlock]] = []
    try:
        n = _pages_to_read(len(pdf), max_pages, warnings)
        for i in range(n):
            page = pdf[i]
            width, height = page.get_size()
            textpage = page.get_textpage()
            chars = _pdfium_chars(textpage, float(height))
            edges = _pdfium_edges(page, float(height))
            pages_chars.append(chars)
            sizes.append((float(width), float(height)))
            tables.append(_table_blocks(_find_tables(edges, float(width), float(height)), chars)
                          if len(edges) >= MIN_TABLE_EDGES else [])
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return pages_chars, sizes, tables


def _find_tables(edges: list[dict[str, Any]], width: float, height: float) -> list[Any]:
    """pdfplumber's table finder (default settings, as ``page.find_tables()``) on given edges."""
    from types import SimpleNamespace

    from pdfplumber.table import TableFinder

    return TableFinder(SimpleNamespace(edges=edges, bbox=(0.0, 0.0, width, height))).tables  # type: ignore[arg-type]


def _edge(x0: float, y0: float, x1: float, y1: float, height: float) -> dict[str, Any] | None:
    """A pdfplumber edge (top-left origin) for a straight segment in PDF space, if it is horizontal or vertical."""
    if abs(y0 - y1) < 1.0 and abs(x1 - x0) >= 1.0:
        top = height - max(y0, y1)
        return {"x0": min(x0, x1), "x1": max(x0, x1), "top": top, "bottom": top, "width": abs(x1 - x0),
                "height": 0.0, "orientation": "h", "object_type": "line"}
    if abs(x0 - x1) < 1.0 and abs(y1 - y0) >= 1.0:
        return {"x0": x0, "x1": x0, "top": height - max(y0, y1), "bottom": height - min(y0, y1), "width": 0.0,
                "height": abs(y1 - y0), "orientation": "v", "object_type": "line"}
    return None


def _pdfium_edges(page: Any, height: float) -> list[dict[str, Any]]:
    """Horizontal and vertical line segments of the page's path objects (rules, cell borders, the
    sides of rectangles), as pdfplumber edges. Paths inside form XObjects are not read."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    raw = page.raw
    matrix, x, y = pdfium_c.FS_MATRIX(), ctypes.c_float(), ctypes.c_float()
    x_ref, y_ref = ctypes.byref(x), ctypes.byref(y)
    edges: list[dict[str, Any]] = []
    for k in range(pdfium_c.FPDFPage_CountObjects(raw)):
        obj = pdfium_c.FPDFPage_GetObject(raw, k)
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix))
        a, b, c, d, e, f = matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f
        start = prev = None
        for i in range(pdfium_c.FPDFPath_CountSegments(obj)):
            seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
            pdfium_c.FPDFPathSegment_GetPoint(seg, x_ref, y_ref)
            point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
            kind = pdfium_c.FPDFPathSegment_GetType(seg)
            if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
                start = prev = point
                continue
            if kind == pdfium_c.FPDF_SEGMENT_LINETO and prev is not None:
                edges.append(_edge(*prev, *point, height))
            prev = point
            if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
                edges.append(_edge(*prev, *start, height))
                prev = start
    return [edge for edge in edges if edge is not None]


# line ends and padding PDFium adds, spaces (maybe generated) and its soft-hyphen markers
_PDFIUM_SPECIAL = frozenset("\r\n\x00\uffff \ufffe\x02")


def _pdfium_chars(textpage: object, height: float) -> list[Char]:
    """The characters of one PDFium text page (rotated and generated ones left out).

    Speed matters here (one call into PDFium per character and property): the
    text comes from one ``get_text_range`` call, and only spaces (generated or
    not) and hyphen markers need a further per-character query.
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    raw = textpage.raw  # type: ignore[attr-defined]
    n = textpage.count_chars()  # type: ignore[attr-defined]
    text = textpage.get_text_range(0, n) if n else ""  # type: ignore[attr-defined]
    if len(text) != n:  # surrogate pairs: fall back to one code per character
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, k)) for k in range(n))
    rect = pdfium_c.FS_RECTF()
    get_box = pdfium_c.FPDFText_GetLooseCharBox
    get_angle = pdfium_c.FPDFText_GetCharAngle
    is_generated = pdfium_c.FPDFText_IsGenerated
    rect_ref = ctypes.byref(rect)
    lo_angle, hi_angle = 0.05, 2 * math.pi - 0.05
    chars: list[Char] = []
    prev_box: tuple[float, float, float] | None = None
    prev_bottom = math.nan
    for k, ch in enumerate(text):
        if ch in _PDFIUM_SPECIAL:  # one test for the common glyph; the special ones sorted out here
            if ch in "\r\n\x00\uffff":
                continue
            if ch == " ":
                if is_generated(raw, k) == 1:
                    continue
            elif pdfium_c.FPDFText_IsHyphen(raw, k) != 1:
                continue
            else:
                ch = "-"
        get_box(raw, k, rect_ref)
        bottom = rect.bottom  # each ctypes field read costs a lookup: read once
        # rotated text (margin watermarks, axis labels) is left out, as for pdfplumber; a glyph on the
        # baseline of the one before it continues an upright line and needs no query
        if bottom != prev_bottom and lo_angle < get_angle(raw, k) % (2 * math.pi) < hi_angle:
            continue
        prev_bottom = bottom
        left, right, rtop = rect.left, rect.right, rect.top
        box = (left, right, rtop)
        if box == prev_box:
            # a ligature glyph expanded to several characters with one box
            prev = chars[-1]
            chars[-1] = (prev[0] + ch, *prev[1:])
            continue
        prev_box = box
        size = rtop - bottom
        chars.append((ch, left, height - rtop, right, height - bottom, size if size > 0.1 else 0.1))
    return chars


# ---------------------------------------------------------------- lines and words


def _segments(chars: Iterable[Char], page: int) -> list[Segment]:
    """Chars of one page (or one table cell) as line segments, split into words.

    Lines are bands of chars sharing a baseline (bottom within ``BASELINE_TOL``
    x size); superscript/subscript bands are folded into their line. Words
    break at explicit space characters when the line has them (then only a
    gap over ``SPACED_WORD_GAP`` em also breaks: letter-spaced justified
    lines), else at gaps over ``WORD_GAP`` em.
    """
    # by baseline, then x: two stable sorts on float keys beat one on (bottom, x0) tuples
    items = sorted((c for c in chars if c[0]), key=_X0)
    items.sort(key=_BOTTOM)
    bands: list[list[Char]] = []
    base = -math.inf
    current: list[list[Char]] = []  # bands on the current baseline, one per font size
    last_size, last_host = math.nan, None
    for c in items:
        size = c[5]
        if c[4] - base > BASELINE_TOL * (size if size > 1.0 else 1.0):
            base, current, last_size = c[4], [], math.nan
        elif size == last_size:  # same baseline, same size as the glyph before: the same band
            last_host.append(c)  # type: ignore[union-attr]
            continue
        host = None
        for b in current:
            other = b[0][5]
            if abs(other - size) <= 0.15 * (other if other > size else size):
                host = b
                break
        if host is None:
            host = [c]
            current.append(host)
            bands.append(host)
        else:
            host.append(c)
        last_size, last_host = size, host
    bands = [b for b in _merge_script_bands(bands) if any(not c[0].isspace() for c in b)]
    out: list[Segment] = []
    for band in bands:
        band.sort(key=itemgetter(1))
        n_spaces = sum(1 for c in band if c[0].isspace())
        explicit = n_spaces >= 0.05 * (len(band) - n_spaces)
        words: list[list[Char]] = []
        seg_words: list[list[list[Char]]] = [words]
        prev: Char | None = None
        spaced = False
        space_end: float | None = None
        for c in band:
            if c[0].isspace():
                space_end = c[3] if prev is not None else None
                continue
            # a space counts only right before this glyph: a trailing space at a column's edge does not
            spaced = space_end is not None and c[1] - space_end < SPACED_WORD_GAP * (c[5] if c[5] > 1.0 else 1.0)
            if prev is not None and c[0] == prev[0] and abs(c[1] - prev[1]) < 0.5 and abs(c[2] - prev[2]) < 0.5:
                continue  # fake bold: the same glyph drawn twice
            if prev is None:
                words.append([c])
            else:
                gap = c[1] - prev[3]
                size = prev[5] if prev[5] > 1.0 else 1.0
                if gap > 4.0 and (gap > SEGMENT_GAP * size or explicit and not spaced and gap > SPACED_WORD_GAP * size):
                    words = [[c]]
                    seg_words.append(words)
                elif spaced or gap > (SPACED_WORD_GAP if explicit else WORD_GAP) * size:
                    words.append([c])
                else:
                    words[-1].append(c)
            prev = c
            space_end = None
        for ws in seg_words:
            if ws:
                flat = list(chain.from_iterable(ws))
                size = _mode_size(flat)
                marked = _mark_scripts(flat, size)
                if marked is not flat:  # some glyphs got a script mark: the words take the marked glyphs
                    it = iter(marked)
                    ws = [[next(it) for _ in w] for w in ws]
                x0, top, x1, bottom = _extent(flat)
                out.append(Segment(words=ws, page=page, x0=x0, top=top, x1=x1, bottom=bottom, size=size))
    return out


def _mode_size(chars: Sequence[Char]) -> float:
    """The most common font size (to 0.1 pt) of some characters."""
    distinct = set(map(_SIZE, chars))
    if len(distinct) == 1:  # the common case, without counting
        return round(distinct.pop(), 1)
    counts = Counter(map(_SIZE, chars))
    rounded: dict[float, int] = {}
    for size, n in counts.items():
        key = round(size, 1)
        rounded[key] = rounded.get(key, 0) + n
    return max(rounded, key=lambda k: rounded[k])


def _extent(chars: Sequence[Char]) -> tuple[float, float, float, float]:
    """The bounding box ``(x0, top, x1, bottom)`` of some characters."""
    return (min(map(_X0, chars)), min(map(_TOP, chars)), max(map(_X1, chars)), max(map(_BOTTOM, chars)))


def _overlap(a: Sequence[Char], b: Sequence[Char]) -> bool:
    """Whether band ``a`` is script-like next to line ``b``: short runs whose centres lie inside ``b``'s height."""
    b_top, b_bottom = min(c[2] for c in b), max(c[4] for c in b)
    if not all(b_top < (c[2] + c[4]) / 2 < b_bottom for c in a):
        return False
    run, prev_x1 = 0, -math.inf
    for c in sorted(a, key=lambda c: c[1]):
        run = run + 1 if c[1] - prev_x1 < 0.5 * c[5] else 1
        if run > MAX_SCRIPT_RUN:
            return False
        prev_x1 = c[3]
    return True


_NEIGHBOURS = (-1, 1, -2, 2, -3, 3, -4, 4, -5, 5, -6, 6)


def _merge_script_bands(bands: list[list[Char]]) -> list[list[Char]]:
    """Fold bands of smaller raised/lowered glyphs (superscripts, subscripts) into the line they sit on.

    The host is a nearby band (bands are sorted by baseline; two columns
    interleave) whose glyphs are larger, whose height contains the script's
    centres and which has text within one em to the left or right of it.
    """
    sizes = [_mode_size(b) for b in bands]
    merged_into: dict[int, int] = {}
    for i, band in enumerate(bands):
        # nearest bands first, the one above before the one below; most bands have no larger neighbour
        hosts = [i + d for d in _NEIGHBOURS if 0 <= i + d < len(bands) and i + d not in merged_into
                 and sizes[i] < 0.85 * sizes[i + d]]
        visible = [c for c in band if not c[0].isspace()] if hosts else None
        if not visible:
            continue
        x0, x1 = min(map(_X0, visible)), max(map(_X1, visible))
        for j in hosts:
            host = bands[j]
            em = sizes[j]
            near = any(c[3] >= x0 - em and c[1] <= x1 + em for c in host if not c[0].isspace())
            if near and _overlap(visible, host):
                merged_into[i] = j
                break
    out = []
    for i, band in enumerate(bands):
        if i in merged_into:
            continue
        extra = [c for k, j in merged_into.items() if j == i for c in bands[k]]
        out.append(band + extra if extra else band)
    return out


def _mark_scripts(band: list[Char], size: float) -> list[Char]:
    """Chars above or below the baseline get a 7th field, 1 superscript or -1 subscript; the others
    are kept as they are (``size``: the band's font size). ``band`` itself is returned when no
    glyph is small enough to be a script."""
    if min(map(_SIZE, band)) >= 0.85 * size:  # nothing smaller than the line's text: no scripts
        return band  # the same list: the caller needs no copy
    main = sorted(c[4] for c in band if abs(c[5] - size) < 0.05 * size) or sorted(c[4] for c in band)
    baseline = main[len(main) // 2]
    out = []
    for c in band:
        script = 0
        if c[5] < 0.85 * size:
            if c[4] < baseline - 0.2 * size:
                script = 1
            elif c[4] > baseline + 0.1 * size:
                script = -1
        out.append((*c[:6], script) if script else c)
    return out


# ---------------------------------------------------------------- headers and footers


def _margin_key(seg: Segment, height: float) -> tuple[str, str] | None:
    if seg.bottom < height * MARGIN_FRACTION * 1.5:
        where = "top"
    elif seg.top > height * (1 - MARGIN_FRACTION):
        where = "bottom"
    else:
        return None
    if seg.is_caption():
        return None  # "Table 2" at the top of several pages is a float, not a running head
    return where, re.sub(r"\d+", "#", seg.text.lower()).strip()


def remove_running_lines(pages: list[list[Segment]], heights: list[float]) -> int:
    """Drop running headers/footers and margin page numbers in place; returns how many segments went."""
    counts: Counter[tuple[str, str]] = Counter()
    for segs, h in zip(pages, heights):
        counts.update({k for s in segs if (k := _margin_key(s, h)) is not None})
    # recto and verso pages carry different running heads: each repeats on about half of the pages
    need = max(2, math.ceil(REPEAT_FRACTION * len(pages) / 2))
    removed = 0
    for i, (segs, h) in enumerate(zip(pages, heights)):
        keep = []
        for s in segs:
            k = _margin_key(s, h)
            if k is not None and (counts[k] >= need or _PAGE_NUMBER_RE.match(s.text.strip())):
                removed += 1
                continue
            keep.append(s)
        pages[i] = keep
    return removed


# ---------------------------------------------------------------- columns


def order_segments(segs: list[Segment], x_lo: float, x_hi: float, depth: int = 0) -> list[Segment]:
    """Segments of one page region in reading order (column-aware, recursive)."""
    segs = sorted(segs, key=lambda s: (round(s.top, 1), s.x0))
    gutter = find_gutter(segs, x_lo, x_hi) if depth < 3 else None
    if gutter is None:
        return segs
    full = [s for s in segs if s.x0 < gutter < s.x1]
    out: list[Segment] = []
    band: list[Segment] = []
    cuts = sorted(full, key=lambda s: (s.top, s.x0))
    rest = sorted((s for s in segs if not (s.x0 < gutter < s.x1)), key=lambda s: s.top)
    j = 0
    for cut in [*cuts, None]:
        band = []
        while j < len(rest) and (cut is None or _before_cut(rest[j], cut)):
            band.append(rest[j])
            j += 1
        left = [s for s in band if s.x1 <= gutter]
        right = [s for s in band if s.x0 >= gutter]
        left, trailer = split_trailer(left, right)
        out.extend(order_segments(left, x_lo, gutter, depth + 1))
        out.extend(order_segments(right, gutter, x_hi, depth + 1))
        out.extend(order_segments(trailer, x_lo, gutter, depth + 1))
        if cut is not None:
            out.append(cut)
    return out


def _before_cut(s: Segment, cut: Segment) -> bool:
    """Whether ``s`` is read before the full-width segment ``cut``: above it, or left of it on its line (a caption label)."""
    mid = (s.top + s.bottom) / 2
    return mid < cut.top or (mid < cut.bottom and s.x1 <= cut.x0 + 1)


def split_trailer(left: list[Segment], right: list[Segment]) -> tuple[list[Segment], list[Segment]]:
    """Split off the left-column block that sits below all of the right column after a wide gap.

    A caption, box or note at the page bottom that happens to end before the
    gutter (``Received ...``, the first line of a figure caption) is read
    after the right column, not between the columns.
    """
    if not left or not right:
        return left, []
    floor = max(s.bottom for s in right)
    left = sorted(left, key=lambda s: s.top)
    for k in range(1, len(left)):
        gap = left[k].top - max(s.bottom for s in left[:k])
        if left[k].top > floor and gap > 2.0 * max(left[k].size, 1.0):
            return left[:k], left[k:]
    return left, []


def find_gutter(segs: Sequence[Segment], x_lo: float, x_hi: float) -> float | None:
    """The x of a column gutter: fewest crossing segments, enough text on both sides; None for one column."""
    text_segs = [s for s in segs if s.table is None]
    if len(text_segs) < 8 or x_hi - x_lo < 100:
        return None
    lo, hi = int(x_lo), int(x_hi) + 1
    width = hi - lo
    cross = [0] * (width + 1)
    for s in text_segs:
        a, b = int(math.ceil(s.x0)) - lo, int(s.x1) - lo
        if b > a:
            cross[max(a, 0)] += 1
            cross[min(b, width)] -= 1
    run = 0
    for i in range(width + 1):
        run += cross[i]
        cross[i] = run
    best: tuple[float, float, float] | None = None
    start, stop = int(width * 0.15), int(width * 0.85)
    by_x1 = sorted(text_segs, key=lambda s: s.x1)
    by_x0 = sorted(text_segs, key=lambda s: s.x0)
    x1s = [s.x1 for s in by_x1]
    x0s = [s.x0 for s in by_x0]
    # widths of the segments left of x (prefix sums) and right of x (suffix sums), in ems
    left_w = [0.0]
    for s in by_x1:
        left_w.append(left_w[-1] + (s.x1 - s.x0) / max(s.size, 1.0))
    right_w = [0.0]
    for s in reversed(by_x0):
        right_w.append(right_w[-1] + (s.x1 - s.x0) / max(s.size, 1.0))
    for i in range(start, stop):
        x = lo + i
        left = bisect_right(x1s, x)
        right = len(x0s) - bisect_left(x0s, x)
        if left < 4 or right < 4 or cross[i] >= 2 * min(left, right):
            continue
        if left_w[left] < MIN_COLUMN_EMS or right_w[right] < MIN_COLUMN_EMS:
            continue  # a column of short labels (a table's first column) is not a text column
        score = (cross[i], abs(x - (x_lo + x_hi) / 2), x)
        if best is None or score < best:
            best = score
    if best is None:
        return None
    x = best[2]
    # centre the cut inside the zero-crossing run around x
    i = int(x) - lo
    a = i
    while a > 0 and cross[a - 1] == cross[i]:
        a -= 1
    b = i
    while b < width and cross[b + 1] == cross[i]:
        b += 1
    return lo + (a + b) / 2


def move_footnotes(segs: list[Segment]) -> list[Segment]:
    """Put page footnotes (smaller text with no body text below it in its column) at the end of the page.

    A sentence running from the foot of one column to the top of the next
    then reads on; the footnote follows the page's text as its own block.
    """
    weights: Counter[float] = Counter()
    for s in segs:
        if s.table is None:
            weights[s.size] += sum(len(w) for w in s.words)
    if not weights:
        return segs
    body = weights.most_common(1)[0][0]
    body_segs = [s for s in segs if s.table is None and abs(s.size - body) <= 0.05 * body]
    notes = []
    for s in segs:
        if s.table is not None or s.size >= 0.9 * body:
            continue
        below = any(b.top > s.bottom and b.x0 < s.x1 and b.x1 > s.x0 for b in body_segs)
        if not below:
            notes.append(s)
    if not notes:
        return segs
    ids = {id(s) for s in notes}
    return [s for s in segs if id(s) not in ids] + notes


# ---------------------------------------------------------------- paragraphs and text


def _blocks(segs: list[Segment]) -> list[list[Segment]]:
    """Consecutive segments (in reading order) grouped into paragraphs/captions/tables."""
    blocks: list[list[Segment]] = []
    prev: Segment | None = None
    for s in segs:
        if prev is None or starts_block(prev, s):
            blocks.append([s])
        else:
            blocks[-1].append(s)
        prev = s
    return blocks


def starts_block(prev: Segment, s: Segment) -> bool:
    """Whether segment ``s`` starts a new paragraph after ``prev`` (see the module docstring)."""
    if s.table is not None or prev.table is not None:
        return True
    if abs(s.size - prev.size) > 0.15 * max(s.size, prev.size) or s.is_caption():
        return True
    first = s.words[0][0][0]
    if s.page != prev.page or s.top < prev.top - 0.5 * s.size:
        # the next column or page: a sentence left open goes on, in the same type (not from a caption)
        if abs(s.size - prev.size) > 0.05 * max(s.size, prev.size):
            return True
        return _ends_sentence(prev.last_word) or not (first.islower() or prev.last_word.endswith((",", "-")))
    size = max(s.size, prev.size)
    if s.top - prev.bottom > 0.6 * size or abs(s.x0 - prev.x0) > 3 * size:
        return True
    if prev.x1 < s.x1 - 5 * size and first.isupper():
        return True  # a short line (heading or paragraph end) before a capitalised line
    return s.x0 - prev.x0 > 0.7 * size and _ends_sentence(prev.last_word)  # an indented first line


def defer_floats(blocks: list[list[Segment]], *, max_floats: int = 40) -> list[list[Segment]]:
    """Move figure/table blocks that interrupt a sentence running into the next column to after it.

    A paragraph whose last line does not end a sentence, followed by floats
    below it on its page (tables, blocks starting with a caption,
    smaller-type figure text) and then by a block in another column or page
    starting in lower case, is
    joined with that block; the floats follow the joined paragraph.
    """
    out: list[list[Segment]] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        last = block[-1]
        if _runs_on(block):
            j = i + 1
            while j < len(blocks) and j - i <= max_floats and _is_float(blocks[j], last):
                j += 1
            if i + 1 < j < len(blocks):
                nxt = blocks[j]
                first = nxt[0]
                if (first.table is None and first.words[0][0][0][0].islower()
                        and abs(first.size - last.size) <= 0.1 * last.size
                        and (first.page == last.page + 1 or first.page == last.page and first.top < last.top)):
                    out.append(block + nxt)
                    out.extend(blocks[i + 1:j])
                    i = j + 1
                    continue
        out.append(block)
        i += 1
    return out


def _runs_on(block: list[Segment]) -> bool:
    """Whether a text paragraph ends mid-sentence on a full line (a heading or title does not)."""
    last = block[-1]
    if block[0].table is not None or len(block) < 2 or _ends_sentence(last.last_word):
        return False
    return last.x1 >= max(s.x1 for s in block) - 2 * last.size


def _is_float(block: list[Segment], last: Segment) -> bool:
    """Whether ``block`` is a figure/table float placed below the line ``last`` on its page."""
    first = block[0]
    if first.page != last.page or first.top <= last.top:
        return False  # floats at the top of the next column or page are read before the text there
    return first.table is not None or first.is_caption() or first.size < 0.95 * last.size


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", ":", "?", "!", ".)", '."'))


def _plain(glyphs: Sequence[Char]) -> bool:
    """Whether the glyphs carry one character each and no script mark (most words), so they can
    be written in bulk. ``glyphs`` must not be empty."""
    return max(map(len, glyphs)) == 6 and sum(map(len, map(_TEXT, glyphs))) == len(glyphs)


class _Writer:
    """Accumulates raw text with a page and glyph per character."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pages: list[int] = []
        self.glyphs: list[Char | None] = []  # the glyph each character came from (its box: [1:5])
        self.length = 0
        self.last_page = 1
        self.last_glyph: Char | None = None

    def char(self, c: Char, page: int) -> None:
        text = c[0]
        if len(text) == 1:
            self.parts.append(text)
            self.pages.append(page)
            self.glyphs.append(c)
        else:  # ligature glyphs may carry several characters
            self.parts.extend(text)
            self.pages.extend([page] * len(text))
            self.glyphs.extend([c] * len(text))
        self.length += len(text)
        self.last_page, self.last_glyph = page, c

    def synthetic(self, text: str) -> None:
        for ch in text:
            self.parts.append(ch)
            self.pages.append(self.last_page)
            self.glyphs.append(self.last_glyph)
        self.length += len(text)

    def word(self, w: Sequence[Char], page: int) -> None:
        n = len(w)
        # plain glyphs (most words: one character each, no script mark) are appended at once
        if _plain(w):
            self.parts.extend(map(_TEXT, w))
            self.pages.extend([page] * n)
            self.glyphs.extend(w)
            self.length += n
            self.last_page, self.last_glyph = page, w[-1]
            return
        script = 0
        for c in w:
            now = c[6] if len(c) > 6 else 0
            if now != script:
                if script:
                    self.synthetic("</sup>" if script > 0 else "</sub>")
                if now:
                    self.synthetic("<sup>" if now > 0 else "<sub>")
                script = now
            self.char(c, page)
        if script:
            self.synthetic("</sup>" if script > 0 else "</sub>")


def dehyphenate(prefix: str, nxt: str, vocabulary: set[str]) -> str | None:
    """How to join ``prefix-`` at a line end with ``nxt``: ``"join"``, ``"keep"`` (hyphen, no space) or None."""
    if not prefix or prefix[-1] not in _HYPHENS or not nxt:
        return None
    stem = prefix[:-1]
    letters = re.sub(r"[^\w]", "", stem.split("-")[-1] if "-" in stem else stem)
    if not letters or not nxt[0].islower():
        return "keep"
    if any(ch.isdigit() for ch in letters) or any(ch.isupper() for ch in letters[1:]):
        return "keep"
    nxt_word = re.sub(r"[^\w-]", "", nxt).lower()
    joined = (letters + nxt_word).lower()
    hyphenated = f"{letters}-{nxt_word}".lower()
    if hyphenated in vocabulary and joined not in vocabulary:
        return "keep"
    return "join"


def _write_segment_words(writer: _Writer, seg: Segment) -> None:
    """The words of a line, one space between them (the space takes the box of the glyph before it)."""
    words, page = seg.words, seg.page
    flat = list(chain.from_iterable(words))
    if flat and _plain(flat):
        # plain glyphs only (most lines): the lists grow a word at a time, without per-glyph calls
        parts, glyphs = writer.parts, writer.glyphs
        for k, w in enumerate(words):
            if k:
                parts.append(" ")
                glyphs.append(glyphs[-1])
            parts.extend(map(_TEXT, w))
            glyphs.extend(w)
        n = len(flat) + len(words) - 1
        writer.pages.extend([page] * n)
        writer.length += n
        writer.last_page, writer.last_glyph = page, glyphs[-1]
        return
    for k, w in enumerate(words):
        if k:
            writer.synthetic(" ")
        writer.word(w, page)


def _words_text(words: Sequence[Sequence[Char]]) -> str:
    return " ".join("".join(c[0] for c in w) for w in words)


def _write_table(writer: _Writer, seg: Segment, tables: list[Table], page_height: float) -> None:
    block = seg.table
    assert block is not None
    body = block.rows
    first = [cell for cell in body[0] if cell]
    if len(first) == 1 and _CAPTION_RE.match(_words_text(first[0]).capitalize()):
        # a caption drawn inside the table frame: written as its own line, not a header
        block.caption = _words_text(first[0])
        writer.word(first[0][0], seg.page)
        for w in first[0][1:]:
            writer.synthetic(" ")
            writer.word(w, seg.page)
        writer.synthetic("\n\n")
        body = body[1:]
    start = writer.length
    rows_cells: list[list[Cell]] = []
    for r, row in enumerate(body):
        if r:
            writer.synthetic("\n")
        cells: list[Cell] = []
        for k, words in enumerate(row):
            if k:
                writer.synthetic(" | ")
            cstart = writer.length
            for j, w in enumerate(words):
                if j:
                    writer.synthetic(" ")
                writer.word(w, seg.page)
            text = "".join(writer.parts[cstart:writer.length])
            cells.append(Cell(text=text, start=cstart, end=writer.length))
        rows_cells.append(cells)
    tables.append(Table(id=f"t{len(tables) + 1}", header=rows_cells[0], rows=rows_cells[1:], start=start,
                        end=writer.length, caption=block.caption, footnotes=list(block.footnotes), page=seg.page))


def layout_text(pages: list[list[Segment]], sizes: list[tuple[float, float]]
                ) -> tuple[str, list[int], list[Char | None], list[Table]]:
    """Raw text in reading order with per-character pages and glyphs (boxes), and tables with raw offsets."""
    vocabulary = {
        "".join(map(_TEXT, w)).lower().strip(".,;:()[]")
        for segs in pages for s in segs for w in s.words
    }
    ordered: list[Segment] = []
    for segs, (width, _height) in zip(pages, sizes):
        ordered.extend(move_footnotes(order_segments(segs, 0.0, width)))
    writer = _Writer()
    tables: list[Table] = []
    for b, block in enumerate(defer_floats(_blocks(ordered))):
        if b:
            writer.synthetic("\n\n")
        if block[0].table is not None:
            _write_table(writer, block[0], tables, sizes[block[0].page - 1][1])
            continue
        for k, seg in enumerate(block):
            if k:
                prev_last = "".join(c[0] for c in block[k - 1].words[-1])
                first = "".join(c[0] for c in seg.words[0])
                how = dehyphenate(prev_last, first, vocabulary)
                if how == "join":
                    # drop the line-end hyphen just written
                    writer.parts.pop()
                    writer.pages.pop()
                    writer.glyphs.pop()
                    writer.length -= 1
                elif how is None:
                    writer.synthetic(" ")
            _write_segment_words(writer, seg)
    return "".join(writer.parts), writer.pages, writer.glyphs, tables


def _attach_tables(segs: list[Segment], blocks: list[TableBlock], page: int) -> list[Segment]:
    """Replace the segments inside each table by one segment carrying the table."""
    if not blocks:
        return segs
    out = []
    for s in segs:
        cx, cy = (s.x0 + s.x1) / 2, (s.top + s.bottom) / 2
        if any(b.bbox[0] <= cx <= b.bbox[2] and b.bbox[1] <= cy <= b.bbox[3] for b in blocks):
            continue
        out.append(s)
    for b in blocks:
        caption = _caption_near(out, b.bbox)
        b.caption = caption
        first = next((w for row in b.rows for cell in row for w in cell), None)
        seg = Segment(words=[first] if first else [], page=page, table=b)
        seg.x0, seg.top, seg.x1, seg.bottom = b.bbox
        seg.size = first[0][5] if first else 8.0
        out.append(seg)
    return out


def _caption_near(segs: Sequence[Segment], bbox: BBox) -> str | None:
    above = [s for s in segs if s.bottom <= bbox[1] + 2 and bbox[1] - s.bottom < 80 and s.is_caption()
             and s.x0 < bbox[2] and s.x1 > bbox[0]]
    if not above:
        return None
    return max(above, key=lambda s: s.bottom).text


def extract_pdf(path: str | Path, *, engine: str = "pdfplumber", password: str | None = None,
                max_pages: int | None = None, warnings: list[str] | None = None
                ) -> tuple[str, list[int], list[Char | None], int, list[Table]]:
    """Text in reading order with page/box provenance, page count and tables (see module docstring).

    ``warnings``, when given, collects messages for the document (page cap,
    pages without text, running lines removed).
    """
    path = Path(path)
    notes: list[str] = warnings if warnings is not None else []
    if engine not in ENGINES:
        raise PDFError(f"unknown PDF engine {engine!r}: expected one of {', '.join(ENGINES)}", path=path)
    _check_file(path)
    reader = _plumber_pages if engine == "pdfplumber" else _pdfium_pages
    pages_chars, sizes, table_blocks = reader(path, password, max_pages, notes)
    if not any(any(c[0].strip() for c in chars) for chars in pages_chars):
        raise NoTextLayerError("no text layer (scanned?): no extractable characters on any page", path=path)
    empty = sum(1 for chars in pages_chars if not any(c[0].strip() for c in chars))
    if empty:
        notes.append(f"{empty} of {len(pages_chars)} pages have no text layer (scanned?)")
    pages = [_attach_tables(_segments(chars, i + 1), table_blocks[i], i + 1) for i, chars in enumerate(pages_chars)]
    remove_running_lines(pages, [h for _w, h in sizes])
    text, char_pages, char_glyphs, tables = layout_text(pages, sizes)
    return text, char_pages, char_glyphs, len(pages_chars), tables
