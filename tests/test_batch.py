"""Tests of pipeline/batch.py: parallel, resumable, fault-tolerant batch runs.

Batching is tested with injected per-document functions (``fake_extract``),
which use the real ingest and build a small schema-valid
record, so these tests are about the runner and stay fast; one test runs the
real pipeline end to end.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline import __version__
from pipeline import batch
from pipeline.batch import DocOptions, Outcome, Task, run_batch, run_task
from pipeline.core import read_source
from pipeline.errors import ClinexError, EmptyDocumentError, OutputError
from pipeline.record import validate_record

FIXTURES = Path(__file__).parent / "fixtures" / "batch"
ROOT = Path(__file__).resolve().parents[1]
GOOD = ("case_report.txt", "letter.md")
BAD = ("empty.txt", "binary.txt", "not_a_pdf.pdf", "truncated.pdf")


# ----------------------------------------------------------------- test doubles


def _read_text(task: Task) -> tuple[str, str, str | None, dict[str, Any]]:
    """(format, text, title, meta) of a task's file, through the real ingest."""
    source = read_source(task.path, doc_id=task.doc_id, max_pages=task.options.max_pages)
    return source.format, source.text, source.title, source.meta


def fake_extract(task: Task) -> dict[str, Any]:
    """A per-document function with the real one's contract; markers in the text trigger faults."""
    fmt, text, title, meta = _read_text(task)
    if "@@SLOW@@" in text:
        time.sleep(60)
    if "@@CRASH@@" in text:
        os.kill(os.getpid(), signal.SIGKILL)
    if "@@BOOM@@" in text:
        raise RuntimeError("injected bug")
    if "@@NAP@@" in text:
        time.sleep(0.3)
    entities = [{"id": f"e{i}", "label": "TIMEPOINT", "text": m.group(), "start": m.start(), "end": m.end(),
                 "source": "rule", "norm": {"kind": "timepoint"}}
                for i, m in enumerate(re.finditer(r"\bweeks?\b", text), 1)]
    return {
        "schema_version": "1.0",
        "document": {"id": task.doc_id, "source_path": task.source_path, "sha256": task.sha256,
                     "text_sha256": hashlib.sha256(text.encode()).hexdigest(), "format": fmt, "pages": None,
                     "title": title, "text": text, "meta": meta},
        "patients": [], "entities": entities, "measurements": [], "derived": [], "drugs": [], "warnings": [],
        "provenance": {"clinex_version": __version__, "rules_sha256": "0" * 64, "ner_model": None,
                       "elapsed_s": 0.001},
    }


def fake_is_current(record: dict[str, Any], sha256: str, options: DocOptions) -> bool:
    return (record.get("document", {}).get("sha256") == sha256
            and record.get("provenance", {}).get("clinex_version") == __version__)


def fake_run(inputs: list[str], out: Path, **kw: Any) -> batch.BatchSummary:
    kw.setdefault("workers", 2)
    kw.setdefault("exports", False)
    kw.setdefault("provenance", {"rules_sha256": None, "ner_model": None})
    return run_batch(inputs, out, fn=fake_extract, is_current=fake_is_current, **kw)


