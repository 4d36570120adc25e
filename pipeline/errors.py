"""The one errors module of clinex.

Every error a user can meet is a subclass of ``ClinexError`` and names the file
(and, for rules, the line and key) it is about, so a batch log line is enough to
act on. Codes are stable and appear in ``errors.jsonl``.
"""
from __future__ import annotations

from pathlib import Path


class ClinexError(Exception):
    """Base class: ``code`` is a stable identifier, ``path`` the file concerned."""

    code = "E000"

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.reason = message
        super().__init__(f"{self.path}: {message}" if self.path else message)

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "error": type(self).__name__, "path": self.path, "reason": self.reason}


class InputError(ClinexError):
    """An input file cannot be read or is not a document clinex can process."""

    code = "E100"


class EmptyDocumentError(InputError):
    code = "E101"


class UnsupportedFormatError(InputError):
    code = "E102"


class PDFError(InputError):
    """Corrupt, truncated or otherwise unreadable PDF."""

    code = "E110"


class EncryptedPDFError(PDFError):
    code = "E111"


class NoTextLayerError(PDFError):
    """A PDF whose pages carry no extractable text (scanned images)."""

    code = "E112"


class DocumentTimeoutError(InputError):
    code = "E120"


class WorkerCrashError(ClinexError):
    """The worker process running a document died (segfault, out-of-memory kill)."""

    code = "E130"


class RuleError(ClinexError):
    """A rule file is malformed: the message names file, line and key."""

    code = "E200"

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.line = line
        self.key = key
        where = f"line {line}" if line is not None else ""
        if key:
            where = f"{where}, key {key!r}" if where else f"key {key!r}"
        super().__init__(f"{where}: {message}" if where else message, path=path)


class ModelError(ClinexError):
    """The NER model is missing or cannot be loaded."""

    code = "E300"


class SchemaError(ClinexError):
    """A record does not validate against the shipped JSON Schema."""

    code = "E400"


class GoldError(ClinexError):
    """A gold file is malformed or no longer matches the normalized text."""

    code = "E500"


class OutputError(ClinexError):
    """The output directory or file cannot be written."""

    code = "E600"
