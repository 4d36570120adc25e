"""The ``clinex`` command line (``python -m pipeline``): thin typer commands over pure functions.

Heavy modules (spaCy, pdf engines, dask) are imported inside the commands, so
``clinex --help`` starts fast. Every command turns a ``ClinexError`` into one
line ``error: <path>: <reason>`` on stderr and exit status 1 (2 for usage
errors such as an unwritable output directory).
"""
from __future__ import annotations

import functools
import json
import logging
import signal
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, Optional, TypeVar

import typer

from pipeline import __version__
from pipeline.errors import ClinexError, OutputError

app = typer.Typer(
    name="clinex",
    help="Extract drugs, scores, lab values and timepoints from clinical case reports into JSON records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


class PdfEngine(str, Enum):
    pdfplumber = "pdfplumber"
    pypdfium2 = "pypdfium2"


class Executor(str, Enum):
    local = "local"
    dask = "dask"


def fail(message: str, code: int = 1) -> None:
    """Print ``error: <message>`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def error_line(exc: ClinexError) -> str:
    """``<path>: <reason>`` (or just the reason) of a clinex error."""
    return f"{exc.path}: {exc.reason}" if exc.path else exc.reason


def handles_errors(func: F) -> F:
    """Turn ClinexError into one stderr line and exit status 1 (OutputError: 2)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OutputError as e:
            fail(error_line(e), 2)
        except ClinexError as e:
            fail(error_line(e), 1)

    return wrapper  # type: ignore[return-value]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"clinex {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details to stderr."),
) -> None:
    """clinex: structured, verifiable extraction from clinical case reports."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s: %(message)s")


# ------------------------------------------------------------------------- run


def shipped_corpus(corpus: Path) -> list[str]:
    """The documents listed in ``corpus/documents.jsonl`` (gold, brat copies and guidelines are not inputs)."""
    listing = corpus / "documents.jsonl"
    if not listing.is_file():
        fail(f"no INPUT given and no {listing} in {Path.cwd()}", 2)
    files = []
    for n, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                files.append(str(corpus / json.loads(line)["file"]))
            except (ValueError, KeyError, TypeError):
                fail(f"{listing}: line {n}: expected a JSON object with a 'file' key", 2)
    return files


def find_gold_dir(inputs: list[str], explicit: Path | None) -> Path | None:
    """``--gold`` if given, else a ``gold/`` folder beside (or inside) the first input that has one."""
    if explicit is not None:
        return explicit
    for item in inputs:
        path = Path(item)
        base = path if path.is_dir() else path.parent
        if (base / "gold").is_dir():
            return base / "gold"
    return None


def _sigterm_to_exit() -> None:
    """Let ``kill`` end a run through ``finally`` blocks, so the manifest is written."""
    try:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    except ValueError:  # not in the main thread (e.g. embedded): keep the default
        pass


@app.command()
@handles_errors
def run(
    inputs: Optional[list[str]] = typer.Argument(None, help="Files, directories (recursive) or globs of .txt/.md/.pdf; "
                                                 "none: the shipped corpus/ into outputs/."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output directory (default outputs/ for the corpus)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=0,
                                          help="Worker processes (default: CPU count; 0: in this process)."),
    force: bool = typer.Option(False, "--force", help="Redo documents whose record is current."),
    timeout: float = typer.Option(120.0, "--timeout", min=0, help="Seconds per document (0: no limit)."),
    max_pages: int = typer.Option(200, "--max-pages", min=1, help="Refuse PDFs longer than this."),
    pdf_engine: Optional[PdfEngine] = typer.Option(None, "--pdf-engine", help="PDF text engine."),
    password: Optional[str] = typer.Option(None, "--password", help="Password of encrypted PDFs."),
    ner_model: str = typer.Option("default", "--ner-model", help="default, none, or a model name/path."),
    executor: Executor = typer.Option(Executor.local, "--executor", help="local processes or a Dask cluster."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786); "
                                            "default: a local cluster."),
    gold: Optional[Path] = typer.Option(None, "--gold", help="Gold directory to evaluate against "
                                        "(default: gold/ beside the inputs)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, summary or evaluation table."),
) -> None:
    """Extract every input document into OUT/<doc_id>.json, with a manifest, an error log and CSV/JSONL exports."""
    from pipeline.batch import DocOptions, run_batch

    if not inputs:
        inputs = shipped_corpus(Path("corpus"))
        out = out or Path("outputs")
    elif out is None:
        fail("--out DIR is required when inputs are given", 2)
    if scheduler and executor is not Executor.dask:
        fail("--scheduler needs --executor dask", 2)
    assert out is not None
    options = DocOptions(ner_model=None if ner_model.lower() == "none" else ner_model,
                         pdf_engine=pdf_engine.value if pdf_engine else None, password=password,
                         max_pages=max_pages)
    show_bar = not quiet and sys.stderr.isatty()
    bar = None

    def on_total(n: int) -> None:
        nonlocal bar
        if show_bar:
            from tqdm import tqdm

            bar = tqdm(total=n, unit="doc", file=sys.stderr, dynamic_ncols=True, desc="clinex")

    def on_outcome(outcome: Any) -> None:
        if outcome.status == "failed":
            err = outcome.error or {}
            line = f"error: {outcome.path}: {err.get('reason')} [{err.get('code')} {err.get('error')}]"
            if bar is not None:
                bar.write(line, file=sys.stderr)
            else:
                typer.echo(line, err=True)
        if bar is not None:
            bar.update(1)

    _sigterm_to_exit()
    try:
        summary = run_batch(inputs, out, options=options, workers=workers, force=force, timeout=timeout or None,
                            executor=executor.value, scheduler=scheduler, on_outcome=on_outcome, on_total=on_total)
    except KeyboardInterrupt:
        fail(f"{out}: interrupted; complete records and the manifest are kept, run again to resume", 130)
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        typer.echo(summary.line())
        gold_dir = find_gold_dir(inputs, gold)
        if gold_dir is not None:
            _print_evaluation(gold_dir, out, summary.doc_ids)
    if summary.failed:
        raise typer.Exit(1)


def _print_evaluation(gold_dir: Path, pred_dir: Path, doc_ids: list[str]) -> None:
    """Evaluation table of the processed documents that have gold."""
    with_gold = [d for d in doc_ids if (gold_dir / f"{d}.json").is_file()]
    if not with_gold:
        return
    from pipeline.evaluate import evaluate_dirs, format_table

    typer.echo(format_table(evaluate_dirs(gold_dir, pred_dir, doc_ids=with_gold)))


# -------------------------------------------------------------------- evaluate


@app.command()
@handles_errors
def evaluate(
    gold: Path = typer.Option(..., "--gold", help="Gold directory (<doc_id>.json)."),
    pred: Path = typer.Option(..., "--pred", help="Directory of predicted records."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the full result as JSON."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a Markdown report."),
    min_f1: Optional[float] = typer.Option(None, "--min-f1", min=0, max=1,
                                           help="Exit 1 when an F1 score is below this."),
) -> None:
    """Score predicted records against gold: entities (strict/partial) and measurements."""
    from pipeline import evaluate as ev
    from pipeline.batch import atomic_write_text

    for name, path in (("--gold", gold), ("--pred", pred)):
        if not path.is_dir():
            fail(f"{path}: {name} is not a directory", 2)
    result = ev.evaluate_dirs(gold, pred)
    typer.echo(ev.format_table(result))
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    if report is not None:
        atomic_write_text(report, ev.format_markdown(result))
    if min_f1 is not None and not ev.passes_min_f1(result, min_f1):
        fail(f"{pred}: F1 below --min-f1 {min_f1:g}: {ev.summary_line(result)}", 1)


# ------------------------------------------------------------------- train-ner


def parse_overrides(args: list[str]) -> dict[str, Any]:
    """``--key value`` / ``--key=value`` / ``--flag`` pairs into keyword arguments (values JSON-decoded)."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise typer.BadParameter(f"unexpected argument {arg!r}")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 < len(args) and not args[i + 1].startswith("--"):
                value, i = args[i + 1], i + 1
            else:
                value = "true"
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except ValueError:
            out[key.replace("-", "_")] = value
        i += 1
    return out


