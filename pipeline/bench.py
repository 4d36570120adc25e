"""``clinex bench``: throughput, memory, scaling and cold start, next to bare baselines.

A corpus is generated from the shipped seed documents (text documents made by
repeating and varying them) and PDF copies; every figure is measured on this
machine in one run and set beside a bare baseline on the same input
(``spacy.blank("en")`` tokenization, pdfplumber ``extract_text``, pypdfium2
``get_text_range``) and beside its target. ``run_bench`` returns a dict;
``format_bench`` renders the table the CLI prints.
"""
from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

TARGETS = {
    "text_words_per_s": (">=", 20_000.0),
    "pdf_pages_per_s[pypdfium2]": (">=", 20.0),
    "peak_rss_mb_per_worker": ("<=", 600.0),
    "speedup_2_workers": (">=", 1.7),
    "scaling_16x_per_doc_ratio": ("<=", 1.3),
    "scaling_16x_per_doc_ratio[cpu]": ("<=", 1.3),
    "cold_start_s": ("<=", 3.0),
}
PDF_ENGINES = ("pypdfium2", "pdfplumber")


# ---------------------------------------------------------------- corpus


def seed_texts(root: Path | None = None) -> list[str]:
    """Texts of the shipped seed documents (``corpus/*.txt|md`` under ``root`` or the working directory)."""
    base = (root or Path.cwd()) / "corpus"
    texts = [p.read_text(encoding="utf-8") for p in sorted(base.glob("*.txt")) + sorted(base.glob("*.md"))]
    if not texts:
        fixtures = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "batch"
        texts = [p.read_text(encoding="utf-8") for p in sorted(fixtures.glob("*.txt")) if p.stat().st_size > 100]
    if not texts:
        from pipeline.errors import InputError

        raise InputError("no seed documents found (run from the repository root, beside corpus/)", path=base)
    return texts


def seed_pdfs(root: Path | None = None) -> list[Path]:
    """The test PDFs (``tests/fixtures/pdfs`` or ``/work/shared/pdfs``)."""
    for base in ((root or Path.cwd()) / "tests" / "fixtures" / "pdfs", Path("/work/shared/pdfs")):
        pdfs = sorted(base.glob("*.pdf"))
        if pdfs:
            return pdfs
    return []


def vary(text: str, i: int) -> str:
    """Document ``i`` made from a seed: a case header and the paragraphs rotated by ``i``."""
    paras = [p for p in text.split("\n\n") if p.strip()]
    k = i % max(1, len(paras))
    return f"Case {i}\n\n" + "\n\n".join(paras[k:] + paras[:k]) + "\n"


def make_text_corpus(folder: Path, n: int, seeds: list[str], *, variants: int | None = None) -> list[Path]:
    """``n`` text documents in ``folder``; with ``variants``, document ``i`` is variant ``i % variants``
    (same paragraphs, same order) under its own case header, so corpora of different sizes have
    the same mix of documents and their s/doc can be compared."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        k = i if variants is None else i % variants
        path = folder / f"doc{i:05d}.txt"
        text = vary(seeds[k % len(seeds)], k)
        path.write_text(f"Case {i}" + text[text.index("\n\n"):], encoding="utf-8")
        paths.append(path)
    return paths


def make_pdf_corpus(folder: Path, n: int, seeds: list[Path]) -> list[Path]:
    """``n`` copies of the seed PDFs in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        src = seeds[i % len(seeds)]
        path = folder / f"{src.stem}_{i:04d}.pdf"
        shutil.copyfile(src, path)
        paths.append(path)
    return paths


def count_words(paths: list[Path]) -> int:
    return sum(len(p.read_text(encoding="utf-8").split()) for p in paths)


def count_pages(paths: list[Path]) -> int:
    import pypdfium2

    total = 0
    for p in paths:
        pdf = pypdfium2.PdfDocument(str(p))
        total += len(pdf)
        pdf.close()
    return total


# -------------------------------------------------------------- baselines


