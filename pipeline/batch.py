"""Streaming, parallel, resumable batch runs with a manifest and an error log.

``run_batch(inputs, out_dir)`` turns every input document into
``out_dir/<doc_id>.json`` and keeps, beside the records:

* ``errors.jsonl``: one line per failed document of the current run
  (``{"doc_id", "path", "code", "error", "reason"}``), appended as failures
  happen and rewritten atomically at the end;
* ``manifest.json``: clinex version, rules hash, model, options, per-document
  status / sha256 / timings, counts and failures, rewritten atomically every
  ``manifest_every`` documents and at the end;
* ``measurements.csv`` / ``measurements.jsonl`` (``pipeline.export``) over all
  records in the directory.

Every file is written to a temporary file in the same directory and moved into
place with ``os.replace``, so killing a run at any moment leaves only complete
records. A re-run skips documents whose record is current (same raw bytes,
rules, model and clinex version); ``force=True`` redoes them.

The per-document work is a plain callable ``fn(task) -> record`` (default
:func:`process_document`) run by :func:`run_task`, which turns any exception
into an :class:`Outcome`; tests inject failing, slow or crashing callables.
Two executors run it:

* ``local``: a small pool of worker processes, each loading the pipeline once
  (``init``). Each worker holds at most one document, so the work in flight is
  bounded, and a worker that overruns ``timeout`` or dies (segfault, OOM kill)
  is terminated and replaced while the batch goes on. ``ProcessPoolExecutor``
  is not used because it cannot terminate the one task that overran.
* ``dask``: the same callable on a Dask distributed cluster (a ``LocalCluster``
  when no scheduler address is given). The client reads the input bytes and
  writes the records, so workers need no shared filesystem.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.errors import ClinexError, DocumentTimeoutError, InputError, OutputError, WorkerCrashError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_PAGES = 200
DEFAULT_MANIFEST_EVERY = 20
RESERVED_IDS = frozenset({"manifest", "errors", "measurements"})
TMP_PREFIX = ".clinex-tmp-"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class DocOptions:
    """Options of the per-document function (picklable; sent to every worker)."""

    ner_model: str | None = "default"
    pdf_engine: str | None = None
    password: str | None = None
    max_pages: int | None = DEFAULT_MAX_PAGES


@dataclass(frozen=True)
class Task:
    """One document to process. ``path`` is readable where the task runs;
    ``source_path`` is the path as the user gave it, stored in the record."""

    index: int
    doc_id: str
    path: str
    source_path: str
    sha256: str
    options: DocOptions = field(default_factory=DocOptions)


@dataclass(frozen=True)
class Outcome:
    """What became of one document: ``status`` is ``ok``, ``failed`` or ``skipped``."""

    index: int
    doc_id: str
    path: str
    status: str
    sha256: str | None = None
    text: str | None = None  # the serialized record (ok only)
    entities: int = 0
    measurements: int = 0
    seconds: float = 0.0
    error: dict[str, Any] | None = None

    def error_line(self) -> dict[str, Any]:
        """The ``errors.jsonl`` object of a failed document."""
        err = self.error or {}
        return {"doc_id": self.doc_id, "path": self.path, "code": err.get("code"),
                "error": err.get("error"), "reason": err.get("reason")}


@dataclass
class BatchSummary:
    """Counts of a finished run (also stored in the manifest)."""

    documents: int = 0
    ok: int = 0
    skipped: int = 0
    failed: int = 0
    entities: int = 0
    measurements: int = 0
    seconds: float = 0.0
    doc_ids: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        return (f"{self.documents} documents ({self.ok} processed, {self.skipped} skipped, {self.failed} failed), "
                f"{self.entities} entities, {self.measurements} measurements, {self.seconds:.1f} s")


DocFn = Callable[[Task], dict[str, Any]]
InitFn = Callable[[DocOptions], None]


# ------------------------------------------------------------- per-document work

_NLP_CACHE: dict[Any, Any] = {}


def init_pipeline(options: DocOptions) -> None:
    """Load the spaCy pipeline once in this process (worker initializer)."""
    _pipeline_for(options)


def _pipeline_for(options: DocOptions) -> Any:
    key = options.ner_model
    if key not in _NLP_CACHE:
        from pipeline.nlp import load_nlp

        _NLP_CACHE[key] = load_nlp(ner_model=None if key in (None, "none", "") else key)
    return _NLP_CACHE[key]


def process_document(task: Task) -> dict[str, Any]:
    """The default per-document function: ingest, run the pipeline, build the record."""
    from pipeline.core import process_source, read_source

    started = time.perf_counter()
    opts = task.options
    source = read_source(task.path, doc_id=task.doc_id, pdf_engine=opts.pdf_engine, password=opts.password,
                         max_pages=opts.max_pages)
    source.source_path = task.source_path
    record = process_source(source, _pipeline_for(opts), ner_model=opts.ner_model)
    record["provenance"]["elapsed_s"] = round(time.perf_counter() - started, 3)
    return record


def error_dict(exc: BaseException, path: str | None = None) -> dict[str, Any]:
    """``{"code", "error", "path", "reason"}`` of any exception (ClinexError or not)."""
    if isinstance(exc, ClinexError):
        err = exc.to_dict()
        err["path"] = err["path"] or path
        return err
    return {"code": ClinexError.code, "error": type(exc).__name__, "path": path,
            "reason": f"internal error: {type(exc).__name__}: {exc}"}


def run_task(fn: DocFn, task: Task) -> Outcome:
    """Run ``fn`` on ``task`` and serialize its record; never raises."""
    from pipeline.record import dumps_record

    started = time.perf_counter()
    try:
        record = fn(task)
        text = dumps_record(record)
    except Exception as e:  # noqa: BLE001 - every failure becomes an errors.jsonl line
        if not isinstance(e, ClinexError):
            log.debug("unexpected error on %s", task.source_path, exc_info=True)
        return Outcome(task.index, task.doc_id, task.source_path, "failed", task.sha256,
                       seconds=time.perf_counter() - started, error=error_dict(e, task.source_path))
    return Outcome(task.index, task.doc_id, task.source_path, "ok", task.sha256, text=text,
                   entities=len(record.get("entities", [])), measurements=len(record.get("measurements", [])),
                   seconds=time.perf_counter() - started)


# ------------------------------------------------------------------ file helpers


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give: mkstemp's temporaries are private (0600)


def atomic_write_text(path: Path, text: str, *, newline: str = "\n") -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory + ``os.replace``; the
    file gets the permissions a plain ``open()`` would give it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
            os.fchmod(fh.fileno(), FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_sha256(path: Path) -> str:
    """sha256 of a file's raw bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def prepare_out_dir(out_dir: Path) -> None:
    """Create ``out_dir`` and check it is writable; remove temporaries of a killed run."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out_dir, prefix=TMP_PREFIX, suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"output directory is not writable: {e.strerror or e}", path=out_dir) from e
    for stale in out_dir.glob(f"{TMP_PREFIX}*.tmp"):
        stale.unlink(missing_ok=True)


def record_paths(out_dir: Path) -> list[Path]:
    """The record files of a run directory, sorted (manifest and exports excluded)."""
    return sorted(p for p in out_dir.glob("*.json") if p.stem not in RESERVED_IDS)


def is_record(data: Any) -> bool:
    """True for a dict shaped like a clinex record (a document and a list of measurements)."""
    return isinstance(data, dict) and isinstance(data.get("document"), dict) \
        and isinstance(data.get("measurements"), list)


def iter_records(out_dir: Path) -> Iterator[dict[str, Any]]:
    """Load the records of ``out_dir`` one at a time (unparsable files are skipped with a warning)."""
    bad = 0
    for path in record_paths(out_dir):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            bad += 1
            continue
        if not is_record(record):  # another tool's JSON (an evaluation, a config) in --out
            bad += 1
            continue
        yield record
    if bad:
        log.warning("%d file(s) in %s are not records and were left out of the exports", bad, out_dir)


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _default_is_current(record: dict[str, Any], sha256: str, options: DocOptions) -> bool:
    from pipeline.core import record_is_current

    return record_is_current(record, sha256, ner_model=options.ner_model)


def _rules_hash() -> str:
    from pipeline.ruleset import rules_sha256

    return rules_sha256()


def _model_name(ner_model: str | None) -> str | None:
    from pipeline.core import ner_model_name

    return ner_model_name(ner_model)


# -------------------------------------------------------------------- planning


def plan_documents(inputs: Iterable[str]) -> Iterator[tuple[Path, str]]:
    """``(path, doc_id)`` for every input file, ids unique and never a reserved name."""
    from pipeline.ingest import iter_inputs, make_doc_id

    taken: set[str] = set(RESERVED_IDS)
    for path in iter_inputs(inputs):
        yield path, make_doc_id(path, taken)


def _display_path(path: Path) -> str:
    """The path as stored in records: relative to the working directory when inside it."""
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def _tasks(plan: Iterable[tuple[Path, str]], out_dir: Path, options: DocOptions, *, force: bool,
           is_current: Callable[[dict[str, Any], str, DocOptions], bool]) -> Iterator[Task | Outcome]:
    """Tasks to run, with documents settled without running (current or unreadable) as Outcomes."""
    for index, (path, doc_id) in enumerate(plan):
        shown = _display_path(path)
        try:
            sha = file_sha256(path)
        except OSError as e:
            err = InputError(f"cannot read file: {e.strerror or e}", path=shown)
            yield Outcome(index, doc_id, shown, "failed", error=error_dict(err))
            continue
        target = out_dir / f"{doc_id}.json"
        if not force and target.exists():
            record = _read_record(target)
            if record is not None and is_current(record, sha, options):
                yield Outcome(index, doc_id, shown, "skipped", sha, entities=len(record.get("entities", [])),
                              measurements=len(record.get("measurements", [])))
                continue
        yield Task(index, doc_id, str(path), shown, sha, options)


# ------------------------------------------------------------------- executors


def _worker_loop(conn: Any, fn: DocFn, init: InitFn | None, options: DocOptions) -> None:
    """Body of a local worker process: init once, then one task at a time until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    try:
        if init is not None:
            init(options)
    except Exception as e:  # noqa: BLE001 - reported to the parent, which aborts the batch
        conn.send(("fatal", error_dict(e)))
        return
    # The loaded pipeline (~400k objects) lives as long as the worker: keep it out of the
    # cyclic GC, whose full passes would otherwise walk it again and again (and, after a
    # fork, touch every shared page). Saves ~10% per document.
    gc.freeze()
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            conn.send(("done", run_task(fn, task)))
        except (BrokenPipeError, OSError):
            return


