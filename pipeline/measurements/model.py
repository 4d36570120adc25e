"""Plain data of measurement assembly: entity mentions, values, value lists, groups and the carried context.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.record import Measurement

UnitNormalizer = Callable[[str], Any]


@dataclass(frozen=True)
class Mention:
    """An entity mention (from a span) in plain form: offsets into the document text."""

    start: int
    end: int
    label: str
    text: str
    id: str | None = None
    norm: dict = field(default_factory=dict, hash=False, compare=False)
    ids: tuple[str, ...] = ()

    @property
    def analyte(self) -> str:
        return str(self.norm.get("analyte") or self.text)

    @property
    def kind(self) -> str:
        return str(self.norm.get("kind") or ("score" if self.label == "SCORE" else "lab"))

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return self.ids or ((self.id,) if self.id else ())


@dataclass(frozen=True)
class Value:
    """One number with the unit written after it."""

    start: int
    end: int  # end of the number, or of its unit when one follows
    value: float | None  # None for a qualitative result
    comparator: str | None = None
    maximum: float | None = None
    unit: str | None = None
    unit_ucum: str | None = None
    unit_text: str | None = None
    text: str = ""
    result: str | None = None  # "negative", "positive", ... when value is None
    stat: str | None = None  # "mean"/"median" for a group value
    sd: float | None = None
    range: tuple[float, float] | None = None


@dataclass
class ValueList:
    values: list[Value]
    time: Mention | None = None
    times: list[Mention] | None = None  # one time per value: "1,130 and 212 U/L at month 3 and month 6"

    @property
    def start(self) -> int:
        return self.values[0].start

    @property
    def end(self) -> int:
        return max(self.values[-1].end, self.time.end if self.time else 0)


@dataclass
class Group:
    """Values read together: a single list, or a "from A to B" pair of lists."""

    first: ValueList
    second: ValueList | None = None
    patients: tuple[str, ...] | None = None
    by_position: bool = False
    respectively: bool = False

    @property
    def size(self) -> int:
        return len(self.first.values)

    @property
    def end(self) -> int:
        return (self.second or self.first).end


@dataclass
class Context:
    """What carries from sentence to sentence within a paragraph."""

    paragraph: int = -1
    carry_time: Mention | None = None
    focus: tuple[str, ...] | None = None  # the one patient the last sentences were about
    fronted: bool = False  # carry_time comes from a fronted frame ("At month 3, ...")
    order: tuple[str, ...] | None = None
    order_sentence: int = -10
    section: tuple[str, ...] | None = None  # the patient of the "Case N" section the sentence stands in


@dataclass
class Assembly:
    measurements: list[Measurement]
    patients: list[dict]
    doses: list[dict]