def timed(func: Callable[[], Any]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def baseline_tokenize(paths: list[Path]) -> float:
    """Seconds for ``spacy.blank("en")`` to tokenize the texts."""
    import spacy

    nlp = spacy.blank("en")
    texts = [p.read_text(encoding="utf-8") for p in paths]
    return timed(lambda: [len(d) for d in nlp.pipe(texts)])


def baseline_pdf(paths: list[Path], engine: str) -> float:
    """Seconds for the bare engine to extract the text of every page."""
    def run() -> None:
        if engine == "pdfplumber":
            import pdfplumber

            for p in paths:
                with pdfplumber.open(p) as pdf:
                    for page in pdf.pages:
                        page.extract_text()
        else:
            import pypdfium2

            for p in paths:
                pdf = pypdfium2.PdfDocument(str(p))
                for page in pdf:
                    page.get_textpage().get_text_range()
                pdf.close()

    return timed(run)


# ---------------------------------------------------------------- clinex runs


def clinex_seconds(paths: list[Path], out: Path, *, workers: int = 0, pdf_engine: str | None = None,
                   ner_model: str | None = "default") -> float:
    """Seconds for a forced batch over ``paths`` (records written, no exports)."""
    return clinex_times(paths, out, workers=workers, pdf_engine=pdf_engine, ner_model=ner_model)[0]


def clinex_times(paths: list[Path], out: Path, *, workers: int = 0, pdf_engine: str | None = None,
                 ner_model: str | None = "default") -> tuple[float, float]:
    """``(wall, cpu)`` seconds for a forced batch over ``paths``; ``cpu`` is this process's CPU
    time, meaningful with ``workers=0`` (in-process), where it is blind to other load on the machine."""
    from pipeline.batch import DocOptions, run_batch

    shutil.rmtree(out, ignore_errors=True)
    started, cpu = time.perf_counter(), time.process_time()
    summary = run_batch([str(p) for p in paths], out, options=DocOptions(pdf_engine=pdf_engine, ner_model=ner_model),
                        workers=workers, force=True, exports=False)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if summary.failed:
        from pipeline.errors import ClinexError

        raise ClinexError(f"bench: {summary.failed} document(s) failed: {summary.failures[0]}")
    return seconds, cpu


def _spin(n: int) -> float:
    started = time.perf_counter()
    x = 0
    for i in range(n):
        x += i
    return time.perf_counter() - started


def parallel_ceiling(workers: int, n: int = 5_000_000) -> float:
    """Speedup of ``workers`` processes over one on pure Python arithmetic, measured now: the most
    any CPU-bound work can gain on this machine at this moment (other users' load included)."""
    import multiprocessing

    one = _spin(n)
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ctx.Pool(workers) as pool:
        started = time.perf_counter()
        pool.map(_spin, [n] * workers)
        many = time.perf_counter() - started
    return workers * one / many


def cold_start_seconds() -> float:
    """Wall seconds of a fresh interpreter importing clinex and loading the pipeline."""
    code = "from pipeline.nlp import load_nlp; load_nlp()"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - started


def help_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline", "--help"], check=True, capture_output=True)
    return time.perf_counter() - started


def _rss_mb(kilobytes: int) -> float:
    return kilobytes / 1024 if sys.platform != "darwin" else kilobytes / 1024 / 1024


# ----------------------------------------------------------------------- run


def _row(key: str, label: str, value: float, unit: str, baseline: float | None = None) -> dict[str, Any]:
    op, target = TARGETS.get(key, (None, None))
    ok = None
    if target is not None:
        ok = value >= target if op == ">=" else value <= target
    return {"key": key, "metric": label, "value": value, "unit": unit, "baseline": baseline,
            "ratio": (value / baseline) if baseline else None,
            "target": f"{op} {target:g}" if target is not None else None, "ok": ok}


def run_bench(*, docs: int = 60, pdfs: int = 6, workers: int = 2, quick: bool = False,
              root: Path | None = None) -> dict[str, Any]:
    """Measure everything in one run (defaults: about 3 minutes on 2 cores); ``quick`` shrinks
    the corpus to a smoke test (about 30 s)."""
    from pipeline.batch import DocOptions, init_pipeline
    from pipeline.ingest import read_document

    if quick:
        docs, pdfs = min(docs, 6), min(pdfs, 1)
    texts = seed_texts(root)
    pdf_seeds = seed_pdfs(root)
    if quick:
        pdf_seeds = sorted(pdf_seeds, key=lambda p: p.stat().st_size)[:1]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="clinex-bench-") as tmp:
        work = Path(tmp)
        text_paths = make_text_corpus(work / "text", docs, texts)
        words = count_words(text_paths)
        init_pipeline(DocOptions())  # load once; forked workers inherit it
        init_pipeline(DocOptions(ner_model=None))

        secs = clinex_seconds(text_paths, work / "out")
        base = baseline_tokenize(text_paths)
        rows.append(_row("text_docs_per_s", "text: documents/s (1 process)", docs / secs, "doc/s"))
        rows.append(_row("text_words_per_s", "text: words/s (1 process)", words / secs, "word/s", words / base))
        secs = clinex_seconds(text_paths, work / "out", ner_model=None)
        rows.append(_row("text_words_per_s[rules]", "text: words/s, --ner-model none (rules only)", words / secs,
                         "word/s", words / base))

        if pdfs and pdf_seeds:
            pdf_paths = make_pdf_corpus(work / "pdf", pdfs, pdf_seeds)
            pages = count_pages(pdf_paths)
            for engine in PDF_ENGINES:
                secs = clinex_seconds(pdf_paths, work / "out", pdf_engine=engine)
                base = baseline_pdf(pdf_paths, engine)
                rows.append(_row(f"pdf_pages_per_s[{engine}]", f"pdf[{engine}]: pages/s (1 process)",
                                 pages / secs, "page/s", pages / base))
                secs = timed(lambda: [read_document(p, pdf_engine=engine) for p in pdf_paths])
                rows.append(_row(f"pdf_ingest_pages_per_s[{engine}]", f"pdf[{engine}]: pages/s, ingest only",
                                 pages / secs, "page/s", pages / base))

        base_n = 2 if quick else max(2, docs // 16)
        factors = (1, 2, 4) if quick else (1, 4, 16)
        wall, cpu = [], []
        for factor in factors:
            paths = make_text_corpus(work / f"scale{factor}", base_n * factor, texts, variants=base_n)
            w, c = clinex_times(paths, work / "out")
            wall.append(w / len(paths))
            cpu.append(c / len(paths))
            rows.append(_row(f"scaling_{factor}x", f"scaling {factor}x ({len(paths)} docs): s/doc (wall)",
                             wall[-1], "s/doc"))
        rows.append(_row("scaling_16x_per_doc_ratio", f"scaling: s/doc at {factors[-1]}x / at 1x (wall)",
                         wall[-1] / wall[0], "x"))
        rows.append(_row("scaling_16x_per_doc_ratio[cpu]", f"scaling: s/doc at {factors[-1]}x / at 1x (CPU time)",
                         cpu[-1] / cpu[0], "x"))

        one = clinex_seconds(text_paths, work / "out", workers=1)
        many = clinex_seconds(text_paths, work / "out", workers=workers)
        rows.append(_row("speedup_2_workers", f"speedup: {workers} workers vs 1", one / many, "x",
                         parallel_ceiling(workers)))
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rows.append(_row("peak_rss_mb_per_worker", "peak RSS per worker", _rss_mb(peak), "MB"))

    rows.append(_row("cold_start_s", "cold start: import + pipeline load", cold_start_seconds(), "s"))
    rows.append(_row("cli_help_s", "cold start: clinex --help", help_seconds(), "s"))
    return {
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "corpus": {"text_documents": docs, "words": words, "pdf_documents": pdfs if pdf_seeds else 0},
        "quick": quick,
        "rows": rows,
        "notes": [
            "baseline of 'speedup': the speedup of pure Python arithmetic on the same number of processes, "
            "measured in the same run (the machine's parallel ceiling right now)",
            "baseline of 'words/s': spacy.blank('en') tokenization of the same texts",
        ],
    }


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def format_bench(result: dict[str, Any]) -> str:
    """The results as an aligned text table (metric, value, baseline, ratio, target, ok)."""
    header = ("metric", "value", "unit", "baseline", "ratio", "target", "ok")
    lines = [header]
    for r in result["rows"]:
        ok = "-" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        lines.append((r["metric"], _fmt(r["value"]), r["unit"], _fmt(r["baseline"]), ratio, r["target"] or "-", ok))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
           for line in lines]
    m, c = result["machine"], result["corpus"]
    out.extend(f"note: {n}" for n in result.get("notes", []))
    out.insert(0, f"clinex bench: {c['text_documents']} text docs ({c['words']:,} words), {c['pdf_documents']} PDFs; "
                  f"Python {m['python']}, {m['cpus']} CPUs{' (quick)' if result.get('quick') else ''}")
    return "\n".join(out)


