"""The ingested document handed from ingest to the NLP pipeline.

``SourceDoc.text`` is the normalized text; every offset elsewhere in clinex
indexes it. ``offset_map`` holds, for each normalized character, the index of
the raw character it came from (length ``len(text) + 1``), and, for PDFs,
``char_pages`` / ``char_glyphs`` give the page (1-based) and glyph of each raw
character (``pipeline.pdf.Char``: text, the box ``x0, top, x1, bottom``, size).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Cell:
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Table:
    """A table found in the text (pipe table) or on a PDF page; offsets index the normalized text."""

    id: str
    header: list[Cell]
    rows: list[list[Cell]]
    start: int
    end: int
    caption: str | None = None
    footnotes: list[str] = field(default_factory=list)
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "caption": self.caption,
            "footnotes": list(self.footnotes),
            "page": self.page,
            "start": self.start,
            "end": self.end,
            "header": [c.to_dict() for c in self.header],
            "rows": [[c.to_dict() for c in row] for row in self.rows],
        }


@dataclass
class SourceDoc:
    id: str
    source_path: str
    sha256: str
    format: str
    raw_text: str
    text: str
    offset_map: list[int]
    pages: int | None = None
    title: str | None = None
    encoding: str | None = None
    pdf_engine: str | None = None
    char_pages: list[int] | None = None
    char_glyphs: list[tuple[Any, ...] | None] | None = None
    tables: list[Table] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw-text span that normalized ``text[start:end]`` came from."""
        raw_start = self.offset_map[start]
        raw_end = self.offset_map[end - 1] + 1 if end > start else raw_start
        return raw_start, raw_end

    def locate(self, start: int, end: int) -> tuple[int | None, list[float] | None]:
        """Page (1-based) and bbox ``[x0, top, x1, bottom]`` of normalized ``text[start:end]``.

        The box is the union of the characters' boxes on the first page the span
        touches; text documents have neither.
        """
        if self.char_pages is None or end <= start:
            return None, None
        raw_start, raw_end = self.raw_span(start, end)
        page = self.char_pages[raw_start]
        if self.char_glyphs is None:
            return page, None
        glyphs = [self.char_glyphs[i] for i in range(raw_start, raw_end)
                  if self.char_pages[i] == page and self.char_glyphs[i] is not None]
        if not glyphs:
            return page, None
        return page, [round(min(g[1] for g in glyphs), 2), round(min(g[2] for g in glyphs), 2),
                      round(max(g[3] for g in glyphs), 2), round(max(g[4] for g in glyphs), 2)]