@app.command("train-ner", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handles_errors
def train_ner_cmd(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="Training data directory."),
    out: Path = typer.Option(Path("training/clinex_ner"), "--out", help="Output model directory."),
) -> None:
    """Train the statistical NER; extra ``--key value`` options go to pipeline.train_ner.train_ner."""
    from pipeline.train_ner import train_ner

    metrics = train_ner(data, out, **parse_overrides(list(ctx.args)))
    typer.echo(json.dumps(metrics, indent=1, sort_keys=True, default=str))


# ---------------------------------------------------------------- small commands


@app.command("validate-rules")
@handles_errors
def validate_rules_cmd() -> None:
    """Check every rule file; errors name file, line and key."""
    from pipeline.ruleset import rules_sha256, validate_rules

    for line in validate_rules():
        typer.echo(line)
    typer.echo(f"rules sha256 {rules_sha256()}")


@app.command()
@handles_errors
def schema() -> None:
    """Print the record JSON Schema."""
    from pipeline.record import record_schema

    typer.echo(json.dumps(record_schema(), indent=2, ensure_ascii=False))


@app.command("brat-export")
@handles_errors
def brat_export(
    record: Path = typer.Argument(..., help="A record JSON file."),
    out: Path = typer.Option(..., "--out", help="Directory for <doc_id>.txt and <doc_id>.ann."),
) -> None:
    """Write a record as a brat document (.txt + .ann) for annotation."""
    from pipeline.brat import export_brat

    data = _load_json(record)
    out.mkdir(parents=True, exist_ok=True)
    written = export_brat(data, out)
    for path in written or []:
        typer.echo(str(path))


@app.command("brat-import")
@handles_errors
def brat_import(
    ann: Path = typer.Argument(..., help="A brat .ann file (its .txt beside it)."),
    out: Path = typer.Option(..., "--out", help="Gold JSON file to write."),
) -> None:
    """Turn a brat annotation into a gold JSON file."""
    from pipeline.batch import atomic_write_text
    from pipeline.brat import import_brat

    if not ann.is_file():
        fail(f"{ann}: no such file", 2)
    gold = import_brat(ann)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(gold, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    typer.echo(str(out))


def _load_json(path: Path) -> Any:
    from pipeline.errors import InputError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=path) from e
    except ValueError as e:
        raise InputError(f"not JSON: {e}", path=path) from e


# ------------------------------------------------------------------------ bench


@app.command()
@handles_errors
def bench(
    docs: int = typer.Option(60, "--docs", min=1, help="Text documents in the generated corpus."),
    pdfs: int = typer.Option(6, "--pdfs", min=0, help="PDF copies in the generated corpus."),
    workers: int = typer.Option(2, "--workers", min=1, help="Workers of the parallel run."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the results as JSON."),
    quick: bool = typer.Option(False, "--quick", help="A small smoke run (a few documents)."),
) -> None:
    """Throughput, memory, scaling and cold start against bare baselines, with the targets."""
    from pipeline.batch import atomic_write_text
    from pipeline.bench import format_bench, run_bench

    result = run_bench(docs=docs, pdfs=pdfs, workers=workers, quick=quick)
    typer.echo(format_bench(result))
    if out is not None:
        atomic_write_text(out, json.dumps(result, indent=1, sort_keys=True) + "\n")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="clinex")
