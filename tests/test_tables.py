"""Tests of pipeline/tables.py: pipe tables in text and re-anchoring PDF tables on normalized text."""
from __future__ import annotations

import pytest

from pipeline.document import Cell, Table
from pipeline.normalize import normalize
from pipeline.tables import map_offset, parse_pipe_tables, remap_table, split_cells


@pytest.mark.parametrize(
    ("line", "cells"),
    [
        ("| a | b |", ["a", "b"]),
        ("a | b", ["a", "b"]),
        ("|  ESR (mm/h) |120|  |", ["ESR (mm/h)", "120", ""]),
        ("| x \\| y | z |", ["x \\| y", "z"]),
    ],
)
def test_split_cells(line: str, cells: list[str]) -> None:
    got = split_cells(line, 10)
    assert [c.text for c in got] == cells
    for c in got:
        assert line[c.start - 10:c.end - 10] == c.text


def _check_offsets(text: str, table: Table) -> None:
    for cell in [*table.header, *(c for row in table.rows for c in row)]:
        assert text[cell.start:cell.end] == cell.text


@pytest.mark.parametrize(
    ("text", "header", "rows", "caption", "footnotes"),
    [
        ("| a | b |\n|---|---|\n| 1 | 2 |", ["a", "b"], [["1", "2"]], None, []),
        ("Intro.\n\nTable 2 Outcomes at week 24\n| Patient | DAS28-CRP |\n| :--- | ---: |\n| 1 | 2.26 |\n| 2 | 2.67 |\n\n"
         "* P < 0.05\nAbbreviations: CRP, C-reactive protein\n\nNext paragraph.",
         ["Patient", "DAS28-CRP"], [["1", "2.26"], ["2", "2.67"]], "Table 2 Outcomes at week 24",
         ["* P < 0.05", "Abbreviations: CRP, C-reactive protein"]),
        ("Patient | ESR\n--- | ---\n1 | 120", ["Patient", "ESR"], [["1", "120"]], None, []),
        ("| only header |\n|---|", ["only header"], [], None, []),
    ],
)
def test_parse_pipe_tables(text: str, header: list[str], rows: list[list[str]], caption: str | None,
                           footnotes: list[str]) -> None:
    [table] = parse_pipe_tables(text)
    assert [c.text for c in table.header] == header
    assert [[c.text for c in r] for r in table.rows] == rows
    assert table.caption == caption
    assert table.footnotes == footnotes
    assert table.id == "t1"
    _check_offsets(text, table)


@pytest.mark.parametrize(
    "text",
    [
        "---\nnot a table",
        "x - y - z\n--- and prose",
        "",
    ],
)
def test_no_table(text: str) -> None:
    assert parse_pipe_tables(text) == []


@pytest.mark.parametrize("text,header,rows", [
    ("a | b without separator\n1 | 2", ["a", "b without separator"], [["1", "2"]]),
    ("Variable\tDay 1\tDay 3\nCRP (mg/L)\t45\t12\n", ["Variable", "Day 1", "Day 3"], [["CRP (mg/L)", "45", "12"]]),
    ("Test | Now | Ref\nBlood count\nHb | 10 | 12-16\n", ["Test", "Now", "Ref"], [["Blood count"], ["Hb", "10", "12-16"]]),
])
def test_tables_without_separator(text: str, header: list[str], rows: list[list[str]]) -> None:
    [table] = parse_pipe_tables(text)
    assert [c.text for c in table.header] == header and [[c.text for c in r] for r in table.rows] == rows
    for row in [table.header, *table.rows]:
        assert all(text[c.start:c.end] == c.text for c in row)


def test_prose_with_one_pipe_is_no_table() -> None:
    assert parse_pipe_tables("The ratio was a | b.\nNothing else here.") == []


def test_two_tables_numbered() -> None:
    text = "| a |\n|---|\n| 1 |\n\ntext\n\n| b |\n|---|\n| 2 |"
    assert [t.id for t in parse_pipe_tables(text)] == ["t1", "t2"]


def test_remap_table_onto_normalized_text() -> None:
    raw = "Body.\n\n**Table 1**\nESR  (mm/h) | 120\u00a0mm/h\nCRP | <sup>2</sup>5"
    start = raw.index("ESR")
    header = [Cell("ESR  (mm/h)", start, start + 11), Cell("120\u00a0mm/h", raw.index("120"), raw.index("120") + 8)]
    crp = raw.index("CRP")
    rows = [[Cell("CRP", crp, crp + 3), Cell("<sup>2</sup>5", raw.index("<sup>"), len(raw))]]
    table = Table(id="t1", header=header, rows=rows, start=start, end=len(raw), caption="Table 1", page=3)
    text, offsets = normalize(raw)
    mapped = remap_table(table, offsets, text)
    assert [c.text for c in mapped.header] == ["ESR (mm/h)", "120 mm/h"]
    assert [c.text for c in mapped.rows[0]] == ["CRP", "5"]
    assert mapped.page == 3 and mapped.caption == "Table 1"
    _check_offsets(text, mapped)


@pytest.mark.parametrize(("offsets", "raw", "expected"), [([0, 1, 5, 6, 7], 5, 2), ([0, 1, 5, 6, 7], 3, 2), ([0, 1, 2], 9, 2)])
def test_map_offset(offsets: list[int], raw: int, expected: int) -> None:
    assert map_offset(offsets, raw, len(offsets) - 1) == expected
