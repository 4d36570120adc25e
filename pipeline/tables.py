"""Tables in the text: pipe and tab-separated tables, and mapping PDF tables onto the normalized text.

Pure functions. A text table is a header line, an optional markdown separator line
(``|---|:--:|``) and the body lines that follow, each with cells separated by ``|`` or tabs. Cells carry offsets into
the text they were parsed from. A caption is taken from a ``Table N`` line just
above the table; footnotes from the lines just below it that start with a
footnote marker (``a``, ``*``, ``†``, "Abbreviations", "Note", "Data are").
"""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence

import regex

from pipeline.document import Cell, Table

_SEPARATOR_RE = regex.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$")
_CAPTION_RE = regex.compile(r"^(?:Supplementary\s+)?Table\s+[A-Z]?\d+[A-Za-z]?\b")
_FOOTNOTE_RE = regex.compile(r"^(?:[*†‡§¶#]|[a-h][ .)]|\([a-h]\)|Abbreviations?\b|Notes?\b|Data (?:are|were)\b)")


def split_cells(line: str, offset: int, delimiter: str = "|") -> list[Cell]:
    """Cells of one table line starting at text offset ``offset``: pipe-separated (escaped ``\\|`` kept in
    the cell) or, with ``delimiter="\\t"``, tab-separated."""
    pattern = r"(?<!\\)\|" if delimiter == "|" else regex.escape(delimiter)
    bounds = [m.start() for m in regex.finditer(pattern, line)]
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


def _delimiter(line: str, delimiters: tuple[str, ...] = ("\t", "|")) -> str | None:
    """``"|"`` or ``"\\t"`` when ``line`` is a table row of at least two non-empty cells."""
    for delimiter in delimiters:
        if delimiter in line and sum(1 for c in line.split(delimiter) if c.strip()) >= 2:
            return delimiter
    return None


def _is_label_line(line: str) -> bool:
    """A one-cell line inside a table ("Differential count", "Clinical signs |||"): a row-group label."""
    core = line.replace("|", "").replace("\t", "").strip()
    return 0 < len(core) <= 60 and not core.endswith((".", ":")) and not core[0].isdigit()


def parse_pipe_tables(text: str, *, first_id: int = 1, delimiters: tuple[str, ...] = ("\t", "|")) -> list[Table]:
    """Tables written as text: markdown pipe tables, and blocks of two or more consecutive lines whose
    cells are separated by ``|`` or tabs (as copied from a PDF or a web page), with cell offsets.

    The first line is the header; a markdown separator line (``|---|``) is skipped, and a one-cell line
    between rows (a row-group label) is kept as a row of one cell.
    """
    lines = _lines(text)
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        head_pos, head = lines[i]
        markdown = "|" in head and i + 1 < len(lines) and bool(_SEPARATOR_RE.match(lines[i + 1][1])) \
            and "-" in lines[i + 1][1] and not _SEPARATOR_RE.match(head)
        delimiter = "|" if markdown and "|" in delimiters else _delimiter(head, delimiters)
        if delimiter is None or _SEPARATOR_RE.match(head):
            i += 1
            continue
        rows: list[list[Cell]] = []
        j = i + 1
        while j < len(lines):
            pos, line = lines[j]
            if _SEPARATOR_RE.match(line) and "-" in line:
                j += 1
            elif _delimiter(line, delimiters) == delimiter or (markdown and "|" in line and line.strip()):
                rows.append(split_cells(line, pos, delimiter))
                j += 1
            elif _is_label_line(line) and j + 1 < len(lines) and _delimiter(lines[j + 1][1], delimiters) == delimiter:
                rows.append(split_cells(line, pos, delimiter) if delimiter in line else
                            [Cell(text=line.strip(), start=pos + len(line) - len(line.lstrip()),
                                  end=pos + len(line.rstrip()))])
                j += 1
            else:
                break
        if not rows and not markdown:
            i += 1
            continue
        end_pos, end_line = lines[j - 1]
        header = split_cells(head, head_pos, delimiter)
        widths = Counter(len(r) for r in rows if len(r) > 1)
        width = widths.most_common(1)[0][0] if widths else len(header)
        # "| Case 1 | Case 2" over "Age | 25 | 31": a line opened with "|" dropped its empty first cell
        for cells, (pos, line) in [(header, (head_pos, head))] + [(r, (r[0].start, "")) for r in rows if r]:
            if len(cells) == width - 1 and (cells is header and head.lstrip().startswith("|") or cells is not header
                                            and text[text.rfind("\n", 0, cells[0].start) + 1:cells[0].start].strip() == "|"):
                cells.insert(0, Cell(text="", start=pos, end=pos))
        tables.append(Table(id=f"t{first_id + len(tables)}", header=header, rows=rows,
                            start=head_pos, end=end_pos + len(end_line), caption=_caption_above(lines, i),
                            footnotes=_footnotes_below(lines, j)))
        i = j
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