def good_dir(tmp_path: Path, n: int = 4, marker: str = "") -> Path:
    """``n`` small text documents in a fresh folder."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(n):
        (src / f"doc{i:02d}.txt").write_text(f"Patient {i}: DAS28 fell by week {i + 4}. {marker}\n", encoding="utf-8")
    return src


def records(out: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in batch.record_paths(out)}


def without_timing(text: str) -> dict[str, Any]:
    data = json.loads(text)
    data["provenance"].pop("elapsed_s")
    return data


# ------------------------------------------------------------------ pure parts


@pytest.mark.parametrize(
    ("marker", "status", "code", "error"),
    [
        ("", "ok", None, None),
        ("@@BOOM@@", "failed", "E000", "RuntimeError"),
    ],
)
def test_run_task_never_raises(tmp_path: Path, marker: str, status: str, code: str | None,
                               error: str | None) -> None:
    path = tmp_path / "a.txt"
    path.write_text(f"week 4 {marker}", encoding="utf-8")
    outcome = run_task(fake_extract, Task(0, "a", str(path), "a.txt", batch.file_sha256(path)))
    assert outcome.status == status
    assert (outcome.error or {}).get("code") == code
    assert (outcome.error or {}).get("error") == error
    if status == "ok":
        validate_record(json.loads(outcome.text))
        assert outcome.entities == 1


def test_error_dict_keeps_clinex_codes() -> None:
    err = batch.error_dict(EmptyDocumentError("file is empty", path="x.txt"))
    assert err == {"code": "E101", "error": "EmptyDocumentError", "path": "x.txt", "reason": "file is empty"}


def test_atomic_write_replaces_and_leaves_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    batch.atomic_write_text(target, "old")
    batch.atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
    plain = tmp_path / "plain.json"
    plain.write_text("x")  # records get the permissions of any file the user writes, not mkstemp's 0600
    assert target.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


@pytest.mark.parametrize(("path", "expected"), [("a/b.txt", "a/b.txt"), ("b.txt", "b.txt")])
def test_display_path_keeps_relative_paths(path: str, expected: str) -> None:
    assert batch._display_path(Path(path)) == expected


def test_summary_line_names_every_count() -> None:
    line = batch.BatchSummary(documents=3, ok=1, skipped=1, failed=1, entities=7, measurements=2,
                              seconds=1.25).line()
    assert line == "3 documents (1 processed, 1 skipped, 1 failed), 7 entities, 2 measurements, 1.2 s"


# ------------------------------------------------------------------- bad input


@pytest.fixture()
def mixed_inputs(tmp_path: Path) -> Path:
    """The good and bad fixtures plus a file that cannot be read."""
    src = tmp_path / "mixed"
    src.mkdir()
    for name in GOOD + BAD:
        shutil.copy(FIXTURES / name, src / name)
    if sys.platform.startswith("linux"):
        (src / "unreadable.txt").symlink_to("/proc/self/mem")  # open() works, read() fails with EIO, even as root
    return src


def test_bad_inputs_each_give_one_error_and_the_rest_is_processed(mixed_inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "empty.json").write_text("{}")  # a stale record of a document that now fails
    seen: list[Outcome] = []
    summary = fake_run([str(mixed_inputs)], out, on_outcome=seen.append)
    bad = set(Path(n).stem for n in BAD) | ({"unreadable"} if sys.platform.startswith("linux") else set())
    assert summary.ok == len(GOOD) and summary.failed == len(bad)
    assert set(records(out)) == {Path(n).stem for n in GOOD}
    for text in records(out).values():
        validate_record(json.loads(text))
    lines = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert {line["doc_id"] for line in lines} == bad
    for line in lines:
        assert set(line) == {"doc_id", "path", "code", "error", "reason"}
        assert line["path"].endswith(f"{line['doc_id']}" + Path(line["path"]).suffix)
        assert line["code"].startswith("E1") and line["reason"]
    assert sorted(o.doc_id for o in seen if o.status == "failed") == sorted(bad)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"]["failed"] == len(bad) and manifest["counts"]["ok"] == len(GOOD)
    assert [f["doc_id"] for f in manifest["failures"]] == [line["doc_id"] for line in lines]


def test_unexpected_exception_is_a_document_failure(tmp_path: Path) -> None:
    src = good_dir(tmp_path, 3)
    (src / "doc01.txt").write_text("@@BOOM@@")
    summary = fake_run([str(src)], tmp_path / "out")
    assert (summary.ok, summary.failed) == (2, 1)
    (line,) = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert line["doc_id"] == "doc01" and "RuntimeError: injected bug" in line["reason"]


@pytest.mark.parametrize("make", [lambda t: t / "file", lambda t: t / "file" / "sub"])
def test_unwritable_output_dir_is_an_output_error(tmp_path: Path, make: Any) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(OutputError, match="not writable"):
        fake_run([str(good_dir(tmp_path, 1))], make(tmp_path))


# ------------------------------------------------------------- limits and crashes


def test_timeout_stops_the_document_and_the_batch_goes_on(tmp_path: Path) -> None:
    src = good_dir(tmp_path, 3)
    (src / "doc01.txt").write_text("week 2 @@SLOW@@")
    started = time.monotonic()
    summary = fake_run([str(src)], tmp_path / "out", workers=1, timeout=1.0)
    assert time.monotonic() - started < 50  # the 60 s sleep was cut short, not waited out
    assert (summary.ok, summary.failed) == (2, 1)
    (line,) = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert (line["doc_id"], line["code"], line["error"]) == ("doc01", "E120", "DocumentTimeoutError")


def test_worker_crash_is_recorded_and_the_pool_restarts(tmp_path: Path) -> None:
    src = good_dir(tmp_path, 4)
    (src / "doc00.txt").write_text("@@CRASH@@")
    summary = fake_run([str(src)], tmp_path / "out", workers=2)
    assert (summary.ok, summary.failed) == (3, 1)
    (line,) = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert line["doc_id"] == "doc00" and line["error"] == "WorkerCrashError" and "SIGKILL" in line["reason"]


def _failing_init(options: DocOptions) -> None:
    from pipeline.errors import ModelError

    raise ModelError("model not found", path="models/nowhere")


def test_pipeline_that_cannot_load_aborts_with_its_error(tmp_path: Path) -> None:
    with pytest.raises(ClinexError, match="model not found"):
        fake_run([str(good_dir(tmp_path, 2))], tmp_path / "out", init=_failing_init)


# ---------------------------------------------------------- resume, determinism


def test_rerun_skips_current_records_and_redoes_changed_ones(tmp_path: Path) -> None:
    src = good_dir(tmp_path, 4)
    out = tmp_path / "out"
    first = fake_run([str(src)], out)
    assert (first.ok, first.skipped) == (4, 0)
    (src / "doc02.txt").write_text("changed: week 9\n")
    second = fake_run([str(src)], out)
    assert (second.ok, second.skipped, second.entities) == (1, 3, 4)
    assert "changed" in json.loads((out / "doc02.json").read_text())["document"]["text"]
    forced = fake_run([str(src)], out, force=True)
    assert (forced.ok, forced.skipped) == (4, 0)
    statuses = [d["status"] for d in json.loads((out / "manifest.json").read_text())["documents"]]
    assert statuses == ["ok"] * 4


def test_records_are_deterministic_apart_from_timing(tmp_path: Path) -> None:
    src = good_dir(tmp_path, 3)
    fake_run([str(src)], tmp_path / "a", workers=2)
    fake_run([str(src)], tmp_path / "b", workers=0)
    a, b = records(tmp_path / "a"), records(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) == 3
    assert all(without_timing(a[k]) == without_timing(b[k]) for k in a)


def test_reserved_names_never_become_record_ids(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("manifest.txt", "errors.txt"):
        (src / name).write_text("week 1\n")
    summary = fake_run([str(src)], tmp_path / "out")
    assert summary.ok == 2 and not set(summary.doc_ids) & batch.RESERVED_IDS
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["counts"]["ok"] == 2


KILL_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from tests.test_batch import fake_run
fake_run([{src!r}], __import__("pathlib").Path({out!r}), workers=1, manifest_every=1)
"""