class _Worker:
    def __init__(self, ctx: Any, fn: DocFn, init: InitFn | None, options: DocOptions) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_loop, args=(child, fn, init, options), daemon=True,
                                name="clinex-worker")
        self.proc.start()
        child.close()
        self.ready = False
        self.task: Task | None = None
        self.started = 0.0

    def send(self, task: Task) -> None:
        self.task, self.started = task, time.monotonic()
        self.conn.send(task)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(5)
        self.kill()


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"worker process was killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"worker process was killed by signal {-exitcode}"
    return f"worker process exited with status {exitcode}"


def _failed(task: Task, exc: ClinexError, seconds: float) -> Outcome:
    return Outcome(task.index, task.doc_id, task.source_path, "failed", task.sha256, seconds=seconds,
                   error=error_dict(exc))


def _mp_context(name: str | None) -> Any:
    if name is None:
        name = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(name)


def run_local(items: Iterable[Task | Outcome], fn: DocFn, *, init: InitFn | None, options: DocOptions,
              workers: int, timeout: float | None, mp_context: str | None = None) -> Iterator[Outcome]:
    """Run tasks on ``workers`` processes (0: in this process, no timeout); yield outcomes as they finish."""
    items = iter(items)
    if workers <= 0:
        if init is not None:
            init(options)
        for item in items:
            yield item if isinstance(item, Outcome) else run_task(fn, item)
        return

    ctx = _mp_context(mp_context)
    pool: list[_Worker] = []
    exhausted = False

    def next_task() -> Task | None:
        nonlocal exhausted
        while not exhausted:
            item = next(items, None)
            if item is None:
                exhausted = True
            elif isinstance(item, Outcome):
                settled.append(item)
            else:
                return item
        return None

    settled: list[Outcome] = []
    queued: list[Task] = []
    try:
        while True:
            # start workers lazily: never more than there is work for
            while len(pool) < workers and not exhausted:
                task = next_task()
                if task is None:
                    break
                queued.append(task)
                pool.append(_Worker(ctx, fn, init, options))
            yield from settled
            settled.clear()
            for w in pool:
                if w.ready and w.task is None:
                    task = queued.pop(0) if queued else next_task()
                    if task is None:
                        break
                    w.send(task)
            yield from settled
            settled.clear()
            busy = [w for w in pool if w.task is not None]
            if not busy and not queued and exhausted:
                return
            now = time.monotonic()
            wait_s = None
            if timeout is not None and busy:
                wait_s = max(0.0, min(w.started + timeout - now for w in busy))
            ready = wait([w.conn for w in pool] + [w.proc.sentinel for w in pool], timeout=wait_s)
            for i, w in enumerate(list(pool)):
                replace = False
                if w.conn in ready or w.proc.sentinel in ready:
                    msg = None
                    try:
                        if w.conn.poll():
                            msg = w.conn.recv()
                    except (EOFError, OSError):
                        msg = None
                    if msg is None:
                        if w.proc.is_alive():
                            continue
                        w.proc.join(1)
                        reason = _exit_reason(w.proc.exitcode)
                        if not w.ready:
                            raise WorkerCrashError(f"{reason} while loading the pipeline")
                        if w.task is not None:
                            yield _failed(w.task, WorkerCrashError(reason, path=w.task.source_path),
                                          time.monotonic() - w.started)
                        replace = True
                    elif msg[0] == "fatal":
                        raise _fatal_error(msg[1])
                    elif msg[0] == "ready":
                        w.ready = True
                    else:
                        w.task = None
                        yield msg[1]
                elif timeout is not None and w.task is not None and time.monotonic() - w.started >= timeout:
                    yield _failed(w.task, DocumentTimeoutError(
                        f"processing took longer than {timeout:g} s; the worker was stopped",
                        path=w.task.source_path), time.monotonic() - w.started)
                    replace = True
                if replace:
                    w.kill()
                    pool[pool.index(w)] = _Worker(ctx, fn, init, options)
    finally:
        for w in pool:
            if w.task is None and w.ready:
                w.stop()
            else:
                w.kill()


