"""The development and test corpus (``corpus/dev``, ``corpus/test``): sources, licences and counts.

Each split holds the documents, ``sources/<doc_id>.json`` (citation, DOI or URL, licence, what was
cut, any edit), ``gold/<doc_id>.json`` and the authoring specs in ``gold/brat/``. ``render_sources``
writes the split's ``SOURCES.md`` from the source records; ``split_stats`` counts what the split holds.
Run ``python -m pipeline.corpus corpus/dev corpus/test`` to rewrite the ``SOURCES.md`` files and print
the counts.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.errors import GoldError

SOURCE_KEYS = ("doc_id", "file", "title", "citation", "doi_or_url", "licence", "specialty", "doc_type",
               "n_patients", "has_table", "cut", "edits", "retrieved_via")
OPEN_LICENCES = ("CC BY", "CC0", "Public domain")


def load_sources(split: Path) -> list[dict[str, Any]]:
    """The source records of a split, by doc id; raises ``GoldError`` for a record missing a key."""
    records = []
    for path in sorted((Path(split) / "sources").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        missing = [k for k in SOURCE_KEYS if k not in record]
        if missing:
            raise GoldError(f"source record lacks {', '.join(missing)}", path=path)
        records.append(record)
    return records


def open_licence(licence: str) -> bool:
    """True for a licence that allows redistribution here (CC BY family without ND, CC0, public domain)."""
    text = licence.strip()
    return text.startswith(OPEN_LICENCES) and "-ND" not in text.split("(")[0].upper()


def render_sources(split: Path) -> str:
    """``SOURCES.md`` of a split: one entry per document, with its citation, licence, cuts and edits."""
    split = Path(split)
    out = [f"# Sources of corpus/{split.name}", "",
           "Real published documents, copied verbatim (cuts and edits listed per document), under licences that",
           "allow redistribution. Gold: `gold/<doc_id>.json`, written by reading against `corpus/GUIDELINES.md`.",
           "The split was decided by a hash of the document id, not by content: each contributor's documents were",
           "sorted by `sha256(doc_id)` and the first few went to `corpus/test`; to reach 40 development documents,",
           "the 4 test documents with the highest hash were then moved to `corpus/dev`, before the test split was",
           "committed and before clinex was run on any test document.",
           "This file is generated from `sources/*.json` by `python -m pipeline.corpus`.", ""]
    for r in load_sources(split):
        out += [f"## {r['doc_id']}", "",
                f"- File: `{r['file']}` ({r['doc_type']}, {r['specialty']}; patients: {r['n_patients']}; "
                f"table: {'yes' if r['has_table'] else 'no'})",
                f"- Citation: {r['citation']}", f"- Title: {r['title']}", f"- DOI / URL: {r['doi_or_url']}",
                f"- Licence: {r['licence']}", f"- Cut: {r['cut']}", f"- Edits: {r['edits']}",
                f"- Retrieved via: {r['retrieved_via']}", ""]
    return "\n".join(out).rstrip() + "\n"


def split_stats(split: Path) -> dict[str, Any]:
    """Documents, gold tuples, patients, case series, tables, PDFs and doc types of a split."""
    split = Path(split)
    sources = load_sources(split)
    tuples = 0
    for r in sources:
        gold = json.loads((split / "gold" / f"{r['doc_id']}.json").read_text(encoding="utf-8"))
        tuples += len(gold["measurements"])
    return {
        "documents": len(sources), "measurements": tuples,
        "case_series": sum(1 for r in sources if (r["n_patients"] or 0) >= 2 and "series" in r["doc_type"]),
        "with_tables": sum(1 for r in sources if r["has_table"]),
        "pdfs": sum(1 for r in sources if r["file"].endswith(".pdf")),
        "doc_types": dict(Counter(r["doc_type"] for r in sources).most_common()),
    }


def main(argv: list[str] | None = None) -> int:
    for name in (sys.argv[1:] if argv is None else argv):
        split = Path(name)
        (split / "SOURCES.md").write_text(render_sources(split), encoding="utf-8")
        sys.stdout.write(f"{split}: {json.dumps(split_stats(split))}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