def test_killed_run_leaves_complete_records_and_resumes(tmp_path: Path) -> None:
    src = good_dir(tmp_path, 12, marker="@@NAP@@")
    out = tmp_path / "out"
    script = KILL_SCRIPT.format(root=str(ROOT), src=str(src), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(records(out) if out.exists() else {}) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = records(out)
    assert 2 <= len(done) < 12, proc.stderr.read().decode() if proc.stderr else ""
    for text in done.values():
        validate_record(json.loads(text))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running" and manifest["counts"]["ok"] >= 1
    resumed = fake_run([str(src)], out)
    assert resumed.skipped == len(done) and resumed.ok == 12 - len(done) and resumed.failed == 0
    assert len(records(out)) == 12 and not list(out.glob(".clinex-tmp-*"))


# -------------------------------------------------------------------- executors


@pytest.mark.slow
def test_dask_executor_gives_the_same_records_as_local(tmp_path: Path) -> None:
    src = good_dir(tmp_path, 3)
    shutil.copy(FIXTURES / "empty.txt", src / "empty.txt")
    (src / "documents.jsonl").write_text('{"file": "doc01.txt", "title": "From the sidecar"}\n')
    local = fake_run([str(src)], tmp_path / "local", workers=1)
    dask = fake_run([str(src)], tmp_path / "dask", workers=1, executor="dask")
    assert (dask.ok, dask.failed) == (local.ok, local.failed) == (3, 1)
    a, b = records(tmp_path / "local"), records(tmp_path / "dask")
    assert a.keys() == b.keys()
    assert all(without_timing(a[k]) == without_timing(b[k]) for k in a)
    assert (tmp_path / "local" / "errors.jsonl").read_text() == (tmp_path / "dask" / "errors.jsonl").read_text()


# ------------------------------------------------------------- real pipeline


@pytest.fixture(scope="session")
def loaded_pipeline() -> None:
    """Load the real pipeline once in the test process (forked workers inherit it)."""
    batch.init_pipeline(DocOptions())


def test_real_pipeline_batch_writes_valid_records_and_exports(loaded_pipeline: None, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in GOOD + ("empty.txt",):
        shutil.copy(FIXTURES / name, src / name)
    out = tmp_path / "out"
    summary = run_batch([str(src)], out, workers=1)
    assert (summary.ok, summary.failed) == (2, 1)
    for text in records(out).values():
        validate_record(json.loads(text))
    assert (out / "measurements.csv").exists() and (out / "measurements.jsonl").exists()
    again = run_batch([str(src)], out, workers=1)
    assert again.skipped == 2 and again.ok == 0


def test_exports_skip_a_json_that_is_no_record(tmp_path) -> None:
    from pipeline.batch import iter_records

    (tmp_path / "eval.json").write_text('{"measurements": {"micro": {}}}', encoding="utf-8")
    (tmp_path / "doc.json").write_text('{"document": {"id": "doc"}, "measurements": []}', encoding="utf-8")
    assert [r["document"]["id"] for r in iter_records(tmp_path)] == ["doc"]