def _fatal_error(err: dict[str, Any]) -> ClinexError:
    """Rebuild, in the parent, the error that stopped a worker from starting."""
    from pipeline import errors

    cls = getattr(errors, str(err.get("error")), None)
    if not (isinstance(cls, type) and issubclass(cls, ClinexError)):
        cls = ClinexError
    return cls(f"worker could not start: {err.get('reason')}", path=err.get("path"))


# dask: runs inside a Dask worker process
def _dask_run(fn: DocFn, init: InitFn | None, task: Task, payload: bytes, companions: dict[str, bytes]) -> Outcome:
    """Write the shipped bytes (and companion files such as documents.jsonl) to a private
    temporary folder and run the task on them."""
    if init is not None:
        _init_once(init, task.options)
    with tempfile.TemporaryDirectory(prefix="clinex-") as tmp:
        path = Path(tmp) / Path(task.path).name
        path.write_bytes(payload)
        for name, data in companions.items():
            (Path(tmp) / name).write_bytes(data)
        return run_task(fn, Task(task.index, task.doc_id, str(path), task.source_path, task.sha256, task.options))


COMPANION_FILES = ("documents.jsonl",)  # metadata read from beside an input (pipeline.ingest sidecar)


def _companions(path: Path) -> dict[str, bytes]:
    """Files beside ``path`` that ingest reads too, so a remote worker sees the same folder."""
    found = {}
    for name in COMPANION_FILES:
        try:
            found[name] = (path.parent / name).read_bytes()
        except OSError:
            continue
    return found


