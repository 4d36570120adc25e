"""Tables in the text: markdown pipe tables, and mapping PDF tables onto the normalized text.

Pure functions. A pipe table is a header line, a separator line (``|---|:--:|``)
and the body lines that follow, each containing ``|``. Cells carry offsets into
the text they were parsed from. A caption is taken from a ``Table N`` line just
above the table; footnotes from the lines just below it that start with a
footnote marker (``a``, ``*``, ``†``, "Abbreviations", "Note", "Data are").
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import regex

from pipeline.document import Cell, Table

_SEPARATOR_RE = regex.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$")
_CAPTION_RE = regex.compile(r"^(?:Supplementary\s+)?Table\s+[A-Z]?\d+[A-Za-z]?\b")
_FOOTNOTE_RE = regex.compile(r"^(?:[*†‡§¶#]|[a-h][ .)]|\([a-h]\)|Abbreviations?\b|Notes?\b|Data (?:are|were)\b)")


def split_cells(line: str, offset: int) -> list[Cell]:
    """Cells of one pipe-table line starting at text offset ``offset`` (escaped ``\\|`` kept in the cell)."""
    bounds = [m.start() for m in regex.finditer(r"(?<!\\)\|", line)]
    stripped = line.strip()
    edges = [-1, *bounds, len(line)]
    cells: list[Cell] = []
    for k in range(len(edges) - 1):
        a, b = edges[k] + 1, edges[k + 1]
        if k == 0 and stripped.startswith("|"):
            continue
        if k == len(edges) - 2 and stripped.endswith("|") and bounds:
            continue
        raw = line[a:b]
        lead = len(raw) - len(raw.lstrip())
        text = raw.strip()
        start = offset + a + lead
        cells.append(Cell(text=text, start=start, end=start + len(text)))
    return cells


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def parse_pipe_tables(text: str, *, first_id: int = 1) -> list[Table]:
    """Markdown pipe tables found in ``text`` with cell offsets into it."""
    lines = _lines(text)
    tables: list[Table] = []
    i = 1
    while i < len(lines):
        pos, line = lines[i]
        head_pos, head = lines[i - 1]
        if "|" in head and _SEPARATOR_RE.match(line) and "-" in line:
            header = split_cells(head, head_pos)
            rows: list[list[Cell]] = []
            j = i + 1
            while j < len(lines) and "|" in lines[j][1] and lines[j][1].strip():
                rows.append(split_cells(lines[j][1], lines[j][0]))
                j += 1
            end_pos, end_line = lines[j - 1]
            caption = _caption_above(lines, i - 1)
            footnotes = _footnotes_below(lines, j)
            tables.append(Table(id=f"t{first_id + len(tables)}", header=header, rows=rows, start=head_pos,
                                end=end_pos + len(end_line), caption=caption, footnotes=footnotes))
            i = j + 1
        else:
            i += 1
    return tables


def _caption_above(lines: list[tuple[int, str]], header_index: int) -> str | None:
    for k in range(header_index - 1, max(-1, header_index - 4), -1):
        line = lines[k][1].strip()
        if not line:
            continue
        return line if _CAPTION_RE.match(line) else None
    return None


def _footnotes_below(lines: list[tuple[int, str]], index: int) -> list[str]:
    notes: list[str] = []
    k = index
    while k < len(lines) and not lines[k][1].strip():
        k += 1
        if k - index > 1:
            break
    while k < len(lines) and lines[k][1].strip() and _FOOTNOTE_RE.match(lines[k][1].strip()):
        notes.append(lines[k][1].strip())
        k += 1
    return notes


def map_offset(offset_map: Sequence[int], raw_offset: int, text_len: int) -> int:
    """The first normalized index whose raw origin is at or after ``raw_offset``."""
    return bisect_left(offset_map, raw_offset, 0, text_len)


def remap_table(table: Table, offset_map: Sequence[int], text: str) -> Table:
    """A table whose offsets index a raw text, re-anchored on the normalized ``text``."""
    n = len(text)

    def cell(c: Cell) -> Cell:
        start = map_offset(offset_map, c.start, n)
        end = max(start, map_offset(offset_map, c.end, n))
        return Cell(text=text[start:end].strip(), start=start + (len(text[start:end]) - len(text[start:end].lstrip())),
                    end=start + len(text[start:end].rstrip()))

    return Table(id=table.id, header=[cell(c) for c in table.header], rows=[[cell(c) for c in r] for r in table.rows],
                 start=map_offset(offset_map, table.start, n), end=map_offset(offset_map, table.end, n),
                 caption=table.caption, footnotes=list(table.footnotes), page=table.page)
