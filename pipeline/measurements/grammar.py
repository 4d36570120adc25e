"""How one analyte's stretch of text is read: value lists ("3.06, 5.48 and 3.12 g/L"), "from A to B"
pairs, times attached to a list, "in patient N" and "respectively".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import regex as re

from pipeline.measurements.model import Group, Mention, UnitNormalizer, Value, ValueList
from pipeline.measurements.units import read_unit
from pipeline.patients import (
    PatientMention,
)
from pipeline.values import NumberMatch

_RESPECTIVELY_RE = re.compile(r"\brespectively\b", re.IGNORECASE)
_FROM_RE = re.compile(r"\bfrom\b", re.IGNORECASE)
_TO_RE = re.compile(r"\bto\b", re.IGNORECASE)
_LIST_GAP_RE = re.compile(r"^\s*(?:,\s*)?(?:(?:and|or|&)\s+)?$")
_TIME_GAP_RE = re.compile(r"^[\s,]*(?:(?:at|on|in|by|after|during|of|the|a|an|and)\s+)*$", re.IGNORECASE)
_PAT_TRAILING_GAP_RE = re.compile(r"^[\s,]*(?:(?:in|for|of|and)\s+)?(?:the\s+)?$", re.IGNORECASE)
_PAT_LEADING_GAP_RE = re.compile(
    r"^[\s,:]*(?:(?:was|were|had|has|is|are|showed|of|at|decreased|increased|dropped|declined|fell|rose|"
    r"improved|went|from)\s+)*$", re.IGNORECASE)
_LETTER = re.compile(r"[A-Za-z]")


def read_values(text: str, numbers: Sequence[NumberMatch], *, kind: str, limit: int,
                normalizer: UnitNormalizer) -> list[Value]:
    """Numbers of one stretch as ``Value``s with their units; a number inside another's unit is dropped."""
    values: list[Value] = []
    taken_until = -1
    for n in numbers:
        if n.start < taken_until:
            continue
        unit = read_unit(text, n.end, kind=kind, limit=limit, normalizer=normalizer)
        end = n.end
        u = ucum = utext = None
        if unit is not None:
            u, ucum, utext, end = unit
        elif _LETTER.match(text[n.end:n.end + 1]):
            continue  # glued letters that are no unit: "1e", "2nd", "5th"
        taken_until = end
        values.append(Value(n.start, end, n.parsed.value, n.parsed.comparator, n.parsed.maximum, u, ucum, utext,
                            text[n.start:end]))
    return values


def value_lists(text: str, values: Sequence[Value]) -> list[ValueList]:
    """Group values separated only by ", ", "and", ", and" into lists; a unit written once applies to all."""
    lists: list[ValueList] = []
    for v in values:
        if lists and _LIST_GAP_RE.match(text[lists[-1].values[-1].end:v.start]):
            lists[-1].values.append(v)
        else:
            lists.append(ValueList([v]))
    for lst in lists:
        share_unit(lst.values)
    return lists


def share_unit(values: list[Value]) -> None:
    """Give unit-less values of a list the unit stated once (after a later value, else an earlier one)."""
    for i, v in enumerate(values):
        if v.unit is None and v.unit_text is None:
            donor = next((w for w in values[i + 1:] if w.unit), None) or next(
                (w for w in reversed(values[:i]) if w.unit), None)
            if donor:
                values[i] = replace(v, unit=donor.unit, unit_ucum=donor.unit_ucum)


