"""Unit normalization driven by ``rules/units.jsonl``.

``normalize_unit("mg/dl")`` -> ``UnitInfo(unit="mg/dL", ucum="mg/dL", factor=1.0, ...)``.
The table decides, not a general unit library: pint and friends read ``RU``, ``IU``
and ``U`` (arbitrary/international/enzyme units) as other physical units.
``factor`` multiplies a value in the surface unit to give the canonical unit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.ruleset import load_rules

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


@dataclass(frozen=True)
class UnitInfo:
    text: str
    unit: str
    ucum: str
    factor: float
    dimension: str | None = None


_SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_SUP_TAG = re.compile(r"<sup>\s*(\w+)\s*</sup>")
_TIMES_BEFORE_TEN = re.compile(r"(?i)(?:^|(?<=\s))(?:x|\*|×)\s*(?=10)")
_LEADING_TIMES = re.compile(r"^(?:x|\*)(?=10\^?\d)")
_POWER_OF_TEN = re.compile(r"(?i)10\s*(?:\^|\*\*|e)\s*(\d+)")
_TIMES_SPACE = re.compile(r"×\s+")
_SLASH = re.compile(r"\s*/\s*")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def unit_key(text: str) -> str:
    """Canonical spelling used for lookups: micro sign, ×, powers of ten and spacing unified."""
    s = _SUPERSCRIPT_RUN.sub(lambda m: "^" + m.group(0).translate(_SUPERSCRIPTS), text.strip())
    s = s.replace("μ", "µ").replace("\u2009", " ").replace("\u00a0", " ")
    s = _SUP_TAG.sub(r"^\1", s)
    s = _TIMES_BEFORE_TEN.sub("×", s)
    s = _LEADING_TIMES.sub("×", s)
    s = _POWER_OF_TEN.sub(r"10^\1", s)
    s = _TIMES_SPACE.sub("×", s)
    s = _SLASH.sub("/", s)
    s = _SPACES.sub(" ", s)
    return s


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, UnitInfo], dict[str, UnitInfo]]:
    exact: dict[str, UnitInfo] = {}
    folded: dict[str, UnitInfo] = {}
    for rule in load_rules("units"):
        key = unit_key(rule["pattern"])
        info = UnitInfo(rule["pattern"], rule["id"], rule["ucum"], float(rule["factor"]), rule.get("dimension"))
        exact.setdefault(key, info)
        folded.setdefault(key.lower(), info)
    return exact, folded


def normalize_unit(text: str) -> UnitInfo | None:
    """The canonical unit of a surface form, or None when the table does not know it.

    Case is kept where it matters (``mL`` vs ``ML`` never clash in the table) and
    folded only as a fallback; a trailing period (``g/L.``) is ignored.
    """
    if not text or not text.strip():
        return None
    key = unit_key(text).rstrip(".,;:")
    exact, folded = _tables()
    info = exact.get(key) or folded.get(key.lower())
    if info is None:
        return None
    return UnitInfo(text, info.unit, info.ucum, info.factor, info.dimension)