_INITIALIZED: set[Any] = set()


def _init_once(init: InitFn, options: DocOptions) -> None:
    key = (getattr(init, "__module__", None), getattr(init, "__qualname__", None), options)
    if key not in _INITIALIZED:
        init(options)
        _INITIALIZED.add(key)


def run_dask(items: Iterable[Task | Outcome], fn: DocFn, *, init: InitFn | None, options: DocOptions,
             workers: int, timeout: float | None, scheduler: str | None = None) -> Iterator[Outcome]:
    """Run tasks on Dask distributed; yield outcomes as they finish.

    A document that overruns ``timeout`` is recorded as timed out and the worker
    running it is restarted (a thread cannot be interrupted).
    """
    try:
        from distributed import Client, LocalCluster, wait as dask_wait
        from distributed.client import FIRST_COMPLETED
    except ImportError as e:
        raise ClinexError("the dask executor needs `pip install clinex[dask]`") from e

    # distributed sets its loggers to INFO on import: keep its start-up chatter out of clinex's output
    logging.getLogger("distributed").setLevel(logging.WARNING)
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        slots = max(1, sum(client.nthreads().values()))
        if init is not None:  # load the pipeline everywhere before the per-document clocks start
            client.run(_init_once, init, options)
        running: dict[Any, tuple[Task, float]] = {}
        items = iter(items)
        exhausted = False
        while True:
            while len(running) < slots and not exhausted:
                item = next(items, None)
                if item is None:
                    exhausted = True
                elif isinstance(item, Outcome):
                    yield item
                else:
                    try:
                        payload = Path(item.path).read_bytes()
                        companions = _companions(Path(item.path))
                    except OSError as e:
                        yield _failed(item, InputError(f"cannot read file: {e.strerror or e}",
                                                       path=item.source_path), 0.0)
                        continue
                    future = client.submit(_dask_run, fn, init, item, payload, companions, pure=False,
                                           key=f"clinex-{item.index}-{item.doc_id}")
                    running[future] = (item, time.monotonic())
            if not running:
                return
            wait_s = None
            if timeout is not None:
                wait_s = max(0.01, min(t0 + timeout for _, t0 in running.values()) - time.monotonic())
            try:
                done, _ = dask_wait(list(running), timeout=wait_s, return_when=FIRST_COMPLETED)
            except TimeoutError:
                done = set()
            for future in done:
                task, t0 = running.pop(future)
                try:
                    yield future.result()
                except Exception as e:  # noqa: BLE001 - KilledWorker and friends
                    reason = f"{type(e).__name__}: {e}"
                    yield _failed(task, WorkerCrashError(reason, path=task.source_path), time.monotonic() - t0)
            now = time.monotonic()
            for future, (task, t0) in list(running.items()):
                if timeout is not None and now - t0 >= timeout:
                    del running[future]
                    processing = client.processing()
                    hung = [w for w, keys in processing.items() if future.key in keys]
                    future.cancel()
                    if hung:
                        client.restart_workers(hung, raise_for_error=False)
                    yield _failed(task, DocumentTimeoutError(
                        f"processing took longer than {timeout:g} s; the worker was restarted",
                        path=task.source_path), now - t0)
    finally:
        if cluster is not None:
            # a worker's heartbeat can race the scheduler's shutdown and log a harmless traceback
            with contextlib.suppress(Exception):
                client.run(_quiet_distributed_logs)
        client.close()
        if cluster is not None:
            cluster.close()