def parse_stretch(text: str, lists: Sequence[ValueList], times: Sequence[Mention],
                  patients: Sequence[PatientMention], start: int, end: int) -> tuple[list[Group], list[Mention], PatientMention | None]:
    """Read value lists, pairs, attached times, patients and "respectively" in ``text[start:end]``.

    Returns the groups, the free times (not attached to one list) and a leading
    patient mention (one standing before the values it governs).
    """
    events: list[tuple[int, int, str, Any]] = []
    for lst in lists:
        events.append((lst.start, lst.values[-1].end, "list", lst))
    occupied = [(lst.start, lst.values[-1].end) for lst in lists]
    for t in times:
        events.append((t.start, t.end, "time", t))
        occupied.append((t.start, t.end))
    for p in patients:
        events.append((p.start, p.end, "patient", p))
        occupied.append((p.start, p.end))

    def free(a: int, b: int) -> bool:
        return not any(s < b and a < e for s, e in occupied)

    for rx, kind in ((_TO_RE, "to"), (_FROM_RE, "from"), (_RESPECTIVELY_RE, "respectively")):
        for m in rx.finditer(text, start, end):
            if free(m.start(), m.end()):
                events.append((m.start(), m.end(), kind, None))
    events.sort(key=lambda e: e[0])

    groups: list[Group] = []
    free_times: list[Mention] = []
    leading: PatientMention | None = None
    pending_from = 0  # groups[pending_from:] have no patient yet
    i = 0
    while i < len(events):
        s, e, kind, obj = events[i]
        if kind == "list":
            lst: ValueList = obj
            i = _attach_time(text, events, i, lst)
            group = Group(lst)
            if i + 1 < len(events) and events[i + 1][2] == "to" and i + 2 < len(events) and events[i + 2][2] == "list" \
                    and ";" not in text[lst.end:events[i + 2][0]]:
                second: ValueList = events[i + 2][3]
                i = _attach_time(text, events, i + 2, second)
                group.second = second
                _share_pair_units(group)
            groups.append(group)
        elif kind == "patient":
            pm: PatientMention = obj
            pending = groups[pending_from:]
            nxt = events[i + 1] if i + 1 < len(events) else None
            trailing_gap = text[pending[-1].end:s] if pending else None
            followed = nxt is not None and nxt[2] in ("list", "from") and _PAT_LEADING_GAP_RE.match(text[e:nxt[0]])
            if pending and _PAT_TRAILING_GAP_RE.match(trailing_gap or "x"):
                _assign(pending, pm.ids)
                pending_from = len(groups)
            elif followed or not pending:
                leading = pm
                pending_from = len(groups)
            else:
                _assign(pending, pm.ids)
                pending_from = len(groups)
        elif kind == "time":
            free_times.append(obj)
        elif kind == "respectively":
            for g in groups[-1:]:
                g.respectively = True
        i += 1
    if leading is not None:
        for g in groups:
            if g.patients is None:
                g.patients = leading.ids
                g.by_position = len(leading.ids) > 1 and g.size == len(leading.ids)
    return groups, free_times, leading


def _attach_time(text: str, events: list[tuple[int, int, str, Any]], i: int, lst: ValueList) -> int:
    """Attach a time right after list ``events[i]`` ("5.46 at baseline"); return the index of the last event used.

    A list of n values followed by n coordinated times ("1,130 and 212 U/L at month 3 and month 6,
    respectively") pairs them by position.
    """
    if i + 1 < len(events) and events[i + 1][2] == "time" and _TIME_GAP_RE.match(text[lst.values[-1].end:events[i + 1][0]]):
        lst.time = events[i + 1][3]
        events.pop(i + 1)
        chain = [lst.time]
        k = i + 1
        while k < len(events) and events[k][2] == "time" and _LIST_GAP_RE.match(text[chain[-1].end:events[k][0]]):
            chain.append(events[k][3])
            k += 1
        if len(lst.values) > 1 and len(chain) == len(lst.values):
            lst.times = chain
            del events[i + 1:k]
    return i


def _share_pair_units(group: Group) -> None:
    a, b = group.first.values, group.second.values if group.second else []
    donor = next((v for v in b + a if v.unit), None)
    if donor is None:
        return
    for lst in (a, b):
        for k, v in enumerate(lst):
            if v.unit is None and v.unit_text is None:
                lst[k] = replace(v, unit=donor.unit, unit_ucum=donor.unit_ucum)


def _assign(groups: list[Group], ids: tuple[str, ...]) -> None:
    """Patients of a trailing mention: by position over one list as long as the mention, else to every group."""
    if len(groups) == 1 and len(ids) > 1 and groups[0].size == len(ids):
        groups[0].patients, groups[0].by_position = ids, True
    elif len(groups) == len(ids) and len(ids) > 1 and all(g.size == 1 for g in groups):
        for g, pid in zip(groups, ids):
            g.patients = (pid,)
    else:
        for g in groups:
            g.patients = ids
            g.by_position = False
