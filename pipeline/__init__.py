"""clinex: structured, verifiable extraction from clinical case reports.

``pipeline.extract(path) -> dict`` runs one document end to end and returns its
schema-valid record; the CLI (``clinex`` / ``python -m pipeline``) is a thin
layer over the same functions.
"""
from __future__ import annotations

__version__ = "0.2.0"

__all__ = ["__version__", "extract"]


def __getattr__(name: str):  # lazy: importing pipeline must stay cheap (cold start)
    if name == "extract":
        from pipeline.core import extract

        return extract
    raise AttributeError(name)