def _quiet_distributed_logs() -> None:
    """Run on each worker of a local cluster before it is shut down."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


# ------------------------------------------------------------------ the runner


class _RunState:
    """Manifest, error log and counts of one run, written as results arrive."""

    def __init__(self, out_dir: Path, meta: dict[str, Any]) -> None:
        self.out_dir = out_dir
        self.meta = meta
        self.docs: dict[int, dict[str, Any]] = {}
        self.failures: dict[int, dict[str, Any]] = {}
        self.summary = BatchSummary()
        self.errors_path = out_dir / "errors.jsonl"
        atomic_write_text(self.errors_path, "")

    def add(self, outcome: Outcome) -> None:
        s = self.summary
        s.documents += 1
        entry: dict[str, Any] = {"doc_id": outcome.doc_id, "path": outcome.path, "status": outcome.status,
                                 "sha256": outcome.sha256, "seconds": round(outcome.seconds, 3)}
        target = self.out_dir / f"{outcome.doc_id}.json"
        if outcome.status == "failed":
            s.failed += 1
            line = outcome.error_line()
            entry["error"] = {k: line[k] for k in ("code", "error", "reason")}
            self.failures[outcome.index] = line
            target.unlink(missing_ok=True)  # records stay consistent with the latest run
            with open(self.errors_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        else:
            if outcome.status == "ok":
                s.ok += 1
                atomic_write_text(target, outcome.text or "")
            else:
                s.skipped += 1
            s.entities += outcome.entities
            s.measurements += outcome.measurements
            entry.update(entities=outcome.entities, measurements=outcome.measurements)
            s.doc_ids.append(outcome.doc_id)
        self.docs[outcome.index] = entry

    def write_manifest(self, *, status: str, seconds: float) -> None:
        s = self.summary
        s.seconds = seconds
        s.failures = [self.failures[i] for i in sorted(self.failures)]
        manifest = dict(self.meta)
        manifest.update(
            status=status,
            elapsed_s=round(seconds, 3),
            counts={"documents": s.documents, "ok": s.ok, "skipped": s.skipped, "failed": s.failed,
                    "entities": s.entities, "measurements": s.measurements},
            documents=[self.docs[i] for i in sorted(self.docs)],
            failures=s.failures,
        )
        atomic_write_text(self.out_dir / "manifest.json",
                          json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n")

    def write_errors(self) -> None:
        lines = [json.dumps(self.failures[i], ensure_ascii=False, sort_keys=True) + "\n"
                 for i in sorted(self.failures)]
        atomic_write_text(self.errors_path, "".join(lines))


def run_batch(inputs: Iterable[str], out_dir: str | Path, *, options: DocOptions | None = None,
              workers: int | None = None, force: bool = False, timeout: float | None = DEFAULT_TIMEOUT_S,
              executor: str = "local", scheduler: str | None = None, fn: DocFn | None = None,
              init: InitFn | None = None,
              is_current: Callable[[dict[str, Any], str, DocOptions], bool] | None = None,
              on_outcome: Callable[[Outcome], None] | None = None, on_total: Callable[[int], None] | None = None,
              manifest_every: int = DEFAULT_MANIFEST_EVERY, exports: bool = True,
              provenance: dict[str, Any] | None = None, mp_context: str | None = None) -> BatchSummary:
    """Process every input document into ``out_dir``; see the module docstring.

    ``on_outcome`` is called once per document (the CLI prints failures and
    moves its progress bar); ``on_total`` receives the number of documents
    before work starts. Raises ``OutputError`` when ``out_dir`` is not
    writable and ``ClinexError`` when the pipeline cannot be loaded at all;
    failures of single documents never raise. ``fn`` defaults to
    :func:`process_document` with :func:`init_pipeline` as ``init``; an
    injected ``fn`` gets only the ``init`` given. ``provenance`` (rules hash
    and model name for the manifest) is computed from the installed rules and
    model unless given.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    options = options or DocOptions()
    if fn is None:
        fn, init = process_document, init or init_pipeline
    workers = (os.cpu_count() or 1) if workers is None else workers
    if executor not in ("local", "dask"):
        raise ClinexError(f"unknown executor {executor!r} (local or dask)")
    prepare_out_dir(out)
    plan = list(plan_documents(inputs))  # paths and ids only: contents are streamed
    if on_total is not None:
        on_total(len(plan))
    if provenance is None:
        provenance = {"rules_sha256": _rules_hash(), "ner_model": _model_name(options.ner_model)}
    meta = {
        "clinex_version": __version__,
        **provenance,
        "options": {**{k: v for k, v in asdict(options).items() if k != "password"},
                    "password_given": options.password is not None, "workers": workers, "force": force,
                    "timeout_s": timeout, "executor": executor},
    }
    state = _RunState(out, meta)
    check = is_current or _default_is_current
    items = _tasks(plan, out, options, force=force, is_current=check)
    if executor == "dask":
        outcomes = run_dask(items, fn, init=init, options=options, workers=workers, timeout=timeout,
                            scheduler=scheduler)
    else:
        outcomes = run_local(items, fn, init=init, options=options, workers=workers, timeout=timeout,
                             mp_context=mp_context)
    status = "interrupted"
    try:
        for n, outcome in enumerate(outcomes, 1):
            state.add(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
            if n % max(1, manifest_every) == 0:
                state.write_manifest(status="running", seconds=time.perf_counter() - started)
        status = "complete"
    finally:
        state.write_errors()
        state.write_manifest(status=status, seconds=time.perf_counter() - started)
    if exports:
        from pipeline.export import write_exports

        write_exports(iter_records(out), out)
    state.summary.seconds = time.perf_counter() - started
    return state.summary