# ------------------------------------------------------------- NER scope


def ner_scope_agreement(texts: Iterable[str], *, ner_model: str = "default") -> dict[str, int]:
    """DRUG spans over ``texts`` with the NER tagging every sentence (``scope="all"``) and only the
    sentences near a treatment cue (the default): how many each finds, and how many only one finds."""
    from pipeline.nlp import build_nlp

    runs = {scope: build_nlp(ner_model=ner_model) for scope in ("all", "treatment")}
    runs["all"].get_pipe("clinex_ner").scope = "all"
    counts = {"documents": 0, "drug_spans_all": 0, "drug_spans_treatment": 0, "only_all": 0, "only_treatment": 0,
              "documents_differing": 0}
    for text in texts:
        found = {}
        for scope, nlp in runs.items():
            doc = nlp(text)
            found[scope] = {(s.start_char, s.end_char) for s in doc.spans["clinex"] if s.label_ == "DRUG"}
        counts["documents"] += 1
        counts["drug_spans_all"] += len(found["all"])
        counts["drug_spans_treatment"] += len(found["treatment"])
        counts["only_all"] += len(found["all"] - found["treatment"])
        counts["only_treatment"] += len(found["treatment"] - found["all"])
        counts["documents_differing"] += found["all"] != found["treatment"]
    return counts
